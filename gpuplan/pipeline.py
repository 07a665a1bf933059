"""The plan pipeline: history -> forecast paths -> capacity recommendation -> Monte Carlo -> schedule.

:func:`run_plan` runs every step on one scenario and returns a :class:`PlanRun` holding each step's
results; :func:`gpuplan.plan_report.write_plan` turns it into the HTML report and CSV tables.  The same
functions serve the CLI (``gpuplan plan``), ``compare``, ``sweep`` and the notebooks.

Hand-offs follow the table contract (``docs/architecture.md``): the forecaster's family-level sample
paths are the optimizer's scenarios and the simulator's demand (replication ``i`` replays path
``i mod n_paths``); the optimizer's :class:`~scenarios.plan.CapacityPlan` is what the simulator evaluates.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.core import Forecaster, ForecastResult
from forecasting.planned import PlannedChanges
from gpuplan.inference import add_steady_demand, run_inference
from optimizer.analytics import cost_curve
from optimizer.inputs import paths_to_array
from optimizer.recommend import (
    CapacityResult,
    efficient_frontier,
    recommend_capacity,
    solver_config,
)
from optimizer.schedule import ScheduleResult, optimize_schedule, schedule_pareto
from optimizer.schedule_inputs import schedule_inputs
from optimizer.term import TermCosting, plan_years, purchase_calendar, renewal_comparison, term_costing
from scenarios.errors import InputError
from scenarios.history import HistoryData, load_history
from scenarios.parallel import Mapper, SerialMapper
from scenarios.plan import CapacityPlan, all_on_demand, current_plan, holdings_table
from scenarios.schema import HOURS_PER_YEAR, Scenario
from scenarios.signals import load_signals, load_spot
from scenarios.workload import load_jobs
from simulator.api import run as run_simulation
from simulator.api import simulate
from simulator.inputs import build_inputs, with_demand_teams, with_plan
from simulator.results import SimulationResult

log = logging.getLogger("gpuplan")

#: Carbon prices swept for the schedule's Pareto curve [USD/t CO2e].
PARETO_CARBON_PRICES = (0.0, 50.0, 100.0, 200.0, 400.0, 800.0)

#: Scale factors of the recommended portfolio on the cost-vs-commitment curve (0 = buy nothing).
CURVE_FACTORS = tuple(round(0.1 * i, 1) for i in range(31))
#: CVaR weights of the efficient frontier shown in the report.
FRONTIER_WEIGHTS = (0.0, 0.25, 1.0, 4.0)
#: Tranche period of the laddered plan [h] (a quarter).
LADDER_PERIOD_HOURS = 2190

#: Savings ranges practitioners quote for each lever [% of the affected spend], shown beside ours.
LEVER_RANGES: dict[str, tuple[float, float] | None] = {
    "spot with checkpointing": (30.0, 70.0),
    "reserved or committed capacity": (20.0, 60.0),
    "right-sizing idle capacity": (10.0, 40.0),
    "carbon- or price-aware scheduling": None,
}


@dataclass
class PlanRun:
    """Everything one run of the plan pipeline produced (see the module docstring)."""

    scenario: Scenario
    history: HistoryData
    start: pd.Timestamp
    hours: int
    forecast: ForecastResult
    family_paths: pd.DataFrame
    capacity: CapacityResult
    plans: dict[str, CapacityPlan]
    simulations: dict[str, SimulationResult]
    schedule: ScheduleResult | None
    pareto: pd.DataFrame
    levers: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def cost_curve(self) -> pd.DataFrame | None:
        """Expected cost as the recommendation is scaled (``optimizer.analytics.cost_curve``), if computed."""
        return self.extras.get("cost_curve")

    @property
    def frontier(self) -> pd.DataFrame | None:
        """Efficient frontier of expected cost against CVaR, if computed."""
        return self.extras.get("frontier")

    @property
    def term(self) -> TermCosting | None:
        """The recommendation costed over the full terms of its purchases (:mod:`optimizer.term`)."""
        return self.extras.get("term")

    @property
    def calendar(self) -> pd.DataFrame:
        """Purchase calendar: buys and expiries (recommendation and holdings) per quarter."""
        return self.extras.get("calendar", pd.DataFrame())

    @property
    def holdings(self) -> pd.DataFrame:
        """The ``[current]`` holdings with their dates and status in the plan window."""
        return self.extras.get("holdings", pd.DataFrame())

    def plan_document(self) -> dict[str, Any]:
        """``plan.json``: the recommended purchases plus instances, full-term obligations, the purchase
        calendar, holdings and binding constraints (JSON-able; :meth:`CapacityPlan.from_json` reads it back)."""
        doc: dict[str, Any] = json.loads(self.recommended.to_json())
        cap = self.capacity
        pur = cap.purchases()
        doc["purchases"] = _records(pur)
        s = cap.summary()
        doc["whole_instances"] = {"lp_bound_usd": s["lp_bound_usd"], "objective_usd": s["objective_usd"],
                                  "integrality_gap_pct": s["integrality_gap_pct"], "solver_mip_gap": s["mip_gap"]}
        doc["binding_constraints"] = cap.binding
        doc["laddered"] = {"chosen": cap.laddered, "buy_at_start_usd": cap.buy_at_start_usd,
                           "laddered_usd": cap.laddered_usd}
        if self.term is not None:
            doc["full_term"] = self.term.as_dict()
        doc["three_year_vs_renewed_one_year"] = _records(self.extras.get("renewal", pd.DataFrame()))
        doc["calendar"] = _records(self.calendar)
        doc["holdings"] = _records(self.holdings)
        if self.extras.get("backtest") is not None:
            bt = self.extras["backtest"]
            doc["backtest"] = {"origins": [f"{o:%Y-%m-%dT%H:%M}Z" for o in bt.origins],
                               "summary": _records(bt.summary()), "decomposition": _records(bt.decomposition())}
        elif self.extras.get("backtest_skipped"):
            doc["backtest"] = {"skipped": self.extras["backtest_skipped"]}
        return _clean(doc)

    @property
    def recommended(self) -> CapacityPlan:
        """The recommended plan."""
        return self.plans["recommended"]

    def plan_costs(self) -> pd.DataFrame:
        """Simulated total cost per plan and replication [USD] (``plan, replication, total_cost_usd``)."""
        rows = []
        for name, sim in self.simulations.items():
            k = sim.kpis[["replication", "total_cost_usd"]].copy()
            k.insert(0, "plan", name)
            rows.append(k)
        return pd.concat(rows, ignore_index=True)

    def comparison(self) -> pd.DataFrame:
        """One row per simulated plan: mean cost with its 95 % CI, savings, coverage, utilization, idle."""
        rows = []
        base = self.simulations.get("all-on-demand")
        base_cost = base.kpi("total_cost_usd") if base is not None else np.nan
        for name, sim in self.simulations.items():
            stats = {str(r["metric"]): r for r in sim.summary.to_dict("records")}

            def g(m: str, col: str = "mean", stats: dict[str, Any] = stats) -> float:
                return float(stats[m][col]) if m in stats else float("nan")

            cost = g("total_cost_usd")
            rows.append({
                "plan": name,
                "expected_cost_usd": cost,
                "cost_ci95_low_usd": g("total_cost_usd", "ci95_low"),
                "cost_ci95_high_usd": g("total_cost_usd", "ci95_high"),
                "p95_cost_usd": float(np.percentile(sim.kpis["total_cost_usd"], 95)),
                "savings_vs_all_on_demand_pct": 100.0 * (1.0 - cost / base_cost) if base_cost else np.nan,
                "coverage": g("coverage"),
                "commitment_utilization": g("commitment_utilization"),
                "idle_reserved_gpu_hours": g("idle_reserved_gpu_hours"),
                "cost_per_useful_gpu_hour": g("cost_per_useful_gpu_hour"),
                "kg_co2e": g("kg_co2e"),
            })
        return pd.DataFrame(rows)

    def _per_family_reserved(self) -> dict[str, float]:
        """Reserved GPUs and instances at the plan start per family (families are never summed)."""
        out: dict[str, float] = {}
        inp = self.capacity.inputs
        for f, fam in enumerate(inp.families):
            g = sum(p.gpus for p in self.recommended.reserved if p.family == fam and p.start_hour == 0)
            size = inp.instance_size(f)
            out[f"reserved_gpus_{fam}"] = float(g)
            out[f"reserved_instances_{fam}"] = float(g / size) if size else float("nan")
        return out

    def key_figures(self) -> dict[str, Any]:
        """Headline numbers for ``compare`` and ``sweep`` (USD, fractions, GPUs)."""
        cmp: dict[str, Any] = {str(r["plan"]): r for r in self.comparison().to_dict("records")}
        rec = cmp["recommended"]
        plan_df = self.recommended.to_frame()
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "horizon_hours": self.hours,
            "forecast_mean_gpus": float(self.family_paths.groupby("timestamp")["gpus"].sum().mean()
                                        / max(self.family_paths["sample_id"].nunique(), 1)),
            "reserved_gpus": float(plan_df.loc[plan_df["kind"] == "reserved", "quantity"].sum()),
            **self._per_family_reserved(),
            "total_obligation_usd": self.term.total_obligation_usd if self.term is not None else float("nan"),
            "integrality_gap_pct": float(self.capacity.integrality_gap_pct),
            "laddered": bool(self.capacity.laddered),
            "committed_usd_per_hour": float(plan_df.loc[plan_df["kind"] == "committed", "quantity"].sum()),
            "expected_cost_usd": float(rec["expected_cost_usd"]),
            "p95_cost_usd": float(rec["p95_cost_usd"]),
            "all_on_demand_cost_usd": float(cmp["all-on-demand"]["expected_cost_usd"]),
            "savings_vs_all_on_demand_pct": float(rec["savings_vs_all_on_demand_pct"]),
            "coverage": float(rec["coverage"]),
            "commitment_utilization": float(rec["commitment_utilization"]),
            "kg_co2e": float(rec["kg_co2e"]),
        }
        for name in ("trailing-30d", "current"):
            if name in cmp:
                out[f"{name.replace('-', '_')}_cost_usd"] = float(cmp[name]["expected_cost_usd"])
        if self.schedule is not None:
            s = self.schedule.summary()
            rp = self.extras.get("schedule_replay")
            # the saving the simulator realizes when it replays the schedule, the optimizer's estimate beside it
            out["schedule_carbon_saved_pct"] = float(rp["carbon_saved_pct"] if rp else np.nan)
            out["schedule_energy_cost_saved_pct"] = float(rp["energy_cost_saved_pct"] if rp else np.nan)
            out["schedule_carbon_saved_estimated_pct"] = float(s["as_run_carbon_saved_pct"])
            out["schedule_energy_cost_saved_estimated_pct"] = float(s["as_run_energy_cost_saved_pct"])
        return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")] if len(df) else []


def _clean(x: Any) -> Any:
    """NaN as None, timestamps as ISO text, numpy scalars as Python (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if x is pd.NaT or (x is not None and not isinstance(x, str | int | float | bool) and pd.isna(x) is True):
        return None
    return x


def ladder_period(sc: Scenario, hours: int) -> int | None:
    """Period of the laddered alternative [h] (a quarter) when demand grows or steps, or a holding expires
    within the window; None when a ladder is pointless or the window holds fewer than two quarters."""
    fs = sc.demand.forecast
    dated = any(h.end is not None or h.start is not None for h in sc.current.reserved) or bool(
        sc.current.committed_end)
    if hours < 2 * LADDER_PERIOD_HOURS or not (fs.growth_rate_per_year > 0 or fs.steps or dated):
        return None
    return LADDER_PERIOD_HOURS


@contextmanager
def _step(timings: dict[str, float], name: str, label: str) -> Iterator[None]:
    log.info("%s ...", label)
    t0 = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - t0
    log.info("%s done in %.1f s", label, timings[name])


def without_spot(sc: Scenario) -> Scenario:
    """A copy of the scenario with no spot offers (for the spot lever)."""
    catalog = {k: v.model_copy(update={"spot": None}) for k, v in sc.catalog.items()}
    out = sc.model_copy(update={"catalog": catalog})
    out._source_dir = sc._source_dir
    out._source_file = sc._source_file
    return out


def forecast_scenario(sc: Scenario, history: HistoryData, *, hours: int | None = None, n_paths: int | None = None,
                      mapper: Mapper | None = None, progress: bool = True) -> ForecastResult:
    """Forecast the scenario's demand (family and team series, reconciled) with sample paths.

    Parameters
    ----------
    sc
        Scenario: ``demand.forecast`` gives model, levels, paths, horizon, growth and steps.
    history
        From :func:`scenarios.history.load_history`.
    hours, n_paths
        Override the horizon [h] and number of paths.
    """
    fs = sc.demand.forecast
    series = history.series("all")
    has_teams = series["series_id"].str.contains("/").any()
    fc = Forecaster(
        fs.model, levels=fs.levels, mapper=mapper, progress=progress,
        reconcile="mint_shrink" if has_teams else None,
        planned=PlannedChanges.from_settings(fs),
    )
    return fc.run(series, hours or fs.horizon_hours, n_paths=n_paths or fs.n_paths, seed=fs.seed)


def scenario_paths(sc: Scenario, mapper: Mapper | None = None, progress: bool = True) -> pd.DataFrame:
    """Family-level forecast sample paths of a scenario (``series_id, timestamp, sample_id, gpus``)."""
    hist = load_history(sc)
    res = forecast_scenario(sc, hist, mapper=mapper, progress=progress)
    assert res.paths is not None
    return family_level(res.paths, sc)


def family_level(paths: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    """Keep the family-level series of a paths (or forecast) table."""
    return paths[paths["series_id"].isin(sc.families)].reset_index(drop=True)


def team_level(paths: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    """Team-level series ``family/team`` of a paths table as ``family, team, timestamp, sample_id, gpus``."""
    sid = paths["series_id"].astype(str)
    parts = sid.str.split("/", n=1, expand=True)
    if parts.shape[1] < 2:
        return pd.DataFrame(columns=["family", "team", "timestamp", "sample_id", "gpus"])
    keep = parts[1].notna() & parts[0].isin(sc.families)
    out = paths.loc[keep, ["timestamp", "sample_id", "gpus"]].copy()
    out.insert(0, "team", parts.loc[keep, 1].to_numpy())
    out.insert(0, "family", parts.loc[keep, 0].to_numpy())
    return out.reset_index(drop=True)


def with_history_teams(sc: Scenario, history: HistoryData, notes: list[str] | None = None) -> Scenario:
    """The scenario with its synthetic jobs owned by teams of the demand history.

    When the history names teams and the job generator's ``teams`` include none of them (for example a user's
    own bill under a scenario that extends the bundled Helios default), the synthetic jobs are assigned to
    the history's teams instead; generator teams the history does not have are dropped.  A job trace, or a
    history without teams, leaves the scenario as it is.
    """
    if sc.workload.trace is not None or "team" not in history.usage.columns:
        return sc
    have = sorted({str(t) for t in history.usage["team"].dropna().unique()})
    gen = list(sc.workload.generator.teams)
    keep = [t for t in gen if t in have] or have
    if not have or keep == gen:
        return sc
    if notes is not None:
        notes.append(f"synthetic training jobs assigned to the history's teams {keep} (generator teams "
                     f"{[t for t in gen if t not in have]} are not in the history)")
    workload = sc.workload.model_copy(update={"generator": sc.workload.generator.model_copy(update={"teams": keep})})
    out = sc.model_copy(update={"workload": workload})
    out._source_dir = sc._source_dir
    out._source_file = sc._source_file
    return out


def check_start(sc: Scenario, history: HistoryData) -> pd.Timestamp:
    """The plan start: the hour after the history ends; a scenario ``start`` must agree with it.

    Raises
    ------
    InputError
        When ``start`` is set to another hour (the forecast starts where the history ends), or when a
        catalog family has no demand history (nothing to forecast; refused before the long run).
    """
    present = set(history.family_history()["series_id"])
    absent = [f for f in sc.families if f not in present]
    if absent:
        raise InputError(f"catalog family '{absent[0]}' has no rows in the demand history", file=history.source,
                         column=f"catalog.{absent[0]}",
                         fix="remove it from [catalog], or map teams to it with demand.team_family / "
                             "demand.default_family")
    first = pd.Timestamp(history.history["timestamp"].max()) + pd.Timedelta(hours=1)
    if sc.start is not None and pd.Timestamp(sc.start) != first:
        raise InputError(
            f"scenario start {pd.Timestamp(sc.start):%Y-%m-%d %H:%M} UTC is not the hour after the history "
            f"({first:%Y-%m-%d %H:%M} UTC)", column="start",
            fix="remove 'start' (the plan starts when the history ends) or give history up to the start")
    return first


def run_plan(sc: Scenario, *, mapper: Mapper | None = None, progress: bool = True,
             replications: int | None = None, pareto_prices: tuple[float, ...] = PARETO_CARBON_PRICES,
             analyses: bool = True) -> PlanRun:
    """Run the whole plan pipeline on a scenario.

    Parameters
    ----------
    sc
        The scenario (``load_scenario("default")``).
    mapper
        Executor for many-series forecasts, hindsight solves, replications and the Pareto sweep.
    progress
        Progress bars.
    replications
        Override ``simulation.replications``.
    pareto_prices
        Carbon prices for the schedule's Pareto curve [USD/t].
    analyses
        Also compute what the report shows beyond the key figures: perfect hindsight, the cost-vs-commitment
        curve, the efficient frontier, the laddered plan and the Pareto curve.  ``compare`` and ``sweep``
        turn this off (about half the run time of a small scenario).

    Returns
    -------
    PlanRun
    """
    mapper = mapper or SerialMapper(progress)
    t: dict[str, float] = {}
    notes: list[str] = []
    with _step(t, "history", "step 1/6: reading demand history"):
        hist = load_history(sc)
        start = check_start(sc, hist)
        notes += hist.notes
    with _step(t, "forecast", "step 2/6: forecasting demand with sample paths"):
        fc = forecast_scenario(sc, hist, mapper=mapper, progress=progress)
        hours = int(fc.forecast["timestamp"].nunique())
        if pd.Timestamp(fc.forecast["timestamp"].min()) != start:
            raise RuntimeError("internal: the forecast does not start at the hour after the history")
        assert fc.paths is not None
        fam_paths = family_level(fc.paths, sc)
        notes += fc.notes
    inference = None
    if sc.inference is not None:
        with _step(t, "inference", "inference: warm floor and serving policy per model"):
            inference = run_inference(sc, start=start)
            notes += inference.notes
            if sc.inference.commit_warm_floor:
                fam_paths = add_steady_demand(fam_paths, inference.floor_demand(start, hours))
                notes.append("inference warm floor added, hour by hour, to the demand the plan commits against: " + ", ".join(
                    f"{f} {g:g} GPUs every hour (committable), up to {float(max(inference.floor_gpus_by_hour()[f])):g}"
                    for f, g in inference.floor_gpus().items()))
    with _step(t, "optimize", "step 3/6: optimising the capacity mix"):
        spot = load_spot(sc, start, hours)
        cap = recommend_capacity(fam_paths, sc, history=hist.family_history(), spot=spot, mapper=mapper,
                                 progress=progress, hindsight=analyses, ladder_period_hours=ladder_period(sc, hours))
        plans: dict[str, CapacityPlan] = {"recommended": cap.plan, "all-on-demand": all_on_demand()}
        for name, p in cap.baseline_plans.items():
            if name not in plans:
                plans[name] = p
        cur = current_plan(sc, start)
        if cur.name == "current":
            plans["current"] = cur
        extras: dict[str, Any] = {} if inference is None else {"inference": inference}
        cfg = solver_config(sc)
        if analyses:
            extras["cost_curve"] = cost_curve(cap.plan, cap.inputs, factors=CURVE_FACTORS)
            extras["frontier"] = efficient_frontier(cap.inputs, weights=FRONTIER_WEIGHTS, solver=cfg,
                                                    mapper=mapper)
        if cap.laddered:
            extras["ladder"] = cap.purchases()
    with _step(t, "term", "step 3b/6: costing the purchases over their full terms"):
        extras.update(full_term(sc, hist, cap, cur, start, hours, notes, long_forecast=analyses, mapper=mapper,
                                progress=progress))
    with _step(t, "simulate", "step 4/6: Monte Carlo simulation of the plans"):
        carbon, price = load_signals(sc, start, hours)
        jobs = load_jobs(with_history_teams(sc, hist, notes), start)
        sims: dict[str, SimulationResult] = {}
        reps = sc.simulation.replications if replications is None else int(replications)
        # jobs, demand paths and signals are validated once; each plan swaps in its purchases
        base = build_inputs(sc, plans["recommended"], jobs=jobs, demand=fam_paths, carbon=carbon, price=price,
                            spot=spot, start=start, hours=hours)
        teams = team_level(fc.paths, sc)
        if len(teams):  # showback splits the forecast demand among the teams of the history
            base = with_demand_teams(base, teams)
        for name, p in plans.items():
            log.info("  simulating plan '%s'", name)
            sims[name] = run_simulation(with_plan(base, p), replications=reps, seed=sc.simulation.seed,
                                        mapper=mapper, progress=progress)
        log.info("  simulating all-on-demand without spot (for the spot lever)")
        no_spot = simulate(without_spot(sc), all_on_demand(), jobs=jobs, demand=fam_paths, carbon=carbon,
                           price=price, replications=replications, mapper=mapper, progress=progress,
                           start=start, hours=hours)
    with _step(t, "schedule", "step 5/6: carbon- and price-aware training schedule"):
        spare = spare_reserved_gpus(sims["recommended"], sc.families)
        notes.append("schedule: reserved GPUs left idle by forecast demand (mean, recommended plan) are free for "
                     "training jobs: " + ", ".join(f"{f} {g:,.1f}" for f, g in spare.items()))
        sched, pareto = _schedule(sc, jobs, carbon, price, spare, mapper, pareto_prices if analyses else (),
                                  notes)
        if sched is not None:
            log.info("  replaying the schedule in the simulator (recommended plan)")
            replayed = run_simulation(with_plan(build_inputs(
                sc, plans["recommended"], jobs=jobs, demand=fam_paths, carbon=carbon, price=price, spot=spot,
                schedule=sched.schedule, start=start, hours=hours), plans["recommended"]),
                replications=reps, seed=sc.simulation.seed, mapper=mapper, progress=progress)
            extras["schedule_replay"] = schedule_replay(sims["recommended"], replayed)
    with _step(t, "levers", "step 6/6: savings levers"):
        levers = lever_table(sims, no_spot, sched, extras.get("schedule_replay"))
    if analyses and sc.backtest.origins > 0:
        with _step(t, "backtest", "backtest: would these rules have paid off on the history?"):
            extras.update(plan_backtest(sc, hist, mapper, notes))
    if analyses and sc.demand.format in ("focus", "cur"):
        with _step(t, "monitor", "monitor: chargeback, anomalies, budget and tags of the bill"):
            from gpuplan.monitor.run import run_monitor

            extras["monitor"] = run_monitor(hist.source, fmt=sc.demand.format, tz=sc.demand.tz,
                                            budget_usd_per_year=sc.policies.budget_usd_per_year)
    return PlanRun(scenario=sc, history=hist, start=start, hours=hours, forecast=fc, family_paths=fam_paths,
                   capacity=cap, plans=plans, simulations=sims, schedule=sched, pareto=pareto, levers=levers,
                   timings=t, notes=notes, extras={**extras, "replications": replications})


def full_term(sc: Scenario, hist: HistoryData, cap: CapacityResult, cur: CapacityPlan, start: pd.Timestamp,
              hours: int, notes: list[str], long_forecast: bool = True, mapper: Mapper | None = None,
              progress: bool = False) -> dict[str, Any]:
    """Full-term costing, 3-year vs renewed 1-year terms, purchase calendar and holdings of a recommendation.

    When the longest term outlasts the forecast and ``long_forecast`` is on, the scenario is forecast again
    to the end of that term (same model, seed and paths; the long-range model carries it) and the term is
    costed on those paths; otherwise the forecast's last year is carried forward with the planned growth.

    Returns
    -------
    dict
        ``term`` (:class:`optimizer.term.TermCosting`), ``renewal``, ``calendar`` and ``holdings`` frames.
    """
    years = plan_years(cap.plan)
    fs = sc.demand.forecast
    demand = None
    if long_forecast and years * HOURS_PER_YEAR > hours:
        # the forecaster reaches 3 years (forecasting.checks.check_horizon); a tranche bought later in a
        # laddered plan ends beyond that, and its last months carry the third year forward with the growth
        long_h = int(min(years, 3) * HOURS_PER_YEAR)
        lfc = forecast_scenario(sc, hist, hours=long_h, mapper=mapper, progress=progress)
        assert lfc.paths is not None
        series, _, _, values = paths_to_array(family_level(lfc.paths, sc), what="long-range paths")
        demand = values[[series.index(f) for f in cap.inputs.families]]
        notes.append(f"full-term costs: the scenario forecast again over {long_h // 8760} years ({fs.n_paths} "
                     f"paths, model '{fs.model}', growth {fs.growth_rate_per_year:+.1%}/year) to cost the terms "
                     f"(the last purchase ends in plan year {years})")
    held = cur if cur.name == "current" else None
    term = term_costing(cap.plan, cap.inputs, demand=demand, growth_per_year=fs.growth_rate_per_year,
                        references={"current": held} if held is not None else None)
    notes += [f"full-term costs: {n}" for n in term.notes]
    holdings = holdings_table(sc, start, hours)
    for r in holdings.to_dict("records"):
        what = f"{r['kind']} {r['family']} {r['quantity']:g} {r['unit']} ({r['term_years']}y)".replace("  ", " ")
        if r["status"] == "expires in the plan window":
            notes.append(f"holding {what} expires {pd.Timestamp(r['end']):%Y-%m-%d} (on the purchase calendar)")
        elif r["status"] == "expired before the plan":
            notes.append(f"holding {what} expired before the plan start and is not counted")
    return {"term": term, "renewal": renewal_comparison(cap.plan, cap.inputs),
            "calendar": purchase_calendar(cap.plan, cap.inputs, held), "holdings": holdings}


def plan_backtest(sc: Scenario, hist: HistoryData, mapper: Mapper, notes: list[str]) -> dict[str, Any]:
    """The rolling-origin backtest of ``sc.backtest`` on the plan's history, for the report.

    A history too short for one origin is not an error of the plan: the backtest is left out and a note says
    why (``gpuplan backtest`` on its own reports the same as an error).

    Returns
    -------
    dict
        ``{"backtest": BacktestResult}``, or ``{"backtest_skipped": reason}``.
    """
    from gpuplan.backtest import run_backtest  # it imports this module's forecast steps

    b = sc.backtest
    try:
        res = run_backtest(sc, n_origins=b.origins, min_train_days=b.min_train_days,
                           min_eval_days=b.min_eval_days, history=hist, mapper=mapper)
    except InputError as e:
        reason = f"backtest left out: {e.message}"
        notes.append(reason)
        return {"backtest_skipped": reason}
    return {"backtest": res}


def spare_reserved_gpus(sim: SimulationResult, families: list[str]) -> dict[str, float]:
    """Mean reserved GPUs left idle per family in a simulation (its first replication) [GPUs]."""
    h = sim.hourly
    idle = h[(h["pool"] == "reserved") & (h["commitment_status"] == "Unused")]
    per = idle.groupby("family")["gpus"].mean() if len(idle) else pd.Series(dtype=float)
    return {f: float(per.get(f, 0.0)) for f in families}


def _schedule(sc: Scenario, jobs: pd.DataFrame, carbon: pd.DataFrame, price: pd.DataFrame,
              reserved: dict[str, float], mapper: Mapper, prices: tuple[float, ...], notes: list[str]
              ) -> tuple[ScheduleResult | None, pd.DataFrame]:
    try:
        sin = schedule_inputs(jobs, carbon, price, sc, reserved_gpus=reserved)
        s = sc.solver
        sched = optimize_schedule(sin, solver=s.name, time_limit_s=s.time_limit_s, mip_gap=s.mip_gap)
        pareto = schedule_pareto(sin, carbon_prices=prices, solver=s.name, time_limit_s=s.time_limit_s,
                                 mip_gap=s.mip_gap, mapper=mapper) if prices else pd.DataFrame()
    except InputError as exc:
        notes.append(f"schedule not computed: {exc.one_line()}")
        return None, pd.DataFrame()
    return sched, pareto


def schedule_replay(arrival: SimulationResult, replayed: SimulationResult) -> dict[str, float]:
    """Saving of the training jobs' energy cost and carbon that the simulator realizes with a schedule.

    Both runs use the same plan, seed and replications (common random numbers); the saving is paired per
    replication, so its standard error is that of the per-replication differences.

    Parameters
    ----------
    arrival
        The simulation with jobs run on arrival.
    replayed
        The same simulation replaying the schedule.

    Returns
    -------
    dict
        ``energy_cost_saved_usd`` [USD], ``energy_cost_saved_se_usd`` [USD], ``energy_cost_saved_pct`` [%],
        ``carbon_saved_kg`` [kg CO2e], ``carbon_saved_se_kg`` [kg CO2e], ``carbon_saved_pct`` [%],
        ``arrival_energy_cost_usd`` [USD], ``arrival_kg_co2e`` [kg CO2e], ``replications``,
        ``deadline_misses_arrival``, ``deadline_misses_replay`` (mean jobs per replication).
    """
    out: dict[str, float] = {}
    per = {}
    for name, sim in (("a", arrival), ("s", replayed)):
        j = sim.jobs
        per[name] = j.groupby("replication")[["energy_usd", "kg_co2e"]].sum()
        miss = j["deadline_met"].fillna(True).eq(False)  # NA: no deadline, or not known by the window's end
        out["deadline_misses_" + ("arrival" if name == "a" else "replay")] = float(
            miss.groupby(j["replication"]).sum().mean())
    a, s = per["a"], per["s"].reindex(per["a"].index)
    n = len(a)
    for col, key, unit in (("energy_usd", "energy_cost", "usd"), ("kg_co2e", "carbon", "kg")):
        d = (a[col] - s[col]).to_numpy(dtype=float)
        base = float(a[col].mean())
        out[f"{key}_saved_{unit}"] = float(d.mean())
        out[f"{key}_saved_se_{unit}"] = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        out[f"{key}_saved_pct"] = 100.0 * float(d.mean()) / base if base else float("nan")
    out["arrival_energy_cost_usd"] = float(a["energy_usd"].mean())
    out["arrival_kg_co2e"] = float(a["kg_co2e"].mean())
    out["replications"] = float(n)
    return out


def lever_table(sims: dict[str, SimulationResult], no_spot: SimulationResult,
                sched: ScheduleResult | None, replay: dict[str, float] | None = None) -> pd.DataFrame:
    """Saving of each lever in this scenario beside the range practitioners quote.

    The scheduling lever's saving is the one the simulator realizes replaying the schedule (``replay``, from
    :func:`schedule_replay`), with the optimizer's estimate in ``how``; without ``replay`` the estimate.

    Columns: ``lever, saving_usd, saving_pct, of_what, typical_low_pct, typical_high_pct, where, how``.
    """
    rows: list[dict[str, Any]] = []

    def add(lever: str, saving: float, base: float, of_what: str, how: str) -> None:
        pct = 100.0 * saving / base if base else float("nan")
        rng = LEVER_RANGES[lever]
        lo, hi = (rng if rng else (float("nan"), float("nan")))
        if rng is None or not np.isfinite(pct):
            where = "no published range" if rng is None else ""
        elif pct < lo:
            where = "below the typical range"
        elif pct > hi:
            where = "above the typical range"
        else:
            where = "within the typical range"
        rows.append({"lever": lever, "saving_usd": saving, "saving_pct": pct, "of_what": of_what,
                     "typical_low_pct": lo, "typical_high_pct": hi, "where": where, "how": how})

    aod = sims["all-on-demand"]
    # Spot: the spot-eligible work priced on demand vs on spot (lost work and restarts included).
    cost_ns = no_spot.kpi("total_cost_usd")
    cost_sp = aod.kpi("total_cost_usd")
    moved = no_spot.kpi("cost_on_demand_usd") - aod.kpi("cost_on_demand_usd")
    add("spot with checkpointing", cost_ns - cost_sp, moved,
        "on-demand cost of the work moved to spot",
        f"all-on-demand with spot vs without; spot bill {aod.kpi('cost_spot_usd'):,.0f} USD incl. lost work "
        f"({aod.kpi('demand_lost_gpu_hours') + aod.kpi('job_lost_gpu_hours'):,.0f} GPU-hours lost to interruptions)")
    rec = sims["recommended"]
    add("reserved or committed capacity", cost_sp - rec.kpi("total_cost_usd"), cost_sp,
        "all-on-demand (with spot) cost", "recommended plan vs all on-demand, both with spot")
    ref_name = "current" if "current" in sims else ("trailing-30d" if "trailing-30d" in sims else None)
    if ref_name is not None:
        ref = sims[ref_name]
        idle_ref = _idle_cost(ref)
        idle_rec = _idle_cost(rec)
        add("right-sizing idle capacity", idle_ref - idle_rec, ref.kpi("total_cost_usd"),
            f"cost of the '{ref_name}' plan",
            f"idle commitment cost of '{ref_name}' ({idle_ref:,.0f} USD) minus the recommendation's "
            f"({idle_rec:,.0f} USD)")
    if sched is not None and replay is not None:
        s = sched.summary()
        add("carbon- or price-aware scheduling", replay["energy_cost_saved_usd"], replay["arrival_energy_cost_usd"],
            "energy cost of running the training jobs on arrival (simulated)",
            f"optimised schedule replayed in the simulator vs run on arrival (+/- "
            f"{replay['energy_cost_saved_se_usd']:,.2f} USD standard error); optimizer's estimate "
            f"{s['as_run_energy_cost_saved_pct']:.1f} %; carbon saved {replay['carbon_saved_pct']:.1f} % "
            f"(estimate {s['as_run_carbon_saved_pct']:.1f} %)")
    elif sched is not None:
        s = sched.summary()
        a = sched.arrival
        add("carbon- or price-aware scheduling", float(s["energy_cost_saved_usd"]), float(a["energy_cost_usd"]),
            "energy cost of running the training jobs on arrival",
            f"optimised schedule vs run on arrival (optimizer's estimate); carbon saved {s['carbon_saved_pct']:.1f} %")
    return pd.DataFrame(rows)


def _idle_cost(sim: SimulationResult) -> float:
    """Mean idle commitment cost [USD]: idle reserved GPU-hours at each family's own reserved rate, plus
    unused committed spend (the simulator's ``idle_commitment_usd``; showback allocates the same total)."""
    return float(sim.kpis["idle_commitment_usd"].mean())
