"""Inference economics against hand-worked figures, brute force and the raw replica lifetimes of a replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.inference import (
    ReplicaPrices,
    api_usd_per_request,
    break_even_requests_per_hour,
    choose_policy,
    energy_kwh,
    option_costs,
    period_unit_costs,
    smallest_static,
    team_unit_costs,
    unit_costs,
    warm_floor_demand,
)
from scenarios.inference_config import ScalingPolicy, ServingProfile
from simulator.inference import replay


def test_break_even_matches_a_hand_worked_case() -> None:
    # one replica = 8 GPUs x 2.00 USD/GPU-h = 16 USD/h; a request of 1,000 prompt and 200 output tokens at
    # 1 and 2 USD per million costs 0.001 + 0.0004 = 0.0014 USD; 16 / 0.0014 = 11,428.57 requests/h
    prices = ReplicaPrices.from_gpu_rates(8, 2.0, {})
    per_req = api_usd_per_request(1000, 200, 1.0, 2.0)
    assert per_req == pytest.approx(0.0014, rel=1e-12)
    assert break_even_requests_per_hour(prices.on_demand, per_req) == pytest.approx(11_428.5714, rel=1e-6)


def test_break_even_is_where_the_api_bill_crosses_the_replica_bill_by_bisection() -> None:
    rng = np.random.default_rng(0)
    tin, tout = rng.integers(50, 3000, 2000), rng.integers(5, 800, 2000)
    api_in, api_out, replica = 0.3, 0.6, 2.744705

    def api_bill(rate: float) -> float:   # an hour of `rate` requests with the sample's mean mix, summed
        per = sum(int(a) * api_in + int(b) * api_out for a, b in zip(tin, tout, strict=True)) / len(tin) / 1e6
        return rate * per

    lo, hi = 0.0, 1e6
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if api_bill(mid) < replica else (lo, mid)
    closed = break_even_requests_per_hour(replica, api_usd_per_request(tin.mean(), tout.mean(), api_in, api_out))
    assert closed == pytest.approx(lo, rel=1e-9)


def _autoscaled_replay() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(4)
    # 3 h: quiet, busy, quiet
    arr = np.sort(np.concatenate([rng.uniform(0, 3600, 500), rng.uniform(3600, 7200, 6000),
                                  rng.uniform(7200, 10800, 500)]))
    n = len(arr)
    prof = ServingProfile(family="x", batch_sizes=[1, 8], prefill_tokens_per_s=[5000.0, 5000.0],
                          decode_tokens_per_s=[50.0, 300.0], max_batch=8, cold_start_s=60.0)
    pol = ScalingPolicy(min_warm_replicas=2, max_replicas=30, target_utilization=0.3, scale_up_lag_s=10,
                        scale_down_delay_s=120, interval_s=10)
    rep = replay(arr, rng.integers(10, 2000, n).astype(float), rng.integers(5, 300, n).astype(float), prof, pol,
                 horizon_s=10800.0)
    req = rep.requests.assign(team=np.where(np.arange(n) % 3 == 0, "search", "chat"))
    return rep.hourly, rep.replicas, req


def test_allocation_cost_per_million_tokens_is_replica_hours_times_price_over_tokens_exactly() -> None:
    hourly, replicas, req = _autoscaled_replay()
    assert (~replicas["floor"]).sum() > 0, "the busy hour must scale up"
    floor_rate, burst_rate = 1.235, 2.744705
    per = period_unit_costs(unit_costs(hourly, floor_rate, burst_rate))
    # independent: every replica's paid lifetime from the raw replica table, priced by its kind
    life_h = (replicas["stop_s"] - replicas["asked_s"]) / 3600
    cost = float((life_h * np.where(replicas["floor"], floor_rate, burst_rate)).sum())
    tokens = float(req["input_tokens"].sum() + req["output_tokens"].sum())
    assert per["cost_usd"] == pytest.approx(cost, rel=1e-12)
    assert per["usd_per_million_tokens"] == pytest.approx(cost / tokens * 1e6, rel=1e-12)
    assert per["usd_per_1k_requests"] == pytest.approx(cost / len(req) * 1e3, rel=1e-12)
    # usage basis charges only busy replica-hours: cheaper, and the gap is the idle cost
    assert per["usage_usd_per_1k_requests"] < per["usd_per_1k_requests"]
    assert per["usage_cost_usd"] + per["idle_cost_usd"] == pytest.approx(per["cost_usd"], rel=1e-12)
    busy_h = float(replicas["busy_s"].sum()) / 3600   # all batches finish inside the horizon here
    assert float(hourly["busy_replica_hours"].sum()) == pytest.approx(busy_h, rel=1e-9)
    teams = team_unit_costs(req, per["cost_usd"], per["usage_cost_usd"])
    assert float(teams["cost_usd"].sum()) == pytest.approx(per["cost_usd"], rel=1e-12)
    assert int(teams["requests"].sum()) == len(req)


def test_options_price_the_floor_at_the_commitment_and_the_rest_on_demand() -> None:
    row = {"floor_replica_hours": 48.0, "autoscaled_replica_hours": 10.0, "requests": 1000, "api_overflow": 4}
    prices = ReplicaPrices(on_demand=3.0, commitments={"reserved 1y": 2.0})
    got = option_costs(row, prices, api_per_request=0.5)
    assert got == {"on-demand": pytest.approx(58 * 3.0 + 2.0), "floor reserved 1y + burst on-demand":
                   pytest.approx(48 * 2.0 + 10 * 3.0 + 2.0)}


def test_choose_policy_is_the_cheapest_that_meets_the_slo_by_brute_force() -> None:
    rng = np.random.default_rng(1)
    sweep = pd.DataFrame({
        "min_warm_replicas": np.repeat(np.arange(5), 3), "target_utilization": np.tile([0.3, 0.5, 0.7], 5),
        "slo_attainment": rng.uniform(0.85, 1.0, 15), "floor_replica_hours": np.repeat(np.arange(5) * 24.0, 3),
        "autoscaled_replica_hours": rng.uniform(10, 100, 15), "requests": 1000, "api_overflow": 0})
    prices = ReplicaPrices(on_demand=3.0, commitments={"r": 1.8, "c": 2.1})
    out, chosen = choose_policy(sweep, prices, 0.95)
    assert chosen is not None
    best = None
    for _, r in sweep.iterrows():
        if r["slo_attainment"] < 0.95:
            continue
        for rate in (3.0, 1.8, 2.1):
            c = r["floor_replica_hours"] * rate + r["autoscaled_replica_hours"] * 3.0
            best = c if best is None else min(best, c)
    assert chosen["cost_usd"] == pytest.approx(best)
    assert (out["meets_slo"] == (sweep["slo_attainment"] >= 0.95)).all()
    _, none = choose_policy(sweep.assign(slo_attainment=0.5), prices, 0.95)
    assert none is None


@pytest.mark.parametrize("answer", [1, 2, 3, 5, 8, 13, 40, None])
def test_smallest_static_finds_the_threshold_of_a_monotone_test(answer: int | None) -> None:
    calls: list[int] = []

    def meets(c: int) -> bool:
        calls.append(c)
        return answer is not None and c >= answer

    assert smallest_static(meets, 1, 40) == answer
    assert len(calls) <= 2 * 6 + 1


def test_energy_counts_idle_replicas_at_their_share_of_power() -> None:
    # 10 busy + 30 idle replica-hours of 2 GPUs at 0.5 kW, PUE 1.2, idle at 30 %: 2 x 0.5 x 1.2 x (10 + 9)
    assert energy_kwh(10.0, 30.0, 2, 0.5, 1.2, 0.3) == pytest.approx(22.8)


def test_warm_floor_is_a_flat_hourly_demand_series_per_family() -> None:
    start = pd.Timestamp("2026-01-01", tz="UTC")
    d = warm_floor_demand({"h100": 16.0, "a100": 3.0}, start, 5)
    assert d.columns.tolist() == ["series_id", "timestamp", "gpus", "committable_gpus"]
    assert d.groupby("series_id")["gpus"].sum().to_dict() == {"a100": 15.0, "h100": 80.0}
    assert (d["gpus"] == d["committable_gpus"]).all()
    assert d["timestamp"].min() == start and d["timestamp"].nunique() == 5


def test_a_floor_by_hour_of_day_follows_the_clock_and_commits_only_its_minimum() -> None:
    by_hour = np.array([1.0] * 8 + [3.0] * 12 + [2.0] * 4)       # hours 0-7, 8-19, 20-23 UTC
    start = pd.Timestamp("2026-01-01 22:00", tz="UTC")
    d = warm_floor_demand({"a100": by_hour}, start, 30)
    # hand-worked: 22, 23 -> 2; 0..7 -> 1; 8..19 -> 3; 20..23 -> 2; 0..3 -> 1
    assert d["gpus"].tolist() == [2.0] * 2 + [1.0] * 8 + [3.0] * 12 + [2.0] * 4 + [1.0] * 4
    assert (d["committable_gpus"] == 1.0).all()
