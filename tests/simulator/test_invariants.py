"""Invariants on random small fleets and workloads (hypothesis): GPU-hours are conserved, reserved capacity is
never exceeded, costs are non-negative, the bill adds up, and the same seed gives the same result."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from simulator import build_inputs, simulate
from simulator.engine import RES, JobEngine
from simulator.fleet import draw_fleet_events
from simulator.fluid import place_fluid
from tests.simulator._util import T0, demand_frame, flat_signal, jobs, scenario

HOURS = 48
TOL = 1e-7


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    spot: dict[str, Any] = {
        "usd_per_gpu_hour": 1.0, "interruption_band": None,
        "available_gpus": draw(st.sampled_from([0, 4, 16])),
        "hazard_per_hour": draw(st.sampled_from([0.0, 0.05, 0.4])),
        "correlated_events_per_month": draw(st.sampled_from([0.0, 60.0])),
        "correlated_share": draw(st.sampled_from([0.3, 1.0])),
        "drought_events_per_month": draw(st.sampled_from([0.0, 40.0])),
        "drought_hours": 3.0,
    }
    fam: dict[str, Any] = {"committed_discount": {"1y": 0.3}, "spot": spot,
                           "provisioning_delay_hours": draw(st.sampled_from([0.0, 0.25]))}
    quota = draw(st.sampled_from([None, 8, 32]))
    if quota is not None:
        fam["on_demand_quota_gpus"] = quota
    policies: dict[str, Any] = {"spot_fallback_after_interruptions": draw(st.integers(0, 3))}
    cap = draw(st.sampled_from([None, 15.0, 150.0]))
    if cap is not None:
        policies["job_budget_cap_usd"] = cap
    if draw(st.booleans()):
        policies["team_quotas_gpus"] = {"a": 8}
    sc = scenario(catalog={"x": fam}, policies=policies,
                  workload={"checkpoint_cost_hours": draw(st.sampled_from([0.0, 0.05])),
                            "restart_cost_hours": draw(st.sampled_from([0.0, 0.2]))},
                  demand={"preemptible_share": draw(st.sampled_from([0.0, 0.5]))})
    reserved = draw(st.integers(0, 8))
    commit = draw(st.sampled_from([0.0, 2.0, 6.0]))
    plan = CapacityPlan("h", reserved=(ReservedPurchase("x", 1, "no_upfront", reserved, 1.2),) if reserved else (),
                        committed=(CommitmentPurchase(1, commit),) if commit else ())
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        submit = draw(st.floats(0.0, 24.0))
        dur = draw(st.floats(0.1, 20.0))
        row: dict[str, Any] = {"job_id": f"j{i}", "submit": submit, "duration_hours": dur,
                               "gpus": draw(st.sampled_from([1, 2, 4, 8])), "preemptible": draw(st.booleans()),
                               "team": draw(st.sampled_from(["a", "b"])), "priority": draw(st.integers(0, 2))}
        if draw(st.booleans()):
            row["deadline"] = submit + dur + draw(st.floats(0.0, 10.0))
        row["checkpoint_interval_hours"] = draw(st.sampled_from([np.nan, 0.5]))
        rows.append(row)
    dem = None
    if draw(st.booleans()):
        vals = np.array(draw(st.lists(st.floats(0.0, 12.0), min_size=HOURS, max_size=HOURS)))
        dem = demand_frame({"x": vals})
    return {"sc": sc, "plan": plan, "jobs": jobs(rows), "demand": dem, "seed": draw(st.integers(0, 2**16))}


def _simulate(case: dict[str, Any]):  # type: ignore[no-untyped-def]
    return simulate(case["sc"], case["plan"], jobs=case["jobs"], demand=case["demand"],
                    carbon=flat_signal("default", 250.0, HOURS, "gco2_per_kwh"),
                    price=flat_signal("default", 80.0, HOURS, "usd_per_mwh"),
                    hours=HOURS, start=T0, replications=2, seed=case["seed"], detail="all",
                    progress=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_conservation_capacity_costs_and_determinism(case: dict[str, Any]) -> None:
    res = _simulate(case)
    j = res.jobs
    # GPU-hours: useful + lost + checkpoint = busy (billed) time, per job
    parts = (j["useful_gpu_hours"] + j["lost_gpu_hours"] + j["checkpoint_gpu_hours"]).to_numpy()
    np.testing.assert_allclose(parts, j["busy_gpu_hours"].to_numpy(), atol=TOL)
    pools = j[["reserved_gpu_hours", "committed_gpu_hours", "spot_gpu_hours", "on_demand_gpu_hours"]].sum(axis=1)
    np.testing.assert_allclose(pools.to_numpy(), j["busy_gpu_hours"].to_numpy(), atol=TOL)
    work = (j["gpus"] * case["jobs"].set_index("job_id").loc[j["job_id"], "duration_hours"].to_numpy()).to_numpy()
    assert (j["useful_gpu_hours"].to_numpy() <= work + TOL).all()
    done = (j["status"] == "finished").to_numpy()
    np.testing.assert_allclose(j["useful_gpu_hours"].to_numpy()[done], work[done], atol=TOL)
    assert ((j["end_time"] >= j["start_time"]) | j["end_time"].isna()).all()
    assert ((j["start_time"] >= j["release_time"]) | j["start_time"].isna()).all()
    # the hourly bill holds every billed GPU-hour, and reserved capacity is never exceeded in any hour
    h = res.hourly
    busy_rows = h[h["commitment_status"] != "Unused"]
    for rep, k in res.kpis.set_index("replication").iterrows():
        hb = busy_rows[busy_rows["replication"] == rep]["gpus"].sum()
        assert abs(hb - k["busy_gpu_hours"]) < 1e-6 * max(1.0, hb)
        jobs_busy = j[j["replication"] == rep]["busy_gpu_hours"].sum()
        assert abs(jobs_busy - k["job_busy_gpu_hours"]) < TOL
        t = res.teams[res.teams["replication"] == rep]
        assert abs(t["showback_usd"].sum() - k["total_cost_usd"]) < 1e-6 * max(1.0, k["total_cost_usd"])
        assert abs(h[h["replication"] == rep]["cost_usd"].sum() - k["total_cost_usd"]) < 1e-6 * max(
            1.0, k["total_cost_usd"])
    res_used = h[(h["pool"] == "reserved") & (h["commitment_status"] == "Used")]
    assert (res_used["gpus"] <= res_used["capacity_gpus"] + TOL).all()
    # costs are never negative
    cost_cols = [c for c in j.columns if c.startswith("cost_")] + ["list_cost_usd", "energy_usd"]
    assert (j[cost_cols].to_numpy() >= -TOL).all()
    assert (h["cost_usd"] >= -TOL).all()
    kcost = [c for c in res.kpis.columns if c.startswith("cost_") or c.endswith("_usd")]
    assert (res.kpis[kcost].fillna(0).to_numpy() >= -TOL).all()
    # same seed, same result
    again = _simulate(case)
    pd.testing.assert_frame_equal(res.kpis, again.kpis)
    pd.testing.assert_frame_equal(res.jobs, again.jobs)
    pd.testing.assert_frame_equal(res.hourly, again.hourly)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_reserved_gpus_in_use_never_exceed_what_the_fluid_load_leaves_at_any_instant(case: dict[str, Any]) -> None:
    inp = build_inputs(case["sc"], case["plan"], jobs=case["jobs"], demand=case["demand"], hours=HOURS, start=T0)
    rng = np.random.default_rng(case["seed"])
    ev = draw_fleet_events(inp, rng)
    dem = None if inp.demand is None else inp.demand[0]
    _, residual = place_fluid(inp, dem, ev, rng)
    rec = JobEngine(inp, residual, ev, rng).run()
    m = rec.seg_pool == RES
    g = inp.jobs.gpus[rec.seg_job[m]].astype(float)
    # sweep: at equal times releases come before admissions
    times = np.concatenate([rec.seg_end[m], rec.seg_start[m]])
    delta = np.concatenate([-g, g])
    order = np.lexsort((delta, times))
    in_use = np.cumsum(delta[order])
    hours = np.minimum(times[order].astype(int), HOURS - 1)
    assert (in_use <= residual.reserved[0][hours] + TOL).all()
    # on-demand instances never exceed the quota either
    quota = case["sc"].catalog["x"].on_demand_quota_gpus
    if quota is not None:
        mo = rec.seg_pool == 1
        go = inp.jobs.gpus[rec.seg_job[mo]].astype(float)
        t2 = np.concatenate([rec.seg_end[mo], rec.seg_start[mo]])
        d2 = np.concatenate([-go, go])
        o2 = np.lexsort((d2, t2))
        assert (np.cumsum(d2[o2]) <= residual.quota[0][np.minimum(t2[o2].astype(int), HOURS - 1)] + TOL).all()
