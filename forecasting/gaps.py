"""Filling missing hours for models that need a complete series.

Missing is not zero: an hour marked NaN (an outage, a gap in the export) is filled from the same hour of
the nearest observed days before and after (the mean of the two when both exist), so the daily shape
survives a whole missing day.  Hours with no observed same-hour neighbour within a week are interpolated
linearly.  Only model fitting sees filled values; metrics skip missing hours.
"""

from __future__ import annotations

import numpy as np


def fill_gaps(y: np.ndarray, period: int = 24, max_periods: int = 7) -> np.ndarray:
    """Return a copy of ``y`` [GPUs] with NaN hours filled seasonally.

    Parameters
    ----------
    y
        Hourly series; NaN marks a missing hour.
    period
        Season used to find neighbours [h] (24: the same hour of another day).
    max_periods
        How many seasons to look back and forward [-].

    Examples
    --------
    >>> import numpy as np
    >>> y = np.r_[np.arange(24.0), np.full(24, np.nan), np.arange(24.0) + 2]
    >>> float(fill_gaps(y)[30])
    7.0
    """
    x = np.asarray(y, dtype=float).copy()
    miss = np.flatnonzero(~np.isfinite(x))
    if miss.size == 0:
        return x
    obs = np.isfinite(x)
    if not obs.any():
        raise ValueError("the series has no observed hour")
    n = x.size
    src = x.copy()
    still: list[int] = []
    for t in miss:
        before = after = None
        for k in range(1, max_periods + 1):
            j = t - k * period
            if j < 0:
                break
            if obs[j]:
                before = src[j]
                break
        for k in range(1, max_periods + 1):
            j = t + k * period
            if j >= n:
                break
            if obs[j]:
                after = src[j]
                break
        vals = [v for v in (before, after) if v is not None]
        if vals:
            x[t] = float(np.mean(vals))
        else:
            still.append(int(t))
    if still:
        idx = np.flatnonzero(np.isfinite(x))
        x[still] = np.interp(still, idx, x[idx])
    return x
