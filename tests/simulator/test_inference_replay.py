"""The inference replay against independent truths: Erlang C, an exact FIFO recursion, hand-worked batches,
and (continuous batching) a token-by-token step simulation."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.errors import InputError
from scenarios.inference_config import ScalingPolicy, ServingProfile, Slo
from simulator.inference import hourly_per_interval, hourly_slo, replay

#: One replica serves one request at a time and its service time is the output "tokens" at 1 token/s.
UNIT = ServingProfile(family="x", batch_sizes=[1], prefill_tokens_per_s=[1.0], decode_tokens_per_s=[1.0],
                      max_batch=1, cold_start_s=0.0)


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load ``a = lambda / mu`` (Erlang C), written out here."""
    below = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (below + top)


def mmc(c: int, rho: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lam = rho * c
    return np.cumsum(rng.exponential(1.0 / lam, n)), rng.exponential(1.0, n)


def fifo_waits(arr: np.ndarray, svc: np.ndarray, c: int) -> np.ndarray:
    """Waits of a FIFO queue with c identical servers (Kiefer-Wolfowitz: next customer takes the first free)."""
    free = [0.0] * c
    out = np.empty(len(arr))
    for i, (a, s) in enumerate(zip(arr.tolist(), svc.tolist(), strict=True)):
        f = heapq.heappop(free)
        start = max(f, a)
        out[i] = start - a
        heapq.heappush(free, start + s)
    return out


BATCHING = ["continuous", "static"]


@pytest.mark.parametrize("batching", BATCHING)
@pytest.mark.parametrize("c", [1, 3, 8])
def test_unbatched_replay_equals_the_fifo_recursion_request_by_request(c: int, batching: str) -> None:
    # with max_batch 1 both batching modes are the FIFO c-server queue
    arr, svc = mmc(c, 0.85, 20_000, seed=c)
    rep = replay(arr, np.zeros_like(arr), svc, UNIT.model_copy(update={"batching": batching}),
                 ScalingPolicy(min_warm_replicas=c, max_replicas=c), autoscale=False)
    np.testing.assert_allclose(rep.requests["wait_s"].to_numpy(), fifo_waits(arr, svc, c), atol=1e-9)
    np.testing.assert_allclose(rep.requests["e2e_s"].to_numpy(), fifo_waits(arr, svc, c) + svc, atol=1e-9)


# Sample sizes: the spread of the mean wait over seeds at 500,000 requests is about +-5 % at rho 0.9
# (measured; +-4 % at c=16, rho 0.7), so those cases replay 1,500,000 requests to bring it well inside 3 %.
# Continuous batching (the default) only: with max_batch 1 static batching gives the same waits request by
# request (both equal the FIFO recursion above), and was measured here once with the same printed figures.
@pytest.mark.slow
@pytest.mark.parametrize("batching", ["continuous"])
@pytest.mark.parametrize(("c", "rho", "n"), [(4, 0.7, 400_000), (4, 0.9, 1_500_000), (16, 0.7, 1_500_000),
                                             (16, 0.9, 1_500_000)])
def test_poisson_exponential_unbatched_matches_erlang_c_within_3_percent(c: int, rho: float, n: int,
                                                                          batching: str) -> None:
    arr, svc = mmc(c, rho, n, seed=0)
    rep = replay(arr, np.zeros_like(arr), svc, UNIT.model_copy(update={"batching": batching}),
                 ScalingPolicy(min_warm_replicas=c, max_replicas=c), autoscale=False)
    w = rep.requests["wait_s"].to_numpy()[n // 20:]     # drop the warm-up from an empty system
    a = rho * c
    p_wait = erlang_c(c, a)
    mean_wait = p_wait / (c - a)                          # mu = 1
    print(f"{batching} c={c} rho={rho}: mean wait {w.mean():.5f} vs Erlang C {mean_wait:.5f} "
          f"({100 * (w.mean() / mean_wait - 1):+.2f} %), P(wait) {(w > 0).mean():.5f} vs {p_wait:.5f} "
          f"({100 * ((w > 0).mean() / p_wait - 1):+.2f} %), {rep.events / n:.2f} events/request")
    assert w.mean() == pytest.approx(mean_wait, rel=0.03)
    assert (w > 0).mean() == pytest.approx(p_wait, rel=0.03)


def test_a_static_batch_is_prefilled_together_and_decoded_at_the_shared_rate() -> None:
    # Two requests arrive together on one idle replica. Batch of 2: prefill 1,000 tokens/s, decode 50
    # tokens/s summed over the batch, i.e. 25 tokens/s per sequence.
    prof = ServingProfile(family="x", batch_sizes=[1, 2], prefill_tokens_per_s=[1000.0, 1000.0],
                          decode_tokens_per_s=[40.0, 50.0], max_batch=2, cold_start_s=0.0, batching="static")
    rep = replay(np.array([0.0, 0.0, 1.0]), np.array([300.0, 700.0, 100.0]), np.array([50.0, 100.0, 40.0]), prof,
                 ScalingPolicy(min_warm_replicas=1, max_replicas=1), autoscale=False)
    r = rep.requests
    # prefill of both prompts: 1,000 tokens / 1,000 tokens/s = 1 s
    assert r["ttft_s"].tolist()[:2] == pytest.approx([1.0, 1.0])
    assert r["e2e_s"].tolist()[:2] == pytest.approx([1.0 + 50 / 25, 1.0 + 100 / 25])
    # the third waits for the longest sequence (5 s), then runs alone: 0.1 s prefill, 40 / 40 s decode
    assert r["wait_s"].iloc[2] == pytest.approx(4.0)
    assert r["e2e_s"].iloc[2] == pytest.approx(4.0 + 0.1 + 1.0)
    assert rep.replicas["busy_s"].iloc[0] == pytest.approx(5.0 + 1.1)
    assert rep.hourly["busy_replica_hours"].sum() == pytest.approx(6.1 / 3600)
    assert rep.hourly["idle_replica_hours"].sum() == pytest.approx(1.0 - 6.1 / 3600)


#: Prefill 1,000 tokens/s; decode 40 tokens/s alone, 50 tokens/s summed over a batch of 2 (25 per sequence).
HAND = ServingProfile(family="x", batch_sizes=[1, 2], prefill_tokens_per_s=[1000.0, 1000.0],
                      decode_tokens_per_s=[40.0, 50.0], max_batch=2, cold_start_s=0.0)


def test_continuous_batching_hand_worked_joins_and_leaves() -> None:
    # A (t=0, 500 prompt, 100 output), B (t=1.5, 500, 20), C (t=2.1, 200, 10) on one replica, max batch 2.
    # 0.0-0.5   A prefills alone (500 / 1,000): TTFT A 0.5
    # 0.5-1.5   A decodes alone at 40/s: 40 tokens, 60 left
    # 1.5-2.0   B joins: its prefill (0.5 s) pauses A: TTFT B 0.5
    # 2.0-2.8   A and B decode at 25/s each; C arrives at 2.1, batch full, waits; B's 20 done at 2.8: e2e B 1.3
    # 2.8-3.0   C joins (wait 0.7), prefill 0.2 s: TTFT C 0.9; A has 40 left
    # 3.0-3.4   A and C at 25/s; C's 10 done at 3.4: e2e C 1.3; A has 30 left
    # 3.4-4.15  A alone at 40/s: 30 / 40 = 0.75 s: e2e A 4.15
    arr, inp, out = np.array([0.0, 1.5, 2.1]), np.array([500.0, 500.0, 200.0]), np.array([100.0, 20.0, 10.0])
    pol = ScalingPolicy(min_warm_replicas=1, max_replicas=1)
    rep = replay(arr, inp, out, HAND, pol, autoscale=False)
    r = rep.requests
    assert r["wait_s"].tolist() == pytest.approx([0.0, 0.0, 0.7])
    assert r["ttft_s"].tolist() == pytest.approx([0.5, 0.5, 0.9])
    assert r["e2e_s"].tolist() == pytest.approx([4.15, 1.3, 1.3])
    # busy 0-4.15 without a gap: prefills 1.2 s + decode 2.95 s; 130 output tokens decoded
    assert rep.replicas["busy_s"].iloc[0] == pytest.approx(4.15)
    assert rep.hourly["busy_replica_hours"].sum() * 3600 == pytest.approx(4.15)
    assert rep.decoded_tokens == pytest.approx(130.0)
    # static batching of the same requests (worked the same way): A runs alone until 3.0 (0.5 + 100 / 40);
    # B and C then form one batch: prefill 0.7 s, decode at 25/s: B 20 tokens (0.8 s), C 10 tokens (0.4 s)
    st_ = replay(arr, inp, out, HAND.model_copy(update={"batching": "static"}), pol, autoscale=False).requests
    assert st_["ttft_s"].tolist() == pytest.approx([0.5, 2.2, 1.6])
    assert st_["e2e_s"].tolist() == pytest.approx([3.0, 3.0, 2.0])
    # continuous: the late arrivals start at once instead of waiting for A's batch; A pays for sharing
    assert (r["ttft_s"].iloc[1:] < st_["ttft_s"].iloc[1:]).all()
    assert r["e2e_s"].iloc[0] > st_["e2e_s"].iloc[0]


def test_continuous_batching_sends_an_arrival_to_the_least_loaded_replica() -> None:
    # two replicas, max batch 3, no prompts; decode 40/s alone, 25/s each in a pair, 20/s each in a trio.
    # A (t=0, 100 tokens) and B (t=0.01, 100) land one per replica (an idle replica first); C (0.02, 10) joins
    # one of them; D (0.03, 10) joins the other, the one with fewer sequences (not the first with a free slot).
    # Each pair: the long sequence decodes 0.8 tokens alone, the short one joins and needs 10 / 25 = 0.4 s
    # (e2e 0.4), the long one then has 100 - 0.8 - 10 = 89.2 left at 40/s: 2.23 s more (e2e 0.02 + 0.4 + 2.23)
    prof = ServingProfile(family="x", batch_sizes=[1, 2, 3], prefill_tokens_per_s=[1000.0] * 3,
                          decode_tokens_per_s=[40.0, 50.0, 60.0], max_batch=3, cold_start_s=0.0)
    rep = replay(np.array([0.0, 0.01, 0.02, 0.03]), np.zeros(4), np.array([100.0, 100.0, 10.0, 10.0]), prof,
                 ScalingPolicy(min_warm_replicas=2, max_replicas=2), autoscale=False)
    assert rep.requests["e2e_s"].tolist() == pytest.approx([2.65, 2.65, 0.4, 0.4])
    # an arrival after both are idle again goes to an idle replica and runs alone: 10 / 40 = 0.25 s
    rep = replay(np.array([0.0, 0.01, 5.0]), np.zeros(3), np.array([100.0, 100.0, 10.0]), prof,
                 ScalingPolicy(min_warm_replicas=2, max_replicas=2), autoscale=False)
    assert rep.requests["e2e_s"].tolist() == pytest.approx([2.5, 2.5, 0.25])


def step_reference(arr: np.ndarray, inp: np.ndarray, out: np.ndarray, prof: ServingProfile
                   ) -> tuple[np.ndarray, np.ndarray, float, int]:
    """One replica, step by step as an iteration-level scheduler runs (written out here, no SimPy).

    At each step boundary: arrived requests take the free slots (FIFO) and are prefilled in one step (the
    running sequences wait); otherwise every running sequence decodes one token in a step of
    ``b / decode(b)`` seconds.  Returns TTFT, end-to-end latency, busy time [s] and tokens decoded.
    """
    bs = np.arange(1, prof.max_batch + 1)
    pre = np.interp(bs, prof.batch_sizes, prof.prefill_tokens_per_s)
    dec = np.interp(bs, prof.batch_sizes, prof.decode_tokens_per_s)
    n = len(arr)
    ttft, e2e = np.full(n, np.nan), np.full(n, np.nan)
    t, i, busy, tokens = 0.0, 0, 0.0, 0
    left: dict[int, int] = {}
    while i < n or left:
        if not left and arr[i] > t:
            t = float(arr[i])
        k = i
        while k < n and arr[k] <= t and len(left) + k - i < prof.max_batch:
            k += 1
        if k > i:
            dt = float(inp[i:k].sum()) / pre[k - i - 1]
            t += dt
            busy += dt
            for r in range(i, k):
                ttft[r] = t - arr[r]
                left[r] = int(out[r])
            i = k
        else:
            b = len(left)
            dt = b / dec[b - 1]
            t += dt
            busy += dt
            for r in list(left):
                left[r] -= 1
                tokens += 1
        for r in [r for r, v in left.items() if v == 0]:
            e2e[r] = t - arr[r]
            del left[r]
    return ttft, e2e, busy, tokens


@pytest.mark.parametrize("rate", [0.3, 1.0])
def test_continuous_batching_matches_a_token_by_token_step_simulation(rate: float) -> None:
    # 1,000 requests on one replica (max batch 4); the replay advances decode continuously between joins and
    # leaves, the reference one decode step at a time, so a join can lag by up to one step (33-44 ms here)
    prof = ServingProfile(family="x", batch_sizes=[1, 2, 4], prefill_tokens_per_s=[2000.0, 2200.0, 2500.0],
                          decode_tokens_per_s=[30.0, 50.0, 90.0], max_batch=4, cold_start_s=0.0)
    rng = np.random.default_rng(7)
    n = 1000
    arr = np.cumsum(rng.exponential(1 / rate, n))
    inp, out = rng.integers(0, 600, n).astype(float), rng.integers(0, 60, n).astype(float)
    rep = replay(arr, inp, out, prof, ScalingPolicy(min_warm_replicas=1, max_replicas=1), autoscale=False)
    ttft, e2e, busy, tokens = step_reference(arr, inp, out, prof)
    r = rep.requests
    assert (r["status"] == "served").all()
    d_ttft, d_e2e = np.abs(r["ttft_s"].to_numpy() - ttft), np.abs(r["e2e_s"].to_numpy() - e2e)
    print(f"rate {rate}: mean e2e {e2e.mean():.3f} s (step) vs {r['e2e_s'].mean():.3f} s (replay); "
          f"|diff| mean {d_e2e.mean():.4f} s, max {d_e2e.max():.4f} s; TTFT |diff| max {d_ttft.max():.4f} s; "
          f"busy {busy:.2f} vs {rep.replicas['busy_s'].sum():.2f} s")
    assert r["e2e_s"].mean() == pytest.approx(e2e.mean(), rel=0.02)
    assert abs(r["ttft_s"].mean() - ttft.mean()) <= 4 / 90.0   # one step of a full batch
    assert np.median(d_e2e) <= 0.1
    # the same output tokens are decoded, and the same busy time to within the step granularity
    assert tokens == out.sum()
    assert rep.decoded_tokens == pytest.approx(tokens, rel=1e-9)
    assert rep.replicas["busy_s"].sum() == pytest.approx(busy, rel=0.01)


def test_continuous_batching_conserves_tokens_and_busy_time_with_an_autoscaler() -> None:
    # bursts on an autoscaled pool: every request is served once, its output decoded exactly once, and busy
    # time per replica (summed step by step) equals the busy spells the hourly table is built from
    rng = np.random.default_rng(3)
    n = 3000
    rate = np.where((np.arange(n) // 500) % 2 == 0, 4.0, 0.5)
    arr = np.cumsum(rng.exponential(1 / rate))
    inp, out = rng.integers(0, 2000, n).astype(float), rng.integers(1, 400, n).astype(float)
    prof = ServingProfile(family="x", batch_sizes=[1, 8, 16], prefill_tokens_per_s=[5000.0, 8000.0, 9000.0],
                          decode_tokens_per_s=[60.0, 400.0, 700.0], max_batch=16, cold_start_s=60.0)
    pol = ScalingPolicy(min_warm_replicas=1, max_replicas=10, target_utilization=0.3, interval_s=10.0,
                        scale_down_delay_s=120.0)
    rep = replay(arr, inp, out, prof, pol, horizon_s=float(np.ceil(arr[-1] / 3600 + 1) * 3600))
    r = rep.requests
    assert (r["status"] == "served").all() and r["e2e_s"].notna().all()
    assert len(rep.replicas) > 1 and (rep.replicas["stop_s"] < rep.horizon_s).any()   # it scaled both ways
    assert rep.decoded_tokens == pytest.approx(out.sum(), rel=1e-9)
    assert rep.replicas["busy_s"].sum() / 3600 == pytest.approx(rep.hourly["busy_replica_hours"].sum(), rel=1e-9)
    # a sequence never decodes faster than alone
    assert ((r["e2e_s"] - r["ttft_s"]) >= out / 60.0 - 1e-6).all()


def test_autoscaler_adds_replicas_after_lag_and_cold_start_and_releases_them_later() -> None:
    # 2 requests/s of 10 s each need ~20 busy replicas; start with 1 warm replica.
    n = 2 * 1800
    arr = np.arange(n) / 2.0
    prof = ServingProfile(family="x", batch_sizes=[1], prefill_tokens_per_s=[1e9], decode_tokens_per_s=[1.0],
                          max_batch=1, cold_start_s=60.0)
    pol = ScalingPolicy(min_warm_replicas=1, max_replicas=40, target_utilization=0.8, scale_up_lag_s=30.0,
                        scale_down_delay_s=300.0, interval_s=10.0)
    rep = replay(arr, np.zeros(n), np.full(n, 10.0), prof, pol, horizon_s=7200.0)
    reps = rep.replicas
    assert reps["floor"].sum() == 1
    added = reps[~reps["floor"]]
    assert len(added) >= 20
    # every added replica became ready 90 s after it was asked for
    assert (added["ready_s"] - added["asked_s"]).to_numpy() == pytest.approx(90.0)
    # traffic stops at 1,800 s: all extra replicas are gone by then + the scale-down delay + a little
    assert added["stop_s"].max() <= 1800 + 10 + 300 + 20
    # the floor replica runs the whole replay; paid hours are lifetimes
    assert rep.replica_hours() == pytest.approx(float((reps["stop_s"] - reps["asked_s"]).sum()) / 3600)
    assert rep.hourly["replica_hours"].sum() == pytest.approx(rep.replica_hours())
    assert rep.hourly["floor_replica_hours"].tolist() == pytest.approx([1.0, 1.0])
    assert rep.slo_attainment(Slo(ttft_s=1.0, e2e_s=12.0)) > 0.5


def test_overflow_sends_long_waits_to_the_api() -> None:
    arr = np.zeros(5)
    pol = ScalingPolicy(min_warm_replicas=1, max_replicas=1, api_overflow_wait_s=15.0)
    rep = replay(arr, np.zeros(5), np.full(5, 10.0), UNIT, pol, autoscale=False, horizon_s=3600.0)
    # served at 0, 10; the third would start at 20 s > 15 s: it and the rest go to the API
    assert rep.requests["status"].tolist() == ["served", "served", "api_overflow", "api_overflow", "api_overflow"]
    assert int(rep.hourly["api_overflow"].sum()) == 3
    assert rep.slo_attainment(Slo(ttft_s=100.0, e2e_s=100.0)) == 1.0
    assert hourly_slo(rep, Slo(ttft_s=5.0, e2e_s=100.0)).tolist() == [pytest.approx(4 / 5)]


def test_hourly_split_of_intervals_is_exact_across_hour_boundaries() -> None:
    got = hourly_per_interval(np.array([3000.0, 0.0, 7000.0]), np.array([4000.0, 100.0, 7300.0]), 3)
    assert got.tolist() == pytest.approx([600.0 + 100.0, 400.0 + 200.0, 100.0])


def test_unsorted_arrivals_are_an_input_error() -> None:
    with pytest.raises(InputError, match="sorted"):
        replay(np.array([1.0, 0.0]), np.zeros(2), np.ones(2), UNIT, ScalingPolicy())


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 400), rate=st.floats(0.05, 5.0), floor=st.integers(0, 3), max_batch=st.integers(1, 8),
       target=st.floats(0.1, 1.0), cold=st.floats(0.0, 300.0), seed=st.integers(0, 10_000),
       batching=st.sampled_from(BATCHING))
def test_replay_invariants(n: int, rate: float, floor: int, max_batch: int, target: float, cold: float,
                           seed: int, batching: str) -> None:
    rng = np.random.default_rng(seed)
    arr = np.cumsum(rng.exponential(1 / rate, n))
    prof = ServingProfile(family="x", batch_sizes=[1, 8], prefill_tokens_per_s=[2000.0, 4000.0],
                          decode_tokens_per_s=[30.0, 160.0], max_batch=max_batch, cold_start_s=cold,
                          batching=batching)
    pol = ScalingPolicy(min_warm_replicas=floor, max_replicas=12, target_utilization=target, interval_s=10.0,
                        scale_down_delay_s=60.0)
    inp, out = rng.integers(0, 2000, n).astype(float), rng.integers(1, 300, n).astype(float)
    rep = replay(arr, inp, out, prof, pol, horizon_s=float(np.ceil(arr[-1] / 3600 + 1) * 3600))
    again = replay(arr, inp, out, prof, pol, horizon_s=rep.horizon_s)
    r, h, reps = rep.requests, rep.hourly, rep.replicas
    served = r[r["status"] == "served"]
    # latencies are ordered and non-negative; every request is accounted for once
    assert (served["wait_s"] >= -1e-9).all()
    assert (served["ttft_s"] >= served["wait_s"] - 1e-9).all()
    assert (served["e2e_s"] >= served["ttft_s"] - 1e-9).all()
    if batching == "continuous":   # every served request's output is decoded exactly once (all are done)
        assert rep.decoded_tokens == pytest.approx(float(served["output_tokens"].sum()), rel=1e-9, abs=1e-6)
        assert reps["busy_s"].sum() / 3600 == pytest.approx(h["busy_replica_hours"].sum(), rel=1e-9, abs=1e-12)
    assert int(h["served"].sum() + h["api_overflow"].sum() + h["unserved"].sum()) == n
    # replica-hours are conserved between the hourly table and the lifetimes; busy never exceeds paid time
    assert float(h["replica_hours"].sum()) == pytest.approx(rep.replica_hours(), rel=1e-9, abs=1e-9)
    assert (h["busy_replica_hours"] <= h["replica_hours"] + 1e-9).all()
    assert (h["floor_replica_hours"] <= floor + 1e-9).all()
    assert int(reps["floor"].sum()) == floor
    assert (reps["stop_s"] >= reps["asked_s"]).all()
    # deterministic: the same inputs give the same replay
    pd.testing.assert_frame_equal(rep.requests, again.requests)
