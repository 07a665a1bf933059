"""A self-contained HTML report: sections of prose, embedded charts (PNG, base64) and tables.

Every figure sits next to the assumptions it rests on: a section carries its own ``assumptions`` list,
rendered under it.  Tables are also written as CSV beside the HTML by the pipeline.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1f2933;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em} h2{border-bottom:2px solid #e4e7eb;padding-bottom:.2em;margin-top:2em}
h3{margin-bottom:.3em}
.meta{color:#616e7c;font-size:.9em}
.tablewrap{max-width:100%;overflow-x:auto;margin:.6em 0 1em}
table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #d9e2ec;padding:.25em .5em;text-align:right}
th{background:#f0f4f8;font-weight:600;vertical-align:bottom;min-width:4.5em}
td:first-child,th:first-child{text-align:left} td.t,th.t{text-align:left}
.banner{border-radius:6px;padding:.7em 1em;margin:1em 0;font-size:.95em}
.banner.warn{background:#fff3c4;border-left:6px solid #f0b429}
.banner.info{background:#e3f8ff;border-left:6px solid #2bb0ed}
.decision{background:#f5f7fa;border:1px solid #d9e2ec;border-radius:8px;padding:.4em 1.2em 1em}
.decision h2{margin-top:.6em}
.decision .lead{font-size:1.12em}
.decision li{margin:.25em 0}
.assume{background:#fffbea;border-left:4px solid #f0b429;padding:.4em .8em;font-size:.85em;margin:.4em 0 1.2em}
.assume ul{margin:.2em 0;padding-left:1.2em}
.kpis{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.kpi{background:#f0f4f8;border-radius:6px;padding:.6em 1em;min-width:170px}
.kpi .v{font-size:1.35em;font-weight:600} .kpi .l{font-size:.8em;color:#52606d}
img{max-width:100%;height:auto}
code{overflow-wrap:anywhere}
.toc{font-size:.9em} .note{color:#52606d;font-size:.88em}
"""


def figure_to_data_uri(fig: Any, dpi: int = 110) -> str:
    """Render a matplotlib figure to a ``data:image/png;base64`` URI (pyplot figures are closed after)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if fig.canvas.manager is not None:  # made through pyplot: release it
        import matplotlib.pyplot as plt

        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


#: Headers spelled out for the report's tables (CSV files keep the snake_case names).
LABELS: dict[str, str] = {
    "term_years": "Term (years)",
    "quantity": "Quantity",
    "unit": "Unit",
    "starts": "Starts (UTC)",
    "expires": "Expires (UTC)",
    "coverage": "Share of demand covered",
    "coverage_share": "Share of its demand covered",
    "commitment_utilization": "Commitment utilization",
    "break_even_utilization": "Break-even utilization",
    "expected_utilization": "Expected utilization",
    "utilization_p05": "Utilization, 5th percentile",
    "discount": "Discount off on-demand",
    "p95_cost_usd": "95th percentile cost (USD)",
    "p95_usd": "95th percentile cost (USD)",
    "p05_usd": "5th percentile cost (USD)",
    "cost_ci95_low_usd": "Cost, 95 % CI low (USD)",
    "cost_ci95_high_usd": "Cost, 95 % CI high (USD)",
    "savings_vs_all_on_demand_pct": "Saving vs all on-demand (%)",
    "cost_per_useful_gpu_hour": "Cost per useful GPU-hour (USD)",
    "kg_co2e": "Emissions (kg CO2e)",
    "gpus_per_instance": "GPUs per instance",
    "instances": "Instances",
    "instance_type": "Instance type",
    "pue": "PUE",
    "gpu_power_kw": "GPU power (kW)",
    "risk_weight": "CVaR weight",
    "seconds": "Seconds",
    "break_even_vs_spot": "Break-even vs spot",
    "saving_pct": "Saving (%)",
    "typical_low_pct": "Typical low (%)",
    "typical_high_pct": "Typical high (%)",
    "of_what": "Of what",
    "mean_delay_hours": "Mean delay (h)",
    "carbon_price_usd_per_tonne": "Carbon price (USD/t)",
    "usd_per_gpu_hour": "Rate (USD/GPU-hour)",
    "usd_per_hour": "Cost per hour (USD/h)",
    "lost_gpu_hours": "Lost work (GPU-hours)",
    "useful_gpu_hours": "Useful work (GPU-hours)",
    "idle_reserved_gpu_hours": "Idle reserved GPU-hours",
    "reserved_idle_allocated_usd": "Idle reservations allocated (USD)",
    "committed_unused_allocated_usd": "Unused commitment allocated (USD)",
    "money_usd": "Energy + on-demand beyond reservations (USD)",
    "obligation_usd": "Contract obligation (USD)",
    "series_id": "Series",
    "hours": "Hours",
}

#: Columns holding a fraction in [0, 1]: shown as percentages.
FRACTIONS = frozenset({
    "coverage", "coverage_share", "commitment_utilization", "break_even_utilization", "expected_utilization",
    "utilization_p05", "discount", "committed_utilization", "break_even_vs_spot", "regret", "effective_savings_rate",
})

_UNITS = (  # (suffix, unit) - the first that matches is used
    ("_usd_per_gpu_hour", "USD/GPU-hour"), ("usd_per_gpu_hour", "USD/GPU-hour"),
    ("_usd_per_hour", "USD/h"), ("usd_per_hour", "USD/h"), ("_usd_per_mwh", "USD/MWh"),
    ("_usd", "USD"), ("_pct", "%"), ("_gpu_hours", "GPU-hours"), ("_hours", "h"), ("_kg_co2e", "kg CO2e"),
    ("_gpus", "GPUs"), ("_kwh", "kWh"), ("_s", "s"),
)
_WORDS = {"usd": "USD", "gpu": "GPU", "gpus": "GPUs", "od": "on-demand", "cvar": "CVaR", "co2e": "CO2e",
          "kwh": "kWh", "p05": "5th percentile", "p50": "median", "p95": "95th percentile", "id": "ID",
          "vs": "vs", "mip": "MIP", "lp": "LP", "ci95": "95 % CI"}


def column_label(name: str) -> str:
    """A column name in words with its unit: ``expected_cost_usd`` -> ``Expected cost (USD)``.

    Known names come from :data:`LABELS`; others lose their unit suffix (shown in brackets), their
    underscores, and get acronyms spelled as usual (GPU, USD, CVaR).

    Examples
    --------
    >>> column_label("spot_gpu_hours")
    'Spot (GPU-hours)'
    >>> column_label("on_demand_usd_per_gpu_hour")
    'On-demand (USD/GPU-hour)'
    """
    if name in LABELS:
        return LABELS[name]
    if name in FRACTIONS:
        return name.replace("_", " ").capitalize() + " (%)"
    stem, unit = name, ""
    for suffix, u in _UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem, unit = name[: -len(suffix)], u
            break
        if name == suffix.lstrip("_"):
            stem, unit = "", u
            break
    words = " ".join(_WORDS.get(w, w) for w in stem.split("_") if w).replace("on demand", "on-demand")
    words = words[:1].upper() + words[1:] if words else unit
    return f"{words} ({unit})" if unit and words != unit else words


def money(x: float, digits: int | None = None) -> str:
    """USD as money: ``$1,234,567`` from 1,000 up, cents below, ``-$12.50`` for negatives.

    Examples
    --------
    >>> money(5959992.4), money(74.634), money(-12.5)
    ('$5,959,992', '$74.63', '-$12.50')
    """
    v = float(x)
    if not np.isfinite(v):
        return ""
    d = digits if digits is not None else (0 if abs(v) >= 1000 else 2)
    return ("-" if v < 0 else "") + f"${abs(v):,.{d}f}"


def _fmt(v: Any, column: str = "") -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating | int | np.integer) and not isinstance(v, bool):
        v = float(v)
        if pd.isna(v):
            return ""
        if column in FRACTIONS:
            return f"{100 * v:.1f} %"
        if column.endswith("usd_per_gpu_hour"):
            return money(v, 3)
        if _is_money(column):
            return money(v)
        if column.endswith("_pct"):
            return f"{v:.1f} %"
        if column == "instances":
            return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"
        if v.is_integer() and abs(v) < 1e15:
            return f"{v:,.0f}"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:,.1f}"
        return f"{v:,.3g}"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M")
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return ""
    if column == "payment":             # the catalog's no_upfront / partial_upfront / all_upfront, in words
        return html.escape(str(v).replace("_", " "))
    return html.escape(str(v))


def _is_money(column: str) -> bool:
    return column.endswith("_usd") or column.endswith("usd_per_hour") or column == "cost_per_useful_gpu_hour"


def _needs_cents(values: np.ndarray) -> bool:
    """Whole dollars would show different amounts as the same (e.g. 3,278.81 and 3,278.85)."""
    v = values[np.isfinite(values)]
    return len(np.unique(np.round(v))) < len(np.unique(np.round(v, 2)))


def table_html(df: pd.DataFrame, max_rows: int = 40, labels: bool = True) -> str:
    """A compact HTML table: headers in words with units, money as money, fractions as percentages.

    Wrapped in a box that scrolls sideways if the table is wider than the page, so the page itself never
    overflows.  Only the first ``max_rows`` rows are shown.
    """
    shown = df.head(max_rows)
    cols = [str(c) for c in shown.columns]
    text_cols = {c for c in cols if not (pd.api.types.is_numeric_dtype(shown[c].dtype)
                                         or pd.api.types.is_datetime64_any_dtype(shown[c].dtype))}
    head = "".join(f"<th{' class=t' if c in text_cols else ''} title='{html.escape(c)}'>"
                   f"{html.escape(column_label(c) if labels else c)}</th>" for c in cols)
    cents = {c for c in cols if _is_money(c) and pd.api.types.is_numeric_dtype(shown[c].dtype)
             and _needs_cents(shown[c].to_numpy(dtype=float))}
    rows = "".join(
        "<tr>" + "".join(f"<td{' class=t' if c in text_cols else ''}>"
                         f"{money(v, 2) if c in cents and pd.notna(v) else _fmt(v, c)}</td>"
                         for c, v in zip(cols, rec, strict=True)) + "</tr>"
        for rec in shown.itertuples(index=False)
    )
    more = f"<p class='note'>{len(df) - max_rows} more rows in the CSV.</p>" if len(df) > max_rows else ""
    return f"<div class='tablewrap'><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>{more}"


@dataclass
class Section:
    """One report section."""

    title: str
    anchor: str
    blocks: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    def text(self, text: str) -> Section:
        """Add a paragraph (plain text, escaped)."""
        self.blocks.append(f"<p>{html.escape(text)}</p>")
        return self

    def html(self, raw: str) -> Section:
        """Add trusted HTML."""
        self.blocks.append(raw)
        return self

    def figure(self, fig: Any, caption: str = "") -> Section:
        """Add a matplotlib figure, embedded as PNG."""
        cap = f"<p class='note'>{html.escape(caption)}</p>" if caption else ""
        self.blocks.append(f"<img alt='{html.escape(caption or self.title)}' src='{figure_to_data_uri(fig)}'>{cap}")
        return self

    def table(self, df: pd.DataFrame, caption: str = "", max_rows: int = 40) -> Section:
        """Add a table."""
        if caption:
            self.blocks.append(f"<h3>{html.escape(caption)}</h3>")
        self.blocks.append(table_html(df, max_rows=max_rows))
        return self

    def banner(self, text: str, level: str = "warn") -> Section:
        """Add a highlighted message (``level``: ``warn`` or ``info``); plain text, escaped."""
        self.blocks.append(f"<div class='banner {html.escape(level)}'>{html.escape(text)}</div>")
        return self

    def kpis(self, items: list[tuple[str, str]]) -> Section:
        """Add headline figures: ``[(label, value), ...]``."""
        cells = "".join(
            f"<div class='kpi'><div class='v'>{html.escape(v)}</div><div class='l'>{html.escape(k)}</div></div>"
            for k, v in items
        )
        self.blocks.append(f"<div class='kpis'>{cells}</div>")
        return self

    def assume(self, *lines: str) -> Section:
        """Record assumptions this section's figures rest on."""
        self.assumptions.extend(lines)
        return self

    def render(self) -> str:
        """HTML of the section."""
        body = "\n".join(self.blocks)
        if self.assumptions:
            items = "".join(f"<li>{html.escape(a)}</li>" for a in self.assumptions)
            body += f"<div class='assume'><b>Rests on:</b><ul>{items}</ul></div>"
        return f"<section id='{self.anchor}'><h2>{html.escape(self.title)}</h2>{body}</section>"


@dataclass
class Report:
    """An HTML report made of sections."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        """Start a new section and return it."""
        anchor = "s" + str(len(self.sections) + 1)
        sec = Section(title=title, anchor=anchor)
        self.sections.append(sec)
        return sec

    def render(self) -> str:
        """The whole self-contained HTML document."""
        toc = "".join(f"<li><a href='#{s.anchor}'>{html.escape(s.title)}</a></li>" for s in self.sections)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = "\n".join(s.render() for s in self.sections)
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1><p class='meta'>{html.escape(self.subtitle)} · generated {stamp}"
            f" by gpuplan</p><nav class='toc'><ol>{toc}</ol></nav>{body}</body></html>"
        )
