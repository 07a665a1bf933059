"""SYNTHETIC generators: determinism, units, daily shape, negative prices, jobs vs the Philly distribution."""

from __future__ import annotations

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
