"""Spot-market events of one replication: correlated revocations and capacity droughts, drawn up front.

Both the discrete jobs (:mod:`simulator.engine`) and the fluid load (:mod:`simulator.fluid`) see the same
draws, so a drought empties the whole family's spot fleet at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.inputs import SimulationInputs


@dataclass(frozen=True)
class FleetEvents:
    """Per family: times of correlated revocations [h] and drought intervals ``(start, end)`` [h]."""

    correlated: tuple[np.ndarray, ...]
    droughts: tuple[np.ndarray, ...]  # each (k, 2)

    def drought_fraction(self, family: int, hours: int) -> np.ndarray:
        """Share of each hour spent in a drought [fraction]."""
        out = np.zeros(hours)
        for a, b in self.droughts[family]:
            ha, hb = int(np.floor(a)), int(np.ceil(min(b, hours)))
            for h in range(ha, min(hb, hours)):
                out[h] += max(0.0, min(b, h + 1.0) - max(a, float(h)))
        return np.minimum(out, 1.0)


def draw_fleet_events(inputs: SimulationInputs, rng: np.random.Generator) -> FleetEvents:
    """Draw correlated revocations (Poisson) and droughts (alternating renewal) for every family.

    Parameters
    ----------
    inputs
        The simulation description (rates per family, window length).
    rng
        The replication's fleet stream.

    Returns
    -------
    FleetEvents
        Times within ``[0, hours)``.  Droughts do not overlap: the next one can start only after the last
        ended (exponential gaps at the drought rate, exponential lengths with the mean drought length).
    """
    H = float(inputs.hours)
    corr, dr = [], []
    for fl in inputs.families:
        if fl.spot_offered and fl.correlated_events_per_hour > 0 and fl.correlated_share > 0:
            k = int(rng.poisson(fl.correlated_events_per_hour * H))
            corr.append(np.sort(rng.uniform(0.0, H, size=k)))
        else:
            corr.append(np.zeros(0))
        iv: list[tuple[float, float]] = []
        if fl.spot_offered and fl.drought_events_per_hour > 0 and fl.drought_mean_hours > 0:
            t = float(rng.exponential(1.0 / fl.drought_events_per_hour))
            while t < H:
                d = float(rng.exponential(fl.drought_mean_hours))
                iv.append((t, t + d))
                t = t + d + float(rng.exponential(1.0 / fl.drought_events_per_hour))
        dr.append(np.array(iv, dtype=float).reshape(-1, 2))
    return FleetEvents(correlated=tuple(corr), droughts=tuple(dr))
