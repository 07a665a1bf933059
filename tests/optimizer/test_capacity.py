"""Capacity model: newsvendor closed form, reduced vs full hourly model, LP vs closed-form dispatch, bounds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.analytics import newsvendor
from optimizer.capacity import CapacitySettings, build_capacity, extract_plan
from optimizer.evaluate import evaluate
from optimizer.inputs import capacity_inputs
from optimizer.recommend import laddered_plan, optimize_capacity
from optimizer.solvers import solve
from scenarios.errors import InfeasibleError
from scenarios.plan import all_on_demand

from .conftest import TWO_FAMILIES, make_paths, make_scenario, seasonal_demand

FULL = CapacitySettings(max_bins=None, use_policies=False)


def _solve(inputs, settings=FULL):
    model = build_capacity(inputs, settings)
    res = solve(model.problem)
    assert res.status == "optimal"
    return model, res, extract_plan(model)


def _brute_force_cost(demand: np.ndarray, od: float, d: float) -> tuple[float, float]:
    """Cheapest integer commitment level by trying every level 0..max demand."""
    levels = np.arange(0, int(demand.max()) + 1, dtype=float)
    costs = [od * (1 - d) * x * demand.size + od * np.maximum(demand - x, 0).sum() for x in levels]
    i = int(np.argmin(costs))
    return float(levels[i]), float(costs[i])


@pytest.mark.parametrize("d", [0.2, 0.45, 0.7])
def test_newsvendor_commitment_is_inverted_cdf_quantile_and_matches_brute_force(d: float) -> None:
    rng = np.random.default_rng(int(d * 100))
    demand = rng.integers(0, 41, size=101).astype(float)  # d x 101 is never a whole number here
    od = 2.0
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": od, "committed_discount": {"1y": d}}})
    inputs = capacity_inputs(make_paths({"a100": demand[None, :]}), sc)
    _, _, plan = _solve(inputs)
    committed_gpus = sum(c.usd_per_hour for c in plan.committed) / (od * (1 - d))
    k = math.ceil(d * demand.size)  # the ceil(d n)-th smallest hour
    assert committed_gpus == pytest.approx(np.sort(demand)[k - 1], abs=1e-6)
    assert committed_gpus == pytest.approx(np.quantile(demand, d, method="inverted_cdf"), abs=1e-6)
    level, cost = _brute_force_cost(demand, od, d)
    assert committed_gpus == pytest.approx(level, abs=1e-6)
    assert float(evaluate(plan, inputs).total_usd[0]) == pytest.approx(cost, rel=1e-9)
    assert newsvendor(demand, od, d) == pytest.approx((level, cost), rel=1e-9)


def test_newsvendor_with_a_reserved_offer_reserves_the_critical_ratio_quantile() -> None:
    rng = np.random.default_rng(7)
    demand = rng.gamma(4.0, 10.0, size=333)
    od, rate = 3.0, 1.8  # critical ratio 1 - 1.8/3 = 0.4
    sc = make_scenario({"h100": {"on_demand_usd_per_gpu_hour": od,
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": rate}]}})
    inputs = capacity_inputs(make_paths({"h100": demand[None, :]}), sc)
    _, res, plan = _solve(inputs)
    assert plan.reserved[0].gpus == pytest.approx(np.quantile(demand, 0.4, method="inverted_cdf"), abs=1e-6)
    assert res.objective * demand.size == pytest.approx(newsvendor(demand, od, 0.4)[1], rel=1e-9)


def _two_family_inputs(seed: int = 3, s_n: int = 3, h_n: int = 336, spot: pd.DataFrame | None = None):
    rng = np.random.default_rng(seed)
    sc = make_scenario(TWO_FAMILIES)
    paths = make_paths({"a100": seasonal_demand(rng, 40, s_n, h_n), "h100": seasonal_demand(rng, 20, s_n, h_n)})
    return capacity_inputs(paths, sc, spot=spot)


def test_lp_second_stage_equals_closed_form_dispatch_on_every_hour() -> None:
    # one commitment term: the vectorised dispatch is the LP's optimal second stage, so costs agree exactly
    rng = np.random.default_rng(5)
    fams = {k: {**v, "committed_discount": {"3y": v["committed_discount"]["3y"]}} for k, v in TWO_FAMILIES.items()}
    sc = make_scenario(fams)
    paths = make_paths({"a100": seasonal_demand(rng, 40, 2, 200), "h100": seasonal_demand(rng, 20, 2, 200)})
    inputs = capacity_inputs(paths, sc)
    _, res, plan = _solve(inputs)
    ev = evaluate(plan, inputs)
    assert float(ev.total_usd.mean()) == pytest.approx(res.objective * inputs.n_hours, rel=1e-7)
    assert ev.committed_used_usd.sum() > 0  # the case exercises the shared commitment
    assert float(ev.demand_gh.sum()) == pytest.approx(
        float((ev.reserved_gh + ev.committed_gh + ev.spot_gh + ev.on_demand_gh + ev.unmet_gh).sum()), rel=1e-9)


def test_closed_form_dispatch_matches_the_lp_when_spot_prices_vary_by_hour() -> None:
    rng = np.random.default_rng(12)
    fams = {k: {**v, "committed_discount": {"3y": v["committed_discount"]["3y"]}} for k, v in TWO_FAMILIES.items()}
    fams["h100"] = {**fams["h100"], "spot": {"usd_per_gpu_hour": 3.0, "available_gpus": 8}}
    sc = make_scenario(fams)
    h_n = 120
    ts = pd.date_range("2026-01-01", periods=h_n, freq="h", tz="UTC")
    spot = pd.concat([pd.DataFrame({"family": f, "timestamp": ts, "usd_per_gpu_hour": p * np.exp(rng.normal(0, 0.6, h_n)),
                                    "available_gpus": rng.integers(0, 15, h_n).astype(float)})
                      for f, p in (("a100", 1.15), ("h100", 3.0))], ignore_index=True)
    paths = make_paths({"a100": seasonal_demand(rng, 40, 2, h_n), "h100": seasonal_demand(rng, 20, 2, h_n)})
    inputs = capacity_inputs(paths, sc, spot=spot)
    _, res, plan = _solve(inputs)
    ev = evaluate(plan, inputs)
    assert ev.spot_gh.sum() > 0 and ev.committed_used_usd.sum() > 0
    assert float(ev.total_usd.mean()) == pytest.approx(res.objective * h_n, rel=1e-7)


def test_dispatch_with_two_terms_never_costs_less_than_the_lp() -> None:
    inputs = _two_family_inputs(seed=11, s_n=2, h_n=150)
    _, res, plan = _solve(inputs)
    assert float(evaluate(plan, inputs).total_usd.mean()) >= res.objective * inputs.n_hours * (1 - 1e-9)


@pytest.mark.parametrize("hourly_spot", [False, True])
def test_reduced_model_cost_within_half_percent_of_full_hourly_model(hourly_spot: bool) -> None:
    spot = None
    if hourly_spot:  # spot price and availability vary by hour: the reduction bins on joint values
        rng = np.random.default_rng(9)
        ts = pd.date_range("2026-01-01", periods=336, freq="h", tz="UTC")
        spot = pd.DataFrame({"family": "a100", "timestamp": ts,
                             "usd_per_gpu_hour": 1.15 * np.exp(rng.normal(0, 0.3, ts.size)),
                             "available_gpus": rng.integers(0, 20, ts.size).astype(float)})
    inputs = _two_family_inputs(spot=spot)
    _, full_res, _ = _solve(inputs)
    full = full_res.objective * inputs.n_hours
    reduced = CapacitySettings(max_bins=150, use_policies=False)  # 1,008 path-hours -> 150 representative hours
    model, red_res, plan = _solve(inputs, reduced)
    assert model.n_bins <= 150
    assert abs(red_res.objective * inputs.n_hours / full - 1) < 0.005
    evaluated = float(evaluate(plan, inputs).total_usd.mean())
    assert evaluated >= full * (1 - 1e-9)  # the full model is the optimum
    assert evaluated / full - 1 < 0.005


def test_variables_are_created_only_where_valid_and_named_by_keys() -> None:
    inputs = _two_family_inputs(s_n=1, h_n=24)
    model = build_capacity(inputs, CapacitySettings(max_bins=None))
    names = {v.name for v in model.problem.variables()}
    assert "reserve_a100_3y_no_upfront_p0" in names and "commit_3y_p0" in names
    assert "reserve_h100_1y_all_upfront_p0" in names
    assert not any(n.startswith("spot_h100") for n in names)  # h100 has no spot offer
    assert any(n.startswith("spot_a100") for n in names)
    assert build_capacity(inputs, CapacitySettings(max_bins=None)).problem.variables()[5].name == \
        model.problem.variables()[5].name


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), s_n=st.integers(1, 3), h_n=st.integers(12, 60),
       scale=st.floats(1.0, 80.0), spread=st.floats(0.0, 1.0))
def test_recommendation_between_hindsight_and_all_on_demand(seed: int, s_n: int, h_n: int, scale: float,
                                                             spread: float) -> None:
    rng = np.random.default_rng(seed)
    dem = {f: scale * (1 + spread * rng.standard_normal((s_n, h_n))).clip(0) for f in ("a100", "h100")}
    sc = make_scenario(TWO_FAMILIES)
    inputs = capacity_inputs(make_paths(dem), sc)
    res = optimize_capacity(inputs, sc, settings=CapacitySettings(max_bins=None), hindsight=False)
    rec = res.evaluation.total_usd
    od = evaluate(all_on_demand(), inputs).total_usd
    assert rec.mean() <= od.mean() * (1 + 1e-9)
    from optimizer.baselines import perfect_hindsight

    hs = perfect_hindsight(inputs, max_bins=None)
    # the exact hindsight LP per path is a lower bound for any plan on that path
    assert (hs["hindsight_model_usd"].to_numpy() <= rec * (1 + 1e-7) + 1e-6).all()
    assert (hs["hindsight_usd"].to_numpy() <= rec + 1e-6).all()
    assert (res.evaluation.total_usd >= 0).all()


def test_budget_below_cheapest_cost_is_explained_with_the_cheapest_cost() -> None:
    inputs = _two_family_inputs(s_n=2, h_n=96)
    base = optimize_capacity(inputs, make_scenario(TWO_FAMILIES), settings=CapacitySettings(max_bins=None),
                             hindsight=False)
    yearly = base.model_expected_usd * 8760 / inputs.n_hours
    sc = make_scenario(TWO_FAMILIES, policies={"budget_usd_per_year": yearly * 0.9})
    tight = inputs.with_policies(sc.policies)
    with pytest.raises(InfeasibleError) as err:
        optimize_capacity(tight, sc, settings=CapacitySettings(max_bins=None), hindsight=False)
    msg = str(err.value)
    assert "budget_usd_per_year" in msg and "below the cheapest feasible expected cost" in msg
    cheapest = float(msg.split("expected cost ")[1].split(" USD")[0].replace(",", ""))
    assert cheapest == pytest.approx(yearly, rel=1e-4)


def test_coverage_target_above_what_the_caps_allow_is_explained() -> None:
    inputs = _two_family_inputs(s_n=2, h_n=96)
    sc = make_scenario(TWO_FAMILIES, policies={"coverage_target": 0.9, "max_commitment_share": 0.5})
    with pytest.raises(InfeasibleError, match=r"coverage_target 90% is above the highest coverage"):
        optimize_capacity(inputs.with_policies(sc.policies), sc, settings=CapacitySettings(max_bins=None),
                          hindsight=False)


def test_policies_hold_in_the_recommendation() -> None:
    inputs = _two_family_inputs(s_n=2, h_n=120)
    pol = {"coverage_target": 0.6, "max_commitment_share": 0.8, "risk": {"max_expected_idle_share": 0.05}}
    sc = make_scenario(TWO_FAMILIES, policies=pol)
    res = optimize_capacity(inputs.with_policies(sc.policies), sc, settings=CapacitySettings(max_bins=None),
                            hindsight=False)
    s = res.summary()
    # GPU-equivalents from the catalog, not from the code: reserved GPUs plus committed USD/h at the
    # demand-weighted commitment rate (a100 2.74 x (1 - d), h100 6.88 x (1 - d); d = 28/25 % 1y, 46/45 % 3y)
    m_a, m_h = (float(inputs.demand[inputs.families.index(f)].mean()) for f in ("a100", "h100"))
    rate = {1: (m_a * 2.74 * 0.72 + m_h * 6.88 * 0.75) / (m_a + m_h),
            3: (m_a * 2.74 * 0.54 + m_h * 6.88 * 0.55) / (m_a + m_h)}
    plan = res.plan
    gpu_eq = sum(p.gpus for p in plan.reserved) + sum(c.usd_per_hour / rate[c.term_years] for c in plan.committed)
    assert gpu_eq == pytest.approx(s["commitment_gpu_equivalents"], rel=1e-9)
    assert gpu_eq <= 0.8 * (m_a + m_h) + 1e-6
    assert s["coverage_share"] >= 0.6 - 1e-6
    assert s["commitment_utilization"] >= 0.95 - 1e-6


def test_quota_shortfall_is_shown_as_unmet_demand_when_allowed_and_explained_otherwise() -> None:
    rng = np.random.default_rng(2)
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "on_demand_quota_gpus": 10,
                    "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.5}]}}
    paths = make_paths({"a100": 30 + 5 * rng.standard_normal((1, 48))})
    sc = make_scenario(fam, policies={"max_commitment_share": 0.1})
    with pytest.raises(InfeasibleError, match=r"a100 needs up to .* GPUs beyond its on-demand quota of 10 GPUs"):
        optimize_capacity(paths, sc, settings=CapacitySettings(max_bins=None), hindsight=False)
    sc2 = make_scenario(fam, policies={"max_commitment_share": 0.1, "allow_unmet_demand": True,
                                       "unmet_penalty_usd_per_gpu_hour": 50.0})
    res = optimize_capacity(paths, sc2, settings=CapacitySettings(max_bins=None), hindsight=False)
    s = res.summary()
    assert s["unmet_gpu_hours"] > 0
    demand = float(res.inputs.demand.sum())
    served = demand - s["unmet_gpu_hours"]
    assert served <= (10 + 0.1 * res.inputs.demand.mean()) * 48 * (1 + 1e-6)


def test_cvar_weight_trades_expected_cost_for_tail_risk() -> None:
    from optimizer.recommend import efficient_frontier

    rng = np.random.default_rng(4)
    level = rng.uniform(10, 60, size=(8, 1))  # paths differ a lot in level: commitment is risky
    dem = level * (1 + 0.2 * rng.standard_normal((8, 48))).clip(0)
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.4}}})
    inputs = capacity_inputs(make_paths({"a100": dem}), sc)
    fr = efficient_frontier(inputs, weights=(0.0, 1.0, 10.0), alpha=0.75,
                            settings=CapacitySettings(max_bins=None, use_policies=False))
    assert (fr["status"] == "optimal").all()
    assert np.all(np.diff(fr["cvar_usd"]) <= 1e-6)
    assert np.all(np.diff(fr["expected_cost_usd"]) >= -1e-6)
    assert fr["cvar_usd"].iloc[-1] < fr["cvar_usd"].iloc[0]


def test_ladder_follows_a_growing_forecast_and_costs_no_more_than_one_purchase() -> None:
    rng = np.random.default_rng(8)
    h_n = 8760
    t = np.arange(h_n)
    dem = (20 + 40 * t / h_n + rng.normal(0, 2, size=(2, h_n))).clip(0)
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.2}]}}
    sc = make_scenario(fam)
    inputs = capacity_inputs(make_paths({"a100": dem}), sc)
    lad = laddered_plan(inputs, period_hours=2190, settings=CapacitySettings(max_bins=400, use_policies=False))
    cap = lad.capacity["reserved_gpus"].to_numpy()
    assert len(cap) == 4 and np.all(np.diff(cap) >= -1e-6) and cap[-1] > cap[0] + 20
    assert lad.tranches["start_hour"].nunique() >= 3
    expires = pd.DatetimeIndex(lad.tranches["expires"])
    assert expires.nunique() == lad.tranches["start_hour"].nunique()  # staggered expiries
    one = optimize_capacity(inputs, sc, settings=CapacitySettings(max_bins=400, use_policies=False), hindsight=False)
    assert lad.expected_cost_usd <= float(one.evaluation.total_usd.mean()) * (1 + 1e-3)


def test_trailing_history_rule_commits_to_the_last_thirty_days() -> None:
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.0}]}}
    sc = make_scenario(fam)
    ts = pd.date_range("2025-11-01", periods=61 * 24, freq="h", tz="UTC")
    gpus = np.where(ts < ts[-1] - pd.Timedelta(days=30), 100.0, 50.0)  # older history is irrelevant
    gpus[-5] = np.nan  # a missing hour is left out, not read as 0
    hist = pd.DataFrame({"series_id": "a100", "timestamp": ts, "gpus": gpus})
    paths = make_paths({"a100": np.full((2, 48), 40.0)})
    res = optimize_capacity(paths, sc, history=hist, settings=CapacitySettings(max_bins=None), hindsight=False)
    trailing = res.baseline_plans["trailing-30d"]
    assert trailing.reserved[0].gpus == pytest.approx(50.0)
    assert "1 hours with a missing value left out" in trailing.notes
    assert res.plan.reserved[0].gpus == pytest.approx(40.0)
    table = res.baseline_table().set_index("plan")
    assert table.loc["trailing-30d", "expected_cost_usd"] == pytest.approx(2 * 48 * 50 * 1.0 / 2)


def test_summary_figures_of_a_hand_worked_two_path_case() -> None:
    """Two equally likely paths, flat at 20 and 40 GPUs for 24 h; on demand 2.0, 1-year reserved 1.2 USD/GPU-h.

    Expected cost per hour at x reserved GPUs: 1.2 x + 2 E[(D - x)+] falls (60 - 0.8 x) up to x = 20 and
    rises (40 + 0.2 x) after, so 20 GPUs.  Path costs: 20 x 1.2 x 24 = 576 and 576 + 20 x 2 x 24 = 1,536
    (mean 1,056); all on demand 960 and 1,920 (mean 1,440), saving 384 USD = 26.67 %.  Reserved GPUs serve
    480 of the mean 720 GPU-hours (coverage 2/3) and never idle.  Hindsight reserves each path's own level:
    576 and 1,152 (mean 864), so the regret is 1,056 / 864 - 1 = 22.2 %.
    """
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.2}]}}
    sc = make_scenario(fam)
    demand = np.vstack([np.full(24, 20.0), np.full(24, 40.0)])
    res = optimize_capacity(make_paths({"a100": demand}), sc, settings=CapacitySettings(max_bins=None))
    s = res.summary()
    assert res.plan.reserved[0].gpus == pytest.approx(20.0)
    assert res.evaluation.total_usd.tolist() == pytest.approx([576.0, 1536.0])
    want = {"expected_cost_usd": 1056.0, "all_on_demand_usd": 1440.0, "savings_usd": 384.0,
            "savings_pct": 384.0 / 1440.0, "coverage_share": 2.0 / 3.0, "commitment_utilization": 1.0,
            "idle_commitment_usd": 0.0, "commitment_usd_per_hour": 24.0, "commitment_gpu_equivalents": 20.0,
            "perfect_hindsight_usd": 864.0, "regret_vs_hindsight_pct": 100.0 * (1056.0 / 864.0 - 1.0)}
    for key, value in want.items():
        assert s[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_summary_figures_add_up() -> None:
    inputs = _two_family_inputs(s_n=3, h_n=168)
    res = optimize_capacity(inputs, make_scenario(TWO_FAMILIES), settings=CapacitySettings(max_bins=200))
    s = res.summary()
    assert s["perfect_hindsight_usd"] <= s["expected_cost_usd"] + 1e-6
    assert abs(s["reduction_error_pct"]) < 0.5
    pc = res.path_costs()
    parts = pc[["reserved_usd", "committed_usd", "spot_usd", "on_demand_usd", "unmet_penalty_usd"]].sum(axis=1)
    assert np.allclose(parts, pc["total_usd"])
    pur = res.purchases()
    assert (pur["expected_utilization"] <= 1 + 1e-9).all()
    assert (pur["break_even_utilization"] < 1).all()


def test_reservations_in_whole_instances_are_the_best_multiple() -> None:
    rng = np.random.default_rng(21)
    demand = rng.integers(0, 60, size=(1, 97)).astype(float)
    od, rate = 2.0, 1.0
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": od,
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": rate}]}})
    inputs = capacity_inputs(make_paths({"a100": demand}), sc)
    _, res, plan = _solve(inputs, CapacitySettings(max_bins=None, use_policies=False, reserved_step_gpus=8.0))
    gpus = plan.reserved[0].gpus
    assert gpus % 8 == pytest.approx(0.0, abs=1e-6)
    costs = {k: rate * k * demand.size + od * np.maximum(demand - k, 0).sum() for k in range(0, 65, 8)}
    assert gpus == min(costs, key=lambda k: costs[k])
    assert res.objective * demand.size == pytest.approx(min(costs.values()), rel=1e-9)
