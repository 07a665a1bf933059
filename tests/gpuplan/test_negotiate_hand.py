"""`gpuplan negotiate` on a case small enough to work out by hand.

One family a100: on-demand 2.00 USD/GPU-hour falling 20 %/year, a 1-year reservation at 1.40 (30 % off) and a
3-year reservation at 1.00 (50 % off), no spot, no savings plan; demand a flat 10 GPUs on 2 paths x 100 h.
The optimizer reserves all 10 GPUs for 3 years; every figure below is worked out in the comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.cli import main

H, GPUS = 100, 10.0
TOML = """
name = "hand"
[catalog.a100]
on_demand_usd_per_gpu_hour = 2.0
on_demand_price_change_per_year = -0.2
[[catalog.a100.reserved]]
term_years = 1
usd_per_gpu_hour = 1.4
[[catalog.a100.reserved]]
term_years = 3
usd_per_gpu_hour = 1.0
[demand]
history = "usage.csv"
preemptible_share = 0.0
[demand.forecast]
n_paths = 2
horizon_hours = 100
[solver]
mip_gap = 0.0
"""


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hand")
    (d / "hand.toml").write_text(TOML)
    hist_ts = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
    pd.DataFrame({"timestamp": hist_ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "family": "a100", "gpus": GPUS}
                 ).to_csv(d / "usage.csv", index=False)
    ts = pd.date_range(hist_ts[-1] + pd.Timedelta(hours=1), periods=H, freq="h", tz="UTC")
    pd.DataFrame({"series_id": "a100", "timestamp": np.tile(ts.strftime("%Y-%m-%dT%H:%M:%SZ"), 2),
                  "sample_id": np.repeat([0, 1], H), "gpus": GPUS}).to_csv(d / "paths.csv", index=False)
    assert main(["-q", "negotiate", str(d / "hand.toml"), "--forecast", str(d / "paths.csv"),
                 "--out", str(d / "out")]) == 0
    return d / "out"


def test_walk_away_price_of_the_three_year_reservation_is_the_one_year_rate(pack_dir: Path) -> None:
    w = pd.read_csv(pack_dir / "walk_away.csv").set_index("offer").loc["reserved_a100_3y_no_upfront"]
    # plan: 10 GPUs x 100 h x 1.00; best without the 3-year offer: 10 GPUs x 100 h x 1.40 (1-year reservation)
    assert w["quantity"] == pytest.approx(10.0, abs=1e-6)
    assert w["plan_cost_usd"] == pytest.approx(1000.0, abs=1e-6)
    assert w["best_alternative_cost_usd"] == pytest.approx(1400.0, abs=1e-6)
    assert w["walk_away_usd_per_gpu_hour"] == pytest.approx(1.4, abs=1e-6)
    assert w["walk_away_discount"] == pytest.approx(0.3, abs=1e-6)


def test_three_year_table_by_hand_with_a_falling_price(pack_dir: Path) -> None:
    t = pd.read_csv(pack_dir / "three_year_vs_renewal.csv").set_index("instrument")
    res = t.loc["reservation"]
    # renewals bought at 2.0 x 0.8^y x 0.7 for 100 h x 10 GPUs each year: 1,400 x (1 + 0.8 + 0.64) = 3,416
    assert res["renewal_cost_usd"] == pytest.approx(3416.0, abs=1e-6)
    # 3-year at 1.00 fixed for 300 h x 10 GPUs
    assert res["three_year_cost_usd_at_offer"] == pytest.approx(3000.0, abs=1e-6)
    # 1 - d3 = 0.7 x (1 + 0.8 + 0.64) / 3
    assert res["min_three_year_discount"] == pytest.approx(1 - 0.7 * 2.44 / 3, abs=1e-6)
    assert bool(res["three_year_beats_renewal"])
    sp = t.loc["savings_plan"]
    assert sp["min_three_year_discount"] == pytest.approx(0.3, abs=1e-6)
    assert sp["renewal_cost_usd"] == pytest.approx(
        sum(10 * 2.0 * 0.8 ** (y + h / H) * 0.7 for y in range(3) for h in range(H)), abs=1e-6)


def test_overcommit_and_sensitivity_by_hand(pack_dir: Path) -> None:
    oc = pd.read_csv(pack_dir / "overcommit.csv")
    whole = oc[oc["offer"] == "whole plan"].set_index("demand_drop")
    # demand 9: the 10 reserved GPUs still cost 1,000; the best plan reserves 9 (900)
    assert whole.loc[0.1, "expected_cost_usd"] == pytest.approx(1000.0, abs=1e-6)
    assert whole.loc[0.1, "best_plan_cost_usd"] == pytest.approx(900.0, abs=1e-6)
    assert whole.loc[0.1, "idle_commitment_usd"] == pytest.approx(100.0, abs=1e-6)
    s = pd.read_csv(pack_dir / "sensitivity.csv").set_index(["discount", "demand_growth_per_year"])
    # no planned growth: the 0 row is the forecast; at 40 % off the 10 GPUs cost 1.2 x 100 h
    assert s.loc[(0.4, 0.0), "expected_cost_usd"] == pytest.approx(1200.0, abs=1e-6)
    assert s.loc[(0.4, 0.0), "savings_usd"] == pytest.approx(2000.0 - 1200.0, abs=1e-6)
    be = pd.read_csv(pack_dir / "break_even.csv")
    assert be.loc[be["term_years"] == 3, "break_even_utilization"].iloc[0] == pytest.approx(0.5, abs=1e-12)


def test_walk_away_of_a_laddered_plan_compares_with_a_laddered_alternative() -> None:
    """No demand in the first quarter, 10 GPUs in the second: the plan reserves 10 GPUs for 3 years at hour
    2,190 (10 x 2,190 h x 1.00 = 21,900).  Walking away, the best alternative buys the 1-year reservation on
    the same date (10 x 2,190 x 1.40 = 30,660): walk-away rate 1.40.  An alternative that could only buy at
    the start would be on-demand (43,800) and put the walk-away rate at the on-demand price instead."""
    from gpuplan.negotiate import negotiation_pack
    from optimizer.recommend import recommend_capacity
    from tests.optimizer.conftest import make_paths, make_scenario

    sc = make_scenario({"a100": {"on_demand_usd_per_gpu_hour": 2.0,
                                 "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.4},
                                              {"term_years": 3, "usd_per_gpu_hour": 1.0}]}},
                       demand={"preemptible_share": 0.0, "forecast": {"growth_rate_per_year": 0.1}},
                       solver={"mip_gap": 0.0})
    demand = np.concatenate([np.zeros(2190), np.full(2190, 10.0)])[None, :]
    cap = recommend_capacity(make_paths({"a100": demand}), sc, hindsight=False, ladder_period_hours=2190)
    assert cap.laddered and [(p.start_hour, p.term_years) for p in cap.plan.reserved] == [(2190, 3)]
    w = negotiation_pack(sc, capacity=cap, drops=(0.5,), growths=(0.0,)).walk_away.set_index("offer")
    row = w.loc["reserved_a100_3y_no_upfront"]
    assert row["plan_cost_usd"] == pytest.approx(21900.0, abs=1e-6)
    assert row["best_alternative_cost_usd"] == pytest.approx(30660.0, abs=1e-6)
    assert row["walk_away_usd_per_gpu_hour"] == pytest.approx(1.4, abs=1e-6)
