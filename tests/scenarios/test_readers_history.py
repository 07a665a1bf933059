"""read_history: the forecasting CLI's history contract, good shapes and every bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.readers import read_history

Write = Callable[[str, str], str]

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_two_series_read_sorted_utc_with_gaps_as_nan(write: Write) -> None:
    path = write("d.csv", """
timestamp,series_id,gpus
2026-01-01T01:00:00+01:00,h100,4
2026-01-01T00:00:00Z,a100,3
2026-01-01T01:00:00Z,a100,4
2026-01-01T03:00:00Z,a100,0
2026-01-01T01:00:00Z,h100,5
""")
    frame, notes = read_history(path)
    assert frame.columns.tolist() == ["series_id", "timestamp", "gpus"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    a = frame[frame["series_id"] == "a100"]
    assert a["timestamp"].dt.hour.tolist() == [0, 1, 2, 3]
    assert np.isnan(a["gpus"].iloc[2])          # absent hour is missing, not zero
    assert a["gpus"].iloc[3] == 0.0             # a real zero is kept as read
    h = frame[frame["series_id"] == "h100"]
    assert h["timestamp"].dt.hour.tolist() == [0, 1]   # +01:00 converted to UTC
    assert h["gpus"].tolist() == [4.0, 5.0]
    assert any("1 absent hours" in n for n in notes)


def test_missing_series_id_names_series_after_file(write: Write) -> None:
    path = write("cluster_demand.csv", "timestamp,gpus\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,2\n")
    frame, notes = read_history(path)
    assert set(frame["series_id"]) == {"cluster_demand"}
    assert any("no series_id" in n for n in notes)


def test_sub_hourly_input_is_resampled_to_hourly_means_and_reported(write: Write) -> None:
    rows = "\n".join(f"2026-01-01T{h:02d}:{m:02d}:00Z,{h * 10 + m / 15}" for h in range(3) for m in (0, 15, 30, 45))
    path = write("q.csv", "timestamp,gpus\n" + rows)
    frame, notes = read_history(path)
    # mean of 0, 1, 2, 3 (+10h) = 1.5, 11.5, 21.5
    assert frame["gpus"].tolist() == pytest.approx([1.5, 11.5, 21.5])
    assert any("resampled 12 rows" in n for n in notes)


def test_naive_times_with_tz_are_localised_then_converted(write: Write) -> None:
    path = write("n.csv", "timestamp,gpus\n2020-05-01 08:00:00,1\n2020-05-01 09:00:00,2\n")
    frame, _ = read_history(path, tz="Asia/Shanghai")
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2020-05-01T00:00:00Z")


def test_parquet_round_trip_equals_csv(write: Write, tmp_path: Path) -> None:
    path = write("d.csv", "timestamp,series_id,gpus\n2026-01-01T00:00:00Z,a,1\n2026-01-01T01:00:00Z,a,2.5\n")
    frame, _ = read_history(path)
    pq = tmp_path / "d.parquet"
    frame.to_parquet(pq, index=False)
    again, _ = read_history(pq)
    pd.testing.assert_frame_equal(frame, again)


BAD = [
    ("timestamp,gpu\n2026-01-01T00:00:00Z,1\n", "column 'gpus'", "rename 'gpu' to 'gpus'"),
    ("time,gpus\n2026-01-01T00:00:00Z,1\n", "column 'timestamp'", "rename 'time' to 'timestamp'"),
    ("hour,gpus\n2026-01-01T00:00:00Z,1\n", "column 'timestamp'", "add a 'timestamp' column"),
    ("timestamp,seriesid,gpus\n2026-01-01T00:00:00Z,a,1\n", "column 'seriesid'", "did you mean 'series_id'"),
    ("timestamp,gpus\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,many\n", "row 2, column 'gpus'", "not a number"),
    ("timestamp,gpus\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,-2\n", "row 2, column 'gpus'", "negative"),
    ("timestamp,gpus\n2026-01-01T00:00:00Z,1\nyesterday,2\n", "row 2, column 'timestamp'", "cannot read"),
    ("timestamp,gpus\n2026-01-01T00:00:00,1\n", "row 1, column 'timestamp'", "--tz"),
    ("timestamp,gpus\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00,1\n", "row 2", "no UTC offset"),
    ("timestamp,gpus\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:00Z,2\n", "row 2", "duplicate time"),
    ("timestamp,gpus\n2026-01-01T01:00:00Z,1\n2026-01-01T00:00:00Z,2\n", "row 2", "earlier than the row before"),
    ("timestamp,gpus\n2026-01-01T00:00:00Z,1\n2026-01-02T00:00:00Z,1\n2026-01-03T00:00:00Z,1\n", "timestamp",
     "not hourly"),
    ("timestamp,gpus\n2026-01-01T00:00:00Z,inf\n", "row 1", "finite"),
]


@pytest.mark.parametrize(("text", "where", "what"), BAD)
def test_bad_history_gives_one_line_naming_file_row_column(write: Write, text: str, where: str, what: str) -> None:
    path = write("bad.csv", text)
    with pytest.raises(InputError) as info:
        read_history(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith(path)
    assert where in line
    assert what in line


def test_duplicate_hours_in_one_file_without_series_id_hint_at_series_id(write: Write) -> None:
    path = write("x.csv", "timestamp,team,gpus\n2026-01-01T00:00:00Z,a,1\n2026-01-01T00:00:00Z,b,2\n")
    with pytest.raises(InputError, match="add a series_id column"):
        read_history(path)


def test_ambiguous_local_time_is_refused(write: Write) -> None:
    path = write("dst.csv", "timestamp,gpus\n2021-11-07 00:00:00,1\n2021-11-07 01:00:00,1\n")
    with pytest.raises(InputError, match=r"row 2.*ambiguous"):
        read_history(path, tz="America/New_York")


def test_unknown_tz_is_refused(write: Write) -> None:
    path = write("d.csv", "timestamp,gpus\n2026-01-01T00:00:00,1\n")
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        read_history(path, tz="Mars/Olympus")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such history file"):
        read_history(tmp_path / "nope.csv")


@pytest.mark.shared_data
def test_real_helios_cluster_series_keeps_outage_zeros_and_all_744_hours(tmp_path: Path) -> None:
    src = SHARED / "helios_earth" / "derived_earth_cluster_hourly_gpu_demand.csv"
    if not src.is_file():
        pytest.skip("../shared/data/helios_earth is absent (a fresh clone has no shared data)")
    raw = pd.read_csv(src)
    path = tmp_path / "earth.csv"
    raw.rename(columns={"hour_start": "timestamp", "running_gpu_mean": "gpus"})[["timestamp", "gpus"]].to_csv(
        path, index=False)
    frame, _ = read_history(path, tz="Asia/Shanghai")
    assert len(frame) == 744
    assert frame["gpus"].sum() == pytest.approx(raw["running_gpu_mean"].sum())
    # the logging outage on 2020-05-10 (local) reads ~0 and must come through as read (not NaN)
    local = frame["timestamp"].dt.tz_convert("Asia/Shanghai")
    outage = frame.loc[local.dt.strftime("%Y-%m-%d") == "2020-05-10", "gpus"]
    assert len(outage) == 24
    assert outage.max() < 1.0
    assert frame["gpus"].notna().all()
