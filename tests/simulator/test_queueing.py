"""Queueing on reserved GPUs against Erlang C (M/M/c) and an independent FIFO recursion."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest

from scenarios.plan import CapacityPlan, ReservedPurchase
from simulator import simulate
from tests.simulator._util import T0, scenario


def erlang_c_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c: C(c, a) / (c mu - lam), a = lam / mu."""
    a = lam / mu
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail) / (c * mu - lam)


def fifo_waits(arrivals: np.ndarray, service: np.ndarray, c: int) -> np.ndarray:
    """Waits of a FIFO queue with c servers: each job takes the earliest-free server (Kiefer-Wolfowitz)."""
    free = [0.0] * c
    out = np.empty(len(arrivals))
    for i, (a, s) in enumerate(zip(arrivals, service, strict=True)):
        f = heapq.heappop(free)
        start = max(a, f)
        out[i] = start - a
        heapq.heappush(free, start + s)
    return out


def mmc_jobs(n: int, lam: float, mu: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arr = np.cumsum(rng.exponential(1.0 / lam, n))
    return pd.DataFrame({"job_id": np.arange(n).astype(str), "submit_time": T0 + pd.to_timedelta(arr, unit="h"),
                         "gpus": 1, "duration_hours": rng.exponential(1.0 / mu, n), "preemptible": False})


def run_mmc(table: pd.DataFrame, c: int):  # type: ignore[no-untyped-def]
    sc = scenario(catalog={"x": {"on_demand_quota_gpus": 0}})  # no on-demand: jobs wait for reserved GPUs
    plan = CapacityPlan("c", reserved=(ReservedPurchase("x", 3, "no_upfront", c, 1.0),))
    last = (table["submit_time"].max() - T0) / pd.Timedelta(hours=1)
    return simulate(sc, plan, jobs=table, hours=int(last) + 48, replications=1, seed=0, detail="none",
                    progress=False)


def test_waits_equal_an_independent_fifo_recursion() -> None:
    c, lam, mu = 3, 2.4, 1.0
    table = mmc_jobs(3_000, lam, mu, seed=5)
    res = run_mmc(table, c)
    arr = ((table["submit_time"] - T0) / pd.Timedelta(hours=1)).to_numpy()
    expected = fifo_waits(arr, table["duration_hours"].to_numpy(), c)
    np.testing.assert_allclose(res.jobs["queue_delay_hours"].to_numpy(), expected, atol=1e-9)
    assert (res.jobs["status"] == "finished").all()


def test_mean_wait_within_3_percent_of_erlang_c() -> None:
    # c = 2, rho = 0.6; 250,000 jobs (hours scaled: mean service 6 minutes) so the standard error of the mean
    # wait is about 1 %.  The first 2,000 jobs are a warm-up.
    c, lam, mu = 2, 12.0, 10.0
    table = mmc_jobs(250_000, lam, mu, seed=2026)
    res = run_mmc(table, c)
    waits = res.jobs["queue_delay_hours"].to_numpy()[2_000:]
    assert waits.mean() == pytest.approx(erlang_c_wait(c, lam, mu), rel=0.03)
    k = res.kpis.iloc[0]
    assert k["reserved_utilization"] == pytest.approx(lam / (c * mu), rel=0.02)
    assert k["job_interruptions"] == 0
