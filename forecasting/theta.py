"""The Theta method (statsmodels ``ThetaModel``): SES with drift on the deseasonalised series.

The point forecast is statsmodels'.  Uncertainty uses Theta's equivalence with simple exponential
smoothing with drift (Hyndman & Billah 2003): ``var(h) = sigma^2 * (1 + alpha^2 (h - 1))`` with
``sigma^2`` the variance of the one-step SES errors on the (additively) deseasonalised series, and paths
follow the same innovations recursion, so they agree with the intervals.  (statsmodels' own ``sigma2``
refits an ARIMA(0,1,1) on the raw series, which costs ~1 s and ignores the season.)  Deseasonalisation
is additive when the series has zeros (multiplicative is undefined there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecasting.base import ForecastModel, ModelError, guarded


class Theta(ForecastModel):
    """Theta method.

    Parameters
    ----------
    period
        Season used for deseasonalising [h]; used only with two full cycles of history.
    """

    name = "theta"
    result_: Any
    alpha_: float
    sigma2_: float
    resid_: np.ndarray

    def __init__(self, period: int = 24) -> None:
        self.period = period

    def min_history(self) -> int:
        return 2 * int(self.period)

    def _fit(self, y: np.ndarray) -> None:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        method = "additive" if (y <= 0).any() else "auto"
        model = ThetaModel(y, period=int(self.period), deseasonalize=True, method=method)
        res = guarded(self.notes_, lambda: model.fit())
        self.result_ = res
        self.alpha_ = float(np.clip(res.params["alpha"], 0.0, 1.0))
        self.resid_ = self._ses_errors(y)
        e = self.resid_[1:]
        self.sigma2_ = float(np.var(e)) if e.size else 0.0  # the mean error is the drift, not noise
        if not (np.isfinite(self.alpha_) and np.isfinite(self.sigma2_)):
            raise ModelError("Theta fit produced non-finite parameters")

    def _ses_errors(self, y: np.ndarray) -> np.ndarray:
        """One-step errors of SES with ``alpha_`` on the additively deseasonalised series [GPUs]."""
        from scipy.signal import lfilter
        from statsmodels.tsa.seasonal import seasonal_decompose

        p = int(self.period)
        z = y
        if y.size >= 2 * p:
            z = y - np.asarray(seasonal_decompose(y, model="additive", period=p).seasonal, dtype=float)
        a = self.alpha_
        level, _ = lfilter([a], [1.0, -(1.0 - a)], z[1:], zi=[(1.0 - a) * z[0]])
        prev = np.r_[z[0], level[:-1]]
        return np.r_[np.nan, z[1:] - prev]

    def residuals(self) -> np.ndarray:
        r = self.resid_.copy()
        r[~np.isfinite(self.y_raw_)] = np.nan
        return r

    def _mean(self, h: int) -> np.ndarray:
        res = self.result_
        out = np.asarray(guarded(self.notes_, lambda: res.forecast(h)), dtype=float)
        if not np.all(np.isfinite(out)):
            raise ModelError("Theta forecast is not finite")
        return out

    def _sd(self, h: int) -> np.ndarray:
        return np.sqrt(self.sigma2_ * (1.0 + self.alpha_**2 * np.arange(h)))

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        eps = rng.standard_normal((n_paths, h)) * np.sqrt(self.sigma2_)
        level = np.cumsum(self.alpha_ * eps, axis=1) - self.alpha_ * eps
        return self._mean(h)[None, :] + eps + level
