"""Small builders for simulator tests: scenarios from dicts, job tables, flat signal tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scenarios.loader import deep_merge
from scenarios.schema import Scenario

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def scenario(**over: Any) -> Scenario:
    """One family ``x`` at 2 USD/GPU-hour on demand, nothing else unless overridden (merged as scenario files are)."""
    base: dict[str, Any] = {
        "name": "test",
        "catalog": {"x": {"on_demand_usd_per_gpu_hour": 2.0, "gpu_power_kw": 0.5, "pue": 1.2}},
        "demand": {"history": "unused.csv", "preemptible_share": 0.0},
        "workload": {"checkpoint_cost_hours": 0.0, "restart_cost_hours": 0.0},
        "policies": {"spot_fallback_after_interruptions": 0},
    }
    return Scenario(**deep_merge(base, over))


def jobs(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A jobs table; ``submit`` / ``deadline`` given in hours after :data:`T0`."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        d: dict[str, Any] = {"job_id": r.pop("job_id", f"j{i}"),
                             "submit_time": T0 + pd.Timedelta(hours=r.pop("submit", 0.0))}
        dl = r.pop("deadline", None)
        d["deadline"] = T0 + pd.Timedelta(hours=dl) if dl is not None else pd.NaT
        d.update(r)
        out.append(d)
    df = pd.DataFrame(out)
    df["deadline"] = pd.to_datetime(df["deadline"], utc=True)
    return df


def flat_signal(region: str, value: float, hours: int, column: str) -> pd.DataFrame:
    """A constant hourly ``carbon`` or ``price`` table."""
    return pd.DataFrame({"region": region, "timestamp": pd.date_range(T0, periods=hours, freq="h"),
                         column: np.full(hours, float(value))})


def demand_frame(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """A family-level demand table from ``{family: hourly GPUs}``."""
    parts = [pd.DataFrame({"family": f, "timestamp": pd.date_range(T0, periods=len(v), freq="h"), "gpus": v})
             for f, v in values.items()]
    return pd.concat(parts, ignore_index=True)
