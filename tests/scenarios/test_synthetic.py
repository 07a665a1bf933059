"""SYNTHETIC generators: determinism, units, daily shape, negative prices, jobs vs the Philly distribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios import InputError
from scenarios.schema import JobGenerator
from scenarios.synthetic import carbon_series, generate_jobs, price_series, runtime_distribution

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
