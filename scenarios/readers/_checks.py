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

import codecs
import csv
import difflib
import gzip
import logging
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


#: Field separators a CSV may use; the header line decides (the most frequent one outside quotes).
SEPARATORS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

#: More GPUs than any cloud region or cluster holds: a value above it is warned about as implausible.
MAX_PLAUSIBLE_GPUS = 1_000_000.0
#: A time further than this from the median time of its column is refused as a typo (e.g. 2206 for 2026).
MAX_SPAN_FROM_MEDIAN = pd.Timedelta(days=3653)
#: A time further than this from today is warned about (dates decades away).
MAX_YEARS_FROM_TODAY = 20

log = logging.getLogger("scenarios.readers")


def warn(message: str, notes: list[str] | None = None) -> None:
    """Log a plausibility warning (shown even with ``-q``) and add it to ``notes``."""
    log.warning("warning: %s", message)
    if notes is not None and message not in notes:
        notes.append(f"WARNING: {message}")


def _open_bytes(p: Path, size: int | None = None) -> bytes:
    opener = gzip.open if p.suffix.lower() == ".gz" else open
    with opener(p, "rb") as fh:
        return fh.read() if size is None else fh.read(size)


def _encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8"


def _not_utf8(p: Path, data: bytes, exc: UnicodeDecodeError, *, what: str) -> InputError:
    line = data.count(b"\n", 0, exc.start) + 1
    byte = data[exc.start:exc.start + 1].hex()
    guess = "Latin-1 / Windows-1252" if all(b < 0x80 or b >= 0xa0 for b in data[exc.start:exc.start + 8]) \
        else "another encoding"
    row = f"row {line - 1}" if line > 1 else "the header"
    return InputError(f"the {what} file is not UTF-8: byte 0x{byte} in {row} (line {line}) looks like {guess}",
                      file=str(p), row=line - 1 if line > 1 else None,
                      fix="save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 in.csv > out.csv)")


def _split_fields(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep), [])


def sniff_csv(p: Path, *, what: str) -> tuple[str, str]:
    """The ``(separator, encoding)`` of a CSV file: UTF-8 (with or without BOM) or UTF-16 by BOM; the
    separator is the one of :data:`SEPARATORS` found most often outside quotes in the header line.

    Raises
    ------
    InputError
        When the start of the file is not in a supported encoding (naming the line and the likely encoding).
    """
    head = _open_bytes(p, 1 << 16)
    enc = _encoding(head)
    try:
        text = codecs.getincrementaldecoder(enc)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _not_utf8(p, head, exc, what=what) from None
    header = text.splitlines()[0] if text.strip() else ""
    counts = {sep: len(_split_fields(header, sep)) - 1 for sep in SEPARATORS}
    sep = max(SEPARATORS, key=lambda c: (counts[c], c == ","))
    return (sep if counts[sep] > 0 else ","), enc


def _check_last_line(p: Path, sep: str, enc: str, n_fields: int, n_rows: int, *, what: str) -> None:
    """Refuse a file whose last row has fewer fields than the header (a cut-off export)."""
    if p.suffix.lower() == ".gz" or enc == "utf-16":
        return
    size = p.stat().st_size
    with open(p, "rb") as fh:
        fh.seek(max(0, size - (1 << 14)))
        tail = fh.read().decode(enc, errors="replace")
    lines = [ln for ln in tail.splitlines() if ln.strip()]
    if not lines:
        return
    fields = _split_fields(lines[-1], sep)
    if 0 < len(fields) < n_fields and tail.count('"') % 2 == 0:
        raise InputError(f"the last row has {len(fields)} of the header's {n_fields} fields: the {what} file "
                         "looks cut off", file=str(p), row=n_rows,
                         fix="export the file again (or delete the incomplete last row)")


def read_table(path: str | Path, *, what: str) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``, ...) or Parquet (``.parquet``, ``.pq``) file.

    CSV cells are kept as text (empty cells become missing) so each column can be checked cell by cell.
    A ``_row`` column holds the 1-based data row.  The separator (comma, semicolon, tab or pipe) and the
    encoding (UTF-8, UTF-16 by BOM) are detected (:func:`sniff_csv`); ``df.attrs["sep"]`` keeps the
    separator.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for messages (e.g. ``"usage history"``).

    Raises
    ------
    InputError
        When the file is missing, unreadable, not UTF-8, cut off, or has no data rows.
    """
    p = Path(path)
    file = str(path)
    if not p.is_file():
        raise InputError(f"no such {what} file", file=file, fix="check the path (relative paths are relative "
                         "to the scenario file)")
    suffixes = [s.lower() for s in p.suffixes]
    sep, enc = ",", "utf-8"
    try:
        if suffixes and suffixes[-1] in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            sep, enc = sniff_csv(p, what=what)
            df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True,
                             sep=sep, encoding=enc)
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        data = _open_bytes(p)
        try:
            data.decode(enc)
        except UnicodeDecodeError as full:
            raise _not_utf8(p, data, full, what=what) from None
        raise InputError(f"cannot read the {what} file: {exc}", file=file) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"the {what} file is empty", file=file, fix="check the export") from None
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0]
        m = re.search(r"line (\d+), saw (\d+)", first)
        row = int(m.group(1)) - 1 if m else None
        msg = (f"row {row} has {m.group(2)} fields, more than the header" if m else first)
        raise InputError(f"cannot read the {what} file: {msg}", file=file, row=row,
                         fix=f"check the quoting and the {_SEP_NAMES.get(sep, repr(sep))} separators") from None
    except (ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read the {what} file: {first}", file=file,
                         fix="give a CSV with a header row, or a Parquet file") from None
    if df.empty:
        raise InputError(f"the {what} file has no data rows", file=file, fix="check the export")
    df.columns = [str(c).strip() for c in df.columns]
    if not (suffixes and suffixes[-1] in (".parquet", ".pq")):
        _check_last_line(p, sep, enc, len(df.columns), len(df), what=what)
    df = df.reset_index(drop=True)
    df[ROW] = np.arange(1, len(df) + 1)
    df.attrs["sep"] = sep
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
        # a standard export (check_misspelt=False) has many columns of its own: suggest only near-identical
        near = _close(name, unknown, cutoff=0.6 if check_misspelt else 0.85)
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
               what: str = "time", notes: list[str] | None = None, zone_option: bool = True) -> pd.Series:
    """Parse one time column to tz-aware UTC (``datetime64[ns, UTC]``).

    Strings must be ISO 8601. With a UTC offset or ``Z`` they are converted to UTC; without one they are
    refused unless ``tz`` names their zone. A column must not mix both. Times that do not exist or are
    ambiguous in ``tz`` (daylight-saving changes) are refused by row. When naive times were read in
    ``tz``, a line saying so is appended to ``notes``.  ``zone_option=False`` for files whose times must
    carry their offset (no ``--tz`` / ``tz=`` to state a zone): the fix then only asks for the offset.

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
            raise InputError(f"{what} '{text.iloc[i]}' has no " + ("time zone" if zone_option else "UTC offset"),
                             file=file,
                             row=int(rows[i]), column=column,
                             fix="add a UTC offset (e.g. 2026-01-01T00:00:00+08:00) or state the zone "
                                 "with --tz / tz= (e.g. --tz Asia/Shanghai)" if zone_option else
                                 "write every time with its UTC offset, e.g. 2026-01-01T00:00:00Z")
        if naive.any() and tz is not None:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
            _first_unparsed(parsed, filled, text, rows, file=file, column=column, what=what)
            out = _localize(parsed, text, tz, file=file, column=column, rows=rows)
            _note_tz(notes, column, tz)
        else:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
            _first_unparsed(parsed, filled, text, rows, file=file, column=column, what=what)
            out = parsed
    out = out.dt.as_unit("ns")
    check_time_plausible(out, rows, file=file, column=column, what=what, notes=notes)
    return out


def check_time_plausible(times: pd.Series, rows: np.ndarray, *, file: str, column: str, what: str = "time",
                         notes: list[str] | None = None) -> None:
    """Refuse a time far from the column's others (a year typo such as 2206); warn about dates decades away.

    Raises
    ------
    InputError
        When a time is more than :data:`MAX_SPAN_FROM_MEDIAN` (ten years) from the column's median time,
        naming the row that is furthest away.
    """
    t = times.dropna()
    if t.empty:
        return
    ns = t.astype("int64").to_numpy()
    med = pd.Timestamp(int(np.median(ns)), tz="UTC")
    dist = np.abs(ns - med.value)
    far = int(np.argmax(dist))
    if dist[far] > MAX_SPAN_FROM_MEDIAN.value:
        pos = int(np.flatnonzero(times.index == t.index[far])[0])
        when = pd.Timestamp(t.iloc[far])
        years = dist[far] / (365.25 * 86400e9)
        raise InputError(f"{what} {when:%Y-%m-%d %H:%M} is {years:.0f} years from the file's other times "
                         f"(median {med:%Y-%m-%d}): a typo in the year?", file=file, row=int(rows[pos]),
                         column=column, fix="correct the year, or split the file")
    now = pd.Timestamp.now(tz="UTC")
    lo, hi = pd.Timestamp(ns.min(), tz="UTC"), pd.Timestamp(ns.max(), tz="UTC")
    for edge in (lo, hi):
        years = abs((edge - now) / pd.Timedelta(days=365.25))
        if years > MAX_YEARS_FROM_TODAY:
            pos = int(np.flatnonzero((times == edge).to_numpy(dtype=bool, na_value=False))[0])
            warn(f"{file}, row {int(rows[pos])}, column '{column}': {what} {edge:%Y-%m-%d} is {years:.0f} years "
                 "from today; check the year", notes)
            break


def check_gpu_scale(gpus: pd.Series, rows: np.ndarray | None, *, file: str, column: str = "gpus",
                    notes: list[str] | None = None, what: str = "GPUs") -> None:
    """Warn (naming the value and row) when a GPU count is beyond any catalog's scale
    (:data:`MAX_PLAUSIBLE_GPUS`)."""
    arr = gpus.to_numpy(dtype=float, na_value=np.nan)
    big = np.nan_to_num(arr, nan=0.0) > MAX_PLAUSIBLE_GPUS
    if big.any():
        i = int(np.flatnonzero(big)[0])
        where = f"row {int(rows[i])}, " if rows is not None else ""
        warn(f"{file}, {where}column '{column}': {arr[i]:g} {what} is beyond any cloud's or cluster's scale "
             f"(> {MAX_PLAUSIBLE_GPUS:,.0f}); check the units and demand.scale", notes)


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
                 minimum: float | None = 0.0, strict_min: bool = False, integer: bool = False,
                 maximum: float | None = None) -> pd.Series:
    """Parse one numeric column (float64); refuse text, infinities, empties and values below ``minimum``
    (or above ``maximum``).

    In a comma-separated file a comma inside a number is a thousands separator (``1,200``); in a file
    with another separator (semicolon, tab) a comma could be a decimal mark, so it is refused by row.

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
        raw = s.astype("string").str.strip()
        if df.attrs.get("sep", ",") != ",":
            comma = raw.str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool)
            if comma.any():
                i = int(np.flatnonzero(comma)[0])
                raise InputError(f"'{s.iloc[i]}' has a comma: a decimal mark or a thousands separator?",
                                 file=file, row=int(rows[i]), column=column,
                                 fix="write numbers with a point as the decimal mark and no thousands "
                                     "separator, e.g. 1234.5")
        text = raw.str.replace(",", "", regex=False)
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
    if maximum is not None:
        high = ~np.isnan(arr) & (arr > maximum)
        if high.any():
            i = int(np.flatnonzero(high)[0])
            raise InputError(f"value {arr[i]:g} is too large", file=file, row=int(rows[i]), column=column,
                             fix=f"{column} is in {unit} and must be <= {maximum:g}")
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
