"""Replaying an optimizer schedule: every scheduled hour, the fraction of each hour, pauses between runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from simulator import simulate
from tests.simulator._util import T0, flat_signal, jobs, scenario

H = pd.Timedelta(hours=1)
CARBON = 100.0 + 10.0 * np.arange(48)  # gCO2e/kWh, a different value every hour


def _carbon() -> pd.DataFrame:
    return pd.DataFrame({"region": "default", "timestamp": pd.date_range(T0, periods=48, freq="h"),
                         "gco2_per_kwh": CARBON})


def _run(sc, table, sched):  # type: ignore[no-untyped-def]
    return simulate(sc, jobs=table, carbon=_carbon(), price=flat_signal("default", 50.0, 48, "usd_per_mwh"),
                    schedule=sched, start=T0, hours=48, replications=1, seed=0, progress=False).jobs.set_index("job_id")


def _split_job() -> tuple[pd.DataFrame, pd.DataFrame]:
    # 4 GPUs x 2 h, window [1.5, 8]; planned: half of hour 1, all of hour 5, half of hour 6
    table = jobs([{"job_id": "p", "submit": 1.5, "deadline": 8.0, "gpus": 4, "duration_hours": 2.0,
                   "preemptible": True}])
    sched = pd.DataFrame({"job_id": ["p", "p", "p"], "timestamp": [T0 + 1 * H, T0 + 5 * H, T0 + 6 * H],
                          "gpus": [2.0, 4.0, 2.0]})
    return table, sched


def test_a_split_job_runs_in_every_scheduled_hour_for_the_scheduled_fraction() -> None:
    table, sched = _split_job()
    j = _run(scenario(), table, sched)
    # by hand: runs [1.5, 2.0] and [5.0, 6.5] (a piece that does not continue starts as early as allowed)
    kw = 4 * 0.5 * 1.2
    want = kw * (0.5 * CARBON[1] + 1.0 * CARBON[5] + 0.5 * CARBON[6]) / 1000.0
    assert j.loc["p", "kg_co2e"] == pytest.approx(want, rel=1e-12)
    assert j.loc["p", "start_time"] == T0 + 1.5 * H
    assert j.loc["p", "end_time"] == T0 + 6.5 * H
    assert j.loc["p", "busy_gpu_hours"] == pytest.approx(8.0)
    assert j.loc["p", "queue_delay_hours"] == pytest.approx(0.0)
    assert bool(j.loc["p", "deadline_met"])


def test_a_pause_between_runs_costs_a_checkpoint_and_a_restart() -> None:
    table, sched = _split_job()
    sc = scenario(workload={"checkpoint_cost_hours": 0.05, "restart_cost_hours": 0.1})
    j = _run(sc, table, sched)
    # by hand: [1.5, 2.05] = 0.5 h work + 0.05 h checkpoint; [5.0, 6.6] = 0.1 h restart + 1.5 h work
    kw = 4 * 0.5 * 1.2
    want = kw * (0.5 * CARBON[1] + 0.05 * CARBON[2] + 1.0 * CARBON[5] + 0.6 * CARBON[6]) / 1000.0
    assert j.loc["p", "kg_co2e"] == pytest.approx(want, rel=1e-12)
    assert j.loc["p", "end_time"] == T0 + 6.6 * H
    assert j.loc["p", "checkpoint_gpu_hours"] == pytest.approx(4 * 0.05)
    assert j.loc["p", "lost_gpu_hours"] == pytest.approx(4 * 0.1)
    assert j.loc["p", "useful_gpu_hours"] == pytest.approx(8.0)


def test_work_left_after_the_last_run_is_done_at_once() -> None:
    table = jobs([{"job_id": "p", "gpus": 2, "duration_hours": 3.0, "preemptible": True}])
    sched = pd.DataFrame({"job_id": ["p"], "timestamp": [T0 + 4 * H], "gpus": [2.0]})
    j = _run(scenario(), table, sched)
    assert j.loc["p", "start_time"] == T0 + 4 * H
    assert j.loc["p", "end_time"] == T0 + 7 * H


def test_a_one_piece_job_submitted_mid_hour_starts_at_its_submission() -> None:
    table = jobs([{"job_id": "o", "submit": 2.25, "gpus": 1, "duration_hours": 1.5, "preemptible": False}])
    sched = pd.DataFrame({"job_id": ["o", "o"], "timestamp": [T0 + 2 * H, T0 + 3 * H], "gpus": [0.75, 0.75]})
    j = _run(scenario(), table, sched)
    assert j.loc["o", "start_time"] == T0 + 2.25 * H
    assert j.loc["o", "end_time"] == T0 + 3.75 * H
    assert j.loc["o", "kg_co2e"] == pytest.approx(0.6 * 0.75 * (CARBON[2] + CARBON[3]) / 1000.0, rel=1e-12)


@pytest.mark.parametrize(("rows", "match"), [
    ({"job_id": ["p"], "timestamp": [T0 + 1 * H], "gpus": [5.0]}, r"row 1, column 'gpus'.*5.0 GPUs busy"),
    ({"job_id": ["p", "p"], "timestamp": [T0 + H, T0 + H], "gpus": [1.0, 1.0]}, r"row 2, column 'timestamp'.*twice"),
    ({"job_id": ["p"], "timestamp": [T0 + 1.5 * H], "gpus": [1.0]}, r"row 1, column 'timestamp'.*not on a whole hour"),
])
def test_a_bad_schedule_is_refused_with_row_and_column(rows: dict, match: str) -> None:
    table, _ = _split_job()
    with pytest.raises(InputError, match=match):
        _run(scenario(), table, pd.DataFrame(rows))
