"""Benchmark of the optimizer engine (run by ``make bench``; prints everything it measures).

1. Capacity mix, a year of hours x 4 families x 3 products (1-year and 3-year reservations per family and a
   3-year savings plan across families) x 50 SYNTHETIC sample paths:
   build and solve times with HiGHS and CBC through PuLP; the same LP solved by scipy's HiGHS on the raw
   matrices in the same run (PuLP's overhead as a ratio); the reduced model's cost against the full
   hourly model's (on 2 paths x 8,760 h, where the full model is solvable here); plan costing speed.
2. Schedule: 200 jobs over a week solved to a MIP gap <= 1 %; 2,000 jobs over four weeks with the
   large-instance method (LP rounding) and its gap to the LP bound.
3. Savings on real signals: Germany and Great Britain 2020 carbon intensity (Let's Wait Awhile, Wiesner et al.
   2021; ../shared/data), flexibility windows 0-24 h, carbon and cost saved against running on arrival.

Usage: ``python benchmarks/bench_optimizer.py [--quick]`` (quick: smaller sizes, for a smoke run).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import (  # noqa: E402
    CapacitySettings,
    PairEvaluator,
    build_capacity,
    capacity_inputs,
    evaluate,
    extract_plan,
    optimize_capacity,
    optimize_schedule,
    schedule_inputs,
    solve,
)
from scenarios.loader import load_scenario, validate_dict  # noqa: E402
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase  # noqa: E402
from scenarios.signals import load_signals  # noqa: E402
from scenarios.workload import load_jobs  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
H = 8760


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def timed(fn, *a, **k):  # type: ignore[no-untyped-def,unused-ignore]
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


# ------------------------------------------------------------------------------------------------ capacity
FAMILIES = [("a100", 2.744705, 60.0), ("h100", 6.88, 30.0), ("l40s", 1.8615, 40.0), ("a10g", 1.006, 80.0)]


def capacity_scenario():  # type: ignore[no-untyped-def,unused-ignore]
    cat = {}
    for i, (fam, od, _) in enumerate(FAMILIES):
        cat[fam] = {"on_demand_usd_per_gpu_hour": od, "committed_discount": {"3y": 0.45 - 0.02 * i},
                    "reserved": [{"term_years": 1, "usd_per_gpu_hour": round(od * 0.634, 4)},
                                 {"term_years": 3, "usd_per_gpu_hour": round(od * 0.45, 4)}]}
        if i < 2:
            cat[fam]["spot"] = {"usd_per_gpu_hour": round(od * 0.42, 4), "available_gpus": 20,
                                "interruption_band": "10-15%"}
    return validate_dict({"name": "bench", "catalog": cat, "demand": {"history": "unused.csv"}})


def synthetic_paths(n_paths: int, hours: int, seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC family paths: random-walk level, 15 %/year growth, daily and weekly cycles, noise [GPUs]."""
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    ts = pd.date_range("2026-01-01", periods=hours, freq="h", tz="UTC")
    frames = []
    for i, (fam, _, base) in enumerate(FAMILIES):
        level = base * np.exp(np.cumsum(rng.normal(0, 0.002, (n_paths, hours)), axis=1)) * (1 + 0.15 * t / H)
        shape = 1 + 0.3 * np.sin(2 * np.pi * (t + 3 * i) / 24) + 0.1 * np.sin(2 * np.pi * t / 168)
        g = np.maximum(level * shape + rng.normal(0, 0.08 * base, (n_paths, hours)), 0.0)
        frames.append(pd.DataFrame({"series_id": fam, "timestamp": np.tile(ts, n_paths),
                                    "sample_id": np.repeat(np.arange(n_paths), hours), "gpus": g.ravel()}))
    return pd.concat(frames, ignore_index=True)


def to_matrices(problem):  # type: ignore[no-untyped-def,unused-ignore]
    """The PuLP problem as raw arrays for scipy: c, A_ub, b_ub, A_eq, b_eq, bounds, objective constant."""
    vs = problem.variables()
    idx = {v.name: i for i, v in enumerate(vs)}
    c = np.zeros(len(vs))
    for v, a in problem.objective.items():
        c[idx[v.name]] = a
    rows: dict[str, tuple[list[int], list[int], list[float], list[float]]] = {"ub": ([], [], [], []), "eq": ([], [], [], [])}
    for con in problem.constraints():
        kind = "eq" if con.sense == 0 else "ub"
        sign = -1.0 if con.sense == 1 else 1.0  # >= rows become <= by negation
        r, cc, vv, rhs = rows[kind]
        k = len(rhs)
        for v, a in con.items():
            r.append(k)
            cc.append(idx[v.name])
            vv.append(sign * a)
        rhs.append(-sign * con.constant)
    mats = {}
    for kind, (r, cc, vv, rhs) in rows.items():
        mats[kind] = (sp.csr_matrix((vv, (r, cc)), shape=(len(rhs), len(vs))), np.array(rhs))
    bounds = [(v.lowBound, v.upBound) for v in vs]
    return c, mats["ub"], mats["eq"], bounds, float(problem.objective.constant or 0.0)


def bench_capacity(quick: bool) -> None:
    n_paths = 10 if quick else 50
    sc = capacity_scenario()
    section(f"Capacity mix: {len(FAMILIES)} families x 3 products x {n_paths} SYNTHETIC paths x {H:,} h")
    paths, t_gen = timed(synthetic_paths, n_paths, H)
    inputs, t_in = timed(capacity_inputs, paths, sc)
    print(f"paths table {len(paths):,} rows (generated {t_gen:.1f} s); checked into arrays in {t_in:.2f} s")
    settings = CapacitySettings(use_policies=False)  # default number of representative hours
    results = {}
    for solver in ("highs", "cbc"):
        model, t_build = timed(build_capacity, inputs, settings)
        res = solve(model.problem, solver=solver, time_limit_s=600)
        plan = extract_plan(model)
        ev = evaluate(plan, inputs)
        results[solver] = (model, res, plan)
        print(f"{solver:5s}: {model.n_bins:,} representative hours for {n_paths * H:,} path-hours; "
              f"{model.n_variables:,} variables, {model.n_constraints:,} constraints; build {t_build:.1f} s "
              f"(binning + PuLP); solve {res.runtime_s:.1f} s ({res.termination}); model expected cost "
              f"{res.objective * H:,.0f} USD; plan costed on every hour {ev.total_usd.mean():,.0f} USD")
    model, res, _ = results["highs"]
    (c, (a_ub, b_ub), (a_eq, b_eq), bounds, const), t_mat = timed(to_matrices, model.problem)
    t0 = time.perf_counter()
    lp = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    t_scipy = time.perf_counter() - t0
    _, t_build = timed(build_capacity, inputs, settings)
    print(f"scipy linprog(method='highs') on the same matrices ({a_ub.nnz + a_eq.nnz:,} nonzeros, extracted in "
          f"{t_mat:.1f} s): {t_scipy:.1f} s, objective {(lp.fun + const) * H:,.0f} USD "
          f"(PuLP+HiGHS {res.objective * H:,.0f})")
    print(f"PuLP overhead: (PuLP build {t_build:.1f} s + PuLP solve call {res.runtime_s:.1f} s) / scipy solve "
          f"{t_scipy:.1f} s = {(t_build + res.runtime_s) / t_scipy:.2f}x; solve call alone "
          f"{res.runtime_s / t_scipy:.2f}x")

    section("Reduced vs full hourly model (2 SYNTHETIC paths x 8,760 h, 4 families; the full model with "
            "HiGHS interior point)")
    small = inputs.with_demand(inputs.demand[:, :2, :], inputs.sample_ids[:2])
    full_model, t_fb = timed(build_capacity, small, CapacitySettings(max_bins=None, use_policies=False))
    full_res = solve(full_model.problem, options={"solver": "ipm"}, time_limit_s=600)
    full = full_res.objective * H
    print(f"full: {full_model.n_variables:,} variables, build {t_fb:.1f} s, solve {full_res.runtime_s:.1f} s "
          f"({full_res.termination}), cost {full:,.0f} USD")
    for bins in (100, 300, 1000, 3000):
        m, t_b = timed(build_capacity, small, CapacitySettings(max_bins=bins, use_policies=False))
        r = solve(m.problem)
        p = extract_plan(m)
        cost = float(evaluate(p, small).total_usd.mean())
        print(f"reduced {bins:5d} bins: {m.n_variables:,} variables, build {t_b:.2f} s, solve {r.runtime_s:.2f} s; "
              f"model cost {r.objective * H:,.0f} ({100 * (r.objective * H / full - 1):+.3f} % vs full); its plan "
              f"costed on every hour {cost:,.0f} ({100 * (cost / full - 1):+.4f} %)")

    section(f"Representative hours at {n_paths} paths: plan cost on every hour as the reduction coarsens")
    costs = {}
    for bins in (300, 1000, 3000, 6000):
        m, t_b = timed(build_capacity, inputs, CapacitySettings(max_bins=bins, use_policies=False))
        r = solve(m.problem)
        costs[bins] = (float(evaluate(extract_plan(m), inputs).total_usd.mean()), r.objective * H, t_b, r.runtime_s)
    best = min(v[0] for v in costs.values())
    for bins, (cost, mod, tb, ts) in costs.items():
        print(f"{bins:5d} bins: build {tb:.1f} s, solve {ts:.1f} s; plan cost {cost:,.0f} USD ({100 * (cost / best - 1):+.4f} % "
              f"vs the best found); model's own estimate {100 * (mod / cost - 1):+.3f} %")

    section("Costing a given plan over paths x hours")
    n_sub = min(20, n_paths)
    sub = replace(inputs, demand=inputs.demand[:1, :n_sub, :], sample_ids=inputs.sample_ids[:n_sub],
                  families=inputs.families[:1], on_demand=inputs.on_demand[:1],
                  reserved=tuple(o for o in inputs.reserved if o.family_index == 0),
                  commit_rate=inputs.commit_rate[:, :1], spot_price=inputs.spot_price[:1],
                  spot_overhead=inputs.spot_overhead[:1], spot_available=inputs.spot_available[:1],
                  on_demand_quota=inputs.on_demand_quota[:1])
    plan = CapacityPlan("p", reserved=(ReservedPurchase("a100", 3, "no_upfront", 40.0, 1.235),),
                        committed=(CommitmentPurchase(3, 20.0),))
    n = 50
    t0 = time.perf_counter()
    for _ in range(n):
        evaluate(plan, sub)
    t_ev = (time.perf_counter() - t0) / n
    d = sub.demand[0]
    rate = float(sub.commit_rate[0, 0])
    t0 = time.perf_counter()
    for _ in range(n):
        x = 40.0 + 20.0 / rate
        _ = (40.0 * 1.235 + 20.0) * H + float(sub.on_demand[0]) * np.maximum(d - x, 0.0).sum(axis=1)
    t_np = (time.perf_counter() - t0) / n
    pe = PairEvaluator(d, float(sub.on_demand[0]), float(sub.spot_cost[0, 0]), float(sub.spot_useful_cap[0, 0]),
                       sub.preemptible_share)
    t0 = time.perf_counter()
    for _ in range(1000):
        pe.cost(40.0, 1.235, 20.0, rate)
    t_pe = (time.perf_counter() - t0) / 1000
    print(f"one family, one (reserved, committed) pair, {n_sub} paths x {H:,} h: full dispatch evaluate() {t_ev * 1e3:.2f} ms "
          f"(with spot); a plain numpy hinge sum without spot {t_np * 1e3:.2f} ms; PairEvaluator on sorted demand "
          f"{t_pe * 1e3:.3f} ms (with spot)")
    t0 = time.perf_counter()
    evaluate(results["highs"][2], inputs)
    print(f"4 families, {n_paths} paths x {H:,} h, the recommended plan: evaluate() {time.perf_counter() - t0:.2f} s")

    section(f"optimize_capacity end to end ({n_paths} paths, perfect hindsight = one solve per path, serial)")
    res_all, t_all = timed(optimize_capacity, inputs, sc, settings=CapacitySettings(use_policies=False))
    s = res_all.summary()
    print(f"{t_all:.1f} s: expected {s['expected_cost_usd']:,.0f} USD, all on-demand {s['all_on_demand_usd']:,.0f} "
          f"(saves {s['savings_pct']:.1%}), perfect hindsight {s['perfect_hindsight_usd']:,.0f} "
          f"(regret {s['regret_vs_hindsight_pct']:.2f} %)")


# ------------------------------------------------------------------------------------------------ schedule
def bench_jobs(n_jobs: int, days: float, start: pd.Timestamp, quota: float):  # type: ignore[no-untyped-def,unused-ignore]
    sc = load_scenario("default", overrides={
        "workload.generator.n_jobs": n_jobs, "workload.generator.span_days": days,
        "workload.generator.max_runtime_hours": 48.0, "catalog.a100.on_demand_quota_gpus": quota,
        "policies.allow_unmet_demand": True, "policies.unmet_penalty_usd_per_gpu_hour": 1000.0})
    jobs = load_jobs(sc, start=start)
    return sc, jobs


def bench_schedule(quick: bool) -> None:
    start = pd.Timestamp("2026-01-05", tz="UTC")
    for n_jobs, days, method in ((200, 7, "exact"), (2000 if not quick else 500, 28, "lp-rounding")):
        section(f"Schedule: {n_jobs} SYNTHETIC jobs (Philly runtimes <= 48 h) over {days} days, 16 reserved + 24 "
                f"on-demand a100 GPUs per hour, method {method}")
        sc, jobs = bench_jobs(n_jobs, days, start, quota=24.0)
        hours = int(days * 24 + 24 * 5)
        carbon, price = load_signals(sc, start, hours)
        inp = schedule_inputs(jobs, carbon, price, sc, reserved_gpus={"a100": 16.0}, start=start)
        n_np = int((~inp.preemptible).sum())
        res = optimize_schedule(inp, method=method, time_limit_s=600, mip_gap=0.01)
        s = res.summary()
        print(f"{inp.n_jobs} jobs ({n_np} one-piece), {inp.n_hours} h: {s['runtime_s']:.1f} s, {s['status']}, gap "
              f"{s['gap']:.3%} to the {'MILP bound' if res.method == 'exact' else 'LP relaxation'}; carbon "
              f"{s['carbon_saved_pct']:.1f} % and energy cost {s['energy_cost_saved_pct']:.1f} % below running on "
              f"arrival; mean delay {s['mean_delay_hours']:.1f} h; unmet {s['unmet_gpu_hours']:.0f} GPU-hours")
        if method == "lp-rounding":
            ex = optimize_schedule(inp, method="exact", time_limit_s=300, mip_gap=0.01)
            print(f"  the exact MILP on the same instance (300 s limit): {ex.runtime_s:.1f} s, {ex.solve.status} "
                  f"({ex.solve.termination}), gap {ex.gap:.3%}; LP rounding objective vs exact "
                  f"{100 * (s['objective_usd'] / ex.totals['objective_usd'] - 1):+.3f} %")


def hourly_carbon(path: Path) -> tuple[pd.Series, int]:
    """Hourly mean of a Let's Wait Awhile series; its naive stamps are taken as UTC (the source gives no zone)."""
    raw = pd.read_csv(path)
    ts = pd.to_datetime(raw["Time"]).dt.tz_localize("UTC")  # ASSUMPTION: naive stamps are UTC
    s = pd.Series(raw["Carbon Intensity"].to_numpy(float), index=ts).resample("h").mean()
    gaps = int(s.isna().sum())
    return s.interpolate(limit_direction="both"), gaps


def bench_real_signals(quick: bool) -> None:
    section("Savings on real carbon signals, 2020 (Let's Wait Awhile series; naive stamps treated as UTC)")
    ci = SHARED / "carbon_intensity"
    if not (ci / "ger_ci.csv").exists():
        print(f"skipped: {ci} not found")
        return
    start = pd.Timestamp("2020-01-01", tz="UTC")
    hours = 366 * 24
    idx = pd.date_range(start, periods=hours + 24 * 20, freq="h")
    price_de = pd.read_csv(SHARED / "electricity_prices" / "DE-LU_electricity_prices_2020.csv.gz")
    p = pd.Series(price_de["Price (USD/MWh)"].to_numpy(float),
                  index=pd.to_datetime(price_de["Datetime (UTC)"], utc=True)).reindex(idx)
    p = p.ffill().bfill()
    n_jobs = 400 if quick else 2000
    sc = load_scenario("default", overrides={"workload.generator.n_jobs": n_jobs,
                                             "workload.generator.span_days": 360.0,
                                             "workload.generator.max_runtime_hours": 72.0})
    base = load_jobs(sc, start=start)
    base["submit_time"] = base["submit_time"].dt.floor("h")
    base["duration_hours"] = np.ceil(base["duration_hours"])  # whole hours: a 0 h window is no flexibility
    region = sc.catalog["a100"].region
    print(f"{n_jobs} SYNTHETIC jobs over 2020 (Philly runtimes <= 72 h, rounded up to whole hours, "
          f"{base['preemptible'].mean():.0%} preemptible), no capacity limit, carbon price "
          f"{sc.policies.carbon_price_usd_per_tonne:g} USD/t")
    for country, file, price in (("DE", "ger_ci.csv", p), ("GB", "gb_ci.csv", None)):
        series, gaps = hourly_carbon(ci / file)
        series = series.reindex(idx).ffill().bfill()
        carbon = pd.DataFrame({"region": region, "timestamp": idx, "gco2_per_kwh": series.to_numpy()})
        pr = price if price is not None else pd.Series(100.0, index=idx)
        price_df = pd.DataFrame({"region": region, "timestamp": idx, "usd_per_mwh": pr.to_numpy()})
        what = "DE-LU 2020 day-ahead prices" if price is not None else "a flat 100 USD/MWh (no GB price series here)"
        print(f"{country}: {file} resampled to hourly means ({gaps} empty hours interpolated); energy at {what}")
        for w in (0, 2, 4, 8, 12, 24):
            jobs = base.copy()
            jobs["deadline"] = jobs["submit_time"] + pd.to_timedelta(jobs["duration_hours"] + w, unit="h")
            inp = schedule_inputs(jobs, carbon, price_df, sc, start=start)
            res = optimize_schedule(inp, time_limit_s=300, mip_gap=0.01)
            s = res.summary()
            print(f"  window +{w:2d} h: carbon {s['kg_co2e'] / 1e3:8.2f} t vs {s['arrival_kg_co2e'] / 1e3:8.2f} t on "
                  f"arrival ({s['carbon_saved_pct']:5.2f} % saved); energy cost {s['energy_cost_usd']:9,.0f} vs "
                  f"{s['arrival_energy_cost_usd']:9,.0f} USD ({s['energy_cost_saved_pct']:5.2f} % saved); "
                  f"{s['runtime_s']:.1f} s, gap {s['gap']:.2%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    args = ap.parse_args()
    t0 = time.perf_counter()
    bench_capacity(args.quick)
    bench_schedule(args.quick)
    bench_real_signals(args.quick)
    print(f"\nbenchmark wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
