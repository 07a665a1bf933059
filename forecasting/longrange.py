"""Long horizons (weeks to 3 years): an hourly shape on top of a daily-level model with trend.

Hourly models are built for the next hours and days; over months, what matters is the level of demand and
how uncertain it is.  :class:`DailyLevel` models

``y[t] = L[day(t)] + s[hour(t)] + r[t]``

- ``L``: daily mean demand [GPUs]. By default (``level="reverting"``, :class:`ReversionLevel`) an AR(1)
  around the recent mean with a day-of-week effect, plus the uncertainty of that mean: the spread of the
  level grows over the first days and then stays at what the history showed.  With ``level="ets"``, ETS
  with damped trend, whose level is a random walk: its spread keeps growing with the square root of the
  horizon, which over a year is far wider than any history of a month supports.  Growth over months is a
  planned input (``growth_rate_per_year``), not extrapolated from weeks of data;
- ``s``: the average hour-of-day deviation from the daily mean over the last 4 weeks [GPUs];
- ``r``: the hourly remainder, an AR(1) with the in-sample lag-1 autocorrelation and variance.

:class:`Spliced` uses a short-range model (e.g. ``auto``) for the first ``switch`` hours and
:class:`DailyLevel` after them.  The mean continues from where the short-range forecast ended: the gap
between the two fades at the daily level's reversion rate (a week-ahead point forecast carries no
hour-scale transient, so a gap there is a disagreement about the level), never faster than the hourly
remainder's.  Each path continues from where its short-range path ended: its own gap fades at the same
rate, under fresh AR(1) hours, so paths stay continuous at the splice.
"""

from __future__ import annotations

import numpy as np

from forecasting.base import ForecastModel, ModelError, ar1_noise, lag1_autocorr
from forecasting.ets import ETS
from forecasting.naive import Naive

#: Hours per day.
DAY = 24


class ReversionLevel(ForecastModel):
    """Daily means as an AR(1) around their recent mean, with a day-of-week effect.

    ``d[k] = mu + w[weekday(k)] + x[k]``, ``x[k] = phi x[k-1] + e[k]``.  ``mu`` is the mean of the last
    ``window`` days, ``w`` the weekday deviations (when there are 3 weeks), ``phi`` the lag-1
    autocorrelation of ``x`` (clipped to [0, ``max_phi``]).  The forecast variance at step ``k`` is the AR(1)
    part ``s^2 (1 - phi^2k) / (1 - phi^2)`` plus the variance of the estimated mean,
    ``var(x) (1 + phi) / ((1 - phi) n)``; each path draws its own mean offset once.

    Parameters
    ----------
    window
        Days the mean and weekday effect are taken over [days].
    max_phi
        Cap on the daily persistence [-]; 0.95 means a shock halves in about two weeks.
    """

    name = "reversion_level"
    mu_: float
    weekday_: np.ndarray
    phi_: float
    sigma_e_: float
    x_last_: float
    var_mu_: float
    n_days_: int

    def __init__(self, window: int = 28, max_phi: float = 0.95) -> None:
        self.window = window
        self.max_phi = max_phi

    def min_history(self) -> int:
        return 4

    def _fit(self, y: np.ndarray) -> None:
        d = np.asarray(y, dtype=float)
        ok = np.isfinite(d)
        if ok.sum() < 4:
            raise ModelError("reversion_level needs at least 4 days with data")
        recent = d[-int(self.window):]
        self.mu_ = float(np.nanmean(recent))
        self.n_days_ = int(d.size)
        self.weekday_ = np.zeros(7)
        if np.isfinite(recent).sum() >= 21:
            idx = np.arange(d.size - recent.size, d.size) % 7
            for k in range(7):
                v = recent[(idx == k) & np.isfinite(recent)]
                self.weekday_[k] = float(v.mean() - self.mu_) if v.size else 0.0
            self.weekday_ -= self.weekday_.mean()
        x = d - self.mu_ - self.weekday_[np.arange(d.size) % 7]
        self.phi_ = float(np.clip(lag1_autocorr(x), 0.0, self.max_phi))
        xs = x[np.isfinite(x)]
        var_x = float(np.var(xs)) if xs.size > 1 else 0.0
        self.sigma_e_ = float(np.sqrt(max(var_x * (1.0 - self.phi_**2), 0.0)))
        last = x[np.isfinite(x)]
        self.x_last_ = float(last[-1]) if last.size else 0.0
        n_eff = max(np.isfinite(recent).sum(), 1)
        self.var_mu_ = var_x * (1.0 + self.phi_) / ((1.0 - self.phi_) * n_eff)

    def _weekday(self, h: int) -> np.ndarray:
        return np.asarray(self.weekday_[(self.n_days_ + np.arange(h)) % 7])

    def _mean(self, h: int) -> np.ndarray:
        return self.mu_ + self._weekday(h) + self.phi_ ** np.arange(1, h + 1) * self.x_last_

    def _sd(self, h: int) -> np.ndarray:
        k = np.arange(1, h + 1)
        phi2 = self.phi_**2
        ar = self.sigma_e_**2 * ((1.0 - phi2**k) / (1.0 - phi2) if phi2 < 1.0 else k)
        return np.asarray(np.sqrt(ar + self.var_mu_))

    def forecast_cov(self, a: int, b: np.ndarray) -> np.ndarray:
        """Covariance of the forecast level at day ``a`` with days ``b >= a`` (1-based steps) [GPUs^2].

        The AR(1) part of day ``a`` carried ``phi ** (b - a)`` days on, plus the uncertainty of the mean that
        every day of a path shares.
        """
        phi2 = self.phi_**2
        var_a = self.sigma_e_**2 * ((1.0 - phi2**a) / (1.0 - phi2) if phi2 < 1.0 else a)
        return np.asarray(self.phi_ ** (np.asarray(b) - a) * var_a + self.var_mu_)

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        marginal = self.sigma_e_ / np.sqrt(1.0 - self.phi_**2) if self.phi_ < 1.0 else self.sigma_e_
        x = ar1_noise(n_paths, h, self.phi_, marginal, rng, start=np.full(n_paths, self.x_last_))
        offset = rng.standard_normal((n_paths, 1)) * np.sqrt(self.var_mu_)
        return np.asarray(self.mu_ + self._weekday(h)[None, :] + x + offset)

    def residuals(self) -> np.ndarray:
        return np.full(self.n_obs_, np.nan)


class DailyLevel(ForecastModel):
    """Daily-level model, hour-of-day shape and AR(1) hourly remainder.

    Parameters
    ----------
    trend
        Damped additive trend on the daily level (``level="ets"`` only).
    shape_days
        Days of history averaged into the hourly shape [days].
    level
        ``"reverting"`` (default, :class:`ReversionLevel`) or ``"ets"`` (damped-trend ETS, a random-walk
        level whose spread grows without bound).
    """

    name = "daily_level"
    level_model_: ForecastModel
    shape_: np.ndarray
    phi_: float
    sigma_r_: float
    r_last_: float
    offset_: int

    def __init__(self, trend: bool = True, shape_days: int = 28, level: str = "reverting") -> None:
        self.trend = trend
        self.shape_days = shape_days
        self.level = level

    def min_history(self) -> int:
        return 4 * DAY

    def _fit(self, y: np.ndarray) -> None:
        n_days = y.size // DAY
        if n_days < 4:
            raise ModelError("daily_level needs at least 4 full days of history")
        self.offset_ = y.size - n_days * DAY  # leading hours not in a full day
        blocks = y[self.offset_:].reshape(n_days, DAY)
        daily = blocks.mean(axis=1)
        level: ForecastModel
        if self.level not in ("reverting", "ets"):
            raise ModelError(f"daily level must be 'reverting' or 'ets', got '{self.level}'")
        if self.level == "reverting":
            level = ReversionLevel()
        elif n_days >= 21:
            level = ETS(trend="add" if self.trend else None, damped_trend=True, seasonal="add",
                        seasonal_periods=7)
        elif n_days >= 10:
            level = ETS(trend="add" if self.trend else None, damped_trend=True, seasonal=None)
        else:
            level = Naive()
        try:
            self.level_model_ = level.fit(daily)
        except ModelError:
            self.level_model_ = Naive().fit(daily)
            self.notes_.append("daily level ETS failed; used a daily random walk")
        self.notes_.extend(self.level_model_.notes_)
        dev = blocks - daily[:, None]
        recent = dev[-int(self.shape_days):]
        self.shape_ = recent.mean(axis=0)
        resid = (dev - self.shape_[None, :]).ravel()
        self.phi_ = float(np.clip(lag1_autocorr(resid), 0.0, 0.99))
        self.sigma_r_ = float(np.std(resid))
        self.r_last_ = float(resid[-1])

    # -- components --------------------------------------------------------------------------------
    def _days(self, h: int) -> int:
        return -(-h // DAY)

    def base_mean(self, h: int) -> np.ndarray:
        """Level + hourly shape for steps 1..h [GPUs] (no hourly remainder)."""
        lv = np.repeat(self.level_model_._mean(self._days(h)), DAY)[:h]
        return np.asarray(lv + self.shape_[np.arange(h) % DAY])

    def level_var(self, h: int) -> np.ndarray:
        """Variance of the daily level at steps 1..h [GPUs^2]."""
        return np.asarray(np.repeat(self.level_model_._sd(self._days(h)) ** 2, DAY)[:h])

    def base_paths(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Simulated level + shape, shape ``(n_paths, h)`` [GPUs]."""
        lv = self.level_model_._simulate(self._days(h), n_paths, rng)
        return np.asarray(np.repeat(lv, DAY, axis=1)[:, :h] + self.shape_[np.arange(h) % DAY][None, :])

    # -- model API ---------------------------------------------------------------------------------
    def _mean(self, h: int) -> np.ndarray:
        decay = self.phi_ ** np.arange(1, h + 1)
        return self.base_mean(h) + decay * self.r_last_

    def _sd(self, h: int) -> np.ndarray:
        decay2 = self.phi_ ** (2 * np.arange(1, h + 1))
        return np.sqrt(self.level_var(h) + self.sigma_r_**2 * (1.0 - decay2))

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        base = self.base_paths(h, n_paths, rng)
        start = np.full(n_paths, self.r_last_)
        noise = ar1_noise(n_paths, h, self.phi_, self.sigma_r_, rng, start=start)
        return base + noise

    def residuals(self) -> np.ndarray:
        return np.full(self.n_obs_, np.nan)


class Spliced(ForecastModel):
    """A short-range model for the first ``switch`` hours, :class:`DailyLevel` after.

    Parameters
    ----------
    short
        Unfitted short-range model.
    switch
        Last hour served by the short-range model [h].
    long
        Unfitted long-range model (default :class:`DailyLevel`).
    """

    name = "spliced"
    long_ok_: bool

    def __init__(self, short: ForecastModel, switch: int = 168, long: DailyLevel | None = None) -> None:
        self.short = short
        self.switch = switch
        self.long = long

    @property
    def label(self) -> str:
        return self.short.label

    def min_history(self) -> int:
        return self.short.min_history()

    def _fit(self, y: np.ndarray) -> None:
        self.short.fit(self.y_raw_)
        self.notes_.extend(self.short.notes_)
        self.long_ = self.long if self.long is not None else DailyLevel()
        try:
            self.long_.fit(self.y_raw_)
            self.long_ok_ = True
            self.notes_.extend(self.long_.notes_)
        except ModelError as exc:
            self.long_ok_ = False
            self.notes_.append(f"long-range level model unavailable ({exc}); short-range model used throughout")

    def _split(self, h: int) -> int:
        return min(int(self.switch), h) if self.long_ok_ else h

    def _mean(self, h: int) -> np.ndarray:
        s = self._split(h)
        head = self.short._mean(s)
        if s == h:
            return head
        base = self.long_.base_mean(h)
        gap = head[-1] - base[s - 1]
        return np.r_[head, base[s:] + self.gap_decay(h - s) * gap]

    def gap_decay(self, n: int) -> np.ndarray:
        """Share of the mean gap at the splice left 1..n hours after it [-].

        ``max(phi_day ** (k / 24), phi_hour ** k)``: the daily level's AR(1) coefficient spread over the hours
        of a day when the level reverts (:class:`ReversionLevel`), bounded below by the hourly remainder's
        decay (so a level without memory, ``phi_day = 0``, still joins smoothly).  With a random-walk level
        (``level="ets"``) only the hourly decay.  Why the level's rate: the short-range model's forecast a
        week out is a level, not an hourly transient; fading the gap within hours made the mean jump at day 8
        (the demo's a100 family went from 55 to 100 GPUs overnight) and was less accurate on days 8-14
        (``docs/forecasting.md``).
        """
        k = np.arange(1, n + 1, dtype=float)
        hourly = self.long_.phi_ ** k
        level = self._reverting_level()
        if level is None:
            return np.asarray(hourly)
        return np.asarray(np.maximum(level.phi_ ** (k / DAY), hourly))

    def _reverting_level(self) -> ReversionLevel | None:
        """The long-range daily level when it is the reverting AR(1) (its rate and covariances are known)."""
        level = self.long_.level_model_
        return level if isinstance(level, ReversionLevel) else None

    def _sd(self, h: int) -> np.ndarray:
        s = self._split(h)
        head = self.short._sd(s)
        if s == h:
            return head
        # a path after the splice: its level + its gap (short-range end - its level at the splice) x d + AR(1) hours
        k = np.arange(1, h - s + 1)
        d = self.gap_decay(h - s)
        level_var = self.long_.level_var(h)
        var = level_var[s:] + d**2 * head[-1] ** 2 + self.long_.sigma_r_**2 * (1.0 - self.long_.phi_ ** (2 * k))
        level = self._reverting_level()
        if level is not None:
            # the level at the splice enters the gap with the opposite sign: var(L_b - d L_a) on a path
            cov = level.forecast_cov((s - 1) // DAY + 1, np.arange(s, h) // DAY + 1)
            var = var + d**2 * level_var[s - 1] - 2.0 * d * cov
        return np.r_[head, np.sqrt(var)]

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        s = self._split(h)
        head = self.short._simulate(s, n_paths, rng)
        if s == h:
            return head
        base = self.long_.base_paths(h, n_paths, rng)
        # each path's gap at the splice fades like the mean's (gap_decay); fresh AR(1) hours are added on top
        gap = head[:, -1] - base[:, s - 1]
        noise = ar1_noise(n_paths, h - s, self.long_.phi_, self.long_.sigma_r_, rng, start=np.zeros(n_paths))
        return np.hstack([head, base[:, s:] + self.gap_decay(h - s)[None, :] * gap[:, None] + noise])

    def residuals(self) -> np.ndarray:
        return self.short.residuals()
