"""The scenario's training jobs as the ``jobs`` table: a replayed trace or the SYNTHETIC generator.

Examples
--------
>>> import pandas as pd
>>> from scenarios import load_scenario
>>> jobs = load_jobs(load_scenario("small"), start=pd.Timestamp("2026-01-05", tz="UTC"))
>>> len(jobs), bool((jobs["submit_time"] >= pd.Timestamp("2026-01-05", tz="UTC")).all())
(60, True)
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.schema import Scenario
from scenarios.synthetic import generate_jobs

log = logging.getLogger(__name__)

JOB_COLUMNS = ["job_id", "submit_time", "gpus", "duration_hours", "family", "team", "deadline", "preemptible",
               "checkpoint_interval_hours", "priority"]


def plan_start(sc: Scenario, start: pd.Timestamp | None = None) -> pd.Timestamp:
    """Hour 0 of the plan: ``sc.start`` if set, else ``start``, else the hour after the demand history ends.

    Parameters
    ----------
    sc
        The scenario.
    start
        Plan start used when ``sc.start`` is not set (tz-aware).

    Returns
    -------
    pandas.Timestamp
        The start in UTC.

    Raises
    ------
    InputError
        A naive ``start``, or (when the history is needed) any problem reading the demand history.
    """
    t = sc.start if sc.start is not None else start
    if t is None:
        from scenarios.history import load_history  # lazy: only needed for the default

        history = load_history(sc).history
        return pd.Timestamp(history["timestamp"].max()).tz_convert("UTC") + pd.Timedelta(hours=1)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        raise InputError(f"plan start {ts} has no time zone", column="start",
                         fix="give a UTC time, e.g. pd.Timestamp('2026-01-01', tz='UTC')")
    return ts.tz_convert("UTC")


def load_jobs(sc: Scenario, start: pd.Timestamp | None = None) -> pd.DataFrame:
    """The scenario's jobs, starting at the plan start.

    The plan start is ``sc.start``, else ``start``, else the hour after the demand history ends
    (:func:`plan_start`).  With ``sc.workload.trace`` the trace is read by
    :func:`scenarios.readers.read_trace` (``tz`` from ``sc.workload.tz``) and every time in it (submissions
    and deadlines) is shifted by one offset so the first submission's hour becomes the plan start; relative
    timing is kept.
    Without a trace, jobs come from the SYNTHETIC generator :func:`scenarios.synthetic.generate_jobs`
    (``sc.workload.generator``), submitted from the plan start on.

    Jobs without a family get ``sc.workload.family`` (default: the first catalog family); missing
    ``preemptible`` is true, ``priority`` 0, ``checkpoint_interval_hours`` NaN (Young/Daly).

    Parameters
    ----------
    sc
        The scenario.
    start
        Plan start used when ``sc.start`` is not set (tz-aware); the scenario's own start wins.

    Returns
    -------
    pandas.DataFrame
        The ``jobs`` table, sorted by ``submit_time``; ``attrs["notes"]`` says where the jobs came from.

    Raises
    ------
    InputError
        A naive start; a trace naming a family missing from the catalog; bad trace or history files.
    """
    notes: list[str] = []
    t0 = plan_start(sc, start)
    if sc.start is None and start is None:
        notes.append(f"plan start: the hour after the demand history ends, {t0:%Y-%m-%d %H:%M} UTC")
    default_family = sc.workload.family or sc.families[0]
    wl = sc.workload
    if wl.trace is not None:
        from scenarios.readers import read_trace  # lazy: readers are optional for generated workloads

        path = sc.resolve(wl.trace)
        res = read_trace(path, tz=wl.tz)
        jobs = res.frame.copy()
        notes += list(res.notes)
        skipped = res.skipped
        if skipped:
            notes.append(f"{path}: skipped " + ", ".join(f"{v:,} {k}" for k, v in skipped.items()))
        jobs = _complete(jobs, default_family, file=path)
        _check_families(jobs, sc, file=path)
        if len(jobs):
            first = jobs["submit_time"].min().floor("h")
            shift = t0 - first
            if shift != pd.Timedelta(0):
                jobs["submit_time"] = jobs["submit_time"] + shift
                jobs["deadline"] = jobs["deadline"] + shift
                notes.append(f"{path}: shifted every time by {shift} so the first submission hour "
                             f"{first:%Y-%m-%d %H:%M} UTC becomes the plan start {t0:%Y-%m-%d %H:%M} UTC")
        source = path
    else:
        jobs = generate_jobs(wl.generator, t0, [default_family], seed=wl.generator.seed)
        g = wl.generator
        source = (f"SYNTHETIC generator: {g.n_jobs} jobs over {g.span_days:g} days, Philly runtimes "
                  f"in [{g.min_runtime_hours:g}, {g.max_runtime_hours:g}] h, seed {g.seed}")
        notes.append(source)
    jobs = jobs.sort_values(["submit_time", "job_id"], kind="stable").reset_index(drop=True)
    jobs.attrs["notes"] = notes
    jobs.attrs["source"] = source
    for n in notes:
        log.info(n)
    return jobs


def _complete(jobs: pd.DataFrame, default_family: str, *, file: str) -> pd.DataFrame:
    """Add the optional ``jobs`` columns with their defaults, in contract order."""
    n = len(jobs)
    out = jobs.copy()
    if "family" not in out.columns:
        out["family"] = pd.array([default_family] * n, dtype="string")
    else:
        out["family"] = out["family"].astype("string").fillna(default_family)
    if "team" not in out.columns:
        out["team"] = pd.array([pd.NA] * n, dtype="string")
    if "deadline" not in out.columns:
        out["deadline"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
    if "preemptible" not in out.columns:
        out["preemptible"] = np.ones(n, dtype=bool)
    if "checkpoint_interval_hours" not in out.columns:
        out["checkpoint_interval_hours"] = np.full(n, np.nan)
    if "priority" not in out.columns:
        out["priority"] = np.zeros(n, dtype=np.int64)
    missing = [c for c in ("job_id", "submit_time", "gpus", "duration_hours") if c not in out.columns]
    if missing:
        raise InputError(f"the trace reader returned no '{missing[0]}' column", file=file, column=missing[0])
    return out[JOB_COLUMNS]


def _check_families(jobs: pd.DataFrame, sc: Scenario, *, file: str) -> None:
    known = set(sc.families)
    bad = ~jobs["family"].isin(known).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"job '{jobs['job_id'].iloc[i]}' needs family '{jobs['family'].iloc[i]}', which is not in "
                         "the scenario's catalog", file=file, column="family",
                         fix=f"use one of {sorted(known)} or add it to [catalog]")
