"""Jobs from the scenario: the SYNTHETIC generator on the bundled scenarios, and trace replay."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from scenarios import InputError, load_scenario
from scenarios.loader import validate_dict
from scenarios.tables import check_frame
from scenarios.workload import JOB_COLUMNS, load_jobs

T0 = pd.Timestamp("2026-01-05", tz="UTC")


@pytest.mark.parametrize("name", ["small", "default"])
def test_bundled_scenarios_generate_jobs_in_the_jobs_contract(name: str) -> None:
    sc = load_scenario(name)
    jobs = load_jobs(sc, start=T0)
    check_frame(jobs, "jobs")
    assert list(jobs.columns) == JOB_COLUMNS
    assert len(jobs) == sc.workload.generator.n_jobs
    span = pd.Timedelta(days=sc.workload.generator.span_days)
    assert jobs["submit_time"].min() >= T0
    assert jobs["submit_time"].max() < T0 + span
    assert (jobs["family"] == sc.workload.family).all()
    assert set(jobs["team"]) <= set(sc.workload.generator.teams)
    assert jobs["submit_time"].is_monotonic_increasing
    assert ((jobs["deadline"] - jobs["submit_time"]) / pd.Timedelta(hours=1) >= jobs["duration_hours"]).all()


def test_load_jobs_is_deterministic_and_follows_the_generator_seed() -> None:
    sc = load_scenario("small")
    a, b = load_jobs(sc, start=T0), load_jobs(sc, start=T0)
    pd.testing.assert_frame_equal(a, b)
    other = load_scenario("small", overrides={"workload.generator.seed": 7})
    c = load_jobs(other, start=T0)
    assert not np.array_equal(a["duration_hours"].to_numpy(), c["duration_hours"].to_numpy())


def test_without_a_start_jobs_begin_the_hour_after_the_history_ends() -> None:
    sc = load_scenario("small")
    jobs = load_jobs(sc)
    # Helios Earth ends at 2020-05-31 23:00 Asia/Shanghai = 15:00 UTC.
    first_hour = pd.Timestamp("2020-05-31 16:00", tz="UTC")
    assert jobs["submit_time"].min() >= first_hour
    assert jobs["submit_time"].max() < first_hour + pd.Timedelta(days=sc.workload.generator.span_days)
    assert any("history ends" in n for n in jobs.attrs["notes"])


def test_naive_start_is_an_input_error() -> None:
    with pytest.raises(InputError, match="time zone"):
        load_jobs(load_scenario("small"), start=pd.Timestamp("2026-01-01"))


def test_scenario_start_wins_over_the_argument() -> None:
    sc = load_scenario("small", overrides={"start": "2026-03-02T00:00:00Z"})
    jobs = load_jobs(sc, start=T0)
    assert jobs["submit_time"].min() >= pd.Timestamp("2026-03-02", tz="UTC")


def _trace_scenario(path: str) -> object:
    sc = load_scenario("small")
    raw = sc.model_dump(mode="json")
    raw["workload"]["trace"] = path
    raw["workload"]["tz"] = None
    return validate_dict(raw)


def test_trace_is_replayed_from_the_plan_start_with_defaults_filled(write: Callable[[str, str], str]) -> None:
    path = write("jobs.csv", """
job_id,submit_time,gpus,duration_hours,team,deadline
a,2020-05-01T10:30:00Z,8,5.0,vc3sl,2020-05-02T10:30:00Z
b,2020-05-01T12:00:00Z,1,1.5,vcMod,
""")
    sc = _trace_scenario(path)
    jobs = load_jobs(sc, start=T0)  # type: ignore[arg-type]
    check_frame(jobs, "jobs")
    # The first submission hour (10:00) becomes the plan start; relative times are kept.
    assert jobs["submit_time"].tolist() == [T0 + pd.Timedelta(minutes=30), T0 + pd.Timedelta(hours=2)]
    assert jobs["deadline"].iloc[0] == T0 + pd.Timedelta(hours=24, minutes=30)
    assert pd.isna(jobs["deadline"].iloc[1])
    assert jobs["family"].tolist() == ["a100", "a100"]  # small's workload.family
    assert jobs["preemptible"].tolist() == [True, True]
    assert jobs["priority"].tolist() == [0, 0]
    assert any("shifted every time" in n for n in jobs.attrs["notes"])


def test_trace_without_a_start_is_replayed_after_the_history(write: Callable[[str, str], str]) -> None:
    path = write("jobs.csv", """
submit_time,gpus,duration_hours
2019-05-01T10:30:00Z,8,5.0
""")
    jobs = load_jobs(_trace_scenario(path))  # type: ignore[arg-type]
    assert jobs["submit_time"].iloc[0] == pd.Timestamp("2020-05-31T16:30:00Z")


def test_trace_with_an_unknown_family_names_the_job(write: Callable[[str, str], str]) -> None:
    path = write("jobs.csv", """
submit_time,gpus,duration_hours,family
2020-05-01T10:30:00Z,8,5.0,a100
2020-05-01T11:30:00Z,8,5.0,h200
""")
    with pytest.raises(InputError) as exc:
        load_jobs(_trace_scenario(path), start=T0)  # type: ignore[arg-type]
    assert exc.value.column == "family" and "h200" in exc.value.message and "job-2" in exc.value.message
