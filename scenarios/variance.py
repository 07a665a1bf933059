"""Budget variance as a waterfall: budget -> volume -> price/rate -> mix -> commitment utilisation -> actual.

A budget is a table of planned GPU-hours and USD per (month, family, pricing category); see
:func:`read_budget`. For one month, with segments ``s = (family, category)``, budgeted GPU-hours ``Qb_s`` at
rate ``Pb_s = budget_usd / gpu_hours``, actual used GPU-hours ``Qa_s`` at effective rate ``Pa_s``, and idle
(unused) commitment ``Ub`` budgeted and ``Ua`` actual [USD]:

- ``B = sum Qb_s Pb_s + Ub`` and ``A = sum Qa_s Pa_s + Ua``;
- **volume** = ``(Qa - Qb) * Pb``, where ``Qa, Qb`` are total GPU-hours and ``Pb`` the budget's mean rate;
- **price/rate** = ``sum Qa_s (Pa_s - Pb_s)``;
- **mix (family)** = ``sum_f (Qa_f - Qa wb_f) Pb_f`` with ``wb_f`` the budget's GPU-hour share of family
  ``f`` and ``Pb_f`` its budgeted mean rate;
- **mix (pricing category)** = ``sum_f sum_c (Qa_fc - Qa_f wb_c|f) Pb_fc`` with ``wb_c|f`` the budget's share
  of category ``c`` within family ``f``;
- **commitment utilisation** = ``Ua - Ub``.

The five parts add up to ``A - B`` identically (each is a difference of sums that telescope). A segment that
was used but not budgeted (e.g. on-demand when only spot was planned) takes its family's budgeted mean rate
as its budget rate (the whole budget's mean rate for a family not budgeted at all), so spot falling back to
on-demand shows up as category mix (more GPU-hours in the dearer category) and as price/rate (the
on-demand rate above the family's mean).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.chargeback import month_of
from scenarios.errors import InputError
from scenarios.readers._checks import ROW, parse_number, read_table, require_columns

#: Budget categories: the billing table's pricing categories and ``Unused`` (idle commitment, USD only).
BUDGET_CATEGORIES = {"standard": "Standard", "on-demand": "Standard", "ondemand": "Standard",
                     "dynamic": "Dynamic", "spot": "Dynamic", "committed": "Committed",
                     "unused": "Unused", "idle": "Unused", "unused commitment": "Unused"}
#: Waterfall steps, in order.
STEPS = ("budget", "volume", "price_rate", "mix_family", "mix_pricing_category", "commitment_utilisation",
         "actual")


def read_budget(path: str | Path) -> pd.DataFrame:
    """Read a budget CSV or Parquet file.

    Columns: ``month`` (``YYYY-MM``), ``budget_usd`` [USD], and for a waterfall also ``family``,
    ``pricing_category`` (Standard / on-demand, Dynamic / spot, Committed, Unused = idle commitment) and
    ``gpu_hours`` [GPU-hours; may be empty on Unused rows]. A file with only ``month`` and ``budget_usd``
    supports the breach probability but not the waterfall.

    Returns
    -------
    pandas.DataFrame
        ``month, family, pricing_category, gpu_hours, budget_usd`` (family and category missing, GPU-hours
        NaN when the file has no such columns).

    Raises
    ------
    InputError
        Missing columns, a month that is not ``YYYY-MM``, an unknown category, negative or non-numeric
        amounts, GPU-hours of zero with a non-zero budget on a used category, duplicate segments.
    """
    file = str(path)
    df = read_table(path, what="budget")
    require_columns(df, ["month", "budget_usd"], ["family", "pricing_category", "gpu_hours"], file=file,
                    what="budget")
    month = df["month"].astype("string").str.strip()
    ok = month.str.fullmatch(r"\d{4}-\d{2}").fillna(False).to_numpy(dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"month '{df['month'].iloc[i]}' is not YYYY-MM", file=file, row=int(df[ROW].iloc[i]),
                         column="month", fix="write months like 2026-01")
    usd = parse_number(df, "budget_usd", file=file, unit="USD")
    out = pd.DataFrame({"month": month.astype("str"), "budget_usd": usd.to_numpy(dtype=float)})
    detailed = {"family", "pricing_category", "gpu_hours"} <= set(df.columns)
    if not detailed:
        out["family"] = pd.Series(pd.NA, index=out.index, dtype="str")
        out["pricing_category"] = pd.Series(pd.NA, index=out.index, dtype="str")
        out["gpu_hours"] = np.nan
        return out[["month", "family", "pricing_category", "gpu_hours", "budget_usd"]]
    raw = df["pricing_category"].astype("string").str.strip()
    cat = raw.str.lower().map(lambda v: BUDGET_CATEGORIES.get(str(v), ""))
    bad = (cat == "").to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"pricing_category '{raw.iloc[i]}' is not a budget category", file=file,
                         row=int(df[ROW].iloc[i]), column="pricing_category",
                         fix="use Standard, Dynamic, Committed or Unused (idle commitment)")
    out["family"] = df["family"].astype("string").str.strip().str.lower().astype("str").to_numpy()
    out["pricing_category"] = cat.astype("str").to_numpy()
    hours = parse_number(df, "gpu_hours", file=file, unit="GPU-hours", allow_na=True)
    out["gpu_hours"] = hours.to_numpy(dtype=float)
    used = (out["pricing_category"] != "Unused").to_numpy(dtype=bool)
    no_h = used & ~(out["gpu_hours"].to_numpy(dtype=float) > 0) & (out["budget_usd"].to_numpy(dtype=float) > 0)
    if no_h.any():
        i = int(np.flatnonzero(no_h)[0])
        raise InputError("a budget for used GPUs needs its GPU-hours", file=file, row=int(df[ROW].iloc[i]),
                         column="gpu_hours", fix="give the planned GPU-hours (the rate is budget_usd / gpu_hours)")
    dup = out.duplicated(["month", "family", "pricing_category"]).to_numpy(dtype=bool)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError("the same month, family and pricing_category appear twice", file=file,
                         row=int(df[ROW].iloc[i]), column="pricing_category", fix="give each segment one row")
    out.loc[~used, "gpu_hours"] = 0.0
    return out[["month", "family", "pricing_category", "gpu_hours", "budget_usd"]]


def actual_segments(billing: pd.DataFrame) -> pd.DataFrame:
    """Actual GPU-hours and USD per (month, family, category) from the ``billing`` table, ``Unused`` apart."""
    b = billing.copy()
    b["month"] = month_of(b["timestamp"])
    unused = b["commitment_status"].astype("string").fillna("") == "Unused"
    b["pricing_category"] = np.where(unused, "Unused", b["pricing_category"].astype(str))
    b["gpu_hours"] = np.where(unused, 0.0, b["gpu_hours"].to_numpy(dtype=float))
    g = b.groupby(["month", "family", "pricing_category"], sort=True).agg(
        gpu_hours=("gpu_hours", lambda s: math.fsum(s)), actual_usd=("effective_cost_usd", lambda s: math.fsum(s)))
    return g.reset_index()


def budget_waterfall(billing: pd.DataFrame, budget: pd.DataFrame, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The variance of one month from budget to actual, in the steps of :data:`STEPS`.

    Parameters
    ----------
    billing
        The ``billing`` table.
    budget
        From :func:`read_budget`, with family, pricing category and GPU-hours.
    month
        ``YYYY-MM``.

    Returns
    -------
    (waterfall, segments)
        ``waterfall``: ``step``, ``usd`` [USD; the budget and actual rows hold levels, the others changes],
        ``cumulative_usd``. ``segments``: per (family, category) budget and actual GPU-hours, rates
        [USD/GPU-hour] and each segment's price and category-mix parts.

    Raises
    ------
    InputError
        When the budget has no segments for ``month`` or lacks GPU-hours.
    """
    bud = budget[budget["month"] == month]
    if bud.empty or bud["family"].isna().any():
        raise InputError(f"the budget has no per-family rows for {month}", column="month",
                         fix="give month, family, pricing_category, gpu_hours and budget_usd rows for the month")
    act = actual_segments(billing)
    act = act[act["month"] == month]
    used_b = bud[bud["pricing_category"] != "Unused"]
    used_a = act[act["pricing_category"] != "Unused"]
    keys = sorted(set(zip(used_b["family"], used_b["pricing_category"], strict=True))
                  | set(zip(used_a["family"], used_a["pricing_category"], strict=True)))
    qb = {(f, c): float(h) for f, c, h in zip(used_b["family"], used_b["pricing_category"], used_b["gpu_hours"],
                                             strict=True)}
    ub = {(f, c): float(u) for f, c, u in zip(used_b["family"], used_b["pricing_category"], used_b["budget_usd"],
                                             strict=True)}
    qa = {(f, c): float(h) for f, c, h in zip(used_a["family"], used_a["pricing_category"], used_a["gpu_hours"],
                                             strict=True)}
    ua = {(f, c): float(u) for f, c, u in zip(used_a["family"], used_a["pricing_category"], used_a["actual_usd"],
                                             strict=True)}
    Qb = math.fsum(qb.values())
    Qa = math.fsum(qa.values())
    B_used = math.fsum(ub.values())
    if Qb <= 0:
        raise InputError(f"the budget of {month} plans no GPU-hours", column="gpu_hours",
                         fix="give planned GPU-hours for the month's used categories")
    Pb = B_used / Qb
    fams = sorted({f for f, _ in keys})
    qb_f = {f: math.fsum(qb.get(k, 0.0) for k in keys if k[0] == f) for f in fams}
    qa_f = {f: math.fsum(qa.get(k, 0.0) for k in keys if k[0] == f) for f in fams}
    pb_f = {f: (math.fsum(ub.get(k, 0.0) for k in keys if k[0] == f) / qb_f[f]) if qb_f[f] > 0 else Pb
            for f in fams}
    rows = []
    for k in keys:
        f = k[0]
        q_b, q_a = qb.get(k, 0.0), qa.get(k, 0.0)
        p_b = ub[k] / q_b if q_b > 0 else pb_f[f]
        p_a = ua.get(k, 0.0) / q_a if q_a > 0 else np.nan
        # within-family budget share; a family not budgeted at all keeps its actual shares (no category mix)
        w_cf = q_b / qb_f[f] if qb_f[f] > 0 else (q_a / qa_f[f] if qa_f[f] > 0 else 0.0)
        rows.append({"family": f, "pricing_category": k[1], "budget_gpu_hours": q_b, "actual_gpu_hours": q_a,
                     "budget_usd_per_gpu_hour": p_b, "actual_usd_per_gpu_hour": p_a,
                     "budget_usd": ub.get(k, 0.0), "actual_usd": ua.get(k, 0.0),
                     # actual USD minus the actual GPU-hours at the budget rate
                     "price_rate_usd": ua.get(k, 0.0) - q_a * p_b,
                     "mix_pricing_category_usd": (q_a - qa_f[f] * w_cf) * p_b})
    seg = pd.DataFrame(rows)
    unused_b = math.fsum(bud.loc[bud["pricing_category"] == "Unused", "budget_usd"].to_numpy(dtype=float))
    unused_a = math.fsum(act.loc[act["pricing_category"] == "Unused", "actual_usd"].to_numpy(dtype=float))
    # families not budgeted at all: their budget share is 0 and they enter family mix at the mean rate Pb
    mix_family = math.fsum((qa_f[f] - Qa * qb_f[f] / Qb) * pb_f[f] for f in fams)
    parts = {
        "volume": (Qa - Qb) * Pb,
        "price_rate": math.fsum(seg["price_rate_usd"].to_numpy(dtype=float)),
        "mix_family": mix_family,
        "mix_pricing_category": math.fsum(seg["mix_pricing_category_usd"].to_numpy(dtype=float)),
        "commitment_utilisation": unused_a - unused_b,
    }
    budget_total = B_used + unused_b
    actual_total = math.fsum(ua.values()) + unused_a
    steps = [("budget", budget_total), *parts.items(), ("actual", actual_total)]
    wf = pd.DataFrame(steps, columns=["step", "usd"])
    wf["cumulative_usd"] = [budget_total, *np.cumsum([budget_total, *parts.values()])[1:], actual_total]
    return wf, seg
