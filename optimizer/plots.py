"""Matplotlib figures of the optimizer's tables (no pyplot state: each returns its own Figure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator


def usd_label(x: float, _pos: int | None = None) -> str:
    """Tick label for an amount in USD: ``$1.25M``, ``$350k``, ``$3,278.81``.

    Examples
    --------
    >>> usd_label(1_250_000), usd_label(350_000), usd_label(3278.807)
    ('$1.25M', '$350k', '$3,278.81')
    """
    a = abs(x)
    sign = "-" if x < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.3g}B"
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.3g}M"
    if a >= 1e4:
        return f"{sign}${a / 1e3:,.0f}k"
    if float(a).is_integer():
        return f"{sign}${a:,.0f}"
    return f"{sign}${a:,.2f}"


USD = FuncFormatter(usd_label)


def _distinct(axis: Axis, template: str, start: int) -> FuncFormatter:
    """Tick labels ``template.format(value, decimals)`` with the fewest decimals (from ``start``) that keep
    every tick of ``axis`` distinct: absolute values, no offset, however close the ticks are."""

    def fmt(v: float, _pos: int | None = None) -> str:
        ticks = [t for t in axis.get_majorticklocs() if np.isfinite(t)]
        d = start
        while d < 8 and len({template.format(t, d) for t in ticks}) < len(ticks):
            d += 1
        return template.format(v, d)

    return FuncFormatter(fmt)


def _axes(ax: Axes | None, size: tuple[float, float] = (7.0, 4.0)) -> tuple[Figure, Axes]:
    if ax is not None:
        fig = ax.get_figure()
        assert isinstance(fig, Figure)
        return fig, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def plot_cost_curve(curve: pd.DataFrame, ax: Axes | None = None, break_even_gpus: float | None = None) -> Figure:
    """Expected cost against the amount committed, with the 5-95 % band over paths and the recommendation.

    Parameters
    ----------
    curve
        Output of :func:`optimizer.analytics.cost_curve`.
    ax
        Axes to draw on; a new figure when None.
    break_even_gpus
        Optional commitment level to mark as break-even [GPU-equivalents].

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax)
    x = curve["commitment_gpu_equivalents"]
    scale = 1.0
    ax.fill_between(x, curve["p05_usd"] / scale, curve["p95_usd"] / scale, alpha=0.25, label="5-95 % of paths")
    ax.plot(x, curve["expected_cost_usd"] / scale, lw=2, label="expected cost")
    rec = curve[curve["is_recommendation"]]
    if not rec.empty:
        ax.scatter(rec["commitment_gpu_equivalents"], rec["expected_cost_usd"] / scale, s=60, zorder=3,
                   color="C3", label="recommendation")
    if break_even_gpus is not None:
        ax.axvline(break_even_gpus, ls="--", color="0.4", label="break-even")
    ax.set_xlabel("reserved + committed [GPU-equivalents]")
    ax.set_ylabel("expected cost over the horizon [USD]")
    ax.yaxis.set_major_formatter(USD)
    ax.set_title("Cost against commitment")
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_frontier(frontier: pd.DataFrame, ax: Axes | None = None,
                  recommended: tuple[float, float] | None = None) -> Figure:
    """Efficient frontier: expected cost against CVaR of cost, one point per CVaR weight.

    Parameters
    ----------
    frontier
        Output of :func:`optimizer.recommend.efficient_frontier`.
    ax
        Axes to draw on; a new figure when None.
    recommended
        ``(cvar_usd, expected_cost_usd)`` of the recommendation, marked with a star [USD].
    """
    fig, ax = _axes(ax)
    f = frontier.dropna(subset=["expected_cost_usd"])
    ax.plot(f["cvar_usd"], f["expected_cost_usd"], marker="o", label="optimal plan at CVaR weight λ")
    for _, r in f.iterrows():
        ax.annotate(f"λ={r['risk_weight']:g}", (r["cvar_usd"], r["expected_cost_usd"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=7)
    if recommended is not None:
        ax.scatter([recommended[0]], [recommended[1]], marker="*", s=220, color="C3", zorder=4,
                   label="recommended")
    alpha = float(f["alpha"].iloc[0]) if "alpha" in f and len(f) else 0.95
    ax.set_xlabel(f"CVaR {alpha:.0%}: mean of the worst {1 - alpha:.0%} of costs [USD]")
    ax.set_ylabel("expected cost [USD]")
    ax.xaxis.set_major_formatter(USD)
    ax.yaxis.set_major_formatter(USD)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_title("Efficient frontier")
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_pareto(pareto: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Carbon against money paid as the carbon price varies, points coloured by mean delay.

    Parameters
    ----------
    pareto
        Output of :func:`optimizer.schedule.schedule_pareto` (``money_usd``, ``kg_co2e``,
        ``carbon_price_usd_per_tonne`` and, when present, ``mean_delay_hours``).
    ax
        Axes to draw on; a new figure when None.
    """
    fig, ax = _axes(ax)
    x, y = pareto["money_usd"], pareto["kg_co2e"] / 1e3
    ax.plot(x, y, color="0.6", lw=1, zorder=1)
    has_delay = "mean_delay_hours" in pareto
    if has_delay:
        pts = ax.scatter(x, y, c=pareto["mean_delay_hours"], cmap="viridis", s=45, zorder=2)
    else:
        ax.scatter(x, y, s=45, zorder=2)
    for _, r in pareto.iterrows():
        label = f"{r['carbon_price_usd_per_tonne']:g} $/t"
        if has_delay:
            label += f", {r['mean_delay_hours']:.1f} h"
        ax.annotate(label, (r["money_usd"], r["kg_co2e"] / 1e3), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)
    if has_delay:
        fig.colorbar(pts, ax=ax, label="mean delay [h]")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(_distinct(ax.xaxis, "${0:,.{1}f}", 0))
    ax.yaxis.set_major_formatter(_distinct(ax.yaxis, "{0:,.{1}f} t", 1))
    ax.set_xlabel("money paid: energy + on-demand beyond reservations [USD, absolute]")
    ax.set_ylabel("emissions [tonnes CO2e, absolute]")
    ax.set_title("Carbon against cost and delay (labels: carbon price, mean delay)")
    return fig
