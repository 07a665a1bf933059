"""Baselines shown beside every recommendation.

- **all on-demand**: buy nothing (:func:`scenarios.plan.all_on_demand`).
- **trailing history** (the cloud recommenders' rule): commit to what the trailing 30 days of hourly
  history would have made optimal, with no forecast (:func:`trailing_history_plan`).
- **perfect hindsight**: per sample path, the cheapest plan had that path's demand been known in advance;
  the lower bound of what any plan could have cost (:func:`perfect_hindsight`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimizer.capacity import CapacitySettings, build_capacity, extract_plan, with_settings
from optimizer.evaluate import evaluate
from optimizer.inputs import CapacityInputs
from optimizer.solvers import SolveResult, solve
from scenarios.errors import InputError
from scenarios.parallel import Mapper, SerialMapper
from scenarios.plan import CapacityPlan

#: Representative hours per path for the hindsight solves.
HINDSIGHT_BINS = 600


@dataclass(frozen=True)
class SolverConfig:
    """Solver name, time limit [s] and relative MIP gap [fraction] (from ``scenario.solver``)."""

    name: str = "highs"
    time_limit_s: float | None = 120.0
    mip_gap: float | None = 0.01


def solve_plan(inputs: CapacityInputs, settings: CapacitySettings, solver: SolverConfig,
               name: str, notes: str = "") -> tuple[CapacityPlan, SolveResult]:
    """Build, solve and extract one capacity model (no diagnosis: callers check ``result.ok``)."""
    model = build_capacity(inputs, settings, name=name.replace("-", "_"))
    res = solve(model.problem, solver=solver.name, time_limit_s=solver.time_limit_s, mip_gap=solver.mip_gap)
    meta = {"solve": res.as_dict(), "bins": model.n_bins, "variables": model.n_variables}
    plan = extract_plan(model, name=name, notes=notes, meta=meta) if res.ok else CapacityPlan(name=name, notes=notes)
    return plan, res


def trailing_history_plan(
    history: pd.DataFrame,
    inputs: CapacityInputs,
    days: int = 30,
    solver: SolverConfig | None = None,
    max_bins: int | None = 2000,
) -> CapacityPlan:
    """The cloud recommenders' rule: the purchases optimal for the trailing ``days`` of hourly history.

    Parameters
    ----------
    history
        Hourly history ``series_id, timestamp, gpus`` (family-level series; NaN marks a missing hour).
    inputs
        The forecast's inputs (for the offers and prices; its demand is not used).
    days
        Look-back window [days].
    solver
        Solver settings.
    max_bins
        Representative hours for the solve.

    Returns
    -------
    CapacityPlan
        Named ``trailing-30d``; hours with a missing value in any family are left out (counted in the notes).
        No policies and no risk term apply: the rule knows only past usage and the offers.  Spot is priced
        at the forecast horizon's mean price and availability per family.

    Raises
    ------
    InputError
        History without any of the forecast's families.
    """
    h = history.copy()
    h["sample_id"] = 0
    fams = [f for f in inputs.families if f in set(h["series_id"].astype(str))]
    if not fams:
        raise InputError(
            f"history has none of the families {list(inputs.families)}", column="series_id",
            fix="give family-level history (series_id = family slug)",
        )
    h = h[h["series_id"].astype(str).isin(inputs.families)]
    ts = pd.DatetimeIndex(h["timestamp"]).tz_convert("UTC")
    end = ts.max() + pd.Timedelta(hours=1)
    start = end - pd.Timedelta(days=days)
    h = h[(ts >= start)].copy()
    grid = pd.date_range(start, end - pd.Timedelta(hours=1), freq="h")
    full = pd.MultiIndex.from_product([inputs.families, grid], names=["series_id", "timestamp"])
    h["timestamp"] = pd.DatetimeIndex(h["timestamp"]).tz_convert("UTC")
    wide = (h.groupby(["series_id", "timestamp"])["gpus"].mean().reindex(full)
            .unstack("timestamp"))
    missing_fam = [f for f in inputs.families if f not in fams]
    if missing_fam:
        wide.loc[missing_fam] = 0.0
    arr = wide.to_numpy(dtype=float)
    keep = np.isfinite(arr).all(axis=0)
    n_drop = int((~keep).sum())
    arr = arr[:, keep]
    if arr.shape[1] == 0:
        raise InputError(f"no complete hour in the last {days} days of history", column="gpus")
    ts_keep = grid[keep]
    has = np.isfinite(inputs.spot_price)
    price = np.where(has.any(axis=1), np.where(has, inputs.spot_price, 0.0).sum(axis=1) / np.maximum(has.sum(axis=1), 1),
                     np.nan)
    tail = replace(
        inputs, timestamps=ts_keep, sample_ids=np.array([0]), demand=arr[:, None, :],
        spot_price=np.repeat(price[:, None], ts_keep.size, axis=1),
        spot_available=np.repeat(inputs.spot_available.mean(axis=1)[:, None], ts_keep.size, axis=1),
    )
    note = (f"cloud recommender rule: optimal for the {arr.shape[1]} complete hours of the last {days} days of "
            f"history ({grid[0]:%Y-%m-%d} to {grid[-1]:%Y-%m-%d}), no forecast, no policies")
    if n_drop:
        note += f"; {n_drop} hours with a missing value left out"
    if missing_fam:
        note += f"; no history for {missing_fam} (treated as 0)"
    settings = CapacitySettings(max_bins=max_bins, use_policies=False, risk_weight=0.0)
    plan, res = solve_plan(tail, settings, solver or SolverConfig(), name=f"trailing-{days}d", notes=note)
    if not res.ok:
        raise InputError(f"the trailing-history model did not solve ({res.termination})")
    return plan


def _hindsight_item(item: tuple[CapacityInputs, CapacitySettings, SolverConfig, int]) -> tuple[float, float, dict]:
    inputs, settings, solver, sid = item
    plan, res = solve_plan(inputs, settings, solver, name=f"hindsight-{sid}")
    if not res.ok:
        return math.nan, math.nan, {}
    ev = evaluate(plan, inputs)
    return float(ev.total_usd[0]), float(res.objective * inputs.n_hours), {"plan": plan}


def perfect_hindsight(
    inputs: CapacityInputs,
    candidates: tuple[CapacityPlan, ...] = (),
    max_bins: int | None = HINDSIGHT_BINS,
    solver: SolverConfig | None = None,
    mapper: Mapper | None = None,
) -> pd.DataFrame:
    """Per path, the cost of the best plan had that path's demand been known (the lower bound).

    Each path is optimised alone (no policies, no risk: knowing the future, only the offers matter, and
    dropping the policies keeps this a lower bound).  With ``max_bins`` the solve is on representative
    hours; the plan it finds is then costed exactly on the path's hours, and the path's hindsight cost is
    the cheapest of that plan and the ``candidates`` (each of which was also available with hindsight).

    Parameters
    ----------
    inputs
        Demand paths and prices.
    candidates
        Other plans to consider per path (e.g. the recommendation), making the bound tight when the
        reduced hindsight solve is slightly off.
    max_bins
        Representative hours per path; None = every hour (exact).
    solver
        Solver settings.
    mapper
        Runs the per-path solves (default: serially).

    Returns
    -------
    pandas.DataFrame
        ``sample_id, hindsight_usd, hindsight_model_usd`` (the solve's own objective over the horizon).
    """
    mapper = mapper or SerialMapper()
    # fractional reservations: the LP optimum per path is a true lower bound on any plan, whole instances or not
    settings = with_settings(None, max_bins=max_bins, use_policies=False, risk_weight=0.0, per_path=False,
                             whole_instances=False)
    items = [(inputs.with_demand(inputs.demand[:, s: s + 1, :], inputs.sample_ids[s: s + 1]), settings,
              solver or SolverConfig(), int(inputs.sample_ids[s])) for s in range(inputs.n_paths)]
    out = mapper.map(_hindsight_item, items, desc="perfect hindsight")
    best = np.array([o[0] for o in out])
    for plan in candidates:
        best = np.fmin(best, evaluate(plan, inputs).total_usd)
    return pd.DataFrame({"sample_id": inputs.sample_ids, "hindsight_usd": best,
                         "hindsight_model_usd": [o[1] for o in out]})
