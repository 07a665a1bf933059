"""The commitment portfolio as a two-stage stochastic LP: build, solve, extract.

First stage (decided now, the same on every path): reserved GPUs per family x term x payment option, and
savings-plan style committed spend per term [USD/h] that covers usage of any family ``f`` at
``od_f (1 - d_f,term)`` dollars of commitment per GPU-hour.  With ``period_hours`` set, purchases may also
start at later period boundaries (a laddered plan); each lasts its term.

Second stage, per sample path and hour (or per representative hour, see :mod:`optimizer.reduce`):
demand is served by reservations, commitment, spot (at most the preemptible share of demand and the useful
spot GPUs available, priced with the expected interruption overhead), on-demand (up to the quota) and,
when the scenario allows it, unmet demand at a penalty.

Objective: expected cost per hour [USD/h] (reservations and commitments amortised per hour, whether used
or not) plus, when ``policies.risk.measure = "cvar"`` with a positive weight, ``weight x CVaR_alpha`` of
the per-path cost (Rockafellar-Uryasev).  Constraints from ``policies``: yearly budget on expected spend,
``max_commitment_share`` and ``min_on_demand_headroom`` (on GPU-equivalents: reserved GPUs plus committed
spend divided by the demand-weighted commitment rate), ``coverage_target`` (expected share of demand
GPU-hours served by reservations or commitments) and ``risk.max_expected_idle_share`` (enforced per pool:
each family's reservations and each commitment term must be used at least ``1 - share`` in expectation,
which implies the same cap on the total).

``build_capacity`` is pure (no solve); :func:`optimizer.solvers.solve` solves; :func:`extract_plan` reads the
purchases back as a :class:`scenarios.plan.CapacityPlan`.  Variables carry deterministic names from the
data's keys and exist only where valid (a family's use of a term it has no discount for is never created).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pulp

from optimizer.inputs import CapacityInputs
from optimizer.reduce import bin_hours
from optimizer.solvers import linear
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from scenarios.schema import HOURS_PER_YEAR

#: Default total number of representative hours (split across paths when CVaR needs per-path costs).
DEFAULT_MAX_BINS = 1200
#: Smallest number of representative hours per path when binning path by path.
MIN_BINS_PER_PATH = 48
_EPS = 1e-9


@dataclass(frozen=True)
class CapacitySettings:
    """How the capacity model is built.

    Attributes
    ----------
    max_bins
        Total representative hours; None keeps every hour of every path (the full hourly model).
    per_path
        Bin each path separately (needed for CVaR); None = only when the CVaR term is active.
    period_hours
        Purchase periods for a laddered plan [h]; must divide 8,760. None = buy at hour 0 only.
    use_policies
        Apply the scenario's budget, caps, coverage target and idle cap.
    risk_weight, alpha
        Override ``policies.risk.weight`` / ``alpha`` (the efficient frontier sweeps the weight).
    reserved_step_gpus
        Buy reservations in whole steps of this many GPUs for every family: a MILP. None = see
        ``whole_instances``.
    whole_instances
        Buy reservations in whole instances of each family whose GPUs per instance are known
        (:attr:`CapacityInputs.gpus_per_instance`, e.g. 8 for p4d.24xlarge): a MILP.  False = fractional GPUs
        (the LP relaxation, whose optimum bounds the MILP's from below).
    """

    max_bins: int | None = DEFAULT_MAX_BINS
    per_path: bool | None = None
    period_hours: int | None = None
    use_policies: bool = True
    risk_weight: float | None = None
    alpha: float | None = None
    reserved_step_gpus: float | None = None
    whole_instances: bool = True


@dataclass(eq=False)
class CapacityModel:
    """A built (unsolved) capacity model and the maps from data keys to its variables."""

    problem: pulp.LpProblem
    inputs: CapacityInputs
    settings: CapacitySettings
    period_starts: tuple[int, ...]
    reserve: dict[tuple[int, int], pulp.LpAffineExpression] = field(default_factory=dict)
    commit: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    expected_spend: pulp.LpAffineExpression | None = None
    expected_total: pulp.LpAffineExpression | None = None
    coverage: pulp.LpAffineExpression | None = None
    n_bins: int = 0
    n_rows_binned: int = 0
    risk_weight: float = 0.0
    alpha: float = 0.95
    constraint_groups: dict[str, list[str]] = field(default_factory=dict)
    step_gpus: dict[int, float] = field(default_factory=dict)

    @property
    def is_mip(self) -> bool:
        """True when some reservation is bought in whole steps (instances)."""
        return bool(self.step_gpus)

    @property
    def n_variables(self) -> int:
        """Variables in the model."""
        return int(self.problem.numVariables())

    @property
    def n_constraints(self) -> int:
        """Constraints in the model."""
        return int(self.problem.numConstraints())


def _period_starts(h_n: int, period_hours: int | None) -> list[int]:
    if period_hours is None:
        return [0]
    if period_hours <= 0 or int(HOURS_PER_YEAR) % int(period_hours):
        raise ValueError("period_hours must divide 8760 (e.g. 730, 2190, 4380)")
    return list(range(0, h_n, int(period_hours)))


def _active(p_start: int, term_years: int, q_start: int) -> bool:
    return p_start <= q_start < p_start + term_years * HOURS_PER_YEAR


@dataclass(frozen=True)
class _BinSet:
    period: np.ndarray   # (B,)
    group: np.ndarray    # (B,) path index, or -1 when pooled
    weight: np.ndarray   # (B,) share of all path-hours
    demand: np.ndarray   # (B, F)
    spot_cost: np.ndarray  # (B, F) per useful GPU-hour
    spot_cap: np.ndarray   # (B, F) useful GPUs


def _make_bins(inputs: CapacityInputs, starts: list[int], max_bins: int | None, per_path: bool) -> _BinSet:
    d = inputs.demand
    f_n, s_n, h_n = d.shape
    cost = np.where(np.isfinite(inputs.spot_cost), inputs.spot_cost, 0.0)
    cap = inputs.spot_useful_cap
    vary_cost = [f for f in range(f_n) if np.ptp(cost[f]) > 0 and cap[f].max() > 0]
    vary_cap = [f for f in range(f_n) if np.ptp(cap[f]) > 0]
    bounds = [*starts, h_n]
    groups = list(range(s_n)) if per_path else [-1]
    n_cells = len(groups) * len(starts)
    per_cell = None if max_bins is None else max(MIN_BINS_PER_PATH if per_path else 1, max_bins // n_cells)
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("period", "group", "weight", "demand", "cost", "cap")}
    total = s_n * h_n
    for q, (a, b) in enumerate(itertools.pairwise(bounds)):
        hrs = np.arange(a, b)
        for g in groups:
            if g >= 0:
                dem = d[:, g, a:b].T  # (h, F)
                hidx = hrs
            else:
                dem = d[:, :, a:b].reshape(f_n, -1).T  # (S*h, F), path-major
                hidx = np.tile(hrs, s_n)
            cols = [dem]
            scale = [inputs.on_demand]
            if vary_cost:
                cols.append(cost[vary_cost][:, hidx].T)
                scale.append(np.array([max(cap[f].mean(), 1e-9) for f in vary_cost]))
            if vary_cap:
                cols.append(cap[vary_cap][:, hidx].T)
                scale.append(np.array([max(inputs.on_demand[f] - cost[f].mean(), 1e-9) for f in vary_cap]))
            x = np.hstack(cols)
            bins = bin_hours(x, per_cell, scale=np.concatenate(scale))
            nb = bins.n_bins
            # exact per-bin means of spot cost and cap, also for families whose values are constant
            cnt = bins.counts.astype(float)
            mean_cost = np.stack(
                [np.bincount(bins.labels, weights=cost[f][hidx], minlength=nb) / cnt for f in range(f_n)], axis=1)
            mean_cap = np.stack(
                [np.bincount(bins.labels, weights=cap[f][hidx], minlength=nb) / cnt for f in range(f_n)], axis=1)
            out["period"].append(np.full(nb, q))
            out["group"].append(np.full(nb, g))
            out["weight"].append(cnt / total)
            out["demand"].append(bins.centers[:, :f_n])
            out["cost"].append(mean_cost)
            out["cap"].append(mean_cap)
    return _BinSet(
        period=np.concatenate(out["period"]), group=np.concatenate(out["group"]),
        weight=np.concatenate(out["weight"]), demand=np.concatenate(out["demand"]),
        spot_cost=np.concatenate(out["cost"]), spot_cap=np.concatenate(out["cap"]),
    )


def _lin(pairs: list[tuple[Any, float]], const: float = 0.0) -> pulp.LpAffineExpression:
    return linear(pairs, const)


def build_capacity(inputs: CapacityInputs, settings: CapacitySettings | None = None,
                   name: str = "capacity") -> CapacityModel:
    """Build the capacity LP (pure: no solve, no I/O).

    Parameters
    ----------
    inputs
        Demand paths, offers and prices from :func:`optimizer.inputs.capacity_inputs`.
    settings
        Reduction, periods, policies and risk overrides; default :class:`CapacitySettings`.
    name
        Problem name (appears in LP files).

    Returns
    -------
    CapacityModel
        The PuLP problem (objective in expected USD per hour) and the variable maps.
    """
    st = settings or CapacitySettings()
    pol = inputs.policies
    risk_on = pol.risk.measure == "cvar"
    weight = float(st.risk_weight if st.risk_weight is not None else (pol.risk.weight if risk_on else 0.0))
    alpha = float(st.alpha if st.alpha is not None else pol.risk.alpha)
    per_path = st.per_path if st.per_path is not None else weight > 0
    f_n, s_n, h_n = inputs.demand.shape
    fams = inputs.families
    starts = _period_starts(h_n, st.period_hours)
    bounds = [*starts, h_n]
    share_q = np.array([(b - a) / h_n for a, b in itertools.pairwise(bounds)])
    bs = _make_bins(inputs, starts, st.max_bins, per_path)
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    model = CapacityModel(problem=prob, inputs=inputs, settings=st, period_starts=tuple(starts),
                          n_bins=int(bs.weight.size), n_rows_binned=int(s_n * h_n), risk_weight=weight, alpha=alpha)
    groups: dict[str, list[str]] = {k: [] for k in ("budget", "coverage", "share", "headroom", "idle")}

    # -- first stage ----------------------------------------------------------------------------
    for o, off in enumerate(inputs.reserved):
        step = (float(st.reserved_step_gpus) if st.reserved_step_gpus
                else inputs.instance_size(off.family_index) if st.whole_instances else None)
        if step:
            model.step_gpus[o] = step
        for p in range(len(starts)):
            vname = f"{off.key}_p{p}"
            if step:
                n = prob.add_variable(f"{vname}_instances", lowBound=0, cat=pulp.LpInteger)
                model.reserve[(o, p)] = _lin([(n, step)])
            else:
                model.reserve[(o, p)] = _lin([(prob.add_variable(vname, lowBound=0), 1.0)])
    for k, term in enumerate(inputs.terms):
        for p in range(len(starts)):
            model.commit[(k, p)] = prob.add_variable(f"commit_{term}y_p{p}", lowBound=0)

    def res_cap(f: int, q: int) -> pulp.LpAffineExpression:
        e = pulp.LpAffineExpression()
        for o, off in enumerate(inputs.reserved):
            if off.family_index != f:
                continue
            for p, ps in enumerate(starts):
                if _active(ps, off.term_years, starts[q]):
                    e += model.reserve[(o, p)]
        return e

    def com_cap(k: int, q: int) -> pulp.LpAffineExpression:
        e = pulp.LpAffineExpression()
        for p, ps in enumerate(starts):
            if _active(ps, inputs.terms[k], starts[q]):
                e += model.commit[(k, p)]
        return e

    first_cost = []  # per period: hourly cost of purchases active in it
    for q in range(len(starts)):
        e = pulp.LpAffineExpression()
        for o, off in enumerate(inputs.reserved):
            for p, ps in enumerate(starts):
                if _active(ps, off.term_years, starts[q]):
                    e += off.usd_per_gpu_hour * model.reserve[(o, p)]
        for k in range(len(inputs.terms)):
            e += com_cap(k, q)
        first_cost.append(e)
    first_expected = pulp.lpSum(float(share_q[q]) * first_cost[q] for q in range(len(starts)))

    rcap = {(f, q): res_cap(f, q) for f in range(f_n) for q in range(len(starts))}
    ccap = {(k, q): com_cap(k, q) for k in range(len(inputs.terms)) for q in range(len(starts))}
    has_res = [any(o.family_index == f for o in inputs.reserved) for f in range(f_n)]

    # -- second stage ---------------------------------------------------------------------------
    spend_terms: list[tuple[Any, float]] = []
    pen_terms: list[tuple[Any, float]] = []
    cover_terms: list[tuple[Any, float]] = []
    path_cost: dict[int, list[tuple[Any, float]]] = {}
    res_use_w: dict[tuple[int, int], list[tuple[Any, float]]] = {}
    com_use_w: dict[tuple[int, int], list[tuple[Any, float]]] = {}
    pen = float(pol.unmet_penalty_usd_per_gpu_hour)
    phi = inputs.preemptible_share
    demand_expected = 0.0
    for b in range(bs.weight.size):
        w = float(bs.weight[b])
        q = int(bs.period[b])
        g = int(bs.group[b])
        pc = path_cost.setdefault(g, [])
        com_rows: dict[int, list[tuple[Any, float]]] = {}
        for f in range(f_n):
            dem = float(bs.demand[b, f])
            if dem <= _EPS:
                continue
            demand_expected += w * dem
            fam = fams[f]
            bal: list[tuple[Any, float]] = []
            if has_res[f]:
                u = prob.add_variable(f"res_use_{fam}_b{b}", lowBound=0)
                bal.append((u, 1.0))
                cover_terms.append((u, w))
                res_use_w.setdefault((f, q), []).append((u, w))
                prob.addConstraint(pulp.LpConstraint(_lin([(u, 1.0)]) - rcap[(f, q)], pulp.LpConstraintLE, rhs=0.0),
                                   name=f"res_cap_{fam}_b{b}")
            for k, term in enumerate(inputs.terms):
                rate = inputs.commit_rate[k, f]
                if not np.isfinite(rate):
                    continue
                u = prob.add_variable(f"com_use_{term}y_{fam}_b{b}", lowBound=0)
                bal.append((u, 1.0))
                cover_terms.append((u, w))
                com_rows.setdefault(k, []).append((u, float(rate)))
                com_use_w.setdefault((k, q), []).append((u, w * float(rate)))
            cap = float(bs.spot_cap[b, f])
            if cap > _EPS and phi > 0:
                ub = min(cap, phi * dem)
                u = prob.add_variable(f"spot_{fam}_b{b}", lowBound=0, upBound=ub)
                bal.append((u, 1.0))
                c = float(bs.spot_cost[b, f])
                spend_terms.append((u, w * c))
                pc.append((u, w * c))
            quota = float(inputs.on_demand_quota[f])
            u = prob.add_variable(f"od_{fam}_b{b}", lowBound=0, upBound=None if math.isinf(quota) else quota)
            bal.append((u, 1.0))
            spend_terms.append((u, w * float(inputs.on_demand[f])))
            pc.append((u, w * float(inputs.on_demand[f])))
            if pol.allow_unmet_demand:
                u = prob.add_variable(f"unmet_{fam}_b{b}", lowBound=0)
                bal.append((u, 1.0))
                pen_terms.append((u, w * pen))
                pc.append((u, w * pen))
            prob.addConstraint(pulp.LpConstraint(_lin(bal), pulp.LpConstraintEQ, rhs=dem), name=f"balance_{fam}_b{b}")
        for k, row in com_rows.items():
            prob.addConstraint(pulp.LpConstraint(_lin(row) - ccap[(k, q)], pulp.LpConstraintLE, rhs=0.0),
                               name=f"com_cap_{inputs.terms[k]}y_b{b}")

    spend = first_expected + _lin(spend_terms)
    total = spend + _lin(pen_terms)
    model.expected_spend = spend
    model.expected_total = total
    model.coverage = _lin(cover_terms)
    objective = total
    if weight > 0:
        eta = prob.add_variable("cvar_eta")
        zs = []
        for g, terms in sorted(path_cost.items()):
            z = prob.add_variable(f"cvar_excess_s{g}", lowBound=0)
            zs.append(z)
            # per-path cost = first stage + S x (this path's weighted recourse)
            scaled = _lin([(v, c * s_n) for v, c in terms])
            prob.addConstraint(pulp.LpConstraint(first_expected + scaled - eta - z, pulp.LpConstraintLE, rhs=0.0),
                               name=f"cvar_s{g}")
        cvar = eta + pulp.lpSum(zs) * (1.0 / ((1.0 - alpha) * len(zs)))
        objective = total + weight * cvar
    prob.setObjective(objective)

    # -- policies ---------------------------------------------------------------------------------
    if st.use_policies:
        mean_rate = inputs.mean_commit_rate()
        tot = inputs.demand.sum(axis=0)  # (S, H)
        for q, (a, b) in enumerate(itertools.pairwise(bounds)):
            gpu_eq = pulp.lpSum(rcap[(f, q)] for f in range(f_n)) + pulp.lpSum(
                ccap[(k, q)] * (1.0 / mean_rate[k]) for k in range(len(inputs.terms)) if mean_rate[k] > 0)
            mean_q = float(tot[:, a:b].mean())
            if pol.max_commitment_share is not None:
                nm = f"max_commitment_share_p{q}"
                prob.addConstraint(pulp.LpConstraint(gpu_eq, pulp.LpConstraintLE,
                                                     rhs=float(pol.max_commitment_share) * mean_q), name=nm)
                groups["share"].append(nm)
            if pol.min_on_demand_headroom > 0:
                peak_q = float(tot[:, a:b].mean(axis=0).max())
                nm = f"on_demand_headroom_p{q}"
                prob.addConstraint(pulp.LpConstraint(gpu_eq, pulp.LpConstraintLE,
                                                     rhs=(1.0 - pol.min_on_demand_headroom) * peak_q), name=nm)
                groups["headroom"].append(nm)
            idle = pol.risk.max_expected_idle_share
            if idle is not None:
                for f in range(f_n):
                    if not has_res[f]:
                        continue
                    used = _lin(res_use_w.get((f, q), []))
                    nm = f"idle_cap_{fams[f]}_p{q}"
                    prob.addConstraint(pulp.LpConstraint(
                        used - (1.0 - idle) * float(share_q[q]) * rcap[(f, q)], pulp.LpConstraintGE, rhs=0.0), name=nm)
                    groups["idle"].append(nm)
                for k, term in enumerate(inputs.terms):
                    used = _lin(com_use_w.get((k, q), []))
                    nm = f"idle_cap_{term}y_p{q}"
                    prob.addConstraint(pulp.LpConstraint(
                        used - (1.0 - idle) * float(share_q[q]) * ccap[(k, q)], pulp.LpConstraintGE, rhs=0.0), name=nm)
                    groups["idle"].append(nm)
        if pol.budget_usd_per_year is not None:
            nm = "budget"
            prob.addConstraint(pulp.LpConstraint(spend * HOURS_PER_YEAR, pulp.LpConstraintLE,
                                                 rhs=float(pol.budget_usd_per_year)), name=nm)
            groups["budget"].append(nm)
        if pol.coverage_target is not None:
            nm = "coverage_target"
            prob.addConstraint(pulp.LpConstraint(model.coverage, pulp.LpConstraintGE,
                                                 rhs=float(pol.coverage_target) * demand_expected), name=nm)
            groups["coverage"].append(nm)
    model.constraint_groups = groups
    return model


#: What each constraint group means, in a planner's words (``{value}`` = the policy's value).
_GROUP_TEXT: dict[str, tuple[str, str]] = {
    "budget": ("policies.budget_usd_per_year", "expected spend reaches the yearly budget"),
    "share": ("policies.max_commitment_share", "reserved + committed GPU-equivalents reach the cap on mean demand"),
    "headroom": ("policies.min_on_demand_headroom", "the share of peak demand kept uncommitted is at its minimum"),
    "coverage": ("policies.coverage_target", "expected coverage is held at the target"),
    "idle": ("policies.risk.max_expected_idle_share", "expected idle commitment is at the cap"),
}


def binding_constraints(model: CapacityModel, rel_tol: float = 1e-6) -> list[dict[str, Any]]:
    """Policy constraints and on-demand quotas that hold with equality in the solved model.

    Parameters
    ----------
    model
        A solved :class:`CapacityModel`.
    rel_tol
        A constraint binds when its slack is at most ``rel_tol x (1 + |rhs|)``.

    Returns
    -------
    list of dict
        ``constraint`` (model name), ``policy`` (scenario key), ``what`` (in words), ``rhs`` (the limit, in
        the constraint's unit: GPU-equivalents, USD/year or expected GPU-hours per hour).
    """
    out: list[dict[str, Any]] = []
    for group, names in model.constraint_groups.items():
        policy, what = _GROUP_TEXT[group]
        for nm in names:
            c = model.problem.get_constraint_by_name(nm)
            if c is None:
                continue
            rhs = -float(c.constant)
            val = c.value()
            if val is None:
                continue
            if abs(float(val)) <= rel_tol * (1.0 + abs(rhs)):
                out.append({"constraint": nm, "policy": policy, "what": what, "rhs": rhs})
    inp = model.inputs
    for f, fam in enumerate(inp.families):
        q = float(inp.on_demand_quota[f])
        if not math.isfinite(q):
            continue
        hits = [v for v in model.problem.variables() if v.name.startswith(f"od_{fam}_b")
                and v.value() is not None and float(v.value()) >= q - rel_tol * (1.0 + q)]
        if hits:
            out.append({"constraint": f"on_demand_quota_{fam}", "policy": f"catalog.{fam}.on_demand_quota_gpus",
                        "what": f"on-demand {fam} is at its quota in {len(hits)} representative hours", "rhs": q})
    return out


def extract_plan(model: CapacityModel, name: str = "recommended", notes: str = "",
                 meta: dict[str, Any] | None = None, tol: float = 1e-6) -> CapacityPlan:
    """Read the solved first-stage decisions as a :class:`CapacityPlan` (values below ``tol`` dropped).

    Parameters
    ----------
    model
        A solved :class:`CapacityModel`.
    name, notes, meta
        Stored on the plan.
    tol
        Purchases smaller than this are dropped [GPUs or USD/h].
    """
    inp = model.inputs
    reserved = []
    for (o, p), expr in sorted(model.reserve.items()):
        v = float(pulp.value(expr) or 0.0)
        if v > tol:
            off = inp.reserved[o]
            reserved.append(ReservedPurchase(
                family=off.family, term_years=off.term_years, payment=off.payment, gpus=round(v, 6),
                usd_per_gpu_hour=off.usd_per_gpu_hour, start_hour=int(model.period_starts[p])))
    committed = []
    for (k, p), var in sorted(model.commit.items()):
        v = float(var.value() or 0.0)
        if v > tol:
            committed.append(CommitmentPurchase(term_years=int(inp.terms[k]), usd_per_hour=round(v, 6),
                                                start_hour=int(model.period_starts[p])))
    return CapacityPlan(name=name, reserved=tuple(reserved), committed=tuple(committed), notes=notes,
                        meta=dict(meta or {}))


def with_settings(settings: CapacitySettings | None, **changes: Any) -> CapacitySettings:
    """``settings`` (or the defaults) with some fields changed."""
    return replace(settings or CapacitySettings(), **changes)
