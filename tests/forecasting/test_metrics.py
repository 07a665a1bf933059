"""Metrics against hand computations and closed forms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.metrics import coverage, crps_gaussian, crps_paths, mase, pinball, rmsse, smape


def test_mase_and_rmsse_by_hand() -> None:
    train = np.array([1.0, 3.0, 2.0, 6.0])  # m = 1 differences: 2, -1, 4 -> MAE 7/3, MSE 21/3
    y = np.array([5.0, 5.0])
    f = np.array([4.0, 7.0])  # errors 1, -2
    assert mase(y, f, train, m=1) == (1.5) / (7 / 3)
    assert rmsse(y, f, train, m=1) == np.sqrt((5 / 2) / 7)


def test_smape_by_hand_and_zero_zero_hours() -> None:
    # 200*|1-3|/(1+3) = 100 ; 0/0 -> 0 ; 200*|2-0|/2 = 200
    assert smape(np.array([1.0, 0.0, 2.0]), np.array([3.0, 0.0, 0.0])) == 100.0


def test_pinball_by_hand() -> None:
    # tau = 0.9: y above q by 2 -> 1.8 ; y below q by 1 -> 0.1
    assert np.isclose(pinball(np.array([5.0, 1.0]), np.array([3.0, 2.0]), 0.9), (1.8 + 0.1) / 2)


def test_coverage_counts_bounds_inclusive_and_skips_missing() -> None:
    y = np.array([1.0, 2.0, np.nan, 10.0])
    assert coverage(y, np.array([1.0, 0.0, 0.0, 0.0]), np.array([1.0, 1.0, 5.0, 5.0])) == 1 / 3


def test_metrics_skip_missing_actuals() -> None:
    train = np.arange(30.0)
    assert mase(np.array([np.nan, 2.0]), np.array([0.0, 1.0]), train, m=1) == 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=12), st.floats(-60, 60))
def test_crps_of_paths_equals_the_pairwise_definition(samples: list[float], y: float) -> None:
    x = np.array(samples)
    brute = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    got = crps_paths(np.array([y]), x[:, None])[0]
    assert np.isclose(got, brute, atol=1e-9)
    assert got >= -1e-12


def test_crps_of_many_gaussian_paths_approaches_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    paths = rng.normal(10.0, 2.0, size=(20_000, 3))
    y = np.array([10.0, 13.0, 4.0])
    np.testing.assert_allclose(crps_paths(y, paths), crps_gaussian(y, 10.0, np.full(3, 2.0)), rtol=0.02)
