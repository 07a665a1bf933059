"""read_trace: job traces with duration or start/end, defaults, skipped jobs and every bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.readers import JOB_COLUMNS, read_trace

Write = Callable[[str, str], str]

GOOD = """
job_id,submit_time,gpus,duration_hours,team,deadline,preemptible,checkpoint_interval_hours,priority
j2,2026-01-01T02:00:00Z,8,10.5,research,2026-01-02T00:00:00Z,no,1.5,2
j1,2026-01-01T00:00:00Z,1,0.25,product,,yes,,
j3,2026-01-01T03:00:00Z,0,4,research,,,,
j4,2026-01-01T04:00:00Z,2,0,research,,,,
"""


def test_duration_trace_reads_with_defaults_and_counts_skipped_jobs(write: Write) -> None:
    res = read_trace(write("t.csv", GOOD))
    f = res.frame
    assert f.columns.tolist() == JOB_COLUMNS
    assert f["job_id"].tolist() == ["j1", "j2"]          # sorted by submit time
    assert f["gpus"].tolist() == [1, 8]
    assert f["gpus"].dtype == np.int64
    assert f["duration_hours"].tolist() == [0.25, 10.5]
    assert f["preemptible"].tolist() == [True, False]
    assert f["priority"].tolist() == [0, 2]
    assert np.isnan(f["checkpoint_interval_hours"].iloc[0])
    assert f["checkpoint_interval_hours"].iloc[1] == 1.5
    assert pd.isna(f["deadline"].iloc[0])
    assert res.skipped == {"zero GPUs (CPU-only job)": 1, "zero duration": 1}
    assert "zero GPUs (CPU-only job)" in res.report()
    # GPU-hours are conserved for the kept jobs
    assert float((f["gpus"] * f["duration_hours"]).sum()) == pytest.approx(1 * 0.25 + 8 * 10.5)


def test_start_end_trace_gives_duration_and_default_ids(write: Write) -> None:
    path = write("se.csv", """
submit_time,start_time,end_time,gpus
2026-01-01T00:00:00Z,2026-01-01T00:30:00Z,2026-01-01T03:00:00Z,4
2026-01-01T01:00:00+02:00,2026-01-01T01:00:00+02:00,2026-01-01T01:45:00+02:00,2
""")
    f = read_trace(path).frame
    assert f["job_id"].tolist() == ["job-2", "job-1"]
    assert f["duration_hours"].tolist() == pytest.approx([0.75, 2.5])
    assert f["submit_time"].iloc[0] == pd.Timestamp("2025-12-31T23:00:00Z")


def test_start_only_trace_uses_start_as_submission(write: Write) -> None:
    path = write("s.csv", "start_time,end_time,gpus\n2026-01-01T00:00:00,2026-01-01T02:00:00,1\n")
    res = read_trace(path, tz="UTC")
    assert res.frame["submit_time"].iloc[0] == pd.Timestamp("2026-01-01T00:00:00Z")
    assert any("submitted when they started" in n for n in res.notes)


def test_seconds_durations_and_renamed_columns(write: Write) -> None:
    path = write("p.csv", "submitted,num_gpus,duration_seconds\n2026-01-01T00:00:00Z,2,5400\n")
    res = read_trace(path, columns={"submit_time": "submitted", "gpus": "num_gpus"})
    assert res.frame["duration_hours"].iloc[0] == pytest.approx(1.5)


def test_trace_parquet_round_trip(write: Write, tmp_path: Path) -> None:
    f = read_trace(write("t.csv", GOOD)).frame
    pq = tmp_path / "t.parquet"
    f.to_parquet(pq, index=False)
    pd.testing.assert_frame_equal(read_trace(pq).frame, f)


H = "job_id,submit_time,gpus,duration_hours\n"
BAD = [
    ("job_id,submit_time,gpu,duration_hours\na,2026-01-01T00:00:00Z,1,1\n", "column 'gpus'", "rename 'gpu'"),
    ("job_id,submit_time,gpus\na,2026-01-01T00:00:00Z,1\n", "column 'duration_hours'", "'start_time' and"),
    ("job_id,submit_time,gpus,duration_hours,tema\na,2026-01-01T00:00:00Z,1,1,x\n", "column 'tema'",
     "did you mean 'team'"),
    (H + "a,2026-01-01T00:00:00Z,two,1\n", "row 1, column 'gpus'", "not a number"),
    (H + "a,2026-01-01T00:00:00Z,1.5,1\n", "row 1, column 'gpus'", "whole number"),
    (H + "a,2026-01-01T00:00:00Z,1,1\nb,2026-01-01T00:00:00Z,1,-3\n", "row 2, column 'duration_hours'", "negative"),
    (H + "a,2026-01-01T00:00:00,1,1\n", "row 1, column 'submit_time'", "--tz"),
    (H + "a,2026-13-01T00:00:00Z,1,1\n", "row 1, column 'submit_time'", "cannot read"),
    (H + "a,2026-01-01T00:00:00Z,1,1\na,2026-01-01T01:00:00Z,1,1\n", "row 2, column 'job_id'", "duplicate"),
    ("submit_time,start_time,end_time,gpus\n2026-01-01T00:00:00Z,2026-01-01T02:00:00Z,2026-01-01T01:00:00Z,1\n",
     "row 1, column 'end_time'", "before start_time"),
    ("submit_time,start_time,end_time,gpus\n2026-01-01T03:00:00Z,2026-01-01T02:00:00Z,2026-01-01T04:00:00Z,1\n",
     "row 1, column 'start_time'", "before submit_time"),
    ("submit_time,gpus,duration_hours,deadline\n2026-01-02T00:00:00Z,1,1,2026-01-01T00:00:00Z\n",
     "row 1, column 'deadline'", "before the submission"),
    ("submit_time,gpus,duration_hours,preemptible\n2026-01-01T00:00:00Z,1,1,maybe\n",
     "row 1, column 'preemptible'", "true or false"),
    ("submit_time,gpus,duration_hours,checkpoint_interval_hours\n2026-01-01T00:00:00Z,1,1,0\n",
     "row 1, column 'checkpoint_interval_hours'", "> 0"),
]


@pytest.mark.parametrize(("text", "where", "what"), BAD)
def test_bad_trace_gives_one_line_naming_file_row_column(write: Write, text: str, where: str, what: str) -> None:
    path = write("bad.csv", text)
    with pytest.raises(InputError) as info:
        read_trace(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith(path)
    assert where in line
    assert what in line


def test_a_deadline_exactly_submission_plus_duration_is_not_a_miss(write: Write) -> None:
    """7 minutes is 0.11666... h, which pd.to_timedelta turns into 7 min + 1 ns; such jobs are on time.

    Three jobs end exactly at their deadline (7 min, 1 min, 1 h 5 min); one has a deadline 1 s short of
    its duration, and only that one cannot make it.
    """
    text = ("job_id,submit_time,gpus,duration_minutes,deadline\n"
            "a,2026-01-01T00:00:00Z,1,7,2026-01-01T00:07:00Z\n"
            "b,2026-01-01T00:10:00Z,1,1,2026-01-01T00:11:00Z\n"
            "c,2026-01-01T01:00:00Z,1,65,2026-01-01T02:05:00Z\n"
            "d,2026-01-01T03:00:00Z,1,7,2026-01-01T03:06:59Z\n")
    res = read_trace(write("exact.csv", text))
    assert [n for n in res.notes if "deadline" in n] == [
        "1 jobs cannot meet their deadline even if started at submission"]
