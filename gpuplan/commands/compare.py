"""``gpuplan compare A.toml B.toml ...``: key figures side by side."""

from __future__ import annotations

import argparse
import logging
import time

from gpuplan.commands._common import (
    add_executor_options,
    check_output_file,
    close_mapper,
    mapper_from_args,
    print_table,
)
from scenarios.loader import load_scenario

log = logging.getLogger("gpuplan")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command."""
    p = sub.add_parser(
        "compare", help="run the plan for several scenarios and show key figures side by side",
        description="Run the whole plan pipeline for each scenario and print the key figures (recommended "
                    "purchases, expected and p95 cost, savings, coverage, utilization, carbon) side by side. Scenarios "
                    "of different horizons also get per-year rows (totals x 8,760 / horizon hours); the "
                    "95th percentile cannot be put per year and is said so.",
        epilog="example: gpuplan compare default scenarios/my_variant.toml --out compare.csv",
    )
    p.add_argument("scenarios", nargs="+", help="scenario TOML files or bundled names")
    p.add_argument("--replications", type=int, default=None, help="override simulation.replications")
    p.add_argument("--out", default=None, help="also write the table as CSV")
    add_executor_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compare and print."""
    from gpuplan.compare import compare_scenarios

    if args.out is not None:
        check_output_file(args.out)
    scs = [load_scenario(s) for s in args.scenarios]  # all validated before anything runs
    t0 = time.perf_counter()
    log.info("comparing %d scenarios (%s): each runs forecast -> optimize -> simulate -> schedule",
             len(scs), ", ".join(sc.name for sc in scs))
    mapper = mapper_from_args(args)
    try:
        table = compare_scenarios(scs, mapper=mapper, replications=args.replications)
    finally:
        close_mapper(mapper)
    log.info("compare done in %.1f s", time.perf_counter() - t0)
    print_table(table, args.out)
    for note in table.attrs.get("notes", []):
        print(f"\nNote: {note}")
    return 0
