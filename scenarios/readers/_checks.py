"""Common validation for the readers: one :class:`~scenarios.errors.InputError` line per problem.

Every reader goes through the same steps, so every reader reports the same problems the same way:

1. :func:`read_table` reads CSV (optionally gzip) or Parquet, keeping CSV cells as text so that a bad
   cell can be named by row, and adds a ``_row`` column (1-based data row; the header is row 0).
2. :func:`rename_columns` and :func:`require_columns` check the header: a missing column names the
   nearest present one, a misspelt optional column is refused instead of being silently ignored.
3. :func:`parse_time`, :func:`parse_number`, :func:`parse_bool` and :func:`parse_text` convert one column
   each and stop at the first bad cell.
4. :func:`check_order` refuses duplicate or out-of-order times within a series.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import InputError

#: Name of the helper column holding the 1-based data row of the source file.
ROW = "_row"

_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_OFFSET_RE = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


@dataclass(frozen=True)
class ReadResult:
    """What a reader returns: the table, the rows it skipped on purpose and what it did.

    Attributes
    ----------
    frame
        The table in the contract of ``scenarios/data/tables.csv`` (UTC timestamps).
    skipped
        Rows left out on purpose, counted by reason (e.g. ``{"tax": 3, "non-GPU usage": 120}``).
    notes
        What the reader did that the user should know (resampling, defaults applied, columns ignored).
    source
        The file that was read.
    """

    frame: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def n_skipped(self) -> int:
        """Rows skipped on purpose, all reasons together."""
        return int(sum(self.skipped.values()))

    def report(self) -> str:
        """A few lines for a human: rows kept, rows skipped by reason, notes."""
        lines = [f"{self.source}: {len(self.frame):,} rows kept"]
        if self.skipped:
            lines.append(f"  skipped {self.n_skipped:,} rows on purpose:")
            for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"    {n:>8,}  {reason}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)


# -- reading -----------------------------------------------------------------------------------------


def read_table(path: str | Path, *, what: str) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``, ...) or Parquet (``.parquet``, ``.pq``) file.

    CSV cells are kept as text (empty cells become missing) so each column can be checked cell by cell.
    A ``_row`` column holds the 1-based data row.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for messages (e.g. ``"usage history"``).

    Raises
    ------
    InputError
        When the file is missing, unreadable, or has no data rows.
    """
    p = Path(path)
    file = str(path)
    if not p.is_file():
        raise InputError(f"no such {what} file", file=file, fix="check the path (relative paths are relative "
                         "to the scenario file)")
    suffixes = [s.lower() for s in p.suffixes]
    try:
        if suffixes and suffixes[-1] in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read the {what} file: {first}", file=file,
                         fix="give a CSV with a header row, or a Parquet file") from None
    if df.empty:
        raise InputError(f"the {what} file has no data rows", file=file, fix="check the export")
    df.columns = [str(c).strip() for c in df.columns]
    df = df.reset_index(drop=True)
    df[ROW] = np.arange(1, len(df) + 1)
    return df


def rename_columns(df: pd.DataFrame, columns: Mapping[str, str] | None, *, file: str,
                   setting: str = "columns") -> pd.DataFrame:
    """Rename file columns to contract names: ``columns`` maps contract name -> file column name.

    Raises
    ------
    InputError
        When a mapped file column is not in the file (suggesting the nearest one).
    """
    if not columns:
        return df
    present = [c for c in df.columns if c != ROW]
    mapping: dict[str, str] = {}
    for contract, src in columns.items():
        if src not in present:
            near = difflib.get_close_matches(src, present, n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'?" if near else f"the file has {', '.join(present)}"
            raise InputError(f"column '{src}' (mapped to '{contract}' by {setting}) is not in the file",
                             file=file, column=src, fix=hint)
        mapping[src] = contract
    clash = [c for c in mapping.values() if c in present and c not in mapping]
    if clash:
        raise InputError(f"the file already has a '{clash[0]}' column and {setting} maps another one onto it",
                         file=file, column=clash[0], fix=f"drop '{clash[0]}' from {setting} or from the file")
    return df.rename(columns=mapping)


def require_columns(df: pd.DataFrame, required: Sequence[str], optional: Sequence[str] = (), *, file: str,
                    what: str, alternatives: Mapping[str, Sequence[str]] | None = None,
                    check_misspelt: bool = True) -> list[str]:
    """Check the header; return the columns that are neither required nor optional (to be ignored).

    Parameters
    ----------
    required
        Columns that must be present.
    optional
        Columns that may be present.
    alternatives
        ``{name: [other names...]}``: ``name`` is required unless one of the others is present
        (e.g. ``duration_hours`` unless ``start_time`` and ``end_time``).
    check_misspelt
        Refuse unknown columns that look like a misspelt known one (e.g. ``tema`` for ``team``).

    Raises
    ------
    InputError
        Naming the missing column and the nearest present one.
    """
    present = [c for c in df.columns if c != ROW]
    known = list(required) + list(optional)
    unknown = [c for c in present if c not in known]
    for name in required:
        if name in present:
            continue
        alts = (alternatives or {}).get(name)
        if alts and all(a in present for a in alts):
            continue
        near = _close(name, unknown, cutoff=0.6)
        if near:
            fix = f"rename '{near[0]}' to '{name}'"
        elif alts:
            fix = f"add a '{name}' column, or {' and '.join(repr(a) for a in alts)}"
        else:
            fix = f"add a '{name}' column (the {what} file needs {', '.join(required)})"
        raise InputError(f"missing column '{name}'", file=file, column=name, fix=fix)
    if check_misspelt:
        for col in unknown:
            missing_known = [k for k in known if k not in present]
            near = _close(col, missing_known, cutoff=0.75)
            if near:
                raise InputError(f"unknown column '{col}'", file=file, column=col,
                                 fix=f"did you mean '{near[0]}'? rename it, or drop the column")
    return unknown


def _close(name: str, options: Sequence[str], *, cutoff: float) -> list[str]:
    """The option closest to ``name``, ignoring case (``GPUs`` is close to ``gpus``)."""
    lower = {o.lower(): o for o in options}
    near = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=cutoff)
    return [lower[near[0]]] if near else []


# -- cell parsing ---------------------------------------------------------------------------------------


def _rows(df: pd.DataFrame) -> np.ndarray:
    return df[ROW].to_numpy() if ROW in df.columns else np.arange(1, len(df) + 1)


def _is_blank(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        text = s.astype("string").str.strip()
        return np.asarray((s.isna() | (text == "")).to_numpy(dtype=bool, na_value=True))
    return np.asarray(s.isna().to_numpy(dtype=bool))


def check_tz(tz: str | None, *, file: str | None = None) -> str | None:
    """Validate an IANA time-zone name (``Asia/Shanghai``, ``UTC``); None passes through."""
    if tz is None:
        return None
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone '{tz}'", file=file,
                         fix="give an IANA name such as 'UTC', 'Europe/Berlin' or 'Asia/Shanghai'") from None
    return tz


def parse_time(df: pd.DataFrame, column: str, *, file: str, tz: str | None, allow_na: bool = False,
               what: str = "time", notes: list[str] | None = None) -> pd.Series:
    """Parse one time column to tz-aware UTC (``datetime64[ns, UTC]``).

    Strings must be ISO 8601. With a UTC offset or ``Z`` they are converted to UTC; without one they are
    refused unless ``tz`` names their zone. A column must not mix both. Times that do not exist or are
    ambiguous in ``tz`` (daylight-saving changes) are refused by row. When naive times were read in
    ``tz``, a line saying so is appended to ``notes``.

    Raises
    ------
    InputError
        Naming the first bad row.
    """
    s = df[column]
    rows = _rows(df)
    blank = _is_blank(s)
    if blank.any() and not allow_na:
        i = int(np.flatnonzero(blank)[0])
        raise InputError(f"empty {what}", file=file, row=int(rows[i]), column=column,
                         fix="every row needs an ISO 8601 time, e.g. 2026-01-01T00:00:00Z")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        if tz is None:
            i = int(np.flatnonzero(~blank)[0])
            raise InputError(f"{what} has no time zone", file=file, row=int(rows[i]), column=column,
                             fix="store timezone-aware times, or state the zone with --tz / tz=")
        out = _localize(s, s, tz, file=file, column=column, rows=rows)
        _note_tz(notes, column, tz)
    else:
        text = s.astype("string").str.strip()
        filled = ~blank
        iso = text.str.contains(_ISO_RE, regex=True).fillna(False).to_numpy(dtype=bool)
        if (filled & ~iso).any():
            i = int(np.flatnonzero(filled & ~iso)[0])
            raise InputError(f"cannot read {what} '{text.iloc[i]}'", file=file, row=int(rows[i]), column=column,
                             fix="use ISO 8601, e.g. 2026-01-01T00:00:00Z")
        has_off = text.str.contains(_OFFSET_RE, regex=True).fillna(False).to_numpy(dtype=bool)
        aware, naive = filled & has_off, filled & ~has_off
        if aware.any() and naive.any():
            i = int(np.flatnonzero(naive)[0])
            raise InputError(f"{what} '{text.iloc[i]}' has no UTC offset while others have one", file=file,
                             row=int(rows[i]), column=column,
                             fix="give every time with its offset, e.g. 2026-01-01T00:00:00Z")
        if naive.any() and tz is None:
            i = int(np.flatnonzero(naive)[0])
            raise InputError(f"{what} '{text.iloc[i]}' has no time zone", file=file, row=int(rows[i]),
                             column=column,
                             fix="add a UTC offset (e.g. 2026-01-01T00:00:00+08:00) or state the zone "
                                 "with --tz / tz= (e.g. --tz Asia/Shanghai)")
        if naive.any() and tz is not None:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
            _first_unparsed(parsed, filled, text, rows, file=file, column=column, what=what)
            out = _localize(parsed, text, tz, file=file, column=column, rows=rows)
            _note_tz(notes, column, tz)
        else:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
            _first_unparsed(parsed, filled, text, rows, file=file, column=column, what=what)
            out = parsed
    return out.dt.as_unit("ns")


def _note_tz(notes: list[str] | None, column: str, tz: str) -> None:
    if notes is not None:
        line = f"naive times in {column} read as {tz} and converted to UTC"
        if line not in notes:
            notes.append(line)


def _first_unparsed(parsed: pd.Series, filled: np.ndarray, text: pd.Series, rows: np.ndarray, *, file: str,
                    column: str, what: str) -> None:
    bad = filled & parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"cannot read {what} '{text.iloc[i]}'", file=file, row=int(rows[i]), column=column,
                         fix="use ISO 8601, e.g. 2026-01-01T00:00:00Z")


def _localize(parsed: pd.Series, text: pd.Series, tz: str, *, file: str, column: str,
              rows: np.ndarray) -> pd.Series:
    local = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    bad = (local.isna() & parsed.notna()).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"time '{text.iloc[i]}' is ambiguous or does not exist in {tz} (a daylight-saving "
                         "change)", file=file, row=int(rows[i]), column=column,
                         fix="give times with their UTC offset, or in a zone without daylight saving")
    return local.dt.tz_convert("UTC")


def parse_number(df: pd.DataFrame, column: str, *, file: str, unit: str, allow_na: bool = False,
                 minimum: float | None = 0.0, strict_min: bool = False, integer: bool = False) -> pd.Series:
    """Parse one numeric column (float64); refuse text, infinities, empties and values below ``minimum``.

    Raises
    ------
    InputError
        Naming the first bad row and the unit the column is in.
    """
    s = df[column]
    rows = _rows(df)
    blank = _is_blank(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        raise InputError(f"must be a number [{unit}], not true/false", file=file, column=column)
    if pd.api.types.is_numeric_dtype(s.dtype):
        vals = pd.to_numeric(s, errors="coerce").astype("float64")
        text = s.astype("string")
    else:
        text = s.astype("string").str.strip().str.replace(",", "", regex=False)
        vals = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = ~blank & vals.isna().to_numpy(dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"'{s.iloc[i]}' is not a number", file=file, row=int(rows[i]), column=column,
                             fix=f"{column} must be a number in {unit}")
    arr = vals.to_numpy(dtype=float, na_value=np.nan)
    if blank.any() and not allow_na:
        i = int(np.flatnonzero(blank)[0])
        raise InputError("empty value", file=file, row=int(rows[i]), column=column,
                         fix=f"{column} needs a number in {unit} on every row")
    inf = np.isinf(arr)
    if inf.any():
        i = int(np.flatnonzero(inf)[0])
        raise InputError(f"'{text.iloc[i]}' is not a finite number", file=file, row=int(rows[i]),
                         column=column, fix=f"{column} must be a finite number in {unit}")
    if minimum is not None:
        low = (arr <= minimum) if strict_min else (arr < minimum)
        low &= ~np.isnan(arr)
        if low.any():
            i = int(np.flatnonzero(low)[0])
            word = "negative" if minimum == 0 and not strict_min else "too small"
            rule = f"> {minimum:g}" if strict_min else f">= {minimum:g}"
            raise InputError(f"{word} value {arr[i]:g}", file=file, row=int(rows[i]), column=column,
                             fix=f"{column} is in {unit} and must be {rule}")
    if integer:
        frac = ~np.isnan(arr) & (arr != np.round(arr))
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise InputError(f"{arr[i]:g} is not a whole number", file=file, row=int(rows[i]), column=column,
                             fix=f"{column} counts {unit}: use whole numbers")
    return pd.Series(arr, index=df.index, name=column, dtype="float64")


def parse_bool(df: pd.DataFrame, column: str, *, file: str, default: bool) -> pd.Series:
    """Parse a true/false column (true/false, yes/no, 1/0; empty -> ``default``)."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(default).astype(bool)
    rows = _rows(df)
    text = s.astype("string").str.strip().str.lower()
    out = np.full(len(s), default, dtype=bool)
    for i, v in enumerate(text.fillna("").tolist()):
        if v == "":
            continue
        if v in _TRUE:
            out[i] = True
        elif v in _FALSE:
            out[i] = False
        else:
            raise InputError(f"'{s.iloc[i]}' is not true or false", file=file, row=int(rows[i]), column=column,
                             fix="use true/false (or yes/no, 1/0)")
    return pd.Series(out, index=df.index, name=column)


def parse_text(df: pd.DataFrame, column: str, *, file: str, allow_na: bool = True) -> pd.Series:
    """A string column, stripped; empty cells are missing (refused unless ``allow_na``)."""
    s = df[column]
    text = s.astype("string").str.strip()
    text = text.mask(text == "")
    if not allow_na and text.isna().any():
        i = int(np.flatnonzero(text.isna().to_numpy(dtype=bool))[0])
        raise InputError("empty value", file=file, row=int(_rows(df)[i]), column=column,
                         fix=f"every row needs a {column}")
    return text.astype("str")


def check_units(df: pd.DataFrame, column: str, *, file: str, allowed: Iterable[str] | None = None,
                what: str = "unit") -> str | None:
    """Refuse a column that mixes values (currencies, units); return the one value (None if empty).

    Parameters
    ----------
    allowed
        If given, the value must be one of these (case-insensitive).
    """
    if column not in df.columns or df.empty:
        return None
    text = df[column].astype("string").str.strip()
    vals = text.dropna()
    vals = vals[vals != ""]
    if vals.empty:
        return None
    first = str(vals.iloc[0])
    rows = _rows(df)
    other = (text.notna() & (text != "") & (text != first)).to_numpy(dtype=bool, na_value=False)
    if other.any():
        i = int(np.flatnonzero(other)[0])
        plural = "currencies" if what == "currency" else f"{what}s"
        raise InputError(f"mixed {plural}: '{text.iloc[i]}' here, '{first}' on earlier rows", file=file,
                         row=int(rows[i]), column=column,
                         fix=f"split the file by {column}, or convert to one {what} before reading")
    if allowed is not None and first.lower() not in {a.lower() for a in allowed}:
        i = int(np.flatnonzero((text == first).to_numpy(dtype=bool, na_value=False))[0])
        raise InputError(f"{what} '{first}' is not supported", file=file, row=int(rows[i]), column=column,
                         fix=f"convert to one of {', '.join(sorted(allowed))} before reading")
    return first


# -- time order -----------------------------------------------------------------------------------------


def check_order(df: pd.DataFrame, keys: Sequence[str], time: str, *, file: str, hint: str = "") -> None:
    """Refuse duplicate or out-of-order times within each series (keys), in file order.

    Raises
    ------
    InputError
        Naming the row that repeats or goes back in time.
    """
    if df.empty:
        return
    rows = _rows(df)
    order = np.argsort(rows, kind="stable")
    d = df.iloc[order]
    if keys:
        prev = d.groupby(list(keys), sort=False, dropna=False)[time].shift(1)
    else:
        prev = d[time].shift(1)
    cur = d[time]
    dup = (cur == prev).to_numpy(dtype=bool, na_value=False)
    back = (cur < prev).to_numpy(dtype=bool, na_value=False)
    bad = dup | back
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    row = int(d[ROW].iloc[i]) if ROW in d.columns else int(rows[order[i]])
    series = ""
    if keys:
        series = " in series " + "/".join(str(d[k].iloc[i]) for k in keys)
    when = pd.Timestamp(cur.iloc[i]).isoformat()
    if dup[i]:
        raise InputError(f"duplicate time {when}{series}", file=file, row=row, column=time,
                         fix="keep one row per hour and series" + (f"; {hint}" if hint else ""))
    raise InputError(f"time {when}{series} is earlier than the row before it", file=file, row=row, column=time,
                     fix="sort the file by series and time")


def nearest(name: str, options: Iterable[str]) -> str | None:
    """The closest option to ``name`` (difflib), or None."""
    near = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return near[0] if near else None
