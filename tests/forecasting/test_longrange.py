"""The long-range daily level: mean-reverting by default, its spread bounded and matching its paths."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.longrange import DailyLevel, ReversionLevel, Spliced


def _ar1_days(n: int, phi: float, sd: float, mean: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for k in range(1, n):
        x[k] = phi * x[k - 1] + rng.normal(0.0, sd * np.sqrt(1 - phi**2))
    return mean + x


def test_reversion_level_spread_settles_at_the_stationary_spread_plus_mean_uncertainty() -> None:
    m = ReversionLevel(window=400).fit(_ar1_days(400, 0.6, 10.0, 100.0, seed=3))
    sd = m._sd(365)
    stationary = m.sigma_e_ / np.sqrt(1 - m.phi_**2)
    assert sd[-1] == pytest.approx(np.sqrt(stationary**2 + m.var_mu_), rel=1e-9)
    assert sd[-1] == pytest.approx(sd[60], rel=1e-6), "no growth once the AR(1) has mixed"
    assert m.phi_ == pytest.approx(0.6, abs=0.1)
    assert stationary == pytest.approx(10.0, rel=0.15)
    assert m._mean(365)[-1] == pytest.approx(m.mu_ + m.weekday_[(400 + 364) % 7], abs=1e-6)


def test_reversion_level_paths_have_the_stated_spread() -> None:
    m = ReversionLevel().fit(_ar1_days(60, 0.5, 8.0, 50.0, seed=4))
    paths = m.simulate(200, 6000, np.random.default_rng(0))
    assert paths[:, -1].std() == pytest.approx(m._sd(200)[-1], rel=0.05)
    assert paths[:, 0].std() == pytest.approx(m._sd(200)[0], rel=0.05)
    assert paths.mean(axis=0)[-1] == pytest.approx(m._mean(200)[-1], abs=3 * m._sd(200)[-1] / np.sqrt(6000))


def test_weekday_effect_is_learned_after_three_weeks() -> None:
    days = np.tile([100.0, 100, 100, 100, 100, 60, 60], 5)
    m = ReversionLevel().fit(days)
    assert m._mean(7) == pytest.approx(days[:7], abs=1e-6)


def test_default_daily_level_year_ahead_spread_is_far_below_a_random_walk_level() -> None:
    t = np.arange(24 * 31)
    rng = np.random.default_rng(5)
    y = 80 + 15 * np.sin(2 * np.pi * t / 24) + np.repeat(_ar1_days(31, 0.7, 12.0, 0.0, seed=6), 24) \
        + rng.normal(0, 3, t.size)
    reverting = DailyLevel().fit(y)
    walk = DailyLevel(level="ets").fit(y)
    h = 24 * 365
    assert reverting._sd(h)[-1] < 0.5 * walk._sd(h)[-1]
    assert reverting._sd(h)[-1] < 40.0, "a year ahead, within a few daily standard deviations"
    with pytest.raises(Exception, match="reverting"):
        DailyLevel(level="nonsense").fit(y)


def _persistent_level_series(days: int, seed: int) -> np.ndarray:
    """Hourly demand whose daily level is a random walk (regimes that last), a daily shape and AR(1) hours."""
    rng = np.random.default_rng(seed)
    level = 100.0 + np.cumsum(rng.normal(0.0, 6.0, days))
    hours = np.arange(24 * days)
    noise = np.zeros(hours.size)
    for t in range(1, hours.size):
        noise[t] = 0.8 * noise[t - 1] + rng.normal(0.0, 2.0)
    return np.asarray(np.repeat(level, 24) + 8.0 * np.sin(2 * np.pi * hours / 24) + noise)


def test_splice_mean_joins_the_long_range_level_without_a_jump() -> None:
    from forecasting.naive import Naive

    # three busy weeks, then a quiet week: the last value is far below the four-week mean (the demo's a100)
    rng = np.random.default_rng(1)
    y = np.r_[np.full(24 * 21, 100.0), np.full(24 * 7, 55.0)] + rng.normal(0.0, 1.0, 24 * 28)
    m = Spliced(Naive(), switch=168).fit(y)
    mean = m._mean(24 * 28)
    gap = mean[167] - m.long_.base_mean(24 * 28)[167]
    base = m.long_.base_mean(24 * 28)
    assert gap < -10.0, "the case has a large disagreement at the splice"
    assert m.long_.phi_ < 0.2, "white-noise hours: fading the gap at the hourly rate would close it at once"
    steps = np.abs(np.diff(mean[160:200]))
    assert steps.max() < 0.2 * abs(gap), "no overnight jump from the short-range end to the long-range level"
    assert mean[191] - base[191] < 0.5 * gap, "a day later most of the gap is still there"
    assert mean[-1] == pytest.approx(base[-1], abs=0.25 * abs(gap)), "and it closes over weeks"


def test_week_two_of_a_persistent_level_is_forecast_better_than_by_an_hourly_fade() -> None:
    """Truth: the simulated continuation of 32 series.  Reference: the gap at the splice faded at the hourly
    remainder's rate (the previous rule), computed here from the fitted components."""
    from forecasting.naive import Naive

    errors = []
    for seed in range(32):
        y = _persistent_level_series(35 + 14, seed)
        train, future = y[: 24 * 35], y[24 * 35:]
        m = Spliced(Naive(), switch=168).fit(train)
        h = future.size
        mean = m._mean(h)
        base = m.long_.base_mean(h)
        gap = mean[167] - base[167]
        hourly_fade = np.r_[mean[:168], base[168:] + m.long_.phi_ ** np.arange(1, h - 167) * gap]
        days_8_9 = slice(168, 216)
        errors.append((np.abs(future[days_8_9] - mean[days_8_9]).mean(),
                       np.abs(future[days_8_9] - hourly_fade[days_8_9]).mean()))
    new, old = np.mean(errors, axis=0)
    assert new < 0.95 * old, f"days 8-9 MAE {new:.2f} vs {old:.2f} with the hourly fade"


def test_splice_paths_average_to_the_mean_have_the_stated_spread_and_stay_continuous() -> None:
    from forecasting.naive import Naive

    y = _persistent_level_series(35, seed=11)
    m = Spliced(Naive(), switch=168).fit(y)
    h = 24 * 21
    paths = m.simulate(h, 4000, np.random.default_rng(0))
    mean = m._mean(h)
    sd = m._sd(h)
    assert np.abs(paths.mean(axis=0) - mean)[168:].max() < 4 * sd[168:].max() / np.sqrt(4000)
    # the stated spread is the paths' (the level at the splice enters each path's gap with the opposite sign)
    np.testing.assert_allclose(paths.std(axis=0)[168:], sd[168:], rtol=0.06)
    # the long-range paths step at each midnight (one level per day): the splice is no larger a step than those
    jumps = np.abs(np.diff(paths, axis=1)).mean(axis=0)
    assert jumps[167] < 1.5 * jumps[[191, 215, 239, 263]].mean()
