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


@pytest.mark.shared_data
@pytest.mark.parametrize("cut", ["2020-05-14", "2020-05-16"])
def test_the_may_10_outage_is_found_in_a_two_week_history(helios_history: pd.DataFrame, cut: str) -> None:
    """Cut at May 14 or 16 (UTC+8), the 26 outage hours are 7-8 % of the history: the 5th percentile is 0.

    Judged on all hours the fleet never looked busy and nothing was found; with the candidate stretches
    set aside it is busy, and the same two stretches as on the full month come out.
    """
    end = pd.Timestamp(cut, tz=SH)
    for part in (helios_history[helios_history["series_id"] != "total"],
                 helios_history[helios_history["series_id"] == "total"]):
        short = part[part["timestamp"] < end]
        clean, found, notes = detect_outages(short)
        starts = [s.tz_convert(SH).strftime("%Y-%m-%d %H:%M") for s in found["start"]]
        assert starts == ["2020-05-10 00:00", "2020-05-12 14:00"]
        assert found["hours"].tolist() == [24, 2]
        assert int(clean["gpus"].isna().sum()) == 26 * short["series_id"].nunique()
        assert notes == []


def test_a_one_day_outage_in_a_two_week_history_is_found() -> None:
    """336 h at 40 +- 5 GPUs with hours 150-173 at 0: 24 h = 7 % of the history, above the 5th percentile."""
    g = 40.0 + 5.0 * np.sin(2 * np.pi * np.arange(336) / 24)
    g[150:174] = 0.0
    clean, found, _ = detect_outages(hourly_frame(g))
    assert found[["hours", "rule"]].values.tolist() == [[24, "busy series near zero"]]
    assert found["start"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=150)
    assert int(clean["gpus"].isna().sum()) == 24


def test_a_series_near_zero_more_than_fifteen_percent_of_the_time_keeps_its_zeros() -> None:
    """Three idle days in two weeks (72 h = 21 %): idle by habit, not an outage."""
    g = np.full(336, 40.0)
    for day in (2, 6, 10):
        g[24 * day:24 * day + 24] = 0.0
    clean, found, _ = detect_outages(hourly_frame(g))
    assert found.empty
    assert clean["gpus"].isna().sum() == 0
