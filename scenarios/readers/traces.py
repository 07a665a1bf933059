"""Read a job trace (one row per job) into the ``jobs`` table.

Columns (contract names; rename others with ``columns=``):

- ``job_id`` (optional; default ``job-<row>``);
- ``submit_time``: ISO 8601 with offset (naive only with ``tz``); if absent, ``start_time`` is used;
- ``gpus``: GPUs the job holds at once [GPUs], a whole number; 0 marks a CPU job (skipped, counted);
- ``duration_hours`` [h] (or ``duration_minutes`` / ``duration_seconds``), or ``start_time`` and ``end_time``;
- optional ``family``, ``team``, ``deadline`` (time), ``preemptible`` (true/false, default true),
  ``checkpoint_interval_hours`` [h] (> 0; empty = Young/Daly), ``priority`` (whole number, default 0).

Examples
--------
>>> from scenarios.readers import read_trace
>>> res = read_trace("jobs.csv", tz="UTC")                # doctest: +SKIP
>>> print(res.report())                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers._checks import (
    ROW,
    ReadResult,
    check_gpu_scale,
    check_tz,
    parse_bool,
    parse_number,
    parse_text,
    parse_time,
    read_table,
    rename_columns,
    require_columns,
)

#: Output columns, in the order of the ``jobs`` table.
JOB_COLUMNS = ["job_id", "submit_time", "gpus", "duration_hours", "family", "team", "deadline",
               "preemptible", "checkpoint_interval_hours", "priority"]

#: A job finishing this much after its deadline still meets it [h] (3.6 microseconds; the simulator's
#: deadline check uses the same tolerance), so float round-off of durations never counts as a miss.
DEADLINE_TOLERANCE_HOURS = 1e-9
#: Longest job a trace may hold [h] (ten years); longer is a unit mistake (seconds read as hours).
MAX_JOB_HOURS = 87_660.0
_DURATIONS = {"duration_hours": 1.0, "duration_minutes": 1.0 / 60.0, "duration_seconds": 1.0 / 3600.0}
_OPTIONAL = ["job_id", "submit_time", "start_time", "end_time", *_DURATIONS, "family", "team", "deadline",
             "preemptible", "checkpoint_interval_hours", "priority"]


def read_trace(path: str | Path, *, tz: str | None = None, columns: Mapping[str, str] | None = None) -> ReadResult:
    """Read a job trace (CSV or Parquet) into the ``jobs`` table.

    Parameters
    ----------
    path
        The trace file, one row per job.
    tz
        IANA time zone of naive times; without it naive times are refused.
    columns
        Rename file columns to contract names: ``{contract name: file column}``,
        e.g. ``{"submit_time": "submitted", "gpus": "num_gpus"}``.

    Returns
    -------
    ReadResult
        ``frame`` with :data:`JOB_COLUMNS`, sorted by ``submit_time`` then ``job_id``: ``gpus`` int64,
        ``duration_hours`` [h] float, ``preemptible`` bool (default true), ``priority`` int64 (default 0),
        ``checkpoint_interval_hours`` [h] (NaN = Young/Daly). Jobs with 0 GPUs or 0 duration are skipped
        and counted by reason.

    Raises
    ------
    InputError
        Missing or misspelt columns, non-numeric or negative quantities, fractional GPU counts, naive
        or unreadable times, an end before its start, a start before its submission, a deadline before
        the submission, duplicate job ids.
    """
    file = str(path)
    check_tz(tz, file=file)
    df = rename_columns(read_table(path, what="job trace"), columns, file=file)
    present = set(df.columns)
    has_span = {"start_time", "end_time"} <= present
    dur_col = next((c for c in _DURATIONS if c in present), None)
    if "submit_time" not in present and "start_time" in present:
        required = ["gpus"]
    else:
        required = ["submit_time", "gpus"]
    if dur_col is None:
        required.append("duration_hours")
    ignored = require_columns(df, required, _OPTIONAL, file=file, what="job trace",
                              alternatives={"duration_hours": ["start_time", "end_time"]})
    notes: list[str] = []
    skipped: dict[str, int] = {}
    if ignored:
        notes.append(f"ignored columns: {', '.join(ignored)}")

    start = parse_time(df, "start_time", file=file, tz=tz, notes=notes, allow_na=dur_col is not None) \
        if "start_time" in present else None
    if "submit_time" in present:
        submit = parse_time(df, "submit_time", file=file, tz=tz, notes=notes)
    else:
        assert start is not None
        submit = start
        notes.append("no submit_time column: jobs are taken as submitted when they started")
    gpus = parse_number(df, "gpus", file=file, unit="GPUs", integer=True)
    check_gpu_scale(gpus, df[ROW].to_numpy(), file=file, notes=notes, what="GPUs in one job")

    if dur_col is not None:
        dur = parse_number(df, dur_col, file=file, unit=dur_col.split("_")[1],
                           maximum=MAX_JOB_HOURS / _DURATIONS[dur_col]) * _DURATIONS[dur_col]
        if dur_col != "duration_hours":
            notes.append(f"durations converted from {dur_col.split('_')[1]} to hours")
        if has_span:
            notes.append(f"{dur_col} used; start_time/end_time only checked")
    else:
        assert start is not None
        end = parse_time(df, "end_time", file=file, tz=tz, notes=notes)
        dur = (end - start).dt.total_seconds() / 3600.0
        long = (dur > MAX_JOB_HOURS).to_numpy(dtype=bool, na_value=False)
        if long.any():
            i = int(np.flatnonzero(long)[0])
            raise InputError(f"the job runs {dur.iloc[i]:,.0f} hours (end_time - start_time)", file=file,
                             row=int(df[ROW].iloc[i]), column="end_time",
                             fix=f"a job must run at most {MAX_JOB_HOURS:,.0f} h (ten years); check the dates")
        back = (dur < 0).to_numpy(dtype=bool)
        if back.any():
            i = int(np.flatnonzero(back)[0])
            raise InputError(f"end_time {end.iloc[i].isoformat()} is before start_time {start.iloc[i].isoformat()}",
                             file=file, row=int(df[ROW].iloc[i]), column="end_time",
                             fix="swap the columns or correct the times")
        notes.append("durations computed as end_time - start_time")
    if start is not None:
        early = (start < submit).to_numpy(dtype=bool, na_value=False)
        if early.any():
            i = int(np.flatnonzero(early)[0])
            raise InputError(f"start_time {start.iloc[i].isoformat()} is before submit_time "
                             f"{submit.iloc[i].isoformat()}", file=file, row=int(df[ROW].iloc[i]),
                             column="start_time", fix="a job cannot start before it is submitted; check the zones")

    if "job_id" in present:
        job_id = parse_text(df, "job_id", file=file, allow_na=False)
        dup = job_id.duplicated().to_numpy(dtype=bool)
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise InputError(f"duplicate job_id '{job_id.iloc[i]}'", file=file, row=int(df[ROW].iloc[i]),
                             column="job_id", fix="give each job a unique id")
    else:
        job_id = pd.Series([f"job-{r}" for r in df[ROW]], index=df.index, dtype="str")
        notes.append("no job_id column: ids are job-<row>")

    out = pd.DataFrame({
        "job_id": job_id,
        "submit_time": submit,
        "gpus": gpus,
        "duration_hours": dur,
        "family": parse_text(df, "family", file=file) if "family" in present else _na_text(df),
        "team": parse_text(df, "team", file=file) if "team" in present else _na_text(df),
        "deadline": (parse_time(df, "deadline", file=file, tz=tz, notes=notes, allow_na=True, what="deadline")
                     if "deadline" in present else pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")),
        "preemptible": (parse_bool(df, "preemptible", file=file, default=True)
                        if "preemptible" in present else pd.Series(True, index=df.index)),
        "checkpoint_interval_hours": (
            parse_number(df, "checkpoint_interval_hours", file=file, unit="h", allow_na=True, strict_min=True)
            if "checkpoint_interval_hours" in present else pd.Series(np.nan, index=df.index)),
        "priority": (parse_number(df, "priority", file=file, unit="priority levels", allow_na=True,
                                  minimum=None, integer=True).fillna(0.0)
                     if "priority" in present else pd.Series(0.0, index=df.index)),
        ROW: df[ROW],
    })
    late = (out["deadline"] < out["submit_time"]).to_numpy(dtype=bool, na_value=False)
    if late.any():
        i = int(np.flatnonzero(late)[0])
        raise InputError(f"deadline {out['deadline'].iloc[i].isoformat()} is before the submission "
                         f"{out['submit_time'].iloc[i].isoformat()}", file=file, row=int(out[ROW].iloc[i]),
                         column="deadline", fix="correct the deadline or its time zone")

    drop = np.zeros(len(out), dtype=bool)
    for reason, mask in (("zero GPUs (CPU-only job)", (out["gpus"] == 0).to_numpy(dtype=bool)),
                         ("zero duration", ((out["gpus"] > 0) & (out["duration_hours"] == 0)).to_numpy(dtype=bool))):
        if mask.any():
            skipped[reason] = int(mask.sum())
            drop |= mask
    out = out[~drop]
    # Compare in hours with the simulator's tolerance: converting float hours to nanoseconds
    # (pd.to_timedelta) can overshoot by 1 ns, which flagged deadline == submission + duration as missed.
    window_hours = (out["deadline"] - out["submit_time"]).dt.total_seconds() / 3600.0
    tight = window_hours.to_numpy(dtype=float, na_value=np.nan) < (
        out["duration_hours"].to_numpy(dtype=float) - DEADLINE_TOLERANCE_HOURS)
    n_tight = int(tight.sum())
    if n_tight:
        notes.append(f"{n_tight:,} jobs cannot meet their deadline even if started at submission")
    out = out.astype({"gpus": "int64", "priority": "int64", "preemptible": "bool"})
    out = out.sort_values(["submit_time", "job_id"], kind="stable")[JOB_COLUMNS].reset_index(drop=True)
    return ReadResult(frame=out, skipped=skipped, notes=notes, source=file)


def _na_text(df: pd.DataFrame) -> pd.Series:
    return pd.Series(pd.NA, index=df.index, dtype="str")
