"""Options shared by the commands that run engines: executors and progress."""

from __future__ import annotations

import argparse

import pandas as pd

from gpuplan.executors import close_mapper, make_mapper
from scenarios.io import check_output_dir, check_output_file, write_frame
from scenarios.parallel import Mapper

#: What ``gpuplan plan --out DIR`` writes (a folder gpuplan did not make must not hold these names).
PLAN_OUTPUTS = ("report.html", "plan.json", "scenario.json", "key_figures.json", "tables")


def add_executor_options(p: argparse.ArgumentParser) -> None:
    """Add ``--dask`` and ``--workers``."""
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run on a Dask cluster: 'local' starts a LocalCluster, or give a scheduler address "
                        "(tcp://host:8786); default: a local process pool")
    p.add_argument("--workers", type=int, default=None,
                   help="processes for the local pool or LocalCluster (default: all cores; 1 = in-process)")


def mapper_from_args(args: argparse.Namespace) -> Mapper:
    """The executor the options ask for (close it with :func:`close_mapper`)."""
    return make_mapper(dask=getattr(args, "dask", None), workers=getattr(args, "workers", None),
                       progress=not getattr(args, "quiet", False))


def print_table(table: pd.DataFrame, out: str | None) -> None:
    """Print ``table`` as Markdown and, with ``out``, write it as CSV (atomically)."""
    from gpuplan.negotiate import markdown_table

    print(markdown_table(table))
    if out is not None:
        write_frame(table, out)
        print(f"\nTable: {out}")


__all__ = ["PLAN_OUTPUTS", "add_executor_options", "check_output_dir", "check_output_file", "close_mapper",
           "mapper_from_args", "print_table"]
