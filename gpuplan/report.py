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

import pandas as pd

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1f2933;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em} h2{border-bottom:2px solid #e4e7eb;padding-bottom:.2em;margin-top:2em}
h3{margin-bottom:.3em}
.meta{color:#616e7c;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.88em}
th,td{border:1px solid #d9e2ec;padding:.25em .6em;text-align:right}
th{background:#f0f4f8} td:first-child,th:first-child{text-align:left}
.assume{background:#fffbea;border-left:4px solid #f0b429;padding:.4em .8em;font-size:.85em;margin:.4em 0 1.2em}
.assume ul{margin:.2em 0;padding-left:1.2em}
.kpis{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.kpi{background:#f0f4f8;border-radius:6px;padding:.6em 1em;min-width:170px}
.kpi .v{font-size:1.35em;font-weight:600} .kpi .l{font-size:.8em;color:#52606d}
img{max-width:100%;height:auto}
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


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if pd.isna(v):
            return ""
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:,.1f}"
        return f"{v:,.3g}"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M")
    return html.escape(str(v))


def table_html(df: pd.DataFrame, max_rows: int = 40) -> str:
    """A compact HTML table with readable number formatting (first ``max_rows`` rows)."""
    shown = df.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in rec) + "</tr>"
        for rec in shown.itertuples(index=False)
    )
    more = f"<p class='note'>{len(df) - max_rows} more rows in the CSV.</p>" if len(df) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}"


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
