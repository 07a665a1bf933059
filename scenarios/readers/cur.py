"""Read an AWS Cost and Usage Report 2.0 (AWS Data Exports, CSV or Parquet) into the ``billing`` table.

Line item types (``line_item_line_item_type``) and what becomes of them:

=========================  ================================================================================
``Usage``                  Standard (on-demand) or Dynamic (spot, ``SpotUsage`` in the usage type);
                           effective cost ``line_item_unblended_cost``
``DiscountedUsage``        Committed / Used (a reservation); effective cost ``reservation_effective_cost``
``SavingsPlanCoveredUsage`` Committed / Used (a savings plan); ``savings_plan_savings_plan_effective_cost``
``RIFee``                  Committed / Unused: ``reservation_unused_amortized_upfront_fee_for_billing_period``
                           + ``reservation_unused_recurring_fee``, GPU-hours from ``reservation_unused_quantity``
``SavingsPlanRecurringFee`` Committed / Unused: ``savings_plan_total_commitment_to_date`` -
                           ``savings_plan_used_commitment``, if ``savings_plan_instance_type_family`` names a
                           GPU family (an EC2 instance savings plan); a compute savings plan is skipped
Tax, Credit, Refund, Fee,  skipped and counted by reason
SavingsPlanNegation,
SavingsPlanUpfrontFee,
discounts
=========================  ================================================================================

List cost is ``pricing_public_on_demand_cost``. The instance type comes from ``product_instance_type``,
else ``line_item_usage_type`` (``USE1-BoxUsage:p5.48xlarge``), else the line item description. Tags come
from ``resource_tags`` (a map; keys like ``user_team``). CUR times are UTC: a CSV export writes them with
``Z``; for naive times pass ``tz="UTC"``.
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
    family_of_prefix,
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

REQUIRED = ["line_item_usage_start_date", "line_item_line_item_type", "line_item_product_code",
            "line_item_usage_type", "line_item_usage_amount", "line_item_unblended_cost",
            "line_item_currency_code", "pricing_public_on_demand_cost"]
INSTANCE_COLUMNS = ["product_instance_type", "line_item_usage_type", "line_item_line_item_description"]
_USAGE = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
_SKIP = {
    "Tax": "tax",
    "Credit": "credit",
    "Refund": "refund",
    "Fee": "upfront or one-time fee (amortised into effective costs)",
    "SavingsPlanUpfrontFee": "upfront or one-time fee (amortised into effective costs)",
    "SavingsPlanNegation": "SavingsPlanNegation (offsets covered usage; its cost is on the covered rows)",
    "EdpDiscount": "discount line (not split by instance type)",
    "PrivateRateDiscount": "discount line (not split by instance type)",
    "BundledDiscount": "discount line (not split by instance type)",
    "DistributorDiscount": "discount line (not split by instance type)",
    "SppDiscount": "discount line (not split by instance type)",
    "Discount": "discount line (not split by instance type)",
}
#: Columns the reader looks at (others are dropped right after the header check).
_USED = {*REQUIRED, *INSTANCE_COLUMNS, "line_item_usage_end_date", "product_region_code", "product_region",
         "pricing_unit", "pricing_term", "resource_tags", "identity_line_item_id", "identity_time_interval",
         "reservation_effective_cost", "reservation_unused_quantity", "reservation_unused_recurring_fee",
         "reservation_unused_amortized_upfront_fee_for_billing_period", "savings_plan_instance_type_family",
         "savings_plan_savings_plan_effective_cost", "savings_plan_total_commitment_to_date",
         "savings_plan_used_commitment"}
#: EC2 usage-type parts that are instance time.
_INSTANCE_TIME = ("boxusage", "spotusage", "dedicatedusage", "hostusage", "heavyusage", "unusedbox", "unusedded")


def read_cur(path: str | Path, *, tz: str | None = None,
             tag_keys: Mapping[str, Sequence[str]] | None = None) -> ReadResult:
    """Read an AWS CUR 2.0 export into the ``billing`` table (see the module docstring for the mapping).

    Parameters
    ----------
    path
        The export (CSV, CSV.gz or Parquet).
    tz
        Time zone of naive times. CUR times are UTC; pass ``"UTC"`` if the file stores them naive.
    tag_keys
        ``{"team": [tag keys...], "project": [...]}`` read from ``resource_tags``.

    Returns
    -------
    ReadResult
        ``frame``: the ``billing`` table; ``skipped``: rows left out by reason; ``notes``.

    Raises
    ------
    InputError
        Missing or misspelt columns (a legacy CUR is recognised and refused), a currency other than USD
        or several currencies, mixed or non-time pricing units on GPU rows, non-numeric or negative
        quantities or costs, naive or unreadable times, a usage period that ends before it starts,
        duplicate line items (the same export read twice).
    """
    file = str(path)
    check_tz(tz, file=file)
    df = read_table(path, what="CUR")
    if any("/" in c for c in df.columns if c.lower().startswith("lineitem")):
        raise InputError("this is a legacy CUR (lineItem/... column names), not CUR 2.0", file=file,
                         fix="export 'CUR 2.0' from AWS Data Exports (columns like line_item_usage_start_date)")
    if "ChargePeriodStart" in df.columns:
        raise InputError("this is a FOCUS export, not CUR", file=file, fix="read it with format = 'focus'")
    # the other columns the reader uses are known, so a missing one is never "fixed" by renaming one of them
    require_columns(df, REQUIRED, sorted(_USED - set(REQUIRED)), file=file, what="CUR 2.0", check_misspelt=False)
    df = df[[c for c in df.columns if c in _USED or c == ROW]]
    notes: list[str] = []
    skipped: dict[str, int] = {}
    check_units(df, "line_item_currency_code", file=file, allowed=["USD"], what="currency")
    _check_duplicates(df, file=file)

    keep = np.ones(len(df), dtype=bool)

    def skip(mask: np.ndarray, reason: str) -> None:
        n = int((mask & keep).sum())
        if n:
            skipped[reason] = skipped.get(reason, 0) + n
            keep[mask] = False

    lit = df["line_item_line_item_type"].astype("string").str.strip().fillna("")
    for value, reason in _SKIP.items():
        skip((lit == value).to_numpy(dtype=bool), reason)
    known = (*_USAGE, "RIFee", "SavingsPlanRecurringFee")
    other = ~lit.isin(known).to_numpy(dtype=bool)
    for value in sorted(set(lit[other & keep].tolist())):
        skip((lit == value).to_numpy(dtype=bool), f"line item type '{value or '(empty)'}'")

    found, used = locate_instances(df[keep], [c for c in INSTANCE_COLUMNS if c in df.columns])
    fam = pd.Series(None, index=df.index, dtype=object)
    itype = pd.Series(None, index=df.index, dtype=object)
    gpi = pd.Series(np.nan, index=df.index)
    fam[found.index] = found["family"]
    itype[found.index] = found["instance_type"]
    gpi[found.index] = found["gpus_per_instance"]

    # savings-plan fees: only their unused part, and only when tied to a GPU instance family
    sp_fee = (lit == "SavingsPlanRecurringFee").to_numpy(dtype=bool) & keep
    unused_sp = np.zeros(len(df))
    if sp_fee.any():
        for c in ("savings_plan_total_commitment_to_date", "savings_plan_used_commitment"):
            _need(df, c, "SavingsPlanRecurringFee", file=file)
        sub = df[sp_fee]
        unused_sp[sp_fee] = (parse_number(sub, "savings_plan_total_commitment_to_date", file=file, unit="USD")
                             - parse_number(sub, "savings_plan_used_commitment", file=file, unit="USD")).to_numpy()
        skip(sp_fee & (unused_sp <= 1e-12), "savings-plan fee fully used (its cost is on the covered rows)")
        sp_fee &= keep
        if "savings_plan_instance_type_family" in df.columns:
            prefixes = df["savings_plan_instance_type_family"].astype("string").fillna("")
            for i in np.flatnonzero(sp_fee):
                f = family_of_prefix(str(prefixes.iloc[i]))
                if f is not None:
                    fam.iloc[int(i)] = f
                    itype.iloc[int(i)] = str(prefixes.iloc[int(i)])
                    gpi.iloc[int(i)] = 0.0
    # reservation fees: only their unused part
    ri_fee = (lit == "RIFee").to_numpy(dtype=bool) & keep
    unused_ri = np.zeros(len(df))
    if ri_fee.any():
        for c in ("reservation_unused_amortized_upfront_fee_for_billing_period", "reservation_unused_recurring_fee"):
            _need(df, c, "RIFee", file=file)
        sub = df[ri_fee]
        unused_ri[ri_fee] = (
            parse_number(sub, "reservation_unused_amortized_upfront_fee_for_billing_period", file=file,
                         unit="USD", allow_na=True).fillna(0.0)
            + parse_number(sub, "reservation_unused_recurring_fee", file=file, unit="USD",
                           allow_na=True).fillna(0.0)).to_numpy()
        skip(ri_fee & (unused_ri <= 1e-12), "reservation fee fully used (its cost is on the DiscountedUsage rows)")
        ri_fee &= keep

    no_gpu = fam.isna().to_numpy(dtype=bool)
    unused_line = sp_fee | ri_fee
    lost = float(unused_sp[keep & no_gpu & sp_fee].sum() + unused_ri[keep & no_gpu & ri_fee].sum())
    skip(no_gpu & unused_line, "unused commitment not tied to a GPU instance type")
    if lost:
        notes.append(f"unused commitment not tied to a GPU instance type left out: {lost:,.2f} USD "
                     "(e.g. a compute savings plan shared with non-GPU usage)")
    skip(no_gpu, "non-GPU usage")
    ut = df["line_item_usage_type"].astype("string").str.lower().fillna("")
    is_ec2 = (df["line_item_product_code"].astype("string").fillna("") == "AmazonEC2").to_numpy(dtype=bool)
    inst_time = np.zeros(len(df), dtype=bool)
    for token in _INSTANCE_TIME:
        inst_time |= ut.str.contains(token, regex=False).to_numpy(dtype=bool)
    skip(is_ec2 & ~inst_time & ~sp_fee, "GPU-instance line that is not instance time (EBS-optimized, data transfer...)")

    k = df[keep].copy()
    if k.empty:
        notes.append("no GPU usage rows in the export")
        return ReadResult(frame=empty_billing(), skipped=skipped, notes=notes, source=file)
    if used:
        notes.append("instance types found in " + ", ".join(f"{c} ({n:,} rows)" for c, n in used.items()))
    t = lit[keep].to_numpy(dtype=object)
    is_usage = np.isin(t, _USAGE)
    is_ri_use = t == "DiscountedUsage"
    is_sp_use = t == "SavingsPlanCoveredUsage"
    is_ri_fee = t == "RIFee"
    is_sp_fee = t == "SavingsPlanRecurringFee"

    hours = np.zeros(len(k))
    effective = np.zeros(len(k))
    listed = np.zeros(len(k))
    if is_usage.any():
        sub = k[is_usage]
        unit = check_units(sub, "pricing_unit", file=file, what="unit") if "pricing_unit" in k else None
        if unit is None:
            notes.append("no pricing_unit: line_item_usage_amount read as instance-hours")
        factor = time_unit_factor(unit, file=file, column="pricing_unit", row=int(sub[ROW].iloc[0]))
        hours[is_usage] = parse_number(sub, "line_item_usage_amount", file=file, unit=unit or "hours").to_numpy() * factor
        listed[is_usage] = parse_number(sub, "pricing_public_on_demand_cost", file=file, unit="USD").to_numpy()
    plain = is_usage & ~is_ri_use & ~is_sp_use
    if plain.any():
        effective[plain] = parse_number(k[plain], "line_item_unblended_cost", file=file, unit="USD").to_numpy()
    if is_ri_use.any():
        _need(k, "reservation_effective_cost", "DiscountedUsage", file=file)
        effective[is_ri_use] = parse_number(k[is_ri_use], "reservation_effective_cost", file=file,
                                            unit="USD").to_numpy()
    if is_sp_use.any():
        _need(k, "savings_plan_savings_plan_effective_cost", "SavingsPlanCoveredUsage", file=file)
        effective[is_sp_use] = parse_number(k[is_sp_use], "savings_plan_savings_plan_effective_cost", file=file,
                                            unit="USD").to_numpy()
    if is_ri_fee.any():
        effective[is_ri_fee] = unused_ri[keep][is_ri_fee]
        if "reservation_unused_quantity" in k.columns:
            hours[is_ri_fee] = parse_number(k[is_ri_fee], "reservation_unused_quantity", file=file, unit="hours",
                                            allow_na=True).fillna(0.0).to_numpy()
        else:
            notes.append("no reservation_unused_quantity: unused reservations carry cost but no GPU-hours")
    if is_sp_fee.any():
        effective[is_sp_fee] = unused_sp[keep][is_sp_fee]

    spot = (ut[keep].str.contains("spotusage", regex=False).to_numpy(dtype=bool)
            | (k["pricing_term"].astype("string").str.lower().fillna("") == "spot").to_numpy(dtype=bool)
            if "pricing_term" in k.columns else ut[keep].str.contains("spotusage", regex=False).to_numpy(dtype=bool))
    pricing = np.where(is_ri_use | is_sp_use | is_ri_fee | is_sp_fee, "Committed",
                       np.where(spot, "Dynamic", "Standard"))
    start = parse_time(k, "line_item_usage_start_date", file=file, tz=tz, notes=notes)
    end = parse_time(k, "line_item_usage_end_date", file=file, tz=tz, notes=notes) if "line_item_usage_end_date" in k else None
    if end is None:
        notes.append("no line_item_usage_end_date: every row taken as one hour")
    region_col = next((c for c in ("product_region_code", "product_region") if c in k.columns), None)
    tags = parse_tags(k, "resource_tags", file=file, tag_keys=tag_keys)
    rows = pd.DataFrame({
        "family": fam[keep].astype("str"),
        "team": tags["team"],
        "project": tags["project"],
        "region": parse_text(k, region_col, file=file) if region_col else pd.Series(pd.NA, index=k.index,
                                                                                    dtype="str"),
        "instance_type": itype[keep].astype("str"),
        "gpu_hours": hours * gpi[keep].fillna(0.0).to_numpy(),
        "pricing_category": pricing,
        "commitment_status": status_column(is_ri_use | is_sp_use, is_ri_fee | is_sp_fee, k.index),
        "effective_cost_usd": effective,
        "list_cost_usd": listed,
        ROW: k[ROW],
    }, index=k.index)
    spread, n_multi = spread_hours(rows, start, end, ["gpu_hours", "effective_cost_usd", "list_cost_usd"],
                                   file=file, start_col="line_item_usage_start_date",
                                   end_col="line_item_usage_end_date")
    if n_multi:
        notes.append(f"{n_multi:,} rows cover more than one hour (daily export or monthly fees): spread evenly "
                     "over their hours")
    out = aggregate_billing(spread)
    notes.append(summary_note(len(k), out))
    return ReadResult(frame=out, skipped=skipped, notes=notes, source=file)


def _need(df: pd.DataFrame, column: str, line_type: str, *, file: str) -> None:
    if column not in df.columns:
        raise InputError(f"missing column '{column}' needed by {line_type} line items", file=file, column=column,
                         fix="include the reservation and savings-plan columns in the CUR 2.0 export")


def _check_duplicates(df: pd.DataFrame, *, file: str) -> None:
    cols = [c for c in ("identity_line_item_id", "identity_time_interval") if c in df.columns]
    if len(cols) < 2:
        return
    dup = df.duplicated(subset=cols, keep="first").to_numpy(dtype=bool)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(f"duplicate line item {df['identity_line_item_id'].iloc[i]} for "
                         f"{df['identity_time_interval'].iloc[i]}", file=file, row=int(df[ROW].iloc[i]),
                         column="identity_line_item_id",
                         fix="the same export (or overlapping exports) was read twice; keep one copy")
