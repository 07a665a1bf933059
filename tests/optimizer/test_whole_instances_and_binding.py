"""Whole-instance reservations with the LP bound, binding constraints named, coverage per family (issue 9).

Every expected figure here is computed by hand or by brute force, not with the optimizer's own formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer.capacity import CapacitySettings
from optimizer.inputs import capacity_inputs
from optimizer.recommend import optimize_capacity

from .conftest import make_paths, make_scenario

EXACT = CapacitySettings(max_bins=None)


def _reserve_cost(demand: np.ndarray, od: float, rate: float, x: float) -> float:
    """Cost over the hours of ``x`` reserved GPUs plus on-demand for the rest [USD]."""
    return float(rate * x * demand.size + od * np.maximum(demand - x, 0.0).sum())


def test_reservations_come_in_whole_instances_of_the_catalog_with_the_lp_bound_and_gap() -> None:
    rng = np.random.default_rng(5)
    demand = rng.uniform(0.0, 70.0, size=131)
    od, rate = 2.744705, 1.740137
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": od, "instance_type": "p4d.24xlarge",
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": rate}]}},
                       solver={"mip_gap": 0.0})
    inputs = capacity_inputs(make_paths({"a100": demand[None, :]}), sc)
    assert inputs.instance_size(0) == 8.0  # p4d.24xlarge has 8 A100s in the bundled catalog
    res = optimize_capacity(inputs, sc, settings=EXACT, hindsight=False)
    # brute force over whole instances 0..9 (0..72 GPUs)
    costs = {8 * n: _reserve_cost(demand, od, rate, 8 * n) for n in range(10)}
    best = min(costs, key=lambda k: costs[k])
    (p,) = res.plan.reserved
    assert p.gpus == best
    pur = res.purchases()
    assert pur.loc[0, "instances"] == best / 8
    assert pur.loc[0, "gpus_per_instance"] == 8
    # LP bound: the cheapest fractional level is a demand value (piecewise-linear cost), found by brute force
    lp = min(_reserve_cost(demand, od, rate, x) for x in np.concatenate([[0.0], demand]))
    assert res.lp_bound_usd == pytest.approx(lp, rel=1e-9)
    assert res.objective_usd == pytest.approx(costs[best], rel=1e-9)
    assert res.integrality_gap_pct == pytest.approx(100 * (costs[best] - lp) / lp, rel=1e-6)
    s = res.summary()
    assert s["whole_instances"] is True and s["lp_bound_usd"] <= s["objective_usd"]
    assert any("LP relaxation" in n for n in res.notes)
    assert res.plan.meta["lp_bound_usd"] == pytest.approx(lp, rel=1e-9)


def test_explicit_gpus_per_instance_overrides_the_catalog_and_unknown_sizes_stay_fractional() -> None:
    demand = np.array([3.0, 5.0, 9.0, 11.0, 12.0, 12.0, 13.0])
    fam = {"on_demand_usd_per_gpu_hour": 3.0, "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.2}]}
    sc4 = make_scenario({"h100": {**fam, "instance_type": "p5.48xlarge", "gpus_per_instance": 4}})
    res4 = optimize_capacity(make_paths({"h100": demand[None, :]}), sc4, settings=EXACT, hindsight=False)
    costs = {4 * n: _reserve_cost(demand, 3.0, 1.2, 4 * n) for n in range(5)}
    assert res4.plan.reserved[0].gpus == min(costs, key=lambda k: costs[k])
    sc_unknown = make_scenario({"h100": fam})
    res = optimize_capacity(make_paths({"h100": demand[None, :]}), sc_unknown, settings=EXACT, hindsight=False)
    # critical ratio 1 - 1.2/3 = 0.6: the 0.6 inverted-cdf quantile of 7 hours is the 5th smallest = 12
    assert res.plan.reserved[0].gpus == pytest.approx(12.0)
    assert math.isnan(res.lp_bound_usd) and math.isnan(res.purchases().loc[0, "instances"])
    assert any("GPUs per instance unknown for h100" in n for n in res.notes)


def _bursty() -> np.ndarray:
    # 96 hours at 52 GPUs and 4 quiet hours at 7: mean 50.2, the 0.6 quantile is 52
    return np.array([52.0] * 96 + [7.0] * 4)


def test_commitment_above_mean_demand_is_allowed_by_default_newsvendor_quantile() -> None:
    demand = _bursty()
    od, d = 2.0, 0.6
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": od, "committed_discount": {"1y": d}}})
    assert sc.policies.max_commitment_share is None
    res = optimize_capacity(make_paths({"a100": demand[None, :]}), sc, settings=EXACT, hindsight=False)
    gpus = sum(c.usd_per_hour for c in res.plan.committed) / (od * (1 - d))
    # brute force over every integer commitment level
    cost = {x: od * (1 - d) * x * demand.size + od * np.maximum(demand - x, 0).sum() for x in range(0, 60)}
    assert gpus == pytest.approx(min(cost, key=lambda k: cost[k]), abs=1e-6) == 52
    assert res.binding == []
    assert res.summary()["binding_constraints"] == []


def test_a_commitment_cap_that_binds_is_named_and_values_above_one_are_accepted() -> None:
    demand = _bursty()
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.6}}}
    capped = make_scenario(fam, policies={"max_commitment_share": 1.0})
    res = optimize_capacity(make_paths({"a100": demand[None, :]}), capped, settings=EXACT, hindsight=False)
    gpus = sum(c.usd_per_hour for c in res.plan.committed) / 0.8
    assert gpus == pytest.approx(50.2, abs=1e-6)  # the cap: 1.0 x mean demand
    assert [b["constraint"] for b in res.binding] == ["max_commitment_share_p0"]
    assert res.binding[0]["policy"] == "policies.max_commitment_share"
    assert res.summary()["binding_constraints"] == ["max_commitment_share_p0"]
    assert res.plan.meta["binding_constraints"][0]["constraint"] == "max_commitment_share_p0"
    assert any(n.startswith("binding: policies.max_commitment_share") for n in res.notes)
    loose = make_scenario(fam, policies={"max_commitment_share": 1.5})
    res2 = optimize_capacity(make_paths({"a100": demand[None, :]}), loose, settings=EXACT, hindsight=False)
    assert sum(c.usd_per_hour for c in res2.plan.committed) / 0.8 == pytest.approx(52.0, abs=1e-6)
    assert res2.binding == []


def test_coverage_of_a_reservation_is_measured_against_its_own_family() -> None:
    # a100: 10 GPUs every hour, h100: 90 GPUs every hour; reserve a100 only (h100 has no offer)
    h = 24
    sc = make_scenario({
        "a100": {"on_demand_usd_per_gpu_hour": 2.0, "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.0}]},
        "h100": {"on_demand_usd_per_gpu_hour": 5.0},
    })
    paths = make_paths({"a100": np.full((1, h), 10.0), "h100": np.full((1, h), 90.0)})
    res = optimize_capacity(paths, sc, settings=EXACT, hindsight=False)
    pur = res.purchases()
    assert pur.loc[0, "quantity"] == pytest.approx(10.0)
    # 10 reserved GPUs serve all 10 a100 GPUs: 100 % of a100 demand (not 10 % of all demand)
    assert pur.loc[0, "coverage_share"] == pytest.approx(1.0)


def test_the_laddered_plan_becomes_the_recommendation_when_it_is_cheaper() -> None:
    from optimizer.recommend import recommend_capacity

    # 10 GPUs in the first quarter, 30 in the second; 1-year reservation at 1 USD vs 2 USD on demand
    demand = np.concatenate([np.full(2190, 10.0), np.full(2190, 30.0)])
    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0,
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.0}]}})
    res = recommend_capacity(make_paths({"a100": demand[None, :]}), sc, settings=EXACT, hindsight=False,
                             ladder_period_hours=2190)
    # by hand: buying x at the start costs x 4380 + 2 (max(10-x,0) + max(30-x,0)) 2190, cheapest 131,400 USD
    # (any x in [10, 30]); the ladder buys 10 now and 20 more at hour 2,190: 10 x 4380 + 20 x 2190 = 87,600 USD
    assert res.buy_at_start_usd == pytest.approx(131400.0)
    assert res.laddered and res.laddered_usd == pytest.approx(87600.0)
    assert sorted((p.start_hour, p.gpus) for p in res.plan.reserved) == [(0, 10.0), (2190, 20.0)]
    assert float(res.evaluation.total_usd.mean()) == pytest.approx(87600.0)
    flat = recommend_capacity(make_paths({"a100": np.full((1, 4380), 10.0)}), sc, settings=EXACT,
                              hindsight=False, ladder_period_hours=2190)
    assert not flat.laddered and [p.gpus for p in flat.plan.reserved] == [10.0]
