"""Forecast accuracy metrics: MASE, sMAPE, RMSSE, pinball loss, CRPS from paths, interval coverage.

Missing actuals (NaN, e.g. outage hours) are skipped by every metric.  Scaled metrics divide by the
in-sample error of the seasonal naive forecast with season ``m`` (24 h by default), so 1.0 means "as
good in-sample as repeating yesterday".

Examples
--------
>>> import numpy as np
>>> mase(np.array([2.0, 4.0]), np.array([1.0, 4.0]), np.array([0.0, 1.0, 2.0, 3.0]), m=1)
0.5
"""

from __future__ import annotations

import numpy as np


def _pair(y: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    f = np.asarray(f, dtype=float)
    ok = np.isfinite(y) & np.isfinite(f)
    return y[ok], f[ok]


def naive_scale(train: np.ndarray, m: int = 24, power: int = 1) -> float:
    """Mean of ``|y_t - y_{t-m}| ** power`` over the training series (NaN pairs skipped)."""
    x = np.asarray(train, dtype=float)
    if x.size <= m:
        return float("nan")
    d = x[m:] - x[:-m]
    d = d[np.isfinite(d)]
    return float(np.mean(np.abs(d) ** power)) if d.size else float("nan")


def mase(y: np.ndarray, f: np.ndarray, train: np.ndarray, m: int = 24) -> float:
    """Mean absolute scaled error [-]: MAE / in-sample MAE of the seasonal naive (season ``m``)."""
    a, b = _pair(y, f)
    scale = naive_scale(train, m)
    if not a.size or not scale > 0:
        return float("nan")
    return float(np.mean(np.abs(a - b)) / scale)


def rmsse(y: np.ndarray, f: np.ndarray, train: np.ndarray, m: int = 24) -> float:
    """Root mean squared scaled error [-] (M5 competition): sqrt(MSE / in-sample MSE of seasonal naive)."""
    a, b = _pair(y, f)
    scale = naive_scale(train, m, power=2)
    if not a.size or not scale > 0:
        return float("nan")
    return float(np.sqrt(np.mean((a - b) ** 2) / scale))


def smape(y: np.ndarray, f: np.ndarray) -> float:
    """Symmetric MAPE [%]: mean of ``200 |y - f| / (|y| + |f|)``; hours where both are 0 count as 0."""
    a, b = _pair(y, f)
    if not a.size:
        return float("nan")
    den = np.abs(a) + np.abs(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, 200.0 * np.abs(a - b) / den, 0.0)
    return float(np.mean(r))


def pinball(y: np.ndarray, q: np.ndarray, tau: float) -> float:
    """Mean pinball (quantile) loss of quantile forecast ``q`` at probability ``tau`` [GPUs]."""
    a, b = _pair(y, q)
    if not a.size:
        return float("nan")
    d = a - b
    return float(np.mean(np.maximum(tau * d, (tau - 1.0) * d)))


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of actuals inside ``[lo, hi]`` [fraction]."""
    y = np.asarray(y, dtype=float)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    ok = np.isfinite(y) & np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return float("nan")
    return float(np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok])))


def crps_paths(y: np.ndarray, paths: np.ndarray) -> np.ndarray:
    """CRPS of the empirical distribution of sample paths, per hour [GPUs].

    ``CRPS = E|X - y| - 0.5 E|X - X'|`` over the samples ``X`` at each hour (the energy form, computed
    exactly for the empirical distribution with sorted samples).

    Parameters
    ----------
    y
        Actuals, shape ``(h,)``.
    paths
        Samples, shape ``(n_paths, h)``.
    """
    x = np.sort(np.asarray(paths, dtype=float), axis=0)
    n = x.shape[0]
    y = np.asarray(y, dtype=float)
    term1 = np.mean(np.abs(x - y[None, :]), axis=0)
    i = np.arange(1, n + 1)[:, None]
    # E|X - X'| = 2/n^2 * sum_i (2i - n - 1) x_(i)
    term2 = 2.0 / n**2 * np.sum((2 * i - n - 1) * x, axis=0)
    out = term1 - 0.5 * term2
    out[~np.isfinite(y)] = np.nan
    return np.asarray(out)


def crps_gaussian(y: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Closed-form CRPS of a Gaussian forecast, per hour [GPUs] (for checks)."""
    from scipy import stats

    y = np.asarray(y, dtype=float)
    sd = np.asarray(sd, dtype=float)
    z = (y - mu) / sd
    return np.asarray(sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi)))
