"""``auto``: a per-series combination of cheap models, chosen, weighted and calibrated by rolling-origin CV.

How it works, per series:

1. Eligible candidates (default: naive, naive24, naive168, ses, theta, mstl):

   - on a history of a month or less (``season_test_hours``), a seasonal candidate (naive24, naive168,
     mstl, ...) only with evidence of its season: the autocorrelation of the hourly *changes* at the
     season's lag passes a 90 % test (:func:`season_evidence`), so a short bursty series does not get last
     day's noise replayed (on longer histories cross-validation judges them);
   - a mostly idle series (near 0 in half of the last two weeks' hours) gets only the robust non-seasonal
     models (naive, ses, damped ETS): its forecast never replays an old burst.

   Each is fitted; one that fails or lacks history is dropped and the reason recorded in ``failed_``.
2. Rolling-origin cross-validation (:meth:`AutoModel.cv_cutoffs`): windows of ``cv_horizon`` hours whose
   training keeps at least ``min_train_share`` (60 %) of the history, so that what is learnt there resembles
   the final fit.  On a short history the windows are shrunk (whole days, at least 24 h) and their origins
   placed a day or more apart; when no window qualifies, ``auto`` falls back **explicitly** to the median of
   the robust models, uncalibrated, and says so in ``fallback_`` and the notes.
3. Candidates whose CV MAE is more than ``trim`` times the best are dropped; the forecast is the mean of
   the rest **weighted by CV skill** (inverse squared CV MAE, ``combine="weighted"``), or their median or
   mean, or the single best (``combine="best"``).
4. Uncertainty: the predictive standard deviation is the root mean square of the members' own standard
   deviations, multiplied by a factor ``k_`` that makes 90 % of the CV errors fall inside the 90 %
   interval (clamped to [0.5, 5]).  Paths are the point forecast plus Gaussian noise with that standard
   deviation and the hour-to-hour autocorrelation ``phi_`` of the standardised CV errors, so they are
   temporally coherent and agree with the intervals.

Why these candidates: they cost milliseconds (MSTL ~0.2 s) and cover the behaviours seen in GPU demand —
flat bursts (naive, ses), daily and weekly rhythms (seasonal naives, MSTL) and drift (theta).  ETS with a
season, SARIMAX and MSTL-ARIMA can be added via ``candidates``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

from forecasting.base import ForecastModel, ModelError, ar1_noise, lag1_autocorr
from forecasting.linalg import matmul

DEFAULT_CANDIDATES: tuple[str, ...] = ("naive", "naive24", "naive168", "ses", "theta", "mstl")
#: Simple models that need no season: the fallback when no CV window qualifies, and all a mostly idle series gets.
ROBUST: tuple[str, ...] = ("naive", "ses", "ets_damped")
#: Seasons [h] a candidate relies on (it is fitted only with evidence of one of them).
SEASONS: dict[str, tuple[int, ...]] = {
    "naive24": (24,), "naive168": (168,), "median24": (24,), "median168": (168,), "ets": (24,),
    "mstl": (24, 168), "mstl_arima": (24, 168),
}
_Z90 = float(stats.norm.ppf(0.95))
_Z_TEST = float(stats.norm.ppf(0.95))   # one-sided 95 % = the two-sided 90 % seasonality test


def season_evidence(y: np.ndarray, m: int) -> tuple[float, float]:
    """Autocorrelation of the hourly changes at lag ``m`` and its 90 % significance threshold.

    The changes ``y[t] - y[t-1]`` remove the level, so persistence alone (a series that stays high) gives
    no evidence of a season, while a daily or weekly rhythm does.  The threshold is Bartlett's
    ``z sqrt((1 + 2 sum_{k<m} r_k^2) / n)`` (the seasonality test of Hyndman's ``forecast`` package, on the
    changes).  Returns ``(0, inf)`` with fewer than three seasons of changes.

    Parameters
    ----------
    y
        Hourly series [GPUs]; NaN = missing (pairs with a missing value are left out).
    m
        Season [h].
    """
    d = np.diff(np.asarray(y, dtype=float))
    ok = np.isfinite(d)
    if ok.sum() < 3 * m:
        return 0.0, float("inf")
    d = np.where(ok, d - d[ok].mean(), 0.0)
    den = float((d * d).sum())
    if den <= 0:
        return 0.0, float("inf")
    r = np.array([float((d[k:] * d[:-k]).sum()) / den for k in range(1, m + 1)])
    n = int(ok.sum())
    thr = _Z_TEST * float(np.sqrt((1.0 + 2.0 * float((r[:-1] ** 2).sum())) / n))
    return float(r[-1]), thr


class AutoModel(ForecastModel):
    """Skill-weighted mean (or median, or best) of eligible candidates, with CV-calibrated intervals.

    Parameters
    ----------
    candidates
        Model names from :func:`forecasting.registry.make_model`.
    n_windows
        Rolling-origin CV windows [-].
    cv_horizon
        Length of each CV window [h].
    combine
        ``"weighted"`` (inverse squared CV MAE), ``"median"``, ``"mean"`` or ``"best"``.
    trim
        Keep candidates whose CV MAE is at most ``trim`` times the best [-].
    calibrate
        Scale the predictive spread to the CV errors.
    min_train_share
        Least share of the history a CV window trains on [fraction].
    robust
        Models of the fallback and of mostly idle series.
    season_test_hours
        On a history of at most this many hours (default 744 = a month), fit a seasonal candidate only with
        evidence of its season (:func:`season_evidence`); 0 = never test.  A month holds at most four weekly
        cycles and a few short CV windows, too little for cross-validation alone to tell a season from
        bursts; on longer histories CV judges the seasonal candidates, and the test (on the changes) would
        miss smooth rhythms under autocorrelated noise (measured in ``benchmarks/bench_bursty.py``).
    idle_share, idle_level
        A series is mostly idle when at least ``idle_share`` of its last 336 hours are at most ``idle_level``
        times their peak [fractions].
    """

    name = "auto"
    members_: dict[str, ForecastModel]
    failed_: dict[str, str]
    cv_mae_: dict[str, float]
    weights_: dict[str, float]
    fallback_: str
    cv_horizon_used_: int
    k_: float
    phi_: float
    best_: str

    def __init__(self, candidates: Sequence[str] = DEFAULT_CANDIDATES, n_windows: int = 3,
                 cv_horizon: int = 24, combine: Literal["weighted", "median", "mean", "best"] = "weighted",
                 trim: float = 1.5, calibrate: bool = True, min_train_share: float = 0.6,
                 robust: Sequence[str] = ROBUST, idle_share: float = 0.5, idle_level: float = 0.05,
                 season_test_hours: int = 744) -> None:
        self.candidates = tuple(candidates)
        self.n_windows = n_windows
        self.cv_horizon = cv_horizon
        self.combine = combine
        self.trim = trim
        self.calibrate = calibrate
        self.min_train_share = min_train_share
        self.robust = tuple(robust)
        self.idle_share = idle_share
        self.idle_level = idle_level
        self.season_test_hours = season_test_hours

    def min_history(self) -> int:
        return 48

    @property
    def label(self) -> str:
        return "auto"

    @property
    def description(self) -> str:
        """One line: how the forecast was formed (members, CV scores, calibration)."""
        if self.combine == "weighted":
            parts = ["weighted mean of " + ", ".join(f"{k} {self.weights_.get(k, 0.0):.2f}" for k in self.members_)]
        else:
            parts = [f"{self.combine} of {', '.join(self.members_)}"]
        if self.cv_mae_:
            scores = ", ".join(f"{k} {v:.3g}" for k, v in sorted(self.cv_mae_.items(), key=lambda kv: kv[1]))
            parts.append(f"CV MAE [GPUs]: {scores}")
        parts.append(f"spread x{self.k_:.2f}, phi {self.phi_:.2f}")
        if self.failed_:
            parts.append("dropped: " + "; ".join(f"{k} ({v})" for k, v in self.failed_.items()))
        return " | ".join(parts)

    # -- fitting -----------------------------------------------------------------------------------
    def _fit_candidates(self, y: np.ndarray, record: bool, names: Sequence[str]) -> dict[str, ForecastModel]:
        from forecasting.registry import make_model

        out: dict[str, ForecastModel] = {}
        for name in names:
            model = make_model(name)
            if y.size < model.min_history():
                if record:
                    self.failed_[name] = f"needs {model.min_history()} h of history"
                continue
            try:
                out[name] = model.fit(y)
                if record:
                    self.notes_.extend(f"{name}: {n}" for n in model.notes_)
            except ModelError as exc:
                if record:
                    self.failed_[name] = str(exc)
        return out

    def _combine(self, means: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
        arr = np.maximum(np.vstack(means), 0.0)
        if self.combine == "weighted" and weights is not None:
            # fixed summation order (no BLAS): the same bits whatever the CPU kernel
            return np.asarray(matmul(np.asarray(weights, dtype=float)[None, :], arr)[0])
        if self.combine == "mean":
            return np.asarray(arr.mean(axis=0))
        return np.asarray(np.median(arr, axis=0))

    def cv_cutoffs(self, n: int) -> tuple[list[int], int]:
        """Rolling-origin cutoffs and window length [h] whose training resembles the final fit.

        Every window trains on at least ``min_train_share`` of the history (and 48 h).  Windows are
        ``cv_horizon`` long when that leaves room, else shrunk to the room there is (whole days, at least 24 h);
        origins are a day or more apart, the latest ending at the end of the history.  No window qualifies
        when fewer than 24 h remain after the minimum training: ``([], 0)``.
        """
        min_train = max(48, int(np.ceil(self.min_train_share * n)))
        room = n - min_train
        hw = min(int(self.cv_horizon), (room // 24) * 24)
        if hw < 24 or self.n_windows < 1:
            return [], 0
        spare = room - hw
        k = int(self.n_windows)
        step = hw if k == 1 else min(hw, max(24, (spare // (k - 1)) // 24 * 24))
        cutoffs = [n - hw - j * step for j in range(k)]
        return [c for c in cutoffs if c >= min_train], hw

    def _eligible(self, raw: np.ndarray) -> tuple[list[str], dict[str, str]]:
        """Candidates worth fitting on this series, and why the others were left out.

        - A seasonal candidate needs evidence of its season: the autocorrelation of the hourly changes at
          the season's lag must pass the 90 % test of :func:`season_evidence` (otherwise it would replay the
          last cycle's noise or bursts).
        - A mostly idle series (at most ``idle_level`` of its recent peak in ``idle_share`` of the last two
          weeks' hours) gets only the non-seasonal ``robust`` models, so its forecast does not replay old
          bursts.
        """
        out: dict[str, str] = {}
        recent = raw[-336:]
        recent = recent[np.isfinite(recent)]
        peak = float(recent.max()) if recent.size else 0.0
        idle = float(np.mean(recent <= self.idle_level * peak)) if peak > 0 else 1.0
        if recent.size and idle >= self.idle_share:
            keep = [c for c in self.candidates if c in self.robust] or list(self.robust)
            for c in self.candidates:
                if c not in keep:
                    out[c] = f"mostly idle series ({idle:.0%} of the last {recent.size} h near 0): no replayed bursts"
            return keep, out
        test = raw.size <= self.season_test_hours
        evidence = {m: season_evidence(raw, m) for m in {m for c in self.candidates for m in SEASONS.get(c, ())}}
        keep = []
        for c in self.candidates:
            seasons = SEASONS.get(c, ())
            if test and seasons and not any(evidence[m][0] > evidence[m][1] for m in seasons):
                out[c] = "no season in the history (" + ", ".join(
                    f"ACF of hourly changes at lag {m} {evidence[m][0]:.2f} <= {evidence[m][1]:.2f}" for m in seasons) + ")"
                continue
            keep.append(c)
        return keep, out

    def _fit(self, y: np.ndarray) -> None:
        raw = self.y_raw_
        n = raw.size
        self.failed_ = {}
        self.cv_mae_ = {}
        self.weights_ = {}
        self.fallback_ = ""
        names, skipped = self._eligible(raw)
        self.failed_.update(skipped)
        cutoffs, h = self.cv_cutoffs(n)
        cutoffs = [c for c in cutoffs if np.isfinite(raw[c:c + h]).any()]
        if not cutoffs:
            names = [c for c in self.robust]
            self.fallback_ = (f"no cross-validation window leaves {self.min_train_share:.0%} of the {n} h history "
                              f"for training: median of the robust models {', '.join(names)}")
            self.notes_.append(self.fallback_)
        fitted = self._fit_candidates(raw, record=True, names=names)
        if not fitted:
            from forecasting.naive import Naive

            self.notes_.append("every candidate failed; fell back to naive")
            fitted = {"naive": Naive().fit(raw)}
            self.failed_.setdefault("all", "fallback to naive")
        self.cv_horizon_used_ = h
        cv_fc: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        errs: dict[str, list[np.ndarray]] = {k: [] for k in fitted}
        for c in cutoffs:
            sub = self._fit_candidates(raw[:c], record=False, names=list(fitted))
            cv_fc[c] = {}
            for name, model in sub.items():
                try:
                    mu = np.maximum(model._mean(h), 0.0)
                    sd = model._sd(h)
                except ModelError:
                    continue
                cv_fc[c][name] = (mu, sd)
                errs[name].append(np.abs(raw[c:c + h] - mu))
        for name, e in errs.items():
            if e:
                vals = np.concatenate(e)
                if np.isfinite(vals).any():
                    self.cv_mae_[name] = float(np.nanmean(vals))
        members = list(fitted)
        if self.cv_mae_:
            # scores within a relative 1e-9 of the best are ties (fits may differ in the last bits between
            # BLAS kernels); a tie goes to the candidate listed first, so the choice is the same everywhere
            low = min(self.cv_mae_.values())
            best = next(k for k in self.cv_mae_ if self.cv_mae_[k] <= low + 1e-9 * abs(low))
            self.best_ = best
            if self.combine == "best":
                members = [best]
            else:
                limit = self.trim * self.cv_mae_[best] + 1e-12
                members = [k for k in fitted if k in self.cv_mae_ and self.cv_mae_[k] <= limit]
        else:
            self.best_ = members[0]
            if not self.fallback_:
                self.notes_.append("history too short for cross-validation: plain combination, uncalibrated spread")
        self.members_ = {k: fitted[k] for k in members}
        self.weights_ = self._weights(members)
        # calibration on the combined CV forecasts
        ratios: list[np.ndarray] = []
        zs: list[np.ndarray] = []
        for c, fcs in cv_fc.items():
            use = [k for k in members if k in fcs]
            if not use:
                continue
            w = self._weights(use)
            mu = self._combine([fcs[k][0] for k in use], [w[k] for k in use])
            sd = np.sqrt(np.mean([fcs[k][1] ** 2 for k in use], axis=0))
            err = raw[c:c + h] - mu
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(sd > 0, err / sd, np.nan)
            ratios.append(np.abs(z) / _Z90)
            zs.append(z)
        k = 1.0
        phi = np.nan
        if self.calibrate and ratios:
            r = np.concatenate(ratios)
            r = r[np.isfinite(r)]
            if r.size >= 10:
                k = float(np.clip(np.quantile(r, 0.9), 0.5, 5.0))
        if zs:
            acs = [lag1_autocorr(z) for z in zs if np.isfinite(z).sum() >= 4]
            if acs:
                phi = float(np.mean(acs))
        if not np.isfinite(phi):
            best_model = self.members_.get(self.best_) or next(iter(self.members_.values()))
            phi = lag1_autocorr(best_model.residuals())
        self.k_ = k
        self.phi_ = float(np.clip(phi if np.isfinite(phi) else 0.0, 0.0, 0.99))

    def _weights(self, members: Sequence[str]) -> dict[str, float]:
        """Combination weights: inverse squared CV MAE (``combine="weighted"``), else equal."""
        if self.combine == "weighted" and all(m in self.cv_mae_ for m in members):
            inv = {m: 1.0 / max(self.cv_mae_[m], 1e-9) ** 2 for m in members}
            tot = sum(inv.values())
            return {m: v / tot for m, v in inv.items()}
        return {m: 1.0 / len(members) for m in members}

    # -- forecasting -------------------------------------------------------------------------------
    def _mean(self, h: int) -> np.ndarray:
        return self._combine([m._mean(h) for m in self.members_.values()],
                             [self.weights_.get(k, 0.0) for k in self.members_])

    def _sd(self, h: int) -> np.ndarray:
        var = np.mean([m._sd(h) ** 2 for m in self.members_.values()], axis=0)
        return np.asarray(self.k_ * np.sqrt(var))

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        unit = ar1_noise(n_paths, h, self.phi_, 1.0, rng)
        return self._mean(h)[None, :] + unit * self._sd(h)[None, :]

    def residuals(self) -> np.ndarray:
        model = self.members_.get(self.best_) or next(iter(self.members_.values()))
        return model.residuals()


