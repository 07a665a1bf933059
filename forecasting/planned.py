"""Planned changes applied on top of a statistical forecast: a growth rate and step launches.

History cannot know that a team will double next spring.  Planners state it:

- ``growth_rate_per_year`` r: every forecast quantity (mean, bounds, paths) is multiplied by
  ``(1 + r) ** (hours since the end of history / 8760)``.  A multiplicative change keeps hierarchies
  coherent and scales the uncertainty with the level.
- ``steps`` (:class:`scenarios.schema.Step`): ``+gpus`` from ``start`` on, added after growth (a launch
  is a planned absolute amount).  A step on a series also applies to its ancestors (``a100/team`` ->
  ``a100``); a step on a series with children is split among the children in proportion to their mean
  forecast; a step without a series applies to every top-level series.  So family and team forecasts
  still add up.  Values are clipped at 0 after a negative step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.hierarchy import build_hierarchy, parent_of
from scenarios.schema import Step

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class PlannedChanges:
    """Growth and step changes the forecast must include.

    Parameters
    ----------
    growth_rate_per_year
        Planned growth [fraction per year], e.g. 0.15.
    steps
        Planned step changes (launches, wind-downs).
    """

    growth_rate_per_year: float = 0.0
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        """True when nothing is planned."""
        return self.growth_rate_per_year == 0.0 and not self.steps

    @classmethod
    def from_settings(cls, settings: object) -> PlannedChanges:
        """From a :class:`scenarios.schema.ForecastSettings` (``growth_rate_per_year``, ``steps``)."""
        return cls(float(getattr(settings, "growth_rate_per_year", 0.0)),
                   tuple(getattr(settings, "steps", ()) or ()))


def _step_amounts(series: Sequence[str], forecast: pd.DataFrame, step: Step) -> dict[str, float]:
    """GPUs the step adds to each series (bottom split by mean forecast, ancestors summed)."""
    h = build_hierarchy(series)
    known = set(h.nodes)
    if step.series is not None and step.series not in known:
        raise ValueError(f"planned step names series '{step.series}', which is not in the history "
                         f"(series: {', '.join(sorted(known))})")
    targets = [step.series] if step.series is not None else [n for n in h.nodes if parent_of(n) is None
                                                               or parent_of(n) not in known]
    means = forecast.groupby("series_id")["mean"].mean().to_dict()
    add: dict[str, float] = dict.fromkeys(h.nodes, 0.0)

    def _down(node: str, amount: float) -> None:
        add[node] += amount
        kids = h.children(node)
        if not kids:
            return
        w = np.array([max(float(means.get(k, 0.0)), 0.0) for k in kids])
        w = w / w.sum() if w.sum() > 0 else np.full(len(kids), 1.0 / len(kids))
        for k, share in zip(kids, w, strict=True):
            _down(k, amount * float(share))

    for t in targets:
        assert t is not None
        _down(t, float(step.gpus))
        for a in h.ancestors(t):
            add[a] += float(step.gpus)
    return add


def apply_planned(forecast: pd.DataFrame, paths: pd.DataFrame | None, planned: PlannedChanges,
                  origin: dict[str, pd.Timestamp]) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """Apply planned growth and steps to a forecast frame and its paths.

    Parameters
    ----------
    forecast
        The ``forecast`` table.
    paths
        The ``paths`` table, or None.
    planned
        What is planned.
    origin
        Last history hour per series (growth counts hours from there).

    Returns
    -------
    (forecast, paths, notes)
    """
    if planned.is_empty:
        return forecast, paths, []
    notes: list[str] = []
    series = sorted(forecast["series_id"].astype(str).unique())
    bound_cols = [c for c in forecast.columns if c.startswith(("lo_", "hi_"))]

    def _factor(df: pd.DataFrame) -> np.ndarray:
        o = df["series_id"].map(origin)
        hours = (df["timestamp"] - pd.to_datetime(o, utc=True)).dt.total_seconds().to_numpy() / 3600.0
        return np.asarray((1.0 + planned.growth_rate_per_year) ** (hours / HOURS_PER_YEAR))

    def _steps(df: pd.DataFrame) -> np.ndarray:
        total = np.zeros(len(df))
        for st in planned.steps:
            amounts = _step_amounts(series, forecast, st)
            start = pd.Timestamp(st.start).tz_convert("UTC")
            on = (df["timestamp"] >= start).to_numpy()
            total += df["series_id"].map(amounts).fillna(0.0).to_numpy(dtype=float) * on
        return total

    out = forecast.copy()
    f = _factor(out)
    s = _steps(out)
    for c in ["mean", *bound_cols]:
        out[c] = np.maximum(out[c].to_numpy(dtype=float) * f + s, 0.0)
    if planned.growth_rate_per_year:
        notes.append(f"planned growth {planned.growth_rate_per_year:+.1%} per year applied to means, bounds and paths")
    for st in planned.steps:
        where = st.series or "every top-level series"
        notes.append(f"planned step {st.gpus:+g} GPUs from {pd.Timestamp(st.start).tz_convert('UTC'):%Y-%m-%d %H:%M}Z "
                     f"on {where} (shared with parents/children)")
    out_paths = None
    if paths is not None:
        out_paths = paths.copy()
        out_paths["gpus"] = np.maximum(out_paths["gpus"].to_numpy(dtype=float) * _factor(out_paths)
                                       + _steps(out_paths), 0.0)
    return out, out_paths, notes
