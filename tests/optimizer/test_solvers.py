"""Solvers by name, statuses, gaps and the expression helper."""

from __future__ import annotations

import pulp
import pytest

from optimizer.solvers import available_solvers, linear, pick_solver, solve
from scenarios.errors import InputError


def _knapsack() -> pulp.LpProblem:
    p = pulp.LpProblem("knap", pulp.LpMaximize)
    vals, wts = [10, 13, 7, 8, 9], [5, 7, 3, 4, 5]
    xs = [p.add_variable(f"x{i}", 0, 1, cat=pulp.LpBinary) for i in range(5)]
    p.setObjective(linear(zip(xs, vals, strict=True)))
    p.addConstraint(pulp.LpConstraint(linear(zip(xs, wts, strict=True)), pulp.LpConstraintLE, rhs=12), name="w")
    return p


@pytest.mark.parametrize("name", ["highs", "cbc"])
def test_both_solvers_find_the_knapsack_optimum(name: str) -> None:
    # brute force: best subset of weight <= 12 is items 1, 2 (7 + 3... ) -> value by enumeration
    import itertools

    best = max(sum(v for v, k in zip([10, 13, 7, 8, 9], c, strict=True) if k)
               for c in itertools.product([0, 1], repeat=5)
               if sum(w for w, k in zip([5, 7, 3, 4, 5], c, strict=True) if k) <= 12)
    res = solve(_knapsack(), solver=name, mip_gap=0.0)
    assert res.status == "optimal" and res.solver == name
    assert res.objective == pytest.approx(best)
    assert res.runtime_s > 0


@pytest.mark.parametrize("name", ["highs", "cbc"])
def test_infeasible_models_report_infeasible(name: str) -> None:
    p = pulp.LpProblem("inf", pulp.LpMinimize)
    x = p.add_variable("x", 0, 1)
    p.setObjective(linear([(x, 1.0)]))
    p.addConstraint(pulp.LpConstraint(linear([(x, 1.0)]), pulp.LpConstraintGE, rhs=2), name="c")
    assert solve(p, solver=name).status == "infeasible"


def test_lp_gap_is_zero_and_objective_keeps_its_constant() -> None:
    p = pulp.LpProblem("lp", pulp.LpMinimize)
    x = p.add_variable("x", 0)
    p.setObjective(linear([(x, 2.0)], 100.0))
    p.addConstraint(pulp.LpConstraint(linear([(x, 1.0)]), pulp.LpConstraintGE, rhs=3), name="c")
    res = solve(p)
    assert res.objective == pytest.approx(106.0) and res.mip_gap == 0.0 and res.best_bound == pytest.approx(106.0)


def test_highs_mip_reports_its_bound_including_the_constant() -> None:
    p = pulp.LpProblem("mip", pulp.LpMinimize)
    x = p.add_variable("x", 0, 10, cat=pulp.LpInteger)
    p.setObjective(linear([(x, 3.0)], 100.0))
    p.addConstraint(pulp.LpConstraint(linear([(x, 1.0)]), pulp.LpConstraintGE, rhs=2.5), name="c")
    res = solve(p)
    assert res.objective == pytest.approx(109.0) and res.best_bound == pytest.approx(109.0)
    assert res.mip_gap == pytest.approx(0.0, abs=1e-9)


def test_linear_sums_repeated_variables() -> None:
    p = pulp.LpProblem("e")
    x = p.add_variable("x")
    assert linear([(x, 1.0), (x, 2.0)], 5.0).get(x) == 3.0


def test_solver_names_are_checked() -> None:
    assert available_solvers()[0] == "highs"
    assert pick_solver("CBC") == "cbc"
    with pytest.raises(InputError, match="unknown solver 'gurobi'"):
        pick_solver("gurobi")
