"""Breach probability against closed forms, and its calibration on rolling months of real Helios allocations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.monitor.breach import (
    breach_calibration,
    breach_probability,
    daily_spend,
    reliability,
    spend_paths,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "helios_earth"


def test_paths_draw_past_daily_changes_so_the_probability_has_a_closed_form() -> None:
    # Changes seen: 0, 0, +2. Two more days from 12: the month breaches a budget of to-date + 24.5 unless
    # both draws are 0, so P = 1 - (2/3)^2 = 5/9.
    paths = spend_paths(np.array([10.0, 10.0, 10.0, 12.0]), 2, 40_000, np.random.default_rng(1))
    p = float(np.mean(paths.sum(axis=1) > 24.5))
    assert p == pytest.approx(5 / 9, abs=0.01)
    assert set(np.unique(paths[:, 0])) == {12.0, 14.0}


def test_breach_probability_over_a_month_of_days() -> None:
    # 30 days of April at 100 USD/day then May: 100 a day. Nothing ever changes, so the paths are flat:
    # a May budget of 3,100 is never breached (spend = budget exactly), 3,099 always is.
    days = pd.date_range("2026-04-01", "2026-05-31", freq="D", tz="UTC")
    billing = pd.DataFrame({"timestamp": pd.date_range(days[0], periods=len(days) * 24, freq="h"),
                            "effective_cost_usd": 100.0 / 24})
    daily = daily_spend(billing)
    assert (daily["hours"] == 24).all() and daily["spend_usd"].to_numpy() == pytest.approx(100.0)
    ok = breach_probability(daily, {"2026-05": 3100.0})
    assert len(ok) == 31 and (ok["p_breach"] == 0.0).all()
    assert ok["expected_month_end_usd"].to_numpy() == pytest.approx(3100.0)
    assert ok["days_left"].tolist() == list(range(30, -1, -1))
    bad = breach_probability(daily, {"2026-05": 3099.0})
    assert (bad["p_breach"] == 1.0).all()


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared Helios data not found at {SHARED}")
def test_calibration_on_rolling_months_of_real_allocations_beats_the_base_rate() -> None:
    series = {}
    for f in ("Earth_gpu_number.csv", "Venus_cluster_gpu_number.csv"):
        d = pd.read_csv(SHARED / f, parse_dates=["date"]).set_index("date")
        for c in d.columns:
            if c != "total" and (d[c] > 0).any():
                series[f"{f.split('_')[0]}:{c}"] = d[c].astype(float) * 24.0
    cases, s = breach_calibration(series, budget_factors=(0.98, 1.0, 1.02), n_paths=400)
    # Months with a complete previous month: May to August 2020 (September ends on the 28th).
    assert sorted(cases["month"].unique()) == ["2020-05", "2020-06", "2020-07", "2020-08"]
    # Outcomes recomputed from the raw file for one cluster and month.
    raw = pd.read_csv(SHARED / "Earth_gpu_number.csv", parse_dates=["date"]).set_index("date")["vc6YE"] * 24.0
    jun, may = raw["2020-06"].sum(), raw["2020-05"].mean() * 30
    row = cases[(cases["series"] == "Earth:vc6YE") & (cases["month"] == "2020-06") & (cases["budget_factor"] == 1.0)]
    assert (row["breached"] == (jun > may * (1 + 1e-12))).all()
    assert s["brier"] < 0.5 * s["brier_climatology"]      # measured 0.075 vs 0.220
    rel = reliability(cases)
    assert rel["n"].sum() == len(cases)


def test_the_monitor_reports_calibration_on_the_bills_own_past_months(tmp_path: Path) -> None:
    from gpuplan.monitor.run import run_monitor

    # Three calendar months of one team's on-demand use: 100 USD a day in January, 110 in February, and in
    # March 110 until the 15th then 130. Budgets = previous month's daily mean x days: February breaches
    # (110 > 100 a day), March breaches (some days 130 > 110).
    days = pd.date_range("2026-01-01", "2026-03-31", freq="D", tz="UTC")
    per_day = np.where(days.month == 1, 100.0, np.where((days.month == 3) & (days.day > 15), 130.0, 110.0))
    hours = pd.date_range(days[0], periods=len(days) * 24, freq="h")
    usd = np.repeat(per_day / 24, 24)
    bill = pd.DataFrame({"ChargePeriodStart": hours.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "ChargePeriodEnd": (hours + pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "ChargeCategory": "Usage", "PricingCategory": "Standard", "CommitmentDiscountStatus": "",
                         "ConsumedQuantity": usd / 98.32, "ConsumedUnit": "Hrs", "EffectiveCost": usd,
                         "ListCost": usd, "BillingCurrency": "USD", "x_InstanceType": "p5.48xlarge",
                         "ResourceId": "i-1", "Tags": '{"team": "a", "project": "p"}'})
    path = tmp_path / "focus.csv"
    bill.to_csv(path, index=False)
    r = run_monitor(path, n_paths=1000)
    cases = r.calibration
    assert sorted(cases["month"].unique()) == ["2026-02", "2026-03"]
    assert cases["breached"].all()
    # from day 7 of February on the spend to date already exceeds the flat budget's pace and nothing falls:
    feb = cases[(cases["month"] == "2026-02") & (cases["as_of_day"] >= 7)]
    assert (feb["p_breach"] == 1.0).all()
    p = cases.set_index(["month", "as_of_day"])["p_breach"]
    # By hand. February, as of its start: January never changed, so the paths stay at 100 a day and the
    # month ends exactly on budget (no breach predicted, one happened). From day 7 on: 1.
    assert p[("2026-02", 0)] == 0.0 and p[("2026-02", 21)] == 1.0
    # March as of its start: the 28 daily changes drawn from hold one +10 (31 January -> 1 February); the
    # month (31 draws) breaches 3,410 unless no draw is +10: P = 1 - (27/28)^31.
    assert p[("2026-03", 0)] == pytest.approx(1 - (27 / 28) ** 31, abs=0.05)
    # as of 7 and 14 March that jump has left the 28-day window and nothing has changed since: 0; as of the
    # 21st the 130-a-day days already make the month exceed the budget: 1.
    assert p[("2026-03", 7)] == 0.0 and p[("2026-03", 14)] == 0.0 and p[("2026-03", 21)] == 1.0
    brier = (1 + (1 - p[("2026-03", 0)]) ** 2 + 1 + 1) / 8
    assert r.calibration_summary["n"] == 8
    assert r.headline()["breach_calibration"]["brier"] == pytest.approx(brier, rel=1e-12)
