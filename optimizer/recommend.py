"""The commitment recommendation: optimise, cost exactly, compare with the baselines.

:func:`optimize_capacity` wraps build -> solve -> extract (:mod:`optimizer.capacity`) and then costs the
plan on every hour of every path (:mod:`optimizer.evaluate`), beside all on-demand, the cloud
recommenders' trailing-history rule and perfect hindsight (:mod:`optimizer.baselines`).
:func:`efficient_frontier` trades expected cost against CVaR; :func:`laddered_plan` buys tranches over
periods for a growing forecast.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimizer.analytics import commitment_gpu_equivalents, cvar
from optimizer.baselines import SolverConfig, perfect_hindsight, solve_plan, trailing_history_plan
from optimizer.capacity import (
    CapacitySettings,
    binding_constraints,
    build_capacity,
    extract_plan,
    with_settings,
)
from optimizer.diagnose import diagnose_capacity
from optimizer.evaluate import Evaluation, evaluate, evaluation_frame
from optimizer.inputs import CapacityInputs, capacity_inputs
from optimizer.solvers import SolveResult, solve
from scenarios.errors import InputError
from scenarios.parallel import Mapper, SerialMapper
from scenarios.plan import CapacityPlan, all_on_demand
from scenarios.schema import HOURS_PER_YEAR, Scenario

log = logging.getLogger(__name__)


def solver_config(scenario: Scenario | None, solver: str | None = None) -> SolverConfig:
    """Solver settings from ``scenario.solver``, the name optionally overridden."""
    if scenario is None:
        return SolverConfig(name=solver or "highs")
    s = scenario.solver
    return SolverConfig(name=solver or s.name, time_limit_s=s.time_limit_s, mip_gap=s.mip_gap)


@dataclass(eq=False)
class CapacityResult:
    """The recommendation with its exact costs, the baselines and how it was solved.

    Attributes
    ----------
    plan
        The recommended purchases.
    solve
        Status, termination, objective, runtime and gap of the solve.
    inputs
        The inputs it was optimised on.
    evaluation
        Exact per-path costs of ``plan`` on every hour (:func:`optimizer.evaluate.evaluate`).
    baselines
        Per-path total cost of each baseline [USD], by name (``all-on-demand``, ``trailing-30d``,
        ``perfect-hindsight``).
    baseline_plans
        The baselines' plans (perfect hindsight has one per path and is not listed).
    model_expected_usd
        The model's own expected cost over the horizon (on representative hours) [USD].
    build_s
        Time to build the model [s].
    n_variables, n_constraints, n_bins
        Model size; ``n_bins`` representative hours stand for ``n_paths x n_hours`` path-hours.
    alpha
        CVaR level used in the summaries [fraction].
    notes
        Assumptions and events, for the report.
    lp_bound_usd
        Optimum of the LP relaxation (fractional reservations) over the horizon [USD, model objective];
        NaN when the model has no whole-instance decisions.
    objective_usd
        The solved model's objective over the horizon [USD] (expected cost, plus the CVaR term if weighted).
    binding
        Constraints that hold with equality in the solution (:func:`optimizer.capacity.binding_constraints`).
    laddered, buy_at_start_usd, laddered_usd
        Set by :func:`recommend_capacity`: whether the laddered plan was chosen, and the expected cost of
        buying everything at the start and of the laddered plan [USD over the horizon].
    """

    plan: CapacityPlan
    solve: SolveResult
    inputs: CapacityInputs
    evaluation: Evaluation
    baselines: dict[str, np.ndarray] = field(default_factory=dict)
    baseline_plans: dict[str, CapacityPlan] = field(default_factory=dict)
    model_expected_usd: float = math.nan
    build_s: float = math.nan
    n_variables: int = 0
    n_constraints: int = 0
    n_bins: int = 0
    alpha: float = 0.95
    notes: list[str] = field(default_factory=list)
    lp_bound_usd: float = math.nan
    objective_usd: float = math.nan
    binding: list[dict[str, Any]] = field(default_factory=list)
    laddered: bool = False
    buy_at_start_usd: float = math.nan
    laddered_usd: float = math.nan

    @property
    def integrality_gap_pct(self) -> float:
        """Gap of the whole-instance plan to the LP relaxation's bound, ``100 (MILP - LP) / |LP|`` [%]."""
        if not (math.isfinite(self.lp_bound_usd) and math.isfinite(self.objective_usd)) or self.lp_bound_usd == 0:
            return math.nan
        return 100.0 * (self.objective_usd - self.lp_bound_usd) / abs(self.lp_bound_usd)

    # -- tables -----------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Headline figures (USD over the horizon unless the key says per year)."""
        ev = self.evaluation
        tot = ev.total_usd
        h = self.inputs.n_hours
        od = self.baselines.get("all-on-demand", evaluate(all_on_demand(), self.inputs).total_usd)
        dem = float(ev.demand_gh.sum(axis=0).mean())
        cap = float(ev.committed_capacity_usd.sum() + ev.reserved_usd[0])
        idle = float(ev.idle_usd.mean())
        out: dict[str, Any] = {
            "plan": self.plan.name,
            "status": self.solve.status, "termination": self.solve.termination, "solver": self.solve.solver,
            "solve_s": self.solve.runtime_s, "build_s": self.build_s, "mip_gap": self.solve.mip_gap,
            "start": str(self.inputs.timestamps[0]), "horizon_hours": h, "n_paths": self.inputs.n_paths,
            "families": list(self.inputs.families),
            "expected_cost_usd": float(tot.mean()),
            "expected_cost_usd_per_year": float(tot.mean()) * HOURS_PER_YEAR / h,
            "std_usd": float(tot.std()), "p05_usd": float(np.quantile(tot, 0.05)),
            "p50_usd": float(np.quantile(tot, 0.5)), "p95_usd": float(np.quantile(tot, 0.95)),
            "cvar_alpha": self.alpha, "cvar_usd": cvar(tot, self.alpha),
            "all_on_demand_usd": float(od.mean()),
            "savings_usd": float(od.mean() - tot.mean()),
            "savings_pct": float(1.0 - tot.mean() / od.mean()) if od.mean() > 0 else 0.0,
            "commitment_usd_per_hour": cap / h,
            "commitment_gpu_equivalents": commitment_gpu_equivalents(self.plan, self.inputs),
            "coverage_share": float((ev.reserved_gh.sum(axis=0) + ev.committed_gh.sum(axis=0)).mean() / dem)
            if dem > 0 else 0.0,
            "commitment_utilization": 1.0 - idle / cap if cap > 0 else math.nan,
            "idle_commitment_usd": idle,
            "spot_gpu_hours": float(ev.spot_bought_gh.sum(axis=0).mean()),
            "unmet_gpu_hours": float(ev.unmet_gh.sum(axis=0).mean()),
            "model_expected_usd": self.model_expected_usd,
            "reduction_error_pct": 100.0 * (self.model_expected_usd / float(tot.mean()) - 1.0)
            if tot.mean() > 0 and math.isfinite(self.model_expected_usd) else math.nan,
            "representative_hours": self.n_bins, "path_hours": self.inputs.n_paths * h,
            "variables": self.n_variables, "constraints": self.n_constraints,
            "objective_usd": self.objective_usd, "lp_bound_usd": self.lp_bound_usd,
            "integrality_gap_pct": self.integrality_gap_pct,
            "whole_instances": bool(math.isfinite(self.lp_bound_usd)),
            "binding_constraints": [b["constraint"] for b in self.binding],
            "laddered": self.laddered, "buy_at_start_usd": self.buy_at_start_usd, "laddered_usd": self.laddered_usd,
        }
        for name, costs in self.baselines.items():
            key = name.replace("-", "_")
            out[f"{key}_usd"] = float(np.mean(costs))
        if "perfect-hindsight" in self.baselines:
            hs = float(np.mean(self.baselines["perfect-hindsight"]))
            out["regret_vs_hindsight_pct"] = 100.0 * (float(tot.mean()) / hs - 1.0) if hs > 0 else math.nan
        return out

    def purchases(self) -> pd.DataFrame:
        """One row per purchase with its cost, break-even, expected utilization and coverage."""
        ev, inp = self.evaluation, self.inputs
        df = self.plan.to_frame()
        if df.empty:
            return df
        be = break_even_table_inputs(inp)
        dem_f = ev.demand_gh.mean(axis=1)  # (F,) expected demand GPU-hours per family
        ts0 = inp.timestamps[0]
        rows = []
        for r in df.to_dict("records"):
            if r["kind"] == "reserved":
                f = inp.families.index(r["family"]) if r["family"] in inp.families else -1
                cap_gh = float(ev.reserved_capacity_gh[f]) if f >= 0 else 0.0
                util = ev.reserved_gh[f] / cap_gh if cap_gh > 0 else np.zeros(inp.n_paths)
                held = min(r["term_years"] * HOURS_PER_YEAR, inp.n_hours - r["start_hour"])
                share = r["quantity"] * held / cap_gh if cap_gh > 0 else 0.0
                # coverage of THIS family's demand (a reservation serves only its own family)
                dem = float(dem_f[f]) if f >= 0 else 0.0
                cover = float((ev.reserved_gh[f] * share).mean()) / dem if dem > 0 else 0.0
                usd_h = r["quantity"] * r["usd_per_gpu_hour"]
                b = float(r["usd_per_gpu_hour"] / inp.on_demand[f]) if f >= 0 else math.nan
                size = inp.instance_size(f) if f >= 0 else None
            else:
                k = inp.terms.index(int(r["term_years"]))
                capu = float(ev.committed_capacity_usd[k])
                util = ev.committed_used_usd[k] / capu if capu > 0 else np.zeros(inp.n_paths)
                # coverage of the demand of the families this term covers
                dem = float(dem_f[np.isfinite(inp.commit_rate[k])].sum())
                cover = float(ev.committed_term_gh[k].mean()) / dem if dem > 0 else 0.0
                size = None
                usd_h = r["quantity"]
                row = (be["product"] == "committed") & (be["term_years"] == r["term_years"])
                b = float(be.loc[row, "break_even_utilization"].iloc[0])
            expiry = ts0 + pd.Timedelta(hours=int(r["start_hour"] + r["term_years"] * HOURS_PER_YEAR))
            inst = r["quantity"] / size if size else math.nan
            rows.append({**r, "gpus_per_instance": size if size else math.nan, "instances": inst,
                         "starts": ts0 + pd.Timedelta(hours=int(r["start_hour"])), "expires": expiry,
                         "usd_per_hour": usd_h, "break_even_utilization": b,
                         "expected_utilization": float(np.mean(util)), "utilization_p05": float(np.quantile(util, 0.05)),
                         "coverage_share": cover})
        return pd.DataFrame(rows)

    def baseline_table(self) -> pd.DataFrame:
        """Recommendation and baselines side by side (USD over the horizon)."""
        od = self.baselines.get("all-on-demand")
        od_mean = float(np.mean(od)) if od is not None else math.nan
        rec = self.evaluation.total_usd
        rows = []
        for name, costs in [(self.plan.name, rec), *self.baselines.items()]:
            c = np.asarray(costs)
            rows.append({
                "plan": name, "expected_cost_usd": float(c.mean()), "p05_usd": float(np.quantile(c, 0.05)),
                "p95_usd": float(np.quantile(c, 0.95)), "cvar_usd": cvar(c, self.alpha),
                "savings_vs_on_demand_usd": od_mean - float(c.mean()),
                "savings_vs_on_demand_pct": 1.0 - float(c.mean()) / od_mean if od_mean > 0 else math.nan,
                "minus_recommendation_usd": float(c.mean() - rec.mean()),
            })
        return pd.DataFrame(rows)

    def path_costs(self) -> pd.DataFrame:
        """Per-path costs by pool of the recommendation, with each baseline's total beside it."""
        df = evaluation_frame(self.evaluation)
        for name, costs in self.baselines.items():
            df[f"{name.replace('-', '_')}_usd"] = np.asarray(costs)
        return df

    def frames(self) -> dict[str, pd.DataFrame]:
        """All tables by file stem (for writing)."""
        return {
            "purchases": self.purchases(), "baselines": self.baseline_table(), "path_costs": self.path_costs(),
            "break_even": break_even_table_inputs(self.inputs),
        }


def break_even_table_inputs(inputs: CapacityInputs) -> pd.DataFrame:
    """Break-even utilization of each offer of ``inputs`` (reserved per family; commitments per term).

    A commitment term's row is the demand-weighted mean over the families it covers.
    """
    rows = []
    for o in inputs.reserved:
        od = float(inputs.on_demand[o.family_index])
        rows.append({"offer": o.key.replace("reserve_", "reserved_"), "family": o.family, "product": "reserved",
                     "term_years": o.term_years, "payment": o.payment, "usd_per_gpu_hour": o.usd_per_gpu_hour,
                     "discount": 1.0 - o.usd_per_gpu_hour / od, "break_even_utilization": o.usd_per_gpu_hour / od})
    w = inputs.demand.mean(axis=(1, 2))
    for k, t in enumerate(inputs.terms):
        ok = np.isfinite(inputs.commit_rate[k])
        ww = np.where(ok, w, 0.0)
        if ww.sum() <= 0:
            ww = ok.astype(float)
        be = float((ww * np.where(ok, inputs.commit_rate[k], 0.0)).sum() / (ww * inputs.on_demand).sum())
        rows.append({"offer": f"committed_{t}y", "family": "", "product": "committed", "term_years": t,
                     "payment": "no_upfront", "usd_per_gpu_hour": math.nan, "discount": 1.0 - be,
                     "break_even_utilization": be})
    return pd.DataFrame(rows)


def _solve_checked(inputs: CapacityInputs, settings: CapacitySettings, cfg: SolverConfig,
                   name: str) -> tuple[CapacityPlan, SolveResult, float, float, Any]:
    t0 = time.perf_counter()
    model = build_capacity(inputs, settings, name=name.replace("-", "_"))
    build_s = time.perf_counter() - t0
    res = solve(model.problem, solver=cfg.name, time_limit_s=cfg.time_limit_s, mip_gap=cfg.mip_gap)
    if res.status in ("infeasible", "unbounded"):
        raise diagnose_capacity(inputs, settings, solver=cfg.name, time_limit_s=cfg.time_limit_s)
    if not res.ok:
        raise InputError(
            f"the solver stopped ({res.termination}) after {res.runtime_s:.0f} s without a plan",
            column="solver.time_limit_s", fix="raise solver.time_limit_s or use fewer representative hours",
        )
    plan = extract_plan(model, name=name, meta={"solve": res.as_dict(), "representative_hours": model.n_bins})
    assert model.expected_total is not None
    model_usd = float(pulp.value(model.expected_total)) * inputs.n_hours
    return plan, res, build_s, model_usd, model


def lp_relaxation_bound(inputs: CapacityInputs, settings: CapacitySettings, cfg: SolverConfig) -> float:
    """Optimum of the capacity model with fractional reservations (the LP relaxation) [USD over the horizon].

    A lower bound on the whole-instance MILP's objective: every whole-instance plan is feasible in it.
    """
    model = build_capacity(inputs, with_settings(settings, whole_instances=False, reserved_step_gpus=None),
                           name="lp_relaxation")
    res = solve(model.problem, solver=cfg.name, time_limit_s=cfg.time_limit_s, mip_gap=cfg.mip_gap)
    return float(res.objective) * inputs.n_hours if res.ok else math.nan


def optimize_capacity(
    paths: pd.DataFrame | CapacityInputs,
    scenario: Scenario,
    history: pd.DataFrame | None = None,
    spot: pd.DataFrame | None = None,
    settings: CapacitySettings | None = None,
    solver: str | None = None,
    hindsight: bool = True,
    mapper: Mapper | None = None,
    progress: bool = False,
    name: str = "recommended",
) -> CapacityResult:
    """Recommend reservations and commitments for the forecast's sample paths.

    Parameters
    ----------
    paths
        Family-level sample paths ``series_id, timestamp, sample_id, gpus`` (UTC) [GPUs], or inputs built
        from them with :func:`optimizer.inputs.capacity_inputs`.
    scenario
        Offers, prices, policies and solver settings.
    history
        Hourly usage history ``series_id, timestamp, gpus`` for the trailing-30-day baseline; None skips it.
    spot
        Optional hourly spot table ``family, timestamp, usd_per_gpu_hour[, available_gpus]``.
    settings
        Model settings (representative hours, periods, risk overrides); default :class:`CapacitySettings`.
    solver
        ``highs`` or ``cbc``; default ``scenario.solver.name``.
    hindsight
        Compute the perfect-hindsight baseline (one small solve per path).
    mapper
        Runs the per-path hindsight solves (default: serially in this process).
    progress
        Show a progress bar for the hindsight solves.
    name
        Name of the recommended plan.

    Returns
    -------
    CapacityResult

    Raises
    ------
    InfeasibleError
        When the policies cannot all hold; the message names the policy and the number that would work.
    InputError
        Malformed paths or history; a solver stop without a plan.
    """
    inputs = paths if isinstance(paths, CapacityInputs) else capacity_inputs(paths, scenario, spot=spot)
    st = settings or CapacitySettings()
    cfg = solver_config(scenario, solver)
    log.info("capacity model: %d families x %d paths x %d hours", len(inputs.families), inputs.n_paths,
             inputs.n_hours)
    plan, res, build_s, model_usd, model = _solve_checked(inputs, st, cfg, name)
    notes = list(inputs.notes)
    objective_usd = float(res.objective) * inputs.n_hours
    lp_bound = lp_relaxation_bound(inputs, st, cfg) if model.is_mip else math.nan
    binding = binding_constraints(model)
    if model.is_mip:
        by_family = {inputs.reserved[o].family: g for o, g in sorted(model.step_gpus.items())}
        sizes = ", ".join(f"{f} {g:g}" for f, g in by_family.items())
        notes.append(f"reservations in whole instances (GPUs per instance: {sizes}); the LP relaxation "
                     f"(fractional GPUs) bounds the objective at {lp_bound:,.0f} USD against "
                     f"{objective_usd:,.0f} USD for whole instances "
                     f"(gap {100 * (objective_usd - lp_bound) / abs(lp_bound) if lp_bound else math.nan:.3f} %)")
    for b in binding:
        notes.append(f"binding: {b['policy']} ({b['what']}; limit {b['rhs']:,.4g})")
    ev = evaluate(plan, inputs)
    od_ev = evaluate(all_on_demand(), inputs)
    pol = inputs.policies
    od_yearly = float(od_ev.spend_usd.mean()) * HOURS_PER_YEAR / inputs.n_hours
    if (ev.total_usd.mean() > od_ev.total_usd.mean() * (1 + 1e-9) and (plan.reserved or plan.committed)
            and pol.coverage_target is None and model.risk_weight == 0
            and (pol.budget_usd_per_year is None or od_yearly <= pol.budget_usd_per_year)):
        notes.append("the plan found on representative hours cost more than buying nothing on the full hours; "
                     "kept buying nothing")
        plan = CapacityPlan(name=name, notes=plan.notes, meta=plan.meta)
        ev = od_ev
    baselines: dict[str, np.ndarray] = {"all-on-demand": od_ev.total_usd}
    bplans: dict[str, CapacityPlan] = {"all-on-demand": all_on_demand()}
    if history is not None:
        tr = trailing_history_plan(history, inputs, solver=cfg)
        baselines[tr.name] = evaluate(tr, inputs).total_usd
        bplans[tr.name] = tr
        notes.append(tr.notes)
    if hindsight:
        mp = mapper or SerialMapper(progress=progress)
        hs = perfect_hindsight(inputs, candidates=(plan, *bplans.values()), solver=cfg, mapper=mp)
        baselines["perfect-hindsight"] = hs["hindsight_usd"].to_numpy()
        notes.append("perfect hindsight: per path, the cheapest of the plan optimised on that path alone and the "
                     "plans above, with no policies (a lower bound on any plan's cost)")
    alpha = float(pol.risk.alpha)
    plan = CapacityPlan(name=plan.name, reserved=plan.reserved, committed=plan.committed,
                        notes=f"optimised on {inputs.n_paths} sample paths x {inputs.n_hours} h "
                              f"({model.n_bins} representative hours), solver {res.solver} ({res.termination})",
                        meta={**plan.meta, "expected_cost_usd": float(ev.total_usd.mean()),
                              "all_on_demand_usd": float(od_ev.total_usd.mean()),
                              "objective_usd": objective_usd,
                              "lp_bound_usd": lp_bound if math.isfinite(lp_bound) else None,
                              "integrality_gap_pct": (100.0 * (objective_usd - lp_bound) / abs(lp_bound)
                                                      if math.isfinite(lp_bound) and lp_bound else None),
                              "binding_constraints": binding})
    return CapacityResult(
        plan=plan, solve=res, inputs=inputs, evaluation=ev, baselines=baselines, baseline_plans=bplans,
        model_expected_usd=model_usd, build_s=build_s, n_variables=model.n_variables,
        n_constraints=model.n_constraints, n_bins=model.n_bins, alpha=alpha, notes=notes,
        lp_bound_usd=lp_bound, objective_usd=objective_usd, binding=binding,
    )


def recommend_capacity(
    paths: pd.DataFrame | CapacityInputs,
    scenario: Scenario,
    history: pd.DataFrame | None = None,
    spot: pd.DataFrame | None = None,
    settings: CapacitySettings | None = None,
    solver: str | None = None,
    hindsight: bool = True,
    mapper: Mapper | None = None,
    progress: bool = False,
    ladder_period_hours: int | None = None,
) -> CapacityResult:
    """The recommendation: buy everything at the start, or a laddered plan when that is cheaper.

    Runs :func:`optimize_capacity` once with purchases at hour 0 only and, when ``ladder_period_hours`` is
    set and the horizon holds at least two periods, once more with purchases allowed at every period start
    (a purchase calendar).  The laddered plan is the recommendation when its expected cost, evaluated
    exactly on every hour of every path, is lower; the other figure is kept in the notes.  Both
    ``gpuplan plan`` and ``gpuplan optimize capacity`` call this, so they recommend the same purchases.

    Parameters
    ----------
    paths, scenario, history, spot, settings, solver, hindsight, mapper, progress
        As for :func:`optimize_capacity`.
    ladder_period_hours
        Period between purchase dates [h] (2,190 = quarterly); None = buy at the start only.

    Returns
    -------
    CapacityResult
        ``laddered`` tells which plan was chosen; ``buy_at_start_usd`` / ``laddered_usd`` the two expected
        costs [USD over the horizon].
    """
    inputs = paths if isinstance(paths, CapacityInputs) else capacity_inputs(paths, scenario, spot=spot)
    one = optimize_capacity(inputs, scenario, history=history, settings=settings, solver=solver,
                            hindsight=hindsight, mapper=mapper, progress=progress)
    one.buy_at_start_usd = float(one.evaluation.total_usd.mean())
    if ladder_period_hours is None or inputs.n_hours < 2 * int(ladder_period_hours):
        return one
    st = with_settings(settings, period_hours=int(ladder_period_hours))
    lad = optimize_capacity(inputs, scenario, history=history, settings=st, solver=solver, hindsight=False,
                            mapper=mapper, progress=progress)
    lad_usd = float(lad.evaluation.total_usd.mean())
    one.laddered_usd = lad_usd
    if lad_usd >= one.buy_at_start_usd * (1.0 - 1e-6):
        one.notes.append(f"laddered plan (purchases every {ladder_period_hours:,} h) costs {lad_usd:,.0f} USD, "
                         f"not less than buying at the start ({one.buy_at_start_usd:,.0f} USD): buy at the start")
        return one
    lad.buy_at_start_usd, lad.laddered_usd, lad.laddered = one.buy_at_start_usd, lad_usd, True
    if "perfect-hindsight" in one.baselines:  # the lower bound per path, with the laddered plan as a candidate
        lad.baselines["perfect-hindsight"] = np.minimum(one.baselines["perfect-hindsight"], lad.evaluation.total_usd)
    lad.notes.append(f"recommendation is the laddered plan (purchases every {ladder_period_hours:,} h): expected "
                     f"cost {lad_usd:,.0f} USD against {one.buy_at_start_usd:,.0f} USD buying everything at the "
                     "start")
    return lad


def _frontier_item(item: tuple[CapacityInputs, CapacitySettings, SolverConfig, float, float]) -> dict[str, Any]:
    inputs, settings, cfg, weight, alpha = item
    plan, res = solve_plan(inputs, settings, cfg, name=f"cvar-weight-{weight:g}")
    if not res.ok:
        return {"risk_weight": weight, "status": res.status}
    tot = evaluate(plan, inputs).total_usd
    return {
        "risk_weight": weight, "alpha": alpha, "status": res.status,
        "expected_cost_usd": float(tot.mean()), "cvar_usd": cvar(tot, alpha),
        "p95_usd": float(np.quantile(tot, 0.95)),
        "reserved_gpus": float(sum(p.gpus for p in plan.reserved if p.start_hour == 0)),
        "committed_usd_per_hour": float(sum(c.usd_per_hour for c in plan.committed if c.start_hour == 0)),
        "commitment_gpu_equivalents": commitment_gpu_equivalents(plan, inputs),
        "plan_json": plan.to_json(),
    }


def efficient_frontier(
    inputs: CapacityInputs,
    weights: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
    alpha: float | None = None,
    settings: CapacitySettings | None = None,
    solver: SolverConfig | None = None,
    mapper: Mapper | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Expected cost against CVaR of cost as the weight on CVaR grows (each point an optimal plan).

    Parameters
    ----------
    inputs
        Demand paths and prices.
    weights
        CVaR weights ``lambda`` in ``E[cost] + lambda CVaR_alpha[cost]``.
    alpha
        CVaR level; default ``policies.risk.alpha``.
    settings
        Model settings; the frontier bins each path separately.
    solver, mapper
        Solver settings; runs the solves (default serially).
    progress
        Progress bar for the default serial mapper.

    Returns
    -------
    pandas.DataFrame
        ``risk_weight, alpha, status, expected_cost_usd, cvar_usd, p95_usd, reserved_gpus,
        committed_usd_per_hour, commitment_gpu_equivalents, plan_json``, one row per weight; both costs
        evaluated exactly on every hour of every path [USD over the horizon].
    """
    a = float(alpha if alpha is not None else inputs.policies.risk.alpha)
    items = [(inputs, with_settings(settings, risk_weight=float(w), alpha=a, per_path=True),
              solver or SolverConfig(), float(w), a) for w in weights]
    return pd.DataFrame((mapper or SerialMapper(progress)).map(_frontier_item, items, desc="efficient frontier"))


@dataclass(eq=False)
class LadderResult:
    """A laddered plan: tranches bought at period starts, each expiring after its term."""

    plan: CapacityPlan
    solve: SolveResult
    tranches: pd.DataFrame
    capacity: pd.DataFrame
    expected_cost_usd: float
    all_on_demand_usd: float


def laddered_plan(
    inputs: CapacityInputs,
    period_hours: int = 2190,
    settings: CapacitySettings | None = None,
    solver: SolverConfig | None = None,
    name: str = "laddered",
) -> LadderResult:
    """Buy in tranches at period starts (default quarterly) so capacity follows a growing forecast.

    Each tranche lasts its term from its own start, so expiries are staggered; costs are amortised per
    hour within the horizon.

    Parameters
    ----------
    inputs
        Demand paths and prices (a growing forecast makes the ladder step up).
    period_hours
        Period between purchase dates [h]; must divide 8,760 (730 monthly, 2,190 quarterly).
    settings, solver
        Model and solver settings.
    name
        Plan name.

    Returns
    -------
    LadderResult
        The plan, its tranches (start, expiry, quantity) and the capacity active in each period.
    """
    st = with_settings(settings, period_hours=period_hours)
    cfg = solver or SolverConfig()
    plan, res, _, _, model = _solve_checked(inputs, st, cfg, name)
    ts0 = inputs.timestamps[0]
    tr = plan.to_frame()
    if not tr.empty:
        tr["starts"] = [ts0 + pd.Timedelta(hours=int(h)) for h in tr["start_hour"]]
        tr["expires"] = [ts0 + pd.Timedelta(hours=int(h + t * HOURS_PER_YEAR))
                         for h, t in zip(tr["start_hour"], tr["term_years"], strict=True)]
    rows = []
    rate = inputs.mean_commit_rate()
    for q, start in enumerate(model.period_starts):
        reserved = sum(p.gpus for p in plan.reserved if p.start_hour <= start < p.start_hour + p.term_years * 8760)
        com = sum(c.usd_per_hour for c in plan.committed if c.start_hour <= start < c.start_hour + c.term_years * 8760)
        com_gpu = sum(c.usd_per_hour / rate[inputs.terms.index(c.term_years)] for c in plan.committed
                      if c.start_hour <= start < c.start_hour + c.term_years * 8760)
        end = model.period_starts[q + 1] if q + 1 < len(model.period_starts) else inputs.n_hours
        rows.append({"period": q, "starts": ts0 + pd.Timedelta(hours=int(start)), "reserved_gpus": reserved,
                     "committed_usd_per_hour": com, "commitment_gpu_equivalents": reserved + com_gpu,
                     "mean_demand_gpus": float(inputs.demand[:, :, start:end].sum(axis=0).mean())})
    ev = evaluate(plan, inputs)
    od = evaluate(all_on_demand(), inputs)
    return LadderResult(plan=plan, solve=res, tranches=tr, capacity=pd.DataFrame(rows),
                        expected_cost_usd=float(ev.total_usd.mean()), all_on_demand_usd=float(od.total_usd.mean()))
