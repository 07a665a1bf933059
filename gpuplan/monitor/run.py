"""``run_monitor``: the weekly FinOps loop on one billing export, and its report, tables and alert lines.

Steps: read the export (FOCUS or CUR) into the ``billing`` table and its tagged usage rows (refusing mixed
currencies and double-billed periods); chargeback by the stated rules; anomalies per team, family and
project; with a budget, the variance waterfall per month and the probability of breaching each monthly
budget; tagging hygiene. :func:`write_monitor` writes ``monitor.html``, CSV tables under ``tables/`` and,
optionally, ``anomalies.jsonl`` (one JSON object per anomaly, for an alerting hook to pick up: nothing is
sent anywhere).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpuplan.monitor.anomalies import DetectorSettings, detect_anomalies, incidents
from gpuplan.monitor.breach import breach_calibration, breach_probability, daily_spend, reliability
from gpuplan.monitor.series import series_frames
from gpuplan.report import Report
from scenarios.chargeback import Chargeback, IdleRule, Method, chargeback, month_of
from scenarios.errors import InputError
from scenarios.io import atomic_dir, write_frame
from scenarios.readers import read_cur, read_focus
from scenarios.readers._checks import ReadResult
from scenarios.tagging import REQUIRED_TAGS, TaggedRows, read_tagged_rows, tag_hygiene
from scenarios.variance import budget_waterfall, read_budget


@dataclass
class MonitorResult:
    """Everything :func:`run_monitor` computed (tables are pandas frames)."""

    source: str
    read: ReadResult
    chargeback: Chargeback
    anomalies: pd.DataFrame
    incidents: pd.DataFrame
    waterfalls: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
    breach: pd.DataFrame
    tags: dict[str, pd.DataFrame]
    budget: pd.DataFrame | None
    rules: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    calibration_summary: dict[str, float] = field(default_factory=dict)

    @property
    def billing(self) -> pd.DataFrame:
        """The ``billing`` table read from the export."""
        return self.read.frame

    def headline(self) -> dict[str, Any]:
        """Key figures as plain numbers (what the CLI prints and the notebook checks)."""
        b = self.billing
        rec = self.chargeback.reconciliation
        latest = self.breach.sort_values("as_of").groupby("month").tail(1) if len(self.breach) else self.breach
        tag = self.tags["summary"].set_index("measure")["value"] if self.tags else pd.Series(dtype=float)
        return {
            "invoice_usd": float(rec.loc[rec["month"] == "all", "invoice_usd"].iloc[0]) if len(rec) else 0.0,
            "reconciliation_max_abs_difference_usd": self.chargeback.max_abs_difference_usd,
            "gpu_hours": float(b.loc[b["commitment_status"].astype("string").fillna("") != "Unused",
                                     "gpu_hours"].sum()),
            "anomalies": len(self.anomalies), "incidents": len(self.incidents),
            "anomaly_usd": float(self.anomalies.loc[self.anomalies["metric"] == "spend_usd", "size_usd"].sum())
            if len(self.anomalies) else 0.0,
            "p_breach_latest": {str(m): float(p) for m, p in zip(latest["month"], latest["p_breach"], strict=True)},
            "untagged_share": float(tag.get("untagged_share", float("nan"))),
            "runaway_tag_keys": sorted(self.tags["keys"].loc[self.tags["keys"]["runaway"], "key"]) if self.tags else [],
            "rows_skipped": dict(self.read.skipped),
            "breach_calibration": dict(self.calibration_summary),
        }


def read_bill(path: str | Path, *, fmt: str = "auto", tz: str | None = None) -> tuple[ReadResult, TaggedRows]:
    """Read an export as the ``billing`` table and as tagged usage rows (``fmt``: auto, focus or cur)."""
    file = str(path)
    if fmt == "auto":
        head = pd.read_parquet(path).columns if file.endswith((".parquet", ".pq")) else pd.read_csv(
            path, nrows=0).columns
        fmt = "focus" if "ChargePeriodStart" in head else "cur" if "line_item_usage_start_date" in head else ""
        if not fmt:
            raise InputError("neither a FOCUS nor a CUR 2.0 export", file=file,
                             fix="give a FOCUS 1.0-1.2 or CUR 2.0 export (CSV or Parquet)")
    if fmt not in ("focus", "cur"):
        raise InputError(f"unknown bill format '{fmt}'", column="format", fix="use auto, focus or cur")
    tagged = read_tagged_rows(path)       # currency and overlapping periods checked here first
    res = read_focus(path, tz=tz) if fmt == "focus" else read_cur(path, tz=tz)
    return res, tagged


def check_required_tags(tagged: TaggedRows, required: Sequence[str], *, file: str) -> None:
    """Refuse the first taggable usage row lacking a required tag (InputError naming its row)."""
    f = tagged.frame
    for row, idle, tags in zip(f["row"], f["idle_commitment"], f["tags"], strict=True):
        if idle:
            continue
        for key in required:
            if key not in tags:
                raise InputError(f"usage row has no '{key}' tag", file=file, row=int(row), column="Tags",
                                 fix=f"tag every resource with {', '.join(required)}, or run without "
                                     "--require-tags to count untagged spend instead")


def monthly_budgets(budget: pd.DataFrame | None, months: Sequence[str], *,
                    budget_usd_per_year: float | None = None) -> dict[str, float]:
    """``{month: USD}`` from a budget table, else from a yearly budget pro rata by days, else empty."""
    if budget is not None:
        g = budget.groupby("month")["budget_usd"].agg(lambda s: math.fsum(s))
        return {str(m): float(v) for m, v in g.items()}
    if budget_usd_per_year:
        out = {}
        for m in months:
            days = pd.Period(m, freq="M").days_in_month
            out[m] = float(budget_usd_per_year) * days / 365.0
        return out
    return {}


def run_monitor(bill: str | Path, *, budget: str | Path | pd.DataFrame | None = None, fmt: str = "auto",
                tz: str | None = None, method: Method = "usage", idle: IdleRule = "spread",
                owners: Mapping[str, str] | None = None, shared_teams: Sequence[str] = (),
                required_tags: Sequence[str] = REQUIRED_TAGS, require_tags: Sequence[str] = (),
                budget_usd_per_year: float | None = None, detector: DetectorSettings | None = None,
                n_paths: int = 2000, seed: int = 0) -> MonitorResult:
    """Run chargeback, anomalies, budget variance and breach probability, and tagging hygiene on a bill.

    Parameters
    ----------
    bill
        FOCUS 1.0-1.2 or CUR 2.0 export (CSV or Parquet).
    budget
        Budget file or frame (:func:`scenarios.variance.read_budget`); None: ``budget_usd_per_year`` pro
        rata, or no budget sections.
    fmt, tz
        Export format (auto, focus, cur) and the zone of naive times.
    method, idle, owners, shared_teams
        Chargeback rules (:func:`scenarios.chargeback.chargeback`).
    required_tags
        Tag keys hygiene reports spend by.
    require_tags
        Tag keys every usage row must carry: a row without one is an InputError (default: none, untagged
        spend is counted and reported instead).
    budget_usd_per_year
        Yearly budget [USD] used when no budget table is given.
    detector
        Anomaly detector settings.
    n_paths, seed
        Sample paths per as-of day and their seed for the breach probability.

    Raises
    ------
    InputError
        Bad exports (mixed currencies, overlapping charge periods, ...), bad budgets, missing required tags,
        or ``idle="owner"`` without owners.
    """
    file = str(bill)
    res, tagged = read_bill(bill, fmt=fmt, tz=tz)
    if require_tags:
        check_required_tags(tagged, require_tags, file=file)
    billing = res.frame
    if billing.empty:
        raise InputError("the export has no GPU usage rows", file=file,
                         fix="check that it is the right export (see the skipped-row counts with gpuplan summary)")
    notes = list(res.notes) + list(tagged.notes)
    cb = chargeback(billing, method=method, idle=idle, owners=owners, shared_teams=shared_teams)
    notes += cb.notes
    frames = series_frames(billing)
    anomalies = detect_anomalies(frames, detector)
    bud = read_budget(budget) if isinstance(budget, str | Path) else budget
    months = sorted(set(month_of(billing["timestamp"])))
    budgets = monthly_budgets(bud, months, budget_usd_per_year=budget_usd_per_year)
    waterfalls: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    if bud is not None and bud["family"].notna().all():
        for m in months:
            if (bud["month"] == m).any():
                waterfalls[m] = budget_waterfall(billing, bud, m)
    elif bud is not None:
        notes.append("the budget has no family / pricing category / GPU-hours columns: no variance waterfall")
    missing = [m for m in months if budgets and m not in budgets]
    if missing:
        notes.append(f"no budget for {', '.join(missing)}: no breach probability or waterfall for them")
    daily = daily_spend(billing)
    breach = breach_probability(daily, budgets, n_paths=n_paths, seed=seed) if budgets else \
        pd.DataFrame(columns=["month", "as_of", "budget_usd", "spent_to_date_usd", "days_left",
                              "expected_month_end_usd", "p10_month_end_usd", "p90_month_end_usd", "p_breach"])
    if not budgets:
        notes.append("no budget given (--budget or policies.budget_usd_per_year): no waterfall or breach probability")
    full = daily[daily["hours"] == 24]
    cal_cases, cal = breach_calibration({"bill": pd.Series(full["spend_usd"].to_numpy(),
                                                           index=pd.DatetimeIndex(full["day"]).tz_localize(None))},
                                        n_paths=min(n_paths, 1000), seed=seed)
    if cal.get("n", 0) == 0:
        notes.append("breach-probability calibration on the bill's own past months needs two complete calendar "
                     "months of daily spend; see benchmarks/bench_monitor.py for its calibration on real data")
    tags = tag_hygiene(tagged.frame, required=required_tags)
    rules = {"method": method, "idle": idle, "owners": dict(owners or {}), "shared_teams": list(shared_teams),
             "detector": (detector or DetectorSettings()).__dict__, "n_paths": n_paths, "seed": seed}
    return MonitorResult(source=file, read=res, chargeback=cb, anomalies=anomalies, incidents=incidents(anomalies),
                         waterfalls=waterfalls, breach=breach, tags=tags, budget=bud, rules=rules,
                         notes=list(dict.fromkeys(notes)), calibration=cal_cases, calibration_summary=cal)


def monitor_tables(r: MonitorResult) -> dict[str, pd.DataFrame]:
    """The CSV tables: name -> frame."""
    out = {"chargeback_bills": r.chargeback.bills, "chargeback_allocations": r.chargeback.allocations,
           "reconciliation": r.chargeback.reconciliation, "anomalies": r.anomalies, "incidents": r.incidents,
           "breach_probability": r.breach, "tag_summary": r.tags["summary"], "tag_keys": r.tags["keys"],
           "spend_by_tag": r.tags["by_tag"],
           "skipped_rows": pd.DataFrame(sorted(r.read.skipped.items()), columns=["reason", "rows"]),
           "breach_calibration": r.calibration}
    for m, (wf, seg) in r.waterfalls.items():
        out[f"waterfall_{m}"] = wf
        out[f"waterfall_segments_{m}"] = seg
    return out


def anomaly_records(anomalies: pd.DataFrame) -> list[dict[str, Any]]:
    """Anomaly rows as JSON-ready dicts (ISO times, plain numbers), for an alerting hook."""
    recs = []
    for rec in anomalies.to_dict(orient="records"):
        out: dict[str, Any] = {}
        for key, v in rec.items():
            k = str(key)
            if isinstance(v, pd.Timestamp):
                out[k] = v.isoformat()
            elif isinstance(v, float | np.floating):
                out[k] = float(v) if np.isfinite(v) else None
            elif isinstance(v, np.integer):
                out[k] = int(v)
            else:
                out[k] = v
        recs.append(out)
    return recs


def monitor_section(r: MonitorResult, report: Report) -> None:
    """Add the monitor's sections to ``report`` (an HTML report of :mod:`gpuplan.report`)."""
    h = r.headline()
    s = report.section("FinOps monitor: chargeback")
    s.kpis([("invoice (GPU rows) [USD]", f"{h['invoice_usd']:,.2f}"),
            ("largest reconciliation gap [USD]", f"{h['reconciliation_max_abs_difference_usd']:.2e}"),
            ("GPU-hours used", f"{h['gpu_hours']:,.0f}")])
    s.table(r.chargeback.bills, "Bills per month and team [USD]")
    s.table(r.chargeback.reconciliation, "Reconciliation to the invoice [USD]")
    s.assume(f"rules: method {r.rules['method']}, idle commitment {r.rules['idle']}"
             + (f" (owners {r.rules['owners']})" if r.rules["owners"] else "")
             + (f", shared cluster teams {', '.join(r.rules['shared_teams'])}" if r.rules["shared_teams"] else ""),
             "pools are (calendar month UTC, GPU family); see scenarios.chargeback for the rules in full",
             *r.chargeback.notes)
    a = report.section("FinOps monitor: anomalies")
    a.kpis([("anomalies", str(h["anomalies"])), ("incidents (overlapping anomalies)", str(h["incidents"])),
            ("spend anomalies, net size [USD]", f"{h['anomaly_usd']:,.0f}")])
    cols = ["level", "series", "metric", "start", "hours", "direction", "size_usd", "driver", "detail"]
    a.table(r.anomalies[cols] if len(r.anomalies) else r.anomalies, "Anomalies (spikes and level shifts beyond what "
            "the history before each day explains, and material)")
    d = r.rules["detector"]
    a.assume(f"thresholds refitted daily on the {d['lookback_days']} days before (no look-ahead) from a budget of "
             f"{d['alarms_per_week']:g} false alarm(s) per week over all series; spikes (a step in and a step out "
             f"1 to 24 h apart) and level shifts (one alert, then re-based); first {d['warmup_days']} days not "
             "scored",
             f"material: height >= {d['min_share']:.0%} of the series' median and >= "
             f"{d['bill_share']:.0%} of the bill's median hourly total")
    if r.waterfalls or len(r.breach):
        w = report.section("FinOps monitor: budget")
        for m, (wf, seg) in r.waterfalls.items():
            w.table(wf, f"Variance waterfall {m} [USD]")
            w.table(seg, f"Segments {m}")
        if len(r.breach):
            latest = r.breach.sort_values("as_of").groupby("month").tail(1)
            w.table(latest, "Probability of breaching each monthly budget (latest as-of day)")
        w.assume("breach probability: bootstrap random walk of daily spend refitted each day (gpuplan.monitor.breach)")
    if r.calibration_summary.get("n", 0) > 0:
        c = report.section("FinOps monitor: breach-probability calibration on this bill's past months")
        cs = r.calibration_summary
        c.kpis([("cases", f"{int(cs['n'])}"), ("Brier score", f"{cs['brier']:.3f}"),
                ("Brier of always the base rate", f"{cs['brier_climatology']:.3f}")])
        c.table(reliability(r.calibration), "Observed breach frequency per predicted probability")
        c.assume("budget of each past month = previous month's mean daily spend x days; as-of days 0, 7, 14, 21")
    t = report.section("FinOps monitor: tagging hygiene")
    t.table(r.tags["summary"], "Summary")
    t.table(r.tags["keys"], "Tag keys (runaway = too many distinct values)")
    t.table(r.tags["by_tag"], "Spend by required tag [USD]", max_rows=60)
    n = report.section("FinOps monitor: input")
    n.table(pd.DataFrame(sorted(r.read.skipped.items()), columns=["skipped on purpose", "rows"]), "Rows skipped")
    for note in r.notes:
        n.text(note)


def write_monitor(r: MonitorResult, out_dir: str | Path, *, jsonl: bool = True) -> list[Path]:
    """Write ``monitor.html``, ``tables/*.csv``, ``summary.json`` and (``jsonl``) ``anomalies.jsonl``, atomically.

    Returns
    -------
    list of Path
        The files written, relative to ``out_dir``.
    """
    report = Report(title="gpuplan FinOps monitor", subtitle=f"bill {r.source}")
    monitor_section(r, report)
    written: list[Path] = []
    with atomic_dir(out_dir) as tmp:
        (tmp / "monitor.html").write_text(report.render(), encoding="utf-8")
        written.append(Path("monitor.html"))
        (tmp / "tables").mkdir()
        for name, df in monitor_tables(r).items():
            write_frame(df, tmp / "tables" / f"{name}.csv")
            written.append(Path("tables") / f"{name}.csv")
        (tmp / "summary.json").write_text(json.dumps({**r.headline(), "rules": r.rules, "notes": r.notes},
                                                     indent=2, default=str), encoding="utf-8")
        written.append(Path("summary.json"))
        if jsonl:
            lines = [json.dumps(rec, sort_keys=True) for rec in anomaly_records(r.anomalies)]
            (tmp / "anomalies.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
            written.append(Path("anomalies.jsonl"))
    return written


def text_summary(r: MonitorResult) -> str:
    """A few lines for the terminal."""
    h = r.headline()
    lines = [f"bill {r.source}: {h['invoice_usd']:,.2f} USD of GPU rows, {h['gpu_hours']:,.0f} GPU-hours used",
             f"chargeback ({r.rules['method']}, idle {r.rules['idle']}): "
             f"{r.chargeback.bills['team'].nunique()} lines, reconciles to the invoice within "
             f"{h['reconciliation_max_abs_difference_usd']:.1e} USD",
             f"anomalies: {h['anomalies']} in {h['incidents']} incidents",
             f"untagged spend: {h['untagged_share']:.1%}; runaway tag keys: "
             f"{', '.join(h['runaway_tag_keys']) or 'none'}"]
    for m, p in h["p_breach_latest"].items():
        lines.append(f"budget {m}: P(breach by month end) = {p:.1%}")
    for m, (wf, _) in r.waterfalls.items():
        parts = ", ".join(f"{s} {u:+,.0f}" for s, u in zip(wf["step"], wf["usd"], strict=True)
                          if s not in ("budget", "actual"))
        lines.append(f"variance {m}: budget {wf['usd'].iloc[0]:,.0f} -> {parts} -> actual {wf['usd'].iloc[-1]:,.0f}")
    return "\n".join(lines)

