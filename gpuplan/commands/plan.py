"""``gpuplan plan SCENARIO --out DIR``: the whole pipeline and the HTML report."""

from __future__ import annotations

import argparse
import logging
import time

from gpuplan.commands._common import (
    PLAN_OUTPUTS,
    add_executor_options,
    check_output_dir,
    close_mapper,
    mapper_from_args,
)
from scenarios.loader import load_scenario, parse_value

log = logging.getLogger("gpuplan")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``plan`` command."""
    p = sub.add_parser(
        "plan", help="forecast -> optimize -> simulate -> schedule -> HTML report",
        description="Run the whole pipeline on a scenario: forecast demand with sample paths, recommend "
                    "reservations and commitments, simulate the recommendation and the baselines (all "
                    "on-demand, the trailing-30-day rule, current commitments) under spot interruptions and "
                    "hourly energy prices, schedule training into cheap low-carbon hours, and write one "
                    "self-contained HTML report with its tables as CSV.",
        epilog="example: gpuplan plan default --out out/plan   (then open out/plan/report.html)",
    )
    p.add_argument("scenario", help="scenario TOML file or bundled name (default, small)")
    p.add_argument("--out", required=True, help="output folder (report.html, plan.json, tables/*.csv)")
    p.add_argument("--replications", type=int, default=None, help="override simulation.replications")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. --set demand.forecast.n_paths=20 (repeatable)")
    add_executor_options(p)
    p.set_defaults(func=run)


def overrides_from(pairs: list[str]) -> dict[str, object]:
    """Parse ``KEY=VALUE`` pairs (values as TOML: numbers, booleans, strings, lists)."""
    from scenarios.errors import InputError

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"'{pair}' is not KEY=VALUE", column="--set", fix="e.g. --set simulation.replications=10")
        out[key.strip()] = parse_value(value.strip())
    return out


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and write the report."""
    from gpuplan.pipeline import run_plan
    from gpuplan.plan_report import decision_lines, write_plan

    t0 = time.perf_counter()
    check_output_dir(args.out, names=PLAN_OUTPUTS)  # before the long run
    sc = load_scenario(args.scenario, overrides=overrides_from(args.set) or None)
    mapper = mapper_from_args(args)
    try:
        result = run_plan(sc, mapper=mapper, progress=not args.quiet, replications=args.replications)
    finally:
        close_mapper(mapper)
    log.info("writing the report ...")
    path = write_plan(result, args.out)
    k = result.key_figures()
    print(f"Plan for scenario '{sc.name}' ({result.hours:,} h from {result.start:%Y-%m-%d %H:%M} UTC)")
    for line in decision_lines(result):
        print(f"  {line}")
    binding = result.capacity.binding
    print("  binding constraints: " + (", ".join(b["policy"] for b in binding) if binding else "none"))
    if "schedule_carbon_saved_pct" in k:
        print(f"  carbon-aware schedule, replayed in the simulator: {k['schedule_carbon_saved_pct']:.1f} % less "
              f"carbon, {k['schedule_energy_cost_saved_pct']:.1f} % less energy cost than running on arrival "
              f"(optimizer's estimate {k['schedule_carbon_saved_estimated_pct']:.1f} %, "
              f"{k['schedule_energy_cost_saved_estimated_pct']:.1f} %)")
    print(f"  wall time {time.perf_counter() - t0:.0f} s")
    print(f"Report: {path.resolve()}")
    return 0
