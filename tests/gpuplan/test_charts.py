"""Charts draw what they are given, without pyplot state."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gpuplan import charts
from gpuplan.report import Report, figure_to_data_uri


def _schedule() -> pd.DataFrame:
    t = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
    return pd.DataFrame({"job_id": "j", "timestamp": t, "gpus": np.arange(48, dtype=float)})


def test_heatmap_puts_each_hour_in_its_cell_and_honours_scale_and_days() -> None:
    days = pd.date_range("2025-12-31", periods=4, freq="D", tz="UTC")
    fig = charts.run_heatmap(_schedule(), vmax=100.0, days=days)
    im = fig.axes[0].images[0]
    grid = np.asarray(im.get_array())
    assert grid.shape == (24, 4)
    assert grid[5, 1] == 5.0 and grid[5, 2] == 29.0  # 2026-01-01 05:00 and 2026-01-02 05:00
    assert grid[:, 0].sum() == 0 and grid[:, 3].sum() == 0
    assert im.get_clim() == (0.0, 100.0)


def test_charts_do_not_use_pyplot() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    charts.run_heatmap(_schedule())
    assert plt.get_fignums() == before


def test_fan_chart_draws_history_mean_and_bands() -> None:
    t = pd.date_range("2026-01-01", periods=10, freq="h", tz="UTC")
    hist = pd.DataFrame({"series_id": "a", "timestamp": t, "gpus": 5.0})
    f = pd.DataFrame({"series_id": "a", "timestamp": t + pd.Timedelta(hours=10), "mean": 6.0, "lo_80": 4.0,
                      "hi_80": 8.0, "lo_95": 3.0, "hi_95": 9.0})
    ax = charts.fan_chart(hist, f, "a").axes[0]
    assert [ln.get_label() for ln in ax.lines] == ["history", "forecast mean"]
    assert len(ax.collections) == 2


def test_report_embeds_figures_and_escapes_text() -> None:
    rep = Report("t <x>")
    sec = rep.section("S")
    sec.text("a < b").figure(charts.run_heatmap(_schedule()), "cap").assume("rests on <this>")
    html = rep.render()
    assert "a &lt; b" in html and "rests on &lt;this&gt;" in html and "t &lt;x&gt;" in html
    assert html.count("data:image/png;base64,") == 1
    assert figure_to_data_uri(charts.run_heatmap(_schedule())).startswith("data:image/png;base64,")
