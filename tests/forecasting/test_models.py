"""Conformance suite: every registered model obeys the same contract (scikit-learn rules, shapes, bounds,
non-negativity, seeded and temporally coherent paths, calibrated intervals on a series of known noise)."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.base import ModelError
from forecasting.registry import make_model, model_names

from .conftest import seasonal_series

MODELS = model_names()
H = 36
N = 400  # history [h]: enough for the weekly models (2 x 168 h)


def _ar1(n: int, phi: float, sd: float, seed: int, level: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0.0, sd)
    return level + e


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    # a series close to zero, so that clipping at 0 is exercised
    y = np.maximum(seasonal_series(N, seed=3, level=3.0, sigma=2.0), 0.0)
    return {name: make_model(name).fit(y) for name in MODELS}


@pytest.mark.parametrize("name", MODELS)
def test_fit_returns_self_keeps_params_learns_underscored_state_and_survives_gaps(name: str) -> None:
    model = make_model(name)
    params = model.get_params()
    assert not any(k.endswith("_") for k in vars(model)), "__init__ must only store hyper-parameters"
    y = seasonal_series(N, seed=2)
    y[200:224] = np.nan  # a day of outage must not break any model
    assert model.fit(y) is model
    assert np.all(np.isfinite(model.predict(24).mean))
    learned = set(vars(model)) - set(params)
    assert learned and all(k.endswith("_") for k in learned)
    clone = type(model)(**params)
    assert clone.get_params() == params


@pytest.mark.parametrize("name", MODELS)
def test_predict_shapes_and_nested_non_negative_bounds(name: str, fitted: dict) -> None:
    p = fitted[name].predict(H, levels=(80, 95))
    assert p.mean.shape == (H,) and p.sd is not None and p.sd.shape == (H,)
    assert set(p.lower) == set(p.upper) == {80.0, 95.0}
    tol = 1e-9
    assert np.all(p.lower[95] >= -tol)
    assert np.all(p.lower[95] <= p.lower[80] + tol)
    assert np.all(p.lower[80] <= p.mean + tol)
    assert np.all(p.mean <= p.upper[80] + tol)
    assert np.all(p.upper[80] <= p.upper[95] + tol)
    assert np.all(np.isfinite(p.mean))


@pytest.mark.parametrize("name", MODELS)
def test_simulate_is_seeded_non_negative_and_shaped(name: str, fitted: dict) -> None:
    model = fitted[name]
    a = model.simulate(H, 40, np.random.default_rng(7))
    b = model.simulate(H, 40, np.random.default_rng(7))
    c = model.simulate(H, 40, np.random.default_rng(8))
    assert a.shape == (40, H)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0.0
    p = model.predict(H, levels=(95,))
    assert p.lower[95].min() >= 0.0


@pytest.mark.parametrize("name", MODELS)
def test_paths_are_temporally_coherent_on_persistent_demand(name: str) -> None:
    # AR(1) demand with phi = 0.95: an hour is much like the previous one, so must the simulated hours be
    y = _ar1(N, 0.95, 2.0, seed=4, level=200.0) + 10 * np.sin(2 * np.pi * np.arange(N) / 24)
    model = make_model(name).fit(y)
    paths = model.simulate(H, 300, np.random.default_rng(0))
    dev = paths - paths.mean(axis=0, keepdims=True)
    lag1 = np.corrcoef(dev[:, :-1].ravel(), dev[:, 1:].ravel())[0, 1]
    assert lag1 > 0.5, f"{name}: hour-to-hour correlation of paths {lag1:.2f}"


@pytest.mark.parametrize("name", MODELS)
def test_interval_coverage_on_white_noise_of_known_sd(name: str) -> None:
    """Intervals neither too narrow nor too wide on white noise of sd 3 GPUs (144 test hours).

    The true 95 % interval is +-1.96 x 3 GPUs.  A random walk (``naive``) legitimately reads white noise
    as steps of sd 3 sqrt(2), so its half-width at h hours ahead must be 1.96 x 3 sqrt(2h) (closed form)
    and its coverage is near 1; every other model must stay within 1.6x the true width and cover the
    80 % interval at most 93 % of the time (0.80 + 4 binomial sd of 144 draws).
    """
    hits95, hits80, n = 0, 0, 0
    width = []
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        y = 60.0 + rng.normal(0.0, 3.0, N + 24)
        p = make_model(name).fit(y[:N]).predict(24, levels=(80, 95))
        test = y[N:]
        hits95 += int(np.sum((test >= p.lower[95]) & (test <= p.upper[95])))
        hits80 += int(np.sum((test >= p.lower[80]) & (test <= p.upper[80])))
        n += test.size
        width.append((p.upper[95] - p.lower[95]) / 2)
    half = np.mean(width, axis=0)  # mean 95 % half-width per hour ahead [GPUs]
    true_half = 1.959964 * 3.0
    assert hits95 / n >= 0.88, f"{name}: 95 % coverage {hits95 / n:.3f}"
    assert hits80 / n >= 0.65, f"{name}: 80 % coverage {hits80 / n:.3f}"
    if name == "naive":
        np.testing.assert_allclose(half, true_half * np.sqrt(2 * np.arange(1, 25)), rtol=0.15)
    else:
        assert hits80 / n <= 0.93, f"{name}: 80 % coverage {hits80 / n:.3f}: intervals too wide"
        assert half.mean() <= 1.6 * true_half, f"{name}: 95 % half-width {half.mean():.2f} GPUs"


@pytest.mark.parametrize("name", MODELS)
def test_too_short_history_raises_model_error(name: str) -> None:
    model = make_model(name)
    with pytest.raises(ModelError, match="needs at least"):
        model.fit(np.ones(model.min_history() - 1))


def test_predict_before_fit_is_an_error() -> None:
    with pytest.raises(ModelError, match="not fitted"):
        make_model("naive").predict(3)
