"""Outage detection on the real Helios Earth data and on constructed edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.outages import detect_outages

from .conftest import hourly_frame

SH = "Asia/Shanghai"


def _local(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert(SH)


@pytest.mark.shared_data
def test_helios_outages_are_the_documented_ones_on_the_virtual_clusters(helios_history: pd.DataFrame) -> None:
    vcs = helios_history[helios_history["series_id"] != "total"]
    clean, found, notes = detect_outages(vcs)
    fleet = found[found["series_id"] == "*"].sort_values("start")
    starts = [(_local(pd.Series([s]))[0]).strftime("%Y-%m-%d %H:%M") for s in fleet["start"]]
    assert starts == ["2020-05-10 00:00", "2020-05-12 14:00"]
    assert fleet["hours"].tolist() == [24, 2]  # all of 2020-05-10; 14:00-15:00 on 2020-05-12
    # every series is missing there, and nowhere else because of rule 1
    day = (_local(clean["timestamp"]).dt.strftime("%Y-%m-%d") == "2020-05-10")
    assert clean.loc[day, "gpus"].isna().all()
    assert notes == []


@pytest.mark.shared_data
def test_helios_cluster_total_alone_finds_the_same_outages(helios_history: pd.DataFrame) -> None:
    total = helios_history[helios_history["series_id"] == "total"]
    clean, found, _ = detect_outages(total)
    assert found["hours"].tolist() == [24, 2]
    assert int(clean["gpus"].isna().sum()) == 26
    # real quiet hours are kept: the cluster is never near zero otherwise
    assert clean["gpus"].min() > 0.05 * clean["gpus"].median()


@pytest.mark.shared_data
def test_an_idle_virtual_cluster_keeps_its_zeros(helios_history: pd.DataFrame) -> None:
    # vcJkd is idle most of the month: its zeros are demand, not outages (rule 2 does not apply)
    jkd = helios_history[helios_history["series_id"] == "vcJkd"]
    clean, found, _ = detect_outages(jkd)
    assert found.empty
    assert clean["gpus"].isna().sum() == 0


def test_zeros_at_the_end_of_history_are_kept_and_reported() -> None:
    g = np.full(300, 40.0)
    g[-10:] = 0.0
    clean, found, notes = detect_outages(hourly_frame(g))
    assert found.empty
    assert clean["gpus"].isna().sum() == 0
    assert len(notes) == 1 and "last 10 h" in notes[0]


def test_a_short_drop_to_zero_in_a_busy_series_is_an_outage_but_a_long_one_is_not() -> None:
    g = np.full(600, 40.0) + np.sin(np.arange(600))
    g[100:103] = 0.0
    g[300:500] = 0.0  # 200 h > a week: a real shutdown, kept
    clean, found, _ = detect_outages(hourly_frame(g))
    assert found[["hours", "rule"]].values.tolist() == [[3, "busy series near zero"]]
    assert np.isnan(clean["gpus"].to_numpy()[100:103]).all()
    assert (clean["gpus"].to_numpy()[300:500] == 0).all()
