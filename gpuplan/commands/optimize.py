"""``gpuplan optimize capacity|schedule``: commitment recommendation and carbon-aware training schedule.

The command parses arguments, loads inputs with the ``scenarios`` functions, calls the public
:mod:`optimizer` API, writes tables atomically and prints a summary.  A notebook gets the same numbers
from the same functions.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpuplan.commands._common import (
    add_executor_options,
    check_output_dir,
    close_mapper,
    mapper_from_args,
    read_plan,
)
from scenarios.errors import InputError
from scenarios.io import atomic_dir, write_frame
from scenarios.loader import load_scenario
from scenarios.plan import CapacityPlan
from scenarios.readers.paths import read_paths
from scenarios.schema import Scenario

log = logging.getLogger("gpuplan")

CAPACITY_EXAMPLE = """examples:
  gpuplan optimize capacity small --forecast paths.csv --out out/capacity
  gpuplan optimize capacity default --out out/capacity          (forecasts the scenario's history first)
  gpuplan optimize capacity default --forecast paths.csv --frontier --ladder --analytics --out out/capacity

writes: plan.json (CapacityPlan.to_json), summary.json, purchases.csv, baselines.csv, path_costs.csv,
break_even.csv, cost_curve.csv + cost_curve.png, notes.txt; with --frontier frontier.csv + frontier.png;
with --ladder ladder_plan.json, ladder_tranches.csv, ladder_capacity.csv; with --analytics overcommit.csv,
three_year_discount.csv, sensitivity.csv.
"""

SCHEDULE_EXAMPLE = """examples:
  gpuplan optimize schedule small --out out/schedule
  gpuplan optimize schedule default --carbon-price 200 --pareto 0,50,100,200,400 --out out/schedule
  gpuplan optimize schedule default --plan out/capacity/plan.json --method lp-rounding --out out/schedule

writes: schedule.csv (job_id, timestamp, gpus), jobs.csv (per job: start, finish, delay, energy, carbon,
costs, and the run-on-arrival baseline), summary.json, notes.txt; with --pareto pareto.csv + pareto.png.
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Add the ``optimize`` command group."""
    p = sub.add_parser(
        "optimize", help="recommend reservations and commitments; schedule training into cheap, clean hours",
        description="Optimisation with PuLP (HiGHS by default, CBC as fallback): 'capacity' sizes reservations "
                    "and savings-plan commitments on forecast sample paths (a two-stage stochastic LP) and "
                    "compares them with all on-demand, the cloud recommenders' trailing-30-day rule and perfect "
                    "hindsight; 'schedule' places training jobs into hours to cut energy cost and carbon within "
                    "their deadlines and the hourly capacity.",
    )
    ss = p.add_subparsers(dest="optimize_command", metavar="ACTION", required=True)
    c = ss.add_parser(
        "capacity", help="recommend reserved GPUs and committed spend for the forecast",
        description="Recommend reservations (per family, term and payment option) and savings-plan style "
                    "committed spend (per term) that minimise the expected cost over the forecast's sample paths, "
                    "within the scenario's budget, caps, coverage target and risk settings. Prints the plan, its "
                    "expected cost, savings and risk next to the baselines.",
        epilog=CAPACITY_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("scenario", help="scenario TOML file or bundled name (default, small)")
    c.add_argument("--forecast", default=None, metavar="PATHS.csv",
                   help="sample paths series_id,timestamp,sample_id,gpus (family-level, timestamps with offset); "
                        "default: forecast the scenario's history first")
    c.add_argument("--solver", choices=["highs", "cbc"], default=None, help="default: [solver] name")
    c.add_argument("--max-bins", type=int, default=None,
                   help="representative hours of the reduced model (default 1200; 0 = every hour, slow)")
    c.add_argument("--no-hindsight", action="store_true", help="skip the perfect-hindsight baseline")
    c.add_argument("--no-history", action="store_true", help="skip the trailing-30-day baseline")
    c.add_argument("--frontier", action="store_true", help="also compute the cost-vs-CVaR efficient frontier")
    c.add_argument("--ladder", action="store_true", help="also compute a quarterly laddered plan")
    c.add_argument("--analytics", action="store_true",
                   help="also compute over-commitment costs, the 3-year break-even discount and a "
                        "discount x growth sensitivity table")
    add_executor_options(c)
    c.add_argument("--out", required=True, help="output folder (created; files replaced atomically)")
    c.set_defaults(func=_capacity)
    s = ss.add_parser(
        "schedule", help="schedule the scenario's training jobs into low-carbon, low-price hours",
        description="Place each job in the hours of its window (release to deadline) that minimise energy cost "
                    "+ carbon price x emissions + the on-demand cost of GPUs beyond reservations, within each "
                    "family's hourly capacity. Preemptible jobs may be split (LP); others run in one piece "
                    "(MILP). Compares with running every job on arrival.",
        epilog=SCHEDULE_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("scenario", help="scenario TOML file or bundled name (default, small)")
    s.add_argument("--start", default=None,
                   help="plan start, ISO 8601 with offset (default: scenario start, else the hour after the history)")
    s.add_argument("--plan", default=None, metavar="PLAN.json",
                   help="capacity plan whose reservations count as already paid (default: [current] reservations)")
    s.add_argument("--method", choices=["auto", "exact", "lp-rounding"], default="auto",
                   help="exact MILP, LP rounding with a stated gap (large instances), or auto (default)")
    s.add_argument("--carbon-price", type=float, default=None, help="USD/t CO2e (default: policies value)")
    s.add_argument("--slack", type=float, default=0.0, help="slack for jobs without a deadline [h] (default 0)")
    s.add_argument("--pareto", default=None, metavar="P1,P2,...",
                   help="carbon prices [USD/t] for a carbon-vs-cost Pareto curve")
    s.add_argument("--solver", choices=["highs", "cbc"], default=None, help="default: [solver] name")
    s.add_argument("--out", required=True, help="output folder (created; files replaced atomically)")
    s.set_defaults(func=_schedule)



def _history(sc: Scenario) -> pd.DataFrame | None:
    from scenarios.history import load_history

    try:
        return load_history(sc).family_history()
    except InputError as exc:
        log.warning("trailing-30-day baseline skipped: %s", exc.one_line())
        return None


def _fmt_usd(x: float) -> str:
    return f"{x:,.0f} USD" if math.isfinite(x) else "n/a"


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities (figures not available) as null, so the JSON is strict."""
    return {k: (None if isinstance(v, float | np.floating) and not math.isfinite(float(v)) else v)
            for k, v in d.items()}


def _capacity(args: argparse.Namespace) -> int:
    # submodule imports: they work however the package is installed
    from optimizer.analytics import (
        cost_curve,
        curve_break_even,
        min_three_year_discount,
        overcommit_cost,
        sensitivity_table,
    )
    from optimizer.capacity import CapacitySettings
    from optimizer.inputs import capacity_inputs
    from optimizer.plots import plot_cost_curve, plot_frontier
    from optimizer.recommend import efficient_frontier, laddered_plan, recommend_capacity, solver_config

    check_output_dir(args.out, names=("plan.json", "summary.json", "notes.txt"))  # before any work
    sc = load_scenario(args.scenario)
    progress = not getattr(args, "quiet", False)
    if args.forecast:
        paths = read_paths(args.forecast)
        log.info("read %s sample-path rows from %s", f"{len(paths):,}", args.forecast)
        source = args.forecast
    mapper = mapper_from_args(args)
    try:
        if not args.forecast:
            from gpuplan.pipeline import scenario_paths

            log.info("forecasting the scenario's history for sample paths")
            paths = scenario_paths(sc, mapper=mapper, progress=progress)
            source = "forecast of the scenario's history"
        # the same hourly spot prices as `gpuplan plan` (scenarios.signals.load_spot), so both recommend alike
        inputs = capacity_inputs(paths, sc, file=args.forecast, spot=_spot_table(sc, paths))
        history = None if args.no_history else _history(sc)
        max_bins = None if args.max_bins == 0 else (args.max_bins or CapacitySettings().max_bins)
        settings = CapacitySettings(max_bins=max_bins)
        log.info("optimising %d families x %d paths x %d hours", len(inputs.families), inputs.n_paths,
                 inputs.n_hours)
        # the same rule as `gpuplan plan`: the laddered plan is the recommendation when it is cheaper
        from gpuplan.pipeline import ladder_period

        res = recommend_capacity(inputs, sc, history=history, settings=settings, solver=args.solver,
                                 hindsight=not args.no_hindsight, mapper=mapper, progress=progress,
                                 ladder_period_hours=ladder_period(sc, inputs.n_hours))
        cfg = solver_config(sc, args.solver)
        curve = cost_curve(res.plan, inputs, alpha=res.alpha)
        extra: dict[str, pd.DataFrame] = {}
        if args.frontier:
            log.info("efficient frontier (one solve per CVaR weight)")
            extra["frontier"] = efficient_frontier(inputs, settings=settings, solver=cfg, mapper=mapper,
                                                   progress=progress)
        ladder = None
        if args.ladder:
            log.info("laddered plan (quarterly tranches)")
            ladder = laddered_plan(inputs, settings=settings, solver=cfg)
        if args.analytics:
            log.info("negotiation analytics")
            extra["overcommit"] = overcommit_cost(res.plan, inputs, settings=settings, solver=cfg, mapper=mapper,
                                                  progress=progress)
            extra["three_year_discount"] = pd.concat(
                [min_three_year_discount(inputs, growth_per_year=g) for g in (-0.25, 0.0, 0.15, 0.30)],
                ignore_index=True)
            if res.plan.reserved or res.plan.committed:
                extra["sensitivity"] = sensitivity_table(res.plan, inputs, discounts=(0.2, 0.3, 0.4, 0.5, 0.6))
    finally:
        close_mapper(mapper)
    summary = res.summary()
    summary["paths_source"] = source
    with atomic_dir(args.out) as tmp:
        (tmp / "plan.json").write_text(res.plan.to_json(), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(_finite(summary), indent=2, default=_json_default, allow_nan=False), encoding="utf-8")
        for name, frame in res.frames().items():
            write_frame(frame, tmp / f"{name}.csv")
        write_frame(curve, tmp / "cost_curve.csv")
        be = curve_break_even(curve)
        plot_cost_curve(curve, break_even_gpus=be if math.isfinite(be) else None).savefig(
            tmp / "cost_curve.png", dpi=120)
        for name, frame in extra.items():
            write_frame(frame.drop(columns=["plan_json"], errors="ignore"), tmp / f"{name}.csv")
        if "frontier" in extra:
            plot_frontier(extra["frontier"]).savefig(tmp / "frontier.png", dpi=120)
        if ladder is not None:
            (tmp / "ladder_plan.json").write_text(ladder.plan.to_json(), encoding="utf-8")
            write_frame(ladder.tranches, tmp / "ladder_tranches.csv")
            write_frame(ladder.capacity, tmp / "ladder_capacity.csv")
        (tmp / "notes.txt").write_text("\n".join(res.notes) + "\n", encoding="utf-8")
    print(_capacity_text(res, summary, ladder))
    print(f"tables written to {Path(args.out)}/")
    return 0


def _capacity_text(res: Any, s: dict[str, Any], ladder: Any) -> str:
    h = s["horizon_hours"]
    lines = [f"Capacity plan '{res.plan.name}' for {', '.join(s['families'])}: {s['n_paths']} sample paths x "
             f"{h:,} h from {s['start'][:16]} UTC ({s['status']}, {s['solver']}, {s['representative_hours']:,} "
             f"representative hours, solve {s['solve_s']:.1f} s)"]
    pur = res.purchases()
    if pur.empty:
        lines.append("  buy nothing: all on-demand (and spot) is cheapest")
    for r in pur.to_dict("records"):
        if r["kind"] == "reserved":
            inst = r.get("instances", math.nan)
            count = (f"{inst:,.0f} instance{'' if inst == 1 else 's'} = {r['quantity']:,.0f} {r['family']} GPUs"
                     if math.isfinite(inst)
                     else f"{r['quantity']:,.1f} {r['family']} GPUs")
            what = f"reserve {count}, {r['term_years']}y {r['payment']}"
            whose = f"{r['family']} demand"
        else:
            what = f"commit {r['quantity']:,.2f} USD/h, {r['term_years']}y savings plan"
            whose = "the demand of the families it applies to"
        when = "" if r["start_hour"] == 0 else f" from hour {r['start_hour']}"
        lines.append(f"  {what}{when}: expected utilization {r['expected_utilization']:.0%} "
                     f"(break-even {r['break_even_utilization']:.0%}), covers {r['coverage_share']:.0%} of {whose}")
    lines.append(f"  expected cost {_fmt_usd(s['expected_cost_usd'])} over the horizon "
                 f"(5-95 %: {_fmt_usd(s['p05_usd'])} - {_fmt_usd(s['p95_usd'])}; CVaR {s['cvar_alpha']:.0%} "
                 f"{_fmt_usd(s['cvar_usd'])})")
    lines.append(f"  saves {_fmt_usd(s['savings_usd'])} ({s['savings_pct']:.1%}) against all on-demand "
                 f"({_fmt_usd(s['all_on_demand_usd'])})")
    for key, label in (("trailing_30d_usd", "trailing-30-day rule"), ("perfect_hindsight_usd", "perfect hindsight")):
        if key in s:
            lines.append(f"  {label}: {_fmt_usd(s[key])}")
    if s.get("whole_instances"):
        lines.append(f"  whole instances: objective {_fmt_usd(s['objective_usd'])} vs LP relaxation bound "
                     f"{_fmt_usd(s['lp_bound_usd'])} (gap {s['integrality_gap_pct']:.3f} %)")
    binding = s.get("binding_constraints") or []
    lines.append("  binding constraints: " + (", ".join(binding) if binding else "none"))
    if s["unmet_gpu_hours"] > 0:
        lines.append(f"  UNMET demand: {s['unmet_gpu_hours']:,.0f} GPU-hours (penalised)")
    if ladder is not None:
        lines.append(f"  laddered plan: {len(ladder.tranches)} tranches, expected cost "
                     f"{_fmt_usd(ladder.expected_cost_usd)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
def _start(sc: Scenario, arg: str | None) -> pd.Timestamp:
    if arg:
        t = pd.Timestamp(arg)
        if t.tzinfo is None:
            raise InputError(f"--start {arg} has no UTC offset", column="--start", fix="e.g. 2026-01-05T00:00:00Z")
        return t.tz_convert("UTC").floor("h")
    if sc.start is not None:
        return pd.Timestamp(sc.start).tz_convert("UTC").floor("h")
    from scenarios.history import load_history

    hist = load_history(sc).family_history()
    return pd.Timestamp(hist["timestamp"].max()).tz_convert("UTC").floor("h") + pd.Timedelta(hours=1)


def _read_plan(path: str, families: list[str] | None = None) -> CapacityPlan:
    return read_plan(path, families)


def _schedule(args: argparse.Namespace) -> int:
    from optimizer.plots import plot_pareto
    from optimizer.schedule import optimize_schedule, schedule_pareto
    from optimizer.schedule_inputs import schedule_inputs
    from scenarios.signals import load_signals
    from scenarios.workload import load_jobs

    check_output_dir(args.out, names=("schedule.csv", "jobs.csv", "summary.json", "notes.txt"))
    sc = load_scenario(args.scenario)
    plan = _read_plan(args.plan, list(sc.families)) if args.plan else None  # checked before any work
    t0 = _start(sc, args.start)
    jobs = load_jobs(sc, start=t0)
    if jobs.empty:
        raise InputError("the scenario has no jobs to schedule", column="workload")
    first = pd.Timestamp(jobs["submit_time"].min()).floor("h")
    ends = jobs["submit_time"] + pd.to_timedelta(jobs["duration_hours"] + args.slack, unit="h")
    if "deadline" in jobs.columns:
        ends = jobs["deadline"].fillna(ends)
    last = pd.Timestamp(pd.DatetimeIndex(ends).max()).ceil("h")
    hours = int((last - first) / pd.Timedelta(hours=1)) + 2
    carbon, price = load_signals(sc, first, hours)
    reserved = None
    if plan is not None:
        reserved = {f: plan.reserved_gpus(f, 0) for f in sc.families}
    inp = schedule_inputs(jobs, carbon, price, sc, reserved_gpus=reserved, default_slack_hours=args.slack,
                          carbon_price=args.carbon_price, start=first)
    cfg = sc.solver
    log.info("scheduling %d jobs over %d hours (%s)", inp.n_jobs, inp.n_hours, args.method)
    res = optimize_schedule(inp, method=args.method, solver=args.solver or cfg.name, time_limit_s=cfg.time_limit_s,
                            mip_gap=cfg.mip_gap)
    pareto = None
    if args.pareto:
        try:
            prices = tuple(float(x) for x in args.pareto.split(",") if x.strip())
        except ValueError:
            raise InputError(f"--pareto '{args.pareto}' is not a list of numbers", column="--pareto",
                             fix="e.g. --pareto 0,50,100,200") from None
        log.info("Pareto curve over %d carbon prices", len(prices))
        pareto = schedule_pareto(inp, carbon_prices=prices, method=args.method, solver=args.solver or cfg.name,
                                 time_limit_s=cfg.time_limit_s, mip_gap=cfg.mip_gap,
                                 progress=not getattr(args, "quiet", False))
    s = res.summary()
    notes = list(res.notes) + list(carbon.attrs.get("notes", [])) + list(price.attrs.get("notes", [])) + list(
        jobs.attrs.get("notes", []))
    with atomic_dir(args.out) as tmp:
        write_frame(res.schedule, tmp / "schedule.csv")
        write_frame(res.jobs, tmp / "jobs.csv")
        (tmp / "summary.json").write_text(json.dumps(_finite(s), indent=2, default=_json_default, allow_nan=False), encoding="utf-8")
        if pareto is not None:
            write_frame(pareto, tmp / "pareto.csv")
            plot_pareto(pareto).savefig(tmp / "pareto.png", dpi=120)
        (tmp / "notes.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")
    print(f"Schedule of {s['n_jobs']} jobs over {s['hours']} h ({s['method']}, {s['status']}, gap {s['gap']:.2%}, "
          f"{s['runtime_s']:.1f} s; carbon price {s['carbon_price_usd_per_tonne']:g} USD/t)")
    print(f"  emissions {s['kg_co2e']:,.0f} kg CO2e vs {s['arrival_kg_co2e']:,.0f} on arrival "
          f"(saves {s['carbon_saved_pct']:.1f} %)")
    print(f"  energy cost {_fmt_usd(s['energy_cost_usd'])} vs {_fmt_usd(s['arrival_energy_cost_usd'])} on arrival "
          f"(saves {s['energy_cost_saved_pct']:.1f} %); on-demand beyond reservations {_fmt_usd(s['capacity_cost_usd'])}")
    if s["pause_gpu_hours"] > 0:
        print(f"  as run, with {s['pause_gpu_hours']:,.1f} GPU-hours of checkpoints and restarts at pauses: saves "
              f"{s['as_run_carbon_saved_pct']:.1f} % carbon, {s['as_run_energy_cost_saved_pct']:.1f} % energy cost "
              "(replay with `gpuplan simulate --schedule` to check)")
    print(f"  mean delay {s['mean_delay_hours']:.1f} h, max {s['max_delay_hours']:.1f} h"
          + (f"; UNMET {s['unmet_gpu_hours']:,.0f} GPU-hours" if s["unmet_gpu_hours"] > 0 else ""))
    print(f"tables written to {Path(args.out)}/")
    return 0


def _spot_table(sc: Scenario, paths: pd.DataFrame) -> pd.DataFrame:
    """Hourly spot prices and availability over the paths' hours, exactly as ``gpuplan plan`` loads them
    (:func:`scenarios.signals.load_spot`; the optimizer reads no file itself)."""
    from scenarios.signals import load_spot

    ts = pd.DatetimeIndex(paths["timestamp"])
    return load_spot(sc, ts.min(), int((ts.max() - ts.min()) / pd.Timedelta(hours=1)) + 1)
