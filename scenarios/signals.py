"""Hourly grid signals and spot prices: file readers and the scenario -> frames assembly.

Readers (real files a user has; none of them is bundled):

* :func:`read_carbon` reads the **Electricity Maps** export (``Datetime (UTC)``,
  ``Carbon Intensity gCO₂eq/kWh (direct)`` / ``(LCA)``), the **Let's Wait Awhile** format (``Time``,
  ``Carbon Intensity``; naive times, 15/30-minute steps) and the plain contract CSV
  (``timestamp, gco2_per_kwh[, region]``).
* :func:`read_price` reads the price export (``Datetime (UTC)``, ``Datetime (Local)``, ``Price (USD/MWh)``)
  and the plain contract CSV (``timestamp, usd_per_mwh[, region]``).

Both return the ``carbon`` / ``price`` table of ``scenarios/data/tables.csv`` on a complete hourly UTC
grid.  What they did to get there (resampling, filled gaps) is listed in ``frame.attrs["notes"]``.

Assembly for a plan window ``[start, start + hours)``:

* :func:`load_signals` gives the carbon and price frames of every region of ``sc.signals.regions``, from
  the region's files or the SYNTHETIC generator of :mod:`scenarios.synthetic`;
* :func:`load_spot` gives the spot price and availability of every family with a spot offer.

**Files that do not cover the window** are mapped onto it by position in the year (see
:func:`map_to_window`): hour *t* takes the file's value at *t* minus a whole number of weeks, chosen so the
hour lands on the same weekday and hour of day at nearly the same date in a year the file covers; a window
longer than the file wraps around by whole weeks.  Every such mapping is written to
``frame.attrs["notes"]`` and logged; it is never silent.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers._checks import ROW, check_order, check_tz, parse_number, parse_time, read_table
from scenarios.schema import Scenario
from scenarios.synthetic import carbon_series, price_series, spot_price_series, stable_seed

log = logging.getLogger(__name__)

HOUR = pd.Timedelta(hours=1)
WEEK_HOURS = 168
#: Longest run of missing hours that is filled by linear interpolation [h]; longer gaps are an error.
MAX_GAP_HOURS = 24

_EM_TIME = "Datetime (UTC)"
_EM_CARBON = re.compile(r"^Carbon Intensity gCO.?2?eq/kWh \((direct|LCA)\)$", re.IGNORECASE)
_PRICE_COL = re.compile(r"^Price \(([A-Za-z]{3})/MWh\)$")

CARBON_COLUMNS = ["region", "timestamp", "gco2_per_kwh"]
PRICE_COLUMNS = ["region", "timestamp", "usd_per_mwh"]
SPOT_COLUMNS = ["family", "timestamp", "usd_per_gpu_hour", "available_gpus"]


# ---------------------------------------------------------------------------------------------------------
# low-level parsing
# ---------------------------------------------------------------------------------------------------------
def _read_csv(path: str | Path, what: str) -> pd.DataFrame:
    """The common reader (:func:`scenarios.readers._checks.read_table`): text cells, a ``_row`` column."""
    return read_table(path, what=what)


def _parse_times(part: pd.DataFrame, *, file: str, column: str, tz: str | None, utc_by_name: bool = False
                 ) -> pd.DatetimeIndex:
    """Parse a time column to a UTC index with the common reader rule (:func:`parse_time`): ISO 8601;
    naive times need ``tz`` (or a column named as UTC); local times that are ambiguous or do not exist
    (daylight-saving changes) are refused by row."""
    return pd.DatetimeIndex(parse_time(part, column, file=file, tz="UTC" if utc_by_name else tz))


def _parse_values(part: pd.DataFrame, *, file: str, column: str, unit: str, allow_negative: bool) -> np.ndarray:
    """Parse a value column with the common reader rule (:func:`parse_number`); empty cells are gaps."""
    vals = parse_number(part, column, file=file, unit=unit, allow_na=True,
                        minimum=None if allow_negative else 0.0)
    return vals.to_numpy(dtype=float)


def _to_hourly(times: pd.DatetimeIndex, values: np.ndarray, *, file: str, column: str, time_column: str,
               rows: np.ndarray | None = None) -> tuple[pd.Series, list[str]]:
    """Check order (common rule: :func:`check_order`), resample sub-hourly stamps to time-weighted hourly
    means, fill short gaps."""
    notes: list[str] = []
    times = times.as_unit("ns")
    t = times.asi8
    order = pd.DataFrame({time_column: times})
    order[ROW] = np.arange(1, len(times) + 1) if rows is None else rows
    check_order(order, [], time_column, file=file, hint="or pass the right tz= if the times are local")
    floor = times.floor("h")
    if (times != floor).any() or floor.has_duplicates:
        # Each stamp holds until the next one (the last holds for the typical step); weight by duration.
        step = np.diff(t).astype(float)
        typical = float(np.median(step)) if step.size else float(HOUR.value)
        dur = np.append(np.minimum(step, float(HOUR.value)), min(typical, float(HOUR.value)))
        ok = ~np.isnan(values)
        frame = pd.DataFrame({"h": floor[ok], "w": dur[ok], "wv": dur[ok] * values[ok]})
        agg = frame.groupby("h", sort=True)[["w", "wv"]].sum()
        series = pd.Series((agg["wv"] / agg["w"]).to_numpy(), index=pd.DatetimeIndex(agg.index))
        mins, counts = np.unique(np.round(step / 60e9).astype(np.int64), return_counts=True)
        steps = ", ".join(f"{m} min x{c:,}" for m, c in zip(mins.tolist(), counts.tolist(), strict=True))
        notes.append(f"{file}: resampled {len(times):,} sub-hourly stamps ({steps}) to {len(series):,} hourly "
                     f"time-weighted means of {column}")
    else:
        series = pd.Series(values, index=times)
    full = pd.date_range(series.index[0], series.index[-1], freq="h")
    series = series.reindex(full)
    missing = series.isna().to_numpy()
    if missing.any():
        runs = _runs(missing)
        longest = max(b - a for a, b in runs)
        if longest > MAX_GAP_HOURS:
            a, _ = max(runs, key=lambda r: r[1] - r[0])
            raise InputError(f"{longest} hours missing from {full[a]:%Y-%m-%d %H:%M} UTC", file=file,
                             column=column, fix=f"fill the gap; gaps up to {MAX_GAP_HOURS} h are interpolated")
        series = series.interpolate(method="linear", limit_area="inside")
        notes.append(f"{file}: filled {int(missing.sum()):,} missing hours of {column} in {len(runs)} gaps "
                     f"(longest {longest} h) by linear interpolation")
    series.index.name = "timestamp"
    return series, notes


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` positions of runs of True."""
    m = np.concatenate([[False], mask, [False]]).astype(int)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _frame(region_col: str, region: str, series: pd.Series, value: str, notes: list[str], source: str
           ) -> pd.DataFrame:
    out = pd.DataFrame({
        region_col: pd.array([region] * len(series), dtype="string"),
        "timestamp": pd.DatetimeIndex(series.index).as_unit("ns"),
        value: series.to_numpy(dtype=float),
    })
    out.attrs["notes"] = list(notes)
    out.attrs["source"] = source
    return out


def _unknown_format(file: str, cols: Sequence[str], expected: dict[str, list[str]]) -> InputError:
    cols = [c for c in cols if c != ROW]
    known = [c for cols_ in expected.values() for c in cols_]
    near = [f"'{c}' -> '{m[0]}'" for c in cols if (m := difflib.get_close_matches(c, known, n=1, cutoff=0.6))
            and m[0] != c]
    formats = "; ".join(f"{k}: {', '.join(v)}" for k, v in expected.items())
    hint = f"rename {', '.join(near)}" if near else f"give one of the formats ({formats})"
    return InputError(f"unknown format: columns {list(cols)}", file=file, fix=hint)


def _long(df: pd.DataFrame, *, file: str, region: str | None, default_region: str, time_col: str,
          value_col: str, out_value: str, unit: str, tz: str | None, utc_by_name: bool,
          allow_negative: bool) -> pd.DataFrame:
    """Parse one table (optionally with a region column) to the long hourly frame."""
    if "region" in df.columns and time_col == "timestamp":
        regions = df["region"].astype("string").str.strip()
        if region is not None:
            keep = (regions == region).to_numpy(dtype=bool)
            if not keep.any():
                raise InputError(f"no rows for region '{region}'", file=file, column="region",
                                 fix=f"the file has {sorted(regions.dropna().unique().tolist())}")
            groups = [(region, df[keep])]
        else:
            groups = [(str(r), df[(regions == r).to_numpy(dtype=bool)]) for r in regions.dropna().unique()]
    else:
        groups = [(region or default_region, df)]
    frames, notes = [], []
    for name, part in groups:  # ``_row`` keeps the file's row numbers in every message
        times = _parse_times(part, file=file, column=time_col, tz=tz, utc_by_name=utc_by_name)
        vals = _parse_values(part, file=file, column=value_col, unit=unit, allow_negative=allow_negative)
        series, n = _to_hourly(times, vals, file=file, column=value_col, time_column=time_col,
                               rows=part[ROW].to_numpy())
        frames.append(_frame("region", name, series, out_value, n, file))
        notes += n
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out.attrs["notes"] = notes
    out.attrs["source"] = file
    return out


# ---------------------------------------------------------------------------------------------------------
# readers
# ---------------------------------------------------------------------------------------------------------
def read_carbon(path: str | Path, *, region: str | None = None, tz: str | None = None,
                column: str = "lca") -> pd.DataFrame:
    """Read an hourly (or finer) grid carbon-intensity file into the ``carbon`` table.

    Formats, recognised by their header:

    * Electricity Maps export: ``Datetime (UTC)`` (UTC by its name, even without an offset) and
      ``Carbon Intensity gCO₂eq/kWh (LCA)`` / ``(direct)``; the region defaults to ``Zone Id``;
    * Let's Wait Awhile (Wiesner et al. 2021): ``Time``, ``Carbon Intensity`` (life-cycle); times carry no
      zone, so ``tz`` is required; 15/30-minute stamps are resampled to hourly means;
    * contract CSV: ``timestamp``, ``gco2_per_kwh`` and optionally ``region``.

    Parameters
    ----------
    path
        CSV (optionally gzip) or Parquet file.
    region
        Region name for the rows (a contract file with a ``region`` column: keep only that region).
        Default: the file's ``Zone Id``, else the file name without suffixes.
    tz
        IANA zone of naive times (Let's Wait Awhile, or a contract file without offsets).
    column
        Electricity Maps column: ``"lca"`` (life-cycle, default) or ``"direct"``.

    Returns
    -------
    pandas.DataFrame
        ``region, timestamp, gco2_per_kwh`` [gCO2e/kWh], one row per UTC hour with no gaps;
        ``attrs["notes"]`` lists resampling and gap filling, ``attrs["source"]`` the file.

    Raises
    ------
    InputError
        Unknown format, naive times without ``tz``, unreadable or negative values, duplicate or
        out-of-order times, gaps longer than :data:`MAX_GAP_HOURS`.

    Examples
    --------
    >>> ci = read_carbon("DE-LU_2023_hourly.csv.gz")           # doctest: +SKIP
    >>> ci = read_carbon("gb_ci.csv", tz="UTC", region="GB")   # doctest: +SKIP
    """
    file = str(path)
    check_tz(tz, file=file)
    if column.lower() not in ("lca", "direct"):
        raise InputError(f"unknown carbon column choice '{column}'", file=file, fix="use column='lca' or 'direct'")
    df = _read_csv(path, "carbon intensity")
    cols = list(df.columns)
    stem = Path(file).name.split(".")[0]
    common = dict(file=file, region=region, out_value="gco2_per_kwh", unit="gCO2e/kWh", allow_negative=False)
    em = {m.group(1).lower(): c for c in cols if (m := _EM_CARBON.match(c))}
    if _EM_TIME in cols and em:
        if column.lower() not in em:
            raise InputError(f"no ({column}) carbon column", file=file,
                             fix=f"use column='{next(iter(em))}'")
        zone = str(df["Zone Id"].iloc[0]) if "Zone Id" in cols and pd.notna(df["Zone Id"].iloc[0]) else stem
        return _long(df, default_region=zone, time_col=_EM_TIME, value_col=em[column.lower()], tz=tz,
                     utc_by_name=True, **common)  # type: ignore[arg-type]
    if "Time" in cols and "Carbon Intensity" in cols:
        return _long(df, default_region=stem, time_col="Time", value_col="Carbon Intensity", tz=tz,
                     utc_by_name=False, **common)  # type: ignore[arg-type]
    if "timestamp" in cols and "gco2_per_kwh" in cols:
        return _long(df, default_region=stem, time_col="timestamp", value_col="gco2_per_kwh", tz=tz,
                     utc_by_name=False, **common)  # type: ignore[arg-type]
    raise _unknown_format(file, cols, {
        "Electricity Maps": [_EM_TIME, "Carbon Intensity gCO₂eq/kWh (LCA)"],
        "Let's Wait Awhile": ["Time", "Carbon Intensity"],
        "contract": ["timestamp", "gco2_per_kwh"],
    })


def read_price(path: str | Path, *, region: str | None = None, tz: str | None = None) -> pd.DataFrame:
    """Read an hourly electricity-price file into the ``price`` table (prices may be negative).

    Formats, recognised by their header:

    * price export: ``Datetime (UTC)``, ``Datetime (Local)``, ``Price (USD/MWh)``; another currency
      (``Price (EUR/MWh)``) is refused: convert it to USD first;
    * contract CSV: ``timestamp``, ``usd_per_mwh`` and optionally ``region``.

    Parameters
    ----------
    path
        CSV (optionally gzip) or Parquet file.
    region
        Region name for the rows (a contract file with a ``region`` column: keep only that region).
        Default: the file name up to the first ``_`` (``DE-LU`` for ``DE-LU_electricity_prices_2023``).
    tz
        IANA zone of naive times in a contract file.

    Returns
    -------
    pandas.DataFrame
        ``region, timestamp, usd_per_mwh`` [USD/MWh], one row per UTC hour with no gaps; ``attrs["notes"]``.

    Raises
    ------
    InputError
        Unknown format or currency, naive times without ``tz``, unreadable values, duplicate or
        out-of-order times, gaps longer than :data:`MAX_GAP_HOURS`.
    """
    file = str(path)
    check_tz(tz, file=file)
    df = _read_csv(path, "electricity price")
    cols = list(df.columns)
    stem = Path(file).name.split(".")[0].split("_")[0]
    common = dict(file=file, region=region, out_value="usd_per_mwh", unit="USD/MWh", allow_negative=True)
    priced = {m.group(1).upper(): c for c in cols if (m := _PRICE_COL.match(c))}
    if _EM_TIME in cols and priced:
        if "USD" not in priced:
            cur = next(iter(priced))
            raise InputError(f"prices are in {cur}/MWh", file=file, column=priced[cur],
                             fix="convert to USD/MWh and name the column 'Price (USD/MWh)'")
        return _long(df, default_region=stem, time_col=_EM_TIME, value_col=priced["USD"], tz=tz,
                     utc_by_name=True, **common)  # type: ignore[arg-type]
    if "timestamp" in cols and "usd_per_mwh" in cols:
        return _long(df, default_region=stem, time_col="timestamp", value_col="usd_per_mwh", tz=tz,
                     utc_by_name=False, **common)  # type: ignore[arg-type]
    raise _unknown_format(file, cols, {
        "price export": [_EM_TIME, "Datetime (Local)", "Price (USD/MWh)"],
        "contract": ["timestamp", "usd_per_mwh"],
    })


def read_spot_price(path: str | Path, *, family: str, tz: str | None = None) -> pd.DataFrame:
    """Read a spot-price series (``timestamp, usd_per_gpu_hour``) into the ``spot`` table (without availability).

    Parameters
    ----------
    path
        CSV or Parquet file; sub-hourly stamps are resampled to hourly time-weighted means.
    family
        GPU family the prices belong to.
    tz
        IANA zone of naive times.

    Returns
    -------
    pandas.DataFrame
        ``family, timestamp, usd_per_gpu_hour`` [USD/GPU-hour] on a complete hourly UTC grid.
    """
    file = str(path)
    check_tz(tz, file=file)
    df = _read_csv(path, "spot price")
    cols = list(df.columns)
    if not ("timestamp" in cols and "usd_per_gpu_hour" in cols):
        raise _unknown_format(file, cols, {"spot price": ["timestamp", "usd_per_gpu_hour"]})
    times = _parse_times(df, file=file, column="timestamp", tz=tz)
    vals = _parse_values(df, file=file, column="usd_per_gpu_hour", unit="USD/GPU-hour", allow_negative=False)
    series, notes = _to_hourly(times, vals, file=file, column="usd_per_gpu_hour", time_column="timestamp",
                               rows=df[ROW].to_numpy())
    return _frame("family", family, series, "usd_per_gpu_hour", notes, file)


# ---------------------------------------------------------------------------------------------------------
# mapping a file onto the plan window
# ---------------------------------------------------------------------------------------------------------
def _check_window(start: pd.Timestamp, hours: int) -> pd.DatetimeIndex:
    start = pd.Timestamp(start)
    if start.tzinfo is None:
        raise InputError(f"plan start {start} has no time zone", column="start",
                         fix="give a UTC time, e.g. pd.Timestamp('2026-01-01', tz='UTC')")
    if start != start.floor("h"):
        raise InputError(f"plan start {start} is not on a whole hour", column="start",
                         fix="floor it with .floor('h')")
    if int(hours) < 1:
        raise InputError(f"hours must be >= 1, got {hours}", column="hours")
    return pd.date_range(start.tz_convert("UTC"), periods=int(hours), freq="h").as_unit("ns")


def _same_date_in_year(t: pd.Timestamp, year: int) -> pd.Timestamp:
    day = min(t.day, 28) if (t.month == 2 and t.day == 29) else t.day
    return t.replace(year=year, day=day)


def map_to_window(series: pd.Series, start: pd.Timestamp, hours: int, *, what: str = "file"
                  ) -> tuple[pd.Series, str | None]:
    """Put an hourly series on the window ``[start, start + hours)``, mapping by position in the year.

    Rule: if the series covers the window, its values are used as they are.  Otherwise hour *t* of the
    window takes the series' value at *t - 7k days*, with one whole number of weeks *k* for the whole window,
    chosen so that the window's first hour lands on the same weekday and hour of day at the nearest date to
    the same day of the year in a year the series covers (so weekly and daily shape line up, and the season
    is off by at most 3.5 days).  Hours that still fall outside the series wrap around by the series' length
    in whole weeks (52 weeks for a full year).

    Parameters
    ----------
    series
        Complete hourly series on a UTC index.
    start
        First hour of the window (tz-aware).
    hours
        Length of the window [h].
    what
        Name of the source, for the note.

    Returns
    -------
    (pandas.Series, str | None)
        Values on the window's index, and a note describing the mapping (None when the file covered it).

    Raises
    ------
    InputError
        When the series is shorter than one week and does not cover the window.
    """
    idx = _check_window(start, hours)
    s = series.sort_index()
    f0, f1 = s.index[0], s.index[-1]
    n = len(s)
    if idx[0] >= f0 and idx[-1] <= f1:
        return pd.Series(s.loc[idx[0]: idx[-1]].to_numpy(), index=idx), None
    if n < WEEK_HOURS:
        raise InputError(f"covers only {n} hours ({f0}..{f1}), not the plan window {idx[0]}..{idx[-1]}",
                         file=what, fix="give at least one week of hourly data, or a file covering the window")
    period = 52 * WEEK_HOURS if n >= 52 * WEEK_HOURS else (n // WEEK_HOURS) * WEEK_HOURS
    t0 = idx[0]
    best: tuple[int, int] | None = None  # (uncovered hours, weeks)
    for year in range(f0.year - 1, f1.year + 2):
        same = _same_date_in_year(t0, year)
        weeks = round((t0 - same) / pd.Timedelta(days=7))
        s0 = t0 - pd.Timedelta(weeks=weeks)
        first = int((s0 - f0) / HOUR)
        pos = np.arange(first, first + len(idx))
        uncovered = int(((pos < 0) | (pos >= n)).sum())
        if best is None or uncovered < best[0]:
            best = (uncovered, weeks)
    assert best is not None
    weeks = best[1]
    first = int((t0 - pd.Timedelta(weeks=weeks) - f0) / HOUR)
    pos = np.arange(first, first + len(idx))
    outside = (pos < 0) | (pos >= n)
    pos = np.where(outside, np.mod(pos, period), pos)
    values = s.to_numpy()[pos]
    src0 = f0 + pos[0] * HOUR
    note = (f"{what}: covers {f0:%Y-%m-%d %H:%M}..{f1:%Y-%m-%d %H:%M} UTC, not the window "
            f"{idx[0]:%Y-%m-%d %H:%M}..{idx[-1]:%Y-%m-%d %H:%M} UTC; mapped by position in the year: "
            f"hour t uses the file's hour t - {weeks} weeks (same weekday and hour of day; window starts at "
            f"{src0:%Y-%m-%d %H:%M})")
    if outside.any():
        note += f"; {int(outside.sum()):,} hours outside the file wrapped by {period // WEEK_HOURS} weeks"
    return pd.Series(values, index=idx), note


# ---------------------------------------------------------------------------------------------------------
# scenario -> frames
# ---------------------------------------------------------------------------------------------------------
def _start(sc: Scenario, start: pd.Timestamp | None) -> pd.Timestamp:
    if start is not None:
        return pd.Timestamp(start)
    from scenarios.workload import plan_start

    return plan_start(sc)


def load_signals(sc: Scenario, start: pd.Timestamp | None, hours: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carbon and price frames for every region of ``sc.signals.regions`` over ``[start, start + hours)``.

    Each region's signals come from its ``carbon_file`` / ``price_file`` (resolved with ``sc.resolve``;
    mapped onto the window by :func:`map_to_window` when they do not cover it) or, when no file is given,
    from the SYNTHETIC generators :func:`scenarios.synthetic.carbon_series` /
    :func:`~scenarios.synthetic.price_series` with the region's profile, means and seed.

    Parameters
    ----------
    sc
        The scenario.
    start
        First hour of the window (tz-aware, on a whole hour); None: the plan start of
        :func:`scenarios.workload.plan_start` (``sc.start``, else the hour after the history ends).
    hours
        Length of the window [h].

    Returns
    -------
    (carbon, price)
        ``region, timestamp, gco2_per_kwh`` [gCO2e/kWh] and ``region, timestamp, usd_per_mwh`` [USD/MWh],
        hourly UTC, regions in scenario order.  ``attrs["notes"]`` says where each region's numbers came
        from and how files were mapped; ``attrs["sources"]`` maps region -> source.

    Examples
    --------
    >>> import pandas as pd
    >>> from scenarios import load_scenario
    >>> carbon, price = load_signals(load_scenario("small"), pd.Timestamp("2026-01-01", tz="UTC"), 24)
    >>> sorted(carbon["region"].unique())
    ['us-east', 'us-west']
    """
    idx = _check_window(_start(sc, start), hours)
    frames: dict[str, list[pd.DataFrame]] = {"carbon": [], "price": []}
    notes: dict[str, list[str]] = {"carbon": [], "price": []}
    sources: dict[str, dict[str, str]] = {"carbon": {}, "price": {}}
    for name, rs in sc.signals.regions.items():
        for kind, file, mean, value in (
            ("carbon", rs.carbon_file, rs.carbon_mean_gco2_per_kwh, "gco2_per_kwh"),
            ("price", rs.price_file, rs.price_mean_usd_per_mwh, "usd_per_mwh"),
        ):
            if file is not None:
                path = sc.resolve(file)
                frame = read_carbon(path, tz=rs.tz) if kind == "carbon" else read_price(path, tz=rs.tz)
                if frame["region"].nunique() > 1 and (frame["region"] == name).any():
                    frame = frame[frame["region"] == name]  # a contract file with several regions
                if frame["region"].nunique() > 1:
                    raise InputError(f"holds several regions {sorted(frame['region'].unique())}", file=path,
                                     column="region",
                                     fix=f"keep only region '{name}' in the file, or split it per region")
                series = pd.Series(frame[value].to_numpy(), index=pd.DatetimeIndex(frame["timestamp"]))
                mapped, note = map_to_window(series, idx[0], len(idx), what=path)
                notes[kind] += list(frame.attrs.get("notes", [])) + ([note] if note else [])
                sources[kind][name] = path
            else:
                gen = carbon_series if kind == "carbon" else price_series
                mapped = gen(idx, rs.profile, mean, rs.seed)
                sources[kind][name] = f"SYNTHETIC profile={rs.profile} mean={mean:g} seed={rs.seed}"
                notes[kind].append(f"region {name}: {kind} is SYNTHETIC ({sources[kind][name]})")
            frames[kind].append(_frame("region", name, mapped, value, [], sources[kind][name]))
    carbon = pd.concat(frames["carbon"], ignore_index=True)
    price = pd.concat(frames["price"], ignore_index=True)
    for frame, kind in ((carbon, "carbon"), (price, "price")):
        frame.attrs["notes"] = notes[kind]
        frame.attrs["sources"] = sources[kind]
        for n in notes[kind]:
            log.info(n)
    return carbon, price


def load_spot(sc: Scenario, start: pd.Timestamp | None, hours: int, seed: int | None = None) -> pd.DataFrame:
    """Spot price and availability of every family with a spot offer over ``[start, start + hours)``.

    The price is the offer's ``price_file`` (mapped onto the window like the signal files) or the SYNTHETIC
    log-normal AR(1) of :func:`scenarios.synthetic.spot_price_series` around ``usd_per_gpu_hour`` with
    relative standard deviation ``price_volatility``.  Availability is the offer's ``available_gpus`` in every
    hour: capacity droughts are drawn by the simulator itself.

    Parameters
    ----------
    sc
        The scenario.
    start
        First hour (tz-aware, whole hour); None: the plan start (see :func:`load_signals`).
    hours
        Length of the window [h].
    seed
        Seed of the generated prices; default ``sc.simulation.seed``.  Each family draws from
        ``stable_seed(seed, "spot", family)``.

    Returns
    -------
    pandas.DataFrame
        ``family, timestamp, usd_per_gpu_hour`` [USD/GPU-hour], ``available_gpus`` [GPUs]; empty (with these
        columns) when no family has spot.  ``attrs["notes"]`` and ``attrs["sources"]`` as in
        :func:`load_signals`.
    """
    idx = _check_window(_start(sc, start), hours)
    seed = sc.simulation.seed if seed is None else int(seed)
    frames, notes, sources = [], [], {}
    for fam, gf in sc.catalog.items():
        offer = gf.spot
        if offer is None:
            continue
        if offer.price_file is not None:
            path = sc.resolve(offer.price_file)
            raw = read_spot_price(path, family=fam)
            series = pd.Series(raw["usd_per_gpu_hour"].to_numpy(), index=pd.DatetimeIndex(raw["timestamp"]))
            price, note = map_to_window(series, idx[0], len(idx), what=path)
            notes += list(raw.attrs.get("notes", [])) + ([note] if note else [])
            sources[fam] = path
        else:
            assert offer.usd_per_gpu_hour is not None  # the schema requires a level or a file
            fam_seed = stable_seed(seed, "spot", fam)
            price = spot_price_series(idx, offer.usd_per_gpu_hour, offer.price_volatility, fam_seed)
            sources[fam] = (f"SYNTHETIC level={offer.usd_per_gpu_hour:g} volatility={offer.price_volatility:g} "
                            f"seed={seed}")
        frame = _frame("family", fam, price, "usd_per_gpu_hour", [], sources[fam])
        frame["available_gpus"] = float(offer.available_gpus)
        frames.append(frame)
    if frames:
        out = pd.concat(frames, ignore_index=True)
    else:
        out = pd.DataFrame({
            "family": pd.array([], dtype="string"),
            "timestamp": pd.DatetimeIndex([], tz="UTC").as_unit("ns"),
            "usd_per_gpu_hour": np.array([], dtype=float),
            "available_gpus": np.array([], dtype=float),
        })
    out.attrs["notes"] = notes
    out.attrs["sources"] = sources
    return out
