"""The result of a simulation: long tables over replications, and their summary with 95 % intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.inputs import SimulationInputs
from simulator.replication import ReplicationOutput

#: KPI columns that are labels or counters of the run rather than outcomes to summarise.
_NOT_SUMMARISED = {"replication", "demand_sample"}


@dataclass
class SimulationResult:
    """Tidy tables of a Monte Carlo simulation (all money in USD, energy in kWh, carbon in kg CO2e).

    Attributes
    ----------
    jobs
        One row per (replication, job): times, deadline met, GPU-hours useful / lost / checkpoint and by
        pool, interruptions, cost by pool, kWh, kg CO2e, status (``finished``, ``unfinished``,
        ``stopped_by_budget``), queueing and deferral delays.
    hourly
        One row per (replication, hour, family, pool, commitment_status): GPUs busy (= GPU-hours in the
        hour), of which the aggregate demand, capacity, cost.  Idle reserved GPUs are the ``reserved``
        ``Unused`` rows; committed spend used / unused are the ``committed`` rows' ``cost_usd``.
        Only for the replications asked for with ``detail``.
    charges
        Charge rows per (replication, hour, team, family, pool, commitment_status), the base of
        :func:`simulator.to_focus`; same replications as ``hourly``.
    teams
        Showback per (replication, team): GPU-hours and direct cost by pool, plus each team's share of idle
        reserved cost (by its reserved GPU-hours per family) and of unused commitment (by its committed
        spend).  ``showback_usd`` sums to ``total_cost_usd``.
    kpis
        One row per replication (see ``docs/simulator.md`` for every column).
    summary
        Per KPI: mean, std, 95 % confidence interval of the mean (Student t), n.
    inputs
        The description that was simulated (without demand paths).
    meta
        Seed, replications, wall times, notes about the inputs.
    """

    jobs: pd.DataFrame
    hourly: pd.DataFrame
    charges: pd.DataFrame
    teams: pd.DataFrame
    kpis: pd.DataFrame
    summary: pd.DataFrame
    inputs: SimulationInputs
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def plan_name(self) -> str:
        """Name of the plan simulated."""
        return self.inputs.plan_name

    def kpi(self, name: str) -> float:
        """Mean of one KPI over replications."""
        return float(self.summary.loc[self.summary["metric"] == name, "mean"].iloc[0])

    def describe(self, metrics: Sequence[str] | None = None) -> str:
        """A short human summary: the main KPIs with their 95 % intervals."""
        metrics = metrics or [
            "total_cost_usd", "cost_per_useful_gpu_hour", "cost_per_job_usd", "effective_savings_rate",
            "savings_vs_all_on_demand", "coverage", "commitment_utilization", "idle_reserved_gpu_hours",
            "job_interruptions", "job_lost_gpu_hours", "deadline_misses", "mean_queue_delay_hours",
            "demand_unmet_gpu_hours", "kwh", "kg_co2e",
        ]
        s = self.summary.set_index("metric")
        n = int(self.kpis["replication"].nunique()) if len(self.kpis) else 0
        lines = [f"plan '{self.plan_name}' on scenario '{self.inputs.scenario_name}': {n} replications, "
                 f"{len(self.inputs.jobs):,} jobs, {self.inputs.hours:,} h from {self.inputs.start:%Y-%m-%d %H:%M} UTC"]
        for m in metrics:
            if m not in s.index:
                continue
            r = s.loc[m]
            ci = "" if not np.isfinite(r["ci95_low"]) else f"  (95% CI {r['ci95_low']:,.4g} .. {r['ci95_high']:,.4g})"
            lines.append(f"  {m:<28} {r['mean']:>14,.4g}{ci}")
        return "\n".join(lines)


def summarise(kpis: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and 95 % Student-t interval of each KPI over replications.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, mean, std, ci95_low, ci95_high, n`` (n = replications with a value).
    """
    from scipy import stats  # lazy: keeps worker start-up light

    rows = []
    for col in kpis.columns:
        if col in _NOT_SUMMARISED or not pd.api.types.is_numeric_dtype(kpis[col]):
            continue
        x = kpis[col].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        n = len(x)
        mean = float(x.mean()) if n else np.nan
        std = float(x.std(ddof=1)) if n > 1 else np.nan
        if n > 1:
            half = float(stats.t.ppf(0.975, n - 1)) * std / np.sqrt(n)
            lo, hi = mean - half, mean + half
        else:
            lo = hi = np.nan
        rows.append({"metric": col, "mean": mean, "std": std, "ci95_low": lo, "ci95_high": hi, "n": n})
    return pd.DataFrame(rows, columns=["metric", "mean", "std", "ci95_low", "ci95_high", "n"])


def _stamp(start: pd.Timestamp, hours: pd.Series | np.ndarray) -> pd.DatetimeIndex:
    h = np.asarray(hours, dtype=float)
    us = np.round(np.where(np.isfinite(h), h, np.nan) * 3.6e9)
    return start + pd.to_timedelta(us, unit="us")


def _labels(codes: np.ndarray, names: list[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=pd.Index(names))


def assemble(inputs: SimulationInputs, outputs: list[ReplicationOutput], *, seed: int,
             notes: Sequence[str] = ()) -> SimulationResult:
    """Concatenate replication outputs into a :class:`SimulationResult`."""
    start = inputs.start
    jobs_parts, teams_parts, hourly_parts, charge_parts, kpi_rows = [], [], [], [], []
    for out in outputs:
        b = out.bill
        jobs_parts.append(b.jobs.assign(replication=out.replication))
        teams_parts.append(b.teams.assign(replication=out.replication))
        kpi_rows.append({"replication": out.replication, **b.kpis})
        if b.hourly is not None:
            hourly_parts.append(b.hourly.assign(replication=out.replication))
        if b.charges is not None:
            charge_parts.append(b.charges.assign(replication=out.replication))
    jobs = pd.concat(jobs_parts, ignore_index=True) if jobs_parts else pd.DataFrame()
    if len(jobs):
        J = inputs.jobs
        reps = len(jobs_parts)
        jobs["job_id"] = np.tile(J.job_id, reps)
        jobs["team"] = _labels(np.tile(J.team, reps), list(J.team_names))
        jobs["family"] = _labels(np.tile(J.family, reps), inputs.family_names)
        jobs["gpus"] = np.tile(J.gpus, reps)
        jobs["preemptible"] = np.tile(J.preemptible, reps)
        jobs["status"] = _labels(jobs.pop("status_code").to_numpy(), ["unfinished", "finished", "stopped_by_budget"])
        for src, dst in (("submit_hour", "submit_time"), ("release_hour", "release_time"),
                         ("start_hour", "start_time"), ("end_hour", "end_time"), ("deadline_hour", "deadline")):
            jobs[dst] = _stamp(start, jobs[src])
        jobs = jobs.drop(columns=["submit_hour", "release_hour", "start_hour", "end_hour", "deadline_hour"])
        first = ["replication", "job_id", "team", "family", "gpus", "preemptible", "submit_time", "release_time",
                 "start_time", "end_time", "deadline", "status", "deadline_met"]
        jobs = jobs[first + [c for c in jobs.columns if c not in first]]

    def timed(parts: list[pd.DataFrame]) -> pd.DataFrame:
        if not parts:
            return pd.DataFrame()
        d = pd.concat(parts, ignore_index=True)
        d.insert(0, "timestamp", _stamp(start, d.pop("hour")))
        d.insert(0, "replication", d.pop("replication"))
        return d

    teams = pd.concat(teams_parts, ignore_index=True) if teams_parts else pd.DataFrame()
    if len(teams):
        teams.insert(0, "replication", teams.pop("replication"))
    kpis = pd.DataFrame(kpi_rows)
    meta = {
        "seed": seed,
        "replications": len(outputs),
        "wall_seconds": [o.wall_seconds for o in outputs],
        "sim_seconds": [o.sim_seconds for o in outputs],
        "cpu_seconds": [o.cpu_seconds for o in outputs],
        "notes": list(inputs.notes) + list(notes),
    }
    return SimulationResult(jobs=jobs, hourly=timed(hourly_parts), charges=timed(charge_parts), teams=teams,
                            kpis=kpis, summary=summarise(kpis), inputs=inputs, meta=meta)
