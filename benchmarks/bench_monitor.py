"""FinOps monitor benchmark: anomaly recall and false alarms on injected spikes, breach-probability calibration.

1. Anomalies. The clean bill is the SYNTHETIC FOCUS export (``scenarios.synthetic.focus_export``) of the REAL
   Helios Earth demand of the bundled default scenario (May 2020, 8 teams on a100 and h100), with the logging
   outage interpolated (``gpuplan.monitor.validation``). False alarms: incidents on the clean bill per week
   scored (the first 14 days are warm-up). Recall: spikes of +20 %, +50 % and +100 % of the family's GPUs on one
   team lasting 2 to 24 hours (uniform), several per bill at least 4 days apart (an earlier spike in the history widens the
   interval for later ones), over ``--reps`` bills per
   magnitude; detected when the team's or the family's series has an anomaly overlapping the spike.
2. Breach probability. Rolling past months of the REAL daily GPU allocations of the Helios Earth and Venus
   virtual clusters (``../shared/data/helios_earth/*_gpu_number.csv``, April to September 2020; each cluster's
   GPUs x 24 is its daily spend in GPU-hours, the price cancels out): budgets = previous month's daily mean x
   days x {0.98, 1.00, 1.02}, as-of days 0, 7, 14, 21; Brier score against always forecasting the base rate.
3. Reconciliation: chargeback of the clean bill under each idle rule; largest |invoice - sum of team bills|.

Usage: ``python benchmarks/bench_monitor.py [--reps 8]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gpuplan.monitor.anomalies import DetectorSettings, incidents
from gpuplan.monitor.breach import breach_calibration, reliability
from gpuplan.monitor.validation import bill_anomalies, detected, fill_outages, inject, random_spikes
from scenarios.chargeback import chargeback
from scenarios.history import load_history
from scenarios.loader import load_scenario
from scenarios.readers import read_focus
from scenarios.synthetic import focus_export

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "helios_earth"


def anomalies(reps: int) -> None:
    sc = load_scenario("default")
    usage, filled = fill_outages(load_history(sc).usage)
    s = DetectorSettings()
    t = time.perf_counter()
    clean = bill_anomalies(usage, sc, s)
    secs = time.perf_counter() - t
    span_h = (usage["timestamp"].max() - usage["timestamp"].min()) / pd.Timedelta(hours=1) + 1
    weeks = (span_h - 24 * s.warmup_days) / 168
    inc = incidents(clean)
    print(f"clean bill: {len(usage):,} usage rows, {filled} outage hours interpolated; {len(clean)} anomalies in "
          f"{len(inc)} incidents over {weeks:.2f} scored weeks = {len(inc) / weeks:.2f} false alarms/week "
          f"({len(clean) / weeks:.1f} anomalies/week counted per series); bill + read + detect {secs:.1f} s")
    first = usage["timestamp"].min() + pd.Timedelta(days=s.warmup_days + 1)
    for mag in (0.2, 0.5, 1.0):
        hits: list[bool] = []
        chance: list[bool] = []
        lengths: list[int] = []
        for rep in range(reps):
            rng = np.random.default_rng([rep, round(mag * 100)])
            spikes = random_spikes(usage, mag, rng, n=20, first=first, gap_hours=96)
            found = bill_anomalies(inject(usage, spikes), sc, s)
            hits += [detected(found, sp) for sp in spikes]
            chance += [detected(clean, sp) for sp in spikes]   # credited by a clean-bill anomaly alone
            lengths += [sp.hours for sp in spikes]
        h = np.array(hits)
        short = np.array(lengths) <= 6
        print(f"+{mag:.0%} spikes: recall {h.mean():.3f} ({h.sum()}/{h.size}); "
              f"2-6 h: {h[short].mean():.3f} ({short.sum()}), 7-24 h: {h[~short].mean():.3f} ({(~short).sum()}); "
              f"windows already hit by a clean-bill anomaly: {sum(chance)}")


def calibration() -> None:
    if not SHARED.is_dir():
        print(f"breach calibration skipped: {SHARED} not found")
        return
    series = {}
    for f in ("Earth_gpu_number.csv", "Venus_cluster_gpu_number.csv"):
        d = pd.read_csv(SHARED / f, parse_dates=["date"]).set_index("date")
        for c in d.columns:
            if c != "total" and (d[c] > 0).any():
                series[f"{f.split('_')[0]}:{c}"] = d[c].astype(float) * 24.0
    t = time.perf_counter()
    cases, summ = breach_calibration(series, budget_factors=(0.98, 1.0, 1.02))
    print(f"breach calibration: {len(series)} clusters, {int(summ['n'])} (cluster, month, budget, as-of) cases, "
          f"{time.perf_counter() - t:.1f} s")
    print(f"  base rate {summ['base_rate']:.3f}, mean predicted {summ['mean_p']:.3f}; Brier {summ['brier']:.4f} "
          f"vs {summ['brier_climatology']:.4f} always-base-rate (skill {summ['brier_skill']:.3f}); "
          f"{int(summ['n_uncertain'])} cases with 0 < p < 1: Brier {summ['brier_uncertain']:.4f}")
    print(reliability(cases).to_string(index=False))
    by = cases.groupby("as_of_day").apply(lambda g: float(((g["p_breach"] - g["breached"]) ** 2).mean()),
                                          include_groups=False)
    print("  Brier by as-of day: " + ", ".join(f"day {int(k)}: {v:.4f}" for k, v in by.items()))


def reconciliation() -> None:
    sc = load_scenario("default")
    usage = load_history(sc).usage
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bill.parquet"
        focus_export(usage, sc, seed=0).to_parquet(path)
        billing = read_focus(path).frame
    for idle in ("spread", "owner", "central"):
        owners = {f: "vc3sl" for f in billing["family"].unique()}
        cb = chargeback(billing, idle=idle, owners=owners)  # type: ignore[arg-type]
        inv = float(cb.reconciliation.loc[cb.reconciliation["month"] == "all", "invoice_usd"].iloc[0])
        print(f"reconciliation idle={idle}: invoice {inv:,.2f} USD, largest |difference| "
              f"{cb.max_abs_difference_usd:.2e} USD ({cb.max_abs_difference_usd / inv:.1e} relative)")
    cb = chargeback(billing, method="gpu_hours")
    print(f"reconciliation method=gpu_hours: largest |difference| {cb.max_abs_difference_usd:.2e} USD")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=8, help="bills per spike magnitude")
    args = p.parse_args()
    reconciliation()
    calibration()
    anomalies(args.reps)


if __name__ == "__main__":
    main()
