"""Benchmark of the simulator engine: one year of a 100,000-job trace on a fleet with spot interruptions.

Workload (REAL distributions from ``../shared/data/job_statistics``):

- runtimes drawn with replacement from the 83,154 Microsoft Philly GPU job runtimes (CC BY 4.0), read as
  seconds, runtimes of 0 s dropped, capped at 14 days;
- GPUs per job: powers of two 1..128 with geometric weights fitted to Philly's mean GPUs per job and its
  maximum (``acme_cluster_summary_incl_philly_helios_pai.csv``: avg_gpu_num 1.928, max_gpu 128);
- Poisson arrivals over one year; 70 % preemptible; 30 % with a deadline 24 h after the runtime.

Fleet (ASSUMED): one family at the default scenario's a100 prices, 32 reserved GPUs, 20 USD/h committed
spend, spot up to 160 GPUs in the >20 % monthly interruption band with 4 correlated revocations (half the
spot fleet) and 2 droughts (8 h) a month, on-demand unlimited.  Most preemptible work lands on spot.

Printed, all measured in this run: wall time per replication (engine and total), events per second,
events per job, the cost per event against two bare SimPy loops with the same number of events (one
process yielding timeouts; one process per job with the same arrivals, one timeout each), and the speed-up
of 4 replications on 2 processes against 1.

Run: ``.venv/bin/python benchmarks/bench_simulator.py`` (about a minute).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gpuplan.executors import ProcessPoolMapper  # noqa: E402
from scenarios.parallel import SerialMapper  # noqa: E402
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase  # noqa: E402
from scenarios.schema import Scenario  # noqa: E402
from simulator import build_inputs, run  # noqa: E402
from simulator.engine import JobEngine  # noqa: E402
from simulator.fleet import draw_fleet_events  # noqa: E402
from simulator.fluid import place_fluid  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "job_statistics"
N_JOBS = 100_000
HOURS = 8760
SEED = 2026


def _gpu_weights(mean: float, sizes: np.ndarray) -> np.ndarray:
    """Geometric weights r^k on sizes 2^k whose mean is ``mean`` (bisection on r)."""
    lo, hi = 1e-6, 0.999
    for _ in range(100):
        r = 0.5 * (lo + hi)
        w = r ** np.arange(len(sizes))
        m = float((w * sizes).sum() / w.sum())
        lo, hi = (r, hi) if m < mean else (lo, r)
    return w / w.sum()


def make_trace(rng: np.random.Generator) -> tuple[pd.DataFrame, str]:
    summary = pd.read_csv(DATA / "acme_cluster_summary_incl_philly_helios_pai.csv").set_index("id")
    mean_gpus, max_gpus = float(summary.loc["Philly", "avg_gpu_num"]), float(summary.loc["Philly", "max_gpu"])
    run_s = pd.read_csv(DATA / "philly_runtime_from_alibaba_analysis.csv.gz")["runtime"].to_numpy(float)
    run_s = run_s[run_s > 0]
    sizes = 2.0 ** np.arange(int(np.log2(max_gpus)) + 1)
    w = _gpu_weights(mean_gpus, sizes)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    submit = np.sort(rng.uniform(0, HOURS - 24 * 15, N_JOBS))
    dur = np.minimum(rng.choice(run_s, N_JOBS) / 3600.0, 24 * 14.0)
    gpus = rng.choice(sizes, N_JOBS, p=w).astype(np.int64)
    pre = rng.random(N_JOBS) < 0.7
    has_dl = rng.random(N_JOBS) < 0.3
    deadline = pd.Series(start + pd.to_timedelta(submit + dur + 24.0, unit="h"))
    deadline[~has_dl] = pd.NaT
    jobs = pd.DataFrame({
        "job_id": [f"j{i:06d}" for i in range(N_JOBS)],
        "submit_time": start + pd.to_timedelta(submit, unit="h"),
        "gpus": gpus, "duration_hours": dur, "family": "a100",
        "team": rng.choice(["research", "product", "infra"], N_JOBS),
        "deadline": deadline, "preemptible": pre,
        "checkpoint_interval_hours": np.nan, "priority": rng.integers(0, 3, N_JOBS),
    })
    desc = (f"{N_JOBS:,} jobs over one year; runtimes from {len(run_s):,} Philly runtimes (mean "
            f"{dur.mean():.2f} h), GPUs per job mean {gpus.mean():.2f} (target {mean_gpus}), "
            f"{jobs['gpus'].mul(jobs['duration_hours']).sum():,.0f} GPU-hours of work")
    return jobs, desc


def scenario() -> Scenario:
    return Scenario(**{
        "name": "bench",
        "catalog": {"a100": {
            "on_demand_usd_per_gpu_hour": 2.744705, "committed_discount": {"1y": 0.28},
            "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.740137}],
            "spot": {"usd_per_gpu_hour": 1.15, "interruption_band": ">20%", "available_gpus": 160,
                     "correlated_events_per_month": 4.0, "correlated_share": 0.5,
                     "drought_events_per_month": 2.0, "drought_hours": 8},
        }},
        "demand": {"history": "unused.csv"},
        "policies": {"spot_fallback_after_interruptions": 3},
    })


def bare_loop_seconds(n_events: int) -> tuple[float, int]:
    """A bare SimPy loop: one process yielding ``n_events`` timeouts.  Returns (seconds, events)."""
    env = simpy.Environment()

    def loop(env: simpy.Environment, n: int):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(loop(env, n_events - 2))  # + the Initialize and the process's own end event
    t = time.perf_counter()
    env.run()
    return time.perf_counter() - t, next(env._eid)


def bare_jobs_seconds(release: list[float], duration: list[float], extra: int) -> tuple[float, int]:
    """A bare process-per-job SimPy model: the same arrivals, each job one timeout of its duration, plus
    ``extra`` more timeouts in one process so the event count matches the engine's.  Returns (seconds, events).
    """
    env = simpy.Environment()

    def job(env: simpy.Environment, d: float):  # type: ignore[no-untyped-def]
        yield env.timeout(d)

    def source(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for t, d in zip(release, duration, strict=True):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(job(env, d))

    def filler(env: simpy.Environment, n: int):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(HOURS / max(n, 1))

    env.process(source(env))
    env.process(filler(env, max(extra, 0)))
    t = time.perf_counter()
    env.run()
    return time.perf_counter() - t, next(env._eid)


def _noop(x: int) -> int:
    return x


def main() -> None:
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (needs ../shared/data/job_statistics)")
        return
    print(f"machine: {os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.2f} "
          "(other processes compete for the cores)")
    rng = np.random.default_rng(SEED)
    jobs, desc = make_trace(rng)
    print("workload:", desc)
    sc = scenario()
    plan = CapacityPlan("bench", reserved=(ReservedPurchase("a100", 1, "no_upfront", 32, 1.740137),),
                        committed=(CommitmentPurchase(1, 20.0),))
    t = time.perf_counter()
    inputs = build_inputs(sc, plan, jobs=jobs, hours=HOURS)
    print(f"build_inputs: {time.perf_counter() - t:.2f} s")

    # engine alone, replication 0, best of 3 runs of the same seed
    ss = np.random.SeedSequence(SEED).spawn(1)[0]
    best = np.inf
    rec = None
    for _ in range(3):
        ev = draw_fleet_events(inputs, np.random.default_rng(ss.spawn(1)[0]))
        _, residual = place_fluid(inputs, None, ev, np.random.default_rng(1))
        eng = JobEngine(inputs, residual, ev, np.random.default_rng(2))
        t = time.perf_counter()
        rec = eng.run()
        best = min(best, time.perf_counter() - t)
    assert rec is not None
    n_ev = rec.events
    n_int = int(rec.interruptions.sum())
    print(f"engine (SimPy run incl. job logic), best of 3: {best:.2f} s for {n_ev:,} events "
          f"= {n_ev / best:,.0f} events/s; {n_ev / len(jobs):.2f} events/job with "
          f"{n_int / len(jobs):.3f} interruptions/job ({n_int:,} interruptions; "
          f"{(rec.status == 1).mean():.1%} of jobs finished)")
    loop = min(bare_loop_seconds(n_ev) for _ in range(3))
    print(f"bare SimPy loop (1 process, {loop[1]:,} timeouts), best of 3: {loop[0]:.2f} s "
          f"= {loop[1] / loop[0]:,.0f} events/s")
    order = np.argsort(inputs.jobs.release, kind="stable")
    rel = inputs.jobs.release[order].tolist()
    dur = inputs.jobs.duration[order].tolist()
    probe = bare_jobs_seconds(rel, dur, 0)
    per_job = min((bare_jobs_seconds(rel, dur, n_ev - probe[1]) for _ in range(3)), key=lambda x: x[0])
    print(f"bare SimPy process-per-job loop (same arrivals, {per_job[1]:,} events), best of 3: {per_job[0]:.2f} s "
          f"= {per_job[1] / per_job[0]:,.0f} events/s")
    cost = best / n_ev
    print(f"cost per event vs bare 1-process loop: {cost / (loop[0] / loop[1]):.2f}x; "
          f"vs bare process-per-job loop: {cost / (per_job[0] / per_job[1]):.2f}x  (goal <= 3x)")

    # the same trace under a much harsher market (hazard 0.2/h per instance): events grow with interruptions
    harsh = scenario().model_copy(deep=True)
    spot = harsh.catalog["a100"].spot
    assert spot is not None
    harsh_spot = spot.model_copy(update={"hazard_per_hour": 0.2})
    harsh = harsh.model_copy(update={"catalog": {"a100": harsh.catalog["a100"].model_copy(update={"spot": harsh_spot})}})
    hin = build_inputs(harsh, plan, jobs=jobs, hours=HOURS)
    ev = draw_fleet_events(hin, np.random.default_rng(ss.spawn(1)[0]))
    _, residual = place_fluid(hin, None, ev, np.random.default_rng(1))
    eng = JobEngine(hin, residual, ev, np.random.default_rng(2))
    t = time.perf_counter()
    hrec = eng.run()
    ht = time.perf_counter() - t
    hint = int(hrec.interruptions.sum())
    print(f"harsh market (hazard 0.2/h): {hrec.events:,} events for {len(jobs):,} jobs and {hint:,} interruptions "
          f"= {hrec.events / len(jobs):.2f} events/job; (events - 4 x jobs) / interruptions = "
          f"{(hrec.events - 4 * len(jobs)) / max(hint, 1):.2f}; {ht:.2f} s = {hrec.events / ht:,.0f} events/s")

    # full replications (engine + fluid + accounting), serial vs 2 processes
    reps = 8
    t = time.perf_counter()
    r1 = run(inputs, replications=reps, seed=SEED, detail="none", mapper=SerialMapper(progress=False))
    serial = time.perf_counter() - t
    walls = r1.meta["wall_seconds"]
    print(f"full replication (engine + accounting) wall: mean {np.mean(walls):.2f} s, "
          f"min {np.min(walls):.2f} s, max {np.max(walls):.2f} s over {reps}; CPU mean "
          f"{np.mean(r1.meta['cpu_seconds']):.2f} s")
    t = time.perf_counter()
    ProcessPoolMapper(2, progress=False).map(_noop, [0, 1])
    startup = time.perf_counter() - t
    t = time.perf_counter()
    r2 = run(inputs, replications=reps, seed=SEED, detail="none", mapper=ProcessPoolMapper(2, progress=False))
    par = time.perf_counter() - t
    same = r1.kpis.equals(r2.kpis)
    print(f"{reps} replications: serial {serial:.2f} s, 2 processes {par:.2f} s: speed-up {serial / par:.2f}x "
          f"(identical KPIs: {same}); replication CPU seconds summed: serial {sum(r1.meta['cpu_seconds']):.2f}, "
          f"in the 2 workers {sum(r2.meta['cpu_seconds']):.2f}; starting a 2-process pool costs {startup:.2f} s "
          "(forkserver + imports)")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    k = r1.summary.set_index("metric")
    for m in ("total_cost_usd", "job_interruptions", "deadline_misses", "mean_queue_delay_hours",
              "jobs_finished", "events_per_job"):
        print(f"  {m:<24} mean {k.loc[m, 'mean']:,.4g}  95% CI [{k.loc[m, 'ci95_low']:,.4g}, "
              f"{k.loc[m, 'ci95_high']:,.4g}]")


if __name__ == "__main__":
    main()
