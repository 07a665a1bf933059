"""From usage to money, energy and carbon: the hourly bill, per-job costs, team showback and KPIs.

Everything here is vectorised over hours and segments.  The hourly bill is the source of truth: per-job and
per-team figures are integrals of the same hourly rates, so they add up to it.

- Reserved: ``reserved_gpus x rate`` every hour, used or idle.
- Committed spend: applied each hour to the on-demand-instance usage of the jobs and the fluid load
  (:mod:`simulator.coverage`); the unused part is still paid.
- On-demand: uncovered on-demand-instance GPU-hours x the on-demand price.
- Spot: spot GPU-hours x the hourly spot price.
- Energy: ``kWh = GPU-hours x gpu_power_kw x pue``; ``energy_usd = kWh x usd_per_mwh / 1000``;
  ``kg_co2e = kWh x gco2_per_kwh / 1000``.  Energy cost is reported beside the cloud bill, not added to it
  (cloud prices already include power); ``carbon_usd`` prices carbon at the internal carbon price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.coverage import apply_commitments
from simulator.engine import FINISHED, ODI, RES, SPOT, STOPPED, JobRecords
from simulator.fluid import FluidLoad
from simulator.inputs import SimulationInputs

DEMAND_TEAM = "(demand)"
UNALLOCATED = "(unallocated)"


def hourly_integral(t0: np.ndarray, t1: np.ndarray, weight: np.ndarray, group: np.ndarray, n_groups: int,
                    hours: int) -> np.ndarray:
    """GPU-hours in each hour of intervals ``[t0, t1)`` with ``weight`` GPUs, summed per group.

    Uses ramps: the integral up to integer ``t`` of one interval is ``w (ramp(t - t0) - ramp(t - t1))``,
    accumulated with bincounts and cumulative sums, so the cost is O(intervals + groups x hours).

    Returns
    -------
    numpy.ndarray
        ``(n_groups, hours)`` [GPU-hours].
    """
    out_shape = (n_groups, hours + 1)
    if len(t0) == 0:
        return np.zeros((n_groups, hours))
    a = np.clip(t0, 0.0, hours)
    b = np.clip(t1, 0.0, hours)
    base = group.astype(np.int64) * (hours + 1)
    ka = base + np.ceil(a).astype(np.int64)
    kb = base + np.ceil(b).astype(np.int64)
    size = n_groups * (hours + 1)
    w = np.bincount(ka, weight, size) - np.bincount(kb, weight, size)
    wa = np.bincount(ka, weight * a, size) - np.bincount(kb, weight * b, size)
    W = np.cumsum(w.reshape(out_shape), axis=1)
    WA = np.cumsum(wa.reshape(out_shape), axis=1)
    F = np.arange(hours + 1) * W - WA
    return np.diff(F, axis=1)


def _interval_integral(rate: np.ndarray, f: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """``integral of rate[f] over [t0, t1]`` for hourly piecewise-constant ``rate`` ``(families, hours)``."""
    H = rate.shape[1]
    cum = np.concatenate([np.zeros((rate.shape[0], 1)), np.cumsum(rate, axis=1)], axis=1)

    def at(t: np.ndarray) -> np.ndarray:
        h = np.minimum(np.floor(t).astype(np.int64), H - 1)
        return cum[f, h] + (t - h) * rate[f, h]

    return at(t1) - at(t0)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


@dataclass
class Bill:
    """One replication's accounts (frames use an integer ``hour`` column; the caller adds timestamps)."""

    jobs: pd.DataFrame
    teams: pd.DataFrame
    kpis: dict[str, float]
    hourly: pd.DataFrame | None
    charges: pd.DataFrame | None


def account(inputs: SimulationInputs, load: FluidLoad, rec: JobRecords, *, detail: bool,
            demand_share: np.ndarray | None = None) -> Bill:
    """Price one replication: hourly bill, per-job costs, team showback and KPIs.

    Parameters
    ----------
    inputs
        The simulation description.
    load
        The fluid load's placement.
    rec
        The jobs' usage segments and outcomes.
    detail
        Whether to build the hourly and per-team charge tables (large for long windows).
    """
    fams = inputs.families
    F, H = len(fams), inputs.hours
    J = inputs.jobs
    n = len(J)
    g = J.gpus.astype(float)
    sj, sp, t0, t1 = rec.seg_job, rec.seg_pool, rec.seg_start, rec.seg_end
    sg = g[sj]
    sf = J.family[sj]
    st = J.team[sj]

    jfp = hourly_integral(t0, t1, sg, sf * 3 + sp, F * 3, H).reshape(F, 3, H)
    jres, jodi, jspot = jfp[:, RES], jfp[:, ODI], jfp[:, SPOT]

    R = np.array([fl.reserved_gpus for fl in fams]).reshape(F, H)
    r_usd = np.array([fl.reserved_usd_per_hour for fl in fams]).reshape(F, H)
    res_rate = _div(r_usd, R)
    od_price = np.array([fl.on_demand_usd_per_gpu_hour for fl in fams])
    spot_price = np.nan_to_num(np.array([fl.spot_usd_per_gpu_hour for fl in fams]).reshape(F, H))
    avail = np.array([fl.spot_available_gpus for fl in fams]).reshape(F, H)
    kw = np.array([fl.kw_per_gpu for fl in fams])
    carbon = np.array([fl.carbon_gco2_per_kwh for fl in fams]).reshape(F, H)
    eprice = np.array([fl.energy_usd_per_mwh for fl in fams]).reshape(F, H)

    res_used = load.reserved + jres
    idle = np.maximum(R - res_used, 0.0)
    odi_total = load.odinst_billed + jodi
    cov = apply_commitments(inputs, odi_total)
    covered = np.minimum(cov.covered_gpu_hours, odi_total)
    cov_usd = cov.covered_usd
    ondemand = np.maximum(odi_total - covered, 0.0)
    spot_total = load.spot_billed + jspot
    cov_frac = _div(covered, odi_total)
    cov_rate = _div(cov_usd, odi_total)
    committed_paid = inputs.committed_total()
    unused_usd = cov.unused_usd.sum(axis=0) if len(cov.terms) else np.zeros(H)

    cost_res_used = res_used * res_rate
    cost_res_idle = np.maximum(r_usd - cost_res_used, 0.0)
    cost_spot = spot_total * spot_price
    cost_od = ondemand * od_price[:, None]
    busy = res_used + odi_total + spot_total
    kwh_fh = busy * kw[:, None]

    # -- per job ----------------------------------------------------------------------------------------
    dt = t1 - t0
    gh = sg * dt
    isr, iso, iss = sp == RES, sp == ODI, sp == SPOT
    seg_res_cost = np.where(isr, sg * _interval_integral(res_rate, sf, t0, t1), 0.0)
    seg_com_gh = np.where(iso, sg * _interval_integral(cov_frac, sf, t0, t1), 0.0)
    seg_com_cost = np.where(iso, sg * _interval_integral(cov_rate, sf, t0, t1), 0.0)
    seg_od_gh = np.where(iso, gh - seg_com_gh, 0.0)
    seg_od_cost = seg_od_gh * od_price[sf]
    seg_spot_cost = np.where(iss, sg * _interval_integral(spot_price, sf, t0, t1), 0.0)
    seg_kwh = gh * kw[sf]
    seg_energy = sg * kw[sf] * _interval_integral(eprice, sf, t0, t1) / 1000.0
    seg_kg = sg * kw[sf] * _interval_integral(carbon, sf, t0, t1) / 1000.0

    def per_job(x: np.ndarray) -> np.ndarray:
        return np.bincount(sj, x, n) if n else np.zeros(0)

    busy_gh = per_job(gh)
    jobs_cols = {
        "reserved_gpu_hours": per_job(np.where(isr, gh, 0.0)),
        "committed_gpu_hours": per_job(seg_com_gh),
        "spot_gpu_hours": per_job(np.where(iss, gh, 0.0)),
        "on_demand_gpu_hours": per_job(seg_od_gh),
        "cost_reserved_usd": per_job(seg_res_cost),
        "cost_committed_usd": per_job(seg_com_cost),
        "cost_spot_usd": per_job(seg_spot_cost),
        "cost_on_demand_usd": per_job(seg_od_cost),
    }
    job_cost = (jobs_cols["cost_reserved_usd"] + jobs_cols["cost_committed_usd"] + jobs_cols["cost_spot_usd"]
                + jobs_cols["cost_on_demand_usd"])
    job_kwh = per_job(seg_kwh)
    job_kg = per_job(seg_kg)
    job_energy = per_job(seg_energy)
    deadline = J.deadline
    end = rec.end
    finished = rec.status == FINISHED
    has_dl = np.isfinite(deadline)
    met = np.where(finished, end <= deadline + 1e-9, False)
    known = has_dl & (finished | (deadline <= H))
    # numeric columns only: job ids, teams and families are added once by the caller (cheap to pickle)
    jobs = pd.DataFrame({
        "submit_hour": J.submit,
        "release_hour": J.release,
        "start_hour": rec.first_start,
        "end_hour": end,
        "deadline_hour": np.where(has_dl, deadline, np.nan),
        "status_code": rec.status,
        "deadline_met": pd.array(np.where(known, met, False), dtype="boolean"),
        "queue_delay_hours": rec.queue_hours,
        "deferral_hours": J.release - J.submit,
        "interruptions": rec.interruptions,
        "fell_back_to_on_demand": rec.no_spot,
        "useful_gpu_hours": rec.useful_hours * g,
        "lost_gpu_hours": rec.lost_hours * g,
        "checkpoint_gpu_hours": rec.checkpoint_hours * g,
        "busy_gpu_hours": busy_gh,
        **jobs_cols,
        "cost_usd": job_cost,
        "list_cost_usd": busy_gh * od_price[J.family] if n else np.zeros(0),
        "kwh": job_kwh,
        "energy_usd": job_energy,
        "kg_co2e": job_kg,
        "stopped_by_budget": rec.status == STOPPED,
    })
    jobs.loc[~known, "deadline_met"] = pd.NA

    # -- teams: direct costs by pool, plus allocation of idle reserved and unused commitment ------------
    team_names = list(J.team_names)
    T = len(team_names)
    has_demand = bool(load.demand.any())
    tf = J.team * F + J.family if n else np.zeros(0, dtype=np.int64)

    def by_tf(x: np.ndarray) -> np.ndarray:
        return np.bincount(tf, x, T * F).reshape(T, F) if T else np.zeros((0, F))

    res_gh_tf = by_tf(jobs_cols["reserved_gpu_hours"])
    rows = {
        "reserved_gpu_hours": res_gh_tf,
        "committed_gpu_hours": by_tf(jobs_cols["committed_gpu_hours"]),
        "spot_gpu_hours": by_tf(jobs_cols["spot_gpu_hours"]),
        "on_demand_gpu_hours": by_tf(jobs_cols["on_demand_gpu_hours"]),
        "reserved_used_usd": by_tf(jobs_cols["cost_reserved_usd"]),
        "committed_used_usd": by_tf(jobs_cols["cost_committed_usd"]),
        "spot_usd": by_tf(jobs_cols["cost_spot_usd"]),
        "on_demand_usd": by_tf(jobs_cols["cost_on_demand_usd"]),
        "useful_gpu_hours": by_tf(jobs["useful_gpu_hours"].to_numpy()),
        "kwh": by_tf(job_kwh),
        "kg_co2e": by_tf(job_kg),
    }
    d_odi = load.odinst_billed
    demand_hourly = {  # (F, H) per quantity: the fluid load's usage and cost, hour by hour
        "reserved_gpu_hours": load.reserved,
        "committed_gpu_hours": d_odi * cov_frac,
        "spot_gpu_hours": load.spot_billed,
        "on_demand_gpu_hours": d_odi * (1 - cov_frac),
        "reserved_used_usd": load.reserved * res_rate,
        "committed_used_usd": d_odi * cov_rate,
        "spot_usd": load.spot_billed * spot_price,
        "on_demand_usd": d_odi * (1 - cov_frac) * od_price[:, None],
        "useful_gpu_hours": load.demand - load.unmet,
        "kwh": (load.reserved + d_odi + load.spot_billed) * kw[:, None],
        "kg_co2e": (load.reserved + d_odi + load.spot_billed) * kw[:, None] * carbon / 1000.0,
    }
    names = list(team_names)
    if has_demand:
        # split the fluid load by team, hour by hour, in proportion to each team's demand in the path
        share = np.zeros((0, F, H)) if demand_share is None else np.asarray(demand_share, dtype=float)
        rest = np.clip(1.0 - share.sum(axis=0), 0.0, 1.0)  # hours and families no team accounts for
        keep_rest = bool((rest * load.demand).sum() > 1e-9 * max(float(load.demand.sum()), 1.0))
        split = np.concatenate([share, rest[None]]) if keep_rest else share
        names += list(inputs.demand_teams) + ([DEMAND_TEAM] if keep_rest else [])
        rows = {k: np.vstack([v, np.einsum("tfh,fh->tf", split, demand_hourly[k])]) for k, v in rows.items()}
    per_team = {k: v.sum(axis=1) for k, v in rows.items()}
    idle_cost_f = cost_res_idle.sum(axis=1)
    res_share = _div(rows["reserved_gpu_hours"], rows["reserved_gpu_hours"].sum(axis=0)[None, :]) \
        if names else np.zeros((0, F))
    idle_alloc = (res_share * idle_cost_f[None, :]).sum(axis=1) if names else np.zeros(0)
    unused_total = float(unused_usd.sum())
    com_used = per_team["committed_used_usd"]
    com_share = com_used / com_used.sum() if names and com_used.sum() > 0 else np.zeros(len(names))
    unused_alloc = com_share * unused_total
    teams = pd.DataFrame({"team": names, **per_team})
    teams["reserved_idle_allocated_usd"] = idle_alloc
    teams["committed_unused_allocated_usd"] = unused_alloc
    teams["showback_usd"] = (teams["reserved_used_usd"] + teams["committed_used_usd"] + teams["spot_usd"]
                             + teams["on_demand_usd"] + idle_alloc + unused_alloc)
    left_res = float(idle_cost_f.sum() - idle_alloc.sum())
    left_com = unused_total - float(unused_alloc.sum())
    if left_res > 1e-9 or left_com > 1e-9:
        extra = {c: 0.0 for c in teams.columns if c != "team"}
        extra.update(reserved_idle_allocated_usd=left_res, committed_unused_allocated_usd=left_com,
                     showback_usd=left_res + left_com)
        teams = pd.concat([teams, pd.DataFrame([{"team": UNALLOCATED, **extra}])], ignore_index=True)
    if teams["team"].duplicated().any():  # a team that runs jobs and also has forecast demand: one row
        teams = teams.groupby("team", sort=False, as_index=False).sum()

    # -- KPIs -------------------------------------------------------------------------------------------
    total_res = float(r_usd.sum())
    total_com = float(committed_paid.sum())
    total_spot = float(cost_spot.sum())
    total_od = float(cost_od.sum())
    total = total_res + total_com + total_spot + total_od
    busy_all = float(busy.sum())
    list_cost = float((busy * od_price[:, None]).sum())
    useful_jobs = float(jobs["useful_gpu_hours"].sum())
    served = load.demand - load.unmet
    useful_all = useful_jobs + float(served.sum())
    all_od = float((served * od_price[:, None]).sum()) + float((rec.useful_hours * g * od_price[J.family]).sum()
                                                                if n else 0.0)
    kwh = float(kwh_fh.sum())
    kg = float((kwh_fh * carbon).sum() / 1000.0)
    energy = float((kwh_fh * eprice).sum() / 1000.0)
    res_cap = float(R.sum())
    res_used_all = float(res_used.sum())
    waits = rec.queue_hours
    started = np.isfinite(rec.first_start)
    interruptions = int(rec.interruptions.sum())
    kpis: dict[str, float] = {
        "n_jobs": float(n),
        "jobs_finished": float(finished.sum()),
        "jobs_unfinished": float((rec.status == 0).sum()),
        "jobs_stopped_by_budget": float((rec.status == STOPPED).sum()),
        "deadline_misses": float((known & ~met).sum()),
        "deadline_miss_rate": float((known & ~met).sum() / known.sum()) if known.any() else np.nan,
        "mean_queue_delay_hours": float(waits[started].mean()) if started.any() else np.nan,
        "p95_queue_delay_hours": float(np.quantile(waits[started], 0.95)) if started.any() else np.nan,
        "job_interruptions": float(interruptions),
        "job_useful_gpu_hours": useful_jobs,
        "job_lost_gpu_hours": float(jobs["lost_gpu_hours"].sum()),
        "job_checkpoint_gpu_hours": float(jobs["checkpoint_gpu_hours"].sum()),
        "job_busy_gpu_hours": float(busy_gh.sum()),
        "demand_gpu_hours": float(load.demand.sum()),
        "demand_unmet_gpu_hours": float(load.unmet.sum()),
        "demand_lost_gpu_hours": float((load.spot_lost + load.drought_lost).sum()),
        "demand_interruptions": float(load.interruptions.sum()),
        "busy_gpu_hours": busy_all,
        "useful_gpu_hours": useful_all,
        "reserved_gpu_hours": res_cap,
        "reserved_used_gpu_hours": res_used_all,
        "idle_reserved_gpu_hours": float(idle.sum()),
        "reserved_utilization": res_used_all / res_cap if res_cap > 0 else np.nan,
        "committed_usd": total_com,
        "committed_used_usd": float(cov_usd.sum()),
        "committed_unused_usd": unused_total,
        # one definition of idle commitment cost (the showback allocates exactly this): each family's idle
        # reserved GPU-hours at that family's own reserved rate, plus unused committed spend
        "idle_commitment_usd": float(cost_res_idle.sum()) + unused_total,
        "committed_utilization": float(cov_usd.sum()) / total_com if total_com > 0 else np.nan,
        "commitment_utilization": ((float(cost_res_used.sum()) + float(cov_usd.sum())) / (total_res + total_com)
                                   if total_res + total_com > 0 else np.nan),
        "coverage": (res_used_all + float(covered.sum())) / busy_all if busy_all > 0 else np.nan,
        "cost_reserved_usd": total_res,
        "cost_committed_usd": total_com,
        "cost_spot_usd": total_spot,
        "cost_on_demand_usd": total_od,
        "total_cost_usd": total,
        "list_cost_usd": list_cost,
        "effective_savings_rate": 1.0 - total / list_cost if list_cost > 0 else np.nan,
        "all_on_demand_usd": all_od,
        "savings_vs_all_on_demand": 1.0 - total / all_od if all_od > 0 else np.nan,
        "cost_per_job_usd": float(job_cost.sum()) / n if n else np.nan,
        "cost_per_useful_gpu_hour": total / useful_all if useful_all > 0 else np.nan,
        "kwh": kwh,
        "energy_usd": energy,
        "kg_co2e": kg,
        "carbon_usd": kg / 1000.0 * inputs.policies.carbon_price_usd_per_tonne,
        "sim_events": float(rec.events),
        "events_per_job": rec.events / n if n else np.nan,
    }

    hourly = charges = None
    if detail:
        hourly = _hourly_table(inputs, R, res_used, idle, cost_res_used, cost_res_idle, covered, cov_usd, unused_usd,
                               ondemand, cost_od, spot_total, cost_spot, avail, load, od_price, kw, carbon, eprice)
        charges = _charges_table(inputs, load, t0, t1, sg, sf, st, sp, cov_frac, cov_rate, res_rate, spot_price,
                                 od_price, kw, carbon, eprice, idle, cost_res_idle, cov.unused_usd, cov.terms)
    return Bill(jobs=jobs, teams=teams, kpis=kpis, hourly=hourly, charges=charges)


def _hourly_table(inputs: SimulationInputs, R: np.ndarray, res_used: np.ndarray, idle: np.ndarray,
                  cost_res_used: np.ndarray, cost_res_idle: np.ndarray, covered: np.ndarray, cov_usd: np.ndarray,
                  unused_usd: np.ndarray, ondemand: np.ndarray, cost_od: np.ndarray, spot_total: np.ndarray,
                  cost_spot: np.ndarray, avail: np.ndarray, load: FluidLoad, od_price: np.ndarray, kw: np.ndarray,
                  carbon: np.ndarray, eprice: np.ndarray) -> pd.DataFrame:
    H = R.shape[1]
    hours = np.arange(H)
    d_cov = load.odinst_billed * _div(covered, covered + ondemand)
    parts = []
    spec = [
        ("reserved", "Used", res_used, load.reserved, R, cost_res_used, True),
        ("reserved", "Unused", idle, np.zeros_like(R), R, cost_res_idle, False),
        ("committed", "Used", covered, d_cov, np.full_like(R, np.nan), cov_usd, True),
        ("spot", "", spot_total, load.spot_billed, avail, cost_spot, True),
        ("on_demand", "", ondemand, load.odinst_billed - d_cov, np.full_like(R, np.nan), cost_od, True),
    ]
    for k, fl in enumerate(inputs.families):
        for pool, status, gpus, dem, cap, cost, busy in spec:
            kwh = gpus[k] * kw[k] if busy else np.zeros(H)
            parts.append(pd.DataFrame({
                "hour": hours, "family": fl.name, "pool": pool, "commitment_status": status,
                "gpus": gpus[k], "demand_gpus": dem[k], "capacity_gpus": cap[k], "cost_usd": cost[k],
                "list_cost_usd": gpus[k] * od_price[k] if busy else np.zeros(H),
                "kwh": kwh, "energy_usd": kwh * eprice[k] / 1000.0, "kg_co2e": kwh * carbon[k] / 1000.0,
            }))
    if inputs.committed:
        z = np.zeros(H)
        parts.append(pd.DataFrame({
            "hour": hours, "family": "", "pool": "committed", "commitment_status": "Unused", "gpus": z,
            "demand_gpus": z, "capacity_gpus": np.full(H, np.nan), "cost_usd": unused_usd, "list_cost_usd": z,
            "kwh": z, "energy_usd": z, "kg_co2e": z,
        }))
    return pd.concat(parts, ignore_index=True)


def _charges_table(inputs: SimulationInputs, load: FluidLoad, t0: np.ndarray, t1: np.ndarray, sg: np.ndarray,
                   sf: np.ndarray, st: np.ndarray, sp: np.ndarray, cov_frac: np.ndarray, cov_rate: np.ndarray,
                   res_rate: np.ndarray, spot_price: np.ndarray, od_price: np.ndarray, kw: np.ndarray,
                   carbon: np.ndarray, eprice: np.ndarray, idle: np.ndarray, cost_res_idle: np.ndarray,
                   unused_by_term: np.ndarray, terms: tuple[str, ...]) -> pd.DataFrame:
    """Charge rows per hour, team, family and pool (the base of :func:`simulator.focus.to_focus`)."""
    fams = inputs.families
    F, H = len(fams), inputs.hours
    J = inputs.jobs
    T = len(J.team_names)
    use = hourly_integral(t0, t1, sg, (st * F + sf) * 3 + sp, T * F * 3, H).reshape(T, F, 3, H) \
        if T else np.zeros((0, F, 3, H))
    teams = list(J.team_names)
    if load.demand.any():
        d = np.stack([load.reserved, load.odinst_billed, load.spot_billed], axis=1)[None]
        use = np.concatenate([use, d], axis=0)
        teams.append(DEMAND_TEAM)
    hours = np.arange(H)
    frames = []
    for ti, team in enumerate(teams):
        for k, fl in enumerate(fams):
            res, odi, spot = use[ti, k]
            com = odi * cov_frac[k]
            od = odi - com
            for pool, status, gh, cost in (
                ("reserved", "Used", res, res * res_rate[k]),
                ("committed", "Used", com, odi * cov_rate[k]),
                ("spot", "", spot, spot * spot_price[k]),
                ("on_demand", "", od, od * od_price[k]),
            ):
                m = (gh > 1e-12) | (np.abs(cost) > 1e-12)
                if not m.any():
                    continue
                kwh = gh[m] * kw[k]
                frames.append(pd.DataFrame({
                    "hour": hours[m], "team": team, "family": fl.name, "region": fl.region, "pool": pool,
                    "commitment_status": status, "gpu_hours": gh[m], "effective_cost_usd": cost[m],
                    "list_cost_usd": gh[m] * od_price[k], "kwh": kwh, "energy_usd": kwh * eprice[k][m] / 1000.0,
                    "kg_co2e": kwh * carbon[k][m] / 1000.0,
                }))
    for k, fl in enumerate(fams):
        m = cost_res_idle[k] > 1e-12
        if m.any():
            z = np.zeros(int(m.sum()))
            frames.append(pd.DataFrame({
                "hour": hours[m], "team": "", "family": fl.name, "region": fl.region, "pool": "reserved",
                "commitment_status": "Unused", "gpu_hours": idle[k][m], "effective_cost_usd": cost_res_idle[k][m],
                "list_cost_usd": z, "kwh": z, "energy_usd": z, "kg_co2e": z,
            }))
    for ti in range(len(terms)):
        m = unused_by_term[ti] > 1e-12
        if m.any():
            z = np.zeros(int(m.sum()))
            frames.append(pd.DataFrame({
                "hour": hours[m], "team": "", "family": "", "region": "", "pool": "committed",
                "commitment_status": "Unused", "gpu_hours": z, "effective_cost_usd": unused_by_term[ti][m],
                "list_cost_usd": z, "kwh": z, "energy_usd": z, "kg_co2e": z,
            }))
    cols = ["hour", "team", "family", "region", "pool", "commitment_status", "gpu_hours", "effective_cost_usd",
            "list_cost_usd", "kwh", "energy_usd", "kg_co2e"]
    if not frames:
        return pd.DataFrame({c: [] for c in cols})
    out = pd.concat(frames, ignore_index=True)
    return out[cols].sort_values(["hour", "family", "pool", "team"], kind="stable").reset_index(drop=True)
