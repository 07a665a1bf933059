"""Explain an infeasible capacity model in planner words: which policy, which number.

The capacity model is always feasible without the scenario's policies (reservations can cover any
demand), so infeasibility comes from a policy or a combination of them.  :func:`diagnose_capacity`
drops one policy at a time and, for the one whose removal restores feasibility, says how far it is from
what is possible ("budget X is below the cheapest feasible cost Y").
"""

from __future__ import annotations

import numpy as np
import pulp

from optimizer.capacity import CapacitySettings, build_capacity, with_settings
from optimizer.inputs import CapacityInputs
from optimizer.solvers import solve
from scenarios.errors import InfeasibleError
from scenarios.schema import HOURS_PER_YEAR, Policies


def _relax(pol: Policies, group: str) -> Policies:
    if group == "budget":
        return pol.model_copy(update={"budget_usd_per_year": None})
    if group == "coverage":
        return pol.model_copy(update={"coverage_target": None})
    if group == "share":
        return pol.model_copy(update={"max_commitment_share": None})
    if group == "headroom":
        return pol.model_copy(update={"min_on_demand_headroom": 0.0})
    if group == "idle":
        return pol.model_copy(update={"risk": pol.risk.model_copy(update={"max_expected_idle_share": None})})
    raise ValueError(group)


def _share(pol: Policies) -> str:
    """``max_commitment_share`` as written, or ``none``."""
    return "none" if pol.max_commitment_share is None else f"{pol.max_commitment_share:g}"


def _quota_gap(inputs: CapacityInputs) -> tuple[str, float, float] | None:
    """Family with the largest demand beyond its on-demand quota plus spot: (family, GPUs short, quota)."""
    worst: tuple[str, float, float] | None = None
    for f, fam in enumerate(inputs.families):
        q = float(inputs.on_demand_quota[f])
        if not np.isfinite(q):
            continue
        cap = inputs.spot_useful_cap[f][None, :]
        spot = np.minimum(cap, inputs.preemptible_share * inputs.demand[f])
        short = float((inputs.demand[f] - spot - q).max())
        if short > 0 and (worst is None or short > worst[1]):
            worst = (fam, short, q)
    return worst


def diagnose_capacity(inputs: CapacityInputs, settings: CapacitySettings, solver: str | None = None,
                      time_limit_s: float | None = None) -> InfeasibleError:
    """Return an :class:`InfeasibleError` whose message names the policy that makes the model infeasible.

    Parameters
    ----------
    inputs
        The inputs of the infeasible model.
    settings
        Its build settings (the diagnosis uses the same reduction).
    solver, time_limit_s
        Solver for the diagnostic solves.
    """
    pol = inputs.policies
    st = with_settings(settings, risk_weight=0.0, per_path=False)
    active = []
    if pol.budget_usd_per_year is not None:
        active.append("budget")
    if pol.coverage_target is not None:
        active.append("coverage")
    if pol.risk.max_expected_idle_share is not None:
        active.append("idle")
    if pol.min_on_demand_headroom > 0:
        active.append("headroom")
    active.append("share")
    quota = _quota_gap(inputs)
    for group in active:
        relaxed = inputs.with_policies(_relax(pol, group))
        model = build_capacity(relaxed, st, name="diagnose")
        if group == "coverage":
            assert model.coverage is not None
            model.problem.setObjective(-1.0 * model.coverage)
        res = solve(model.problem, solver=solver, time_limit_s=time_limit_s)
        if not res.ok:
            continue
        if group == "budget":
            assert model.expected_spend is not None
            cheapest = float(pulp.value(model.expected_spend)) * HOURS_PER_YEAR
            return InfeasibleError(
                f"policies.budget_usd_per_year {pol.budget_usd_per_year:,.0f} USD/year is below the cheapest "
                f"feasible expected cost {cheapest:,.0f} USD/year",
                column="policies.budget_usd_per_year",
                fix=f"raise the budget to at least {np.ceil(cheapest):,.0f}, or set policies.allow_unmet_demand = "
                    "true to see the plan with its shortfall",
            )
        if group == "coverage":
            dem = float(inputs.demand.sum(axis=0).mean())
            best = -res.objective / dem if dem > 0 else 0.0
            return InfeasibleError(
                f"policies.coverage_target {pol.coverage_target:.0%} is above the highest coverage the other "
                f"policies allow ({best:.1%}, with max_commitment_share {_share(pol)} and "
                f"min_on_demand_headroom {pol.min_on_demand_headroom:g})",
                column="policies.coverage_target", fix=f"lower the target to {np.floor(best * 1000) / 1000:.1%} or "
                                                        "loosen the commitment caps",
            )
        if group in ("share", "headroom") and quota is not None:
            fam, short, q = quota
            name = "max_commitment_share" if group == "share" else "min_on_demand_headroom"
            val = _share(pol) if group == "share" else f"{pol.min_on_demand_headroom:g}"
            return InfeasibleError(
                f"{fam} needs up to {short:,.1f} GPUs beyond its on-demand quota of {q:,.0f} GPUs and the spot it "
                f"may use; they must be reserved or committed, which policies.{name} = {val} does not allow",
                column=f"policies.{name}",
                fix=f"loosen policies.{name}, raise catalog.{fam}.on_demand_quota_gpus, or set "
                    "policies.allow_unmet_demand = true",
            )
        if group == "idle":
            return InfeasibleError(
                f"policies.risk.max_expected_idle_share {pol.risk.max_expected_idle_share:g} cannot hold together "
                "with the other policies (they force commitments that would sit idle more often than that)",
                column="policies.risk.max_expected_idle_share", fix="raise the idle share or lower coverage_target",
            )
        return InfeasibleError(
            f"policies.{group} cannot hold together with the other policies", column=f"policies.{group}",
        )
    if quota is not None:
        fam, short, q = quota
        return InfeasibleError(
            f"{fam} needs up to {short:,.1f} GPUs beyond its on-demand quota of {q:,.0f} GPUs and its spot, and "
            "the policies together leave no room to reserve them",
            column=f"catalog.{fam}.on_demand_quota_gpus",
            fix="raise the quota, loosen the commitment caps, or set policies.allow_unmet_demand = true",
        )
    return InfeasibleError(
        "no plan satisfies all the policies together (" + ", ".join(active) + ")",
        column="policies", fix="relax one of them, or set policies.allow_unmet_demand = true",
    )
