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
from shared_series import alibaba_hourly

from gpuplan.monitor.anomalies import DetectorSettings, detect_anomalies, incidents
from gpuplan.monitor.breach import breach_calibration, reliability
from gpuplan.monitor.series import series_frames
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
        ln = np.array(lengths)
        lo, hi = wilson(int(h.sum()), h.size)
        parts = []
        for a, b in ((2, 6), (7, 12), (13, 24)):
            sel = (ln >= a) & (ln <= b)
            parts.append(f"{a}-{b} h: {h[sel].mean():.3f} ({int(h[sel].sum())}/{int(sel.sum())})")
        print(f"+{mag:.0%} spikes: recall {h.mean():.3f} ({h.sum()}/{h.size}, 95 % CI {lo:.3f}-{hi:.3f}); "
              + "; ".join(parts) + f"; windows already hit by a clean-bill anomaly: {sum(chance)}")
        if mag == 0.5:
            big = list(hits)
        if mag == 1.0:
            both = np.array(big + hits)
            lo, hi = wilson(int(both.sum()), both.size)
            print(f"+50 % and +100 % together: recall {both.mean():.3f} ({both.sum()}/{both.size}, 95 % CI "
                  f"{lo:.3f}-{hi:.3f})")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    w = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(c - w), float(c + w)


def alibaba_teams(path: Path) -> pd.DataFrame:
    """Hourly mean GPUs of the Alibaba pod list per pseudo-team: QoS class x pod-number parity (8 teams).

    Same hour boundaries and GPU-seconds rule as :func:`shared_series.alibaba_hourly`; the family is the parity
    (two families), so the bill has the Helios bill's shape: 8 teams, 2 families, 1 project.
    """
    pods = pd.read_csv(path)
    pods = pods[pods["scheduled_time"].notna()]
    t0 = np.ceil(pods["deletion_time"].min() / 3600.0) * 3600.0
    t1 = np.floor(pods["deletion_time"].max() / 3600.0) * 3600.0
    bounds = np.arange(t0, t1 + 1, 3600.0)
    parity = pods["name"].str.extract(r"(\d+)$")[0].astype(int).to_numpy() % 2
    frames = []
    for (qos, par), g in pods.assign(parity=parity).groupby(["qos", "parity"]):
        gpus = g["num_gpu"].to_numpy(float) * g["gpu_milli"].to_numpy(float) / 1000.0
        s, e = g["scheduled_time"].to_numpy(float), g["deletion_time"].to_numpy(float)
        keep = (gpus > 0) & (e > s)
        gpus, s, e = gpus[keep], s[keep], e[keep]
        held = np.array([float((gpus * np.clip(t - s, 0.0, e - s)).sum()) for t in bounds])
        frames.append(pd.DataFrame({"hour": np.arange(len(bounds) - 1), "team": f"{qos}-{par}",
                                    "family": f"fam{par}", "gpus": np.diff(held) / 3600.0}))
    return pd.concat(frames, ignore_index=True)


def held_out() -> None:
    """False alarms on clean series not looked at while designing: Alibaba-derived hourly demand, Gaussian noise."""
    path = SHARED.parent / "alibaba_openb" / "openb_pod_list_default.csv"
    if not path.is_file():
        print(f"held-out check skipped: {path} not found")
        return
    s = DetectorSettings()
    t0 = pd.Timestamp("2023-07-01", tz="UTC")
    ali = alibaba_hourly(path)
    gpus = ali["gpus"].to_numpy(dtype=float)
    n = len(gpus)
    b = pd.DataFrame({"timestamp": pd.date_range(t0, periods=n, freq="h"), "family": "a100", "team": "alibaba",
                      "project": "p", "region": "r", "instance_type": "i", "pricing_category": "Standard",
                      "commitment_status": None, "gpu_hours": gpus, "effective_cost_usd": gpus * 3.0,
                      "list_cost_usd": gpus * 3.0})
    inc = incidents(detect_anomalies(series_frames(b), s))
    weeks = (n - 24 * s.warmup_days) / 168
    print(f"held-out Alibaba hourly demand ({n} h, one team = family = project): {len(inc)} incidents over "
          f"{weeks:.2f} scored weeks = {len(inc) / weeks:.2f} per week")
    teams = alibaba_teams(path)
    teams = teams[teams.groupby("team")["gpus"].transform("mean") >= 1.0]   # as random_spikes: >= 1 GPU
    g = teams["gpus"].to_numpy(dtype=float)
    b = pd.DataFrame({"timestamp": t0 + pd.to_timedelta(teams["hour"].to_numpy(), unit="h"),
                      "family": teams["family"].to_numpy(), "team": teams["team"].to_numpy(), "project": "p",
                      "region": "r", "instance_type": "i", "pricing_category": "Standard", "commitment_status": None,
                      "gpu_hours": g, "effective_cost_usd": g * 3.0, "list_cost_usd": g * 3.0})
    a = detect_anomalies(series_frames(b), s)
    inc = incidents(a)
    print(f"held-out Alibaba per QoS x parity ({teams['team'].nunique()} teams with >= 1 GPU on average, 2 "
          f"families, 1 project, {n} h): {len(inc)} incidents ({len(a)} anomalies) over {weeks:.2f} scored weeks = "
          f"{len(inc) / weeks:.2f} per week")
    # Independent Gaussian noise on 11 series x 2 metrics, as on the Helios bill: the nominal budget.
    rng = np.random.default_rng(0)
    total = 0
    wk = 0.0
    for _ in range(4):
        rows = []
        for k in range(8):
            y = np.maximum(40.0 + rng.normal(0.0, 3.0, 24 * 42), 0.0)
            rows.append(pd.DataFrame({"timestamp": pd.date_range(t0, periods=len(y), freq="h"),
                                      "family": f"f{k % 2}", "team": f"t{k}", "project": "p", "region": "r",
                                      "instance_type": "i", "pricing_category": "Standard",
                                      "commitment_status": None, "gpu_hours": y, "effective_cost_usd": 3.0 * y,
                                      "list_cost_usd": 3.0 * y}))
        inc = incidents(detect_anomalies(series_frames(pd.concat(rows, ignore_index=True)), s))
        total += len(inc)
        wk += (42 - s.warmup_days) / 7
    print(f"held-out Gaussian noise (8 teams, 2 families, 1 project, 6 weeks, 4 draws): {total} incidents over "
          f"{wk:.0f} scored weeks = {total / wk:.2f} per week (budget {s.alarms_per_week:g})")


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
    p.add_argument("--only-anomalies", action="store_true", help="skip reconciliation and breach calibration")
    args = p.parse_args()
    if not args.only_anomalies:
        reconciliation()
        calibration()
    held_out()
    anomalies(args.reps)


if __name__ == "__main__":
    main()
