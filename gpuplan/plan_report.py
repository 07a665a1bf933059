"""Write a :class:`~gpuplan.pipeline.PlanRun` as one self-contained HTML report plus its tables as CSV.

The report is written for a reader who has not seen the code: each section says what it shows, and the
assumptions each figure rests on are listed under it.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpuplan import charts
from gpuplan.backtest_report import backtest_section, backtest_tables
from gpuplan.inference import add_inference_section, inference_tables
from gpuplan.monitor.run import monitor_section, monitor_tables
from gpuplan.pipeline import LEVER_RANGES, PlanRun
from gpuplan.report import Report, money
from optimizer.analytics import curve_break_even
from optimizer.plots import plot_cost_curve, plot_frontier, plot_pareto
from scenarios.io import atomic_dir, atomic_write, write_frame
from scenarios.loader import effective_dict
from scenarios.schema import HOURS_PER_YEAR
from simulator.focus import to_focus

POOLS = ("reserved", "committed", "spot", "on_demand")


def _usd(x: Any) -> str:
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    if abs(x) >= 1e6:
        return f"${x / 1e6:,.2f}M"
    if abs(x) >= 1e3:
        return f"${x / 1e3:,.1f}k"
    return f"${x:,.2f}"


def _pct(x: Any) -> str:
    x = float(x)
    return "n/a" if not np.isfinite(x) else f"{x:.1f} %"


def pool_costs(run: PlanRun) -> pd.DataFrame:
    """Mean simulated cost per plan and pool [USD] (``plan, pool, cost_usd``)."""
    rows = []
    for name, sim in run.simulations.items():
        for pool in POOLS:
            col = f"cost_{pool}_usd"
            if col in sim.kpis:
                rows.append({"plan": name, "pool": pool, "cost_usd": float(sim.kpis[col].mean())})
    return pd.DataFrame(rows)


def showback(run: PlanRun, plan: str = "recommended") -> pd.DataFrame:
    """Mean showback per team for one plan [USD], with commitment cost allocated by use."""
    t = run.simulations[plan].teams
    num = t.drop(columns=["replication"]).groupby("team").mean(numeric_only=True).reset_index()
    return num.sort_values("showback_usd", ascending=False).reset_index(drop=True)


def spot_table(run: PlanRun) -> pd.DataFrame:
    """Spot results per plan: interruptions, lost GPU-hours, spot cost, cost per useful GPU-hour."""
    rows = []
    for name, sim in run.simulations.items():
        k = sim.kpis
        rows.append({
            "plan": name,
            "job_interruptions": float(k["job_interruptions"].mean()),
            "demand_interruptions": float(k["demand_interruptions"].mean()),
            "lost_gpu_hours": float((k["job_lost_gpu_hours"] + k["demand_lost_gpu_hours"]).mean()),
            "spot_cost_usd": float(k["cost_spot_usd"].mean()),
            "cost_per_useful_gpu_hour": float(k["cost_per_useful_gpu_hour"].mean()),
            "deadline_misses": float(k["deadline_misses"].mean()),
        })
    return pd.DataFrame(rows)


def plan_tables(run: PlanRun) -> dict[str, pd.DataFrame]:
    """Every table of the report, by CSV file stem."""
    tables: dict[str, pd.DataFrame] = {
        "forecast": run.forecast.forecast,
        "forecast_models": run.forecast.report,
        "outages": run.forecast.outages,
        "purchases": run.capacity.purchases(),
        "optimizer_baselines": run.capacity.baseline_table(),
        "break_even": run.capacity.frames()["break_even"],
        "plan_comparison": run.comparison(),
        "simulated_costs": run.plan_costs(),
        "cost_by_pool": pool_costs(run),
        "showback": showback(run),
        "spot": spot_table(run),
        "levers": run.levers,
        "cost_curve": run.cost_curve if run.cost_curve is not None else pd.DataFrame(),
        "frontier": run.frontier if run.frontier is not None else pd.DataFrame(),
        "ladder": run.extras.get("ladder", pd.DataFrame()),
        "term_contracts": run.term.contracts if run.term is not None else pd.DataFrame(),
        "term_by_year": run.term.years if run.term is not None else pd.DataFrame(),
        "term_by_purchase_and_year": run.term.purchases if run.term is not None else pd.DataFrame(),
        "three_year_vs_renewed_one_year": run.extras.get("renewal", pd.DataFrame()),
        "purchase_calendar": run.calendar,
        "holdings": run.holdings,
        "pareto": run.pareto,
    }
    for name, sim in run.simulations.items():
        tables[f"kpis_{name}"] = sim.kpis
    # FOCUS-shaped charge rows of the recommendation (first replication, daily), for FOCUS dashboards.
    tables["focus_recommended"] = to_focus(run.simulations["recommended"], replication=0, period="day")
    if run.schedule is not None:
        tables["schedule"] = run.schedule.schedule
        tables["schedule_jobs"] = run.schedule.jobs
    if run.extras.get("inference") is not None:
        tables.update(inference_tables(run.extras["inference"]))
    if run.extras.get("backtest") is not None:
        tables.update(backtest_tables(run.extras["backtest"]))
    if run.extras.get("monitor") is not None:
        tables.update({f"monitor_{k}": v for k, v in monitor_tables(run.extras["monitor"]).items()})
    return {k: v for k, v in tables.items() if v is not None and len(v.columns)}


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of ``a - b`` over paired replications with its Student-t confidence interval.

    Replication ``i`` of every plan replays the same demand path with the same seed (common random
    numbers), so the plans' costs are compared pair by pair.

    Returns
    -------
    tuple
        ``(mean, low, high, n)`` [same unit as the inputs]; low = high = mean when ``n < 2``.
    """
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = int(d.size)
    m = float(d.mean()) if n else math.nan
    if n < 2:
        return m, m, m, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half, n


def _sim_costs(run: PlanRun, plan: str) -> np.ndarray:
    k = run.simulations[plan].kpis.sort_values("replication")
    return k["total_cost_usd"].to_numpy(dtype=float)


def _instances(run: PlanRun, row: dict[Any, Any]) -> tuple[float, str]:
    """``(GPUs per instance, instance type)`` of a purchase: the plan's column when it has one, else the
    catalog's instance type; NaN when unknown."""
    fam = row.get("family")
    g = run.scenario.catalog.get(str(fam)) if isinstance(fam, str) else None
    itype = (g.instance_type or "") if g is not None else ""
    size = row.get("gpus_per_instance")
    if size is not None and np.isfinite(float(size)) and float(size) > 0:
        return float(size), itype or "instances"
    if g is not None and g.instance_type:
        from scenarios.catalog import instance_gpus

        hit = instance_gpus(g.instance_type)
        if hit is not None:
            return float(hit[1]), g.instance_type
    return math.nan, itype


def purchase_lines(run: PlanRun) -> pd.DataFrame:
    """What to buy and when, one row per purchase, in instances and GPUs with the contract obligation.

    ``obligation_usd`` is what the contract commits to over its whole term: the full-term costing's figure
    (``run.term.contracts``) when the run has one, else hourly cost x term hours (``usd_per_hour x
    term_years x 8,760``; for upfront payments the effective hourly rate already includes the amortised
    upfront part).  ``in_window_usd`` is the
    part that falls inside the plan window.

    Returns
    -------
    pandas.DataFrame
        ``when, what, family, term_years, payment, instances, instance_type, gpus, usd_per_hour,
        obligation_usd, in_window_usd``.
    """
    p = run.capacity.purchases()
    if p.empty:
        return pd.DataFrame()
    term = run.extras.get("term")
    contracts = getattr(term, "contracts", None)
    stated: dict[tuple[Any, ...], float] = {}
    if isinstance(contracts, pd.DataFrame) and "obligation_usd" in contracts:
        for c in contracts.to_dict("records"):
            stated[(c["kind"], c["family"] or "", int(c["term_years"]), c["payment"], int(c["start_hour"]))] = \
                float(c["obligation_usd"])
    rows = []
    for r in p.to_dict("records"):
        term_h = float(r["term_years"]) * HOURS_PER_YEAR
        key = (r["kind"], r.get("family") if isinstance(r.get("family"), str) else "", int(r["term_years"]),
               r["payment"], int(r.get("start_hour", 0)))
        obligation = stated.get(key, float(r["usd_per_hour"]) * term_h)
        window_h = max(min(term_h, run.hours - float(r.get("start_hour", 0))), 0.0)
        if r["kind"] == "reserved":
            size, itype = _instances(run, r)
            inst = float(r["instances"]) if "instances" in r and pd.notna(r["instances"]) else (
                float(r["quantity"]) / size if np.isfinite(size) else math.nan)
            what = f"reserve {r['family']}"
            gpus = float(r["quantity"])
        else:
            size, itype, inst, gpus = math.nan, "", math.nan, math.nan
            what = "committed spend (savings plan), covers every family with a discount"
        rows.append({"when": pd.Timestamp(r["starts"]), "what": what, "family": r.get("family") or "",
                     "term_years": int(r["term_years"]), "payment": r["payment"], "instances": inst,
                     "instance_type": itype, "gpus": gpus, "usd_per_hour": float(r["usd_per_hour"]),
                     "obligation_usd": obligation, "in_window_usd": float(r["usd_per_hour"]) * window_h})
    return pd.DataFrame(rows).sort_values("when", kind="stable").reset_index(drop=True)


def history_days(run: PlanRun) -> float:
    """Length of the demand history [days] (first to last hour, inclusive)."""
    ts = pd.DatetimeIndex(run.history.family_history()["timestamp"])
    return ((ts.max() - ts.min()) / pd.Timedelta(hours=1) + 1) / 24.0


def decision_summary(run: PlanRun) -> dict[str, Any]:
    """The figures the report's opening summary states (USD over the plan window unless named otherwise).

    Keys: ``purchases`` (:func:`purchase_lines`), ``total_obligation_usd``, ``expected_cost_usd``,
    ``p95_cost_usd``, ``all_on_demand_usd``, ``saving_vs_all_on_demand_usd`` / ``_pct``,
    ``saving_vs_current_usd`` / ``_pct`` (NaN without current holdings), ``vs_trailing`` (``(mean, low,
    high, n)`` of recommended minus trailing-30d, paired over replications, or None), ``history_days``,
    ``longest_term_years``, ``calendar`` (a purchase calendar table when the plan provides one, else None).
    """
    cmp: dict[str, Any] = {str(r["plan"]): r for r in run.comparison().to_dict("records")}
    rec = cmp["recommended"]
    lines = purchase_lines(run)
    out: dict[str, Any] = {
        "purchases": lines,
        "total_obligation_usd": float(lines["obligation_usd"].sum()) if len(lines) else 0.0,
        "expected_cost_usd": float(rec["expected_cost_usd"]),
        "p95_cost_usd": float(rec["p95_cost_usd"]),
        "all_on_demand_usd": float(cmp["all-on-demand"]["expected_cost_usd"]),
        "history_days": history_days(run),
        "longest_term_years": int(lines["term_years"].max()) if len(lines) else 0,
    }
    out["saving_vs_all_on_demand_usd"] = out["all_on_demand_usd"] - out["expected_cost_usd"]
    out["saving_vs_all_on_demand_pct"] = 100.0 * out["saving_vs_all_on_demand_usd"] / out["all_on_demand_usd"] \
        if out["all_on_demand_usd"] > 0 else math.nan
    if "current" in cmp:
        cur = float(cmp["current"]["expected_cost_usd"])
        out["current_usd"] = cur
        out["saving_vs_current_usd"] = cur - out["expected_cost_usd"]
        out["saving_vs_current_pct"] = 100.0 * out["saving_vs_current_usd"] / cur if cur > 0 else math.nan
    else:
        out["current_usd"] = out["saving_vs_current_usd"] = out["saving_vs_current_pct"] = math.nan
    out["vs_trailing"] = (paired_difference(_sim_costs(run, "recommended"), _sim_costs(run, "trailing-30d"))
                          if "trailing-30d" in run.simulations else None)
    cal = run.extras.get("calendar")
    if cal is None:
        cal = getattr(run.capacity, "calendar", None)
    out["calendar"] = cal if isinstance(cal, pd.DataFrame) and len(cal) else None
    return out


def _trailing_sentence(vs: tuple[float, float, float, int] | None) -> str:
    if vs is None:
        return "No trailing-30-day baseline was simulated."
    m, lo, hi, n = vs
    if n < 2:
        return (f"Against the cloud recommenders' trailing-30-day rule: {money(abs(m))} "
                f"{'cheaper' if m < 0 else 'dearer'} on a single replication; no confidence interval.")
    ci = f"95 % confidence interval {money(lo)} to {money(hi)} over {n} paired replications"
    if lo <= 0.0 <= hi:
        return (f"Against the cloud recommenders' trailing-30-day rule: NOT significantly different. The "
                f"recommendation costs {money(abs(m))} {'less' if m < 0 else 'more'} on average, but the {ci} "
                "(recommended minus rule) includes zero: on this evidence the simpler rule would do as well.")
    word = "cheaper" if m < 0 else "dearer"
    return (f"Against the cloud recommenders' trailing-30-day rule: {money(abs(m))} {word} in expectation "
            f"({ci}, difference recommended minus rule).")


#: Title of the report section with the backtest on the scenario's own history.
BACKTEST_TITLE = "Would these rules have paid off on this history?"


def backtest_sentence(run: PlanRun) -> str | None:
    """What the backtest on the scenario's own history says of gpuplan's rule against the trailing-30-day rule.

    The reason it was left out when the history was too short; None when the plan ran no backtest.
    """
    bt = run.extras.get("backtest")
    if bt is None:
        return run.extras.get("backtest_skipped")
    s = bt.summary().set_index("policy")
    g, n = s.loc["gpuplan"], len(bt.origins)
    text = (f"On this scenario's own history ({n} backtest origin{'s' if n != 1 else ''}), gpuplan's rule cost "
            f"{g['mean_regret_pct']:.1f} % more than perfect hindsight on average (worst {g['worst_regret_pct']:.1f} %)")
    if "trailing-30d" in s.index:
        r = s.loc["trailing-30d"]
        wins = round(float(r["gpuplan_beats_share"]) * n)
        text += (f", against {r['mean_regret_pct']:.1f} % for the trailing-30-day rule; it was cheaper at {wins} of "
                 f"{n} origins")
    return text + "."


def decision_lines(run: PlanRun) -> list[str]:
    """The opening summary as plain text lines, for the terminal (the report's Decision section)."""
    d = decision_summary(run)
    lines: pd.DataFrame = d["purchases"]
    out = []
    days, term = d["history_days"], d["longest_term_years"]
    if term and days < term * 365.0:
        out.append(f"CAUTION: a {term}-year commitment recommended on {days:,.0f} days of demand history")
    if lines.empty:
        out.append("buy nothing: no reservation or commitment beats on-demand and spot")
    for r in lines.to_dict("records"):
        when = f"{pd.Timestamp(r['when']):%Y-%m-%d}"
        if r["what"].startswith("reserve"):
            inst = (f"{r['instances']:,.2f} {r['instance_type']} instances = " if np.isfinite(r["instances"]) else "")
            what = f"reserve {inst}{r['gpus']:,.1f} {r['family']} GPUs"
        else:
            what = f"commit {money(r['usd_per_hour'])}/h of spend (savings plan)"
        out.append(f"{when}: {what}, {r['term_years']}-year {r['payment'].replace('_', ' ')}, obligation "
                   f"{money(r['obligation_usd'])}")
    if len(lines):
        out.append(f"total obligation {money(d['total_obligation_usd'])} over the full terms")
    out.append(f"expected cost {money(d['expected_cost_usd'])} (p95 {money(d['p95_cost_usd'])}); saving "
               f"{money(d['saving_vs_all_on_demand_usd'])} vs all on-demand"
               + ("" if not np.isfinite(d["saving_vs_current_usd"]) else
                  f", {money(d['saving_vs_current_usd'])} vs the commitments held today"))
    out.append(_trailing_sentence(d["vs_trailing"]))
    bt = backtest_sentence(run)
    if bt:
        out.append(bt)
    return out


def _decision(rep: Report, run: PlanRun) -> None:
    """The opening summary a FinOps lead can forward: what to buy and when, obligation, savings, risk."""
    d = decision_summary(run)
    lines: pd.DataFrame = d["purchases"]
    bt = backtest_sentence(run)
    if bt and run.extras.get("backtest") is not None:
        bt += f" See '{BACKTEST_TITLE}'."
    sec = rep.section("Decision")
    end = run.start + pd.Timedelta(hours=run.hours)
    window = f"the plan window ({run.start:%Y-%m-%d} to {end:%Y-%m-%d}, {run.hours:,} h)"
    days, term = d["history_days"], d["longest_term_years"]
    if term and days < term * 365.0:
        level = "LOW CONFIDENCE" if days < 0.25 * term * 365.0 or days < 90 else "CAUTION"
        sec.banner(f"{level}: a {term}-year commitment is recommended on {days:,.0f} days of demand history. "
                   f"Demand over the {term * 365:,} days of the term is the forecast's extrapolation "
                   f"(planned growth {100 * run.scenario.demand.forecast.growth_rate_per_year:+.0f} %/year); "
                   "check the trend and the team plans behind it before signing.")
    if lines.empty:
        sec.html("<p class='lead'><b>Buy nothing.</b> On the forecast paths no reservation or commitment beats "
                 "on-demand and spot.</p>")
    else:
        items = []
        for r in lines.to_dict("records"):
            when = f"{pd.Timestamp(r['when']):%Y-%m-%d}"
            if r["what"].startswith("reserve"):
                if np.isfinite(r["instances"]):
                    whole = abs(r["instances"] - round(r["instances"])) < 1e-6
                    n_inst = f"{r['instances']:,.0f}" if whole else f"{r['instances']:,.2f}"
                    qty = f"{n_inst} {html.escape(r['instance_type'])} instances ({r['gpus']:,.1f} {r['family']} GPUs)"
                    if not whole:
                        qty += " - not a whole number of instances: round when buying"
                else:
                    qty = f"{r['gpus']:,.1f} {r['family']} GPUs"
                items.append(f"<li><b>{when}</b>: reserve {qty}, {r['term_years']}-year term, "
                             f"{r['payment'].replace('_', ' ')}; {money(r['usd_per_hour'])}/h; obligation "
                             f"<b>{money(r['obligation_usd'])}</b> over the term.</li>")
            else:
                items.append(f"<li><b>{when}</b>: commit {money(r['usd_per_hour'])}/h of spend (savings plan), "
                             f"{r['term_years']}-year term, {r['payment'].replace('_', ' ')}; obligation "
                             f"<b>{money(r['obligation_usd'])}</b> over the term.</li>")
        sec.html("<p class='lead'><b>What to buy and when</b></p><ul>" + "".join(items) + "</ul>")
        in_window = float(lines["in_window_usd"].sum())
        sec.html(f"<p class='lead'>Total obligation: <b>{money(d['total_obligation_usd'])}</b> over the full "
                 f"terms, of which {money(in_window)} falls in {window} and "
                 f"{money(d['total_obligation_usd'] - in_window)} after it.</p>")
    cur = ("" if not np.isfinite(d["saving_vs_current_usd"]) else
           f"<li>Expected saving against the commitments held today: <b>{money(d['saving_vs_current_usd'])}</b> "
           f"({d['saving_vs_current_pct']:.1f} %).</li>")
    sec.html(
        f"<ul><li>Expected cost over {window}: <b>{money(d['expected_cost_usd'])}</b>; 95th percentile "
        f"<b>{money(d['p95_cost_usd'])}</b> (one outcome in twenty costs more).</li>"
        f"{cur}<li>Expected saving against buying everything on demand: "
        f"<b>{money(d['saving_vs_all_on_demand_usd'])}</b> ({d['saving_vs_all_on_demand_pct']:.1f} %).</li>"
        f"<li>{html.escape(_trailing_sentence(d['vs_trailing']))}</li>"
        + (f"<li>{html.escape(bt)}</li>" if bt else "") + "</ul>")
    if d["calendar"] is not None:
        sec.table(d["calendar"], "Purchase calendar")
    if len(lines):
        sec.table(lines, "Purchases with their full-term obligation")
    reps = run.simulations["recommended"].kpis["replication"].nunique()
    sec.assume(f"Costs and savings are Monte Carlo means over {reps} replications of {window}; the obligation "
               "covers each contract's whole term.",
               "Savings compare the same demand, jobs and spot draws for every plan (paired replications).")


def build_report(run: PlanRun) -> Report:
    """Assemble the HTML report of a plan run."""
    sc = run.scenario
    cap = run.capacity
    s = cap.summary()
    cmp: dict[str, Any] = {str(r["plan"]): r for r in run.comparison().to_dict("records")}
    rec = cmp["recommended"]
    end = run.start + pd.Timedelta(hours=run.hours)
    rep = Report(
        title=f"GPU capacity plan: {sc.name}",
        subtitle=f"{sc.description} · plan window {run.start:%Y-%m-%d} to {end:%Y-%m-%d} UTC ({run.hours:,} h)",
    )
    _decision(rep, run)
    data_notes = [
        "Demand history: " + run.history.source + ".",
        *[n for n in run.history.notes if "SYNTHETIC" in n or "naive" in n],
    ]

    # 1. Summary --------------------------------------------------------------------------------------
    sec = rep.section("Recommendation at a glance")
    sec.kpis([
        ("expected cost over the window (simulated)", _usd(rec["expected_cost_usd"])),
        ("all on-demand, same demand (simulated)", _usd(cmp["all-on-demand"]["expected_cost_usd"])),
        ("saving vs all on-demand", _pct(rec["savings_vs_all_on_demand_pct"])),
        ("95th percentile of cost", _usd(rec["p95_cost_usd"])),
        ("commitment coverage of demand", _pct(100 * rec["coverage"])),
        ("commitment utilization", _pct(100 * rec["commitment_utilization"])),
    ])
    purchases = cap.purchases()
    if purchases.empty:
        sec.text("Buy nothing: on the forecast paths, no reservation or commitment beats on-demand and spot.")
    else:
        cols = [c for c in ["kind", "family", "term_years", "payment", "quantity", "unit", "usd_per_gpu_hour",
                            "usd_per_hour", "starts", "expires", "break_even_utilization", "expected_utilization",
                            "utilization_p05", "coverage_share"] if c in purchases]
        sec.table(purchases[cols], "Purchases in detail: rates, break-even, expected utilization and coverage")
        sec.html("<p class='note'>Quantity: GPUs for reservations, USD per hour of committed spend for "
                 "savings-plan style commitments. Break-even utilization: the share of hours (or committed "
                 "dollars) that must find use for the offer to beat on-demand. Expected utilization: its mean "
                 "over the forecast paths; the 5th percentile beside it.</p>")
    sec.table(run.comparison(), "The recommendation beside the baselines (Monte Carlo, means over replications)")
    sec.assume(
        f"Costs are simulated over {run.hours:,} h with {sc.simulation.replications if not run.extras.get('replications') else run.extras['replications']} "
        f"replications; replication i replays forecast sample path i mod {run.family_paths['sample_id'].nunique()}.",
        "trailing-30d is the cloud recommenders' rule: commit to what the last 30 days of hourly history would "
        "have made optimal, with no forecast.",
        f"Optimizer: {s['solver']} status {s['status']}, {s['variables']:,} variables on {s['representative_hours']:,} "
        f"representative hours standing for {s['path_hours']:,} path-hours; solver MIP gap {100 * float(s['mip_gap']):.3f} %.",
        (f"Reservations in whole instances: objective {_usd(s['objective_usd'])} against the LP relaxation's "
         f"bound {_usd(s['lp_bound_usd'])} (fractional GPUs), a gap of {s['integrality_gap_pct']:.3f} %."
         if s["whole_instances"] else "Reservations in GPUs: no GPUs-per-instance known for the families."),
        "Binding constraints: " + ("; ".join(f"{b['policy']} ({b['what']})" for b in cap.binding)
                                   if cap.binding else "none (no policy limits the recommendation)."),
        *data_notes,
    )

    # 1b. Full term and calendar ---------------------------------------------------------------------
    if run.term is not None and len(run.term.contracts):
        term = run.term
        sec = rep.section("Commitments over their full term, and when to buy")
        sec.kpis([("total contract obligation", _usd(term.total_obligation_usd)),
                  ("years until the last purchase expires", f"{len(term.years)}")])
        cols = [c for c in ["purchase", "kind", "family", "term_years", "payment", "start_hour", "instances", "gpus",
                            "usd_per_hour", "obligation_usd", "obligation_usd_per_year", "expected_saving_usd"]
                if c in term.contracts]
        sec.table(term.contracts[cols], "Each purchase over its whole term (obligation and expected saving in USD)")
        sec.table(term.years, "Each plan year: what the contracts oblige, the expected cost and the saving")
        if len(run.extras.get("renewal", [])):
            sec.table(run.extras["renewal"], "A 3-year term against three renewed 1-year terms, same quantity")
        if len(run.calendar):
            sec.text("The purchase calendar (buys and expiries per quarter) is in the Decision section above.")
        if len(run.holdings):
            sec.table(run.holdings, "What is held today, with dates")
        sec.assume(
            "Reservations keep their fixed rate for the whole term; savings-plan style commitments keep their "
            "discount on whatever on-demand becomes; on-demand and spot prices move by each family's "
            "on_demand_price_change_per_year / spot_price_change_per_year from one plan year to the next.",
            "A purchase's saving in a year is the plan's cost that year without it minus with it.",
            *term.notes)

    # 2. Forecast -------------------------------------------------------------------------------------
    sec = rep.section("Demand forecast")
    hist = run.history.family_history()
    for fam in sc.families:
        sec.figure(charts.fan_chart(hist, run.forecast.forecast, fam, levels=sc.demand.forecast.levels),
                   f"{fam}: last three weeks of history and the first four weeks of the forecast")
    sec.table(run.forecast.report, "Model per series")
    if len(run.forecast.outages):
        sec.table(run.forecast.outages, "Outage stretches treated as missing, not as zero demand")
    fs = sc.demand.forecast
    sec.assume(
        f"Model '{fs.model}' with {fs.n_paths} sample paths over {fs.horizon_hours:,} h; intervals {fs.levels} %.",
        f"Planned growth {100 * fs.growth_rate_per_year:.1f} % per year"
        + (f" and {len(fs.steps)} planned step(s)." if fs.steps else "."),
        *run.forecast.notes[:6],
    )

    # 3. Risk -----------------------------------------------------------------------------------------
    sec = rep.section("Cost risk")
    sec.figure(charts.cost_distribution(run.plan_costs()),
               "Each point is one Monte Carlo replication: its demand path, spot interruptions and job draws.")
    if run.frontier is not None and len(run.frontier):
        sm = cap.summary()
        sec.figure(plot_frontier(run.frontier, recommended=(float(sm["cvar_usd"]), float(sm["expected_cost_usd"]))),
                   "Efficient frontier: the cheapest expected cost for each level of tail risk (CVaR); the star "
                   "is the recommendation (optimizer evaluation on the forecast paths)."
                   + (" The frontier's plans buy everything at the plan start; the recommendation is laddered "
                      "(it buys quarter by quarter, see the purchase calendar), so it can sit below the frontier."
                      if cap.laddered else ""))
    sec.assume(f"CVaR at alpha = {cap.alpha:.2f}: the mean cost of the worst {100 * (1 - cap.alpha):.0f} % of paths.")

    # 3b. Backtest on the scenario's own history ----------------------------------------------------------
    if run.extras.get("backtest") is not None:
        backtest_section(run.extras["backtest"], rep.section(BACKTEST_TITLE))

    # 4. Cost vs commitment ---------------------------------------------------------------------------
    sec = rep.section("Cost against commitment")
    curve = run.cost_curve
    if curve is not None and len(curve):
        be_raw = curve_break_even(curve)
        be = None if np.isnan(be_raw) else be_raw
        top = float(curve["factor"].max())
        sec.figure(plot_cost_curve(curve, break_even_gpus=be),
                   f"Expected cost as the recommended portfolio is scaled from nothing to {top:g} times its size. "
                   + (f"Break-even (dashed, {be:,.0f} GPU-equivalents): beyond it, committing costs more than "
                      "buying nothing." if be else
                      f"Even at {top:g} times the recommendation, committing still costs less than buying "
                      "nothing, so no break-even point is marked."))
    sec.table(cap.frames()["break_even"], "Break-even utilization of each offer")
    sec.assume("Costs in this section are computed exactly on every hour of every forecast path "
               "(optimizer evaluation), without spot interruptions.")

    # 5. Cost by pool and team ------------------------------------------------------------------------
    sec = rep.section("Where the money goes")
    sec.figure(charts.stacked_bars(pool_costs(run), "plan", "pool", "cost_usd",
                                   "Simulated cost by pool", "USD over the window"))
    sb = showback(run)
    keep = [c for c in sb.columns if c in ("team", "gpu_hours", "showback_usd") or c.endswith("_usd")]
    sec.table(sb[keep], "Showback by team for the recommended plan (commitment cost allocated by use)")
    sec.assume("Each team's share of reserved and committed cost is allocated by its GPU-hours on them; "
               "idle reserved and unused commitment are allocated the same way.")

    # 6. Spot -----------------------------------------------------------------------------------------
    sec = rep.section("Spot: interruptions and lost work")
    sec.table(spot_table(run))
    spot_lines = []
    for fam, g in sc.catalog.items():
        if g.spot is not None:
            spot_lines.append(
                f"{fam}: spot {g.spot.usd_per_gpu_hour} USD/GPU-hour, band {g.spot.interruption_band}, hazard "
                f"{g.spot.hazard():.2e}/h, up to {g.spot.available_gpus:g} GPUs, {g.spot.correlated_events_per_month:g} "
                f"correlated revocations and {g.spot.drought_events_per_month:g} droughts per month.")
    sec.assume(*spot_lines,
               f"Checkpoint cost {sc.workload.checkpoint_cost_hours} h, restart {sc.workload.restart_cost_hours} h; "
               "checkpoint interval Young/Daly for the hazard unless a job sets one.",
               f"{100 * sc.demand.preemptible_share:.0f} % of demand tolerates interruption and may run on spot.")

    # 7. Schedule -------------------------------------------------------------------------------------
    sec = rep.section("Carbon- and price-aware training schedule")
    if run.schedule is None:
        sec.text("No schedule was computed: " + "; ".join(n for n in run.notes if n.startswith("schedule")))
    else:
        ss = run.schedule.summary()
        rp = run.extras.get("schedule_replay")
        realized = ([("carbon saved vs running on arrival (simulated)", _pct(rp["carbon_saved_pct"])),
                     ("energy cost saved (simulated)", _pct(rp["energy_cost_saved_pct"])),
                     ("deadline misses per run: on arrival / replayed",
                      f"{rp['deadline_misses_arrival']:,.1f} / {rp['deadline_misses_replay']:,.1f}")] if rp else [])
        sec.kpis([
            *realized,
            ("carbon saved, optimizer's estimate", _pct(ss["as_run_carbon_saved_pct"])),
            ("energy cost saved, optimizer's estimate", _pct(ss["as_run_energy_cost_saved_pct"])),
            ("jobs scheduled", f"{ss['n_jobs']:,}"),
            ("method / gap to bound", f"{ss['method']} / {100 * ss['gap']:.2f} %"),
        ])
        if len(run.pareto):
            sec.figure(plot_pareto(run.pareto), "Each point: the optimal schedule at one internal carbon price.")
            sec.table(run.pareto, "Carbon vs cost vs delay as the carbon price varies")
        sec.figure(charts.run_heatmap(run.schedule.schedule), "GPUs running per hour of day and day (optimised).")
        sec.assume(
            f"Carbon price {sc.policies.carbon_price_usd_per_tonne} USD/t; energy = GPUs x power x PUE x hours, "
            "priced at the hourly electricity price; jobs may not start before release nor end after deadline.",
            "Energy prices and carbon intensity in the bundled default are SYNTHETIC (seeded generators shaped "
            "like the named grids; see docs/data.md)." if any(
                r.carbon_file is None for r in sc.signals.regions.values()) else "Signals from the scenario's files.",
        )

    # 8. Levers ---------------------------------------------------------------------------------------
    sec = rep.section("Savings levers: this scenario against practitioners' ranges")
    sec.table(run.levers)
    sec.assume("Typical ranges quoted by practitioners: " + "; ".join(
        f"{k}: {'no range given' if v is None else f'{v[0]:.0f}-{v[1]:.0f} %'}" for k, v in LEVER_RANGES.items()),
        "Each lever's saving is measured in this scenario's simulation (or schedule) as described in 'how'.")

    # 9. Provenance -----------------------------------------------------------------------------------
    if run.extras.get("inference") is not None:
        add_inference_section(rep, run.extras["inference"])

    if run.extras.get("monitor") is not None:   # the history is a bill: the weekly FinOps review of it
        monitor_section(run.extras["monitor"], rep)

    sec = rep.section("Inputs, assumptions and provenance")
    cat = pd.DataFrame([
        {"family": k, "instance_type": v.instance_type, "on_demand_usd_per_gpu_hour": v.on_demand_usd_per_gpu_hour,
         "reserved_offers": "; ".join(f"{o.term_years}y {o.payment.replace('_', ' ')} {o.usd_per_gpu_hour}"
                                    for o in v.reserved),
         "committed_discount": ", ".join(f"{t} {d:.0%}" for t, d in v.committed_discount.items()),
         "gpu_power_kw": v.gpu_power_kw, "pue": v.pue, "region": v.region}
        for k, v in sc.catalog.items()
    ])
    sec.table(cat, "GPU catalog")
    timings = pd.DataFrame([{"step": k, "seconds": v} for k, v in run.timings.items()])
    sec.table(timings, "Run time per step")
    notes = run.notes + cap.notes
    if notes:
        sec.html("<h3>Notes from the run</h3><ul>" + "".join(f"<li>{n}</li>" for n in notes[:30]) + "</ul>")
    sec.html("<p class='note'>The scenario's full effective settings are in <code>scenario.json</code> beside "
             "this report; every table is in the <code>tables/</code> folder as CSV.</p>")
    return rep


def write_plan(run: PlanRun, out_dir: str | Path) -> Path:
    """Write ``report.html``, ``plan.json``, ``scenario.json`` and ``tables/*.csv`` into ``out_dir``.

    Written atomically: the folder's files appear only when everything has been written.

    Returns
    -------
    pathlib.Path
        Path of the HTML report.
    """
    out = Path(out_dir)
    report = build_report(run)
    with atomic_dir(out) as tmp:
        for name, df in plan_tables(run).items():
            write_frame(df, tmp / "tables" / f"{name}.csv")
        atomic_write(tmp / "plan.json", json.dumps(run.plan_document(), indent=2, allow_nan=False))
        atomic_write(tmp / "scenario.json", json.dumps(effective_dict(run.scenario), indent=2))
        atomic_write(tmp / "key_figures.json", json.dumps(_jsonable(run.key_figures()), indent=2))
        atomic_write(tmp / "report.html", report.render())
    return out / "report.html"


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in d.items()}


__all__ = ["build_report", "plan_tables", "write_plan"]
