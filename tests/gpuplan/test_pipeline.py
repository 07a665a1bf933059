"""The plan pipeline end to end on the small bundled scenario: bounds, consistency, levers, report, CLI."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gpuplan.cli import main
from gpuplan.executors import DaskMapper
from gpuplan.pipeline import LEVER_RANGES, PlanRun, run_plan, without_spot
from gpuplan.plan_report import plan_tables, write_plan
from optimizer.analytics import curve_break_even
from scenarios import load_scenario
from scenarios.parallel import SerialMapper
from scenarios.plan import current_plan

REPS = 3


@pytest.fixture(scope="module")
def small_run() -> PlanRun:
    sc = load_scenario("small")
    return run_plan(sc, mapper=SerialMapper(False), progress=False, replications=REPS)


def test_every_plan_is_simulated_with_the_same_replications(small_run: PlanRun) -> None:
    costs = small_run.plan_costs()
    assert set(costs["plan"]) == {"recommended", "all-on-demand", "trailing-30d", "current"}
    assert costs.groupby("plan")["replication"].nunique().eq(REPS).all()
    assert (costs["total_cost_usd"] > 0).all()


def test_optimizer_bounds_hold_on_the_forecast_paths(small_run: PlanRun) -> None:
    s = small_run.capacity.summary()
    assert s["expected_cost_usd"] <= s["all_on_demand_usd"] + 1e-6
    assert s["perfect_hindsight_usd"] <= s["expected_cost_usd"] + 1e-6


def test_simulated_savings_are_measured_against_all_on_demand(small_run: PlanRun) -> None:
    cmp = small_run.comparison().set_index("plan")
    assert cmp.loc["all-on-demand", "savings_vs_all_on_demand_pct"] == pytest.approx(0.0, abs=1e-9)
    rec, aod = cmp.loc["recommended"], cmp.loc["all-on-demand"]
    assert rec["expected_cost_usd"] < aod["expected_cost_usd"]
    assert 0.0 < rec["coverage"] <= 1.0


# A hand-worked simulation: one job of 4 GPUs for 10 h on family x (on demand 2 USD/GPU-h, a 1-year plan at
# 25 % off).  all-on-demand: 4 x 10 x 2 = 80 USD.  recommended: 4 reserved GPUs at 1.5 -> 60 USD, never
# idle.  current: 6 reserved GPUs at 1.5 (90 USD, 2 of 6 idle -> 30 USD idle) plus 3 USD/h committed that
# the job never needs (30 USD unused): 120 USD, 60 USD of it idle.
HAND_HOURS = 10


@pytest.fixture(scope="module")
def hand_sims() -> dict[str, Any]:
    from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
    from simulator import simulate
    from tests.simulator._util import jobs, scenario

    sc = scenario(catalog={"x": {"committed_discount": {"1y": 0.25}}})
    job = jobs([{"job_id": "A", "gpus": 4, "duration_hours": 10.0, "preemptible": False}])
    plans = {
        "recommended": CapacityPlan("recommended", reserved=(ReservedPurchase("x", 1, "no_upfront", 4, 1.5),)),
        "all-on-demand": CapacityPlan("all-on-demand"),
        "current": CapacityPlan("current", reserved=(ReservedPurchase("x", 1, "no_upfront", 6, 1.5),),
                                committed=(CommitmentPurchase(1, 3.0),)),
    }
    return {name: simulate(sc, plan, jobs=job, hours=HAND_HOURS, replications=2, seed=1, progress=False)
            for name, plan in plans.items()}


def test_comparison_and_key_figures_of_a_hand_worked_simulation(small_run: PlanRun,
                                                               hand_sims: dict[str, Any]) -> None:
    # family paths by hand: 2 samples x 2 hours; totals per (sample, hour) 11, 22, 33, 44 -> mean 27.5 GPUs
    ts = pd.date_range("2026-01-01", periods=2, freq="h", tz="UTC")
    fp = pd.DataFrame({"series_id": ["a100"] * 4 + ["h100"] * 4, "timestamp": list(ts) * 4,
                       "sample_id": [0, 0, 1, 1] * 2, "gpus": [10.0, 20.0, 30.0, 40.0, 1.0, 2.0, 3.0, 4.0]})
    from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase

    plan = CapacityPlan("recommended", reserved=(ReservedPurchase("x", 1, "no_upfront", 4, 1.5),
                                                 ReservedPurchase("x", 3, "no_upfront", 2.5, 1.2)),
                        committed=(CommitmentPurchase(1, 3.0), CommitmentPurchase(3, 1.25)))
    run = dataclasses.replace(small_run, simulations=hand_sims, schedule=None, family_paths=fp,
                              plans={**small_run.plans, "recommended": plan})
    cmp = run.comparison().set_index("plan")
    assert cmp["expected_cost_usd"].to_dict() == pytest.approx(
        {"recommended": 60.0, "all-on-demand": 80.0, "current": 120.0})
    assert cmp["savings_vs_all_on_demand_pct"].to_dict() == pytest.approx(
        {"recommended": 25.0, "all-on-demand": 0.0, "current": -50.0})
    assert cmp.loc["recommended", "coverage"] == pytest.approx(1.0)
    assert cmp.loc["all-on-demand", "coverage"] == pytest.approx(0.0)
    k = run.key_figures()
    assert (k["expected_cost_usd"], k["all_on_demand_cost_usd"], k["current_cost_usd"]) == pytest.approx(
        (60.0, 80.0, 120.0))
    assert k["savings_vs_all_on_demand_pct"] == pytest.approx(25.0)
    assert k["forecast_mean_gpus"] == pytest.approx(27.5)
    assert (k["reserved_gpus"], k["committed_usd_per_hour"]) == pytest.approx((6.5, 4.25))
    assert "schedule_carbon_saved_pct" not in k


def test_lever_table_of_a_hand_worked_simulation(hand_sims: dict[str, Any]) -> None:
    from gpuplan.pipeline import lever_table

    lev = lever_table(hand_sims, hand_sims["all-on-demand"], None).set_index("lever")
    # no spot offer: the spot lever moves nothing
    assert lev.loc["spot with checkpointing", "saving_usd"] == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(lev.loc["spot with checkpointing", "saving_pct"])
    # reserved: 80 - 60 = 20 USD, 25 % of the all-on-demand cost (within the quoted 20-60 %)
    res = lev.loc["reserved or committed capacity"]
    assert (res["saving_usd"], res["saving_pct"]) == pytest.approx((20.0, 25.0))
    assert res["where"] == "within the typical range"
    # right-sizing: current idles 30 (reserved) + 30 (committed) = 60 USD, recommended 0: 50 % of 120 USD
    rs = lev.loc["right-sizing idle capacity"]
    assert (rs["saving_usd"], rs["saving_pct"]) == pytest.approx((60.0, 50.0))
    assert rs["where"] == "above the typical range"
    assert "'current' (60 USD)" in rs["how"] and "recommendation's (0 USD)" in rs["how"]


def test_lever_table_lists_every_lever_with_the_quoted_ranges(small_run: PlanRun) -> None:
    lev = small_run.levers.set_index("lever")
    assert list(lev.index) == list(LEVER_RANGES)
    for name, rng in LEVER_RANGES.items():
        if rng is None:
            assert np.isnan(lev.loc[name, "typical_low_pct"])
        else:
            assert (lev.loc[name, "typical_low_pct"], lev.loc[name, "typical_high_pct"]) == rng
    assert lev.loc["reserved or committed capacity", "saving_usd"] > 0  # by hand: the hand-worked tests
    s = small_run.schedule
    assert s is not None
    # the scheduling lever is the saving the simulator realizes replaying the schedule ...
    rp = small_run.extras["schedule_replay"]
    assert lev.loc["carbon- or price-aware scheduling", "saving_usd"] == pytest.approx(rp["energy_cost_saved_usd"])
    # ... which agrees with the optimizer's as-run estimate within Monte Carlo error
    est = s.summary()["as_run_energy_cost_saved_pct"] / 100.0 * rp["arrival_energy_cost_usd"]
    assert abs(rp["energy_cost_saved_usd"] - est) <= 3.0 * rp["energy_cost_saved_se_usd"] + 1e-9
    assert rp["deadline_misses_replay"] <= rp["deadline_misses_arrival"]


def test_spot_lever_compares_with_and_without_spot(small_run: PlanRun) -> None:
    sc = small_run.scenario
    assert all(f.spot is None for f in without_spot(sc).catalog.values())
    assert all(f.spot is not None for f in sc.catalog.values())
    spot = small_run.levers.set_index("lever").loc["spot with checkpointing"]
    assert spot["saving_usd"] > 0, "spot at ~42-45 % of on-demand must save money on preemptible work"
    assert 0 < spot["saving_pct"] < 100


def test_schedule_never_emits_more_than_running_on_arrival_at_positive_carbon_price(small_run: PlanRun) -> None:
    s = small_run.schedule
    assert s is not None
    assert s.totals["objective_usd"] <= s.arrival["objective_usd"] + 1e-6
    p = small_run.pareto.sort_values("carbon_price_usd_per_tonne")
    assert (np.diff(p["kg_co2e"].to_numpy()) <= 1e-6 * p["kg_co2e"].max()).all()


def test_right_sizing_lever_measures_the_current_plans_idle_cost(small_run: PlanRun) -> None:
    lev = small_run.levers.set_index("lever").loc["right-sizing idle capacity"]
    assert "'current'" in lev["of_what"]
    assert lev["saving_usd"] == pytest.approx(
        _idle(small_run.simulations["current"]) - _idle(small_run.simulations["recommended"]))


def _idle(sim) -> float:  # type: ignore[no-untyped-def]
    # the idle cost the showback allocates to teams (one definition across levers and showback)
    t = sim.teams
    per_rep = (t["reserved_idle_allocated_usd"] + t["committed_unused_allocated_usd"]).groupby(t["replication"]).sum()
    return float(per_rep.mean())


def test_current_commitments_become_a_baseline_plan() -> None:
    sc = load_scenario("small", overrides={
        "current.reserved": [{"family": "a100", "term_years": 1, "gpus": 40, "usd_per_gpu_hour": 1.74}],
        "current.committed_usd_per_hour": {"1y": 10.0},
    })
    plan = current_plan(sc)
    assert plan.name == "current"
    assert plan.reserved_gpus("a100") == 40
    assert plan.committed_usd_per_hour() == 10.0
    assert current_plan(load_scenario("small", overrides={"current": {}})).name == "all-on-demand"


def test_break_even_commitment_is_where_the_curve_crosses_all_on_demand() -> None:
    curve = pd.DataFrame({"factor": [0.0, 1.0, 2.0, 3.0],
                          "commitment_gpu_equivalents": [0.0, 10.0, 20.0, 30.0],
                          "expected_cost_usd": [100.0, 80.0, 90.0, 110.0]})
    assert curve_break_even(curve) == pytest.approx(25.0)
    assert np.isnan(curve_break_even(curve.iloc[:3]))


def test_report_has_every_section_figure_and_table(small_run: PlanRun, tmp_path: Path) -> None:
    path = write_plan(small_run, tmp_path / "out")
    html = path.read_text()
    for title in ["Recommendation at a glance", "Demand forecast", "Cost risk", "Cost against commitment",
                  "Where the money goes", "Spot: interruptions and lost work",
                  "Carbon- and price-aware training schedule", "Savings levers", "Inputs, assumptions"]:
        assert title in html, title
    assert len(re.findall(r"data:image/png;base64,", html)) >= 7
    assert "Rests on:" in html
    tables = {p.stem for p in (tmp_path / "out" / "tables").glob("*.csv")}
    assert set(plan_tables(small_run)) == tables
    purchases = pd.read_csv(tmp_path / "out" / "tables" / "purchases.csv")
    assert purchases["quantity"].sum() == pytest.approx(small_run.recommended.to_frame()["quantity"].sum())
    key = json.loads((tmp_path / "out" / "key_figures.json").read_text())
    assert key["expected_cost_usd"] == pytest.approx(small_run.key_figures()["expected_cost_usd"])


def test_failed_report_leaves_no_half_written_folder(small_run: PlanRun, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import gpuplan.plan_report as pr

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pr, "atomic_write", boom)
    with pytest.raises(RuntimeError):
        write_plan(small_run, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


def test_same_seed_same_numbers_on_dask_local_cluster(small_run: PlanRun) -> None:
    sc = load_scenario("small")
    with DaskMapper("local", workers=2, progress=False) as mapper:
        on_dask = run_plan(sc, mapper=mapper, progress=False, replications=REPS)
    a, b = small_run.key_figures(), on_dask.key_figures()
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, float):
            assert b[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
        else:
            assert b[key] == value, key


def test_plan_cli_writes_the_report_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["-q", "plan", "small", "--out", str(tmp_path / "p"), "--workers", "1", "--replications", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"Report: {(tmp_path / 'p' / 'report.html').resolve()}" in out
    assert (tmp_path / "p" / "plan.json").exists()


def test_plan_cli_bad_override_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["-q", "plan", "small", "--out", str(tmp_path / "p"), "--set", "simulation.replications=0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "simulation.replications" in err[0] and "must be >= 1" in err[0]
    assert not (tmp_path / "p").exists()


def test_each_purchase_carries_its_own_offers_break_even(small_run: PlanRun) -> None:
    from optimizer.recommend import break_even_table_inputs

    cap = small_run.capacity
    be = break_even_table_inputs(cap.inputs)
    pur = cap.purchases()
    assert len(pur)
    for r in pur.itertuples():
        if r.kind == "reserved":
            od = small_run.scenario.catalog[r.family].on_demand_usd_per_gpu_hour
            assert r.break_even_utilization == pytest.approx(r.usd_per_gpu_hour / od)
        else:
            want = be[(be["product"] == "committed") & (be["term_years"] == r.term_years)]
            assert r.break_even_utilization == pytest.approx(float(want["break_even_utilization"].iloc[0]))


def test_negotiation_pack_describes_the_plans_own_recommendation(small_run: PlanRun) -> None:
    from gpuplan.negotiate import negotiation_pack

    sc = small_run.scenario
    from_run = negotiation_pack(sc, capacity=small_run.capacity)
    assert from_run.plan == small_run.recommended
    # from the same paths, the pack re-optimises with the same spot table and reaches the same purchases
    from_paths = negotiation_pack(sc, small_run.family_paths)
    a = small_run.recommended.to_frame()["quantity"].to_numpy()
    b = from_paths.plan.to_frame()["quantity"].to_numpy()
    assert b == pytest.approx(a, rel=1e-6)


def test_light_run_skips_the_report_analyses_but_keeps_the_key_figures(small_run: PlanRun) -> None:
    light = run_plan(small_run.scenario, mapper=SerialMapper(False), progress=False, replications=REPS,
                     analyses=False)
    assert light.cost_curve is None and light.frontier is None and light.pareto.empty
    assert "perfect-hindsight" not in light.capacity.baselines
    assert small_run.cost_curve is not None and len(small_run.pareto)
    assert light.key_figures() == pytest.approx(small_run.key_figures())


def test_a_start_that_is_not_the_hour_after_the_history_fails_before_any_work() -> None:
    from scenarios.errors import InputError

    sc = load_scenario("small", overrides={"start": "2026-01-01T00:00:00Z"})
    with pytest.raises(InputError, match="2020-05-31 16:00 UTC"):
        run_plan(sc, mapper=SerialMapper(False), progress=False)


def test_key_figures_of_the_small_scenario_match_the_golden_run(small_run: PlanRun) -> None:
    """End-to-end regression: any change to a figure must be deliberate (regenerate the JSON and say why)."""
    golden = json.loads((Path(__file__).parent / "golden" / "small_key_figures.json").read_text())
    now = small_run.key_figures()
    assert sorted(now) == sorted(golden)
    for key, want in golden.items():
        if isinstance(want, float):
            assert now[key] == pytest.approx(want, rel=1e-4, abs=1e-6), key
        else:
            assert now[key] == want, key


def test_optimize_capacity_cli_recommends_what_the_plan_pipeline_recommends(
        small_run: PlanRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # same scenario, seed, forecast and hourly spot prices: the same purchases (issue 9)
    rc = main(["-q", "optimize", "capacity", "small", "--out", str(tmp_path / "o"), "--no-hindsight",
               "--workers", "1"])
    assert rc == 0
    cli = json.loads((tmp_path / "o" / "plan.json").read_text())
    want = small_run.recommended
    assert [(r["family"], r["term_years"], r["gpus"]) for r in cli["reserved"]] == [
        (p.family, p.term_years, p.gpus) for p in want.reserved]
    assert [c["usd_per_hour"] for c in cli["committed"]] == pytest.approx([c.usd_per_hour for c in want.committed])
    out = capsys.readouterr().out
    assert "binding constraints:" in out and "LP relaxation bound" in out
