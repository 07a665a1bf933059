"""Benchmark the plan pipeline: the demo's wall time, and 1 worker against 2 for the parallel steps.

Prints what it measured:

- ``gpuplan plan default`` wall time, as ``make demo`` runs it (a fresh process, default executor);
- Monte Carlo replications of the default scenario's current plan, many-series forecasts and a sweep, each
  on 1 worker and on 2 (local process pool, then a Dask LocalCluster), with the speed-up, and a check that
  the numbers are identical on every executor.

Run: ``.venv/bin/python benchmarks/bench_plan.py`` (about 5-8 minutes on 2 cores).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from forecasting.core import Forecaster
from gpuplan.compare import sweep
from gpuplan.executors import DaskMapper, ProcessPoolMapper
from gpuplan.pipeline import scenario_paths
from scenarios import load_scenario
from scenarios.parallel import Mapper, SerialMapper
from scenarios.plan import current_plan
from scenarios.signals import load_signals
from scenarios.workload import load_jobs, plan_start
from simulator.api import simulate


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_demo() -> None:
    """Wall time of the demo command in a fresh process."""
    exe = os.path.join(os.path.dirname(sys.executable), "gpuplan")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([exe, "-q", "plan", "default", "--out", tmp], check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
    print(f"demo: gpuplan plan default (fresh process, 2-core process pool): {wall:.1f} s wall")


def _compare(label: str, one: Callable[[Mapper], Any], same: Callable[[Any, Any], bool]) -> None:
    t1, r1 = _timed(lambda: one(SerialMapper(False)))
    t2, r2 = _timed(lambda: one(ProcessPoolMapper(2, progress=False)))
    with DaskMapper("local", workers=1, progress=False) as d1:
        td1, rd1 = _timed(lambda: one(d1))
    with DaskMapper("local", workers=2, progress=False) as d2:
        td2, rd2 = _timed(lambda: one(d2))
    ok = same(r1, r2) and same(r1, rd1) and same(r1, rd2)
    print(f"{label}:\n"
          f"  in-process 1 worker {t1:7.1f} s | process pool 2 workers {t2:7.1f} s | speed-up {t1 / t2:4.2f}x\n"
          f"  Dask LocalCluster 1 worker {td1:7.1f} s | 2 workers {td2:7.1f} s | speed-up {td1 / td2:4.2f}x\n"
          f"  identical numbers on every executor: {ok}")


def bench_replications() -> None:
    """Monte Carlo replications of the default scenario's current plan over a year of forecast paths."""
    sc = load_scenario("default")
    paths = scenario_paths(sc, progress=False)
    start = plan_start(sc)
    hours = int(paths["timestamp"].nunique())
    jobs = load_jobs(sc, start)
    carbon, price = load_signals(sc, start, hours)
    plan = current_plan(sc)

    def run(m: Mapper) -> pd.DataFrame:
        return simulate(sc, plan, jobs=jobs, demand=paths, carbon=carbon, price=price, replications=20,
                        mapper=m, progress=False, start=start, hours=hours).kpis

    _compare(f"Monte Carlo: 20 replications x {hours:,} h x {len(jobs)} jobs (default scenario, current plan)",
             run, lambda a, b: a.equals(b))


def bench_forecasts() -> None:
    """Many-series forecasts: 40 series of 8 weeks, model auto, 1-week horizon with 20 paths."""
    rng = np.random.default_rng(0)
    t = pd.date_range("2026-01-01", periods=24 * 56, freq="h", tz="UTC")
    hour = np.arange(len(t))
    frames = []
    for i in range(40):
        level = rng.uniform(10, 200)
        y = level * (1 + 0.3 * np.sin(2 * np.pi * hour / 24 + rng.uniform(0, 6))) + rng.normal(0, level * 0.1, len(t))
        frames.append(pd.DataFrame({"series_id": f"s{i:02d}", "timestamp": t, "gpus": np.clip(y, 0, None)}))
    hist = pd.concat(frames, ignore_index=True)

    def run(m: Mapper) -> pd.DataFrame:
        res = Forecaster("auto", mapper=m, progress=False).run(hist, 168, n_paths=20, seed=0)
        assert res.paths is not None
        return res.paths

    _compare("Forecasts: 40 series x 8 weeks hourly, auto, h=168, 20 paths", run, lambda a, b: a.equals(b))


def bench_sweep() -> None:
    """A 4-point sweep of the small scenario, one plan per worker item."""
    sc = load_scenario("small")
    grid = [{"policies.carbon_price_usd_per_tonne": float(p)} for p in (0, 100, 200, 400)]

    def run(m: Mapper) -> pd.DataFrame:
        return sweep(sc, grid, mapper=m, replications=4)

    _compare("Sweep: 4 variations of the small scenario (whole pipeline each)", run,
             lambda a, b: a.drop(columns="scenario").equals(b.drop(columns="scenario")))


def main() -> None:
    """Run every benchmark and print what it measured."""
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    bench_demo()
    bench_replications()
    bench_forecasts()
    bench_sweep()


if __name__ == "__main__":
    main()
