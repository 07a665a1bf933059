"""Anomaly detection: a hand-worked spike, no look-ahead, drivers that add up, labels of known causes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpuplan.monitor.anomalies import DetectorSettings, detect_anomalies, drivers, incidents, score_series
from gpuplan.monitor.series import series_frames

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def _billing(gpu_hours: np.ndarray, rate: float = 10.0, category: str = "Standard") -> pd.DataFrame:
    n = len(gpu_hours)
    return pd.DataFrame({"timestamp": pd.date_range(T0, periods=n, freq="h"), "family": "h100", "team": "a",
                         "project": "p", "region": "us-east-1", "instance_type": "p5.48xlarge",
                         "pricing_category": category, "commitment_status": None, "gpu_hours": gpu_hours,
                         "effective_cost_usd": gpu_hours * rate, "list_cost_usd": gpu_hours * rate})


def test_a_hand_worked_spike_is_found_once_with_its_size_and_driver() -> None:
    # 10 days alternating 10 and 11 GPU-hours at 10 USD; on day 8 from 10:00 (an hour of 10 after an hour of
    # 11) three hours carry +5 GPU-hours: 15, 16, 15, then 11 again.
    y = np.where(np.arange(240) % 2 == 0, 10.0, 11.0)
    t0 = 8 * 24 + 10
    y[t0:t0 + 3] += 5.0
    a = detect_anomalies(series_frames(_billing(y)), DetectorSettings(warmup_days=7))
    # Team, family and project series are the same; spend and GPU-hours: six anomalies, one incident.
    assert len(a) == 6 and len(incidents(a)) == 1
    assert set(a["level"]) == {"team", "family", "project"}
    row = a[(a["level"] == "team") & (a["metric"] == "gpu_hours")].iloc[0]
    # Hourly changes seen so far are +-1 GPU-hour: the step in (+4 at t0) and the step out (-4 at t0 + 3) are
    # far outside. The anomaly is the three hours between. Size: change from the hour before (11) over
    # t0..t0+2: 4 + 5 + 4 = 13 GPU-hours = 130 USD, all volume.
    assert row["start"] == T0 + pd.Timedelta(hours=t0)
    assert row["end"] == T0 + pd.Timedelta(hours=t0 + 3)
    assert row["hours"] == 3 and row["direction"] == "up"
    assert row["size"] == pytest.approx(13.0, abs=1e-9)
    assert row["size_usd"] == pytest.approx(130.0, abs=1e-9)
    assert row["driver"] == "volume" and row["volume_usd"] == pytest.approx(130.0, abs=1e-9)
    assert row["peak_expected"] == pytest.approx(11.0) and row["peak_actual"] == 16.0


def test_a_two_hour_spike_on_one_team_of_a_noisy_bill_is_found_with_its_usd_size() -> None:
    # Two teams with Gaussian noise (sd 2 GPU-hours around 40, 4 USD each); on day 20 team b carries +30
    # GPU-hours for two hours. Hand-computed size: 30 + 30 plus the noise of those two hours against the hour
    # before, i.e. sum(y[h] - y[t0 - 1]) over the two hours, x 4 USD.
    rng = np.random.default_rng(11)
    n = 24 * 24
    ya, yb = 40 + rng.normal(0, 2, n), 40 + rng.normal(0, 2, n)
    t0 = 20 * 24 + 7
    yb[t0:t0 + 2] += 30.0
    b = pd.concat([_billing(ya, rate=4.0).assign(team="a"), _billing(yb, rate=4.0).assign(team="b")],
                  ignore_index=True)
    a = detect_anomalies(series_frames(b))
    # (A noise false alarm elsewhere is allowed: the budget is 1 per week over the bill.)
    row = a[(a["level"] == "team") & (a["series"] == "b") & (a["metric"] == "spend_usd")
            & (a["start"] <= T0 + pd.Timedelta(hours=t0 + 1)) & (a["end"] > T0 + pd.Timedelta(hours=t0))]
    assert len(row) == 1
    r = row.iloc[0]
    assert r["start"] == T0 + pd.Timedelta(hours=t0) and r["hours"] == 2 and r["direction"] == "up"
    expect = 4.0 * ((yb[t0] - yb[t0 - 1]) + (yb[t0 + 1] - yb[t0 - 1]))
    assert r["size_usd"] == pytest.approx(expect, rel=1e-9) and 40 * 4 < expect < 80 * 4   # 60 +- noise
    assert r["driver"] == "volume"
    fam = a[(a["level"] == "family") & (a["start"] == T0 + pd.Timedelta(hours=t0))]
    assert len(fam) == 2 and (fam["hours"] == 2).all()       # also seen on the family total (both metrics)


def test_a_level_shift_that_stays_is_one_alert_not_one_per_day() -> None:
    # Noise around 40 GPU-hours; on day 20 the team doubles to 80 and stays there for 10 days.
    rng = np.random.default_rng(3)
    y = 40 + rng.normal(0, 1.5, 24 * 30)
    t0 = 20 * 24 + 5
    y[t0:] += 40.0
    a = detect_anomalies(series_frames(_billing(y)))
    team = a[(a["level"] == "team") & (a["metric"] == "gpu_hours")]
    assert len(team) == 1
    r = team.iloc[0]
    assert r["start"] == T0 + pd.Timedelta(hours=t0) and r["hours"] == 1 and r["direction"] == "up"
    assert r["size"] == pytest.approx(y[t0] - y[t0 - 1], rel=1e-12)


def test_the_alert_rate_on_a_laplace_random_walk_is_the_nominal_budget() -> None:
    # Steps iid Laplace(0, 1): |step| is exponential, so the exponential tail above the 95 % quantile is the
    # true null, for the level-shift test and for the spike tests (min of two independent exponential tails is
    # exponential). Expected alerts: alarms_per_week x weeks scored. Binomial sd of the count is about
    # sqrt(expected); the fitted tail scale from 34 values of a 28-day history adds about 17 % relative error
    # per day, averaged over 286 days: allow 5 binomial sd.
    s = DetectorSettings(alarms_per_week=4.0, min_share=0.0, bill_share=0.0)
    rng = np.random.default_rng(1)
    y = 1e4 + np.cumsum(rng.laplace(0.0, 1.0, 24 * 300))
    alerts_ = int((score_series(y, s)["alert"] != "").sum())
    expected = s.alarms_per_week * (len(y) - 24 * s.warmup_days) / 168
    assert abs(alerts_ - expected) < 5 * np.sqrt(expected), (alerts_, expected)


def test_the_warm_up_is_not_scored_and_a_quiet_series_raises_nothing() -> None:
    y = np.where(np.arange(24 * 20) % 2 == 0, 10.0, 11.0)
    y[24 * 12 + 6:24 * 12 + 9] += 50.0    # day 13: inside the default 14-day warm-up, not scored
    assert detect_anomalies(series_frames(_billing(y))).empty
    assert len(detect_anomalies(series_frames(_billing(y)), DetectorSettings(warmup_days=7))) == 6


def test_the_alert_rate_on_gaussian_noise_is_at_most_the_budget() -> None:
    # iid Gaussian noise around a level: the exponential tail fitted above the 95 % quantile is heavier than
    # the Gaussian one, so the rate must not exceed the budget (one-sided binomial bound, 3 sd). Measured 82
    # against 106 nominal; thresholds at a quarter of the right distance would alert on most hours.
    s = DetectorSettings(alarms_per_week=4.0, min_share=0.0, bill_share=0.0)
    rng = np.random.default_rng(2)
    y = 1e3 + rng.normal(0.0, 5.0, 24 * 200)
    alerts_ = int((score_series(y, s)["alert"] != "").sum())
    expected = s.alarms_per_week * (len(y) - 24 * s.warmup_days) / 168
    assert expected / 3 <= alerts_ <= expected + 3 * np.sqrt(expected), (alerts_, expected)


def test_scores_use_no_data_after_the_day_scored() -> None:
    rng = np.random.default_rng(4)
    y = np.maximum(50 + np.cumsum(rng.normal(0, 2, 24 * 20)), 0)
    y[24 * 15 + 3:24 * 15 + 6] += 40.0       # an alerted spike before the cut
    full = score_series(y, DetectorSettings())
    assert (full["alert"] != "").any()
    cut = 24 * 16 + 5
    part = score_series(y[:cut], DetectorSettings())
    pd.testing.assert_frame_equal(full.iloc[:cut].reset_index(drop=True), part)
    # Changing every hour from the cut on (a huge spike included) changes nothing before it.
    z = y.copy()
    z[cut:] = rng.uniform(0, 500, len(y) - cut)
    pd.testing.assert_frame_equal(score_series(z, DetectorSettings()).iloc[:cut], full.iloc[:cut])


def _frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    cols = {f"{p}_{c}": 0.0 for p in ("gpu_hours", "usd") for c in ("standard", "dynamic", "committed")}
    f = pd.DataFrame([{**cols, "unused_usd": 0.0, **r} for r in rows])
    f["gpu_hours"] = f[["gpu_hours_standard", "gpu_hours_dynamic", "gpu_hours_committed"]].sum(axis=1)
    f["spend_usd"] = f[["usd_standard", "usd_dynamic", "usd_committed"]].sum(axis=1) + f["unused_usd"]
    return f


def test_spot_falling_back_to_on_demand_is_a_category_shift() -> None:
    # A week ago the team ran 2 GPU-hours on demand at 8 USD; in the reference hour 10 on spot at 3 USD; then
    # the same 10 GPU-hours all on demand at 8 USD.
    f = _frame([{"gpu_hours_standard": 2.0, "usd_standard": 16.0},
                {"gpu_hours_dynamic": 10.0, "usd_dynamic": 30.0},
                {"gpu_hours_standard": 10.0, "usd_standard": 80.0}])
    parts = drivers(f, np.array([2]), np.array([1]), np.array([0]))
    # volume 0; shift (10 - 0) x 8 + (0 - 10) x 3 = 50; price 80 - 10 x 8 = 0; unused 0. Sum = 80 - 30.
    assert parts == pytest.approx({"volume_usd": 0.0, "category_shift_usd": 50.0, "price_usd": 0.0,
                                   "unused_commitment_usd": 0.0}, abs=1e-12)
    a = detect_anomalies({("team", "a"): pd.concat([_frame([{"gpu_hours_dynamic": 10.0 + (i % 2),
                                                             "usd_dynamic": 3.0 * (10.0 + (i % 2))}
                                                            for i in range(24 * 8)]),
                                                    _frame([{"gpu_hours_standard": 10.0, "usd_standard": 80.0}] * 5),
                                                    ], ignore_index=True).set_index(
        pd.date_range(T0, periods=24 * 8 + 5, freq="h"))}, DetectorSettings(warmup_days=7))
    spend = a[a["metric"] == "spend_usd"].iloc[0]
    assert spend["driver"] == "pricing category shift: spot falling back to on-demand"


def test_price_and_idle_commitment_drivers() -> None:
    f = _frame([{"gpu_hours_standard": 10.0, "usd_standard": 80.0, "unused_usd": 5.0},
                {"gpu_hours_standard": 10.0, "usd_standard": 100.0, "unused_usd": 5.0},
                {"gpu_hours_standard": 10.0, "usd_standard": 80.0, "unused_usd": 45.0}])
    p1 = drivers(f, np.array([1]), np.array([0]))
    assert p1 == pytest.approx({"volume_usd": 0.0, "category_shift_usd": 0.0, "price_usd": 20.0,
                                "unused_commitment_usd": 0.0}, abs=1e-12)
    p2 = drivers(f, np.array([2]), np.array([0]))
    assert p2["unused_commitment_usd"] == pytest.approx(40.0) and max(p2, key=lambda k: abs(p2[k])) == \
        "unused_commitment_usd"


def test_driver_parts_add_up_to_the_spend_change_on_random_frames() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        rows = []
        for _h in range(30):
            r = {}
            for c in ("standard", "dynamic", "committed"):
                q = float(rng.choice([0.0, rng.uniform(0, 20)]))
                r[f"gpu_hours_{c}"] = q
                r[f"usd_{c}"] = q * rng.uniform(1, 10)
            r["unused_usd"] = float(rng.choice([0.0, rng.uniform(0, 50)]))
            rows.append(r)
        f = _frame(rows)
        hours, ref, hist = np.arange(25, 30), np.array([24]), np.arange(0, 24)
        parts = drivers(f, hours, ref, hist)
        spend = f["spend_usd"].to_numpy()
        assert sum(parts.values()) == pytest.approx(float((spend[hours] - spend[24]).sum()), abs=1e-9)
