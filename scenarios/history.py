"""A scenario's demand history: read the file ``[demand]`` names and build family and team series.

:func:`load_history` reads ``demand.history`` in ``demand.format`` (usage, focus or cur), applies
``demand.columns``, ``demand.tz``, ``demand.team_family``, ``demand.default_family`` and ``demand.scale``,
and returns the ``usage`` table, the ``history`` table (family series ``a100`` and team series
``a100/teamname``) and, for billing exports, the ``billing`` table.

Zeros are kept as read (an outage that logged zero GPUs stays zero here): flagging outages is the
forecasting engine's job. Hours with no usage row at all are NaN (missing) for a usage file, and 0 for
a billing export (no charge in an hour means nothing ran).

Examples
--------
>>> from scenarios import load_scenario
>>> from scenarios.history import load_history
>>> h = load_history(load_scenario("default"))
>>> sorted(h.family_history()["series_id"].unique())
['a100', 'h100']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers import ReadResult, read_cur, read_focus, read_usage
from scenarios.readers._checks import MAX_PLAUSIBLE_GPUS, warn
from scenarios.schema import Scenario

Level = Literal["family", "team", "all"]


@dataclass(frozen=True)
class HistoryData:
    """The demand history of a scenario.

    Attributes
    ----------
    usage
        ``usage`` table after the scenario's mapping: ``timestamp`` (UTC), ``family``, ``team`` (if the
        data has teams), other key columns, ``gpus`` [GPUs] (already multiplied by ``demand.scale``).
    history
        ``history`` table (``series_id, timestamp, gpus``): family series (``series_id`` = the
        ``demand.series_keys`` values joined by ``/``, by default the family slug) on a full hourly grid
        from the first to the last hour of the data, followed by team series ``family/team`` when the
        data has a team column.
    billing
        The ``billing`` table for FOCUS and CUR history, else None.
    skipped
        Rows left out on purpose, by reason (reader and mapping together).
    notes
        What was done, in order.
    source
        The history file.
    """

    usage: pd.DataFrame
    history: pd.DataFrame
    billing: pd.DataFrame | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = ""

    def family_history(self) -> pd.DataFrame:
        """Family-level series (what the optimizer plans on)."""
        return self.series("family")

    def team_history(self) -> pd.DataFrame:
        """Team series ``family/team`` (empty when the data has no team column)."""
        return self.series("team")

    def series(self, level: Level = "all") -> pd.DataFrame:
        """History rows of one level: ``family``, ``team`` or ``all``."""
        if level == "all":
            return self.history
        is_team = self.history["series_id"].isin(self._team_ids())
        part = self.history[is_team] if level == "team" else self.history[~is_team]
        return part.reset_index(drop=True)

    def _team_ids(self) -> set[str]:
        if "team" not in self.usage.columns:
            return set()
        u = self.usage.dropna(subset=["team"])
        return set((u["family"].astype(str) + "/" + u["team"].astype(str)).unique())

    def report(self) -> str:
        """A few lines for a human: source, series, rows skipped by reason, notes."""
        fam = self.family_history()
        lines = [f"{self.source}: {len(self.usage):,} usage rows -> {fam['series_id'].nunique()} family series"
                 f" and {self.team_history()['series_id'].nunique()} team series"]
        if self.skipped:
            lines.append(f"  skipped {sum(self.skipped.values()):,} rows on purpose:")
            for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"    {n:>8,}  {reason}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def read_demand(sc: Scenario, *, tz: str | None = None) -> tuple[ReadResult, pd.DataFrame | None]:
    """Read ``demand.history`` in its format; return the usage read and the billing table (or None).

    For FOCUS and CUR, usage is the GPU-hours used per hour (unused commitment excluded) summed over
    instance types, pricing categories and regions, per family, team and project.
    """
    d = sc.demand
    path = sc.resolve(d.history)
    zone = tz if tz is not None else d.tz
    if d.format == "usage":
        return read_usage(path, tz=zone, columns=d.columns, setting="demand.columns"), None
    res = read_focus(path, tz=zone) if d.format == "focus" else read_cur(path, tz=zone)
    notes = list(res.notes)
    if d.columns:
        notes.append(f"demand.columns is ignored for format '{d.format}' (column names are fixed)")
    b = res.frame
    used = b[b["commitment_status"].astype("string").fillna("") != "Unused"]
    keys = ["timestamp", "family", "team", "project"]
    usage = (used.groupby(keys, dropna=False, sort=True)["gpu_hours"].sum().reset_index()
             .rename(columns={"gpu_hours": "gpus"}))
    for k in ("family", "team", "project"):
        usage[k] = usage[k].astype("str")
    for k in ("team", "project"):
        if usage[k].isna().all():
            usage = usage.drop(columns=k)
    notes.append("usage = GPU-hours used per hour from the billing rows (unused commitment excluded)")
    return ReadResult(frame=usage, skipped=res.skipped, notes=notes, source=res.source), b


def load_history(sc: Scenario, *, tz: str | None = None) -> HistoryData:
    """Read and map a scenario's demand history.

    Parameters
    ----------
    sc
        The scenario; ``sc.demand`` says where the history is and how to map it.
    tz
        Overrides ``demand.tz`` (the zone of naive timestamps), e.g. from ``--tz``.

    Returns
    -------
    HistoryData
        Usage, family and team series, billing rows for FOCUS/CUR, and what was skipped or noted.

    Raises
    ------
    InputError
        From the reader, or when rows have no family and neither ``demand.team_family`` nor
        ``demand.default_family`` gives one.
    """
    d = sc.demand
    res, billing = read_demand(sc, tz=tz)
    usage = res.frame.copy()
    notes = list(res.notes)
    skipped = dict(res.skipped)
    file = res.source

    # family: from the data, else team_family, else default_family
    if "family" not in usage.columns:
        usage["family"] = pd.Series(pd.NA, index=usage.index, dtype="str")
    fam = usage["family"].astype("string")
    if "team" in usage.columns and d.team_family:
        from_team = usage["team"].astype("string").map(d.team_family)
        filled = fam.isna() & from_team.notna()
        fam = fam.where(~filled, from_team)
        if filled.any():
            notes.append(f"family from demand.team_family for {int(filled.sum()):,} rows")
    if d.default_family is not None and fam.isna().any():
        notes.append(f"family '{d.default_family}' (demand.default_family) for {int(fam.isna().sum()):,} rows")
        fam = fam.fillna(d.default_family)
    if fam.isna().any():
        i = int(np.flatnonzero(fam.isna().to_numpy(dtype=bool))[0])
        team = usage["team"].iloc[i] if "team" in usage.columns else None
        if team is not None and not pd.isna(team):
            fix = f"add demand.team_family.{team} = '<family>' or set demand.default_family"
            msg = f"team '{team}' has no GPU family"
        else:
            fix = "add a family column, or set demand.default_family"
            msg = "usage rows have no GPU family"
        raise InputError(msg, file=file, column="family", fix=fix)
    usage["family"] = fam.astype("str")

    # families the scenario cannot plan
    unknown = ~usage["family"].isin(sc.families)
    if unknown.any():
        for f, g in usage[unknown].groupby("family"):
            skipped[f"family '{f}' not in the scenario catalog"] = len(g)
            notes.append(f"left out {float(g['gpus'].sum()):,.1f} GPU-hours of family '{f}' "
                         f"(not in [catalog]; add it to plan for it)")
        usage = usage[~unknown]
    if usage.empty:
        raise InputError("no usage rows left for the scenario's GPU families", file=file, column="family",
                         fix=f"the catalog has {', '.join(sc.families)}; map teams with demand.team_family")

    if d.scale != 1.0:
        usage["gpus"] = usage["gpus"] * d.scale
        notes.append(f"GPUs multiplied by demand.scale = {d.scale:g}")

    keys = ["family", *[k for k in d.series_keys if k != "family"]]
    missing = [k for k in keys if k not in usage.columns]
    if missing:
        raise InputError(f"demand.series_keys names '{missing[0]}', which the history does not have",
                         file=file, column=missing[0],
                         fix=f"use keys among {', '.join(c for c in usage.columns if c not in ('timestamp', 'gpus'))}")
    absent_is_zero = billing is not None
    fam_hist = _series(usage, keys, absent_is_zero)
    if billing is not None:  # usage files are checked row by row by their reader
        _check_scale(fam_hist, file, notes)
    parts = [fam_hist]
    if "team" in usage.columns and "team" not in keys:
        parts.append(_series(usage.dropna(subset=["team"]), ["family", "team"], absent_is_zero))
    history = pd.concat(parts, ignore_index=True)
    history["series_id"] = history["series_id"].astype("str")
    if absent_is_zero:
        notes.append("hours without billing rows are 0 GPUs (nothing was charged)")
    else:
        n_gap = int(fam_hist["gpus"].isna().sum())
        if n_gap:
            notes.append(f"{n_gap:,} family-hours have no usage row: missing (NaN), not zero")
    cols = ["timestamp", *[c for c in ("family", "team", "project", "region") if c in usage.columns], "gpus"]
    usage = usage[cols].sort_values([*cols[1:-1], "timestamp"], kind="stable").reset_index(drop=True)
    return HistoryData(usage=usage, history=history, billing=billing, skipped=skipped, notes=notes, source=file)


def _check_scale(fam_hist: pd.DataFrame, file: str, notes: list[str]) -> None:
    """Warn, naming the value, family and hour, when billed usage is beyond any cloud's scale."""
    v = fam_hist["gpus"].to_numpy(dtype=float, na_value=np.nan)
    big = np.nan_to_num(v, nan=0.0) > MAX_PLAUSIBLE_GPUS
    if big.any():
        i = int(np.flatnonzero(big)[0])
        warn(f"{file}: family '{fam_hist['series_id'].iloc[i]}' bills {v[i]:g} GPUs in the hour "
             f"{pd.Timestamp(fam_hist['timestamp'].iloc[i]):%Y-%m-%d %H:%M} UTC, beyond any cloud's scale "
             f"(> {MAX_PLAUSIBLE_GPUS:,.0f}); check the quantities and units", notes)


def _series(usage: pd.DataFrame, keys: list[str], absent_is_zero: bool) -> pd.DataFrame:
    """Sum ``gpus`` per keys and hour onto a full hourly grid over the whole data span."""
    grid = pd.date_range(usage["timestamp"].min(), usage["timestamp"].max(), freq="h", unit="ns")
    # min_count=1: an hour whose rows are all NaN stays NaN (missing), it does not become 0
    g = usage.groupby([*keys, "timestamp"], sort=True)["gpus"].sum(min_count=1)
    parts = []
    for key, s in g.groupby(level=list(range(len(keys))), sort=True):
        key_t = key if isinstance(key, tuple) else (key,)
        s = s.droplevel(list(range(len(keys))))
        s.index = pd.DatetimeIndex(s.index).as_unit("ns")
        full = s.reindex(grid, fill_value=0.0) if absent_is_zero else s.reindex(grid)
        parts.append(pd.DataFrame({"series_id": "/".join(str(k) for k in key_t), "timestamp": grid,
                                   "gpus": full.to_numpy(dtype=float)}))
    return pd.concat(parts, ignore_index=True)


#: Family name used for unused savings-plan commitment, which is not tied to one family.
ANY_FAMILY = "(any)"


def price_usage(sc: Scenario, family_history: pd.DataFrame) -> pd.DataFrame:
    """Price family-level demand the way the scenario's current commitments would bill it.

    For history without prices (a plain usage file) this gives the ``billing`` table the FOCUS and CUR
    readers give for real bills, so spend can be shown by pricing category. Each hour and family:

    1. reservations held (``[[current.reserved]]``) cover demand up to their GPUs; they are paid in
       full whether used or not (Committed / Used and Unused, at their effective rate);
    2. committed spend (``current.committed_usd_per_hour``, per term) buys the rest at
       ``on_demand x (1 - catalog.<family>.committed_discount[term])``, largest discount first, the way
       AWS applies savings plans; the part not consumed in the hour is Committed / Unused (family
       ``(any)``);
    3. what is left runs on demand at the catalog's ``on_demand_usd_per_gpu_hour`` (Standard).

    Missing hours (NaN) are not priced. Spot is not assumed: history says nothing about interruptibility.

    Parameters
    ----------
    sc
        The scenario (catalog prices, current commitments).
    family_history
        ``history`` rows whose ``series_id`` is a family slug, ``gpus`` [GPUs] per hour.

    Returns
    -------
    pandas.DataFrame
        The ``billing`` table: ``gpu_hours`` [GPU-hours], ``effective_cost_usd`` and ``list_cost_usd``
        [USD] per hour, family, pricing category and commitment status.
    """
    from scenarios.readers._billing import BILLING_COLUMNS, aggregate_billing, empty_billing

    h = family_history[family_history["series_id"].isin(sc.families)].dropna(subset=["gpus"])
    if h.empty:
        return empty_billing()
    wide = h.pivot(index="timestamp", columns="series_id", values="gpus").fillna(0.0)
    times = wide.index
    remaining = {f: wide[f].to_numpy(dtype=float).copy() for f in wide.columns}
    frames: list[pd.DataFrame] = []

    def emit(family: str, cat: str, status: str | None, gpu_hours: np.ndarray, eff: np.ndarray,
             lst: np.ndarray) -> None:
        frames.append(pd.DataFrame({
            "timestamp": times, "family": family, "team": pd.NA, "project": pd.NA,
            "region": sc.catalog[family].region if family in sc.catalog else pd.NA,
            "instance_type": (sc.catalog[family].instance_type or pd.NA) if family in sc.catalog else pd.NA,
            "gpu_hours": gpu_hours, "pricing_category": cat, "commitment_status": status,
            "effective_cost_usd": eff, "list_cost_usd": lst}))

    for f, d in remaining.items():
        od = sc.catalog[f].on_demand_usd_per_gpu_hour
        held = [r for r in sc.current.reserved if r.family == f]
        gpus = float(sum(r.gpus for r in held))
        if gpus > 0:
            rate = sum(r.gpus * r.usd_per_gpu_hour for r in held) / gpus
            used = np.minimum(d, gpus)
            emit(f, "Committed", "Used", used, used * rate, used * od)
            emit(f, "Committed", "Unused", gpus - used, (gpus - used) * rate, np.zeros(len(d)))
            d -= used
    for term, usd_per_hour in sorted(sc.current.committed_usd_per_hour.items()):
        if usd_per_hour <= 0:
            continue
        left = np.full(len(times), float(usd_per_hour))
        order = sorted((f for f in remaining if term in sc.catalog[f].committed_discount),
                       key=lambda f: -sc.catalog[f].committed_discount[term])
        for f in order:
            od = sc.catalog[f].on_demand_usd_per_gpu_hour
            rate = od * (1.0 - sc.catalog[f].committed_discount[term])
            covered = np.minimum(remaining[f], left / rate)
            emit(f, "Committed", "Used", covered, covered * rate, covered * od)
            left -= covered * rate
            remaining[f] -= covered
        frames.append(pd.DataFrame({
            "timestamp": times, "family": ANY_FAMILY, "team": pd.NA, "project": pd.NA, "region": pd.NA,
            "instance_type": f"committed spend {term}", "gpu_hours": 0.0, "pricing_category": "Committed",
            "commitment_status": "Unused", "effective_cost_usd": left, "list_cost_usd": 0.0}))
    for f, d in remaining.items():
        od = sc.catalog[f].on_demand_usd_per_gpu_hour
        emit(f, "Standard", None, d, d * od, d * od)
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[(rows["gpu_hours"] > 0) | (rows["effective_cost_usd"] > 0)]
    return aggregate_billing(rows)[BILLING_COLUMNS]
