"""The table contract: every long-format table's columns, dtypes, units and meaning, kept as data.

The registry lives in ``scenarios/data/tables.csv`` (read by code and by the docs), in the spirit of
PyPSA's ``component_attrs``.  :func:`check_frame` validates a frame against it at an engine's entry.

Examples
--------
>>> from scenarios.tables import columns
>>> columns("history")
['series_id', 'timestamp', 'gpus']
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from scenarios.errors import InputError


@dataclass(frozen=True)
class Column:
    """One column of a registered table."""

    table: str
    name: str
    dtype: str
    unit: str
    required: bool
    description: str


@cache
def registry() -> dict[str, list[Column]]:
    """Return ``{table: [Column, ...]}`` read from ``tables.csv``."""
    out: dict[str, list[Column]] = {}
    text = resources.files("scenarios").joinpath("data/tables.csv").read_text(encoding="utf-8")
    for rec in csv.DictReader(text.splitlines()):
        col = Column(
            table=rec["table"],
            name=rec["column"],
            dtype=rec["dtype"],
            unit=rec["unit"],
            required=rec["required"] == "yes",
            description=rec["description"],
        )
        out.setdefault(col.table, []).append(col)
    return out


def columns(table: str, required_only: bool = True) -> list[str]:
    """Column names of ``table`` (the required ones by default), without ``<level>`` templates."""
    return [
        c.name
        for c in registry()[table]
        if (c.required or not required_only) and "<" not in c.name
    ]


def describe(table: str) -> pd.DataFrame:
    """The registry rows of ``table`` as a frame (column, dtype, unit, required, description)."""
    rows = [c.__dict__ for c in registry()[table]]
    return pd.DataFrame(rows).drop(columns="table")


def check_frame(df: pd.DataFrame, table: str, file: str | None = None) -> None:
    """Check that ``df`` has the required columns of ``table``, UTC timestamps and no negative quantities.

    Raises
    ------
    InputError
        Naming the column and the fix, e.g. a missing column or a naive timestamp.
    """
    import difflib

    present = list(df.columns)
    for col in registry()[table]:
        if "<" in col.name:
            continue
        if col.name not in present:
            if not col.required:
                continue
            near = difflib.get_close_matches(col.name, [str(p) for p in present], n=1)
            hint = f"rename '{near[0]}' to '{col.name}'" if near else f"add a '{col.name}' column"
            raise InputError(f"missing required column for the {table} table", file=file, column=col.name, fix=hint)
        s = df[col.name]
        if col.dtype.startswith("datetime64"):
            if not isinstance(s.dtype, pd.DatetimeTZDtype):
                raise InputError(
                    "timestamps must be timezone-aware UTC", file=file, column=col.name,
                    fix="convert with pd.to_datetime(..., utc=True) or pass tz=",
                )
        elif col.dtype in ("float64", "int64") and col.unit:
            if not pd.api.types.is_numeric_dtype(s):
                raise InputError(f"must be numeric ({col.unit})", file=file, column=col.name)
            vals = s.to_numpy(dtype=float, na_value=np.nan)
            bad = np.flatnonzero(vals < 0)
            if bad.size and col.table not in ("price",):
                raise InputError(
                    f"negative quantity {vals[bad[0]]:g}", file=file, row=int(bad[0]) + 1, column=col.name,
                    fix=f"{col.name} is in {col.unit} and must be >= 0",
                )
