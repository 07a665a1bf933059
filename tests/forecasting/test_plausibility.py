"""Warnings when a forecast runs far above its history, and none for growth the planner stated."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.core import Forecaster
from forecasting.planned import PlannedChanges
from forecasting.plausibility import runaway_warnings
from scenarios.schema import Step

from .conftest import hourly_frame

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _paths(series_id: str, peaks: list[float]) -> pd.DataFrame:
    """One path per peak: 3 hours at 10 GPUs with the peak in the middle hour."""
    t = pd.date_range(T0, periods=3, freq="h")
    return pd.concat([pd.DataFrame({"series_id": series_id, "timestamp": t, "sample_id": i,
                                    "gpus": [10.0, p, 10.0]}) for i, p in enumerate(peaks)], ignore_index=True)


def test_a_tenth_of_the_paths_above_twice_the_history_is_a_warning_and_one_stray_path_is_not() -> None:
    hist = hourly_frame(np.array([10.0, 30.0, 20.0]), series_id="a100")  # highest hour 30 -> limit 60
    one = _paths("a100", [61.0] + [50.0] * 19)          # 1 of 20 = 5 %
    two = _paths("a100", [61.0, 90.0] + [60.0] * 18)    # 2 of 20 = 10 % (60 itself is not above)
    assert runaway_warnings(hist, one) == []
    assert runaway_warnings(hist, two) == [
        "series a100: 2 of 20 sample paths run above 2x the highest hour of the history (30 GPUs), up to 90 "
        "GPUs, with no planned growth to explain it: check the history for an undetected outage or a level "
        "shift, or state the growth in the scenario"]


def test_team_series_are_not_checked_and_a_mean_forecast_is_checked_without_paths() -> None:
    hist = pd.concat([hourly_frame(np.array([10.0, 30.0]), series_id="a100/x"),
                      hourly_frame(np.array([10.0, 30.0]), series_id="a100")])
    assert runaway_warnings(hist, _paths("a100/x", [500.0] * 10)) == []
    fc = pd.DataFrame({"series_id": "a100", "timestamp": pd.date_range(T0, periods=4, freq="h"),
                       "mean": [20.0, 61.0, 70.0, 30.0]})
    (w,) = runaway_warnings(hist, None, fc)
    assert "in 2 of 4 hours, up to 70 GPUs" in w


def test_the_forecaster_warns_when_its_paths_run_away_but_not_for_a_planned_launch() -> None:
    # alternating 10 / 90: the naive model's hour-to-hour sd is 80 GPUs, so in a week most paths pass 180
    wild = hourly_frame(np.where(np.arange(200) % 2 == 0, 10.0, 90.0))
    res = Forecaster("naive", outages=False).run(wild, 168, n_paths=20, seed=1)
    assert res.notes[0].startswith("WARNING series a100: ")
    assert "above 2x the highest hour of the history (90 GPUs)" in res.notes[0]
    assert res.report.loc[0, "warnings"].startswith("forecast far above the history")
    # a flat series with a planned +500 GPU launch: paths at ~550 are 11x the history, and explained
    flat = hourly_frame(50.0 + 0.01 * np.sin(np.arange(200)))
    launch = Step(start=(T0 + pd.Timedelta(hours=210)).to_pydatetime(), gpus=500.0, series="a100")
    res = Forecaster("naive", outages=False, planned=PlannedChanges(steps=(launch,))).run(
        flat, 48, n_paths=20, seed=1)
    assert res.paths is not None and res.paths["gpus"].max() > 500
    assert not [n for n in res.notes if n.startswith("WARNING")]
    assert "far above" not in res.report.loc[0, "warnings"]
