"""One Monte Carlo replication as a picklable work item: draw fleet events, place the fluid load, run the
jobs, price the result.

Replication ``i`` of a run with root seed ``s`` uses ``SeedSequence(s).spawn(n)[i]``; inside it three
independent child streams (fleet events, fluid load, jobs) are derived from that sequence's spawn key, so a
replication's numbers depend only on its own seed, never on which worker ran it or in what order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from simulator.billing import Bill, account
from simulator.engine import JobEngine
from simulator.fleet import draw_fleet_events
from simulator.fluid import place_fluid
from simulator.inputs import SimulationInputs


@dataclass(frozen=True)
class ReplicationTask:
    """Everything one replication needs; carries its own seed and its own demand path.

    Attributes
    ----------
    inputs
        The description without demand paths (so each task stays small).
    demand
        ``(families, hours)`` demand path of this replication [GPUs], or None.
    sample
        Index of the demand sample path used (-1 without demand).
    replication
        Replication number (0-based).
    seed
        This replication's ``SeedSequence``.
    detail
        Whether to build the hourly and charge tables.
    demand_share
        ``(teams, families, hours)`` team shares of this path's demand, or None (see
        :attr:`SimulationInputs.demand_team_share`).
    """

    inputs: SimulationInputs
    demand: np.ndarray | None
    sample: int
    replication: int
    seed: np.random.SeedSequence
    detail: bool
    demand_share: np.ndarray | None = None


@dataclass
class ReplicationOutput:
    """What a replication hands back."""

    replication: int
    sample: int
    bill: Bill
    wall_seconds: float
    sim_seconds: float
    cpu_seconds: float


def child_rng(seed: np.random.SeedSequence, k: int) -> np.random.Generator:
    """The ``k``-th child stream of ``seed``, derived without mutating it (same as ``seed.spawn`` would)."""
    ss = np.random.SeedSequence(entropy=seed.entropy, spawn_key=(*seed.spawn_key, k), pool_size=seed.pool_size)
    return np.random.default_rng(ss)


def run_replication(task: ReplicationTask) -> ReplicationOutput:
    """Run one replication (a module-level function, so any :class:`~scenarios.parallel.Mapper` can call it)."""
    t_start = time.perf_counter()
    c_start = time.process_time()
    inputs = task.inputs
    events = draw_fleet_events(inputs, child_rng(task.seed, 0))
    load, residual = place_fluid(inputs, task.demand, events, child_rng(task.seed, 1))
    t_sim = time.perf_counter()
    rec = JobEngine(inputs, residual, events, child_rng(task.seed, 2)).run()
    sim_seconds = time.perf_counter() - t_sim
    bill = account(inputs, load, rec, detail=task.detail, demand_share=task.demand_share)
    bill.kpis["demand_sample"] = float(task.sample)
    return ReplicationOutput(replication=task.replication, sample=task.sample, bill=bill,
                             wall_seconds=time.perf_counter() - t_start, sim_seconds=sim_seconds,
                             cpu_seconds=time.process_time() - c_start)
