"""Rolling-origin backtest of commitment policies on a scenario's own demand history.

At each forecast origin ``t`` every policy decides its purchases from the history **before** ``t`` only
(:func:`decide`); the purchases are then held from ``t`` to the end of the available history (or for
their term, when shorter) and costed on the demand that was actually observed there, hour by hour, with
the optimizer's exact dispatch (:func:`optimizer.evaluate.evaluate`).

Policies (names as they appear in the tables):

- ``gpuplan``: the scenario's forecaster (model, paths, growth, planned changes) on the history before
  ``t``, then :func:`optimizer.recommend.optimize_capacity` on the family-level sample paths, with the
  scenario's policies and risk setting: what ``gpuplan plan`` would have recommended at ``t``;
- ``point-forecast``: the same optimiser on the forecast's mean path alone (one path, no uncertainty);
- ``trailing-7d``, ``trailing-30d``, ``trailing-60d``: the cloud recommenders' rule (AWS Savings Plans and
  Azure reservation recommendations use a 7, 30 or 60 day look-back): the purchases that would have been
  optimal for the trailing window (:func:`optimizer.baselines.trailing_history_plan`);
- ``coverage-80``: a target-coverage rule (commit so that the commitments would have covered 80 % of the
  trailing 30 days' GPU-hours, family by family, with the family's cheapest 1-year offer);
- ``all-on-demand``: buy nothing;
- ``gpuplan-on-realized``: gpuplan's decision rule given the realized demand as its only path.  It
  separates the forecast's share of the regret (``gpuplan`` minus this) from the rule's share (this minus
  hindsight: policies, the risk setting and the representative-hour reduction);
- ``perfect-hindsight``: the cheapest purchases had the realized demand been known, solved on every hour
  (the lower bound; also no worse than any plan above).

Figures per origin and policy: cost [USD], regret ``cost / hindsight - 1`` and effective savings rate
``1 - cost / cost of buying nothing`` (both fractions).  Each origin is independent; they run through the
shared executor (:mod:`gpuplan.executors`), so ``--dask`` spreads them out.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from forecasting.core import ForecastResult
from optimizer.baselines import perfect_hindsight, trailing_history_plan
from optimizer.evaluate import evaluate
from optimizer.inputs import CapacityInputs, ReservedOffer, capacity_inputs
from optimizer.recommend import optimize_capacity, solver_config
from scenarios.errors import InputError
from scenarios.history import HistoryData, load_history
from scenarios.parallel import Mapper, SerialMapper
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase, all_on_demand
from scenarios.schema import Scenario
from scenarios.signals import load_spot

log = logging.getLogger("gpuplan")

#: Look-back windows of the cloud recommenders' rule [days] (AWS and Azure offer 7, 30 and 60).
LOOKBACK_DAYS = (7, 30, 60)
#: Share of trailing GPU-hours the target-coverage rule covers [fraction].
COVERAGE_TARGET = 0.8
#: Look-back of the target-coverage rule [days].
COVERAGE_LOOKBACK_DAYS = 30
#: Default minimum history before the first origin [days] (two weekly cycles for the forecaster).
MIN_TRAIN_DAYS = 14
#: Default minimum evaluation window after the last origin [days] (one weekly cycle).
MIN_EVAL_DAYS = 7
#: Default number of origins.
DEFAULT_ORIGINS = 4

#: Policy names in table order; the decision-time ones (no access to the realized demand) first.
DECISION_POLICIES = ("gpuplan", "point-forecast", *(f"trailing-{d}d" for d in LOOKBACK_DAYS),
                     f"coverage-{round(100 * COVERAGE_TARGET)}", "all-on-demand")
ORACLE_POLICIES = ("gpuplan-on-realized", "perfect-hindsight")
POLICIES = DECISION_POLICIES + ORACLE_POLICIES
#: Rules gpuplan is compared with in the summary (share of origins it beats them).
RULES = tuple(p for p in POLICIES if p not in ("gpuplan", "perfect-hindsight"))


# -- origins ------------------------------------------------------------------------------------------
def choose_origins(first: pd.Timestamp, end: pd.Timestamp, *, n_origins: int | None = None,
                   every: pd.Timedelta | None = None, min_train_days: float = MIN_TRAIN_DAYS,
                   min_eval_days: float = MIN_EVAL_DAYS) -> list[pd.Timestamp]:
    """Forecast origins between ``first + min_train_days`` and ``end - min_eval_days``, whole days apart.

    Parameters
    ----------
    first
        First hour of the history (UTC).
    end
        The hour after the last hour of the history (UTC).
    n_origins
        Number of origins, evenly spaced (rounded to whole days from the first origin); default 4.
    every
        Spacing of the origins instead (e.g. 7 days), from the first origin on.
    min_train_days
        History before the first origin [days].
    min_eval_days
        Realized demand after the last origin [days].

    Returns
    -------
    list of pandas.Timestamp
        Distinct origins, earliest first.

    Raises
    ------
    InputError
        History too short for one origin, or bad counts.
    """
    lo = pd.Timestamp(first) + pd.Timedelta(days=min_train_days)
    hi = pd.Timestamp(end) - pd.Timedelta(days=min_eval_days)
    span_days = (end - first) / pd.Timedelta(days=1)
    if hi < lo:
        raise InputError(
            f"the history covers {span_days:.1f} days: too short for a backtest with {min_train_days:g} days "
            f"of history before an origin and {min_eval_days:g} days after it", column="timestamp",
            fix="give a longer history or lower --min-train-days / --min-eval-days")
    if every is not None:
        if every <= pd.Timedelta(0):
            raise InputError("--every must be positive", column="--every", fix="e.g. --every 7d")
        out = []
        t = lo
        while t <= hi:
            out.append(t)
            t = t + every
        return out
    n = DEFAULT_ORIGINS if n_origins is None else int(n_origins)
    if n < 1:
        raise InputError("--origins must be at least 1", column="--origins")
    if n == 1:
        return [lo]
    span = (hi - lo) / pd.Timedelta(days=1)
    step_days = span / (n - 1)
    whole = math.floor(span + 1e-9)   # the last origin stays at or before ``hi``
    return sorted({lo + pd.Timedelta(days=min(round(i * step_days), whole)) for i in range(n)})


def parse_every(text: str) -> pd.Timedelta:
    """Parse a spacing like ``7d``, ``36h`` or ``2w`` (days, hours, weeks)."""
    units = {"h": 1.0, "d": 24.0, "w": 168.0}
    t = text.strip().lower()
    try:
        if not t or t[-1] not in units:
            raise ValueError
        value = float(t[:-1])
    except ValueError:
        raise InputError(f"--every '{text}' is not a spacing", column="--every",
                         fix="a number with h, d or w, e.g. --every 7d") from None
    if value <= 0:
        raise InputError(f"--every '{text}' must be positive", column="--every", fix="e.g. --every 7d")
    return pd.Timedelta(hours=value * units[t[-1]])


# -- rules ----------------------------------------------------------------------------------------------
def coverage_level(demand: np.ndarray, target: float) -> float:
    """The level ``x`` [GPUs] with ``sum(min(d, x)) = target * sum(d)`` over the hours ``d``, exactly.

    ``sum(min(d, x))`` is piecewise linear and non-decreasing in ``x``: between sorted demands
    ``d_(k) <= x <= d_(k+1)`` it is ``prefix_k + (n - k) x``, solved for ``x`` on that piece.

    Parameters
    ----------
    demand
        Hourly demand [GPUs], finite and non-negative.
    target
        Share of GPU-hours to cover [fraction, 0..1].
    """
    d = np.sort(np.asarray(demand, dtype=float))
    total = float(d.sum())
    if d.size == 0 or total <= 0 or target <= 0:
        return 0.0
    goal = min(float(target), 1.0) * total
    n = d.size
    prefix = np.concatenate([[0.0], np.cumsum(d)])
    for k in range(n):  # k hours lie wholly below x
        x = (goal - prefix[k]) / (n - k)
        if x <= d[k] + 1e-12 and (k == 0 or x >= d[k - 1] - 1e-12):
            return float(max(x, 0.0))
    return float(d[-1])


def target_coverage_plan(history: pd.DataFrame, inputs: CapacityInputs, target: float = COVERAGE_TARGET,
                         days: int = COVERAGE_LOOKBACK_DAYS) -> CapacityPlan:
    """Commit so the trailing ``days`` of history would have been ``target`` covered, family by family.

    Each family's level (:func:`coverage_level`, over its complete hours of the window) is bought as its
    cheapest 1-year offer per GPU-hour: a reservation, or a 1-year commitment of ``level x commit rate``
    USD/h.  Families without any 1-year offer stay on demand.

    Parameters
    ----------
    history
        Hourly family history ``series_id, timestamp, gpus`` before the origin (NaN = missing hour).
    inputs
        Offers and prices (its demand is not used).
    target
        Coverage target [fraction of GPU-hours].
    days
        Look-back [days].
    """
    h = history.copy()
    h["timestamp"] = pd.DatetimeIndex(h["timestamp"]).tz_convert("UTC")
    end = h["timestamp"].max() + pd.Timedelta(hours=1)
    h = h[h["timestamp"] >= end - pd.Timedelta(days=days)]
    reserved: list[ReservedPurchase] = []
    commit_usd = 0.0
    notes = []
    for i, fam in enumerate(inputs.families):
        d = h.loc[h["series_id"] == fam, "gpus"].to_numpy(dtype=float)
        d = d[np.isfinite(d)]
        level = coverage_level(d, target)
        offers: list[tuple[float, str, ReservedOffer | None]] = [
            (o.usd_per_gpu_hour, "reserved", o) for o in inputs.reserved if o.family == fam and o.term_years == 1]
        if 1 in inputs.terms and np.isfinite(inputs.commit_rate[inputs.terms.index(1), i]):
            offers.append((float(inputs.commit_rate[inputs.terms.index(1), i]), "committed", None))
        if level <= 0 or not offers:
            continue
        rate, kind, offer = min(offers, key=lambda t: t[0])
        if kind == "reserved":
            assert offer is not None
            reserved.append(ReservedPurchase(family=fam, term_years=1, payment=offer.payment, gpus=level,
                                             usd_per_gpu_hour=offer.usd_per_gpu_hour))
        else:
            commit_usd += level * rate
        notes.append(f"{fam}: {level:.2f} GPUs as {kind} at {rate:.3f} USD/GPU-h")
    committed = (CommitmentPurchase(term_years=1, usd_per_hour=commit_usd),) if commit_usd > 0 else ()
    return CapacityPlan(name=f"coverage-{round(100 * target)}", reserved=tuple(reserved), committed=committed,
                        notes=f"target-coverage rule: {100 * target:.0f} % of the trailing {days} days' GPU-hours; "
                              + "; ".join(notes))


# -- one origin -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OriginTask:
    """Everything one origin needs; ``train`` holds only rows strictly before ``origin``."""

    scenario: Scenario
    origin: pd.Timestamp
    hours: int
    train: HistoryData
    realized: pd.DataFrame
    n_paths: int | None = None


def _paths_frame(values: pd.DataFrame, column: str) -> pd.DataFrame:
    out = values[["series_id", "timestamp"]].copy()
    out["sample_id"] = 0
    out["gpus"] = np.clip(values[column].to_numpy(dtype=float), 0.0, None)
    return out


def decide(sc: Scenario, train: HistoryData, origin: pd.Timestamp, hours: int,
           n_paths: int | None = None) -> tuple[dict[str, CapacityPlan], CapacityInputs, ForecastResult]:
    """Every decision-time policy's purchases at ``origin``, from ``train`` (history before it) alone.

    Parameters
    ----------
    sc
        The scenario (offers, forecaster, policies).
    train
        History strictly before ``origin``.
    origin
        First hour of the holding period (UTC).
    hours
        Length of the holding period [h]: the forecast horizon.
    n_paths
        Override the scenario's number of forecast paths.

    Returns
    -------
    tuple
        Plans by policy name (:data:`DECISION_POLICIES`), the capacity inputs built from the forecast paths
        (prices and offers of the holding period), and the forecast.
    """
    from gpuplan.pipeline import family_level, forecast_scenario

    if pd.Timestamp(train.history["timestamp"].max()) >= origin:
        raise RuntimeError("internal: training history reaches the origin")
    fc = forecast_scenario(sc, train, hours=hours, n_paths=n_paths, mapper=SerialMapper(False), progress=False)
    assert fc.paths is not None
    if pd.Timestamp(fc.forecast["timestamp"].min()) != origin:
        raise RuntimeError("internal: the forecast does not start at the origin")
    spot = load_spot(sc, origin, hours)
    inputs = capacity_inputs(family_level(fc.paths, sc), sc, spot=spot)
    fam_hist = train.family_history()
    plans: dict[str, CapacityPlan] = {}
    plans["gpuplan"] = optimize_capacity(inputs, sc, hindsight=False, name="gpuplan").plan
    mean = family_level(fc.forecast, sc).sort_values(["series_id", "timestamp"])
    mean_inputs = capacity_inputs(_paths_frame(mean, "mean"), sc, spot=spot)
    plans["point-forecast"] = optimize_capacity(mean_inputs, sc, hindsight=False, name="point-forecast").plan
    cfg = solver_config(sc)
    for d in LOOKBACK_DAYS:
        plans[f"trailing-{d}d"] = trailing_history_plan(fam_hist, inputs, days=d, solver=cfg)
    cov = target_coverage_plan(fam_hist, inputs)
    plans[cov.name] = cov
    plans["all-on-demand"] = all_on_demand()
    return plans, inputs, fc


def realized_inputs(sc: Scenario, realized: pd.DataFrame, families: tuple[str, ...], origin: pd.Timestamp,
                    hours: int) -> tuple[CapacityInputs, int]:
    """Capacity inputs whose one path is the realized demand of ``[origin, origin + hours)``.

    Hours where any family's value is missing are left out (the same hours for every policy).

    Returns
    -------
    tuple
        The inputs and the number of hours left out.
    """
    grid = pd.date_range(origin, periods=hours, freq="h")
    r = realized[realized["series_id"].isin(families)]
    wide = (r.groupby(["series_id", "timestamp"])["gpus"].mean().unstack("series_id")
            .reindex(index=grid, columns=list(families)))
    keep = np.isfinite(wide.to_numpy(dtype=float)).all(axis=1)
    wide = wide[keep]
    long = wide.stack().rename("gpus").reset_index()
    long.columns = ["timestamp", "series_id", "gpus"]
    long["sample_id"] = 0
    spot = load_spot(sc, origin, hours)
    spot = spot[pd.DatetimeIndex(spot["timestamp"]).isin(wide.index)] if len(spot) else spot
    return capacity_inputs(long[["series_id", "timestamp", "sample_id", "gpus"]], sc, spot=spot), int((~keep).sum())


def _plan_size(plan: CapacityPlan) -> tuple[float, float]:
    return (float(sum(p.gpus for p in plan.reserved)), float(sum(c.usd_per_hour for c in plan.committed)))


def run_origin(task: OriginTask) -> dict[str, Any]:
    """Decide, then cost every policy on the realized demand of one origin (picklable, for the executor).

    Returns
    -------
    dict
        ``rows`` (one per policy), ``plans`` by policy and ``notes``.
    """
    sc, origin, hours = task.scenario, task.origin, task.hours
    plans, inputs, fc = decide(sc, task.train, origin, hours, n_paths=task.n_paths)
    real, dropped = realized_inputs(sc, task.realized, inputs.families, origin, hours)
    notes = [f"{origin:%Y-%m-%d %H:%M}: {dropped} hours with a missing value left out of the costing"] if dropped else []
    plans["gpuplan-on-realized"] = optimize_capacity(real, sc, hindsight=False, name="gpuplan-on-realized").plan
    hs = perfect_hindsight(real, candidates=tuple(plans.values()), max_bins=None, solver=solver_config(sc))
    hindsight_usd = float(hs["hindsight_usd"].iloc[0])
    costs = {name: float(evaluate(p, real).total_usd[0]) for name, p in plans.items()}
    costs["perfect-hindsight"] = hindsight_usd
    od = costs["all-on-demand"]
    demand_gh = float(real.demand.sum())
    train_h = int(task.train.family_history()["timestamp"].nunique())
    rows = []
    for name in POLICIES:
        c = costs[name]
        res, com = _plan_size(plans[name]) if name in plans else (math.nan, math.nan)
        rows.append({
            "origin": origin, "policy": name, "history_hours": train_h, "held_hours": real.n_hours,
            "demand_gpu_hours": demand_gh, "cost_usd": c, "hindsight_usd": hindsight_usd,
            "all_on_demand_usd": od,
            "regret": c / hindsight_usd - 1.0 if hindsight_usd > 0 else math.nan,
            "effective_savings_rate": 1.0 - c / od if od > 0 else math.nan,
            "reserved_gpus": res, "committed_usd_per_hour": com,
        })
    models = sorted(set(fc.report["model"].astype(str))) if "model" in fc.report else []
    return {"rows": rows, "plans": plans, "notes": notes, "models": models}


# -- the backtest ---------------------------------------------------------------------------------------
@dataclass
class BacktestResult:
    """Per-origin, per-policy results of :func:`run_backtest`.

    Attributes
    ----------
    scenario
        Name of the scenario.
    table
        One row per origin and policy: ``origin, policy, history_hours, held_hours, demand_gpu_hours,
        cost_usd, hindsight_usd, all_on_demand_usd`` [USD], ``regret`` and ``effective_savings_rate``
        [fractions], ``reserved_gpus`` [GPUs], ``committed_usd_per_hour`` [USD/h].
    plans
        The purchases, by ``(origin, policy)``.
    notes
        What was assumed or left out.
    """

    scenario: str
    table: pd.DataFrame
    plans: dict[tuple[pd.Timestamp, str], CapacityPlan] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def origins(self) -> list[pd.Timestamp]:
        """The forecast origins, earliest first."""
        return sorted(pd.DatetimeIndex(self.table["origin"].unique()))

    def summary(self) -> pd.DataFrame:
        """One row per policy over the origins.

        Columns: ``mean_regret_pct``, ``worst_regret_pct`` (largest), ``mean_savings_rate_pct``,
        ``total_cost_usd`` (summed over origins) and, for each rule, ``gpuplan_beats_share`` (share of
        origins where gpuplan cost strictly less, by more than 1e-9 relative), ``gpuplan_ties_share`` and
        ``gpuplan_minus_policy_usd`` (mean, negative = gpuplan cheaper).
        """
        t = self.table
        g = t.pivot(index="origin", columns="policy", values="cost_usd")
        rows = []
        for name in POLICIES:
            part = t[t["policy"] == name]
            row: dict[str, Any] = {
                "policy": name, "origins": len(part),
                "mean_regret_pct": 100.0 * float(part["regret"].mean()),
                "worst_regret_pct": 100.0 * float(part["regret"].max()),
                "mean_savings_rate_pct": 100.0 * float(part["effective_savings_rate"].mean()),
                "total_cost_usd": float(part["cost_usd"].sum()),
            }
            if name != "gpuplan":
                a, b = g["gpuplan"].to_numpy(), g[name].to_numpy()
                tol = 1e-9 * np.maximum(np.abs(b), 1.0)
                row["gpuplan_beats_share"] = float(np.mean(a < b - tol))
                row["gpuplan_ties_share"] = float(np.mean(np.abs(a - b) <= tol))
                row["gpuplan_minus_policy_usd"] = float(np.mean(a - b))
            else:
                row.update(gpuplan_beats_share=math.nan, gpuplan_ties_share=math.nan,
                           gpuplan_minus_policy_usd=0.0)
            rows.append(row)
        return pd.DataFrame(rows)

    def decomposition(self) -> pd.DataFrame:
        """Per origin: gpuplan's regret split into forecast error and decision rule [% of hindsight].

        ``forecast_pct`` = (gpuplan - gpuplan-on-realized) / hindsight; ``rule_pct`` = (gpuplan-on-realized -
        hindsight) / hindsight; they add up to gpuplan's regret.
        """
        g = self.table.pivot(index="origin", columns="policy", values="cost_usd")
        hs = g["perfect-hindsight"]
        out = pd.DataFrame({
            "origin": g.index,
            "regret_pct": 100.0 * (g["gpuplan"] / hs - 1.0),
            "forecast_pct": 100.0 * (g["gpuplan"] - g["gpuplan-on-realized"]) / hs,
            "rule_pct": 100.0 * (g["gpuplan-on-realized"] / hs - 1.0),
        })
        return out.reset_index(drop=True)

    def regret_table(self) -> pd.DataFrame:
        """Regret [%] per origin (rows) and policy (columns)."""
        p = self.table.pivot(index="origin", columns="policy", values="regret")[list(POLICIES)] * 100.0
        p.columns.name = None
        return p.reset_index()


def split_history(hist: HistoryData, origin: pd.Timestamp) -> tuple[HistoryData, pd.DataFrame]:
    """The history before ``origin`` (a :class:`HistoryData` of its own) and the family rows from it on."""
    ts = pd.DatetimeIndex(hist.history["timestamp"])
    before = hist.history[ts < origin].reset_index(drop=True)
    uts = pd.DatetimeIndex(hist.usage["timestamp"])
    usage = hist.usage[uts < origin].reset_index(drop=True)
    train = replace(hist, history=before, usage=usage, billing=None)
    fam = hist.family_history()
    after = fam[pd.DatetimeIndex(fam["timestamp"]) >= origin].reset_index(drop=True)
    return train, after


def run_backtest(sc: Scenario, *, n_origins: int | None = None, every: pd.Timedelta | None = None,
                 origins: list[pd.Timestamp] | None = None, min_train_days: float = MIN_TRAIN_DAYS,
                 min_eval_days: float = MIN_EVAL_DAYS, n_paths: int | None = None,
                 history: HistoryData | None = None, mapper: Mapper | None = None) -> BacktestResult:
    """Rolling-origin backtest of the commitment policies on the scenario's history (module docstring).

    Parameters
    ----------
    sc
        The scenario; its history is a usage file or a FOCUS / CUR bill.
    n_origins, every, origins
        The origins: a count (default 4), a spacing, or explicit hours (UTC, whole hours).
    min_train_days, min_eval_days
        History before the first origin and after the last one [days].
    n_paths
        Override the scenario's number of forecast paths.
    history
        The history to use instead of the scenario's (tests).
    mapper
        Executor of the origins (default: serially).

    Returns
    -------
    BacktestResult
    """
    hist = history if history is not None else load_history(sc)
    fam = hist.family_history()
    ts = pd.DatetimeIndex(fam["timestamp"])
    first, end = ts.min(), ts.max() + pd.Timedelta(hours=1)
    if origins is None:
        origins = choose_origins(first, end, n_origins=n_origins, every=every, min_train_days=min_train_days,
                                 min_eval_days=min_eval_days)
    tasks = []
    for o in origins:
        o = pd.Timestamp(o).tz_convert("UTC") if pd.Timestamp(o).tzinfo else pd.Timestamp(o, tz="UTC")
        if not (first < o < end) or o != o.floor("h"):
            raise InputError(f"origin {o} is not a whole hour inside the history ({first} to {end})",
                             column="origins")
        train, after = split_history(hist, o)
        hours = int((end - o) / pd.Timedelta(hours=1))
        tasks.append(OriginTask(scenario=sc, origin=o, hours=hours, train=train, realized=after, n_paths=n_paths))
    mapper = mapper or SerialMapper(False)
    log.info("backtest: %d origins, %s", len(tasks), ", ".join(f"{t.origin:%Y-%m-%d}" for t in tasks))
    out = mapper.map(run_origin, tasks, desc="backtest origins")
    rows = [r for o in out for r in o["rows"]]
    plans = {(t.origin, name): p for t, o in zip(tasks, out, strict=True) for name, p in o["plans"].items()}
    notes = [n for o in out for n in o["notes"]]
    notes.append(f"history {first:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC; purchases held from each origin "
                 "to the end of the history (commitment terms are longer), costed hour by hour on realized demand")
    short = [d for d in LOOKBACK_DAYS if tasks and tasks[0].train.family_history()["timestamp"].nunique() < d * 24]
    if short:
        notes.append(f"look-backs of {short} days are longer than the history before the first origin: those "
                     "rules use all the history there is (column history_hours)")
    models = sorted({m for o in out for m in o["models"]})
    notes.append(f"forecast model(s) used: {', '.join(models)} ({sc.demand.forecast.n_paths if n_paths is None else n_paths}"
                 " paths)")
    return BacktestResult(scenario=sc.name, table=pd.DataFrame(rows), plans=plans, notes=notes)


__all__ = [
    "POLICIES",
    "BacktestResult",
    "OriginTask",
    "choose_origins",
    "coverage_level",
    "decide",
    "parse_every",
    "run_backtest",
    "run_origin",
    "split_history",
    "target_coverage_plan",
]
