"""Linear autoregression on levels with daily and weekly lags, fitted by ordinary least squares.

``y[t] = c + a1 y[t-1] + a2 y[t-2] + a24 y[t-24] + a168 y[t-168] + e[t]`` (the lags that the history
supports: 168 only with at least three weeks).  One regression captures persistence (lags 1-2), a daily and
weekly rhythm when the data have one (lags 24, 168: their coefficients are ~0 otherwise) and **mean
reversion**: a stationary fit pulls the forecast from the last value towards the series' mean as the
horizon grows, which is what bursty demand does over days.  It costs a few milliseconds (a 5 x 5 normal
system), so ``auto`` can afford it in every cross-validation window.

The normal equations are formed and solved in a fixed order (:mod:`forecasting.linalg`, no BLAS), so the
fit is the same on every machine.  A fit that is not stationary (coefficients summing to 1 or more, or an
impulse response that does not decay) raises :class:`~forecasting.base.ModelError`: the caller drops it.

Forecasts are the recursion of the fitted equation; their variance is ``sigma^2 sum_{j<h} psi_j^2`` with
``psi`` the impulse response (Box & Jenkins), exact for a Gaussian AR with known coefficients.  Sample paths
run the recursion with Gaussian innovations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecasting.base import ForecastModel, ModelError
from forecasting.gaps import fill_gaps
from forecasting.linalg import cho_solve, cholesky


class AutoReg(ForecastModel):
    """OLS autoregression on levels with lags (1, 2, 24, 168) (those with room in the history).

    Parameters
    ----------
    lags
        Candidate lags [h]; a lag is used when the history holds at least ``3 x lag`` hours (and 48).
    """

    name = "ar"
    handles_missing = True
    lags_: tuple[int, ...]
    coef_: np.ndarray
    const_: float
    sigma_: float
    mu_: float
    tail_: np.ndarray
    resid_: np.ndarray

    def __init__(self, lags: Sequence[int] = (1, 2, 24, 168)) -> None:
        self.lags = tuple(int(v) for v in lags)

    @property
    def label(self) -> str:
        return "ar"

    def min_history(self) -> int:
        return 48

    def _fit(self, y: np.ndarray) -> None:
        raw = self.y_raw_
        n = raw.size
        lags = tuple(sorted({v for v in self.lags if v >= 1 and n >= max(48, 3 * v)}))
        if not lags:
            raise ModelError("ar: no lag fits in the history")
        p = max(lags)
        ok = np.isfinite(raw)
        mu = float(raw[ok].mean())
        x = raw - mu                                   # centred: a better conditioned normal system
        target = x[p:]
        cols = [np.ones(n - p)] + [x[p - v:n - v] for v in lags]
        rows = np.isfinite(target)
        for c in cols:
            rows &= np.isfinite(c)
        k = len(cols)
        m = int(rows.sum())
        if m < 10 * k:
            raise ModelError(f"ar: {m} complete rows for {k} coefficients")
        X = [c[rows] for c in cols]
        t = target[rows]
        xtx = np.empty((k, k))
        xty = np.empty(k)
        for i in range(k):
            xty[i] = float(np.sum(X[i] * t))
            for j in range(i + 1):
                xtx[i, j] = xtx[j, i] = float(np.sum(X[i] * X[j]))
        L, _ = cholesky(xtx)
        beta = cho_solve(L, xty)
        fitted = np.zeros(m)
        for i in range(k):
            fitted = fitted + beta[i] * X[i]
        res = t - fitted
        self.lags_ = lags
        self.coef_ = np.asarray(beta[1:], dtype=float)
        self.const_ = float(beta[0])
        self.mu_ = mu
        self.sigma_ = float(np.sqrt(np.sum(res * res) / max(m - k, 1)))
        # stationary: the AR polynomial at 1 is positive (no unit or real root above 1) and the impulse
        # response decays (catches oscillating explosions); no eigenvalue call, so no BLAS-dependent branch
        at_one = 1.0 - float(self.coef_.sum())
        psi = self._psi(8 * max(p, 24))
        q = psi.size // 4
        late, before = float(np.sum(psi[-q:] ** 2)), float(np.sum(psi[-2 * q:-q] ** 2))
        if not np.all(np.isfinite(psi)) or at_one <= 1e-3 or late > before or np.abs(psi[-q:]).max() > 0.5:
            raise ModelError(f"ar: the fitted autoregression does not revert (1 - sum of coefficients "
                             f"{at_one:.3g}, impulse response {np.abs(psi[-q:]).max():.2f} after {psi.size} h)")
        # the last p hours, gaps filled (the recursion needs every lag)
        self.tail_ = (fill_gaps(raw) - mu)[-p:].copy()
        full = np.full(n, np.nan)
        full[p:][rows] = res
        self.resid_ = full

    def _psi(self, h: int) -> np.ndarray:
        """Impulse response ``psi_0..psi_{h-1}`` of the fitted AR [-]."""
        psi = np.zeros(h)
        psi[0] = 1.0
        for j in range(1, h):
            acc = 0.0
            for a, v in zip(self.coef_, self.lags_, strict=True):
                if j - v >= 0:
                    acc += float(a) * float(psi[j - v])
            psi[j] = acc
        return psi

    def _run(self, h: int, shocks: np.ndarray | None) -> np.ndarray:
        """The recursion ``h`` steps on from the history; ``shocks`` (paths, h) adds innovations."""
        p = max(self.lags_)
        width = 1 if shocks is None else shocks.shape[0]
        buf = np.zeros((width, p + h))
        buf[:, :p] = self.tail_[None, :]
        for s in range(h):
            acc = np.full(width, self.const_)
            for a, v in zip(self.coef_, self.lags_, strict=True):
                acc = acc + float(a) * buf[:, p + s - v]
            if shocks is not None:
                acc = acc + shocks[:, s]
            buf[:, p + s] = acc
        return np.asarray(buf[:, p:] + self.mu_)

    def _mean(self, h: int) -> np.ndarray:
        return self._run(h, None)[0]

    def _sd(self, h: int) -> np.ndarray:
        psi = self._psi(h)
        return np.asarray(self.sigma_ * np.sqrt(np.cumsum(psi * psi)))

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return self._run(h, rng.standard_normal((n_paths, h)) * self.sigma_)

    def residuals(self) -> np.ndarray:
        return self.resid_.copy()
