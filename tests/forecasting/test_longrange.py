"""The long-range daily level: mean-reverting by default, its spread bounded and matching its paths."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.longrange import DailyLevel, ReversionLevel


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
