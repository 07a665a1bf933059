"""Inference request traffic: a trace reader and a seeded generator fitted to the Azure LLM traces.

The request table has one row per request: ``timestamp`` (UTC), ``input_tokens``, ``output_tokens``,
``model``, ``team``, sorted by time.

The generator reproduces three things measured on the Azure LLM inference traces of 2023 (Patel et al.,
"Splitwise", ISCA 2024; CC BY 4.0), whose fitted figures are bundled in ``data/azure_llm_traffic.json``
(:func:`fit_traffic` re-derives them from the raw trace):

- the token lengths: inverse-CDF sampling of the empirical percentiles of prompt and output tokens
  (drawn independently: their rank correlation is 0.07 in ``conv`` and -0.02 in ``code``);
- burstiness at two time scales: the rate of each minute and of each second is the mean rate times two
  independent mean-one Gamma factors, counts per second are Poisson.  Their variances ``a`` (minute) and
  ``b`` (second) are solved from the trace's index of dispersion of counts per second ``D1`` and per minute
  ``D60`` at mean rate ``m`` per second: ``D60 - D1 = 59 m a`` and ``D1 - 1 = m (a + b (1 + a))``;
- the mean rate (overridable).

The traces cover one hour, so the daily and weekly shape are ASSUMPTIONS (``TrafficGenerator`` fields).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.inference_config import TrafficGenerator

REQUEST_COLUMNS = ["timestamp", "input_tokens", "output_tokens", "model", "team"]

#: Column names of the Azure traces, accepted as aliases.
ALIASES = {"TIMESTAMP": "timestamp", "ContextTokens": "input_tokens", "GeneratedTokens": "output_tokens"}

PERCENTILES = np.linspace(0.0, 100.0, 101)


def read_requests(path: str | Path, *, tz: str | None = None, model: str = "default") -> pd.DataFrame:
    """Read a request trace: ``timestamp, input_tokens, output_tokens[, model, team]``.

    Parameters
    ----------
    path
        CSV file (optionally gzip-compressed).
    tz
        Time zone of naive timestamps; naive timestamps without it are an error.
    model
        Model of rows that name none.

    Returns
    -------
    pandas.DataFrame
        The request table (:data:`REQUEST_COLUMNS`), sorted by time, timestamps tz-aware UTC.

    Raises
    ------
    InputError
        Missing file or column, unparsable time, naive time without ``tz``, token count that is not a
        non-negative whole number, or no rows.
    """
    file = str(path)
    if not Path(path).is_file():
        raise InputError("request trace not found", file=file, fix="check traffic.trace in the scenario")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
        raise InputError(f"cannot parse as CSV ({type(exc).__name__})", file=file, fix="give a CSV file") from None
    raw = raw.rename(columns={c: ALIASES.get(c.strip(), c.strip()) for c in raw.columns})
    for col in ("timestamp", "input_tokens", "output_tokens"):
        if col not in raw.columns:
            raise InputError(f"missing column '{col}' (found {list(raw.columns)})", file=file, column=col,
                             fix="columns are timestamp, input_tokens, output_tokens[, model, team]")
    if raw.empty:
        raise InputError("no requests in the trace", file=file, fix="give at least one row")
    times = pd.to_datetime(raw["timestamp"], errors="coerce", format="mixed")
    bad = times.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"cannot read '{raw['timestamp'].iloc[i]}' as a time", file=file, row=i + 1,
                         column="timestamp", fix="use ISO 8601, e.g. 2026-01-01T12:00:00.25Z")
    if times.dt.tz is None:
        if tz is None:
            raise InputError("timestamps carry no time zone", file=file, row=1, column="timestamp",
                             fix="add an offset to the times or set traffic.tz (e.g. 'UTC')")
        try:
            times = times.dt.tz_localize(tz)
        except Exception as exc:  # unknown zone name, DST gap
            raise InputError(f"cannot localise times to '{tz}' ({exc})", file=file, column="timestamp",
                             fix="give a valid IANA zone name") from None
    times = times.dt.tz_convert("UTC")
    out = pd.DataFrame({"timestamp": times})
    for col in ("input_tokens", "output_tokens"):
        vals = pd.to_numeric(raw[col], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(vals) & (vals >= 0) & (vals == np.round(vals))
        if not ok.all():
            i = int(np.argmin(ok))
            raise InputError(f"'{raw[col].iloc[i]}' is not a whole number of tokens >= 0", file=file, row=i + 1,
                             column=col, fix="token counts are non-negative integers")
        out[col] = vals.astype(np.int64)
    out["model"] = raw["model"].replace("", model) if "model" in raw.columns else model
    out["team"] = raw["team"] if "team" in raw.columns else ""
    out["model"] = out["model"].astype(str)
    out["team"] = out["team"].astype(str)
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def fit_traffic(path: str | Path) -> dict[str, Any]:
    """Fit the generator's figures to an Azure LLM inference trace (see the module docstring).

    Parameters
    ----------
    path
        ``AzureLLMInferenceTrace_{conv,code}.csv.gz``.

    Returns
    -------
    dict
        ``requests_per_s`` [1/s], ``dispersion_1s`` and ``dispersion_60s`` [-], ``minute_variance`` (a) and
        ``second_variance`` (b) [-], ``input_tokens_percentiles`` and ``output_tokens_percentiles`` (0..100
        by 1) [tokens], ``rank_correlation`` [-], ``requests`` [-].
    """
    req = read_requests(path, tz="UTC")   # the Azure traces carry no zone; UTC is the safe reading
    t = (req["timestamp"] - req["timestamp"].iloc[0]).dt.total_seconds().to_numpy()
    c1 = np.bincount(t.astype(np.int64))
    c60 = np.bincount((t // 60).astype(np.int64))
    m = float(c1.mean())
    d1 = float(c1.var() / c1.mean())
    d60 = float(c60.var() / c60.mean())
    a = max((d60 - d1) / (59.0 * m), 0.0)
    b = max(((d1 - 1.0) / m - a) / (1.0 + a), 0.0)
    rho = float(req["input_tokens"].corr(req["output_tokens"], method="spearman"))
    return {
        "requests": len(req),
        "requests_per_s": m,
        "dispersion_1s": d1,
        "dispersion_60s": d60,
        "minute_variance": a,
        "second_variance": b,
        "input_tokens_percentiles": np.percentile(req["input_tokens"], PERCENTILES).tolist(),
        "output_tokens_percentiles": np.percentile(req["output_tokens"], PERCENTILES).tolist(),
        "rank_correlation": rho,
    }


@cache
def bundled_traffic_fit() -> dict[str, dict[str, Any]]:
    """The bundled fits (``data/azure_llm_traffic.json``): ``{"conv": {...}, "code": {...}}``."""
    text = resources.files("scenarios").joinpath("data/azure_llm_traffic.json").read_text(encoding="utf-8")
    return dict(json.loads(text)["fits"])


def hourly_shape(start: pd.Timestamp, hours: int, gen: TrafficGenerator) -> np.ndarray:
    """Relative request rate of each hour (mean one over a whole week) [-].

    ``(1 + a cos(2 pi (h - peak) / 24))`` on weekdays, times ``weekend_factor`` on Saturday and Sunday (UTC),
    divided by its mean over the 168 hours of a week.
    """
    def raw(ts: pd.DatetimeIndex) -> np.ndarray:
        h = ts.hour.to_numpy() + 0.5
        day = 1.0 + gen.daily_amplitude * np.cos(2 * np.pi * (h - gen.peak_hour_utc) / 24.0)
        return day * np.where(ts.day_of_week.to_numpy() >= 5, gen.weekend_factor, 1.0)

    week = pd.date_range("2024-01-01", periods=168, freq="h", tz="UTC")   # a Monday
    idx = pd.date_range(start, periods=hours, freq="h")
    return raw(idx) / float(raw(week).mean())


def read_hourly_rate(path: str | Path, start: pd.Timestamp, hours: int, *, column: str = "requests_per_s",
                     unit: str = "per_s") -> np.ndarray:
    """Hourly request rate for ``hours`` hours from ``start`` [requests/s] from a CSV (``timestamp``, ``column``).

    A forecast table of ``gpuplan forecast`` works with ``column = "mean"``.  Timestamps need an offset; every
    hour of the window must be present once.

    Raises
    ------
    InputError
        Missing file or column, naive or unparsable time, negative or missing rate, hours of the window absent.
    """
    file = str(path)
    if not Path(path).is_file():
        raise InputError("rate file not found", file=file, fix="check traffic.generator.rate_file")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("timestamp", column):
        if col not in raw.columns:
            raise InputError(f"missing column '{col}' (found {list(raw.columns)})", file=file, column=col,
                             fix="columns are timestamp and the rate (traffic.generator.rate_column)")
    ts = pd.to_datetime(raw["timestamp"], errors="coerce", utc=False, format="mixed")
    bad = ts.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"cannot read '{raw['timestamp'].iloc[i]}' as a time", file=file, row=i + 1,
                         column="timestamp", fix="use ISO 8601 with an offset")
    if ts.dt.tz is None:
        raise InputError("timestamps carry no time zone", file=file, row=1, column="timestamp",
                         fix="write hours with an offset, e.g. 2026-01-01T00:00:00Z")
    vals = pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(vals) & (vals >= 0)
    if not ok.all():
        i = int(np.argmin(ok))
        raise InputError(f"'{raw[column].iloc[i]}' is not a rate >= 0", file=file, row=i + 1, column=column,
                         fix="give a non-negative number")
    series = pd.Series(vals, index=ts.dt.tz_convert("UTC").dt.floor("h").to_numpy())
    series = series.groupby(level=0).mean()
    idx = pd.date_range(pd.Timestamp(start).tz_convert("UTC"), periods=hours, freq="h")
    got = series.reindex(idx)
    if got.isna().any():
        first = idx[int(np.argmax(got.isna().to_numpy()))]
        raise InputError(f"no rate for {first:%Y-%m-%d %H:%M} UTC (the replay needs {hours} h from "
                         f"{idx[0]:%Y-%m-%d %H:%M} UTC)", file=file, column="timestamp",
                         fix="cover the replay window or change inference.replay_hours / the scenario start")
    rate = got.to_numpy(dtype=float)
    return rate / 3600.0 if unit == "per_hour" else rate


def generate_requests(start: pd.Timestamp, hours: int, gen: TrafficGenerator, *, model: str = "default",
                      fit: dict[str, Any] | None = None, hourly_rate: np.ndarray | None = None) -> pd.DataFrame:
    """Generate a request table for ``hours`` hours from ``start`` (see the module docstring).

    Parameters
    ----------
    start
        First hour (tz-aware).
    hours
        Length [h].
    gen
        Generator settings (rate, daily and weekly shape, seed).
    model
        Model name written in the ``model`` column.
    fit
        Fitted figures; default: the bundled fit of ``gen.shape_of``.
    hourly_rate
        Mean rate of each hour [requests/s]; replaces ``requests_per_s`` and the daily/weekly shape.

    Returns
    -------
    pandas.DataFrame
        The request table, sorted by time.
    """
    if start.tzinfo is None:
        raise InputError("generator start has no time zone", fix="pass a tz-aware UTC timestamp")
    fit = fit if fit is not None else bundled_traffic_fit()[gen.shape_of]
    rng = np.random.default_rng(gen.seed)
    rate = float(gen.requests_per_s if gen.requests_per_s is not None else fit["requests_per_s"])
    n_s = hours * 3600
    base = np.asarray(hourly_rate, dtype=float) if hourly_rate is not None else rate * hourly_shape(start, hours, gen)
    if len(base) != hours:
        raise InputError(f"hourly_rate has {len(base)} values for {hours} hours")
    per_s = np.repeat(base, 3600)
    a, b = float(fit["minute_variance"]), float(fit["second_variance"])
    if a > 0:
        per_s = per_s * np.repeat(rng.gamma(1.0 / a, a, size=hours * 60), 60)
    if b > 0:
        per_s = per_s * rng.gamma(1.0 / b, b, size=n_s)
    counts = rng.poisson(per_s)
    secs = np.repeat(np.arange(n_s, dtype=float), counts) + rng.random(int(counts.sum()))
    secs.sort()
    n = len(secs)
    q = PERCENTILES / 100.0
    tin = np.interp(rng.random(n), q, np.asarray(fit["input_tokens_percentiles"], dtype=float))
    tout = np.interp(rng.random(n), q, np.asarray(fit["output_tokens_percentiles"], dtype=float))
    ts = pd.Timestamp(start).tz_convert("UTC") + pd.to_timedelta(secs, unit="s")
    if gen.teams:
        names = sorted(gen.teams)
        p = np.array([gen.teams[t] for t in names], dtype=float)
        team: Any = np.asarray(names, dtype=object)[rng.choice(len(names), size=n, p=p / p.sum())]
    else:
        team = ""
    return pd.DataFrame({
        "timestamp": ts,
        "input_tokens": np.maximum(np.round(tin), 1).astype(np.int64),
        "output_tokens": np.maximum(np.round(tout), 1).astype(np.int64),
        "model": model,
        "team": team,
    })


def load_requests(path_or_none: str | None, gen: TrafficGenerator, *, start: pd.Timestamp, hours: int,
                  tz: str | None = None, model: str = "default", rate_path: str | None = None) -> pd.DataFrame:
    """Requests of one model: the trace if given (its own times), else ``hours`` generated from ``start``.

    ``rate_path`` (the resolved ``gen.rate_file``) gives the generator an hourly rate to follow.
    """
    if path_or_none is not None:
        return read_requests(path_or_none, tz=tz, model=model)
    rate = read_hourly_rate(rate_path, start, hours, column=gen.rate_column, unit=gen.rate_unit) \
        if rate_path is not None else None
    return generate_requests(start, hours, gen, model=model, hourly_rate=rate)
