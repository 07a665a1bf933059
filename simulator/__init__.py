"""gpuplan's simulator: SimPy replay of training jobs and an hourly fluid demand load on reserved, committed,
on-demand and spot capacity, with spot interruptions, checkpointing, queueing, energy and carbon.

Public API
----------
- :func:`simulate` -- scenario + plan + frames -> :class:`SimulationResult` (Monte Carlo over replications).
- :func:`build_inputs` / :func:`run` -- the same in two steps: validate into an immutable
  :class:`SimulationInputs`, then run it.
- :func:`to_focus` -- simulated charges as FOCUS-shaped rows.
- :func:`with_plan` -- the same validated description with another plan (compare plans cheaply).
- :func:`simulation_window` -- the window ``(start, hours)`` that will be simulated (to load signals first).
- :func:`current_plan` -- the scenario's ``[current]`` commitments as a :class:`~scenarios.plan.CapacityPlan`.
- :func:`young_daly_interval`, :func:`expected_wall_hours` -- the checkpoint arithmetic the engine uses.

Examples
--------
>>> from scenarios import load_scenario
>>> from scenarios.workload import load_jobs                 # doctest: +SKIP
>>> from simulator import simulate
>>> res = simulate(load_scenario("small"), jobs=load_jobs(load_scenario("small")))   # doctest: +SKIP
>>> print(res.describe())                                     # doctest: +SKIP
"""

from simulator.api import run, simulate
from simulator.checkpoint import expected_wall_hours, young_daly_interval
from simulator.focus import FOCUS_COLUMNS, to_focus
from simulator.inputs import (
    FamilyFleet,
    JobSet,
    PolicySettings,
    SimulationInputs,
    build_inputs,
    current_plan,
    simulation_window,
    with_plan,
)
from simulator.results import SimulationResult, summarise

__all__ = [
    "FOCUS_COLUMNS",
    "FamilyFleet",
    "JobSet",
    "PolicySettings",
    "SimulationInputs",
    "SimulationResult",
    "build_inputs",
    "current_plan",
    "expected_wall_hours",
    "run",
    "simulate",
    "simulation_window",
    "summarise",
    "to_focus",
    "with_plan",
    "young_daly_interval",
]
