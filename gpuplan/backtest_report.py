"""The backtest's report section, chart and CSV tables (see :mod:`gpuplan.backtest`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpuplan.backtest import POLICIES, BacktestResult
from gpuplan.charts import Figure, _new
from gpuplan.report import Report, Section
from scenarios.io import atomic_dir, atomic_write, write_frame

#: Line colours of the chart, by policy.
_COLORS = {
    "gpuplan": "#2f6690", "point-forecast": "#81c3d7", "trailing-7d": "#f4a259", "trailing-30d": "#bc4b51",
    "trailing-60d": "#8c2f39", "coverage-80": "#7a7a7a", "all-on-demand": "#c9c9c9",
    "gpuplan-on-realized": "#3a7ca5",
}


def summary_table(res: BacktestResult) -> pd.DataFrame:
    """The policy table printed by the CLI: regret and savings rate over the origins, and gpuplan's record.

    Columns: ``policy``, ``mean regret %``, ``worst regret %``, ``mean savings rate %`` (vs buying nothing),
    ``origins where gpuplan is cheaper (share)``, ``mean difference, gpuplan minus policy (USD)``.
    """
    s = res.summary()
    return pd.DataFrame({
        "policy": s["policy"],
        "mean regret %": s["mean_regret_pct"].round(2),
        "worst regret %": s["worst_regret_pct"].round(2),
        "mean savings rate %": s["mean_savings_rate_pct"].round(2),
        "origins where gpuplan is cheaper (share)": s["gpuplan_beats_share"].round(2),
        "mean difference, gpuplan minus policy (USD)": s["gpuplan_minus_policy_usd"].round(0),
    })


def regret_chart(res: BacktestResult) -> Figure:
    """Regret [%] of each decision policy per origin (perfect hindsight = 0)."""
    fig, ax = _new((9, 3.8))
    t = res.regret_table()
    x = np.arange(len(t))
    for name in POLICIES:
        if name == "perfect-hindsight":
            continue
        style = "--" if name == "gpuplan-on-realized" else "-"
        lw = 2.4 if name == "gpuplan" else 1.2
        ax.plot(x, t[name], style, marker="o", ms=4, lw=lw, color=_COLORS.get(name, "#555555"), label=name)
    ax.set_xticks(x, [f"{pd.Timestamp(o):%Y-%m-%d}" for o in t["origin"]])
    ax.axhline(0.0, color="#1f2933", lw=0.8)
    ax.set_xlabel("forecast origin")
    ax.set_ylabel("regret vs perfect hindsight [%]")
    ax.set_title(f"Backtest of scenario '{res.scenario}': cost over hindsight, per origin")
    ax.legend(fontsize=8, ncol=2, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def backtest_section(res: BacktestResult, sec: Section) -> Section:
    """Fill a report section with the backtest: headline, chart, tables and what it rests on."""
    s = res.summary().set_index("policy")
    g = s.loc["gpuplan"]
    rules = s.drop(index=["gpuplan", "perfect-hindsight", "gpuplan-on-realized"])["mean_regret_pct"]
    best_rule = str(rules.idxmin())
    best_regret = float(rules.min())
    sec.kpis([
        ("gpuplan mean regret", f"{g['mean_regret_pct']:.2f} %"),
        ("gpuplan worst regret", f"{g['worst_regret_pct']:.2f} %"),
        ("gpuplan mean savings rate", f"{g['mean_savings_rate_pct']:.1f} %"),
        (f"best rule: {best_rule}", f"{best_regret:.2f} % regret"),
        ("origins", f"{len(res.origins)}"),
    ])
    sec.text("At each origin every policy bought using only the history before it; the purchases were held to the "
             "end of the history and costed hour by hour on the demand that was observed. Regret is a policy's "
             "cost over the perfect-hindsight cost, minus one. The savings rate is one minus the cost over the "
             "cost of buying nothing (on-demand and spot).")
    sec.figure(regret_chart(res), "Regret per origin; dashed: gpuplan's rule given the realized demand as its "
                                  "only path (the gap to gpuplan is the forecast's share).")
    sec.table(summary_table(res), "Policies over the origins")
    dec = res.decomposition()
    num = ["regret_pct", "forecast_pct", "rule_pct"]
    dec[num] = dec[num].round(3)
    sec.table(dec, "gpuplan's regret: forecast error and decision rule [% of hindsight]")
    per = res.table[["origin", "policy", "cost_usd", "regret", "effective_savings_rate", "reserved_gpus",
                     "committed_usd_per_hour", "held_hours"]]
    sec.table(per, "Per origin and policy", max_rows=80)
    sec.assume(*res.notes)
    return sec


def backtest_tables(res: BacktestResult) -> dict[str, pd.DataFrame]:
    """The CSV tables by file stem."""
    purchases = []
    for (origin, name), plan in res.plans.items():
        df = plan.to_frame()
        if not df.empty:
            df.insert(0, "policy", name)
            df.insert(0, "origin", origin)
            purchases.append(df)
    return {
        "backtest_origins": res.table,
        "backtest_summary": res.summary(),
        "backtest_decomposition": res.decomposition(),
        "backtest_purchases": pd.concat(purchases, ignore_index=True) if purchases else pd.DataFrame(),
    }


def write_backtest(res: BacktestResult, out_dir: str | Path) -> Path:
    """Write ``report.html``, ``summary.json`` and ``tables/*.csv`` into ``out_dir`` (atomically).

    Returns
    -------
    pathlib.Path
        Path of the HTML report.
    """
    rep = Report(title=f"gpuplan backtest: {res.scenario}",
                 subtitle=f"{len(res.origins)} forecast origins, purchases costed on realized demand")
    backtest_section(res, rep.section("Would gpuplan's commitments have paid off?"))
    out = Path(out_dir)
    summary: dict[str, Any] = {str(r["policy"]): {k: (None if isinstance(v, float) and np.isnan(v) else v)
                                                  for k, v in r.items() if k != "policy"}
                               for r in res.summary().to_dict("records")}
    with atomic_dir(out) as tmp:
        for name, df in backtest_tables(res).items():
            write_frame(df, tmp / "tables" / f"{name}.csv")
        atomic_write(tmp / "summary.json", json.dumps(summary, indent=2, default=float))
        atomic_write(tmp / "report.html", rep.render())
    return out / "report.html"


__all__ = ["backtest_section", "backtest_tables", "regret_chart", "summary_table", "write_backtest"]
