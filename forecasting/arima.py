"""SARIMAX (statsmodels) with optional Fourier terms for daily and weekly seasonality.

Seasonal ARIMA with a 168-hour season is impractically slow on hourly data (a (1,0,0)x(1,0,0,24) fit
already takes ~1.8 s on 8 weeks), so the default captures seasonality with Fourier regressors
(harmonic regression with ARMA errors).  The default error model is AR(1): an ARMA(1,1) is no more
accurate on GPU demand and its likelihood is flat when the AR and MA roots nearly cancel (a fit then takes
seconds instead of ~0.5 s).  The Kalman filter handles missing hours natively.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from forecasting.base import ForecastModel, ModelError, guarded


def fourier_terms(t: np.ndarray, terms: Sequence[tuple[int, int]]) -> np.ndarray | None:
    """Columns ``sin/cos(2 pi k t / P)`` for each ``(P, K)`` in ``terms``, k = 1..K; ``None`` if empty."""
    cols = []
    for period, k_max in terms:
        for k in range(1, int(k_max) + 1):
            arg = 2.0 * np.pi * k * t / period
            cols.append(np.sin(arg))
            cols.append(np.cos(arg))
    return np.column_stack(cols) if cols else None


class SARIMAX(ForecastModel):
    """(S)ARIMA(X) with Fourier seasonality.

    Parameters
    ----------
    order
        ARIMA ``(p, d, q)``.
    seasonal_order
        Seasonal ``(P, D, Q, s)``; ``(0, 0, 0, 0)`` for none (seasonality via ``fourier``).
    trend
        Deterministic trend: ``"c"`` (constant), ``"t"``, ``"ct"`` or ``None``.
    fourier
        ``(period [h], harmonics)`` pairs; a period is used only with at least two of its cycles of history.
    """

    name = "sarimax"
    handles_missing = True
    result_: Any
    terms_: list[tuple[int, int]]

    def __init__(self, order: tuple[int, int, int] = (1, 0, 0),
                 seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0), trend: str | None = "c",
                 fourier: Sequence[tuple[int, int]] = ((24, 3), (168, 2))) -> None:
        self.order = order
        self.seasonal_order = seasonal_order
        self.trend = trend
        self.fourier = fourier

    @property
    def label(self) -> str:
        p, d, q = self.order
        return f"sarimax({p},{d},{q})"

    def min_history(self) -> int:
        s = int(self.seasonal_order[3]) if len(self.seasonal_order) == 4 else 0
        return max(72, 3 * s)

    def _exog(self, start: int, n: int) -> np.ndarray | None:
        return fourier_terms(np.arange(start, start + n, dtype=float), self.terms_)

    def _fit(self, y: np.ndarray) -> None:
        from statsmodels.tsa.statespace.sarimax import SARIMAX as _SM

        n = y.size
        self.terms_ = [(int(p), int(k)) for p, k in self.fourier if n >= 2 * p]
        trend = self.trend if self.order[1] == 0 else None
        model = _SM(y, exog=self._exog(0, n), order=self.order, seasonal_order=self.seasonal_order,
                    trend=trend)
        res = guarded(self.notes_, lambda: model.fit(disp=False))
        if not np.all(np.isfinite(np.asarray(res.params, dtype=float))):
            raise ModelError("SARIMAX fit diverged (non-finite parameters)")
        self.result_ = res

    def _forecast(self, h: int) -> Any:
        res = self.result_
        return guarded(self.notes_, lambda: res.get_forecast(h, exog=self._exog(self.n_obs_, h)))

    def _mean(self, h: int) -> np.ndarray:
        out = np.asarray(self._forecast(h).predicted_mean, dtype=float)
        if not np.all(np.isfinite(out)):
            raise ModelError("SARIMAX forecast is not finite")
        return out

    def _sd(self, h: int) -> np.ndarray:
        return np.asarray(self._forecast(h).se_mean, dtype=float)

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        res = self.result_
        sims = guarded(self.notes_, lambda: res.simulate(
            h, repetitions=n_paths, anchor="end", exog=self._exog(self.n_obs_, h), rng=rng))
        return np.asarray(sims, dtype=float).reshape(h, n_paths).T

    def residuals(self) -> np.ndarray:
        r = np.asarray(self.result_.resid, dtype=float).copy()
        r[~np.isfinite(self.y_raw_)] = np.nan
        return r
