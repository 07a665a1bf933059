"""Hourly spend and GPU-hour series per team, family and project, with their pricing-category make-up.

An hour without billing rows is an hour where nothing was charged (0 USD, 0 GPU-hours), as for the
readers. Idle (unused) commitment carries no team or project tag: it is in the family series only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Levels scored for anomalies: the billing column each series is keyed by.
LEVELS = ("team", "family", "project")
CATEGORIES = ("Standard", "Dynamic", "Committed")
UNTAGGED = "(untagged)"


def hourly_index(billing: pd.DataFrame) -> pd.DatetimeIndex:
    """Every UTC hour from the bill's first to its last hour."""
    return pd.date_range(billing["timestamp"].min(), billing["timestamp"].max(), freq="h")


def series_frames(billing: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Hourly frames per ``(level, key)``.

    Returns
    -------
    dict
        ``{(level, key): frame}``; each frame is indexed by every hour of the bill with columns
        ``spend_usd`` and ``gpu_hours`` (used), per category ``gpu_hours_<cat>`` [GPU-hours] and ``usd_<cat>``
        [USD], and ``unused_usd`` [USD, idle commitment; family level only].
    """
    idx = hourly_index(billing)
    b = billing.copy()
    unused = (b["commitment_status"].astype("string").fillna("") == "Unused").to_numpy(dtype=bool)
    cat = b["pricing_category"].astype(str).to_numpy()
    h = b["gpu_hours"].to_numpy(dtype=float)
    c = b["effective_cost_usd"].to_numpy(dtype=float)
    cols = {"unused_usd": np.where(unused, c, 0.0)}
    for k in CATEGORIES:
        sel = (cat == k) & ~unused
        cols[f"gpu_hours_{k.lower()}"] = np.where(sel, h, 0.0)
        cols[f"usd_{k.lower()}"] = np.where(sel, c, 0.0)
    parts = pd.DataFrame(cols, index=b.index)
    parts["timestamp"] = b["timestamp"].to_numpy()
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for level in LEVELS:
        key = b[level].astype("string").fillna(UNTAGGED).to_numpy(dtype=object)
        keep = np.ones(len(b), dtype=bool) if level == "family" else ~unused
        parts["_key"] = key
        for name, g in parts[keep].groupby("_key", sort=True):
            f = g.drop(columns="_key").groupby("timestamp").sum().reindex(idx, fill_value=0.0)
            f["gpu_hours"] = f[[f"gpu_hours_{k.lower()}" for k in CATEGORIES]].sum(axis=1)
            f["spend_usd"] = f[[f"usd_{k.lower()}" for k in CATEGORIES]].sum(axis=1) + f["unused_usd"]
            out[(level, str(name))] = f
    return out
