"""Tagging hygiene of a billing export: untagged spend, runaway tag keys, spend by required tag.

The ``billing`` table keeps only team and project; hygiene needs every tag, so :func:`read_tagged_rows`
reads the export's usage rows again with their full tags (FOCUS ``Tags`` or CUR ``resource_tags``) and
checks that no charge is billed twice (overlapping charge periods of the same resource and SKU).
:func:`tag_hygiene` then measures, over the usage spend that can carry tags (idle commitment is a contract,
not a resource, and is counted apart):

- the untagged spend share (rows with no tag at all) and, per required key, the spend missing it;
- tag keys with runaway cardinality: more than ``max_values`` distinct values, or more than
  ``max_distinct_share`` of the rows carrying the key having a value of their own (free-text experiment
  ids), given at least ``min_values`` values;
- spend per value of each required tag (``team``, ``project``, ``model``, ``environment`` by default).

Tag keys are compared after lower-casing and dropping a ``user:`` / ``user_`` prefix, as the readers do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers._billing import _norm_key, _tag_dict
from scenarios.readers._checks import ROW, check_units, parse_number, parse_time, read_table

REQUIRED_TAGS = ("team", "project", "model", "environment")
MISSING = "(missing)"


@dataclass(frozen=True)
class TaggedRows:
    """Usage rows of an export with their cost and full tags.

    Attributes
    ----------
    frame
        ``row`` (1-based data row of the file), ``cost_usd`` [USD, EffectiveCost or unblended cost],
        ``idle_commitment`` (bool), ``tags`` (dict of normalised key -> text value).
    notes
        What was read and what was counted apart.
    """

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def read_tagged_rows(path: str | Path) -> TaggedRows:
    """Read the usage rows of a FOCUS or CUR 2.0 export with their tags, checking for double billing.

    Raises
    ------
    InputError
        A currency other than USD or several currencies, tags that are not JSON objects, non-numeric
        costs, and two rows charging the same resource, SKU, pricing and commitment for overlapping charge
        periods (the same export, or overlapping exports, read twice).
    """
    file = str(path)
    df = read_table(path, what="billing export")
    if "ChargePeriodStart" in df.columns:
        cur = False
        cols = {"category": "ChargeCategory", "cost": "EffectiveCost", "tags": "Tags", "start": "ChargePeriodStart",
                "end": "ChargePeriodEnd", "currency": "BillingCurrency", "status": "CommitmentDiscountStatus"}
        usage = df[cols["category"]].astype("string").str.strip().str.lower() == "usage"
        ident = ["ResourceId", "SkuId", "x_UsageType", "PricingCategory", "CommitmentDiscountId",
                 "CommitmentDiscountStatus", "Tags"]
    elif "line_item_usage_start_date" in df.columns:
        cur = True
        cols = {"category": "line_item_line_item_type", "cost": "line_item_unblended_cost", "tags": "resource_tags",
                "start": "line_item_usage_start_date", "end": "line_item_usage_end_date",
                "currency": "line_item_currency_code", "status": "line_item_line_item_type"}
        usage = df[cols["category"]].astype("string").str.strip().isin(
            ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "RIFee", "SavingsPlanRecurringFee"])
        ident = ["line_item_resource_id", "line_item_usage_type", "line_item_line_item_type", "resource_tags"]
    else:
        raise InputError("neither a FOCUS nor a CUR 2.0 export", file=file,
                         fix="give a FOCUS (ChargePeriodStart, ...) or CUR 2.0 (line_item_...) export")
    if cols["currency"] in df.columns:
        check_units(df, cols["currency"], file=file, allowed=["USD"], what="currency")
    k = df[usage.fillna(False).to_numpy(dtype=bool)].copy()
    notes = [f"{len(k):,} usage rows of {len(df):,} read for tags"]
    if k.empty:
        return TaggedRows(pd.DataFrame({"row": [], "cost_usd": [], "idle_commitment": [], "tags": []}), notes)
    if cols["cost"] in k.columns:
        cost = parse_number(k, cols["cost"], file=file, unit="USD", allow_na=True).fillna(0.0)
    else:
        raise InputError(f"missing column '{cols['cost']}'", file=file, column=cols["cost"],
                         fix="include the cost column in the export")
    status = k[cols["status"]].astype("string").fillna("") if cols["status"] in k.columns else pd.Series(
        "", index=k.index, dtype="string")
    idle = (status.str.lower() == "unused") if not cur else status.isin(["RIFee", "SavingsPlanRecurringFee"])
    _check_overlaps(k, [c for c in ident if c in k.columns], cols["start"], cols["end"], file=file)
    tag_col = cols["tags"]
    rows = k[ROW].to_numpy()
    if tag_col in k.columns:
        cells = k[tag_col].tolist()
        parsed: dict[Any, dict[str, str]] = {}
        tags = []
        for i, cell in enumerate(cells):
            key = cell if isinstance(cell, str) or cell is None else id(cell)
            if key not in parsed or not isinstance(cell, str):
                d = _tag_dict(cell, file=file, row=int(rows[i]), column=tag_col)
                parsed[key] = {_norm_key(a): str(b) for a, b in d.items() if b not in (None, "")}
            tags.append(parsed[key])
    else:
        notes.append(f"no '{tag_col}' column: every row is untagged")
        tags = [{} for _ in range(len(k))]
    out = pd.DataFrame({"row": rows.astype(int), "cost_usd": cost.to_numpy(dtype=float),
                        "idle_commitment": idle.to_numpy(dtype=bool), "tags": tags})
    return TaggedRows(out, notes)


def _check_overlaps(k: pd.DataFrame, ident: Sequence[str], start_col: str, end_col: str, *, file: str) -> None:
    """Refuse two rows with the same identity whose charge periods overlap."""
    if not ident or ident[0] not in ("ResourceId", "line_item_resource_id") or end_col not in k.columns:
        return
    rid = ident[0]
    has = k[rid].astype("string").fillna("").str.strip() != ""
    sub = k[has.to_numpy(dtype=bool)]
    if sub.empty:
        return
    start = parse_time(sub, start_col, file=file, tz=None)
    end = parse_time(sub, end_col, file=file, tz=None)
    key = sub[list(ident)].astype("string").fillna("").agg("\x1f".join, axis=1)
    order = pd.DataFrame({"key": key.to_numpy(), "s": start.to_numpy(), "e": end.to_numpy(),
                          "row": sub[ROW].to_numpy()}).sort_values(["key", "s", "row"], kind="stable")
    same = order["key"].to_numpy() == np.roll(order["key"].to_numpy(), 1)
    prev_end = np.roll(order["e"].to_numpy(), 1)
    clash = same & (order["s"].to_numpy() < prev_end)
    clash[0] = False
    if clash.any():
        i = int(np.flatnonzero(clash)[0])
        rows = order["row"].to_numpy()
        raise InputError(f"charge period overlaps row {int(rows[i - 1])} for the same resource, SKU and pricing "
                         "(the same charge billed twice)", file=file, row=int(rows[i]), column=start_col,
                         fix="the export holds overlapping periods (e.g. two exports concatenated); keep one copy "
                             "of each period")


def tag_hygiene(rows: pd.DataFrame, *, required: Sequence[str] = REQUIRED_TAGS, max_values: int = 100,
                max_distinct_share: float = 0.5, min_values: int = 20,
                top: int = 20) -> dict[str, pd.DataFrame]:
    """Untagged spend, tag-key cardinality and spend by required tag (rules in the module docstring).

    Parameters
    ----------
    rows
        ``TaggedRows.frame`` from :func:`read_tagged_rows`.
    required
        Tag keys every resource should carry.
    max_values, max_distinct_share, min_values
        Runaway-cardinality thresholds [values, fraction, values].
    top
        Values listed per required key (the rest summed as ``(other)``).

    Returns
    -------
    dict of pandas.DataFrame
        ``summary`` (measure, value: taggable, untagged and idle-commitment spend [USD], untagged share,
        per required key the spend missing it [USD] and its share); ``keys`` (key, distinct values, rows
        carrying it, spend [USD], share of taggable spend, ``runaway``); ``by_tag`` (key, value, spend [USD],
        share).
    """
    r = rows[~rows["idle_commitment"].to_numpy(dtype=bool)]
    idle_usd = math.fsum(rows.loc[rows["idle_commitment"].to_numpy(dtype=bool), "cost_usd"].to_numpy(dtype=float))
    cost = r["cost_usd"].to_numpy(dtype=float)
    total = math.fsum(cost)
    tags = r["tags"].tolist()
    untagged = np.array([not t for t in tags], dtype=bool)
    summ: list[tuple[str, float]] = [("taggable_spend_usd", total),
                                     ("untagged_spend_usd", math.fsum(cost[untagged])),
                                     ("untagged_share", _share(math.fsum(cost[untagged]), total)),
                                     ("idle_commitment_spend_usd (not taggable)", idle_usd)]
    by_rows = []
    for key in required:
        vals = np.array([t.get(key, MISSING) for t in tags], dtype=object)
        miss = vals == MISSING
        summ.append((f"missing_{key}_usd", math.fsum(cost[miss])))
        summ.append((f"missing_{key}_share", _share(math.fsum(cost[miss]), total)))
        s = pd.Series(cost).groupby(vals).sum().sort_values(ascending=False, kind="stable")
        named = s.drop(MISSING, errors="ignore")
        head, rest = named.iloc[:top], named.iloc[top:]
        for v, usd in head.items():
            by_rows.append((key, str(v), float(usd)))
        if len(rest):
            by_rows.append((key, f"(other {len(rest)} values)", float(rest.sum())))
        if MISSING in s.index:
            by_rows.append((key, MISSING, float(s[MISSING])))
    by_tag = pd.DataFrame(by_rows, columns=["key", "value", "spend_usd"])
    by_tag["share"] = by_tag["spend_usd"] / total if total > 0 else np.nan
    values_of: dict[str, set[str]] = {}
    rows_of: dict[str, int] = {}
    cost_of: dict[str, list[float]] = {}
    for t, c in zip(tags, cost.tolist(), strict=True):
        for a, b in t.items():
            values_of.setdefault(a, set()).add(b)
            rows_of[a] = rows_of.get(a, 0) + 1
            cost_of.setdefault(a, []).append(c)
    krows = []
    for a in sorted(values_of):
        nv, n, costs = len(values_of[a]), rows_of[a], cost_of[a]
        runaway = nv > max_values or (nv >= min_values and nv / n > max_distinct_share)
        krows.append({"key": a, "distinct_values": nv, "rows": n, "spend_usd": math.fsum(costs),
                      "share_of_spend": _share(math.fsum(costs), total), "required": a in required,
                      "runaway": bool(runaway)})
    keys = pd.DataFrame(krows, columns=["key", "distinct_values", "rows", "spend_usd", "share_of_spend", "required",
                                        "runaway"])
    summary = pd.DataFrame(summ, columns=["measure", "value"])
    return {"summary": summary, "keys": keys, "by_tag": by_tag}


def _share(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")

