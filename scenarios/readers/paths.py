"""Read forecast sample paths (``series_id, timestamp, sample_id, gpus``), e.g. from ``gpuplan forecast``."""

from __future__ import annotations

import logging

import pandas as pd

from scenarios.errors import InputError

log = logging.getLogger(__name__)


def read_paths(path: str, *, family_level: bool = True) -> pd.DataFrame:
    """Read a sample-paths CSV (timestamps with a UTC offset).

    Parameters
    ----------
    path
        CSV with ``series_id, timestamp, sample_id, gpus`` [GPUs].
    family_level
        Keep only family-level series (drop ``family/team`` children), as the optimizer needs.

    Raises
    ------
    InputError
        Unreadable file, a missing column, naive or unparsable timestamps, non-integer sample ids,
        non-numeric or negative GPUs.
    """
    try:
        df = pd.read_csv(path)
    except OSError as exc:
        raise InputError(f"cannot read the forecast: {exc.strerror}", file=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a CSV file: {exc}", file=path) from None
    for col in ("series_id", "timestamp", "sample_id", "gpus"):
        if col not in df.columns:
            raise InputError("missing required column", file=path, column=col,
                             fix="give series_id,timestamp,sample_id,gpus (gpuplan forecast writes paths.csv)")
    try:
        ts = pd.to_datetime(df["timestamp"], format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise InputError(f"unreadable timestamp: {exc}", file=path, column="timestamp") from None
    if ts.dt.tz is None:
        raise InputError("timestamps have no UTC offset", file=path, column="timestamp",
                         fix="write them as 2026-01-01T00:00:00Z")
    df["timestamp"] = ts.dt.tz_convert("UTC")
    df["series_id"] = df["series_id"].astype(str)
    if not pd.api.types.is_integer_dtype(df["sample_id"]):
        raise InputError("sample_id must be whole numbers", file=path, column="sample_id")
    if not pd.api.types.is_numeric_dtype(df["gpus"]):
        raise InputError("gpus must be numbers", file=path, column="gpus")
    neg = df.index[df["gpus"] < 0]
    if len(neg):
        raise InputError(f"negative GPUs {df.loc[neg[0], 'gpus']:g}", file=path, row=int(neg[0]) + 1,
                         column="gpus", fix="sample paths are GPUs busy and must be >= 0")
    team = df["series_id"].str.contains("/", regex=False)
    if family_level and team.any():
        log.info("%s: using the %d family-level series, leaving out %d team series",
                 path, df.loc[~team, "series_id"].nunique(), df.loc[team, "series_id"].nunique())
        df = df[~team].reset_index(drop=True)
    return df
