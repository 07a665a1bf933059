"""read_usage: long hourly usage with key columns, renaming, resampling and every bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from scenarios.bundled import resolve_path
from scenarios.errors import InputError
from scenarios.readers import read_usage

Write = Callable[[str, str], str]
HELIOS_COLUMNS = {"timestamp": "hour_start", "team": "vc", "gpus": "running_gpu_mean"}


def test_bundled_helios_reads_every_row_and_conserves_gpu_hours() -> None:
    path = resolve_path("bundled:helios_earth_vc")
    raw = pd.read_csv(path)
    res = read_usage(path, tz="Asia/Shanghai", columns=HELIOS_COLUMNS)
    f = res.frame
    assert f.columns.tolist() == ["timestamp", "team", "gpus"]
    assert len(f) == len(raw) == 8 * 744
    assert f["gpus"].sum() == pytest.approx(raw["running_gpu_mean"].sum())
    # local midnight 2020-05-01 in UTC+8 is 16:00 UTC the day before
    assert f["timestamp"].min() == pd.Timestamp("2020-04-30T16:00:00Z")
    per_team = f.groupby("team")["gpus"].sum()
    assert per_team.to_dict() == pytest.approx(raw.groupby("vc")["running_gpu_mean"].sum().to_dict())
    assert any("ignored columns" in n for n in res.notes)


def test_usage_with_all_keys_is_sorted_by_keys_then_time(write: Write) -> None:
    path = write("u.csv", """
timestamp,family,team,project,region,gpus
2026-01-01T00:00:00Z,h100,b,p,us,1
2026-01-01T01:00:00Z,h100,b,p,us,2
2026-01-01T00:00:00Z,a100,a,p,us,3
""")
    f = read_usage(path).frame
    assert f.columns.tolist() == ["timestamp", "family", "team", "project", "region", "gpus"]
    assert f["family"].tolist() == ["a100", "h100", "h100"]
    assert f["gpus"].tolist() == [3.0, 1.0, 2.0]


def test_interleaved_series_are_not_out_of_order(write: Write) -> None:
    path = write("u.csv", """
timestamp,team,gpus
2026-01-01T00:00:00Z,a,1
2026-01-01T00:00:00Z,b,2
2026-01-01T01:00:00Z,a,3
2026-01-01T01:00:00Z,b,4
""")
    f = read_usage(path).frame
    assert f["gpus"].tolist() == [1.0, 3.0, 2.0, 4.0]


def test_fifteen_minute_usage_is_resampled_to_hourly_means(write: Write) -> None:
    path = write("q.csv", "timestamp,team,gpus\n" + "\n".join(
        f"2026-01-01T00:{m:02d}:00Z,a,{g}" for m, g in ((0, 4), (15, 8), (30, 8), (45, 4))))
    res = read_usage(path)
    assert res.frame["gpus"].tolist() == [6.0]
    assert any("resampled 4 rows" in n for n in res.notes)


def test_zero_usage_is_kept_not_turned_into_missing(write: Write) -> None:
    path = write("z.csv", "timestamp,gpus\n2026-01-01T00:00:00Z,0\n2026-01-01T01:00:00Z,0\n")
    f = read_usage(path).frame
    assert f["gpus"].tolist() == [0.0, 0.0]


def test_usage_parquet_round_trip(tmp_path: Path) -> None:
    path = resolve_path("bundled:helios_earth_vc")
    csv_res = read_usage(path, tz="Asia/Shanghai", columns=HELIOS_COLUMNS)
    pq = tmp_path / "u.parquet"
    csv_res.frame.to_parquet(pq, index=False)
    pd.testing.assert_frame_equal(read_usage(pq).frame, csv_res.frame)


def test_naive_parquet_times_need_tz(tmp_path: Path) -> None:
    pq = tmp_path / "n.parquet"
    pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 01:00"]), "gpus": [1.0, 2.0]}
                 ).to_parquet(pq, index=False)
    with pytest.raises(InputError, match=r"row 1, column 'timestamp'.*no time zone"):
        read_usage(pq)
    f = read_usage(pq, tz="Europe/Berlin").frame
    assert f["timestamp"].iloc[0] == pd.Timestamp("2025-12-31T23:00:00Z")


U = "timestamp,team,gpus\n"
BAD = [
    ("timestamp,team,GPUs\n2026-01-01T00:00:00Z,a,1\n", None, "column 'gpus'", "rename 'GPUs' to 'gpus'"),
    ("timestamp,team,busy\n2026-01-01T00:00:00Z,a,1\n", None, "column 'gpus'", "add a 'gpus' column"),
    ("timestamp,tema,gpus\n2026-01-01T00:00:00Z,a,1\n", None, "column 'tema'", "did you mean 'team'"),
    ("hour_start,vc,gpus\n2026-01-01T00:00:00Z,a,1\n", {"timestamp": "hour_strat"}, "column 'hour_strat'",
     "did you mean 'hour_start'"),
    (U + "2026-01-01T00:00:00Z,a,1\n2026-01-01T01:00:00Z,a,1 GPU\n", None, "row 2, column 'gpus'", "not a number"),
    (U + "2026-01-01T00:00:00Z,a,-0.5\n", None, "row 1, column 'gpus'", "negative value -0.5"),
    (U + "2026-01-01T00:00:00Z,a,1\n01/01/2026 01:00,a,1\n", None, "row 2, column 'timestamp'", "cannot read"),
    (U + "2026-01-01 00:00:00,a,1\n", None, "row 1, column 'timestamp'", "no time zone"),
    (U + "2026-01-01T00:00:00Z,a,1\n2026-01-01T00:00:00Z,b,1\n2026-01-01T00:00:00Z,a,2\n", None,
     "row 3, column 'timestamp'", "duplicate time 2026-01-01T00:00:00+00:00 in series a"),
    (U + "2026-01-01T02:00:00Z,a,1\n2026-01-01T01:00:00Z,a,1\n", None, "row 2, column 'timestamp'",
     "earlier than the row before"),
    ("timestamp,gpus\n", None, "bad.csv", "no data rows"),
]


@pytest.mark.parametrize(("text", "columns", "where", "what"), BAD)
def test_bad_usage_gives_one_line_naming_file_row_column(write: Write, text: str, columns: dict[str, str] | None,
                                                          where: str, what: str) -> None:
    path = write("bad.csv", text)
    with pytest.raises(InputError) as info:
        read_usage(path, columns=columns)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith(path)
    assert where in line
    assert what in line


SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "helios_earth"


@pytest.mark.shared_data
def test_minutely_helios_resampled_equals_the_published_hourly_means() -> None:
    raw = SHARED / "raw_vc_minutely" / "Earth_vc3sl_cluster_sequence_vc.csv.gz"
    hourly = SHARED / "derived_earth_vc_hourly_gpu_demand.csv"
    if not raw.is_file() or not hourly.is_file():
        pytest.skip("../shared/data/helios_earth is absent (a fresh clone has no shared data)")
    res = read_usage(raw, tz="Asia/Shanghai", columns={"timestamp": "time", "gpus": "running_gpu_num"})
    ref = pd.read_csv(hourly)
    ref = ref[ref["vc"] == "vc3sl"]
    assert any("resampled 44,640 rows" in n for n in res.notes)
    assert len(res.frame) == len(ref) == 744
    # the published hourly file is the mean of the minutes, rounded to 3 decimals
    assert res.frame["gpus"].to_numpy() == pytest.approx(ref["running_gpu_mean"].to_numpy(), abs=6e-4)
