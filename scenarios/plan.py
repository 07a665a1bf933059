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


def current_plan(scenario: Scenario) -> CapacityPlan:
    """The scenario's ``[current]`` commitments as a plan, named ``current``; ``all-on-demand`` when it holds none."""
    cur = scenario.current
    reserved = tuple(
        ReservedPurchase(family=h.family, term_years=h.term_years, payment=h.payment, gpus=h.gpus,
                         usd_per_gpu_hour=h.usd_per_gpu_hour)
        for h in cur.reserved if h.gpus > 0
    )
    committed = tuple(
        CommitmentPurchase(term_years=int(term[0]), usd_per_hour=usd)
        for term, usd in cur.committed_usd_per_hour.items() if usd > 0
    )
    if not reserved and not committed:
        return all_on_demand()
    return CapacityPlan(name="current", reserved=reserved, committed=committed,
                        notes="Commitments already held ([current] of the scenario).")
