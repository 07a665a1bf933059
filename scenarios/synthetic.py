"""SYNTHETIC data: seeded generators for grid signals, spot prices, training jobs and FOCUS billing exports.

Everything here is **synthetic** (made up by a documented random model), except the two real inputs the job
generator draws from: the bundled Microsoft Philly runtimes (CC BY 4.0) and the GPUs-per-job distribution
given in the scenario.  ``docs/data.md`` describes each generator and how it was calibrated.

Grid signals (:func:`carbon_series`, :func:`price_series`) come from one small physical picture per profile:

* demand follows a clock-time daily shape, a weekend dip and a seasonal swing;
* solar output follows the sun (day length by season, clouds as a slow random factor);
* wind output is a log-normal Ornstein-Uhlenbeck process with multi-day memory and a winter boost;
* net load = demand - solar - wind drives both signals: carbon intensity rises with the fossil share of
  demand, the price follows a convex merit order in net load and turns **negative** in the hours with the
  most surplus renewables (sunny/windy, low-demand hours);
* each signal adds its own autocorrelated AR(1) noise.

The random parts are a deterministic function of ``(seed, timestamp)``: innovations are drawn per absolute
week (since 2000-01-01 UTC) from ``SeedSequence([seed, stream, week])`` and filtered with a truncated
exponential kernel, so the same hour gets the same value whatever window is asked for (up to float
round-off).  The ``mean`` arguments are long-run means: the generator is scaled once per profile on a
reference run (four seeds x one year); one generated year's mean is within a few percent of it.

Examples
--------
>>> import pandas as pd
>>> from scenarios.synthetic import carbon_series
>>> idx = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
>>> s = carbon_series(idx, "caiso", mean=240.0, seed=1)
>>> len(s), bool((s > 0).all())
(48, True)
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.signal import fftconvolve

from scenarios.errors import InputError

if TYPE_CHECKING:
    import os

    from scenarios.schema import CurrentCommitments, JobGenerator, Scenario

Profile = Literal["de", "gb", "caiso", "flat"]
SeedLike = int | np.random.SeedSequence | np.random.Generator

_EPOCH = pd.Timestamp("2000-01-01", tz="UTC")
_BLOCK_HOURS = 168
_BLOCK_OFFSET = 1 << 31  # keeps block numbers of dates before the epoch non-negative for SeedSequence
_YEAR_DAYS = 365.2425

# Noise streams (the second SeedSequence word), one per independent random component.
_S_WIND, _S_CLOUD, _S_CARBON, _S_PRICE, _S_SPOT, _S_FOCUS = 1, 2, 3, 4, 5, 6


# ---------------------------------------------------------------------------------------------------------
# seeded, window-independent noise
# ---------------------------------------------------------------------------------------------------------
def _hours_since_epoch(index: pd.DatetimeIndex) -> np.ndarray:
    """Whole hours since 2000-01-01 UTC of an hourly, tz-aware index."""
    delta = (index - _EPOCH) / pd.Timedelta(hours=1)
    return np.floor(np.asarray(delta, dtype=float)).astype(np.int64)


def _innovations(h0: int, n: int, seed: int, stream: int) -> np.ndarray:
    """Standard-normal innovations for absolute hours ``h0 .. h0+n-1``; one generator per absolute week."""
    b0, b1 = h0 // _BLOCK_HOURS, (h0 + n - 1) // _BLOCK_HOURS
    parts = [
        np.random.default_rng(np.random.SeedSequence([seed % (1 << 64), stream, b + _BLOCK_OFFSET])).standard_normal(
            _BLOCK_HOURS
        )
        for b in range(b0, b1 + 1)
    ]
    full = np.concatenate(parts)
    first = h0 - b0 * _BLOCK_HOURS
    return full[first : first + n]


def ar1_noise(hours: np.ndarray, tau_hours: float, seed: int, stream: int, smooth_hours: float = 0.0) -> np.ndarray:
    """Unit-variance AR(1) noise at absolute hours (consecutive), a pure function of ``(seed, stream, hour)``.

    Parameters
    ----------
    hours
        Consecutive absolute hour numbers (hours since 2000-01-01 UTC).
    tau_hours
        Correlation time [h]: lag-1 autocorrelation is ``exp(-1 / tau_hours)`` when ``smooth_hours`` is 0.
    seed, stream
        Seed and noise stream.
    smooth_hours
        If > 0, the AR(1) is smoothed once more with an exponential kernel of this time constant [h]
        (weather is smoother hour to hour than an Ornstein-Uhlenbeck path).

    Returns
    -------
    numpy.ndarray
        One value per hour, stationary with mean 0 and variance 1 (kernels truncated after 12 time constants).
    """
    n = len(hours)
    if n == 0:
        return np.zeros(0)
    kernel = _exp_kernel(tau_hours)
    if smooth_hours > 0:
        kernel = np.convolve(kernel, _exp_kernel(smooth_hours))
    kernel = kernel / np.sqrt(np.sum(kernel**2))
    lags = len(kernel) - 1
    e = _innovations(int(hours[0]) - lags, n + lags, seed, stream)
    return np.asarray(fftconvolve(e, kernel, mode="valid"))


def _exp_kernel(tau_hours: float) -> np.ndarray:
    phi = float(np.exp(-1.0 / tau_hours))
    return phi ** np.arange(int(np.ceil(12.0 * tau_hours)) + 1)


# ---------------------------------------------------------------------------------------------------------
# grid-signal profiles
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Profile:
    """Parameters of one synthetic grid (shares are of mean demand)."""

    tz: str  # clock time of demand
    lon_deg: float  # longitude, for solar time [deg east]
    daylen_amp_h: float  # half the yearly swing of day length [h]
    demand_shape: tuple[float, ...]  # relative demand by clock hour 0..23
    weekend_drop: float  # relative demand drop on Saturday/Sunday
    demand_season: float  # amplitude of the yearly demand swing (peak at demand_peak_doy)
    demand_peak_doy: float
    solar_share: float  # solar output at a clear summer noon
    solar_winter: float  # winter solar as a share of summer
    cloud_sigma: float
    wind_share: float  # mean wind output
    wind_sigma: float  # log-sd of wind
    wind_tau_h: float
    wind_smooth_h: float  # extra smoothing of the wind path [h]
    wind_winter: float  # relative winter boost of wind
    hydro_share: float  # mean firm clean supply that varies with the season (hydro, imports)
    hydro_season: float  # its relative yearly swing
    hydro_peak_doy: float
    carbon_floor: float  # carbon of the non-fossil part, relative to the fossil share
    carbon_noise: float
    carbon_tau_h: float
    price_k: float  # convexity of the merit order [1/net-load share]
    price_neg_share: float  # target share of negative-price hours on the reference run
    price_noise: float
    price_tau_h: float


def _shape(values: Sequence[float]) -> tuple[float, ...]:
    a = np.asarray(values, dtype=float)
    return tuple((a / a.mean()).tolist())


# Clock-hour demand shapes: night low, morning ramp, evening peak (ENTSO-E / CAISO load curves, by eye).
_EU_DEMAND = _shape([.88, .85, .84, .83, .84, .87, .93, 1.00, 1.05, 1.07, 1.08, 1.08, 1.07, 1.06, 1.05, 1.04,
                     1.05, 1.08, 1.11, 1.11, 1.07, 1.02, .97, .92])
_CA_DEMAND = _shape([.86, .82, .79, .78, .78, .81, .87, .92, .95, .97, .98, .99, 1.00, 1.02, 1.05, 1.09,
                     1.14, 1.20, 1.24, 1.23, 1.18, 1.10, 1.01, .93])

PROFILES: dict[str, _Profile] = {
    "de": _Profile(tz="Europe/Berlin", lon_deg=10.0, daylen_amp_h=4.2, demand_shape=_EU_DEMAND,
                   weekend_drop=0.2, demand_season=0.08, demand_peak_doy=15.0, solar_share=0.6,
                   solar_winter=0.15, cloud_sigma=0.45, wind_share=0.35, wind_sigma=0.9, wind_tau_h=50.0,
                   wind_smooth_h=8.0, wind_winter=0.25, hydro_share=0.0, hydro_season=0.0, hydro_peak_doy=140.0,
                   carbon_floor=0.1, carbon_noise=0.03, carbon_tau_h=12.0, price_k=1.2, price_neg_share=0.033,
                   price_noise=0.15, price_tau_h=4.0),
    "gb": _Profile(tz="Europe/London", lon_deg=-1.5, daylen_amp_h=4.6, demand_shape=_EU_DEMAND,
                   weekend_drop=0.2, demand_season=0.10, demand_peak_doy=15.0, solar_share=0.35,
                   solar_winter=0.2, cloud_sigma=0.5, wind_share=0.4, wind_sigma=0.9, wind_tau_h=40.0,
                   wind_smooth_h=8.0, wind_winter=0.5, hydro_share=0.0, hydro_season=0.0, hydro_peak_doy=140.0,
                   carbon_floor=0.05, carbon_noise=0.03, carbon_tau_h=12.0, price_k=1.2, price_neg_share=0.012,
                   price_noise=0.15, price_tau_h=4.0),
    "caiso": _Profile(tz="America/Los_Angeles", lon_deg=-119.5, daylen_amp_h=2.4, demand_shape=_CA_DEMAND,
                      weekend_drop=0.05, demand_season=0.10, demand_peak_doy=215.0, solar_share=0.6,
                      solar_winter=0.55, cloud_sigma=0.15, wind_share=0.12, wind_sigma=0.8, wind_tau_h=24.0,
                      wind_smooth_h=6.0, wind_winter=-0.3, hydro_share=0.22, hydro_season=0.7,
                      hydro_peak_doy=140.0, carbon_floor=0.3, carbon_noise=0.03, carbon_tau_h=12.0, price_k=0.7,
                      price_neg_share=0.017, price_noise=0.3, price_tau_h=72.0),
}


def _check_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InputError(
            "the index of a synthetic series must be a tz-aware DatetimeIndex",
            fix="use pd.date_range(start, periods=n, freq='h', tz='UTC')",
        )
    idx = index.tz_convert("UTC")
    if len(idx) > 1 and not (np.diff(_hours_since_epoch(idx)) == 1).all():
        raise InputError("the index of a synthetic series must be consecutive whole hours",
                         fix="use pd.date_range(start, periods=n, freq='h', tz='UTC')")
    if len(idx) and (idx[0] != idx[0].floor("h")):
        raise InputError("the index must start on a whole hour", fix="floor the start with .floor('h')")
    return idx


def _drivers(idx: pd.DatetimeIndex, p: _Profile, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Demand and net load (both as shares of mean demand) at each hour of ``idx``."""
    hours = _hours_since_epoch(idx)
    clock = idx.tz_convert(p.tz)
    clock_h = np.asarray(clock.hour, dtype=int)
    weekend = np.asarray(clock.day_of_week, dtype=int) >= 5
    doy = (hours / 24.0) % _YEAR_DAYS

    demand = np.asarray(p.demand_shape)[clock_h]
    demand = demand * (1.0 - p.weekend_drop * weekend)
    demand = demand * (1.0 + p.demand_season * np.cos(2.0 * np.pi * (doy - p.demand_peak_doy) / _YEAR_DAYS))

    # Solar: a sine over the day between sunrise and sunset in solar time; summer-winter swing; clouds.
    solar_time = (hours % 24) + p.lon_deg / 15.0
    summer = 0.5 * (1.0 - np.cos(2.0 * np.pi * (doy + 10.0) / _YEAR_DAYS))  # 0 near 21 Dec, 1 near 21 Jun
    daylen = 12.0 + p.daylen_amp_h * (2.0 * summer - 1.0)
    arg = (solar_time - (12.0 - daylen / 2.0)) % 24.0
    sun = np.where(arg < daylen, np.sin(np.pi * np.clip(arg, 0.0, None) / daylen), 0.0) ** 1.5
    clouds = np.exp(p.cloud_sigma * ar1_noise(hours, 30.0, seed, _S_CLOUD) - p.cloud_sigma**2 / 2.0)
    solar = p.solar_share * (p.solar_winter + (1.0 - p.solar_winter) * summer) * sun * np.minimum(clouds, 1.6)

    winter = np.cos(2.0 * np.pi * (doy - 15.0) / _YEAR_DAYS)
    wind = p.wind_share * np.exp(p.wind_sigma * ar1_noise(hours, p.wind_tau_h, seed, _S_WIND, p.wind_smooth_h) - p.wind_sigma**2 / 2)
    wind = wind * (1.0 + p.wind_winter * winter)
    hydro = p.hydro_share * (1.0 + p.hydro_season * np.cos(2.0 * np.pi * (doy - p.hydro_peak_doy) / _YEAR_DAYS))
    return demand, demand - solar - wind - hydro


_SOFT_FLOOR = 0.08


def _raw_carbon(idx: pd.DatetimeIndex, p: _Profile, seed: int) -> np.ndarray:
    demand, net = _drivers(idx, p, seed)
    # Fossil share of demand, smoothly floored (must-run plants keep it above 0 in surplus hours).
    fossil_share = _SOFT_FLOOR * np.logaddexp(0.0, net / demand / _SOFT_FLOOR)
    noise = np.exp(p.carbon_noise * ar1_noise(_hours_since_epoch(idx), p.carbon_tau_h, seed, _S_CARBON))
    return (p.carbon_floor + fossil_share) * noise


def _raw_price(idx: pd.DatetimeIndex, p: _Profile, seed: int, net_neg: float) -> np.ndarray:
    _, net = _drivers(idx, p, seed)
    noise = p.price_noise * ar1_noise(_hours_since_epoch(idx), p.price_tau_h, seed, _S_PRICE)
    return np.exp(p.price_k * (net - net_neg) + noise) - 1.0


#: Reference run the generators are scaled on: 8 years (2001-2008) for each of 4 fixed seeds.
_REFERENCE_START, _REFERENCE_HOURS, _REFERENCE_SEEDS = "2001-01-01", 8 * 8760, (10_000, 10_001, 10_002, 10_003)


#: :func:`reference_calibration` of each profile, stored so that no process pays ~0.6 s per profile for it;
#: ``tests/scenarios/test_synthetic.py`` recomputes them.  Update both when a profile changes.
CALIBRATION: dict[str, tuple[float, float, float]] = {
    "de": (0.6671804673877457, -0.4817442136092748, 2.5557192387433547),
    "gb": (0.6248231690037764, -1.3856502679087825, 9.529573659504178),
    "caiso": (0.8303988611203678, -0.5944580629762454, 1.3054745184854188),
}


def _calibration(profile: str) -> tuple[float, float, float]:
    return CALIBRATION[profile] if profile in CALIBRATION else reference_calibration(profile)


@cache
def reference_calibration(profile: str) -> tuple[float, float, float]:
    """``(mean raw carbon, net load at which price turns negative, mean raw price)`` on the reference run."""
    p = PROFILES[profile]
    idx = pd.date_range(_REFERENCE_START, periods=_REFERENCE_HOURS, freq="h", tz="UTC")
    hours = _hours_since_epoch(idx)
    nets, carbons = [], []
    for seed in _REFERENCE_SEEDS:
        _, net = _drivers(idx, p, seed)
        noise = p.price_noise * ar1_noise(hours, p.price_tau_h, seed, _S_PRICE)
        nets.append(net + noise / p.price_k)
        carbons.append(_raw_carbon(idx, p, seed).mean())
    # The price is negative where k (net - n0) + noise < 0: n0 is the target quantile of net + noise / k.
    net_neg = float(np.quantile(np.concatenate(nets), p.price_neg_share))
    p_mean = float(np.mean([_raw_price(idx, p, seed, net_neg).mean() for seed in _REFERENCE_SEEDS]))
    return float(np.mean(carbons)), net_neg, p_mean


def _profile(profile: str) -> _Profile | None:
    if profile == "flat":
        return None
    if profile not in PROFILES:
        raise InputError(f"unknown signal profile '{profile}'", column="profile",
                         fix=f"use one of {[*PROFILES, 'flat']}")
    return PROFILES[profile]


def carbon_series(index: pd.DatetimeIndex, profile: Profile | str, mean: float, seed: int) -> pd.Series:
    """SYNTHETIC hourly grid carbon intensity shaped like a named grid.

    Parameters
    ----------
    index
        Consecutive whole hours, tz-aware.
    profile
        ``"de"`` (wind-driven multi-day swings, midday solar dip, evening peak, winter high),
        ``"gb"`` (wind swings, little solar), ``"caiso"`` (solar duck curve: midday low, evening/night high)
        or ``"flat"`` (constant ``mean``, no noise: a control case).
    mean
        Long-run mean [gCO2e/kWh].
    seed
        Seed; the value at an hour depends only on ``(profile, mean, seed, hour)``.

    Returns
    -------
    pandas.Series
        Carbon intensity [gCO2e/kWh] (> 0) on ``index`` converted to UTC, named ``gco2_per_kwh``.
    """
    idx = _check_index(index)
    if mean <= 0:
        raise InputError(f"carbon mean must be > 0, got {mean:g}", column="carbon_mean_gco2_per_kwh")
    p = _profile(profile)
    if p is None or len(idx) == 0:
        vals = np.full(len(idx), float(mean))
    else:
        c_mean, _, _ = _calibration(str(profile))
        vals = mean * _raw_carbon(idx, p, seed) / c_mean
    return pd.Series(vals, index=idx, name="gco2_per_kwh")


def price_series(index: pd.DatetimeIndex, profile: Profile | str, mean: float, seed: int) -> pd.Series:
    """SYNTHETIC hourly day-ahead-like electricity price, correlated with :func:`carbon_series`.

    The price follows a convex merit order in net load (demand - solar - wind, the same drivers as the carbon
    series for the same ``seed``) plus AR(1) noise.  It is **negative** in the hours with the most surplus
    renewables: about 3 % of hours for ``"de"``, 1.7 % for ``"caiso"``, 1 % for ``"gb"`` (as calibrated
    against 2023 day-ahead prices), none for ``"flat"`` (constant ``mean``).

    Parameters
    ----------
    index
        Consecutive whole hours, tz-aware.
    profile
        ``"de"``, ``"gb"``, ``"caiso"`` or ``"flat"`` (see :func:`carbon_series`).
    mean
        Long-run mean [USD/MWh]; a non-positive mean shifts the shape of ``|mean|`` (or 1) down.
    seed
        Seed, shared with :func:`carbon_series` so that both signals see the same weather.

    Returns
    -------
    pandas.Series
        Price [USD/MWh] (may be negative) on ``index`` in UTC, named ``usd_per_mwh``.
    """
    idx = _check_index(index)
    p = _profile(profile)
    if p is None or len(idx) == 0:
        vals = np.full(len(idx), float(mean))
    else:
        _, net_neg, p_mean = _calibration(str(profile))
        scale = abs(mean) if mean != 0 else 1.0
        vals = mean + scale * (_raw_price(idx, p, seed, net_neg) / p_mean - 1.0)
    return pd.Series(vals, index=idx, name="usd_per_mwh")


def spot_price_series(index: pd.DatetimeIndex, level: float, volatility: float, seed: int) -> pd.Series:
    """SYNTHETIC hourly spot price: a log-normal AR(1) around ``level``.

    Parameters
    ----------
    index
        Consecutive whole hours, tz-aware.
    level
        Long-run mean price [USD/GPU-hour].
    volatility
        Relative standard deviation of the price around the level [fraction]; the noise has a 12 h
        correlation time, so hour-to-hour changes are about ``volatility * 0.4``.
    seed
        Seed; the value at an hour depends only on ``(level, volatility, seed, hour)``.

    Returns
    -------
    pandas.Series
        Spot price [USD/GPU-hour] (> 0), named ``usd_per_gpu_hour``.
    """
    idx = _check_index(index)
    if volatility == 0 or len(idx) == 0:
        return pd.Series(np.full(len(idx), float(level)), index=idx, name="usd_per_gpu_hour")
    sigma = float(np.sqrt(np.log1p(volatility**2)))  # log-sd giving relative sd = volatility
    x = ar1_noise(_hours_since_epoch(idx), 12.0, seed, _S_SPOT)
    return pd.Series(level * np.exp(sigma * x - sigma**2 / 2.0), index=idx, name="usd_per_gpu_hour")


def stable_seed(*parts: int | str) -> int:
    """A seed derived from ints and strings that is the same on every machine and Python run."""
    words = [p if isinstance(p, int) else zlib.crc32(p.encode("utf-8")) for p in parts]
    return int(np.random.SeedSequence([w % (1 << 64) for w in words]).generate_state(1, dtype=np.uint64)[0])


# ---------------------------------------------------------------------------------------------------------
# training jobs
# ---------------------------------------------------------------------------------------------------------
#: Relative arrival rate by hour of day (UTC clock of the plan): a working-day cycle, peak mid-afternoon.
ARRIVAL_DAILY_AMPLITUDE = 0.5
#: Relative arrival rate on Saturdays and Sundays.
ARRIVAL_WEEKEND_FACTOR = 0.6
#: Deadline of an inflexible job: submit + runtime x a factor drawn uniformly from this range.
INFLEXIBLE_DEADLINE_FACTOR = (1.05, 1.25)
#: Shape of the gamma distribution of a flexible job's slack (mean = ``deadline_slack_hours``).
SLACK_GAMMA_SHAPE = 2.0


def _rng(seed: SeedLike) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


@cache
def philly_runtimes_hours() -> np.ndarray:
    """The bundled Microsoft Philly job runtimes [h] (83,154 jobs, CC BY 4.0), sorted, read-only."""
    from scenarios.bundled import resolve_path

    sec = pd.read_csv(resolve_path("bundled:philly_runtimes"))["runtime"].to_numpy(dtype=float)
    out = np.sort(sec[np.isfinite(sec)]) / 3600.0
    out.setflags(write=False)
    return out


def runtime_distribution(min_hours: float, max_hours: float) -> np.ndarray:
    """Philly runtimes after the generator's filter: drop jobs shorter than ``min_hours``, cap at ``max_hours``.

    Returns
    -------
    numpy.ndarray
        Sorted runtimes [h]; :func:`generate_jobs` resamples from exactly this array.
    """
    if max_hours < min_hours:
        raise InputError(f"max_runtime_hours {max_hours:g} is below min_runtime_hours {min_hours:g}",
                         column="workload.generator.max_runtime_hours", fix="raise max_runtime_hours")
    r = philly_runtimes_hours()
    kept = r[r >= min_hours]
    if kept.size == 0:
        raise InputError(f"no Philly runtime is >= {min_hours:g} h", column="workload.generator.min_runtime_hours",
                         fix="lower min_runtime_hours")
    return np.minimum(kept, max_hours)


def _arrival_offsets(n: int, span_hours: float, start: pd.Timestamp, rng: np.random.Generator) -> np.ndarray:
    """``n`` sorted arrival times [h after start] of a Poisson process with a daily and weekly cycle.

    Given ``n`` arrivals, the times of an inhomogeneous Poisson process are i.i.d. with density proportional
    to its rate; they are drawn by inverting the rate's cumulative integral on a one-minute grid.
    """
    step = 1.0 / 60.0
    grid = np.arange(0.0, span_hours, step) + step / 2.0
    t = start + pd.to_timedelta(grid, unit="h")
    hour = np.asarray(t.hour, dtype=float) + np.asarray(t.minute, dtype=float) / 60.0
    weekend = np.asarray(t.day_of_week, dtype=int) >= 5
    rate = (1.0 + ARRIVAL_DAILY_AMPLITUDE * np.cos(2.0 * np.pi * (hour - 15.0) / 24.0)) * np.where(
        weekend, ARRIVAL_WEEKEND_FACTOR, 1.0)
    cdf = np.concatenate([[0.0], np.cumsum(rate)])
    cdf /= cdf[-1]
    edges = np.concatenate([[0.0], grid + step / 2.0])
    edges[-1] = span_hours
    u = rng.random(n)
    return np.sort(np.interp(u, cdf, edges))


def generate_jobs(gen: JobGenerator, start: pd.Timestamp, families: Sequence[str] | Mapping[str, float],
                  seed: SeedLike | None = None) -> pd.DataFrame:
    """SYNTHETIC training jobs drawn from the real Philly runtime distribution.

    * runtimes: resampled with replacement from the bundled Microsoft Philly runtimes after the filter of
      :func:`runtime_distribution` (jobs shorter than ``min_runtime_hours`` dropped, longer than
      ``max_runtime_hours`` capped);
    * GPUs per job: drawn from ``gen.gpus_per_job`` (probabilities normalised);
    * submissions: ``n_jobs`` arrivals of a Poisson process over ``span_days`` from ``start`` whose rate
      follows a daily cycle (peak 15:00 UTC, trough 03:00 at 1/3 of the peak) and is 0.6x on weekends;
    * preemptible with probability ``preemptible_share``; flexible with probability ``flexible_share``;
    * deadlines: flexible jobs get ``submit + runtime + slack``, slack ~ Gamma(shape 2, mean
      ``deadline_slack_hours``); inflexible jobs ``submit + runtime x U(1.05, 1.25)``; so every deadline is at
      least the runtime after the submission;
    * priority 1 for inflexible jobs, 0 for flexible ones; teams uniformly from ``gen.teams``;
      ``checkpoint_interval_hours`` NaN (Young/Daly).

    Parameters
    ----------
    gen
        Generator settings of the scenario (``sc.workload.generator``).
    start
        First possible submission (tz-aware).
    families
        Families jobs run on: a list (uniform) or ``{family: weight}``.
    seed
        Seed, ``SeedSequence`` or ``Generator``; default ``gen.seed``.  Same seed, same jobs.

    Returns
    -------
    pandas.DataFrame
        The ``jobs`` table (``job_id, submit_time, gpus, duration_hours, family, team, deadline,
        preemptible, checkpoint_interval_hours, priority``), sorted by submission.
    """
    start = pd.Timestamp(start)
    if start.tzinfo is None:
        raise InputError(f"job start {start} has no time zone", column="start", fix="give a UTC time")
    start = start.tz_convert("UTC")
    rng = _rng(gen.seed if seed is None else seed)
    n = int(gen.n_jobs)
    if isinstance(families, Mapping):
        fam_names = [str(f) for f in families]
        fam_w = np.asarray([float(families[f]) for f in families], dtype=float)
    else:
        fam_names = [str(f) for f in families]
        fam_w = np.ones(len(fam_names))
    if not fam_names or fam_w.sum() <= 0:
        raise InputError("no family to assign jobs to", column="workload.family", fix="name a catalog family")
    counts = np.asarray(sorted(gen.gpus_per_job), dtype=np.int64)
    probs = np.asarray([gen.gpus_per_job[int(c)] for c in counts], dtype=float)
    if probs.sum() <= 0 or (counts < 1).any():
        raise InputError("gpus_per_job needs positive GPU counts with a positive total probability",
                         column="workload.generator.gpus_per_job", fix="e.g. {1 = 0.7, 8 = 0.3}")
    if not gen.teams:
        raise InputError("no teams", column="workload.generator.teams", fix='e.g. teams = ["research"]')
    runtimes = runtime_distribution(gen.min_runtime_hours, gen.max_runtime_hours)

    offsets = _arrival_offsets(n, float(gen.span_days) * 24.0, start, rng)
    duration = runtimes[rng.integers(0, runtimes.size, n)]
    gpus = rng.choice(counts, size=n, p=probs / probs.sum())
    family = rng.choice(np.asarray(fam_names, dtype=object), size=n, p=fam_w / fam_w.sum())
    team = rng.choice(np.asarray(gen.teams, dtype=object), size=n)
    preemptible = rng.random(n) < gen.preemptible_share
    flexible = rng.random(n) < gen.flexible_share
    slack = rng.gamma(SLACK_GAMMA_SHAPE, gen.deadline_slack_hours / SLACK_GAMMA_SHAPE, n)
    factor = rng.uniform(*INFLEXIBLE_DEADLINE_FACTOR, n)
    window = np.where(flexible, duration + slack, duration * factor)

    submit = (start + pd.to_timedelta(offsets, unit="h")).round("s")
    deadline = (submit + pd.to_timedelta(window, unit="h")).ceil("s")
    # Float round-off of hours -> nanoseconds can leave deadline - submit a hair under the runtime: add 1 s.
    short = np.asarray((deadline - submit) / pd.Timedelta(hours=1), dtype=float) < duration
    deadline = deadline + pd.to_timedelta(short.astype(np.int64), unit="s")
    width = max(4, len(str(n)))
    return pd.DataFrame({
        "job_id": pd.array([f"job-{i:0{width}d}" for i in range(n)], dtype="string"),
        "submit_time": pd.DatetimeIndex(submit).as_unit("ns"),
        "gpus": gpus.astype(np.int64),
        "duration_hours": duration.astype(float),
        "family": pd.array(family.tolist(), dtype="string"),
        "team": pd.array(team.tolist(), dtype="string"),
        "deadline": pd.DatetimeIndex(deadline).as_unit("ns"),
        "preemptible": preemptible.astype(bool),
        "checkpoint_interval_hours": np.full(n, np.nan),
        "priority": np.where(flexible, 0, 1).astype(np.int64),
    })


# ---------------------------------------------------------------------------------------------------------
# FOCUS billing export
# ---------------------------------------------------------------------------------------------------------
#: Columns of the generated export: FOCUS 1.2 names, plus AWS's ``x_`` extension columns.
FOCUS_COLUMNS = [
    "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus",
    "CommitmentDiscountType", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "BilledCost", "EffectiveCost", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
    "ProviderName", "PublisherName", "InvoiceIssuerName", "RegionId", "RegionName", "AvailabilityZone",
    "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "SkuId", "SkuPriceId",
    "SubAccountId", "SubAccountName", "Tags", "x_InstanceType", "x_UsageType",
]
_ACCOUNT = "123456789012"
_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)", "eu-west-1": "Europe (Ireland)", "eu-central-1": "Europe (Frankfurt)",
    "eu-north-1": "Europe (Stockholm)", "eu-west-2": "Europe (London)",
}
_USAGE_PREFIX = {"us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2",
                 "eu-west-1": "EU", "eu-central-1": "EUC1", "eu-north-1": "EUN1", "eu-west-2": "EUW2"}
#: Sales tax added per billing period on the period's GPU usage charges [fraction] (exercises readers' skips).
FOCUS_TAX_RATE = 0.05
#: Promotional credit per billing period [USD] (a negative-cost Credit row).
FOCUS_CREDIT_USD = 500.0


def _instance_for(sc: Scenario, family: str) -> tuple[str, float, str]:
    """``(instance type, GPUs per instance, AWS region)`` used to bill ``family``."""
    from scenarios.catalog import load_catalog

    cat = load_catalog()
    gf = sc.catalog[family]
    rows = cat[cat["family"] == family]
    if gf.instance_type is not None and (cat["instance_type"] == gf.instance_type).any():
        rows = cat[cat["instance_type"] == gf.instance_type]
    elif not rows.empty:
        rows = rows[rows["gpu_count"] == rows["gpu_count"].max()]
        rows = rows[rows["instance_type"] == sorted(rows["instance_type"])[0]]
    if rows.empty:
        raise InputError(f"family '{family}' has no AWS GPU instance type in the bundled catalog",
                         column=f"catalog.{family}.instance_type",
                         fix="set instance_type to an AWS GPU instance type, e.g. p5.48xlarge")
    near = rows[rows["region"].str.startswith(gf.region + "-")]
    pool = near if not near.empty else rows
    gap = (pool["on_demand_usd_per_gpu_hour"] - gf.on_demand_usd_per_gpu_hour).abs()
    best = pool.loc[gap.sort_values(kind="stable").index[0]]
    return str(best["instance_type"]), float(best["gpu_count"]), str(best["region"])


def _hex_id(*parts: int | str, n: int = 17) -> str:
    return f"{stable_seed(*parts):016x}{stable_seed(*parts, 'b'):016x}"[:n]


def _check_usage(usage: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    need = ["timestamp", "family", "team", "gpus"]
    missing = [c for c in need if c not in usage.columns]
    if missing:
        raise InputError(f"usage frame lacks column '{missing[0]}'", column=missing[0],
                         fix="give an hourly usage frame with timestamp, family, team, gpus")
    if not isinstance(usage["timestamp"].dtype, pd.DatetimeTZDtype):
        raise InputError("usage timestamps must be tz-aware UTC", column="timestamp",
                         fix="convert with pd.to_datetime(..., utc=True)")
    unknown = sorted(set(usage["family"].astype(str)) - set(sc.catalog))
    if unknown:
        raise InputError(f"usage names family '{unknown[0]}', which is not in the scenario's catalog",
                         column="family", fix=f"use one of {sc.families}")
    g = usage["gpus"].to_numpy(dtype=float)
    if (g < 0).any() or np.isnan(g).any():
        row = int(np.flatnonzero((g < 0) | np.isnan(g))[0]) + 1
        raise InputError("gpus must be a number >= 0", row=row, column="gpus")
    u = usage.copy()
    u["timestamp"] = u["timestamp"].dt.tz_convert("UTC").dt.floor("h")
    u["project"] = u["project"].astype("string") if "project" in u.columns else "training"
    u["team"] = u["team"].astype("string").fillna("unassigned")
    u["family"] = u["family"].astype("string")
    out = u.groupby(["timestamp", "family", "team", "project"], sort=True)["gpus"].sum()
    return pd.DataFrame(out).reset_index()


def focus_export(usage: pd.DataFrame, sc: Scenario, seed: int = 0, *, spot_share: float | None = None,
                 commitments: CurrentCommitments | None = None,
                 path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """SYNTHETIC FOCUS 1.2 billing export of an hourly usage frame, as a cloud bill would show it.

    The usage of each hour and family is billed in this order:

    1. reserved instances held (``commitments.reserved``, default ``sc.current``) cover usage first:
       ``PricingCategory = Committed``, ``CommitmentDiscountStatus = Used``, at the holding's rate; the rest of
       each reservation's capacity is a ``Committed`` / ``Unused`` row (``PricingQuantity`` = unused
       instance-hours, no ``ConsumedQuantity``, ``ListCost`` 0) in every hour of the export;
    2. savings-plan style commitments (``committed_usd_per_hour``) cover what is left, family by family in
       catalog order, at ``on-demand x (1 - committed_discount[term])``, until the hour's commitment is spent;
       the unspent rest is an ``Unused`` row that names no instance type (as for a compute savings plan);
    3. a share ``spot_share`` (default ``sc.demand.preemptible_share``) of the rest, capped at the family's
       ``spot.available_gpus``, runs on spot: ``Dynamic`` at the SYNTHETIC spot price of
       :func:`spot_price_series` (seed ``stable_seed(seed, "spot", family)``, as ``load_spot(sc, ..., seed)``);
    4. everything else is on-demand: ``Standard`` at the scenario's on-demand price.

    Usage is split over teams in proportion to their GPUs in the hour.  ``ListCost`` is always consumption at
    the on-demand price.  For the readers' skip counts the export also holds, per billing period (calendar
    month): one ``Purchase`` row per commitment (its recurring fee, ``BilledCost`` only), a ``Tax`` row
    (:data:`FOCUS_TAX_RATE` of the GPU usage charges) and a ``Credit`` row (-:data:`FOCUS_CREDIT_USD`); and per
    day a non-GPU EC2 row (``m5.2xlarge``), an S3 storage row and an EBS-optimized line of a GPU instance.

    Parameters
    ----------
    usage
        Hourly usage: ``timestamp`` (tz-aware), ``family`` (catalog slug), ``team``, ``gpus`` [GPUs busy in
        the hour], optional ``project`` (default ``training``).
    sc
        The scenario: prices, spot offers, commitments held.
    seed
        Seed of the spot prices and the resource ids.
    spot_share
        Share of uncommitted usage on spot [fraction]; default ``sc.demand.preemptible_share``.
    commitments
        Commitments held; default ``sc.current``.
    path
        If given, the export is also written there with :func:`scenarios.io.write_frame` (atomic; CSV or
        ``.parquet``).

    Returns
    -------
    pandas.DataFrame
        :data:`FOCUS_COLUMNS`; ``ChargePeriodStart`` etc. tz-aware UTC; instance types from the bundled AWS
        catalog (``x_InstanceType``, ``x_UsageType`` like ``USE1-BoxUsage:p4d.24xlarge``).

    Examples
    --------
    >>> import pandas as pd
    >>> from scenarios import load_scenario
    >>> usage = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC"),
    ...                       "family": "a100", "team": "research", "gpus": [8.0, 16.0, 4.0]})
    >>> bill = focus_export(usage, load_scenario("small"))
    >>> gpu = bill["x_UsageType"].str.contains("Usage:p4d", na=False)
    >>> round(float(bill.loc[gpu, "ListCost"].sum()), 2)  # 28 GPU-hours x 2.744705 USD on-demand
    76.85
    """
    u = _check_usage(usage, sc)
    held = sc.current if commitments is None else commitments
    share = sc.demand.preemptible_share if spot_share is None else float(spot_share)
    if not 0.0 <= share <= 1.0:
        raise InputError(f"spot_share must be in [0, 1], got {share:g}", column="spot_share")
    for h in held.reserved:
        if h.family not in sc.catalog:
            raise InputError(f"reservation for unknown family '{h.family}'", column="current.reserved")
    if u.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FOCUS_COLUMNS})
    hours = pd.date_range(u["timestamp"].min(), u["timestamp"].max(), freq="h")
    n_h = len(hours)
    pos = hours.get_indexer(pd.DatetimeIndex(u["timestamp"]))
    families = [f for f in sc.families if (u["family"] == f).any() or any(h.family == f for h in held.reserved)]
    inst = {f: _instance_for(sc, f) for f in families}
    rows: list[pd.DataFrame] = []

    # per family: hourly totals and each usage row's share of its hour
    fam_rows = {f: np.flatnonzero((u["family"] == f).to_numpy(dtype=bool)) for f in families}
    # bincount of no rows returns int64 zeros: force float so a family with reservations but no usage works
    total = {f: np.bincount(pos[i], weights=u["gpus"].to_numpy(dtype=float)[i], minlength=n_h).astype(float)
             for f, i in fam_rows.items()}
    gpus = u["gpus"].to_numpy(dtype=float)
    row_share = np.zeros(len(u))
    for f, i in fam_rows.items():
        t = total[f][pos[i]]
        row_share[i] = np.divide(gpus[i], t, out=np.zeros(len(i)), where=t > 0)
    remaining = {f: total[f].copy() for f in families}

    def usage_rows(f: str, covered: np.ndarray, rate: np.ndarray | float, **fields: str) -> None:
        """Bill ``covered`` GPUs per hour of family ``f`` at ``rate`` [USD/GPU-hour], split over teams."""
        i = fam_rows[f]
        g = covered[pos[i]] * row_share[i]
        keep = g > 1e-9
        if not keep.any():
            return
        i, g = i[keep], g[keep]
        r = np.broadcast_to(np.asarray(rate, dtype=float), (n_h,))[pos[i]]
        rows.append(_focus_rows(sc, f, inst[f], u.iloc[i], g, r, seed, **fields))

    for k, h in enumerate(held.reserved):
        if h.family not in total:
            continue
        used = np.minimum(remaining[h.family], h.gpus)
        remaining[h.family] -= used
        cid = f"arn:aws:ec2:{inst[h.family][2]}:{_ACCOUNT}:reserved-instances/{_hex_id(seed, 'ri', k, n=12)}"
        ri = {"PricingCategory": "Committed", "CommitmentDiscountStatus": "Used", "CommitmentDiscountId": cid,
              "CommitmentDiscountType": "Reserved Instance", "CommitmentDiscountCategory": "Usage",
              "CommitmentDiscountName": f"{h.family} {h.term_years}y {h.payment}"}
        usage_rows(h.family, used, h.usd_per_gpu_hour, **ri)
        unused = h.gpus - used
        rows.append(_unused_rows(sc, h.family, inst[h.family], hours, unused, h.usd_per_gpu_hour, seed, ri))
        rows.append(_period_rows(hours, "Purchase", h.gpus * h.usd_per_gpu_hour, seed, ri,
                                 f"{h.family} reservation recurring fee"))
    for term, usd_per_hour in held.committed_usd_per_hour.items():
        budget = np.full(n_h, float(usd_per_hour))
        cid = f"arn:aws:savingsplans::{_ACCOUNT}:savingsplan/{_hex_id(seed, 'sp', term, n=12)}"
        sp = {"PricingCategory": "Committed", "CommitmentDiscountStatus": "Used", "CommitmentDiscountId": cid,
              "CommitmentDiscountType": "Savings Plan", "CommitmentDiscountCategory": "Spend",
              "CommitmentDiscountName": f"Compute savings plan {term}"}
        for f in families:
            disc = sc.catalog[f].committed_discount.get(term)
            if disc is None:
                continue
            rate = sc.catalog[f].on_demand_usd_per_gpu_hour * (1.0 - disc)
            cover = np.minimum(remaining[f], budget / rate)
            remaining[f] -= cover
            budget -= cover * rate
            usage_rows(f, cover, rate, **sp)
        rows.append(_unused_spend_rows(hours, budget, seed, sp))
        rows.append(_period_rows(hours, "Purchase", float(usd_per_hour), seed, sp, f"savings plan {term} fee"))
    for f in families:
        offer = sc.catalog[f].spot
        od = sc.catalog[f].on_demand_usd_per_gpu_hour
        if offer is not None and share > 0 and offer.available_gpus > 0:
            spot = np.minimum(remaining[f] * share, offer.available_gpus)
            remaining[f] -= spot
            if offer.usd_per_gpu_hour is not None:
                price = spot_price_series(hours, offer.usd_per_gpu_hour, offer.price_volatility,
                                          stable_seed(seed, "spot", f)).to_numpy()
            else:
                price = np.full(n_h, od)
            usage_rows(f, spot, price, PricingCategory="Dynamic")
        usage_rows(f, remaining[f], od, PricingCategory="Standard")
    usage_parts = [r for r in rows if not r.empty and (r["ChargeCategory"] == "Usage").all()]
    gpu_usage = (pd.concat(usage_parts, ignore_index=True) if usage_parts
                 else pd.DataFrame({"BillingPeriodStart": pd.DatetimeIndex([], tz="UTC"), "BilledCost": []}))
    rows.append(_extras(hours, gpu_usage, seed, inst))
    out = pd.concat([r for r in rows if not r.empty], ignore_index=True)
    out = out.reindex(columns=FOCUS_COLUMNS)
    out = out.sort_values(["ChargePeriodStart", "ChargeCategory", "x_InstanceType", "Tags"], kind="stable",
                          na_position="last").reset_index(drop=True)
    if path is not None:
        from scenarios.io import write_frame

        write_frame(out, path)
    return out


def _base(n: int, start: pd.DatetimeIndex | pd.Series, end: pd.DatetimeIndex | pd.Series) -> dict[str, object]:
    s = pd.DatetimeIndex(start)
    period = s.tz_convert("UTC").tz_localize(None).to_period("M")
    p_start = period.to_timestamp().tz_localize("UTC")
    p_end = (period + 1).to_timestamp().tz_localize("UTC")
    return {
        "BillingAccountId": _ACCOUNT, "BillingAccountName": "gpuplan-synthetic", "BillingCurrency": "USD",
        "BillingPeriodStart": p_start, "BillingPeriodEnd": p_end, "ChargePeriodStart": s,
        "ChargePeriodEnd": pd.DatetimeIndex(end), "ChargeClass": pd.NA, "ProviderName": "AWS",
        "PublisherName": "AWS", "InvoiceIssuerName": "AWS", "SubAccountId": _ACCOUNT,
        "SubAccountName": "ml-training",
    }


def _focus_rows(sc: Scenario, family: str, inst: tuple[str, float, str], u: pd.DataFrame, gpu_hours: np.ndarray,
                rate: np.ndarray, seed: int, **fields: str) -> pd.DataFrame:
    itype, gpi, region = inst
    od = sc.catalog[family].on_demand_usd_per_gpu_hour
    qty = gpu_hours / gpi
    eff = gpu_hours * rate
    pricing = str(fields.get("PricingCategory"))
    committed = pricing == "Committed"
    ts = pd.DatetimeIndex(u["timestamp"])
    teams = u["team"].astype(str).to_numpy()
    projects = u["project"].astype(str).to_numpy()
    prefix = _USAGE_PREFIX.get(region, region.upper())
    usage_type = f"{prefix}-{'SpotUsage' if pricing == 'Dynamic' else 'BoxUsage'}:{itype}"
    sku = _hex_id("sku", itype, region, n=16).upper()
    resource = [f"arn:aws:ec2:{region}:{_ACCOUNT}:instance/i-{_hex_id(seed, family, t, pricing)}" for t in teams]
    desc = {"Standard": "On Demand", "Dynamic": "Spot", "Committed": "Committed"}[pricing]
    frame = pd.DataFrame({
        **_base(len(u), ts, ts + pd.Timedelta(hours=1)),
        "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
        "ChargeDescription": f"{desc} Linux {itype} Instance Hour",
        "CommitmentDiscountStatus": "Used" if committed else pd.NA,
        "ConsumedQuantity": qty, "ConsumedUnit": "Hrs", "PricingQuantity": qty, "PricingUnit": "Hrs",
        "ListUnitPrice": od * gpi, "ListCost": gpu_hours * od,
        "ContractedUnitPrice": rate * gpi, "ContractedCost": eff,
        "BilledCost": 0.0 if committed else eff, "EffectiveCost": eff,
        "RegionId": region, "RegionName": _REGION_NAMES.get(region, region), "AvailabilityZone": f"{region}a",
        "ResourceId": resource, "ResourceName": pd.NA, "ResourceType": "Instance", "ServiceCategory": "Compute",
        "ServiceName": "Amazon Elastic Compute Cloud", "SkuId": sku, "SkuPriceId": f"{sku}.JRTCKXETXF",
        "Tags": [json.dumps({"team": t, "project": p}) for t, p in zip(teams, projects, strict=True)],
        "x_InstanceType": itype, "x_UsageType": usage_type,
    })
    for k, v in fields.items():
        frame[k] = v
    if not committed:
        for c in ("CommitmentDiscountId", "CommitmentDiscountType", "CommitmentDiscountCategory",
                  "CommitmentDiscountName"):
            frame[c] = pd.NA
    return frame


def _unused_rows(sc: Scenario, family: str, inst: tuple[str, float, str], hours: pd.DatetimeIndex,
                 unused_gpus: np.ndarray, rate: float, seed: int, ri: dict[str, str]) -> pd.DataFrame:
    keep = unused_gpus > 1e-9
    if not keep.any():
        return pd.DataFrame()
    itype, gpi, region = inst
    ts = hours[keep]
    g = unused_gpus[keep]
    prefix = _USAGE_PREFIX.get(region, region.upper())
    frame = pd.DataFrame({
        **_base(len(ts), ts, ts + pd.Timedelta(hours=1)),
        "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
        "ChargeDescription": f"Unused reservation Linux {itype} Instance Hour",
        "ConsumedQuantity": np.nan, "ConsumedUnit": pd.NA, "PricingQuantity": g / gpi, "PricingUnit": "Hrs",
        "ListUnitPrice": sc.catalog[family].on_demand_usd_per_gpu_hour * gpi, "ListCost": 0.0,
        "ContractedUnitPrice": rate * gpi, "ContractedCost": g * rate, "BilledCost": 0.0, "EffectiveCost": g * rate,
        "RegionId": region, "RegionName": _REGION_NAMES.get(region, region), "AvailabilityZone": pd.NA,
        "ResourceId": ri["CommitmentDiscountId"], "ResourceName": pd.NA, "ResourceType": "Reserved Instance",
        "ServiceCategory": "Compute", "ServiceName": "Amazon Elastic Compute Cloud",
        "SkuId": _hex_id("sku", itype, region, n=16).upper(), "SkuPriceId": pd.NA, "Tags": "{}",
        "x_InstanceType": itype, "x_UsageType": f"{prefix}-BoxUsage:{itype}",
    })
    for k, v in {**ri, "CommitmentDiscountStatus": "Unused"}.items():
        frame[k] = v
    return frame


def _unused_spend_rows(hours: pd.DatetimeIndex, budget: np.ndarray, seed: int, sp: dict[str, str]) -> pd.DataFrame:
    keep = budget > 1e-9
    if not keep.any():
        return pd.DataFrame()
    ts = hours[keep]
    frame = pd.DataFrame({
        **_base(len(ts), ts, ts + pd.Timedelta(hours=1)),
        "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
        "ChargeDescription": "Unused savings plan commitment", "ConsumedQuantity": np.nan, "ConsumedUnit": pd.NA,
        "PricingQuantity": budget[keep], "PricingUnit": "USD", "ListUnitPrice": np.nan, "ListCost": 0.0,
        "ContractedUnitPrice": np.nan, "ContractedCost": budget[keep], "BilledCost": 0.0,
        "EffectiveCost": budget[keep], "RegionId": pd.NA, "RegionName": pd.NA, "AvailabilityZone": pd.NA,
        "ResourceId": sp["CommitmentDiscountId"], "ResourceName": pd.NA, "ResourceType": "Savings Plan",
        "ServiceCategory": "Compute", "ServiceName": "Savings Plans for AWS Compute usage",
        "SkuId": pd.NA, "SkuPriceId": pd.NA, "Tags": "{}", "x_InstanceType": pd.NA,
        "x_UsageType": "ComputeSP:1yrNoUpfront",
    })
    for k, v in {**sp, "CommitmentDiscountStatus": "Unused"}.items():
        frame[k] = v
    return frame


def _periods(hours: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """``(first hour, end, hours)`` of each calendar month the hours touch (clipped to the hours)."""
    month = hours.tz_localize(None).to_period("M")
    out = []
    for m in month.unique():
        sel = hours[month == m]
        out.append((sel[0], sel[-1] + pd.Timedelta(hours=1), len(sel)))
    return out


def _period_rows(hours: pd.DatetimeIndex, category: str, usd_per_hour: float, seed: int,
                 commitment: dict[str, str], what: str) -> pd.DataFrame:
    parts = []
    for start, end, n in _periods(hours):
        parts.append(pd.DataFrame({
            **_base(1, pd.DatetimeIndex([start]), pd.DatetimeIndex([end])),
            "ChargeCategory": category, "ChargeFrequency": "Recurring", "ChargeDescription": what,
            "ConsumedQuantity": np.nan, "PricingQuantity": float(n), "PricingUnit": "Hrs", "ListCost": 0.0,
            "BilledCost": usd_per_hour * n, "EffectiveCost": 0.0, "ContractedCost": usd_per_hour * n,
            "ResourceId": commitment["CommitmentDiscountId"], "ServiceCategory": "Compute",
            "ServiceName": "Amazon Elastic Compute Cloud", "Tags": "{}",
            "CommitmentDiscountId": commitment["CommitmentDiscountId"],
            "CommitmentDiscountType": commitment["CommitmentDiscountType"],
            "CommitmentDiscountCategory": commitment["CommitmentDiscountCategory"],
            "CommitmentDiscountName": commitment["CommitmentDiscountName"], "PricingCategory": pd.NA,
        }))
    return pd.concat(parts, ignore_index=True)


def _extras(hours: pd.DatetimeIndex, gpu_usage: pd.DataFrame, seed: int,
            inst: Mapping[str, tuple[str, float, str]]) -> pd.DataFrame:
    """Non-GPU usage (per day), tax and credit (per billing period): rows a reader must skip and count."""
    parts = []
    days = hours.floor("D").unique()
    region = next(iter(inst.values()))[2] if inst else "us-east-1"
    prefix = _USAGE_PREFIX.get(region, region.upper())
    gpu_type = next(iter(inst.values()))[0] if inst else "p4d.24xlarge"
    for d in days:
        start = max(d, hours[0])
        end = min(d + pd.Timedelta(days=1), hours[-1] + pd.Timedelta(hours=1))
        n = (end - start) / pd.Timedelta(hours=1)
        common = {**_base(1, pd.DatetimeIndex([start]), pd.DatetimeIndex([end])), "ChargeCategory": "Usage",
                  "ChargeFrequency": "Usage-Based", "PricingCategory": "Standard", "RegionId": region,
                  "RegionName": _REGION_NAMES.get(region, region), "ServiceCategory": "Compute",
                  "Tags": json.dumps({"team": "platform", "project": "infra"})}
        parts.append(pd.DataFrame({**common, "ChargeDescription": "On Demand Linux m5.2xlarge Instance Hour",
                                   "ConsumedQuantity": 2 * n, "ConsumedUnit": "Hrs", "PricingQuantity": 2 * n,
                                   "PricingUnit": "Hrs", "ListUnitPrice": 0.384, "ListCost": 0.768 * n,
                                   "BilledCost": 0.768 * n, "EffectiveCost": 0.768 * n,
                                   "ServiceName": "Amazon Elastic Compute Cloud", "ResourceType": "Instance",
                                   "ResourceId": f"arn:aws:ec2:{region}:{_ACCOUNT}:instance/i-{_hex_id(seed, 'm5')}",
                                   "x_InstanceType": "m5.2xlarge", "x_UsageType": f"{prefix}-BoxUsage:m5.2xlarge"}))
        parts.append(pd.DataFrame({**common, "ChargeDescription": "EBS-optimized instance hour",
                                   "ConsumedQuantity": n, "ConsumedUnit": "Hrs", "PricingQuantity": n,
                                   "PricingUnit": "Hrs", "ListUnitPrice": 0.0, "ListCost": 0.0,
                                   "BilledCost": 0.0, "EffectiveCost": 0.0,
                                   "ServiceName": "Amazon Elastic Compute Cloud", "ResourceType": "Instance",
                                   "x_InstanceType": gpu_type, "x_UsageType": f"{prefix}-EBSOptimized:{gpu_type}"}))
        parts.append(pd.DataFrame({**common, "ServiceCategory": "Storage",
                                   "ChargeDescription": "USD 0.023 per GB-Mo for S3 Standard storage",
                                   "ConsumedQuantity": 2000.0 * n / 730.0, "ConsumedUnit": "GB-Mo",
                                   "PricingQuantity": 2000.0 * n / 730.0, "PricingUnit": "GB-Mo",
                                   "ListUnitPrice": 0.023, "ListCost": 0.023 * 2000.0 * n / 730.0,
                                   "BilledCost": 0.023 * 2000.0 * n / 730.0,
                                   "EffectiveCost": 0.023 * 2000.0 * n / 730.0,
                                   "ServiceName": "Amazon Simple Storage Service", "ResourceType": "Bucket",
                                   "ResourceId": "arn:aws:s3:::gpuplan-checkpoints",
                                   "x_UsageType": f"{prefix}-TimedStorage-ByteHrs"}))
    billed = gpu_usage.assign(month=pd.DatetimeIndex(gpu_usage["BillingPeriodStart"])).groupby("month")[
        "BilledCost"].sum()
    for start, end, _ in _periods(hours):
        month = start.tz_localize(None).to_period("M").to_timestamp().tz_localize("UTC")
        tax = FOCUS_TAX_RATE * float(billed.get(month, 0.0))
        base = {**_base(1, pd.DatetimeIndex([start]), pd.DatetimeIndex([end])), "ChargeFrequency": "One-Time",
                "ServiceName": "Amazon Elastic Compute Cloud", "ServiceCategory": "Compute", "Tags": "{}",
                "ListCost": 0.0}
        parts.append(pd.DataFrame({**base, "ChargeCategory": "Tax", "ChargeDescription": "Sales tax",
                                   "BilledCost": tax, "EffectiveCost": tax}))
        parts.append(pd.DataFrame({**base, "ChargeCategory": "Credit", "ChargeDescription": "Promotional credit",
                                   "BilledCost": -FOCUS_CREDIT_USD, "EffectiveCost": -FOCUS_CREDIT_USD}))
    return pd.concat(parts, ignore_index=True)
