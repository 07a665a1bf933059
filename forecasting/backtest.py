"""Backtests: score cross-validated forecasts and rank models in a leaderboard.

:func:`evaluate` turns the output of :meth:`forecasting.core.Forecaster.cross_validation` into one row of
metrics per series and cutoff (MASE and RMSSE are scaled by that series' history up to the cutoff).
:func:`backtest` runs several models through the same windows and averages the metrics per model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.checks import check_history
from forecasting.core import Forecaster
from forecasting.metrics import coverage, mase, pinball, rmsse, smape
from scenarios.parallel import Mapper

#: Models ranked by ``gpuplan forecast --backtest`` by default (cheap ones; add ets, sarimax by name).
LEADERBOARD_MODELS: tuple[str, ...] = ("naive", "naive24", "naive168", "ses", "theta", "mstl", "auto")


def evaluate(cv: pd.DataFrame, history: pd.DataFrame, *, m: int = 24) -> pd.DataFrame:
    """Metrics per ``series_id, cutoff, model`` of a cross-validation frame.

    Parameters
    ----------
    cv
        Output of ``cross_validation`` (``series_id, timestamp, cutoff, model, mean, lo_*, hi_*, gpus``,
        optionally ``crps``).
    history
        The history the windows were cut from (scales MASE and RMSSE).
    m
        Season of the naive scale [h].

    Returns
    -------
    DataFrame
        ``series_id, cutoff, model, mase, rmsse, smape, crps, pinball_<level>, cov_<level>``; ``crps`` is
        from paths when the frame has it (mean over hours [GPUs]), else NaN.
    """
    hist, _ = check_history(history)
    by_series = {str(sid): g for sid, g in hist.groupby("series_id")}
    levels = sorted(c[3:] for c in cv.columns if c.startswith("lo_"))
    rows = []
    for (sid, cut, model), g in cv.groupby(["series_id", "cutoff", "model"], sort=True):
        h = by_series[str(sid)]
        train = h.loc[h["timestamp"] <= cut, "gpus"].to_numpy(dtype=float)
        y = g["gpus"].to_numpy(dtype=float)
        f = g["mean"].to_numpy(dtype=float)
        row = {"series_id": sid, "cutoff": cut, "model": model, "mase": mase(y, f, train, m),
               "rmsse": rmsse(y, f, train, m), "smape": smape(y, f),
               "crps": float(np.nanmean(g["crps"])) if "crps" in g and g["crps"].notna().any() else np.nan}
        for lv in levels:
            lo, hi = g[f"lo_{lv}"].to_numpy(dtype=float), g[f"hi_{lv}"].to_numpy(dtype=float)
            tau = (1 - float(lv) / 100) / 2
            row[f"pinball_{lv}"] = 0.5 * (pinball(y, lo, tau) + pinball(y, hi, 1 - tau))
            row[f"cov_{lv}"] = coverage(y, lo, hi)
        rows.append(row)
    return pd.DataFrame(rows)


def backtest(history: pd.DataFrame, h: int, models: Sequence[str] = LEADERBOARD_MODELS, *, n_windows: int = 3,
             step: int | None = None, levels: Sequence[float] = (80, 95), n_paths: int = 100, seed: int = 0,
             mapper: Mapper | None = None, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest of several models on the same windows.

    Returns
    -------
    (leaderboard, scores)
        ``leaderboard``: one row per model, sorted by mean MASE (``mase, rmsse, smape, crps,
        pinball_<level>, cov_<level>, windows, seconds_per_fit``); ``scores``: :func:`evaluate` rows.
    """
    scores = []
    seconds = {}
    for name in dict.fromkeys(models):
        cv = Forecaster(name, levels=levels, mapper=mapper, progress=progress).cross_validation(
            history, h, n_windows=n_windows, step=step, n_paths=n_paths, seed=seed)
        seconds[name] = float(cv.groupby(["series_id", "cutoff"])["seconds"].first().mean())
        ev = evaluate(cv, history)
        ev["model"] = name
        scores.append(ev)
    allscores = pd.concat(scores, ignore_index=True)
    metric_cols = [c for c in allscores.columns if c not in ("series_id", "cutoff", "model")]
    board = allscores.groupby("model", sort=False)[metric_cols].mean()
    board["windows"] = allscores.groupby("model", sort=False).size()
    board["seconds_per_fit"] = pd.Series(seconds)
    board = board.sort_values("mase").reset_index()
    return board, allscores
