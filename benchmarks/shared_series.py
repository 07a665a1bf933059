"""Shared GPU demand series derived for the benchmarks (numpy and pandas only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Where the Alibaba trace's seconds are placed: ARBITRARY (the trace gives no date).
ALIBABA_EPOCH = pd.Timestamp("2023-07-01 00:00")


def alibaba_hourly(path: Path) -> pd.DataFrame:
    """Hourly mean GPUs held by the scheduled pods of the Alibaba pod list, over its complete window.

    Returns
    -------
    pandas.DataFrame
        ``hour_start`` (naive, seconds placed from :data:`ALIBABA_EPOCH`), ``gpus`` [GPUs].
    """
    pods = pd.read_csv(path)
    pods = pods[pods["scheduled_time"].notna()]
    gpus = pods["num_gpu"].to_numpy(float) * pods["gpu_milli"].to_numpy(float) / 1000.0
    s = pods["scheduled_time"].to_numpy(float)
    e = pods["deletion_time"].to_numpy(float)
    keep = (gpus > 0) & (e > s)
    gpus, s, e = gpus[keep], s[keep], e[keep]
    t0 = np.ceil(pods["deletion_time"].min() / 3600.0) * 3600.0      # first complete hour
    t1 = np.floor(pods["deletion_time"].max() / 3600.0) * 3600.0
    bounds = np.arange(t0, t1 + 1, 3600.0)
    # GPU-seconds held before each boundary: sum of gpus x clip(t - s, 0, e - s)
    held = np.array([float((gpus * np.clip(t - s, 0.0, e - s)).sum()) for t in bounds])
    mean = np.diff(held) / 3600.0
    hours = ALIBABA_EPOCH + pd.to_timedelta(bounds[:-1], unit="s")
    return pd.DataFrame({"hour_start": hours.strftime("%Y-%m-%d %H:%M:%S"), "gpus": mean})
