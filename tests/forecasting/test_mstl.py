"""MSTL's decomposition (:func:`forecasting.mstl.mstl_seasonals`) against statsmodels' ``MSTL`` and a known truth."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.seasonal import MSTL

from forecasting.mstl import MSTLModel, mstl_seasonals


def _two_seasons(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    truth = np.c_[20 * np.sin(2 * np.pi * t / 24), 5 * np.sin(2 * np.pi * t / 168)]
    level = 50 + np.cumsum(0.3 * rng.standard_normal(n))
    return level + truth.sum(axis=1) + rng.standard_normal(n), truth


@pytest.mark.parametrize("periods,n", [((24, 168), 700), ((24,), 300), ((24, 168), 1344)])
def test_without_jumps_it_is_statsmodels_mstl(periods: tuple[int, ...], n: int) -> None:
    y, _ = _two_seasons(n)
    ref = np.asarray(MSTL(y, periods=list(periods)).fit().seasonal).reshape(n, -1)
    assert np.allclose(mstl_seasonals(y, periods, jumps=False), ref, rtol=0, atol=1e-9)


def test_with_jumps_it_recovers_known_seasons_as_well_as_every_point_loess() -> None:
    y, truth = _two_seasons(1344, seed=3)
    mid = slice(168, 1344 - 168)                 # away from the ends, where any LOESS extrapolates
    fast = mstl_seasonals(y, (24, 168))
    full = mstl_seasonals(y, (24, 168), jumps=False)
    err_fast = np.abs(fast[mid] - truth[mid]).mean(axis=0)
    err_full = np.abs(full[mid] - truth[mid]).mean(axis=0)
    assert np.all(err_fast < 1.0)                # amplitudes 20 and 5 GPUs, noise sd 1
    assert np.all(err_fast < err_full + 0.1)
    assert np.abs(fast - full).mean() < 0.1


def test_the_model_continues_a_daily_cycle() -> None:
    y, _ = _two_seasons(1000, seed=1)
    m = MSTLModel().fit(y)
    t = np.arange(1000, 1048)
    expect = 20 * np.sin(2 * np.pi * t / 24) + 5 * np.sin(2 * np.pi * t / 168)
    f = m.predict(48).mean - (m.predict(48).mean.mean() - expect.mean())   # the level is not the point here
    assert np.abs(f - expect).mean() < 1.5
