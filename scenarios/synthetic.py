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
    from scenarios.schema import JobGenerator

Profile = Literal["de", "gb", "caiso", "flat"]
SeedLike = int | np.random.SeedSequence | np.random.Generator

_EPOCH = pd.Timestamp("2000-01-01", tz="UTC")
_BLOCK_HOURS = 168
_BLOCK_OFFSET = 1 << 31  # keeps block numbers of dates before the epoch non-negative for SeedSequence
_YEAR_DAYS = 365.2425

# Noise streams (the second SeedSequence word), one per independent random component.
_S_WIND, _S_CLOUD, _S_CARBON, _S_PRICE, _S_SPOT = 1, 2, 3, 4, 5


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
    # Rounding the deadline up to the second keeps deadline - submit >= duration exactly.
    deadline = (submit + pd.to_timedelta(window, unit="h")).ceil("s")
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
