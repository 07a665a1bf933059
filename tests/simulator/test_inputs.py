"""Bad input is refused with a message that names the table, row or column and the fix; nothing is dropped
silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from simulator import build_inputs, current_plan, simulate
from simulator.inputs import simulation_window
from tests.simulator._util import T0, demand_frame, flat_signal, jobs, scenario


def test_missing_and_bad_job_columns() -> None:
    sc = scenario()
    with pytest.raises(InputError, match="duration_hours"):
        build_inputs(sc, jobs=jobs([{"gpus": 1}]))
    with pytest.raises(InputError, match=r"row 2.*whole number"):
        build_inputs(sc, jobs=jobs([{"gpus": 1, "duration_hours": 1.0}, {"gpus": 1.5, "duration_hours": 1.0}]))
    with pytest.raises(InputError, match="not in the catalog"):
        build_inputs(sc, jobs=jobs([{"gpus": 1, "duration_hours": 1.0, "family": "h100"}]))
    with pytest.raises(InputError, match="duplicate job_id"):
        build_inputs(sc, jobs=jobs([{"job_id": "a", "gpus": 1, "duration_hours": 1.0}] * 2))
    with pytest.raises(InputError, match="must be > 0"):
        build_inputs(sc, jobs=jobs([{"gpus": 1, "duration_hours": 0.0}]))
    naive = jobs([{"gpus": 1, "duration_hours": 1.0}])
    naive["submit_time"] = naive["submit_time"].dt.tz_localize(None)
    with pytest.raises(InputError, match="timezone-aware"):
        build_inputs(sc, jobs=naive)


def test_jobs_before_the_start_are_refused_and_after_the_window_counted() -> None:
    sc = scenario()
    table = jobs([{"submit": 1.0, "gpus": 1, "duration_hours": 1.0}, {"submit": 100.0, "gpus": 1, "duration_hours": 1.0}])
    with pytest.raises(InputError, match="before the plan start"):
        build_inputs(sc, jobs=table, start=T0 + pd.Timedelta(hours=2), hours=10)
    inp = build_inputs(sc, jobs=table, start=T0, hours=10)
    assert len(inp.jobs) == 1
    assert any("1 jobs submitted after the 10 h window" in n for n in inp.notes)


def test_signals_must_cover_the_window() -> None:
    sc = scenario()
    table = jobs([{"gpus": 1, "duration_hours": 1.0}])
    with pytest.raises(InputError, match="missing is not zero"):
        build_inputs(sc, jobs=table, start=T0, hours=10, carbon=flat_signal("default", 100.0, 5, "gco2_per_kwh"))
    with pytest.raises(InputError, match="region 'default'"):
        build_inputs(sc, jobs=table, start=T0, hours=10, price=flat_signal("elsewhere", 1.0, 10, "usd_per_mwh"))
    neg = flat_signal("default", -20.0, 10, "usd_per_mwh")  # negative prices are real
    assert build_inputs(sc, jobs=table, start=T0, hours=10, price=neg).families[0].energy_usd_per_mwh[0] == -20.0


def test_demand_gaps_and_unknown_families_are_refused() -> None:
    sc = scenario()
    dem = demand_frame({"x": np.ones(10)}).drop(index=4)
    with pytest.raises(InputError, match="missing is not zero"):
        build_inputs(sc, demand=dem, start=T0, hours=10)
    with pytest.raises(InputError, match="unknown family"):
        build_inputs(sc, demand=demand_frame({"y": np.ones(3)}))
    bad = demand_frame({"x": np.array([1.0, np.nan, 2.0])})
    with pytest.raises(InputError, match=r"row 2.*not missing"):
        build_inputs(sc, demand=bad)


def test_team_series_of_forecast_paths_are_summed_into_their_family() -> None:
    sc = scenario()
    idx = pd.date_range(T0, periods=3, freq="h")
    paths = pd.concat([pd.DataFrame({"series_id": s, "timestamp": idx, "sample_id": 0, "gpus": v})
                       for s, v in (("x/a", 1.0), ("x/b", 2.5))])
    inp = build_inputs(sc, demand=paths)
    np.testing.assert_allclose(inp.demand[0, 0], 3.5)


def test_plan_errors_and_the_current_plan() -> None:
    sc = scenario(current={"reserved": [{"family": "x", "term_years": 1, "gpus": 3, "usd_per_gpu_hour": 1.0}],
                           "committed_usd_per_hour": {"3y": 2.0}})
    plan = current_plan(sc)
    assert plan.name == "current" and plan.reserved[0].gpus == 3 and plan.committed[0].term_years == 3
    assert current_plan(scenario()).name == "all-on-demand"
    table = jobs([{"gpus": 1, "duration_hours": 1.0}])
    with pytest.raises(InputError, match="family 'h100'"):
        build_inputs(sc, CapacityPlan("p", reserved=(ReservedPurchase("h100", 1, "no_upfront", 1, 1.0),)), jobs=table)
    with pytest.raises(InputError, match="term_years"):
        build_inputs(sc, CapacityPlan("p", committed=(CommitmentPurchase(2, 1.0),)), jobs=table)
    inp = build_inputs(sc, CapacityPlan("p", committed=(CommitmentPurchase(1, 1.0),)), jobs=table)
    assert any("covers no family" in n for n in inp.notes)


def test_nothing_to_simulate_and_default_window() -> None:
    with pytest.raises(InputError, match="nothing to simulate"):
        build_inputs(scenario())
    table = jobs([{"submit": 3.5, "gpus": 1, "duration_hours": 10.0}])
    start, hours = simulation_window(scenario(), jobs=table)
    assert start == T0 + pd.Timedelta(hours=3) and hours == 21 + 24
    assert simulation_window(scenario(), demand=demand_frame({"x": np.ones(7)})) == (T0, 7)
    assert simulation_window(scenario(simulation={"horizon_hours": 99}), jobs=table)[1] == 99


def test_unfinished_jobs_are_reported_not_dropped() -> None:
    res = simulate(scenario(), jobs=jobs([{"gpus": 1, "duration_hours": 30.0}]), start=T0, hours=10,
                   replications=1, progress=False)
    j = res.jobs.iloc[0]
    assert j["status"] == "unfinished" and pd.isna(j["end_time"])
    assert j["useful_gpu_hours"] == pytest.approx(10.0) and j["cost_usd"] == pytest.approx(20.0)


def test_with_plan_equals_building_with_that_plan() -> None:
    sc = scenario(catalog={"x": {"committed_discount": {"1y": 0.2}}})
    table = jobs([{"submit": float(i), "gpus": 2, "duration_hours": 5.0} for i in range(6)])
    dem = demand_frame({"x": np.full(24, 3.0)})
    a = CapacityPlan("a", reserved=(ReservedPurchase("x", 1, "no_upfront", 4, 1.0),))
    b = CapacityPlan("b", committed=(CommitmentPurchase(1, 3.0),))
    base = build_inputs(sc, a, jobs=table, demand=dem)
    from simulator import run, with_plan

    swapped = run(with_plan(base, b), replications=2, seed=3, progress=False)
    direct = run(build_inputs(sc, b, jobs=table, demand=dem), replications=2, seed=3, progress=False)
    pd.testing.assert_frame_equal(swapped.kpis, direct.kpis)
    assert swapped.plan_name == "b" and swapped.kpis["cost_reserved_usd"].iloc[0] == 0.0
