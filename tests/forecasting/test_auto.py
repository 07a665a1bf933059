"""``auto`` on short and bursty histories: CV windows that resemble the final fit, an explicit fallback,
a seasonality test before seasonal candidates, no replayed bursts on idle series, skill-weighted members."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.auto import DEFAULT_CANDIDATES, IDLE, LEVELS, ROBUST, AutoModel, season_evidence


def _daily(n: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 20 * np.sin(2 * np.pi * t / 24) + noise * rng.standard_normal(n)


@pytest.mark.parametrize("n,h", [(500, 168), (744, 168), (400, 24), (2000, 168)])
def test_every_cv_window_trains_on_most_of_the_history(n: int, h: int) -> None:
    m = AutoModel(cv_horizon=h)
    cutoffs, hw = m.cv_cutoffs(n)
    assert cutoffs, "a window fits"
    assert all(c >= 0.6 * n for c in cutoffs)
    assert all(c + hw <= n for c in cutoffs) and max(cutoffs) + hw == n
    assert hw % 24 == 0 and 24 <= hw <= h
    assert len(set(cutoffs)) == len(cutoffs)
    # the old rule (windows of h back to back) trained on as little as n - 3h
    if n - 3 * h < 0.6 * n:
        assert min(cutoffs) > n - 3 * h


def test_a_long_horizon_on_a_short_history_shrinks_the_window() -> None:
    cutoffs, hw = AutoModel(cv_horizon=168).cv_cutoffs(300)   # 180 h must stay for training: 120 h of room
    assert hw == 120 and cutoffs == [180]


def test_no_qualifying_window_falls_back_to_the_robust_models_and_says_so() -> None:
    y = _daily(60, noise=2.0)
    m = AutoModel(cv_horizon=24).fit(y)
    assert set(m.members_) <= set(ROBUST) and m.members_
    assert "no cross-validation window" in m.fallback_
    assert any("no cross-validation window" in n for n in m.notes_)
    assert m.k_ == 1.0


def test_season_evidence_separates_a_daily_rhythm_from_a_random_walk() -> None:
    rng = np.random.default_rng(1)
    walks = [season_evidence(np.cumsum(rng.standard_normal(600)), 24) for _ in range(200)]
    false_alarms = np.mean([r > thr for r, thr in walks])
    assert false_alarms <= 0.10               # a one-sided 5 % test: about 5 % of walks pass by chance
    daily = [season_evidence(_daily(600, noise=3.0, seed=s), 24) for s in range(20)]
    assert all(r > thr for r, thr in daily)
    assert season_evidence(np.ones(50), 24) == (0.0, float("inf"))


def test_seasonal_candidates_need_a_season() -> None:
    rng = np.random.default_rng(2)
    walk = 100 + np.cumsum(rng.standard_normal(600))
    m = AutoModel(cv_horizon=24).fit(walk)
    for name in ("naive24", "naive168", "mstl"):
        assert name not in m.members_ and "no season" in m.failed_[name]
    m2 = AutoModel(cv_horizon=24).fit(_daily(600, noise=1.0))
    assert "naive24" not in m2.failed_
    # the test applies on any length of history (no month threshold): a long walk has no season either
    long_walk = 100 + np.cumsum(rng.standard_normal(1500))
    m3 = AutoModel(cv_horizon=24).fit(long_walk)
    assert "no season" in m3.failed_["naive24"]
    assert AutoModel(cv_horizon=24, season_test=False).fit(walk).failed_.get("naive24", "") == ""


def test_a_mostly_idle_series_does_not_replay_old_bursts() -> None:
    rng = np.random.default_rng(4)
    y = np.zeros(600)
    for start in rng.choice(np.arange(0, 560), size=6, replace=False):
        y[start:start + 5] = 40.0           # six 5-hour bursts of 40 GPUs, idle otherwise
    y[-30:] = 0.0                            # idle now
    m = AutoModel(cv_horizon=168).fit(y)
    assert set(m.members_) <= set(IDLE)
    assert "mostly idle" in m.failed_["naive24"]
    mean = m.predict(168).mean
    assert mean.max() < 4.0                  # no replayed 40-GPU burst (seasonal naive would repeat them)


def test_the_combination_weighs_members_by_cv_skill() -> None:
    y = _daily(24 * 21)                      # exactly periodic: naive24 and naive168 have zero CV error
    m = AutoModel(cv_horizon=24, trim=1e9).fit(y)
    w = m.weights_
    assert sum(w.values()) == pytest.approx(1.0)
    exact = {k for k in w if m.cv_mae_[k] < 1e-9}
    assert exact == {"naive24", "naive168"} or exact >= {"naive24"}
    assert sum(w[k] for k in exact) > 0.999
    # the forecast is the daily cycle continued
    t = np.arange(y.size, y.size + 48)
    assert np.allclose(m.predict(48).mean, 50 + 20 * np.sin(2 * np.pi * t / 24), atol=1e-3)


def _base_with_bursts(seed: int, n: int) -> np.ndarray:
    """10 GPUs busy (sd 0.5) plus 30-GPU bursts of 2-5 h about every 30 h (busy ~12 % of the hours)."""
    rng = np.random.default_rng(seed)
    y = 10 + 0.5 * rng.standard_normal(n)
    t = 0
    while t < n:
        t += int(rng.exponential(30)) + 1
        d = int(rng.integers(2, 6))
        y[t:t + d] += 30.0
        t += d
    return y


def test_flat_medians_join_the_candidates_only_beyond_a_day() -> None:
    assert AutoModel(cv_horizon=24).candidates == DEFAULT_CANDIDATES
    assert AutoModel(cv_horizon=168).candidates == DEFAULT_CANDIDATES + LEVELS
    assert AutoModel(cv_horizon=48).candidates[-2:] == LEVELS
    # candidates given by name are taken as given
    assert AutoModel(cv_horizon=168, candidates=("naive", "ses")).candidates == ("naive", "ses")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_week_ahead_from_inside_a_burst_does_not_hold_the_burst(seed: int) -> None:
    # A level with short bursts, the history ending 3 h into a 40-GPU burst.  Over the next week the
    # absolute-error-minimising constant is the 10-GPU level (busy most hours); holding 40 (the last value,
    # what naive, SES and theta do) misses by ~30 GPUs most hours.  Truth: the simulated continuation.
    y = _base_with_bursts(seed, 744 + 168)
    y[741:744] = 40.0
    hist, future = y[:744], y[744:]
    mae = {name: float(np.abs(future - AutoModel(cv_horizon=168, candidates=c).fit(hist).predict(168).mean).mean())
           for name, c in (("auto", None), ("without levels", DEFAULT_CANDIDATES))}
    hold = float(np.abs(future - 40.0).mean())
    assert mae["without levels"] > 0.9 * hold       # the old candidate set holds (most of) the burst
    assert mae["auto"] < 0.7 * hold                 # the medians pull the week back towards the level


@pytest.mark.parametrize("kind", ["bursty", "daily", "walk", "idle"])
def test_every_member_beat_the_last_value_in_cross_validation(kind: str) -> None:
    rng = np.random.default_rng(11)
    y = {"bursty": _base_with_bursts(11, 744), "daily": _daily(744, noise=3.0),
         "walk": 100 + np.cumsum(rng.standard_normal(744)),
         "idle": np.r_[np.zeros(700), np.ones(44)]}[kind]
    for h in (24, 168):
        m = AutoModel(cv_horizon=h).fit(y)
        ref = m.cv_mae_["naive"]
        assert all(m.cv_mae_[k] < ref for k in m.members_ if k != "naive"), (h, m.cv_mae_, list(m.members_))
        if "naive" not in m.members_:                 # trimmed: something beat it by more than the trim
            assert min(m.cv_mae_.values()) * m.trim < ref
    # candidates that forecast exactly what the last value forecast in every window add nothing: on a series
    # idle until its last 44 h all three idle models score the same, and the forecast is the last value
    m = AutoModel(cv_horizon=24).fit(np.r_[np.zeros(700), np.ones(44)])
    assert list(m.members_) == ["naive"] and np.allclose(m.predict(24).mean, 1.0)
    assert "not better than naive in CV, left out: median24" in m.description   # the report says why
