"""Regressions found in review: free checkpoints in the deadline estimate; schedules naming late jobs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from scenarios import load_scenario
from simulator.checkpoint import expected_wall_hours
from simulator.inputs import build_inputs


def test_free_continuous_checkpointing_costs_only_restarts() -> None:
    # tau -> 0 with no checkpoint cost: each interruption loses nothing but the restart
    exact = expected_wall_hours(24.0, 0.0, 0.0, 0.25, 0.1)
    assert exact == pytest.approx(math.exp(0.1 * 0.25) * 24.0)
    assert exact == pytest.approx(expected_wall_hours(24.0, 1e-4, 0.0, 0.25, 0.1), rel=1e-3)


def test_a_schedule_may_name_jobs_submitted_after_the_window() -> None:
    sc = load_scenario("small")
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    jobs = pd.DataFrame({"job_id": ["a", "b"], "submit_time": [t0, t0 + pd.Timedelta(hours=100)],
                         "gpus": [1, 1], "duration_hours": [2.0, 2.0]})
    schedule = pd.DataFrame({"job_id": ["a", "b"], "timestamp": [t0 + pd.Timedelta(hours=3),
                                                                 t0 + pd.Timedelta(hours=101)],
                             "gpus": [1.0, 1.0]})
    inputs = build_inputs(sc, jobs=jobs, schedule=schedule, start=t0, hours=50)
    assert len(inputs.jobs) == 1
    assert any("after the 50 h window" in n for n in inputs.notes)
