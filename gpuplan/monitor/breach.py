"""Probability of breaching a monthly budget by month end, from sample paths of daily spend.

Forecast: a bootstrap random walk of daily spend, refitted at each as-of day on the complete days before it
only. A path starts at the last complete day's spend and adds daily changes drawn with replacement from the
changes of the last ``lookback_days`` days, floored at 0. It is cheap, makes no distributional assumption,
and keeps the step-like behaviour of GPU fleets (most days unchanged, a few jumps), which a Gaussian random
walk turns into symmetric noise. With fewer than ``min_days`` complete days there are no changes to draw
from and the paths stay flat (the probability is then 0 or 1: say so when reading it).

P(breach) = share of paths with spent-to-date + the rest of the month's path > budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def daily_spend(billing: pd.DataFrame) -> pd.DataFrame:
    """Spend per UTC day with the hours it covers: ``day`` (tz-aware midnight), ``spend_usd``, ``hours``.

    Every day from the bill's first to its last is present; ``hours`` counts the bill's hours in the day
    (a bill that starts or ends mid-day has partial first or last days).
    """
    ts = pd.DatetimeIndex(billing["timestamp"])
    hourly = billing.groupby(ts)["effective_cost_usd"].sum()
    idx = pd.date_range(ts.min(), ts.max(), freq="h")
    hourly = hourly.reindex(idx, fill_value=0.0)
    day = pd.DatetimeIndex(hourly.index).floor("D")
    g = hourly.groupby(day)
    out = pd.DataFrame({"spend_usd": g.agg(lambda s: math.fsum(s)), "hours": g.size()})
    out.index.name = "day"
    return out.reset_index()


def spend_paths(history: np.ndarray, h: int, n_paths: int, rng: np.random.Generator, *, lookback_days: int = 28,
                min_days: int = 3) -> np.ndarray:
    """Sample paths of the next ``h`` days' spend, shape ``(n_paths, h)`` [USD/day] (module docstring)."""
    y = np.asarray(history, dtype=float)
    if h <= 0:
        return np.zeros((n_paths, 0))
    last = float(y[-1]) if y.size else 0.0
    if y.size < min_days:
        return np.full((n_paths, h), last)
    steps = np.diff(y[-(lookback_days + 1):])
    draws = steps[rng.integers(0, steps.size, size=(n_paths, h))]
    return np.maximum(last + np.cumsum(draws, axis=1), 0.0)


def breach_probability(daily: pd.DataFrame, budgets: Mapping[str, float], *, n_paths: int = 2000, seed: int = 0,
                       lookback_days: int = 28) -> pd.DataFrame:
    """P(month-end spend > budget) at the end of every complete day of each budgeted month in the bill.

    Parameters
    ----------
    daily
        From :func:`daily_spend`.
    budgets
        ``{"YYYY-MM": budget_usd}``.
    n_paths, seed
        Sample paths per as-of day and the seed (as-of day ``k`` uses ``SeedSequence([seed, k])``).
    lookback_days
        Days of changes the paths are drawn from.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``as_of`` (end of that UTC day), ``budget_usd``, ``spent_to_date_usd``, ``days_left``,
        ``expected_month_end_usd``, ``p10_month_end_usd``, ``p90_month_end_usd``, ``p_breach`` [fraction].
    """
    d = daily.sort_values("day").reset_index(drop=True)
    days = pd.DatetimeIndex(d["day"])
    months = days.tz_convert("UTC").strftime("%Y-%m")
    spend = d["spend_usd"].to_numpy(dtype=float)
    full = (d["hours"] == 24).to_numpy(dtype=bool)
    rows = []
    for k in range(len(d)):
        m = months[k]
        if m not in budgets or not full[k]:
            continue
        month_end = (days[k].tz_convert("UTC").tz_localize(None).to_period("M") + 1).to_timestamp().tz_localize("UTC")
        left = int((month_end - days[k]) / pd.Timedelta(days=1)) - 1
        to_date = math.fsum(spend[(months == m) & (np.arange(len(d)) <= k)])
        hist = spend[: k + 1][full[: k + 1]]
        paths = spend_paths(hist, left, n_paths, np.random.default_rng(np.random.SeedSequence([seed, k])),
                            lookback_days=lookback_days)
        total = to_date + paths.sum(axis=1)
        rows.append({"month": m, "as_of": days[k] + pd.Timedelta(days=1), "budget_usd": float(budgets[m]),
                     "spent_to_date_usd": to_date, "days_left": left, "expected_month_end_usd": float(total.mean()),
                     "p10_month_end_usd": float(np.quantile(total, 0.1)),
                     "p90_month_end_usd": float(np.quantile(total, 0.9)),
                     "p_breach": float(np.mean(total > budgets[m] * (1 + 1e-12)))})
    return pd.DataFrame(rows, columns=["month", "as_of", "budget_usd", "spent_to_date_usd", "days_left",
                                       "expected_month_end_usd", "p10_month_end_usd", "p90_month_end_usd",
                                       "p_breach"])


def breach_calibration(series: Mapping[str, pd.Series], *, as_of_days: Sequence[int] = (0, 7, 14, 21),
                       budget_factors: Sequence[float] = (1.0,), n_paths: int = 1000, seed: int = 0,
                       lookback_days: int = 28) -> tuple[pd.DataFrame, dict[str, float]]:
    """Calibration of the breach probability on rolling past months of daily spend series.

    For every series, every complete month after the first and every as-of day ``a`` (``a`` complete days
    of the month known; 0 = at the end of the month before), the budget is the previous month's mean daily
    spend x the month's days x a factor, the probability is computed from history up to the as-of day only,
    and the outcome is whether the month's actual spend exceeded the budget.

    Parameters
    ----------
    series
        ``{name: daily spend}`` indexed by consecutive days [USD/day or any unit of spend].
    as_of_days, budget_factors
        As-of days within the month, and budgets as multiples of the flat previous-month budget.
    n_paths, seed, lookback_days
        As for :func:`breach_probability`.

    Returns
    -------
    (cases, summary)
        ``cases``: one row per (series, month, factor, as-of day) with ``p_breach`` and ``breached``;
        ``summary``: ``n``, ``base_rate``, ``mean_p``, ``brier``, ``brier_climatology`` (always forecasting the
        base rate), ``brier_skill``, and ``n_uncertain`` / ``brier_uncertain`` over the cases with
        0 < p < 1.
    """
    rows: list[dict[str, object]] = []
    for name in sorted(series):
        s = series[name].sort_index().astype(float)
        idx = pd.DatetimeIndex(s.index)
        per = idx.to_period("M")
        months = sorted(set(per))
        y = s.to_numpy()
        for j, m in enumerate(months[1:], start=1):
            prev = y[per == months[j - 1]]
            cur_pos = np.flatnonzero(per == m)
            if cur_pos.size != m.days_in_month or prev.size != months[j - 1].days_in_month:
                continue    # calendar months only, complete
            actual = math.fsum(y[cur_pos])
            for f in budget_factors:
                budget = float(prev.mean()) * m.days_in_month * f
                for a in as_of_days:
                    known_end = int(cur_pos[0]) + a
                    hist = y[:known_end]
                    to_date = math.fsum(y[cur_pos[0]:known_end])
                    left = m.days_in_month - a
                    rng = np.random.default_rng(np.random.SeedSequence([seed, j, a, len(rows)]))
                    paths = spend_paths(hist, left, n_paths, rng, lookback_days=lookback_days)
                    p = float(np.mean(to_date + paths.sum(axis=1) > budget * (1 + 1e-12)))
                    rows.append({"series": name, "month": str(m), "budget_factor": f, "as_of_day": a,
                                 "budget": budget, "actual": actual, "p_breach": p,
                                 "breached": bool(actual > budget * (1 + 1e-12))})
    cases = pd.DataFrame(rows)
    if cases.empty:
        return cases, {"n": 0.0}
    pr = cases["p_breach"].to_numpy(dtype=float)
    o = cases["breached"].to_numpy(dtype=float)
    base = float(o.mean())
    brier = float(np.mean((pr - o) ** 2))
    clim = float(np.mean((base - o) ** 2))
    unc = (pr > 0) & (pr < 1)
    summary = {"n": float(len(cases)), "base_rate": base, "mean_p": float(pr.mean()), "brier": brier,
               "brier_climatology": clim, "brier_skill": 1.0 - brier / clim if clim > 0 else float("nan"),
               "n_uncertain": float(unc.sum()),
               "brier_uncertain": float(np.mean((pr[unc] - o[unc]) ** 2)) if unc.any() else float("nan")}
    return cases, summary


def reliability(cases: pd.DataFrame, bins: Sequence[float] = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)) -> pd.DataFrame:
    """Observed breach frequency per bin of predicted probability: ``bin``, ``n``, ``mean_p``, ``observed``."""
    edges = np.asarray(bins, dtype=float)
    p = cases["p_breach"].to_numpy(dtype=float)
    o = cases["breached"].to_numpy(dtype=float)
    k = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for i in range(len(edges) - 1):
        sel = k == i
        rows.append({"bin": f"[{edges[i]:.1f}, {edges[i + 1]:.1f}{']' if i == len(edges) - 2 else ')'}",
                     "n": int(sel.sum()), "mean_p": float(p[sel].mean()) if sel.any() else float("nan"),
                     "observed": float(o[sel].mean()) if sel.any() else float("nan")})
    return pd.DataFrame(rows)
