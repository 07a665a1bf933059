"""Small scenarios and demand paths for the optimizer tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scenarios.loader import validate_dict
from scenarios.schema import Scenario

START = pd.Timestamp("2026-01-01", tz="UTC")


def make_scenario(families: dict[str, dict[str, Any]] | None = None, **sections: Any) -> Scenario:
    """A scenario from a catalog and optional sections (policies, solver, workload, ...)."""
    fams = families or {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.3}}}
    raw: dict[str, Any] = {"name": "test", "catalog": fams, "demand": {"history": "unused.csv"}}
    for key, val in sections.items():
        if key == "demand":
            raw["demand"].update(val)
        else:
            raw[key] = val
    return validate_dict(raw)


def make_paths(demand: dict[str, np.ndarray], start: pd.Timestamp = START) -> pd.DataFrame:
    """Paths table from ``{family: array (S, H)}`` [GPUs]."""
    frames = []
    for fam, arr in demand.items():
        arr = np.atleast_2d(np.asarray(arr, dtype=float))
        s_n, h_n = arr.shape
        ts = pd.date_range(start, periods=h_n, freq="h")
        frames.append(pd.DataFrame({
            "series_id": fam, "timestamp": np.tile(ts, s_n), "sample_id": np.repeat(np.arange(s_n), h_n),
            "gpus": arr.ravel(),
        }))
    return pd.concat(frames, ignore_index=True)


def seasonal_demand(rng: np.random.Generator, base: float, s_n: int, h_n: int, growth: float = 0.0) -> np.ndarray:
    """Daily and weekly cycles, a per-path level, growth over the horizon and hourly noise [GPUs]."""
    t = np.arange(h_n)
    level = base * (1.0 + rng.normal(0.0, 0.1, size=(s_n, 1))) * (1.0 + growth * t / max(h_n, 1))
    shape = 1.0 + 0.3 * np.sin(2 * np.pi * t / 24) + 0.15 * np.sin(2 * np.pi * t / 168)
    return np.maximum(level * shape + rng.normal(0.0, 0.1 * base, size=(s_n, h_n)), 0.0)


TWO_FAMILIES: dict[str, dict[str, Any]] = {
    "a100": {
        "on_demand_usd_per_gpu_hour": 2.74,
        "committed_discount": {"1y": 0.28, "3y": 0.46},
        "reserved": [{"term_years": 1, "usd_per_gpu_hour": 1.74}, {"term_years": 3, "usd_per_gpu_hour": 1.235}],
        "spot": {"usd_per_gpu_hour": 1.15, "available_gpus": 10, "interruption_band": "10-15%"},
        "region": "default",
    },
    "h100": {
        "on_demand_usd_per_gpu_hour": 6.88,
        "committed_discount": {"1y": 0.25, "3y": 0.45},
        "reserved": [{"term_years": 1, "usd_per_gpu_hour": 4.36},
                     {"term_years": 1, "payment": "all_upfront", "usd_per_gpu_hour": 4.13}],
        "region": "default",
    },
}
