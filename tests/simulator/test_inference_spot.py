"""Replica lifecycle of the inference replay: spot revocations, re-queued requests, a warm floor by hour."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios.errors import InputError
from scenarios.inference_config import ScalingPolicy, ServingProfile, Slo
from simulator.inference import replay

# one request at a time, no prefill time, 1 output token per second: service time = output tokens [s]
UNIT = ServingProfile(family="x", batch_sizes=[1], prefill_tokens_per_s=[1.0], decode_tokens_per_s=[1.0],
                      max_batch=1, cold_start_s=30.0)
NONE = np.zeros(0)


@pytest.mark.parametrize("replacement", ["spot", "on-demand"])
def test_revocations_of_spot_replicas_follow_the_poisson_or_binomial_law_over_seeds(replacement: str) -> None:
    lam, n_rep, hours, seeds = 0.5, 4, 10, 60
    pol = ScalingPolicy(min_warm_replicas=n_rep, max_replicas=n_rep)
    counts = np.array([
        int(replay(NONE, NONE, NONE, UNIT, pol, horizon_s=hours * 3600.0, autoscale=False, spot="all",
                   spot_hazard_per_hour=lam, spot_replacement=replacement, seed=s).replicas["revoked"].sum())
        for s in range(seeds)])
    if replacement == "spot":
        # replaced at once on spot: N slots exposed the whole time, revocations ~ Poisson(lambda N T) per seed
        mean = lam * n_rep * hours
        var = mean
    else:
        # replaced on demand: each of the N slots is revoked at most once, with probability 1 - exp(-lambda T)
        p = 1.0 - math.exp(-lam * hours)
        mean, var = n_rep * p, n_rep * p * (1 - p)
    total = counts.sum()
    # the sum over seeds is within 4 standard deviations of its expectation
    assert abs(total - seeds * mean) <= 4.0 * math.sqrt(seeds * var)
    if replacement == "spot":   # Poisson: variance equals the mean (loose band: 60 seeds)
        assert 0.6 < counts.var(ddof=1) / counts.mean() < 1.6
    else:
        assert counts.max() <= n_rep


def test_one_revocation_requeues_exactly_the_in_flight_request_and_adds_one_cold_start() -> None:
    # requests every 10 s, 8 s of service each, one spot replica; revoked at t = 25 s while serving the
    # request that arrived at 20 s; the replacement (on demand) is asked at 25 s and serves from 55 s.
    t_rev = 25.0
    e0 = float(np.random.default_rng(0).standard_exponential())   # the seed's first exponential lifetime draw
    lam = 3600.0 * e0 / t_rev                                        # [1/h]: that draw lands at 25 s
    arr = np.arange(0.0, 100.0, 10.0)
    rep = replay(arr, np.zeros_like(arr), np.full_like(arr, 8.0), UNIT,
                 ScalingPolicy(min_warm_replicas=1, max_replicas=1), horizon_s=3600.0, autoscale=False, spot="all",
                 spot_hazard_per_hour=lam, spot_replacement="on-demand", seed=0)
    reps = rep.replicas
    assert len(reps) == 2 and reps["revoked"].tolist() == [True, False] and reps["spot"].tolist() == [True, False]
    assert reps["stop_s"].iloc[0] == pytest.approx(t_rev)
    assert reps["asked_s"].iloc[1] == pytest.approx(t_rev) and reps["ready_s"].iloc[1] == pytest.approx(t_rev + 30.0)
    # busy time of the revoked replica: two whole requests and 5 s of the third
    assert reps["busy_s"].iloc[0] == pytest.approx(8 + 8 + 5)
    r = rep.requests
    assert r["requeued"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    # hand-worked FIFO after the replacement is ready at 55 s: the re-queued request first, then the queue
    start = [0, 10, 55, 63, 71, 79, 87, 95, 103, 111]
    np.testing.assert_allclose(r["wait_s"].to_numpy(), np.array(start) - arr)
    np.testing.assert_allclose(r["e2e_s"].to_numpy(), np.array(start) + 8.0 - arr)
    assert (r["status"] == "served").all()
    h = rep.hourly
    assert int(h["revocations"].sum()) == 1 and int(h["requeued"].sum()) == 1
    # paid: the spot replica 0..25 s, the replacement 25 s..1 h (its cold start included)
    assert h["spot_replica_hours"].sum() == pytest.approx(t_rev / 3600)
    assert h["replica_hours"].sum() == pytest.approx(1.0)


def test_without_revocations_a_spot_replay_is_the_on_demand_replay() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    arr = np.sort(rng.uniform(0, 7200, n))
    prof = ServingProfile(family="x", batch_sizes=[1, 4], prefill_tokens_per_s=[2000.0, 2000.0],
                          decode_tokens_per_s=[20.0, 60.0], max_batch=4, cold_start_s=60.0)
    pol = ScalingPolicy(min_warm_replicas=1, max_replicas=20, target_utilization=0.3, interval_s=10.0)
    inp, out = rng.integers(50, 500, n).astype(float), rng.integers(10, 200, n).astype(float)
    base = replay(arr, inp, out, prof, pol, horizon_s=7200.0)
    for mode in ("burst", "all"):
        sp = replay(arr, inp, out, prof, pol, horizon_s=7200.0, spot=mode, spot_hazard_per_hour=0.0)
        assert sp.requests.equals(base.requests)
        assert sp.replicas.drop(columns="spot").equals(base.replicas.drop(columns="spot"))
        spot_rows = sp.replicas["spot"].to_numpy()
        assert spot_rows.tolist() == ((~base.replicas["floor"]) | (mode == "all")).tolist()


def test_a_floor_by_hour_is_warm_at_each_hour_and_released_after() -> None:
    # no traffic: the replicas are exactly the floor; rises are asked lag + cold start before their hour
    pol = ScalingPolicy(min_warm_replicas=0, max_replicas=10, scale_up_lag_s=30.0, scale_down_delay_s=600.0,
                        interval_s=15.0)
    fb = [1, 3, 3, 0, 2]
    rep = replay(NONE, NONE, NONE, UNIT, pol, horizon_s=5 * 3600.0, floor_by_hour=fb, initial_replicas=1)
    h = rep.hourly
    assert h["warm_floor_replicas"].tolist() == fb
    lead = (30.0 + 30.0) / 3600.0
    # hand-worked floor replica-hours: 1 + 2 pre-warmed for `lead`; 3; 3; 0; 2 pre-warmed into hour 3
    assert h["floor_replica_hours"].tolist() == pytest.approx([1 + 2 * lead, 3, 3, 2 * lead, 2])
    # replicas leaving the floor at hour 3 are released after the scale-down window (600 s, next look)
    r = rep.replicas
    gone = r[(r["stop_s"] > 3 * 3600) & (r["stop_s"] < 4 * 3600)]
    assert len(gone) == 3 and (gone["stop_s"] <= 3 * 3600 + 600 + 15 + 1e-9).all()
    assert (r["ready_s"] - r["asked_s"]).max() == pytest.approx(60.0)


def test_a_floor_by_hour_of_the_wrong_length_is_an_input_error() -> None:
    with pytest.raises(InputError, match="floor_by_hour"):
        replay(NONE, NONE, NONE, UNIT, ScalingPolicy(), horizon_s=7200.0, floor_by_hour=[1, 2, 3])


def test_requeued_requests_count_their_whole_wait_against_the_slo() -> None:
    # the request in flight at the revocation keeps its arrival time: its latency includes the lost work
    e0 = float(np.random.default_rng(0).standard_exponential())
    arr = np.array([0.0])
    rep = replay(arr, np.zeros(1), np.array([8.0]), UNIT, ScalingPolicy(min_warm_replicas=1, max_replicas=1),
                 horizon_s=3600.0, autoscale=False, spot="all", spot_hazard_per_hour=3600.0 * e0 / 5.0,
                 spot_replacement="on-demand", seed=0)
    assert rep.requests["e2e_s"].iloc[0] == pytest.approx(5.0 + 30.0 + 8.0)
    assert rep.slo_attainment(Slo(ttft_s=60.0, e2e_s=40.0)) == 0.0
