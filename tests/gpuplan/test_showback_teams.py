"""Showback by team: the forecast demand is split among the teams of the user's own data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gpuplan.pipeline import run_plan
from gpuplan.plan_report import showback
from scenarios import load_scenario
from scenarios.parallel import SerialMapper


def test_a_users_bill_is_shown_back_to_its_own_teams_not_the_bundled_ones(tmp_path: Path) -> None:
    # four weeks of a user's hourly usage: team alpha runs a steady 30 GPUs and beta 10 on a100, gamma 5 on h100
    ts = pd.date_range("2026-01-01", periods=24 * 28, freq="h", tz="UTC")
    rows = [pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "family": fam, "team": team,
                          "gpus": level})
            for fam, team, level in (("a100", "alpha", 30.0), ("a100", "beta", 10.0), ("h100", "gamma", 5.0))]
    pd.concat(rows).to_csv(tmp_path / "usage.csv", index=False)
    sc = load_scenario("small", overrides={
        "demand.history": str(tmp_path / "usage.csv"), "demand.columns": {}, "demand.team_family": {},
        "demand.series_keys": ["family"], "demand.forecast.growth_rate_per_year": 0.0,
        "demand.forecast.model": "naive24", "demand.forecast.n_paths": 2, "demand.forecast.horizon_hours": 48,
        "workload.generator.n_jobs": 20})
    run = run_plan(sc, mapper=SerialMapper(False), progress=False, replications=2, analyses=False)
    sb = showback(run).set_index("team")
    helios = {"vc3sl", "vc8Sj", "vcMod", "vcTJs", "vchbv", "vcpDC"}
    assert not helios & set(sb.index)
    assert "(demand)" not in sb.index
    assert set(sb.index) <= {"alpha", "beta", "gamma", "(unallocated)"}
    # the steady 3:1 split of the forecast demand carries into the demand's GPU-hours (jobs add to either)
    demand_gh = sb["useful_gpu_hours"] - run.simulations["recommended"].jobs.groupby("team")[
        "useful_gpu_hours"].sum().reindex(sb.index, fill_value=0.0) / 2
    assert demand_gh["alpha"] == pytest.approx(3 * demand_gh["beta"], rel=1e-9)
    assert demand_gh["alpha"] + demand_gh["beta"] == pytest.approx(40.0 * 48, rel=1e-9)
    assert demand_gh["gamma"] == pytest.approx(5.0 * 48, rel=1e-9)
    # showback adds up to the simulated bill
    total = run.simulations["recommended"].kpis["total_cost_usd"].mean()
    assert sb["showback_usd"].sum() == pytest.approx(total, rel=1e-9)
