"""What an organisation holds today, derived from a FOCUS or AWS CUR bill: reservations and savings plans.

:func:`derive_holdings` reads the commitment rows of a bill and returns a ``[current]`` section for the
scenario, with a table of what was derived and how, so the report can say it.

- **Reservations** (FOCUS: ``PricingCategory = Committed`` rows with ``CommitmentDiscountCategory = Usage``
  or a ``CommitmentDiscountType`` naming a reservation; CUR: ``DiscountedUsage`` rows with a
  ``reservation_reservation_a_r_n``): per commitment id, the instance type (bundled catalog), the
  instances held = the largest number of instance-hours billed to it in one hour (used plus, in FOCUS,
  unused), GPUs = instances x GPUs per instance, and the effective rate = effective cost / GPU-hours
  [USD/GPU-hour].
- **Savings plans** (FOCUS: ``CommitmentDiscountCategory = Spend``; CUR: ``SavingsPlanRecurringFee`` rows
  with ``savings_plan_total_commitment_to_date``): the commitment [USD/h] = the mean hourly effective cost
  billed to it (covered usage plus unused commitment) over the hours it appears.
- **Term**: from ``pricing_lease_contract_length`` (CUR) or a ``1yr`` / ``3yr`` token in the usage type or
  commitment name; else ``default_term_years``, and a note says it was assumed.
- **Dates**: ``reservation_start_time`` / ``reservation_end_time`` and ``savings_plan_start_time`` /
  ``savings_plan_end_time`` (CUR) when present.  FOCUS carries no commitment dates: the holding then keeps
  no dates (bought at the plan start, as :func:`scenarios.plan.current_plan` documents) and the first and
  last hours seen in the bill are listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers._billing import find_instance
from scenarios.readers._checks import parse_time, read_table

_TERM = re.compile(r"([13])\s*(?:yr|year|y\b)", re.IGNORECASE)
_FOCUS_TEXT = ["x_UsageType", "x_InstanceType", "SkuPriceDetails", "SkuId", "ResourceType", "ChargeDescription",
               "CommitmentDiscountName", "ResourceName"]


@dataclass(frozen=True)
class HoldingsResult:
    """Holdings derived from a bill.

    Attributes
    ----------
    current
        A ``[current]`` section (``reserved`` list, ``committed_usd_per_hour``, ``committed_end``,
        ``derived_from``) ready for :class:`scenarios.schema.CurrentCommitments`.
    table
        One row per commitment id: ``commitment_id, kind, family, instance_type, instances, gpus,
        usd_per_gpu_hour, usd_per_hour, term_years, term_source, start, end, first_seen, last_seen``.
    notes
        What was derived and what was assumed.
    """

    current: dict[str, Any]
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _text(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    out = pd.Series("", index=df.index, dtype=object)
    for c in cols:
        if c in df.columns:
            out = out + " " + df[c].astype("string").fillna("").astype(str)
    return out


def _term(texts: pd.Series) -> int | None:
    for t in texts:
        m = _TERM.search(str(t))
        if m:
            return int(m.group(1))
    return None


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df.columns else pd.Series(np.nan, index=df.index)


def derive_holdings(path: str | Path, format: Literal["focus", "cur"] = "focus", *, tz: str | None = None,
                    default_term_years: int = 1) -> HoldingsResult:
    """Derive ``[current]`` holdings (reservations and savings plans) from a FOCUS or CUR bill.

    Parameters
    ----------
    path
        The bill (CSV or Parquet).
    format
        ``focus`` (FOCUS 1.0-1.2) or ``cur`` (AWS CUR 2.0 / legacy CUR column names in snake case).
    tz
        Time zone of naive times.
    default_term_years
        Term assumed when the bill does not state it [years].

    Returns
    -------
    HoldingsResult

    Raises
    ------
    InputError
        Missing columns, unreadable times.
    """
    file = str(path)
    df = read_table(path, what=format.upper())
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    if format == "focus":
        for col in ("ChargePeriodStart", "PricingCategory", "CommitmentDiscountId", "EffectiveCost"):
            if col not in df.columns:
                raise InputError(f"column '{col}' is missing", file=file, column=col,
                                 fix="export FOCUS 1.0 or later with the commitment-discount columns")
        cat = df.get("ChargeCategory", pd.Series("Usage", index=df.index)).astype("string").str.lower()
        pc = df["PricingCategory"].astype("string").str.lower()
        cid = df["CommitmentDiscountId"].astype("string").fillna("").str.strip()
        k = df[(cat == "usage") & pc.isin(["committed", "commitment-based"]) & (cid != "")].copy()
        if k.empty:
            return HoldingsResult(current={"derived_from": file}, table=pd.DataFrame(),
                                  notes=[f"{file}: no commitment-discount usage rows: nothing held"])
        k["hour"] = parse_time(k, "ChargePeriodStart", file=file, tz=tz, notes=notes).dt.floor("h")
        k["cid"] = cid[k.index]
        ccat = k.get("CommitmentDiscountCategory", pd.Series("", index=k.index)).astype("string").fillna("")
        ctype = k.get("CommitmentDiscountType", pd.Series("", index=k.index)).astype("string").fillna("")
        k["spend"] = (ccat.str.lower() == "spend") | ctype.str.lower().str.contains("savings")
        status = k.get("CommitmentDiscountStatus", pd.Series("Used", index=k.index)).astype("string").str.lower()
        k["inst_h"] = np.where(status == "unused", _num(k, "PricingQuantity"), _num(k, "ConsumedQuantity"))
        k["cost"] = _num(k, "EffectiveCost").fillna(0.0)
        k["text"] = _text(k, _FOCUS_TEXT)
        notes.append("FOCUS carries no commitment start or end dates: holdings keep no dates (bought at the plan "
                     "start); first and last hours seen in the bill are listed")
        for c, g in k.groupby("cid", sort=True):
            rows.append(_holding(str(c), g, bool(g["spend"].any()), None, None, default_term_years, notes))
    else:
        for col in ("line_item_line_item_type", "line_item_usage_start_date"):
            if col not in df.columns:
                raise InputError(f"column '{col}' is missing", file=file, column=col,
                                 fix="export CUR 2.0 (or legacy CUR) with the reservation and savings-plan columns")
        lt = df["line_item_line_item_type"].astype("string").fillna("")
        df["hour"] = parse_time(df, "line_item_usage_start_date", file=file, tz=tz, notes=notes).dt.floor("h")
        df["text"] = _text(df, ["pricing_lease_contract_length", "product_instance_type", "line_item_usage_type",
                                "line_item_line_item_description"])
        ri = df[(lt == "DiscountedUsage") & df.get("reservation_reservation_a_r_n", pd.Series(index=df.index)).notna()]
        if len(ri):
            ri = ri.assign(cid=ri["reservation_reservation_a_r_n"].astype(str),
                           inst_h=_num(ri, "line_item_usage_amount"), cost=_num(ri, "reservation_effective_cost"))
            for c, g in ri.groupby("cid", sort=True):
                rows.append(_holding(str(c), g, False, _first(g, "reservation_start_time", file, tz),
                                     _first(g, "reservation_end_time", file, tz), default_term_years, notes))
            notes.append("CUR reservations: instances = the most instance-hours billed as DiscountedUsage in one "
                         "hour (unused reservation hours are aggregated in RIFee rows and not counted)")
        sp = df[(lt == "SavingsPlanRecurringFee")
                & df.get("savings_plan_savings_plan_a_r_n", pd.Series(index=df.index)).notna()]
        if len(sp):
            sp = sp.assign(cid=sp["savings_plan_savings_plan_a_r_n"].astype(str), inst_h=np.nan,
                           cost=_num(sp, "savings_plan_total_commitment_to_date"))
            for c, g in sp.groupby("cid", sort=True):
                rows.append(_holding(str(c), g, True, _first(g, "savings_plan_start_time", file, tz),
                                     _first(g, "savings_plan_end_time", file, tz), default_term_years, notes))
    table = pd.DataFrame(rows)
    current: dict[str, Any] = {"reserved": [], "committed_usd_per_hour": {}, "committed_end": {},
                               "derived_from": f"{Path(file).name} ({format.upper()})"}
    for r in rows:
        if r["kind"] == "reserved" and r["family"]:
            h: dict[str, Any] = {"family": r["family"], "term_years": r["term_years"], "gpus": r["gpus"],
                                 "usd_per_gpu_hour": r["usd_per_gpu_hour"]}
            if r["start"] is not None:
                h["start"] = r["start"].isoformat()
            if r["end"] is not None:
                h["end"] = r["end"].isoformat()
            current["reserved"].append(h)
        elif r["kind"] == "committed":
            key = f"{r['term_years']}y"
            current["committed_usd_per_hour"][key] = current["committed_usd_per_hour"].get(key, 0.0) + r["usd_per_hour"]
            if r["end"] is not None:
                current["committed_end"][key] = r["end"].isoformat()
    notes.append(f"derived from {Path(file).name}: " + "; ".join(
        f"{r['kind']} {r['family'] or ''} {r['instances']:g} x {r['instance_type']} = {r['gpus']:g} GPUs at "
        f"{r['usd_per_gpu_hour']:.4f} USD/GPU-hour, {r['term_years']}y ({r['term_source']})"
        if r["kind"] == "reserved" else
        f"savings plan {r['usd_per_hour']:.2f} USD/h, {r['term_years']}y ({r['term_source']})" for r in rows))
    return HoldingsResult(current=current, table=table, notes=notes)


def _first(g: pd.DataFrame, col: str, file: str, tz: str | None) -> pd.Timestamp | None:
    if col not in g.columns or g[col].isna().all():
        return None
    t = parse_time(g[g[col].notna()], col, file=file, tz=tz)
    return pd.Timestamp(t.iloc[0])


def _holding(cid: str, g: pd.DataFrame, spend: bool, start: pd.Timestamp | None, end: pd.Timestamp | None,
             default_term: int, notes: list[str]) -> dict[str, Any]:
    term = _term(g["text"])
    src = "from the bill" if term is not None else "assumed: not in the bill"
    base = {"commitment_id": cid, "term_years": term or default_term, "term_source": src, "start": start,
            "end": end, "first_seen": g["hour"].min(), "last_seen": g["hour"].max()}
    if spend:
        per_hour = g.groupby("hour")["cost"].sum()
        return {**base, "kind": "committed", "family": "", "instance_type": "", "instances": np.nan,
                "gpus": np.nan, "usd_per_gpu_hour": np.nan, "usd_per_hour": float(per_hour.mean())}
    hit = next((h for h in (find_instance(str(t)) for t in g["text"]) if h is not None), None)
    if hit is None:
        notes.append(f"reservation {cid}: no GPU instance type found; left out")
        return {**base, "kind": "reserved", "family": "", "instance_type": "", "instances": 0.0, "gpus": 0.0,
                "usd_per_gpu_hour": np.nan, "usd_per_hour": np.nan}
    itype, fam, per = hit
    inst_h = g["inst_h"].fillna(0.0)
    instances = float(np.round(inst_h.groupby(g["hour"]).sum().max()))
    gh = float(inst_h.sum()) * per
    rate = float(g["cost"].sum()) / gh if gh > 0 else np.nan
    return {**base, "kind": "reserved", "family": fam, "instance_type": itype, "instances": instances,
            "gpus": instances * per, "usd_per_gpu_hour": rate, "usd_per_hour": rate * instances * per}
