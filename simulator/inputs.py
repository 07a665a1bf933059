"""The immutable, validated description of one simulation: fleet, jobs, fluid demand, signals, policies.

:func:`build_inputs` turns a :class:`~scenarios.schema.Scenario`, a :class:`~scenarios.plan.CapacityPlan` and
input frames into a :class:`SimulationInputs` of plain arrays indexed by hour of the window (hour 0 = the
plan start).  The engine (:mod:`simulator.engine`, :mod:`simulator.fluid`) only reads it.  Arrays are made
read-only so a description cannot change under a running replication.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.plan import CapacityPlan, current_plan
from scenarios.readers import hourly_window
from scenarios.schema import HOURS_PER_MONTH, HOURS_PER_YEAR, Scenario
from simulator.checkpoint import young_daly_interval
from simulator.checks import check_demand, check_jobs, check_schedule

INF = math.inf
DEFAULT_GPUS_PER_INSTANCE = 8.0
#: Hours of slack added to the default horizon of a jobs-only run (room for queueing and restarts).
HORIZON_SLACK_HOURS = 24


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class FamilyFleet:
    """Capacity, prices, interruptions and energy of one GPU family over the window.

    Attributes
    ----------
    name, region
        Family slug and grid region.
    on_demand_usd_per_gpu_hour
        On-demand list price [USD/GPU-hour].
    committed_discount
        ``(term, discount)`` pairs: savings-plan discount off on-demand per term ('1y', '3y') [fraction].
    reserved_gpus
        Reserved GPUs active in each hour [GPUs].
    reserved_usd_per_hour
        Cost of those reservations in each hour, paid whether used or not [USD/h].
    on_demand_quota_gpus
        Cap on on-demand instances (committed + on-demand) [GPUs]; ``inf`` when unlimited.
    provisioning_delay_hours
        Delay before an on-demand instance is usable [h].
    spot_offered
        Whether the family has spot capacity.
    spot_usd_per_gpu_hour, spot_available_gpus
        Hourly spot price [USD/GPU-hour] and cap on spot GPUs [GPUs].
    spot_hazard_per_hour
        Interruption hazard of one spot instance [1/h].
    gpus_per_instance
        GPUs in one instance [GPUs]: a job on ``g`` GPUs spans ``ceil(g / gpus_per_instance)`` instances.
    correlated_events_per_hour, correlated_share
        Rate of correlated revocations [1/h] and share of the family's spot GPUs each one takes [fraction].
    drought_events_per_hour, drought_mean_hours
        Rate of capacity droughts [1/h] and their mean length [h]; no spot during a drought.
    gpu_power_kw, pue
        Power of one busy GPU incl. host share [kW] and the site's PUE [-].
    carbon_gco2_per_kwh, energy_usd_per_mwh
        Hourly grid signals of the region [gCO2e/kWh], [USD/MWh]; NaN when not given.
    """

    name: str
    region: str
    on_demand_usd_per_gpu_hour: float
    committed_discount: tuple[tuple[str, float], ...]
    reserved_gpus: np.ndarray
    reserved_usd_per_hour: np.ndarray
    on_demand_quota_gpus: float
    provisioning_delay_hours: float
    spot_offered: bool
    spot_usd_per_gpu_hour: np.ndarray
    spot_available_gpus: np.ndarray
    spot_hazard_per_hour: float
    gpus_per_instance: float
    correlated_events_per_hour: float
    correlated_share: float
    drought_events_per_hour: float
    drought_mean_hours: float
    gpu_power_kw: float
    pue: float
    carbon_gco2_per_kwh: np.ndarray
    energy_usd_per_mwh: np.ndarray

    def discount(self, term: str) -> float | None:
        """Savings-plan discount for ``term`` [fraction], or None when the term does not cover this family."""
        for t, d in self.committed_discount:
            if t == term:
                return d
        return None

    @property
    def reserved_usd_per_gpu_hour(self) -> np.ndarray:
        """Effective reserved rate per hour [USD/GPU-hour] (0 where nothing is reserved)."""
        g = self.reserved_gpus
        return np.divide(self.reserved_usd_per_hour, g, out=np.zeros_like(g), where=g > 0)

    def fleet_hazard_per_hour(self) -> float:
        """Rate of fleet-wide events that hit a given spot GPU: correlated revocations and droughts [1/h]."""
        return self.correlated_events_per_hour * self.correlated_share + self.drought_events_per_hour

    @property
    def kw_per_gpu(self) -> float:
        """Power drawn at the meter by one busy GPU [kW] (``gpu_power_kw x pue``)."""
        return self.gpu_power_kw * self.pue


@dataclass(frozen=True)
class JobSet:
    """The discrete training jobs, as arrays in jobs-table order (times in hours from the plan start).

    ``runs`` (empty without a schedule) holds, per job, the planned runs ``(start [h], length [h])`` of an
    optimizer schedule: the job runs only in them (pausing with a checkpoint between runs) and, if work is
    left after the last one, goes on at once.  A job without runs runs as soon as it can.
    """

    job_id: np.ndarray
    team_names: tuple[str, ...]
    submit: np.ndarray
    release: np.ndarray
    gpus: np.ndarray
    duration: np.ndarray
    family: np.ndarray
    team: np.ndarray
    deadline: np.ndarray
    preemptible: np.ndarray
    priority: np.ndarray
    checkpoint_given: np.ndarray
    tau_spot: np.ndarray
    tau_other: np.ndarray
    hazard_spot: np.ndarray
    runs: tuple[tuple[tuple[float, float], ...], ...] = ()

    def __len__(self) -> int:
        return len(self.job_id)


@dataclass(frozen=True)
class PolicySettings:
    """Pluggable policies and guardrails (from ``scenario.policies``)."""

    fallback_after_interruptions: int = 3
    deadline_fallback: bool = True
    deferral: Literal["none", "threshold", "schedule"] = "none"
    job_budget_cap_usd: float = INF
    team_quota_gpus: tuple[float, ...] = ()
    carbon_price_usd_per_tonne: float = 0.0


@dataclass(frozen=True)
class SimulationInputs:
    """Everything one replication needs, validated, as read-only arrays over ``hours`` hours.

    Attributes
    ----------
    start
        Plan start, hour 0 (UTC).
    hours
        Length of the window [h].
    families
        One :class:`FamilyFleet` per catalog family.
    committed
        ``(term, usd_per_hour array)`` per commitment term [USD/h].
    jobs
        The discrete jobs.
    demand
        Aggregate demand sample paths ``(samples, families, hours)`` [GPUs], or None.
    preemptible_share
        Share of aggregate demand that may run on spot [fraction].
    checkpoint_cost_hours, restart_cost_hours
        Checkpoint write time and restart time [h].
    policies
        Policy settings.
    plan_name, scenario_name
        Labels.
    notes
        What was assumed or converted on the way in.
    demand_teams
        Teams the aggregate demand is split among in showback (see :func:`with_demand_teams`).
    demand_team_share
        Each team's share of each family's demand per sample path and hour, ``(samples, teams, families,
        hours)`` [fraction], or None (the whole demand shows as one ``(demand)`` row).
    """

    start: pd.Timestamp
    hours: int
    families: tuple[FamilyFleet, ...]
    committed: tuple[tuple[str, np.ndarray], ...]
    jobs: JobSet
    demand: np.ndarray | None
    preemptible_share: float
    checkpoint_cost_hours: float
    restart_cost_hours: float
    policies: PolicySettings
    plan_name: str = "plan"
    scenario_name: str = "scenario"
    notes: tuple[str, ...] = field(default=())
    demand_teams: tuple[str, ...] = field(default=())
    demand_team_share: np.ndarray | None = None

    @property
    def family_names(self) -> list[str]:
        """Family slugs in catalog order."""
        return [f.name for f in self.families]

    @property
    def n_samples(self) -> int:
        """Number of demand sample paths (0 without aggregate demand)."""
        return 0 if self.demand is None else int(self.demand.shape[0])

    def committed_total(self) -> np.ndarray:
        """Committed spend per hour over all terms [USD/h]."""
        tot = np.zeros(self.hours)
        for _, arr in self.committed:
            tot = tot + arr
        return tot

    def without_demand(self) -> SimulationInputs:
        """A copy without the demand paths (replications carry their own path and team shares)."""
        return replace(self, demand=None, demand_team_share=None)


# ---------------------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------------------
def _term_label(term_years: int, what: str) -> str:
    if term_years not in (1, 3):
        raise InputError(f"{what}: term_years must be 1 or 3, got {term_years}", column="term_years")
    return f"{term_years}y"


def _active(start_hour: int, term_years: int, hours: int) -> slice:
    a = max(int(start_hour), 0)
    b = min(int(start_hour) + round(term_years * HOURS_PER_YEAR), hours)
    return slice(a, max(a, b))


def _to_hours(ts: pd.Series, start: pd.Timestamp) -> np.ndarray:
    d = (ts - start).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan) / 3600.0
    return np.where(np.isnan(d), INF, d)


def _gpus_per_instance(instance_type: str | None) -> float:
    if not instance_type:
        return DEFAULT_GPUS_PER_INSTANCE
    from scenarios.catalog import instance_gpus

    found = instance_gpus(instance_type)
    return float(found[1]) if found and found[1] >= 1 else DEFAULT_GPUS_PER_INSTANCE


def _next_ok(ok: np.ndarray) -> np.ndarray:
    """``nxt[h]`` = first hour ``>= h`` where ``ok`` holds (``len(ok)`` when none)."""
    n = len(ok)
    idx = np.where(ok, np.arange(n), n)
    return np.minimum.accumulate(idx[::-1])[::-1] if n else idx


def _window(scenario: Scenario, jdf: pd.DataFrame | None, ddf: pd.DataFrame | None,
            start: pd.Timestamp | None, hours: int | None) -> tuple[pd.Timestamp, int]:
    t0: pd.Timestamp | None = None
    if start is not None:
        t0 = pd.Timestamp(start)
    elif scenario.start is not None:
        t0 = pd.Timestamp(scenario.start)
    elif ddf is not None and len(ddf):
        t0 = pd.Timestamp(ddf["timestamp"].min())
    elif jdf is not None and len(jdf):
        t0 = pd.Timestamp(jdf["submit_time"].min()).floor("h")
    if t0 is None:
        raise InputError("no plan start: no start, no demand and no jobs", column="start",
                         fix="pass start= (a UTC timestamp)")
    if t0.tzinfo is None:
        raise InputError(f"plan start {t0} has no time zone", column="start", fix="give a UTC timestamp")
    t0 = t0.tz_convert("UTC")
    if t0 != t0.floor("h"):
        raise InputError(f"plan start {t0} is not on a whole hour", column="start", fix="round it to the hour")
    if hours is None:
        hours = scenario.simulation.horizon_hours
    if hours is None:
        if ddf is not None and len(ddf):
            hours = int((ddf["timestamp"].max() - t0) / pd.Timedelta(hours=1)) + 1
        elif jdf is not None and len(jdf):
            sub = _to_hours(jdf["submit_time"], t0)
            ends = sub + 2.0 * jdf["duration_hours"].to_numpy(dtype=float)
            hours = math.ceil(float(np.max(ends))) + HORIZON_SLACK_HOURS
        else:
            raise InputError("no window length: no hours, no demand and no jobs", column="hours",
                             fix="pass hours=")
    hours = int(hours)
    if hours < 1:
        raise InputError(f"the window must be at least one hour, got {hours}", column="hours")
    return t0, hours


def simulation_window(scenario: Scenario, *, jobs: pd.DataFrame | None = None, demand: pd.DataFrame | None = None,
                      start: pd.Timestamp | None = None, hours: int | None = None) -> tuple[pd.Timestamp, int]:
    """The window ``(start, hours)`` :func:`build_inputs` will simulate, e.g. to load signals for it first.

    ``start``: the argument, else ``scenario.start``, else the demand's first hour, else the first
    submission's hour.  ``hours``: the argument, else ``scenario.simulation.horizon_hours``, else the
    demand's length, else the jobs' last ``submit + 2 x duration`` plus 24 h (room for queueing and
    restarts; jobs still running at the end are reported ``unfinished``).
    """
    fams = scenario.families
    jdf = check_jobs(jobs, fams, scenario.workload.family or fams[0]) if jobs is not None else None
    ddf = check_demand(demand, fams) if demand is not None else None
    return _window(scenario, jdf, ddf, start, hours)


def _plan_arrays(plan: CapacityPlan, fams: list[str], hours: int
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Reserved GPUs and their cost per family and hour, and committed spend per term and hour."""
    res_gpus = {f: np.zeros(hours) for f in fams}
    res_usd = {f: np.zeros(hours) for f in fams}
    for p in plan.reserved:
        if p.family not in res_gpus:
            raise InputError(f"plan '{plan.name}' reserves family '{p.family}', which is not in the catalog",
                             column="reserved.family", fix=f"use one of {fams}")
        if p.gpus < 0 or p.usd_per_gpu_hour < 0:
            raise InputError(f"plan '{plan.name}': negative reservation for '{p.family}'", column="reserved")
        sl = _active(p.start_hour, p.term_years, hours)
        res_gpus[p.family][sl] += p.gpus
        res_usd[p.family][sl] += p.gpus * p.usd_per_gpu_hour
    committed: dict[str, np.ndarray] = {}
    for c in plan.committed:
        term = _term_label(c.term_years, f"plan '{plan.name}' commitment")
        if c.usd_per_hour < 0:
            raise InputError(f"plan '{plan.name}': negative commitment {c.usd_per_hour}", column="committed")
        arr = committed.setdefault(term, np.zeros(hours))
        arr[_active(c.start_hour, c.term_years, hours)] += c.usd_per_hour
    return res_gpus, res_usd, committed


def with_plan(inputs: SimulationInputs, plan: CapacityPlan) -> SimulationInputs:
    """The same description with another capacity plan (jobs, demand and signals are reused as validated).

    Comparing several plans on one workload then costs one :func:`build_inputs` and one cheap swap per plan.

    Examples
    --------
    >>> # inputs = build_inputs(sc, plan_a, jobs=jobs, demand=paths, ...)
    >>> # results = {p.name: run(with_plan(inputs, p)) for p in (plan_a, plan_b)}
    """
    fams = inputs.family_names
    res_gpus, res_usd, committed = _plan_arrays(plan, fams, inputs.hours)
    fleets = tuple(replace(fl, reserved_gpus=_ro(res_gpus[fl.name]), reserved_usd_per_hour=_ro(res_usd[fl.name]))
                   for fl in inputs.families)
    notes = [n for n in inputs.notes if not n.startswith("commitment term ")]
    for term in committed:
        if not any(fl.discount(term) is not None for fl in inputs.families):
            notes.append(f"commitment term {term} covers no family (no committed_discount for it): all unused")
    return replace(inputs, families=fleets, committed=tuple((t, _ro(a)) for t, a in sorted(committed.items())),
                   plan_name=plan.name, notes=tuple(notes))


def with_demand_teams(inputs: SimulationInputs, team_demand: pd.DataFrame) -> SimulationInputs:
    """The same description with its aggregate demand split among teams for showback.

    Parameters
    ----------
    inputs
        A description with aggregate demand (``build_inputs(..., demand=...)``).
    team_demand
        Team-level demand paths ``family, team, timestamp, sample_id, gpus`` [GPUs] on the same sample paths
        and hours as the aggregate demand (e.g. the forecaster's reconciled ``family/team`` series).  A team's
        share of family ``f`` in hour ``h`` of a path is its GPUs over the sum of the teams' GPUs there
        (negative values count as 0); where no team has demand, the hour stays in ``(demand)``.

    Raises
    ------
    InputError
        Missing columns, unknown families, or sample paths the aggregate demand does not have.
    """
    if inputs.demand is None:
        raise InputError("no aggregate demand to split among teams", column="demand")
    need = {"family", "team", "timestamp", "sample_id", "gpus"}
    missing = sorted(need - set(team_demand.columns))
    if missing:
        raise InputError(f"team demand lacks column(s) {missing}", file="team demand", column=missing[0],
                         fix="give family, team, timestamp, sample_id, gpus")
    fams = inputs.family_names
    unknown = sorted(set(team_demand["family"].astype(str)) - set(fams))
    if unknown:
        raise InputError(f"team demand names unknown families {unknown}", file="team demand", column="family",
                         fix=f"use the catalog's families {fams}")
    S, F, H = inputs.demand.shape
    sids = np.sort(team_demand["sample_id"].unique())
    if len(sids) != S:
        raise InputError(f"team demand has {len(sids)} sample paths, the aggregate demand {S}",
                         file="team demand", column="sample_id", fix="give the same sample paths")
    teams = tuple(sorted(set(team_demand["team"].astype(str))))
    ts = pd.to_datetime(team_demand["timestamp"], utc=True)
    hour = ((ts - inputs.start) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
    inside = (hour >= 0) & (hour < H)
    sub = team_demand[inside]
    gpus = np.zeros((S, len(teams), F, H))
    si = np.searchsorted(sids, sub["sample_id"].to_numpy())
    ti = sub["team"].astype(str).map({t: i for i, t in enumerate(teams)}).to_numpy(dtype=np.int64)
    fi = sub["family"].astype(str).map({f: i for i, f in enumerate(fams)}).to_numpy(dtype=np.int64)
    np.add.at(gpus, (si, ti, fi, hour[inside].astype(np.int64)), np.maximum(sub["gpus"].to_numpy(dtype=float), 0))
    tot = gpus.sum(axis=1, keepdims=True)
    share = np.divide(gpus, tot, out=np.zeros_like(gpus), where=tot > 0)
    return replace(inputs, demand_teams=teams, demand_team_share=_ro(share))


def build_inputs(
    scenario: Scenario,
    plan: CapacityPlan | None = None,
    *,
    jobs: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    carbon: pd.DataFrame | None = None,
    price: pd.DataFrame | None = None,
    spot: pd.DataFrame | None = None,
    schedule: pd.DataFrame | None = None,
    start: pd.Timestamp | None = None,
    hours: int | None = None,
) -> SimulationInputs:
    """Validate the inputs and build the immutable description of a simulation.

    Parameters
    ----------
    scenario
        The scenario: catalog (prices, spot offers, power), workload settings, policies.
    plan
        Reservations and commitments to evaluate; default: the scenario's current commitments.
    jobs
        ``jobs`` table (``job_id, submit_time, gpus, duration_hours`` + optional columns).
    demand
        Aggregate hourly demand served as a fluid load: ``family, timestamp, gpus`` (optionally
        ``sample_id``) or forecast ``paths`` (``series_id, timestamp, sample_id, gpus``) [GPUs].
    carbon, price
        ``carbon`` (``region, timestamp, gco2_per_kwh``) and ``price`` (``region, timestamp, usd_per_mwh``)
        tables covering the window; without them carbon and energy cost are NaN.
    spot
        ``spot`` table (``family, timestamp, usd_per_gpu_hour[, available_gpus]``); default: each offer's
        constant price level and ``available_gpus``.
    schedule
        Optimizer schedule (``job_id, timestamp, gpus``): every scheduled job is replayed as planned, in
        every scheduled hour and for the fraction of the hour its GPUs say (:func:`simulator.checks.check_schedule`).
    start
        Plan start (hour 0); default ``scenario.start``, else the demand's first hour, else the first
        submission's hour.
    hours
        Window length [h]; default ``scenario.simulation.horizon_hours``, else the demand's length, else
        the jobs' span plus twice the longest job plus 24 h.

    Returns
    -------
    SimulationInputs

    Raises
    ------
    InputError
        Bad or inconsistent input, with the table, row or column and the fix.
    """
    notes: list[str] = []
    if plan is None:  # holdings with dates expire on their own dates from a known, tz-aware start
        t_start = pd.Timestamp(start) if start is not None else None
        aware = t_start is not None and t_start.tzinfo is not None
        plan = current_plan(scenario, t_start.tz_convert("UTC") if aware and t_start is not None else None)
    fams = scenario.families
    default_family = scenario.workload.family or fams[0]
    jdf = check_jobs(jobs, fams, default_family) if jobs is not None else None
    ddf = check_demand(demand, fams) if demand is not None else None
    if (jdf is None or len(jdf) == 0) and ddf is None:
        raise InputError("nothing to simulate: no jobs and no aggregate demand", column="jobs",
                         fix="pass jobs= (a jobs table) and/or demand= (hourly GPUs per family)")

    # -- window ------------------------------------------------------------------------------------
    t0, hours = _window(scenario, jdf, ddf, start, hours)

    # -- signals -------------------------------------------------------------------------------------
    regions = sorted({scenario.catalog[f].region for f in fams})
    carbon_by = (hourly_window(carbon, "region", regions, "gco2_per_kwh", t0, hours, table="carbon")
                 if carbon is not None else None)
    price_by = (hourly_window(price, "region", regions, "usd_per_mwh", t0, hours, table="price",
                              allow_negative=True) if price is not None else None)
    if carbon is None:
        notes.append("no carbon table: kg CO2e is not computed (NaN)")
    if price is None:
        notes.append("no electricity price table: energy cost is not computed (NaN)")
    spot_fams = [f for f in fams if scenario.catalog[f].spot is not None]
    spot_price_by: dict[str, np.ndarray] = {}
    spot_avail_by: dict[str, np.ndarray] = {}
    if spot is not None and len(spot):
        present = sorted(set(spot["family"].astype(str)))
        extra = [f for f in present if f not in spot_fams]
        if extra:
            notes.append(f"spot table rows for {extra} ignored: those families have no spot offer in the catalog")
        have = [f for f in spot_fams if f in present]
        spot_price_by = hourly_window(spot, "family", have, "usd_per_gpu_hour", t0, hours, table="spot")
        if "available_gpus" in spot.columns:
            spot_avail_by = hourly_window(spot, "family", have, "available_gpus", t0, hours, table="spot")

    # -- plan ----------------------------------------------------------------------------------------
    res_gpus, res_usd, committed = _plan_arrays(plan, fams, hours)
    for term in committed:
        if not any(term in scenario.catalog[f].committed_discount for f in fams):
            notes.append(f"commitment term {term} covers no family (no committed_discount for it): all unused")

    # -- fleet ---------------------------------------------------------------------------------------
    fleets = []
    nan = np.full(hours, np.nan)
    delta = float(scenario.workload.checkpoint_cost_hours)
    for f in fams:
        gf = scenario.catalog[f]
        offer = gf.spot
        if offer is not None:
            if f in spot_price_by:
                sp = spot_price_by[f]
            else:
                level, note = offer.level_without_table(f)
                sp = np.full(hours, level)
                if note:
                    notes.append(note)
            av = spot_avail_by.get(f, np.full(hours, float(offer.available_gpus)))
            hz = offer.hazard()
            corr = offer.correlated_events_per_month / HOURS_PER_MONTH
            share = offer.correlated_share
            dr = offer.drought_events_per_month / HOURS_PER_MONTH
            drh = offer.drought_hours
        else:
            sp, av, hz, corr, share, dr, drh = nan, np.zeros(hours), 0.0, 0.0, 0.0, 0.0, 0.0
        fleets.append(FamilyFleet(
            name=f, region=gf.region, on_demand_usd_per_gpu_hour=float(gf.on_demand_usd_per_gpu_hour),
            committed_discount=tuple(sorted((str(k), float(v)) for k, v in gf.committed_discount.items())),
            reserved_gpus=_ro(res_gpus[f]), reserved_usd_per_hour=_ro(res_usd[f]),
            on_demand_quota_gpus=INF if gf.on_demand_quota_gpus is None else float(gf.on_demand_quota_gpus),
            provisioning_delay_hours=float(gf.provisioning_delay_hours),
            spot_offered=offer is not None and bool(np.any(av > 0)),
            spot_usd_per_gpu_hour=_ro(np.asarray(sp, dtype=float)), spot_available_gpus=_ro(np.asarray(av, float)),
            spot_hazard_per_hour=float(hz), gpus_per_instance=_gpus_per_instance(gf.instance_type),
            correlated_events_per_hour=float(corr), correlated_share=float(share),
            drought_events_per_hour=float(dr), drought_mean_hours=float(drh),
            gpu_power_kw=float(gf.gpu_power_kw), pue=float(gf.pue),
            carbon_gco2_per_kwh=_ro(carbon_by[gf.region] if carbon_by else nan),
            energy_usd_per_mwh=_ro(price_by[gf.region] if price_by else nan),
        ))

    # -- demand --------------------------------------------------------------------------------------
    dem: np.ndarray | None = None
    if ddf is not None:
        samples = sorted(set(ddf["sample_id"].tolist()))
        dem = np.zeros((len(samples), len(fams), hours))
        sidx = {s: i for i, s in enumerate(samples)}
        hour = ((ddf["timestamp"] - t0) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
        inside = (hour >= 0) & (hour < hours)
        if (~inside).any():
            notes.append(f"{int((~inside).sum()):,} demand rows outside the {hours} h window were not simulated")
        sub = ddf[inside]
        hi = hour[inside].astype(np.int64)
        fi = sub["family"].map({f: i for i, f in enumerate(fams)}).to_numpy(dtype=np.int64)
        si = sub["sample_id"].map(sidx).to_numpy(dtype=np.int64)
        dem[si, fi, hi] = sub["gpus"].to_numpy(dtype=float)
        seen = np.zeros_like(dem, dtype=bool)
        seen[si, fi, hi] = True
        for k, f in enumerate(fams):
            has = seen[:, k, :]
            if has.any() and not has.all():
                s_bad, h_bad = np.argwhere(~has)[0]
                raise InputError(f"demand for '{f}' (sample {samples[int(s_bad)]}) has no value for hour "
                                 f"{t0 + pd.Timedelta(hours=int(h_bad))}", file="demand table", column="gpus",
                                 fix="give every hour of the window (missing is not zero), or shorten hours=")
            if not has.any():
                notes.append(f"no aggregate demand for family '{f}': its fluid load is 0")
        dem = _ro(dem)

    # -- jobs ----------------------------------------------------------------------------------------
    job_set = _build_jobs(jdf, scenario, fleets, t0, hours, delta, schedule, notes)

    pol = scenario.policies
    deferral = pol.deferral
    if schedule is not None and deferral != "schedule":
        notes.append("schedule table given: jobs run in their scheduled hours, pausing between them")
    quotas = tuple(float(pol.team_quotas_gpus.get(t, INF)) for t in job_set.team_names)
    unknown_q = sorted(set(pol.team_quotas_gpus) - set(job_set.team_names))
    if unknown_q:
        notes.append(f"team quotas for {unknown_q} apply to no job")
    if quotas and len(job_set):
        too_big = job_set.gpus > np.array(quotas)[job_set.team]
        if too_big.any():
            notes.append(f"{int(too_big.sum()):,} jobs need more GPUs than their team's quota and will never start")
    policies = PolicySettings(
        fallback_after_interruptions=int(pol.spot_fallback_after_interruptions),
        deadline_fallback=True,
        deferral=deferral,
        job_budget_cap_usd=INF if pol.job_budget_cap_usd is None else float(pol.job_budget_cap_usd),
        team_quota_gpus=quotas,
        carbon_price_usd_per_tonne=float(pol.carbon_price_usd_per_tonne),
    )
    return SimulationInputs(
        start=t0, hours=hours, families=tuple(fleets),
        committed=tuple((t, _ro(a)) for t, a in sorted(committed.items())),
        jobs=job_set, demand=dem, preemptible_share=float(scenario.demand.preemptible_share),
        checkpoint_cost_hours=delta, restart_cost_hours=float(scenario.workload.restart_cost_hours),
        policies=policies, plan_name=plan.name, scenario_name=scenario.name, notes=tuple(notes),
    )


def _build_jobs(jdf: pd.DataFrame | None, scenario: Scenario, fleets: list[FamilyFleet], t0: pd.Timestamp,
                hours: int, delta: float, schedule: pd.DataFrame | None, notes: list[str]) -> JobSet:
    fams = [f.name for f in fleets]
    if jdf is None:
        jdf = pd.DataFrame({c: [] for c in ("job_id", "submit_time", "gpus", "duration_hours", "family", "team",
                                            "deadline", "preemptible", "checkpoint_interval_hours", "priority")})
        jdf["submit_time"] = pd.to_datetime(jdf["submit_time"], utc=True)
        jdf["deadline"] = pd.to_datetime(jdf["deadline"], utc=True)
    submit = _to_hours(jdf["submit_time"], t0)
    early = submit < 0
    if early.any():
        i = int(np.flatnonzero(early)[0])
        raise InputError(f"{int(early.sum()):,} jobs are submitted before the plan start {t0} "
                         f"(first: '{jdf['job_id'].iloc[i]}')", file="jobs table", row=i + 1, column="submit_time",
                         fix="pass an earlier start= or drop those jobs")
    all_jobs = jdf  # a schedule may name jobs that fall after the window
    late = submit >= hours
    if late.any():
        notes.append(f"{int(late.sum()):,} jobs submitted after the {hours} h window are not simulated")
        jdf = jdf[~late].reset_index(drop=True)
        submit = submit[~late]
    n = len(jdf)
    fam_idx = jdf["family"].map({f: i for i, f in enumerate(fams)}).to_numpy(dtype=np.int64)
    teams = tuple(sorted(set(jdf["team"].astype(str))))
    team_idx = jdf["team"].astype(str).map({t: i for i, t in enumerate(teams)}).to_numpy(dtype=np.int64)
    gpus = jdf["gpus"].to_numpy(dtype=np.int64)
    dur = jdf["duration_hours"].to_numpy(dtype=float)
    deadline = _to_hours(jdf["deadline"], t0)
    pre = jdf["preemptible"].to_numpy(dtype=bool)
    ck = jdf["checkpoint_interval_hours"].to_numpy(dtype=float, na_value=np.nan)
    prio = jdf["priority"].to_numpy(dtype=np.int64)

    tau_spot = np.empty(n)
    tau_other = np.empty(n)
    hz = np.zeros(n)
    for k, fl in enumerate(fleets):
        m = fam_idx == k
        if not m.any():
            continue
        inst = np.ceil(gpus[m] / fl.gpus_per_instance)
        hz[m] = inst * fl.spot_hazard_per_hour
        faced = hz[m] + fl.fleet_hazard_per_hour()
        auto = np.array([young_daly_interval(delta, x) for x in faced])
        tau_spot[m] = np.where(np.isnan(ck[m]), auto, ck[m])
        tau_other[m] = np.where(np.isnan(ck[m]), INF, ck[m])

    release = submit.copy()
    pol = scenario.policies
    runs: tuple[tuple[tuple[float, float], ...], ...] = ()
    if schedule is not None:
        plan = check_schedule(schedule, all_jobs, t0)
        runs = tuple(tuple(plan.get(str(k), ())) for k in jdf["job_id"])
        first = np.array([r[0][0] if r else np.nan for r in runs], dtype=float)
        release = np.maximum(release, np.where(np.isfinite(first), first, release))
        n_runs = sum(len(r) for r in runs)
        notes.append(f"{int(np.isfinite(first).sum()):,} of {n:,} jobs replayed as scheduled ({n_runs:,} runs)")
    elif pol.deferral == "schedule":
        raise InputError("policies.deferral = 'schedule' but no schedule table was passed", column="schedule",
                         fix="pass schedule= (the optimizer's job_id, timestamp, gpus table) or set deferral")
    elif pol.deferral == "threshold" and n:
        signal = "carbon_gco2_per_kwh" if pol.deferral_signal == "carbon" else "energy_usd_per_mwh"
        deferred = 0
        for k, fl in enumerate(fleets):
            m = np.flatnonzero(fam_idx == k)
            if not len(m):
                continue
            sig = getattr(fl, signal)
            if np.isnan(sig).all():
                raise InputError(f"threshold deferral on {pol.deferral_signal} needs the {pol.deferral_signal} "
                                 "table", column="policies.deferral_signal",
                                 fix=f"pass {'carbon' if pol.deferral_signal == 'carbon' else 'price'}=")
            thr = float(np.quantile(sig, pol.deferral_quantile))
            nxt = _next_ok(sig <= thr)
            h = np.minimum(np.floor(submit[m]).astype(np.int64), hours - 1)
            go = nxt[h].astype(float)
            latest = deadline[m] - dur[m]
            ok_now = go <= h
            can = (~ok_now) & (go < hours) & (go <= latest)
            release[m] = np.where(can, np.maximum(go, submit[m]), submit[m])
            deferred += int(can.sum())
        notes.append(f"threshold deferral on {pol.deferral_signal} (quantile {pol.deferral_quantile:g}): "
                     f"{deferred:,} of {n:,} jobs deferred to a lower-signal hour")
    return JobSet(
        job_id=_ro(jdf["job_id"].astype(str).to_numpy(dtype=object)), team_names=teams,
        submit=_ro(submit), release=_ro(release), gpus=_ro(gpus), duration=_ro(dur), family=_ro(fam_idx),
        team=_ro(team_idx), deadline=_ro(deadline), preemptible=_ro(pre), priority=_ro(prio),
        checkpoint_given=_ro(ck), tau_spot=_ro(tau_spot), tau_other=_ro(tau_other), hazard_spot=_ro(hz),
        runs=runs,
    )
