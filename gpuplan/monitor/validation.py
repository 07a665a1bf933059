"""Validation of the anomaly detector on injected spikes in a SYNTHETIC FOCUS bill of REAL Helios demand.

The clean bill is :func:`scenarios.synthetic.focus_export` of the scenario's demand history (the default
scenario: SenseTime Helios Earth, May 2020, 8 teams on two families). Helios has a logging outage (all of
2020-05-10 and two hours of 2020-05-12 read about 0 GPUs); hours where the whole cluster reads below
``outage_share`` of its median are filled by linear interpolation per team before billing, because a
logging gap is not a change in spend.

A spike of magnitude ``m`` lasting ``L`` hours adds ``m`` x the family's GPUs in each hour of the window to
one team of that family (a team's runaway job worth ``m`` of the family's load). It is **detected** when an
anomaly of that team's or that family's series (spend or GPU-hours) overlaps the window or the hour after it
(a spike's fall is also a change). A **false alarm** is an incident (overlapping anomalies of any series
grouped, as an alerting hook would group them) on the clean bill.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gpuplan.monitor.anomalies import DetectorSettings, detect_anomalies
from gpuplan.monitor.series import series_frames
from scenarios.readers import read_focus
from scenarios.schema import Scenario
from scenarios.synthetic import focus_export


@dataclass(frozen=True)
class Spike:
    """An injected spike: ``magnitude`` [fraction of the family's GPUs] on ``team`` for ``hours`` from ``start``."""

    family: str
    team: str
    start: pd.Timestamp
    hours: int
    magnitude: float


def fill_outages(usage: pd.DataFrame, outage_share: float = 0.05) -> tuple[pd.DataFrame, int]:
    """Usage with cluster-wide near-zero hours linearly interpolated per (family, team); hours filled."""
    wide = usage.pivot_table(index="timestamp", columns=["family", "team"], values="gpus", aggfunc="sum")
    total = wide.sum(axis=1)
    out = (total < outage_share * float(total.median())).to_numpy(dtype=bool)
    wide[out] = np.nan
    wide = wide.interpolate(limit_direction="both")
    long = pd.Series(wide.stack(["family", "team"], future_stack=True), name="gpus").reset_index()
    return long[["timestamp", "family", "team", "gpus"]], int(out.sum())


def inject(usage: pd.DataFrame, spikes: list[Spike]) -> pd.DataFrame:
    """``usage`` with each spike's extra GPUs added to its team (module docstring)."""
    u = usage.copy()
    ts = pd.DatetimeIndex(u["timestamp"])
    for s in spikes:
        window = (ts >= s.start) & (ts < s.start + pd.Timedelta(hours=s.hours))
        fam = (u["family"] == s.family).to_numpy(dtype=bool) & window
        extra = u[fam].groupby("timestamp")["gpus"].sum() * s.magnitude
        row = fam & (u["team"] == s.team).to_numpy(dtype=bool)
        u.loc[row, "gpus"] = u.loc[row, "gpus"].to_numpy(dtype=float) + extra.reindex(
            pd.DatetimeIndex(u.loc[row, "timestamp"])).to_numpy(dtype=float)
    return u


def bill_anomalies(usage: pd.DataFrame, sc: Scenario, settings: DetectorSettings | None = None,
                   seed: int = 0) -> pd.DataFrame:
    """Bill ``usage`` as a FOCUS export, read it back, and detect anomalies."""
    bill = focus_export(usage, sc, seed=seed)
    with tempfile.TemporaryDirectory(prefix="gpuplan-monitor-") as tmp:
        path = Path(tmp) / "focus.parquet"
        bill.to_parquet(path)
        billing = read_focus(path).frame
    return detect_anomalies(series_frames(billing), settings)


def detected(anomalies: pd.DataFrame, spike: Spike) -> bool:
    """Whether an anomaly of the spike's team or family overlaps its window or the hour after."""
    end = spike.start + pd.Timedelta(hours=spike.hours + 1)
    mine = (((anomalies["level"] == "team") & (anomalies["series"] == spike.team))
            | ((anomalies["level"] == "family") & (anomalies["series"] == spike.family)))
    hit = mine & (anomalies["start"] < end) & (anomalies["end"] > spike.start)
    return bool(hit.any())


def random_spikes(usage: pd.DataFrame, magnitude: float, rng: np.random.Generator, *, n: int, first: pd.Timestamp,
                  gap_hours: int = 72) -> list[Spike]:
    """``n`` spikes of 2 to 24 hours at least ``gap_hours`` apart, after ``first``, on random teams."""
    hours = pd.DatetimeIndex(sorted(usage["timestamp"].unique()))
    pairs = usage[["family", "team"]].drop_duplicates().sort_values(["family", "team"]).to_numpy().tolist()
    busy = usage.groupby("team")["gpus"].mean()
    pairs = [p for p in pairs if busy[p[1]] >= 1.0]     # a team with < 1 GPU on average runs no real job
    out: list[Spike] = []
    t = first + pd.Timedelta(hours=int(rng.integers(0, 24)))
    while len(out) < n and t + pd.Timedelta(hours=25) < hours[-1]:
        fam, team = pairs[int(rng.integers(len(pairs)))]
        length = int(rng.integers(2, 25))
        out.append(Spike(str(fam), str(team), t, length, magnitude))
        t = t + pd.Timedelta(hours=length + gap_hours + int(rng.integers(0, 24)))
    return out
