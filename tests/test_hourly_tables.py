"""One rule for hourly tables: the optimizer and the simulator treat the same bad carbon, price or spot table
the same way (the same InputError, naming table, row and column), and the file readers share the reader
checks (daylight-saving times are refused by row, not guessed)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.inputs import capacity_inputs
from optimizer.schedule_inputs import schedule_inputs
from scenarios import load_scenario
from scenarios.errors import InputError
from scenarios.readers import read_usage
from scenarios.signals import read_carbon
from simulator import build_inputs

T0 = pd.Timestamp("2026-03-02", tz="UTC")
HOURS = 24


def _jobs() -> pd.DataFrame:
    return pd.DataFrame({"job_id": ["a"], "submit_time": [T0], "gpus": [2], "duration_hours": [3.0],
                         "deadline": [T0 + pd.Timedelta(hours=HOURS)], "family": ["a100"]})


def _signal(value: str, regions: list[str]) -> pd.DataFrame:
    ts = pd.date_range(T0, periods=HOURS, freq="h")
    return pd.concat([pd.DataFrame({"region": r, "timestamp": ts, value: np.linspace(100, 200, HOURS)})
                      for r in regions], ignore_index=True)


def _both(carbon: pd.DataFrame, price: pd.DataFrame) -> tuple[str, str]:
    """The messages of the optimizer's and the simulator's refusal of the same tables."""
    sc = load_scenario("small")
    msgs = []
    with pytest.raises(InputError) as opt:
        schedule_inputs(_jobs(), carbon, price, sc)
    msgs.append(str(opt.value))
    with pytest.raises(InputError) as sim:
        build_inputs(sc, jobs=_jobs(), carbon=carbon, price=price, start=T0, hours=HOURS)
    msgs.append(str(sim.value))
    return msgs[0], msgs[1]


def _regions() -> list[str]:
    return sorted({g.region for g in load_scenario("small").catalog.values()})


@pytest.mark.parametrize(("break_it", "match"), [
    (lambda t: pd.concat([t.iloc[:5], t.iloc[4:5], t.iloc[5:]], ignore_index=True),
     r"carbon table, row 6, column 'timestamp': duplicate hour"),
    (lambda t: t.drop(index=7).reset_index(drop=True), r"carbon table, column 'gco2_per_kwh': 1 hours of the window"),
    (lambda t: t.assign(timestamp=t["timestamp"] + pd.Timedelta(minutes=15)),
     r"carbon table, row 1, column 'timestamp': .* not on a whole hour"),
    (lambda t: t.assign(gco2_per_kwh=np.where(t.index == 3, np.nan, t["gco2_per_kwh"])),
     r"carbon table, row 4, column 'gco2_per_kwh': no gco2_per_kwh"),
])
def test_the_same_bad_carbon_table_is_refused_the_same_way_by_both_engines(break_it, match: str) -> None:  # type: ignore[no-untyped-def]
    regions = _regions()
    carbon = break_it(_signal("gco2_per_kwh", regions))
    opt, sim = _both(carbon, _signal("usd_per_mwh", regions))
    assert opt == sim
    assert re.search(match, opt), opt


def test_the_same_bad_price_table_is_refused_the_same_way_by_both_engines() -> None:
    regions = _regions()
    price = _signal("usd_per_mwh", regions)
    price = pd.concat([price, price.iloc[[2]]], ignore_index=True)  # a repeated hour at the end of the file
    opt, sim = _both(_signal("gco2_per_kwh", regions), price)
    assert opt == sim
    assert f"price table, row {len(price)}, column 'timestamp': duplicate hour" in opt


def _paths() -> pd.DataFrame:
    ts = pd.date_range(T0, periods=HOURS, freq="h")
    return pd.concat([pd.DataFrame({"series_id": f, "timestamp": ts, "sample_id": 0, "gpus": 10.0})
                      for f in ("a100", "h100")], ignore_index=True)


def _spot() -> pd.DataFrame:
    ts = pd.date_range(T0, periods=HOURS, freq="h")
    return pd.concat([pd.DataFrame({"family": f, "timestamp": ts, "usd_per_gpu_hour": 1.0, "available_gpus": 8.0})
                      for f in ("a100", "h100")], ignore_index=True)


@pytest.mark.parametrize(("break_it", "match"), [
    (lambda t: pd.concat([t, t.iloc[[3]]], ignore_index=True), r"spot table, row 49, column 'timestamp': duplicate"),
    (lambda t: t.drop(index=30).reset_index(drop=True), r"spot table, column 'usd_per_gpu_hour': 1 hours"),
])
def test_the_same_bad_spot_table_is_refused_the_same_way_by_both_engines(break_it, match: str) -> None:  # type: ignore[no-untyped-def]
    sc = load_scenario("small")
    spot = break_it(_spot())
    with pytest.raises(InputError, match=match) as opt:
        capacity_inputs(_paths(), sc, spot=spot)
    with pytest.raises(InputError) as sim:
        build_inputs(sc, demand=_paths(), spot=spot, start=T0, hours=HOURS)
    assert str(opt.value) == str(sim.value)


def test_a_good_spot_table_is_read_the_same_by_both_engines() -> None:
    sc = load_scenario("small")
    spot = _spot()
    spot["usd_per_gpu_hour"] = np.tile(np.linspace(0.5, 2.0, HOURS), 2)
    opt = capacity_inputs(_paths(), sc, spot=spot)
    sim = build_inputs(sc, demand=_paths(), spot=spot, start=T0, hours=HOURS)
    for i, f in enumerate(opt.families):
        fleet = next(fl for fl in sim.families if fl.name == f)
        assert np.array_equal(opt.spot_price[i], fleet.spot_usd_per_gpu_hour)


def test_neither_engine_reads_a_spot_price_file_itself() -> None:
    sc = load_scenario("small")
    cat = {k: v.model_copy(update={"spot": v.spot.model_copy(update={"price_file": "spot.csv",
                                                                        "usd_per_gpu_hour": None})})
           if v.spot is not None else v for k, v in sc.catalog.items()}
    sc = sc.model_copy(update={"catalog": cat})
    with pytest.raises(InputError, match=r"prices spot from a file, but no spot table was passed") as opt:
        capacity_inputs(_paths(), sc)
    with pytest.raises(InputError) as sim:
        build_inputs(sc, demand=_paths(), start=T0, hours=HOURS)
    assert str(opt.value) == str(sim.value)


def test_daylight_saving_times_are_refused_by_row_in_signal_and_usage_files(tmp_path: Path) -> None:
    # local Berlin times over the autumn change: 02:00-02:59 happens twice on 2023-10-29
    stamps = ["2023-10-29T00:00:00", "2023-10-29T01:00:00", "2023-10-29T02:00:00", "2023-10-29T02:00:00",
              "2023-10-29T03:00:00"]
    ci = tmp_path / "carbon.csv"
    pd.DataFrame({"timestamp": stamps, "gco2_per_kwh": [300, 310, 320, 330, 340]}).to_csv(ci, index=False)
    with pytest.raises(InputError, match=r"carbon.csv, row 3, column 'timestamp': .*ambiguous or does not exist"):
        read_carbon(ci, tz="Europe/Berlin")
    usage = tmp_path / "usage.csv"
    pd.DataFrame({"timestamp": stamps, "family": "a100", "gpus": [1, 2, 3, 4, 5]}).to_csv(usage, index=False)
    with pytest.raises(InputError, match=r"usage.csv, row 3, column 'timestamp': .*ambiguous or does not exist"):
        read_usage(usage, tz="Europe/Berlin")
