"""SYNTHETIC generators: determinism, units, daily shape, negative prices, jobs vs the Philly distribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import InputError, load_scenario
from scenarios.loader import validate_dict
from scenarios.schema import JobGenerator, Scenario
from scenarios.signals import load_spot
from scenarios.synthetic import (
    FOCUS_COLUMNS,
    carbon_series,
    focus_export,
    generate_jobs,
    price_series,
    runtime_distribution,
)

YEAR = pd.date_range("2026-01-01", periods=8760, freq="h", tz="UTC")
T0 = pd.Timestamp("2026-01-05", tz="UTC")


@pytest.mark.parametrize("profile", ["de", "gb", "caiso", "flat"])
def test_same_seed_same_series_other_seed_other_series(profile: str) -> None:
    idx = YEAR[:500]
    a = carbon_series(idx, profile, 300.0, seed=3)
    pd.testing.assert_series_equal(a, carbon_series(idx, profile, 300.0, seed=3))
    b = carbon_series(idx, profile, 300.0, seed=4)
    assert (a != b).any() == (profile != "flat")
    assert a.name == "gco2_per_kwh" and str(a.index.tz) == "UTC" and (a > 0).all()


@pytest.mark.parametrize("profile", ["de", "caiso"])
def test_negative_price_hours_are_present(profile: str) -> None:
    p = price_series(YEAR, profile, 100.0, seed=1)
    share = float((p < 0).mean())
    assert 0.003 < share < 0.08


def test_caiso_midday_carbon_is_below_the_evening() -> None:
    c = carbon_series(YEAR, "caiso", 240.0, seed=2)
    local = c.index.tz_convert("America/Los_Angeles")
    by_hour = c.groupby(local.hour).mean()
    assert by_hour.loc[11:14].mean() < 0.8 * by_hour.loc[18:22].mean()


def test_flat_profile_is_constant() -> None:
    assert (price_series(YEAR[:48], "flat", 55.0, seed=0) == 55.0).all()


def test_naive_index_is_refused() -> None:
    with pytest.raises(InputError, match="tz-aware"):
        carbon_series(pd.date_range("2026-01-01", periods=3, freq="h"), "de", 300.0, seed=0)


def test_generated_jobs_are_deterministic_within_span_and_meet_their_deadlines() -> None:
    gen = JobGenerator(n_jobs=2000, span_days=10, seed=11)  # type: ignore[call-arg]
    jobs = generate_jobs(gen, T0, ["a100"])
    pd.testing.assert_frame_equal(jobs, generate_jobs(gen, T0, ["a100"]))
    assert len(jobs) == 2000
    assert jobs["submit_time"].min() >= T0 and jobs["submit_time"].max() < T0 + pd.Timedelta(days=10)
    window_h = (jobs["deadline"] - jobs["submit_time"]) / pd.Timedelta(hours=1)
    assert (window_h >= jobs["duration_hours"]).all()
    # GPUs per job: the configured distribution's mean (closed form), within 4 standard errors.
    counts = np.array(sorted(gen.gpus_per_job))
    probs = np.array([gen.gpus_per_job[int(c)] for c in counts])
    probs = probs / probs.sum()
    mean = float(counts @ probs)
    sd = float(np.sqrt(((counts - mean) ** 2) @ probs))
    assert abs(jobs["gpus"].mean() - mean) < 4 * sd / np.sqrt(len(jobs))


def test_runtime_bounds_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(InputError, match="below min_runtime_hours"):
        runtime_distribution(2.0, 1.0)


def test_runtime_quantiles_follow_the_filtered_philly_distribution() -> None:
    gen = JobGenerator(n_jobs=4000, seed=3)  # type: ignore[call-arg]
    jobs = generate_jobs(gen, T0, ["a100"])
    ref = runtime_distribution(gen.min_runtime_hours, gen.max_runtime_hours)
    assert ref.min() >= gen.min_runtime_hours and ref.max() <= gen.max_runtime_hours
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        # Sampling error of an empirical quantile: compare in probability space (DKW bound ~0.03 at n=4000).
        p_at = float(np.searchsorted(ref, np.quantile(jobs["duration_hours"], q), side="right")) / ref.size
        assert abs(p_at - q) < 0.03


# -- calibration against the real 2023 series in ../shared/data ----------------------------------------
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
YEAR_2023 = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC")
#: profile -> (local zone, Electricity Maps carbon file, price file or None)
REAL = {
    "de": ("Europe/Berlin", "DE-LU_2023_hourly.csv.gz", "DE-LU_electricity_prices_2023.csv.gz"),
    "gb": ("Europe/London", "GB_2023_hourly.csv.gz", None),
    "caiso": ("America/Los_Angeles", "US-CAL-CISO_2023_hourly.csv.gz", "US-CAL-CISO_electricity_prices_2023.csv.gz"),
}


def shape_stats(s: pd.Series, tz: str) -> dict[str, float]:
    """Statistics that describe a signal's shape, all insensitive to a shift of the clock."""
    x = s.to_numpy(dtype=float)
    local = s.index.tz_convert(tz)
    by_hour = s.groupby(local.hour).mean()
    by_day = s.groupby(local.date).mean()
    mean = float(x.mean())
    return {
        "cv": float(x.std() / mean),
        "diurnal_amplitude": float((by_hour.max() - by_hour.min()) / mean),
        "daily_cv": float(by_day.std() / mean),
        "negative_share": float((x < 0).mean()),
        "ac1": float(pd.Series(x).autocorr(1)),
        "ac24": float(pd.Series(x).autocorr(24)),
    }


def _generated_stats(kind: str, profile: str, tz: str) -> dict[str, float]:
    """Mean of :func:`shape_stats` over three seeds of the year 2023."""
    fn = carbon_series if kind == "carbon" else price_series
    runs = [shape_stats(fn(YEAR_2023, profile, 100.0, seed=seed), tz) for seed in (1, 2, 3)]
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


#: Stated tolerances: ratios generated / real for spread statistics, absolute differences for
#: autocorrelations, and a factor of 3 either way for the share of negative prices.
RATIO_TOL = {"cv": (0.7, 1.35), "diurnal_amplitude": (0.6, 1.7), "daily_cv": (0.6, 1.6)}
AC_TOL = {"ac1": 0.03, "ac24": 0.2}


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent (fresh clone)")
@pytest.mark.shared_data
@pytest.mark.parametrize("profile", ["de", "gb", "caiso"])
def test_generated_carbon_and_price_shapes_match_real_2023_data(profile: str) -> None:
    from scenarios.signals import read_carbon, read_price

    tz, carbon_file, price_file = REAL[profile]
    pairs = [("carbon", read_carbon(SHARED / "carbon_intensity" / carbon_file), "gco2_per_kwh")]
    if price_file is not None:
        pairs.append(("price", read_price(SHARED / "electricity_prices" / price_file), "usd_per_mwh"))
    for kind, frame, col in pairs:
        real = shape_stats(pd.Series(frame[col].to_numpy(), index=pd.DatetimeIndex(frame["timestamp"])), tz)
        gen = _generated_stats(kind, profile, tz)
        for k, (lo, hi) in RATIO_TOL.items():
            assert lo <= gen[k] / real[k] <= hi, (kind, k, gen[k], real[k])
        for k, tol in AC_TOL.items():
            assert abs(gen[k] - real[k]) <= tol, (kind, k, gen[k], real[k])
        if kind == "price":
            assert real["negative_share"] / 3 <= gen["negative_share"] <= 3 * real["negative_share"]


def test_stored_calibration_matches_the_reference_run() -> None:
    from scenarios.synthetic import CALIBRATION, reference_calibration

    for profile, stored in CALIBRATION.items():
        np.testing.assert_allclose(reference_calibration(profile), stored, rtol=1e-6)


@pytest.mark.parametrize("profile", ["de", "gb", "caiso"])
def test_long_run_means_are_the_requested_means(profile: str) -> None:
    idx = pd.date_range("2030-01-01", periods=4 * 8760, freq="h", tz="UTC")
    # Four years of one seed: the yearly means vary with the weather by a few percent.
    assert carbon_series(idx, profile, 250.0, seed=5).mean() == pytest.approx(250.0, rel=0.05)
    assert price_series(idx, profile, 80.0, seed=5).mean() == pytest.approx(80.0, rel=0.06)


# -- FOCUS export --------------------------------------------------------------------------------------
def _with_commitments(reserved: list[dict[str, object]], committed: dict[str, float]) -> Scenario:
    raw = load_scenario("small").model_dump(mode="json")
    raw["current"] = {"reserved": reserved, "committed_usd_per_hour": committed}
    return validate_dict(raw)


def _usage(gpus: list[float], family: str = "a100", team: str = "research") -> pd.DataFrame:
    return pd.DataFrame({"timestamp": pd.date_range(T0, periods=len(gpus), freq="h"), "family": family,
                         "team": team, "gpus": gpus})


def _gpu_hours(bill: pd.DataFrame, pricing: str, status: str | None = None) -> np.ndarray:
    """GPU-hours per hour of one pricing category / status in the export (8 GPUs per p4d instance)."""
    sel = (bill["ChargeCategory"] == "Usage") & (bill["PricingCategory"] == pricing)
    sel &= bill["x_UsageType"].fillna("").str.contains(r"(?:Box|Spot)Usage:p4d", regex=True)
    if status is not None:
        sel &= bill["CommitmentDiscountStatus"] == status
    qty = bill["PricingQuantity"] if status == "Unused" else bill["ConsumedQuantity"]
    by_hour = (qty[sel] * 8.0).groupby(bill.loc[sel, "ChargePeriodStart"]).sum()
    return by_hour.reindex(pd.date_range(T0, periods=3, freq="h"), fill_value=0.0).to_numpy()


def test_reserved_covers_usage_first_then_spot_share_then_on_demand() -> None:
    sc = _with_commitments([{"family": "a100", "term_years": 1, "gpus": 10, "usd_per_gpu_hour": 1.74}], {})
    bill = focus_export(_usage([8.0, 16.0, 4.0]), sc, seed=3, spot_share=0.5)
    # By hand: reserved covers min(usage, 10); half the rest is spot (cap 48 GPUs); the rest on-demand.
    np.testing.assert_allclose(_gpu_hours(bill, "Committed", "Used"), [8.0, 10.0, 4.0])
    np.testing.assert_allclose(_gpu_hours(bill, "Committed", "Unused"), [2.0, 0.0, 6.0])
    np.testing.assert_allclose(_gpu_hours(bill, "Dynamic"), [0.0, 3.0, 0.0])
    np.testing.assert_allclose(_gpu_hours(bill, "Standard"), [0.0, 3.0, 0.0])
    usage = bill[(bill["ChargeCategory"] == "Usage") & (bill["x_InstanceType"] == "p4d.24xlarge")
                 & ~bill["x_UsageType"].str.contains("EBSOptimized")]
    committed = usage[usage["PricingCategory"] == "Committed"]
    assert committed["EffectiveCost"].sum() == pytest.approx(1.74 * 30.0)
    assert committed["BilledCost"].sum() == 0.0  # paid by the Purchase row
    purchase = bill[bill["ChargeCategory"] == "Purchase"]
    assert purchase["BilledCost"].sum() == pytest.approx(1.74 * 10 * 3)
    std = usage[usage["PricingCategory"] == "Standard"]
    assert std["EffectiveCost"].sum() == pytest.approx(3.0 * 2.744705)
    # The spot price is the one load_spot gives for the same seed and hour.
    spot = load_spot(sc, T0, 3, seed=3)
    price = spot.loc[spot["family"] == "a100", "usd_per_gpu_hour"].iloc[1]
    assert usage.loc[usage["PricingCategory"] == "Dynamic", "EffectiveCost"].sum() == pytest.approx(3.0 * price)
    assert usage["ListCost"].sum() == pytest.approx(28.0 * 2.744705)


def test_savings_plan_covers_at_the_discounted_rate_and_leaves_unused_spend() -> None:
    sc = _with_commitments([], {"1y": 10.0})
    bill = focus_export(_usage([8.0, 4.0, 0.0]), sc, spot_share=0.0)
    rate = 2.744705 * (1 - 0.28)
    np.testing.assert_allclose(_gpu_hours(bill, "Committed", "Used"), [10.0 / rate, 4.0, 0.0])
    unused = bill[(bill["CommitmentDiscountStatus"] == "Unused")]
    np.testing.assert_allclose(unused["EffectiveCost"].to_numpy(), [10.0 - 4.0 * rate, 10.0])
    assert unused["x_InstanceType"].isna().all()


def test_export_round_trips_through_read_focus_with_counted_skips(tmp_path: Path) -> None:
    from scenarios.readers import read_focus

    sc = _with_commitments([{"family": "a100", "term_years": 1, "gpus": 20, "usd_per_gpu_hour": 1.74}],
                           {"3y": 30.0})
    rng = np.random.default_rng(0)
    hours = pd.date_range("2026-01-30", periods=96, freq="h", tz="UTC")  # crosses a billing period
    usage = pd.DataFrame({
        "timestamp": np.repeat(hours, 4),
        "family": np.tile(["a100", "a100", "h100", "h100"], len(hours)),
        "team": np.tile(["vc8Sj", "vcTJs", "vc3sl", "vcMod"], len(hours)),
        "gpus": rng.uniform(0, 40, 4 * len(hours)).round(3),
    })
    path = tmp_path / "focus.csv"
    bill = focus_export(usage, sc, seed=1, path=path)
    assert list(bill.columns) == FOCUS_COLUMNS
    res = read_focus(path)
    billing = res.frame
    used = billing[billing["commitment_status"].fillna("") != "Unused"]
    got = used.groupby(["timestamp", "family", "team"])["gpu_hours"].sum()
    want = usage.set_index(["timestamp", "family", "team"])["gpus"]
    np.testing.assert_allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-9)
    export_usage = bill[(bill["ChargeCategory"] == "Usage") & bill["x_InstanceType"].isin(["p4d.24xlarge",
                                                                                         "p5.48xlarge"])]
    assert billing["effective_cost_usd"].sum() == pytest.approx(
        export_usage.loc[~export_usage["x_UsageType"].str.contains("EBSOptimized"), "EffectiveCost"].sum())
    days, months = 4, 2
    assert res.skipped["tax"] == months and res.skipped["credit"] == months
    assert res.skipped["purchase (commitment or upfront fee)"] == 2 * months
    assert res.skipped["non-GPU usage"] == 2 * days
    assert sum(v for k, v in res.skipped.items() if "EBS" in k) == days
    assert set(billing["pricing_category"]) == {"Standard", "Dynamic", "Committed"}


def test_export_is_deterministic_by_seed() -> None:
    sc = load_scenario("small", overrides={"current": {}})  # no reservations: the seed decides the spot split
    usage = _usage([30.0, 20.0, 10.0])
    a, b, c = focus_export(usage, sc, seed=1), focus_export(usage, sc, seed=1), focus_export(usage, sc, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["EffectiveCost"].sum(), c["EffectiveCost"].sum())


def test_export_refuses_unknown_families_and_naive_times() -> None:
    sc = load_scenario("small")
    with pytest.raises(InputError, match="b200"):
        focus_export(_usage([1.0], family="b200"), sc)
    naive = _usage([1.0])
    naive["timestamp"] = naive["timestamp"].dt.tz_localize(None)
    with pytest.raises(InputError, match="tz-aware"):
        focus_export(naive, sc)


def test_de_carbon_peaks_in_the_evening_and_dips_at_midday_like_the_real_series() -> None:
    # Real DE-LU 2023 (Electricity Maps, LCA): mean profile peaks at 20:00 and bottoms at 13:00 Berlin time.
    c = pd.concat([carbon_series(YEAR, "de", 380.0, seed=s) for s in (1, 2, 3)])
    by_hour = c.groupby(c.index.tz_convert("Europe/Berlin").hour).mean()
    assert 18 <= int(by_hour.idxmax()) <= 21
    assert 12 <= int(by_hour.idxmin()) <= 14


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 300), span=st.floats(0.5, 30.0), slack=st.floats(0.0, 100.0),
       lo=st.floats(0.01, 2.0), hi=st.floats(2.0, 500.0), flex=st.floats(0.0, 1.0), seed=st.integers(0, 10**6))
def test_generated_jobs_respect_their_settings(n: int, span: float, slack: float, lo: float, hi: float,
                                               flex: float, seed: int) -> None:
    gen = JobGenerator(n_jobs=n, span_days=span, deadline_slack_hours=slack, min_runtime_hours=lo,  # type: ignore[call-arg]
                       max_runtime_hours=hi, flexible_share=flex, seed=seed)
    jobs = generate_jobs(gen, T0, {"a100": 1.0, "h100": 3.0})
    assert len(jobs) == n and jobs["job_id"].is_unique
    assert jobs["submit_time"].min() >= T0 and jobs["submit_time"].max() <= T0 + pd.Timedelta(days=span)
    assert jobs["duration_hours"].between(lo, hi).all()
    assert set(jobs["gpus"]) <= set(gen.gpus_per_job) and set(jobs["family"]) <= {"a100", "h100"}
    window_h = (jobs["deadline"] - jobs["submit_time"]) / pd.Timedelta(hours=1)
    assert (window_h >= jobs["duration_hours"]).all()


@settings(max_examples=15, deadline=None)
@given(gpus=st.lists(st.floats(0.0, 200.0), min_size=1, max_size=30), reserved=st.floats(0.0, 100.0),
       sp=st.floats(0.0, 300.0), share=st.floats(0.0, 1.0))
def test_export_conserves_gpu_hours_and_reserved_capacity(gpus: list[float], reserved: float, sp: float,
                                                          share: float) -> None:
    sc = _with_commitments([{"family": "a100", "term_years": 1, "gpus": reserved, "usd_per_gpu_hour": 1.74}],
                           {"1y": sp})
    bill = focus_export(_usage(gpus), sc, spot_share=share)
    usage = bill[(bill["ChargeCategory"] == "Usage") & bill["x_UsageType"].fillna("").str.contains(
        r"(?:Box|Spot)Usage:p4d", regex=True)]
    used = usage[usage["CommitmentDiscountStatus"].fillna("") != "Unused"]
    assert used["ConsumedQuantity"].sum() * 8 == pytest.approx(sum(gpus), abs=1e-6)
    ri = usage[usage["CommitmentDiscountType"] == "Reserved Instance"]
    ri_hours = ri["ConsumedQuantity"].fillna(0).sum() + ri["PricingQuantity"][ri["ConsumedQuantity"].isna()].sum()
    assert ri_hours * 8 == pytest.approx(reserved * len(gpus), abs=1e-6)
    spot = usage[usage["PricingCategory"] == "Dynamic"]
    assert (spot.groupby("ChargePeriodStart")["ConsumedQuantity"].sum() * 8 <= 48 + 1e-9).all()
    assert (bill.loc[bill["ChargeCategory"] == "Usage", "EffectiveCost"] >= 0).all()


@pytest.mark.parametrize("module", ["scenarios.synthetic", "scenarios.signals", "scenarios.workload"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
