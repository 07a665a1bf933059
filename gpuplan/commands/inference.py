"""``gpuplan inference SCENARIO --out DIR``: warm floor, scaling policy, commitments and unit costs of serving."""

from __future__ import annotations

import argparse
import time

from scenarios.loader import load_scenario

EXAMPLE = """examples:
  gpuplan inference default --out out/inference
  gpuplan inference my.toml --set inference.models.chat8b.traffic.trace=requests.csv --out out/inference

writes: inference.html, inference_summary.json, tables/inference_summary.csv and per model
tables/inference_<model>_{sweep,options,hourly,teams,hourly_floor}.csv, tables/inference_warm_floor_demand.csv.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``inference`` command."""
    p = sub.add_parser(
        "inference", help="inference serving: warm floor, autoscaling policy, commitments, cost per 1,000 requests",
        description="Replay each served model's request traffic (a trace, or a generator fitted to the Azure LLM "
                    "inference traces) on replicas with batching, queueing, cold starts and an autoscaler; "
                    "sweep warm floors and target utilisations, and static provisioning for the peak; recommend "
                    "the cheapest policy that meets the latency SLO; price it against the API and commitments.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", help="scenario TOML file or bundled name (default, small)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Plan inference serving and write the tables and report section."""
    import pandas as pd

    from gpuplan.commands.plan import overrides_from
    from gpuplan.inference import run_inference, write_inference

    t0 = time.perf_counter()
    sc = load_scenario(args.scenario, overrides=overrides_from(args.set) or None)
    res = run_inference(sc)
    path = write_inference(res, args.out)
    print(f"Inference plan for scenario '{sc.name}'")
    for name, m in res.models.items():
        s = m.summary
        print(f"  {name} on {s['family']}: {s['requests']:,} requests over {s['replay_hours']} h")
        if "usd_per_1k_requests" in s:
            print(f"    recommended: {s['policy']}, priced as {s['option']}; SLO attainment "
                  f"{100 * s['slo_attainment']:.1f} %; {s['usd_per_1k_requests']:.3f} USD per 1,000 requests "
                  f"({s['usage_usd_per_1k_requests']:.3f} on the usage basis)")
            print(f"    {s['gco2e_per_1k_requests']:,.0f} gCO2e per 1,000 requests")
        else:
            print("    no swept policy meets the SLO")
        if "hourly_floor_usd_per_1k_requests" in s:
            print(f"    warm floor by hour of day (UTC): {s['hourly_floor_by_hour_of_day']}; "
                  f"{s['hourly_floor_usd_per_1k_requests']:.3f} USD per 1,000 requests vs "
                  f"{s['flat_floor_usd_per_1k_requests']:.3f} for the cheapest flat floor "
                  f"({s['hourly_floor_saving_vs_flat_pct']:.1f} % saving, both replayed)")
        opts = m.options
        for _, o in opts[~opts["option"].str.startswith("recommended")].iterrows():
            att = "" if pd.isna(o["slo_attainment"]) else f", SLO {100 * o['slo_attainment']:.1f} %" + (
                "" if o["meets_slo"] else " (misses)")
            print(f"      {o['option']}: {o['usd_per_1k_requests']:.3f} USD per 1,000 requests{att}")
        if "api_usd_per_request" in s:
            print(f"    API: {1e3 * s['api_usd_per_request']:.3f} USD per 1,000 requests; break-even "
                  f"{s['break_even_requests_per_hour_on_demand']:,.0f} requests/h per on-demand replica")
    print(f"  wall time {time.perf_counter() - t0:.0f} s")
    print(f"Report: {path.resolve()}")
    return 0
