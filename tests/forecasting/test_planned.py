"""Planned growth and steps, and their coherence in a hierarchy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.planned import PlannedChanges, apply_planned
from scenarios.schema import Step

T = pd.date_range("2025-01-01", periods=8760 + 1, freq="h", tz="UTC")[1:]
ORIGIN = pd.Timestamp("2025-01-01", tz="UTC")


def _fc(means: dict[str, float]) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"series_id": s, "timestamp": T, "model": "x", "mean": m, "lo_80": m / 2,
                                    "hi_80": 2 * m}) for s, m in means.items()], ignore_index=True)


def test_growth_multiplies_everything_by_one_plus_rate_after_a_year() -> None:
    fc = _fc({"a100": 100.0})
    out, _, notes = apply_planned(fc, None, PlannedChanges(0.15), {"a100": ORIGIN})
    last = out.iloc[-1]
    assert np.isclose(last["mean"], 115.0) and np.isclose(last["hi_80"], 230.0)
    assert np.isclose(out.iloc[4379]["mean"], 100 * 1.15 ** (4380 / 8760))
    assert "growth" in notes[0]


def test_step_on_a_team_adds_to_the_team_and_its_family_from_its_start() -> None:
    fc = _fc({"a100": 30.0, "a100/x": 10.0, "a100/y": 20.0})
    start = pd.Timestamp("2025-06-01T00:00Z")
    step = Step(start=start.to_pydatetime(), gpus=64, series="a100/x")
    out, _, _ = apply_planned(fc, None, PlannedChanges(steps=(step,)), dict.fromkeys(["a100", "a100/x", "a100/y"], ORIGIN))
    w = out.pivot(index="timestamp", columns="series_id", values="mean")
    assert (w.loc[w.index < start, "a100/x"] == 10).all()
    assert (w.loc[w.index >= start, "a100/x"] == 74).all()
    assert (w.loc[w.index >= start, "a100"] == 94).all()
    np.testing.assert_allclose(w["a100"], w["a100/x"] + w["a100/y"])


def test_step_on_a_family_is_shared_by_its_teams_in_proportion_to_demand() -> None:
    fc = _fc({"a100": 30.0, "a100/x": 10.0, "a100/y": 20.0})
    step = Step(start=T[0].to_pydatetime(), gpus=30, series="a100")
    out, _, _ = apply_planned(fc, None, PlannedChanges(steps=(step,)), dict.fromkeys(["a100", "a100/x", "a100/y"], ORIGIN))
    got = out.groupby("series_id")["mean"].first().to_dict()
    assert got == {"a100": 60.0, "a100/x": 20.0, "a100/y": 40.0}


def test_negative_step_is_clipped_at_zero_on_paths() -> None:
    fc = _fc({"a100": 5.0})
    paths = pd.DataFrame({"series_id": "a100", "timestamp": T[:3], "sample_id": 0, "gpus": [5.0, 6.0, 7.0]})
    step = Step(start=T[0].to_pydatetime(), gpus=-6)
    _, p, _ = apply_planned(fc, paths, PlannedChanges(steps=(step,)), {"a100": ORIGIN})
    assert p is not None
    assert p["gpus"].tolist() == [0.0, 0.0, 1.0]
