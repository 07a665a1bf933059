"""``auto``: a per-series combination of cheap models, chosen, weighted and calibrated by rolling-origin CV.

How it works, per series:

1. Eligible candidates (default: naive, naive24, naive168, ses, theta, mstl; when the cross-validated horizon
   is longer than a day, also the flat medians of the last day and week, :data:`LEVELS`):

   - a seasonal candidate (naive24, naive168, mstl, ...) only with evidence of its season: the
     autocorrelation at the season's lag of the deviations from a centred one-season moving average passes
     a 90 % Bartlett test (:func:`season_evidence`), so a bursty series does not get last day's noise
     replayed; the test needs no length threshold (it ignores persistence and bursts shorter than a season,
     and finds smooth rhythms under autocorrelated noise);
   - a mostly idle series (near 0 in half of the last two weeks' hours) gets only flat forecasts (the last
     value, the median of the last day and of the last week: :data:`IDLE`): it never replays an old burst.

   Each is fitted; one that fails or lacks history is dropped and the reason recorded in ``failed_``.
2. Rolling-origin cross-validation (:meth:`AutoModel.cv_cutoffs`): windows of ``cv_horizon`` hours whose
   training keeps at least ``min_train_share`` (60 %) of the history, so that what is learnt there resembles
   the final fit.  On a short history the windows are shrunk (whole days, at least 24 h) and their origins
   placed a day or more apart; when no window qualifies, ``auto`` falls back **explicitly** to the median of
   the robust models (naive, SES, damped ETS), uncalibrated, and says so in ``fallback_`` and the notes.
3. A candidate must earn its place: only those whose CV MAE is below the last value's (``benchmark``) are
   combined with it.  Then candidates whose CV MAE is more than ``trim`` times the best are dropped and the
   rest weighted by CV skill (inverse squared CV MAE, ``combine="weighted"``; or equal weights, the median, or the single best).
   With ``per_block=True`` this is done separately per horizon block (steps 1-6, 7-24, 25-72, 73-168 h,
   :data:`BLOCK_ENDS`): the last value usually wins the first hours and a level or a rhythm the later days,
   but each block's score then rests on fewer CV errors.
4. Uncertainty: the predictive standard deviation is the weighted root mean square of the members' own
   standard deviations times a factor ``k_``: the split-conformal 95 % quantile of the CV errors in units of
   that spread, so that 95 % intervals cover about 95 % of errors like the CV ones (clamped to [0.5, 5]).
   Paths are the point forecast plus Gaussian noise with that standard deviation and the hour-to-hour
   autocorrelation ``phi_`` of the standardised CV errors, so they are temporally coherent and agree with
   the intervals.

Why these candidates: they cost milliseconds (MSTL ~0.04 s on a month of hours) and cover the behaviours seen in GPU demand —
flat bursts (naive, ses), daily and weekly rhythms (seasonal naives, MSTL), drift (theta).  Reversion to the
usual level after a burst (``ar``, an OLS autoregression on levels), ETS with a season, SARIMAX and MSTL-ARIMA
can be added via ``candidates`` (why ``ar`` is not a default: :data:`DEFAULT_CANDIDATES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

from forecasting.base import ForecastModel, ModelError, ar1_noise, lag1_autocorr

#: ``ar`` (mean-reverting autoregression, :mod:`forecasting.autoreg`) is available but not a default candidate:
#: with it, the commitment backtest's regret on the Alibaba-derived history rose from 5.8 % to 8.8 % (and on the
#: Helios cluster from 1.5 % to 1.7 %) for a 1-week MASE gain of 2 % (docs/forecasting.md, measured 2026-12-06).
#: Cross-validation scores candidates 24 h ahead, while a commitment lives on weeks of forecast; pulling back to
#: the mean wins the former and loses the latter when demand trends.
DEFAULT_CANDIDATES: tuple[str, ...] = ("naive", "naive24", "naive168", "ses", "theta", "mstl")
#: Flat robust levels (the median of the last day, of the last week) added to the default candidates when the
#: cross-validated horizon is longer than a day (:meth:`AutoModel.default_candidates`).  Over a day or less the
#: last value's persistence wins and a level lags every shift; over a week a burst has usually ended and the
#: median, the constant with the least absolute error over a period like the one it is taken from, wins.
#: Measured on the 10 shared GPU series (docs/forecasting.md): with them at both horizons, 1-week MASE fell
#: on 7/10 series and 1-day MASE rose on 7/10; M4 Hourly (48 h) OWA did not get worse.
LEVELS: tuple[str, ...] = ("median24", "median168")
#: Simple models that need no season: the fallback when no CV window qualifies.
ROBUST: tuple[str, ...] = ("naive", "ses", "ets_damped")
#: What a mostly idle series gets: flat forecasts only, at three memories (the last hour, the median of the
#: last day, of the last week).  A median is the constant that minimises the absolute error over a period like
#: the one it is taken from; on a series at 0 most hours a mean-type level (SES, damped ETS) sits between 0
#: and the bursts and is wrong almost every hour.
IDLE: tuple[str, ...] = ("naive", "median24", "median168")
#: Seasons [h] a candidate relies on (it is fitted only with evidence of one of them).
SEASONS: dict[str, tuple[int, ...]] = {
    "naive24": (24,), "naive168": (168,), "ets": (24,),
    "mstl": (24, 168), "mstl_arima": (24, 168),
}
_Z95 = float(stats.norm.ppf(0.975))
#: Ends of the horizon blocks [h] whose combination weights are cross-validated separately: a quarter day,
#: a day, three days, a week (a geometric grid: which model is best changes with the log of the lead time,
#: persistence first, then rhythm and level).
BLOCK_ENDS: tuple[int, ...] = (6, 24, 72, 168)
_Z_TEST = float(stats.norm.ppf(0.95))   # one-sided 95 % = the two-sided 90 % seasonality test


def horizon_blocks(h: int) -> list[tuple[int, int]]:
    """Horizon blocks ``[start, stop)`` (0-based steps) covering ``h`` steps: :data:`BLOCK_ENDS`, then ``h``.

    >>> horizon_blocks(24)
    [(0, 6), (6, 24)]
    >>> horizon_blocks(48)
    [(0, 6), (6, 24), (24, 48)]
    """
    out: list[tuple[int, int]] = []
    start = 0
    for end in (*BLOCK_ENDS, h):
        end = min(end, h)
        if end > start:
            out.append((start, end))
            start = end
    return out


def _first_min(scores: dict[str, float]) -> str:
    """The key with the lowest score; scores within a relative 1e-9 of it are ties (fits may differ in the
    last bits between BLAS kernels) and go to the key listed first, so the choice is the same everywhere."""
    low = min(scores.values())
    return next(k for k in scores if scores[k] <= low + 1e-9 * abs(low))


def _beats(score: float, ref: float) -> bool:
    """``score`` is lower than ``ref`` by more than the relative 1e-9 that counts as a tie (:func:`_first_min`)."""
    return score < ref - 1e-9 * abs(ref)


def season_evidence(y: np.ndarray, m: int, method: Literal["detrended", "changes"] = "detrended") -> tuple[float, float]:
    """Autocorrelation at lag ``m`` of the series without its level, and its 90 % significance threshold.

    The level is removed so that persistence alone (a series that stays high, a random walk) gives no
    evidence of a season, while a daily or weekly rhythm does:

    - ``"detrended"`` (default): the deviations from the centred ``2 x m`` moving average (classical
      decomposition).  The moving average spans exactly one season, so it keeps the rhythm out of the level;
      for a random walk the deviations ``m`` hours apart share no increment, so their autocorrelation is ~0;
      a burst shorter than a season leaves no lag-``m`` correlation unless it recurs.
    - ``"changes"``: the hourly changes ``y[t] - y[t-1]``; under autocorrelated noise differencing
      amplifies the noise and can hide a smooth rhythm.

    The threshold is Bartlett's ``z sqrt((1 + 2 sum_{k<m} r_k^2) / n)`` (the seasonality test of Hyndman's
    ``forecast`` package and of the M4 competition's Naive2).  Returns ``(0, inf)`` with fewer than three
    seasons of data.

    Parameters
    ----------
    y
        Hourly series [GPUs]; NaN = missing (pairs with a missing value are left out).
    m
        Season [h].
    method
        How the level is removed.
    """
    y = np.asarray(y, dtype=float)
    if method == "changes":
        d = np.diff(y)
    else:
        if y.size < 3 * m or np.isfinite(y).sum() < 3 * m:
            return 0.0, float("inf")
        from forecasting.gaps import fill_gaps

        x = fill_gaps(y)
        kernel = np.r_[0.5, np.ones(m - 1), 0.5] / m
        ma = np.convolve(x, kernel, mode="valid")          # centred at hours m/2 .. n-1-m/2
        half = m // 2
        d = y[half:half + ma.size] - ma                    # NaN where the hour was missing
    ok = np.isfinite(d)
    if ok.sum() < 2 * m:
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
        Model names from :func:`forecasting.registry.make_model`; ``None`` (default):
        :meth:`default_candidates` for ``cv_horizon``.
    n_windows
        Rolling-origin CV windows [-].
    cv_horizon
        Length of each CV window [h].
    combine
        ``"weighted"`` (inverse squared CV MAE), ``"median"``, ``"mean"`` or ``"best"``.
    trim
        Keep candidates whose CV MAE is at most ``trim`` times the best [-].
    benchmark
        A candidate has to earn its place against this one: it is combined only when its CV MAE is below the
        benchmark's (ties, e.g. candidates that forecast the same in every window, leave it out); the benchmark
        itself stays unless trimmed.  ``"naive"`` (default): nothing enters that did not beat the last value
        in cross-validation.  ``None``: no such test.
    calibrate
        Scale the predictive spread to the CV errors.
    min_train_share
        Least share of the history a CV window trains on [fraction].
    robust
        Models of the fallback when no CV window qualifies (their median).
    idle_models
        All that a mostly idle series gets (flat forecasts).
    season_test
        Fit a seasonal candidate only with evidence of its season (:func:`season_evidence`).
    season_method
        How :func:`season_evidence` removes the level (``"detrended"``: centred moving average).
    per_block
        Cross-validate the weights separately per horizon block (:func:`horizon_blocks`) instead of once
        for the whole window.  Off by default: with the few CV windows a month of history allows, the
        per-block scores are noisy, and on the shared series it was worse at both horizons (measured in
        ``docs/forecasting.md``).
    idle_share, idle_level
        A series is mostly idle when at least ``idle_share`` of its last 336 hours are at most ``idle_level``
        times their peak [fractions].
    """

    name = "auto"
    members_: dict[str, ForecastModel]
    failed_: dict[str, str]
    cv_mae_: dict[str, float]
    weights_: dict[str, float]
    block_weights_: list[tuple[int, int, dict[str, float]]]
    fallback_: str
    cv_horizon_used_: int
    k_: float
    phi_: float
    best_: str

    def __init__(self, candidates: Sequence[str] | None = None, n_windows: int = 3,
                 cv_horizon: int = 24, combine: Literal["weighted", "median", "mean", "best"] = "weighted",
                 trim: float = 1.5, calibrate: bool = True, min_train_share: float = 0.6,
                 robust: Sequence[str] = ROBUST, idle_models: Sequence[str] = IDLE, idle_share: float = 0.5, idle_level: float = 0.05,
                 season_test: bool = True, per_block: bool = False,
                 season_method: Literal["detrended", "changes"] = "detrended", benchmark: str | None = "naive") -> None:
        self.candidates = self.default_candidates(cv_horizon) if candidates is None else tuple(candidates)
        self.n_windows = n_windows
        self.cv_horizon = cv_horizon
        self.combine = combine
        self.trim = trim
        self.calibrate = calibrate
        self.min_train_share = min_train_share
        self.robust = tuple(robust)
        self.idle_models = tuple(idle_models)
        self.idle_share = idle_share
        self.idle_level = idle_level
        self.season_test = season_test
        self.per_block = per_block
        self.season_method = season_method
        self.benchmark = benchmark

    @staticmethod
    def default_candidates(cv_horizon: int) -> tuple[str, ...]:
        """:data:`DEFAULT_CANDIDATES`, plus the flat medians :data:`LEVELS` when ``cv_horizon`` exceeds 24 h.

        >>> AutoModel.default_candidates(24)[-1], AutoModel.default_candidates(168)[-2:]
        ('mstl', ('median24', 'median168'))
        """
        return DEFAULT_CANDIDATES + (LEVELS if cv_horizon > 24 else ())

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
            out = [k for k in self.cv_mae_ if k not in self._earned(self.cv_mae_)]
            if out and not self.per_block:
                parts.append(f"not better than {self.benchmark} in CV, left out: {', '.join(out)}")
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
            keep = list(self.idle_models)
            for c in self.candidates:
                if c not in keep:
                    out[c] = f"mostly idle series ({idle:.0%} of the last {recent.size} h near 0): no replayed bursts"
            return keep, out
        test = self.season_test
        evidence = {m: season_evidence(raw, m, self.season_method) for m in {m for c in self.candidates for m in SEASONS.get(c, ())}}
        keep = []
        for c in self.candidates:
            seasons = SEASONS.get(c, ())
            if test and seasons and not any(evidence[m][0] > evidence[m][1] for m in seasons):
                out[c] = "no season in the history (" + ", ".join(
                    f"lag-{m} autocorrelation {evidence[m][0]:.2f} <= {evidence[m][1]:.2f}" for m in seasons) + ")"
                continue
            keep.append(c)
        return keep, out

    def _fit(self, y: np.ndarray) -> None:
        raw = self.y_raw_
        n = raw.size
        self.failed_ = {}
        self.cv_mae_ = {}
        self.weights_ = {}
        self.block_weights_ = []
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
        errs: dict[str, dict[int, np.ndarray]] = {k: {} for k in fitted}
        for c in cutoffs:
            sub = self._fit_candidates(raw[:c], record=False, names=list(fitted))
            cv_fc[c] = {}
            for name, model in sub.items():
                try:
                    mu = np.maximum(model._mean(h), 0.0)
                    sd = model._sd(h)
                except ModelError:
                    continue
                if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sd))):
                    continue
                cv_fc[c][name] = (mu, sd)
                errs[name][c] = np.abs(raw[c:c + h] - mu)
        # a candidate is scored only when it forecast in every window (scores on different windows differ)
        for name, e in errs.items():
            if e and len(e) == len(cutoffs):
                vals = np.concatenate([e[c] for c in cutoffs])
                if np.isfinite(vals).any():
                    self.cv_mae_[name] = float(np.nanmean(vals))
        members = list(fitted)
        if self.cv_mae_:
            self.best_ = _first_min(self.cv_mae_)
            scored = [k for k in fitted if k in self.cv_mae_]
            for b0, b1 in (horizon_blocks(h) if self.per_block else [(0, h)]):
                mae = {}
                for k in scored:
                    v = np.concatenate([errs[k][c][b0:b1] for c in cutoffs])
                    if np.isfinite(v).any():
                        mae[k] = float(np.nanmean(v))
                self.block_weights_.append((b0, b1, self._block_weights(mae or {k: self.cv_mae_[k] for k in scored})))
            keep = {k for _, _, w in self.block_weights_ for k, v in w.items() if v > 0}
            members = [k for k in fitted if k in keep]
        else:
            self.best_ = members[0]
            if not self.fallback_:
                self.notes_.append("history too short for cross-validation: plain combination, uncalibrated spread")
        self.members_ = {k: fitted[k] for k in members}
        self.weights_ = self._overall_weights(members, h)
        # calibration on the combined CV forecasts
        ratios: list[np.ndarray] = []
        zs: list[np.ndarray] = []
        W = self._weight_matrix(members, h)
        for c, fcs in cv_fc.items():
            if not all(k in fcs for k in members):
                continue
            mu = self._combine([fcs[k][0] for k in members], W)
            sd = self._spread([fcs[k][1] for k in members], W)
            err = raw[c:c + h] - mu
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(sd > 0, err / sd, np.nan)
            ratios.append(np.abs(z) / _Z95)
            zs.append(z)
        scale = 1.0
        phi = np.nan
        if self.calibrate and ratios:
            r = np.concatenate(ratios)
            r = r[np.isfinite(r)]
            if r.size >= 20:
                # split-conformal quantile: the ceil((n + 1) 0.95)-th smallest of n scores covers a new one
                # with probability >= 95 % when the scores are exchangeable
                rank = min(r.size, int(np.ceil((r.size + 1) * 0.95)))
                scale = float(np.clip(np.sort(r)[rank - 1], 0.5, 5.0))
        if zs:
            acs = [lag1_autocorr(z) for z in zs if np.isfinite(z).sum() >= 4]
            if acs:
                phi = float(np.mean(acs))
        if not np.isfinite(phi):
            best_model = self.members_.get(self.best_) or next(iter(self.members_.values()))
            phi = lag1_autocorr(best_model.residuals())
        self.k_ = scale
        self.phi_ = float(np.clip(phi if np.isfinite(phi) else 0.0, 0.0, 0.99))

    def _earned(self, mae: dict[str, float]) -> dict[str, float]:
        """The CV scores of the :attr:`benchmark` and of the candidates that beat it (all, without one)."""
        if self.benchmark not in mae:
            return mae
        ref = mae[self.benchmark]
        return {k: v for k, v in mae.items() if k == self.benchmark or _beats(v, ref)}

    def _block_weights(self, mae: dict[str, float]) -> dict[str, float]:
        """Weights of one horizon block from its CV MAE per candidate (trimmed, then by ``combine``).

        Only the :attr:`benchmark` and candidates with a lower CV MAE than it are considered.

        >>> AutoModel(trim=1e9)._block_weights({"naive": 2.0, "ses": 2.0, "theta": 1.0, "mstl": 3.0})
        {'naive': 0.2, 'theta': 0.8}
        """
        mae = self._earned(mae)
        best = _first_min(mae)
        if self.combine == "best":
            return {best: 1.0}
        limit = self.trim * mae[best] + 1e-12
        use = [k for k in mae if mae[k] <= limit]
        if self.combine == "weighted":
            inv = {k: 1.0 / max(mae[k], 1e-9) ** 2 for k in use}
            tot = sum(inv.values())
            return {k: v / tot for k, v in inv.items()}
        return {k: 1.0 / len(use) for k in use}

    def _weight_matrix(self, members: Sequence[str], h: int) -> np.ndarray:
        """Weight of each member at each horizon step, shape ``(len(members), h)`` [-]; columns sum to 1.

        Steps past the last cross-validated block take that block's weights; without cross-validation
        the members weigh the same.
        """
        W = np.zeros((len(members), h))
        if not self.block_weights_:
            W[:] = 1.0 / max(len(members), 1)
            return W
        last = len(self.block_weights_) - 1
        for i, (b0, b1, w) in enumerate(self.block_weights_):
            if b0 >= h:
                break
            stop = h if i == last else min(b1, h)
            for j, k in enumerate(members):
                W[j, b0:stop] = w.get(k, 0.0)
        return W

    def _overall_weights(self, members: Sequence[str], h: int) -> dict[str, float]:
        """Each member's weight averaged over the cross-validated horizon (for the report) [-]."""
        if not members:
            return {}
        W = self._weight_matrix(members, max(h, 1))
        return {k: float(W[j].mean()) for j, k in enumerate(members)}

    # -- forecasting -------------------------------------------------------------------------------
    def _combine(self, means: Sequence[np.ndarray], W: np.ndarray | None) -> np.ndarray:
        """Per-step combination of member means (clipped at 0) with weights ``W`` (members x steps).

        ``W=None`` (no cross-validation) or ``combine="median"`` takes the plain median (``"mean"``: the plain
        mean); otherwise the weighted sum is added member by member in a fixed order (no BLAS: the same bits
        whatever the CPU kernel).
        """
        arr = np.maximum(np.vstack(means), 0.0)
        if self.combine == "median" or (W is None and self.combine != "mean"):
            return np.asarray(np.median(arr, axis=0))
        if W is None:
            return np.asarray(arr.mean(axis=0))
        out = np.zeros(arr.shape[1])
        for j in range(arr.shape[0]):
            out = out + W[j, :arr.shape[1]] * arr[j]
        return out

    def _spread(self, sds: Sequence[np.ndarray], W: np.ndarray) -> np.ndarray:
        """Weighted root mean square of the members' standard deviations [GPUs] (before calibration)."""
        arr = np.vstack(sds)
        var = np.zeros(arr.shape[1])
        for j in range(arr.shape[0]):
            var = var + W[j, :arr.shape[1]] * arr[j] ** 2
        return np.asarray(np.sqrt(var))

    def _mean(self, h: int) -> np.ndarray:
        names = list(self.members_)
        W = self._weight_matrix(names, h) if self.block_weights_ else None
        return self._combine([self.members_[k]._mean(h) for k in names], W)

    def _sd(self, h: int) -> np.ndarray:
        names = list(self.members_)
        return np.asarray(self.k_ * self._spread([self.members_[k]._sd(h) for k in names],
                                                 self._weight_matrix(names, h)))

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        unit = ar1_noise(n_paths, h, self.phi_, 1.0, rng)
        return self._mean(h)[None, :] + unit * self._sd(h)[None, :]

    def residuals(self) -> np.ndarray:
        model = self.members_.get(self.best_) or next(iter(self.members_.values()))
        return model.residuals()


