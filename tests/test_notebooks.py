"""Execute the worked-analysis notebooks in ``notebooks/`` on the small scenario and check their numbers.

Each notebook runs in a fresh ``python3`` kernel (ipykernel in this interpreter) with
``GPUPLAN_NOTEBOOK_SCENARIO=small``, no process pool and no progress bars. Every cell must run without an
error and without a warning on stderr; each notebook's last cell (tagged ``summary``) prints its headline
numbers as JSON, which the tests check against independent truths: the scenario file's prices, the raw
data files, hand-computed sums over the demand history, and invariants of the optimisation.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHARED = ROOT.parent / "shared" / "data"
REAL_FILES = [SHARED / "carbon_intensity" / "ger_ci.csv", SHARED / "carbon_intensity" / "gb_ci.csv",
              SHARED / "electricity_prices" / "DE-LU_electricity_prices_2020.csv.gz"]
HAVE_REAL = all(f.is_file() for f in REAL_FILES)

#: Per-cell timeout [s]: generous, a guard against a hung kernel, not a speed target.
CELL_TIMEOUT_S = 300
REPLICATIONS = 3
SWEEP_GROWTH = 0.6

pytestmark = pytest.mark.notebook


def _env(**extra: str) -> dict[str, str]:
    env = {
        "GPUPLAN_NOTEBOOK_SCENARIO": "small",
        "GPUPLAN_NOTEBOOK_PARALLEL": "0",
        "GPUPLAN_NOTEBOOK_PROGRESS": "0",
        "GPUPLAN_NOTEBOOK_REPLICATIONS": str(REPLICATIONS),
        "GPUPLAN_NOTEBOOK_GROWTH": str(SWEEP_GROWTH),
    }
    env.update(extra)
    return env


class Executed:
    """An executed notebook: its cells, the JSON of its summary cell, the wall time it took."""

    def __init__(self, nb: Any, seconds: float) -> None:
        self.nb = nb
        self.seconds = seconds

    def outputs(self) -> Iterator[dict[str, Any]]:
        for cell in self.nb.cells:
            if cell.cell_type == "code":
                yield from cell.outputs

    def summary(self) -> dict[str, Any]:
        cells = [c for c in self.nb.cells if "summary" in c.metadata.get("tags", [])]
        assert len(cells) == 1, "exactly one cell is tagged 'summary'"
        text = "".join(o["text"] for o in cells[0].outputs if o.get("output_type") == "stream" and o["name"] == "stdout")
        return json.loads(text)

    def markdown_outputs(self) -> list[str]:
        return [o["data"]["text/markdown"] for o in self.outputs() if "text/markdown" in o.get("data", {})]

    def images(self) -> int:
        return sum("image/png" in o.get("data", {}) for o in self.outputs())


_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], Executed] = {}


def execute(name: str, **extra: str) -> Executed:
    """Run ``notebooks/<name>`` once per environment (cached for the session) in its own folder."""
    env = _env(**extra)
    key = (name, tuple(sorted(env.items())))
    if key in _CACHE:
        return _CACHE[key]
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)   # the kernel inherits the environment it is started with
        t0 = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - t0
    print(f"{name}: executed in {seconds:.1f} s")
    run = Executed(nb, seconds)
    for out in run.outputs():
        assert out.get("output_type") != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
        if out.get("output_type") == "stream" and out["name"] == "stderr":
            assert "Warning" not in out["text"] and "Traceback" not in out["text"], f"{name}: stderr: {out['text']}"
    _CACHE[key] = run
    return run


def _small() -> Any:
    from scenarios.loader import load_scenario

    return load_scenario("small")


# -------------------------------------------------------------------------------------------------
# the committed files
# -------------------------------------------------------------------------------------------------
NAMES = ["01_procurement_planner.ipynb", "02_finops_commitments.ipynb", "03_sustainability_schedules.ipynb",
         "04_bring_your_own_data.ipynb", "05_backtest.ipynb", "06_monitor.ipynb", "07_inference_serving.ipynb"]


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


# -------------------------------------------------------------------------------------------------
# 05 backtest
# -------------------------------------------------------------------------------------------------
def _raw_helios() -> pd.DataFrame:
    """The bundled Helios VC file read with plain pandas: UTC hours, family from the scenario's mapping."""
    sc = _small()
    raw = pd.read_csv(ROOT / "scenarios" / "data" / "helios_earth_vc_hourly.csv")
    raw["timestamp"] = pd.to_datetime(raw["hour_start"]).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    raw["family"] = raw["vc"].map(sc.demand.team_family)
    return raw


def test_backtest_notebook_holds_purchases_to_the_end_of_the_raw_history() -> None:
    s = execute("05_backtest.ipynb").summary()
    raw = _raw_helios()
    end = raw["timestamp"].max() + pd.Timedelta(hours=1)
    assert pd.Timestamp(s["history_end"]) == end
    origins = [pd.Timestamp(o) for o in s["origins"]]
    assert len(origins) == 4 and origins == sorted(origins)
    first = raw["timestamp"].min()
    assert origins[0] == first + pd.Timedelta(days=14) and origins[-1] == end - pd.Timedelta(days=7)
    for o in origins:
        assert s["held_hours"][str(o)] == int((end - o) / pd.Timedelta(hours=1))
        after = raw[raw["timestamp"] >= o]
        assert s["demand_gpu_hours"][str(o)] == pytest.approx(float(after["running_gpu_mean"].sum()), rel=1e-9)


def test_backtest_notebook_costs_are_bounded_by_hindsight_and_by_the_price_list() -> None:
    s = execute("05_backtest.ipynb").summary()
    sc = _small()
    raw = _raw_helios()
    share = sc.demand.preemptible_share
    cost = s["cost_usd"]
    for o in s["origins"]:
        after = raw[raw["timestamp"] >= pd.Timestamp(o)]
        by_fam = after.groupby("family")["running_gpu_mean"].sum()
        list_usd = sum(float(v) * sc.catalog[f].on_demand_usd_per_gpu_hour for f, v in by_fam.items())
        # buying nothing: at most everything at on-demand list price, at least the non-interruptible share of it
        assert (1 - share) * list_usd - 1e-6 <= cost["all-on-demand"][o] <= list_usd + 1e-6
        hs = cost["perfect-hindsight"][o]
        assert all(cost[p][o] >= hs - 1e-6 for p in cost)
        assert hs < cost["all-on-demand"][o]
    for p, r in s["mean_regret_pct"].items():
        mean = np.mean([100 * (cost[p][o] / cost["perfect-hindsight"][o] - 1) for o in s["origins"]])
        assert r == pytest.approx(mean, rel=1e-9, abs=1e-9), p
    saved = [100 * (1 - cost["gpuplan"][o] / cost["all-on-demand"][o]) for o in s["origins"]]
    assert s["saved_vs_nothing_pct"] == pytest.approx(saved, rel=1e-12)
    d = s["decomposition"]
    assert np.allclose(np.add(d["forecast_pct"], d["rule_pct"]), d["regret_pct"])
    beats = np.mean([cost["gpuplan"][o] < cost["trailing-30d"][o] * (1 - 1e-9) for o in s["origins"]])
    assert s["beats_share"]["trailing-30d"] == pytest.approx(beats)
    assert {"report.html", "summary.json", "tables/backtest_origins.csv"} <= set(s["report_files"])
    assert s["report_bytes"] > 10_000


# -------------------------------------------------------------------------------------------------
# 07 inference serving
# -------------------------------------------------------------------------------------------------
def test_inference_notebook_prices_the_api_and_static_option_from_the_scenario_file_and_raw_requests() -> None:
    from scenarios.traffic import generate_requests

    s = execute("07_inference_serving.ipynb").summary()
    sc = _small()
    assert sc.inference is not None
    m = sc.inference.models[s["model"]]
    # the same requests regenerated here from the scenario's generator, billed at the API's token prices
    from gpuplan.inference import DEFAULT_TRAFFIC_START

    req = generate_requests(DEFAULT_TRAFFIC_START, sc.inference.replay_hours, m.traffic.generator)
    assert s["requests"] == len(req)
    api_usd = float((req["input_tokens"] * m.api.usd_per_million_input_tokens
                     + req["output_tokens"] * m.api.usd_per_million_output_tokens).sum()) / 1e6
    assert s["options_cost_usd"]["API"] == pytest.approx(api_usd, rel=1e-9)
    assert s["options_usd_per_1k"]["API"] == pytest.approx(api_usd / len(req) * 1e3, rel=1e-9)
    # static provisioning on demand: replicas x hours x GPUs x the catalog's on-demand price
    od = sc.catalog[s["family"]].on_demand_usd_per_gpu_hour
    static_od = s["static_peak_replicas"] * s["replay_hours"] * s["gpus_per_replica"] * od
    assert s["options_cost_usd"]["static peak on-demand"] == pytest.approx(static_od, rel=1e-12)
    # break-even per replica from the catalog and the mean API cost per request
    assert s["break_even_requests_per_hour_on_demand"] == pytest.approx(
        s["gpus_per_replica"] * od / (api_usd / len(req)), rel=1e-9)
    assert s["recommended_slo_attainment"] >= s["slo_quantile"]
    # the notebook's own replay of the static-peak replicas in the scenario's batching mode is the planner's
    assert s["batching"] == "continuous"
    assert s["modes_slo_attainment"]["continuous"] == s["static_replay_slo_attainment"]


def test_inference_notebook_break_even_curve_has_economies_of_scale_and_a_flat_api_price() -> None:
    s = execute("07_inference_serving.ipynb").summary()
    self_host, api = s["curve_self_host_usd_per_1k"], s["curve_api_usd_per_1k"]
    assert s["curve_rate_factor"] == sorted(s["curve_rate_factor"])
    # more traffic fills batches and replicas: cost per request falls from the lowest to the highest rate
    assert self_host[-1] < self_host[0]
    # the API bills tokens; the token mix does not depend on the rate (sampling noise only)
    assert max(api) / min(api) < 1.05


def test_inference_notebook_never_recommends_an_option_missing_the_slo_and_commits_only_the_floor_minimum() -> None:
    s = execute("07_inference_serving.ipynb").summary()
    rec = {k: v for k, v in s["options_meets_slo"].items() if k.startswith("recommended:")}
    assert rec and all(rec.values())
    if s["hourly_floor_by_hour_of_day"] is not None:
        by_hour = [int(x) for x in s["hourly_floor_by_hour_of_day"].split(",") if x != "-"]
        # the committed part of a floor by hour is its minimum over the hours the replay covered
        assert s["hourly_floor_committed"] == min(by_hour) == s["hourly_floor_min"]
    # the committable floor per family is the minimum of the floor by hour of day (zero on spot)
    for fam, gpus in s["floor_gpus"].items():
        assert gpus == min(s["floor_gpus_by_hour"][fam])
        if s["recommended_spot"] == "all":
            assert gpus == 0.0


# -------------------------------------------------------------------------------------------------
# 06 weekly FinOps review (monitor)
# -------------------------------------------------------------------------------------------------
def test_monitor_notebook_bills_reconcile_and_the_waterfall_walks_from_budget_to_actual(tmp_path: Path) -> None:
    s = execute("06_monitor.ipynb", GPUPLAN_NOTEBOOK_WORKDIR=str(tmp_path)).summary()
    assert s["synthetic_export"] is True and s["scenario"] == "small"
    raw = pd.read_parquet(s["export"])
    # GPU instance-time rows picked with plain pandas: the invoice the bills must add up to
    gpu = raw[(raw["ChargeCategory"] == "Usage")
              & raw["x_UsageType"].fillna("").str.contains(r"(?:BoxUsage|SpotUsage):p\d", regex=True)]
    invoice = float(gpu["EffectiveCost"].sum())
    assert s["invoice_usd"] == pytest.approx(invoice, rel=1e-12)
    for rule, total in s["bills_total_usd"].items():
        assert abs(total - invoice) <= 1e-9 * invoice, rule
        assert s["reconciliation_gap_usd"][rule] <= 1e-9 * invoice
    budget = pd.read_csv(s["budget"])
    month = s["waterfall_month"]
    wf = s["waterfall"]
    assert wf["budget"] == pytest.approx(float(budget.loc[budget["month"] == month, "budget_usd"].sum()), rel=1e-12)
    in_month = pd.to_datetime(gpu["ChargePeriodStart"], utc=True).dt.strftime("%Y-%m") == month
    assert wf["actual"] == pytest.approx(float(gpu.loc[in_month, "EffectiveCost"].sum()), rel=1e-9)
    parts = sum(v for k, v in wf.items() if k not in ("budget", "actual"))
    assert wf["budget"] + parts == pytest.approx(wf["actual"], rel=1e-12)
    assert s["jsonl_lines"] == s["anomalies"] >= s["incidents"] > 0
    assert all(0.0 <= p <= 1.0 for p in s["p_breach_latest"].values())
    assert {"monitor.html", "anomalies.jsonl", "tables/chargeback_bills.csv"} <= set(s["files"])
