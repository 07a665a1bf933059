"""``gpuplan optimize capacity|schedule`` end to end on the small scenario."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.cli import main
from scenarios.plan import CapacityPlan

from .conftest import make_paths, seasonal_demand


@pytest.fixture
def paths_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    p = make_paths({"a100": seasonal_demand(rng, 30, 3, 72), "h100": seasonal_demand(rng, 10, 3, 72)},
                   start=pd.Timestamp("2020-06-01", tz="UTC"))
    p["timestamp"] = p["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = tmp_path / "paths.csv"
    p.to_csv(out, index=False)
    return out


def test_capacity_command_writes_the_plan_and_tables(tmp_path: Path, paths_csv: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cap"
    code = main(["--quiet", "optimize", "capacity", "small", "--forecast", str(paths_csv), "--max-bins", "300",
                 "--ladder", "--out", str(out)])
    assert code == 0
    plan = CapacityPlan.from_json((out / "plan.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert plan.name == "recommended" and summary["status"] == "optimal"
    base = pd.read_csv(out / "baselines.csv").set_index("plan")
    assert {"all-on-demand", "trailing-30d", "perfect-hindsight"} <= set(base.index)
    cost = base["expected_cost_usd"].astype(float)
    assert cost["recommended"] <= cost["all-on-demand"]
    assert summary["expected_cost_usd"] == pytest.approx(cost["recommended"])
    for name in ("purchases.csv", "path_costs.csv", "break_even.csv", "cost_curve.csv", "cost_curve.png",
                 "ladder_tranches.csv", "notes.txt"):
        assert (out / name).exists(), name
    text = capsys.readouterr().out
    assert "saves" in text and "against all on-demand" in text


def test_capacity_command_refuses_naive_timestamps_in_one_line(tmp_path: Path, paths_csv: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    df = pd.read_csv(paths_csv)
    df["timestamp"] = df["timestamp"].str.rstrip("Z")
    bad = tmp_path / "naive.csv"
    df.to_csv(bad, index=False)
    code = main(["--quiet", "optimize", "capacity", "small", "--forecast", str(bad), "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no UTC offset" in err
    assert not (tmp_path / "x").exists()


def test_schedule_command_schedules_every_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sch"
    code = main(["--quiet", "optimize", "schedule", "small", "--pareto", "0,500", "--out", str(out)])
    assert code == 0
    sched = pd.read_csv(out / "schedule.csv")
    jobs = pd.read_csv(out / "jobs.csv")
    assert list(sched.columns) == ["job_id", "timestamp", "gpus"]
    work = (jobs["gpus"] * jobs["duration_hours"]).sum()
    assert sched["gpus"].sum() == pytest.approx(work - jobs["unmet_gpu_hours"].sum())
    pareto = pd.read_csv(out / "pareto.csv")
    assert pareto["kg_co2e"].iloc[1] <= pareto["kg_co2e"].iloc[0] + 1e-6
    assert "emissions" in capsys.readouterr().out
