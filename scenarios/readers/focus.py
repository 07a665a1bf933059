"""Read a FOCUS billing export (FinOps Open Cost and Usage Specification 1.0 to 1.2) into ``billing``.

What is kept: rows with ``ChargeCategory = Usage`` whose instance type (found in ``x_UsageType``,
``x_InstanceType``, ``SkuPriceDetails``, ``SkuId``, ``SkuPriceId``, ``ResourceType``, ``ChargeDescription``
or ``ResourceName``, in that order) is a GPU instance of the bundled AWS catalog. Everything else is
counted by reason in :attr:`ReadResult.skipped` (tax, credits, purchases, non-GPU usage, corrections).

Columns used (FOCUS names):

- ``ChargePeriodStart`` / ``ChargePeriodEnd`` (time; periods longer than an hour are spread evenly);
- ``ChargeCategory``, optional ``ChargeClass`` (``Correction`` rows are skipped);
- ``PricingCategory`` (Standard, Dynamic = spot, Committed; the pre-1.0 names On-Demand, Spot and
  Commitment-Based are accepted), ``CommitmentDiscountStatus`` (Used, Unused);
- ``ConsumedQuantity`` with ``ConsumedUnit`` (instance time: Hrs, Hours, minutes or seconds);
  for Unused commitment rows ``PricingQuantity`` with ``PricingUnit``;
- ``EffectiveCost``, ``ListCost`` in ``BillingCurrency`` (USD only);
- optional ``RegionId`` (or ``RegionName``), ``Tags`` (JSON object; team and project keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers._billing import (
    aggregate_billing,
    empty_billing,
    locate_instances,
    parse_tags,
    spread_hours,
    status_column,
    summary_note,
    time_unit_factor,
)
from scenarios.readers._checks import (
    ROW,
    ReadResult,
    check_tz,
    check_units,
    parse_number,
    parse_text,
    parse_time,
    read_table,
    require_columns,
)

REQUIRED = ["ChargePeriodStart", "ChargeCategory", "PricingCategory", "CommitmentDiscountStatus",
            "ConsumedQuantity", "EffectiveCost", "ListCost", "BillingCurrency"]
#: Columns searched for an instance type, in order.
INSTANCE_COLUMNS = ["x_UsageType", "x_InstanceType", "SkuPriceDetails", "SkuMeter", "SkuId", "SkuPriceId",
                    "ResourceType", "ChargeDescription", "ResourceName"]
_PRICING = {"standard": "Standard", "on-demand": "Standard", "ondemand": "Standard",
            "dynamic": "Dynamic", "spot": "Dynamic",
            "committed": "Committed", "commitment-based": "Committed"}
_SKIP_CATEGORY = {"tax": "tax", "credit": "credit", "purchase": "purchase (commitment or upfront fee)",
                  "adjustment": "adjustment", "refund": "refund"}
#: EC2 usage types that are not instance time even though they name an instance type.
_NOT_INSTANCE_TIME = ("ebsoptimized", "datatransfer", "ebs:", "cpucredits", "elasticip")


def read_focus(path: str | Path, *, tz: str | None = None,
               tag_keys: Mapping[str, Sequence[str]] | None = None) -> ReadResult:
    """Read a FOCUS 1.0-1.2 export (CSV or Parquet) into the ``billing`` table.

    Parameters
    ----------
    path
        The export.
    tz
        IANA time zone of naive times; FOCUS times carry ``Z``, so this is rarely needed.
    tag_keys
        ``{"team": [tag keys...], "project": [...]}`` read from ``Tags`` (default: team, project).

    Returns
    -------
    ReadResult
        ``frame``: the ``billing`` table, one row per hour, family, team, project, region, instance
        type, pricing category and commitment status; ``gpu_hours`` = instance-hours x GPUs per
        instance [GPU-hours]; ``effective_cost_usd``, ``list_cost_usd`` [USD]. ``skipped`` counts rows
        left out by reason; ``notes`` says where instance types were found and what was spread.

    Raises
    ------
    InputError
        Missing or misspelt columns, a currency other than USD or several currencies, mixed or non-time
        units on GPU rows, non-numeric or negative quantities or costs, naive or unreadable times, a
        charge period that ends before it starts, an unknown PricingCategory or commitment status.
    """
    file = str(path)
    check_tz(tz, file=file)
    df = read_table(path, what="FOCUS")
    if "lineItem/UsageStartDate" in df.columns or "line_item_usage_start_date" in df.columns:
        raise InputError("this is an AWS CUR export, not FOCUS", file=file,
                         fix="read it with format = 'cur' (read_cur)")
    used_cols = [*REQUIRED, "ChargePeriodEnd", "ChargeClass", "ConsumedUnit", "PricingQuantity", "PricingUnit",
                 "RegionId", "RegionName", "Region", "Tags", *INSTANCE_COLUMNS, ROW]
    require_columns(df, REQUIRED, [c for c in used_cols if c not in REQUIRED and c != ROW], file=file,
                    what="FOCUS", check_misspelt=False)
    df = df[[c for c in used_cols if c in df.columns]]
    notes: list[str] = []
    skipped: dict[str, int] = {}
    check_units(df, "BillingCurrency", file=file, allowed=["USD"], what="currency")

    def skip(mask: np.ndarray, reason: str) -> None:
        n = int((mask & keep).sum())
        if n:
            skipped[reason] = skipped.get(reason, 0) + n
            keep[mask] = False

    keep = np.ones(len(df), dtype=bool)
    if "ChargeClass" in df.columns:
        cls = df["ChargeClass"].astype("string").str.strip().str.lower().fillna("")
        skip((cls == "correction").to_numpy(dtype=bool), "correction of an earlier period (ChargeClass)")
    cat = df["ChargeCategory"].astype("string").str.strip().fillna("")
    low = cat.str.lower()
    for value, reason in _SKIP_CATEGORY.items():
        skip((low == value).to_numpy(dtype=bool), reason)
    other = (low != "usage").to_numpy(dtype=bool)
    for value in sorted(set(cat[other & keep].tolist())):
        skip((cat == value).to_numpy(dtype=bool), f"ChargeCategory '{value or '(empty)'}'")

    status = df["CommitmentDiscountStatus"].astype("string").str.strip().fillna("")
    pricing_raw = df["PricingCategory"].astype("string").str.strip().fillna("")
    pricing = pricing_raw.str.lower().map(lambda v: _PRICING.get(v, "")).astype("str")
    unused = (status.str.lower() == "unused").to_numpy(dtype=bool)
    skip(((pricing_raw.str.lower() == "other").to_numpy(dtype=bool)), "PricingCategory 'Other'")

    found, used = locate_instances(df[keep], [c for c in INSTANCE_COLUMNS if c in df.columns])
    fam = pd.Series(None, index=df.index, dtype=object)
    fam[found.index] = found["family"]
    no_gpu = fam.isna().to_numpy(dtype=bool)
    if not any(c in df.columns for c in INSTANCE_COLUMNS):
        raise InputError("no column names the instance type", file=file,
                         fix=f"include one of {', '.join(INSTANCE_COLUMNS)} in the export")
    lost_unused = float(pd.to_numeric(df.loc[keep & no_gpu & unused, "EffectiveCost"], errors="coerce").sum())
    skip(no_gpu & unused, "unused commitment not tied to a GPU instance type")
    if lost_unused:
        notes.append(f"unused commitment not tied to a GPU instance type left out: {lost_unused:,.2f} USD "
                     "EffectiveCost (e.g. a compute savings plan shared with non-GPU usage)")
    skip(no_gpu, "non-GPU usage")
    if "x_UsageType" in df.columns:
        ut = df["x_UsageType"].astype("string").str.lower().fillna("")
        not_time = np.zeros(len(df), dtype=bool)
        for token in _NOT_INSTANCE_TIME:
            not_time |= ut.str.contains(token, regex=False).to_numpy(dtype=bool)
        skip(not_time, "GPU-instance line that is not instance time (EBS-optimized, data transfer...)")

    k = df[keep].copy()
    if k.empty:
        notes.append("no GPU usage rows in the export")
        return ReadResult(frame=empty_billing(), skipped=skipped, notes=notes, source=file)
    notes.append("instance types found in " + ", ".join(f"{c} ({n:,} rows)" for c, n in used.items()))
    k_found = found.loc[k.index]
    k_unused = unused[keep]
    k_pricing = pricing[keep]
    bad_pricing = (k_pricing == "").to_numpy(dtype=bool)
    if bad_pricing.any():
        i = int(np.flatnonzero(bad_pricing)[0])
        raise InputError(f"PricingCategory '{pricing_raw[keep].iloc[i]}' is not Standard, Dynamic or Committed",
                         file=file, row=int(k[ROW].iloc[i]), column="PricingCategory",
                         fix="use the FOCUS values Standard, Dynamic (spot) or Committed")
    k_status = status[keep]
    committed = (k_pricing == "Committed").to_numpy(dtype=bool)
    bad_status = committed & ~k_status.str.lower().isin(["used", "unused"]).to_numpy(dtype=bool)
    if bad_status.any():
        i = int(np.flatnonzero(bad_status)[0])
        raise InputError(f"CommitmentDiscountStatus '{k_status.iloc[i]}' on a Committed row", file=file,
                         row=int(k[ROW].iloc[i]), column="CommitmentDiscountStatus",
                         fix="Committed rows need Used or Unused")

    # quantities: used rows in ConsumedUnit, unused rows in PricingUnit (ConsumedQuantity is null there)
    used_rows = k[~k_unused]
    unused_rows = k[k_unused]
    hours = pd.Series(0.0, index=k.index)
    if not used_rows.empty:
        unit = check_units(used_rows, "ConsumedUnit", file=file, what="unit") if "ConsumedUnit" in k else None
        factor = time_unit_factor(unit, file=file, column="ConsumedUnit",
                                  row=int(used_rows[ROW].iloc[0]))
        hours[used_rows.index] = parse_number(used_rows, "ConsumedQuantity", file=file, unit=unit or "hours") * factor
        if unit is None:
            notes.append("no ConsumedUnit: ConsumedQuantity read as instance-hours")
    if not unused_rows.empty:
        qcol, ucol = ("PricingQuantity", "PricingUnit")
        if qcol in k.columns:
            unit = check_units(unused_rows, ucol, file=file, what="unit") if ucol in k else None
            q = parse_number(unused_rows, qcol, file=file, unit=unit or "hours", allow_na=True).fillna(0.0)
            factor = time_unit_factor(unit, file=file, column=ucol, row=int(unused_rows[ROW].iloc[0]))
            hours[unused_rows.index] = q * factor
        else:
            notes.append("no PricingQuantity: unused commitment rows carry cost but no GPU-hours")

    start = parse_time(k, "ChargePeriodStart", file=file, tz=tz, notes=notes)
    end = parse_time(k, "ChargePeriodEnd", file=file, tz=tz, notes=notes) if "ChargePeriodEnd" in k else None
    if end is None:
        notes.append("no ChargePeriodEnd: every row taken as one hour")
    region_col = next((c for c in ("RegionId", "RegionName", "Region") if c in k.columns), None)
    tags = parse_tags(k, "Tags", file=file, tag_keys=tag_keys)
    rows = pd.DataFrame({
        "family": k_found["family"].astype("str"),
        "team": tags["team"],
        "project": tags["project"],
        "region": parse_text(k, region_col, file=file) if region_col else pd.Series(pd.NA, index=k.index,
                                                                                    dtype="str"),
        "instance_type": k_found["instance_type"].astype("str"),
        "gpu_hours": hours * k_found["gpus_per_instance"],
        "pricing_category": k_pricing,
        "commitment_status": status_column(committed & ~k_unused, committed & k_unused, k.index),
        "effective_cost_usd": parse_number(k, "EffectiveCost", file=file, unit="USD"),
        "list_cost_usd": parse_number(k, "ListCost", file=file, unit="USD", allow_na=True).fillna(0.0),
        ROW: k[ROW],
    }, index=k.index)
    spread, n_multi = spread_hours(rows, start, end, ["gpu_hours", "effective_cost_usd", "list_cost_usd"],
                                   file=file, start_col="ChargePeriodStart", end_col="ChargePeriodEnd")
    if n_multi:
        notes.append(f"{n_multi:,} rows cover more than one hour (daily export or period fees): spread evenly "
                     "over their hours")
    out = aggregate_billing(spread)
    notes.append(summary_note(len(k), out))
    return ReadResult(frame=out, skipped=skipped, notes=notes, source=file)
