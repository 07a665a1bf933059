"""Simulated charges as FOCUS-shaped rows (FinOps Open Cost and Usage Specification column names).

Mapping: on-demand -> ``PricingCategory = Standard``; spot -> ``Dynamic``; reserved and savings-plan covered
usage -> ``Committed`` with ``CommitmentDiscountStatus = Used``; idle reserved GPUs and unused committed
spend -> ``Committed`` / ``Unused``.  ``EffectiveCost`` is the amortised cost, ``ListCost`` the same usage at
the on-demand list price (0 for unused commitments).  ``Tags`` is JSON with team, family, plan and
replication.  Energy and carbon travel in the custom columns ``x_EnergyKwh`` and ``x_CarbonKgCO2e``.
"""

from __future__ import annotations

import json
from typing import Literal

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from simulator.results import SimulationResult

_PRICING = {"reserved": "Committed", "committed": "Committed", "spot": "Dynamic", "on_demand": "Standard"}
_DISCOUNT_CATEGORY = {"reserved": "Usage", "committed": "Spend"}
_DISCOUNT_TYPE = {"reserved": "Reserved Instance", "committed": "Savings Plan"}

FOCUS_COLUMNS = [
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeDescription", "PricingCategory",
    "CommitmentDiscountCategory", "CommitmentDiscountType", "CommitmentDiscountStatus", "ServiceCategory",
    "ServiceName", "ProviderName", "RegionId", "SkuId", "ConsumedQuantity", "ConsumedUnit", "EffectiveCost",
    "ListCost", "BilledCost", "BillingCurrency", "Tags", "x_EnergyKwh", "x_CarbonKgCO2e",
]


def to_focus(result: SimulationResult, *, replication: int | None = None,
             period: Literal["hour", "day", "month"] = "hour") -> pd.DataFrame:
    """Turn a simulation's charge rows into FOCUS-shaped rows.

    Parameters
    ----------
    result
        A :class:`~simulator.SimulationResult` with charge rows (``detail`` not ``"none"``).
    replication
        Keep one replication; default: every replication that has charge rows.
    period
        Charge period: ``hour`` (as simulated), ``day`` or ``month`` (UTC) sums.

    Returns
    -------
    pandas.DataFrame
        :data:`FOCUS_COLUMNS`; ``BilledCost`` equals ``EffectiveCost`` (no upfront payments are simulated).

    Raises
    ------
    InputError
        No charge rows kept, or the replication has none.
    """
    ch = result.charges
    if ch is None or len(ch) == 0:
        raise InputError("the result has no charge rows", column="detail",
                         fix="simulate with detail='first' or 'all'")
    if replication is not None:
        ch = ch[ch["replication"] == replication]
        if len(ch) == 0:
            kept = sorted(result.charges["replication"].unique().tolist())
            raise InputError(f"replication {replication} has no charge rows (kept: {kept})", column="replication",
                             fix="simulate with detail='all' to keep every replication")
    freq = {"hour": "h", "day": "D", "month": "MS"}.get(period)
    if freq is None:
        raise InputError(f"period must be hour, day or month, got '{period}'", column="period")
    ch = ch.copy()
    ts = ch["timestamp"]
    if period == "month":
        start = ts.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.tz_localize("UTC")
    else:
        start = ts.dt.floor(freq)
    ch["start"] = start
    keys = ["replication", "start", "team", "family", "region", "pool", "commitment_status"]
    g = ch.groupby(keys, as_index=False, sort=True)[
        ["gpu_hours", "effective_cost_usd", "list_cost_usd", "kwh", "kg_co2e"]].sum()
    if period == "hour":
        end = g["start"] + pd.Timedelta(hours=1)
    elif period == "day":
        end = g["start"] + pd.Timedelta(days=1)
    else:
        end = g["start"] + pd.offsets.MonthBegin(1)
    plan = result.plan_name
    tags = [json.dumps({"team": t, "family": f, "plan": plan, "replication": int(r)}, sort_keys=True)
            for t, f, r in zip(g["team"], g["family"], g["replication"], strict=True)]
    pool = g["pool"]
    unused = g["commitment_status"] == "Unused"
    out = pd.DataFrame({
        "ChargePeriodStart": g["start"],
        "ChargePeriodEnd": end,
        "ChargeCategory": "Usage",
        "ChargeDescription": np.where(unused, "unused " + pool.astype(str) + " commitment",
                                      pool.astype(str) + " GPU usage"),
        "PricingCategory": pool.map(_PRICING),
        "CommitmentDiscountCategory": pool.map(_DISCOUNT_CATEGORY),
        "CommitmentDiscountType": pool.map(_DISCOUNT_TYPE),
        "CommitmentDiscountStatus": g["commitment_status"].replace("", None),
        "ServiceCategory": "Compute",
        "ServiceName": "GPU compute (simulated)",
        "ProviderName": "gpuplan simulator",
        "RegionId": g["region"].replace("", None),
        "SkuId": g["family"].replace("", None),
        "ConsumedQuantity": np.where(unused & (pool == "committed"), np.nan, g["gpu_hours"]),
        "ConsumedUnit": "GPU-Hours",
        "EffectiveCost": g["effective_cost_usd"],
        "ListCost": g["list_cost_usd"],
        "BilledCost": g["effective_cost_usd"],
        "BillingCurrency": "USD",
        "Tags": tags,
        "x_EnergyKwh": g["kwh"],
        "x_CarbonKgCO2e": g["kg_co2e"],
    })
    return out[FOCUS_COLUMNS]
