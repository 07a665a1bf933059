"""M4 Hourly (414 series, horizon 48 h): OWA, MASE, sMAPE and 95 % coverage of gpuplan models.

The M4 data are not shipped with the project (their licence is the competition's); point ``--dir`` at a
folder holding ``Hourly-train.csv`` and ``Hourly-test.csv`` from the M4 competition's public ``Dataset``
folder.  The benchmark prints a SKIPPED line when they are absent.

Scoring follows the competition: sMAPE [%] and MASE (in-sample seasonal naive, m = 24) averaged over series;
OWA = (sMAPE / sMAPE_naive2 + MASE / MASE_naive2) / 2, where Naive2 is the naive forecast of the series
seasonally adjusted by classical multiplicative decomposition when the lag-24 autocorrelation passes the
competition's 90 % test.  ``--every k`` scores every k-th series (faster, deterministic subset).

Usage: ``python benchmarks/bench_m4.py --dir PATH [--models auto,naive,naive24] [--every 1]``
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

from forecasting.metrics import mase  # noqa: E402
from forecasting.registry import make_model  # noqa: E402

H = 48
M = 24


def load(folder: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Training and test arrays of the M4 Hourly series, in file order."""
    tr = pd.read_csv(folder / "Hourly-train.csv", index_col=0)
    te = pd.read_csv(folder / "Hourly-test.csv", index_col=0)
    train = [r[np.isfinite(r)] for r in tr.to_numpy(float)]
    test = [r[np.isfinite(r)] for r in te.to_numpy(float)]
    return train, test


def smape_m4(y: np.ndarray, f: np.ndarray) -> float:
    """sMAPE [%] as in M4: mean of 200 |y - f| / (|y| + |f|)."""
    return float(np.mean(200.0 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def naive2(y: np.ndarray, h: int = H, m: int = M) -> np.ndarray:
    """M4's Naive2: naive on the seasonally adjusted series (multiplicative, 90 % ACF test), reseasoned."""
    n = y.size
    x = y - y.mean()
    acf = np.array([float((x[k:] * x[:-k]).sum() / (x * x).sum()) for k in range(1, m + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * float((acf[:-1] ** 2).sum())) / n)
    idx = np.ones(m)
    if n >= 3 * m and abs(acf[-1]) > limit:
        # centred 2 x m moving average, ratios to it, mean ratio per position, normalised to mean 1
        ma = np.convolve(y, np.r_[0.5, np.ones(m - 1), 0.5] / m, mode="valid")
        ratio = y[m // 2: m // 2 + ma.size] / ma
        pos = (np.arange(ma.size) + m // 2) % m
        idx = np.array([ratio[pos == p].mean() for p in range(m)])
        idx = idx / idx.mean()
    season = idx[np.arange(n) % m]
    last = y[-1] / season[-1]
    return np.asarray(last * idx[(np.arange(n, n + h)) % m])


def main() -> None:
    """Score the models and print the board."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=ROOT.parent / "shared" / "data" / "m4")
    ap.add_argument("--models", default="auto,naive,naive24")
    ap.add_argument("--every", type=int, default=1)
    args = ap.parse_args()
    if not (args.dir / "Hourly-train.csv").is_file():
        print(f"M4 Hourly: SKIPPED ({args.dir}/Hourly-train.csv not found)")
        return
    train, test = load(args.dir)
    pick = range(0, len(train), args.every)
    rows = []
    for i in pick:
        y, t = train[i], test[i]
        f2 = naive2(y)
        rows.append({"series": i, "model": "naive2", "smape": smape_m4(t, f2), "mase": mase(t, f2, y, M),
                     "cov_95": np.nan, "seconds": np.nan})
        for name in args.models.split(","):
            model = make_model(name, cv_horizon=H) if name.startswith("auto") else make_model(name)
            t0 = time.perf_counter()
            p = model.fit(y).predict(H, levels=(95,))
            secs = time.perf_counter() - t0
            cov = float(np.mean((t >= p.lower[95]) & (t <= p.upper[95])))
            rows.append({"series": i, "model": name, "smape": smape_m4(t, p.mean), "mase": mase(t, p.mean, y, M),
                         "cov_95": cov, "seconds": secs})
    df = pd.DataFrame(rows)
    board = df.groupby("model")[["smape", "mase", "cov_95", "seconds"]].mean()
    ref = board.loc["naive2"]
    board["owa"] = 0.5 * (board["smape"] / ref["smape"] + board["mase"] / ref["mase"])
    print(f"M4 Hourly: {len(pick)} series (every {args.every}), horizon {H} h")
    print(board.sort_values("owa").round(3).to_string())


if __name__ == "__main__":
    main()
