"""Naive benchmarks: the last value (random walk) and the value one season ago (seasonal naive).

Both are exact closed forms: the mean is a copy of the history, the variance grows with the number of
steps (random walk) or of whole seasons (seasonal random walk) taken from the in-sample differences.
Sample paths add noise whose hour-to-hour autocorrelation is the one observed in the in-sample
differences, so a simulated hour is not independent of the next (GPU demand moves in runs).
"""

from __future__ import annotations

import numpy as np

from forecasting.base import ForecastModel, ModelError, ar1_noise, lag1_autocorr


def _rms(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


class Naive(ForecastModel):
    """Random walk: every future hour equals the last observed hour.

    ``sd(h) = sigma * sqrt(h)`` with ``sigma`` the RMS of in-sample hour-to-hour changes [GPUs].
    """

    name = "naive"
    sigma_: float
    last_: float

    def __init__(self) -> None:
        pass

    def min_history(self) -> int:
        return 2

    def _fit(self, y: np.ndarray) -> None:
        self.last_ = float(y[-1])
        self.sigma_ = _rms(np.diff(self.y_raw_))

    def _mean(self, h: int) -> np.ndarray:
        return np.full(h, self.last_)

    def _sd(self, h: int) -> np.ndarray:
        return self.sigma_ * np.sqrt(np.arange(1, h + 1))

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        steps = rng.standard_normal((n_paths, h)) * self.sigma_
        return self.last_ + np.cumsum(steps, axis=1)

    def residuals(self) -> np.ndarray:
        return np.r_[np.nan, np.diff(self.y_raw_)]


class SeasonalNaive(ForecastModel):
    """Seasonal naive: each future hour equals the same hour one season earlier.

    Parameters
    ----------
    season_length
        Season [h]: 24 (daily) or 168 (weekly).

    Notes
    -----
    ``sd(h) = sigma * sqrt(ceil(h / m))`` with ``sigma`` the RMS of in-sample seasonal differences.  Paths
    are a seasonal random walk driven by AR(1) noise whose lag-1 autocorrelation ``phi_`` is that of the
    in-sample seasonal differences.
    """

    name = "seasonal_naive"
    sigma_: float
    phi_: float
    last_season_: np.ndarray

    def __init__(self, season_length: int = 24) -> None:
        self.season_length = season_length

    @property
    def label(self) -> str:
        return f"naive{self.season_length}"

    def min_history(self) -> int:
        return 2 * int(self.season_length)

    def _fit(self, y: np.ndarray) -> None:
        m = int(self.season_length)
        if m < 1:
            raise ModelError("season_length must be >= 1 hour")
        self.last_season_ = y[-m:].copy()
        d = self.y_raw_[m:] - self.y_raw_[:-m]
        self.sigma_ = _rms(d)
        self.phi_ = max(0.0, lag1_autocorr(d))

    def _mean(self, h: int) -> np.ndarray:
        m = int(self.season_length)
        return self.last_season_[np.arange(h) % m]

    def _sd(self, h: int) -> np.ndarray:
        m = int(self.season_length)
        return self.sigma_ * np.sqrt(np.arange(h) // m + 1.0)

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        m = int(self.season_length)
        k = -(-h // m)
        e = ar1_noise(n_paths, k * m, self.phi_, self.sigma_, rng).reshape(n_paths, k, m)
        walk = np.cumsum(e, axis=1).reshape(n_paths, k * m)[:, :h]
        return self._mean(h)[None, :] + walk

    def residuals(self) -> np.ndarray:
        m = int(self.season_length)
        return np.r_[np.full(m, np.nan), self.y_raw_[m:] - self.y_raw_[:-m]]


class WindowMedian(ForecastModel):
    """Flat forecast at the median of the last ``window`` hours: a robust, mean-reverting level.

    The median is the point forecast that minimises absolute error when the future level is like the
    recent past; for bursty or intermittent demand (idle most hours) it stays at the typical level
    instead of chasing the last burst.  ``sd`` is the RMS deviation of each hour from the median of the
    ``window`` hours before it (constant over the horizon); paths are AR(1) noise around the level with
    the lag-1 autocorrelation of those deviations.

    Parameters
    ----------
    window
        Hours the median is taken over [h].
    """

    name = "window_median"
    level_: float
    sigma_: float
    phi_: float
    dev_: np.ndarray

    def __init__(self, window: int = 168) -> None:
        self.window = window

    @property
    def label(self) -> str:
        return f"median{self.window}"

    def min_history(self) -> int:
        return int(self.window) + 24

    def _fit(self, y: np.ndarray) -> None:
        w = int(self.window)
        raw = self.y_raw_
        tail = raw[-w:]
        tail = tail[np.isfinite(tail)]
        self.level_ = float(np.median(tail)) if tail.size else float(np.median(y[-w:]))
        from numpy.lib.stride_tricks import sliding_window_view

        if raw.size > w:
            win = sliding_window_view(raw[:-1], w)
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows inside outages
                    med = np.nanmedian(win, axis=1)
            dev = raw[w:] - med
        else:
            dev = np.array([])
        self.dev_ = np.r_[np.full(raw.size - dev.size, np.nan), dev]
        self.sigma_ = _rms(dev)
        self.phi_ = max(0.0, lag1_autocorr(dev))

    def _mean(self, h: int) -> np.ndarray:
        return np.full(h, self.level_)

    def _sd(self, h: int) -> np.ndarray:
        return np.full(h, self.sigma_)

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return self.level_ + ar1_noise(n_paths, h, self.phi_, self.sigma_, rng)

    def residuals(self) -> np.ndarray:
        return self.dev_.copy()
