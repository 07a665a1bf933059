"""Carbon- and price-aware training schedules: build, solve, extract (and a large-instance method).

Model (one family's jobs share its hourly capacity):

- a **preemptible** job may be split: ``x[j, t]`` GPUs busy in hour ``t`` of its window,
  ``0 <= x <= gpus x w[j, t]`` where ``w[j, t]`` is the fraction of hour ``t`` inside the job's exact window
  ``[submission, deadline]`` (fractional first and last hours), summing to its work ``gpus x duration``
  GPU-hours (an LP);
- a **non-preemptible** job runs in one piece from its exact submission time or from a later whole hour
  ``tau``, and ends by its exact deadline.  It is written with cumulative binaries ``C[j, t] = 1`` iff the
  job has started by hour ``t`` (monotone in ``t``; ``C[j, release]`` is the start at the submission): the
  hourly usage is ``gpus (C[t] - (1 - r) C[t - m] - r C[t - m - 1])`` with ``m`` whole hours and ``r`` the
  fraction, plus ``C[release]`` times the difference between the submission start's profile and a
  whole-hour start's, so each binary touches at most three capacity rows (and the first O(duration)): the
  time-indexed formulation, with O(window + duration) instead of O(window x duration) nonzeros;
- objective: energy cost + carbon price x emissions of every GPU-hour, plus on-demand price x GPUs used
  beyond the family's reservations in each hour, plus the unmet penalty when allowed;
- per family and hour, GPUs used <= capacity.

For large instances (``method="lp-rounding"``, chosen by ``"auto"`` above :data:`EXACT_MAX_BINARIES`
binaries) the LP relaxation gives a lower bound; each non-preemptible job then takes the start its LP
solution weights most that still fits the capacity left (largest jobs first), and a final LP places the
preemptible work around them.  The result states its gap to the LP bound.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimizer.schedule_inputs import ScheduleInputs, check_capacity_load
from optimizer.solvers import SolveResult, linear, solve
from scenarios.errors import InfeasibleError
from scenarios.parallel import Mapper, SerialMapper
from scenarios.pieces import hour_runs, overlap_profile

log = logging.getLogger(__name__)

#: ``method="auto"`` solves the MILP exactly up to this many start binaries, else uses LP rounding.
EXACT_MAX_BINARIES = 40_000
_TOL = 1e-7


@dataclass(eq=False)
class ScheduleModel:
    """A built schedule model and the maps from jobs to its variables."""

    problem: pulp.LpProblem
    inputs: ScheduleInputs
    relaxed: bool
    x: dict[int, list[tuple[int, pulp.LpVariable]]] = field(default_factory=dict)
    cum: dict[int, tuple[int, int, list[Any]]] = field(default_factory=dict)
    fixed: dict[int, int] = field(default_factory=dict)
    unmet: dict[int, Any] = field(default_factory=dict)
    n_binaries: int = 0


def _start_costs(unit: np.ndarray, g: float, d: float, a: int, b: int) -> np.ndarray:
    """Cost of starting at each hour a..b a job of g GPUs and d hours given per-GPU-hour cost ``unit``."""
    m = math.floor(d + 1e-9)
    r = d - m
    cs = np.concatenate([[0.0], np.cumsum(unit)])
    taus = np.arange(a, b + 1)
    full = cs[taus + m] - cs[taus]
    part = r * unit[np.minimum(taus + m, unit.size - 1)] if r > 1e-9 else 0.0
    return g * (full + part)


def usage_profile(d: float, g: float) -> np.ndarray:
    """GPUs busy in each hour after the start of a job run in one piece: g ... g, g r [GPUs]."""
    m = math.floor(d + 1e-9)
    r = d - m
    prof = [g] * m + ([g * r] if r > 1e-9 else [])
    return np.array(prof, dtype=float)


def job_profile(inputs: ScheduleInputs, j: int, tau: int) -> np.ndarray:
    """GPUs busy in each hour ``tau, tau + 1, ...`` when job ``j`` runs in one piece from start label ``tau``.

    The start is :meth:`ScheduleInputs.start_time` (the exact submission for ``tau == release[j]``); each
    hour gets ``gpus x`` the part of it inside ``[start, start + duration]`` [GPUs].
    """
    s = inputs.start_time(j, tau)
    d, g = float(inputs.duration[j]), float(inputs.gpus[j])
    n = max(math.ceil(s + d - tau - 1e-9), 1)
    prof = np.array(overlap_profile(s, d, int(tau), n)) * g
    return prof


def _job_start_costs(inputs: ScheduleInputs, j: int, unit_f: np.ndarray, a: int, b: int) -> np.ndarray:
    """Cost of each start label ``a..b`` of job ``j`` (label ``a`` = its exact submission)."""
    g, d = float(inputs.gpus[j]), float(inputs.duration[j])
    costs = _start_costs(unit_f, g, d, a, b)
    p0 = job_profile(inputs, j, a)
    costs[0] = float((unit_f[a: a + p0.size] * p0[: max(unit_f.size - a, 0)]).sum())
    return costs


def build_schedule(
    inputs: ScheduleInputs,
    relax: bool = False,
    fixed: dict[int, int] | None = None,
    carbon_price: float | None = None,
    name: str = "schedule",
) -> ScheduleModel:
    """Build the schedule model (pure: no solve).

    Parameters
    ----------
    inputs
        Jobs, signals and capacities from :func:`optimizer.schedule_inputs.schedule_inputs`.
    relax
        Make the start binaries continuous (the LP relaxation: a lower bound).
    fixed
        Start hour of some non-preemptible jobs (job position -> hour index), taken as given.
    carbon_price
        Override the carbon price [USD/t].
    name
        Problem name.

    Returns
    -------
    ScheduleModel
    """
    inp = inputs
    fixed = dict(fixed or {})
    unit = inp.unit_cost(carbon_price)
    f_n, t_n = unit.shape
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    model = ScheduleModel(problem=prob, inputs=inp, relaxed=relax, fixed=fixed)
    use: dict[tuple[int, int], list[tuple[Any, float]]] = {}
    use_const = np.zeros((f_n, t_n))
    obj: list[tuple[Any, float]] = []
    obj_const = 0.0
    last = inp.last_start()
    cat = pulp.LpContinuous if relax else pulp.LpBinary
    pen = inp.unmet_penalty
    for j in range(inp.n_jobs):
        f = int(inp.family_index[j])
        g, d = float(inp.gpus[j]), float(inp.duration[j])
        a, e = int(inp.release[j]), int(inp.end[j])
        jid = str(inp.job_ids[j])
        work = g * d
        if inp.preemptible[j]:
            xs = []
            frac = inp.window_fraction(j)
            for t in range(a, min(e, t_n)):
                if frac[t - a] <= 1e-9:
                    continue
                v = prob.add_variable(f"x_{jid}_{t}", lowBound=0, upBound=g * float(frac[t - a]))
                xs.append((t, v))
                obj.append((v, float(unit[f, t])))
                use.setdefault((f, t), []).append((v, 1.0))
            model.x[j] = xs
            row = [(v, 1.0) for _, v in xs]
            if inp.allow_unmet:
                u = prob.add_variable(f"unmet_{jid}", lowBound=0, upBound=work)
                row.append((u, 1.0))
                obj.append((u, pen))
                model.unmet[j] = u
            prob.addConstraint(pulp.LpConstraint(linear(row), pulp.LpConstraintEQ, rhs=work),
                               name=f"work_{jid}")
            continue
        b = int(last[j])
        prof = usage_profile(d, g)
        if j in fixed or b < a:
            if b < a:  # cannot fit: all unmet (schedule_inputs only lets this through when allowed)
                model.unmet[j] = work
                obj_const += pen * work
                continue
            tau = int(fixed[j])
            pj = job_profile(inp, j, tau)
            hrs = np.arange(tau, tau + pj.size)
            use_const[f, hrs] += pj
            obj_const += float((unit[f, hrs] * pj).sum())
            continue
        costs = _job_start_costs(inp, j, unit[f], a, b)
        m = math.floor(d + 1e-9)
        r = d - m
        if inp.allow_unmet:
            done: Any = prob.add_variable(f"run_{jid}", lowBound=0, upBound=1, cat=cat)
            obj.append((done, float(costs[-1]) - pen * work))
            obj_const += pen * work
            model.unmet[j] = done
        else:
            done = 1.0
            obj_const += float(costs[-1])
        cvars: list[Any] = []
        for t in range(a, b):
            v = prob.add_variable(f"started_{jid}_{t}", lowBound=0, upBound=1, cat=cat)
            cvars.append(v)
            obj.append((v, float(costs[t - a] - costs[t - a + 1])))
        cvars.append(done)
        model.n_binaries += len(cvars) - 1
        model.cum[j] = (a, b, cvars)
        for i in range(len(cvars) - 1):
            nxt = cvars[i + 1]
            expr = pulp.LpAffineExpression([(cvars[i], 1.0)]) - nxt
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=0.0), name=f"order_{jid}_{a + i}")

        for hour in range(a, min(b + len(prof), t_n)):
            for t, coef in ((hour, g), (hour - m, -g * (1.0 - r)), (hour - m - 1, -g * r)):
                if t < a or coef == 0.0:
                    continue
                v = cvars[min(t, b) - a]
                if isinstance(v, float):
                    use_const[f, hour] += coef * v
                else:
                    use.setdefault((f, hour), []).append((v, coef))
        # the start labelled ``a`` is the exact submission: correct its profile
        p0 = job_profile(inp, j, a)
        n_c = max(p0.size, prof.size)
        delta = np.zeros(n_c)
        delta[: p0.size] += p0
        delta[: prof.size] -= prof
        v0 = cvars[0]
        for k in np.flatnonzero(np.abs(delta) > 1e-12):
            hour = a + int(k)
            if hour >= t_n:
                continue
            if isinstance(v0, float):
                use_const[f, hour] += float(delta[k]) * v0
            else:
                use.setdefault((f, hour), []).append((v0, float(delta[k])))
    # capacity and the cost of GPUs beyond reservations
    for f in range(f_n):
        cap, res, od = float(inp.capacity[f]), float(inp.reserved[f]), float(inp.on_demand[f])
        for t in range(t_n):
            terms = use.get((f, t), [])
            const = float(use_const[f, t])
            if not terms and const == 0.0:
                continue
            expr = linear(terms, const)
            if math.isfinite(cap):
                prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=cap),
                                   name=f"cap_{inp.families[f]}_{t}")
            if res <= 0:
                obj.extend((v, od * c) for v, c in terms)
                obj_const += od * const
            else:
                ex = prob.add_variable(f"beyond_reserved_{inp.families[f]}_{t}", lowBound=0)
                prob.addConstraint(pulp.LpConstraint(expr - ex, pulp.LpConstraintLE, rhs=res),
                                   name=f"beyond_{inp.families[f]}_{t}")
                obj.append((ex, od))
    prob.setObjective(linear(obj, obj_const))
    return model


def extract_schedule(model: ScheduleModel) -> tuple[pd.DataFrame, dict[int, int], np.ndarray]:
    """Read the solved model: the schedule table, the start of each one-piece job, unmet GPU-hours per job.

    Returns
    -------
    tuple
        ``(schedule, starts, unmet)``: the ``schedule`` table ``job_id, timestamp, gpus``; job position ->
        start hour index; unmet GPU-hours per job, shape (J,).
    """
    inp = model.inputs
    rows_j: list[int] = []
    rows_t: list[int] = []
    rows_g: list[float] = []
    starts: dict[int, int] = {}
    unmet = np.zeros(inp.n_jobs)
    for j, xs in model.x.items():
        for t, v in xs:
            val = float(v.value() or 0.0)
            if val > _TOL:
                rows_j.append(j)
                rows_t.append(t)
                rows_g.append(val)
        u = model.unmet.get(j)
        if u is not None:
            unmet[j] = float(u.value() or 0.0)
    for j, (a, _b, cvars) in model.cum.items():
        vals = [float(c) if isinstance(c, float) else float(c.value() or 0.0) for c in cvars]
        if vals[-1] < 0.5:
            unmet[j] = float(inp.gpus[j] * inp.duration[j])
            continue
        k = next(i for i, v in enumerate(vals) if v > 0.5)
        starts[j] = a + k
    for j, tau in model.fixed.items():
        starts[j] = int(tau)
    for j, u in model.unmet.items():
        if isinstance(u, float):
            unmet[j] = u
    for j, tau in starts.items():
        prof = job_profile(inp, j, tau)
        for k, gval in enumerate(prof):
            rows_j.append(j)
            rows_t.append(tau + k)
            rows_g.append(float(gval))
    sched = pd.DataFrame({
        "job_id": pd.array(inp.job_ids[np.array(rows_j, dtype=np.int64)], dtype="string"),
        "timestamp": inp.timestamps[np.array(rows_t, dtype=np.int64)],
        "gpus": np.array(rows_g, dtype=float),
    }).sort_values(["timestamp", "job_id"], kind="stable").reset_index(drop=True)
    return sched, starts, unmet


def usage_matrix(inputs: ScheduleInputs, schedule: pd.DataFrame) -> np.ndarray:
    """GPUs busy per job and hour from a schedule table, shape (J, T) [GPUs]."""
    pos = {jid: i for i, jid in enumerate(inputs.job_ids)}
    j = schedule["job_id"].astype(str).map(pos).to_numpy(dtype=np.int64)
    t = inputs.timestamps.get_indexer(pd.DatetimeIndex(schedule["timestamp"]))
    out = np.zeros((inputs.n_jobs, inputs.n_hours))
    np.add.at(out, (j, t), schedule["gpus"].to_numpy(dtype=float))
    return out


def arrival_schedule(inputs: ScheduleInputs) -> pd.DataFrame:
    """The baseline: every job runs in one piece from its exact submission (capacity not enforced)."""
    rows = []
    for j in range(inputs.n_jobs):
        a = int(inputs.release[j])
        prof = job_profile(inputs, j, a)
        for k, g in enumerate(prof):
            if a + k < inputs.n_hours and g > _TOL:
                rows.append((inputs.job_ids[j], a + k, g))
    return pd.DataFrame({
        "job_id": pd.array([r[0] for r in rows], dtype="string"),
        "timestamp": inputs.timestamps[np.array([r[1] for r in rows], dtype=np.int64)],
        "gpus": np.array([r[2] for r in rows], dtype=float),
    })


def as_run_usage(inputs: ScheduleInputs, planned: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GPUs busy per job and hour when a schedule is run as the simulator replays it, with its pauses.

    Each job's planned hours become runs (:func:`scenarios.pieces.hour_runs`); a run that is followed by
    another ends with a checkpoint of ``checkpoint_hours``, the next run starts at its planned start or when
    the previous one has ended, whichever is later, and first pays ``restart_hours``.

    Parameters
    ----------
    inputs
        The schedule's inputs (pause costs in ``checkpoint_hours``, ``restart_hours``).
    planned
        Planned GPUs busy per job and hour, shape (J, T) (:func:`usage_matrix`) [GPUs].

    Returns
    -------
    tuple
        ``(usage, start, finish)``: GPUs busy per job and hour as run, shape (J, T) [GPUs] (time past the
        grid is dropped); first start and finish per job [h from the grid start] (NaN when not run).
    """
    T = inputs.n_hours
    out = np.zeros_like(planned)
    start = np.full(inputs.n_jobs, np.nan)
    finish = np.full(inputs.n_jobs, np.nan)
    ck, rs = float(inputs.checkpoint_hours), float(inputs.restart_hours)
    for j in range(inputs.n_jobs):
        hrs = np.flatnonzero(planned[j] > _TOL)
        if not hrs.size:
            continue
        g = float(inputs.gpus[j])
        runs = hour_runs(hrs.tolist(), (planned[j, hrs] / g).tolist(), float(inputs.release_time[j]))
        t = -math.inf
        for i, (s, length) in enumerate(runs):
            a = max(s, t)
            t = a + (rs if i else 0.0) + length + (ck if i + 1 < len(runs) else 0.0)
            h0 = min(math.floor(a), T)
            h1 = min(math.ceil(t - 1e-12), T)
            if h1 > h0:
                out[j, h0:h1] += g * np.array(overlap_profile(a, t - a, h0, h1 - h0))
            if i == 0:
                start[j] = a
        finish[j] = t
    return out, start, finish


def cost_schedule(inputs: ScheduleInputs, schedule: pd.DataFrame, unmet: np.ndarray | None = None,
                  carbon_price: float | None = None, as_run: bool = False) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-job and total energy, emissions, costs and delay of a schedule.

    Parameters
    ----------
    inputs, schedule
        The schedule's inputs and its ``schedule`` table.
    unmet
        Unmet GPU-hours per job, shape (J,).
    carbon_price
        Override the carbon price [USD/t].
    as_run
        Cost the schedule as the simulator runs it, with the checkpoint and restart of every pause
        (:func:`as_run_usage`); default False: as planned (the model's own objective).

    Returns
    -------
    tuple
        ``(jobs, totals)``: per job ``job_id, family, preemptible, gpus, duration_hours, window_start, window_end,
        start, finish, delay_hours, gpu_hours, energy_kwh, kg_co2e, energy_cost_usd, carbon_cost_usd,
        unmet_gpu_hours``; totals incl. ``capacity_cost_usd`` (on-demand beyond reservations),
        ``pause_gpu_hours`` (checkpoints and restarts of pauses) and ``objective_usd``.
    """
    cp = inputs.carbon_price if carbon_price is None else float(carbon_price)
    planned = usage_matrix(inputs, schedule)
    u, start_h, finish_h = as_run_usage(inputs, planned)
    if not as_run:
        u = planned
        _, start_h, finish_h = as_run_usage(replace(inputs, checkpoint_hours=0.0, restart_hours=0.0), planned)
    fi = inputs.family_index
    kwh = inputs.kwh_per_gpu_hour[fi][:, None] * u
    kg = (inputs.kg_co2e()[fi] * u).sum(axis=1)
    e_usd = (inputs.energy_usd()[fi] * u).sum(axis=1)
    delay = finish_h - (inputs.release_time + inputs.duration)
    unmet = np.zeros(inputs.n_jobs) if unmet is None else np.asarray(unmet, dtype=float)
    t0 = inputs.timestamps[0]
    to_ts = lambda h: [t0 + pd.Timedelta(hours=float(x)) if np.isfinite(x) and x >= 0 else pd.NaT for x in h]  # noqa: E731
    jobs = pd.DataFrame({
        "job_id": pd.array(inputs.job_ids, dtype="string"),
        "family": [inputs.families[i] for i in fi],
        "preemptible": inputs.preemptible,
        "gpus": inputs.gpus, "duration_hours": inputs.duration,
        "window_start": to_ts(inputs.release_time), "window_end": to_ts(inputs.deadline_time),
        "start": to_ts(start_h), "finish": to_ts(finish_h),
        "delay_hours": np.maximum(np.nan_to_num(delay, nan=0.0), 0.0),
        "gpu_hours": u.sum(axis=1), "energy_kwh": kwh.sum(axis=1), "kg_co2e": kg,
        "energy_cost_usd": e_usd, "carbon_cost_usd": kg * cp / 1000.0, "unmet_gpu_hours": unmet,
    })
    cap_cost = 0.0
    for f in range(len(inputs.families)):
        tot = u[fi == f].sum(axis=0)
        cap_cost += float(inputs.on_demand[f] * np.maximum(tot - inputs.reserved[f], 0.0).sum())
    totals = {
        "gpu_hours": float(u.sum()), "energy_kwh": float(kwh.sum()), "kg_co2e": float(kg.sum()),
        "energy_cost_usd": float(e_usd.sum()), "carbon_cost_usd": float(kg.sum() * cp / 1000.0),
        "capacity_cost_usd": cap_cost, "unmet_gpu_hours": float(unmet.sum()),
        "pause_gpu_hours": float(u.sum() - planned.sum()),
        "unmet_penalty_usd": float(unmet.sum() * inputs.unmet_penalty),
        "mean_delay_hours": float(jobs["delay_hours"].mean()), "max_delay_hours": float(jobs["delay_hours"].max()),
    }
    totals["objective_usd"] = (totals["energy_cost_usd"] + totals["carbon_cost_usd"] + totals["capacity_cost_usd"]
                               + totals["unmet_penalty_usd"])
    totals["money_usd"] = totals["energy_cost_usd"] + totals["capacity_cost_usd"]
    return jobs, totals


@dataclass(eq=False)
class ScheduleResult:
    """A schedule with its costs, emissions, delays and the run-on-arrival baseline.

    Attributes
    ----------
    schedule
        The ``schedule`` table ``job_id, timestamp, gpus`` (GPUs busy in the hour; fractional in a job's
        partial hours).
    jobs
        Per-job results (see :func:`cost_schedule`) with the baseline's ``arrival_kg_co2e`` and
        ``arrival_energy_cost_usd`` beside.
    totals, arrival
        Totals of the schedule as planned (the model's figures) and of running every job on arrival.
    as_run
        Totals of the schedule as the simulator runs it: with the checkpoint and restart of every pause
        between two runs of a job (``pause_gpu_hours``); ``summary()`` gives the savings both ways.
    solve
        The solve of the exact MILP, or of the final LP of the large-instance method.
    method
        ``exact`` or ``lp-rounding``.
    lower_bound_usd
        Best proven lower bound on the objective [USD]: the MILP's bound or the LP relaxation.
    gap
        ``(objective - lower bound) / objective`` [fraction].
    runtime_s
        Wall-clock time of build + solve(s) [s].
    """

    schedule: pd.DataFrame
    jobs: pd.DataFrame
    totals: dict[str, float]
    arrival: dict[str, float]
    solve: SolveResult
    method: str
    lower_bound_usd: float
    gap: float
    runtime_s: float
    inputs: ScheduleInputs
    notes: list[str] = field(default_factory=list)
    as_run: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Headline figures: costs [USD], carbon [kg CO2e], delays [h] and savings against arrival, as planned
        (``carbon_saved_pct``, ``energy_cost_saved_pct``) and as run with pauses (``as_run_*``)."""
        t, a = self.totals, self.arrival
        out: dict[str, Any] = {
            "status": self.solve.status, "termination": self.solve.termination, "solver": self.solve.solver,
            "method": self.method, "runtime_s": self.runtime_s, "objective_usd": t["objective_usd"],
            "lower_bound_usd": self.lower_bound_usd, "gap": self.gap, "n_jobs": self.inputs.n_jobs,
            "hours": self.inputs.n_hours, "carbon_price_usd_per_tonne": self.inputs.carbon_price,
        }
        out.update({k: v for k, v in t.items() if k != "objective_usd"})
        out.update({f"arrival_{k}": v for k, v in a.items()})
        out["carbon_saved_kg"] = a["kg_co2e"] - t["kg_co2e"]
        out["carbon_saved_pct"] = 100.0 * (1.0 - t["kg_co2e"] / a["kg_co2e"]) if a["kg_co2e"] > 0 else 0.0
        out["energy_cost_saved_usd"] = a["energy_cost_usd"] - t["energy_cost_usd"]
        out["energy_cost_saved_pct"] = (100.0 * (1.0 - t["energy_cost_usd"] / a["energy_cost_usd"])
                                        if a["energy_cost_usd"] > 0 else 0.0)
        r = self.as_run or t
        out["pause_gpu_hours"] = float(r.get("pause_gpu_hours", 0.0))
        out["as_run_carbon_saved_pct"] = 100.0 * (1.0 - r["kg_co2e"] / a["kg_co2e"]) if a["kg_co2e"] > 0 else 0.0
        out["as_run_energy_cost_saved_pct"] = (100.0 * (1.0 - r["energy_cost_usd"] / a["energy_cost_usd"])
                                               if a["energy_cost_usd"] > 0 else 0.0)
        return out


def _solve_model(model: ScheduleModel, solver: str | None, time_limit_s: float | None,
                 mip_gap: float | None) -> SolveResult:
    return solve(model.problem, solver=solver, time_limit_s=time_limit_s, mip_gap=mip_gap)


def _infeasible(inputs: ScheduleInputs) -> InfeasibleError:
    err = check_capacity_load(inputs)
    if err is not None:
        return err
    return InfeasibleError(
        "no schedule fits every job in its window within the hourly capacity (one-piece jobs block each other)",
        column="deadline", fix="raise the capacity, move deadlines, mark jobs preemptible, or set "
                               "policies.allow_unmet_demand = true",
    )


def _round_starts(inputs: ScheduleInputs, relaxed: ScheduleModel, unit: np.ndarray) -> dict[int, int]:
    """Pick a start for each one-piece job among those its LP solution uses, largest jobs first: the one
    that costs least (energy, carbon and on-demand beyond reservations) given the jobs placed before it and
    still fits the capacity."""
    used = np.zeros((len(inputs.families), inputs.n_hours))
    starts: dict[int, int] = {}
    order = sorted(relaxed.cum, key=lambda j: -float(inputs.gpus[j] * inputs.duration[j]))
    for j in order:
        a, b, cvars = relaxed.cum[j]
        vals = np.array([float(c) if isinstance(c, float) else float(c.value() or 0.0) for c in cvars])
        weight = np.diff(np.concatenate([[0.0], vals]))
        f = int(inputs.family_index[j])
        costs = _job_start_costs(inputs, j, unit[f], a, b)
        cap = float(inputs.capacity[f])
        res, od = float(inputs.reserved[f]), float(inputs.on_demand[f])
        marg = np.empty(b - a + 1)
        for k in range(b - a + 1):  # energy + carbon + on-demand for the GPUs a start adds beyond reservations
            p = job_profile(inputs, j, a + k)
            u0 = used[f, a + k: a + k + p.size]
            p = p[: u0.size]
            marg[k] = float(costs[k]) + od * float((np.maximum(u0 + p - res, 0.0) - np.maximum(u0 - res, 0.0)).sum())
        # starts the LP uses first (cheapest given the one-piece jobs placed so far), then the others
        cand = sorted(range(b - a + 1), key=lambda k: (not weight[k] > 1e-6, float(marg[k])))
        best_k, best_over = cand[0], math.inf
        for k in cand:
            tau = a + k
            prof = job_profile(inputs, j, tau)
            over = float(np.maximum(used[f, tau: tau + prof.size] + prof - cap, 0.0).sum()) if math.isfinite(cap) else 0.0
            if over <= 1e-9:
                best_k, best_over = k, 0.0
                break
            if over < best_over:
                best_k, best_over = k, over
        tau = a + best_k
        prof = job_profile(inputs, j, tau)
        used[f, tau: tau + prof.size] += prof
        starts[j] = tau
    return starts


def optimize_schedule(
    inputs: ScheduleInputs,
    method: str = "auto",
    solver: str | None = None,
    time_limit_s: float | None = 120.0,
    mip_gap: float | None = 0.01,
    carbon_price: float | None = None,
) -> ScheduleResult:
    """Schedule the jobs: build, solve, extract, cost, and compare with running on arrival.

    Parameters
    ----------
    inputs
        From :func:`optimizer.schedule_inputs.schedule_inputs`.
    method
        ``exact`` (MILP to ``mip_gap``), ``lp-rounding`` (large instances) or ``auto``.
    solver
        ``highs`` (default) or ``cbc``.
    time_limit_s, mip_gap
        Solver limits [s], [fraction] (the scenario's ``[solver]``).
    carbon_price
        Override the carbon price [USD/t].

    Returns
    -------
    ScheduleResult

    Raises
    ------
    InfeasibleError
        When the jobs cannot fit (an overloaded interval is named when one exists).
    """
    if carbon_price is not None:
        inputs = inputs.with_carbon_price(carbon_price)
    t0 = time.perf_counter()
    notes = list(inputs.notes)
    n_bin = int(sum(max(int(b) - int(a), 0) for a, b, p in zip(inputs.release, inputs.last_start(), inputs.preemptible,
                                                               strict=True) if not p))
    chosen = method
    if method == "auto":
        chosen = "exact" if n_bin <= EXACT_MAX_BINARIES else "lp-rounding"
    if chosen not in ("exact", "lp-rounding"):
        raise ValueError("method must be auto, exact or lp-rounding")
    starts: dict[int, int]
    if chosen == "exact" or n_bin == 0:
        model = build_schedule(inputs)
        res = _solve_model(model, solver, time_limit_s, mip_gap)
        if res.status == "infeasible":
            raise _infeasible(inputs)
        if res.ok:
            sched, starts, unmet = extract_schedule(model)
            lb = res.best_bound if n_bin else res.objective
            chosen = "exact"
        else:
            notes.append(f"exact MILP stopped without a schedule ({res.termination}); used LP rounding")
            chosen = "lp-rounding"
    if chosen == "lp-rounding":
        relaxed = build_schedule(inputs, relax=True, name="schedule_lp")
        r_lp = _solve_model(relaxed, solver, time_limit_s, None)
        if r_lp.status == "infeasible":
            raise _infeasible(inputs)
        if not r_lp.ok:
            raise InfeasibleError(f"the LP relaxation did not solve ({r_lp.termination})", column="solver.time_limit_s")
        lb = r_lp.objective
        starts = _round_starts(inputs, relaxed, inputs.unit_cost())
        model = build_schedule(inputs, fixed=starts, name="schedule_final")
        res = _solve_model(model, solver, time_limit_s, None)
        if not res.ok:
            raise InfeasibleError(
                "LP rounding could not place the preemptible work around the one-piece jobs it fixed",
                column="method", fix="use method='exact' with a longer solver.time_limit_s, or allow unmet demand",
            )
        sched, starts, unmet = extract_schedule(model)
    jobs, totals = cost_schedule(inputs, sched, unmet)
    as_run = cost_schedule(inputs, sched, unmet, as_run=True)[1]
    base = arrival_schedule(inputs)
    bjobs, arrival = cost_schedule(inputs, base)
    jobs["arrival_kg_co2e"] = bjobs["kg_co2e"].to_numpy()
    jobs["arrival_energy_cost_usd"] = bjobs["energy_cost_usd"].to_numpy()
    obj = totals["objective_usd"]
    if as_run["pause_gpu_hours"] > 0:
        notes.append(f"pauses between runs add {as_run['pause_gpu_hours']:,.1f} GPU-hours of checkpoints and "
                     "restarts, counted in the as-run figures (not in the model's objective)")
    gap = abs(obj - lb) / abs(obj) if math.isfinite(lb) and abs(obj) > 0 else math.nan
    notes.append("baseline: every job runs in one piece from its submission; capacity is not enforced on it")
    return ScheduleResult(schedule=sched, jobs=jobs, totals=totals, arrival=arrival, solve=res, method=chosen,
                          lower_bound_usd=float(lb), gap=float(gap), runtime_s=time.perf_counter() - t0,
                          inputs=inputs, notes=notes, as_run=as_run)


def _pareto_item(item: tuple[ScheduleInputs, float, str, str | None, float | None, float | None]) -> dict[str, Any]:
    inputs, cp, method, solver, tl, gap = item
    r = optimize_schedule(inputs, method=method, solver=solver, time_limit_s=tl, mip_gap=gap, carbon_price=cp)
    t = r.totals
    return {"carbon_price_usd_per_tonne": cp, "kg_co2e": t["kg_co2e"], "energy_cost_usd": t["energy_cost_usd"],
            "capacity_cost_usd": t["capacity_cost_usd"], "money_usd": t["money_usd"],
            "carbon_cost_usd": t["carbon_cost_usd"], "mean_delay_hours": t["mean_delay_hours"],
            "method": r.method, "gap": r.gap, "status": r.solve.status}


def schedule_pareto(
    inputs: ScheduleInputs,
    carbon_prices: tuple[float, ...] = (0.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0),
    method: str = "auto",
    solver: str | None = None,
    time_limit_s: float | None = 120.0,
    mip_gap: float | None = 0.01,
    mapper: Mapper | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Carbon against money as the internal carbon price varies (one optimal schedule per price).

    Returns
    -------
    pandas.DataFrame
        ``carbon_price_usd_per_tonne, kg_co2e, energy_cost_usd, capacity_cost_usd, money_usd,
        carbon_cost_usd, mean_delay_hours, method, gap, status``; ``money_usd`` (energy + on-demand
        beyond reservations) is what is paid, the carbon price itself is not.
    """
    items = [(inputs, float(cp), method, solver, time_limit_s, mip_gap) for cp in carbon_prices]
    return pd.DataFrame((mapper or SerialMapper(progress)).map(_pareto_item, items, desc="carbon price sweep"))
