"""``gpuplan simulate``: writes the tables, prints a summary, refuses bad input with exit code 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.cli import main
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase


def test_simulate_small_scenario_writes_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = CapacityPlan("trial", reserved=(ReservedPurchase("a100", 1, "no_upfront", 8, 1.740137),),
                        committed=(CommitmentPurchase(1, 5.0),))
    (tmp_path / "plan.json").write_text(plan.to_json(), encoding="utf-8")
    out = tmp_path / "sim"
    code = main(["--quiet", "simulate", "small", "--plan", str(tmp_path / "plan.json"), "--replications", "3",
                 "--seed", "4", "--workers", "1", "--hours", "200", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "plan 'trial'" in text and "total_cost_usd" in text
    for name in ("kpis.csv", "summary.csv", "jobs.csv", "teams.csv", "hourly.csv", "charges.csv", "focus.csv",
                 "plan.json", "notes.txt"):
        assert (out / name).is_file(), name
    kpis = pd.read_csv(out / "kpis.csv")
    assert len(kpis) == 3
    assert kpis["cost_reserved_usd"].iloc[0] == pytest.approx(8 * 1.740137 * 200)
    assert kpis["cost_committed_usd"].iloc[0] == pytest.approx(5.0 * 200)
    focus = pd.read_csv(out / "focus.csv")
    hourly_total = pd.read_csv(out / "hourly.csv")["cost_usd"].sum()
    assert focus["EffectiveCost"].sum() == pytest.approx(hourly_total)
    assert focus["EffectiveCost"].sum() == pytest.approx(kpis["total_cost_usd"].iloc[0])
    assert CapacityPlan.from_json((out / "plan.json").read_text()) == plan
    assert "SYNTHETIC" in (out / "notes.txt").read_text()


def test_simulate_fluid_demand_only(tmp_path: Path) -> None:
    idx = pd.date_range("2026-03-01", periods=48, freq="h", tz="UTC")
    paths = pd.concat([pd.DataFrame({"series_id": f, "timestamp": idx.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     "sample_id": s, "gpus": np.full(48, 5.0 + s)})
                       for f in ("a100", "h100") for s in (0, 1)])
    paths.to_csv(tmp_path / "paths.csv", index=False)
    code = main(["--quiet", "simulate", "small", "--demand", str(tmp_path / "paths.csv"), "--no-jobs",
                 "--replications", "2", "--workers", "1", "--out", str(tmp_path / "o")])
    assert code == 0
    kpis = pd.read_csv(tmp_path / "o" / "kpis.csv")
    assert kpis["demand_gpu_hours"].tolist() == pytest.approx([2 * 48 * 5.0, 2 * 48 * 6.0])
    assert kpis["n_jobs"].tolist() == [0, 0]


def test_bad_plan_and_naive_demand_exit_2_without_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plan.json").write_text("{not json", encoding="utf-8")
    out = tmp_path / "never"
    assert main(["--quiet", "simulate", "small", "--plan", str(tmp_path / "plan.json"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gpuplan: error:") and "not a capacity plan" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    pd.DataFrame({"family": ["a100"], "timestamp": ["2026-01-01 00:00"], "gpus": [1.0]}).to_csv(
        tmp_path / "d.csv", index=False)
    assert main(["--quiet", "simulate", "small", "--demand", str(tmp_path / "d.csv"), "--out", str(out)]) == 2
    assert "no UTC offset" in capsys.readouterr().err
    assert not out.exists()


def test_help_has_a_description_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--replications" in text and "Monte Carlo" in text
