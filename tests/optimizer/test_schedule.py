"""Training schedule: lowest-signal hours, brute-force MILPs, infeasibility words, large-instance method."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.schedule import (
    arrival_schedule,
    cost_schedule,
    optimize_schedule,
    schedule_pareto,
    usage_matrix,
)
from optimizer.schedule_inputs import schedule_inputs
from scenarios.errors import InfeasibleError

from .conftest import START, make_scenario


def _signals(rng: np.random.Generator, hours: int, region: str = "default") -> tuple[pd.DataFrame, pd.DataFrame]:
    ts = pd.date_range(START, periods=hours, freq="h")
    carbon = pd.DataFrame({"region": region, "timestamp": ts, "gco2_per_kwh": rng.uniform(50, 600, hours)})
    price = pd.DataFrame({"region": region, "timestamp": ts, "usd_per_mwh": rng.uniform(-20, 250, hours)})
    return carbon, price


def _jobs(rows: list[tuple[str, float, int, float, float, bool]]) -> pd.DataFrame:
    """(job_id, submit hour, gpus, duration h, deadline hour, preemptible)."""
    h = pd.Timedelta(hours=1)
    return pd.DataFrame({
        "job_id": [r[0] for r in rows],
        "submit_time": pd.DatetimeIndex([START + r[1] * h for r in rows]),
        "gpus": np.array([r[2] for r in rows], dtype=np.int64),
        "duration_hours": [r[3] for r in rows],
        "deadline": pd.DatetimeIndex([START + r[4] * h for r in rows]),
        "preemptible": [r[5] for r in rows],
    })


def _scenario(quota: float | None = None, reserved: float = 0.0, carbon_price: float = 85.0, **pol: object):
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "gpu_power_kw": 0.5, "pue": 1.2,
                    "on_demand_quota_gpus": quota}}
    cur = {"reserved": [{"family": "a100", "term_years": 1, "gpus": reserved, "usd_per_gpu_hour": 1.0}]} if reserved else {}
    return make_scenario(fam, policies={"carbon_price_usd_per_tonne": carbon_price, **pol}, current=cur)


def _inside(sub: float, dl: float, hours: int) -> np.ndarray:
    """Fraction of each hour 0..hours-1 inside [sub, dl] (by hand, for the oracles below)."""
    t = np.arange(hours, dtype=float)
    return np.clip(np.minimum(t + 1.0, dl) - np.maximum(t, sub), 0.0, 1.0)


def test_divisible_jobs_without_capacity_limit_take_the_lowest_signal_hours_of_their_window() -> None:
    rng = np.random.default_rng(1)
    carbon, price = _signals(rng, 72)
    rows = [("a", 0, 4, 5.0, 30, True), ("b", 3.5, 2, 2.5, 20.25, True), ("c", 10, 8, 7.25, 60, True),
            ("d", 40, 1, 1.0, 72, True), ("e", 6.75, 2, 1.5, 8.25, True)]
    sc = _scenario()
    inp = schedule_inputs(_jobs(rows), carbon, price, sc, pause_margin_hours=0.0)
    res = optimize_schedule(inp)
    u = usage_matrix(inp, res.schedule)
    unit = inp.unit_cost()[0]
    for j, (_, sub, g, d, dl, _) in enumerate(rows):
        # greedy by hand: fill the cheapest hours, each up to the part of it inside [submit, deadline]
        room = _inside(sub, dl, inp.n_hours)
        want = np.zeros(inp.n_hours)
        left = g * d
        for t in np.argsort(unit, kind="stable"):
            take = min(left, g * room[t])
            want[t] = take
            left -= take
        assert left == pytest.approx(0.0, abs=1e-9)
        assert np.allclose(u[j], want, atol=1e-6), rows[j][0]
    assert res.gap == pytest.approx(0.0, abs=1e-9)


def test_preemptible_plans_keep_the_pause_margin_before_the_deadline_as_far_as_slack_allows() -> None:
    carbon = pd.DataFrame({"region": "default", "timestamp": pd.date_range(START, periods=12, freq="h"),
                           "gco2_per_kwh": np.r_[500.0 - np.arange(9), np.full(3, 10.0)]})  # cheapest at the end
    price = carbon.rename(columns={"gco2_per_kwh": "usd_per_mwh"})
    rows = [("roomy", 0, 2, 1.0, 10.0, True), ("tight", 0, 2, 9.9, 10.0, True), ("whole", 0, 2, 1.0, 10.0, False)]
    inp = schedule_inputs(_jobs(rows), carbon, price, _scenario(), pause_margin_hours=0.25)
    res = optimize_schedule(inp)
    j = res.jobs.set_index("job_id")
    # by hand: the cheap hour 9 is cut at 9.75 (margin 0.25 h), so roomy runs [8.75, 9.75]; tight has only
    # 0.1 h of slack, all of it kept free; a one-piece job never pauses and may end at the deadline
    assert j.loc["roomy", "finish"] == START + pd.Timedelta(hours=9.75)
    assert j.loc["tight", "finish"] == START + pd.Timedelta(hours=9.9)
    assert j.loc["whole", "finish"] == START + pd.Timedelta(hours=10.0)
    assert (j["window_end"] == START + pd.Timedelta(hours=10.0)).all()


def test_zero_slack_gives_exactly_the_run_on_arrival_schedule_and_zero_saving() -> None:
    rng = np.random.default_rng(3)
    carbon, price = _signals(rng, 40)
    rows = [("a", 0.5, 4, 5.0, 5.5, True), ("b", 3.25, 2, 2.5, 5.75, False), ("c", 10.9, 8, 7.25, 18.15, True),
            ("d", 2.0, 1, 0.4, 2.4, False)]
    inp = schedule_inputs(_jobs(rows), carbon, price, _scenario())
    res = optimize_schedule(inp)
    u = usage_matrix(inp, res.schedule)
    for j, (_, sub, g, d, _, _) in enumerate(rows):
        assert np.allclose(u[j], g * _inside(sub, sub + d, inp.n_hours), atol=1e-9)
    s = res.summary()
    assert s["carbon_saved_kg"] == pytest.approx(0.0, abs=1e-9)
    assert s["energy_cost_saved_usd"] == pytest.approx(0.0, abs=1e-9)
    assert res.jobs["delay_hours"].max() == pytest.approx(0.0, abs=1e-9)


def _brute_force(inp, rows: list, capacity: float, reserved: float) -> float:
    """Enumerate every start: the exact submission or a whole hour after it that ends by the deadline."""
    unit = inp.unit_cost()[0]
    T = inp.n_hours
    t0 = math.floor(min(r[1] for r in rows))  # the grid starts at the first submission's hour
    rows = [(r[0], r[1] - t0, r[2], r[3], r[4] - t0, r[5]) for r in rows]
    cands = [[sub] + [float(h) for h in range(math.floor(sub) + 1, T) if h + d <= dl + 1e-9 and h > sub]
             for (_, sub, _, d, dl, _) in rows]
    best = math.inf
    for starts in itertools.product(*cands):
        use = np.zeros(T)
        cost = 0.0
        for (_, _, g, d, _, _), s in zip(rows, starts, strict=True):
            prof = g * _inside(s, s + d, T)
            use += prof
            cost += float((prof * unit).sum())
        if use.max() > capacity + 1e-9:
            continue
        cost += 2.0 * float(np.maximum(use - reserved, 0).sum())
        best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_tiny_one_piece_milps_match_brute_force_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    carbon, price = _signals(rng, 30)
    rows = []
    for k in range(4):
        sub = float(rng.integers(0, 8)) + float(rng.choice([0.0, 0.25, 0.5]))
        dur = float(rng.choice([1.0, 2.0, 2.5, 3.75]))
        slack = float(rng.integers(0, 8)) + float(rng.choice([0.0, 0.3]))
        rows.append((f"j{k}", sub, int(rng.choice([2, 4, 6])), dur, sub + dur + slack, False))
    jobs = _jobs(rows)
    sc = _scenario(quota=4.0, reserved=4.0)  # capacity 8 GPUs, use beyond 4 costs 2 USD/GPU-hour
    inp = schedule_inputs(jobs, carbon, price, sc)
    best = _brute_force(inp, rows, 8.0, 4.0)
    if not math.isfinite(best):  # no combination of starts fits: the model must say so too
        with pytest.raises(InfeasibleError):
            optimize_schedule(inp, method="exact", mip_gap=0.0)
        return
    res = optimize_schedule(inp, method="exact", mip_gap=0.0)
    assert res.solve.status == "optimal"
    assert res.totals["objective_usd"] == pytest.approx(best, rel=1e-7)
    assert usage_matrix(inp, res.schedule).sum(axis=0).max() <= 8.0 + 1e-6


def test_window_shorter_than_the_job_is_explained_in_hours() -> None:
    rng = np.random.default_rng(0)
    carbon, price = _signals(rng, 100)
    jobs = _jobs([("ok", 0, 1, 2.0, 10, True), ("long", 5, 2, 40.0, 35, False)])
    with pytest.raises(InfeasibleError, match=r"job long needs 40 h but its window is 30 h"):
        schedule_inputs(jobs, carbon, price, _scenario())


def test_overloaded_interval_names_the_jobs_hours_and_capacity() -> None:
    rng = np.random.default_rng(0)
    carbon, price = _signals(rng, 20)
    jobs = _jobs([("a", 0, 6, 4.0, 6, True), ("b", 0, 6, 4.0, 6, True)])  # 48 GPU-hours in 6 h on 6 GPUs
    inp = schedule_inputs(jobs, carbon, price, _scenario(quota=6.0))
    with pytest.raises(InfeasibleError, match=r"need 48 GPU-hours but 6 GPUs give only 36 in those 6 h"):
        optimize_schedule(inp)


def test_job_larger_than_capacity_is_explained() -> None:
    rng = np.random.default_rng(0)
    carbon, price = _signals(rng, 20)
    jobs = _jobs([("big", 0, 16, 2.0, 10, False)])
    with pytest.raises(InfeasibleError, match=r"job big needs 16 GPUs at once but a100 capacity is 8 GPUs"):
        schedule_inputs(jobs, carbon, price, _scenario(quota=8.0))


def test_unmet_work_is_penalised_and_shown_when_allowed() -> None:
    rng = np.random.default_rng(0)
    carbon, price = _signals(rng, 20)
    jobs = _jobs([("a", 0, 6, 4.0, 6, True), ("b", 0, 6, 4.0, 6, False)])
    sc = _scenario(quota=6.0, allow_unmet_demand=True, unmet_penalty_usd_per_gpu_hour=500.0)
    res = optimize_schedule(schedule_inputs(jobs, carbon, price, sc))
    assert res.totals["unmet_gpu_hours"] == pytest.approx(48 - 36, abs=1e-6)  # capacity-limited
    assert res.totals["unmet_penalty_usd"] == pytest.approx(12 * 500.0, rel=1e-6)


def _medium_instance(seed: int, n_jobs: int, hours: int, quota: float):
    rng = np.random.default_rng(seed)
    carbon, price = _signals(rng, hours + 40)
    rows = []
    for k in range(n_jobs):
        sub = float(rng.uniform(0, hours - 30))
        dur = float(rng.uniform(0.5, 10))
        rows.append((f"j{k:03d}", sub, int(rng.choice([1, 2, 4, 8])), dur, sub + dur + float(rng.uniform(0, 24)),
                     bool(rng.random() < 0.6)))
    return schedule_inputs(_jobs(rows), carbon, price, _scenario(quota=quota, reserved=8.0))


def test_lp_rounding_states_its_gap_and_never_beats_the_exact_milp() -> None:
    inp = _medium_instance(3, 40, 120, quota=16.0)
    exact = optimize_schedule(inp, method="exact", mip_gap=1e-6)
    heur = optimize_schedule(inp, method="lp-rounding")
    assert heur.method == "lp-rounding"
    assert heur.lower_bound_usd <= exact.totals["objective_usd"] * (1 + 1e-7)
    assert heur.totals["objective_usd"] >= exact.totals["objective_usd"] * (1 - 1e-6)
    assert heur.gap == pytest.approx(1 - heur.lower_bound_usd / heur.totals["objective_usd"], rel=1e-9)
    assert 0 <= heur.gap < 0.05
    u = usage_matrix(inp, heur.schedule)
    assert u.sum(axis=0).max() <= 24.0 + 1e-6
    assert np.allclose(u.sum(axis=1), inp.gpus * inp.duration)


def test_carbon_falls_as_the_carbon_price_rises() -> None:
    inp = _medium_instance(5, 25, 96, quota=40.0)
    pareto = schedule_pareto(inp, carbon_prices=(0.0, 100.0, 1000.0, 10000.0))
    kg = pareto["kg_co2e"].to_numpy()
    money = pareto["money_usd"].to_numpy()
    assert np.all(np.diff(kg) <= 1e-6) and kg[-1] < kg[0]
    assert np.all(np.diff(money) >= -1e-6)


def test_schedule_beats_running_on_arrival_and_costs_add_up() -> None:
    inp = _medium_instance(7, 30, 100, quota=40.0)
    res = optimize_schedule(inp)
    s = res.summary()
    assert s["objective_usd"] <= s["arrival_objective_usd"] + 1e-6
    _, tot = cost_schedule(inp, arrival_schedule(inp))
    assert tot["kg_co2e"] == pytest.approx(s["arrival_kg_co2e"])
    assert res.jobs["kg_co2e"].sum() == pytest.approx(s["kg_co2e"])
    assert (res.jobs["delay_hours"] >= 0).all()
    assert set(res.schedule.columns) == {"job_id", "timestamp", "gpus"}


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 8), quota=st.sampled_from([None, 8.0, 12.0]))
def test_schedules_conserve_work_and_respect_windows_and_capacity(seed: int, n: int, quota: float | None) -> None:
    rng = np.random.default_rng(seed)
    carbon, price = _signals(rng, 80)
    rows = []
    for k in range(n):
        sub = float(rng.uniform(0, 30))
        dur = float(rng.uniform(0.3, 6))
        rows.append((f"j{k}", sub, int(rng.choice([1, 2, 4])), dur, sub + dur + float(rng.uniform(0, 30)),
                     bool(rng.random() < 0.5)))
    sc = _scenario(quota=quota, allow_unmet_demand=True)
    inp = schedule_inputs(_jobs(rows), carbon, price, sc, pause_margin_hours=0.0)
    res = optimize_schedule(inp)
    u = usage_matrix(inp, res.schedule)
    done = u.sum(axis=1) + res.jobs["unmet_gpu_hours"].to_numpy()
    assert np.allclose(done, inp.gpus * inp.duration, atol=1e-6)
    t0 = math.floor(min(r[1] for r in rows))  # the grid starts at the first submission's hour
    for j, (_, sub, g, _, dl, _) in enumerate(rows):
        sub, dl = sub - t0, dl - t0
        # no hour holds more of the job than the part of that hour inside [submit, deadline]
        assert np.all(u[j] <= g * _inside(sub, dl, inp.n_hours) + 1e-7)
    if quota is not None:
        assert u.sum(axis=0).max() <= quota + 1e-6


def test_schedule_table_follows_the_table_contract() -> None:
    from scenarios.tables import check_frame, columns

    rng = np.random.default_rng(2)
    carbon, price = _signals(rng, 30)
    inp = schedule_inputs(_jobs([("a", 0, 2, 3.5, 20, False), ("b", 1, 1, 2.0, 25, True)]), carbon, price,
                          _scenario())
    res = optimize_schedule(inp)
    assert list(res.schedule.columns) == columns("schedule")
    check_frame(res.schedule, "schedule")


def test_as_run_costs_add_a_checkpoint_and_a_restart_per_pause() -> None:
    ts = pd.date_range(START, periods=24, freq="h")
    carbon_v = 100.0 + 10.0 * np.arange(24)
    carbon = pd.DataFrame({"region": "default", "timestamp": ts, "gco2_per_kwh": carbon_v})
    price = pd.DataFrame({"region": "default", "timestamp": ts, "usd_per_mwh": 50.0})
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "gpu_power_kw": 0.5, "pue": 1.2}}
    sc = make_scenario(fam, workload={"checkpoint_cost_hours": 0.05, "restart_cost_hours": 0.1})
    inp = schedule_inputs(_jobs([("p", 1.5, 4, 2.0, 8.0, True)]), carbon, price, sc)
    h = pd.Timedelta(hours=1)
    sched = pd.DataFrame({"job_id": pd.array(["p", "p", "p"], dtype="string"),
                          "timestamp": [START + 1 * h, START + 5 * h, START + 6 * h], "gpus": [2.0, 4.0, 2.0]})
    jobs, planned = cost_schedule(inp, sched)
    jobs_r, run = cost_schedule(inp, sched, as_run=True)
    kw = 4 * 0.5 * 1.2
    # by hand, planned: [1.5, 2.0] and [5.0, 6.5]; as run: [1.5, 2.05] (+ checkpoint), [5.0, 6.6] (restart first)
    assert planned["kg_co2e"] == pytest.approx(kw * (0.5 * carbon_v[1] + carbon_v[5] + 0.5 * carbon_v[6]) / 1000)
    assert run["kg_co2e"] == pytest.approx(
        kw * (0.5 * carbon_v[1] + 0.05 * carbon_v[2] + carbon_v[5] + 0.6 * carbon_v[6]) / 1000)
    assert run["pause_gpu_hours"] == pytest.approx(4 * 0.15)
    assert jobs.loc[0, "finish"] == START + 6.5 * h
    assert jobs_r.loc[0, "finish"] == START + 6.6 * h
    assert jobs.loc[0, "start"] == START + 1.5 * h
