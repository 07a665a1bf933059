"""``auto``: a per-series combination of cheap models, trimmed and calibrated by rolling-origin CV.

How it works, per series:

1. Fit every candidate (default: naive, naive24, naive168, ses, theta, mstl).  A candidate that fails
   or lacks history is dropped and the reason is recorded in ``failed_`` (never hidden).
2. Rolling-origin cross-validation on the last ``n_windows`` non-overlapping windows of
   ``cv_horizon`` hours: each candidate is refitted on the history before the window and scored by its
   mean absolute error (MAE) on the window.
3. Candidates whose CV MAE is more than ``trim`` times the best are dropped; the forecast is the
   **median** of the remaining candidates' forecasts (``combine="median"``), or their mean, or the
   single best (``combine="best"``).
4. Uncertainty: the predictive standard deviation is the root mean square of the members' own standard
   deviations, multiplied by a factor ``k_`` that makes 90 % of the CV errors fall inside the 90 %
   interval (clamped to [0.5, 5]).  Paths are the point forecast plus Gaussian noise with that standard
   deviation and the hour-to-hour autocorrelation ``phi_`` of the standardised CV errors, so they are
   temporally coherent and agree with the intervals.

Why a median: with two or three CV windows, picking the single best model is noisy (on the Helios
series it was worse than the median of the candidates at both 1-day and 1-week horizons; see
``docs/forecasting.md``).  Why these candidates: they cost milliseconds (MSTL ~0.2 s) and cover the
behaviours seen in GPU demand — flat bursts (naive, ses), daily and weekly rhythms (seasonal naives,
MSTL) and drift (theta).  ETS with a season, SARIMAX and MSTL-ARIMA can be added via ``candidates``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

from forecasting.base import ForecastModel, ModelError, ar1_noise, lag1_autocorr

DEFAULT_CANDIDATES: tuple[str, ...] = ("naive", "naive24", "naive168", "ses", "theta", "mstl")
_Z90 = float(stats.norm.ppf(0.95))


class AutoModel(ForecastModel):
    """Median (or best) of candidate models chosen by rolling-origin CV, with CV-calibrated intervals.

    Parameters
    ----------
    candidates
        Model names from :func:`forecasting.registry.make_model`.
    n_windows
        Rolling-origin CV windows [-].
    cv_horizon
        Length of each CV window [h].
    combine
        ``"median"``, ``"mean"`` or ``"best"``.
    trim
        Keep candidates whose CV MAE is at most ``trim`` times the best [-].
    calibrate
        Scale the predictive spread to the CV errors.
    """

    name = "auto"
    members_: dict[str, ForecastModel]
    failed_: dict[str, str]
    cv_mae_: dict[str, float]
    k_: float
    phi_: float
    best_: str

    def __init__(self, candidates: Sequence[str] = DEFAULT_CANDIDATES, n_windows: int = 3,
                 cv_horizon: int = 24, combine: Literal["median", "mean", "best"] = "median",
                 trim: float = 1.5, calibrate: bool = True) -> None:
        self.candidates = tuple(candidates)
        self.n_windows = n_windows
        self.cv_horizon = cv_horizon
        self.combine = combine
        self.trim = trim
        self.calibrate = calibrate

    def min_history(self) -> int:
        return 48

    @property
    def label(self) -> str:
        return "auto"

    @property
    def description(self) -> str:
        """One line: how the forecast was formed (members, CV scores, calibration)."""
        parts = [f"{self.combine} of {', '.join(self.members_)}"]
        if self.cv_mae_:
            scores = ", ".join(f"{k} {v:.3g}" for k, v in sorted(self.cv_mae_.items(), key=lambda kv: kv[1]))
            parts.append(f"CV MAE [GPUs]: {scores}")
        parts.append(f"spread x{self.k_:.2f}, phi {self.phi_:.2f}")
        if self.failed_:
            parts.append("dropped: " + "; ".join(f"{k} ({v})" for k, v in self.failed_.items()))
        return " | ".join(parts)

    # -- fitting -----------------------------------------------------------------------------------
    def _fit_candidates(self, y: np.ndarray, record: bool) -> dict[str, ForecastModel]:
        from forecasting.registry import make_model

        out: dict[str, ForecastModel] = {}
        for name in self.candidates:
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

    def _combine(self, means: Sequence[np.ndarray]) -> np.ndarray:
        arr = np.maximum(np.vstack(means), 0.0)
        if self.combine == "mean":
            return np.asarray(arr.mean(axis=0))
        return np.asarray(np.median(arr, axis=0))

    def _fit(self, y: np.ndarray) -> None:
        from forecasting.naive import Naive

        raw = self.y_raw_
        n = raw.size
        self.failed_ = {}
        self.cv_mae_ = {}
        fitted = self._fit_candidates(raw, record=True)
        if not fitted:
            self.notes_.append("every candidate failed; fell back to naive")
            fitted = {"naive": Naive().fit(raw)}
            self.failed_.setdefault("all", "fallback to naive")
        h = int(self.cv_horizon)
        cutoffs = [n - h * (j + 1) for j in range(int(self.n_windows))]
        cutoffs = [c for c in cutoffs if c >= 24 and np.isfinite(raw[c:c + h]).any()]
        cv_fc: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        errs: dict[str, list[np.ndarray]] = {k: [] for k in fitted}
        for c in cutoffs:
            sub = self._fit_candidates(raw[:c], record=False)
            cv_fc[c] = {}
            for name, model in sub.items():
                if name not in fitted:
                    continue
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
            self.notes_.append("history too short for cross-validation: plain combination, uncalibrated spread")
        self.members_ = {k: fitted[k] for k in members}
        # calibration on the combined CV forecasts
        ratios: list[np.ndarray] = []
        zs: list[np.ndarray] = []
        for c, fcs in cv_fc.items():
            use = [k for k in members if k in fcs]
            if not use:
                continue
            mu = self._combine([fcs[k][0] for k in use])
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

    # -- forecasting -------------------------------------------------------------------------------
    def _mean(self, h: int) -> np.ndarray:
        return self._combine([m._mean(h) for m in self.members_.values()])

    def _sd(self, h: int) -> np.ndarray:
        var = np.mean([m._sd(h) ** 2 for m in self.members_.values()], axis=0)
        return np.asarray(self.k_ * np.sqrt(var))

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        unit = ar1_noise(n_paths, h, self.phi_, 1.0, rng)
        return self._mean(h)[None, :] + unit * self._sd(h)[None, :]

    def residuals(self) -> np.ndarray:
        model = self.members_.get(self.best_) or next(iter(self.members_.values()))
        return model.residuals()


