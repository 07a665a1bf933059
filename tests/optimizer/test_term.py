"""Full-term costing of commitments, checked against hand computations (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.inputs import capacity_inputs
from optimizer.term import demand_for_years, renewal_comparison, term_costing
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase

from .conftest import make_paths, make_scenario

Y = 8760


def _inputs(change: float = -0.1, hours: int = Y, gpus: float = 10.0):  # type: ignore[no-untyped-def]
    sc = make_scenario({"a100": {
        "on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.4, "3y": 0.25},
        "instance_type": "p4d.24xlarge", "on_demand_price_change_per_year": change,
        "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.5}, {"term_years": 3, "usd_per_gpu_hour": 1.0}]}})
    return capacity_inputs(make_paths({"a100": np.full((1, hours), gpus)}), sc)


def test_a_three_year_reservation_is_costed_over_26280_hours_in_falling_prices() -> None:
    inputs = _inputs()
    plan = CapacityPlan("p", reserved=(ReservedPurchase("a100", 3, "no_upfront", 8, 1.0),))
    tc = term_costing(plan, inputs)
    (c,) = tc.contracts.to_dict("records")
    assert c["obligation_usd"] == pytest.approx(8 * 1.0 * 26280)  # 210,240 USD, the whole contract
    assert c["obligation_usd_per_year"] == pytest.approx(8 * 1.0 * Y)
    assert c["instances"] == 1 and c["term_hours"] == 26280
    yrs = tc.years.set_index("year")
    assert list(yrs.index) == [1, 2, 3]
    for y in range(3):
        od = 2.0 * 0.9 ** y  # on-demand falls 10 % a year; the reservation keeps 1.0 USD/GPU-hour
        plan_cost = 8 * 1.0 * Y + 2 * od * Y
        assert yrs.loc[y + 1, "expected_cost_usd"] == pytest.approx(plan_cost)
        assert yrs.loc[y + 1, "all_on_demand_usd"] == pytest.approx(10 * od * Y)
        assert yrs.loc[y + 1, "expected_saving_usd"] == pytest.approx(8 * od * Y - 8 * Y)
        assert yrs.loc[y + 1, "obligation_usd"] == pytest.approx(8 * Y)
    per = tc.purchases.set_index("year")
    assert per.loc[3, "expected_saving_usd"] == pytest.approx(8 * 2.0 * 0.81 * Y - 8 * Y)
    assert tc.total_obligation_usd == pytest.approx(210240.0)


def test_a_commitment_keeps_its_discount_on_whatever_on_demand_becomes() -> None:
    inputs = _inputs()
    plan = CapacityPlan("p", committed=(CommitmentPurchase(3, 3.0),))
    yrs = term_costing(plan, inputs).years.set_index("year")
    for y in range(3):
        od = 2.0 * 0.9 ** y
        covered = 3.0 / (od * 0.75)  # 3 USD/h at 25 % off covers more GPUs as on-demand falls
        assert yrs.loc[y + 1, "expected_cost_usd"] == pytest.approx(3.0 * Y + (10 - covered) * od * Y)
        assert yrs.loc[y + 1, "obligation_usd"] == pytest.approx(3.0 * Y)


def test_a_laddered_purchase_and_a_held_reservation_are_costed_in_the_years_they_are_held() -> None:
    inputs = _inputs(change=0.0)
    plan = CapacityPlan("p", reserved=(ReservedPurchase("a100", 1, "no_upfront", 8, 1.5, start_hour=4380),
                                       ReservedPurchase("a100", 1, "no_upfront", 8, 1.5, start_hour=-4380)))
    tc = term_costing(plan, inputs)
    assert list(tc.years["year"]) == [1, 2]
    per = tc.purchases
    # bought half-way through year 1: 4,380 h in year 1 and 4,380 h in year 2
    first = per[per["purchase"] == 1].set_index("year")
    assert first.loc[1, "hours"] == 4380 and first.loc[2, "hours"] == 4380
    # held since half a year before the start: only its last 4,380 h fall in the plan
    held = per[per["purchase"] == 2]
    assert list(held["year"]) == [1] and held["hours"].iloc[0] == 4380
    assert tc.contracts.loc[0, "obligation_usd"] == pytest.approx(8 * 1.5 * Y)


def test_demand_beyond_a_one_year_forecast_grows_by_the_planned_rate() -> None:
    d = np.arange(2 * 3 * 100, dtype=float).reshape(2, 3, 100)
    out, notes = demand_for_years(d, 3, 0.15)
    assert out.shape == (2, 3, 3 * Y)
    assert np.array_equal(out[:, :, :100], d) and np.array_equal(out[:, :, 100:200], d)  # repeated to a year
    assert np.allclose(out[:, :, Y:Y + 100], d * 1.15)
    assert np.allclose(out[:, :, 2 * Y:2 * Y + 100], d * 1.15 ** 2)
    assert notes and "+15.0%" in notes[0]
    long = np.ones((1, 1, 3 * Y + 5))
    same, none = demand_for_years(long, 3, 0.5)
    assert same.shape[2] == 3 * Y and not none


def test_three_year_term_against_three_renewed_one_year_terms() -> None:
    inputs = _inputs()
    plan = CapacityPlan("p", reserved=(ReservedPurchase("a100", 3, "no_upfront", 16, 1.0),),
                        committed=(CommitmentPurchase(3, 3.0),))
    r = renewal_comparison(plan, inputs).set_index("kind")
    renewed = 16 * 1.5 * Y * (1 + 0.9 + 0.81)  # the 1-year rate follows on-demand down
    assert r.loc["reserved", "renewed_one_year_usd"] == pytest.approx(renewed)
    assert r.loc["reserved", "three_year_usd"] == pytest.approx(16 * 1.0 * 3 * Y)
    assert r.loc["reserved", "three_year_saving_usd"] == pytest.approx(renewed - 16 * 3 * Y)
    # same GPUs covered: 1-year spend = 3 x (1 - 0.4) / (1 - 0.25) = 2.4 USD/h every year
    assert r.loc["committed", "renewed_one_year_usd"] == pytest.approx(2.4 * 3 * Y)


def test_purchase_calendar_lists_buys_by_quarter_and_every_expiry() -> None:
    from optimizer.term import purchase_calendar

    inputs = _inputs(change=0.0)
    plan = CapacityPlan("p", reserved=(ReservedPurchase("a100", 3, "no_upfront", 16, 1.0),
                                       ReservedPurchase("a100", 1, "no_upfront", 8, 1.5, start_hour=2190)))
    held = CapacityPlan("current", reserved=(ReservedPurchase("a100", 1, "no_upfront", 24, 1.5, start_hour=-5000),),
                        committed=(CommitmentPurchase(1, 4.0, start_hour=-9000),))  # expired before the plan
    cal = purchase_calendar(plan, inputs, held)
    assert list(cal["action"]) == ["buy", "buy", "holding expires", "purchase expires", "purchase expires"]
    first = cal.iloc[0]
    assert first["quarter"] == 1 and first["instances"] == 2 and first["obligation_usd"] == pytest.approx(
        16 * 1.0 * 26280)
    expiry = cal.iloc[2]  # held 24 GPUs bought 5,000 h before the plan: expire at hour 3,760, quarter 2
    assert expiry["hour"] == 3760 and expiry["quarter"] == 2 and expiry["instances"] == 3
    second = cal.iloc[1]
    assert second["quarter"] == 2 and second["hour"] == 2190 and second["obligation_usd"] == pytest.approx(8 * 1.5 * Y)
    assert cal.iloc[3]["hour"] == 2190 + Y and cal.iloc[4]["hour"] == 3 * Y
