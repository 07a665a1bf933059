"""The aggregate demand served as a fluid load, hour by hour, with numpy.

Order (documented in ``docs/simulator.md``): the fluid load is placed **first**, each hour, in placement
order: reserved GPUs, then on-demand instances covered by committed spend, then spot for its preemptible
share (up to availability, none during a drought), then on-demand up to the quota; what is left is unmet.
Discrete jobs then use what the fluid load leaves (:class:`Residual`).

Spot interruptions of the fluid load are arithmetic: each hour draws ``Poisson(hazard x instances)``
instance interruptions; correlated revocations take their share of the fluid's spot GPUs; a drought takes
all of them.  Every interrupted GPU loses the work since its last checkpoint -- half a checkpoint cycle on
average (uniform phase) -- plus the restart, and that work is run again (billed at the spot price, or
on demand after a drought).  Checkpoints are written every Young/Daly interval for the per-instance hazard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.checkpoint import INF, young_daly_interval
from simulator.coverage import apply_commitments
from simulator.fleet import FleetEvents
from simulator.inputs import SimulationInputs


@dataclass(frozen=True)
class FluidLoad:
    """Hourly placement of the aggregate demand, per family ``(families, hours)`` [GPUs = GPU-hours/hour].

    Attributes
    ----------
    demand
        Demand [GPUs].
    reserved, odinst, spot
        Useful GPUs on reserved, on-demand instances (committed or not) and spot.
    spot_checkpoint
        Checkpoint overhead on spot [GPUs].
    spot_lost
        Work lost to spot interruptions and restarts and run again on spot [GPU-hours].
    drought_lost
        Work lost when a drought revoked the spot fleet, run again on on-demand instances [GPU-hours].
    unmet
        Demand left unserved by the on-demand quota [GPUs].
    interruptions
        Interruption events that hit the fluid's spot fleet (instance failures, revocations, droughts).
    committed_claim_usd
        ``(hours,)`` commitment spend the fluid load uses first [USD].
    """

    demand: np.ndarray
    reserved: np.ndarray
    odinst: np.ndarray
    spot: np.ndarray
    spot_checkpoint: np.ndarray
    spot_lost: np.ndarray
    drought_lost: np.ndarray
    unmet: np.ndarray
    interruptions: np.ndarray
    committed_claim_usd: np.ndarray

    @property
    def spot_billed(self) -> np.ndarray:
        """All spot GPU-hours of the fluid load (useful + checkpoints + re-run) [GPU-hours]."""
        return self.spot + self.spot_checkpoint + self.spot_lost

    @property
    def odinst_billed(self) -> np.ndarray:
        """All on-demand-instance GPU-hours of the fluid load [GPU-hours]."""
        return self.odinst + self.drought_lost


@dataclass(frozen=True)
class Residual:
    """Capacity the discrete jobs may use after the fluid load, per family and hour.

    Attributes
    ----------
    reserved
        ``(families, hours)`` reserved GPUs free [GPUs].
    spot
        ``(families, hours)`` spot GPUs free (before droughts) [GPUs].
    quota
        ``(families, hours)`` on-demand-instance GPUs left under the quota [GPUs] (``inf`` if none).
    committed_usd
        ``(hours,)`` committed spend per hour not used by the fluid load [USD/h].
    """

    reserved: np.ndarray
    spot: np.ndarray
    quota: np.ndarray
    committed_usd: np.ndarray


def fluid_checkpoint_interval(inputs: SimulationInputs, family: int) -> float:
    """Young/Daly interval [h] of the fluid load's spot work: per-instance hazard plus fleet events."""
    fl = inputs.families[family]
    return young_daly_interval(inputs.checkpoint_cost_hours, fl.spot_hazard_per_hour + fl.fleet_hazard_per_hour())


def place_fluid(inputs: SimulationInputs, demand: np.ndarray | None, events: FleetEvents,
                rng: np.random.Generator) -> tuple[FluidLoad, Residual]:
    """Place one demand path on the fleet and compute its spot losses.

    Parameters
    ----------
    inputs
        The simulation description.
    demand
        ``(families, hours)`` demand path [GPUs], or None for no fluid load.
    events
        The replication's correlated revocations and droughts.
    rng
        The replication's fluid stream (instance interruptions).

    Returns
    -------
    (FluidLoad, Residual)
    """
    F, H = len(inputs.families), inputs.hours
    D = np.zeros((F, H)) if demand is None else np.asarray(demand, dtype=float)
    R = np.array([fl.reserved_gpus for fl in inputs.families]).reshape(F, H)
    Q = np.array([fl.on_demand_quota_gpus for fl in inputs.families])[:, None] * np.ones((1, H))
    A = np.array([fl.spot_available_gpus if fl.spot_offered else np.zeros(H) for fl in inputs.families]).reshape(F, H)
    res = np.minimum(D, R)
    rest = D - res
    cov = apply_commitments(inputs, np.minimum(rest, Q))
    com = cov.covered_gpu_hours
    rest2 = np.maximum(rest - com, 0.0)
    spot = np.zeros((F, H))
    ck = np.zeros((F, H))
    lost = np.zeros((F, H))
    dlost = np.zeros((F, H))
    nint = np.zeros((F, H))
    if demand is not None:
        elig_all = np.minimum(rest2, inputs.preemptible_share * D)
        for k, fl in enumerate(inputs.families):
            if not fl.spot_offered:
                continue
            tau = fluid_checkpoint_interval(inputs, k)
            delta = inputs.checkpoint_cost_hours
            ovh = delta / tau if 0.0 < tau < INF else 0.0
            cycle = tau + delta if 0.0 < tau < INF else 0.0
            loss_per_gpu = 0.5 * cycle + inputs.restart_cost_hours
            free = 1.0 - events.drought_fraction(k, H)
            planned = np.minimum(elig_all[k], A[k] / (1.0 + ovh))
            s = np.minimum(elig_all[k], A[k] * free / (1.0 + ovh))
            spot[k] = s
            ck[k] = s * ovh
            gpi = fl.gpus_per_instance
            if fl.spot_hazard_per_hour > 0:
                n = rng.poisson(fl.spot_hazard_per_hour * s / gpi)
                lost[k] += n * np.minimum(gpi, s) * loss_per_gpu
                nint[k] += n
            for t in events.correlated[k]:
                h = int(t)
                if s[h] > 0:
                    lost[k, h] += fl.correlated_share * s[h] * loss_per_gpu
                    nint[k, h] += 1
            for a, _ in events.droughts[k]:
                h = int(a)
                if planned[h] > 0:
                    dlost[k, h] += planned[h] * loss_per_gpu
                    nint[k, h] += 1
    after_spot = rest2 - spot
    od = np.minimum(after_spot, np.maximum(Q - com, 0.0))
    unmet = np.maximum(after_spot - od, 0.0)
    odinst = com + od
    load = FluidLoad(demand=D, reserved=res, odinst=odinst, spot=spot, spot_checkpoint=ck, spot_lost=lost,
                     drought_lost=dlost, unmet=unmet, interruptions=nint,
                     committed_claim_usd=cov.covered_usd.sum(axis=0))
    residual = Residual(
        reserved=np.maximum(R - res, 0.0),
        spot=np.maximum(A - spot - ck, 0.0),
        quota=np.maximum(Q - odinst, 0.0),
        committed_usd=np.maximum(inputs.committed_total() - load.committed_claim_usd, 0.0),
    )
    return load, residual
