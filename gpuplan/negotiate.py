"""The negotiation pack: what a FinOps lead takes into a commitment negotiation, offer by offer.

For each offer of the recommended plan (and every offer in the catalog for break-even):

- break-even utilization (the share of hours, or of committed dollars, that must find use);
- the minimum discount at which a 3-year term beats renewing 1-year terms (per family, with growth);
- the cost of over-committing if demand falls 10, 25 or 50 % (the offer alone at its recommended size,
  and the whole plan with its regret against the best plan for the lower demand);
- a sensitivity table of savings over the offer's discount x demand growth.

Exported as CSV tables and one Markdown document.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.analytics import (
    DEFAULT_DROPS,
    break_even_table,
    committed_discount,
    min_three_year_discount,
    offer_keys,
    overcommit_cost,
    sensitivity_table,
)
from optimizer.inputs import CapacityInputs
from optimizer.recommend import CapacityResult, optimize_capacity, solver_config
from scenarios.errors import InputError
from scenarios.history import load_history
from scenarios.io import atomic_dir, atomic_write, write_frame
from scenarios.parallel import Mapper
from scenarios.plan import CapacityPlan
from scenarios.schema import Scenario
from scenarios.signals import load_spot

#: Demand growth rates of the sensitivity grid, relative to the forecast [fraction per year].
SENSITIVITY_GROWTHS = (-0.25, 0.0, 0.15, 0.30)


@dataclass
class NegotiationPack:
    """Tables of the negotiation pack (see the module docstring)."""

    scenario: str
    plan: CapacityPlan
    purchases: pd.DataFrame
    break_even: pd.DataFrame
    three_year: pd.DataFrame
    overcommit: pd.DataFrame
    sensitivity: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by file stem."""
        return {"purchases": self.purchases, "break_even": self.break_even, "three_year_vs_renewal": self.three_year,
                "overcommit": self.overcommit, "sensitivity": self.sensitivity}

    def to_markdown(self) -> str:
        """The pack as one Markdown document."""
        parts = [f"# Negotiation pack: {self.scenario}", ""]
        parts += ["Figures are expected costs over the forecast horizon in USD, computed exactly on every hour "
                  "of every forecast sample path (spot interruptions aside).", ""]
        sections = [
            ("Recommended purchases", self.purchases,
             "quantity: GPUs (reserved) or USD/hour (committed spend)."),
            ("Break-even utilization of every offer", self.break_even,
             "An offer beats on-demand when more than this share of its hours (or dollars) find use."),
            ("When does a 3-year term beat renewing 1-year terms?", self.three_year,
             "min_three_year_discount: the smallest discount off on-demand at which one 3-year term costs less "
             "than three 1-year terms each re-sized to that year's demand."),
            ("Cost of over-committing if demand falls", self.overcommit,
             "offer 'whole plan' keeps every purchase; regret_usd is its extra cost over the best plan for the "
             "lower demand."),
            ("Savings over discount x demand growth", self.sensitivity,
             "Quantities fixed as recommended; only the offer's rate and the demand change."),
        ]
        for title, df, note in sections:
            parts += [f"## {title}", "", note, "", markdown_table(df), ""]
        if self.notes:
            parts += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        return "\n".join(parts)


def markdown_table(df: pd.DataFrame, max_rows: int = 60) -> str:
    """A GitHub-flavoured Markdown table with readable numbers."""
    if df.empty:
        return "_(none)_"

    def fmt(v: Any) -> str:
        if isinstance(v, float | np.floating):
            v = float(v)
            if not np.isfinite(v):
                return ""
            if abs(v) >= 1000:
                return f"{v:,.0f}"
            return f"{v:.4g}"
        return str(v).replace("|", "/")

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for rec in df.head(max_rows).itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in rec) + " |")
    return "\n".join(lines)


def _offer_discount(key: str, plan: CapacityPlan, inputs: CapacityInputs) -> float:
    """Current discount off on-demand of an offer key [fraction]."""
    if key.startswith("committed_"):
        return committed_discount(inputs, int(key.split("_")[1].rstrip("y")))
    for p in plan.reserved:
        if f"reserved_{p.family}_{p.term_years}y_{p.payment}" == key:
            return float(1.0 - p.usd_per_gpu_hour / inputs.on_demand[inputs.families.index(p.family)])
    raise KeyError(key)


def _only(plan: CapacityPlan, key: str) -> CapacityPlan:
    """The part of ``plan`` that is offer ``key``."""
    return replace(
        plan, name=key,
        reserved=tuple(p for p in plan.reserved if f"reserved_{p.family}_{p.term_years}y_{p.payment}" == key),
        committed=tuple(c for c in plan.committed if f"committed_{c.term_years}y" == key),
    )


def negotiation_pack(sc: Scenario, paths: pd.DataFrame | None = None, *, capacity: CapacityResult | None = None,
                     spot: pd.DataFrame | None = None, mapper: Mapper | None = None,
                     drops: tuple[float, ...] = DEFAULT_DROPS,
                     growths: tuple[float, ...] = SENSITIVITY_GROWTHS) -> NegotiationPack:
    """Build the negotiation pack for a recommendation.

    Parameters
    ----------
    sc
        The scenario (offers, prices, growth).
    paths
        Family-level sample paths (``gpuplan.pipeline.scenario_paths(sc)``) [GPUs]; the recommendation is
        optimised on them.  Not needed with ``capacity``.
    capacity
        A recommendation already made (``PlanRun.capacity``): the pack then describes exactly that plan.
    spot
        Hourly spot table; default ``scenarios.signals.load_spot`` over the paths' window, as the plan uses.
    mapper
        Executor for the re-optimisations.
    drops
        Demand falls for the over-commitment table [fraction].
    growths
        Growth rates of the sensitivity grid [fraction per year].
    """
    if capacity is None:
        if paths is None:
            raise InputError("give forecast sample paths or a capacity result", column="paths")
        if spot is None:
            ts = pd.DatetimeIndex(paths["timestamp"].unique()).sort_values()
            spot = load_spot(sc, ts[0], len(ts))
        hist = load_history(sc)
        capacity = optimize_capacity(paths, sc, history=hist.family_history(), spot=spot, hindsight=False,
                                     mapper=mapper)
    cap = capacity
    plan, inputs = cap.plan, cap.inputs
    cfg = solver_config(sc)
    growth = sc.demand.forecast.growth_rate_per_year
    three = pd.concat(
        [min_three_year_discount(inputs, growth_per_year=g) for g in sorted({0.0, growth})], ignore_index=True)
    over = [overcommit_cost(plan, inputs, drops=drops, solver=cfg, mapper=mapper).assign(offer="whole plan")]
    sens = []
    for key in offer_keys(plan):
        sub = _only(plan, key)
        over.append(overcommit_cost(sub, inputs, drops=drops, reoptimize=False).assign(offer=key))
        d0 = _offer_discount(key, plan, inputs)
        grid = sorted({float(x) for x in np.clip(d0 + np.array([-0.10, -0.05, 0.0, 0.05, 0.10]), 0.0, 0.95)})
        sens.append(sensitivity_table(plan, inputs, discounts=grid, growths=growths, offer=key))
    overcommit = pd.concat(over, ignore_index=True)
    overcommit = overcommit[["offer", *[c for c in overcommit.columns if c != "offer"]]]
    notes = [f"{inputs.n_paths} forecast paths x {inputs.n_hours:,} h; planned growth "
             f"{100 * growth:.1f} %/year.", *cap.notes]
    return NegotiationPack(
        scenario=sc.name, plan=plan, purchases=cap.purchases(), break_even=break_even_table(sc), three_year=three,
        overcommit=overcommit, sensitivity=pd.concat(sens, ignore_index=True) if sens else pd.DataFrame(),
        notes=notes,
    )


def write_pack(pack: NegotiationPack, out_dir: str | Path) -> Path:
    """Write the pack's CSV tables and ``negotiation.md`` atomically; return the Markdown path."""
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        for name, df in pack.tables().items():
            write_frame(df, tmp / f"{name}.csv")
        atomic_write(tmp / "negotiation.md", pack.to_markdown())
    return out / "negotiation.md"
