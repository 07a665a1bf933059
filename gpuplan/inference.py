"""Inference planning: from request traffic to a warm floor, a scaling policy, commitments and unit costs.

:func:`run_inference` replays each served model's requests (``simulator.inference``) for a sweep of warm
floors and target utilisations and for static provisioning at the peak, prices the results
(``optimizer.inference``) and picks the cheapest policy that meets the SLO.  :func:`inference_tables`,
:func:`add_inference_section` and :func:`write_inference` turn the result into CSV tables and a report
section; ``gpuplan inference`` and ``gpuplan plan`` call them.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.inference import (
    ReplicaPrices,
    api_usd_per_request,
    break_even_requests_per_hour,
    choose_policy,
    energy_kwh,
    option_costs,
    period_unit_costs,
    smallest_static,
    sweep_grid,
    team_unit_costs,
    unit_costs,
    warm_floor_demand,
)
from scenarios.errors import InputError
from scenarios.inference_config import InferenceModel
from scenarios.io import atomic_dir, atomic_write, write_frame
from scenarios.schema import Scenario
from scenarios.traffic import load_requests
from simulator.inference import InferenceReplay, hourly_slo, replay

log = logging.getLogger("gpuplan")

#: Start of generated traffic when the scenario names no start (a Monday, so the week's shape is aligned).
DEFAULT_TRAFFIC_START = pd.Timestamp("2026-01-05 00:00", tz="UTC")


@dataclass
class ModelPlan:
    """The inference plan of one served model."""

    name: str
    model: InferenceModel
    requests: pd.DataFrame
    sweep: pd.DataFrame
    chosen: pd.Series | None
    replay: InferenceReplay | None
    static_replicas: int | None
    static_replay: InferenceReplay | None
    hourly: pd.DataFrame
    options: pd.DataFrame
    teams: pd.DataFrame
    summary: dict[str, Any]


@dataclass
class InferenceRun:
    """Every model's plan and the warm floor as demand."""

    scenario: Scenario
    start: pd.Timestamp
    hours: int
    models: dict[str, ModelPlan]
    notes: list[str] = field(default_factory=list)

    def floor_gpus(self) -> dict[str, float]:
        """Warm-floor GPUs per family of the chosen policies [GPUs]."""
        out: dict[str, float] = {}
        for mp in self.models.values():
            if mp.chosen is not None:
                fam = mp.model.profile.family
                out[fam] = out.get(fam, 0.0) + float(mp.chosen["min_warm_replicas"]) * mp.model.profile.gpus_per_replica
        return out

    def floor_demand(self, start: pd.Timestamp, hours: int) -> pd.DataFrame:
        """The warm floor over a plan horizon as hourly demand per family (``series_id, timestamp, gpus``)."""
        return warm_floor_demand(self.floor_gpus(), start, hours)

    def summary_table(self) -> pd.DataFrame:
        """One row per model: the headline figures."""
        return pd.DataFrame([{"model": n, **m.summary} for n, m in self.models.items()])


def replica_prices(sc: Scenario, m: InferenceModel) -> ReplicaPrices:
    """Replica rates from the catalog: on demand, each reserved offer, each committed-spend discount."""
    fam = sc.catalog[m.profile.family]
    comm: dict[str, float] = {}
    for o in fam.reserved:
        comm[f"reserved {o.term_years}y {o.payment}"] = o.usd_per_gpu_hour
    for term, d in fam.committed_discount.items():
        comm[f"committed {term}"] = fam.on_demand_usd_per_gpu_hour * (1.0 - d)
    return ReplicaPrices.from_gpu_rates(m.profile.gpus_per_replica, fam.on_demand_usd_per_gpu_hour, comm)


def _row(rep: InferenceReplay, m: InferenceModel, floor: int, target: float | None) -> dict[str, Any]:
    h = rep.hourly
    return {
        "min_warm_replicas": floor, "target_utilization": target,
        "slo_attainment": rep.slo_attainment(m.slo),
        "p95_ttft_s": float(np.nanquantile(rep.requests["ttft_s"], m.slo.quantile)) if h["served"].sum() else np.nan,
        "p95_e2e_s": float(np.nanquantile(rep.requests["e2e_s"], m.slo.quantile)) if h["served"].sum() else np.nan,
        "floor_replica_hours": float(h["floor_replica_hours"].sum()),
        "autoscaled_replica_hours": float(h["autoscaled_replica_hours"].sum()),
        "busy_replica_hours": float(h["busy_replica_hours"].sum()),
        "idle_replica_hours": float(h["idle_replica_hours"].sum()),
        "peak_replicas": len(rep.replicas) if target is None else int(_peak(rep)),
        "requests": int(h["requests"].sum()), "api_overflow": int(h["api_overflow"].sum()),
        "unserved": int(h["unserved"].sum()),
        "events_per_request": rep.events / max(int(h["requests"].sum()), 1), "replay_wall_s": rep.wall_s,
    }


def _policy_text(row: pd.Series) -> str:
    if pd.isna(row["target_utilization"]):
        return f"{int(row['min_warm_replicas'])} replicas always on (no autoscaling)"
    return f"warm floor {int(row['min_warm_replicas'])}, autoscale to {row['target_utilization']:.2f} utilisation"


def _peak(rep: InferenceReplay) -> int:
    r = rep.replicas
    t = np.concatenate([r["asked_s"].to_numpy(), r["stop_s"].to_numpy()])
    d = np.concatenate([np.ones(len(r)), -np.ones(len(r))])
    order = np.lexsort((d, t))   # stops before starts at the same instant
    return int(np.max(np.cumsum(d[order]), initial=0))


def plan_model(sc: Scenario, name: str, m: InferenceModel, start: pd.Timestamp, hours: int) -> ModelPlan:
    """Sweep, choose and price the serving of one model (see the module docstring)."""
    assert sc.inference is not None
    tr = m.traffic
    path = sc.resolve(tr.trace) if tr.trace else None
    rate_path = sc.resolve(tr.generator.rate_file) if tr.generator.rate_file else None
    req = load_requests(path, tr.generator, start=start, hours=hours, tz=tr.tz, model=name, rate_path=rate_path)
    if "model" in req.columns and path is not None:
        req = req[req["model"] == name] if (req["model"] == name).any() else req
    if req.empty:
        raise InputError(f"no requests for model '{name}'", column=f"inference.models.{name}.traffic")
    t0 = req["timestamp"].iloc[0].floor("h")
    arr = (req["timestamp"] - t0).dt.total_seconds().to_numpy()
    n_hours = max(1, math.ceil(arr[-1] / 3600.0 + 1e-12))
    horizon = n_hours * 3600.0
    inp = req["input_tokens"].to_numpy(float)
    out = req["output_tokens"].to_numpy(float)
    prices = replica_prices(sc, m)
    api_req = (api_usd_per_request(1.0, 0.0, m.api.usd_per_million_input_tokens, 0.0),
               api_usd_per_request(0.0, 1.0, 0.0, m.api.usd_per_million_output_tokens)) if m.api else None
    mean_api = (api_req[0] * float(inp.mean()) + api_req[1] * float(out.mean())) if api_req else None

    def run(floor: int, target: float | None, static: int | None = None) -> InferenceReplay:
        if static is not None:
            pol = m.policy.model_copy(update={"min_warm_replicas": static, "max_replicas": max(static, 1)})
            return replay(arr, inp, out, m.profile, pol, horizon_s=horizon, autoscale=False)
        pol = m.policy.model_copy(update={"min_warm_replicas": floor, "target_utilization": target,
                                          "max_replicas": max(m.policy.max_replicas, floor)})
        return replay(arr, inp, out, m.profile, pol, horizon_s=horizon, initial_replicas=max(floor, 1))

    # static provisioning for the peak at the same SLO (the baseline the policy must beat)
    static_cache: dict[int, InferenceReplay] = {}

    def meets(c: int) -> bool:
        static_cache[c] = run(c, None, static=c)
        return static_cache[c].slo_attainment(m.slo) >= m.slo.quantile

    n_static = smallest_static(meets, 1, m.policy.max_replicas)
    static_rep = static_cache.get(n_static) if n_static is not None else None
    floors = sc.inference.sweep_min_warm if sc.inference.sweep_min_warm is not None else \
        list(range(0, (n_static or m.policy.max_replicas) + 1))
    rows, reps = [], {}
    for floor, target in sweep_grid(floors, sc.inference.sweep_target_utilization):
        rep = run(floor, target)
        reps[(floor, target)] = rep
        rows.append(_row(rep, m, floor, target))
    if static_rep is not None and n_static is not None:
        # static provisioning is a policy too: n replicas always on, no autoscaling
        rows.append({**_row(static_rep, m, n_static, None), "autoscaled_replica_hours": 0.0,
                     "floor_replica_hours": n_static * n_hours})
        reps[(n_static, -1.0)] = static_rep
    sweep, chosen = choose_policy(pd.DataFrame(rows), prices, m.slo.quantile, mean_api)
    sweep.insert(2, "autoscaling", sweep["target_utilization"].notna())
    chosen_rep = None
    if chosen is not None:
        tgt = chosen["target_utilization"]
        chosen_rep = reps[(int(chosen["min_warm_replicas"]), -1.0 if pd.isna(tgt) else float(tgt))]

    # price the options per 1,000 requests
    opts: list[dict[str, Any]] = []
    n_req = len(req)
    tokens_in, tokens_out = float(inp.sum()), float(out.sum())
    api_total = api_usd_per_request(tokens_in, tokens_out, m.api.usd_per_million_input_tokens,
                                    m.api.usd_per_million_output_tokens) if m.api else None
    if api_total is not None:
        opts.append({"option": "API", "policy": "-", "slo_attainment": np.nan, "cost_usd": api_total})
    if chosen is not None:
        for k, v in option_costs(chosen, prices, mean_api).items():
            opts.append({"option": f"recommended: {k}", "policy": _policy_text(chosen),
                         "slo_attainment": chosen["slo_attainment"], "cost_usd": v})
    if static_rep is not None and n_static is not None:
        st = _row(static_rep, m, n_static, None)
        static_costs = {"on-demand": n_static * n_hours * prices.on_demand}
        for k, rate in sorted(prices.commitments.items()):
            static_costs[k] = n_static * n_hours * rate
        for k, v in static_costs.items():
            opts.append({"option": f"static peak {k}", "policy": f"{n_static} replicas always on",
                         "slo_attainment": st["slo_attainment"], "cost_usd": v})
    options = pd.DataFrame(opts)
    if not options.empty:
        options["usd_per_1k_requests"] = options["cost_usd"] / n_req * 1e3
        options["usd_per_million_tokens"] = options["cost_usd"] / (tokens_in + tokens_out) * 1e6

    fam = sc.catalog[m.profile.family]
    carbon = sc.signals.regions[fam.region].carbon_mean_gco2_per_kwh
    summary: dict[str, Any] = {"family": m.profile.family, "requests": n_req, "replay_hours": n_hours,
                               "requests_per_s": n_req / horizon, "static_peak_replicas": n_static,
                               "meets_slo": chosen is not None}
    summary["batching"] = m.profile.batching
    if mean_api is not None:
        summary["api_usd_per_request"] = mean_api
        summary["break_even_requests_per_hour_on_demand"] = break_even_requests_per_hour(prices.on_demand, mean_api)
        best_name, best_rate = prices.best_commitment()
        summary["break_even_requests_per_hour_best_commitment"] = break_even_requests_per_hour(best_rate, mean_api)
        summary["best_commitment"] = best_name
    hourly = pd.DataFrame()
    teams = pd.DataFrame()
    if chosen is not None and chosen_rep is not None:
        floor_name = str(chosen["option"]).removeprefix("floor ").removesuffix(" + burst on-demand")
        floor_rate = prices.commitments.get(floor_name, prices.on_demand)
        hourly = unit_costs(chosen_rep.hourly, floor_rate, prices.on_demand, mean_api or 0.0)
        hourly["slo_attainment"] = hourly_slo(chosen_rep, m.slo).to_numpy()
        hourly.insert(0, "timestamp", pd.date_range(t0, periods=len(hourly), freq="h"))
        per = period_unit_costs(hourly)
        kwh = energy_kwh(float(hourly["busy_replica_hours"].sum()), float(hourly["idle_replica_hours"].sum()),
                         m.profile.gpus_per_replica, fam.gpu_power_kw, fam.pue, m.idle_power_share)
        teams = team_unit_costs(req, per["cost_usd"], per["usage_cost_usd"])
        summary.update({
            "warm_floor_replicas": int(chosen["min_warm_replicas"]),
            "target_utilization": float(chosen["target_utilization"]),
            "policy": _policy_text(chosen),
            "floor_product": floor_name, "slo_attainment": float(chosen["slo_attainment"]),
            "cost_usd": per["cost_usd"], "usd_per_1k_requests": per["usd_per_1k_requests"],
            "usd_per_million_tokens": per["usd_per_million_tokens"],
            "usage_usd_per_1k_requests": per["usage_usd_per_1k_requests"],
            "usage_usd_per_million_tokens": per["usage_usd_per_million_tokens"],
            "idle_replica_hours": float(hourly["idle_replica_hours"].sum()),
            "kwh_per_1k_requests": kwh / n_req * 1e3,
            "gco2e_per_1k_requests": kwh * carbon / n_req * 1e3,
            "events_per_request": float(chosen["events_per_request"]),
        })
        if static_rep is not None and n_static is not None:
            static_best = min(n_static * n_hours * r for r in [prices.on_demand, *prices.commitments.values()])
            summary["static_peak_cost_usd"] = static_best
            summary["saving_vs_static_peak_pct"] = 100.0 * (1.0 - per["cost_usd"] / static_best)
    return ModelPlan(name=name, model=m, requests=req, sweep=sweep, chosen=chosen, replay=chosen_rep,
                     static_replicas=n_static, static_replay=static_rep, hourly=hourly, options=options,
                     teams=teams, summary=summary)


def run_inference(sc: Scenario, start: pd.Timestamp | None = None) -> InferenceRun:
    """Plan every served model of ``sc.inference``.

    Parameters
    ----------
    sc
        A scenario with an ``[inference]`` section.
    start
        Start of generated traffic (tz-aware); default: the scenario's start, else
        :data:`DEFAULT_TRAFFIC_START`.  Trace traffic keeps its own times.

    Raises
    ------
    InputError
        When the scenario has no ``[inference]`` section or a trace is bad.
    """
    if sc.inference is None:
        raise InputError("the scenario has no [inference] section", column="inference",
                         fix="add [inference.models.NAME] with a profile (see gpuplan scenario show default)")
    st = start if start is not None else (pd.Timestamp(sc.start).tz_convert("UTC") if sc.start is not None
                                          else DEFAULT_TRAFFIC_START)
    hours = sc.inference.replay_hours
    models = {}
    notes = []
    for name, m in sc.inference.models.items():
        log.info("  inference: planning model '%s'", name)
        mp = plan_model(sc, name, m, st, hours)
        models[name] = mp
        if mp.chosen is None:
            notes.append(f"{name}: no swept policy meets the SLO (p{100 * m.slo.quantile:g} TTFT "
                         f"{m.slo.ttft_s:g} s, end-to-end {m.slo.e2e_s:g} s); raise max_replicas or relax the SLO")
        if mp.replay is not None:
            notes += [f"{name}: {x}" for x in mp.replay.notes]
    return InferenceRun(scenario=sc, start=st, hours=hours, models=models, notes=notes)


def add_steady_demand(paths: pd.DataFrame, demand: pd.DataFrame) -> pd.DataFrame:
    """Add an hourly demand per family (``series_id, timestamp, gpus``) to every sample path [GPUs].

    Hours and families of ``paths`` without a row in ``demand`` are unchanged; ``demand`` rows outside
    ``paths`` are ignored (the plan window decides).
    """
    if demand.empty:
        return paths
    add = demand.rename(columns={"gpus": "_add"})[["series_id", "timestamp", "_add"]]
    out = paths.merge(add.astype({"series_id": paths["series_id"].dtype}), on=["series_id", "timestamp"],
                      how="left", sort=False)
    out["gpus"] = out["gpus"] + out.pop("_add").fillna(0.0)
    return out[paths.columns]


def inference_tables(run: InferenceRun) -> dict[str, pd.DataFrame]:
    """CSV tables of an inference run, by file stem."""
    t: dict[str, pd.DataFrame] = {"inference_summary": run.summary_table()}
    for n, m in run.models.items():
        t[f"inference_{n}_sweep"] = m.sweep
        t[f"inference_{n}_options"] = m.options
        t[f"inference_{n}_hourly"] = m.hourly
        t[f"inference_{n}_teams"] = m.teams
    floor = run.floor_demand(run.start, run.hours)
    t["inference_warm_floor_demand"] = floor
    return {k: v for k, v in t.items() if len(v.columns)}


def add_inference_section(report: Any, run: InferenceRun) -> None:
    """Append the inference section to a :class:`gpuplan.report.Report`."""
    sec = report.section("Inference serving")
    sec.text("Each served model's requests are replayed on replicas (batching, queueing, cold starts, an "
             "autoscaler) for a sweep of warm floors and target utilisations; the cheapest policy that meets the "
             "latency SLO is recommended, and compared with the API and with static provisioning for the peak.")
    for n, m in run.models.items():
        s = m.summary
        items = [("requests replayed", f"{s['requests']:,}"), ("static peak replicas", str(s["static_peak_replicas"]))]
        if "usd_per_1k_requests" in s:
            items += [("warm floor (replicas)", str(s["warm_floor_replicas"])),
                      ("policy", str(s["policy"])),
                      ("SLO attainment", f"{100 * s['slo_attainment']:.1f} %"),
                      ("USD per 1,000 requests", f"{s['usd_per_1k_requests']:.3f}"),
                      ("gCO2e per 1,000 requests", f"{s['gco2e_per_1k_requests']:,.0f}")]
        if "break_even_requests_per_hour_on_demand" in s:
            items.append(("break-even vs API per replica (req/h, on demand)",
                          f"{s['break_even_requests_per_hour_on_demand']:,.0f}"))
        sec.html(f"<h3>Model {n} on {m.model.profile.family}</h3>")
        sec.kpis(items)
        if len(m.options):
            sec.table(m.options, caption=f"{n}: cost of each option over the replay")
        sec.table(m.sweep.drop(columns=["replay_wall_s"]), caption=f"{n}: swept policies")
        if m.model.profile.source:
            sec.assume(f"{n} serving profile: {m.model.profile.source}")
        if m.model.api is not None and m.model.api.source:
            sec.assume(f"{n} API price: {m.model.api.source}")
    modes = {m.model.profile.batching for m in run.models.values()}
    if "continuous" in modes:
        sec.assume("Continuous (iteration-level) batching: a request joins the running batch once a slot is free "
                   "and its prompt is prefilled (pausing the batch's decode), and leaves when its own output is "
                   "done; decode speed follows the batch's current size.")
    if "static" in modes:
        sec.assume("Static batching: a batch holds its replica until its longest output is done (conservative "
                   "against continuous batching).")
    sec.assume("Requests sent to the API on overflow are assumed to meet the SLO.",
               "Carbon per request uses the region's mean carbon intensity.")
    for note in run.notes:
        sec.text(note)


def write_inference(run: InferenceRun, out_dir: str | Path) -> Path:
    """Write ``inference.html``, ``inference_summary.json`` and ``tables/*.csv`` atomically; return the HTML path."""
    from gpuplan.report import Report

    rep = Report(title=f"Inference plan: {run.scenario.name}", subtitle=run.scenario.description)
    add_inference_section(rep, run)
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        for name, df in inference_tables(run).items():
            write_frame(df, tmp / "tables" / f"{name}.csv")
        atomic_write(tmp / "inference_summary.json",
                     json.dumps({n: _plain(m.summary) for n, m in run.models.items()}, indent=2))
        atomic_write(tmp / "inference.html", rep.render())
    return out / "inference.html"


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in d.items()}
