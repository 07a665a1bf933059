"""No interruptions, ample capacity: every cost, GPU-hour, kWh and kg equals a hand computation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from simulator import simulate, to_focus
from tests.simulator._util import T0, demand_frame, flat_signal, jobs, scenario

EXACT = 1e-9

# On-demand 2 USD/GPU-hour; a 1-year savings plan at 25 % off covers GPU-hours at 1.5 USD; 4 reserved GPUs
# at 1.5 USD/GPU-hour; 3 USD/h committed (covers 2 GPU-hours each hour); 0.5 kW x PUE 1.2 = 0.6 kW a GPU.
SC = scenario(catalog={"x": {"committed_discount": {"1y": 0.25}}})
PLAN = CapacityPlan("hand", reserved=(ReservedPurchase("x", 1, "no_upfront", 4, 1.5),),
                    committed=(CommitmentPurchase(1, 3.0),))
HOURS = 12
JOBS = jobs([
    {"job_id": "A", "gpus": 4, "duration_hours": 10.0, "preemptible": False, "team": "research"},   # reserved
    {"job_id": "B", "gpus": 2, "duration_hours": 5.0, "preemptible": False, "team": "product"},     # 0-5 h
    {"job_id": "C", "submit": 1.0, "gpus": 1, "duration_hours": 4.0, "preemptible": False,
     "team": "product"},                                                                           # 1-5 h
])


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    carbon = flat_signal("default", 300.0, HOURS, "gco2_per_kwh")
    price = flat_signal("default", 100.0, HOURS, "usd_per_mwh")
    return simulate(SC, PLAN, jobs=JOBS, carbon=carbon, price=price, hours=HOURS, replications=2, seed=1,
                    progress=False)


def test_bill_totals_by_hand(result) -> None:  # type: ignore[no-untyped-def]
    k = result.kpis.iloc[0]
    assert k["cost_reserved_usd"] == pytest.approx(4 * 1.5 * 12, abs=EXACT)        # paid used or not: 72
    assert k["cost_committed_usd"] == pytest.approx(3.0 * 12, abs=EXACT)           # 36
    assert k["committed_used_usd"] == pytest.approx(3.0 + 4 * 3.0, abs=EXACT)      # h0: 2 GPU-h; h1-4: 2 of 3
    assert k["committed_unused_usd"] == pytest.approx(36 - 15, abs=EXACT)
    assert k["cost_on_demand_usd"] == pytest.approx(4 * 1 * 2.0, abs=EXACT)        # 1 GPU-h uncovered in h1-4
    assert k["cost_spot_usd"] == 0.0
    assert k["total_cost_usd"] == pytest.approx(72 + 36 + 8, abs=EXACT)
    assert k["busy_gpu_hours"] == pytest.approx(40 + 10 + 4, abs=EXACT)
    assert k["idle_reserved_gpu_hours"] == pytest.approx(48 - 40, abs=EXACT)
    assert k["list_cost_usd"] == pytest.approx(54 * 2.0, abs=EXACT)
    assert k["effective_savings_rate"] == pytest.approx(1 - 116 / 108, abs=EXACT)
    assert k["coverage"] == pytest.approx((40 + 10) / 54, abs=EXACT)
    assert k["kwh"] == pytest.approx(54 * 0.6, abs=EXACT)
    assert k["kg_co2e"] == pytest.approx(54 * 0.6 * 300 / 1000, abs=EXACT)
    assert k["energy_usd"] == pytest.approx(54 * 0.6 * 100 / 1000, abs=EXACT)
    assert k["job_interruptions"] == 0 and k["mean_queue_delay_hours"] == 0
    # without randomness every replication is the same
    pd.testing.assert_series_equal(result.kpis.iloc[0].drop("replication"), result.kpis.iloc[1].drop("replication"),
                                   check_names=False)


def test_per_job_costs_share_the_commitment_pro_rata(result) -> None:  # type: ignore[no-untyped-def]
    j = result.jobs[result.jobs["replication"] == 0].set_index("job_id")
    assert j.loc["A", "cost_reserved_usd"] == pytest.approx(40 * 1.5, abs=EXACT)
    assert j.loc["A", "reserved_gpu_hours"] == pytest.approx(40, abs=EXACT)
    # hour 0: B alone, fully covered; hours 1-4: 3 GPU-h of which 2 covered, shared 2/3 each
    assert j.loc["B", "committed_gpu_hours"] == pytest.approx(2 + 8 * 2 / 3, abs=EXACT)
    assert j.loc["B", "cost_committed_usd"] == pytest.approx(3 + 8 * 1.0, abs=EXACT)
    assert j.loc["B", "cost_on_demand_usd"] == pytest.approx(8 / 3 * 2.0, abs=EXACT)
    assert j.loc["C", "committed_gpu_hours"] == pytest.approx(4 * 2 / 3, abs=EXACT)
    assert j.loc["C", "cost_usd"] == pytest.approx(4 * 1.0 + 4 / 3 * 2.0, abs=EXACT)
    assert j.loc["C", "start_time"] == pd.Timestamp("2026-01-01 01:00", tz="UTC")
    assert j.loc["C", "end_time"] == pd.Timestamp("2026-01-01 05:00", tz="UTC")
    assert j["kwh"].to_dict() == pytest.approx({"A": 24.0, "B": 6.0, "C": 2.4})
    assert j["useful_gpu_hours"].to_dict() == pytest.approx({"A": 40.0, "B": 10.0, "C": 4.0})
    assert (j["lost_gpu_hours"] == 0).all() and (j["checkpoint_gpu_hours"] == 0).all()
    # job costs + idle reserved + unused commitment = the bill
    k = result.kpis.iloc[0]
    assert j["cost_usd"].sum() + 8 * 1.5 + 21 == pytest.approx(k["total_cost_usd"], abs=EXACT)


def test_showback_allocates_idle_and_unused_to_the_teams_that_use_them(result) -> None:  # type: ignore[no-untyped-def]
    t = result.teams[result.teams["replication"] == 0].set_index("team")
    assert t.loc["research", "showback_usd"] == pytest.approx(60 + 12, abs=EXACT)
    assert t.loc["product", "showback_usd"] == pytest.approx(15 + 8 + 21, abs=EXACT)
    assert t["showback_usd"].sum() == pytest.approx(116, abs=EXACT)


def test_hourly_table_by_hand(result) -> None:  # type: ignore[no-untyped-def]
    h = result.hourly
    assert set(h["replication"]) == {0}  # detail='first'
    res = h[(h["pool"] == "reserved") & (h["commitment_status"] == "Used")]["gpus"].to_numpy()
    np.testing.assert_allclose(res, [4] * 10 + [0, 0], atol=EXACT)
    idle = h[(h["pool"] == "reserved") & (h["commitment_status"] == "Unused")]["gpus"].to_numpy()
    np.testing.assert_allclose(idle, [0] * 10 + [4, 4], atol=EXACT)
    unused = h[(h["pool"] == "committed") & (h["commitment_status"] == "Unused")]["cost_usd"].to_numpy()
    np.testing.assert_allclose(unused, [0] * 5 + [3] * 7, atol=EXACT)
    od = h[h["pool"] == "on_demand"]["gpus"].to_numpy()
    np.testing.assert_allclose(od, [0, 1, 1, 1, 1] + [0] * 7, atol=EXACT)
    assert h["cost_usd"].sum() == pytest.approx(116, abs=EXACT)


def test_focus_rows_add_up_to_the_bill(result) -> None:  # type: ignore[no-untyped-def]
    f = to_focus(result)
    assert f["EffectiveCost"].sum() == pytest.approx(116, abs=EXACT)
    assert f["ListCost"].sum() == pytest.approx(108, abs=EXACT)
    by_cat = f.groupby("PricingCategory")["EffectiveCost"].sum()
    assert by_cat["Committed"] == pytest.approx(72 + 36, abs=EXACT)
    assert by_cat["Standard"] == pytest.approx(8, abs=EXACT)
    unused = f[f["CommitmentDiscountStatus"] == "Unused"]
    assert unused["EffectiveCost"].sum() == pytest.approx(8 * 1.5 + 21, abs=EXACT)
    teams = {json.loads(t)["team"] for t in f["Tags"]}
    assert teams == {"research", "product", ""}
    daily = to_focus(result, period="day")
    assert len(daily) < len(f) and daily["EffectiveCost"].sum() == pytest.approx(116, abs=EXACT)


def test_fluid_demand_is_placed_in_order_by_hand() -> None:
    # 10 GPUs for 4 h; half preemptible; 4 reserved, 2 covered by the commitment, 3 spot GPUs at 1 USD, rest
    # on demand.  Then with an on-demand quota of 2 GPUs the last GPU is unmet.
    sc = scenario(catalog={"x": {"committed_discount": {"1y": 0.25},
                                 "spot": {"usd_per_gpu_hour": 1.0, "available_gpus": 3, "interruption_band": None}}},
                  demand={"preemptible_share": 0.5})
    dem = demand_frame({"x": np.full(4, 10.0)})
    res = simulate(sc, PLAN, demand=dem, replications=1, progress=False)
    k = res.kpis.iloc[0]
    assert k["cost_reserved_usd"] == pytest.approx(4 * 1.5 * 4, abs=EXACT)
    assert k["committed_used_usd"] == pytest.approx(12, abs=EXACT)
    assert k["cost_spot_usd"] == pytest.approx(3 * 1.0 * 4, abs=EXACT)
    assert k["cost_on_demand_usd"] == pytest.approx(1 * 2.0 * 4, abs=EXACT)
    assert k["total_cost_usd"] == pytest.approx(24 + 12 + 12 + 8, abs=EXACT)
    assert k["demand_unmet_gpu_hours"] == 0 and k["useful_gpu_hours"] == pytest.approx(40, abs=EXACT)
    sc_q = scenario(catalog={"x": {"committed_discount": {"1y": 0.25}, "on_demand_quota_gpus": 2,
                                   "spot": {"usd_per_gpu_hour": 1.0, "available_gpus": 3, "interruption_band": None}}},
                    demand={"preemptible_share": 0.5})
    kq = simulate(sc_q, PLAN, demand=dem, replications=1, progress=False).kpis.iloc[0]
    assert kq["demand_unmet_gpu_hours"] == pytest.approx(4, abs=EXACT)
    assert kq["cost_on_demand_usd"] == 0.0
    t = res.teams.set_index("team")
    assert t.loc["(demand)", "showback_usd"] == pytest.approx(56, abs=EXACT)


def test_idle_commitment_cost_prices_each_familys_idle_gpus_at_its_own_rate() -> None:
    # a: 10 reserved at 1 USD, demand 4 -> 6 idle GPU-hours/h x 1 = 6 USD/h
    # b: 10 reserved at 3 USD, demand 9 -> 1 idle GPU-hour/h x 3 = 3 USD/h; total 9 USD/h over 5 h = 45 USD
    # (a mean reserved rate would give 7 idle GPU-hours x 2 USD = 14 USD/h: the old, wrong figure)
    from gpuplan.pipeline import _idle_cost

    sc = scenario(catalog={"a": {"on_demand_usd_per_gpu_hour": 2.0}, "b": {"on_demand_usd_per_gpu_hour": 5.0}})
    plan = CapacityPlan("two", reserved=(ReservedPurchase("a", 1, "no_upfront", 10, 1.0),
                                         ReservedPurchase("b", 1, "no_upfront", 10, 3.0)))
    dem = demand_frame({"a": np.full(5, 4.0), "b": np.full(5, 9.0)})
    res = simulate(sc, plan, demand=dem, replications=1, progress=False)
    assert float(res.kpis["idle_commitment_usd"].iloc[0]) == pytest.approx(45.0, abs=EXACT)
    assert _idle_cost(res) == pytest.approx(45.0, abs=EXACT)
    t = res.teams
    allocated = float((t["reserved_idle_allocated_usd"] + t["committed_unused_allocated_usd"]).sum())
    assert allocated == pytest.approx(45.0, abs=EXACT)


def test_fluid_demand_is_shown_back_to_its_teams_hour_by_hour_by_hand() -> None:
    # 4 reserved GPUs at 1.5, on demand 2.0, no spot.  Demand 10, 10, 2, 2 GPUs: team A 6, 6, 2, 0 and
    # team B 4, 4, 0, 2.  Hours 0-1: 4 reserved (6 USD) + 6 on demand (12 USD), split 60/40; hours 2-3:
    # 2 reserved used (3 USD) all to the one team with demand, 2 idle (3 USD each hour).
    # A: reserved 0.6 x 6 x 2 + 3 = 10.2, on demand 0.6 x 12 x 2 = 14.4; B: 7.8 and 9.6.
    # Idle 6 USD by reserved GPU-hours: A 0.6 x 4 x 2 + 2 = 6.8, B 5.2 of 12 -> A 3.4, B 2.6.
    from simulator.api import run
    from simulator.inputs import build_inputs, with_demand_teams

    plan = CapacityPlan("p", reserved=(ReservedPurchase("x", 1, "no_upfront", 4, 1.5),))
    dem = demand_frame({"x": np.array([10.0, 10.0, 2.0, 2.0])})
    ts = pd.date_range(T0, periods=4, freq="h")
    team = pd.DataFrame({"family": "x", "team": ["A"] * 4 + ["B"] * 4, "timestamp": list(ts) * 2, "sample_id": 0,
                         "gpus": [6.0, 6.0, 2.0, 0.0, 4.0, 4.0, 0.0, 2.0]})
    inputs = with_demand_teams(build_inputs(scenario(), plan, demand=dem), team)
    t = run(inputs, replications=1, progress=False).teams.set_index("team")
    assert set(t.index) == {"A", "B"}  # nothing left in '(demand)'
    assert t.loc["A", "reserved_used_usd"] == pytest.approx(10.2, abs=EXACT)
    assert t.loc["A", "on_demand_usd"] == pytest.approx(14.4, abs=EXACT)
    assert t.loc["A", "reserved_idle_allocated_usd"] == pytest.approx(3.4, abs=EXACT)
    assert t.loc["A", "showback_usd"] == pytest.approx(28.0, abs=EXACT)
    assert t.loc["B", "showback_usd"] == pytest.approx(20.0, abs=EXACT)
    assert t["showback_usd"].sum() == pytest.approx(48.0, abs=EXACT)
