"""``gpuplan summary SCENARIO``: what the scenario's data says before any planning.

Prints three sections: hourly GPU demand by family and team, spend by pricing category, and the
scenario's effective settings. Everything shown comes from :func:`scenarios.history.load_history`,
:func:`scenarios.history.price_usage` and :func:`scenarios.readers.billing_kpis`, so a notebook gets
the same numbers without the CLI.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from scenarios.history import HistoryData, load_history, price_usage
from scenarios.loader import load_scenario
from scenarios.readers import billing_kpis
from scenarios.schema import Scenario

#: An hour whose family demand is below this is "near zero" [GPUs]; runs of them look like outages.
NEAR_ZERO_GPUS = 1.0

EXAMPLE = """examples:
  gpuplan summary default                 the bundled default scenario (Helios Earth demand)
  gpuplan summary my_scenario.toml --tz Europe/Berlin
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``summary`` command."""
    p = sub.add_parser(
        "summary", help="summarise a scenario's demand history, spend and settings",
        description="Read the scenario's demand history (usage, FOCUS or CUR file) and print: hourly GPU "
                    "demand by family and team (mean, p50, p95, max, GPU-hours, span, near-zero stretches "
                    "that look like outages), spend by pricing category (billed rows for FOCUS/CUR; for "
                    "plain usage, priced at the scenario's on-demand rates and current commitments), and the "
                    "scenario's effective settings.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", default="default",
                   help="scenario TOML file or bundled name (default: %(default)s)")
    p.add_argument("--tz", default=None,
                   help="time zone of naive timestamps in the history, overriding demand.tz (e.g. UTC)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario)
    data = load_history(sc, tz=args.tz)
    print(render_summary(sc, data))
    return 0


def render_summary(sc: Scenario, data: HistoryData) -> str:
    """The whole summary as text."""
    parts = [
        _title(f"gpuplan summary: scenario '{sc.name}'"),
        sc.description or "",
        "",
        _section("Data"),
        data.report(),
        "",
        _section("Hourly GPU demand by family and team [GPUs busy in the hour; GPU-hours]"),
        demand_text(data),
        "",
        _section("Spend by pricing category [USD]"),
        spend_text(sc, data),
        "",
        _section("Effective settings (gpuplan scenario show for all of them)"),
        settings_text(sc),
    ]
    return "\n".join(parts).rstrip() + "\n"


def _title(text: str) -> str:
    return f"{text}\n{'=' * len(text)}"


def _section(text: str) -> str:
    return f"{text}\n{'-' * len(text)}"


# -- demand ---------------------------------------------------------------------------------------------


def demand_stats(history: pd.DataFrame) -> pd.DataFrame:
    """Per series: hours, missing hours, mean, p50, p95, max [GPUs], GPU-hours, first and last hour."""
    rows = []
    for sid, g in history.groupby("series_id", sort=True):
        v = g["gpus"].to_numpy(dtype=float)
        ok = v[~np.isnan(v)]
        rows.append({
            "series": sid, "hours": len(v), "missing": int(np.isnan(v).sum()),
            "mean": ok.mean() if ok.size else np.nan,
            "p50": np.percentile(ok, 50) if ok.size else np.nan,
            "p95": np.percentile(ok, 95) if ok.size else np.nan,
            "max": ok.max() if ok.size else np.nan,
            "gpu_hours": ok.sum(),
            "near_zero_h": int((ok < NEAR_ZERO_GPUS).sum()),
            "first": g["timestamp"].min(), "last": g["timestamp"].max(),
        })
    return pd.DataFrame(rows)


def near_zero_stretches(series: pd.DataFrame, threshold: float = NEAR_ZERO_GPUS) -> list[tuple[pd.Timestamp, int]]:
    """Runs of consecutive hours below ``threshold`` GPUs: ``[(first hour, length [h]), ...]``."""
    s = series.sort_values("timestamp")
    low = (s["gpus"].to_numpy(dtype=float) < threshold)
    out: list[tuple[pd.Timestamp, int]] = []
    start = None
    ts = s["timestamp"].tolist()
    for i, flag in enumerate([*low.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((ts[start], i - start))
            start = None
    return out


def _fmt_table(df: pd.DataFrame, floats: dict[str, str]) -> str:
    shown = df.copy()
    for c, f in floats.items():
        if c in shown:
            shown[c] = shown[c].map(lambda x, f=f: "" if pd.isna(x) else format(x, f))
    return shown.to_string(index=False)


def demand_text(data: HistoryData) -> str:
    """Demand statistics of the family series, then the team series, with near-zero stretches."""
    fam = data.family_history()
    team = data.team_history()
    stats = demand_stats(fam)
    first, last = stats["first"].min(), stats["last"].max()
    span_h = int((last - first) / pd.Timedelta(hours=1)) + 1
    lines = [f"span: {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC ({span_h:,} hours, "
             f"{span_h / 24:.1f} days)", ""]
    cols = ["series", "hours", "missing", "mean", "p50", "p95", "max", "gpu_hours", "near_zero_h"]
    fmt = {"mean": ",.1f", "p50": ",.1f", "p95": ",.1f", "max": ",.1f", "gpu_hours": ",.0f"}
    lines.append("families:")
    lines.append(_fmt_table(stats[cols], fmt))
    total = fam.groupby("timestamp")["gpus"].sum(min_count=1)
    t = total.dropna().to_numpy(dtype=float)
    if t.size:
        lines.append(f"all families: mean {t.mean():,.1f}, p50 {np.percentile(t, 50):,.1f}, "
                     f"p95 {np.percentile(t, 95):,.1f}, max {t.max():,.1f} GPUs; {t.sum():,.0f} GPU-hours")
    for sid, g in fam.groupby("series_id", sort=True):
        runs = near_zero_stretches(g)
        if runs:
            desc = ", ".join(f"{t0:%Y-%m-%d %H:%M} UTC +{n} h" for t0, n in runs[:6])
            more = f" and {len(runs) - 6} more" if len(runs) > 6 else ""
            lines.append(f"  {sid}: {sum(n for _, n in runs)} hours below {NEAR_ZERO_GPUS:g} GPU in "
                         f"{len(runs)} stretch(es): {desc}{more}")
    if any(near_zero_stretches(g) for _, g in fam.groupby("series_id")):
        lines.append("  (kept as read: near-zero stretches of a whole family look like logging outages; the "
                     "forecaster treats them as missing, not as demand)")
    if not team.empty:
        lines += ["", "teams:", _fmt_table(demand_stats(team)[cols], fmt)]
    return "\n".join(lines)


# -- spend ----------------------------------------------------------------------------------------------


def spend_table(billing: pd.DataFrame) -> pd.DataFrame:
    """GPU-hours, effective and list cost by pricing category and commitment status, with shares."""
    b = billing.copy()
    b["category"] = b["pricing_category"].map(
        {"Standard": "Standard (on-demand)", "Dynamic": "Dynamic (spot)", "Committed": "Committed"}
    ).fillna(b["pricing_category"])
    status = b["commitment_status"].astype("string").fillna("")
    b["category"] = np.where(status != "", b["category"] + " / " + status, b["category"])
    g = b.groupby("category", sort=True)[["gpu_hours", "effective_cost_usd", "list_cost_usd"]].sum()
    total = g.sum()
    g.loc["total"] = total
    g["share_of_cost"] = g["effective_cost_usd"] / total["effective_cost_usd"] if total["effective_cost_usd"] else np.nan
    return g.reset_index()


def spend_text(sc: Scenario, data: HistoryData) -> str:
    """Spend by pricing category: billed rows for FOCUS/CUR, else the history priced per the scenario."""
    lines: list[str] = []
    if data.billing is not None:
        billing = data.billing
        lines.append(f"from the {sc.demand.format.upper()} export's GPU rows (effective cost = amortised, what was "
                     "paid; list cost = the same GPU-hours at public on-demand prices)")
    else:
        billing = price_usage(sc, data.family_history())
        held = [f"{r.gpus:g} {r.family} GPUs reserved {r.term_years}y at {r.usd_per_gpu_hour:g} USD/GPU-h"
                for r in sc.current.reserved]
        held += [f"committed spend {v:g} USD/h ({term})" for term, v in sc.current.committed_usd_per_hour.items()
                 if v > 0]
        rates = ", ".join(f"{f} {fam.on_demand_usd_per_gpu_hour:g}" for f, fam in sc.catalog.items())
        lines.append("ASSUMPTION: the history carries no prices, so each hour's demand is priced as the "
                     "scenario's current commitments would bill it; the rest on demand at the catalog's list "
                     f"rates [USD/GPU-hour]: {rates}.")
        lines.append("current commitments ([current]): " + ("; ".join(held) if held else
                                                          "none, so everything is on demand") + ".")
        lines.append("no spot is assumed (the history does not say which work could be interrupted); "
                     "missing hours are not priced.")
    lines.append("")
    fmt = {"gpu_hours": ",.0f", "effective_cost_usd": ",.2f", "list_cost_usd": ",.2f", "share_of_cost": ".1%"}
    lines.append(_fmt_table(spend_table(billing), fmt))
    k = billing_kpis(billing)
    lines += ["", "by family (coverage = committed / used GPU-hours; utilization = used / paid commitment):"]
    kcols = ["gpu_hours", "coverage", "utilization", "spot_share", "effective_cost_usd", "list_cost_usd",
             "savings_vs_list", "effective_usd_per_gpu_hour"]
    shown = k[kcols].reset_index()
    lines.append(_fmt_table(shown, {"gpu_hours": ",.0f", "coverage": ".1%", "utilization": ".1%",
                                    "spot_share": ".1%", "effective_cost_usd": ",.2f", "list_cost_usd": ",.2f",
                                    "savings_vs_list": ".1%", "effective_usd_per_gpu_hour": ",.3f"}))
    if not billing.empty:
        hours = int((billing["timestamp"].max() - billing["timestamp"].min()) / pd.Timedelta(hours=1)) + 1
        per_year = float(billing["effective_cost_usd"].sum()) / hours * 8760.0
        lines.append(f"run rate: {per_year:,.0f} USD/year = the spend above over its {hours:,} hours, x 8,760")
    return "\n".join(lines)


# -- settings -------------------------------------------------------------------------------------------


def settings_text(sc: Scenario) -> str:
    """A compact view of the scenario's effective settings."""
    rows = []
    for slug, f in sc.catalog.items():
        reserved = ", ".join(f"{o.term_years}y {o.payment.replace('_', ' ')} {o.usd_per_gpu_hour:g}"
                             for o in f.reserved) or "-"
        committed = ", ".join(f"{t} {d:.0%}" for t, d in f.committed_discount.items()) or "-"
        if f.spot is None:
            spot = "-"
        else:
            level = f"{f.spot.usd_per_gpu_hour:g}" if f.spot.usd_per_gpu_hour is not None else f.spot.price_file
            spot = (f"{level} USD/GPU-h, hazard {f.spot.hazard():.2e}/h"
                    f"{f' (band {f.spot.interruption_band})' if f.spot.hazard_per_hour is None else ''}, "
                    f"cap {f.spot.available_gpus:g} GPUs")
        rows.append({"family": slug, "on-demand": f"{f.on_demand_usd_per_gpu_hour:g}",
                     "reserved [USD/GPU-h]": reserved, "committed discount": committed, "spot": spot,
                     "power": f"{f.gpu_power_kw:g} kW x PUE {f.pue:g}", "region": f.region})
    d, fc, w, p, r = sc.demand, sc.demand.forecast, sc.workload, sc.policies, sc.policies.risk
    g = w.generator
    lines = ["catalog:", pd.DataFrame(rows).to_string(index=False), ""]
    lines.append(f"demand: {d.history} ({d.format}; tz {d.tz or 'given in the file'}; series keys "
                 f"{'/'.join(d.series_keys)}; scale {d.scale:g}; preemptible share {d.preemptible_share:.0%})")
    if d.team_family:
        by_fam: dict[str, list[str]] = {}
        for team, fam in d.team_family.items():
            by_fam.setdefault(fam, []).append(team)
        lines.append("  teams -> family: " + "; ".join(f"{f}: {', '.join(t)}" for f, t in by_fam.items()))
    lines.append(f"  forecast: model {fc.model}, horizon {fc.horizon_hours:,} h, {fc.n_paths} paths, levels "
                 f"{fc.levels} %, growth {fc.growth_rate_per_year:+.0%}/year, {len(fc.steps)} planned steps, "
                 f"seed {fc.seed}")
    if w.trace:
        lines.append(f"workload: trace {w.trace}")
    else:
        lines.append(f"workload: generated {g.n_jobs} jobs over {g.span_days:g} days from {g.runtime_source} "
                     f"runtimes, {g.preemptible_share:.0%} preemptible, {g.flexible_share:.0%} flexible, "
                     f"teams {', '.join(g.teams)}, seed {g.seed}")
    lines.append(f"  checkpoint {w.checkpoint_cost_hours:g} h, restart {w.restart_cost_hours:g} h, "
                 f"default family {w.family or sc.families[0]}")
    for name, rs in sc.signals.regions.items():
        src = (f"files {rs.carbon_file or '-'} / {rs.price_file or '-'}" if (rs.carbon_file or rs.price_file)
               else f"SYNTHETIC '{rs.profile}' profile, mean {rs.carbon_mean_gco2_per_kwh:g} gCO2e/kWh and "
                    f"{rs.price_mean_usd_per_mwh:g} USD/MWh, seed {rs.seed}")
        lines.append(f"signals {name}: {src}")
    budget = f"{p.budget_usd_per_year:,.0f} USD/year" if p.budget_usd_per_year else "none"
    lines.append(f"policies: budget {budget}; commitment cap "
                 f"{'none' if p.max_commitment_share is None else f'{p.max_commitment_share:.0%} of mean demand'}; "
                 f"on-demand headroom {p.min_on_demand_headroom:.0%}; carbon price "
                 f"{p.carbon_price_usd_per_tonne:g} USD/t; risk {r.measure}"
                 f"{f' (alpha {r.alpha:g}, weight {r.weight:g})' if r.measure != 'none' else ''}; "
                 f"deferral {p.deferral}; spot fallback after {p.spot_fallback_after_interruptions} interruptions")
    lines.append(f"solver: {sc.solver.name}, {sc.solver.time_limit_s:g} s, gap {sc.solver.mip_gap:g}; "
                 f"simulation: {sc.simulation.replications} replications, seed {sc.simulation.seed}")
    held = len(sc.current.reserved) + len([v for v in sc.current.committed_usd_per_hour.values() if v > 0])
    lines.append(f"current commitments: {held or 'none'}; plan start: "
                 f"{sc.start.isoformat() if sc.start else 'the hour after the history ends'}")
    return "\n".join(lines)
