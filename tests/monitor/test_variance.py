"""Budget waterfall against a hand-computed two-family example; the parts add up for any bill."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.errors import InputError
from scenarios.variance import budget_waterfall, read_budget

T = pd.Timestamp("2026-01-10", tz="UTC")


def _bill(rows: list[tuple[str, str, str | None, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"timestamp": T, "family": f, "team": "a", "pricing_category": c, "commitment_status": s,
                          "gpu_hours": h, "effective_cost_usd": u} for f, c, s, h, u in rows])


BUDGET_CSV = """month,family,pricing_category,gpu_hours,budget_usd
2026-01,a100,on-demand,100,400
2026-01,h100,Standard,100,1000
2026-01,h100,Committed,100,600
2026-01,h100,Unused,,50
"""
ACTUAL = _bill([("a100", "Standard", None, 150.0, 630.0), ("h100", "Standard", None, 60.0, 600.0),
                ("h100", "Dynamic", None, 30.0, 120.0), ("h100", "Committed", "Used", 80.0, 480.0),
                ("h100", "Committed", "Unused", 20.0, 120.0)])


def test_two_family_waterfall_matches_the_hand_computation(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text(BUDGET_CSV)
    budget = read_budget(tmp_path / "b.csv")
    wf, seg = budget_waterfall(ACTUAL, budget, "2026-01")
    got = dict(zip(wf["step"], wf["usd"], strict=True))
    # By hand. Budget 2,050 USD for 300 GPU-hours (mean rate 2,000/300); actual 1,950 USD for 320 GPU-hours.
    # volume: +20 GPU-hours x 20/3 = 133.33. Family mix: budget shares a100 1/3 (4 USD/h), h100 2/3 (8 USD/h):
    # a100 (150 - 320/3) x 4 = +173.33, h100 (170 - 640/3) x 8 = -346.67 -> -173.33. Category mix in h100
    # (170 GPU-hours, budget half Standard at 10, half Committed at 6, spot unbudgeted at the family's 8):
    # Standard (60 - 85) x 10 = -250, Committed (80 - 85) x 6 = -30, Dynamic (30 - 0) x 8 = +240 -> -40.
    # Price: a100 150 x (4.2 - 4) = +30; spot 30 x (4 - 8) = -120 -> -90. Idle commitment 120 - 50 = +70.
    hand = {"budget": 2050.0, "volume": 400 / 3, "price_rate": -90.0, "mix_family": -520 / 3,
            "mix_pricing_category": -40.0, "commitment_utilisation": 70.0, "actual": 1950.0}
    assert list(got) == list(hand)
    for k, v in hand.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k
    middle = [got[k] for k in hand if k not in ("budget", "actual")]
    assert got["budget"] + math.fsum(middle) == pytest.approx(got["actual"], abs=1e-9)
    assert wf["cumulative_usd"].iloc[-2] == pytest.approx(1950.0, abs=1e-9)
    spot = seg.set_index(["family", "pricing_category"]).loc[("h100", "Dynamic")]
    assert spot["budget_usd_per_gpu_hour"] == pytest.approx(8.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a100", "h100", "l4"]),
                          st.sampled_from(["Standard", "Dynamic", "Committed", "Unused"]),
                          st.floats(0.1, 1e4), st.floats(0, 1e5)), min_size=1, max_size=12, unique_by=lambda t: t[:2]),
       st.lists(st.tuples(st.sampled_from(["a100", "h100", "b200"]),
                          st.sampled_from(["Standard", "Dynamic", "Committed", "Unused"]),
                          st.floats(0, 1e4), st.floats(0, 1e5)), min_size=0, max_size=12))
def test_the_parts_add_up_to_actual_minus_budget(bud: list[tuple], act: list[tuple]) -> None:
    budget = pd.DataFrame([{"month": "2026-01", "family": f, "pricing_category": c,
                            "gpu_hours": 0.0 if c == "Unused" else h, "budget_usd": u} for f, c, h, u in bud])
    if budget.loc[budget["pricing_category"] != "Unused", "gpu_hours"].sum() <= 0:
        return
    bill = _bill([(f, "Committed" if c == "Unused" else c, "Unused" if c == "Unused" else
                   ("Used" if c == "Committed" else None), h, u) for f, c, h, u in act])
    if bill.empty:
        bill = _bill([("a100", "Standard", None, 0.0, 0.0)])
    wf, _ = budget_waterfall(bill, budget, "2026-01")
    v = wf.set_index("step")["usd"]
    assert v["budget"] == pytest.approx(budget["budget_usd"].sum(), rel=1e-12, abs=1e-9)
    assert v["actual"] == pytest.approx(bill["effective_cost_usd"].sum(), rel=1e-12, abs=1e-9)
    parts = math.fsum(v.drop(["budget", "actual"]).to_numpy())
    scale = max(1.0, float(np.abs(v.to_numpy()).max()))
    assert abs(v["budget"] + parts - v["actual"]) <= 1e-9 * scale


@pytest.mark.parametrize(("text", "match"), [
    ("month,budget_usd\n2026-1,5\n", "not YYYY-MM"),
    ("month,family,pricing_category,gpu_hours,budget_usd\n2026-01,a100,reserved,1,5\n", "not a budget category"),
    ("month,family,pricing_category,gpu_hours,budget_usd\n2026-01,a100,Standard,,5\n", "needs its GPU-hours"),
    ("month,family,pricing_category,gpu_hours,budget_usd\n2026-01,a100,Standard,1,5\n2026-01,a100,on-demand,1,5\n",
     "appear twice"),
    ("month,budget_usd\n2026-01,-5\n", "budget_usd"),
])
def test_bad_budget_files_get_one_line_errors(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "b.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as e:
        read_budget(p)
    assert "b.csv" in str(e.value) and "\n" not in str(e.value)


def test_budget_and_bill_tables_follow_the_table_registry(tmp_path: Path) -> None:
    from scenarios.chargeback import chargeback
    from scenarios.tables import columns

    (tmp_path / "b.csv").write_text(BUDGET_CSV)
    assert list(read_budget(tmp_path / "b.csv").columns) == columns("budget", required_only=False)
    assert list(chargeback(ACTUAL).bills.columns) == columns("chargeback")
