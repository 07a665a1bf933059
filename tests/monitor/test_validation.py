"""The anomaly detector on a SYNTHETIC bill of REAL Helios demand with injected spikes (bundled data).

Recall and false alarms measured here are regression guards; the figures over more spikes are printed by
``benchmarks/bench_monitor.py`` (docs/monitor.md). Targets of issue 14: recall >= 0.9 for spikes of +50 % and
more, and at most one false alarm per week on the clean bill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpuplan.monitor.anomalies import DetectorSettings, incidents
from gpuplan.monitor.validation import Spike, bill_anomalies, detected, fill_outages, inject, random_spikes
from scenarios.history import load_history
from scenarios.loader import load_scenario


@pytest.fixture(scope="module")
def helios() -> tuple[pd.DataFrame, object]:
    sc = load_scenario("small")
    usage, filled = fill_outages(load_history(sc).usage)
    assert filled == 26    # 2020-05-10 (24 h) and 2020-05-12 14:00-15:00 local, UTC+8
    return usage, sc


def test_injection_adds_the_stated_share_of_the_family(helios: tuple[pd.DataFrame, object]) -> None:
    usage, _ = helios
    t = pd.Timestamp("2020-05-20 03:00", tz="UTC")
    s = Spike("a100", "vcTJs", t, 5, 0.5)
    out = inject(usage, [s])
    window = (usage["timestamp"] >= t) & (usage["timestamp"] < t + pd.Timedelta(hours=5))
    fam = usage["family"] == "a100"
    extra = out["gpus"].sum() - usage["gpus"].sum()
    assert extra == pytest.approx(0.5 * usage.loc[window & fam, "gpus"].sum(), rel=1e-12)
    changed = out["gpus"].to_numpy() != usage["gpus"].to_numpy()
    assert set(out.loc[changed, "team"]) <= {"vcTJs"}


def test_spikes_of_50_and_100_percent_are_found_and_the_clean_bill_stays_quiet(
        helios: tuple[pd.DataFrame, object]) -> None:
    usage, sc = helios
    s = DetectorSettings()
    clean = bill_anomalies(usage, sc, s)  # type: ignore[arg-type]
    weeks = ((usage["timestamp"].max() - usage["timestamp"].min()) / pd.Timedelta(hours=1) + 1
             - 24 * s.warmup_days) / 168
    per_week = len(incidents(clean)) / weeks
    assert per_week <= 1.0, per_week      # measured 0.82 (2 incidents in 2.43 weeks)
    first = usage["timestamp"].min() + pd.Timedelta(days=s.warmup_days + 1)
    hits = []
    for mag in (0.5, 1.0):
        for rep in (7, 8):
            rng = np.random.default_rng([rep, int(mag * 100)])
            spikes = random_spikes(usage, mag, rng, n=20, first=first, gap_hours=96)
            found = bill_anomalies(inject(usage, spikes), sc, s)  # type: ignore[arg-type]
            hits += [detected(found, sp) for sp in spikes]
    assert len(hits) >= 12
    assert np.mean(hits) >= 0.9, hits
