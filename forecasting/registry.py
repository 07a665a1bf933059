"""Model names -> configured model instances (what ``--model`` and ``ForecastSettings.model`` accept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forecasting.base import ForecastModel


def _factories() -> dict[str, tuple[Callable[..., ForecastModel], dict[str, Any], str]]:
    from forecasting.arima import SARIMAX
    from forecasting.auto import AutoModel
    from forecasting.autoreg import AutoReg
    from forecasting.ets import ETS
    from forecasting.longrange import DailyLevel
    from forecasting.mstl import MSTLModel
    from forecasting.naive import Naive, SeasonalNaive, WindowMedian
    from forecasting.theta import Theta

    return {
        "auto": (AutoModel, {}, "skill-weighted mean of cheap models chosen and calibrated by rolling-origin CV"),
        "naive": (Naive, {}, "last value (random walk)"),
        "ar": (AutoReg, {}, "OLS autoregression on levels, lags 1, 2, 24, 168 (mean-reverting)"),
        "naive24": (SeasonalNaive, {"season_length": 24}, "same hour yesterday"),
        "naive168": (SeasonalNaive, {"season_length": 168}, "same hour last week"),
        "median24": (WindowMedian, {"window": 24}, "median of the last day, flat"),
        "median168": (WindowMedian, {"window": 168}, "median of the last week, flat"),
        "ses": (ETS, {"trend": None, "seasonal": None}, "simple exponential smoothing, ETS(A,N,N)"),
        "ets": (ETS, {"trend": "add", "damped_trend": True, "seasonal": "add", "seasonal_periods": 24},
                "ETS(A,Ad,A) with a daily season"),
        "ets_damped": (ETS, {"trend": "add", "damped_trend": True, "seasonal": None},
                       "ETS(A,Ad,N), damped trend, no season"),
        "sarimax": (SARIMAX, {}, "AR(1) + constant with daily and weekly Fourier terms"),
        "mstl": (MSTLModel, {"trend_model": "ets"}, "MSTL(24, 168) + ETS(A,Ad,N) on the adjusted series"),
        "mstl_arima": (MSTLModel, {"trend_model": "arima"}, "MSTL(24, 168) + AR(1) on the adjusted series"),
        "theta": (Theta, {"period": 24}, "Theta method, daily deseasonalisation"),
        "daily_level": (DailyLevel, {}, "mean-reverting daily level (AR(1), weekday effect) x hour-of-day shape + AR(1) hours"),
    }


def model_names() -> list[str]:
    """Every accepted model name."""
    return list(_factories())


def make_model(name: str, **overrides: Any) -> ForecastModel:
    """A fresh, unfitted model for ``name`` (see :func:`model_names`), with hyper-parameter overrides.

    Examples
    --------
    >>> make_model("naive24")
    SeasonalNaive(season_length=24)
    """
    table = _factories()
    if name not in table:
        raise ValueError(f"unknown model '{name}'; choose one of {', '.join(table)}")
    cls, kwargs, _ = table[name]
    return cls(**{**kwargs, **overrides})
