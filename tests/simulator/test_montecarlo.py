"""Monte Carlo: seeded replications independent of the executor, summary intervals, events per job."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gpuplan.executors import ProcessPoolMapper
from scenarios.parallel import SerialMapper
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from simulator import build_inputs, run, simulate, summarise
from tests.simulator._util import T0, jobs, scenario

SPOT = {"usd_per_gpu_hour": 1.0, "interruption_band": None, "hazard_per_hour": 0.08, "available_gpus": 24,
        "correlated_events_per_month": 30.0, "correlated_share": 0.5, "drought_events_per_month": 20.0,
        "drought_hours": 4.0}


def _case(n: int = 120, hours: int = 120) -> tuple:  # type: ignore[type-arg]
    sc = scenario(catalog={"x": {"committed_discount": {"1y": 0.3}, "spot": SPOT}},
                  workload={"checkpoint_cost_hours": 0.05, "restart_cost_hours": 0.1},
                  policies={"spot_fallback_after_interruptions": 3}, demand={"preemptible_share": 0.4})
    rng = np.random.default_rng(3)
    table = jobs([{"submit": float(s), "gpus": int(g), "duration_hours": float(d), "team": t}
                  for s, g, d, t in zip(rng.uniform(0, 48, n), rng.choice([1, 2, 4, 8], n), rng.uniform(0.5, 12, n),
                                        rng.choice(["a", "b", "c"], n), strict=True)])
    idx = pd.date_range(T0, periods=hours, freq="h")
    paths = pd.concat([pd.DataFrame({"series_id": "x", "timestamp": idx, "sample_id": s,
                                     "gpus": 10 + 5 * np.sin(np.arange(hours) / 4 + s)}) for s in range(3)])
    plan = CapacityPlan("p", reserved=(ReservedPurchase("x", 1, "no_upfront", 12, 1.3),),
                        committed=(CommitmentPurchase(1, 4.0),))
    return sc, plan, table, paths, hours


def test_results_do_not_depend_on_the_executor() -> None:
    sc, plan, table, paths, hours = _case()
    inp = build_inputs(sc, plan, jobs=table, demand=paths, start=T0, hours=hours)
    serial = run(inp, replications=4, seed=9, detail="all", mapper=SerialMapper())
    pooled = run(inp, replications=4, seed=9, detail="all", mapper=ProcessPoolMapper(2, progress=False))
    pd.testing.assert_frame_equal(serial.kpis, pooled.kpis)
    pd.testing.assert_frame_equal(serial.jobs, pooled.jobs)
    pd.testing.assert_frame_equal(serial.hourly, pooled.hourly)
    pd.testing.assert_frame_equal(serial.teams, pooled.teams)
    assert serial.kpis["job_interruptions"].sum() > 0  # randomness is really exercised
    assert serial.kpis["total_cost_usd"].nunique() == 4
    # replication i uses demand path i mod 3
    assert serial.kpis["demand_sample"].tolist() == [0.0, 1.0, 2.0, 0.0]


def test_replication_i_is_the_same_whatever_the_number_of_replications() -> None:
    sc, plan, table, _paths, hours = _case(n=40)
    inp = build_inputs(sc, plan, jobs=table, start=T0, hours=hours)
    two = run(inp, replications=2, seed=5, detail="none", progress=False)
    five = run(inp, replications=5, seed=5, detail="none", progress=False)
    # SeedSequence(seed).spawn(n)[i] does not depend on n
    pd.testing.assert_frame_equal(two.kpis, five.kpis.iloc[:2].reset_index(drop=True))
    other = run(inp, replications=2, seed=6, detail="none", progress=False)
    assert not other.kpis["total_cost_usd"].equals(two.kpis["total_cost_usd"])


def test_summary_is_mean_and_student_t_interval() -> None:
    kpis = pd.DataFrame({"replication": [0, 1, 2, 3], "total_cost_usd": [10.0, 12.0, 11.0, 15.0],
                         "kwh": [1.0, np.nan, 1.0, 1.0]})
    s = summarise(kpis).set_index("metric")
    x = np.array([10.0, 12.0, 11.0, 15.0])
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2.0
    assert s.loc["total_cost_usd", "mean"] == pytest.approx(12.0)
    assert s.loc["total_cost_usd", "ci95_low"] == pytest.approx(12.0 - half)
    assert s.loc["total_cost_usd", "ci95_high"] == pytest.approx(12.0 + half)
    assert s.loc["kwh", "n"] == 3 and s.loc["kwh", "std"] == 0.0
    assert "replication" not in s.index


def test_events_per_job_do_not_grow_with_checkpoints() -> None:
    # The same jobs with checkpoints every 0.01 h or every 5 h: the number of SimPy events is the same, and
    # bounded by 4 per job + 3 per interruption + fleet events + a few for the run itself.
    sc = scenario(catalog={"x": {"spot": {**SPOT, "correlated_events_per_month": 0.0,
                                           "drought_events_per_month": 0.0}}},
                  workload={"checkpoint_cost_hours": 0.001, "restart_cost_hours": 0.1})
    n = 300
    rng = np.random.default_rng(1)
    subs = rng.uniform(0, 100, n)
    events = {}
    for tau in (0.01, 5.0):
        table = jobs([{"submit": float(s), "gpus": 1, "duration_hours": 20.0, "checkpoint_interval_hours": tau}
                      for s in subs])
        res = simulate(sc, jobs=table, start=T0, hours=400, replications=1, seed=2, detail="none", progress=False)
        k = res.kpis.iloc[0]
        assert k["jobs_finished"] == n
        assert k["job_checkpoint_gpu_hours"] > 0
        events[tau] = k["sim_events"]
        assert k["job_interruptions"] > 0
        assert k["sim_events"] <= 4 * n + 3 * k["job_interruptions"] + 5
        checkpoints_written = k["job_checkpoint_gpu_hours"] / 0.001
        if tau == 0.01:
            assert checkpoints_written > 100 * k["sim_events"]  # far more checkpoints than events
    assert events[0.01] == pytest.approx(events[5.0], rel=0.1)  # differs only through interruption counts
