"""Execute notebooks 05-07 (backtest, monitor, inference) on the small scenario and check their numbers.

The same way as ``test_notebooks.py`` (see its docstring); a file of its own so that ``pytest -n 2
--dist loadfile`` can run it in the other worker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .notebook_support import (
    ROOT,
    _small,
    execute,
)

pytestmark = pytest.mark.notebook


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

