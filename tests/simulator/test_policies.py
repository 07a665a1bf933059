"""Policies and guardrails: placement order, spot fallback, deadline risk, deferral, schedules, quotas, budget
caps, droughts, correlated revocations, provisioning delay, and the fluid load's claim on capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from simulator import build_inputs, simulate
from simulator.engine import ODI, SPOT, JobEngine
from simulator.fleet import FleetEvents
from simulator.fluid import place_fluid
from tests.simulator._util import T0, demand_frame, flat_signal, jobs, scenario

CALM_SPOT = {"usd_per_gpu_hour": 1.0, "interruption_band": None, "available_gpus": 1, "hazard_per_hour": 0.0}


def _sim(sc, table, plan=None, hours=48, **kw):  # type: ignore[no-untyped-def]
    return simulate(sc, plan, jobs=table, start=T0, hours=hours, replications=1, seed=1, detail="first",
                    progress=False, **kw)


def _engine(sc, table, events, plan=None, hours=48, demand=None):  # type: ignore[no-untyped-def]
    inp = build_inputs(sc, plan, jobs=table, demand=demand, start=T0, hours=hours)
    rng = np.random.default_rng(0)
    _, residual = place_fluid(inp, None if inp.demand is None else inp.demand[0], events, rng)
    return inp, JobEngine(inp, residual, events, rng).run()


def test_placement_order_reserved_committed_spot_on_demand() -> None:
    sc = scenario(catalog={"x": {"committed_discount": {"1y": 0.25}, "spot": CALM_SPOT}})
    plan = CapacityPlan("p", reserved=(ReservedPurchase("x", 1, "no_upfront", 1, 1.2),),
                        committed=(CommitmentPurchase(1, 1.5),))  # covers exactly 1 GPU at 1.5 USD
    table = jobs([{"gpus": 1, "duration_hours": 10.0, "preemptible": True}] * 4)
    k = _sim(sc, table, plan, hours=12).kpis.iloc[0]
    assert k["reserved_used_gpu_hours"] == pytest.approx(10)
    assert k["committed_used_usd"] == pytest.approx(15)
    assert k["cost_spot_usd"] == pytest.approx(10)
    assert k["cost_on_demand_usd"] == pytest.approx(20)
    # non-preemptible jobs never use spot
    table_np = jobs([{"gpus": 1, "duration_hours": 10.0, "preemptible": False}] * 4)
    k2 = _sim(sc, table_np, plan, hours=12).kpis.iloc[0]
    assert k2["cost_spot_usd"] == 0.0 and k2["cost_on_demand_usd"] == pytest.approx(40)


def test_spot_fallback_to_on_demand_after_k_interruptions() -> None:
    spot = {**CALM_SPOT, "hazard_per_hour": 3.0, "available_gpus": 8}
    table = jobs([{"gpus": 1, "duration_hours": 10.0, "checkpoint_interval_hours": 0.1}])
    wl = {"checkpoint_cost_hours": 0.01, "restart_cost_hours": 0.05}
    j = _sim(scenario(catalog={"x": {"spot": spot}}, workload=wl,
                      policies={"spot_fallback_after_interruptions": 2}), table).jobs.iloc[0]
    assert j["interruptions"] == 2
    assert bool(j["fell_back_to_on_demand"]) and j["status"] == "finished"
    assert j["on_demand_gpu_hours"] > 0 and j["spot_gpu_hours"] > 0
    never = _sim(scenario(catalog={"x": {"spot": spot}}, workload=wl), table).jobs.iloc[0]  # k = 0: never
    assert never["interruptions"] > 2 and never["on_demand_gpu_hours"] == 0


def test_deadline_at_risk_goes_on_demand() -> None:
    spot = {**CALM_SPOT, "hazard_per_hour": 0.2, "available_gpus": 8}
    sc = scenario(catalog={"x": {"spot": spot}}, workload={"checkpoint_cost_hours": 0.05, "restart_cost_hours": 0.1})
    table = jobs([{"job_id": "tight", "gpus": 1, "duration_hours": 5.0, "deadline": 5.5},
                  {"job_id": "loose", "gpus": 1, "duration_hours": 5.0, "deadline": 40.0}])
    j = _sim(sc, table).jobs.set_index("job_id")
    assert j.loc["tight", "spot_gpu_hours"] == 0 and bool(j.loc["tight", "fell_back_to_on_demand"])
    assert bool(j.loc["tight", "deadline_met"])
    assert j.loc["loose", "spot_gpu_hours"] > 0


def test_threshold_deferral_moves_flexible_jobs_to_low_carbon_hours() -> None:
    carbon_values = np.full(48, 500.0)
    carbon_values[10:30] = 100.0
    carbon = pd.DataFrame({"region": "default", "timestamp": pd.date_range(T0, periods=48, freq="h"),
                           "gco2_per_kwh": carbon_values})
    table = jobs([{"job_id": "flex", "submit": 2.0, "gpus": 1, "duration_hours": 5.0, "deadline": 40.0},
                  {"job_id": "no_deadline", "submit": 2.0, "gpus": 1, "duration_hours": 5.0},
                  {"job_id": "tight", "submit": 2.0, "gpus": 1, "duration_hours": 5.0, "deadline": 12.0},
                  {"job_id": "already_low", "submit": 15.5, "gpus": 1, "duration_hours": 5.0, "deadline": 40.0}])
    price = flat_signal("default", 50.0, 48, "usd_per_mwh")
    sc = scenario(policies={"deferral": "threshold", "deferral_signal": "carbon", "deferral_quantile": 0.3})
    j = _sim(sc, table, carbon=carbon, price=price).jobs.set_index("job_id")
    assert j["deferral_hours"].to_dict() == pytest.approx({"flex": 8.0, "no_deadline": 8.0, "tight": 0.0,
                                                           "already_low": 0.0})
    assert j.loc["flex", "start_time"] == T0 + pd.Timedelta(hours=10)
    assert j.loc["flex", "kg_co2e"] == pytest.approx(5 * 0.6 * 100 / 1000)  # 5 GPU-h x 0.6 kW x 100 g
    assert j.loc["tight", "kg_co2e"] == pytest.approx(5 * 0.6 * 500 / 1000)
    base = _sim(scenario(), table, carbon=carbon, price=price).jobs.set_index("job_id")
    assert base["kg_co2e"].sum() > j["kg_co2e"].sum()


def test_schedule_releases_jobs_at_their_scheduled_hour_and_checks_ids() -> None:
    table = jobs([{"job_id": "a", "gpus": 2, "duration_hours": 3.0}, {"job_id": "b", "gpus": 1, "duration_hours": 1.0}])
    sched = pd.DataFrame({"job_id": ["a", "a"], "timestamp": [T0 + pd.Timedelta(hours=7), T0 + pd.Timedelta(hours=6)],
                          "gpus": [2, 2]})
    j = _sim(scenario(), table, schedule=sched).jobs.set_index("job_id")
    assert j.loc["a", "start_time"] == T0 + pd.Timedelta(hours=6)
    assert j.loc["b", "start_time"] == T0
    bad = pd.DataFrame({"job_id": ["zzz"], "timestamp": [T0], "gpus": [1]})
    with pytest.raises(InputError, match="zzz"):
        _sim(scenario(), table, schedule=bad)
    with pytest.raises(InputError, match="schedule"):
        _sim(scenario(policies={"deferral": "schedule"}), table)


def test_team_quota_makes_a_team_wait_but_not_others() -> None:
    table = jobs([{"job_id": "a1", "gpus": 4, "duration_hours": 5.0, "team": "a"},
                  {"job_id": "a2", "gpus": 4, "duration_hours": 5.0, "team": "a"},
                  {"job_id": "b1", "gpus": 4, "duration_hours": 5.0, "team": "b"}])
    j = _sim(scenario(policies={"team_quotas_gpus": {"a": 4}}), table).jobs.set_index("job_id")
    assert j["queue_delay_hours"].to_dict() == pytest.approx({"a1": 0.0, "a2": 5.0, "b1": 0.0})


def test_budget_cap_stops_a_job_at_its_cap() -> None:
    table = jobs([{"job_id": "big", "gpus": 4, "duration_hours": 10.0, "preemptible": False},
                  {"job_id": "ckpt", "gpus": 4, "duration_hours": 10.0, "preemptible": False,
                   "checkpoint_interval_hours": 1.0},
                  {"job_id": "small", "gpus": 1, "duration_hours": 2.0, "preemptible": False}])
    j = _sim(scenario(policies={"job_budget_cap_usd": 50.0}), table).jobs.set_index("job_id")
    assert j.loc["big", "status"] == "stopped_by_budget" and bool(j.loc["big", "stopped_by_budget"])
    assert j.loc["big", "cost_usd"] == pytest.approx(50.0)  # 8 USD/h for 6.25 h
    assert j.loc["big", "end_time"] == T0 + pd.Timedelta(hours=6.25)
    assert j.loc["big", "useful_gpu_hours"] == 0.0 and j.loc["big", "lost_gpu_hours"] == pytest.approx(25.0)
    assert j.loc["ckpt", "useful_gpu_hours"] == pytest.approx(24.0)  # six checkpointed hours kept
    assert j.loc["small", "status"] == "finished" and j.loc["small", "cost_usd"] == pytest.approx(4.0)


def test_drought_revokes_spot_and_blocks_it_until_it_ends() -> None:
    sc = scenario(catalog={"x": {"spot": {**CALM_SPOT, "available_gpus": 8}}})
    table = jobs([{"job_id": "early", "gpus": 2, "duration_hours": 10.0},
                  {"job_id": "during", "submit": 6.0, "gpus": 1, "duration_hours": 1.0},
                  {"job_id": "after", "submit": 9.0, "gpus": 1, "duration_hours": 1.0}])
    events = FleetEvents(correlated=(np.zeros(0),), droughts=(np.array([[5.0, 8.0]]),))
    _inp, rec = _engine(sc, table, events)
    segs = pd.DataFrame({"job": rec.seg_job, "pool": rec.seg_pool, "t0": rec.seg_start, "t1": rec.seg_end})
    early = segs[segs["job"] == 0].reset_index(drop=True)
    assert early.loc[0, ["pool", "t0", "t1"]].tolist() == [SPOT, 0.0, 5.0]
    assert early.loc[1, "pool"] == ODI and early.loc[1, "t0"] == 5.0
    assert rec.interruptions.tolist() == [1, 0, 0]
    assert segs.loc[segs["job"] == 1, "pool"].tolist() == [ODI]
    assert segs.loc[segs["job"] == 2, "pool"].tolist() == [SPOT]


def test_correlated_revocation_takes_its_share_of_the_spot_fleet() -> None:
    sc = scenario(catalog={"x": {"spot": {**CALM_SPOT, "available_gpus": 100, "correlated_share": 0.5}}})
    table = jobs([{"gpus": 1, "duration_hours": 10.0}] * 10)
    events = FleetEvents(correlated=(np.array([3.0]),), droughts=(np.zeros((0, 2)),))
    _, rec = _engine(sc, table, events)
    assert int(rec.interruptions.sum()) == 5
    assert (rec.status == 1).all()


def test_on_demand_provisioning_delay_counts_as_waiting() -> None:
    sc = scenario(catalog={"x": {"provisioning_delay_hours": 0.5}})
    j = _sim(sc, jobs([{"gpus": 1, "duration_hours": 2.0}])).jobs.iloc[0]
    assert j["start_time"] == T0 + pd.Timedelta(hours=0.5)
    assert j["queue_delay_hours"] == pytest.approx(0.5)
    assert j["cost_usd"] == pytest.approx(4.0)  # billed only once usable


def test_fluid_load_claims_reserved_first_and_waiting_jobs_wake_when_it_drops() -> None:
    sc = scenario(catalog={"x": {"on_demand_quota_gpus": 0}})
    plan = CapacityPlan("p", reserved=(ReservedPurchase("x", 1, "no_upfront", 4, 1.0),))
    dem = demand_frame({"x": np.array([4.0] * 10 + [1.0] * 38)})
    table = jobs([{"job_id": "w", "submit": 2.0, "gpus": 2, "duration_hours": 3.0, "preemptible": False},
                  {"job_id": "long", "submit": 11.0, "gpus": 3, "duration_hours": 3.0, "preemptible": False}])
    res = simulate(sc, plan, jobs=table, demand=dem, start=T0, hours=48, replications=1, progress=False)
    j = res.jobs.set_index("job_id")
    assert j.loc["w", "start_time"] == T0 + pd.Timedelta(hours=10)  # reserved freed by the fluid load at 10
    assert j.loc["long", "start_time"] == T0 + pd.Timedelta(hours=13)  # 3 GPUs only after w ends at 13
    assert res.kpis.iloc[0]["idle_reserved_gpu_hours"] == pytest.approx(
        48 * 4 - (40 + 38) - 2 * 3 - 3 * 3)


def test_fluid_spot_losses_are_arithmetic_expectations() -> None:
    delta, restart = 0.05, 0.1
    spot = {"usd_per_gpu_hour": 1.0, "interruption_band": None, "available_gpus": 16, "hazard_per_hour": 0.02,
            "correlated_share": 0.5, "correlated_events_per_month": 1.0}
    sc = scenario(catalog={"x": {"spot": spot}}, demand={"preemptible_share": 1.0},
                  workload={"checkpoint_cost_hours": delta, "restart_cost_hours": restart})
    hours = 100_000
    inp = build_inputs(sc, demand=demand_frame({"x": np.full(hours, 16.0)}), start=T0, hours=hours)
    from simulator.fluid import fluid_checkpoint_interval

    tau = fluid_checkpoint_interval(inp, 0)
    s = 16.0 / (1.0 + delta / tau)  # spot GPUs doing useful work, checkpoints on top
    loss = (tau + delta) / 2 + restart
    events = FleetEvents(correlated=(np.array([100.5]),), droughts=(np.zeros((0, 2)),))
    load, _ = place_fluid(inp, inp.demand[0], events, np.random.default_rng(4))
    np.testing.assert_allclose(load.spot[0], s)
    np.testing.assert_allclose(load.spot_checkpoint[0], s * delta / tau)
    hazard_loss = np.delete(load.spot_lost[0], 100)
    expected_per_hour = 0.02 * s / 8 * 8 * loss
    assert hazard_loss.mean() == pytest.approx(expected_per_hour, rel=0.05)
    # the correlated event at hour 100 adds half the spot fleet's loss on top of that hour's hazard losses
    n100 = load.interruptions[0, 100] - 1
    assert load.spot_lost[0, 100] == pytest.approx(n100 * 8 * loss + 0.5 * s * loss)
