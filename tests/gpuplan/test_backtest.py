"""The rolling-origin backtest: exact costing, hindsight on constant demand, no look-ahead, CLI."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.backtest import (
    DECISION_POLICIES,
    POLICIES,
    choose_origins,
    coverage_level,
    run_backtest,
)
from gpuplan.cli import main
from scenarios import load_scenario
from scenarios.history import load_history
from scenarios.plan import CapacityPlan
from scenarios.schema import Scenario

OD = 4.0          # on-demand [USD/GPU-h]
RES = 2.5         # 1-year reservation [USD/GPU-h]
DISC = 0.25       # 1-year commitment discount -> 3.0 USD per GPU-hour covered
START = pd.Timestamp("2026-03-02 00:00", tz="UTC")


def _scenario(tmp_path: Path, gpus: np.ndarray, model: str = "naive") -> Scenario:
    """One family, no spot, no growth, an exact solver: everything can be checked by hand."""
    ts = pd.date_range(START, periods=len(gpus), freq="h")
    csv = tmp_path / "usage.csv"
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "family": "a100", "gpus": gpus}).to_csv(
        csv, index=False)
    toml = tmp_path / "bt.toml"
    toml.write_text(f"""
name = "bt"
[catalog.a100]
on_demand_usd_per_gpu_hour = {OD}
committed_discount = {{ 1y = {DISC} }}
[[catalog.a100.reserved]]
term_years = 1
payment = "no_upfront"
usd_per_gpu_hour = {RES}
[demand]
history = "{csv}"
format = "usage"
preemptible_share = 0.0
[demand.forecast]
model = "{model}"
n_paths = 4
growth_rate_per_year = 0.0
[solver]
mip_gap = 0.0
""", encoding="utf-8")
    return load_scenario(toml)


def _brute_cost(plan: CapacityPlan, demand: np.ndarray) -> float:
    """Hour by hour: reservations first, then the commitment's dollars at 3 USD per GPU-hour, then on demand."""
    r = sum(p.gpus for p in plan.reserved)
    m = sum(c.usd_per_hour for c in plan.committed)
    rate = OD * (1 - DISC)
    total = 0.0
    for d in demand:
        rest = max(d - r, 0.0)
        covered = min(rest, m / rate)
        total += r * RES + m + (rest - covered) * OD
    return total


def _bursty(n_days: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = np.arange(24 * n_days)
    base = 6 + 3 * np.sin(2 * np.pi * h / 24) + rng.integers(0, 4, h.size)
    return np.round(base + 8 * (rng.random(h.size) < 0.05), 0)


def test_coverage_level_is_exact_on_a_hand_case() -> None:
    # hours 1, 2, 3, 10: 16 GPU-h; x = 4 covers 1 + 2 + 3 + 4 = 10 = 62.5 %
    assert coverage_level(np.array([10.0, 1.0, 3.0, 2.0]), 10 / 16) == pytest.approx(4.0)
    # x = 1.5 covers 1 + 1.5 * 3 = 5.5
    assert coverage_level(np.array([1.0, 2.0, 3.0, 10.0]), 5.5 / 16) == pytest.approx(1.5)
    assert coverage_level(np.array([5.0, 5.0]), 1.0) == pytest.approx(5.0)
    assert coverage_level(np.zeros(3), 0.8) == 0.0


def test_origins_default_and_every() -> None:
    first = pd.Timestamp("2020-05-01", tz="UTC")
    end = first + pd.Timedelta(days=31)
    o = choose_origins(first, end)
    assert [x.day for x in o] == [15, 18, 22, 25]      # day 14, 17.3, 20.7, 24 after the start, rounded
    # 815 h: origins may lie 0 to 12.96 days after the first; round(12.96) = 13 would leave less than 7 days
    # after the last origin, so it is kept at 12
    o34 = choose_origins(first, first + pd.Timedelta(hours=815))
    assert [(x - first) / pd.Timedelta(days=1) for x in o34] == [14, 18, 23, 26]
    assert o34[-1] <= first + pd.Timedelta(hours=815) - pd.Timedelta(days=7)
    w = choose_origins(first, end, every=pd.Timedelta(days=7))
    assert [x.day for x in w] == [15, 22]
    from scenarios.errors import InputError

    with pytest.raises(InputError, match="too short"):
        choose_origins(first, first + pd.Timedelta(days=20))


def test_every_policy_is_costed_exactly_against_a_brute_force(tmp_path: Path) -> None:
    gpus = _bursty(24)
    sc = _scenario(tmp_path, gpus)
    res = run_backtest(sc, n_origins=2, min_train_days=14, min_eval_days=5)
    assert set(res.table["policy"]) == set(POLICIES)
    assert len(res.origins) == 2
    for (origin, name), plan in res.plans.items():
        k = int((origin - START) / pd.Timedelta(hours=1))
        row = res.table[(res.table["origin"] == origin) & (res.table["policy"] == name)].iloc[0]
        assert row["held_hours"] == len(gpus) - k
        assert row["cost_usd"] == pytest.approx(_brute_cost(plan, gpus[k:]), rel=1e-12)
    # hindsight: brute force over whole reserved GPUs and commitment levels 0..max demand
    for origin in res.origins:
        k = int((origin - START) / pd.Timedelta(hours=1))
        d = gpus[k:]
        grid = np.arange(0, d.max() + 1)
        best = min(_brute_cost(CapacityPlan("x", reserved=(_res(a),)), d) for a in grid)
        hs = res.table[(res.table["origin"] == origin)]["hindsight_usd"].iloc[0]
        assert hs == pytest.approx(best, rel=1e-9)
        rows = res.table[res.table["origin"] == origin]
        assert (rows["cost_usd"] >= hs - 1e-6).all()
        assert (rows["regret"] >= -1e-12).all()


def _res(gpus: float) -> object:
    from scenarios.plan import ReservedPurchase

    return ReservedPurchase(family="a100", term_years=1, payment="no_upfront", gpus=float(gpus), usd_per_gpu_hour=RES)


def test_constant_demand_gives_every_commitment_policy_the_hindsight_cost(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, np.full(24 * 22, 12.0))
    res = run_backtest(sc, n_origins=2, min_train_days=14, min_eval_days=5)
    t = res.table.set_index(["origin", "policy"])
    for origin in res.origins:
        held = t.loc[(origin, "gpuplan"), "held_hours"]
        hindsight = 12 * RES * held                       # reserve all 12 GPUs: the cheapest offer
        assert t.loc[(origin, "perfect-hindsight"), "cost_usd"] == pytest.approx(hindsight, rel=1e-12)
        for name in ("gpuplan", "point-forecast", "trailing-7d", "trailing-30d", "trailing-60d",
                     "gpuplan-on-realized"):
            assert t.loc[(origin, name), "cost_usd"] == pytest.approx(hindsight, rel=1e-9), name
            assert t.loc[(origin, name), "regret"] == pytest.approx(0.0, abs=1e-9)
        # 80 % coverage reserves 9.6 GPUs and pays on-demand for the other 2.4
        assert t.loc[(origin, "coverage-80"), "cost_usd"] == pytest.approx((9.6 * RES + 2.4 * OD) * held)
        assert t.loc[(origin, "all-on-demand"), "cost_usd"] == pytest.approx(12 * OD * held)
        assert t.loc[(origin, "gpuplan"), "effective_savings_rate"] == pytest.approx(1 - RES / OD)
    s = res.summary().set_index("policy")
    assert s.loc["trailing-30d", "gpuplan_ties_share"] == 1.0
    assert s.loc["coverage-80", "gpuplan_beats_share"] == 1.0


def test_decisions_do_not_look_past_the_origin(tmp_path: Path) -> None:
    gpus = _bursty(24, seed=5)
    sc = _scenario(tmp_path, gpus, model="naive24")
    hist = load_history(sc)
    res = run_backtest(sc, n_origins=2, min_train_days=14, min_eval_days=5, history=hist)
    last = res.origins[-1]
    # wreck everything from the last origin on: 10x the demand
    h = hist.history.copy()
    after = pd.DatetimeIndex(h["timestamp"]) >= last
    h.loc[after, "gpus"] = h.loc[after, "gpus"] * 10 + 7
    u = hist.usage.copy()
    u.loc[pd.DatetimeIndex(u["timestamp"]) >= last, "gpus"] *= 10
    res2 = run_backtest(sc, origins=res.origins, history=replace(hist, history=h, usage=u))
    for origin, name in itertools.product(res.origins, DECISION_POLICIES):
        p1, p2 = res.plans[(origin, name)], res2.plans[(origin, name)]
        assert (p1.reserved, p1.committed) == (p2.reserved, p2.committed), (origin, name)
    # ... while the realized costs and the oracle's purchases do see the change
    t1 = res.table.set_index(["origin", "policy"])["cost_usd"]
    t2 = res2.table.set_index(["origin", "policy"])["cost_usd"]
    assert (t2.loc[last] > t1.loc[last]).all()
    assert res.plans[(last, "gpuplan-on-realized")] != res2.plans[(last, "gpuplan-on-realized")]


def test_cli_backtest_small_writes_report_and_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bt"
    rc = main(["--quiet", "backtest", "small", "--origins", "2", "--paths", "4", "--workers", "1",
               "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "trailing-30d" in text and "origins where gpuplan is cheaper" in text
    assert (out / "report.html").is_file()
    tab = pd.read_csv(out / "tables" / "backtest_origins.csv")
    assert set(tab["policy"]) == set(POLICIES)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["perfect-hindsight"]["mean_regret_pct"] == pytest.approx(0.0, abs=1e-9)
    # the regret is the cost over the hindsight cost, from the CSV
    assert np.allclose(tab["regret"], tab["cost_usd"] / tab["hindsight_usd"] - 1)


def test_cli_backtest_rejects_a_bad_spacing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--quiet", "backtest", "small", "--every", "seven", "--out", str(tmp_path / "x")])
    assert rc == 2
    assert "--every" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_origins_on_a_dask_cluster_give_the_serial_numbers(tmp_path: Path) -> None:
    from gpuplan.executors import DaskMapper

    sc = _scenario(tmp_path, _bursty(24, seed=7), model="naive24")
    serial = run_backtest(sc, n_origins=3, min_train_days=14, min_eval_days=5)
    with DaskMapper("local", workers=2, progress=False) as mapper:
        on_dask = run_backtest(sc, n_origins=3, min_train_days=14, min_eval_days=5, mapper=mapper)
    pd.testing.assert_frame_equal(serial.table, on_dask.table)
    assert serial.plans == on_dask.plans
