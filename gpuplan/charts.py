"""Charts for the report and the notebooks (matplotlib, headless).

Each function takes tidy frames from the engines and returns a ``matplotlib.figure.Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as _Figure

Figure = Any


def _new(size: tuple[float, float]) -> tuple[Any, Any]:
    """A figure and axes without pyplot state (works headless and in notebooks alike)."""
    fig = _Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()

_POOL_COLORS = {
    "reserved": "#2f6690",
    "committed": "#8e6bb5",
    "spot": "#81c3d7",
    "on_demand": "#f4a259",
    "unmet": "#bc4b51",
}


def fan_chart(history: pd.DataFrame, forecast: pd.DataFrame, series_id: str, levels: Sequence[int] = (80, 95),
              history_hours: int | None = 24 * 21, forecast_hours: int | None = 24 * 28) -> Figure:
    """Forecast fan chart over the recent history of one series.

    Parameters
    ----------
    history
        History table (series_id, timestamp, gpus) [GPUs].
    forecast
        Forecast table (series_id, timestamp, mean, lo_<l>, hi_<l>) [GPUs].
    series_id
        Which series to draw.
    levels
        Interval levels to shade [%]; the widest is drawn lightest.
    history_hours, forecast_hours
        How much of each to show [h]; None shows everything.
    """
    h = history[history["series_id"] == series_id].sort_values("timestamp")
    f = forecast[forecast["series_id"] == series_id].sort_values("timestamp")
    if history_hours:
        h = h.tail(history_hours)
    if forecast_hours:
        f = f.head(forecast_hours)
    fig, ax = _new((10, 3.6))
    ax.plot(h["timestamp"], h["gpus"], color="#1f2933", lw=0.9, label="history")
    for i, lvl in enumerate(sorted(levels, reverse=True)):
        lo, hi = f"lo_{lvl}", f"hi_{lvl}"
        if lo in f and hi in f:
            ax.fill_between(f["timestamp"], f[lo], f[hi], color="#3a7ca5", alpha=0.18 + 0.17 * i,
                            lw=0, label=f"{lvl} % interval")
    ax.plot(f["timestamp"], f["mean"], color="#2f6690", lw=1.2, label="forecast mean")
    ax.set_ylabel("GPUs busy")
    ax.set_title(f"Demand forecast: {series_id}")
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    ax.grid(alpha=0.3)
    ax.tick_params(axis="x", labelrotation=25)
    return fig


def cost_distribution(costs: pd.DataFrame, value: str = "total_cost_usd", by: str = "plan") -> Figure:
    """Distribution of simulated cost per plan (one box + points per replication) [USD]."""
    fig, ax = _new((8, 3.4))
    groups = list(dict.fromkeys(costs[by]))
    data = [costs.loc[costs[by] == g, value].to_numpy() / 1e6 for g in groups]
    ax.boxplot(data, orientation="horizontal", tick_labels=groups, widths=0.5)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(d, i + rng.uniform(-0.12, 0.12, size=len(d)), s=8, alpha=0.5, color="#3a7ca5")
    ax.set_xlabel("simulated cost over the horizon [USD]")
    ax.xaxis.set_major_formatter(lambda v, _p: f"${v:,.2f}M")
    ax.set_title("Cost risk by plan (Monte Carlo replications)")
    ax.grid(alpha=0.3, axis="x")
    return fig


def stacked_bars(df: pd.DataFrame, index: str, columns: str, values: str, title: str, ylabel: str) -> Figure:
    """Stacked bars of ``values`` per ``index`` split by ``columns`` (e.g. cost by plan and pool)."""
    wide = df.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", fill_value=0.0, sort=False)
    fig, ax = _new((8, 3.6))
    bottom = np.zeros(len(wide))
    for col in wide.columns:
        vals = wide[col].to_numpy()
        ax.bar([str(i) for i in wide.index], vals, bottom=bottom, label=str(col),
               color=_POOL_COLORS.get(str(col)))
        bottom += vals
    ax.set_ylabel(ylabel)
    if "USD" in ylabel:
        from optimizer.plots import USD

        ax.yaxis.set_major_formatter(USD)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=min(len(wide.columns), 5))
    ax.grid(alpha=0.3, axis="y")
    ax.tick_params(axis="x", labelrotation=20)
    return fig


def run_heatmap(schedule: pd.DataFrame, value: str = "gpus", title: str = "When training runs",
                vmax: float | None = None, days: pd.DatetimeIndex | None = None) -> Figure:
    """Hour-of-day x day heat map of GPUs scheduled (schedule table: job_id, timestamp, gpus) [GPUs].

    Parameters
    ----------
    vmax
        Top of the colour scale [GPUs]; give the same value to compare two schedules.
    days
        Days to show (UTC midnights); give the same days to compare two schedules.
    """
    s = schedule.groupby("timestamp")[value].sum()
    idx = pd.DatetimeIndex(s.index).tz_convert("UTC")
    frame = pd.DataFrame({"v": s.to_numpy(), "day": idx.normalize(), "hour": idx.hour})
    grid = frame.pivot_table(index="hour", columns="day", values="v", aggfunc="sum", fill_value=0.0)
    grid = grid.reindex(range(24), fill_value=0.0)
    if days is not None:
        grid = grid.reindex(columns=days, fill_value=0.0)
    fig, ax = _new((9, 3.6))
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="magma_r", origin="lower", vmin=0.0, vmax=vmax)
    ax.set_ylabel("hour of day (UTC)")
    ax.set_xlabel("day")
    step = max(1, len(grid.columns) // 10)
    ax.set_xticks(range(0, len(grid.columns), step))
    ax.set_xticklabels([pd.Timestamp(d).strftime("%m-%d") for d in grid.columns[::step]], fontsize=7)
    fig.colorbar(im, ax=ax, label="GPUs running")
    ax.set_title(title)
    return fig


def signal_overlay_heatmap(signal: pd.Series, title: str, unit: str) -> Figure:
    """Hour-of-day x day heat map of a signal (carbon or price) to read beside :func:`run_heatmap`."""
    idx = pd.DatetimeIndex(signal.index)
    frame = pd.DataFrame({"v": signal.to_numpy(), "day": idx.normalize(), "hour": idx.hour})
    grid = frame.pivot_table(index="hour", columns="day", values="v", aggfunc="mean")
    fig, ax = _new((9, 3.0))
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="RdYlGn_r", origin="lower")
    ax.set_ylabel("hour of day (UTC)")
    ax.set_xticks([])
    fig.colorbar(im, ax=ax, label=unit)
    ax.set_title(title)
    return fig
