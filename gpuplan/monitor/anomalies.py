"""Spend and GPU-hour anomalies: hours outside the forecast's 99 % interval given what was known.

The forecaster is cheap and robust, refitted once per day on the history before that day only (no
look-ahead): each hour's forecast is the hour before (a random walk in ``log(y + c)``), and the 99 %
interval is the 0.5 % and 99.5 % empirical quantiles of the one-hour changes in the last
``lookback_days`` days. ``c`` (a level below which relative changes are not meaningful) is
``offset_share`` x the median of that history. The first ``warmup_days`` days (default 14) are not scored:
with one week of history a 99 % quantile of hourly changes rests on one or two values and is too narrow (on
the Helios bill, 9 of the 11 false alarms of a 7-day warm-up fell in the second week).

A flagged hour is *material* when its distance beyond the interval bound is at least ``min_share`` of the
series' median hourly level and at least ``bill_share`` of the whole bill's median hourly total (spend or
GPU-hours; both medians over the same history the day's fit uses; fixed amounts with ``min_usd`` /
``min_gpu_hours``), so a 2 USD wobble of a tiny team is not paged. Material flagged hours of a series less
than ``merge_hours`` apart form one anomaly (a spike's rise and fall are one event).

Its **size** is the sum over its hours (first to last flagged) of the change from the *reference hour*, the
hour before the anomaly, which is also the forecast of its first hour: in the metric's unit, and in USD
(``size_usd``, the spend change over the same hours, for both metrics). Its **likely driver** is the
largest of four parts of that spend change, which add up to ``size_usd`` exactly:

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
    level
        Central coverage of the interval [%].
    lookback_days, warmup_days
        History used per daily fit, and days before scoring starts [days].
    offset_share
        ``c`` as a share of the history's median level [fraction].
    min_share, bill_share, min_usd, min_gpu_hours
        Materiality: distance beyond the bound as a share of the series' median level [fraction], as a share
        of the bill's median hourly total [fraction], or fixed in USD / GPU-hours (None: use ``bill_share``).
    merge_hours
        Flagged hours closer than this are one anomaly [hours].
    """

    level: float = 99.0
    lookback_days: int = 28
    warmup_days: int = 14
    offset_share: float = 0.05
    min_share: float = 0.1
    bill_share: float = 0.05
    min_usd: float | None = None
    min_gpu_hours: float | None = None
    merge_hours: int = 24


def score_series(y: np.ndarray, settings: DetectorSettings, total: np.ndarray | None = None) -> pd.DataFrame:
    """Hourly one-step forecasts, 99 % bounds and flags of one series, refitted per day without look-ahead.

    Parameters
    ----------
    y
        Hourly values (first hour at 00:00 UTC of a day or not: days are counted from the first hour).
    settings
        Detector settings.
    total
        The whole bill's hourly total of the same metric (default ``y``), for the materiality floor.

    Returns
    -------
    pandas.DataFrame
        Per hour: ``actual``, ``expected``, ``lo``, ``hi``, and ``median_level`` and ``bill_median`` (medians
        of the series and of the bill's total over the history fitted on); unscored hours have NaN.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    exp = np.full(n, np.nan)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    med = np.full(n, np.nan)
    bill_med = np.full(n, np.nan)
    tot = y if total is None else np.asarray(total, dtype=float)
    tail = (1.0 - settings.level / 100.0) / 2.0
    for t0 in range(settings.warmup_days * 24, n, 24):
        hist = y[max(0, t0 - settings.lookback_days * 24):t0]
        m = float(np.median(hist))
        c = max(settings.offset_share * m, 1e-9) if m > 0 else max(float(hist.mean()), 1e-9)
        e = np.diff(np.log(hist + c))
        q_lo, q_hi = np.quantile(e, [tail, 1.0 - tail])
        t1 = min(n, t0 + 24)
        prev = y[t0 - 1:t1 - 1] + c
        exp[t0:t1] = y[t0 - 1:t1 - 1]
        lo[t0:t1] = prev * math.exp(q_lo) - c
        hi[t0:t1] = prev * math.exp(q_hi) - c
        med[t0:t1] = m
        bill_med[t0:t1] = float(np.median(tot[max(0, t0 - settings.lookback_days * 24):t0]))
    return pd.DataFrame({"actual": y, "expected": exp, "lo": lo, "hi": hi, "median_level": med,
                         "bill_median": bill_med})


def flag(scored: pd.DataFrame, settings: DetectorSettings, *, floor: float | None = None) -> np.ndarray:
    """+1 / -1 / 0 per hour: above / below the interval by a material amount (module docstring).

    ``floor`` is a fixed smallest material distance beyond the bound [USD or GPU-hours]; None: ``bill_share``
    x the bill's median over the fitted history.
    """
    a = scored["actual"].to_numpy(dtype=float)
    over = a - scored["hi"].to_numpy(dtype=float)
    under = scored["lo"].to_numpy(dtype=float) - a
    least = (settings.bill_share * scored["bill_median"].to_numpy(dtype=float) if floor is None
             else np.full(len(a), float(floor)))
    need = np.maximum(settings.min_share * scored["median_level"].to_numpy(dtype=float), least)
    with np.errstate(invalid="ignore"):
        up = over > need
        down = under > need
    return np.where(up, 1, np.where(down, -1, 0))


def _events(flags: np.ndarray, merge_hours: int) -> list[tuple[int, int]]:
    """``[(first, last)]`` hour positions of flagged hours grouped when less than ``merge_hours`` apart."""
    pos = np.flatnonzero(flags != 0)
    if pos.size == 0:
        return []
    out = []
    start = prev = int(pos[0])
    for p in pos[1:].tolist():
        if p - prev >= merge_hours:
            out.append((start, prev))
            start = p
        prev = p
    out.append((start, prev))
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
    rows = []
    for (level, key), frame in frames.items():
        idx = pd.DatetimeIndex(frame.index)
        for metric in ("spend_usd", "gpu_hours"):
            total = np.sum([f[metric].to_numpy(dtype=float) for f in fam], axis=0) if fam else None
            sc = score_series(frame[metric].to_numpy(dtype=float), s, total)
            fl = flag(sc, s, floor=fixed[metric])
            for first, last in _events(fl, s.merge_hours):
                hours = np.arange(first, last + 1)
                ref = np.array([first - 1])
                values = sc["actual"].to_numpy()
                size = math.fsum(values[hours] - values[first - 1])
                parts = drivers(frame, hours, ref, np.arange(max(0, first - 168), first))
                size_usd = math.fsum(parts.values())
                diff = values[hours] - sc["expected"].to_numpy()[hours]
                label, detail = _driver_label(parts, frame, hours, np.arange(max(0, first - 24), first))
                dirs = set(fl[hours][fl[hours] != 0].tolist())
                peak = int(hours[np.argmax(np.abs(diff))])
                rows.append({
                    "level": level, "series": key, "metric": metric, "start": idx[first],
                    "end": idx[last] + pd.Timedelta(hours=1), "hours": len(hours),
                    "direction": "both" if len(dirs) > 1 else ("up" if 1 in dirs else "down"),
                    "peak_hour": idx[peak], "peak_actual": float(sc["actual"].iloc[peak]),
                    "peak_expected": float(sc["expected"].iloc[peak]), "peak_lo_99": float(sc["lo"].iloc[peak]),
                    "peak_hi_99": float(sc["hi"].iloc[peak]), "size": size, "size_usd": size_usd,
                    "driver": label, **parts, "detail": detail,
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
