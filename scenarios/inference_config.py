"""The ``[inference]`` section of a scenario: traffic, serving profiles, SLO, scaling policy, API price.

An inference section describes one or more served models.  Each model has a serving profile (how fast one
replica prefills and decodes at each batch size, how many GPUs it takes, how long it takes to start), a
traffic source (a request trace or a seeded generator shaped by the Azure LLM inference traces), a
latency SLO, a scaling policy and the price of the API alternative.

The default profile (:func:`roofline_profile`) is derived from GPU datasheet figures with stated
efficiencies; it is an ASSUMPTION to replace by measured benchmark figures (e.g. a vLLM or TGI benchmark
of the model on the family) when they exist.  Its derivation:

- decode is memory-bandwidth bound: one decode step reads the weights once and each sequence's KV cache,
  so the step time is ``(weight_bytes + batch * kv_bytes_per_seq) / (bandwidth * bandwidth_efficiency)``
  and the replica decodes ``batch / step_time`` tokens/s;
- prefill is compute bound: ``peak_flops * mfu / (2 * parameters)`` tokens/s, independent of batch size.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]

#: Datasheet figures per GPU family used by :func:`roofline_profile`: dense BF16 peak [FLOP/s] and HBM
#: bandwidth [bytes/s].  Sources: NVIDIA A100 80GB SXM datasheet (312 TFLOPS BF16 dense, 2,039 GB/s);
#: NVIDIA H100 SXM datasheet (989 TFLOPS BF16 dense, 3.35 TB/s).
DATASHEET: dict[str, tuple[float, float]] = {
    "a100": (312e12, 2.039e12),
    "h100": (989e12, 3.35e12),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class ServingProfile(_Model):
    """How one replica of a model serves requests on one GPU family."""

    family: str = Field(description="GPU family the replica runs on (a key of [catalog]).")
    gpus_per_replica: Annotated[int, Field(ge=1)] = Field(1, description="GPUs one replica holds [GPUs].")
    max_batch: Annotated[int, Field(ge=1)] = Field(32, description="Largest batch a replica serves at once [requests].")
    cold_start_s: NonNeg = Field(120.0, description="Time from asking for a replica to its first request [s].")
    batch_sizes: list[Annotated[int, Field(ge=1)]] = Field(
        description="Batch sizes at which the throughputs below are given (increasing) [requests]."
    )
    prefill_tokens_per_s: list[Pos] = Field(
        description="Prompt tokens one replica prefills per second at each batch size [tokens/s]."
    )
    decode_tokens_per_s: list[Pos] = Field(
        description="Output tokens one replica generates per second at each batch size, summed over the batch "
                    "[tokens/s]."
    )
    source: str = Field("", description="Where the figures come from (benchmark, datasheet derivation).")

    @model_validator(mode="after")
    def _tables(self) -> ServingProfile:
        n = len(self.batch_sizes)
        if n == 0:
            raise ValueError("batch_sizes: give at least one batch size")
        if len(self.prefill_tokens_per_s) != n or len(self.decode_tokens_per_s) != n:
            raise ValueError(
                f"prefill_tokens_per_s and decode_tokens_per_s must have one value per batch size ({n})"
            )
        if any(b >= a for a, b in zip(self.batch_sizes[1:], self.batch_sizes[:-1], strict=False)):
            raise ValueError("batch_sizes: must be strictly increasing")
        if self.batch_sizes[0] != 1:
            raise ValueError("batch_sizes: must start at 1")
        if self.max_batch > self.batch_sizes[-1]:
            raise ValueError(
                f"max_batch {self.max_batch} is beyond the largest profiled batch size {self.batch_sizes[-1]}"
            )
        return self


class TrafficGenerator(_Model):
    """Seeded request generator.

    Second- and minute-scale burstiness and the token-length distributions are fitted to one of the Azure
    LLM inference traces (bundled parameters, see ``scenarios/data/README.md``).  The traces cover one hour,
    so the daily and weekly shape are ASSUMPTIONS given here.
    """

    shape_of: Literal["conv", "code"] = Field(
        "conv", description="Azure trace whose burstiness and token lengths are reproduced: conv or code."
    )
    requests_per_s: Pos | None = Field(
        None, description="Mean request rate over a week [requests/s]; default: the trace's own hourly mean."
    )
    daily_amplitude: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.5, description="Relative daily swing of the rate: rate = mean * (1 + a cos(2 pi (h - peak)/24)) [-]."
    )
    peak_hour_utc: Annotated[float, Field(ge=0.0, lt=24.0)] = Field(17.0, description="Hour of the daily peak [h UTC].")
    weekend_factor: Pos = Field(0.6, description="Weekend rate relative to weekdays [-].")
    seed: int = Field(0, description="Generator seed.")
    rate_file: str | None = Field(
        None, description="Hourly request rate CSV (timestamp with offset, and rate_column), e.g. a request-rate "
                          "forecast from `gpuplan forecast`; replaces requests_per_s and the daily/weekly shape."
    )
    rate_column: str = Field("requests_per_s", description="Column of rate_file holding the rate.")
    rate_unit: Literal["per_s", "per_hour"] = Field("per_s", description="Unit of rate_column: requests per second or per hour.")
    teams: dict[str, Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=dict, description="Share of requests per team (normalised); empty: no team."
    )

    @model_validator(mode="after")
    def _team_shares(self) -> TrafficGenerator:
        if self.teams and sum(self.teams.values()) <= 0:
            raise ValueError("teams: shares must not all be zero")
        return self


class Traffic(_Model):
    """Where requests come from: a trace file or the generator."""

    trace: str | None = Field(
        None, description="Request trace CSV (timestamp, input_tokens, output_tokens[, model, team]), a path or "
                          "'bundled:azure_llm_conv'; else the generator."
    )
    tz: str | None = Field(None, description="Time zone of naive timestamps in the trace (e.g. 'UTC').")
    generator: TrafficGenerator = Field(default_factory=TrafficGenerator)  # type: ignore[arg-type]


class Slo(_Model):
    """Latency objective."""

    ttft_s: Pos = Field(2.0, description="Time to first token that a request must meet [s].")
    e2e_s: Pos = Field(30.0, description="End-to-end latency that a request must meet [s].")
    quantile: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.95, description="Share of requests that must meet both (0.95 = p95) [fraction]."
    )


class ScalingPolicy(_Model):
    """Autoscaling policy of a model's replicas."""

    min_warm_replicas: Annotated[int, Field(ge=0)] = Field(1, description="Replicas always kept warm [replicas].")
    max_replicas: Annotated[int, Field(ge=1)] = Field(64, description="Upper bound on replicas [replicas].")
    target_utilization: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.2, description="Share of batch slots ((requests in service + queued) / (replicas x max_batch)) the "
                         "autoscaler aims at [fraction]."
    )
    scale_up_lag_s: NonNeg = Field(30.0, description="Delay before a scale-up decision is acted on (plus cold start) [s].")
    scale_down_delay_s: NonNeg = Field(600.0, description="Time demand must stay low before a replica is released [s].")
    interval_s: Pos = Field(15.0, description="How often the autoscaler looks [s].")
    api_overflow_wait_s: Pos | None = Field(
        None, description="Requests queued longer than this go to the API [s]; none means they wait."
    )
    allow_spot: bool = Field(
        False, description="The planner may run replicas on the family's spot offer (autoscaled ones, or all), "
                           "revoked at the offer's hazard."
    )
    spot_replacement: Literal["spot", "on-demand"] = Field(
        "spot", description="What replaces a revoked spot replica (after the cold start): spot again or on demand."
    )

    @model_validator(mode="after")
    def _bounds(self) -> ScalingPolicy:
        if self.min_warm_replicas > self.max_replicas:
            raise ValueError("min_warm_replicas must not exceed max_replicas")
        return self


class ApiPrice(_Model):
    """Price of serving the same model through a hosted API."""

    usd_per_million_input_tokens: NonNeg = Field(description="API price per million prompt tokens [USD/Mtok].")
    usd_per_million_output_tokens: NonNeg = Field(description="API price per million generated tokens [USD/Mtok].")
    source: str = Field("", description="Where the price comes from.")


class InferenceModel(_Model):
    """One served model: profile, traffic, SLO, policy and the API alternative."""

    profile: ServingProfile
    traffic: Traffic = Field(default_factory=Traffic)  # type: ignore[arg-type]
    slo: Slo = Field(default_factory=Slo)  # type: ignore[arg-type]
    policy: ScalingPolicy = Field(default_factory=ScalingPolicy)  # type: ignore[arg-type]
    api: ApiPrice | None = Field(None, description="API alternative; absent means none.")
    idle_power_share: Share = Field(
        0.3, description="Power an idle warm replica draws as a share of a busy one (ASSUMPTION) [fraction]."
    )


class Inference(_Model):
    """Inference serving: models, and how the planner replays and sweeps them."""

    models: dict[str, InferenceModel] = Field(description="Served models by name.")
    replay_hours: Annotated[int, Field(ge=1)] = Field(
        24, description="Hours of traffic the planner replays to choose a policy [h]."
    )
    sweep_min_warm: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, description="Warm floors the planner tries; default: 0..the static peak need."
    )
    sweep_target_utilization: list[Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        default_factory=lambda: [0.1, 0.2, 0.4],
        description="Target utilisations (share of batch slots in use) the planner tries [fraction].",
    )
    hourly_floor_blocks: Literal[0, 1, 2, 3, 4, 6, 8, 12, 24] = Field(
        24, description="Blocks of the day over which the planner may vary the warm floor (24: one floor per hour "
                        "of day; 0: no varying floor) [blocks]."
    )
    commit_warm_floor: bool = Field(
        True, description="gpuplan plan adds the recommended warm floor's GPUs to every hour of the training "
                          "demand the capacity optimizer commits against."
    )

    @model_validator(mode="after")
    def _nonempty(self) -> Inference:
        if not self.models:
            raise ValueError("models: list at least one served model")
        return self


def roofline_profile(family: str, *, parameters: float, kv_bytes_per_token: float, context_tokens: float,
                     gpus_per_replica: int = 1, bytes_per_parameter: float = 2.0, mfu: float = 0.5,
                     bandwidth_efficiency: float = 0.6,
                     batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)) -> tuple[list[float], list[float]]:
    """Prefill and decode throughput of one replica from datasheet figures (see the module docstring).

    Parameters
    ----------
    family
        A key of :data:`DATASHEET` (``a100``, ``h100``).
    parameters
        Model parameters [-] (8e9 for an 8B model).
    kv_bytes_per_token
        KV-cache bytes per token of context [bytes] (131,072 for Llama-3-8B in BF16: 2 x 32 layers x 8 KV
        heads x 128 x 2 bytes).
    context_tokens
        Mean context per sequence during decode [tokens].
    gpus_per_replica
        GPUs of one replica (tensor parallel) [GPUs].
    bytes_per_parameter
        Weight precision [bytes] (2 for BF16).
    mfu
        Model-FLOPs utilisation of prefill [fraction] (ASSUMPTION).
    bandwidth_efficiency
        Achieved share of HBM bandwidth in decode [fraction] (ASSUMPTION).
    batch_sizes
        Batch sizes to tabulate [requests].

    Returns
    -------
    tuple of list of float
        Prefill and decode throughput per batch size [tokens/s].
    """
    flops, bw = DATASHEET[family]
    prefill = flops * gpus_per_replica * mfu / (2.0 * parameters)
    weights = parameters * bytes_per_parameter
    eff_bw = bw * gpus_per_replica * bandwidth_efficiency
    decode = [b / ((weights + b * kv_bytes_per_token * context_tokens) / eff_bw) for b in batch_sizes]
    return [prefill] * len(batch_sizes), decode
