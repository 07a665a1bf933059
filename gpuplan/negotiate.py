"""The negotiation pack: what a FinOps lead takes into a commitment negotiation, offer by offer.

For each offer of the recommended plan (and every offer in the catalog for break-even):

- break-even utilization (the share of hours, or of committed dollars, that must find use);
- the minimum discount at which a 3-year term beats renewing 1-year terms (per family, with growth and the
  catalog's expected price change, for a fixed-rate reservation and a savings-plan style commitment);
- a walk-away price per offer: the rate at which the offer, at its recommended size, costs as much as the
  best plan the catalog allows without it;
- the cost of over-committing if demand falls 10, 25 or 50 % (the offer alone at its recommended size,
  and the whole plan with its regret against the best plan for the lower demand);
- a sensitivity table of savings over the offer's discount x demand growth per year (absolute growth: the
  row at the scenario's planned growth is the plan as forecast).

Exported as CSV tables and one Markdown document.
"""

from __future__ import annotations

import math
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
    smallest_discount,
    with_offer_discount,
)
from optimizer.baselines import SolverConfig, solve_plan
from optimizer.capacity import CapacitySettings, with_settings
from optimizer.evaluate import evaluate
from optimizer.inputs import CapacityInputs
from optimizer.recommend import CapacityResult, recommend_capacity, solver_config
from scenarios.errors import InputError
from scenarios.history import load_history
from scenarios.io import atomic_dir, atomic_write, write_frame
from scenarios.parallel import Mapper
from scenarios.plan import CapacityPlan, all_on_demand
from scenarios.schema import Scenario
from scenarios.signals import load_spot

#: Demand growth rates of the sensitivity grid [fraction per year]; the scenario's planned growth is added.
SENSITIVITY_GROWTHS = (-0.25, 0.0, 0.30)


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
    walk_away: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by file stem."""
        return {"purchases": self.purchases, "break_even": self.break_even, "three_year_vs_renewal": self.three_year,
                "overcommit": self.overcommit, "sensitivity": self.sensitivity, "walk_away": self.walk_away}

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
            ("Walk-away price of each offer", self.walk_away,
             "walk_away_usd_per_gpu_hour: above this rate the offer, at its recommended size, costs more than "
             "the best plan the catalog allows without it (best_alternative_cost_usd, expected over the "
             "horizon); for a commitment, walk_away_discount is the lowest discount worth signing."),
            ("When does a 3-year term beat renewing 1-year terms?", self.three_year,
             "min_three_year_discount: the smallest discount off today's on-demand price at which one 3-year "
             "term costs less than three 1-year terms each re-sized to that year's demand, over the same three "
             "years, with on-demand moving by on_demand_price_change_per_year. A reservation keeps its fixed "
             "rate (each renewal is bought at that year's price); a savings plan keeps its discount on whatever "
             "on-demand becomes. Costs are expected over the forecast paths, in USD over three years."),
            ("Cost of over-committing if demand falls", self.overcommit,
             "offer 'whole plan' keeps every purchase; regret_usd is its extra cost over the best plan for the "
             "lower demand."),
            ("Savings over discount x demand growth", self.sensitivity,
             "Quantities fixed as recommended; only the offer's rate and the demand change. "
             "demand_growth_per_year is the whole yearly growth of demand; the forecast already assumes the "
             "scenario's planned growth, so that row is the plan as forecast, and the 0 row is flat demand."),
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
        from gpuplan.pipeline import ladder_period

        hours = int(pd.DatetimeIndex(paths["timestamp"].unique()).size)
        capacity = recommend_capacity(paths, sc, history=hist.family_history(), spot=spot, hindsight=False,
                                      mapper=mapper, ladder_period_hours=ladder_period(sc, hours))
    cap = capacity
    plan, inputs = cap.plan, cap.inputs
    cfg = solver_config(sc)
    growth = sc.demand.forecast.growth_rate_per_year
    change = {f: sc.catalog[f].on_demand_price_change_per_year for f in inputs.families}
    three = pd.concat(
        [min_three_year_discount(inputs, growth_per_year=g, price_change_per_year=change, instrument=i)
         for i in ("reservation", "savings_plan") for g in sorted({0.0, growth})], ignore_index=True)
    over = [overcommit_cost(plan, inputs, drops=drops, solver=cfg, mapper=mapper).assign(offer="whole plan")]
    sens = []
    grid_growths = tuple(sorted({*map(float, growths), float(growth)}))
    for key in offer_keys(plan):
        sub = _only(plan, key)
        over.append(overcommit_cost(sub, inputs, drops=drops, reoptimize=False).assign(offer=key))
        d0 = _offer_discount(key, plan, inputs)
        grid = sorted({float(x) for x in np.clip(d0 + np.array([-0.10, -0.05, 0.0, 0.05, 0.10]), 0.0, 0.95)})
        sens.append(sensitivity_table(plan, inputs, discounts=grid, growths=grid_growths, offer=key,
                                      planned_growth=growth))
    overcommit = pd.concat(over, ignore_index=True)
    overcommit = overcommit[["offer", *[c for c in overcommit.columns if c != "offer"]]]
    moving = {f: c for f, c in change.items() if c != 0.0}
    # the alternative may buy on the same dates as the plan: quarterly when the recommendation is laddered
    from gpuplan.pipeline import ladder_period

    period = ladder_period(sc, inputs.n_hours) if getattr(cap, "laddered", False) else None
    alt_settings = with_settings(None, period_hours=period) if period else None
    notes = [f"{inputs.n_paths} forecast paths x {inputs.n_hours:,} h; planned growth "
             f"{100 * growth:.1f} %/year.",
             "Expected on-demand price change per year: " + (", ".join(
                 f"{f} {100 * c:+.1f} %" for f, c in moving.items()) if moving else "none (prices held flat)")
             + "; the 3-year table applies it, the other tables use today's prices.",
             *cap.notes]
    return NegotiationPack(
        scenario=sc.name, plan=plan, purchases=cap.purchases(), break_even=break_even_table(sc), three_year=three,
        overcommit=overcommit, sensitivity=pd.concat(sens, ignore_index=True) if sens else pd.DataFrame(),
        walk_away=walk_away_table(plan, inputs, solver=cfg, settings=alt_settings), notes=notes,
    )


def _without_offer(inputs: CapacityInputs, key: str) -> CapacityInputs:
    """The inputs with offer ``key`` taken out of the catalog (a reservation, or a commitment term)."""
    if key.startswith("committed_"):
        term = int(key.split("_")[1].rstrip("y"))
        k = inputs.terms.index(term)
        return replace(inputs, terms=tuple(t for t in inputs.terms if t != term),
                       commit_rate=np.delete(inputs.commit_rate, k, axis=0))
    return replace(inputs, reserved=tuple(
        o for o in inputs.reserved if f"reserved_{o.family}_{o.term_years}y_{o.payment}" != key))


def walk_away_table(plan: CapacityPlan, inputs: CapacityInputs, solver: SolverConfig | None = None,
                    settings: CapacitySettings | None = None, tol: float = 1e-9) -> pd.DataFrame:
    """Walk-away price of each offer of ``plan``: the cost of the best alternative in the catalog.

    The alternative is the plan re-optimised with the offer taken out of the catalog (every other offer,
    on-demand and spot still available), with the same policies and purchase dates (``settings``: give the
    laddered period when the plan is laddered).  The walk-away discount is the one at
    which ``plan`` - the offer kept at its recommended quantity, only its rate changed - costs exactly as
    much as that alternative (bisection on the discount; plan cost falls as the discount rises).  Above the
    walk-away rate, signing is worse than walking away.  Costs are expected over the forecast paths and the
    horizon, at today's prices.

    Parameters
    ----------
    plan
        The recommendation.
    inputs
        Forecast demand and prices.
    solver, settings
        For the alternative's optimisation (default: the defaults of :func:`optimizer.baselines.solve_plan`).
    tol
        Bisection tolerance on the discount [fraction].

    Returns
    -------
    pandas.DataFrame
        ``offer, family, quantity, unit, usd_per_gpu_hour, discount, plan_cost_usd, best_alternative_cost_usd,
        best_alternative, walk_away_discount, walk_away_usd_per_gpu_hour, headroom_usd`` (``usd_per_gpu_hour``
        and the walk-away rate are blank for a commitment that covers several families; headroom = the
        alternative's cost minus the plan's).
    """
    cfg = solver or SolverConfig()
    st = with_settings(settings, risk_weight=0.0)
    base = float(evaluate(plan, inputs).total_usd.mean())
    rows = []
    for key in offer_keys(plan):
        alt_inputs = _without_offer(inputs, key)
        alt, res = solve_plan(alt_inputs, st, cfg, name=f"without-{key}")
        if not res.ok:
            raise InputError(f"the best plan without offer '{key}' did not solve ({res.termination})",
                             column="offer")
        alt_cost = float(evaluate(alt, alt_inputs).total_usd.mean())
        od_cost = float(evaluate(all_on_demand(), inputs).total_usd.mean())
        if alt_cost > od_cost:  # buying nothing is always an alternative
            alt, alt_cost = all_on_demand(), od_cost

        def cost_at(d: float, key: str = key) -> float:
            p2, i2 = with_offer_discount(plan, inputs, key, d)
            return float(evaluate(p2, i2).total_usd.mean())

        d_w = smallest_discount(cost_at, alt_cost, 0.0, 0.99, tol)
        d0 = _offer_discount(key, plan, inputs)
        if key.startswith("committed_"):
            fam, unit, rate, rate_w = "(all covered)", "USD/hour", math.nan, math.nan
            qty = sum(c.usd_per_hour for c in plan.committed if f"committed_{c.term_years}y" == key)
        else:
            p = next(p for p in plan.reserved if f"reserved_{p.family}_{p.term_years}y_{p.payment}" == key)
            od = float(inputs.on_demand[inputs.families.index(p.family)])
            fam, unit, rate, rate_w = p.family, "GPUs", p.usd_per_gpu_hour, od * (1.0 - d_w)
            qty = sum(q.gpus for q in plan.reserved if f"reserved_{q.family}_{q.term_years}y_{q.payment}" == key)
        rows.append({
            "offer": key, "family": fam, "quantity": float(qty), "unit": unit, "usd_per_gpu_hour": rate,
            "discount": d0, "plan_cost_usd": base, "best_alternative_cost_usd": alt_cost,
            "best_alternative": _describe(alt), "walk_away_discount": d_w, "walk_away_usd_per_gpu_hour": rate_w,
            "headroom_usd": alt_cost - base,
        })
    return pd.DataFrame(rows)


def _describe(plan: CapacityPlan) -> str:
    """One line: what a plan buys."""
    def at(h: int) -> str:
        return f" from hour {h:,}" if h else ""

    parts = [f"{p.gpus:,.1f} {p.family} GPUs {p.term_years}y {p.payment}{at(p.start_hour)}" for p in plan.reserved]
    parts += [f"{c.usd_per_hour:,.2f} USD/h committed {c.term_years}y{at(c.start_hour)}" for c in plan.committed]
    return "; ".join(parts) if parts else "all on-demand and spot"


def write_pack(pack: NegotiationPack, out_dir: str | Path) -> Path:
    """Write the pack's CSV tables and ``negotiation.md`` atomically; return the Markdown path."""
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        for name, df in pack.tables().items():
            write_frame(df, tmp / f"{name}.csv")
        atomic_write(tmp / "negotiation.md", pack.to_markdown())
    return out / "negotiation.md"
