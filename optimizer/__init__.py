"""The optimizer engine: commitment portfolios under forecast uncertainty, and carbon-aware schedules.

Capacity mix (a two-stage stochastic LP on forecast sample paths)::

    from optimizer import capacity_inputs, optimize_capacity
    result = optimize_capacity(paths, scenario, history=history)   # build -> solve -> extract -> cost
    result.plan                # scenarios.plan.CapacityPlan
    result.summary()           # expected cost, savings, CVaR, coverage, baselines

Step by step: :func:`capacity_inputs` -> :func:`build_capacity` -> :func:`solve` -> :func:`extract_plan`;
:func:`evaluate_plan` costs any plan on every hour of every path.

Training schedule (LP for preemptible jobs, MILP for one-piece jobs)::

    from optimizer import schedule_inputs, optimize_schedule
    res = optimize_schedule(schedule_inputs(jobs, carbon, price, scenario))
    res.schedule               # job_id, timestamp, gpus

The engine imports only :mod:`scenarios` and third-party libraries.
"""

from optimizer.analytics import (
    break_even_table,
    cost_curve,
    curve_break_even,
    cvar,
    min_three_year_discount,
    newsvendor,
    offer_curve,
    offer_keys,
    overcommit_cost,
    pair_curve,
    scale_plan,
    sensitivity_table,
)
from optimizer.baselines import SolverConfig, perfect_hindsight, trailing_history_plan
from optimizer.capacity import CapacityModel, CapacitySettings, build_capacity, extract_plan
from optimizer.evaluate import Evaluation, PairEvaluator, evaluate, evaluate_plan, evaluation_frame
from optimizer.inputs import CapacityInputs, capacity_inputs, spot_overhead
from optimizer.plots import plot_cost_curve, plot_frontier, plot_pareto
from optimizer.recommend import (
    CapacityResult,
    LadderResult,
    break_even_table_inputs,
    efficient_frontier,
    laddered_plan,
    optimize_capacity,
    recommend_capacity,
    solver_config,
)
from optimizer.reduce import bin_hours
from optimizer.schedule import (
    ScheduleModel,
    ScheduleResult,
    arrival_schedule,
    build_schedule,
    cost_schedule,
    extract_schedule,
    optimize_schedule,
    schedule_pareto,
)
from optimizer.schedule_inputs import ScheduleInputs, schedule_inputs
from optimizer.solvers import SolveResult, available_solvers, solve
from optimizer.term import TermCosting, purchase_calendar, renewal_comparison, term_costing

__all__ = [
    "CapacityInputs",
    "CapacityModel",
    "CapacityResult",
    "CapacitySettings",
    "Evaluation",
    "LadderResult",
    "PairEvaluator",
    "ScheduleInputs",
    "ScheduleModel",
    "ScheduleResult",
    "SolveResult",
    "SolverConfig",
    "TermCosting",
    "arrival_schedule",
    "available_solvers",
    "bin_hours",
    "break_even_table",
    "break_even_table_inputs",
    "build_capacity",
    "build_schedule",
    "capacity_inputs",
    "cost_curve",
    "cost_schedule",
    "curve_break_even",
    "cvar",
    "efficient_frontier",
    "evaluate",
    "evaluate_plan",
    "evaluation_frame",
    "extract_plan",
    "extract_schedule",
    "laddered_plan",
    "min_three_year_discount",
    "newsvendor",
    "offer_curve",
    "offer_keys",
    "optimize_capacity",
    "optimize_schedule",
    "overcommit_cost",
    "pair_curve",
    "perfect_hindsight",
    "plot_cost_curve",
    "plot_frontier",
    "plot_pareto",
    "purchase_calendar",
    "recommend_capacity",
    "renewal_comparison",
    "scale_plan",
    "schedule_inputs",
    "schedule_pareto",
    "sensitivity_table",
    "solve",
    "solver_config",
    "spot_overhead",
    "term_costing",
    "trailing_history_plan",
]
