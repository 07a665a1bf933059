"""Figures draw the tables they are given."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.plots import plot_cost_curve, plot_frontier, plot_pareto


def test_cost_curve_figure_marks_the_recommendation() -> None:
    curve = pd.DataFrame({"commitment_gpu_equivalents": [0.0, 10.0, 20.0], "expected_cost_usd": [3e5, 2e5, 2.5e5],
                          "p05_usd": [2.5e5, 1.8e5, 2.2e5], "p95_usd": [3.5e5, 2.4e5, 2.9e5],
                          "is_recommendation": [False, True, False]})
    fig = plot_cost_curve(curve, break_even_gpus=15.0)
    ax = fig.axes[0]
    offsets = ax.collections[-1].get_offsets()
    assert np.allclose(np.asarray(offsets), [[10.0, 2e5]])  # absolute USD, shown as money ticks
    assert ax.get_xlabel().startswith("reserved + committed")


def test_frontier_and_pareto_figures_plot_every_point() -> None:
    fr = pd.DataFrame({"risk_weight": [0.0, 1.0], "alpha": [0.9, 0.9], "expected_cost_usd": [1e5, 1.1e5],
                       "cvar_usd": [2e5, 1.5e5]})
    assert np.asarray(plot_frontier(fr).axes[0].lines[0].get_xdata()).size == 2
    pa = pd.DataFrame({"carbon_price_usd_per_tonne": [0.0, 100.0], "money_usd": [10.0, 11.0],
                       "kg_co2e": [500.0, 300.0]})
    assert np.asarray(plot_pareto(pa).axes[0].lines[0].get_ydata()).tolist() == [0.5, 0.3]
    fig = plot_pareto(pa.assign(mean_delay_hours=[0.0, 6.5]))
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["0 $/t, 0.0 h", "100 $/t, 6.5 h"]
    assert len(fig.axes) == 2, "a colour bar for the delay"


def test_frontier_marks_the_recommendation_and_axes_read_in_dollars() -> None:
    fr = pd.DataFrame({"risk_weight": [0.0, 1.0], "alpha": [0.95, 0.95], "expected_cost_usd": [1.0e6, 1.1e6],
                       "cvar_usd": [2.0e6, 1.5e6]})
    fig = plot_frontier(fr, recommended=(2.0e6, 1.0e6))
    ax = fig.axes[0]
    assert np.allclose(np.asarray(ax.collections[-1].get_offsets()), [[2.0e6, 1.0e6]])
    assert "recommended" in [t.get_text() for t in ax.get_legend().get_texts()]
    fig.canvas.draw()
    assert all(t.get_text().startswith("$") for t in ax.get_yticklabels() if t.get_text())


def test_pareto_axes_show_absolute_dollars_and_tonnes() -> None:
    pa = pd.DataFrame({"carbon_price_usd_per_tonne": [0.0, 100.0], "money_usd": [3278.807, 3278.846],
                       "kg_co2e": [216.39, 215.38]})
    fig = plot_pareto(pa)
    ax = fig.axes[0]
    fig.canvas.draw()
    xs = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    ys = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert xs and all(x.startswith("$3,278.") for x in xs), xs  # whole dollar amounts, no offset
    assert ys and all(y.endswith(" t") and y.startswith("0.21") for y in ys), ys
    assert len(set(xs)) == len(xs) and len(set(ys)) == len(ys), "ticks close together still read differently"
    assert ax.xaxis.get_offset_text().get_text() == "" and ax.yaxis.get_offset_text().get_text() == ""
