"""What the optimizer hands the simulator: a capacity plan, as small frozen dataclasses.

A plan is a set of purchases: reserved GPUs per family, term and payment option, and savings-plan style
committed spend per term in USD/hour.  ``start_hour`` (hours after the plan start) lets a laddered plan
buy tranches over time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from scenarios.schema import Scenario


@dataclass(frozen=True)
class ReservedPurchase:
    """Reserve ``gpus`` GPUs of ``family`` for ``term_years`` at ``usd_per_gpu_hour`` (effective rate)."""

    family: str
    term_years: int
    payment: str
    gpus: float
    usd_per_gpu_hour: float
    start_hour: int = 0


@dataclass(frozen=True)
class CommitmentPurchase:
    """Commit to ``usd_per_hour`` of discounted spend for ``term_years`` (savings-plan style)."""

    term_years: int
    usd_per_hour: float
    start_hour: int = 0


@dataclass(frozen=True)
class CapacityPlan:
    """A portfolio of reservations and spend commitments.

    Attributes
    ----------
    name
        Label shown in reports (e.g. ``recommended``, ``trailing-30d``, ``all-on-demand``).
    reserved
        Reserved-instance purchases.
    committed
        Savings-plan style commitments.
    notes
        Free-form provenance (how the plan was made), kept with it into the report.
    """

    name: str
    reserved: tuple[ReservedPurchase, ...] = ()
    committed: tuple[CommitmentPurchase, ...] = ()
    notes: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def reserved_gpus(self, family: str, hour: int = 0) -> float:
        """Reserved GPUs of ``family`` active at ``hour`` [GPUs]."""
        return sum(
            p.gpus for p in self.reserved
            if p.family == family and p.start_hour <= hour < p.start_hour + p.term_years * 8760
        )

    def committed_usd_per_hour(self, hour: int = 0) -> float:
        """Committed spend active at ``hour`` [USD/h]."""
        return sum(
            c.usd_per_hour for c in self.committed
            if c.start_hour <= hour < c.start_hour + c.term_years * 8760
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per purchase: kind, family, term_years, payment, quantity, unit, rate, start_hour."""
        rows = [
            {"kind": "reserved", "family": p.family, "term_years": p.term_years, "payment": p.payment,
             "quantity": p.gpus, "unit": "GPUs", "usd_per_gpu_hour": p.usd_per_gpu_hour,
             "start_hour": p.start_hour}
            for p in self.reserved
        ] + [
            {"kind": "committed", "family": "", "term_years": c.term_years, "payment": "no_upfront",
             "quantity": c.usd_per_hour, "unit": "USD/h", "usd_per_gpu_hour": float("nan"),
             "start_hour": c.start_hour}
            for c in self.committed
        ]
        cols = ["kind", "family", "term_years", "payment", "quantity", "unit", "usd_per_gpu_hour", "start_hour"]
        return pd.DataFrame(rows, columns=cols)

    def to_json(self) -> str:
        """Serialise to JSON (``meta`` included when it is JSON-able)."""
        return json.dumps(asdict(self), indent=2, default=str)

    @classmethod
    def from_json(cls, text: str) -> CapacityPlan:
        """Parse :meth:`to_json` output."""
        d = json.loads(text)
        return cls(
            name=d.get("name", "plan"),
            reserved=tuple(ReservedPurchase(**r) for r in d.get("reserved", [])),
            committed=tuple(CommitmentPurchase(**c) for c in d.get("committed", [])),
            notes=d.get("notes", ""),
            meta=d.get("meta", {}),
        )


def all_on_demand() -> CapacityPlan:
    """The plan that buys nothing: every GPU-hour on demand (or spot)."""
    return CapacityPlan(name="all-on-demand", notes="No reservations, no commitments.")


def _hours(t: Any, start: pd.Timestamp) -> int:
    """Whole hours from ``start`` to ``t`` (negative before it)."""
    return round((pd.Timestamp(t).tz_convert("UTC") - start) / pd.Timedelta(hours=1))


def current_plan(scenario: Scenario, start: pd.Timestamp | None = None) -> CapacityPlan:
    """The scenario's ``[current]`` commitments as a plan, named ``current``; ``all-on-demand`` when it holds none.

    Parameters
    ----------
    scenario
        Holds ``[current]``.
    start
        The plan start (UTC).  A holding with dates is active from the plan start until its ``end`` (or
        ``start + term``): its ``start_hour`` is ``end - term`` in hours after ``start`` (negative when it was
        bought before), so it expires on its own date.  Holdings that expired before the plan start are left
        out (:func:`holdings_table` lists them).  Without ``start``, or for a holding without dates, the holding
        is taken as bought at the plan start and lasts its full term (the behaviour before dates existed).
    """
    cur = scenario.current
    reserved = []
    for h in cur.reserved:
        if h.gpus <= 0:
            continue
        s_h = _holding_start_hour(h.start, h.end, h.term_years, start)
        if s_h is None:
            continue
        reserved.append(ReservedPurchase(family=h.family, term_years=h.term_years, payment=h.payment, gpus=h.gpus,
                                         usd_per_gpu_hour=h.usd_per_gpu_hour, start_hour=s_h))
    committed = []
    for term, usd in cur.committed_usd_per_hour.items():
        if usd <= 0:
            continue
        t = int(term[0])
        s_h = _holding_start_hour(None, cur.committed_end.get(term), t, start)  # type: ignore[call-overload,unused-ignore]
        if s_h is None:
            continue
        committed.append(CommitmentPurchase(term_years=t, usd_per_hour=usd, start_hour=s_h))
    if not reserved and not committed:
        return all_on_demand()
    return CapacityPlan(name="current", reserved=tuple(reserved), committed=tuple(committed),
                        notes="Commitments already held ([current] of the scenario).")


def _holding_start_hour(begin: Any, end: Any, term_years: int, start: pd.Timestamp | None) -> int | None:
    """``start_hour`` of a holding (see :func:`current_plan`); None when it expired before ``start``."""
    term_h = int(term_years * 8760)
    if start is None or (begin is None and end is None):
        return 0
    end_h = _hours(end, start) if end is not None else _hours(begin, start) + term_h
    if end_h <= 0:
        return None
    return end_h - term_h


def holdings_table(scenario: Scenario, start: pd.Timestamp, hours: int) -> pd.DataFrame:
    """Every ``[current]`` holding with its dates and what happens to it within the plan window.

    Parameters
    ----------
    scenario
        Holds ``[current]``.
    start
        Plan start (UTC).
    hours
        Plan window [h].

    Returns
    -------
    pandas.DataFrame
        ``kind, family, term_years, payment, quantity, unit, start, end, dates, status, expires_hour`` where
        ``dates`` says whether the dates were given (or derived from a bill) or assumed (bought at the plan
        start), and ``status`` is ``expired before the plan``, ``expires in the plan window`` or ``held
        through the plan window``.
    """
    cur = scenario.current
    src = f"derived from {cur.derived_from}" if cur.derived_from else "given in [current]"
    rows = []
    for h in cur.reserved:
        dated = h.start is not None or h.end is not None
        s_h = _holding_start_hour(h.start, h.end, h.term_years, start)
        rows.append(_holding_row("reserved", h.family, h.term_years, h.payment, h.gpus, "GPUs", s_h, start, hours,
                                 src if dated else "assumed: bought at the plan start (no dates given)"))
    for term, usd in cur.committed_usd_per_hour.items():
        t = int(term[0])
        end = cur.committed_end.get(term)  # type: ignore[call-overload,unused-ignore]
        s_h = _holding_start_hour(None, end, t, start)
        rows.append(_holding_row("committed", "", t, "no_upfront", usd, "USD/h", s_h, start, hours,
                                 src if end is not None else "assumed: bought at the plan start (no dates given)"))
    cols = ["kind", "family", "term_years", "payment", "quantity", "unit", "start", "end", "dates", "status",
            "expires_hour"]
    return pd.DataFrame(rows, columns=cols)


def _holding_row(kind: str, family: str, term: int, payment: str, qty: float, unit: str, s_h: int | None,
                 start: pd.Timestamp, hours: int, dates: str) -> dict[str, Any]:
    if s_h is None:
        return {"kind": kind, "family": family, "term_years": term, "payment": payment, "quantity": qty,
                "unit": unit, "start": None, "end": None, "dates": dates, "status": "expired before the plan",
                "expires_hour": None}
    end_h = s_h + term * 8760
    return {"kind": kind, "family": family, "term_years": term, "payment": payment, "quantity": qty, "unit": unit,
            "start": start + pd.Timedelta(hours=s_h), "end": start + pd.Timedelta(hours=end_h), "dates": dates,
            "status": "expires in the plan window" if end_h <= hours else "held through the plan window",
            "expires_hour": end_h}
