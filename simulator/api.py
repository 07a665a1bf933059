"""The simulator's public entry points: :func:`simulate` (scenario + plan + frames) and :func:`run` (a built
description)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.parallel import Mapper, SerialMapper
from scenarios.plan import CapacityPlan
from scenarios.schema import Scenario
from simulator.inputs import SimulationInputs, build_inputs
from simulator.replication import ReplicationTask, run_replication
from simulator.results import SimulationResult, assemble

Detail = Literal["first", "all", "none"]


def run(inputs: SimulationInputs, *, replications: int = 20, seed: int = 0, detail: Detail = "first",
        mapper: Mapper | None = None, progress: bool = True) -> SimulationResult:
    """Run ``replications`` Monte Carlo replications of a built description.

    Parameters
    ----------
    inputs
        From :func:`simulator.build_inputs`.
    replications
        Number of replications; replication ``i`` uses ``SeedSequence(seed).spawn(replications)[i]`` and
        demand sample path ``i mod n_samples``.
    seed
        Root seed.
    detail
        Which replications keep the hourly and charge tables: ``"first"`` (default), ``"all"`` or ``"none"``.
        KPIs, jobs and teams are always kept for every replication.
    mapper
        Executor (:class:`scenarios.parallel.Mapper`); default in-process.  Results do not depend on it.
    progress
        Show a progress bar over replications.

    Returns
    -------
    SimulationResult
    """
    if replications < 1:
        raise InputError(f"replications must be >= 1, got {replications}", column="replications")
    if detail not in ("first", "all", "none"):
        raise InputError(f"detail must be first, all or none, got '{detail}'", column="detail")
    seeds = np.random.SeedSequence(int(seed)).spawn(int(replications))
    base = inputs.without_demand()
    S = inputs.n_samples
    tasks = []
    for i in range(int(replications)):
        sample = i % S if S else -1
        tasks.append(ReplicationTask(
            inputs=base, demand=None if inputs.demand is None else np.array(inputs.demand[sample]),
            sample=sample, replication=i, seed=seeds[i],
            detail=detail == "all" or (detail == "first" and i == 0),
            demand_share=None if inputs.demand_team_share is None or inputs.demand is None
            else np.array(inputs.demand_team_share[sample]),
        ))
    mapper = mapper if mapper is not None else SerialMapper(progress=progress)
    outputs = mapper.map(run_replication, tasks, desc=f"simulate {inputs.plan_name}")
    notes = []
    if S and replications % S and replications > S:
        notes.append(f"{replications} replications over {S} demand paths: some paths are used more often")
    return assemble(inputs, outputs, seed=int(seed), notes=notes)


def simulate(
    scenario: Scenario,
    plan: CapacityPlan | None = None,
    *,
    jobs: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    carbon: pd.DataFrame | None = None,
    price: pd.DataFrame | None = None,
    spot: pd.DataFrame | None = None,
    schedule: pd.DataFrame | None = None,
    replications: int | None = None,
    seed: int | None = None,
    start: pd.Timestamp | None = None,
    hours: int | None = None,
    detail: Detail = "first",
    mapper: Mapper | None = None,
    progress: bool = True,
) -> SimulationResult:
    """Simulate a capacity plan on a scenario: discrete jobs in SimPy plus an hourly fluid demand load.

    Parameters
    ----------
    scenario
        The scenario (catalog, workload settings, policies, simulation defaults).
    plan
        Reservations and commitments to evaluate; default: the scenario's ``[current]`` commitments
        (all on-demand when there are none).
    jobs
        ``jobs`` table, e.g. ``scenarios.workload.load_jobs(scenario)``.
    demand
        Aggregate hourly demand [GPUs] per family, or forecast sample paths (one path per replication).
    carbon, price
        Hourly ``carbon`` and ``price`` tables of the catalog's regions
        (``scenarios.signals.load_signals``); without them kg CO2e / energy cost are NaN.
    spot
        Hourly ``spot`` table (``scenarios.signals.load_spot``); default: constant offer levels.
    schedule
        The optimizer's ``schedule`` table: each listed job is replayed as planned, in every scheduled
        hour (pausing between its runs); see :func:`simulator.checks.check_schedule`.
    replications, seed
        Monte Carlo size and root seed; default ``scenario.simulation``.
    start, hours
        Window; see :func:`simulator.build_inputs`.
    detail
        Replications that keep the hourly and charge tables: ``"first"``, ``"all"`` or ``"none"``.
    mapper
        Executor for replications (``gpuplan.executors.make_mapper()``); default in-process.
    progress
        Progress bar over replications.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import pandas as pd
    >>> from scenarios import load_scenario
    >>> from simulator import simulate
    >>> sc = load_scenario("small")
    >>> jobs = pd.DataFrame({"job_id": ["a"], "submit_time": [pd.Timestamp("2026-01-01", tz="UTC")],
    ...                      "gpus": [8], "duration_hours": [10.0], "preemptible": [False]})
    >>> res = simulate(sc, jobs=jobs, replications=2, progress=False)
    >>> row = res.jobs.iloc[0]
    >>> round(float(row["list_cost_usd"]), 6)  # on demand: 8 GPUs x 10 h x 2.744705 USD/GPU-hour
    219.5764
    >>> round(float(row["cost_reserved_usd"]), 6)  # it ran on the [current] 1-year reservation at 1.740137
    139.21096
    """
    inputs = build_inputs(scenario, plan, jobs=jobs, demand=demand, carbon=carbon, price=price, spot=spot,
                          schedule=schedule, start=start, hours=hours)
    reps = scenario.simulation.replications if replications is None else int(replications)
    sd = scenario.simulation.seed if seed is None else int(seed)
    return run(inputs, replications=reps, seed=sd, detail=detail, mapper=mapper, progress=progress)
