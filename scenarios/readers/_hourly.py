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
