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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.inference import (
    ReplicaPrices,
    api_usd_per_request,
    break_even_requests_per_hour,
    choose_block_floors,
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
from scenarios.inference_config import InferenceModel, Slo
from scenarios.io import atomic_dir, atomic_write, write_frame
from scenarios.schema import Scenario
from scenarios.signals import load_signals, load_spot
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
    notes: list[str] = field(default_factory=list)
    hourly_floor: pd.DataFrame = field(default_factory=pd.DataFrame)

    def floor_by_hour_of_day(self) -> np.ndarray:
        """Warm floor of the chosen policy in each hour of day 0..23 UTC [replicas]; zeros when none is chosen.

        A flat floor is the same in every hour; a floor on spot (``all spot``) is zero, since it is not capacity
        to commit; hours of day the replay did not cover take the floor's minimum.
        """
        c = self.chosen
        if c is None or str(c["spot"]) == "all":
            return np.zeros(24)
        low = float(c["min_warm_replicas"])
        if c["floor_plan"] != "hourly":
            return np.full(24, low)
        return np.array([low if x == "-" else float(x) for x in str(c["floor_by_hour"]).split(",")])


@dataclass
class InferenceRun:
    """Every model's plan and the warm floor as demand."""

    scenario: Scenario
    start: pd.Timestamp
    hours: int
    models: dict[str, ModelPlan]
    notes: list[str] = field(default_factory=list)

    def floor_gpus_by_hour(self) -> dict[str, np.ndarray]:
        """Warm-floor GPUs per family of the chosen policies in each hour of day 0..23 UTC [GPUs]."""
        out: dict[str, np.ndarray] = {}
        for mp in self.models.values():
            if mp.chosen is not None:
                fam = mp.model.profile.family
                out[fam] = out.get(fam, np.zeros(24)) + mp.floor_by_hour_of_day() * mp.model.profile.gpus_per_replica
        return out

    def floor_gpus(self) -> dict[str, float]:
        """Committable warm-floor GPUs per family [GPUs]: the floor's minimum over the hours of day.

        Only the part of the floor that runs every hour can be covered by a commitment; the rest of a floor that
        varies by hour is paid on demand (see :meth:`floor_demand`), a floor on spot is not counted.
        """
        return {f: float(np.min(g)) for f, g in self.floor_gpus_by_hour().items()}

    def floor_demand(self, start: pd.Timestamp, hours: int) -> pd.DataFrame:
        """The warm floor over a plan horizon as hourly demand per family (``series_id, timestamp, gpus``).

        ``gpus`` is the floor of each hour (it varies by hour of day when the chosen floor does);
        ``committable_gpus`` is its minimum, the part a commitment can cover.
        """
        return warm_floor_demand(self.floor_gpus_by_hour(), start, hours)

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


def _row(rep: InferenceReplay, m: InferenceModel, floor: int, target: float | None, spot: str = "none",
         spot_rate: np.ndarray | None = None, hazard: float = 0.0) -> dict[str, Any]:
    h = rep.hourly
    spot_usd = float((h["spot_replica_hours"].to_numpy() * spot_rate).sum()) if spot_rate is not None else 0.0
    return {
        "min_warm_replicas": floor, "target_utilization": target, "spot": spot, "floor_plan": "flat",
        "floor_by_hour": "",
        "slo_attainment": rep.slo_attainment(m.slo),
        "p95_ttft_s": float(np.nanquantile(rep.requests["ttft_s"], m.slo.quantile)) if h["served"].sum() else np.nan,
        "p95_e2e_s": float(np.nanquantile(rep.requests["e2e_s"], m.slo.quantile)) if h["served"].sum() else np.nan,
        "floor_replica_hours": float(h["floor_replica_hours"].sum()),
        "autoscaled_replica_hours": float(h["autoscaled_replica_hours"].sum()),
        "spot_replica_hours": float(h["spot_replica_hours"].sum()),
        "spot_floor_replica_hours": float(h["spot_floor_replica_hours"].sum()),
        "spot_cost_usd": spot_usd,
        "revocations": int(h["revocations"].sum()), "requeued": int(h["requeued"].sum()),
        "expected_revocations_per_30_days": float(h["spot_replica_hours"].sum()) * hazard * 720.0 / len(h),
        "busy_replica_hours": float(h["busy_replica_hours"].sum()),
        "idle_replica_hours": float(h["idle_replica_hours"].sum()),
        "peak_replicas": len(rep.replicas) if target is None else int(_peak(rep)),
        "requests": int(h["requests"].sum()), "api_overflow": int(h["api_overflow"].sum()),
        "unserved": int(h["unserved"].sum()),
        "events_per_request": rep.events / max(int(h["requests"].sum()), 1), "replay_wall_s": rep.wall_s,
    }


def _policy_text(row: pd.Series) -> str:
    spot = {"burst": ", autoscaled replicas on spot", "all": ", all replicas on spot"}.get(str(row.get("spot")), "")
    if pd.isna(row["target_utilization"]):
        return f"{int(row['min_warm_replicas'])} replicas always on (no autoscaling){spot.replace('autoscaled ', '')}"
    if row.get("floor_plan") == "hourly":
        return (f"warm floor by hour of day {row['floor_by_hour']} (minimum {int(row['min_warm_replicas'])} "
                f"committable), autoscale to {row['target_utilization']:.2f} utilisation")
    return (f"warm floor {int(row['min_warm_replicas'])}, autoscale to {row['target_utilization']:.2f} "
            f"utilisation{spot}")


def _peak(rep: InferenceReplay) -> int:
    r = rep.replicas
    t = np.concatenate([r["asked_s"].to_numpy(), r["stop_s"].to_numpy()])
    d = np.concatenate([np.ones(len(r)), -np.ones(len(r))])
    order = np.lexsort((d, t))   # stops before starts at the same instant
    return int(np.max(np.cumsum(d[order]), initial=0))


def spot_replica_rate(sc: Scenario, m: InferenceModel, t0: pd.Timestamp, hours: int) -> tuple[np.ndarray | None,
                                                                                           list[str]]:
    """Spot rate of one replica in each hour of the replay [USD/replica-hour], or None without a spot offer.

    The hourly spot table the plan uses (:func:`scenarios.signals.load_spot`: the offer's price file or its
    seeded generated series around the level) times GPUs per replica.
    """
    offer = sc.catalog[m.profile.family].spot
    if offer is None:
        return None, [f"{m.profile.family} has no spot offer in the catalog: no spot option"]
    table = load_spot(sc, t0, hours)
    rows = table[table["family"] == m.profile.family]
    notes = list(table.attrs.get("notes", []))
    if len(rows) == hours:
        price = rows["usd_per_gpu_hour"].to_numpy(float)
    else:
        level, note = offer.level_without_table(m.profile.family)
        price = np.full(hours, level)
        notes += [note] if note else []
    return price * m.profile.gpus_per_replica, notes


def hourly_floor_search(run_flat: Callable[[int], InferenceReplay],
                        run_hourly: Callable[[list[int]], InferenceReplay], block_of_hour: np.ndarray,
                        max_floor: int, slo: Slo, prices: ReplicaPrices, tries: int = 4
                        ) -> tuple[list[int], InferenceReplay, list[str]] | None:
    """A warm floor per block of hours: cheapest by :func:`optimizer.inference.choose_block_floors`, replayed.

    ``run_flat(f)`` replays a flat floor ``f`` (``0 .. max_floor``); per block of hours it gives the requests
    meeting the SLO and the replica-hours paid.  The chosen floors are replayed with ``run_hourly`` (one floor
    per replay hour); when that replay misses the SLO (backlog carried across an hour, pre-warming), the
    requests to meet are raised by the shortfall and the choice is made again, up to ``tries`` times.

    Returns
    -------
    (floors per block, replay, notes) or None
        None when no choice meets the SLO in a replay.
    """
    blocks = np.unique(block_of_hour)
    pos = np.searchsorted(blocks, block_of_hour)
    n_b, n_f = len(blocks), max_floor + 1
    met = np.zeros((n_b, n_f))
    rh = np.zeros((n_b, n_f))
    n_req = 0
    for f in range(n_f):
        rep = run_flat(f)
        h = rep.hourly
        ok = hourly_slo(rep, slo).to_numpy() * h["requests"].to_numpy()
        met[:, f] = np.bincount(pos, weights=np.round(ok), minlength=n_b)
        rh[:, f] = np.bincount(pos, weights=h["replica_hours"].to_numpy(), minlength=n_b)
        n_req = int(h["requests"].sum())
    hours_b = np.bincount(pos, minlength=n_b).astype(float)
    need = math.ceil(slo.quantile * n_req - 1e-9)
    commit = prices.best_commitment()[1]
    notes: list[str] = []
    for _ in range(tries):
        got = choose_block_floors(met, rh, need, hours_b, prices.on_demand, commit)
        if got is None:
            return None
        floors = got[0]
        rep = run_hourly([floors[p] for p in pos])
        r = rep.requests
        ok = int((((r["status"] == "served") & (r["ttft_s"] <= slo.ttft_s) & (r["e2e_s"] <= slo.e2e_s))
                  | (r["status"] == "api_overflow")).sum())
        if rep.slo_attainment(slo) >= slo.quantile:
            return [int(x) for x in floors], rep, notes
        notes.append(f"hourly floor {floors} met the SLO for {ok:,} requests in its replay, {need - ok:,} short of "
                     f"the estimate; asked for that many more")
        need += max(need - ok, 1)
        if need > n_req:
            return None
    return None


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
    fam = sc.catalog[m.profile.family]
    plan_notes: list[str] = []
    spot_rate: np.ndarray | None = None
    hazard = 0.0
    if m.policy.allow_spot:
        spot_rate, sn = spot_replica_rate(sc, m, t0, n_hours)
        plan_notes += sn
        if fam.spot is not None:
            hazard = fam.spot.hazard()
            plan_notes.append(
                f"spot replicas revoked at {hazard:.6f}/h each ({fam.spot.interruption_band or 'given'} monthly "
                f"interruption band); replaced after the {m.profile.cold_start_s:g} s cold start on "
                f"{m.policy.spot_replacement}; correlated revocations, droughts and the spot capacity cap are not "
                f"modelled for replicas")
    seed = sc.simulation.seed

    def run(floor: int, target: float | None, static: int | None = None, spot: str = "none",
            floor_by_hour: list[int] | None = None, max_replicas: int | None = None) -> InferenceReplay:
        kw: dict[str, Any] = {"spot": spot, "spot_hazard_per_hour": hazard if spot != "none" else 0.0,
                              "spot_replacement": m.policy.spot_replacement, "seed": seed}
        if static is not None:
            pol = m.policy.model_copy(update={"min_warm_replicas": static, "max_replicas": max(static, 1)})
            return replay(arr, inp, out, m.profile, pol, horizon_s=horizon, autoscale=False, **kw)
        top = m.policy.max_replicas if max_replicas is None else max_replicas
        pol = m.policy.model_copy(update={"min_warm_replicas": floor, "target_utilization": target,
                                          "max_replicas": max(top, floor)})
        return replay(arr, inp, out, m.profile, pol, horizon_s=horizon, initial_replicas=max(floor, 1),
                      floor_by_hour=floor_by_hour, **kw)

    # static provisioning for the peak at the same SLO (the baseline the policy must beat)
    static_cache: dict[int, InferenceReplay] = {}

    def meets(c: int) -> bool:
        static_cache[c] = run(c, None, static=c)
        return static_cache[c].slo_attainment(m.slo) >= m.slo.quantile

    n_static = smallest_static(meets, 1, m.policy.max_replicas)
    static_rep = static_cache.get(n_static) if n_static is not None else None
    floors = sc.inference.sweep_min_warm if sc.inference.sweep_min_warm is not None else \
        list(range(0, (n_static or m.policy.max_replicas) + 1))
    modes = ["none"] + (["burst", "all"] if spot_rate is not None else [])
    rows, reps = [], {}
    for floor, target in sweep_grid(floors, sc.inference.sweep_target_utilization):
        for mode in modes:
            if mode == "all" and floor == 0:
                continue        # nothing but the burst to put on spot: the burst option already covers it
            rep = run(floor, target, spot=mode)
            reps[(floor, target, mode, "flat")] = rep
            rows.append(_row(rep, m, floor, target, mode, spot_rate if mode != "none" else None, hazard))
    if static_rep is not None and n_static is not None:
        # static provisioning is a policy too: n replicas always on, no autoscaling
        rows.append({**_row(static_rep, m, n_static, None), "autoscaled_replica_hours": 0.0,
                     "floor_replica_hours": n_static * n_hours})
        reps[(n_static, -1.0, "none", "flat")] = static_rep
        if "all" in modes:      # the same replicas always on, on spot
            sp_rep = run(n_static, None, static=n_static, spot="all")
            rows.append({**_row(sp_rep, m, n_static, None, "all", spot_rate, hazard), "autoscaled_replica_hours": 0.0,
                         "floor_replica_hours": n_static * n_hours})
            reps[(n_static, -1.0, "all", "flat")] = sp_rep
    sweep, chosen = choose_policy(pd.DataFrame(rows), prices, m.slo.quantile, mean_api)

    # a warm floor per block of the day, from flat replays: with the best flat autoscaled policy's target, and
    # scheduled only (target 1: the autoscaler adds replicas only when the queue outgrows every batch slot, up to
    # the largest floor)
    flat_ok = sweep[sweep["meets_slo"] & sweep["target_utilization"].notna() & (sweep["spot"] == "none")]
    hourly_info: dict[str, Any] = {}
    blocks = sc.inference.hourly_floor_blocks
    if blocks and not flat_ok.empty:
        best_flat = flat_ok.sort_values(["cost_usd", "min_warm_replicas", "target_utilization"], kind="stable").iloc[0]
        max_floor = max([*floors, n_static or 0])
        h0 = (t0.tz_convert("UTC") if t0.tzinfo is not None else t0).hour   # blocks of the UTC day
        hod = ((h0 + np.arange(n_hours)) % 24) // (24 // blocks)
        found_any: list[tuple[float, float, int | None, list[int], InferenceReplay]] = []
        for tgt, top in ((float(best_flat["target_utilization"]), None), (1.0, max_floor)):

            def flat(f: int, tgt: float = tgt, top: int | None = top) -> InferenceReplay:
                key = (f, tgt, "none", "flat" if top is None else f"flat<={top}")
                if key not in reps:
                    reps[key] = run(f, tgt, max_replicas=top)
                return reps[key]

            def hourly_run(fb: list[int], tgt: float = tgt, top: int | None = top) -> InferenceReplay:
                return run(min(fb), tgt, floor_by_hour=fb, max_replicas=top)

            found = hourly_floor_search(flat, hourly_run, hod, max_floor, m.slo, prices)
            if found is None:
                plan_notes.append(f"no warm floor varying by hour met the SLO in a replay at target {tgt:g}")
                continue
            fb_blocks, hrep, hnotes = found
            plan_notes += hnotes
            low = min(fb_blocks)
            cost = option_costs({**_row(hrep, m, low, tgt), "floor_replica_hours": float(low * n_hours),
                                 "autoscaled_replica_hours": hrep.replica_hours() - low * n_hours},
                                prices, mean_api)
            found_any.append((min(cost.values()), tgt, top, fb_blocks, hrep))
        if found_any:
            _, tgt, top, fb_blocks, hrep = min(found_any, key=lambda x: x[0])
            present = np.unique(hod)
            by_hour = [fb_blocks[int(np.searchsorted(present, b))] if b in present else None
                       for b in (np.arange(24) // (24 // blocks))]
            low = min(fb_blocks)
            r = _row(hrep, m, low, tgt)
            total = r["floor_replica_hours"] + r["autoscaled_replica_hours"]
            r.update({"floor_plan": "hourly", "floor_by_hour": ",".join("-" if x is None else str(x) for x in by_hour),
                      "scheduled_floor_replica_hours": r["floor_replica_hours"],
                      "floor_replica_hours": float(low * n_hours), "autoscaled_replica_hours": total - low * n_hours})
            reps[(low, tgt, "none", "hourly")] = hrep
            rows.append(r)
            sweep, chosen = choose_policy(pd.DataFrame(rows), prices, m.slo.quantile, mean_api)
            # the comparison: the cheapest flat floor (autoscaled or static, not on spot) meeting the SLO
            flats = sweep[sweep["meets_slo"] & (sweep["spot"] == "none") & (sweep["floor_plan"] == "flat")]
            hourly_info = {"by_hour_of_day": by_hour, "target": tgt, "max_replicas": top,
                           "flat_row": flats.sort_values(["cost_usd", "min_warm_replicas"], kind="stable").iloc[0]}
    sweep.insert(2, "autoscaling", sweep["target_utilization"].notna())
    chosen_rep = None
    if chosen is not None:
        tgt_c = chosen["target_utilization"]
        chosen_rep = reps[(int(chosen["min_warm_replicas"]), -1.0 if pd.isna(tgt_c) else float(tgt_c),
                           str(chosen["spot"]), str(chosen["floor_plan"]))]

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
    # the cheapest policy of each kind (flat autoscaled, burst on spot, all spot, floor by hour), SLO met or not
    kinds = [("autoscaled, flat floor", (sweep["spot"] == "none") & (sweep["floor_plan"] == "flat")
              & sweep["autoscaling"]),
             ("autoscaled, burst on spot", sweep["spot"] == "burst"),
             ("all on spot", sweep["spot"] == "all"),
             ("autoscaled, floor by hour of day", sweep["floor_plan"] == "hourly")]
    for label, mask in kinds:
        cand = sweep[mask]
        if cand.empty:
            continue
        ok = cand[cand["meets_slo"]]
        best = (ok if not ok.empty else cand).sort_values(["cost_usd", "min_warm_replicas"], kind="stable").iloc[0]
        opts.append({"option": f"{label}: {best['option']}", "policy": _policy_text(best),
                     "slo_attainment": best["slo_attainment"], "cost_usd": best["cost_usd"]})
    options = pd.DataFrame(opts)
    if not options.empty:
        options["meets_slo"] = options["slo_attainment"].isna() | (options["slo_attainment"] >= m.slo.quantile)
        options["usd_per_1k_requests"] = options["cost_usd"] / n_req * 1e3
        options["usd_per_million_tokens"] = options["cost_usd"] / (tokens_in + tokens_out) * 1e6

    carbon_tab, _ = load_signals(sc, t0, n_hours)
    ci = carbon_tab.loc[carbon_tab["region"] == fam.region, "gco2_per_kwh"].to_numpy(float)
    summary: dict[str, Any] = {"family": m.profile.family, "requests": n_req, "replay_hours": n_hours,
                               "requests_per_s": n_req / horizon, "static_peak_replicas": n_static,
                               "meets_slo": chosen is not None}
    if mean_api is not None:
        summary["api_usd_per_request"] = mean_api
        summary["break_even_requests_per_hour_on_demand"] = break_even_requests_per_hour(prices.on_demand, mean_api)
        best_name, best_rate = prices.best_commitment()
        summary["break_even_requests_per_hour_best_commitment"] = break_even_requests_per_hour(best_rate, mean_api)
        summary["best_commitment"] = best_name
    hourly = pd.DataFrame()
    teams = pd.DataFrame()
    if chosen is not None and chosen_rep is not None:
        opt_name = str(chosen["option"])
        floor_name = opt_name.removeprefix("floor ").removesuffix(" + burst on-demand").removesuffix(" + burst spot")
        floor_rate = prices.commitments.get(floor_name, prices.on_demand)
        is_hourly = chosen["floor_plan"] == "hourly"
        hourly = unit_costs(chosen_rep.hourly, floor_rate, prices.on_demand, mean_api or 0.0,
                            spot_rate=spot_rate if chosen["spot"] != "none" else None,
                            committed_replicas=float(chosen["min_warm_replicas"]) if is_hourly else None)
        hourly["slo_attainment"] = hourly_slo(chosen_rep, m.slo).to_numpy()
        hourly.insert(0, "timestamp", pd.date_range(t0, periods=len(hourly), freq="h"))
        per = period_unit_costs(hourly)
        kwh_h = energy_kwh(hourly["busy_replica_hours"].to_numpy(float), hourly["idle_replica_hours"].to_numpy(float),
                           m.profile.gpus_per_replica, fam.gpu_power_kw, fam.pue, m.idle_power_share)
        hourly["kwh"] = kwh_h
        hourly["gco2_per_kwh"] = ci[:len(hourly)]
        hourly["kg_co2e"] = kwh_h * ci[:len(hourly)] / 1e3
        kwh = float(np.sum(kwh_h))
        teams = team_unit_costs(req, per["cost_usd"], per["usage_cost_usd"])
        summary.update({
            "warm_floor_replicas": int(chosen["min_warm_replicas"]),
            "target_utilization": float(chosen["target_utilization"]),
            "policy": _policy_text(chosen), "option": opt_name, "spot": str(chosen["spot"]),
            "floor_plan": str(chosen["floor_plan"]),
            "floor_product": floor_name if opt_name != "all spot" else "spot",
            "slo_attainment": float(chosen["slo_attainment"]),
            "cost_usd": per["cost_usd"], "usd_per_1k_requests": per["usd_per_1k_requests"],
            "usd_per_million_tokens": per["usd_per_million_tokens"],
            "usage_usd_per_1k_requests": per["usage_usd_per_1k_requests"],
            "usage_usd_per_million_tokens": per["usage_usd_per_million_tokens"],
            "idle_replica_hours": float(hourly["idle_replica_hours"].sum()),
            "kwh_per_1k_requests": kwh / n_req * 1e3,
            "gco2e_per_1k_requests": float(hourly["kg_co2e"].sum()) * 1e3 / n_req * 1e3,
            "events_per_request": float(chosen["events_per_request"]),
        })
        if is_hourly:
            summary["floor_by_hour_of_day"] = str(chosen["floor_by_hour"])
        if static_rep is not None and n_static is not None:
            static_best = min(n_static * n_hours * r for r in [prices.on_demand, *prices.commitments.values()])
            summary["static_peak_cost_usd"] = static_best
            summary["saving_vs_static_peak_pct"] = 100.0 * (1.0 - per["cost_usd"] / static_best)
    hourly_floor = pd.DataFrame()
    if hourly_info:
        hr = sweep[sweep["floor_plan"] == "hourly"].iloc[0]
        fl = hourly_info["flat_row"]
        hrep_ = reps[(int(hr["min_warm_replicas"]), float(hr["target_utilization"]), "none", "hourly")]
        hourly_floor = unit_costs(hrep_.hourly, prices.best_commitment()[1], prices.on_demand, mean_api or 0.0,
                                  committed_replicas=float(hr["min_warm_replicas"]))
        hourly_floor["committed_floor_replicas"] = int(hr["min_warm_replicas"])
        hourly_floor["slo_attainment"] = hourly_slo(hrep_, m.slo).to_numpy()
        hourly_floor.insert(0, "timestamp", pd.date_range(t0, periods=len(hourly_floor), freq="h"))
        summary.update({
            "hourly_floor_by_hour_of_day": ",".join("-" if x is None else str(x)
                                                    for x in hourly_info["by_hour_of_day"]),
            "hourly_floor_usd_per_1k_requests": float(hr["cost_usd"]) / n_req * 1e3,
            "hourly_floor_slo_attainment": float(hr["slo_attainment"]),
            "flat_floor_usd_per_1k_requests": float(fl["cost_usd"]) / n_req * 1e3,
            "flat_floor_slo_attainment": float(fl["slo_attainment"]),
            "flat_floor_replicas": int(fl["min_warm_replicas"]), "flat_floor_policy": _policy_text(fl),
            "hourly_floor_saving_vs_flat_pct": 100.0 * (1.0 - float(hr["cost_usd"]) / float(fl["cost_usd"])),
        })
    return ModelPlan(name=name, model=m, requests=req, sweep=sweep, chosen=chosen, replay=chosen_rep,
                     static_replicas=n_static, static_replay=static_rep, hourly=hourly, options=options,
                     teams=teams, summary=summary, notes=plan_notes, hourly_floor=hourly_floor)


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
        notes += [f"{name}: {x}" for x in mp.notes]
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
        t[f"inference_{n}_hourly_floor"] = m.hourly_floor
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
        if "hourly_floor_usd_per_1k_requests" in s:
            items += [("warm floor by hour of day (UTC 0-23)", str(s["hourly_floor_by_hour_of_day"])),
                      ("floor by hour: USD per 1,000 requests (SLO attainment)",
                       f"{s['hourly_floor_usd_per_1k_requests']:.3f} ({100 * s['hourly_floor_slo_attainment']:.1f} %)"),
                      ("cheapest flat floor meeting the SLO: USD per 1,000 requests (SLO attainment)",
                       f"{s['flat_floor_usd_per_1k_requests']:.3f} ({100 * s['flat_floor_slo_attainment']:.1f} %)"),
                      ("saving of the floor by hour vs the flat floor (both replayed)",
                       f"{s['hourly_floor_saving_vs_flat_pct']:.1f} %")]
        if "break_even_requests_per_hour_on_demand" in s:
            items.append(("break-even vs API per replica (req/h, on demand)",
                          f"{s['break_even_requests_per_hour_on_demand']:,.0f}"))
        sec.html(f"<h3>Model {n} on {m.model.profile.family}</h3>")
        sec.kpis(items)
        if len(m.options):
            sec.table(m.options, caption=f"{n}: cost of each option over the replay")
        sec.table(m.sweep.drop(columns=["replay_wall_s"]), caption=f"{n}: swept policies")
        if len(m.hourly_floor):
            cols = ["timestamp", "requests", "warm_floor_replicas", "committed_floor_replicas", "floor_replica_hours",
                    "autoscaled_replica_hours", "slo_attainment", "usd_per_1k_requests"]
            sec.table(m.hourly_floor[cols], caption=f"{n}: warm floor by hour of day, per hour of its replay. Only "
                      "the minimum over the hours (committed_floor_replicas) runs every hour and can be committed; "
                      "the rest of the floor is paid on demand, like the autoscaled replicas")
        committable = float(m.floor_by_hour_of_day().min()) * m.model.profile.gpus_per_replica
        sec.text(f"{n}: the recommended policy's committable warm floor is {committable:g} GPUs of "
                 f"{m.model.profile.family} (the floor's minimum over the hours of the day; a floor on spot is not "
                 "committable).")
        if m.model.profile.source:
            sec.assume(f"{n} serving profile: {m.model.profile.source}")
        if m.model.api is not None and m.model.api.source:
            sec.assume(f"{n} API price: {m.model.api.source}")
    sec.assume("Static batching: a batch holds its replica until its longest output is done (conservative "
               "against continuous batching).",
               "Requests sent to the API on overflow are assumed to meet the SLO.",
               "Spot replicas are revoked independently at the family's hazard (its interruption band); correlated "
               "revocations, capacity droughts and the spot capacity cap of the catalog are not modelled for "
               "replicas, and one day holds few revocations: expected_revocations_per_30_days in the sweep says how "
               "many a month would bring.",
               "Carbon per request: each hour's energy (busy replicas at full power, idle ones at idle_power_share, "
               "times PUE) times that hour's carbon intensity of the family's region.")
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
