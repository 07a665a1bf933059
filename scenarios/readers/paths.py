"""Read forecast sample paths (``series_id, timestamp, sample_id, gpus``), e.g. from ``gpuplan forecast``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from scenarios.readers._checks import (
    ROW,
    check_gpu_scale,
    parse_number,
    parse_text,
    parse_time,
    read_table,
    require_columns,
)

log = logging.getLogger(__name__)


def read_paths(path: str | Path, *, family_level: bool = True) -> pd.DataFrame:
    """Read a sample-paths CSV (timestamps with a UTC offset).

    Parameters
    ----------
    path
        CSV (comma, semicolon or tab separated; or Parquet) with ``series_id, timestamp, sample_id, gpus``
        [GPUs].
    family_level
        Keep only family-level series (drop ``family/team`` children), as the optimizer needs.

    Raises
    ------
    InputError
        Unreadable file, a missing column, naive or unparsable timestamps, non-integer sample ids,
        non-numeric or negative GPUs.
    """
    file = str(path)
    raw = read_table(path, what="sample paths")
    require_columns(raw, ["series_id", "timestamp", "sample_id", "gpus"], file=file, what="sample paths",
                    check_misspelt=False)
    rows = raw[ROW].to_numpy()
    df = pd.DataFrame({
        "series_id": parse_text(raw, "series_id", file=file, allow_na=False),
        "timestamp": parse_time(raw, "timestamp", file=file, tz=None, zone_option=False),
        "sample_id": parse_number(raw, "sample_id", file=file, unit="path numbers", integer=True).astype("int64"),
        "gpus": parse_number(raw, "gpus", file=file, unit="GPUs"),
    })
    check_gpu_scale(df["gpus"], rows, file=file)
    team = df["series_id"].str.contains("/", regex=False)
    if family_level and team.any():
        log.info("%s: using the %d family-level series, leaving out %d team series",
                 path, df.loc[~team, "series_id"].nunique(), df.loc[team, "series_id"].nunique())
        df = df[~team].reset_index(drop=True)
    return df
