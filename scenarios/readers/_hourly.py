"""Hourly steps: resample sub-hourly or irregular series to hourly means, fill absent hours with NaN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers._checks import ROW, check_order

HOUR = pd.Timedelta(hours=1)


def to_hourly(df: pd.DataFrame, keys: Sequence[str], value: str, *, file: str, time: str = "timestamp",
              hint: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Put ``df`` (keys, time, value) on an hourly step, one row per series and hour.

    Exact duplicate or out-of-order times within a series are errors. Times off the hour, or several
    distinct times within one hour, are resampled to the mean of the samples in each hour (reported in
    the notes). Input coarser than hourly is refused: spreading a daily total over hours would invent a
    shape.

    Returns
    -------
    (frame, notes)
        ``frame`` has the key columns, ``time`` floored to the hour and ``value`` [same unit].
    """
    check_order(df, keys, time, file=file, hint=hint)
    notes: list[str] = []
    keys = list(keys)
    t = df[time]
    hour = t.dt.floor("h")
    off_hour = int((t != hour).sum())
    work = df[[*keys, value, ROW]].copy() if ROW in df.columns else df[[*keys, value]].copy()
    work[time] = hour
    grouped = work.groupby([*keys, time], sort=False, dropna=False)
    sizes = grouped.size()
    multi = int((sizes > 1).sum())
    if off_hour or multi:
        out = grouped[value].mean().reset_index()
        notes.append(
            f"resampled {len(df):,} rows at irregular or sub-hourly times to {len(out):,} hourly means "
            f"(mean of the samples in each hour; {off_hour:,} times were off the hour)"
        )
    else:
        out = work[[*keys, time, value]].copy()
    _refuse_coarse(out, keys, time, file=file)
    return out, notes


def _refuse_coarse(df: pd.DataFrame, keys: list[str], time: str, *, file: str) -> None:
    if len(df) < 3:
        return
    d = df.sort_values([*keys, time])
    gaps = (d.groupby(keys, sort=False, dropna=False)[time].diff() if keys else d[time].diff()).dropna()
    if gaps.empty:
        return
    if float((gaps <= HOUR).mean()) < 0.5:
        raise InputError(f"the time step is {gaps.median()} (median), not hourly", file=file, column=time,
                         fix="give hourly (or finer) data; coarser data cannot be spread over hours "
                             "without inventing a daily shape")


def fill_hours(df: pd.DataFrame, keys: Sequence[str], value: str, *,
               time: str = "timestamp") -> tuple[pd.DataFrame, int]:
    """Reindex each series to every hour from its first to its last; absent hours get NaN (missing).

    Returns
    -------
    (frame, n_filled)
        Sorted by keys and time; ``n_filled`` counts the absent hours added as NaN.
    """
    keys = list(keys)
    parts = []
    filled = 0
    if not keys:
        groups: list[tuple[tuple[object, ...], pd.DataFrame]] = [((), df)]
    else:
        groups = [((k,) if not isinstance(k, tuple) else k, g) for k, g in df.groupby(keys, sort=True)]
    for key, g in groups:
        g = g.sort_values(time)
        grid = pd.date_range(g[time].iloc[0], g[time].iloc[-1], freq="h", unit="ns")
        s = pd.Series(g[value].to_numpy(dtype=float), index=pd.DatetimeIndex(g[time]).as_unit("ns"))
        s = s.reindex(grid)
        filled += int(len(grid) - len(g))
        part = pd.DataFrame({time: grid, value: s.to_numpy(dtype=float, na_value=np.nan)})
        for k, v in zip(keys, key, strict=True):
            part.insert(len(part.columns) - 2, k, [v] * len(part))
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else df.iloc[:0]
    return out, filled


def hourly_window(frame: pd.DataFrame, key: str, keys: Sequence[str], value: str, start: pd.Timestamp, hours: int,
                  *, table: str, allow_negative: bool = False, file: str | None = None) -> dict[str, np.ndarray]:
    """The one rule for the hourly tables the engines take (``carbon``, ``price``, ``spot``): cut a long
    table to ``[start, start + hours)``, one array per key.

    The rule (``docs/data-formats.md``, "Hourly tables"): the table is already hourly, in UTC, complete.
    Every timestamp is tz-aware and on a whole hour; each key has at most one row per hour and a value for
    every hour of the window; values are numbers (>= 0 unless ``allow_negative``).  Anything else is
    refused with an :class:`~scenarios.errors.InputError` naming the table, row and column: nothing is
    averaged, filled or dropped here.  Resampling sub-hourly data and filling short gaps belong to the file
    readers (:func:`scenarios.signals.read_carbon` and friends), which say what they did in their notes.
    Rows outside the window are ignored.

    Parameters
    ----------
    frame
        Long table with columns ``key, timestamp, value``.
    key
        Key column (``region`` or ``family``).
    keys
        Keys that must be present.
    value
        Value column, e.g. ``gco2_per_kwh`` [gCO2e/kWh].
    start, hours
        The window: first hour (UTC) and length [h].
    table
        Table name (``carbon``, ``price``, ``spot``) for the contract check and messages.
    allow_negative
        Whether negative values are valid (electricity prices).
    file
        Where the table came from, for messages; default ``"<table> table"``.

    Returns
    -------
    dict
        ``{key: values}``, each of shape (hours,) in the value's unit.

    Raises
    ------
    InputError
        A missing column or key, a naive or off-hour timestamp, a duplicate hour, an hour of the window
        without a value, a negative value where none is allowed.

    Examples
    --------
    >>> ts = pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC")
    >>> t = pd.DataFrame({"region": "r", "timestamp": ts, "gco2_per_kwh": [1.0, 2.0, 3.0]})
    >>> hourly_window(t, "region", ["r"], "gco2_per_kwh", ts[1], 2, table="carbon")["r"]
    array([2., 3.])
    """
    from scenarios.tables import check_frame

    where = file or f"{table} table"
    check_frame(frame, table, file=where)
    ts = frame["timestamp"]
    off = (ts.dt.floor("h") != ts).to_numpy(dtype=bool)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(f"timestamp {ts.iloc[i]} is not on a whole hour", file=where, row=i + 1, column="timestamp",
                         fix="read the file with scenarios.signals (it resamples to hourly means) or resample "
                             "to hourly steps first")
    idx = pd.date_range(pd.Timestamp(start).tz_convert("UTC"), periods=int(hours), freq="h")
    names = frame[key].astype(str).to_numpy()
    present = set(names.tolist())
    vals_all = frame[value].to_numpy(dtype=float, na_value=np.nan)
    out: dict[str, np.ndarray] = {}
    for k in keys:
        if k not in present:
            raise InputError(f"no rows for {key} '{k}'", file=where, column=key,
                             fix=f"add hourly rows for '{k}' covering {idx[0]} .. {idx[-1]}")
        pos = np.flatnonzero(names == k)
        stamps = pd.DatetimeIndex(ts.iloc[pos]).tz_convert("UTC")
        dup = stamps.duplicated()
        if dup.any():
            i = int(pos[np.flatnonzero(dup)[0]])
            raise InputError(f"duplicate hour {ts.iloc[i]} for {key} '{k}'", file=where, row=i + 1,
                             column="timestamp", fix="keep one row per hour (nothing is averaged)")
        at = idx.get_indexer(stamps)
        inside = at >= 0
        vals = np.full(len(idx), np.nan)
        vals[at[inside]] = vals_all[pos[inside]]
        nan_row = np.flatnonzero(inside & np.isnan(vals_all[pos]))
        if nan_row.size:
            i = int(pos[nan_row[0]])
            raise InputError(f"no {value} for {key} '{k}' at {ts.iloc[i]}", file=where, row=i + 1, column=value,
                             fix="give a number for every hour (missing is not zero)")
        bad = np.isnan(vals)
        if bad.any():
            first = idx[int(np.flatnonzero(bad)[0])]
            raise InputError(f"{int(bad.sum()):,} hours of the window have no {value} for {key} '{k}' "
                             f"(first: {first})", file=where, column=value,
                             fix=f"give values for every hour {idx[0]} .. {idx[-1]} (missing is not zero; "
                                 "nothing is filled)")
        if not allow_negative:
            neg = np.flatnonzero(inside & (vals_all[pos] < 0))
            if neg.size:
                i = int(pos[neg[0]])
                raise InputError(f"negative {value} {vals_all[i]:g} for {key} '{k}'", file=where, row=i + 1,
                                 column=value, fix=f"{value} must be >= 0")
        out[k] = vals
    return out
