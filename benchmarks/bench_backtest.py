"""Backtest of the commitment policies on the bundled history and on shared GPU demand histories.

Prints, for each history, the policy table of ``gpuplan backtest`` (regret against perfect hindsight, the
savings rate against buying nothing, the share of origins where gpuplan beats each rule) and gpuplan's
regret split into forecast error and decision rule, with the wall time.

Histories (prices, offers, forecaster and policies are the default scenario's; each shared history is
planned as one GPU family, ``a100``):

- ``default``: the bundled scenario (Helios Earth, 8 virtual clusters, two families);
- ``helios-cluster``: the whole Helios Earth cluster (16 virtual clusters) from
  ``../shared/data/helios_earth/derived_earth_cluster_hourly_gpu_demand.csv`` (GPUs running, hourly mean);
- ``alibaba``: the Alibaba GPU pod list (``openb_pod_list_default.csv``) turned into hourly GPU demand:
  each scheduled pod holds ``num_gpu x gpu_milli / 1000`` GPUs from its scheduled time to its deletion time,
  averaged over each hour.  The list is a snapshot whose deletions all fall in its last ~34 days, so only
  those days (from the first deletion on) are complete; the trace's seconds are placed from an ARBITRARY
  epoch, 2023-07-01 00:00 UTC (the trace gives no date).

Run: ``.venv/bin/python benchmarks/bench_backtest.py [--origins N] [--only NAME] [--workers W]``.  Skips the
shared histories, with a message, when ``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_series import alibaba_hourly

from gpuplan.backtest import run_backtest
from gpuplan.backtest_report import summary_table
from gpuplan.executors import close_mapper, make_mapper
from gpuplan.negotiate import markdown_table
from scenarios import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def _scenario_file(tmp: Path, name: str, hourly: pd.DataFrame, tz: str) -> Path:
    csv = tmp / f"{name}.csv"
    pd.DataFrame({"hour_start": hourly["hour_start"], "vc": name, "running_gpu_mean": hourly["gpus"]}).to_csv(
        csv, index=False)
    toml = tmp / f"{name}.toml"
    toml.write_text(f'extends = "default"\nname = "{name}"\n[demand]\nhistory = "{csv}"\ntz = "{tz}"\n'
                    f'[demand.team_family]\n{name} = "a100"\n', encoding="utf-8")
    return toml


def histories(tmp: Path, only: str | None) -> list[tuple[str, str | Path]]:
    """(label, scenario) pairs to backtest."""
    out: list[tuple[str, str | Path]] = [("default", "default")]
    if not SHARED.is_dir():
        print(f"shared data not found under {SHARED}: only the bundled history is backtested")
    else:
        cl = pd.read_csv(SHARED / "helios_earth" / "derived_earth_cluster_hourly_gpu_demand.csv")
        hel = pd.DataFrame({"hour_start": cl["hour_start"], "gpus": cl["running_gpu_mean"]})
        out.append(("helios-cluster", _scenario_file(tmp, "heliosearth", hel, "Asia/Shanghai")))
        ali = alibaba_hourly(SHARED / "alibaba_openb" / "openb_pod_list_default.csv")
        print(f"alibaba: {len(ali)} complete hours, mean {ali['gpus'].mean():.1f} GPUs, "
              f"min {ali['gpus'].min():.1f}, max {ali['gpus'].max():.1f}")
        out.append(("alibaba", _scenario_file(tmp, "alibaba", ali, "UTC")))
    return [h for h in out if only is None or h[0] == only]


def main() -> None:
    """Backtest every history and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origins", type=int, default=4)
    ap.add_argument("--only", default=None, help="default, helios-cluster or alibaba")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for label, scen in histories(Path(d), args.only):
            sc = load_scenario(scen)
            mapper = make_mapper(workers=args.workers, progress=False)
            t0 = time.perf_counter()
            try:
                res = run_backtest(sc, n_origins=args.origins, mapper=mapper)
            finally:
                close_mapper(mapper)
            wall = time.perf_counter() - t0
            print(f"\n## {label}: {len(res.origins)} origins "
                  f"({', '.join(f'{o:%Y-%m-%d %H:%M}' for o in res.origins)} UTC), {wall:.0f} s wall, "
                  f"{args.workers} worker(s)\n")
            print(markdown_table(summary_table(res)))
            print()
            print(markdown_table(res.decomposition().astype({"origin": str}).round(2)))
            for n in res.notes:
                print(f"- {n}")


if __name__ == "__main__":
    main()
