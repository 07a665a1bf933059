"""Options shared by the commands that run engines: executors and progress."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gpuplan.executors import close_mapper, make_mapper
from scenarios.errors import InputError
from scenarios.io import check_output_dir, check_output_file, write_frame
from scenarios.parallel import Mapper
from scenarios.plan import CapacityPlan

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


def read_plan(path: str, families: Sequence[str] | None = None) -> CapacityPlan:
    """Read a capacity plan JSON (``CapacityPlan.to_json()``) and check every value before any work.

    Raises
    ------
    InputError
        One line naming the file and the entry (``reserved[1].gpus``): unreadable or not UTF-8, not a plan,
        a family outside ``families``, a term other than 1 or 3 years, a negative, non-finite or non-numeric
        quantity or price, a start hour that is not a whole number >= 0.
    """
    import json

    fix = "write it with CapacityPlan.to_json() (gpuplan optimize capacity does)"
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the plan: {exc.strerror}", file=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"the plan is not UTF-8 (byte at position {exc.start})", file=path,
                         fix="save it as UTF-8") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not a capacity plan: {exc.msg} at line {exc.lineno}", file=path, fix=fix) from None
    if not isinstance(raw, dict):
        raise InputError("not a capacity plan: the JSON is not an object", file=path, fix=fix)
    for kind, keys in (("reserved", ("gpus", "usd_per_gpu_hour")), ("committed", ("usd_per_hour",))):
        entries = raw.get(kind, [])
        if not isinstance(entries, list):
            raise InputError(f"'{kind}' must be a list", file=path, column=kind, fix=fix)
        for i, e in enumerate(entries):
            where = f"{kind}[{i}]"
            if not isinstance(e, dict):
                raise InputError("must be an object", file=path, column=where, fix=fix)
            for k in keys:
                v = e.get(k)
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                    raise InputError(f"{v!r} is not a number >= 0", file=path, column=f"{where}.{k}", fix=fix)
            if e.get("term_years") not in (1, 3):
                raise InputError(f"term {e.get('term_years')!r} is not 1 or 3 years", file=path,
                                 column=f"{where}.term_years", fix=fix)
            start = e.get("start_hour", 0)
            if isinstance(start, bool) or not isinstance(start, int) or start < 0:
                raise InputError(f"start hour {start!r} is not a whole number >= 0", file=path,
                                 column=f"{where}.start_hour", fix=fix)
            if kind == "reserved" and families is not None and e.get("family") not in families:
                raise InputError(f"family {e.get('family')!r} is not in the scenario catalog", file=path,
                                 column=f"{where}.family", fix=f"use one of {', '.join(families)}")
    try:
        return CapacityPlan.from_json(text)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise InputError(f"not a capacity plan: {exc}", file=path, fix=fix) from None


def print_table(table: pd.DataFrame, out: str | None) -> None:
    """Print ``table`` as Markdown and, with ``out``, write it as CSV (atomically)."""
    from gpuplan.negotiate import markdown_table

    print(markdown_table(table))
    if out is not None:
        write_frame(table, out)
        print(f"\nTable: {out}")


__all__ = ["PLAN_OUTPUTS", "add_executor_options", "check_output_dir", "check_output_file", "close_mapper",
           "mapper_from_args", "print_table", "read_plan"]
