"""Validation at the simulator's entry: each input frame is checked before it is turned into arrays.

Every function raises :class:`scenarios.errors.InputError` naming the table, the row or column, and the fix;
none drops rows silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.pieces import hour_runs
from scenarios.tables import check_frame

HOUR = pd.Timedelta(hours=1)


def check_timestamps_on_hours(ts: pd.Series, *, what: str) -> None:
    """Refuse timestamps that are not whole UTC hours."""
    off = (ts.dt.floor("h") != ts).to_numpy(dtype=bool)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(f"timestamp {ts.iloc[i]} is not on a whole hour", file=what, row=i + 1, column="timestamp",
                         fix="resample the table to hourly steps first")


def check_jobs(jobs: pd.DataFrame, families: Sequence[str], default_family: str) -> pd.DataFrame:
    """Check the ``jobs`` table and fill optional columns with their defaults.

    Returns
    -------
    pandas.DataFrame
        A copy with every optional column present: ``family`` (default ``default_family``), ``team``
        (default ``"unassigned"``), ``deadline`` (NaT), ``preemptible`` (true), ``checkpoint_interval_hours``
        (NaN = Young/Daly), ``priority`` (0).

    Raises
    ------
    InputError
        Missing columns, naive timestamps, non-positive GPUs or durations, fractional GPUs, unknown
        families, duplicate ids, deadlines before submission, non-positive checkpoint intervals.
    """
    file = "jobs table"
    check_frame(jobs, "jobs", file=file)
    df = jobs.copy()
    n = len(df)
    if "family" not in df.columns:
        df["family"] = default_family
    df["family"] = df["family"].astype(object).where(df["family"].notna(), default_family).astype(str)
    if "team" not in df.columns:
        df["team"] = "unassigned"
    df["team"] = df["team"].astype(object).where(df["team"].notna(), "unassigned").astype(str)
    if "deadline" not in df.columns:
        df["deadline"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    elif not isinstance(df["deadline"].dtype, pd.DatetimeTZDtype):
        if df["deadline"].notna().any():
            raise InputError("deadlines must be timezone-aware UTC", file=file, column="deadline",
                             fix="convert with pd.to_datetime(..., utc=True)")
        df["deadline"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    if "preemptible" not in df.columns:
        df["preemptible"] = True
    df["preemptible"] = df["preemptible"].astype(object).where(df["preemptible"].notna(), True).astype(bool)
    if "checkpoint_interval_hours" not in df.columns:
        df["checkpoint_interval_hours"] = np.nan
    if "priority" not in df.columns:
        df["priority"] = 0
    df["priority"] = pd.to_numeric(df["priority"]).fillna(0)

    ids = df["job_id"].astype(str)
    dup = ids.duplicated().to_numpy(dtype=bool)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(f"duplicate job_id '{ids.iloc[i]}'", file=file, row=i + 1, column="job_id",
                         fix="give each job a unique id")
    gpus = df["gpus"].to_numpy(dtype=float, na_value=np.nan)
    bad = ~(gpus >= 1) | (gpus != np.round(gpus))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"gpus must be a whole number >= 1, got {gpus[i]}", file=file, row=i + 1, column="gpus",
                         fix="drop CPU-only jobs and round GPU counts")
    dur = df["duration_hours"].to_numpy(dtype=float, na_value=np.nan)
    bad = ~(dur > 0) | ~np.isfinite(dur)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"duration_hours must be > 0 and finite, got {dur[i]}", file=file, row=i + 1,
                         column="duration_hours", fix="drop zero-length jobs")
    ck = df["checkpoint_interval_hours"].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(ck) & ~(ck > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"checkpoint_interval_hours must be > 0, got {ck[i]}", file=file, row=i + 1,
                         column="checkpoint_interval_hours", fix="leave it empty for the Young/Daly interval")
    unknown = ~df["family"].isin(list(families)).to_numpy(dtype=bool)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError(f"job '{ids.iloc[i]}' needs family '{df['family'].iloc[i]}', not in the catalog",
                         file=file, row=i + 1, column="family", fix=f"use one of {list(families)}")
    late = (df["deadline"] < df["submit_time"]).to_numpy(dtype=bool, na_value=False)
    if late.any():
        i = int(np.flatnonzero(late)[0])
        raise InputError(f"deadline of job '{ids.iloc[i]}' is before its submission", file=file, row=i + 1,
                         column="deadline", fix="correct the deadline or its time zone")
    df["job_id"] = ids
    df["gpus"] = gpus.astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    return df


def check_demand(demand: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """Normalise an aggregate demand frame to ``family, timestamp, sample_id, gpus``.

    Accepts a family-level table (``family, timestamp, gpus``, optional ``sample_id``) or a ``paths`` table
    (``series_id, timestamp, sample_id, gpus``) whose family-level series are catalog slugs; team series
    ``family/team`` are summed into their family when the family-level series is absent.

    Raises
    ------
    InputError
        Missing columns, naive timestamps, negative or missing GPUs, an unknown family.
    """
    file = "demand table"
    if "family" not in demand.columns and "series_id" not in demand.columns:
        raise InputError("needs a 'family' or 'series_id' column", file=file, column="family",
                         fix="pass a family, timestamp, gpus table or forecast sample paths")
    for col in ("timestamp", "gpus"):
        if col not in demand.columns:
            raise InputError("missing column", file=file, column=col, fix=f"add a '{col}' column")
    if not isinstance(demand["timestamp"].dtype, pd.DatetimeTZDtype):
        raise InputError("timestamps must be timezone-aware UTC", file=file, column="timestamp",
                         fix="convert with pd.to_datetime(..., utc=True)")
    check_timestamps_on_hours(demand["timestamp"], what=file)
    gpus = demand["gpus"].to_numpy(dtype=float, na_value=np.nan)
    bad = ~(gpus >= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"gpus must be >= 0 and not missing, got {gpus[i]}", file=file, row=i + 1, column="gpus",
                         fix="fill or cut missing hours; a forecast path has a value for every hour")
    series = (demand["family"] if "family" in demand.columns else demand["series_id"]).astype(str)
    codes, uniq = pd.factorize(series)
    fam_of = np.array([str(u).split("/")[0] for u in uniq], dtype=object)
    top_of = np.array([str(u) == f for u, f in zip(uniq, fam_of, strict=True)], dtype=bool)
    unknown = sorted(set(fam_of.tolist()) - set(families))
    if unknown:
        raise InputError(f"demand for unknown family '{unknown[0]}'", file=file, column="family",
                         fix=f"families in the catalog are {list(families)}")
    d = pd.DataFrame({
        "family": fam_of[codes],
        "timestamp": demand["timestamp"].reset_index(drop=True),
        "sample_id": (demand["sample_id"].to_numpy(dtype=np.int64) if "sample_id" in demand.columns
                      else np.zeros(len(demand), dtype=np.int64)),
        "gpus": gpus,
    })
    is_top = top_of[codes]
    top = d[is_top]
    children = d[~is_top & ~d["family"].isin(set(top["family"]))]
    parts: list[pd.DataFrame] = [top[["family", "timestamp", "sample_id", "gpus"]]]
    if len(children):
        parts.append(children.groupby(["family", "timestamp", "sample_id"], as_index=False)[["gpus"]].sum())
    out = pd.concat(parts, ignore_index=True)
    dup = out.duplicated(["family", "timestamp", "sample_id"]).to_numpy(dtype=bool)
    if dup.any():
        r = out.iloc[int(np.flatnonzero(dup)[0])]
        raise InputError(f"duplicate hour {r['timestamp']} for family '{r['family']}', sample {r['sample_id']}",
                         file=file, column="timestamp", fix="one row per family, sample and hour")
    return out


def check_schedule(schedule: pd.DataFrame, jobs: pd.DataFrame, start: pd.Timestamp
                   ) -> dict[str, list[tuple[float, float]]]:
    """The runs of each scheduled job from a ``schedule`` table (``job_id, timestamp, gpus``).

    A row says the job keeps ``gpus`` GPUs busy in the hour starting at ``timestamp``; a job holds all its
    GPUs at once, so it runs ``gpus / job gpus`` of that hour, placed in the hour by the optimizer's rule
    (:func:`scenarios.pieces.hour_runs`).  Without a ``gpus`` column every listed hour is a full hour.

    Parameters
    ----------
    schedule
        The optimizer's ``schedule`` table.
    jobs
        The checked jobs table (``job_id, submit_time, gpus``).
    start
        Hour 0 of the simulation (UTC).

    Returns
    -------
    dict
        ``job_id -> [(start [h from start], length [h]), ...]``: contiguous runs in time order.

    Raises
    ------
    InputError
        Missing columns, naive or off-hour timestamps, a job id that is not in the jobs table, a repeated
        (job, hour), or more GPUs in an hour than the job has.
    """
    file = "schedule table"
    for col in ("job_id", "timestamp"):
        if col not in schedule.columns:
            raise InputError("missing column", file=file, column=col, fix=f"add a '{col}' column")
    if not isinstance(schedule["timestamp"].dtype, pd.DatetimeTZDtype):
        raise InputError("timestamps must be timezone-aware UTC", file=file, column="timestamp",
                         fix="convert with pd.to_datetime(..., utc=True)")
    check_timestamps_on_hours(schedule["timestamp"], what=file)
    ids = schedule["job_id"].astype(str).reset_index(drop=True)
    jid = jobs["job_id"].astype(str).to_numpy()
    pos = pd.Series(np.arange(len(jid)), index=jid)
    unknown = ~ids.isin(set(jid)).to_numpy(dtype=bool)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError(f"job '{ids.iloc[i]}' is scheduled but not in the jobs table", file=file, row=i + 1,
                         column="job_id", fix="schedule the same jobs table the simulator replays")
    job_gpus = jobs["gpus"].to_numpy(dtype=float)[pos.loc[ids].to_numpy()]
    g = (schedule["gpus"].to_numpy(dtype=float, na_value=np.nan) if "gpus" in schedule.columns
         else job_gpus.copy())
    bad = ~(g >= 0) | (g > job_gpus + 1e-6)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"job '{ids.iloc[i]}' has {g[i]} GPUs busy in an hour but holds {job_gpus[i]:g}",
                         file=file, row=i + 1, column="gpus",
                         fix="give GPUs busy in the hour, between 0 and the job's GPUs")
    hour = np.rint(((schedule["timestamp"] - start) / HOUR).to_numpy(dtype=float)).astype(np.int64)
    frame = pd.DataFrame({"job_id": ids, "hour": hour, "frac": g / job_gpus})
    dup = frame.duplicated(["job_id", "hour"]).to_numpy(dtype=bool)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(f"job '{ids.iloc[i]}' is listed twice for hour {schedule['timestamp'].iloc[i]}", file=file,
                         row=i + 1, column="timestamp", fix="one row per job and hour")
    frame = frame[frame["frac"] > 1e-9].sort_values(["job_id", "hour"], kind="stable")
    submit = dict(zip(jid, ((jobs["submit_time"] - start) / HOUR).to_numpy(dtype=float), strict=True))
    return {str(k): hour_runs(sub["hour"].tolist(), sub["frac"].tolist(), submit[str(k)])
            for k, sub in frame.groupby("job_id", sort=True)}
