"""The inference replay against independent truths: Erlang C, an exact FIFO recursion, hand-worked batches."""

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


@pytest.mark.parametrize("c", [1, 3, 8])
def test_unbatched_replay_equals_the_fifo_recursion_request_by_request(c: int) -> None:
    arr, svc = mmc(c, 0.85, 20_000, seed=c)
    rep = replay(arr, np.zeros_like(arr), svc, UNIT, ScalingPolicy(min_warm_replicas=c, max_replicas=c),
                 autoscale=False)
    np.testing.assert_allclose(rep.requests["wait_s"].to_numpy(), fifo_waits(arr, svc, c), atol=1e-9)
    np.testing.assert_allclose(rep.requests["e2e_s"].to_numpy(), fifo_waits(arr, svc, c) + svc, atol=1e-9)


# Sample sizes: the spread of the mean wait over seeds at 500,000 requests is about +-5 % at rho 0.9
# (measured; +-4 % at c=16, rho 0.7), so those cases replay 1,500,000 requests to bring it well inside 3 %.
@pytest.mark.slow
@pytest.mark.parametrize(("c", "rho", "n"), [(4, 0.7, 400_000), (4, 0.9, 1_500_000), (16, 0.7, 1_500_000),
                                             (16, 0.9, 1_500_000)])
def test_poisson_exponential_unbatched_matches_erlang_c_within_3_percent(c: int, rho: float, n: int) -> None:
    arr, svc = mmc(c, rho, n, seed=0)
    rep = replay(arr, np.zeros_like(arr), svc, UNIT, ScalingPolicy(min_warm_replicas=c, max_replicas=c),
                 autoscale=False)
    w = rep.requests["wait_s"].to_numpy()[n // 20:]     # drop the warm-up from an empty system
    a = rho * c
    p_wait = erlang_c(c, a)
    mean_wait = p_wait / (c - a)                          # mu = 1
    print(f"c={c} rho={rho}: mean wait {w.mean():.5f} vs Erlang C {mean_wait:.5f} "
          f"({100 * (w.mean() / mean_wait - 1):+.2f} %), P(wait) {(w > 0).mean():.5f} vs {p_wait:.5f} "
          f"({100 * ((w > 0).mean() / p_wait - 1):+.2f} %), {rep.events / n:.2f} events/request")
    assert w.mean() == pytest.approx(mean_wait, rel=0.03)
    assert (w > 0).mean() == pytest.approx(p_wait, rel=0.03)


def test_a_batch_is_prefilled_together_and_decoded_at_the_shared_rate() -> None:
    # Two requests arrive together on one idle replica. Batch of 2: prefill 1,000 tokens/s, decode 50
    # tokens/s summed over the batch, i.e. 25 tokens/s per sequence.
    prof = ServingProfile(family="x", batch_sizes=[1, 2], prefill_tokens_per_s=[1000.0, 1000.0],
                          decode_tokens_per_s=[40.0, 50.0], max_batch=2, cold_start_s=0.0)
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
       target=st.floats(0.1, 1.0), cold=st.floats(0.0, 300.0), seed=st.integers(0, 10_000))
def test_replay_invariants(n: int, rate: float, floor: int, max_batch: int, target: float, cold: float,
                           seed: int) -> None:
    rng = np.random.default_rng(seed)
    arr = np.cumsum(rng.exponential(1 / rate, n))
    prof = ServingProfile(family="x", batch_sizes=[1, 8], prefill_tokens_per_s=[2000.0, 4000.0],
                          decode_tokens_per_s=[30.0, 160.0], max_batch=max_batch, cold_start_s=cold)
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
    assert int(h["served"].sum() + h["api_overflow"].sum() + h["unserved"].sum()) == n
    # replica-hours are conserved between the hourly table and the lifetimes; busy never exceeds paid time
    assert float(h["replica_hours"].sum()) == pytest.approx(rep.replica_hours(), rel=1e-9, abs=1e-9)
    assert (h["busy_replica_hours"] <= h["replica_hours"] + 1e-9).all()
    assert (h["floor_replica_hours"] <= floor + 1e-9).all()
    assert int(reps["floor"].sum()) == floor
    assert (reps["stop_s"] >= reps["asked_s"]).all()
    # deterministic: the same inputs give the same replay
    pd.testing.assert_frame_equal(rep.requests, again.requests)
