"""Checkpoint/restart against closed forms: Daly (2006) expected completion time, Young/Daly interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from simulator import simulate, young_daly_interval
from simulator.checkpoint import checkpoints_needed, split_censored, split_interrupted
from tests.simulator._util import jobs, scenario


def daly_expected_completion(work: float, tau: float, delta: float, restart: float, lam: float) -> float:
    """Daly 2006: each segment of length a that must finish without failure takes M e^{R/M} (e^{a/M} - 1)
    in expectation (M = 1/lam); ``work / tau`` segments, the last one without a checkpoint after it."""
    m = 1.0 / lam
    n = round(work / tau)
    seg = m * math.exp(restart / m) * (math.exp((tau + delta) / m) - 1.0)
    last = m * math.exp(restart / m) * (math.exp(tau / m) - 1.0)
    return (n - 1) * seg + last


def test_split_of_an_interrupted_segment_by_hand() -> None:
    # restart 0.2 h, then cycles of 1 h work + 0.1 h checkpoint; interrupted 2.5 h in: two cycles saved
    saved, ck, lost = split_interrupted(2.5, 0.2, 1.0, 0.1)
    assert saved == pytest.approx(2.0)
    assert ck == pytest.approx(0.2)
    assert lost == pytest.approx(0.3)
    assert split_interrupted(0.15, 0.2, 1.0, 0.1) == (0.0, 0.0, 0.15)  # still restarting: all lost
    assert split_interrupted(3.0, 0.0, math.inf, 0.1) == (0.0, 0.0, 3.0)  # never checkpoints: all lost


def test_split_of_a_censored_segment_keeps_work_in_progress() -> None:
    work, ck, restart = split_censored(2.5, 0.2, 1.0, 0.1)
    assert (work, ck, restart) == pytest.approx((2.1, 0.2, 0.2))
    assert split_censored(1.05, 0.0, 1.0, 0.1) == pytest.approx((1.0, 0.05, 0.0))  # mid-checkpoint write


def test_checkpoints_are_not_written_after_the_last_piece_of_work() -> None:
    assert checkpoints_needed(3.0, 1.0) == 2
    assert checkpoints_needed(2.5, 1.0) == 2
    assert checkpoints_needed(0.5, 1.0) == 0
    assert checkpoints_needed(5.0, math.inf) == 0


def test_daly_interval_is_near_the_minimum_of_the_closed_form() -> None:
    # Expected run time per unit of work as a function of tau; Daly's estimate should sit at its minimum.
    for delta, lam in ((0.05, 0.01), (0.1, 0.05), (0.25, 0.002)):
        def per_work(tau: float, delta: float = delta, lam: float = lam) -> float:
            m = 1.0 / lam
            return m * (math.exp((tau + delta) / m) - 1.0) / tau

        best = minimize_scalar(per_work, bounds=(1e-3, 50.0 / lam), method="bounded", options={"xatol": 1e-9})
        tau = young_daly_interval(delta, lam)
        assert tau == pytest.approx(best.x, rel=0.02)
        assert per_work(tau) == pytest.approx(best.fun, rel=1e-4)
        assert tau == pytest.approx(math.sqrt(2 * delta / lam), rel=0.1)  # Young to first order


def test_young_daly_edge_cases() -> None:
    assert young_daly_interval(0.1, 0.0) == math.inf
    assert young_daly_interval(0.0, 0.1) == 0.0
    assert young_daly_interval(30.0, 0.1) == pytest.approx(10.0)  # delta >= 2M: checkpoint every M


def test_mean_completion_matches_daly_closed_form_within_2_percent() -> None:
    lam, tau, delta, restart, n_seg = 0.1, 1.0, 0.1, 0.25, 12
    sc = scenario(catalog={"x": {"spot": {"usd_per_gpu_hour": 1.0, "hazard_per_hour": lam,
                                           "available_gpus": 1e6, "interruption_band": None}}},
                  workload={"checkpoint_cost_hours": delta, "restart_cost_hours": restart})
    n = 20_000
    table = jobs([{"gpus": 1, "duration_hours": n_seg * tau, "checkpoint_interval_hours": tau}] * n)
    res = simulate(sc, jobs=table, replications=1, seed=11, hours=1_000, detail="none", progress=False)
    j = res.jobs
    assert (j["status"] == "finished").all()
    assert (j["spot_gpu_hours"] == j["busy_gpu_hours"]).all()
    completion = (j["end_time"] - j["start_time"]).dt.total_seconds().to_numpy() / 3600.0
    expected = daly_expected_completion(n_seg * tau, tau, delta, restart, lam)
    assert completion.mean() == pytest.approx(expected, rel=0.02)
    # and the books balance: each job's wall time is its useful + checkpoint + lost time
    total = (j["useful_gpu_hours"] + j["checkpoint_gpu_hours"] + j["lost_gpu_hours"]).to_numpy()
    np.testing.assert_allclose(total, completion, rtol=1e-9)
    np.testing.assert_allclose(j["checkpoint_gpu_hours"].to_numpy(), (n_seg - 1) * delta, rtol=1e-9)
    assert res.kpis["job_interruptions"].iloc[0] > 0.5 * n  # the hazard really bites


def test_default_interval_is_young_daly_for_the_hazard_the_job_faces() -> None:
    lam = 0.02
    sc = scenario(catalog={"x": {"spot": {"usd_per_gpu_hour": 1.0, "hazard_per_hour": lam, "available_gpus": 64,
                                           "correlated_events_per_month": 7.3, "correlated_share": 0.5,
                                           "interruption_band": None}}},
                  workload={"checkpoint_cost_hours": 0.05, "restart_cost_hours": 0.1})
    from simulator import build_inputs

    inp = build_inputs(sc, jobs=jobs([{"gpus": 1, "duration_hours": 5.0}, {"gpus": 16, "duration_hours": 5.0}]))
    faced_1 = lam + 7.3 / 730.0 * 0.5
    faced_16 = 2 * lam + 7.3 / 730.0 * 0.5  # 16 GPUs span two 8-GPU instances
    assert inp.jobs.tau_spot[0] == pytest.approx(young_daly_interval(0.05, faced_1))
    assert inp.jobs.tau_spot[1] == pytest.approx(young_daly_interval(0.05, faced_16))
    assert np.isinf(inp.jobs.tau_other).all()  # no checkpoints where nothing interrupts
