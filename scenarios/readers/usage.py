"""Read hourly GPU usage in long format: the ``usage`` table the forecasting engine's history comes from.

Columns (contract names; rename others with ``columns=``, as ``[demand] columns`` does):

- ``timestamp``: start of the hour, ISO 8601 with a UTC offset (naive only with ``tz``);
- key columns, any of ``family``, ``team``, ``project``, ``region``;
- ``gpus``: average GPUs busy in the hour [GPUs] (= GPU-hours used in that hour), >= 0; empty = missing.

Examples
--------
>>> from scenarios.readers import read_usage
>>> res = read_usage("scenarios/data/helios_earth_vc_hourly.csv", tz="Asia/Shanghai",
...                  columns={"timestamp": "hour_start", "team": "vc", "gpus": "running_gpu_mean"})
>>> sorted(res.frame.columns)
['gpus', 'team', 'timestamp']
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from scenarios.readers._checks import (
    ReadResult,
    check_gpu_scale,
    check_tz,
    parse_number,
    parse_text,
    parse_time,
    read_table,
    rename_columns,
    require_columns,
)
from scenarios.readers._hourly import to_hourly

#: Key columns a usage file may carry, in output order.
USAGE_KEYS = ["family", "team", "project", "region"]


def read_usage(path: str | Path, *, tz: str | None = None, columns: Mapping[str, str] | None = None,
               setting: str = "columns") -> ReadResult:
    """Read an hourly usage file (CSV or Parquet) into the ``usage`` table.

    Parameters
    ----------
    path
        The file.
    tz
        IANA time zone of naive timestamps (e.g. ``"Asia/Shanghai"``); without it naive times are refused.
    columns
        ``{contract name: file column}``, e.g. ``{"timestamp": "hour_start", "team": "vc"}``.
    setting
        How ``columns`` is called where it came from, for messages (e.g. ``"demand.columns"``).

    Returns
    -------
    ReadResult
        ``frame``: ``timestamp`` (UTC, on the hour), the key columns present in the file, ``gpus``
        [GPUs] (NaN = missing), one row per key combination and hour, sorted by keys then time.
        Sub-hourly or irregular input is resampled to hourly means (reported in ``notes``). Absent hours
        stay absent: in long format a missing row may mean zero or unknown, which the caller decides.
        Zeros are kept as read.

    Raises
    ------
    InputError
        Missing or misspelt columns, non-numeric or negative ``gpus``, unreadable or naive times,
        duplicate or out-of-order hours within a key combination.
    """
    file = str(path)
    check_tz(tz, file=file)
    df = rename_columns(read_table(path, what="usage"), columns, file=file, setting=setting)
    ignored = require_columns(df, ["timestamp", "gpus"], USAGE_KEYS, file=file, what="usage")
    notes: list[str] = []
    if ignored:
        notes.append(f"ignored columns: {', '.join(ignored)}")
    if columns:
        notes.append("columns renamed: " + ", ".join(f"{src} -> {dst}" for dst, src in columns.items()))
    keys = [k for k in USAGE_KEYS if k in df.columns]
    work = pd.DataFrame({k: parse_text(df, k, file=file) for k in keys})
    work["timestamp"] = parse_time(df, "timestamp", file=file, tz=tz, notes=notes)
    work["gpus"] = parse_number(df, "gpus", file=file, unit="GPUs", allow_na=True)
    check_gpu_scale(work["gpus"], df["_row"].to_numpy(), file=file, notes=notes)
    work["_row"] = df["_row"]
    hourly, more = to_hourly(work, keys, "gpus", file=file,
                             hint="add a key column (team, family, ...) if rows belong to different series")
    notes += more
    n_na = int(hourly["gpus"].isna().sum())
    if n_na:
        notes.append(f"{n_na:,} hours with an empty gpus cell kept as missing (NaN)")
    out = hourly[["timestamp", *keys, "gpus"]].sort_values([*keys, "timestamp"], kind="stable")
    for k in keys:
        out[k] = out[k].astype("str")
    return ReadResult(frame=out.reset_index(drop=True), notes=notes, source=file)
