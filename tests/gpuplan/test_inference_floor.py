"""A warm floor that varies by hour of day, and spot replicas, checked against brute force and hand sums."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from gpuplan.inference import _row, hourly_floor_search
from optimizer.inference import ReplicaPrices, choose_block_floors, option_costs, unit_costs
from scenarios.inference_config import ScalingPolicy, ServingProfile, Slo
from simulator.inference import InferenceReplay, replay


@pytest.mark.parametrize("seed", range(6))
def test_block_floors_are_the_cheapest_feasible_choice_by_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_b, n_f = 3, 4
    hours_b = rng.integers(1, 4, n_b).astype(float)
    req_b = rng.integers(20, 60, n_b)
    # met requests rise with the floor, replica-hours too (plus noise from the autoscaler)
    share = np.sort(rng.uniform(0.5, 1.0, (n_b, n_f)), axis=1)
    met = np.floor(share * req_b[:, None])
    rh = hours_b[:, None] * (np.arange(n_f)[None, :] + rng.uniform(0.0, 1.5, (n_b, 1)))
    need = int(0.9 * req_b.sum())
    od, commit = 3.0, 1.2
    got = choose_block_floors(met, rh, need, hours_b, od, commit)
    best = None
    for fs in itertools.product(range(n_f), repeat=n_b):
        if sum(met[b, f] for b, f in enumerate(fs)) < need:
            continue
        low = min(fs)
        # the minimum floor runs every hour: committed; everything else on demand
        cost = commit * low * hours_b.sum() + od * (sum(rh[b, f] for b, f in enumerate(fs)) - low * hours_b.sum())
        if best is None or cost < best[1] - 1e-9:
            best = (fs, cost)
    if best is None:
        assert got is None
        return
    assert got is not None
    assert got[1] == pytest.approx(best[1], rel=1e-12)
    assert sum(met[b, f] for b, f in enumerate(got[0])) >= need


# A 3-hour day of three blocks (one hour each): quiet, busy, medium.  One request at a time, 20 s each; cold
# starts of 15 minutes, so capacity must be warm before the traffic: the floor decides the SLO.
PROF = ServingProfile(family="x", batch_sizes=[1], prefill_tokens_per_s=[1.0], decode_tokens_per_s=[1.0],
                      max_batch=1, cold_start_s=900.0)
POL = ScalingPolicy(min_warm_replicas=0, max_replicas=2, target_utilization=1.0, scale_up_lag_s=0.0,
                    scale_down_delay_s=300.0, interval_s=30.0)
SLO = Slo(ttft_s=30.0, e2e_s=60.0, quantile=0.9)
RATES = [0.005, 0.06, 0.02]                   # requests/s in hours 0, 1, 2
OD, COMMIT = 3.0, 2.5


def _traffic() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    arr = np.concatenate([h * 3600.0 + np.sort(rng.uniform(0, 3600, rng.poisson(r * 3600)))
                          for h, r in enumerate(RATES)])
    return arr, np.zeros_like(arr), np.full_like(arr, 20.0)


def _cost(rep: InferenceReplay, floors: list[int]) -> float:
    # from raw lifetimes: the minimum floor is committed for the whole 3 h, all other replica-time on demand
    paid_h = float((rep.replicas["stop_s"] - rep.replicas["asked_s"]).sum()) / 3600.0
    low = min(floors)
    return COMMIT * low * 3 + OD * (paid_h - low * 3)


def test_hourly_floor_search_finds_the_cheapest_floor_meeting_the_slo_by_brute_force() -> None:
    arr, inp, out = _traffic()

    def hourly(fb: list[int]) -> InferenceReplay:
        pol = POL.model_copy(update={"min_warm_replicas": min(fb)})
        return replay(arr, inp, out, PROF, pol, horizon_s=3 * 3600.0, floor_by_hour=fb,
                      initial_replicas=max(fb[0], 1))

    def flat(f: int) -> InferenceReplay:
        return hourly([f, f, f])

    prices = ReplicaPrices(OD, {"commit": COMMIT})
    found = hourly_floor_search(flat, hourly, np.arange(3), 2, SLO, prices)
    brute = []
    for fs in itertools.product(range(3), repeat=3):
        rep = hourly(list(fs))
        brute.append((_cost(rep, list(fs)), fs, rep.slo_attainment(SLO)))
    feasible = [b for b in brute if b[2] >= SLO.quantile]
    assert feasible, "the case must have a floor that meets the SLO"
    cheapest = min(feasible)
    assert found is not None
    floors, rep, _ = found
    assert rep.slo_attainment(SLO) >= SLO.quantile
    assert _cost(rep, floors) == pytest.approx(cheapest[0], rel=1e-9)
    # the answer varies by hour, and is cheaper than the cheapest flat floor meeting the SLO
    flat_ok = [b for b in feasible if len(set(b[1])) == 1]
    assert len(set(floors)) > 1 and (not flat_ok or cheapest[0] < min(flat_ok)[0])


def test_spot_without_revocations_costs_spot_price_times_replica_hours_and_keeps_the_slo() -> None:
    arr, inp, out = _traffic()
    prof = PROF.model_copy(update={"cold_start_s": 60.0})
    pol = POL.model_copy(update={"min_warm_replicas": 1, "target_utilization": 0.5, "max_replicas": 4})
    base = replay(arr, inp, out, prof, pol, horizon_s=3 * 3600.0)
    spot_price = 1.7
    prices = ReplicaPrices(OD, {"commit": COMMIT})
    from scenarios.inference_config import InferenceModel
    m = InferenceModel(profile=prof, slo=SLO, policy=pol)
    r = base.replicas
    life_h = (r["stop_s"] - r["asked_s"]) / 3600.0
    for mode in ("burst", "all"):
        sp = replay(arr, inp, out, prof, pol, horizon_s=3 * 3600.0, spot=mode, spot_hazard_per_hour=0.0)
        assert sp.slo_attainment(SLO) == base.slo_attainment(SLO)
        row = _row(sp, m, 1, 0.5, mode, np.full(3, spot_price))
        costs = option_costs(row, prices, None)
        on_spot = life_h[~r["floor"]] if mode == "burst" else life_h
        want_spot = spot_price * float(on_spot.sum())
        if mode == "burst":
            # floor at the commitment, every other replica-hour on spot
            assert costs["floor commit + burst spot"] == pytest.approx(
                COMMIT * float(life_h[r["floor"]].sum()) + want_spot, rel=1e-12)
        else:
            assert costs["all spot"] == pytest.approx(want_spot, rel=1e-12)
        # the hourly cost table of the same replay adds up to the same total
        hc = unit_costs(sp.hourly, COMMIT, OD, spot_rate=np.full(3, spot_price))
        assert float(hc["cost_usd"].sum()) == pytest.approx(min(costs.values()), rel=1e-12)


def test_hourly_cost_commits_only_the_minimum_of_a_varying_floor() -> None:
    h = pd.DataFrame({"floor_replica_hours": [1.0, 3.0, 2.0], "autoscaled_replica_hours": [0.5, 0.0, 1.0],
                      "busy_replica_hours": [1.0, 2.0, 2.0], "requests": [10, 30, 20],
                      "input_tokens": [1.0, 1.0, 1.0], "output_tokens": [1.0, 1.0, 1.0]})
    hc = unit_costs(h, 1.0, 3.0, committed_replicas=1.0)
    # hand-worked: hour 0: 1 x 1 + 0.5 x 3; hour 1: 1 x 1 + 2 x 3; hour 2: 1 x 1 + (1 + 1) x 3
    assert hc["cost_usd"].tolist() == pytest.approx([2.5, 7.0, 7.0])
    assert math.isclose(float(hc["cost_usd"].sum()), 16.5)
