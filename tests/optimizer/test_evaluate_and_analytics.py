"""Vectorised plan costing, the sorted-demand pair evaluator, and the negotiation analytics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.analytics import (
    break_even_table,
    committed_level,
    cost_curve,
    curve_break_even,
    cvar,
    min_three_year_discount,
    newsvendor,
    offer_curve,
    overcommit_cost,
    sensitivity_table,
)
from optimizer.capacity import CapacitySettings
from optimizer.evaluate import PairEvaluator, evaluate, evaluate_plan
from optimizer.inputs import capacity_inputs
from optimizer.recommend import optimize_capacity
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase, all_on_demand

from .conftest import TWO_FAMILIES, make_paths, make_scenario, seasonal_demand


def test_a_hand_computed_hour_by_hour_bill() -> None:
    # od 2, reserved 3 GPUs at 1.0, commitment 1.4 USD/h at 30 % off (covers 1 GPU), spot none
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.3},
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.0}]}})
    paths = make_paths({"a100": np.array([[0.0, 2.0, 4.0, 6.0]])})
    plan = CapacityPlan("p", reserved=(ReservedPurchase("a100", 1, "no_upfront", 3.0, 1.0),),
                        committed=(CommitmentPurchase(1, 1.4),))
    row = evaluate_plan(plan, paths, sc).iloc[0]
    assert row["reserved_usd"] == pytest.approx(3 * 1.0 * 4)
    assert row["committed_usd"] == pytest.approx(1.4 * 4)
    # hour demand 4: 3 reserved + 1 committed; hour demand 6: 3 + 1 + 2 on demand
    assert row["on_demand_usd"] == pytest.approx(2 * 2.0)
    assert row["committed_gpu_hours"] == pytest.approx(2.0)
    assert row["idle_commitment_usd"] == pytest.approx((3 + 1 + 0 + 0) * 1.0 + 2 * 1.4)
    assert row["total_usd"] == pytest.approx(12 + 5.6 + 4)


def test_plan_purchases_start_and_expire_on_their_hours() -> None:
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0,
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.0}]}})
    paths = make_paths({"a100": np.full((1, 8760 + 10), 5.0)})
    late = CapacityPlan("p", reserved=(ReservedPurchase("a100", 1, "no_upfront", 5.0, 1.0, start_hour=100),))
    ev = evaluate(late, capacity_inputs(paths, sc))
    # active from hour 100 for 8,760 h but the horizon ends at 8,770
    assert ev.reserved_usd[0] == pytest.approx(5 * (8770 - 100))
    assert ev.on_demand_gh[0, 0] == pytest.approx(5 * 100)


def test_pair_evaluator_matches_the_full_dispatch_with_spot() -> None:
    rng = np.random.default_rng(3)
    fam = {"a100": {**TWO_FAMILIES["a100"], "committed_discount": {"1y": 0.28}}}
    sc = make_scenario(fam)
    inp = capacity_inputs(make_paths({"a100": seasonal_demand(rng, 30, 4, 500)}), sc)
    pe = PairEvaluator(inp.demand[0], float(inp.on_demand[0]), float(inp.spot_cost[0, 0]),
                       float(inp.spot_useful_cap[0, 0]), inp.preemptible_share)
    for r, m in [(0.0, 0.0), (12.0, 0.0), (5.0, 20.0), (40.0, 60.0)]:
        plan = CapacityPlan("p", reserved=(ReservedPurchase("a100", 1, "no_upfront", r, 1.74),),
                            committed=(CommitmentPurchase(1, m),))
        got = pe.cost(r, 1.74, m, float(inp.commit_rate[0, 0]))
        assert np.allclose(got, evaluate(plan, inp).total_usd, rtol=1e-10)


def test_cvar_is_the_tail_mean_and_handles_fractional_tails() -> None:
    c = np.arange(1.0, 11.0)
    assert cvar(c, 0.8) == pytest.approx(9.5)
    assert cvar(c, 0.75) == pytest.approx((0.5 * 8 + 9 + 10) / 2.5)
    assert cvar(c, 0.0 + 1e-12) == pytest.approx(c.mean())


def test_break_even_utilization_is_rate_over_on_demand() -> None:
    sc = make_scenario(TWO_FAMILIES)
    be = break_even_table(sc).set_index(["family", "product", "term_years", "payment"])
    assert be.loc[("a100", "reserved", 1, "no_upfront"), "break_even_utilization"] == pytest.approx(1.74 / 2.74)
    assert be.loc[("a100", "committed", 3, "no_upfront"), "break_even_utilization"] == pytest.approx(0.54)
    assert be.loc[("a100", "reserved", 3, "no_upfront"), "break_even_vs_spot"] == pytest.approx(1.235 / 1.15)


def _one_family(demand: np.ndarray, d1: float = 0.3, d3: float = 0.45):
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": d1, "3y": d3}}})
    return capacity_inputs(make_paths({"a100": demand}), sc)


def test_three_year_break_even_discount_equals_the_one_year_discount_for_flat_demand() -> None:
    inp = _one_family(np.full((2, 100), 30.0))
    row = min_three_year_discount(inp).iloc[0]
    assert row["min_three_year_discount"] == pytest.approx(0.3, abs=1e-4)
    assert bool(row["three_year_beats_renewal"])


def test_three_year_term_needs_more_discount_when_demand_may_shrink() -> None:
    rng = np.random.default_rng(0)
    inp = _one_family(rng.gamma(5, 6, size=(4, 500)))
    flat = min_three_year_discount(inp, growth_per_year=0.0).iloc[0]
    shrink = min_three_year_discount(inp, growth_per_year=-0.3).iloc[0]
    assert shrink["min_three_year_discount"] > flat["min_three_year_discount"] + 0.02
    # at the break-even discount the 3-year cost equals the renewal cost
    d = shrink["min_three_year_discount"]
    years = [inp.demand[0].ravel() * 0.7 ** y for y in range(3)]
    three = newsvendor(np.concatenate(years), 2.0, d)[1] / inp.n_paths
    assert three == pytest.approx(shrink["renewal_cost_usd"], rel=1e-3)


def test_renewal_cost_is_the_expected_cost_of_one_path_not_the_sum_over_paths() -> None:
    # flat 30 GPUs on 2 paths x 100 h, od 2, 1-year at 30 % off: each year costs 100 h x 30 x 2 x 0.7 on each path.
    # Before the fix the table summed the 2 paths: 25,200 instead of 12,600.
    inp = _one_family(np.full((2, 100), 30.0))
    row = min_three_year_discount(inp).iloc[0]
    assert row["renewal_cost_usd"] == pytest.approx(3 * 100 * 30 * 2.0 * 0.7, rel=1e-12)
    assert row["three_year_cost_usd_at_offer"] == pytest.approx(3 * 100 * 30 * 2.0 * 0.55, rel=1e-12)


def _reserved_family(demand: np.ndarray, change: float) -> tuple:
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0, "on_demand_price_change_per_year": change,
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.4},
                                              {"term_years": 3, "usd_per_gpu_hour": 1.0}]}})
    return sc, capacity_inputs(make_paths({"a100": demand}), sc)


@pytest.mark.parametrize(("c", "r"), [(-0.15, 0.0), (-0.15, 0.08), (-0.35, 0.05), (0.1, 0.0)])
def test_min_three_year_discount_matches_the_closed_form_under_exponential_price_change(c: float, r: float) -> None:
    """Flat, fully committed demand, on-demand od (1 + c)^t, present values at r: a 3-year reservation at
    od (1 - d3) for three years against 1-year reservations bought each year at od (1 + c)^y (1 - d1).
    PV(3-year) = PV(renewals) gives 1 - d3 = (1 - d1) sum_y (1+c)^y (1+r)^-y / sum_y (1+r)^-y."""
    _, inp = _reserved_family(np.full((2, 200), 30.0), c)
    row = min_three_year_discount(inp, price_change_per_year={"a100": c}, discount_rate_per_year=r).iloc[0]
    v = [(1 + r) ** -y for y in range(3)]
    closed = 1 - 0.7 * sum((1 + c) ** y * v[y] for y in range(3)) / sum(v)
    assert row["min_three_year_discount"] == pytest.approx(closed, abs=1e-6)
    # the renewal bill by hand: hour h of year y sits at y + h/200 years
    hand = sum(30 * 2.0 * (1 + c) ** y * 0.7 * (1 + r) ** -(y + h / 200) for y in range(3) for h in range(200))
    assert row["renewal_cost_usd"] == pytest.approx(hand, rel=1e-9)


def test_savings_plan_discount_follows_on_demand_so_the_price_change_cancels() -> None:
    # both the 3-year and the renewed 1-year savings plans pay (1 - d) of whatever on-demand becomes
    _, inp = _reserved_family(np.full((2, 200), 30.0), -0.2)
    row = min_three_year_discount(inp, price_change_per_year={"a100": -0.2}, instrument="savings_plan").iloc[0]
    assert row["min_three_year_discount"] == pytest.approx(0.3, abs=1e-6)
    hand = sum(30 * 2.0 * 0.8 ** (y + h / 200) * 0.7 for y in range(3) for h in range(200))
    assert row["renewal_cost_usd"] == pytest.approx(hand, rel=1e-9)


@pytest.mark.parametrize("d", [0.0, 0.2, 0.5, 0.9])
def test_committed_level_with_moving_prices_matches_brute_force(d: float) -> None:
    rng = np.random.default_rng(7)
    demand = rng.gamma(3, 5, size=300).round(1)
    p = 2.0 * 0.8 ** (np.arange(300) / 300)
    a = 1.0 * (1 - d) * np.ones(300)
    level, cost = committed_level(demand, a, p)
    grid = np.unique(np.concatenate([[0.0], demand]))
    brute = [float((a * x).sum() + (p * np.maximum(demand - x, 0)).sum()) for x in grid]
    assert cost == pytest.approx(min(brute), rel=1e-12)
    assert level == grid[int(np.argmin(brute))]


def test_sensitivity_growth_is_whole_demand_growth_not_growth_on_top_of_the_forecast() -> None:
    """The forecast already grows 15 %/year: the 15 % row is the forecast, the 0 % row is flat demand."""
    inp = _one_family(np.full((1, 100), 10.0))
    plan = all_on_demand()
    tab = sensitivity_table(plan, inp, discounts=(0.3,), growths=(0.0, 0.15), offer="committed_1y",
                            planned_growth=0.15).set_index("demand_growth_per_year")
    assert tab.loc[0.15, "all_on_demand_usd"] == pytest.approx(100 * 10 * 2.0, rel=1e-12)
    flat = sum(10 * 2.0 / 1.15 ** (h / 8760) for h in range(100))
    assert tab.loc[0.0, "all_on_demand_usd"] == pytest.approx(flat, rel=1e-12)


def test_overcommitment_cost_grows_with_the_demand_drop() -> None:
    rng = np.random.default_rng(1)
    inp = _one_family(seasonal_demand(rng, 40, 3, 200))
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.3, "3y": 0.45}}})
    res = optimize_capacity(inp, sc, settings=CapacitySettings(max_bins=None), hindsight=False)
    oc = overcommit_cost(res.plan, inp, settings=CapacitySettings(max_bins=None))
    assert oc["demand_drop"].tolist() == [0.1, 0.25, 0.5]
    assert np.all(np.diff(oc["idle_commitment_usd"]) > 0)
    assert np.all(np.diff(oc["regret_usd"]) > 0) and (oc["regret_usd"] >= -1e-6).all()
    assert np.all(np.diff(oc["commitment_utilization"]) < 0)


def test_sensitivity_savings_rise_with_discount_and_growth() -> None:
    rng = np.random.default_rng(2)
    inp = _one_family(seasonal_demand(rng, 40, 3, 400))
    plan = CapacityPlan("p", committed=(CommitmentPurchase(3, 40.0),))
    tab = sensitivity_table(plan, inp, discounts=(0.3, 0.45, 0.6), growths=(-0.5, 0.0, 0.5))
    grid = tab.pivot(index="discount", columns="demand_growth_per_year", values="savings_usd")
    assert (np.diff(grid.to_numpy(), axis=0) > 0).all()
    util = tab.pivot(index="discount", columns="demand_growth_per_year", values="commitment_utilization")
    assert (np.diff(util.to_numpy(), axis=1) >= -1e-12).all()


def test_cost_curve_marks_the_recommendation_at_its_minimum() -> None:
    rng = np.random.default_rng(4)
    sc = make_scenario(TWO_FAMILIES)
    paths = make_paths({"a100": seasonal_demand(rng, 40, 2, 168), "h100": seasonal_demand(rng, 20, 2, 168)})
    res = optimize_capacity(paths, sc, settings=CapacitySettings(max_bins=None, use_policies=False),
                            hindsight=False)
    curve = cost_curve(res.plan, res.inputs)
    rec = curve[curve["is_recommendation"]]
    assert len(rec) == 1
    assert rec["expected_cost_usd"].iloc[0] <= curve["expected_cost_usd"].min() + 1e-6
    zero = curve[curve["factor"] == 0.0]["expected_cost_usd"].iloc[0]
    assert zero == pytest.approx(float(evaluate(all_on_demand(), res.inputs).total_usd.mean()))
    be = curve_break_even(curve)
    od = float(curve.loc[curve["factor"] == 0.0, "expected_cost_usd"].iloc[0])
    if np.isfinite(be):  # at the break-even level, committing more than that costs what buying nothing costs
        scaled = curve[curve["commitment_gpu_equivalents"] >= be]["expected_cost_usd"]
        assert (scaled >= od - 1e-6).all() and be > rec["commitment_gpu_equivalents"].iloc[0]
    key = f"reserved_a100_{res.plan.reserved[0].term_years}y_{res.plan.reserved[0].payment}"
    oc = offer_curve(res.plan, res.inputs, key, levels=[10.0 * i for i in range(9)])
    assert oc.loc[oc["is_recommendation"], "expected_cost_usd"].iloc[0] <= oc["expected_cost_usd"].min() + 1e-6


def test_evaluate_plan_accepts_a_frame_or_inputs() -> None:
    sc = make_scenario()
    paths = make_paths({"a100": np.ones((2, 5))})
    a = evaluate_plan(all_on_demand(), paths, sc)
    b = evaluate_plan(all_on_demand(), capacity_inputs(paths, sc))
    pd.testing.assert_frame_equal(a, b)
    assert a["total_usd"].tolist() == pytest.approx([10.0, 10.0])


def test_each_instrument_is_judged_on_its_own_offers() -> None:
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.2, "3y": 0.4},
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.4},
                                              {"term_years": 3, "usd_per_gpu_hour": 1.0}]}})
    inp = capacity_inputs(make_paths({"a100": np.full((1, 50), 5.0)}), sc)
    res = min_three_year_discount(inp, instrument="reservation").iloc[0]
    sp = min_three_year_discount(inp, instrument="savings_plan").iloc[0]
    assert (res["one_year_discount"], res["offered_three_year_discount"]) == pytest.approx((0.3, 0.5))
    assert (sp["one_year_discount"], sp["offered_three_year_discount"]) == pytest.approx((0.2, 0.4))
    # flat demand, flat prices: the 3-year term needs exactly the 1-year discount
    assert sp["min_three_year_discount"] == pytest.approx(0.2, abs=1e-6)
