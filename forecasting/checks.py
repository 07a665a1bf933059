"""The engine's input checks: a history frame must be hourly, UTC, unique and non-negative.

Called at the entry of every public function of the orchestrator (PyPSA's ``consistency`` idea).
Problems a user can fix raise :class:`scenarios.errors.InputError` with the row, column and fix.
Regularisation that loses nothing is done and reported instead: off-the-hour or irregular times are
resampled to hourly means, absent hours become NaN (missing, never zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scenarios.errors import InputError

DEFAULT_SERIES = "series"


def _timestamps(s: pd.Series, file: str | None) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(s.dtype):
        raise InputError("timestamps have no time zone", file=file, column="timestamp",
                         fix="give ISO 8601 times with an offset or Z, or localise with tz=")
    text = s.astype("string")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=False)
    bad = np.flatnonzero(parsed.isna().to_numpy() & text.notna().to_numpy())
    if text.isna().any():
        bad = np.union1d(bad, np.flatnonzero(text.isna().to_numpy()))
    if bad.size:
        raise InputError(f"unparsable time '{text.iloc[bad[0]]}'", file=file, row=int(bad[0]) + 1,
                         column="timestamp", fix="use ISO 8601 with an offset, e.g. 2024-05-01T13:00:00Z")
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        raise InputError("timestamps have no time zone", file=file, column="timestamp",
                         fix="give ISO 8601 times with an offset or Z, or localise with tz=")
    return parsed.dt.tz_convert("UTC")


def check_history(history: pd.DataFrame, *, file: str | None = None,
                  min_hours: int = 1, model: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Validate and regularise a history frame.

    Parameters
    ----------
    history
        Columns ``timestamp`` (tz-aware), ``gpus`` [GPUs] >= 0 (NaN = missing) and optionally
        ``series_id`` (absent: one series named ``series``).
    file
        Where the frame came from, for messages.
    min_hours
        Hours of history each series needs (the model's minimum) [h].
    model
        Model name, for the "too short" message.

    Returns
    -------
    (frame, notes)
        ``series_id`` (str), ``timestamp`` (UTC, every hour from first to last), ``gpus`` (float).

    Raises
    ------
    InputError
        Missing columns, naive or unparsable times, non-numeric, negative or infinite ``gpus``,
        duplicate hours, or a series shorter than ``min_hours``.
    """
    if not isinstance(history, pd.DataFrame):
        raise InputError("history must be a pandas DataFrame with timestamp and gpus columns", file=file)
    notes: list[str] = []
    history = history.reset_index(drop=True)
    for col in ("timestamp", "gpus"):
        if col not in history.columns:
            raise InputError("missing required column", file=file, column=col,
                             fix="history needs columns series_id (optional), timestamp, gpus")
    if history.empty:
        raise InputError("history has no rows", file=file, fix="give at least one hour of demand per series")
    df = pd.DataFrame({
        "series_id": (history["series_id"].astype("string").fillna("").astype(str)
                      if "series_id" in history.columns else DEFAULT_SERIES),
        "timestamp": _timestamps(history["timestamp"], file).to_numpy(),
        "gpus": pd.to_numeric(history["gpus"], errors="coerce"),
    })
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    raw = history["gpus"]
    nonnum = np.flatnonzero(df["gpus"].isna().to_numpy() & raw.notna().to_numpy()
                            & (raw.astype("string").str.strip() != "").fillna(False).to_numpy())
    if nonnum.size:
        raise InputError(f"gpus is not a number: '{raw.iloc[nonnum[0]]}'", file=file, row=int(nonnum[0]) + 1,
                         column="gpus", fix="give the average number of GPUs busy in the hour")
    g = df["gpus"].to_numpy(dtype=float)
    bad = np.flatnonzero(np.isinf(g) | (g < 0))
    if bad.size:
        raise InputError(f"gpus must be >= 0 and finite, got {g[bad[0]]:g}", file=file, row=int(bad[0]) + 1,
                         column="gpus", fix="GPU demand cannot be negative; leave the cell empty for a missing hour")
    if (df["series_id"] == "").any():
        r = int(np.flatnonzero((df["series_id"] == "").to_numpy())[0]) + 1
        raise InputError("empty series_id", file=file, row=r, column="series_id", fix="name every series")
    dup = df.duplicated(["series_id", "timestamp"], keep="first").to_numpy()
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        raise InputError(f"duplicate hour {df['timestamp'].iloc[r]:%Y-%m-%dT%H:%MZ} in series "
                         f"'{df['series_id'].iloc[r]}'", file=file, row=r + 1, column="timestamp",
                         fix="keep one row per series and hour")
    floored = df["timestamp"].dt.floor("h")
    off = int((floored != df["timestamp"]).sum())
    if off:
        n0 = len(df)
        df = (df.assign(timestamp=floored).groupby(["series_id", "timestamp"], sort=True)["gpus"]
              .mean().reset_index())
        notes.append(f"resampled {n0:,} rows at irregular or sub-hourly times to {len(df):,} hourly means")
    parts = []
    added = 0
    for sid, grp in df.sort_values(["series_id", "timestamp"]).groupby("series_id", sort=True):
        grid = pd.date_range(grp["timestamp"].iloc[0], grp["timestamp"].iloc[-1], freq="h")
        s = pd.Series(grp["gpus"].to_numpy(dtype=float), index=pd.DatetimeIndex(grp["timestamp"])).reindex(grid)
        added += len(grid) - len(grp)
        if len(grid) < min_hours:
            what = f"model '{model}'" if model else "the model"
            raise InputError(f"series '{sid}' has {len(grid)} h of history; {what} needs at least {min_hours} h",
                             file=file, column="timestamp",
                             fix="give a longer history or choose a simpler model (e.g. --model naive)")
        if not np.isfinite(s.to_numpy()).any():
            raise InputError(f"series '{sid}' has no observed hour", file=file, column="gpus")
        parts.append(pd.DataFrame({"series_id": str(sid), "timestamp": grid, "gpus": s.to_numpy(dtype=float)}))
    if added:
        notes.append(f"{added:,} absent hours added as missing (NaN), not as zero")
    out = pd.concat(parts, ignore_index=True)
    out["series_id"] = out["series_id"].astype(str)
    return out, notes


def check_horizon(h: int, *, max_hours: int = 3 * 8784) -> int:
    """Validate a horizon [h]: an integer from 1 to 3 years."""
    if isinstance(h, bool) or not float(h).is_integer() or not 1 <= int(h) <= max_hours:
        raise InputError(f"horizon must be a whole number of hours from 1 to {max_hours}, got {h}",
                         column="horizon")
    return int(h)


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Validate interval levels [%]: each strictly between 0 and 100."""
    out = tuple(float(v) for v in levels)
    for v in out:
        if not 0.0 < v < 100.0:
            raise InputError(f"interval level {v:g} must be strictly between 0 and 100", column="levels",
                             fix="e.g. --levels 80 95")
    return tuple(sorted(dict.fromkeys(out)))
