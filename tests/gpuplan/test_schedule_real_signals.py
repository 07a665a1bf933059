"""Schedules on real carbon keep their promises: every piece inside [submission, deadline], the simulator's
replay realizes the optimizer's estimate, zero slack saves exactly nothing.

Real data: the Let's Wait Awhile carbon series of Germany (15 min) and Great Britain (30/15 min) in
``../shared/data/carbon_intensity`` (naive stamps, read as UTC: ENTSO-E exports are UTC), averaged to the hour,
and DE-LU 2020 day-ahead prices.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.pipeline import schedule_replay
from optimizer.schedule import optimize_schedule
from optimizer.schedule_inputs import schedule_inputs
from scenarios import load_scenario
from scenarios.schema import Scenario
from simulator import simulate

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HOUR = pd.Timedelta(hours=1)


def _need(path: Path) -> Path:
    if not path.exists():
        msg = f"real data not found at {path} (needs the ../shared/data folder)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def _carbon(name: str, regions: list[str]) -> pd.DataFrame:
    raw = pd.read_csv(_need(DATA / "carbon_intensity" / name))
    ts = pd.to_datetime(raw["Time"]).dt.tz_localize("UTC")  # naive stamps: UTC (ENTSO-E)
    s = pd.Series(raw["Carbon Intensity"].to_numpy(dtype=float), index=ts).resample("h").mean().dropna()
    return pd.concat([pd.DataFrame({"region": r, "timestamp": s.index, "gco2_per_kwh": s.to_numpy()})
                      for r in regions], ignore_index=True)


def _price(regions: list[str]) -> pd.DataFrame:
    raw = pd.read_csv(_need(DATA / "electricity_prices" / "DE-LU_electricity_prices_2020.csv.gz"))
    ts = pd.to_datetime(raw["Datetime (UTC)"], utc=True)
    return pd.concat([pd.DataFrame({"region": r, "timestamp": ts, "usd_per_mwh": raw["Price (USD/MWh)"].to_numpy()})
                      for r in regions], ignore_index=True)


def _jobs(n: int, slack: float, seed: int = 0) -> pd.DataFrame:
    """``n`` jobs at random minutes over 6 days of March 2020, 40 % one-piece; deadline = submit + run + slack."""
    rng = np.random.default_rng(seed)
    submit = pd.Timestamp("2020-03-02", tz="UTC") + pd.to_timedelta(np.sort(rng.integers(0, 6 * 24 * 60, n)),
                                                                      unit="min")
    dur = np.round(rng.uniform(0.5, 8.0, n), 2)
    return pd.DataFrame({
        "job_id": [f"j{i:03d}" for i in range(n)], "submit_time": submit, "gpus": rng.choice([1, 2, 4, 8], n),
        "duration_hours": dur, "deadline": submit + pd.to_timedelta(np.round((dur + slack) * 3600), unit="s"),
        "preemptible": rng.random(n) >= 0.4, "family": "a100",
    })


def _scenario(spot: bool) -> Scenario:
    """The small scenario with nothing reserved (jobs run on demand at once) and the default checkpoint and
    restart costs; without spot a replay is deterministic."""
    sc = load_scenario("small", {"current": {"reserved": [], "committed_usd_per_hour": {}}})
    if spot:
        return sc
    return sc.model_copy(update={"catalog": {k: v.model_copy(update={"spot": None}) for k, v in sc.catalog.items()}})


def _outside(jobs: pd.DataFrame, sched: pd.DataFrame) -> int:
    """Scheduled hours holding more of a job than the part of the hour inside [submission, deadline]."""
    j = jobs.set_index("job_id").loc[sched["job_id"].astype(str)]
    t = pd.DatetimeIndex(sched["timestamp"])
    lo = np.maximum((pd.DatetimeIndex(j["submit_time"]) - t) / HOUR, 0.0)
    hi = np.minimum((pd.DatetimeIndex(j["deadline"]) - t) / HOUR, 1.0)
    frac = sched["gpus"].to_numpy(dtype=float) / j["gpus"].to_numpy(dtype=float)
    return int((frac > np.clip(hi - lo, 0.0, 1.0) + 1e-7).sum())


def _run(carbon_file: str, slack: float, spot: bool, reps: int, n: int = 120):  # type: ignore[no-untyped-def]
    sc = _scenario(spot)
    regions = sorted({g.region for g in sc.catalog.values()})
    carbon, price = _carbon(carbon_file, regions), _price(regions)
    jobs = _jobs(n, slack)
    res = optimize_schedule(schedule_inputs(jobs, carbon, price, sc), mip_gap=1e-6)
    t0 = pd.Timestamp(jobs["submit_time"].min()).floor("h")
    kw = dict(jobs=jobs, carbon=carbon, price=price, replications=reps, seed=3, start=t0, hours=24 * 8,
              progress=False)
    arrival = simulate(sc, **kw)
    replayed = simulate(sc, schedule=res.schedule, **kw)
    return jobs, res, replayed, schedule_replay(arrival, replayed)


@pytest.mark.parametrize("carbon_file", ["ger_ci.csv", "gb_ci.csv"])
def test_schedule_on_real_carbon_keeps_every_deadline_and_realizes_its_estimate(carbon_file: str) -> None:
    jobs, res, replayed, rp = _run(carbon_file, 4.0, spot=False, reps=2)
    assert _outside(jobs, res.schedule) == 0
    # every replayed job ran inside its window (independently of the scheduler's own bookkeeping)
    r = replayed.jobs.set_index("job_id")
    j = jobs.set_index("job_id").loc[r.index]
    assert (r["status"] == "finished").all()
    assert (r["start_time"] >= j["submit_time"]).all()
    assert (r["end_time"] <= j["deadline"] + pd.Timedelta(microseconds=1)).all()
    assert rp["deadline_misses_replay"] == 0
    s = res.summary()
    assert s["pause_gpu_hours"] > 0  # the case exercises pauses and their checkpoint/restart
    assert s["as_run_carbon_saved_pct"] > 1.0  # 4 h of slack on a real grid is worth something
    # no spot, nothing reserved: the replay is deterministic, so the Monte Carlo error is 0
    assert rp["carbon_saved_se_kg"] == pytest.approx(0.0, abs=1e-9)
    assert rp["carbon_saved_pct"] == pytest.approx(s["as_run_carbon_saved_pct"], abs=1e-6)
    assert rp["energy_cost_saved_pct"] == pytest.approx(s["as_run_energy_cost_saved_pct"], abs=1e-6)


def test_with_spot_interruptions_the_realized_saving_is_within_monte_carlo_error_of_the_estimate() -> None:
    jobs, res, replayed, rp = _run("ger_ci.csv", 4.0, spot=True, reps=12)
    assert _outside(jobs, res.schedule) == 0
    assert replayed.jobs["interruptions"].sum() > 0  # spot interruptions happened
    s = res.summary()
    est = s["as_run_carbon_saved_pct"] / 100.0 * rp["arrival_kg_co2e"]
    assert rp["carbon_saved_se_kg"] > 0
    assert abs(rp["carbon_saved_kg"] - est) <= 3.0 * rp["carbon_saved_se_kg"]


@pytest.mark.parametrize("carbon_file", ["ger_ci.csv", "gb_ci.csv"])
def test_zero_slack_on_real_carbon_saves_exactly_nothing(carbon_file: str) -> None:
    _, res, _, rp = _run(carbon_file, 0.0, spot=False, reps=1, n=60)
    s = res.summary()
    assert s["carbon_saved_kg"] == pytest.approx(0.0, abs=1e-9)
    assert s["energy_cost_saved_usd"] == pytest.approx(0.0, abs=1e-9)
    assert s["pause_gpu_hours"] == pytest.approx(0.0, abs=1e-12)
    assert rp["carbon_saved_kg"] == pytest.approx(0.0, abs=1e-9)
    assert rp["energy_cost_saved_usd"] == pytest.approx(0.0, abs=1e-9)
    assert rp["deadline_misses_replay"] == 0
