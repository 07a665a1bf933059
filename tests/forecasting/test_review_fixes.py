"""Regressions found in review: naive planned-step times; series ending at different hours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.core import Forecaster
from scenarios import load_scenario
from scenarios.errors import InputError, ScenarioError


def test_a_planned_step_without_an_offset_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match=r"demand\.forecast\.steps\[0\]\.start: must carry a UTC offset"):
        load_scenario("small", overrides={"demand.forecast.steps": [{"start": "2026-03-01T00:00:00", "gpus": 8}]})


def test_reconciling_series_that_end_at_different_hours_names_them() -> None:
    t = pd.date_range("2026-01-01", periods=240, freq="h", tz="UTC")
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame({"series_id": sid, "timestamp": t[:n], "gpus": rng.uniform(1, 5, n)})
              for sid, n in (("a100/x", 240), ("a100/y", 239))]
    hist = pd.concat(frames, ignore_index=True)
    total = hist.groupby("timestamp", as_index=False)["gpus"].sum().assign(series_id="a100")
    hist = pd.concat([hist, total], ignore_index=True)
    with pytest.raises(InputError, match="same hour") as err:
        Forecaster("naive24", reconcile="bottom_up", progress=False).forecast(hist, 24)
    assert "a100/y 2026-01-10 23:00Z" in str(err.value)
