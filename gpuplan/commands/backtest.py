"""``gpuplan backtest SCENARIO --out DIR``: would gpuplan's commitments have paid off on this history?"""

from __future__ import annotations

import argparse
import logging
import time

from gpuplan.commands._common import add_executor_options, close_mapper, mapper_from_args
from gpuplan.commands.plan import overrides_from
from scenarios.loader import load_scenario

log = logging.getLogger("gpuplan")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``backtest`` command."""
    from gpuplan.backtest import DEFAULT_ORIGINS, MIN_EVAL_DAYS, MIN_TRAIN_DAYS

    p = sub.add_parser(
        "backtest", help="rolling-origin backtest of commitment policies on the scenario's own history",
        description="At each forecast origin, every policy (gpuplan's recommendation, its point forecast, the "
                    "cloud recommenders' trailing 7/30/60-day rule, an 80 %% target-coverage rule, all "
                    "on-demand) buys from the history before the origin only; the purchases are held to the end "
                    "of the history and costed hour by hour on the demand that was observed.  Regret is cost over "
                    "perfect hindsight, minus one; 'gpuplan-on-realized' is gpuplan's rule given the realized "
                    "demand as its forecast (the gap to 'gpuplan' is the forecast's share of the regret).",
        epilog=f"default: {DEFAULT_ORIGINS} origins, evenly spaced between {MIN_TRAIN_DAYS} days after the first "
               f"hour of history and {MIN_EVAL_DAYS} days before its end.  example: gpuplan backtest default "
               "--out out/backtest",
    )
    p.add_argument("scenario", help="scenario TOML file or bundled name (default, small)")
    p.add_argument("--out", required=True, help="output folder (report.html, tables/*.csv)")
    grp = p.add_mutually_exclusive_group()
    grp.add_argument("--origins", type=int, default=None, metavar="N",
                     help=f"number of forecast origins, evenly spaced (default {DEFAULT_ORIGINS})")
    grp.add_argument("--every", default=None, metavar="SPACING", help="one origin every SPACING, e.g. 7d")
    p.add_argument("--min-train-days", type=float, default=MIN_TRAIN_DAYS,
                   help=f"history before the first origin [days] (default {MIN_TRAIN_DAYS})")
    p.add_argument("--min-eval-days", type=float, default=MIN_EVAL_DAYS,
                   help=f"realized demand after the last origin [days] (default {MIN_EVAL_DAYS})")
    p.add_argument("--paths", type=int, default=None, help="override demand.forecast.n_paths")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. --set demand.forecast.model=ets (repeatable)")
    add_executor_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the backtest, print the policy table and write the report."""
    from gpuplan.backtest import parse_every, run_backtest
    from gpuplan.backtest_report import summary_table, write_backtest
    from gpuplan.commands._common import print_table

    t0 = time.perf_counter()
    sc = load_scenario(args.scenario, overrides=overrides_from(args.set) or None)
    every = parse_every(args.every) if args.every else None
    mapper = mapper_from_args(args)
    try:
        res = run_backtest(sc, n_origins=args.origins, every=every, min_train_days=args.min_train_days,
                           min_eval_days=args.min_eval_days, n_paths=args.paths, mapper=mapper)
    finally:
        close_mapper(mapper)
    path = write_backtest(res, args.out)
    origins = res.origins
    print(f"Backtest of scenario '{sc.name}': {len(origins)} origins "
          f"({', '.join(f'{o:%Y-%m-%d}' for o in origins)}), purchases held to the end of the history")
    print_table(summary_table(res), None)
    print(f"\n  wall time {time.perf_counter() - t0:.0f} s")
    print(f"Report: {path.resolve()}")
    return 0
