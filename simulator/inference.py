"""Replay of inference requests on model replicas: batching, queueing, cold starts and an autoscaler.

One SimPy process per replica, one for arrivals and one for the autoscaler.  Requests wait in one FIFO
queue.  The profile's ``batching`` chooses how a replica serves them:

- ``continuous`` (iteration-level batching, how vLLM, TGI, TensorRT-LLM and SGLang serve; the default): a
  replica decodes its running batch of ``b`` sequences at ``decode_tokens_per_s(b) / b`` tokens/s each.  At
  every membership change it admits queued requests (FIFO) up to ``max_batch`` sequences and prefills their
  prompts together at ``prefill_tokens_per_s(k)`` for the ``k`` admitted, pausing the running sequences'
  decode meanwhile (prefill before decode, as vLLM's default scheduler); a sequence leaves the batch as soon as
  its own output is done.  An arrival goes to an idle replica, else to the running replica with the fewest
  sequences that has a free slot (least outstanding requests), else waits; a replica that is prefilling takes
  the queue at the end of its prefill.  Between membership changes the batch is advanced analytically: every
  sequence gains the same tokens, so one cumulative per-sequence token count and a heap of the counts at
  which each sequence is done give the next departure, and events happen only at joins and leaves.  Decode is
  treated as continuous in time (a join does not wait for the current decode step to end; one step is
  ``b / decode_tokens_per_s(b)``, 13-16 ms for the default profile).
- ``static`` (conservative): a free replica takes up to ``max_batch`` queued requests as one batch, prefills
  all prompts at the profile's prefill rate for that batch size, then decodes every sequence at
  ``decode_tokens_per_s(b) / b`` tokens/s and is busy until the longest output is done.

A request's time to first token is its wait plus its prefill; its end-to-end latency adds its own output
tokens at the per-sequence decode rate(s) of the batch(es) it decodes in.

Events are kept to O(1) per request or batch: arrivals are a sorted array that free replicas read, and the
arrival process is only woken while some replica is idle (or, with continuous batching, has a free slot).
Hourly figures come from interval arithmetic on the replicas' lifetimes and busy periods, not from per-hour
events.

The autoscaler looks every ``interval_s``: demand is ``(requests in service + queued) / max_batch`` (batch
slots, since a replica with a batch of one is busy but mostly free); the replicas it wants are
``ceil(demand / target_utilization)`` within ``[min_warm_replicas, max_replicas]``.
A scale-up is asked at once and serves after ``scale_up_lag_s + cold_start_s``; a scale-down keeps the
most replicas any look of the last ``scale_down_delay_s`` wanted (Kubernetes HPA's stabilisation window),
releasing replicas still starting first, then idle ones, then busy ones after their batch (with continuous
batching a busy replica being released admits nothing more and stops when its last sequence is done).
The first ``min_warm_replicas`` replicas are the warm floor and never released.

Replica lifecycle (spot and a floor that varies by hour):

- ``spot="burst"`` runs the autoscaled replicas on spot, ``spot="all"`` the floor too.  A spot replica is
  revoked at a constant hazard ``spot_hazard_per_hour`` from the moment it is asked for (cold start included):
  its lifetime is exponential, drawn from ``seed``.  The requests it is serving (its static batch, or every
  running sequence with continuous batching, which restart from their prefill) are re-queued
  (ahead of later arrivals, keeping their arrival time, so their wait includes the lost work; counted in
  ``requeued``), and a replacement is asked at once and serves after ``cold_start_s`` (the instance group
  replaces it, no ``scale_up_lag_s``).  The replacement runs on spot again (``spot_replacement="spot"``) or on
  demand (``"on-demand"``).  A revoked autoscaled replica whose retirement was pending is not replaced.
- ``floor_by_hour`` gives the warm floor of each hour of the replay.  A rise is asked
  ``scale_up_lag_s + cold_start_s`` before its hour starts (scheduled scaling, so the floor is warm at the hour),
  promoting running autoscaled replicas first; a fall at the hour demotes floor replicas to autoscaled ones,
  which the autoscaler releases like any other.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from scenarios.errors import InputError
from scenarios.inference_config import ScalingPolicy, ServingProfile, Slo


@dataclass
class InferenceReplay:
    """What one replay produced.

    Attributes
    ----------
    requests
        Per request: ``arrival_s``, ``wait_s``, ``ttft_s``, ``e2e_s`` [s], ``input_tokens``,
        ``output_tokens``, ``status`` (``served``, ``api_overflow``, ``unserved``), ``requeued`` (times the
        request was re-queued by a revocation).
    replicas
        Per replica: ``replica``, ``floor`` (warm floor or autoscaled when asked), ``asked_s``, ``ready_s``,
        ``stop_s``, ``busy_s`` [s], ``spot``, ``revoked``.  A replica is paid from ``asked_s`` (cold start
        included) to ``stop_s``.
    hourly
        Per hour: see :func:`hourly_table`.
    events
        SimPy events the replay scheduled.
    wall_s
        Wall time of the replay [s].
    decoded_tokens
        Output tokens the replicas decoded, integrated from each decode interval's duration and batch rate
        [tokens] (continuous batching only, else NaN; a conservation check against the served requests).
    """

    requests: pd.DataFrame
    replicas: pd.DataFrame
    hourly: pd.DataFrame
    events: int
    wall_s: float
    horizon_s: float
    gpus_per_replica: int
    notes: list[str] = field(default_factory=list)
    decoded_tokens: float = float("nan")

    def slo_attainment(self, slo: Slo) -> float:
        """Share of requests that met both latency targets [fraction].

        Requests sent to the API count as met (the API is assumed to meet the SLO); unserved ones as missed.
        """
        r = self.requests
        if len(r) == 0:
            return 1.0
        met = ((r["status"] == "served") & (r["ttft_s"] <= slo.ttft_s) & (r["e2e_s"] <= slo.e2e_s)) | (
            r["status"] == "api_overflow")
        return float(met.mean())

    def replica_hours(self) -> float:
        """Replica-hours paid over the replay [replica-h]."""
        return float((self.replicas["stop_s"] - self.replicas["asked_s"]).sum() / 3600.0)


def _overlap_upto(starts: np.ndarray, ends: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Total length of the intervals ``[starts, ends)`` lying before each bound [s].

    ``F(T) = sum_{s<T} (T - s) - sum_{e<T} (T - e)``, evaluated with sorted arrays and prefix sums.
    """
    s = np.sort(starts)
    e = np.sort(ends)
    cs = np.concatenate([[0.0], np.cumsum(s)])
    ce = np.concatenate([[0.0], np.cumsum(e)])
    ks = np.searchsorted(s, bounds, side="left")
    ke = np.searchsorted(e, bounds, side="left")
    return (ks * bounds - cs[ks]) - (ke * bounds - ce[ke])


def hourly_per_interval(starts: np.ndarray, ends: np.ndarray, hours: int) -> np.ndarray:
    """Seconds of the intervals ``[starts, ends)`` in each hour ``0..hours-1`` [s]."""
    bounds = np.arange(hours + 1, dtype=float) * 3600.0
    return np.diff(_overlap_upto(np.asarray(starts, float), np.asarray(ends, float), bounds))


class _Replay:
    """The SimPy model (internal; use :func:`replay`)."""

    def __init__(self, arrival_s: np.ndarray, input_tokens: np.ndarray, output_tokens: np.ndarray,
                 profile: ServingProfile, policy: ScalingPolicy, horizon_s: float, initial: int,
                 autoscale: bool, spot: str = "none", spot_hazard_per_hour: float = 0.0,
                 spot_replacement: str = "spot", seed: int = 0, floor_by_hour: list[int] | None = None) -> None:
        self.env = simpy.Environment()
        self.arr = arrival_s
        self.inp = input_tokens
        self.out = output_tokens
        self.n = len(arrival_s)
        self.profile = profile
        self.policy = policy
        self.horizon = horizon_s
        self.autoscale = autoscale
        bs = np.arange(1, profile.max_batch + 1, dtype=float)
        self.prefill = np.interp(bs, profile.batch_sizes, profile.prefill_tokens_per_s).tolist()
        self.decode = np.interp(bs, profile.batch_sizes, profile.decode_tokens_per_s).tolist()
        self.head = 0            # next request no replica has taken
        self.next_arr = 0        # next arrival the arrival process will signal
        self.arr_l: list[float] = arrival_s.tolist()
        self.inp_l: list[float] = input_tokens.tolist()
        self.out_l: list[float] = output_tokens.tolist()
        nan = float("nan")
        self.start_l: list[float] = [nan] * self.n
        self.ttft_l: list[float] = [nan] * self.n
        self.e2e_l: list[float] = [nan] * self.n
        self.status_l: list[int] = [0] * self.n   # 0 unserved, 1 served, 2 api overflow
        self.idle: list[tuple[int, simpy.Event]] = []
        self.idle_waiter: simpy.Event | None = None
        self.events = 0
        self.busy = 0
        self.inflight = 0
        self.starting = 0
        self.ready = 0
        self.retire_busy = 0
        self.continuous = profile.batching == "continuous"
        self.open: dict[int, int] = {}        # continuous: decoding replica with a free slot -> its sequences
        self.draining = 0                     # continuous: released replicas finishing their sequences
        self.decoded = 0.0
        # continuous: per running replica its state (see _replica_continuous), to finish the sequences in flight
        # at the horizon and to re-queue them on a revocation
        self.cstate: dict[int, list[Any]] = {}
        self.rep: list[dict[str, Any]] = []
        self.batches_s: list[float] = []
        self.batches_e: list[float] = []
        # replica lifecycle: spot revocations, re-queued requests, a floor per hour
        self.spot = spot
        self.hazard_s = spot_hazard_per_hour / 3600.0
        self.spot_replacement = spot_replacement
        self.rng = np.random.default_rng(seed)
        self.retry: list[int] = []                 # re-queued request indices, in arrival order
        self.requeued: list[int] = [0] * self.n
        self.cur: dict[int, tuple[Any, int]] = {}  # replica -> (requests in its batch, batch index)
        self.proc: dict[int, simpy.Process] = {}
        self.floor_iv: list[list[float]] = []      # [start, end] of each spell of a replica in the floor
        self.floor_by_hour = floor_by_hour
        self.floor_target = policy.min_warm_replicas if floor_by_hour is None else int(floor_by_hour[0])
        for i in range(initial):
            self._add(cold=False, floor=i < self.floor_target)
        self.env.process(self._arrivals())
        if floor_by_hour is not None:
            self.env.process(self._floor_schedule())
        if autoscale:
            self.env.process(self._autoscaler())

    # -- replicas ---------------------------------------------------------------------------------
    def _add(self, cold: bool, floor: bool = False, spot: bool | None = None, lag: bool = True) -> None:
        rid = len(self.rep)
        now = self.env.now
        delay = ((self.policy.scale_up_lag_s if lag else 0.0) + self.profile.cold_start_s) if cold else 0.0
        if spot is None:
            spot = self.spot == "all" or (self.spot == "burst" and not floor)
        self.rep.append({"replica": rid, "floor": floor, "asked_s": now, "ready_s": now + delay,
                         "stop_s": np.nan, "busy_s": 0.0, "spot": spot, "revoked": False,
                         "in_floor": False, "floor_iv": None})
        if floor:
            self._floor_on(rid)
        if delay > 0:
            self.starting += 1
        else:
            self.ready += 1
        self.proc[rid] = self.env.process(
            (self._replica_continuous if self.continuous else self._replica)(rid, delay))
        if spot and self.hazard_s > 0:
            life = float(self.rng.exponential(1.0 / self.hazard_s))
            if now + life < self.horizon:
                self.env.process(self._revoke_at(rid, life))

    def _floor_on(self, rid: int) -> None:
        rec = self.rep[rid]
        rec["in_floor"] = True
        rec["floor_iv"] = len(self.floor_iv)
        self.floor_iv.append([self.env.now, math.inf])

    def _floor_off(self, rid: int) -> None:
        rec = self.rep[rid]
        rec["in_floor"] = False
        if rec["floor_iv"] is not None:
            self.floor_iv[rec["floor_iv"]][1] = self.env.now
            rec["floor_iv"] = None

    def _revoke_at(self, rid: int, after: float) -> Generator[simpy.Event, Any, None]:
        self.events += 1
        yield self.env.timeout(after)
        rec = self.rep[rid]
        if np.isfinite(rec["stop_s"]):
            return
        now = self.env.now
        rec["revoked"] = True
        floor = bool(rec["in_floor"])
        cur = self.cur.pop(rid, None)
        cst = self.cstate.pop(rid, None)
        if cst is not None and cst[0]:       # continuous batching, running: its sequences go back to the queue
            self._revoke_continuous(rid, cst, now)
        elif cur is not None:                # busy: its batch goes back to the queue
            ids, bi = cur
            for i in ids:
                self.start_l[i] = self.ttft_l[i] = self.e2e_l[i] = math.nan
                self.status_l[i] = 0
                self.requeued[i] += 1
            self.retry = sorted(self.retry + list(ids))
            rec["busy_s"] -= self.batches_e[bi] - now
            self.batches_e[bi] = now
            self.busy -= 1
            self.inflight -= len(ids)
            self.proc[rid].interrupt("revoked")
        else:
            for pos, (r, ev) in enumerate(self.idle):
                if r == rid:                 # idle: wake it to stop
                    del self.idle[pos]
                    ev.succeed("stop")
                    break
        self._stop(rid)
        if not floor and self.retire_busy > 0:
            self.retire_busy -= 1            # the autoscaler was releasing a replica anyway
        else:
            self._add(cold=True, floor=floor, spot=self.spot_replacement == "spot", lag=False)
        if self.retry:
            self._wake_one()

    def _revoke_continuous(self, rid: int, cst: list[Any], now: float) -> None:
        """Re-queue the sequences of a revoked continuous-batching replica and stop its process."""
        done, _, t, per_seq, resume, spell, draining = cst
        rec = self.rep[rid]
        ids = [i for _, i in done]
        for i in ids:
            self.start_l[i] = self.ttft_l[i] = self.e2e_l[i] = math.nan
            self.status_l[i] = 0
            self.requeued[i] += 1
        self.retry = sorted(self.retry + ids)
        self.inflight -= len(ids)
        if per_seq > 0:                      # decoding since t: that work was done (and is lost)
            rec["busy_s"] += now - t
            self.decoded += per_seq * len(ids) * (now - t)
        elif resume > now:                   # prefilling: busy time was counted to its end
            rec["busy_s"] -= resume - now
        if spell >= 0:
            self.batches_e[spell] = now
        if draining:
            self.draining -= 1
        self.open.pop(rid, None)
        done.clear()
        self.proc[rid].interrupt("revoked")

    def _take_retry(self, now: float, max_b: int) -> list[int]:
        """Re-queued requests for the next batch (overflowing long waits to the API like the queue does)."""
        overflow = self.policy.api_overflow_wait_s
        take: list[int] = []
        rest: list[int] = []
        for i in self.retry:
            if overflow is not None and now - self.arr_l[i] > overflow:
                self.status_l[i] = 2
            elif len(take) < max_b:
                take.append(i)
            else:
                rest.append(i)
        self.retry = rest
        return take

    def _floor_schedule(self) -> Generator[simpy.Event, Any, None]:
        fb = self.floor_by_hour
        assert fb is not None
        lead = self.policy.scale_up_lag_s + self.profile.cold_start_s
        changes = []
        for h in range(1, len(fb)):
            if fb[h] > fb[h - 1]:
                changes.append((max(h * 3600.0 - lead, 0.0), int(fb[h])))
            elif fb[h] < fb[h - 1]:
                changes.append((h * 3600.0, int(fb[h])))
        for t, target in sorted(changes):
            if t > self.env.now:
                self.events += 1
                yield self.env.timeout(t - self.env.now)
            self._set_floor(target)

    def _set_floor(self, target: int) -> None:
        live = [r for r in self.rep if not np.isfinite(r["stop_s"])]
        floor = [r for r in live if r["in_floor"]]
        self.floor_target = target
        if target > len(floor):
            need = target - len(floor)
            for r in sorted((r for r in live if not r["in_floor"]), key=lambda r: r["ready_s"]):
                if need == 0:
                    break
                self._floor_on(int(r["replica"]))
                need -= 1
            for _ in range(need):
                self._add(cold=True, floor=True)
        else:
            for r in reversed(floor[target:]):
                self._floor_off(int(r["replica"]))

    def _warm_up(self, rid: int, delay: float) -> Generator[simpy.Event, Any, bool]:
        """Wait out a replica's cold start of ``delay`` seconds; False when it was released meanwhile."""
        if delay > 0:
            self.events += 1
            yield self.env.timeout(delay)
            if np.isfinite(self.rep[rid]["stop_s"]):      # released while starting
                return False
            self.starting -= 1
            self.ready += 1
        return True

    def _replica(self, rid: int, delay: float) -> Generator[simpy.Event, Any, None]:
        env = self.env
        rec = self.rep[rid]
        if not (yield from self._warm_up(rid, delay)):
            return
        arr, inp, out, n = self.arr_l, self.inp_l, self.out_l, self.n
        start, ttft, e2e, status = self.start_l, self.ttft_l, self.e2e_l, self.status_l
        prefill, decode = self.prefill, self.decode
        max_b = self.profile.max_batch
        overflow = self.policy.api_overflow_wait_s
        timeout = env.timeout
        while True:
            now = env.now
            if self.retire_busy > 0 and not rec["in_floor"]:
                self.retire_busy -= 1
                self._stop(rid)
                return
            k = self.head
            if overflow is not None:
                while k < n and arr[k] <= now and now - arr[k] > overflow:
                    status[k] = 2
                    k += 1
                self.head = k
            r = self._take_retry(now, max_b) if self.retry else []   # re-queued by a revocation: first
            j = k
            lim = min(k + max_b - len(r), n)
            while j < lim and arr[j] <= now:
                j += 1
            if j == k and not r:
                ev = env.event()
                self.idle.append((rid, ev))
                if self.idle_waiter is not None and not self.idle_waiter.triggered:
                    self.idle_waiter.succeed()
                self.events += 1
                cause = yield ev
                if cause == "stop":
                    self._stop(rid)
                    return
                continue
            self.head = j
            ids = range(k, j) if not r else [*r, *range(k, j)]
            b = len(ids)
            pre = now + (sum(inp[k:j]) + sum(inp[i] for i in r)) / prefill[b - 1]
            per_token = b / decode[b - 1]
            longest = 0.0
            for i in ids:
                a = arr[i]
                o = out[i]
                start[i] = now
                ttft[i] = pre - a
                e2e[i] = pre + o * per_token - a
                status[i] = 1
                if o > longest:
                    longest = o
            busy = pre - now + longest * per_token
            rec["busy_s"] += busy
            self.batches_s.append(now)
            self.batches_e.append(now + busy)
            self.busy += 1
            self.inflight += b
            self.events += 1
            self.cur[rid] = (ids, len(self.batches_s) - 1)
            try:
                yield timeout(busy)
            except simpy.Interrupt:
                return                          # revoked: _revoke_at re-queued the batch and stopped the replica
            del self.cur[rid]
            self.busy -= 1
            self.inflight -= b

    def _replica_continuous(self, rid: int, delay: float) -> Generator[simpy.Event, Any, None]:
        """A replica with continuous (iteration-level) batching; see the module docstring."""
        env = self.env
        rec = self.rep[rid]
        if not (yield from self._warm_up(rid, delay)):
            return
        arr, inp, out, n = self.arr_l, self.inp_l, self.out_l, self.n
        start, ttft, e2e, status = self.start_l, self.ttft_l, self.e2e_l, self.status_l
        prefill, decode = self.prefill, self.decode
        max_b = self.profile.max_batch
        overflow = self.policy.api_overflow_wait_s
        timeout = env.timeout
        heappush, heappop = heapq.heappush, heapq.heappop
        done: list[tuple[float, int]] = []   # (per-sequence tokens decoded when the sequence is done, request)
        prog = 0.0                           # tokens every sequence of the batch has decoded since it was empty
        spell = -1                           # index of the open busy spell in batches_s/batches_e
        draining = False
        # shared with _finish_in_flight and a revocation: [sequences, prog at t, t, tokens/s per sequence (0 while
        # prefilling), end of the prefill, busy spell, draining]
        st: list[Any] = [done, 0.0, 0.0, 0.0, 0.0, -1, False]
        self.cstate[rid] = st
        while True:
            now = env.now
            # leave: sequences whose output is done
            tol = 1e-9 * (1.0 + prog)
            while done and done[0][0] <= prog + tol:
                i = heappop(done)[1]
                e2e[i] = now - arr[i]
                self.inflight -= 1
            b = len(done)
            if not draining and self.retire_busy > 0 and not rec["in_floor"]:
                self.retire_busy -= 1
                self.draining += 1
                draining = st[6] = True
                if self.retry or (self.head < n and arr[self.head] <= now):   # work sent here: pass it on
                    self._wake_one()
            # join: admit queued requests into the free slots and prefill them (the batch's decode pauses)
            if not draining and b < max_b:
                r = self._take_retry(now, max_b - b) if self.retry else []   # re-queued by a revocation: first
                k = self.head
                if overflow is not None:
                    while k < n and arr[k] <= now and now - arr[k] > overflow:
                        status[k] = 2
                        k += 1
                    self.head = k
                j = k
                lim = min(k + max_b - b - len(r), n)
                while j < lim and arr[j] <= now:
                    j += 1
                if j > k or r:
                    self.head = j
                    if spell < 0:
                        spell = st[5] = len(self.batches_s)
                        self.batches_s.append(now)
                        self.batches_e.append(math.inf)
                    ids = range(k, j) if not r else [*r, *range(k, j)]
                    pre = (sum(inp[k:j]) + sum(inp[i] for i in r)) / prefill[len(ids) - 1]
                    for i in ids:
                        start[i] = now
                        ttft[i] = now + pre - arr[i]
                        status[i] = 1
                        heappush(done, (prog + out[i], i))
                    self.inflight += len(ids)
                    if pre > 0:
                        rec["busy_s"] += pre
                        st[1], st[2], st[3], st[4] = prog, now, 0.0, now + pre
                        self.events += 1
                        try:
                            yield timeout(pre)
                        except simpy.Interrupt:      # revoked: _revoke_continuous re-queued the batch
                            return
                    continue
            if b == 0:
                prog = 0.0
                if spell >= 0:
                    self.batches_e[spell] = now
                    spell = st[5] = -1
                if draining:
                    self.draining -= 1
                    self._stop(rid)
                    self.cstate.pop(rid, None)
                    return
                ev = env.event()
                self.idle.append((rid, ev))
                if self.idle_waiter is not None and not self.idle_waiter.triggered:
                    self.idle_waiter.succeed()
                self.events += 1
                cause = yield ev
                if cause == "stop":
                    self._stop(rid)
                    self.cstate.pop(rid, None)
                    return
                continue
            # decode until the next sequence is done, or until an arrival joins (an interrupt)
            per_seq = decode[b - 1] / b
            if not draining and b < max_b:
                self.open[rid] = b
                if self.idle_waiter is not None and not self.idle_waiter.triggered:
                    self.idle_waiter.succeed()
            st[1], st[2], st[3] = prog, now, per_seq
            self.events += 1
            try:
                yield timeout((done[0][0] - prog) / per_seq)
                prog = done[0][0]
            except simpy.Interrupt as intr:
                if intr.cause == "revoked":         # _revoke_continuous re-queued the batch
                    return
                prog = min(prog + per_seq * (env.now - now), done[0][0])
            self.open.pop(rid, None)
            rec["busy_s"] += env.now - now
            self.decoded += decode[b - 1] * (env.now - now)

    def _finish_in_flight(self) -> None:
        """Continuous batching: end-to-end latency of the sequences running at the horizon.

        They finish as the batch drains with no more joins, and their replica's ``busy_s`` and the decoded
        tokens count that drain, as a static batch admitted before the horizon finishes and counts after it (the
        hourly table clips busy time at the horizon).
        """
        arr, e2e, decode = self.arr_l, self.e2e_l, self.decode
        for rid, (done, prog, t, per_seq, resume, *_) in self.cstate.items():
            if not done:
                continue
            rec = self.rep[rid]
            if per_seq > 0:       # decoding since t
                step = min(per_seq * (self.horizon - t), done[0][0] - prog)
                rec["busy_s"] += self.horizon - t
                self.decoded += step * len(done)
                prog += step
                t = self.horizon
            else:                 # prefilling until resume (its busy time is counted)
                t = resume
            while done:
                b = len(done)
                f, i = heapq.heappop(done)
                dt = (f - prog) * b / decode[b - 1]
                t += dt
                rec["busy_s"] += dt
                self.decoded += (f - prog) * b
                prog = f
                e2e[i] = t - arr[i]

    def _stop(self, rid: int) -> None:
        rec = self.rep[rid]
        if np.isfinite(rec["stop_s"]):
            return
        if self.env.now < rec["ready_s"]:
            self.starting -= 1
        else:
            self.ready -= 1
        rec["stop_s"] = self.env.now
        if rec["in_floor"]:
            self._floor_off(rid)

    # -- arrivals ---------------------------------------------------------------------------------
    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            if not self.idle and not self.open:
                self.idle_waiter = env.event()
                self.events += 1
                yield self.idle_waiter
                self.idle_waiter = None
                continue
            nxt = max(self.next_arr, self.head)
            if nxt >= self.n:
                return
            t = self.arr_l[nxt]
            if t > env.now:
                self.events += 1
                yield env.timeout(t - env.now)
            self.next_arr = nxt + 1
            self._wake_one()

    def _wake_one(self) -> None:
        """Send the queue's head to an idle replica, else (continuous) to the running one with fewest sequences."""
        if self.idle:
            _, ev = self.idle.pop()
            ev.succeed("work")
        elif self.open:
            rid = min(self.open, key=self.open.__getitem__)
            del self.open[rid]
            self.events += 1
            self.proc[rid].interrupt("join")

    # -- autoscaler -------------------------------------------------------------------------------
    def _autoscaler(self) -> Generator[simpy.Event, Any, None]:
        env, pol = self.env, self.policy
        recent: deque[tuple[float, int]] = deque()   # (time, replicas wanted) over the scale-down window
        while env.now < self.horizon:
            self.events += 1
            yield env.timeout(pol.interval_s)
            now = env.now
            k = self.head
            queued = int(np.searchsorted(self.arr, now, side="right")) - k + len(self.retry)
            demand = (self.inflight + max(queued, 0)) / self.profile.max_batch
            want = min(max(math.ceil(demand / pol.target_utilization - 1e-9), self.floor_target),
                       pol.max_replicas)
            recent.append((now, want))
            while recent[0][0] <= now - pol.scale_down_delay_s:
                recent.popleft()
            have = self.ready + self.starting - self.retire_busy - self.draining
            if want > have:
                for _ in range(want - have):
                    self._add(cold=True)
            else:
                # release only what no tick of the last scale_down_delay_s wanted (HPA stabilisation window)
                keep = max(w for _, w in recent)
                if keep < have:
                    self._release(have - keep)

    def _release(self, n: int) -> None:
        # starting replicas first (newest first), then idle ones, then busy ones after their batch
        for rec in reversed(self.rep):
            if n == 0:
                return
            if not rec["in_floor"] and not np.isfinite(rec["stop_s"]) and self.env.now < rec["ready_s"]:
                self._stop(int(rec["replica"]))
                n -= 1
        keep: list[tuple[int, simpy.Event]] = []
        for rid, ev in self.idle:
            if n > 0 and not self.rep[rid]["in_floor"]:
                ev.succeed("stop")
                n -= 1
            else:
                keep.append((rid, ev))
        self.idle = keep
        self.retire_busy += n

    def run(self) -> None:
        self.env.run(until=self.horizon)
        self._finish_in_flight()
        for iv in self.floor_iv:
            iv[1] = min(iv[1], self.horizon)
        for rec in self.rep:
            if not np.isfinite(rec["stop_s"]):
                rec["stop_s"] = self.horizon


def replay(arrival_s: np.ndarray, input_tokens: np.ndarray, output_tokens: np.ndarray, profile: ServingProfile,
           policy: ScalingPolicy, *, horizon_s: float | None = None, initial_replicas: int | None = None,
           autoscale: bool = True, spot: str = "none", spot_hazard_per_hour: float = 0.0,
           spot_replacement: str = "spot", seed: int = 0, floor_by_hour: Sequence[int] | None = None
           ) -> InferenceReplay:
    """Replay requests on replicas of one model (see the module docstring).

    Parameters
    ----------
    arrival_s
        Arrival times from the start of the replay, sorted [s].
    input_tokens, output_tokens
        Prompt and output length of each request [tokens] (floats are allowed, e.g. for queueing tests).
    profile
        Serving profile of one replica.
    policy
        Scaling policy (warm floor, target utilisation, lags, bounds, API overflow).
    horizon_s
        Length of the replay [s]; default: the last arrival rounded up to a whole hour.
    initial_replicas
        Warm replicas at time 0; default: the warm floor.
    autoscale
        Run the autoscaler; without it the initial replicas serve alone (static provisioning).
    spot
        Which replicas run on spot: ``none``, ``burst`` (the autoscaled ones) or ``all``.
    spot_hazard_per_hour
        Revocation hazard of one spot replica [1/h] (e.g. :meth:`scenarios.schema.SpotOffer.hazard`).
    spot_replacement
        What replaces a revoked spot replica: ``spot`` or ``on-demand``.
    seed
        Seed of the spot lifetimes.
    floor_by_hour
        Warm floor of each hour of the replay [replicas] (length: the replay's hours); default: the policy's
        ``min_warm_replicas`` in every hour.

    Returns
    -------
    InferenceReplay
    """
    arr = np.asarray(arrival_s, dtype=float)
    inp = np.asarray(input_tokens, dtype=float)
    out = np.asarray(output_tokens, dtype=float)
    if not (len(arr) == len(inp) == len(out)):
        raise InputError("arrival_s, input_tokens and output_tokens differ in length")
    if len(arr) and (np.any(np.diff(arr) < 0) or arr[0] < 0):
        raise InputError("arrival times must be sorted and non-negative", fix="sort the requests by time")
    if np.any(inp < 0) or np.any(out < 0):
        raise InputError("token counts must be non-negative")
    hours = max(1, math.ceil((arr[-1] if len(arr) else 0.0) / 3600.0 + 1e-12)) if horizon_s is None else \
        max(1, math.ceil(horizon_s / 3600.0))
    horizon = float(horizon_s) if horizon_s is not None else hours * 3600.0
    if spot not in ("none", "burst", "all") or spot_replacement not in ("spot", "on-demand"):
        raise InputError(f"spot must be none, burst or all and spot_replacement spot or on-demand, not {spot!r} / "
                         f"{spot_replacement!r}")
    if spot_hazard_per_hour < 0:
        raise InputError("spot_hazard_per_hour must be non-negative")
    fb = None
    if floor_by_hour is not None:
        fb = [int(x) for x in floor_by_hour]
        if len(fb) != hours or min(fb) < 0:
            raise InputError(f"floor_by_hour needs {hours} non-negative values (one per hour), got {len(fb)}")
        if not autoscale:
            raise InputError("floor_by_hour needs the autoscaler")
    floor0 = policy.min_warm_replicas if fb is None else fb[0]
    initial = floor0 if initial_replicas is None else int(initial_replicas)
    if initial < 1 and not autoscale:
        raise InputError("static provisioning needs at least one replica")
    t0 = time.perf_counter()
    sim = _Replay(arr, inp, out, profile, policy, horizon, initial, autoscale, spot=spot,
                  spot_hazard_per_hour=float(spot_hazard_per_hour), spot_replacement=spot_replacement, seed=seed,
                  floor_by_hour=fb)
    sim.run()
    wall = time.perf_counter() - t0
    status = np.array(["unserved", "served", "api_overflow"])[np.asarray(sim.status_l, dtype=np.int64)]
    # requests still queued at the horizon: sent to the API when overflow is allowed, else unserved
    if policy.api_overflow_wait_s is not None:
        status = np.where(status == "unserved", "api_overflow", status)
    requests = pd.DataFrame({"arrival_s": arr, "wait_s": np.asarray(sim.start_l) - arr,
                             "ttft_s": np.asarray(sim.ttft_l), "e2e_s": np.asarray(sim.e2e_l),
                             "input_tokens": inp, "output_tokens": out, "status": status,
                             "requeued": np.asarray(sim.requeued, dtype=np.int64)})
    replicas = pd.DataFrame(sim.rep, columns=["replica", "floor", "asked_s", "ready_s", "stop_s", "busy_s", "spot",
                                              "revoked"])
    fiv = np.asarray(sim.floor_iv, dtype=float).reshape(-1, 2)
    hourly = hourly_table(requests, replicas, np.asarray(sim.batches_s), np.asarray(sim.batches_e), hours,
                          floor0 if fb is None else np.asarray(fb), floor_intervals=(fiv[:, 0], fiv[:, 1]))
    notes = []
    n_un = int((status == "unserved").sum())
    if n_un:
        notes.append(f"{n_un} requests were still queued at the end of the replay (counted as missing the SLO)")
    return InferenceReplay(requests=requests, replicas=replicas, hourly=hourly, events=sim.events, wall_s=wall,
                           horizon_s=horizon, gpus_per_replica=profile.gpus_per_replica, notes=notes,
                           decoded_tokens=sim.decoded if sim.continuous else float("nan"))


def hourly_table(requests: pd.DataFrame, replicas: pd.DataFrame, batch_start: np.ndarray, batch_end: np.ndarray,
                 hours: int, floor: int | np.ndarray,
                 floor_intervals: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Per hour of the replay: requests, tokens, replica-hours (floor, autoscaled, spot, busy, idle), overflow.

    Columns: ``hour``, ``requests``, ``input_tokens``, ``output_tokens``, ``served``, ``api_overflow``,
    ``unserved``, ``warm_floor_replicas`` [replicas], ``replica_hours``, ``floor_replica_hours``,
    ``autoscaled_replica_hours``, ``spot_replica_hours``, ``spot_floor_replica_hours``,
    ``busy_replica_hours``, ``idle_replica_hours`` [replica-h], ``mean_replicas`` [replicas], ``revocations``
    (spot replicas revoked in the hour), ``requeued`` (re-queues of requests arriving in the hour).  Requests
    belong to the hour they arrive in; busy time of a batch belongs to the hours it spans.  Floor time comes
    from ``floor_intervals`` (start, end of each spell of a replica in the floor [s]); default: the lifetimes of
    replicas asked as floor.
    """
    h = np.minimum((requests["arrival_s"].to_numpy() // 3600).astype(np.int64), hours - 1)
    horizon = hours * 3600.0
    stop = np.minimum(replicas["stop_s"].to_numpy(float), horizon)
    asked = replicas["asked_s"].to_numpy(float)
    fl = replicas["floor"].to_numpy(bool)
    total = hourly_per_interval(asked, stop, hours) / 3600.0
    if floor_intervals is None:
        floor_h = hourly_per_interval(asked[fl], stop[fl], hours) / 3600.0
    else:
        floor_h = hourly_per_interval(floor_intervals[0], np.minimum(floor_intervals[1], horizon), hours) / 3600.0
    sp = replicas["spot"].to_numpy(bool) if "spot" in replicas else np.zeros(len(replicas), bool)
    spot_h = hourly_per_interval(asked[sp], stop[sp], hours) / 3600.0
    spot_floor_h = hourly_per_interval(asked[sp & fl], stop[sp & fl], hours) / 3600.0
    rv = replicas["revoked"].to_numpy(bool) if "revoked" in replicas else np.zeros(len(replicas), bool)
    revoked = np.bincount(np.minimum((stop[rv] // 3600).astype(np.int64), hours - 1), minlength=hours)[:hours]
    busy = hourly_per_interval(batch_start, np.minimum(batch_end, horizon), hours) / 3600.0 if len(batch_start) \
        else np.zeros(hours)
    st = requests["status"].to_numpy()

    def count(mask: np.ndarray | None = None, w: np.ndarray | None = None) -> np.ndarray:
        hh = h if mask is None else h[mask]
        ww = None if w is None else (w if mask is None else w[mask])
        return np.bincount(hh, weights=ww, minlength=hours)[:hours]

    return pd.DataFrame({
        "hour": np.arange(hours),
        "requests": count().astype(np.int64),
        "input_tokens": count(w=requests["input_tokens"].to_numpy(float)),
        "output_tokens": count(w=requests["output_tokens"].to_numpy(float)),
        "served": count(st == "served").astype(np.int64),
        "api_overflow": count(st == "api_overflow").astype(np.int64),
        "unserved": count(st == "unserved").astype(np.int64),
        "warm_floor_replicas": floor,
        "replica_hours": total,
        "floor_replica_hours": floor_h,
        "autoscaled_replica_hours": total - floor_h,
        "spot_replica_hours": spot_h,
        "spot_floor_replica_hours": spot_floor_h,
        "busy_replica_hours": busy,
        "idle_replica_hours": total - busy,
        "mean_replicas": total,
        "revocations": revoked.astype(np.int64),
        "requeued": (count(w=requests["requeued"].to_numpy(float)) if "requeued" in requests
                     else np.zeros(hours)).astype(np.int64),
    })


def hourly_slo(rep: InferenceReplay, slo: Slo) -> pd.Series:
    """SLO attainment of the requests arriving in each hour [fraction] (API overflow counts as met)."""
    r = rep.requests
    met = ((r["status"] == "served") & (r["ttft_s"] <= slo.ttft_s) & (r["e2e_s"] <= slo.e2e_s)) | (
        r["status"] == "api_overflow")
    hours = len(rep.hourly)
    h = np.minimum((r["arrival_s"].to_numpy() // 3600).astype(np.int64), hours - 1)
    n = np.bincount(h, minlength=hours)
    k = np.bincount(h, weights=met.to_numpy(float), minlength=hours)
    return pd.Series(np.where(n > 0, k / np.maximum(n, 1), 1.0), name="slo_attainment")
