"""The engine's input checks on history frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.checks import check_history, check_horizon, check_levels
from scenarios.errors import InputError

from .conftest import hourly_frame


def test_negative_gpus_names_the_row() -> None:
    df = hourly_frame(np.ones(5))
    df.loc[3, "gpus"] = -1.0
    with pytest.raises(InputError, match=r"row 4.*gpus.*>= 0"):
        check_history(df)


def test_naive_timestamps_are_refused() -> None:
    df = hourly_frame(np.ones(5))
    df["timestamp"] = df["timestamp"].dt.tz_localize(None)
    with pytest.raises(InputError, match="no time zone"):
        check_history(df)


def test_unparsable_time_is_refused_with_its_row() -> None:
    df = pd.DataFrame({"timestamp": ["2024-01-01T00:00Z", "yesterday"], "gpus": [1.0, 2.0]})
    with pytest.raises(InputError, match=r"row 2.*unparsable"):
        check_history(df)


def test_duplicate_hours_are_refused() -> None:
    df = hourly_frame(np.ones(4))
    df = pd.concat([df, df.iloc[[2]]], ignore_index=True)
    with pytest.raises(InputError, match="duplicate hour"):
        check_history(df)


def test_too_short_history_names_the_model() -> None:
    with pytest.raises(InputError, match="needs at least 336 h"):
        check_history(hourly_frame(np.ones(100)), min_hours=336, model="naive168")


def test_sub_hourly_input_is_resampled_and_gaps_become_missing() -> None:
    t = pd.date_range("2024-01-01", periods=8, freq="30min", tz="UTC")
    df = pd.DataFrame({"timestamp": t, "gpus": [1, 3, 5, 7, 9, 11, 13, 15]}).drop(index=[4, 5])
    out, notes = check_history(df)
    assert out["gpus"].tolist()[:2] == [2.0, 6.0] and np.isnan(out["gpus"].iloc[2])
    assert any("resampled" in n for n in notes) and any("missing" in n for n in notes)
    assert (out["series_id"] == "series").all()


def test_horizon_and_levels_checks() -> None:
    assert check_horizon(24) == 24
    with pytest.raises(InputError):
        check_horizon(0)
    assert check_levels([95, 80, 95]) == (80.0, 95.0)
    with pytest.raises(InputError):
        check_levels([100])


def test_a_slice_of_a_larger_frame_is_accepted() -> None:
    df = pd.concat([hourly_frame(np.ones(5), "a"), hourly_frame(np.arange(5.0), "b")], ignore_index=True)
    out, _ = check_history(df[df["series_id"] == "b"])
    assert out["gpus"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
