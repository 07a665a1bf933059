"""``gpuplan forecast``: probabilistic hourly demand forecasts and sample paths from a history file."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from gpuplan.commands._common import add_executor_options, close_mapper, mapper_from_args
from scenarios.errors import InputError

log = logging.getLogger("gpuplan")

DESCRIPTION = """\
Forecast hourly GPU demand for each series of a history file: mean and central prediction intervals,
and optionally temporally coherent sample paths (what the optimizer's scenarios are made of).

HISTORY (CSV or Parquet): timestamp (ISO 8601 with an offset or Z; naive times only with --tz),
series_id (optional; without it the file is one series), gpus (>= 0; empty = missing hour). Hourly;
irregular or sub-hourly input is resampled to hourly means and reported. Outage stretches (hours where
demand collapses to ~0 because logging stopped) are detected and treated as missing, not as zero.

FORECAST output: series_id, timestamp, model, mean, lo_<level>, hi_<level> (UTC ISO 8601, one row per
series and horizon hour). PATHS output: series_id, timestamp, sample_id, gpus.
Bad input (negative gpus, unparsable time, duplicate hours, history too short for the model) prints one
line and exits with code 2 without writing any file.
"""

EPILOG = """\
examples:
  gpuplan forecast usage.csv --horizon 168 --out forecast.csv
  gpuplan forecast usage.csv --horizon 8760 --levels 80 95 --paths 50 --paths-out paths.csv --out forecast.csv
  gpuplan forecast helios.csv --tz Asia/Shanghai --horizon 24 --backtest --out forecast.csv

models: auto (default: median of naive, naive24, naive168, ses, theta and mstl, trimmed and calibrated by
rolling-origin cross-validation), naive, naive24, naive168, median24, median168, ses, ets, ets_damped,
sarimax, mstl, mstl_arima, theta, daily_level. Horizons over two weeks use the model for the first week and a
daily-level model with damped trend and an hourly shape after it.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``forecast`` command."""
    from forecasting.registry import model_names

    p = sub.add_parser("forecast", help="probabilistic hourly demand forecasts and sample paths",
                       description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("history", metavar="HISTORY.csv", help="history file: [series_id,] timestamp, gpus")
    p.add_argument("--horizon", type=int, required=True, metavar="H", help="hours to forecast (1 to 3 years)")
    p.add_argument("--levels", type=float, nargs="+", default=[80.0, 95.0], metavar="L",
                   help="central interval levels in %% (default: 80 95)")
    p.add_argument("--model", default="auto", choices=model_names(), metavar="MODEL",
                   help="model name (default: auto; see below)")
    p.add_argument("--paths", type=int, default=0, metavar="N", help="number of sample paths per series")
    p.add_argument("--paths-out", metavar="PATHS.csv", help="where to write the sample paths (with --paths)")
    p.add_argument("--out", metavar="FORECAST.csv", help="where to write the forecast (CSV or .parquet)")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone of naive timestamps, e.g. Asia/Shanghai")
    p.add_argument("--backtest", action="store_true",
                   help="print a rolling-origin leaderboard per model (MASE, RMSSE, sMAPE, CRPS, coverage)")
    p.add_argument("--windows", type=int, default=3, metavar="N", help="backtest windows (default: 3)")
    p.add_argument("--backtest-models", nargs="+", metavar="MODEL", choices=model_names(),
                   help="models in the leaderboard (default: naive naive24 naive168 ses theta mstl auto, "
                        "plus --model)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample paths (default: 0)")
    p.add_argument("--reconcile", choices=["none", "bottom_up", "mint_shrink"], default="none",
                   help="make family/team series (a100, a100/team) add up (default: none)")
    p.add_argument("--growth", type=float, default=0.0, metavar="RATE",
                   help="planned growth per year, e.g. 0.15 for +15 %% a year (default: 0)")
    p.add_argument("--step", action="append", default=[], metavar="START=GPUS[@SERIES]",
                   help="planned step, e.g. 2026-03-01T00:00Z=+64@a100 (repeatable)")
    p.add_argument("--no-outages", action="store_true", help="do not detect outages (keep zeros as demand)")
    add_executor_options(p)
    p.set_defaults(func=run)


def _parse_step(text: str) -> object:
    from pydantic import ValidationError

    from scenarios.schema import Step

    try:
        when, rest = text.split("=", 1)
        gpus, _, series = rest.partition("@")
        return Step(start=when.strip(), gpus=float(gpus), series=series.strip() or None)  # type: ignore[arg-type]
    except (ValueError, ValidationError) as exc:
        raise InputError(f"cannot read planned step '{text}'", column="--step",
                         fix="write START=GPUS[@SERIES], e.g. 2026-03-01T00:00Z=+64@a100") from exc


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from forecasting.backtest import LEADERBOARD_MODELS, backtest
    from forecasting.core import Forecaster
    from forecasting.planned import PlannedChanges
    from scenarios.io import check_output_file, write_frames
    from scenarios.readers import read_history

    if args.out is None and not args.backtest:
        raise InputError("no output file", column="--out", fix="add --out FORECAST.csv (or use --backtest)")
    if args.paths < 0:
        raise InputError("--paths must be >= 0", column="--paths")
    if args.paths and not args.paths_out:
        raise InputError("--paths needs --paths-out", column="--paths-out", fix="add --paths-out PATHS.csv")
    if args.paths_out and not args.paths:
        raise InputError("--paths-out needs --paths N", column="--paths", fix="add e.g. --paths 50")
    if args.out is not None:
        check_output_file(args.out, column="--out")
    if args.paths_out is not None:
        check_output_file(args.paths_out, column="--paths-out")
        if args.out is not None and Path(args.out).resolve() == Path(args.paths_out).resolve():
            raise InputError("--out and --paths-out name the same file", file=args.out, column="--paths-out",
                             fix="give the sample paths their own file, e.g. --paths-out paths.csv")
    planned = PlannedChanges(args.growth, tuple(_parse_step(s) for s in args.step))  # type: ignore[misc]
    progress = not getattr(args, "quiet", False)
    t0 = time.perf_counter()
    history, notes = read_history(args.history, tz=args.tz)
    mapper = mapper_from_args(args)
    try:
        fc = Forecaster(args.model, levels=args.levels, mapper=mapper, progress=progress,
                        outages=not args.no_outages,
                        reconcile=None if args.reconcile == "none" else args.reconcile, planned=planned)
        result = None
        if args.out is not None:
            result = fc.run(history, args.horizon, n_paths=args.paths, seed=args.seed, file=args.history)
        if args.backtest:
            h_bt = args.horizon if args.horizon <= 336 else 168
            models = list(dict.fromkeys([*(args.backtest_models or LEADERBOARD_MODELS), args.model]))
            board, _ = backtest(history, h_bt, models, n_windows=args.windows, levels=args.levels,
                                mapper=mapper, progress=progress, seed=args.seed)
    finally:
        close_mapper(mapper)
    for n in notes:
        print(f"input: {n}")
    if result is not None:
        for n in result.notes:
            print(f"note: {n}")
        # both files as one unit: written beside their targets, renamed in only when both are complete,
        # so a failure leaves the previous forecast and paths files as they were
        frames = {} if result.paths is None else {args.paths_out: result.paths}
        frames[args.out] = result.forecast
        write_frames(frames)
        rep = result.report
        for r in rep.to_dict("records"):
            fb = f" (fallback: {r['fallback']})" if r["fallback"] else ""
            print(f"series {r['series_id']}: {r['model']}{fb}, {r['history_hours']} h of history, "
                  f"{r['missing_hours']} missing, {r['outage_hours']} outage hours")
        print(f"wrote {args.out}: {len(result.forecast):,} rows ({rep.shape[0]} series x {args.horizon} h)")
        if result.paths is not None:
            print(f"wrote {args.paths_out}: {len(result.paths):,} rows ({args.paths} paths per series)")
    if args.backtest:
        print(f"backtest: {args.windows} rolling-origin windows of {h_bt} h per series (lower is better; "
              "cov = share of actuals inside the interval)")
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(board.round(3).to_string(index=False))
    log.info("forecast done in %.1f s", time.perf_counter() - t0)
    return 0
