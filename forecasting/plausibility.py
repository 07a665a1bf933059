"""Warnings on forecasts that run far above anything in their history.

A statistical model extrapolates what it saw.  When a path climbs to several times the highest hour of
the history, something other than demand usually drove it: an undetected outage that the model read as
a collapse and recovery, a level shift, a trend fitted on too few days.  Planned growth and launches are
stated by the planner and applied afterwards (:mod:`forecasting.planned`); this check runs on the
statistical forecast before them, so whatever it flags has no planned change to explain it.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
>>> hist = pd.DataFrame({"series_id": "a", "timestamp": t, "gpus": [10.0, 12.0, 11.0]})
>>> f = t[-1] + pd.Timedelta(hours=1)
>>> paths = pd.DataFrame({"series_id": "a", "timestamp": [f, f], "sample_id": [0, 1], "gpus": [13.0, 30.0]})
>>> runaway_warnings(hist, paths)
['series a: 1 of 2 sample paths run above 2x the highest hour of the history (12 GPUs), up to 30 GPUs, with no planned growth to explain it: check the history for an undetected outage or a level shift, or state the growth in the scenario']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A path is "far above" the history when it exceeds this multiple of the history's highest hour [-].
FAR_ABOVE = 2.0
#: Warn when at least this share of the paths runs far above [-]: one stray path in the tail of 50 is
#: expected noise, a tenth of them is a pattern.
MIN_SHARE = 0.1


def runaway_warnings(history: pd.DataFrame, paths: pd.DataFrame | None = None,
                     forecast: pd.DataFrame | None = None, *, factor: float = FAR_ABOVE,
                     min_share: float = MIN_SHARE) -> list[str]:
    """One warning per top-level series whose forecast runs above ``factor`` x its history's highest hour.

    Only top-level series (``a100``, not ``a100/team``) are checked: they are what capacity is bought
    for, and a single team's bursty paths would flood the notes.

    Parameters
    ----------
    history
        ``series_id, timestamp, gpus`` [GPUs] (outage hours NaN).
    paths
        ``series_id, timestamp, sample_id, gpus`` [GPUs] before planned changes; checked when given.
    forecast
        ``series_id, timestamp, mean`` [GPUs] before planned changes; checked when no paths are given.
    factor
        Multiple of the history's highest hour above which a value is "far above" [-].
    min_share
        Share of the paths (or of the forecast hours) that must run far above before a warning [-].

    Returns
    -------
    list of str
        Warnings, series in sorted order; empty when nothing runs away.  Series whose history is never
        above zero are skipped (there is no level to compare with).
    """
    top = history.groupby("series_id", sort=True)["gpus"].max()
    out: list[str] = []
    for sid, hmax in top.items():
        if "/" in str(sid) or not np.isfinite(hmax) or hmax <= 0:
            continue
        limit = factor * float(hmax)
        if paths is not None:
            p = paths[paths["series_id"] == sid]
            if p.empty:
                continue
            peak = p.groupby("sample_id")["gpus"].max()
            n_far = int((peak > limit).sum())
            if n_far and n_far >= min_share * len(peak):
                out.append(f"series {sid}: {n_far} of {len(peak)} sample paths run above {factor:g}x the highest "
                           f"hour of the history ({hmax:,.0f} GPUs), up to {float(peak.max()):,.0f} GPUs, with "
                           "no planned growth to explain it: check the history for an undetected outage or a "
                           "level shift, or state the growth in the scenario")
        elif forecast is not None:
            m = forecast.loc[forecast["series_id"] == sid, "mean"].to_numpy(dtype=float)
            n_far = int((m > limit).sum())
            if n_far and n_far >= min_share * m.size:
                out.append(f"series {sid}: the mean forecast runs above {factor:g}x the highest hour of the "
                           f"history ({hmax:,.0f} GPUs) in {n_far} of {m.size} hours, up to {float(m.max()):,.0f} "
                           "GPUs, with no planned growth to explain it: check the history for an undetected "
                           "outage or a level shift, or state the growth in the scenario")
    return out
