"""Probabilistic hourly GPU demand forecasts with sample paths (floor 2 engine; imports only ``scenarios``).

Two layers, as in statsforecast:

- per-series models with scikit-learn conventions (``fit(y) -> self``, ``predict(h, levels)``,
  ``simulate(h, n_paths, rng)``): :class:`Naive`, :class:`SeasonalNaive`, :class:`WindowMedian`,
  :class:`ETS`, :class:`SARIMAX`, :class:`MSTLModel`, :class:`Theta`, :class:`DailyLevel` and
  :class:`AutoModel`; :func:`make_model` builds one by name;
- the orchestrator :class:`Forecaster` over long frames (``series_id, timestamp, gpus``) with
  ``forecast``, ``simulate``, ``cross_validation`` and ``run``, parallel through a ``mapper``.

Around them: outage detection (:func:`detect_outages`), hierarchy reconciliation (:func:`reconcile`),
planned changes (:class:`PlannedChanges`), metrics (:mod:`forecasting.metrics`) and backtests
(:func:`backtest`).  See ``docs/forecasting.md``.
"""

from forecasting.arima import SARIMAX
from forecasting.auto import AutoModel
from forecasting.backtest import backtest, evaluate
from forecasting.base import ForecastModel, ModelError, Prediction
from forecasting.checks import check_history
from forecasting.core import Forecaster, ForecastResult, cross_validation, forecast, simulate
from forecasting.ets import ETS
from forecasting.hierarchy import build_hierarchy, reconcile
from forecasting.longrange import DailyLevel, Spliced
from forecasting.mstl import MSTLModel
from forecasting.naive import Naive, SeasonalNaive, WindowMedian
from forecasting.outages import detect_outages
from forecasting.planned import PlannedChanges, apply_planned
from forecasting.registry import make_model, model_names
from forecasting.theta import Theta

__all__ = [
    "ETS",
    "SARIMAX",
    "AutoModel",
    "DailyLevel",
    "ForecastModel",
    "ForecastResult",
    "Forecaster",
    "MSTLModel",
    "ModelError",
    "Naive",
    "PlannedChanges",
    "Prediction",
    "SeasonalNaive",
    "Spliced",
    "Theta",
    "WindowMedian",
    "apply_planned",
    "backtest",
    "build_hierarchy",
    "check_history",
    "cross_validation",
    "detect_outages",
    "evaluate",
    "forecast",
    "make_model",
    "model_names",
    "reconcile",
    "simulate",
]
