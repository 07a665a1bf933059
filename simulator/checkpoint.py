"""Checkpoint/restart arithmetic: Young/Daly intervals, Daly's expected run time, lost work of a segment.

A *segment* is one uninterrupted stretch of a job on one pool: an optional restart of ``restart`` hours,
then cycles of ``tau`` hours of work followed by a checkpoint of ``delta`` hours, and the last piece of
work with no checkpoint after it.  Everything here is closed-form arithmetic on elapsed time, so the
simulator never schedules an event per checkpoint.

References
----------
J. W. Young, "A first order approximation to the optimum checkpoint interval", CACM 17(9), 1974.
J. T. Daly, "A higher order estimate of the optimum checkpoint interval for restart dumps",
Future Generation Computer Systems 22(3), 2006.
"""

from __future__ import annotations

import math

INF = math.inf


def young_daly_interval(checkpoint_cost_hours: float, hazard_per_hour: float) -> float:
    """Daly's higher-order optimum checkpoint interval [h] (Young's ``sqrt(2 delta M)`` to first order).

    Parameters
    ----------
    checkpoint_cost_hours
        Time to write one checkpoint, ``delta`` [h].
    hazard_per_hour
        Interruption rate the job faces, ``1/M`` [1/h].

    Returns
    -------
    float
        Work between checkpoints [h]: ``inf`` when the hazard is 0 (never checkpoint), ``0`` when
        checkpoints are free (continuous checkpointing), ``M`` when ``delta >= 2 M`` (Daly 2006, eq. 37).

    Examples
    --------
    >>> round(young_daly_interval(0.05, 0.01), 3)   # M = 100 h; Young: sqrt(2 x 0.05 x 100) = 3.162
    3.129
    """
    delta = float(checkpoint_cost_hours)
    lam = float(hazard_per_hour)
    if lam <= 0.0:
        return INF
    if delta <= 0.0:
        return 0.0
    m = 1.0 / lam
    if delta >= 2.0 * m:
        return m
    x = delta / (2.0 * m)
    return math.sqrt(2.0 * delta * m) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - delta


def checkpoints_needed(work_hours: float, tau: float) -> int:
    """Checkpoints written while doing ``work_hours`` of work with interval ``tau`` (none after the end)."""
    if not (0.0 < tau < INF) or work_hours <= 0.0:
        return 0
    return max(math.ceil(work_hours / tau - 1e-9) - 1, 0)


def segment_wall_hours(work_hours: float, tau: float, delta: float, restart: float) -> float:
    """Wall time [h] of a segment that runs to completion: restart + work + checkpoints."""
    return restart + work_hours + checkpoints_needed(work_hours, tau) * delta


def split_interrupted(elapsed: float, restart: float, tau: float, delta: float) -> tuple[float, float, float]:
    """Split ``elapsed`` hours of an interrupted segment into (saved work, checkpoint time, lost time) [h].

    Work counts as saved only once the checkpoint after it is fully written; the restart, the work since
    the last checkpoint and a half-written checkpoint are lost.
    """
    if elapsed <= restart:
        return 0.0, 0.0, elapsed
    w = elapsed - restart
    if tau == INF:
        return 0.0, 0.0, elapsed
    if tau <= 0.0:  # free, continuous checkpoints: nothing but the restart is lost
        return w, 0.0, restart
    k = math.floor(w / (tau + delta))
    saved = k * tau
    ck = k * delta
    return saved, ck, elapsed - saved - ck


def split_censored(elapsed: float, restart: float, tau: float, delta: float) -> tuple[float, float, float]:
    """Split a segment cut by the end of the horizon into (work done, checkpoint time, restart time) [h].

    Unlike an interruption nothing is lost: the job is still running when the horizon ends.
    """
    if elapsed <= restart:
        return 0.0, 0.0, elapsed
    w = elapsed - restart
    if not (0.0 < tau < INF):
        return w, 0.0, restart
    k = math.floor(w / (tau + delta))
    r = w - k * (tau + delta)
    work = k * tau + min(r, tau)
    ck = k * delta + max(r - tau, 0.0)
    return work, ck, restart


def expected_wall_hours(work_hours: float, tau: float, delta: float, restart: float, hazard_per_hour: float) -> float:
    """Expected wall time [h] to finish ``work_hours`` under exponential interruptions (Daly 2006).

    Each checkpoint cycle of length ``a`` (``tau + delta``; the last one ``tau``, no checkpoint after
    the end) takes ``M e^{R/M} (e^{a/M} - 1)`` in expectation, with ``M = 1/hazard``.  Used by the
    deadline-at-risk policy; the tests check the simulator against it.
    """
    lam = hazard_per_hour
    if lam <= 0.0:
        return segment_wall_hours(work_hours, tau, delta, 0.0)
    if tau <= 0.0:  # continuous checkpointing at no cost: the limit of the cycles as tau -> 0
        return math.exp(lam * restart) * work_hours
    n = checkpoints_needed(work_hours, tau)
    last = work_hours - n * tau if n else work_hours
    return math.exp(lam * restart) / lam * (n * math.expm1(lam * (tau + delta)) + math.expm1(lam * last))
