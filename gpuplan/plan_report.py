"""Write a :class:`~gpuplan.pipeline.PlanRun` as one self-contained HTML report plus its tables as CSV.

The report is written for a reader who has not seen the code: each section says what it shows, and the
assumptions each figure rests on are listed under it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpuplan import charts
from gpuplan.inference import add_inference_section, inference_tables
from gpuplan.pipeline import LEVER_RANGES, PlanRun
from gpuplan.report import Report
from optimizer.analytics import curve_break_even
from optimizer.plots import plot_cost_curve, plot_frontier, plot_pareto
from scenarios.io import atomic_dir, atomic_write, write_frame
from scenarios.loader import effective_dict
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
    return {k: v for k, v in tables.items() if v is not None and len(v.columns)}


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
        sec.table(purchases[cols], "What to buy")
        sec.html("<p class='note'>quantity: GPUs for reservations, USD/hour of committed spend for savings-plan "
                 "style commitments. break_even_utilization: the share of hours (or committed dollars) that must "
                 "find use for the offer to beat on-demand. expected_utilization: its mean over the forecast "
                 "paths; utilization_p05: the 5th percentile.</p>")
    sec.table(run.comparison(), "The recommendation beside the baselines (Monte Carlo, means over replications)")
    sec.assume(
        f"Costs are simulated over {run.hours:,} h with {sc.simulation.replications if not run.extras.get('replications') else run.extras['replications']} "
        f"replications; replication i replays forecast sample path i mod {run.family_paths['sample_id'].nunique()}.",
        "trailing-30d is the cloud recommenders' rule: commit to what the last 30 days of hourly history would "
        "have made optimal, with no forecast.",
        f"Optimizer: {s['solver']} status {s['status']}, {s['variables']:,} variables on {s['representative_hours']:,} "
        f"representative hours standing for {s['path_hours']:,} path-hours; gap {s['mip_gap']}.",
        *data_notes,
    )

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
        sec.figure(plot_frontier(run.frontier),
                   "Efficient frontier: the cheapest expected cost for each level of tail risk (CVaR).")
    sec.assume(f"CVaR at alpha = {cap.alpha:.2f}: the mean cost of the worst {100 * (1 - cap.alpha):.0f} % of paths.")

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
        sec.kpis([
            ("carbon saved vs running on arrival", _pct(ss["carbon_saved_pct"])),
            ("energy cost saved", _pct(ss["energy_cost_saved_pct"])),
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

    sec = rep.section("Inputs, assumptions and provenance")
    cat = pd.DataFrame([
        {"family": k, "instance_type": v.instance_type, "on_demand_usd_per_gpu_hour": v.on_demand_usd_per_gpu_hour,
         "reserved_offers": "; ".join(f"{o.term_years}y {o.payment} {o.usd_per_gpu_hour}" for o in v.reserved),
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
        atomic_write(tmp / "plan.json", run.recommended.to_json())
        atomic_write(tmp / "scenario.json", json.dumps(effective_dict(run.scenario), indent=2))
        atomic_write(tmp / "key_figures.json", json.dumps(_jsonable(run.key_figures()), indent=2))
        atomic_write(tmp / "report.html", report.render())
    return out / "report.html"


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in d.items()}


__all__ = ["build_report", "plan_tables", "write_plan"]
