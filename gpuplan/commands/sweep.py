"""``gpuplan sweep SCENARIO --set KEY=V1,V2,... [--set ...]``: a grid of variations."""

from __future__ import annotations

import argparse

from gpuplan.commands._common import (
    add_executor_options,
    check_output_file,
    close_mapper,
    mapper_from_args,
    print_table,
)
from scenarios.loader import load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command."""
    p = sub.add_parser(
        "sweep", help="run the plan over a grid of scenario variations",
        description="Run the plan pipeline for every combination of the --set values (a full grid) and "
                    "print one row per variation with its key figures. Values are parsed as TOML.",
        epilog="example: gpuplan sweep small --set policies.carbon_price_usd_per_tonne=0,100,200 "
               "--set demand.forecast.growth_rate_per_year=0,0.3 --out sweep.csv",
    )
    p.add_argument("scenario", help="scenario TOML file or bundled name")
    p.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2,...", required=True,
                   help="a scenario key and the values to try (repeat for more axes)")
    p.add_argument("--replications", type=int, default=None, help="override simulation.replications")
    p.add_argument("--out", default=None, help="also write the table as CSV")
    add_executor_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sweep and print."""
    from gpuplan.compare import sweep, sweep_grid

    if args.out is not None:
        check_output_file(args.out)
    sc = load_scenario(args.scenario)
    grid = sweep_grid(args.set)
    mapper = mapper_from_args(args)
    try:
        table = sweep(sc, grid, mapper=mapper, replications=args.replications)
    finally:
        close_mapper(mapper)
    print_table(table, args.out)
    return 0
