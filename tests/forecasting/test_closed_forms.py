"""Models checked against closed forms and independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.ets import ETS, ets_variance_factors
from forecasting.longrange import DailyLevel
from forecasting.naive import Naive, SeasonalNaive
from forecasting.theta import Theta


def test_seasonal_naive_on_a_pure_periodic_series_is_exact_with_zero_width() -> None:
    pattern = np.array([3.0, 7.0, 1.0, 0.0, 9.0, 4.0] * 4)  # period 24
    y = np.tile(pattern, 5)
    model = SeasonalNaive(24).fit(y)
    p = model.predict(72, levels=(80, 95))
    np.testing.assert_array_equal(p.mean, np.tile(pattern, 3))
    np.testing.assert_array_equal(p.lower[95], p.mean)
    np.testing.assert_array_equal(p.upper[95], p.mean)
    paths = model.simulate(72, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(paths, np.tile(p.mean, (5, 1)))


def test_naive_intervals_match_the_gaussian_random_walk() -> None:
    sigma = 3.0
    rng = np.random.default_rng(42)
    y = 500.0 + np.cumsum(rng.normal(0.0, sigma, 20_000))
    model = Naive().fit(y)
    assert abs(model.sigma_ / sigma - 1) < 0.02
    h = 16
    p = model.predict(h, levels=(95,))
    z = stats.norm.ppf(0.975)
    # closed form with the estimated sigma: y_T +- z sigma sqrt(h)
    np.testing.assert_allclose(p.upper[95] - p.mean, z * model.sigma_ * np.sqrt(np.arange(1, h + 1)), rtol=1e-12)
    # and with the true sigma, within the estimation error
    np.testing.assert_allclose(p.upper[95][-1] - y[-1], z * sigma * 4.0, rtol=0.03)
    paths = model.simulate(h, 8000, np.random.default_rng(1))
    assert abs(paths[:, -1].var() / (h * model.sigma_**2) - 1) < 0.06
    assert abs(paths[:, -1].mean() - y[-1]) < 4 * sigma * 4.0 / np.sqrt(8000)


def test_seasonal_naive_variance_grows_with_whole_seasons() -> None:
    rng = np.random.default_rng(3)
    y = np.tile(10 * np.sin(np.arange(24) / 24 * 2 * np.pi), 60) + 100 + rng.normal(0, 1.0, 1440)
    model = SeasonalNaive(24).fit(y)
    sd = model.predict(72).sd
    assert sd is not None
    np.testing.assert_allclose(sd[:24], model.sigma_)
    np.testing.assert_allclose(sd[24:48], model.sigma_ * np.sqrt(2))
    np.testing.assert_allclose(sd[48:], model.sigma_ * np.sqrt(3))
    # the differences of iid noise have variance 2 sigma^2
    assert abs(model.sigma_ / np.sqrt(2.0) - 1.0) < 0.05


def test_ets_closed_form_variance_matches_statsmodels() -> None:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(5)
    y = 40 + np.cumsum(rng.normal(0.1, 1.0, 400))
    ours = ETS(trend="add", damped_trend=True, seasonal=None).fit(y)
    res = ETSModel(pd.Series(y), error="add", trend="add", damped_trend=True).fit(disp=False)
    ref = res.get_prediction(start=400, end=429)
    np.testing.assert_allclose(ours.predict(30).sd**2, np.asarray(ref.forecast_variance), rtol=1e-6)


def test_ets_variance_factors_for_simple_smoothing() -> None:
    # ETS(A,N,N): var(h) = sigma^2 (1 + (h - 1) alpha^2)
    f = ets_variance_factors(5, alpha=0.5)
    np.testing.assert_allclose(f, 1 + np.arange(5) * 0.25)


def test_theta_paths_have_the_stated_spread() -> None:
    rng = np.random.default_rng(9)
    y = 80 + np.cumsum(rng.normal(0, 1, 600)) + 5 * np.sin(np.arange(600) / 24 * 2 * np.pi)
    model = Theta(24).fit(y)
    paths = model.simulate(24, 6000, np.random.default_rng(2))
    sd = model.predict(24).sd
    assert sd is not None
    np.testing.assert_allclose(paths.std(axis=0), sd, rtol=0.06)


def test_daily_level_reproduces_a_noiseless_daily_shape_exactly() -> None:
    shape = np.r_[np.zeros(8), np.full(10, 20.0), np.zeros(6)]
    y = np.tile(shape, 28) + 30.0
    model = DailyLevel().fit(y)
    p = model.predict(72)
    np.testing.assert_allclose(p.mean, np.tile(shape, 3) + 30.0, atol=1e-6)
