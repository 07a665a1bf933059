"""The per-series model contract (scikit-learn conventions) and what every model shares.

A model is built with hyper-parameters only, learns from one hourly series with :meth:`ForecastModel.fit`
(which returns ``self``; learned state ends in ``_``), then answers :meth:`ForecastModel.predict` (mean and
central interval bounds) and :meth:`ForecastModel.simulate` (temporally coherent sample paths).

Demand is non-negative: means, bounds and paths are clipped at 0 *after* the model's own (Gaussian)
predictive distribution is formed.  Quantiles commute with that monotone clipping, so ``lo``/``hi`` are
exactly the quantiles of the clipped distribution; ``mean`` is the model's point forecast clipped at 0.

Examples
--------
>>> import numpy as np
>>> from forecasting.naive import SeasonalNaive
>>> y = np.tile(np.arange(24.0), 3)
>>> SeasonalNaive(24).fit(y).predict(2, levels=(80,)).mean
array([0., 1.])
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
from scipy import stats

from forecasting.checks import check_levels
from forecasting.gaps import fill_gaps

T = TypeVar("T")


_FAILURES = (ValueError, np.linalg.LinAlgError, IndexError, ZeroDivisionError, FloatingPointError, RuntimeError)


class ModelError(RuntimeError):
    """A model could not be fitted or used on this series (the orchestrator falls back and records it)."""


@dataclass(frozen=True)
class Prediction:
    """A probabilistic forecast of one series.

    Attributes
    ----------
    mean
        Point forecast per horizon hour [GPUs], clipped at 0; shape ``(h,)``.
    lower, upper
        Bounds of the central ``level`` % interval per level [GPUs], each shape ``(h,)``.
    sd
        Standard deviation of the unclipped predictive distribution [GPUs], shape ``(h,)``.
    """

    mean: np.ndarray
    lower: dict[float, np.ndarray] = field(default_factory=dict)
    upper: dict[float, np.ndarray] = field(default_factory=dict)
    sd: np.ndarray | None = None


def level_label(level: float) -> str:
    """Column suffix of a level: ``80 -> '80'``, ``97.5 -> '97.5'``."""
    return f"{level:g}"


def gaussian_bounds(
    mean: np.ndarray, sd: np.ndarray, levels: Sequence[float]
) -> tuple[dict[float, np.ndarray], dict[float, np.ndarray]]:
    """Central Gaussian interval bounds per level, clipped at 0 [GPUs]."""
    lower: dict[float, np.ndarray] = {}
    upper: dict[float, np.ndarray] = {}
    for lv in check_levels(levels):
        z = stats.norm.ppf(0.5 + lv / 200.0)
        lower[lv] = np.maximum(mean - z * sd, 0.0)
        upper[lv] = np.maximum(mean + z * sd, 0.0)
    return lower, upper


def ar1_noise(n_paths: int, h: int, phi: float, sd: float, rng: np.random.Generator,
              start: np.ndarray | None = None) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation ``sd``; shape ``(n_paths, h)``.

    With ``start`` (shape ``(n_paths,)``) the process continues from that value instead of from its
    stationary distribution.
    """
    from scipy.signal import lfilter

    phi = float(np.clip(phi, 0.0, 0.999))
    innov = rng.standard_normal((n_paths, h)) * sd * np.sqrt(1.0 - phi**2)
    if start is None:
        first = rng.standard_normal(n_paths) * sd
    else:
        first = phi * np.asarray(start, dtype=float) + innov[:, 0]
    innov[:, 0] = first
    out: np.ndarray = lfilter([1.0], [1.0, -phi], innov, axis=1)
    return out


def lag1_autocorr(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of ``x`` ignoring NaN; 0 when undefined."""
    x = np.asarray(x, dtype=float)
    a, b = x[:-1], x[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return 0.0
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 0.0


@contextmanager
def captured_warnings(sink: list[str]) -> Iterator[None]:
    """Run a block with library warnings captured into ``sink`` (as text) instead of raised or shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        text = describe_warning(w.category, str(w.message))
        if text not in sink:
            sink.append(text)


#: Library warnings in words a planner can read (the warning's class name in brackets).
_WARNING_WORDS = {
    "ConvergenceWarning": "the fit of the model's parameters stopped before it converged; the fitted values "
                          "were used as they were",
    "HessianInversionWarning": "the uncertainty of the fitted parameters could not be computed",
    "ValueWarning": "the library could not tell the data's time step and assumed hourly",
    "EstimationWarning": "the model's starting values had to be estimated roughly",
    "RuntimeWarning": "a numerical overflow or division by zero occurred while fitting",
}


def describe_warning(category: type[Warning], message: str) -> str:
    """One short sentence for a library warning, e.g. ``ConvergenceWarning`` -> "the fit of the model's
    parameters stopped before it converged ... (statsmodels ConvergenceWarning)"; unknown ones keep their
    first line, cut to 120 characters."""
    name = category.__name__
    words = _WARNING_WORDS.get(name)
    if words is not None:
        lib = category.__module__.split(".")[0]
        return f"{words} ({lib} {name})" if lib not in ("builtins", "") else f"{words} ({name})"
    first = (message.strip().splitlines() or [""])[0]
    return f"{name}: {first[:117] + '...' if len(first) > 120 else first}"


def guarded(sink: list[str], fn: Callable[[], T]) -> T:
    """Call ``fn`` with warnings captured into ``sink`` and numpy errors silenced."""
    with captured_warnings(sink), np.errstate(all="ignore"):
        return fn()


class ForecastModel(ABC):
    """Base class of per-series hourly demand models.

    Subclasses implement ``_fit(y)``, ``_mean(h)``, ``_sd(h)`` and ``_simulate(h, n_paths, rng)`` on an
    hourly float array without gaps (missing hours are filled seasonally by :meth:`fit` first, unless the
    model sets ``handles_missing``).
    """

    name: ClassVar[str] = "model"
    handles_missing: ClassVar[bool] = False

    #: Learned state (set by ``fit``).
    y_: np.ndarray
    y_raw_: np.ndarray
    n_obs_: int
    n_filled_: int
    notes_: list[str]

    def min_history(self) -> int:
        """Hours of history the model needs [h]."""
        return 2

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as passed to ``__init__`` (scikit-learn convention)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @property
    def label(self) -> str:
        """Short name written in the ``model`` column."""
        return self.name

    # -- public API --------------------------------------------------------------------------------
    def fit(self, y: np.ndarray | Sequence[float]) -> Self:
        """Learn from an hourly series [GPUs]; NaN marks a missing hour.

        Raises
        ------
        ModelError
            When the series is shorter than :meth:`min_history` or the fit fails.
        """
        arr = np.asarray(y, dtype=float).ravel()
        if arr.size and np.isinf(arr).any():
            raise ModelError("series contains infinite values")
        n_valid = int(np.isfinite(arr).sum())
        need = self.min_history()
        if arr.size < need or n_valid < max(2, need // 2):
            raise ModelError(
                f"{self.name} needs at least {need} hours of history, got {arr.size} ({n_valid} observed)"
            )
        self.notes_ = []
        self.n_obs_ = int(arr.size)
        if self.handles_missing:
            filled = arr
            self.n_filled_ = 0
        else:
            filled = fill_gaps(arr)
            self.n_filled_ = int(np.isnan(arr).sum())
        self.y_ = filled
        self.y_raw_ = arr
        try:
            self._fit(filled)
        except ModelError:
            raise
        except _FAILURES as exc:
            raise ModelError(f"{self.name} fit failed: {exc}") from exc
        return self

    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> Prediction:
        """Forecast ``h`` hours ahead: mean and central interval bounds per level [GPUs]."""
        self._check_fitted(h)
        try:
            mean = np.asarray(self._mean(h), dtype=float)
            sd = np.asarray(self._sd(h), dtype=float)
        except _FAILURES as exc:
            raise ModelError(f"{self.name} forecast failed: {exc}") from exc
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
            raise ModelError(f"{self.name} forecast is not finite")
        lower, upper = self._bounds(h, mean, sd, levels)
        return Prediction(mean=np.maximum(mean, 0.0), lower=lower, upper=upper, sd=sd)

    def simulate(self, h: int, n_paths: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Sample paths of the next ``h`` hours, shape ``(n_paths, h)`` [GPUs], clipped at 0.

        Each row is one temporally coherent future (the same seed gives the same paths).
        """
        self._check_fitted(h)
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        if n_paths < 1:
            return np.zeros((0, h))
        try:
            paths = np.asarray(self._simulate(h, int(n_paths), gen), dtype=float)
        except _FAILURES as exc:
            raise ModelError(f"{self.name} simulation failed: {exc}") from exc
        return np.maximum(np.nan_to_num(paths, nan=0.0), 0.0)

    # -- to implement ------------------------------------------------------------------------------
    @abstractmethod
    def _fit(self, y: np.ndarray) -> None: ...

    @abstractmethod
    def _mean(self, h: int) -> np.ndarray: ...

    @abstractmethod
    def _sd(self, h: int) -> np.ndarray: ...

    @abstractmethod
    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray: ...

    def _bounds(self, h: int, mean: np.ndarray, sd: np.ndarray,
                levels: Sequence[float]) -> tuple[dict[float, np.ndarray], dict[float, np.ndarray]]:
        return gaussian_bounds(mean, sd, levels)

    def residuals(self) -> np.ndarray:
        """In-sample one-step errors [GPUs] (NaN where undefined), aligned with the history."""
        return np.full(self.n_obs_, np.nan)

    # -- helpers -----------------------------------------------------------------------------------
    def _check_fitted(self, h: int) -> None:
        if not hasattr(self, "y_"):
            raise ModelError(f"{type(self).__name__} is not fitted; call fit(y) first")
        if int(h) < 1:
            raise ValueError(f"horizon must be >= 1 hour, got {h}")
