"""Shared fixtures: synthetic hourly series with known noise, and the real Helios Earth data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HELIOS = DATA / "helios_earth"


def hourly_frame(values: np.ndarray, series_id: str = "a100", start: str = "2024-01-01") -> pd.DataFrame:
    """A history frame of one series starting at ``start`` (UTC)."""
    t = pd.date_range(start, periods=len(values), freq="h", tz="UTC")
    return pd.DataFrame({"series_id": series_id, "timestamp": t, "gpus": np.asarray(values, dtype=float)})


def seasonal_series(n: int, seed: int = 0, sigma: float = 2.0, level: float = 50.0) -> np.ndarray:
    """Daily sinusoid around ``level`` plus iid Gaussian noise of known sd ``sigma`` [GPUs]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + 10.0 * np.sin(2 * np.pi * t / 24) + rng.normal(0.0, sigma, n)


@pytest.fixture(scope="session")
def helios_history() -> pd.DataFrame:
    """Helios Earth: the cluster total (running GPUs) and the 8 virtual clusters, UTC.

    The source has naive times; the operator is in UTC+8, so they are read as Asia/Shanghai.
    """
    cluster = HELIOS / "derived_earth_cluster_hourly_gpu_demand.csv"
    vcs = HELIOS / "derived_earth_vc_hourly_gpu_demand.csv"
    if not cluster.exists() or not vcs.exists():
        pytest.skip(f"real data not found at {HELIOS} (needs the ../shared/data folder)")
    c = pd.read_csv(cluster)
    v = pd.read_csv(vcs)

    def utc(s: pd.Series) -> pd.Series:
        return pd.to_datetime(s).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")

    return pd.concat([
        pd.DataFrame({"series_id": "total", "timestamp": utc(c["hour_start"]), "gpus": c["running_gpu_mean"]}),
        pd.DataFrame({"series_id": v["vc"], "timestamp": utc(v["hour_start"]), "gpus": v["running_gpu_mean"]}),
    ], ignore_index=True)
