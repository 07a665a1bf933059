"""Benchmark of the inference replay: one day at the Azure conversation trace's rate, and the real trace.

Workloads:

- one day (24 h) of generated traffic at the conversation trace's mean rate (5.53 requests/s, 19,366 requests
  in its hour), with its fitted second- and minute-scale burstiness and token lengths and the default
  scenario's daily shape (ASSUMPTION), on the default scenario's chat8b profile (8B model on one A100) with
  an autoscaled policy (warm floor 4, target 0.2 of batch slots) — about 480,000 requests;
- the same day on 24 static replicas (no autoscaler);
- the real Azure conversation trace (bundled copy, one hour) on the autoscaled policy;
- unbatched M/M/c (c = 16, utilisation 0.9, 200,000 requests), the Erlang C test's case.

The batched workloads run with continuous batching (the default) and with static batching.

Printed, all measured in this run: requests, wall time, requests per second of wall time, SimPy events per
request, and SLO attainment.  Run: ``.venv/bin/python benchmarks/bench_inference.py`` (about a minute).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.inference_config import ScalingPolicy, ServingProfile  # noqa: E402
from scenarios.loader import load_scenario  # noqa: E402
from scenarios.traffic import bundled_traffic_fit, generate_requests, read_requests  # noqa: E402
from simulator.inference import replay  # noqa: E402


def _arrays(req: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t0 = req["timestamp"].iloc[0].floor("h")
    return ((req["timestamp"] - t0).dt.total_seconds().to_numpy(), req["input_tokens"].to_numpy(float),
            req["output_tokens"].to_numpy(float))


def _run(label: str, arr: np.ndarray, inp: np.ndarray, out: np.ndarray, prof: ServingProfile,
         pol: ScalingPolicy, autoscale: bool, slo: object | None, both: bool = True) -> None:
    if both:
        for mode in ("continuous", "static"):
            _run(f"{label}, {mode} batching", arr, inp, out, prof.model_copy(update={"batching": mode}), pol,
                 autoscale, slo, both=False)
        return
    t0 = time.perf_counter()
    rep = replay(arr, inp, out, prof, pol, autoscale=autoscale, initial_replicas=max(pol.min_warm_replicas, 1))
    wall = time.perf_counter() - t0
    n = len(arr)
    att = f", SLO attainment {100 * rep.slo_attainment(slo):.1f} %" if slo is not None else ""  # type: ignore[arg-type]
    print(f"{label}: {n:,} requests in {wall:.1f} s wall ({n / wall:,.0f} requests/s), "
          f"{rep.events / n:.2f} events/request, {len(rep.replicas)} replicas started, "
          f"{rep.replica_hours():,.1f} replica-hours{att}")


def main() -> None:
    sc = load_scenario("default")
    assert sc.inference is not None
    m = sc.inference.models["chat8b"]
    rate = bundled_traffic_fit()["conv"]["requests_per_s"]
    gen = m.traffic.generator.model_copy(update={"requests_per_s": rate})
    t0 = time.perf_counter()
    req = generate_requests(pd.Timestamp("2026-01-06", tz="UTC"), 24, gen)   # a Tuesday
    print(f"generated one day at {rate:.2f} requests/s: {len(req):,} requests in {time.perf_counter() - t0:.1f} s")
    arr, inp, out = _arrays(req)
    auto = m.policy.model_copy(update={"min_warm_replicas": 4, "target_utilization": 0.2, "max_replicas": 64})
    _run("one day, autoscaled (floor 4, target 0.2)", arr, inp, out, m.profile, auto, True, m.slo)
    static = m.policy.model_copy(update={"min_warm_replicas": 24, "max_replicas": 24})
    _run("one day, 24 static replicas", arr, inp, out, m.profile, static, False, m.slo)
    real = read_requests(sc.resolve("bundled:azure_llm_conv"), tz="UTC")
    _run("Azure conv trace (1 h, real)", *_arrays(real), m.profile, auto, True, m.slo)
    rng = np.random.default_rng(0)
    n, c = 200_000, 16
    a = np.cumsum(rng.exponential(1 / (0.9 * c), n))
    unit = ServingProfile(family="x", batch_sizes=[1], prefill_tokens_per_s=[1.0], decode_tokens_per_s=[1.0],
                          max_batch=1, cold_start_s=0.0)
    _run("M/M/16 at 0.9, unbatched", a, np.zeros(n), rng.exponential(1.0, n), unit,
         ScalingPolicy(min_warm_replicas=c, max_replicas=c), False, None, both=False)


if __name__ == "__main__":
    main()
