"""``auto`` on bursty GPU demand against the naive family (and statsforecast, when installed).

Prints what it measured, per series and overall, at 1 day (8 rolling origins 48 h apart) and 1 week
(4 origins 72 h apart), each refitted on all history before its cutoff:

- MASE (scaled by the in-sample naive24 MAE up to the cutoff) of ``auto``, ``naive``, ``naive24``,
  ``naive168`` and the simple robust models ``ses`` and ``ets_damped``; the ratio of ``auto``'s mean MASE to
  the best of the three naives (goal: <= 0.95), and its 95 % interval coverage (goal: 0.90-0.98);
- the geometric mean over series of ``auto``'s MASE over that series' best naive (scale-free: a mostly idle
  series whose in-sample scale is a few hundredths of a GPU cannot dominate it, as it does the mean), and,
  when other models are scored too, the hindsight bound: the mean MASE of the best scored model per series,
  chosen after seeing the test windows (what no selection among those models can beat), and the combination
  hindsight bound: the same over every fixed-weight pair of the gpuplan models scored (weights 0.1-0.9);
- seconds per series fit (cross-validation included);
- statsforecast ``AutoETS`` and ``MSTL`` (season 24 and 168, AutoETS trend) side by side in the same run,
  when ``statsforecast`` is installed (a benchmark-only dependency: ``pip install statsforecast``);
  otherwise a line saying it was skipped.

Series (real, public, in ``../shared/data``; the benchmark skips them with a message when absent):
the Helios Earth cluster total and its 8 virtual clusters (GPUs running, hourly mean; stamps are UTC+8),
and the Alibaba GPU pod list turned into hourly GPUs held by scheduled pods over its complete last ~34 days
(see ``benchmarks/shared_series.py``).  Philly is not derivable: the shared Philly data are job runtimes
without submission times.  ``--long`` adds the no-loss check on long histories: the long synthetic
series of ``bench_forecasting.synthetic`` (8 weeks, 1344 h; ``--no-shared`` runs only those).

Usage: ``.venv/bin/python benchmarks/bench_bursty.py [--horizon 24|168] [--models auto,naive,...] [--long]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from forecasting.backtest import evaluate  # noqa: E402
from forecasting.core import Forecaster  # noqa: E402
from forecasting.metrics import coverage, mase, naive_scale  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
WINDOWS = {24: (8, 48), 168: (4, 72)}   # horizon -> (windows, step) [-, h]
NAIVES = ("naive", "naive24", "naive168")
DEFAULT_MODELS = ("auto", *NAIVES, "ses", "ets_damped")


def _utc(s: pd.Series) -> pd.Series:
    # Helios stamps carry no zone; the operator is in UTC+8 (shared/data/README.md)
    return pd.to_datetime(s).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")


def shared_series() -> pd.DataFrame:
    """Every shared GPU demand series as a history frame (``series_id, timestamp, gpus``)."""
    from shared_series import alibaba_hourly

    hel = SHARED / "helios_earth"
    c = pd.read_csv(hel / "derived_earth_cluster_hourly_gpu_demand.csv")
    v = pd.read_csv(hel / "derived_earth_vc_hourly_gpu_demand.csv")
    ali = alibaba_hourly(SHARED / "alibaba_openb" / "openb_pod_list_default.csv")
    return pd.concat([
        pd.DataFrame({"series_id": "helios", "timestamp": _utc(c["hour_start"]), "gpus": c["running_gpu_mean"]}),
        pd.DataFrame({"series_id": "helios/" + v["vc"], "timestamp": _utc(v["hour_start"]),
                      "gpus": v["running_gpu_mean"]}),
        pd.DataFrame({"series_id": "alibaba", "timestamp": pd.to_datetime(ali["hour_start"]).dt.tz_localize("UTC"),
                      "gpus": ali["gpus"]}),
    ], ignore_index=True)


def _literal(text: str) -> object:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def score(history: pd.DataFrame, name: str, h: int, keep: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """MASE and coverage per series and cutoff of one gpuplan model; ``seconds`` per series fit.

    ``name`` may carry options: ``auto:combine=median`` runs ``auto`` with ``combine="median"``.  With
    ``keep``, the cross-validated forecasts are stored there under ``name`` (for :func:`combination_bound`).
    """
    n_windows, step = WINDOWS[h]
    model, _, opt = name.partition(":")
    options = {k: _literal(v) for k, v in (kv.split("=", 1) for kv in opt.split(";"))} if opt else None
    cv = Forecaster(model, progress=False, model_options=options).cross_validation(
        history, h, n_windows=n_windows, step=step, n_paths=0, seed=0)
    if keep is not None:
        keep[name] = cv
    ev = evaluate(cv, history)
    ev["model"] = name
    ev["seconds"] = float(cv.groupby(["series_id", "cutoff"])["seconds"].first().mean())
    return ev


def score_statsforecast(history: pd.DataFrame, h: int) -> pd.DataFrame | None:
    """The same windows for statsforecast AutoETS and MSTL, or None when it is not installed."""
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import MSTL, AutoETS
    except ImportError:
        print("statsforecast: SKIPPED (not installed; `pip install statsforecast` to compare)")
        return None
    n_windows, step = WINDOWS[h]
    # the same frame gpuplan's cross-validation uses: outage hours are missing (not scored, not trained on)
    frame, _, _ = Forecaster("naive", progress=False).prepare(history, h)
    warm = pd.DataFrame({"unique_id": 0, "ds": np.arange(400), "y": np.sin(np.arange(400) / 4.0) + 2.0})
    for make in (lambda: AutoETS(season_length=24), lambda: MSTL(season_length=[24, 168])):
        StatsForecast(models=[make()], freq=1, n_jobs=1).forecast(df=warm, h=24, level=[95])  # JIT, not timed
    rows = []
    for label, make in (("sf_autoets", lambda: AutoETS(season_length=24)),
                        ("sf_mstl", lambda: MSTL(season_length=[24, 168], trend_forecaster=AutoETS(model="ZZN")))):
        secs = []
        for sid, g in frame.groupby("series_id"):
            g = g.sort_values("timestamp")
            y_all = g["gpus"].to_numpy(float)
            # MASE is scaled on the raw history, as forecasting.backtest.evaluate does
            raw = history[history["series_id"] == sid].sort_values("timestamp")["gpus"].to_numpy(float)
            n = y_all.size
            if raw.size != n:
                raise RuntimeError(f"{sid}: history is not on a full hourly grid")
            for j in range(n_windows):
                cut = n - h - j * step
                train, test = y_all[:cut], y_all[cut:cut + h]
                fill = pd.Series(train).interpolate(limit_direction="both").to_numpy()
                df = pd.DataFrame({"unique_id": 0, "ds": np.arange(cut), "y": fill})
                t0 = time.perf_counter()
                try:
                    fc = StatsForecast(models=[make()], freq=1, n_jobs=1).forecast(df=df, h=h, level=[95])
                except Exception as exc:
                    print(f"  {label} failed on {sid} cutoff {cut}: {exc}")
                    continue
                secs.append(time.perf_counter() - t0)
                col = next(c for c in fc.columns if c not in ("unique_id", "ds") and "lo" not in c and "hi" not in c)
                f = np.maximum(fc[col].to_numpy(float), 0.0)
                lo = fc[next(c for c in fc.columns if c.endswith("lo-95"))].to_numpy(float)
                hi = fc[next(c for c in fc.columns if c.endswith("hi-95"))].to_numpy(float)
                rows.append({"series_id": sid, "cutoff": cut, "model": label, "mase": mase(test, f, raw[:cut], 24),
                             "cov_95": coverage(test, lo, hi)})
        for r in rows:
            if r["model"] == label:
                r["seconds"] = float(np.mean(secs)) if secs else np.nan
    return pd.DataFrame(rows)


def combination_bound(kept: dict[str, pd.DataFrame], history: pd.DataFrame) -> pd.Series | None:
    """Per series, the lowest mean MASE of any kept model other than ``auto`` or of any fixed-weight pair of them
    (weights 0.1, ..., 0.9), chosen after seeing the test windows: what no forecaster that combines two of these
    models with weights fixed per series could beat.  None with fewer than two models kept.
    """
    names = [n for n in kept if n != "auto"]
    if len(names) < 2:
        return None
    key = ["series_id", "cutoff", "timestamp"]
    frames = {n: kept[n].sort_values(key).reset_index(drop=True) for n in names}
    first = frames[names[0]]
    for n in names[1:]:
        if not first[key].equals(frames[n][key]):
            raise RuntimeError(f"{n}: cross-validation windows differ from {names[0]}'s")
    group = first.groupby(["series_id", "cutoff"], sort=False).ngroup().to_numpy()
    cells = first[["series_id", "cutoff"]].drop_duplicates().reset_index(drop=True)
    raw = {str(sid): g.sort_values("timestamp") for sid, g in history.groupby("series_id")}
    scale = np.array([naive_scale(raw[str(sid)]["gpus"].to_numpy(float)[(raw[str(sid)]["timestamp"] <= cut).to_numpy()], 24)
                      for sid, cut in zip(cells["series_id"], cells["cutoff"], strict=True)])
    y = first["gpus"].to_numpy(float)
    ok = np.isfinite(y)
    count = np.bincount(group, weights=ok.astype(float), minlength=len(cells))

    def per_series(f: np.ndarray) -> np.ndarray:
        err = np.bincount(group, weights=np.where(ok, np.abs(y - f), 0.0), minlength=len(cells))
        return np.asarray(cells.assign(m=err / count / scale).groupby("series_id")["m"].mean())

    means = {n: frames[n]["mean"].to_numpy(float) for n in names}
    best = np.min([per_series(means[n]) for n in names], axis=0)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for w in np.arange(1, 10) / 10:
                best = np.minimum(best, per_series(w * means[a] + (1 - w) * means[b]))
    return pd.Series(best, index=sorted(cells["series_id"].unique()))


def report(ev: pd.DataFrame, h: int, kept: dict[str, pd.DataFrame] | None = None,
           history: pd.DataFrame | None = None) -> None:
    """Print the per-series MASE table and the summary lines (and the combination bound, given ``kept``)."""
    per = ev.pivot_table(index="series_id", columns="model", values="mase")
    if not set(NAIVES) <= set(per.columns):
        print(per.round(3).to_string())
        print(ev.groupby("model")[["mase", "cov_95", "seconds"]].mean().round(3).to_string())
        return
    best_naive = per[list(NAIVES)].mean().min()
    best_name = per[list(NAIVES)].mean().idxmin()
    mean = per.mean()
    cov = ev.groupby("model")["cov_95"].mean()
    secs = ev.groupby("model")["seconds"].mean()
    n_windows, step = WINDOWS[h]
    print(f"\n-- horizon {h} h: {n_windows} origins {step} h apart x {per.shape[0]} series; MASE per series")
    has_auto = "auto" in per.columns
    per_ratio = per["auto"] / per[list(NAIVES)].min(axis=1) if has_auto else None
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print((per.assign(auto_vs_best_naive=per_ratio) if has_auto else per).round(3).to_string())
        print("\nmean MASE, 95 % coverage, seconds per series fit:")
        print(pd.DataFrame({"mase": mean, "cov_95": cov, "seconds": secs}).sort_values("mase").round(3).to_string())
    if per_ratio is None:
        return
    ratio = mean["auto"] / best_naive
    print(f"auto mean MASE {mean['auto']:.3f} / best naive ({best_name}) {best_naive:.3f} = {ratio:.3f} "
          f"(goal <= 0.95: {'MET' if ratio <= 0.95 else 'MISSED'}); auto 95 % coverage {cov['auto']:.3f} "
          f"(goal 0.90-0.98: {'MET' if 0.90 <= cov['auto'] <= 0.98 else 'MISSED'}); auto beats the per-series "
          f"best naive on {int((per_ratio < 1).sum())}/{per.shape[0]} series")
    # scale-free view: one series with a near-zero MASE scale cannot dominate a geometric mean of ratios
    print(f"geometric mean over series of auto / that series' best naive: {float(np.exp(np.log(per_ratio).mean())):.3f}")
    others = [c for c in per.columns if c != "auto"]
    if len(others) > len(NAIVES):
        # what choosing one of the scored models per series IN HINDSIGHT would reach (no forecaster can know it)
        hind = per[others].min(axis=1)
        print(f"hindsight bound: the best of the {len(others)} other models per series, chosen after seeing the test "
              f"windows, mean MASE {hind.mean():.3f} = {hind.mean() / best_naive:.3f} of the best naive")
    if kept and history is not None and (pair := combination_bound(kept, history)) is not None:
        print(f"combination hindsight bound: the best of the {len(kept) - ('auto' in kept)} gpuplan models "
              f"and their pairs with weights 0.1-0.9 per series, chosen after seeing the test windows, mean MASE "
              f"{pair.mean():.3f} = {pair.mean() / best_naive:.3f} of the best naive")


def main() -> None:
    """Run the accuracy board on the shared series (and optionally the long synthetic ones)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--horizon", type=int, choices=[24, 168], action="append", default=None)
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--long", action="store_true", help="also the long synthetic series (no-loss check)")
    ap.add_argument("--no-shared", action="store_true", help="skip the shared series")
    ap.add_argument("--long-series", type=int, default=6, help="number of long synthetic series")
    ap.add_argument("--no-statsforecast", action="store_true")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    horizons = args.horizon or [24, 168]
    sets: list[tuple[str, pd.DataFrame]] = []
    if args.no_shared:
        pass
    elif SHARED.is_dir():
        sets.append(("shared GPU demand", shared_series()))
    else:
        print(f"shared series: SKIPPED ({SHARED} not found)")
    if args.long:
        from bench_forecasting import synthetic

        sets.append(("long synthetic (1344 h, bench_forecasting.synthetic seed 1)",
                     synthetic(args.long_series, hours=1344, seed=1)))
    for label, hist in sets:
        print(f"\n== {label}: {hist['series_id'].nunique()} series")
        for h in horizons:
            kept: dict[str, pd.DataFrame] = {}
            ev = pd.concat([score(hist, m, h, kept) for m in models], ignore_index=True)
            if not args.no_statsforecast:
                sf = score_statsforecast(hist, h)
                if sf is not None and len(sf):
                    ev = pd.concat([ev, sf], ignore_index=True)
            report(ev, h, kept, hist)


if __name__ == "__main__":
    main()
