"""Spend and GPU-hour anomalies: spikes and level shifts beyond what the history before each day explains.

Each series is scored hour by hour with thresholds refitted once per day on the ``lookback_days`` days before
that day only (no look-ahead; the first ``warmup_days`` days are not scored). Two tests on the hourly changes
``d_t = y_t - y_(t-1)`` (in the metric's unit):

- **spike** (a rise and a fall back, or a drop and a recovery, ``L`` hours apart): at hour ``t`` the statistic
  of a duration bucket ``[a, b]`` (default 1-2, 3-6 and 7-24 hours) is ``max_(a <= L <= b) min(d_(t-L), -d_t)``
  for a rise and the mirror image for a drop: the height that both the step in and the step out reach. The
  alert is raised at the fall, ``t``, for the hours ``t - L .. t - 1``.
- **level shift**: ``|d_t|``. A shift is one alert at the change; the next hours are compared with the new
  level (the statistics use changes only), so a team's real jump that stays is not re-alerted every day.

**Thresholds from an alarm budget, not a fixed 99 %.** With ``N`` series scored (series x metrics),
``alarms_per_week`` (default 1) is spread evenly: each test of each series gets a per-hour false-alarm
probability ``alpha = alarms_per_week / (168 x N x 2)``, and a spike test's ``alpha`` is divided over its
duration buckets (Bonferroni, so the nominal rate is an upper bound when series alarm together). Each
threshold is the ``1 - alpha`` quantile of the statistic's null distribution, estimated from the same
statistic over the history (the series' own natural spikes and jumps are the null): the empirical
distribution up to its ``1 - tail_share`` quantile ``u``, and above ``u`` an exponential tail (peaks over
threshold) with the mean excess ``beta`` of the history's values above ``u``: threshold
``u + beta ln(tail_share / alpha)``. Alerted hours stay in later fits: leaving them out removes exactly the
null's largest values, biases the tail down and feeds back (on a random walk with Laplace steps, where the
exponential tail is exact, masking raised the alert rate 15-fold; kept, the rate is within 15 % of nominal).

An alert must also be *material*: its height (or change) at least ``min_share`` of the series' median hourly
level and at least ``bill_share`` of the whole bill's median hourly total (spend or GPU-hours; both over the
fitted history; fixed amounts with ``min_usd`` / ``min_gpu_hours``), so a 2 USD wobble of a tiny team is not
paged. Alerted hours of a series less than ``merge_hours`` apart form one anomaly.

Its **size** is the sum over its hours of the change from the *reference hour*, the hour before the anomaly
(a spike's hours are those between the step in and the step out; a level shift's is its first hour): in the
metric's unit, and in USD (``size_usd``, the spend change over the same hours, for both metrics). Its
**likely driver** is the largest of four parts of that spend change, which add up to ``size_usd`` exactly:

- *volume*: ``(Q - Q_ref) x P_ref`` (more or fewer GPU-hours at the reference mean rate);
- *price*: ``sum_c Q_c (P_c - P_ref,c)`` (rates changed within a pricing category);
- *pricing category shift*: ``sum_c (Q_c - Q w_ref,c) P_ref,c`` (e.g. spot falling back to on-demand);
- *unused commitment*: ``U - U_ref`` (idle reservation or savings-plan cost).

The four parts add up to actual minus reference spend in every hour (reference shares ``w_ref`` sum to 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpuplan.monitor.series import CATEGORIES

#: Columns of the anomaly table.
ANOMALY_COLUMNS = ["level", "series", "metric", "start", "end", "hours", "direction", "peak_hour", "peak_actual",
                   "peak_expected", "peak_lo_99", "peak_hi_99", "size", "size_usd", "driver", "volume_usd",
                   "price_usd", "category_shift_usd", "unused_commitment_usd", "detail"]


@dataclass(frozen=True)
class DetectorSettings:
    """Settings of the anomaly detector (module docstring).

    Attributes
    ----------
    alarms_per_week
        Budget of false alarms per week over all series scored, which sets every threshold [1/week].
    spike_buckets
        Duration buckets of the spike test, ``(shortest, longest)`` hours between step in and step out [h].
    tail_share
        Share of the history's largest values fitted by the exponential tail [fraction].
    lookback_days, warmup_days
        History used per daily fit, and days before scoring starts [days].
    min_share, bill_share, min_usd, min_gpu_hours
        Materiality: height of the spike or shift as a share of the series' median level [fraction], as a
        share of the bill's median hourly total [fraction], or fixed in USD / GPU-hours (None: ``bill_share``).
    merge_hours
        Alerted hours closer than this are one anomaly [hours].
    """

    alarms_per_week: float = 1.0
    spike_buckets: tuple[tuple[int, int], ...] = ((1, 2), (3, 6), (7, 24))
    tail_share: float = 0.05
    lookback_days: int = 28
    warmup_days: int = 14
    min_share: float = 0.1
    bill_share: float = 0.05
    min_usd: float | None = None
    min_gpu_hours: float | None = None
    merge_hours: int = 24


def _prev_max(d: np.ndarray, shortest: int, longest: int) -> np.ndarray:
    """``m[t] = max(d[t - longest .. t - shortest])`` (-inf where no such hour)."""
    m = np.full(len(d), -np.inf)
    for lag in range(shortest, longest + 1):
        if lag < len(d):
            m[lag:] = np.maximum(m[lag:], d[:-lag])
    return m


def _spike_stat(d: np.ndarray, shortest: int, longest: int) -> tuple[np.ndarray, np.ndarray]:
    """Rise-and-fall and drop-and-recovery statistics per hour (module docstring)."""
    up = np.minimum(_prev_max(d, shortest, longest), -d)
    down = np.minimum(_prev_max(-d, shortest, longest), d)
    return up, down


def tail_threshold(x: np.ndarray, alpha: float, tail_share: float) -> float:
    """``1 - alpha`` quantile of the null sample ``x``: empirical, with an exponential tail above ``1 - tail_share``.

    Parameters
    ----------
    x
        Values of the statistic over the history (non-finite values are ignored, negatives count as 0).
    alpha
        Exceedance probability wanted [fraction].
    tail_share
        Share of the largest values whose mean excess over their lower bound ``u`` is the tail's scale.

    Returns
    -------
    float
        ``u + beta ln(tail_share / alpha)`` when ``alpha < tail_share``, else the empirical quantile.
    """
    v = np.maximum(x[np.isfinite(x)], 0.0)
    if v.size == 0:
        return 0.0
    if alpha >= tail_share:
        return float(np.quantile(v, 1.0 - alpha))
    u = float(np.quantile(v, 1.0 - tail_share))
    excess = v[v > u] - u
    beta = math.fsum(excess.tolist()) / excess.size if excess.size else 0.0
    return u + beta * math.log(tail_share / alpha)


def score_series(y: np.ndarray, settings: DetectorSettings, total: np.ndarray | None = None, *,
                 n_series: int = 1, floor: float | None = None) -> pd.DataFrame:
    """Hourly thresholds and alerts of one series, refitted per day without look-ahead (module docstring).

    Parameters
    ----------
    y
        Hourly values (days are counted from the first hour).
    settings
        Detector settings.
    total
        The whole bill's hourly total of the same metric (default ``y``), for the materiality floor.
    n_series
        Number of series the alarm budget is spread over.
    floor
        Fixed smallest material height [the metric's unit]; None: ``bill_share`` x the bill's median.

    Returns
    -------
    pandas.DataFrame
        Per hour: ``actual``; ``expected`` (the hour before), ``lo`` and ``hi`` (``expected`` -/+ the level
        shift threshold); ``spike_threshold`` (of the alert's duration bucket, else the shortest bucket's);
        ``median_level`` and ``bill_median``; ``alert`` (``spike`` / ``shift`` / empty), ``alert_start``
        (first hour of the alerted anomaly, -1 when none) and ``direction`` (+1 / -1 / 0). Every value at hour
        ``t`` depends on ``y`` up to ``t`` only; unscored hours have NaN thresholds.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    tot = y if total is None else np.asarray(total, dtype=float)
    d = np.zeros(n)
    d[1:] = np.diff(y)
    buckets = settings.spike_buckets
    alpha = settings.alarms_per_week / (168.0 * max(n_series, 1) * 2.0)
    stats = [_spike_stat(d, a, b) for a, b in buckets]
    expected = np.full(n, np.nan)
    expected[1:] = y[:-1]
    shift_thr = np.full(n, np.nan)
    spike_thr = np.full(n, np.nan)
    med = np.full(n, np.nan)
    bill_med = np.full(n, np.nan)
    alert = np.full(n, "", dtype=object)
    start = np.full(n, -1, dtype=int)
    direction = np.zeros(n, dtype=int)
    both = [np.maximum(up, down) for up, down in stats]
    z_thr = np.full((len(buckets), n), np.nan)
    need = np.full(n, np.nan)
    for t0 in range(settings.warmup_days * 24, n, 24):
        h0 = max(1, t0 - settings.lookback_days * 24)
        t1 = min(n, t0 + 24)
        # The statistics at hours before t0 use changes before t0 only: the null of day t0 is their history.
        for k, z in enumerate(both):
            z_thr[k, t0:t1] = tail_threshold(z[h0:t0], alpha / len(buckets), settings.tail_share)
        shift_thr[t0:t1] = tail_threshold(np.abs(d[h0:t0]), alpha, settings.tail_share)
        med[t0:t1] = float(np.median(y[h0 - 1:t0]))
        bill_med[t0:t1] = float(np.median(tot[h0 - 1:t0]))
        need[t0:t1] = max(settings.min_share * med[t0],
                          settings.bill_share * bill_med[t0] if floor is None else float(floor))
    spike_thr[:] = z_thr[0]
    with np.errstate(invalid="ignore"):
        hit = [z > np.maximum(z_thr[k], need) for k, z in enumerate(both)]
        shift = np.abs(d) > np.maximum(shift_thr, need)
    done = np.zeros(n, dtype=bool)
    for (a, b), (up, down), h, k in zip(buckets, stats, hit, range(len(buckets)), strict=True):
        for t in np.flatnonzero(h & ~done).tolist():
            sign = 1 if up[t] >= down[t] else -1
            window = sign * d[t - b:t - a + 1]            # steps in at lags b .. a
            lag = b - int(np.argmax(window))             # largest step in; ties: longest lag
            start[t], alert[t], direction[t] = t - lag, "spike", sign
            spike_thr[t] = z_thr[k, t]
        done |= h
    for t in np.flatnonzero(shift & ~done).tolist():
        start[t], alert[t], direction[t] = t, "shift", 1 if d[t] > 0 else -1
    return pd.DataFrame({"actual": y, "expected": expected, "lo": expected - shift_thr, "hi": expected + shift_thr,
                         "spike_threshold": spike_thr, "median_level": med, "bill_median": bill_med,
                         "alert": alert, "alert_start": start, "direction": direction})


def alerts(scored: pd.DataFrame) -> list[tuple[int, int, int]]:
    """``[(first, last, direction)]`` hour positions of each alert of :func:`score_series`.

    A spike alerted at its fall ``t`` spans its hours ``alert_start .. t - 1``; a level shift its own hour.
    """
    out = []
    for t in np.flatnonzero(scored["alert"].to_numpy(dtype=object) != "").tolist():
        first = int(scored["alert_start"].iloc[t])
        last = t - 1 if scored["alert"].iloc[t] == "spike" else t
        out.append((first, max(first, last), int(scored["direction"].iloc[t])))
    return out


def _merge(spans: list[tuple[int, int, int]], merge_hours: int) -> list[tuple[int, int, set[int]]]:
    """Alert spans of one series grouped when less than ``merge_hours`` apart: ``[(first, last, directions)]``."""
    out: list[tuple[int, int, set[int]]] = []
    for first, last, sign in sorted(spans):
        if out and first - out[-1][1] < merge_hours:
            f, la, dirs = out[-1]
            out[-1] = (f, max(la, last), dirs | {sign})
        else:
            out.append((first, last, {sign}))
    return out


def drivers(frame: pd.DataFrame, hours: np.ndarray, ref: np.ndarray,
            history: np.ndarray | None = None) -> dict[str, float]:
    """Volume, price, category-shift and unused-commitment parts [USD] of ``hours`` against ``ref`` hours.

    ``frame`` is a series frame of :func:`gpuplan.monitor.series.series_frames`. The reference rate of a
    category the ``ref`` hours did not use is its rate over the ``history`` hours (e.g. the week before), or,
    for a category never used before, its own rate in ``hours``: so spot falling back to on-demand is a
    category shift priced at the on-demand rate, not a price change. The parts are summed over ``hours`` and add up to their spend minus
    ``len(hours)`` x the mean spend of the ``ref`` hours.
    """
    q = np.stack([frame[f"gpu_hours_{k.lower()}"].to_numpy(dtype=float) for k in CATEGORIES], axis=1)
    u = np.stack([frame[f"usd_{k.lower()}"].to_numpy(dtype=float) for k in CATEGORIES], axis=1)
    unused = frame["unused_usd"].to_numpy(dtype=float)
    q_ref = q[ref].mean(axis=0)
    u_ref = u[ref].mean(axis=0)
    Q_ref = float(q_ref.sum())
    P_ref = float(u_ref.sum()) / Q_ref if Q_ref > 0 else 0.0
    p_ref = np.divide(u_ref, q_ref, out=np.full(len(CATEGORIES), P_ref), where=q_ref > 0)
    missing = q_ref <= 0
    if history is not None and len(history):
        q_hist, u_hist = q[history].sum(axis=0), u[history].sum(axis=0)
        seen = missing & (q_hist > 0)
        p_ref[seen] = u_hist[seen] / q_hist[seen]
        missing &= ~seen
    q_new, u_new = q[hours].sum(axis=0), u[hours].sum(axis=0)
    new = missing & (q_new > 0)
    p_ref[new] = u_new[new] / q_new[new]
    w_ref = q_ref / Q_ref if Q_ref > 0 else np.zeros(len(CATEGORIES))
    qh, uh = q[hours], u[hours]
    Q = qh.sum(axis=1)
    idle = unused[hours] - float(unused[ref].mean())
    if Q_ref <= 0:      # nothing used in the reference: the whole change in used spend is volume
        vol = uh.sum(axis=1) - float(u_ref.sum())
        shift = np.zeros(len(hours))
        price = np.zeros(len(hours))
    else:
        vol = (Q - Q_ref) * P_ref
        shift = ((qh - np.outer(Q, w_ref)) * p_ref).sum(axis=1)
        price = (uh - qh * p_ref).sum(axis=1)
    return {"volume_usd": math.fsum(vol), "price_usd": math.fsum(price), "category_shift_usd": math.fsum(shift),
            "unused_commitment_usd": math.fsum(idle)}


def _driver_label(parts: Mapping[str, float], frame: pd.DataFrame, hours: np.ndarray, ref: np.ndarray) -> tuple[str,
                                                                                                              str]:
    name = max(parts, key=lambda k: abs(parts[k]))
    label = {"volume_usd": "volume", "price_usd": "price", "category_shift_usd": "pricing category shift",
             "unused_commitment_usd": "unused commitment"}[name]
    detail = ""
    if name == "category_shift_usd":
        share = {}
        for k in CATEGORIES:
            col = f"gpu_hours_{k.lower()}"
            tot_h = frame["gpu_hours"].to_numpy(dtype=float)
            a = frame[col].to_numpy(dtype=float)
            now = a[hours].sum() / max(tot_h[hours].sum(), 1e-12)
            before = a[ref].sum() / max(tot_h[ref].sum(), 1e-12)
            share[k] = (before, now)
        if share["Dynamic"][1] < share["Dynamic"][0] and share["Standard"][1] > share["Standard"][0]:
            label = "pricing category shift: spot falling back to on-demand"
        detail = "; ".join(f"{k} share {b:.0%} -> {n:.0%}" for k, (b, n) in share.items())
    return label, detail


def detect_anomalies(frames: Mapping[tuple[str, str], pd.DataFrame],
                     settings: DetectorSettings | None = None) -> pd.DataFrame:
    """Anomalies of every series and metric (``spend_usd``, ``gpu_hours``), one row each.

    Parameters
    ----------
    frames
        From :func:`gpuplan.monitor.series.series_frames`.
    settings
        Detector settings (default :class:`DetectorSettings`).

    Returns
    -------
    pandas.DataFrame
        :data:`ANOMALY_COLUMNS`, sorted by start, level and series; ``size`` in the metric's unit,
        ``size_usd`` [USD], ``direction`` ``up`` / ``down`` / ``both``.
    """
    s = settings or DetectorSettings()
    fam = [f for (level, _), f in frames.items() if level == "family"]
    fixed = {"spend_usd": s.min_usd, "gpu_hours": s.min_gpu_hours}
    n_series = 2 * len(frames)
    rows = []
    for (level, key), frame in frames.items():
        idx = pd.DatetimeIndex(frame.index)
        for metric in ("spend_usd", "gpu_hours"):
            total = np.sum([f[metric].to_numpy(dtype=float) for f in fam], axis=0) if fam else None
            sc = score_series(frame[metric].to_numpy(dtype=float), s, total, n_series=n_series,
                              floor=fixed[metric])
            values = sc["actual"].to_numpy()
            for first, last, dirs in _merge(alerts(sc), s.merge_hours):
                hours = np.arange(first, last + 1)
                ref = np.array([first - 1])
                size = math.fsum(values[hours] - values[first - 1])
                parts = drivers(frame, hours, ref, np.arange(max(0, first - 168), first))
                size_usd = math.fsum(parts.values())
                diff = values[hours] - values[first - 1]
                label, detail = _driver_label(parts, frame, hours, np.arange(max(0, first - 24), first))
                peak = int(hours[np.argmax(np.abs(diff))])
                base = float(values[first - 1])
                rows.append({
                    "level": level, "series": key, "metric": metric, "start": idx[first],
                    "end": idx[last] + pd.Timedelta(hours=1), "hours": len(hours),
                    "direction": "both" if len(dirs) > 1 else ("up" if 1 in dirs else "down"),
                    "peak_hour": idx[peak], "peak_actual": float(values[peak]), "peak_expected": base,
                    "peak_lo_99": base - float(sc["spike_threshold"].iloc[peak]),
                    "peak_hi_99": base + float(sc["spike_threshold"].iloc[peak]), "size": size,
                    "size_usd": size_usd, "driver": label, **parts, "detail": detail,
                })
    out = pd.DataFrame(rows, columns=ANOMALY_COLUMNS)
    if not out.empty:
        out = out.sort_values(["start", "level", "series", "metric"], kind="stable").reset_index(drop=True)
    return out


def incidents(anomalies: pd.DataFrame) -> pd.DataFrame:
    """Anomalies of any series whose time spans overlap, grouped into one incident each.

    Returns
    -------
    pandas.DataFrame
        ``incident`` (number), ``start``, ``end``, ``n_anomalies``, ``series`` (``level:key`` list).
    """
    if anomalies.empty:
        return pd.DataFrame({"incident": [], "start": [], "end": [], "n_anomalies": [], "series": []})
    a = anomalies.sort_values("start", kind="stable")
    groups: list[list[int]] = []
    end = None
    for i, (s, e) in enumerate(zip(a["start"], a["end"], strict=True)):
        if end is None or s > end:
            groups.append([i])
            end = e
        else:
            groups[-1].append(i)
            end = max(end, e)
    rows = []
    for n, g in enumerate(groups, start=1):
        sub = a.iloc[g]
        rows.append({"incident": n, "start": sub["start"].min(), "end": sub["end"].max(), "n_anomalies": len(g),
                     "series": ", ".join(sorted(set(sub["level"] + ":" + sub["series"])))})
    return pd.DataFrame(rows)
