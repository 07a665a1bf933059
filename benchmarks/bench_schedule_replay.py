"""Does a schedule keep its promises?  Jobs outside their window, deadline misses in replay, claimed vs realized
saving, on real carbon (Let's Wait Awhile DE / GB series) and DE 2020 day-ahead prices.

Run by hand: ``python benchmarks/bench_schedule_replay.py [de|gb] [n_jobs] [slack_hours] [pause-costs]``
(``pause-costs``: the default checkpoint 0.05 h and restart 0.1 h instead of free ones).  Prints what it
measured; needs ``../shared/data``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.schedule import optimize_schedule
from optimizer.schedule_inputs import schedule_inputs
from scenarios import load_scenario
from scenarios.schema import Scenario
from simulator import simulate

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def real_carbon(which: str, regions: list[str]) -> pd.DataFrame:
    """Hourly carbon [gCO2e/kWh] of ``ger_ci.csv`` or ``gb_ci.csv``: naive stamps read as UTC (ENTSO-E exports
    are UTC), 15/30-minute values averaged to the hour."""
    name = {"de": "ger_ci.csv", "gb": "gb_ci.csv"}[which]
    raw = pd.read_csv(DATA / "carbon_intensity" / name)
    ts = pd.to_datetime(raw["Time"]).dt.tz_localize("UTC")
    s = pd.Series(raw["Carbon Intensity"].to_numpy(dtype=float), index=ts).resample("h").mean().dropna()
    return pd.concat([pd.DataFrame({"region": r, "timestamp": s.index, "gco2_per_kwh": s.to_numpy()})
                      for r in regions], ignore_index=True)


def de_prices(regions: list[str]) -> pd.DataFrame:
    """DE-LU 2020 hourly day-ahead prices [USD/MWh] (UTC column)."""
    raw = pd.read_csv(DATA / "electricity_prices" / "DE-LU_electricity_prices_2020.csv.gz")
    ts = pd.to_datetime(raw["Datetime (UTC)"], utc=True)
    return pd.concat([pd.DataFrame({"region": r, "timestamp": ts, "usd_per_mwh": raw["Price (USD/MWh)"].to_numpy(float)})
                      for r in regions], ignore_index=True)


def make_jobs(n: int, slack_hours: float, preemptible: bool, seed: int = 0,
              start: str = "2020-03-02 00:00", span_days: float = 14.0) -> pd.DataFrame:
    """``n`` jobs submitted at random minutes over ``span_days`` from ``start`` (UTC); deadline = submit +
    duration + slack."""
    rng = np.random.default_rng(seed)
    submit = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(np.sort(rng.uniform(0, span_days * 24 * 60, n)).round(), unit="min")
    dur = np.round(rng.uniform(0.5, 10.0, n), 2)
    return pd.DataFrame({
        "job_id": [f"j{i:04d}" for i in range(n)], "submit_time": submit,
        "gpus": rng.choice([1, 2, 4, 8], n), "duration_hours": dur,
        "deadline": submit + pd.to_timedelta(np.round((dur + slack_hours) * 3600), unit="s"),
        "preemptible": preemptible, "family": "a100",
    })


def scenario(pause_costs: bool = False) -> Scenario:
    """The small scenario with no spot and no reservations: a replay is then deterministic.  Without
    ``pause_costs`` checkpoints and restarts are free, so its energy must equal the plan's."""
    over: dict = {"current": {"reserved": [], "committed_usd_per_hour": {}}}
    if not pause_costs:
        over["workload"] = {"checkpoint_cost_hours": 0.0, "restart_cost_hours": 0.0}
    sc = load_scenario("small", over)
    catalog = {k: v.model_copy(update={"spot": None}) for k, v in sc.catalog.items()}
    return sc.model_copy(update={"catalog": catalog})


def outside_window(jobs: pd.DataFrame, sched: pd.DataFrame) -> int:
    """Jobs with a scheduled hour that holds more work than the part of the hour inside [submit, deadline]."""
    j = jobs.set_index("job_id")
    s = sched.assign(job_id=sched["job_id"].astype(str))
    t = pd.DatetimeIndex(s["timestamp"])
    sub = pd.DatetimeIndex(j.loc[s["job_id"], "submit_time"])
    dl = pd.DatetimeIndex(j.loc[s["job_id"], "deadline"])
    lo = np.maximum((sub - t) / pd.Timedelta(hours=1), 0.0)
    hi = np.minimum((dl - t) / pd.Timedelta(hours=1), 1.0)
    inside = np.clip(hi - lo, 0.0, 1.0)
    frac = s["gpus"].to_numpy(float) / j.loc[s["job_id"], "gpus"].to_numpy(float)
    bad = frac > inside + 1e-6
    return int(s.loc[bad, "job_id"].nunique())


def main(which: str = "de", n: int = 300, slack: float = 4.0, pause_costs: bool = False) -> None:
    sc = scenario(pause_costs)
    regions = sorted({g.region for g in sc.catalog.values()})
    carbon, price = real_carbon(which, regions), de_prices(regions)
    for pre in (False, True):
        jobs = make_jobs(n, slack, pre)
        sin = schedule_inputs(jobs, carbon, price, sc)
        res = optimize_schedule(sin, solver="highs", time_limit_s=120, mip_gap=1e-4)
        out = outside_window(jobs, res.schedule)
        s = res.summary()
        t0 = pd.Timestamp(jobs["submit_time"].min()).floor("h")
        hours = int(np.ceil((jobs["deadline"].max() - t0) / pd.Timedelta(hours=1))) + 48
        kw = dict(jobs=jobs, carbon=carbon, price=price, replications=1, seed=0, start=t0, hours=hours,
                  progress=False)
        arr = simulate(sc, **kw).jobs
        rep = simulate(sc, schedule=res.schedule, **kw).jobs
        miss_a = int((~arr["deadline_met"].astype(bool)).sum())
        miss_r = int((~rep["deadline_met"].astype(bool)).sum())
        real_c = 100 * (1 - rep["kg_co2e"].sum() / arr["kg_co2e"].sum())
        real_e = 100 * (1 - rep["energy_usd"].sum() / arr["energy_usd"].sum())
        print(f"{which} n={n} slack={slack:g}h preemptible={pre}: jobs outside window {out}/{n}; deadline misses "
              f"replay {miss_r} vs on arrival {miss_a}; carbon saving claimed {s['carbon_saved_pct']:.2f} % "
              f"realized {real_c:.2f} %; energy-cost saving claimed {s['energy_cost_saved_pct']:.2f} % "
              f"realized {real_e:.2f} %"
              + (f"; as-run estimate (pauses costed) carbon {s['as_run_carbon_saved_pct']:.2f} % energy cost "
                 f"{s['as_run_energy_cost_saved_pct']:.2f} %, pause overhead {s['pause_gpu_hours']:.1f} GPU-h"
                 if "as_run_carbon_saved_pct" in s else ""))


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0] if a else "de", int(a[1]) if len(a) > 1 else 300, float(a[2]) if len(a) > 2 else 4.0,
         len(a) > 3 and a[3] == "pause-costs")
