"""The orchestrator over long frames: contract columns, seeds, fallbacks, CV windows, long horizons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecasting.core import Forecaster
from forecasting.planned import PlannedChanges

from .conftest import hourly_frame, seasonal_series

FORECAST_COLUMNS = ["series_id", "timestamp", "model", "mean"]  # issue 3's contract
PATHS_COLUMNS = ["series_id", "timestamp", "sample_id", "gpus"]


class ReversedMapper:
    """A mapper that runs items in reverse order (results still in item order), like a parallel executor."""

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str | None = None) -> list[Any]:
        out = [fn(x) for x in reversed(items)]
        return out[::-1]


@pytest.fixture(scope="module")
def two_series() -> pd.DataFrame:
    return pd.concat([hourly_frame(seasonal_series(400, seed=1), "a100"),
                      hourly_frame(seasonal_series(400, seed=2, level=20), "h100")], ignore_index=True)


def test_forecast_has_exactly_the_contract_columns_one_row_per_series_hour(two_series: pd.DataFrame) -> None:
    fc = Forecaster("naive24", levels=(80, 95), progress=False).forecast(two_series, h=30)
    assert list(fc.columns) == [*FORECAST_COLUMNS, "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(fc) == 60 and fc.groupby("series_id").size().tolist() == [30, 30]
    assert str(fc["timestamp"].dt.tz) == "UTC"
    assert fc["timestamp"].min() == two_series["timestamp"].max() + pd.Timedelta(hours=1)
    assert (fc["model"] == "naive24").all()


def test_paths_are_reproducible_by_seed_on_any_executor(two_series: pd.DataFrame) -> None:
    a = Forecaster("theta", progress=False).simulate(two_series, h=24, n_paths=5, seed=11)
    b = Forecaster("theta", progress=False, mapper=ReversedMapper()).simulate(two_series, h=24, n_paths=5, seed=11)
    c = Forecaster("theta", progress=False).simulate(two_series, h=24, n_paths=5, seed=12)
    assert list(a.columns) == PATHS_COLUMNS
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["gpus"], c["gpus"])
    assert sorted(a["sample_id"].unique()) == [0, 1, 2, 3, 4]


def test_a_failing_model_falls_back_and_says_so() -> None:
    y = seasonal_series(400, seed=3)
    y[:330] = np.nan  # naive168 needs 336 h with at least half observed: it fails, naive24 takes over
    res = Forecaster("naive168", progress=False).run(hourly_frame(y), h=24)
    rep = res.report.iloc[0]
    assert rep["model"] == "naive24"
    assert "naive168 failed" in rep["fallback"]
    assert any("naive168 failed" in n for n in res.notes)
    assert (res.forecast["model"] == "naive24").all()


def test_cross_validation_windows_cutoffs_and_actuals(two_series: pd.DataFrame) -> None:
    cv = Forecaster("naive24", progress=False).cross_validation(two_series, h=24, n_windows=3, step=12)
    assert cv.groupby("series_id")["cutoff"].nunique().tolist() == [3, 3]
    last = two_series["timestamp"].max()
    cut = sorted(cv["cutoff"].unique())
    assert [pd.Timestamp(c) for c in cut] == [last - pd.Timedelta(hours=24 + k) for k in (24, 12, 0)]
    a = cv[cv["series_id"] == "a100"].merge(two_series, on=["series_id", "timestamp"], suffixes=("", "_hist"))
    np.testing.assert_array_equal(a["gpus"], a["gpus_hist"])
    # naive24 forecast at a cutoff is the day before the window
    w = cv[(cv["series_id"] == "a100") & (cv["cutoff"] == cut[-1])]
    prev = two_series[(two_series["series_id"] == "a100")]["gpus"].to_numpy()[-48:-24]
    np.testing.assert_allclose(w["mean"], np.maximum(prev, 0))


def test_long_horizon_paths_are_continuous_at_the_splice_and_grow_with_plans() -> None:
    y = seasonal_series(24 * 35, seed=4, level=100)
    hist = hourly_frame(y)
    res = Forecaster("auto", progress=False, planned=PlannedChanges(0.5)).run(hist, h=24 * 120, n_paths=20, seed=0)
    assert res.paths is not None
    p = res.paths.pivot(index="sample_id", columns="timestamp", values="gpus").to_numpy()
    jumps = np.abs(np.diff(p, axis=1))
    at_splice = jumps[:, 167]  # hour 168 -> 169
    assert at_splice.mean() < 3 * jumps.mean()
    fc = res.forecast
    first_week, last_week = fc["mean"].iloc[:168].mean(), fc["mean"].iloc[-168:].mean()
    assert last_week > first_week * 1.1  # +50 %/year over four months, on a flat series
    assert len(fc) == 24 * 120


def test_outages_are_reported_and_not_learned_as_demand() -> None:
    y = seasonal_series(24 * 20, seed=5, level=80)
    y[240:264] = 0.0  # logging outage: a whole day at zero
    res = Forecaster("naive24", progress=False).run(hourly_frame(y), h=24)
    assert res.outages["hours"].tolist() == [24]
    assert res.report.iloc[0]["outage_hours"] == 24
    assert any("treated as missing" in n for n in res.notes)
