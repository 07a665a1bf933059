"""Read a demand history file: the ``history`` table the forecasting engine takes.

Columns (see ``scenarios/data/tables.csv``):

- ``timestamp``: ISO 8601 start of the hour with a UTC offset or ``Z``; naive times only with ``tz``;
- ``series_id`` (optional): one demand series per value; absent -> one series named after the file;
- ``gpus``: average GPUs busy in the hour [GPUs], >= 0; an empty cell is a missing hour.

Examples
--------
>>> from scenarios.readers import read_history
>>> frame, notes = read_history("demand.csv")            # doctest: +SKIP
>>> frame.columns.tolist()                                # doctest: +SKIP
['series_id', 'timestamp', 'gpus']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scenarios.readers._checks import (
    check_gpu_scale,
    check_tz,
    parse_number,
    parse_text,
    parse_time,
    read_table,
    require_columns,
)
from scenarios.readers._hourly import fill_hours, to_hourly


def default_series_name(path: str | Path) -> str:
    """Series name for a file without ``series_id``: the file name without its suffixes, or ``series``."""
    name = Path(path).name.split(".")[0].strip()
    return name or "series"


def read_history(path: str | Path, *, tz: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a history file (CSV or Parquet) into the ``history`` table.

    Parameters
    ----------
    path
        The file: columns ``timestamp``, optional ``series_id``, ``gpus`` [GPUs].
    tz
        IANA time zone of naive timestamps (e.g. ``"Asia/Shanghai"``); without it naive times are refused.

    Returns
    -------
    (frame, notes)
        ``frame``: ``series_id`` (str), ``timestamp`` (UTC, hourly, every hour from a series' first to
        its last), ``gpus`` (float, NaN = missing hour) sorted by series and time. Sub-hourly or
        irregular input is resampled to hourly means and absent hours are added as NaN; ``notes`` says
        so. Zeros are kept as read: deciding whether a zero is an outage is the forecaster's job.

    Raises
    ------
    InputError
        One line naming the file, row, column and fix: missing or misspelt columns, non-numeric or
        negative ``gpus``, unreadable or naive times, duplicate or out-of-order hours in a series.
    """
    file = str(path)
    check_tz(tz, file=file)
    df = read_table(path, what="history")
    ignored = require_columns(df, ["timestamp", "gpus"], ["series_id"], file=file, what="history")
    notes: list[str] = []
    if ignored:
        notes.append(f"ignored columns: {', '.join(ignored)}")
    if "series_id" in df.columns:
        sid = parse_text(df, "series_id", file=file, allow_na=False)
        hint = ""
    else:
        name = default_series_name(path)
        sid = pd.Series(name, index=df.index, dtype="str")
        notes.append(f"no series_id column: one series named '{name}'")
        hint = "if the file holds several series, add a series_id column"
    work = pd.DataFrame({
        "series_id": sid,
        "timestamp": parse_time(df, "timestamp", file=file, tz=tz, notes=notes),
        "gpus": parse_number(df, "gpus", file=file, unit="GPUs", allow_na=True),
        "_row": df["_row"],
    })
    check_gpu_scale(work["gpus"], df["_row"].to_numpy(), file=file, notes=notes)
    hourly, more = to_hourly(work, ["series_id"], "gpus", file=file, hint=hint)
    notes += more
    out, n_filled = fill_hours(hourly, ["series_id"], "gpus")
    if n_filled:
        notes.append(f"{n_filled:,} absent hours added as missing (NaN), not as zero")
    n_na = int(out["gpus"].isna().sum()) - n_filled
    if n_na > 0:
        notes.append(f"{n_na:,} hours with an empty gpus cell kept as missing (NaN)")
    out["series_id"] = out["series_id"].astype("str")
    out = out[["series_id", "timestamp", "gpus"]].sort_values(["series_id", "timestamp"], kind="stable")
    return out.reset_index(drop=True), notes
