"""The scenario: the whole planning problem, validated with pydantic.

A scenario file is TOML.  Every field has a unit in its description; the JSON Schema exported by
``gpuplan scenario schema`` carries them to editors.  Defaults live here once; a scenario file holds only
what differs (``extends = "default"``).

Money is USD, rates are per GPU-hour, energy in kWh, carbon in kg CO2e, power in kW.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from scenarios.inference_config import Inference

Payment = Literal["all_upfront", "partial_upfront", "no_upfront"]
TermYears = Literal[1, 3]
Band = Literal["<5%", "5-10%", "10-15%", "15-20%", ">20%"]

#: Mid-points of AWS's monthly interruption-frequency bands (share of instances interrupted in a month).
BAND_MONTHLY_FREQUENCY: dict[str, float] = {
    "<5%": 0.025,
    "5-10%": 0.075,
    "10-15%": 0.125,
    "15-20%": 0.175,
    ">20%": 0.25,
}
HOURS_PER_MONTH = 730.0
HOURS_PER_YEAR = 8760.0

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class ReservedOffer(_Model):
    """A reserved-instance offer for one GPU family."""

    term_years: TermYears = Field(description="Term of the reservation [years]: 1 or 3.")
    payment: Payment = Field("no_upfront", description="Payment option: all_upfront, partial_upfront or no_upfront.")
    usd_per_gpu_hour: Pos = Field(
        description="Effective hourly rate including the amortised upfront payment [USD/GPU-hour]."
    )


class SpotOffer(_Model):
    """Spot capacity for one GPU family."""

    usd_per_gpu_hour: Pos | None = Field(None, description="Spot price level [USD/GPU-hour].")
    price_file: str | None = Field(
        None, description="CSV with columns timestamp, usd_per_gpu_hour [USD/GPU-hour]; overrides the level."
    )
    price_volatility: Share = Field(
        0.1, description="Relative hour-to-hour noise of the generated spot price [fraction of the level]."
    )
    interruption_band: Band | None = Field(
        "5-10%", description="Cloud monthly interruption-frequency band: <5%, 5-10%, 10-15%, 15-20%, >20%."
    )
    hazard_per_hour: NonNeg | None = Field(
        None, description="Interruption hazard per instance [1/h]; overrides the band when set."
    )
    available_gpus: NonNeg = Field(0.0, description="Cap on spot GPUs that can be held at once [GPUs].")
    correlated_events_per_month: NonNeg = Field(
        0.0, description="Rate of correlated revocations of the family's spot fleet [events/month]."
    )
    correlated_share: Share = Field(0.5, description="Share of the spot fleet lost in one correlated revocation.")
    drought_events_per_month: NonNeg = Field(0.0, description="Rate of capacity droughts [events/month].")
    drought_hours: NonNeg = Field(12.0, description="Mean length of a capacity drought [h].")

    @model_validator(mode="after")
    def _price_given(self) -> SpotOffer:
        if self.usd_per_gpu_hour is None and self.price_file is None:
            raise ValueError("give usd_per_gpu_hour or price_file")
        return self

    def hazard(self) -> float:
        """Interruption hazard per instance [1/h], from ``hazard_per_hour`` or the band's mid-point."""
        if self.hazard_per_hour is not None:
            return float(self.hazard_per_hour)
        if self.interruption_band is None:
            return 0.0
        import math

        monthly = BAND_MONTHLY_FREQUENCY[self.interruption_band]
        return -math.log(1.0 - monthly) / HOURS_PER_MONTH

    def level_without_table(self, family: str) -> tuple[float, str | None]:
        """The constant spot price an engine uses when no hourly spot table was passed [USD/GPU-hour].

        One rule for both engines: the offer's level, with a note when a ``price_file`` is named but was not
        loaded; an offer priced only from a file is an :class:`~scenarios.errors.InputError`.

        Returns
        -------
        tuple
            The price [USD/GPU-hour] and the note to record (None when there is nothing to say).
        """
        if self.usd_per_gpu_hour is None:
            from scenarios.errors import InputError

            raise InputError(f"family '{family}' prices spot from a file, but no spot table was passed",
                             column="spot", fix="pass spot=scenarios.signals.load_spot(scenario, start, hours)")
        note = None if self.price_file is None else (
            f"{family}: spot price_file not loaded (no spot table passed); using the level "
            f"{self.usd_per_gpu_hour:g} USD/GPU-hour")
        return float(self.usd_per_gpu_hour), note


class GpuFamily(_Model):
    """Prices, offers and power of one GPU family (e.g. h100)."""

    on_demand_usd_per_gpu_hour: Pos = Field(description="On-demand list price [USD/GPU-hour].")
    reserved: list[ReservedOffer] = Field(default_factory=list, description="Reserved-instance offers.")
    committed_discount: dict[Literal["1y", "3y"], Annotated[float, Field(ge=0.0, lt=1.0)]] = Field(
        default_factory=dict,
        description="Savings-plan style committed-spend discount off on-demand, per term ('1y', '3y') [fraction].",
    )
    spot: SpotOffer | None = Field(None, description="Spot capacity; absent means no spot for this family.")
    gpu_power_kw: Pos = Field(0.7, description="Average power draw of one busy GPU incl. its host share [kW].")
    pue: Annotated[float, Field(ge=1.0)] = Field(1.2, description="Power usage effectiveness of the site [-].")
    region: str = Field("default", description="Grid region whose signals apply (a key of [signals.regions]).")
    on_demand_quota_gpus: NonNeg | None = Field(None, description="On-demand quota [GPUs]; none means unlimited.")
    provisioning_delay_hours: NonNeg = Field(0.0, description="Delay before on-demand capacity is usable [h].")
    instance_type: str | None = Field(None, description="Instance type the prices come from, for traceability.")
    gpus_per_instance: Annotated[int, Field(ge=1)] | None = Field(
        None, description="GPUs in one instance [GPUs]; default: from instance_type in the bundled AWS catalog "
                          "(p4d.24xlarge = 8). Reservations are recommended in whole instances when known.")
    on_demand_price_change_per_year: Annotated[float, Field(gt=-1.0)] = Field(
        0.0, description="Expected change of the on-demand price per year [fraction/year], e.g. -0.15. "
                         "Reservations keep their fixed rate; savings-plan style commitments keep their discount "
                         "on whatever on-demand becomes.")
    spot_price_change_per_year: Annotated[float, Field(gt=-1.0)] = Field(
        0.0, description="Expected change of the spot price per year [fraction/year], e.g. -0.15.")

    def instance_gpus(self) -> int | None:
        """GPUs per instance [GPUs]: ``gpus_per_instance``, else the bundled catalog's count for
        ``instance_type``, else None (unknown: reservations are then recommended in GPUs)."""
        if self.gpus_per_instance is not None:
            return int(self.gpus_per_instance)
        if self.instance_type is None:
            return None
        from scenarios.catalog import instance_gpus

        hit = instance_gpus(self.instance_type)
        return None if hit is None else round(hit[1])


class Step(_Model):
    """A planned change in demand: +gpus from a date (a launch), optionally for one series only."""

    start: datetime = Field(description="When the step starts (ISO 8601 with offset).")
    gpus: float = Field(description="Change in GPUs from that time on [GPUs]; negative for a wind-down.")
    series: str | None = Field(None, description="Series the step applies to; all series when empty.")

    @field_validator("start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-03-01T00:00:00Z")
        return v


class ForecastSettings(_Model):
    """How demand is forecast."""

    model: str = Field("auto", description="Forecast model name (auto, naive24, naive168, ets, sarimax, mstl, theta).")
    levels: list[Annotated[int, Field(gt=0, lt=100)]] = Field(
        default_factory=lambda: [80, 95], description="Central prediction-interval levels [%]."
    )
    n_paths: Annotated[int, Field(ge=1)] = Field(50, description="Sample paths handed to the optimizer.")
    horizon_hours: Annotated[int, Field(ge=1)] = Field(8760, description="Forecast horizon [h].")
    growth_rate_per_year: float = Field(0.0, description="Planned growth of demand [fraction per year].")
    steps: list[Step] = Field(default_factory=list, description="Planned step changes (launches).")
    seed: int = Field(0, description="Seed for the sample paths.")


class Demand(_Model):
    """Where demand history comes from and how it is forecast."""

    history: str = Field(description="Usage history: a path relative to the scenario file, or 'bundled:NAME'.")
    format: Literal["usage", "focus", "cur"] = Field("usage", description="File format of the history.")
    tz: str | None = Field(None, description="Time zone of naive timestamps in the history (e.g. 'Asia/Shanghai').")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Rename the file's columns to the usage table's: {timestamp = 'hour_start', gpus = '...'}.",
    )
    series_keys: list[str] = Field(
        default_factory=lambda: ["family"], description="Key columns that identify one demand series."
    )
    team_family: dict[str, str] = Field(
        default_factory=dict,
        description="Family of each team, for history without a family column (team -> family slug).",
    )
    default_family: str | None = Field(None, description="Family of history rows that have none.")
    preemptible_share: Share = Field(
        0.3, description="Share of demand GPU-hours that tolerates interruption and may run on spot [fraction]."
    )
    scale: Pos = Field(1.0, description="Multiplier applied to history GPUs (e.g. to model a larger fleet) [-].")
    forecast: ForecastSettings = Field(default_factory=ForecastSettings)  # type: ignore[arg-type]


class JobGenerator(_Model):
    """Synthetic training jobs drawn from real runtime and GPUs-per-job distributions."""

    n_jobs: Annotated[int, Field(ge=1)] = Field(500, description="Jobs to generate.")
    span_days: Pos = Field(14.0, description="Submission window [days].")
    runtime_source: Literal["philly"] = Field(
        "philly", description="Runtime distribution: bundled Microsoft Philly runtimes (CC BY 4.0)."
    )
    min_runtime_hours: Pos = Field(0.25, description="Shorter jobs are dropped (not training runs) [h].")
    max_runtime_hours: Pos = Field(336.0, description="Longer runtimes are capped [h].")
    gpus_per_job: dict[int, Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=lambda: {1: 0.72, 2: 0.12, 4: 0.09, 8: 0.065, 16: 0.005},
        description="Probability of each GPU count per job (normalised); the default has mean 1.92, close to Philly's 1.93.",
    )
    preemptible_share: Share = Field(0.7, description="Share of jobs that tolerate interruption.")
    flexible_share: Share = Field(0.6, description="Share of jobs with slack before their deadline.")
    deadline_slack_hours: NonNeg = Field(24.0, description="Mean slack of a flexible job beyond its runtime [h].")
    teams: list[str] = Field(default_factory=lambda: ["research", "product"], description="Teams that own jobs.")
    seed: int = Field(0, description="Generator seed.")


class Workload(_Model):
    """The training jobs that are replayed and scheduled."""

    trace: str | None = Field(None, description="Job trace CSV/Parquet (one row per job); else the generator.")
    tz: str | None = Field(None, description="Time zone of naive timestamps in the trace.")
    generator: JobGenerator = Field(default_factory=JobGenerator)  # type: ignore[arg-type]
    family: str | None = Field(None, description="Family of jobs that name none; default is the first family.")
    checkpoint_cost_hours: NonNeg = Field(0.05, description="Time to write one checkpoint [h].")
    restart_cost_hours: NonNeg = Field(0.1, description="Time to restart after an interruption [h].")


class RegionSignals(_Model):
    """Hourly carbon intensity and electricity price of one grid region."""

    carbon_file: str | None = Field(None, description="CSV with timestamp, gco2_per_kwh [gCO2e/kWh].")
    price_file: str | None = Field(None, description="CSV with timestamp, usd_per_mwh [USD/MWh].")
    profile: Literal["de", "gb", "caiso", "flat"] = Field(
        "de", description="Shape of the synthetic generator used when no file is given."
    )
    carbon_mean_gco2_per_kwh: Pos = Field(380.0, description="Mean of the generated carbon intensity [gCO2e/kWh].")
    price_mean_usd_per_mwh: float = Field(110.0, description="Mean of the generated price [USD/MWh].")
    seed: int = Field(0, description="Generator seed.")
    tz: str | None = Field(None, description="Time zone of naive timestamps in carbon_file / price_file.")


class Signals(_Model):
    """Energy price and carbon signals per region."""

    regions: dict[str, RegionSignals] = Field(
        default_factory=lambda: {"default": RegionSignals()},  # type: ignore[call-arg]
        description="Signals per region name.",
    )


class Risk(_Model):
    """Risk appetite for the commitment portfolio."""

    measure: Literal["none", "cvar"] = Field("none", description="Risk term in the objective.")
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(0.95, description="CVaR level [fraction].")
    weight: NonNeg = Field(0.0, description="Weight of CVaR against expected cost [-].")
    max_expected_idle_share: Share | None = Field(
        None, description="Cap on expected idle commitment as a share of commitment cost [fraction]."
    )


class Policies(_Model):
    """Budget, limits and policies."""

    budget_usd_per_year: Pos | None = Field(None, description="Cap on expected yearly cost [USD/year].")
    max_commitment_share: NonNeg | None = Field(
        None, description="Cap on committed + reserved capacity as a share of mean forecast demand [fraction]; "
                          "may exceed 1 (commit above the mean, as the newsvendor quantile of bursty demand "
                          "can); none means no cap."
    )
    min_on_demand_headroom: Share = Field(
        0.0, description="Share of peak forecast demand left uncommitted for flexibility [fraction]."
    )
    coverage_target: Share | None = Field(
        None, description="Minimum expected share of demand GPU-hours covered by commitments [fraction]."
    )
    carbon_price_usd_per_tonne: NonNeg = Field(0.0, description="Internal carbon price [USD/t CO2e].")
    risk: Risk = Field(default_factory=Risk)  # type: ignore[arg-type]
    team_quotas_gpus: dict[str, NonNeg] = Field(default_factory=dict, description="Max GPUs per team at once.")
    job_budget_cap_usd: Pos | None = Field(None, description="A job that would cost more is stopped [USD].")
    spot_fallback_after_interruptions: Annotated[int, Field(ge=0)] = Field(
        3, description="Move a job to on-demand after this many interruptions (0 = never)."
    )
    deferral: Literal["none", "threshold", "schedule"] = Field(
        "none", description="Price/carbon-aware deferral of flexible jobs in the simulator."
    )
    deferral_signal: Literal["carbon", "price"] = Field("carbon", description="Signal the threshold applies to.")
    deferral_quantile: Share = Field(
        0.5, description="Threshold deferral runs a flexible job only below this quantile of the signal."
    )
    allow_unmet_demand: bool = Field(False, description="Allow penalised unmet demand in the optimizer.")
    unmet_penalty_usd_per_gpu_hour: Pos = Field(100.0, description="Penalty for unmet demand [USD/GPU-hour].")


class Solver(_Model):
    """Optimisation solver settings."""

    name: Literal["highs", "cbc"] = Field("highs", description="Solver: highs (default) or cbc.")
    time_limit_s: Pos = Field(120.0, description="Time limit per solve [s].")
    mip_gap: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.01, description="Relative MIP gap [fraction].")


class Simulation(_Model):
    """Monte Carlo settings."""

    replications: Annotated[int, Field(ge=1)] = Field(20, description="Monte Carlo replications.")
    seed: int = Field(0, description="Root seed; replication i uses SeedSequence(seed).spawn(n)[i].")
    horizon_hours: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Simulated hours; default: the demand's length, else the jobs' last submission + "
                          "twice their runtime + 24 h (room for queueing and restarts)."
    )


class PlanBacktest(_Model):
    """The rolling-origin backtest the plan report includes (``gpuplan backtest`` runs it on its own)."""

    origins: Annotated[int, Field(ge=0)] = Field(
        4, description="Forecast origins, evenly spaced over the history; 0: the plan report has no backtest.")
    min_train_days: Annotated[float, Field(gt=0)] = Field(14.0, description="History before the first origin [days].")
    min_eval_days: Annotated[float, Field(gt=0)] = Field(7.0, description="Realized demand after the last origin [days].")


class ReservedHolding(_Model):
    """A reservation the organisation already holds."""

    family: str
    term_years: TermYears
    payment: Payment = "no_upfront"
    gpus: NonNeg = Field(description="GPUs reserved [GPUs].")
    usd_per_gpu_hour: Pos = Field(description="Effective hourly rate [USD/GPU-hour].")
    start: datetime | None = Field(
        None, description="When the reservation started (ISO 8601 with offset); none = the plan start (it then "
                          "lasts its full term from the plan start).")
    end: datetime | None = Field(
        None, description="When it expires (ISO 8601 with offset); none = start + term.")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-01-01T00:00:00Z")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> ReservedHolding:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class CurrentCommitments(_Model):
    """Commitments already held (the 'current' baseline)."""

    reserved: list[ReservedHolding] = Field(default_factory=list)
    committed_usd_per_hour: dict[Literal["1y", "3y"], NonNeg] = Field(
        default_factory=dict, description="Savings-plan style commitment held per term [USD/h]."
    )
    committed_end: dict[Literal["1y", "3y"], datetime] = Field(
        default_factory=dict, description="When each held commitment expires (ISO 8601 with offset); a term "
                                          "without one lasts its full term from the plan start.")
    derived_from: str | None = Field(
        None, description="Where the holdings were read from (set by `gpuplan scenario holdings`), for the report.")

    @field_validator("committed_end")
    @classmethod
    def _aware_ends(cls, v: dict[str, datetime]) -> dict[str, datetime]:
        for t, d in v.items():
            if d.tzinfo is None:
                raise ValueError(f"{t}: must carry a UTC offset, e.g. 2026-01-01T00:00:00Z")
        return v


class Scenario(_Model):
    """A whole planning problem."""

    name: str = Field("unnamed", description="Short name used in reports.")
    description: str = Field("", description="What the scenario is about.")
    extends: str | None = Field(None, description="Scenario this one overrides: a bundled name or a relative path.")
    currency: Literal["USD"] = Field("USD", description="Currency of every money field.")
    start: datetime | None = Field(None, description="Plan start (ISO 8601 with offset); default: end of history.")
    catalog: dict[str, GpuFamily] = Field(description="GPU families by slug (e.g. h100).")
    demand: Demand
    workload: Workload = Field(default_factory=Workload)  # type: ignore[arg-type]
    signals: Signals = Field(default_factory=Signals)
    policies: Policies = Field(default_factory=Policies)  # type: ignore[arg-type]
    solver: Solver = Field(default_factory=Solver)  # type: ignore[arg-type]
    simulation: Simulation = Field(default_factory=Simulation)  # type: ignore[arg-type]
    current: CurrentCommitments = Field(default_factory=CurrentCommitments)  # type: ignore[arg-type]
    inference: Inference | None = Field(None, description="Inference serving; absent means training only.")
    backtest: PlanBacktest = Field(default_factory=PlanBacktest)  # type: ignore[arg-type]

    _source_dir: str | None = PrivateAttr(default=None)
    _source_file: str | None = PrivateAttr(default=None)

    @field_validator("catalog")
    @classmethod
    def _nonempty_catalog(cls, v: dict[str, GpuFamily]) -> dict[str, GpuFamily]:
        if not v:
            raise ValueError("must list at least one GPU family")
        return v

    @field_validator("start")
    @classmethod
    def _aware_start(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-01-01T00:00:00Z")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        fams = set(self.catalog)
        for team, fam_slug in self.demand.team_family.items():
            if fam_slug not in fams:
                raise ValueError(
                    f"demand.team_family.{team}: unknown family '{fam_slug}' (catalog has {sorted(fams)})"
                )
        if self.demand.default_family is not None and self.demand.default_family not in fams:
            raise ValueError(f"demand.default_family: unknown family '{self.demand.default_family}'")
        if self.workload.family is not None and self.workload.family not in fams:
            raise ValueError(f"workload.family: unknown family '{self.workload.family}'")
        for slug, fam in self.catalog.items():
            if fam.region not in self.signals.regions:
                raise ValueError(
                    f"catalog.{slug}.region: '{fam.region}' has no [signals.regions.{fam.region}] entry"
                )
            for i, offer in enumerate(fam.reserved):
                if offer.usd_per_gpu_hour >= fam.on_demand_usd_per_gpu_hour:
                    raise ValueError(
                        f"catalog.{slug}.reserved[{i}].usd_per_gpu_hour: must be below the on-demand price "
                        f"{fam.on_demand_usd_per_gpu_hour:g}, or the offer is never worth buying"
                    )
        for h in self.current.reserved:
            if h.family not in fams:
                raise ValueError(f"current.reserved: unknown family '{h.family}'")
        for name, m in (self.inference.models if self.inference else {}).items():
            if m.profile.family not in fams:
                raise ValueError(f"inference.models.{name}.profile.family: unknown family '{m.profile.family}'")
        return self

    # -- convenience -------------------------------------------------------------------------------
    @property
    def families(self) -> list[str]:
        """Family slugs in catalog order."""
        return list(self.catalog)

    def resolve(self, path: str) -> str:
        """Resolve a path from the scenario file: ``bundled:NAME`` or relative to the file's folder."""
        from scenarios.bundled import resolve_path

        return resolve_path(path, self._source_dir)
