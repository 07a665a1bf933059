"""The SimPy engine for discrete jobs: one process per job, spot interruptions as ``process.interrupt``.

A job process waits for capacity (placement order reserved -> committed -> spot -> on-demand), runs one
*segment* as a single timeout, and either completes or catches :class:`simpy.Interrupt`.  What an
interruption costs is arithmetic (:mod:`simulator.checkpoint`): no event per checkpoint, so a job costs
O(1 + interruptions) events.  Capacity, prices and spot availability are hourly arrays read by lookup.

Interruptions come from three sources, all delivered with ``process.interrupt(cause)``:

- the per-instance hazard: when a job starts on spot it draws its time to failure
  ``Exp(instances x hazard)``; only if that falls before the segment ends is a timer scheduled;
- correlated revocations: at each drawn time, running spot jobs of the family, in random order, are
  revoked until the revoked GPUs reach ``correlated_share`` of the family's spot GPUs;
- droughts: every spot job of the family is revoked and no spot is placed until the drought ends.

A job replayed from an optimizer schedule has planned *runs*: it asks for capacity at the start of each
run, does the run's work, writes a checkpoint and lets its GPUs go until the next run (where it pays the
restart).  Work lost to interruptions, or still left after the last run, is done at once afterwards.

Capacity guarantees: a job is admitted to reserved GPUs (or on-demand instances under a quota) only if
they stay free, after the fluid load, for every hour of its expected run (a range-minimum lookup), so
reserved capacity and quotas are never exceeded.  Spot availability limits new placements only.
"""

from __future__ import annotations

import bisect
import gc
import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import simpy

from simulator.checkpoint import (
    INF,
    expected_wall_hours,
    segment_wall_hours,
    split_censored,
    split_interrupted,
)
from simulator.coverage import best_commitment_rate
from simulator.fleet import FleetEvents
from simulator.fluid import Residual
from simulator.inputs import SimulationInputs

RES, ODI, SPOT = 0, 1, 2
POOL_NAMES = ("reserved", "on_demand_instance", "spot")
UNFINISHED, FINISHED, STOPPED = 0, 1, 2
#: Waiting jobs tried per dispatch after the first failures (like a backfill scheduler's test depth).
BACKFILL_DEPTH = 64
_EPS = 1e-9


class _RangeMin:
    """Minimum of an hourly array over ``[a, b]`` in O(1) (sparse table); constant arrays short-cut."""

    __slots__ = ("const", "levels")

    def __init__(self, arr: np.ndarray) -> None:
        arr = np.asarray(arr, dtype=float)
        self.const: float | None = float(arr[0]) if arr.size and np.all(arr == arr[0]) else None
        self.levels: list[list[float]] = []
        if self.const is None:
            lv = arr
            self.levels.append(lv.tolist())
            k = 1
            while (1 << k) <= len(arr):
                lv = np.minimum(lv[:-(1 << (k - 1))], lv[(1 << (k - 1)):])
                self.levels.append(lv.tolist())
                k += 1

    def min(self, a: int, b: int) -> float:
        if self.const is not None:
            return self.const
        k = (b - a + 1).bit_length() - 1
        lv = self.levels[k]
        x, y = lv[a], lv[b - (1 << k) + 1]
        return x if x < y else y


@dataclass(frozen=True)
class JobRecords:
    """What the engine returns: usage segments and per-job outcomes (hours from the plan start).

    Attributes
    ----------
    seg_job, seg_pool, seg_start, seg_end
        One row per uninterrupted stretch on one pool (``RES``, ``ODI``, ``SPOT``).
    useful_hours, checkpoint_hours, lost_hours
        Per job, wall hours of saved work, checkpoint writing, and lost work + restarts (x GPUs = GPU-hours).
    interruptions
        Per job, spot interruptions suffered.
    first_start, end
        First start and end (completion or budget stop) [h]; NaN when it never started / did not end.
    queue_hours
        Time spent waiting for capacity (incl. on-demand provisioning delays) [h].
    status
        ``UNFINISHED``, ``FINISHED`` or ``STOPPED`` (by the budget cap).
    no_spot
        Whether the job stopped using spot (fallback after k interruptions or deadline at risk).
    events
        SimPy events scheduled in the run.
    """

    seg_job: np.ndarray
    seg_pool: np.ndarray
    seg_start: np.ndarray
    seg_end: np.ndarray
    useful_hours: np.ndarray
    checkpoint_hours: np.ndarray
    lost_hours: np.ndarray
    interruptions: np.ndarray
    first_start: np.ndarray
    end: np.ndarray
    queue_hours: np.ndarray
    status: np.ndarray
    no_spot: np.ndarray
    events: int


class JobEngine:
    """Run the discrete jobs of one replication on the capacity the fluid load leaves.

    Parameters
    ----------
    inputs
        The simulation description.
    residual
        Capacity left by the fluid load (:func:`simulator.fluid.place_fluid`).
    events
        Correlated revocations and droughts of this replication.
    rng
        The replication's job stream (times to failure, revocation order).
    """

    def __init__(self, inputs: SimulationInputs, residual: Residual, events: FleetEvents,
                 rng: np.random.Generator) -> None:
        J = inputs.jobs
        n = len(J)
        F = len(inputs.families)
        H = inputs.hours
        self.H = H
        self.n = n
        self.rng = rng
        self.events_in = events
        self.env = simpy.Environment()
        self.delta = inputs.checkpoint_cost_hours
        self.restart = inputs.restart_cost_hours
        pol = inputs.policies
        self.k_fallback = pol.fallback_after_interruptions
        self.deadline_fallback = pol.deadline_fallback
        self.cap = pol.job_budget_cap_usd
        self.budget = self.cap < INF
        # per-job constants (python lists: scalar access is much faster than numpy)
        self.gpus = J.gpus.tolist()
        self.fam = J.family.tolist()
        self.team = J.team.tolist()
        self.pre = J.preemptible.tolist()
        self.deadline = J.deadline.tolist()
        self.prio = J.priority.tolist()
        self.release = J.release.tolist()
        self.tau_spot = J.tau_spot.tolist()
        self.tau_other = J.tau_other.tolist()
        self.hz = J.hazard_spot.tolist()
        self.runs: list[tuple[tuple[float, float], ...]] = list(J.runs) if len(J.runs) else [()] * n
        self.run_idx = [0] * n
        self.run_left = [r[0][1] if r else INF for r in self.runs]
        self.fleet_hz = [fl.fleet_hazard_per_hour() for fl in inputs.families]
        self.share = [fl.correlated_share for fl in inputs.families]
        # per-job state
        self.rem = J.duration.tolist()
        self.restart_pending = [False] * n
        self.intr = [0] * n
        self.useful = [0.0] * n
        self.ckpt = [0.0] * n
        self.lost = [0.0] * n
        self.qwait = [0.0] * n
        self.wait_since = [math.nan] * n
        self.first_start = [math.nan] * n
        self.end = [math.nan] * n
        self.status = [UNFINISHED] * n
        self.no_spot = [False] * n
        self.active = [0] * n
        self.seg = [(0, 0.0, 0.0, 0.0, 0)] * n  # pool, t0, restart, tau, tok of the running segment
        self.covered_at_start = [False] * n
        self.spent = [0.0] * n
        self.proc: list[Any] = [None] * n
        self._tok = 0
        self.seg_job: list[int] = []
        self.seg_pool: list[int] = []
        self.seg_t0: list[float] = []
        self.seg_t1: list[float] = []
        # capacity (after the fluid load)
        self.res_rm = [_RangeMin(residual.reserved[k]) for k in range(F)]
        self.res_any = [bool(np.any(residual.reserved[k] > 0)) for k in range(F)]
        self.quota_rm = [None if np.all(np.isinf(residual.quota[k])) else _RangeMin(residual.quota[k])
                         for k in range(F)]
        self.spot_free = [residual.spot[k].tolist() for k in range(F)]
        self.spot_ok = [fl.spot_offered for fl in inputs.families]
        self.headroom = residual.committed_usd.tolist()
        self.com_rate = best_commitment_rate(inputs)
        self.od_price = [fl.on_demand_usd_per_gpu_hour for fl in inputs.families]
        self.prov_delay = [fl.provisioning_delay_hours for fl in inputs.families]
        self.res_rate = [fl.reserved_usd_per_gpu_hour.tolist() for fl in inputs.families]
        sp = [np.nan_to_num(fl.spot_usd_per_gpu_hour) for fl in inputs.families]
        self.spot_price = [s.tolist() for s in sp]
        self.spot_cum = [np.concatenate([[0.0], np.cumsum(s)]).tolist() for s in sp]
        self.res_now = [0.0] * F
        self.odi_now = [0.0] * F
        self.spot_now = [0.0] * F
        self.odi_usd_now = 0.0
        self.team_quota = list(pol.team_quota_gpus) or [INF]
        self.has_quota = any(q < INF for q in self.team_quota)
        self.team_now = [0.0] * max(len(J.team_names), 1)
        self.on_spot: list[dict[int, int]] = [{} for _ in range(F)]
        self.drought = [False] * F
        self.queue: list[list[tuple[int, float, int, int, Any]]] = [[] for _ in range(F)]
        self.n_waiting = 0
        self._seq = 0
        self._wake: Any = None
        inc = []
        com_inc = np.flatnonzero(np.diff(residual.committed_usd) > 0) + 1
        for k in range(F):
            hs = set((np.flatnonzero(np.diff(residual.reserved[k]) > 0) + 1).tolist())
            hs |= set((np.flatnonzero(np.diff(residual.spot[k]) > 0) + 1).tolist())
            q = residual.quota[k]
            if np.isfinite(q).any():
                hs |= set((np.flatnonzero(np.diff(q) > 0) + 1).tolist())
            hs |= set(com_inc.tolist())
            inc.append(sorted(hs))
        self.inc_hours = inc
        # exponential variates, drawn in blocks (deterministic given the stream)
        self._exp_pool: list[float] = []

    # -- randomness ---------------------------------------------------------------------------------
    def _exp(self) -> float:
        if not self._exp_pool:
            self._exp_pool = self.rng.standard_exponential(4096).tolist()
        return self._exp_pool.pop()

    # -- capacity -----------------------------------------------------------------------------------
    def _span_end(self, j: int, now: float, tau: float, extra: float) -> int:
        rem = self.rem[j]
        wall = extra + segment_wall_hours(rem, tau, self.delta, self.restart if self.restart_pending[j] else 0.0)
        return min(int(now + wall), self.H - 1)

    def _place(self, j: int, now: float) -> int:
        """Pool for job ``j`` now, or -1 when nothing fits (the job waits)."""
        h = int(now)
        f = self.fam[j]
        g = self.gpus[j]
        if self.has_quota:
            t = self.team[j]
            if self.team_now[t] + g > self.team_quota[t]:
                return -1
        if self.res_any[f]:
            rm = self.res_rm[f]
            used = self.res_now[f] + g - _EPS
            if rm.const is not None:
                if used <= rm.const:
                    return RES
            elif used <= rm.min(h, h) and used <= rm.min(h, self._span_end(j, now, self.tau_other[j], 0.0)):
                return RES
        qrm = self.quota_rm[f]
        if qrm is None:
            odi_ok = True
        elif qrm.const is not None:
            odi_ok = self.odi_now[f] + g <= qrm.const + _EPS
        else:
            odi_ok = self.odi_now[f] + g <= qrm.min(h, self._span_end(j, now, self.tau_other[j],
                                                                       self.prov_delay[f])) + _EPS
        if self.pre[j] and not self.no_spot[j]:
            cr = self.com_rate[f]
            if odi_ok and cr > 0.0 and g * cr <= self.headroom[h] - self.odi_usd_now + _EPS:
                return ODI
            if self.spot_ok[f] and not self.drought[f] and self.spot_now[f] + g <= self.spot_free[f][h] + _EPS:
                dl = self.deadline[j]
                if dl == INF or not self.deadline_fallback:
                    return SPOT
                r = self.restart if self.restart_pending[j] else 0.0
                exp_wall = expected_wall_hours(self.rem[j], self.tau_spot[j], self.delta, r,
                                               self.hz[j] + self.fleet_hz[f])
                if now + r + exp_wall <= dl:
                    return SPOT
                self.no_spot[j] = True  # deadline at risk: on-demand from now on
        if odi_ok:
            return ODI
        return -1

    def _take(self, j: int, pool: int) -> None:
        f = self.fam[j]
        g = self.gpus[j]
        if self.has_quota:
            self.team_now[self.team[j]] += g
        if pool == RES:
            self.res_now[f] += g
        elif pool == ODI:
            self.odi_now[f] += g
            cr = self.com_rate[f]
            if cr > 0.0:
                h = int(self.env.now)
                self.covered_at_start[j] = g * cr <= self.headroom[h] - self.odi_usd_now + _EPS
                self.odi_usd_now += g * cr
        else:
            self.spot_now[f] += g

    def _release(self, j: int, pool: int) -> None:
        f = self.fam[j]
        g = self.gpus[j]
        if self.has_quota:
            self.team_now[self.team[j]] -= g
        if pool == RES:
            self.res_now[f] -= g
        elif pool == ODI:
            self.odi_now[f] -= g
            cr = self.com_rate[f]
            if cr > 0.0:
                self.odi_usd_now -= g * cr
        else:
            self.spot_now[f] -= g
            self.on_spot[f].pop(j, None)

    def _enqueue(self, j: int, ev: Any) -> None:
        self._seq += 1
        bisect.insort(self.queue[self.fam[j]], (-self.prio[j], self.release[j], self._seq, j, ev))
        self.n_waiting += 1
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()

    def _free_any(self, f: int, h: int) -> float:
        """Most GPUs any pool of family ``f`` could still give now (an upper bound) [GPUs]."""
        best = self.res_rm[f].min(h, h) - self.res_now[f] if self.res_any[f] else 0.0
        qrm = self.quota_rm[f]
        q = INF if qrm is None else qrm.min(h, h) - self.odi_now[f]
        if q > best:
            best = q
        if self.spot_ok[f] and not self.drought[f]:
            s = self.spot_free[f][h] - self.spot_now[f]
            if s > best:
                best = s
        return best

    def _dispatch(self, f: int) -> None:
        q = self.queue[f]
        if not q:
            return
        now = self.env.now
        h = int(now)
        i = 0
        fails = 0
        while i < len(q) and fails < BACKFILL_DEPTH:
            if self._free_any(f, h) < 1.0 - _EPS:
                break
            j = q[i][3]
            pool = self._place(j, now)
            if pool >= 0:
                ev = q[i][4]
                del q[i]
                self.n_waiting -= 1
                self._take(j, pool)
                ev.succeed(pool)
            else:
                i += 1
                fails += 1

    def _after_release(self, f: int) -> None:
        if self.has_quota:
            for k in range(len(self.queue)):
                self._dispatch(k)
        else:
            self._dispatch(f)

    # -- interruptions ------------------------------------------------------------------------------
    def _interrupt(self, j: int, cause: str) -> None:
        if self.active[j]:
            self.active[j] = 0
            self.on_spot[self.fam[j]].pop(j, None)
            self.proc[j].interrupt(cause)

    def _hazard(self, j: int, tok: int, _ev: Any) -> None:
        if self.active[j] == tok:
            self._interrupt(j, "instance")

    def _fleet(self, f: int) -> Any:
        env = self.env
        share = self.share[f]
        evs = [(float(t), 0) for t in self.events_in.correlated[f]]
        for a, b in self.events_in.droughts[f]:
            evs.append((float(a), 1))
            evs.append((float(b), 2))
        evs.sort()
        for t, kind in evs:
            if t >= self.H:
                break
            if t > env.now:
                yield env.timeout(t - env.now)
            spot = self.on_spot[f]
            if kind == 0:
                if not spot:
                    continue
                items = list(spot.items())
                target = share * sum(g for _, g in items)
                cut = 0.0
                for i in self.rng.permutation(len(items)).tolist():
                    if cut >= target - _EPS:
                        break
                    cut += items[i][1]
                    self._interrupt(items[i][0], "correlated")
            elif kind == 1:
                self.drought[f] = True
                for j in list(spot):
                    self._interrupt(j, "drought")
            else:
                self.drought[f] = False
                self._dispatch(f)

    def _waker(self) -> Any:
        """Retry waiting jobs at the hours when capacity left by the fluid load grows."""
        env = self.env
        while True:
            if self.n_waiting == 0:
                self._wake = env.event()
                yield self._wake
                self._wake = None
                continue
            now = env.now
            nxt = INF
            for k, q in enumerate(self.queue):
                if q:
                    inc = self.inc_hours[k]
                    i = bisect.bisect_right(inc, now)
                    if i < len(inc) and inc[i] < nxt:
                        nxt = inc[i]
            if nxt >= self.H:
                self._wake = env.event()
                yield self._wake
                self._wake = None
                continue
            yield env.timeout(nxt - now)
            for k in range(len(self.queue)):
                self._dispatch(k)

    # -- budget ---------------------------------------------------------------------------------------
    def _rate(self, j: int, pool: int, h: int) -> float:
        f = self.fam[j]
        if pool == RES:
            return self.res_rate[f][h]
        if pool == ODI:
            return self.com_rate[f] if self.covered_at_start[j] else self.od_price[f]
        return self.spot_price[f][h]

    def _cost(self, j: int, pool: int, t0: float, t1: float) -> float:
        g = self.gpus[j]
        if pool == SPOT:
            f = self.fam[j]
            return g * (self._cum(f, t1) - self._cum(f, t0))
        return g * self._rate(j, pool, min(int(t0), self.H - 1)) * (t1 - t0)

    def _cum(self, f: int, t: float) -> float:
        h = min(int(t), self.H - 1)
        return self.spot_cum[f][h] + (t - h) * self.spot_price[f][h]

    def _budget_time(self, j: int, pool: int, t0: float) -> float:
        """Hours after ``t0`` at which job ``j`` reaches its budget cap on ``pool`` (``inf`` if never)."""
        left = self.cap - self.spent[j]
        if left <= 0.0:
            return 0.0
        g = self.gpus[j]
        if pool != SPOT:
            r = g * self._rate(j, pool, min(int(t0), self.H - 1))
            return left / r if r > 0 else INF
        f = self.fam[j]
        target = self._cum(f, t0) + left / g
        cum = self.spot_cum[f]
        i = bisect.bisect_left(cum, target)
        if i > self.H:
            return INF
        h = max(i - 1, int(t0))
        p = self.spot_price[f][h]
        t = h + ((target - cum[h]) / p if p > 0 else 0.0)
        return max(t - t0, 0.0)

    # -- the job process ------------------------------------------------------------------------------
    def _job(self, j: int) -> Any:
        env = self.env
        f = self.fam[j]
        delta = self.delta
        now = env.now
        self.wait_since[j] = now
        pool = self._place(j, now)
        if pool >= 0:
            self._take(j, pool)
        while True:
            if pool < 0:
                ev = env.event()
                self._enqueue(j, ev)
                pool = yield ev
            if pool == ODI and self.prov_delay[f] > 0.0:
                yield env.timeout(self.prov_delay[f])
            t0 = env.now
            self.qwait[j] += t0 - self.wait_since[j]
            if self.first_start[j] != self.first_start[j]:
                self.first_start[j] = t0
            tau = self.tau_spot[j] if pool == SPOT else self.tau_other[j]
            r = self.restart if self.restart_pending[j] else 0.0
            rem = self.rem[j]
            target = min(rem, self.run_left[j])
            pause = target < rem - _EPS  # a planned run ends before the job does: checkpoint and pause
            wall = segment_wall_hours(target, tau, delta, r) + (delta if pause else 0.0)
            run = wall
            stop = False
            if self.budget:
                tb = self._budget_time(j, pool, t0)
                if tb < wall:
                    run, stop = tb, True
            self._tok += 1
            tok = self._tok
            self.active[j] = tok
            self.seg[j] = (pool, t0, r, tau, tok)
            if pool == SPOT:
                self.on_spot[f][j] = self.gpus[j]
                hz = self.hz[j]
                if hz > 0.0:
                    ttf = self._exp() / hz
                    if ttf < run:
                        env.timeout(ttf).callbacks.append(partial(self._hazard, j, tok))
            try:
                yield env.timeout(run)
            except simpy.Interrupt:
                t1 = env.now
                saved, ck, lost = split_interrupted(t1 - t0, r, tau, delta)
                self._close(j, pool, t0, t1, saved, ck, lost)
                self.rem[j] = rem - saved
                self.run_left[j] -= saved
                if self.run_left[j] <= _EPS:
                    self._next_run(j)
                self.restart_pending[j] = True
                self.intr[j] += 1
                if self.k_fallback > 0 and self.intr[j] >= self.k_fallback:
                    self.no_spot[j] = True
                self._release(j, pool)
                self.wait_since[j] = t1
                pool = self._place(j, t1)
                if pool >= 0:
                    self._take(j, pool)
                self._after_release(f)
                continue
            t1 = env.now
            self.active[j] = 0
            if pause and not stop:
                ck = wall - r - target
                self._close(j, pool, t0, t1, target, ck, r)
                self.rem[j] = rem - target
                self.restart_pending[j] = True
                self._release(j, pool)
                self._after_release(f)
                nxt = self._next_run(j)
                if nxt > env.now:
                    yield env.timeout(nxt - env.now)
                self.wait_since[j] = env.now
                pool = self._place(j, env.now)
                if pool >= 0:
                    self._take(j, pool)
                continue
            if stop:
                saved, ck, lost = split_interrupted(run, r, tau, delta)
                self.rem[j] = rem - saved
                self.status[j] = STOPPED
            else:
                saved, ck, lost = rem, wall - r - rem, r
                self.rem[j] = 0.0
                self.status[j] = FINISHED
            self._close(j, pool, t0, t1, saved, ck, lost)
            self.end[j] = t1
            self.proc[j] = None
            self._release(j, pool)
            if self.has_quota:
                self._after_release(f)
            elif self.queue[f]:
                self._dispatch(f)
            return

    def _next_run(self, j: int) -> float:
        """Move job ``j`` to its next planned run; its start [h] (``-inf`` when none is left: go on at once)."""
        k = self.run_idx[j] + 1
        self.run_idx[j] = k
        runs = self.runs[j]
        if k < len(runs):
            self.run_left[j] = runs[k][1]
            return runs[k][0]
        self.run_left[j] = INF
        return -INF

    def _close(self, j: int, pool: int, t0: float, t1: float, saved: float, ck: float, lost: float) -> None:
        self.seg_job.append(j)
        self.seg_pool.append(pool)
        self.seg_t0.append(t0)
        self.seg_t1.append(t1)
        self.useful[j] += saved
        self.ckpt[j] += ck
        self.lost[j] += lost
        if self.budget:
            self.spent[j] += self._cost(j, pool, t0, t1)

    def _source(self, order: list[int]) -> Any:
        env = self.env
        proc = self.proc
        job = self._job
        H = self.H
        release = self.release
        for j in order:
            t = release[j]
            if t >= H:
                break
            if t > env.now:
                yield env.timeout(t - env.now)
            proc[j] = env.process(job(j))

    # -- run ------------------------------------------------------------------------------------------
    def run(self) -> JobRecords:
        """Run to the end of the window and return the records."""
        env = self.env
        order = sorted(range(self.n), key=self.release.__getitem__)
        if self.n:
            env.process(self._source(order))
            env.process(self._waker())
            for f in range(len(self.queue)):
                if len(self.events_in.correlated[f]) or len(self.events_in.droughts[f]):
                    env.process(self._fleet(f))
        # The run creates no reference cycles (every object is freed by reference counting), but the
        # cyclic collector would repeatedly traverse the many live processes and events: pause it.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            env.run(until=self.H)
        finally:
            if was_enabled:
                gc.enable()
        H = float(self.H)
        for j in range(self.n):
            if self.active[j]:
                pool, t0, r, tau, _ = self.seg[j]
                work, ck, rs = split_censored(H - t0, r, tau, self.delta)
                self._close(j, pool, t0, H, work, ck, rs)
                self.rem[j] -= work
            elif self.status[j] == UNFINISHED and self.wait_since[j] == self.wait_since[j]:
                self.qwait[j] += H - self.wait_since[j]
        events = next(env._eid)  # events scheduled by the environment in this run
        return JobRecords(
            seg_job=np.array(self.seg_job, dtype=np.int64), seg_pool=np.array(self.seg_pool, dtype=np.int64),
            seg_start=np.array(self.seg_t0, dtype=float), seg_end=np.array(self.seg_t1, dtype=float),
            useful_hours=np.array(self.useful), checkpoint_hours=np.array(self.ckpt),
            lost_hours=np.array(self.lost), interruptions=np.array(self.intr, dtype=np.int64),
            first_start=np.array(self.first_start), end=np.array(self.end), queue_hours=np.array(self.qwait),
            status=np.array(self.status, dtype=np.int64), no_spot=np.array(self.no_spot, dtype=bool),
            events=int(events),
        )
