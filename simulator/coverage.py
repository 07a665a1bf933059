"""Savings-plan arithmetic: which on-demand-instance GPU-hours a committed spend covers, hour by hour.

A commitment of ``C`` USD/h for a term covers usage at each family's discounted rate
``on_demand x (1 - discount[term])``; like a cloud savings plan it is applied to the usage with the highest
discount first (ties: term then catalog order), and any part left over in an hour is still paid (unused).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.inputs import SimulationInputs


@dataclass(frozen=True)
class Coverage:
    """Result of applying the commitments to hourly usage.

    Attributes
    ----------
    covered_gpu_hours
        ``(families, hours)`` GPU-hours covered by commitments [GPU-hours].
    covered_usd
        ``(families, hours)`` commitment spend used by each family [USD].
    unused_usd
        ``(terms, hours)`` commitment spend left unused, still paid [USD].
    terms
        Term labels of ``unused_usd`` rows.
    """

    covered_gpu_hours: np.ndarray
    covered_usd: np.ndarray
    unused_usd: np.ndarray
    terms: tuple[str, ...]


def coverage_order(inputs: SimulationInputs) -> list[tuple[int, int, float]]:
    """``(term index, family index, USD per GPU-hour)`` in the order commitments are applied."""
    pairs = []
    for ti, (term, _) in enumerate(inputs.committed):
        for fi, fl in enumerate(inputs.families):
            d = fl.discount(term)
            if d is not None:
                pairs.append((-d, ti, fi, fl.on_demand_usd_per_gpu_hour * (1.0 - d)))
    pairs.sort(key=lambda p: (p[0], p[1], p[2]))
    return [(ti, fi, rate) for _, ti, fi, rate in pairs]


def apply_commitments(inputs: SimulationInputs, usage: np.ndarray) -> Coverage:
    """Cover ``usage`` (``(families, hours)`` on-demand-instance GPU-hours) with the plan's commitments.

    Examples
    --------
    One family at 2 USD/GPU-hour with a 25 % discount and 3 USD/h committed: 1 GPU-hour costs 1.5 USD,
    so 2 GPU-hours are covered and nothing is left unused.
    """
    F, H = usage.shape
    remaining = usage.astype(float).copy()
    covered = np.zeros((F, H))
    covered_usd = np.zeros((F, H))
    left = np.array([arr.astype(float) for _, arr in inputs.committed]).reshape(len(inputs.committed), H)
    for ti, fi, rate in coverage_order(inputs):
        if rate <= 0:
            c = remaining[fi].copy()
        else:
            c = np.minimum(remaining[fi], left[ti] / rate)
        c = np.maximum(c, 0.0)
        remaining[fi] -= c
        covered[fi] += c
        covered_usd[fi] += c * rate
        left[ti] = np.maximum(left[ti] - c * rate, 0.0)
    return Coverage(covered_gpu_hours=covered, covered_usd=covered_usd, unused_usd=left,
                    terms=tuple(t for t, _ in inputs.committed))


def best_commitment_rate(inputs: SimulationInputs) -> list[float]:
    """Per family, the lowest discounted rate any commitment of the plan offers it [USD/GPU-hour] (0 = none)."""
    out = []
    for fl in inputs.families:
        rates = [fl.on_demand_usd_per_gpu_hour * (1.0 - d) for t, _ in inputs.committed
                 if (d := fl.discount(t)) is not None]
        out.append(min(rates) if rates else 0.0)
    return out
