"""Solve a PuLP model with a solver chosen by name, and report what happened.

:func:`solve` runs a built :class:`pulp.LpProblem` with HiGHS (through PuLP's ``highspy`` interface, the
default) or CBC (shipped with PuLP, the fallback when HiGHS is not installed) and returns a
:class:`SolveResult` that carries the status, the solver's own termination reason, the objective, the
runtime and the MIP gap, in the manner of linopy's ``constants.py``.

PuLP maps a HiGHS time-limit stop to ``Optimal``; this module reads the solver's own model status instead,
so a time-limited run is reported as ``time_limit`` with the gap it reached.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulp

#: Solver names accepted by :func:`solve` -> PuLP solver class names (any of them makes the name available).
SOLVER_NAMES: dict[str, tuple[str, ...]] = {"highs": ("HiGHS",), "cbc": ("COIN_CMD", "PULP_CBC_CMD")}


@dataclass(frozen=True)
class SolveResult:
    """What a solve returned.

    Attributes
    ----------
    status
        ``optimal``, ``feasible`` (a solution within the time limit but not proven optimal),
        ``infeasible``, ``unbounded`` or ``not_solved``.
    termination
        The solver's own termination reason (e.g. HiGHS ``Optimal``, ``Time limit reached``).
    objective
        Objective value of the solution returned (NaN without one), in the model's units.
    runtime_s
        Wall-clock time of the solver call, including PuLP's hand-over to the solver [s].
    mip_gap
        Relative MIP gap reached [fraction]; 0 for a solved LP; NaN when the solver did not report it.
    solver
        Solver name used (``highs`` or ``cbc``).
    best_bound
        Best proven bound on the objective (NaN when not reported), in the model's units.
    """

    status: str
    termination: str
    objective: float
    runtime_s: float
    mip_gap: float
    solver: str
    best_bound: float = math.nan

    @property
    def ok(self) -> bool:
        """True when a usable solution exists (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict for JSON (NaN, i.e. not reported, becomes None)."""
        d: dict[str, Any] = {
            "status": self.status, "termination": self.termination, "objective": self.objective,
            "runtime_s": self.runtime_s, "mip_gap": self.mip_gap, "solver": self.solver,
            "best_bound": self.best_bound,
        }
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def linear(pairs: Iterable[tuple[Any, float]], constant: float = 0.0) -> pulp.LpAffineExpression:
    """A PuLP expression from (variable, coefficient) pairs, summing repeated variables.

    (``pulp.LpAffineExpression(list)`` keeps only the last coefficient of a repeated variable.)
    """
    acc: dict[Any, float] = {}
    for v, c in pairs:
        acc[v] = acc.get(v, 0.0) + float(c)
    return pulp.LpAffineExpression(list(acc.items()), constant=constant)


def available_solvers() -> list[str]:
    """Names of the solvers usable here, preferred first (``highs``, then ``cbc``)."""
    have = set(pulp.listSolvers(onlyAvailable=True))
    return [name for name, classes in SOLVER_NAMES.items() if have.intersection(classes)]


def pick_solver(name: str | None = None) -> str:
    """Resolve a solver name: the requested one if available, else the first available (HiGHS, then CBC).

    Raises
    ------
    InputError
        When no solver is available or the name is unknown.
    """
    from scenarios.errors import InputError

    avail = available_solvers()
    if name is not None:
        key = name.lower()
        if key not in SOLVER_NAMES:
            raise InputError(f"unknown solver '{name}'", column="solver.name", fix=f"use one of {sorted(SOLVER_NAMES)}")
        if key in avail:
            return key
    if not avail:
        raise InputError("no LP solver available", fix="pip install highspy (or reinstall pulp, which ships CBC)")
    return avail[0]


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level stdout (HiGHS prints its banner when a ``Highs`` object is built)."""
    try:
        fd = os.dup(1)
    except OSError:  # pragma: no cover - no stdout
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(fd, 1)
    finally:
        os.close(fd)


class _QuietHiGHS(pulp.HiGHS):
    """PuLP's HiGHS interface without the copyright banner when ``msg`` is False."""

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        import highspy

        with _quiet_stdout() if not self.msg else contextlib.nullcontext():
            h = highspy.Highs()
            h.setOptionValue("output_flag", bool(self.msg))
        settings: dict[str, Any] = {
            "mip_rel_gap": self.gapRel, "mip_abs_gap": self.gapAbs, "threads": self.threads,
            "time_limit": None if self.timeLimit is None else float(self.timeLimit),
        }
        settings.update(self.optionsDict)
        for key, value in settings.items():
            if value is not None:
                h.setOptionValue(key, value)
        lp.solverModel = h


_HIGHS_STATUS = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Primal infeasible or unbounded": "infeasible",
    "Unbounded": "unbounded",
    "Time limit reached": "time_limit",
    "Iteration limit reached": "iteration_limit",
    "Interrupted by user": "interrupted",
}


def solve(
    problem: pulp.LpProblem,
    solver: str | None = "highs",
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    msg: bool = False,
    options: dict[str, Any] | None = None,
) -> SolveResult:
    """Solve ``problem`` in place with the named solver and report the outcome.

    Parameters
    ----------
    problem
        A built PuLP problem; variable values are set on it after the solve.
    solver
        ``highs`` (default) or ``cbc``; falls back to the other when the named one is not installed.
    time_limit_s
        Wall-clock limit for the solver [s]; None for no limit.
    mip_gap
        Relative MIP gap at which to stop [fraction]; None for the solver's default.
    msg
        Show the solver log.
    options
        Extra HiGHS options (e.g. ``{"solver": "ipm"}``); ignored by CBC.

    Returns
    -------
    SolveResult
        Status, termination reason, objective, runtime, MIP gap and best bound.
    """
    name = pick_solver(solver)
    is_mip = any(v.cat == pulp.LpInteger for v in problem.variables())
    t0 = time.perf_counter()
    if name == "highs":
        s = _QuietHiGHS(msg=msg, timeLimit=time_limit_s, gapRel=mip_gap, **(options or {}))
        problem.solve(s)
        runtime = time.perf_counter() - t0
        h = problem.solverModel
        term = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
        status = _HIGHS_STATUS.get(term, "not_solved")
        if status in ("time_limit", "iteration_limit", "interrupted"):
            status = "feasible" if has_sol else "not_solved"
        obj = float(pulp.value(problem.objective)) if has_sol and problem.objective is not None else math.nan
        if is_mip:
            const = float(problem.objective.constant or 0.0) if problem.objective is not None else 0.0
            bound = float(info.mip_dual_bound) + const
            gap = _rel_gap(obj, bound)
        else:
            gap = 0.0 if status == "optimal" else math.nan
            bound = obj if status == "optimal" else math.nan
        return SolveResult(status, term, obj, runtime, gap, "highs", bound)

    with tempfile.TemporaryDirectory(prefix="gpuplan-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        s = _cbc(time_limit_s=time_limit_s, mip_gap=mip_gap, log_path=str(log_path))
        problem.solve(s)
        runtime = time.perf_counter() - t0
        log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return _cbc_result(problem, log_text, runtime, is_mip)


def _cbc(time_limit_s: float | None, mip_gap: float | None, log_path: str) -> Any:
    """A CBC solver: a system CBC (``COIN_CMD``) when installed, else the binary shipped with PuLP.

    PuLP 3.3 marks ``PULP_CBC_CMD`` deprecated for PuLP 4 (which needs ``pip install pulp[cbc]`` and
    ``COIN_CMD``); while the bundled binary is the only CBC here, that one warning is silenced on purpose.
    """
    kwargs: dict[str, Any] = {"msg": False, "timeLimit": time_limit_s, "gapRel": mip_gap, "logPath": log_path}
    if "COIN_CMD" in pulp.listSolvers(onlyAvailable=True):
        return pulp.COIN_CMD(**kwargs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated", category=DeprecationWarning)
        return pulp.PULP_CBC_CMD(**kwargs)


def _rel_gap(obj: float, bound: float) -> float:
    """Relative gap |obj - bound| / |obj| (HiGHS's definition); NaN when either is missing."""
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return math.nan
    return abs(obj - bound) / max(abs(obj), 1e-12)


def _cbc_result(problem: pulp.LpProblem, log_text: str, runtime: float, is_mip: bool) -> SolveResult:
    """Read status, gap and bound from PuLP's status and CBC's log."""
    m = re.search(r"^Result - (.+)$", log_text, flags=re.MULTILINE)
    term = m.group(1).strip() if m else pulp.LpStatus.get(problem.status, "Unknown")
    if problem.status == pulp.LpStatusOptimal:
        status = "optimal"
        if problem.sol_status == pulp.LpSolutionIntegerFeasible or "Stopped" in term:
            status = "feasible"
    elif problem.status == pulp.LpStatusInfeasible:
        status = "infeasible"
    elif problem.status == pulp.LpStatusUnbounded:
        status = "unbounded"
    else:
        status = "not_solved"
    if "infeasible" in term.lower():
        status = "infeasible"
    has_sol = status in ("optimal", "feasible")
    obj = float(pulp.value(problem.objective)) if has_sol and problem.objective is not None else math.nan
    gap, bound = (0.0, obj) if (status == "optimal" and not is_mip) else (math.nan, math.nan)
    if is_mip:
        g = re.search(r"^Gap:\s+([-+0-9.eE]+)", log_text, flags=re.MULTILINE)
        b = re.search(r"^Lower bound:\s+([-+0-9.eE]+)", log_text, flags=re.MULTILINE)
        if b:
            bound = float(b.group(1))
        if g:
            gap = abs(float(g.group(1)))
        elif b:
            gap = _rel_gap(obj, bound)
        # else: CBC proved optimality within its gapRel but printed no bound; the gap stays NaN (unknown)
    return SolveResult(status, term, obj, runtime, gap, "cbc", bound)
