"""``gpuplan negotiate SCENARIO``: the negotiation pack as CSV and Markdown."""

from __future__ import annotations

import argparse

from gpuplan.commands._common import add_executor_options, check_output_dir, close_mapper, mapper_from_args
from gpuplan.commands.plan import overrides_from
from scenarios.loader import load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``negotiate`` command."""
    p = sub.add_parser(
        "negotiate", help="negotiation pack: break-even, 3y vs 1y, over-commitment, discount x growth",
        description="For each offer of the recommended plan: break-even utilization, the minimum discount at "
                    "which a 3-year term beats renewing 1-year terms, the cost of over-committing if demand "
                    "falls by 10, 25 or 50 %, and a sensitivity table over discount x growth. Written as CSV "
                    "tables and one Markdown document.",
        epilog="example: gpuplan negotiate default --out out/negotiate",
    )
    p.add_argument("scenario", help="scenario TOML file or bundled name")
    p.add_argument("--out", default=None, help="output folder (default: print the Markdown only)")
    p.add_argument("--forecast", metavar="PATHS.csv", default=None,
                   help="family-level sample paths (series_id, timestamp, sample_id, gpus); default: forecast now")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a scenario value")
    add_executor_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the pack, print it, and write it when --out is given."""
    from gpuplan.negotiate import negotiation_pack, write_pack
    from gpuplan.pipeline import family_level, scenario_paths
    from scenarios.readers.paths import read_paths

    if args.out is not None:
        check_output_dir(args.out, names=("negotiation.md",))
    sc = load_scenario(args.scenario, overrides=overrides_from(args.set) or None)
    mapper = mapper_from_args(args)
    try:
        if args.forecast:
            paths = family_level(read_paths(args.forecast), sc)
        else:
            paths = scenario_paths(sc, mapper=mapper, progress=not args.quiet)
        pack = negotiation_pack(sc, paths, mapper=mapper)
    finally:
        close_mapper(mapper)
    print(pack.to_markdown())
    if args.out is not None:
        print(f"\nNegotiation pack: {write_pack(pack, args.out).resolve()}")
    return 0
