"""Inputs of the training schedule: jobs on an hourly grid, and each family's hourly cost and carbon.

:func:`schedule_inputs` is the ``check_*`` layer of the scheduler.  Time is cut into whole hours starting
at the first submission's hour.  A job's window ``[submission, deadline]`` is kept exact, to the second:
hours are the model's resolution, not the window's.  An hour that is only partly inside a job's window
offers the job only that part (*fractional first and last hours*): a preemptible job may run at most
``gpus x (fraction of the hour inside its window)`` GPU-hours in it, and a job run in one piece starts at
its exact submission time or at a later whole hour and ends by its exact deadline.  Where in an hour a
piece runs is fixed by :func:`scenarios.pieces.hour_runs` (the simulator replays the same rule), so every
scheduled piece lies inside ``[submission, deadline]``.
A job without a deadline gets ``default_slack_hours`` of slack beyond its duration (0 = run on arrival).

An hour of one GPU of family ``f`` draws ``gpu_power_kw x pue`` kWh; it costs that energy at the region's
price ``usd_per_mwh / 1000`` and emits it at ``gco2_per_kwh / 1000`` kg CO2e, which costs
``carbon_price_usd_per_tonne / 1000`` per kg in the objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scenarios.errors import InfeasibleError, InputError
from scenarios.readers import hourly_window
from scenarios.schema import Scenario
from scenarios.tables import check_frame

HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True, eq=False)
class ScheduleInputs:
    """Validated arrays for the scheduler (J jobs, F families, T hours).

    Attributes
    ----------
    job_ids
        Job identifiers, shape (J,).
    families
        Family slugs, shape (F,).
    timestamps
        Hour starts (UTC), length T.
    family_index, gpus, duration, preemptible
        Per job: family position, GPUs held at once [GPUs], run time [h], may be split.
    release, end
        Per job: first hour it may run in (the hour of its submission) and the hour after the one its deadline
        falls in (exclusive) [hour index].
    release_time, end_time
        Per job: exact submission and the time its planned work must end by [h from the grid start]:
        the deadline, less the pause margin for preemptible jobs; ``release <= release_time`` and
        ``end_time <= end``.
    deadline_time
        Per job: exact deadline [h from the grid start] (``end_time`` plus the pause margin).
    kwh_per_gpu_hour
        Energy of one busy GPU-hour incl. PUE, shape (F,) [kWh].
    usd_per_mwh, gco2_per_kwh
        Signals of each family's region, shape (F, T).
    carbon_price
        Internal carbon price [USD/t CO2e].
    capacity
        GPUs available per hour per family, shape (F,) [GPUs]; inf = unlimited.
    reserved
        Reserved GPUs per family, shape (F,) [GPUs]: use beyond them costs ``on_demand`` per GPU-hour.
    on_demand
        On-demand price, shape (F,) [USD/GPU-hour].
    allow_unmet, unmet_penalty
        Allow unfinished work at ``unmet_penalty`` [USD/GPU-hour].
    checkpoint_hours, restart_hours
        A pause between two runs of a job costs a checkpoint before it and a restart after it [h]; they
        are added to a schedule's cost *as run* (:func:`optimizer.schedule.as_run_usage`), not to the model.
    notes
        Assumptions (grid rounding, defaults), for the report.
    """

    job_ids: np.ndarray
    families: tuple[str, ...]
    timestamps: pd.DatetimeIndex
    family_index: np.ndarray
    gpus: np.ndarray
    duration: np.ndarray
    preemptible: np.ndarray
    release: np.ndarray
    end: np.ndarray
    release_time: np.ndarray
    end_time: np.ndarray
    deadline_time: np.ndarray
    kwh_per_gpu_hour: np.ndarray
    usd_per_mwh: np.ndarray
    gco2_per_kwh: np.ndarray
    carbon_price: float
    capacity: np.ndarray
    reserved: np.ndarray
    on_demand: np.ndarray
    allow_unmet: bool = False
    unmet_penalty: float = 100.0
    checkpoint_hours: float = 0.0
    restart_hours: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def n_jobs(self) -> int:
        """J."""
        return int(self.job_ids.size)

    @property
    def n_hours(self) -> int:
        """T."""
        return len(self.timestamps)

    def energy_usd(self) -> np.ndarray:
        """Energy cost of one GPU-hour per family and hour, shape (F, T) [USD/GPU-hour]."""
        return self.kwh_per_gpu_hour[:, None] * self.usd_per_mwh / 1000.0

    def kg_co2e(self) -> np.ndarray:
        """Emissions of one GPU-hour per family and hour, shape (F, T) [kg CO2e/GPU-hour]."""
        return self.kwh_per_gpu_hour[:, None] * self.gco2_per_kwh / 1000.0

    def unit_cost(self, carbon_price: float | None = None) -> np.ndarray:
        """Objective cost of one GPU-hour: energy + carbon price x emissions, shape (F, T) [USD/GPU-hour]."""
        cp = self.carbon_price if carbon_price is None else float(carbon_price)
        return self.energy_usd() + cp / 1000.0 * self.kg_co2e()

    def last_start(self) -> np.ndarray:
        """Latest start hour of each job run in one piece, shape (J,) [hour index].

        Start candidates of job ``j`` are its exact submission (labelled by hour ``release[j]``) and every
        whole hour in ``(release_time, end_time - duration]``; the last is ``floor(end_time - duration)``,
        at least ``release`` (below it when the job cannot fit).
        """
        last = np.floor(self.end_time - self.duration + 1e-9).astype(np.int64)
        fits = self.end_time - self.duration >= self.release_time - 1e-9
        return np.where(fits, np.maximum(last, self.release), np.minimum(last, self.release - 1))

    def start_time(self, j: int, tau: int) -> float:
        """Exact start [h from the grid start] of job ``j`` given its start label ``tau`` [hour index]:
        the submission for ``tau == release[j]``, else the whole hour ``tau``."""
        return float(self.release_time[j]) if int(tau) == int(self.release[j]) else float(tau)

    def window_fraction(self, j: int) -> np.ndarray:
        """Fraction of each hour ``release[j] .. end[j] - 1`` inside job ``j``'s window [h]."""
        hrs = np.arange(int(self.release[j]), int(self.end[j]), dtype=float)
        return np.clip(np.minimum(hrs + 1.0, self.end_time[j]) - np.maximum(hrs, self.release_time[j]), 0.0, 1.0)

    def with_carbon_price(self, carbon_price: float) -> ScheduleInputs:
        """A copy with another carbon price [USD/t]."""
        return replace(self, carbon_price=float(carbon_price))


def _col(jobs: pd.DataFrame, name: str) -> pd.Series | None:
    return jobs[name] if name in jobs.columns else None


def schedule_inputs(
    jobs: pd.DataFrame,
    carbon: pd.DataFrame,
    price: pd.DataFrame,
    scenario: Scenario,
    capacity_gpus: dict[str, float] | None = None,
    reserved_gpus: dict[str, float] | None = None,
    default_slack_hours: float = 0.0,
    carbon_price: float | None = None,
    start: pd.Timestamp | None = None,
    file: str | None = None,
    pause_margin_hours: float | None = None,
) -> ScheduleInputs:
    """Check jobs and signals and put them on an hourly grid.

    Parameters
    ----------
    jobs
        The ``jobs`` table: ``job_id, submit_time, gpus, duration_hours`` and optionally ``family``,
        ``deadline``, ``preemptible`` (default true).
    carbon, price
        ``region, timestamp, gco2_per_kwh`` [gCO2e/kWh] and ``region, timestamp, usd_per_mwh`` [USD/MWh]
        covering every hour of every job's window in each family's region, under the one rule for hourly
        tables (:func:`scenarios.readers.hourly_window`: hourly, UTC, one row per hour, no gaps).
    scenario
        Catalog (power, PUE, region, on-demand price, quota), workload family, carbon price, unmet option.
    capacity_gpus
        GPUs available per hour per family; default: reserved + on-demand quota when the family has a
        quota, else unlimited.
    reserved_gpus
        Reserved GPUs per family; default the scenario's current reservations.
    default_slack_hours
        Slack given to jobs without a deadline [h].
    carbon_price
        Internal carbon price [USD/t]; default ``policies.carbon_price_usd_per_tonne``.
    start
        First hour of the grid; default the first submission's hour.
    file
        Name of the jobs file, for messages.
    pause_margin_hours
        Time a preemptible job's plan keeps free before its deadline [h], as far as its slack allows: a
        pause costs a checkpoint before it and a restart after it, which push the rest of the job later.
        Default ``workload.checkpoint_cost_hours + workload.restart_cost_hours``.

    Returns
    -------
    ScheduleInputs

    Raises
    ------
    InfeasibleError
        A job whose window is shorter than its run time, or that needs more GPUs than its family has
        (unless ``policies.allow_unmet_demand``).
    InputError
        Malformed jobs or missing signal hours.
    """
    if jobs.empty:
        raise InputError("no jobs to schedule", file=file)
    check_frame(jobs, "jobs", file=file)
    ids = jobs["job_id"].astype(str).to_numpy()
    dup = pd.Index(ids).duplicated()
    if dup.any():
        raise InputError(f"duplicate job_id '{ids[np.flatnonzero(dup)[0]]}'", file=file,
                         row=int(np.flatnonzero(dup)[0]) + 1, column="job_id")
    gpus = jobs["gpus"].to_numpy(dtype=float)
    dur = jobs["duration_hours"].to_numpy(dtype=float)
    for name, arr in (("gpus", gpus), ("duration_hours", dur)):
        bad = np.flatnonzero(~(arr > 0))
        if bad.size:
            raise InputError(f"must be > 0 (job '{ids[bad[0]]}')", file=file, row=int(bad[0]) + 1, column=name)
    default_family = scenario.workload.family or scenario.families[0]
    fam_col = _col(jobs, "family")
    fam = (fam_col.astype("string").fillna(default_family).to_numpy(dtype=str) if fam_col is not None
           else np.full(len(ids), default_family))
    unknown = [f for f in dict.fromkeys(fam) if f not in scenario.catalog]
    if unknown:
        i = int(np.flatnonzero(fam == unknown[0])[0])
        raise InputError(f"unknown GPU family '{unknown[0]}'", file=file, row=i + 1, column="family",
                         fix=f"use one of {scenario.families}")
    pre_col = _col(jobs, "preemptible")
    pre = (pre_col.astype("boolean").fillna(True).to_numpy(dtype=bool) if pre_col is not None
           else np.ones(len(ids), dtype=bool))
    submit = pd.DatetimeIndex(jobs["submit_time"]).tz_convert("UTC")
    t0 = submit.min().floor("h") if start is None else pd.Timestamp(start).tz_convert("UTC")
    if (submit < t0).any():
        raise InputError(f"a job is submitted before the grid start {t0}", file=file, column="submit_time")
    release_time = ((submit - t0) / HOUR).to_numpy(dtype=float)
    release = np.floor(release_time + 1e-9).astype(np.int64)
    release_time = np.maximum(release_time, release)
    dl_col = _col(jobs, "deadline")
    notes: list[str] = [f"hourly grid from {t0:%Y-%m-%d %H:%M} UTC: job windows are exact; an hour partly inside "
                        "a job's window offers it only that part (fractional first and last hours)"]
    if dl_col is not None:
        dl = pd.DatetimeIndex(dl_col).tz_convert("UTC")
        end_time = np.where(dl.isna(), np.nan, ((dl - t0) / HOUR).to_numpy(dtype=float, na_value=np.nan))
    else:
        end_time = np.full(len(ids), np.nan)
    no_dl = np.isnan(end_time)
    if no_dl.any():
        notes.append(f"{int(no_dl.sum())} jobs without a deadline get {default_slack_hours:g} h of slack")
    end_time = np.where(no_dl, release_time + dur + default_slack_hours, end_time)
    deadline_time = end_time.copy()
    wl = scenario.workload
    margin = float(wl.checkpoint_cost_hours + wl.restart_cost_hours if pause_margin_hours is None
                   else pause_margin_hours)
    if margin > 0 and pre.any():
        slack = np.maximum(end_time - release_time - dur, 0.0)
        end_time = np.where(pre, end_time - np.minimum(margin, slack), end_time)
        notes.append(f"preemptible jobs plan to end {margin:g} h before their deadline (less when their slack is "
                     "shorter): room for the checkpoint and restart of a pause")
    end = np.maximum(np.ceil(end_time - 1e-9).astype(np.int64), release + 1)
    pol = scenario.policies
    allow = bool(pol.allow_unmet_demand)
    families = tuple(dict.fromkeys(fam))
    f_idx = np.array([families.index(f) for f in fam])
    short = end_time - release_time < dur - 1e-9
    if short.any() and not allow:
        i = int(np.flatnonzero(short)[0])
        raise InfeasibleError(
            f"job {ids[i]} needs {dur[i]:g} h but its window is {max(end_time[i] - release_time[i], 0):g} h "
            f"(from {t0 + release_time[i] * HOUR:%Y-%m-%d %H:%M} to {t0 + end_time[i] * HOUR:%Y-%m-%d %H:%M} UTC)",
            file=file, row=i + 1, column="deadline",
            fix="move the deadline later, or set policies.allow_unmet_demand = true to schedule the rest",
        )
    if short.any():
        notes.append(f"{int(short.sum())} jobs cannot finish inside their window; their work is unmet")
    reserved = np.zeros(len(families))
    for h in scenario.current.reserved:
        if h.family in families:
            reserved[families.index(h.family)] += h.gpus
    if reserved_gpus:
        for k, v in reserved_gpus.items():
            if k in families:
                reserved[families.index(k)] = float(v)
    cap = np.full(len(families), np.inf)
    for i, f in enumerate(families):
        q = scenario.catalog[f].on_demand_quota_gpus
        if q is not None:
            cap[i] = reserved[i] + q
    if capacity_gpus:
        for k, v in capacity_gpus.items():
            if k in families:
                cap[families.index(k)] = float(v)
    too_big = gpus > cap[f_idx] + 1e-9
    if too_big.any() and not allow:
        i = int(np.flatnonzero(too_big)[0])
        raise InfeasibleError(
            f"job {ids[i]} needs {gpus[i]:g} GPUs at once but {fam[i]} capacity is {cap[f_idx[i]]:g} GPUs",
            file=file, row=i + 1, column="gpus", fix=f"raise the {fam[i]} capacity or split the job",
        )
    horizon = int(max(end.max(), release.max() + 1))
    grid = pd.date_range(t0, periods=horizon, freq="h")
    regions = [scenario.catalog[f].region for f in families]
    # the one rule for hourly tables, as in the simulator: hourly, UTC, complete; nothing averaged or filled
    usd_by = hourly_window(price, "region", sorted(set(regions)), "usd_per_mwh", grid[0], len(grid), table="price",
                           allow_negative=True)
    gco2_by = hourly_window(carbon, "region", sorted(set(regions)), "gco2_per_kwh", grid[0], len(grid),
                            table="carbon")
    usd = np.stack([usd_by[r] for r in regions])
    gco2 = np.stack([gco2_by[r] for r in regions])
    kwh = np.array([scenario.catalog[f].gpu_power_kw * scenario.catalog[f].pue for f in families])
    od = np.array([scenario.catalog[f].on_demand_usd_per_gpu_hour for f in families])
    cp = float(pol.carbon_price_usd_per_tonne if carbon_price is None else carbon_price)
    return ScheduleInputs(
        job_ids=ids, families=families, timestamps=grid, family_index=f_idx, gpus=gpus, duration=dur,
        preemptible=pre, release=release, end=end, release_time=release_time,
        end_time=np.maximum(end_time, release_time), deadline_time=np.maximum(deadline_time, release_time),
        kwh_per_gpu_hour=kwh, usd_per_mwh=usd,
        gco2_per_kwh=gco2, carbon_price=cp, capacity=cap, reserved=reserved, on_demand=od, allow_unmet=allow,
        unmet_penalty=float(pol.unmet_penalty_usd_per_gpu_hour), checkpoint_hours=float(wl.checkpoint_cost_hours),
        restart_hours=float(wl.restart_cost_hours), notes=tuple(notes),
    )


def check_capacity_load(inputs: ScheduleInputs) -> InfeasibleError | None:
    """Find an interval whose jobs need more GPU-hours than the family's capacity gives (a proof of
    infeasibility), trying every (release, deadline) pair of each family.

    Returns
    -------
    InfeasibleError or None
        The first overloaded interval found, in planner words.
    """
    for f, fam in enumerate(inputs.families):
        cap = float(inputs.capacity[f])
        if math.isinf(cap):
            continue
        sel = np.flatnonzero(inputs.family_index == f)
        if sel.size == 0:
            continue
        rel, end = inputs.release_time[sel], inputs.deadline_time[sel]
        work = inputs.gpus[sel] * inputs.duration[sel]
        for a in np.unique(rel):
            m = rel >= a - 1e-9
            order = np.argsort(end[m], kind="stable")
            es = end[m][order]
            need = np.cumsum(work[m][order])
            have = cap * (es - a)
            over = np.flatnonzero(need > have + 1e-6)
            if over.size:
                i = int(over[0])
                b = float(es[i])
                t = inputs.timestamps
                return InfeasibleError(
                    f"{i + 1} {fam} jobs released from {t[0] + float(a) * HOUR:%Y-%m-%d %H:%M} and due by "
                    f"{t[0] + b * HOUR:%Y-%m-%d %H:%M} UTC need {need[i]:,.0f} GPU-hours but {cap:g} GPUs give "
                    f"only {have[i]:,.0f} in those {b - float(a):g} h",
                    column="deadline", fix="raise the capacity, move deadlines, or set "
                                           "policies.allow_unmet_demand = true",
                )
    return None
