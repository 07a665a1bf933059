"""``gpuplan simulate SCENARIO [--plan PLAN.json] --out DIR``: Monte Carlo simulation of a capacity plan.

Parses arguments, loads the scenario's jobs, signals and spot prices with the ``scenarios`` functions, calls
:func:`simulator.simulate`, writes the result tables as CSV (atomically) and prints a summary.  A notebook
gets the same numbers from the same functions.
"""

from __future__ import annotations

import argparse
import logging

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

log = logging.getLogger("gpuplan")

EXAMPLE = """examples:
  gpuplan simulate small --out out/sim                      current commitments, scenario's jobs
  gpuplan simulate default --plan plan.json --replications 50 --seed 7 --out out/sim
  gpuplan simulate default --plan plan.json --demand paths.csv --dask local --out out/sim

writes: kpis.csv (one row per replication), summary.csv (mean and 95% CI per KPI), jobs.csv,
teams.csv (showback), hourly.csv and charges.csv (first replication unless --detail all),
focus.csv (FOCUS-shaped charge rows), plan.json and notes.txt.
"""


SIMULATE_OUTPUTS = ("kpis.csv", "summary.csv", "jobs.csv", "teams.csv", "hourly.csv", "charges.csv",
                    "focus.csv", "plan.json", "notes.txt")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` command."""
    p = sub.add_parser(
        "simulate", help="simulate a capacity plan: spot interruptions, queueing, cost, energy, carbon",
        description="Replay the scenario's training jobs (SimPy) and, optionally, an hourly aggregate demand "
                    "(fluid load) on reserved, committed, on-demand and spot capacity, with spot "
                    "interruptions, checkpointing, queueing, policies and hourly energy price and carbon. "
                    "Runs N seeded Monte Carlo replications and writes tidy CSV tables.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", help="scenario TOML file or bundled name (default, small)")
    p.add_argument("--plan", default=None,
                   help="capacity plan JSON (CapacityPlan.to_json(), e.g. from gpuplan optimize); "
                        "default: the scenario's [current] commitments, or all on-demand")
    p.add_argument("--demand", default=None,
                   help="CSV of hourly aggregate demand: family,timestamp,gpus or forecast sample paths "
                        "series_id,timestamp,sample_id,gpus (one path per replication); timestamps with offset")
    p.add_argument("--schedule", default=None,
                   help="optimizer schedule CSV job_id,timestamp,gpus: jobs run in every scheduled hour")
    p.add_argument("--no-jobs", action="store_true", help="simulate only the --demand fluid load, no jobs")
    p.add_argument("--replications", type=int, default=None, help="Monte Carlo replications "
                   "(default: [simulation] replications)")
    p.add_argument("--seed", type=int, default=None, help="root seed (default: [simulation] seed)")
    p.add_argument("--start", default=None, help="plan start, ISO 8601 with offset (default: scenario start, "
                   "else the hour after the demand history ends)")
    p.add_argument("--hours", type=int, default=None, help="simulated hours (default: see docs/simulator.md)")
    p.add_argument("--detail", choices=["first", "all", "none"], default="first",
                   help="replications that keep hourly.csv and charges.csv (default: %(default)s)")
    add_executor_options(p)
    p.add_argument("--out", required=True, help="output folder (created; files replaced atomically)")
    p.set_defaults(func=_run)


def _read_plan(path: str, families: list[str] | None = None) -> CapacityPlan:
    return read_plan(path, families)


def _read_csv_times(path: str, time_cols: tuple[str, ...], what: str) -> pd.DataFrame:
    """Read a CSV with the readers' checks: times with a UTC offset, ``gpus`` >= 0 and whole ``sample_id``
    numbers, every bad cell named by row; other columns as numbers where every cell is one, else text."""
    from scenarios.readers._checks import ROW, parse_number, parse_time, read_table, require_columns

    raw = read_table(path, what=what)
    require_columns(raw, list(time_cols), file=path, what=what, check_misspelt=False)
    out = {}
    for col in raw.columns:
        if col == ROW:
            continue
        if col in time_cols:
            out[col] = parse_time(raw, col, file=path, tz=None, zone_option=False)
        elif col == "gpus":
            out[col] = parse_number(raw, col, file=path, unit="GPUs")
        elif col == "sample_id":
            out[col] = parse_number(raw, col, file=path, unit="path numbers", integer=True).astype("int64")
        else:
            num = pd.to_numeric(raw[col], errors="coerce")
            out[col] = num if bool((num.notna() | raw[col].isna()).all()) else raw[col]
    return pd.DataFrame(out)


def _run(args: argparse.Namespace) -> int:
    from scenarios.plan import current_plan
    from scenarios.signals import load_signals, load_spot
    from scenarios.workload import load_jobs, plan_start
    from simulator.api import simulate  # submodules: works even where an old editable install
    from simulator.focus import to_focus  # registered simulator/ as a namespace package
    from simulator.inputs import simulation_window

    check_output_dir(args.out, names=SIMULATE_OUTPUTS)  # before any work
    sc = load_scenario(args.scenario)
    plan = _read_plan(args.plan, list(sc.families)) if args.plan else current_plan(sc)
    demand = _read_csv_times(args.demand, ("timestamp",), "demand") if args.demand else None
    schedule = _read_csv_times(args.schedule, ("timestamp",), "schedule") if args.schedule else None
    if args.no_jobs and demand is None:
        raise InputError("--no-jobs leaves nothing to simulate", column="--no-jobs", fix="give --demand too")
    start = pd.Timestamp(args.start) if args.start else None
    if start is not None and start.tzinfo is None:
        raise InputError(f"--start {args.start} has no UTC offset", column="--start",
                         fix="e.g. --start 2026-01-01T00:00:00Z")
    if start is None and sc.start is None and demand is not None:
        start = pd.Timestamp(demand["timestamp"].min())
    start = plan_start(sc, start)
    jobs = None if args.no_jobs else load_jobs(sc, start)
    t0, hours = simulation_window(sc, jobs=jobs, demand=demand, start=start, hours=args.hours)
    carbon, price = load_signals(sc, t0, hours)
    spot = load_spot(sc, t0, hours)
    progress = not getattr(args, "quiet", False)
    log.info("simulating plan '%s' on '%s': %s jobs, %d h from %s", plan.name, sc.name,
             "no" if jobs is None else f"{len(jobs):,}", hours, f"{t0:%Y-%m-%d %H:%M} UTC")
    mapper = mapper_from_args(args)
    try:
        res = simulate(sc, plan, jobs=jobs, demand=demand, carbon=carbon, price=price, spot=spot,
                       schedule=schedule, replications=args.replications, seed=args.seed, start=t0, hours=hours,
                       detail=args.detail, mapper=mapper, progress=progress)
    finally:
        close_mapper(mapper)
    with atomic_dir(args.out) as tmp:
        write_frame(res.kpis, tmp / "kpis.csv")
        write_frame(res.summary, tmp / "summary.csv")
        write_frame(res.jobs, tmp / "jobs.csv")
        write_frame(res.teams, tmp / "teams.csv")
        if len(res.hourly):
            write_frame(res.hourly, tmp / "hourly.csv")
            write_frame(res.charges, tmp / "charges.csv")
            write_frame(to_focus(res), tmp / "focus.csv")
        (tmp / "plan.json").write_text(plan.to_json(), encoding="utf-8")
        notes = list(res.meta["notes"]) + [str(n) for f in (carbon, price, spot) for n in f.attrs.get("notes", [])]
        if jobs is not None:
            notes += [str(n) for n in jobs.attrs.get("notes", [])]
        (tmp / "notes.txt").write_text("\n".join(notes) + ("\n" if notes else ""), encoding="utf-8")
    print(res.describe())
    print(f"tables written to {args.out}/ (kpis, summary, jobs, teams"
          f"{', hourly, charges, focus' if len(res.hourly) else ''}, plan.json, notes.txt)")
    return 0
