"""Outage detection: stretches where recorded demand collapses to ~0 because logging stopped, not demand.

Missing is not zero.  A monitoring outage shows up as hours at (or near) zero, and a forecaster that
reads them as demand learns a false daily dip and too-wide intervals.  Two rules, both conservative:

1. **Cluster-wide** (frames with several series): hours where the *sum over all series* falls to
   ``near_zero`` (5 %) of its median or less, while that sum is normally busy.  Every series is marked
   missing in those hours: a whole fleet does not go idle within an hour and come back.
2. **Per series**: in a series that is *normally busy*, hours at or below ``near_zero`` of the median
   are marked missing.  Stretches near zero longer than ``max_hours`` are real shutdowns and are left
   out before judging.

"Normally busy" means a 5th percentile of at least ``busy_share`` (25 %) of the median.  For the fleet
total (rule 1, or rule 2 when the frame has a single series) it is judged with the candidate stretches
left out: the runs of near-zero hours (at most ``max_hours`` long) are set aside first.  Judged on all
hours, a one-day outage in a two-week history (7 % of the hours) would pull the 5th percentile to zero
and hide itself.  The candidates may be at most ``max_share`` (15 %) of the hours: a total that is near
zero more often than that is idle by habit, and its zeros are demand.  A team inside a larger frame is
still judged on all its hours: a logging outage shows in the fleet total (rule 1), while a single team's
short idle stretches are usually real (on Helios, vc3sl idles 10-12 h at a time).

Neither rule marks a stretch that runs to the end of the history (a real wind-down would look the same;
it is reported as a warning instead) nor one longer than ``max_hours`` (a week).  On the Helios Earth
data this finds all of 2020-05-10 and 2020-05-12 14:00-15:00 (UTC+8) and nothing else, also with the
history cut at 2020-05-14 or 2020-05-16.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = pd.date_range("2024-01-01", periods=96, freq="h", tz="UTC")
>>> g = np.full(96, 50.0); g[40:44] = 0.0
>>> clean, found, notes = detect_outages(pd.DataFrame({"series_id": "a", "timestamp": t, "gpus": g}))
>>> found[["series_id", "hours"]].values.tolist()
[['a', 4]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OUTAGE_COLUMNS = ["series_id", "start", "end", "hours", "rule"]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as ``(start, stop)`` index pairs (stop exclusive)."""
    m = np.r_[False, mask.astype(bool), False]
    d = np.diff(m.astype(int))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _keep_runs(mask: np.ndarray, max_hours: int) -> tuple[np.ndarray, list[tuple[int, int]], list[tuple[int, int]]]:
    """Drop runs that touch the end or are too long; return (mask, kept runs, runs at the end)."""
    out = np.zeros_like(mask, dtype=bool)
    kept: list[tuple[int, int]] = []
    tail: list[tuple[int, int]] = []
    n = mask.size
    for a, b in _runs(mask):
        if b == n:
            tail.append((a, b))
            continue
        if b - a > max_hours:
            continue
        out[a:b] = True
        kept.append((a, b))
    return out, kept, tail


def _busy(x: np.ndarray, busy_share: float, near_zero: float, max_hours: int,
          max_share: float, leave_out: bool = True) -> tuple[bool, float]:
    """Whether ``x`` is normally busy and its median; with ``leave_out``, judged without its candidate runs.

    Returns
    -------
    (busy, median)
        The median is that of the hours left after setting the candidates aside (all finite hours when
        nothing was set aside) [GPUs].
    """
    finite = np.isfinite(x)
    v = x[finite]
    if v.size < 48:
        return False, 0.0
    med = float(np.median(v))
    if med <= 0:
        return False, med
    near = finite & (x <= near_zero * med)
    cand = np.zeros(x.size, dtype=bool)
    for a, b in _runs(near):
        if b - a <= max_hours:
            cand[a:b] = True
    if leave_out and 0 < cand.sum() <= max_share * v.size:
        v = x[finite & ~cand]
        med = float(np.median(v))
    return float(np.quantile(v, 0.05)) >= busy_share * med, med


def detect_outages(history: pd.DataFrame, *, near_zero: float = 0.05, busy_share: float = 0.25,
                   max_hours: int = 168, max_share: float = 0.15) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Find outage stretches and mark them missing (NaN).

    Parameters
    ----------
    history
        ``series_id, timestamp, gpus`` on a complete hourly grid per series (UTC).
    near_zero
        An hour is "near zero" at or below this share of the (series or fleet) median [-].
    busy_share
        A series is normally busy when its 5th percentile is at least this share of its median, both
        taken without the candidate near-zero runs [-].
    max_hours
        Longer stretches are not treated as outages [h].
    max_share
        Candidate near-zero runs are set aside when judging "busy" only while they are at most this
        share of the hours [-]; more often near zero means idle by habit (nothing is flagged).

    Returns
    -------
    (clean, outages, notes)
        ``clean``: the history with outage hours set to NaN; ``outages``: one row per stretch and series
        (``series_id, start, end, hours, rule``; ``end`` is the last outage hour); ``notes``: warnings.
    """
    df = history.copy()
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    if df.empty:
        return df, pd.DataFrame(columns=OUTAGE_COLUMNS), notes
    # rule 1: cluster-wide
    series = df["series_id"].unique()
    fleet_mask = pd.Series(False, index=pd.DatetimeIndex([]))
    if len(series) >= 2:
        wide = df.pivot_table(index="timestamp", columns="series_id", values="gpus", aggfunc="sum", dropna=False)
        total = wide.sum(axis=1, min_count=1).to_numpy(dtype=float)
        busy, med = _busy(total, busy_share, near_zero, max_hours, max_share)
        if busy:
            near = np.isfinite(total) & (total <= near_zero * med)
            mask, kept, tail = _keep_runs(near, max_hours)
            fleet_mask = pd.Series(mask, index=wide.index)
            for a, b in kept:
                rows.append({"series_id": "*", "start": wide.index[a], "end": wide.index[b - 1],
                             "hours": b - a, "rule": "all series near zero"})
            for a, b in tail:
                notes.append(f"all series are near zero in the last {b - a} h of history: kept as real demand "
                             "(mark them missing if it is an outage)")
    parts = []
    for sid, g in df.groupby("series_id", sort=False):
        g = g.sort_values("timestamp").copy()
        x = g["gpus"].to_numpy(dtype=float)
        out = np.zeros(x.size, dtype=bool)
        if not fleet_mask.empty:
            out |= fleet_mask.reindex(pd.DatetimeIndex(g["timestamp"]), fill_value=False).to_numpy(dtype=bool)
        known = np.where(out, np.nan, x)
        finite = known[np.isfinite(known)]
        if finite.size and np.median(finite) > 0:
            # long near-zero stretches are real shutdowns: judge "normally busy" without them
            low = np.isfinite(known) & (known <= near_zero * float(np.median(finite)))
            for a, b in _runs(low):
                if b - a > max_hours:
                    known[a:b] = np.nan
        busy, med = _busy(known, busy_share, near_zero, max_hours, max_share, leave_out=len(series) == 1)
        if busy:
            near = np.isfinite(x) & (x <= near_zero * med) & ~out
            mask, kept, tail = _keep_runs(near, max_hours)
            ts = g["timestamp"]
            for a, b in kept:
                rows.append({"series_id": sid, "start": ts.iloc[a], "end": ts.iloc[b - 1], "hours": b - a,
                             "rule": "busy series near zero"})
            for a, b in tail:
                notes.append(f"series {sid}: the last {b - a} h are near zero although the series is normally "
                             "busy: kept as real demand (mark them missing if it is an outage)")
            out |= mask
        if out.any():
            g.loc[out, "gpus"] = np.nan
        parts.append(g)
    clean = pd.concat(parts, ignore_index=True)
    found = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    return clean, found, notes
