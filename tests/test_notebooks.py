"""Execute the worked-analysis notebooks in ``notebooks/`` on the small scenario and check their numbers.

Each notebook runs in a fresh ``python3`` kernel (ipykernel in this interpreter) with
``GPUPLAN_NOTEBOOK_SCENARIO=small``, no process pool and no progress bars. Every cell must run without an
error and without a warning on stderr; each notebook's last cell (tagged ``summary``) prints its headline
numbers as JSON, which the tests check against independent truths: the scenario file's prices, the raw
data files, hand-computed sums over the demand history, and invariants of the optimisation.

This file holds notebooks 01-04; 05-07 are in ``test_notebooks_more.py``, a file of its own so that
``pytest -n 2 --dist loadfile`` runs the two halves (~320 s together) in different workers.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from .notebook_support import (
    HAVE_REAL,
    NAMES,
    NOTEBOOKS,
    REAL_FILES,
    REPLICATIONS,
    SHARED,
    SWEEP_GROWTH,
    _small,
    execute,
    nbformat,
)

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs_and_reads_its_scenario_from_the_environment(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "GPUPLAN_NOTEBOOK_SCENARIO" in params[0].source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


# -------------------------------------------------------------------------------------------------
# 01 procurement planner
# -------------------------------------------------------------------------------------------------
def test_procurement_notebook_compares_variants_whose_costs_follow_from_their_constraints() -> None:
    s = execute("01_procurement_planner.ipynb").summary()
    base, one_year, no_spot = s["scenarios"]
    assert base == "small" and "1-year" in one_year and "no spot" in no_spot
    exp, aod = s["expected_cost_usd"], s["all_on_demand_cost_usd"]
    for n in s["scenarios"]:
        assert s["savings_vs_all_on_demand_pct"][n] == pytest.approx(100 * (1 - exp[n] / aod[n]), rel=1e-9)
        assert exp[n] <= s["p95_cost_usd"][n] and exp[n] < aod[n]
    # Dropping the 3-year offers shrinks the optimiser's choice: the plan cannot get cheaper. Buying nothing
    # in advance does not use the offers at all, so its simulated cost is the same to the last cent.
    assert exp[one_year] > exp[base]
    assert aod[one_year] == pytest.approx(aod[base], rel=1e-12)
    # Without spot the interruptible demand runs on demand, which costs more per GPU-hour than spot.
    assert aod[no_spot] > aod[base]


def test_procurement_notebook_sweep_raises_demand_with_growth_and_reproduces_the_base_case() -> None:
    s = execute("01_procurement_planner.ipynb").summary()
    growth = _small().demand.forecast.growth_rate_per_year
    assert s["sweep_growth"] == pytest.approx(sorted({growth, SWEEP_GROWTH}))
    lo, hi = s["sweep_forecast_mean_gpus"]
    assert hi > lo
    # The mean over the horizon cannot grow by more than the end-of-horizon growth factor (linear bound,
    # which is above the compound one).
    frac = s["horizon_hours"] / 8760
    assert hi / lo < (1 + SWEEP_GROWTH * frac) / (1 + growth * frac)
    assert s["sweep_expected_cost_usd"][1] > s["sweep_expected_cost_usd"][0]
    assert s["sweep_reproduces_base"] is True
    assert s["sweep_expected_cost_usd"][0] == pytest.approx(s["expected_cost_usd"]["small"], rel=1e-12)


# -------------------------------------------------------------------------------------------------
# 02 FinOps commitments and negotiation pack
# -------------------------------------------------------------------------------------------------
def test_finops_notebook_recommendation_beats_the_baselines_but_not_hindsight() -> None:
    run = execute("02_finops_commitments.ipynb")
    s = run.summary()
    assert s["replications"] == REPLICATIONS
    assert {"recommended", "all-on-demand", "trailing-30d", "current"} <= set(s["plans"])
    exp = s["expected_cost_usd"]
    assert exp["recommended"] < exp["all-on-demand"] and exp["recommended"] < exp["current"]
    opt = s["optimizer_expected_cost_usd"]
    # Perfect hindsight solves each path with its demand known: no single plan can beat it on average.
    assert opt["perfect-hindsight"] <= opt["recommended"] <= opt["all-on-demand"]
    assert run.images() >= 6   # fan charts, cost distribution, cost curve, pools, over-commitment


def test_finops_notebook_break_even_utilizations_are_the_price_ratios_of_the_scenario_file() -> None:
    s = execute("02_finops_commitments.ipynb").summary()
    sc = _small()
    reserved = [p for p in s["purchases"] if p["kind"] == "reserved"]
    assert reserved, "the small scenario's recommendation reserves GPUs"
    for p in reserved:
        fam = sc.catalog[p["family"]]
        rates = {(o.term_years, o.payment): o.usd_per_gpu_hour for o in fam.reserved}
        assert p["usd_per_gpu_hour"] == rates[(p["term_years"], p["payment"])]
        assert p["break_even_utilization"] == pytest.approx(p["usd_per_gpu_hour"] / fam.on_demand_usd_per_gpu_hour,
                                                            rel=1e-9)
        assert p["quantity"] > 0
    expected = {}
    for f, g in sc.catalog.items():
        for o in g.reserved:
            expected[(f, "reserved", o.term_years, o.payment)] = o.usd_per_gpu_hour / g.on_demand_usd_per_gpu_hour
        for term, d in g.committed_discount.items():
            expected[(f, "committed", int(term[0]), "no_upfront")] = 1.0 - d
    got = {(r["family"], r["product"], r["term_years"], r["payment"]): r["break_even_utilization"]
           for r in s["pack_break_even"]}
    assert set(got) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-9), k


def test_finops_notebook_overcommitment_regret_grows_as_demand_falls_and_the_pack_is_written() -> None:
    s = execute("02_finops_commitments.ipynb").summary()
    regret = s["overcommit_whole_plan_regret_usd"]
    assert list(regret) == ["0.1", "0.25", "0.5"]
    values = list(regret.values())
    assert values[0] >= -1e-6 and values[0] < values[1] < values[2]
    be = s["break_even_gpu_equivalents"]
    assert be is None or be > s["recommended_gpu_equivalents"] > 0
    assert {"negotiation.md", "break_even.csv", "overcommit.csv", "sensitivity.csv"} <= set(s["pack_files"])
    assert "Break-even utilization of every offer" in s["pack_markdown_sections"]


# -------------------------------------------------------------------------------------------------
# 03 sustainability schedules
# -------------------------------------------------------------------------------------------------
def _schedule_invariants(s: dict[str, Any]) -> None:
    sc = _small()
    fam = sc.catalog[s["family"]]
    from scenarios.workload import load_jobs

    jobs = load_jobs(sc)
    assert s["n_jobs"] == len(jobs)
    assert s["gpu_hours"] == pytest.approx(float((jobs["gpus"] * jobs["duration_hours"]).sum()), rel=1e-9)
    assert s["energy_kwh"] == pytest.approx(s["gpu_hours"] * fam.gpu_power_kw * fam.pue, rel=1e-9)
    assert s["kg_co2e"] < s["arrival_kg_co2e"]
    assert s["carbon_saved_pct"] == pytest.approx(100 * (1 - s["kg_co2e"] / s["arrival_kg_co2e"]), rel=1e-9)
    gap = sc.solver.mip_gap
    kg, cost = s["pareto_kg_co2e"], s["pareto_energy_cost_usd"]
    assert s["pareto_carbon_prices"] == sorted(s["pareto_carbon_prices"])
    # A higher carbon price never buys more carbon (up to the solver's gap); price 0 has the cheapest energy.
    assert all(b <= a * (1 + gap) for a, b in itertools.pairwise(kg))
    assert kg[-1] < kg[0]
    assert all(cost[0] <= c * (1 + gap) for c in cost)
    assert s["flex_same_jobs"] is True
    assert s["flex_carbon_saved_pct"][-1] > s["flex_carbon_saved_pct"][0]
    assert s["flex_mean_delay_hours"][-1] > s["flex_mean_delay_hours"][0]
    assert all(v >= -1e-9 for v in s["grid_carbon_saved_pct"].values())


@pytest.mark.skipif(not HAVE_REAL, reason=f"real grid data not found under {SHARED}")
def test_sustainability_notebook_schedules_on_the_real_grid_series() -> None:
    run = execute("03_sustainability_schedules.ipynb", GPUPLAN_SHARED_DATA=str(SHARED))
    s = run.summary()
    assert s["data"] == "real"
    assert any("Data: REAL" in m for m in run.markdown_outputs())
    # The notebook's hourly means against the raw files read here with plain pandas.
    ger = pd.read_csv(REAL_FILES[0])
    assert s["de_mean_gco2_per_kwh"] == pytest.approx(float(ger["Carbon Intensity"].mean()), rel=5e-3)
    gb = pd.read_csv(REAL_FILES[1])
    assert s["gb_mean_gco2_per_kwh"] == pytest.approx(float(gb["Carbon Intensity"].mean()), rel=2e-2)
    price = pd.read_csv(REAL_FILES[2])
    assert s["de_mean_usd_per_mwh"] == pytest.approx(float(price["Price (USD/MWh)"].mean()), rel=1e-9)
    assert s["window_start"].startswith("2020-05-31") and s["signals_mapped"] is False
    _schedule_invariants(s)


def test_sustainability_notebook_falls_back_to_synthetic_signals_and_says_so(tmp_path: Path) -> None:
    run = execute("03_sustainability_schedules.ipynb", GPUPLAN_SHARED_DATA=str(tmp_path / "no-data-here"))
    s = run.summary()
    assert s["data"] == "synthetic"
    assert any("SYNTHETIC FALLBACK" in m for m in run.markdown_outputs())
    assert s["de_mean_gco2_per_kwh"] == pytest.approx(380.0, rel=0.05)
    _schedule_invariants(s)


# -------------------------------------------------------------------------------------------------
# 04 bring your own data
# -------------------------------------------------------------------------------------------------
def test_byod_notebook_reads_back_every_gpu_hour_and_the_idle_reservations_of_its_export() -> None:
    from scenarios.history import load_history

    s = execute("04_bring_your_own_data.ipynb").summary()
    assert s["synthetic_export"] is True and s["extends"] == "small"
    sc = _small()
    usage = load_history(sc).usage
    assert s["billing_gpu_hours"] == pytest.approx(float(usage["gpus"].sum()), rel=1e-9)
    assert s["history_gpu_hours"] == pytest.approx(s["billing_gpu_hours"], rel=1e-12)
    # Reservations cover usage first; what they leave idle each hour is billed as Unused at their rate.
    hours = pd.date_range(usage["timestamp"].min(), usage["timestamp"].max(), freq="h")
    for h in sc.current.reserved:
        busy = usage[usage["family"] == h.family].groupby("timestamp")["gpus"].sum().reindex(hours, fill_value=0.0)
        idle_usd = float((np.maximum(h.gpus - busy.to_numpy(), 0.0) * h.usd_per_gpu_hour).sum())
        assert s["commitment_unused_usd"][h.family] == pytest.approx(idle_usd, rel=1e-9)
    assert {"tax", "credit", "non-GPU usage"} <= set(s["skipped"])
    assert all(0.0 <= v <= 1.0 for v in s["coverage"].values())


def test_byod_notebook_plans_from_the_export_and_writes_the_report() -> None:
    s = execute("04_bring_your_own_data.ipynb").summary()
    assert s["scenario"] == "from-focus"
    assert {"recommended", "all-on-demand", "current"} <= set(s["plans"])
    assert s["expected_cost_usd"]["recommended"] < s["expected_cost_usd"]["all-on-demand"]
    assert {"report.html", "plan.json", "tables/purchases.csv"} <= set(s["report_files"])
    assert s["report_bytes"] > 10_000

