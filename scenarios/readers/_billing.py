"""The ``billing`` table shared by the FOCUS and CUR readers: instance types, tags, hourly spreading, KPIs.

A billing row is one (hour, family, team, project, region, instance type, pricing category, commitment
status) with the GPU-hours charged and their effective and list cost. Coverage and utilization are
computed from it by :func:`billing_kpis`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from scenarios.catalog import instance_gpus, load_catalog
from scenarios.errors import InputError
from scenarios.readers._checks import ROW

#: Output columns of the ``billing`` table (scenarios/data/tables.csv).
BILLING_COLUMNS = ["timestamp", "family", "team", "project", "region", "instance_type", "gpu_hours",
                   "pricing_category", "commitment_status", "effective_cost_usd", "list_cost_usd"]
BILLING_KEYS = ["timestamp", "family", "team", "project", "region", "instance_type", "pricing_category",
                "commitment_status"]
PRICING_CATEGORIES = ("Standard", "Dynamic", "Committed")

#: Tag keys read as team and project (compared after lower-casing and removing a ``user:``/``user_`` prefix).
DEFAULT_TAG_KEYS: dict[str, tuple[str, ...]] = {
    "team": ("team", "owner_team", "team_name"),
    "project": ("project", "project_name"),
}

_TOKEN = re.compile(r"(?=([a-z][a-z0-9-]*\.[a-z0-9]+))")
_TIME_UNITS = {
    "hrs": 1.0, "hr": 1.0, "hours": 1.0, "hour": 1.0, "h": 1.0, "instance-hours": 1.0, "instance hours": 1.0,
    "minutes": 1 / 60, "minute": 1 / 60, "mins": 1 / 60, "min": 1 / 60,
    "seconds": 1 / 3600, "second": 1 / 3600, "secs": 1 / 3600, "sec": 1 / 3600, "s": 1 / 3600,
}


@cache
def find_instance(text: str) -> tuple[str, str, float] | None:
    """``(instance_type, family, gpus per instance)`` named anywhere in ``text``, or None.

    Scans every ``name.size`` token (``USE1-BoxUsage:p5.48xlarge``, ``ml.p4d.24xlarge-Training``,
    ``$55.04 per On Demand Linux p5.48xlarge Instance Hour``, JSON of SKU details) against the bundled
    catalog (:func:`scenarios.catalog.instance_gpus`).
    """
    low = text.strip().lower()
    if not low:
        return None
    for m in _TOKEN.finditer(low):
        tok = m.group(1)
        hit = instance_gpus(tok)
        if hit is not None:
            return tok, hit[0], float(hit[1])
    return None


@cache
def family_of_prefix(prefix: str) -> str | None:
    """GPU family of an instance family such as ``p5`` (all catalog types ``p5.*`` must agree), or None."""
    p = prefix.strip().lower()
    if not p:
        return None
    cat = load_catalog()
    fams = set(cat.loc[cat["instance_type"].str.startswith(p + "."), "family"])
    return fams.pop() if len(fams) == 1 else None


def locate_instances(df: pd.DataFrame, candidates: Sequence[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Find the instance type of each row in the first candidate column that names one.

    Returns
    -------
    (found, used)
        ``found`` has columns instance_type, family, gpus_per_instance (missing where none was found);
        ``used`` counts rows resolved per candidate column.
    """
    n = len(df)
    itype = np.full(n, None, dtype=object)
    fam = np.full(n, None, dtype=object)
    gpi = np.full(n, np.nan)
    used: dict[str, int] = {}
    todo = np.ones(n, dtype=bool)
    for col in candidates:
        if col not in df.columns or not todo.any():
            continue
        values = df[col].astype("string").fillna("").to_numpy(dtype=object)
        idx = np.flatnonzero(todo)
        codes, uniques = pd.factorize(values[idx])
        found_u = [find_instance(str(u)) for u in uniques]
        hit_u = np.array([r is not None for r in found_u], dtype=bool)
        hit = hit_u[codes] if len(codes) else np.zeros(0, dtype=bool)
        for i, c in zip(idx[hit], codes[hit], strict=True):
            itype[i], fam[i], gpi[i] = found_u[c]
        todo[idx[hit]] = False
        if hit.any():
            used[col] = int(hit.sum())
    found = pd.DataFrame({"instance_type": itype, "family": fam, "gpus_per_instance": gpi}, index=df.index)
    return found, used


def parse_tags(df: pd.DataFrame, column: str, *, file: str,
               tag_keys: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Team and project from a tags column: a JSON object, a map (Parquet) or a list of key/value pairs.

    Keys match case-insensitively after removing a ``user:`` or ``user_`` prefix (AWS cost-allocation
    tags), e.g. ``{"user:Team": "research"}`` gives team ``research``.

    Raises
    ------
    InputError
        When a cell is not valid JSON or not an object.
    """
    keys = {k: tuple(v) for k, v in (tag_keys or DEFAULT_TAG_KEYS).items()}
    out = {name: np.full(len(df), None, dtype=object) for name in keys}
    if column not in df.columns:
        return pd.DataFrame({k: pd.Series(v, index=df.index, dtype="str") for k, v in out.items()})
    rows = df[ROW].to_numpy() if ROW in df.columns else np.arange(1, len(df) + 1)
    cells = df[column]
    if isinstance(cells.dtype, pd.StringDtype):
        # JSON text: parse each distinct value once
        codes, uniques = pd.factorize(cells.astype("string").fillna(""))
        first_row = np.full(len(uniques), -1)
        first_row[codes[::-1]] = np.arange(len(codes))[::-1]
        picked = [_pick(_tag_dict(u, file=file, row=int(rows[first_row[j]]), column=column), keys)
                  for j, u in enumerate(uniques)]
        for name in keys:
            vals = np.array([p.get(name) for p in picked] + [None], dtype=object)
            out[name] = vals[codes]
    else:
        for i, cell in enumerate(cells.tolist()):
            got = _pick(_tag_dict(cell, file=file, row=int(rows[i]), column=column), keys)
            for name, v in got.items():
                out[name][i] = v
    return pd.DataFrame({k: pd.Series(v, index=df.index, dtype="str") for k, v in out.items()})


def _pick(tags: dict[str, Any], keys: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The first non-empty tag value for each wanted name."""
    if not tags:
        return {}
    norm = {_norm_key(k): v for k, v in tags.items()}
    got: dict[str, str] = {}
    for name, wanted in keys.items():
        for w in wanted:
            v = norm.get(w.lower())
            if v not in (None, ""):
                got[name] = str(v)
                break
    return got


def _norm_key(k: Any) -> str:
    s = str(k).strip().lower()
    for pre in ("user:", "user_"):
        if s.startswith(pre):
            return s[len(pre):]
    return s


def _tag_dict(cell: Any, *, file: str, row: int, column: str) -> dict[str, Any]:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return {}
    if isinstance(cell, Mapping):
        return dict(cell)
    if isinstance(cell, list | tuple | np.ndarray):
        try:
            return {str(k): v for k, v in cell}
        except (TypeError, ValueError):
            raise InputError("tags are not key/value pairs", file=file, row=row, column=column,
                             fix="give tags as a JSON object, e.g. {\"team\": \"research\"}") from None
    text = str(cell).strip()
    if not text or text in ("{}", "null"):
        return {}
    try:
        val = json.loads(text)
    except json.JSONDecodeError:
        raise InputError(f"tags '{text[:40]}' are not valid JSON", file=file, row=row, column=column,
                         fix="give tags as a JSON object, e.g. {\"team\": \"research\"}") from None
    if not isinstance(val, dict):
        raise InputError("tags must be a JSON object", file=file, row=row, column=column,
                         fix="give tags as a JSON object, e.g. {\"team\": \"research\"}")
    return val


def time_unit_factor(unit: str | None, *, file: str, column: str, row: int | None = None) -> float:
    """Hours per unit of a time unit (``Hrs`` -> 1, ``Seconds`` -> 1/3600).

    Raises
    ------
    InputError
        When ``unit`` is not a time unit.
    """
    if unit is None:
        return 1.0
    f = _TIME_UNITS.get(unit.strip().lower())
    if f is None:
        raise InputError(f"unit '{unit}' is not a unit of instance time", file=file, row=row, column=column,
                         fix="GPU instance usage must be in hours (Hrs), minutes or seconds")
    return f


def spread_hours(df: pd.DataFrame, start: pd.Series, end: pd.Series | None, amounts: Sequence[str], *,
                 file: str, start_col: str, end_col: str | None) -> tuple[pd.DataFrame, int]:
    """Put each row on the hours its charge period covers, splitting ``amounts`` evenly over them.

    A period within one hour stays one row (at its hour). A longer period (a daily export, a monthly
    reservation fee) is split evenly over the hours from the start's hour up to the end: the hourly
    shape inside it is not known and is not invented.

    Returns
    -------
    (frame, n_spread)
        ``frame`` is ``df`` with a ``timestamp`` column (UTC hour) and amounts divided; ``n_spread``
        counts the rows that covered more than one hour.

    Raises
    ------
    InputError
        When a period ends before it starts.
    """
    h0 = start.dt.floor("h")
    if end is None:
        n = np.ones(len(df), dtype=np.int64)
    else:
        back = (end < start).to_numpy(dtype=bool, na_value=False)
        if back.any():
            i = int(np.flatnonzero(back)[0])
            raise InputError(f"{end_col} {end.iloc[i].isoformat()} is before {start_col} "
                             f"{start.iloc[i].isoformat()}", file=file, row=int(df[ROW].iloc[i]),
                             column=end_col, fix="the charge period must end after it starts")
        span = (end.dt.ceil("h") - h0) / pd.Timedelta(hours=1)
        n = np.maximum(span.fillna(1).to_numpy(dtype=float), 1).astype(np.int64)
    multi = int((n > 1).sum())
    out = df.loc[df.index.repeat(n)].copy()
    offs = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    hours = pd.DatetimeIndex(h0.loc[df.index.repeat(n)]) + pd.to_timedelta(offs, unit="h")
    out["timestamp"] = pd.DatetimeIndex(hours).tz_convert("UTC").as_unit("ns")
    div = np.repeat(n, n).astype(float)
    for a in amounts:
        out[a] = out[a].to_numpy(dtype=float) / div
    return out.reset_index(drop=True), multi


def aggregate_billing(rows: pd.DataFrame) -> pd.DataFrame:
    """Sum GPU-hours and costs per :data:`BILLING_KEYS`; return the ``billing`` table, sorted."""
    if rows.empty:
        return empty_billing()
    g = rows.groupby(BILLING_KEYS, dropna=False, sort=True)[["gpu_hours", "effective_cost_usd",
                                                              "list_cost_usd"]].sum().reset_index()
    for c in ("family", "team", "project", "region", "instance_type", "pricing_category", "commitment_status"):
        g[c] = g[c].astype("str")
    return g[BILLING_COLUMNS].reset_index(drop=True)


def status_column(used: np.ndarray, unused: np.ndarray, index: pd.Index) -> pd.Series:
    """``commitment_status``: Used, Unused, or missing for rows that are not commitment rows."""
    text = np.where(unused, "Unused", np.where(used, "Used", ""))
    s = pd.Series(text, index=index, dtype="str")
    return s.mask(s == "")


def summary_note(n_rows: int, billing: pd.DataFrame) -> str:
    """One line: GPU rows read, billing rows made, GPU-hours used and effective cost."""
    unused = billing["commitment_status"].astype("string").fillna("") == "Unused"
    used_h = float(billing.loc[~unused, "gpu_hours"].sum())
    return (f"{n_rows:,} GPU rows -> {len(billing):,} hourly billing rows; {used_h:,.1f} GPU-hours used, "
            f"{float(billing['effective_cost_usd'].sum()):,.2f} USD effective cost "
            f"({float(billing.loc[unused, 'effective_cost_usd'].sum()):,.2f} USD of it unused commitment)")


def empty_billing() -> pd.DataFrame:
    """A billing table with no rows and the right columns and dtypes."""
    data: dict[str, pd.Series] = {
        c: pd.Series([], dtype="str") for c in BILLING_COLUMNS
    }
    data["timestamp"] = pd.Series([], dtype="datetime64[ns, UTC]")
    for c in ("gpu_hours", "effective_cost_usd", "list_cost_usd"):
        data[c] = pd.Series([], dtype="float64")
    return pd.DataFrame(data)[BILLING_COLUMNS]


def billing_kpis(billing: pd.DataFrame, by: str | Sequence[str] = "family") -> pd.DataFrame:
    """Coverage, utilization, spot share and savings per family (or other keys) and in total.

    Parameters
    ----------
    billing
        The ``billing`` table (from :func:`~scenarios.readers.read_focus` or
        :func:`~scenarios.readers.read_cur`).
    by
        Column(s) to group by; a last row ``all`` sums every group.

    Returns
    -------
    pandas.DataFrame
        One row per group, columns:

        - ``gpu_hours`` [GPU-hours]: GPU-hours used (all pricing categories, unused commitment excluded);
        - ``gpu_hours_standard`` / ``_dynamic`` / ``_committed`` [GPU-hours]: used, by pricing category;
        - ``coverage`` [fraction]: committed GPU-hours / GPU-hours used;
        - ``spot_share`` [fraction]: dynamic (spot) GPU-hours / GPU-hours used;
        - ``commitment_used_usd`` / ``commitment_unused_usd`` [USD]: effective cost of used and unused
          commitment;
        - ``utilization`` [fraction]: used / (used + unused) commitment cost (NaN without commitments);
        - ``effective_cost_usd`` [USD]: everything paid, unused commitment included;
        - ``list_cost_usd`` [USD]: the used GPU-hours at public on-demand list price;
        - ``savings_vs_list`` [fraction]: 1 - effective / list cost;
        - ``effective_usd_per_gpu_hour`` [USD/GPU-hour]: effective cost / GPU-hours used.
    """
    keys = [by] if isinstance(by, str) else list(by)
    b = billing.copy()
    unused = b["commitment_status"].astype("string").fillna("") == "Unused"
    b["_used_h"] = np.where(unused, 0.0, b["gpu_hours"])
    for cat in PRICING_CATEGORIES:
        b[f"gpu_hours_{cat.lower()}"] = np.where((b["pricing_category"] == cat) & ~unused, b["gpu_hours"], 0.0)
    committed = b["pricing_category"] == "Committed"
    b["commitment_used_usd"] = np.where(committed & ~unused, b["effective_cost_usd"], 0.0)
    b["commitment_unused_usd"] = np.where(unused, b["effective_cost_usd"], 0.0)
    b["list_used"] = np.where(unused, 0.0, b["list_cost_usd"])
    cols = ["_used_h", "gpu_hours_standard", "gpu_hours_dynamic", "gpu_hours_committed",
            "commitment_used_usd", "commitment_unused_usd", "effective_cost_usd", "list_used"]
    g = b.groupby(keys, dropna=False, sort=True)[cols].sum()
    total = pd.DataFrame([g.sum()], index=pd.Index(["all"] if len(keys) == 1 else [("all",) * len(keys)]))
    if len(keys) > 1:
        total.index = pd.MultiIndex.from_tuples(total.index, names=keys)
    g = pd.concat([g, total])
    g.index.names = keys
    out = pd.DataFrame(index=g.index)
    out["gpu_hours"] = g["_used_h"]
    for cat in PRICING_CATEGORIES:
        out[f"gpu_hours_{cat.lower()}"] = g[f"gpu_hours_{cat.lower()}"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = _ratio(g["gpu_hours_committed"], g["_used_h"])
        out["spot_share"] = _ratio(g["gpu_hours_dynamic"], g["_used_h"])
        out["commitment_used_usd"] = g["commitment_used_usd"]
        out["commitment_unused_usd"] = g["commitment_unused_usd"]
        out["utilization"] = _ratio(g["commitment_used_usd"], g["commitment_used_usd"] + g["commitment_unused_usd"])
        out["effective_cost_usd"] = g["effective_cost_usd"]
        out["list_cost_usd"] = g["list_used"]
        out["savings_vs_list"] = 1.0 - _ratio(g["effective_cost_usd"], g["list_used"])
        out["effective_usd_per_gpu_hour"] = _ratio(g["effective_cost_usd"], g["_used_h"])
    return out


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    num = a.to_numpy(dtype=float)
    den = b.to_numpy(dtype=float)
    res = np.full(len(num), np.nan)
    ok = den > 0
    with np.errstate(over="ignore"):   # a denormal denominator gives inf, not a warning
        res[ok] = num[ok] / den[ok]
    return pd.Series(res, index=a.index)
