"""Chargeback: each team's share of the GPU bill under stated rules, reconciled to the invoice.

The bill is the ``billing`` table (:func:`scenarios.readers.read_focus` / ``read_cur``). Costs are pooled per
calendar month (UTC) and GPU family, and every pool is allocated in full, so the team bills of a month add
up to that month's invoice (the sum of ``effective_cost_usd``) up to floating-point round-off.

Participants are the teams named in the ``team`` tag, plus the line ``(untagged)`` for used rows without a
team tag, plus ``(central)`` for what a rule sends to the centre. Teams listed in ``shared_teams`` (e.g. a
platform team running a shared cluster) are not participants: their cost is re-allocated.

Rules (``method="usage"``, the default):

1. **Direct**: a used row (on-demand, spot, or commitment used) is charged to its team at its effective
   cost. Commitment used at a discount is thereby allocated *by use*: the team that used it pays its
   effective (amortised) rate.
2. **Idle commitment** (``commitment_status = Unused``) of a (month, family), by ``idle``:

   - ``"owner"``: to the team that owns the family's commitment (``owners[family]``);
   - ``"spread"``: over participants in proportion to the commitment GPU-hours they used in that (month,
     family); if nobody used the commitment, in proportion to all GPU-hours used in that (month, family);
     if there were none, to ``(central)``;
   - ``"central"``: to ``(central)``.
3. **Shared cluster**: the cost of ``shared_teams`` rows in a (month, family) is split over participants in
   proportion to the GPU-hours they used in that (month, family); if none, over the month's GPU-hours of all
   families; if none, to ``(central)``.

``method="gpu_hours"`` (proportional by GPU-hours): the whole cost of each (month, family) pool, idle
commitment and shared rows included, is split over participants in proportion to the GPU-hours they used in
the pool; a pool without used GPU-hours goes to ``(central)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from scenarios.errors import InputError

IdleRule = Literal["owner", "spread", "central"]
Method = Literal["usage", "gpu_hours"]
UNTAGGED = "(untagged)"
CENTRAL = "(central)"
#: Components of a team's bill, in the order of the bill's columns.
COMPONENTS = ("direct_usd", "commitment_used_usd", "idle_commitment_usd", "shared_usd", "pooled_usd")


@dataclass(frozen=True)
class Chargeback:
    """The result of :func:`chargeback`.

    Attributes
    ----------
    allocations
        Long table: ``month`` (``YYYY-MM``), ``family``, ``team``, ``component`` (one of
        :data:`COMPONENTS`), ``usd`` [USD].
    bills
        One row per (month, team): ``gpu_hours`` [GPU-hours used], one column per component [USD] and
        ``total_usd`` [USD].
    reconciliation
        One row per month and a row ``all``: ``invoice_usd`` (sum of the bill's ``effective_cost_usd``),
        ``allocated_usd`` (sum of the team bills), ``difference_usd`` [USD].
    notes
        What the rules did that a reader of the bills should know (untagged spend, fallbacks).
    """

    allocations: pd.DataFrame
    bills: pd.DataFrame
    reconciliation: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def max_abs_difference_usd(self) -> float:
        """Largest |invoice - allocated| over the months [USD]."""
        return float(self.reconciliation["difference_usd"].abs().max()) if len(self.reconciliation) else 0.0


def month_of(ts: pd.Series) -> pd.Series:
    """Calendar month (UTC) of tz-aware timestamps as ``YYYY-MM`` text."""
    t = pd.DatetimeIndex(ts).tz_convert("UTC")
    return pd.Series(t.strftime("%Y-%m"), index=ts.index, dtype="str")


def chargeback(billing: pd.DataFrame, *, method: Method = "usage", idle: IdleRule = "spread",
               owners: Mapping[str, str] | None = None, shared_teams: Sequence[str] = ()) -> Chargeback:
    """Allocate the bill to teams (rules in the module docstring).

    Parameters
    ----------
    billing
        The ``billing`` table (tz-aware ``timestamp``, ``family``, ``team``, ``pricing_category``,
        ``commitment_status``, ``gpu_hours`` [GPU-hours], ``effective_cost_usd`` [USD]).
    method
        ``"usage"`` (direct costs by use, rules 1-3) or ``"gpu_hours"`` (every pool by GPU-hours).
    idle
        Idle-commitment rule for ``method="usage"``: ``"owner"``, ``"spread"`` or ``"central"``.
    owners
        ``{family: owning team}``, needed by ``idle="owner"`` for every family with idle commitment.
    shared_teams
        Team tags whose cost is a shared cluster's, re-allocated by GPU-hours.

    Returns
    -------
    Chargeback
        Allocations, bills per (month, team), and the reconciliation to the invoice.

    Raises
    ------
    InputError
        An unknown rule, or ``idle="owner"`` without an owner for a family that has idle commitment.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.Timestamp("2026-01-01", tz="UTC")
    >>> b = pd.DataFrame({"timestamp": [t, t, t], "family": "h100", "team": ["a", "b", None],
    ...                   "pricing_category": ["Committed", "Standard", "Committed"],
    ...                   "commitment_status": ["Used", None, "Unused"], "gpu_hours": [2.0, 1.0, 2.0],
    ...                   "effective_cost_usd": [4.0, 5.0, 4.0]})
    >>> cb = chargeback(b, idle="spread")
    >>> cb.bills.set_index("team")["total_usd"].to_dict()   # a used all the commitment: pays the idle half
    {'a': 8.0, 'b': 5.0}
    """
    if method not in ("usage", "gpu_hours"):
        raise InputError(f"unknown chargeback method '{method}'", column="method", fix="use 'usage' or 'gpu_hours'")
    if idle not in ("owner", "spread", "central"):
        raise InputError(f"unknown idle-commitment rule '{idle}'", column="idle",
                         fix="use 'owner', 'spread' or 'central'")
    b = billing[["timestamp", "family", "team", "pricing_category", "commitment_status", "gpu_hours",
                 "effective_cost_usd"]].copy()
    b["month"] = month_of(b["timestamp"])
    status = b["commitment_status"].astype("string").fillna("")
    unused = (status == "Unused").to_numpy(dtype=bool)
    team = b["team"].astype("string")
    shared = team.isin(list(shared_teams)).to_numpy(dtype=bool)
    untagged = team.isna().to_numpy(dtype=bool) | (team.fillna("").str.strip() == "").to_numpy(dtype=bool)
    b["who"] = np.where(untagged, UNTAGGED, team.fillna("").to_numpy(dtype=object))
    committed = (b["pricing_category"].astype("string") == "Committed").to_numpy(dtype=bool)
    used = ~unused
    participant = used & ~shared
    b["used_h"] = np.where(participant, b["gpu_hours"].to_numpy(dtype=float), 0.0)
    b["committed_h"] = np.where(participant & committed, b["gpu_hours"].to_numpy(dtype=float), 0.0)
    notes: list[str] = []
    n_untagged = int((untagged & used).sum())
    if n_untagged:
        usd = math.fsum(b.loc[untagged & used, "effective_cost_usd"].to_numpy(dtype=float))
        notes.append(f"{n_untagged:,} used billing rows carry no team tag: {usd:,.2f} USD charged to the line "
                     f"'{UNTAGGED}'")

    # weights per (month, family, participant) and per (month, participant)
    part = b[participant]
    w_used = _sums(part, ["month", "family", "who"], "used_h")
    w_comm = _sums(part, ["month", "family", "who"], "committed_h")
    w_month = _sums(part, ["month", "who"], "used_h")
    rows: list[tuple[str, str, str, str, float]] = []

    def pick(weights: dict[tuple[str, ...], float], prefix: tuple[str, ...]) -> dict[str, float]:
        n = len(prefix)
        return {k[n]: v for k, v in weights.items() if k[:n] == prefix and v > 0}

    def split(month: str, family: str, usd: float, component: str, by_commitment: bool) -> None:
        """Split ``usd`` of a (month, family) pool by use, with the documented fallbacks."""
        if usd == 0.0:
            return
        weights = pick(w_comm, (month, family)) if by_commitment else {}
        if not weights:
            weights = pick(w_used, (month, family))
        if not weights and component == "shared_usd":
            weights = pick(w_month, (month,))
            if weights:
                notes.append(f"{month} {family}: shared cost {usd:,.2f} USD spread over the month's GPU-hours of "
                             "all families (no GPU-hours used on this family)")
        if not weights:
            rows.append((month, family, CENTRAL, component, usd))
            notes.append(f"{month} {family}: {usd:,.2f} USD of {component.removesuffix('_usd').replace('_', ' ')} "
                         f"charged to '{CENTRAL}' (no GPU-hours to allocate it by)")
            return
        total = math.fsum(weights.values())
        for who in sorted(weights):
            rows.append((month, family, who, component, usd * (weights[who] / total)))  # share first: no underflow

    cost = b["effective_cost_usd"].to_numpy(dtype=float)
    if method == "gpu_hours":
        for (month, family), usd in _sums(b, ["month", "family"], "effective_cost_usd").items():
            split(month, family, usd, "pooled_usd", False)
    else:
        direct = participant & ~committed
        cused = participant & committed
        for mask, component in ((direct, "direct_usd"), (cused, "commitment_used_usd")):
            for (m, f, t), v in _sums(b[mask], ["month", "family", "who"], "effective_cost_usd").items():
                rows.append((m, f, t, component, v))
        for (month, family), usd in _sums(b[unused], ["month", "family"], "effective_cost_usd").items():
            if idle == "central":
                rows.append((month, family, CENTRAL, "idle_commitment_usd", usd))
            elif idle == "owner":
                owner = (owners or {}).get(family)
                if owner is None:
                    raise InputError(f"idle commitment of family '{family}' ({usd:,.2f} USD in {month}) has "
                                     "no owner", column="owners",
                                     fix=f"name the team owning the {family} commitment (owners = {{{family!r}: "
                                         "'team'}) or use idle = 'spread' or 'central'")
                rows.append((month, family, str(owner), "idle_commitment_usd", usd))
            else:
                split(month, family, usd, "idle_commitment_usd", True)
        for (month, family), usd in _sums(b[shared & used], ["month", "family"], "effective_cost_usd").items():
            split(month, family, usd, "shared_usd", False)
        if shared_teams and not (shared & used).any():
            notes.append(f"no rows tagged with the shared team(s) {', '.join(shared_teams)}")

    alloc = pd.DataFrame(rows, columns=["month", "family", "team", "component", "usd"])
    bills = _bills(alloc, b)
    invoice = _sums(b, ["month"], "effective_cost_usd")
    allocated = _sums(alloc, ["month"], "usd")
    months = [k[0] for k in invoice]
    rec = pd.DataFrame({"month": [*months, "all"],
                        "invoice_usd": [*(invoice[(m,)] for m in months), math.fsum(cost)],
                        "allocated_usd": [*(allocated.get((m,), 0.0) for m in months),
                                          math.fsum(alloc["usd"].to_numpy(dtype=float))]})
    rec["difference_usd"] = rec["allocated_usd"] - rec["invoice_usd"]
    return Chargeback(allocations=alloc, bills=bills, reconciliation=rec, notes=list(dict.fromkeys(notes)))


def _sums(df: pd.DataFrame, keys: list[str], column: str) -> dict[tuple[str, ...], float]:
    """Exact (``math.fsum``) sums of ``column`` per key tuple, keys as text, in sorted key order."""
    out: dict[tuple[str, ...], list[float]] = {}
    cols = [df[k].astype(str).tolist() for k in keys]
    for key, v in zip(zip(*cols, strict=True), df[column].to_numpy(dtype=float).tolist(), strict=True):
        out.setdefault(key, []).append(v)
    return {k: math.fsum(out[k]) for k in sorted(out)}


def _bills(alloc: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Pivot the allocations to one row per (month, team), exact sums (``math.fsum``)."""
    cols = ["month", "team", "gpu_hours", *COMPONENTS, "total_usd"]
    if alloc.empty:
        return pd.DataFrame({c: pd.Series(dtype="str" if c in ("month", "team") else "float64") for c in cols})
    p = alloc.pivot_table(index=["month", "team"], columns="component", values="usd",
                          aggfunc=lambda s: math.fsum(s), fill_value=0.0)
    p = p.reindex(columns=list(COMPONENTS), fill_value=0.0)
    total = alloc.groupby(["month", "team"], sort=True)["usd"].agg(lambda s: math.fsum(s))
    p["total_usd"] = total.reindex(p.index).to_numpy(dtype=float)
    hours = b.groupby(["month", "who"], sort=True)["used_h"].sum()
    hours.index = hours.index.set_names(["month", "team"])
    p["gpu_hours"] = hours.reindex(p.index, fill_value=0.0).to_numpy(dtype=float)
    out = p.reset_index()
    out.columns.name = None
    return out[cols]
