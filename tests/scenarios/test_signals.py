"""Signal readers (real file formats, bad input) and the scenario -> carbon/price/spot frames assembly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import InputError, load_scenario
from scenarios.loader import validate_dict
from scenarios.schema import Scenario
from scenarios.signals import load_signals, load_spot, map_to_window, read_carbon, read_price
from scenarios.tables import check_frame

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent (fresh clone)")
T0 = pd.Timestamp("2026-01-05", tz="UTC")


# -- readers on the real shared files ------------------------------------------------------------------
@needs_shared
@pytest.mark.shared_data
def test_electricity_maps_export_reads_the_lca_column_by_default() -> None:
    path = SHARED / "carbon_intensity" / "DE-LU_2023_hourly.csv.gz"
    lca = read_carbon(path)
    direct = read_carbon(path, column="direct")
    check_frame(lca, "carbon")
    assert len(lca) == 8760 and lca["region"].unique().tolist() == ["DE"]
    assert lca["timestamp"].iloc[0] == pd.Timestamp("2023-01-01", tz="UTC")
    # First row of the file: direct 140.51, LCA 185.8.
    assert lca["gco2_per_kwh"].iloc[0] == pytest.approx(185.8)
    assert direct["gco2_per_kwh"].iloc[0] == pytest.approx(140.51)
    assert (lca["gco2_per_kwh"] > direct["gco2_per_kwh"]).all()


@needs_shared
@pytest.mark.shared_data
def test_lets_wait_awhile_gb_mixed_stamps_become_hourly_means_with_a_note() -> None:
    path = SHARED / "carbon_intensity" / "gb_ci.csv"
    ci = read_carbon(path, tz="UTC", region="GB")
    check_frame(ci, "carbon")
    hours = pd.DatetimeIndex(ci["timestamp"])
    assert (hours == hours.floor("h")).all() and (np.diff(hours.asi8) == 3_600_000_000_000).all()
    raw = pd.read_csv(path)
    raw_t = pd.to_datetime(raw["Time"]).dt.tz_localize("UTC")
    # An hour with two 30-minute stamps is their plain mean.
    first = raw["Carbon Intensity"][raw_t < pd.Timestamp("2019-12-20 01:00", tz="UTC")]
    assert len(first) == 2
    assert ci["gco2_per_kwh"].iloc[0] == pytest.approx(first.mean())
    note = " ".join(ci.attrs["notes"])
    assert "resampled" in note and "15 min" in note and "30 min" in note
    assert ci["region"].unique().tolist() == ["GB"]


@needs_shared
@pytest.mark.shared_data
def test_price_export_keeps_negative_prices() -> None:
    p = read_price(SHARED / "electricity_prices" / "DE-LU_electricity_prices_2023.csv.gz")
    check_frame(p, "price")
    assert len(p) == 8760 and p["region"].iloc[0] == "DE-LU"
    assert p["usd_per_mwh"].iloc[0] == pytest.approx(-3.3622368)
    assert p["usd_per_mwh"].min() == pytest.approx(-484.4, abs=0.1)


# -- readers: bad input --------------------------------------------------------------------------------
def test_naive_times_without_tz_are_refused(write: Callable[[str, str], str]) -> None:
    path = write("ci.csv", """
Time,Carbon Intensity
2020-01-01 00:00:00,200
2020-01-01 00:30:00,210
""")
    with pytest.raises(InputError) as exc:
        read_carbon(path)
    assert exc.value.column == "Time" and "tz" in (exc.value.fix or "")
    assert read_carbon(path, tz="Europe/Berlin")["timestamp"].iloc[0] == pd.Timestamp("2019-12-31 23:00", tz="UTC")


def test_negative_carbon_names_the_row(write: Callable[[str, str], str]) -> None:
    path = write("ci.csv", """
timestamp,gco2_per_kwh
2020-01-01T00:00:00Z,200
2020-01-01T01:00:00Z,-5
""")
    with pytest.raises(InputError) as exc:
        read_carbon(path)
    assert (exc.value.row, exc.value.column) == (2, "gco2_per_kwh")


def test_unknown_format_suggests_the_nearest_column(write: Callable[[str, str], str]) -> None:
    path = write("ci.csv", """
time_utc,gco2_kwh
2020-01-01T00:00:00Z,200
""")
    with pytest.raises(InputError, match="unknown format") as exc:
        read_carbon(path)
    assert "gco2_per_kwh" in (exc.value.fix or "")


def test_prices_in_another_currency_are_refused(write: Callable[[str, str], str]) -> None:
    path = write("p.csv", """
Datetime (UTC),Datetime (Local),Price (EUR/MWh)
2023-01-01 00:00:00+00:00,2023-01-01 01:00:00+01:00,10
""")
    with pytest.raises(InputError, match="EUR") as exc:
        read_price(path)
    assert "USD" in (exc.value.fix or "")


def test_duplicate_and_out_of_order_hours_are_refused(write: Callable[[str, str], str]) -> None:
    dup = write("d.csv", """
timestamp,usd_per_mwh
2020-01-01T00:00:00Z,1
2020-01-01T01:00:00Z,2
2020-01-01T01:00:00Z,3
""")
    with pytest.raises(InputError, match="duplicate") as exc:
        read_price(dup)
    assert exc.value.row == 3
    back = write("b.csv", """
timestamp,usd_per_mwh
2020-01-01T01:00:00Z,1
2020-01-01T00:00:00Z,2
""")
    with pytest.raises(InputError, match="earlier") as exc:
        read_price(back)
    assert exc.value.row == 2


def test_short_gaps_are_interpolated_and_reported_long_gaps_refused(write: Callable[[str, str], str]) -> None:
    path = write("p.csv", """
timestamp,usd_per_mwh
2020-01-01T00:00:00Z,10
2020-01-01T03:00:00Z,40
""")
    p = read_price(path)
    assert p["usd_per_mwh"].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert "filled 2 missing hours" in p.attrs["notes"][0]
    far = write("f.csv", """
timestamp,usd_per_mwh
2020-01-01T00:00:00Z,10
2020-01-03T00:00:00Z,40
""")
    with pytest.raises(InputError, match="47 hours missing"):
        read_price(far)


def test_text_in_a_number_column_names_row_and_column(write: Callable[[str, str], str]) -> None:
    path = write("p.csv", """
timestamp,usd_per_mwh
2020-01-01T00:00:00Z,10
2020-01-01T01:00:00Z,n/a?
""")
    with pytest.raises(InputError) as exc:
        read_price(path)
    assert (exc.value.row, exc.value.column) == (2, "usd_per_mwh")


# -- mapping a file onto the plan window ---------------------------------------------------------------
def _year_series(year: int) -> pd.Series:
    idx = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h", tz="UTC")
    return pd.Series(np.arange(len(idx), dtype=float), index=idx)


def test_window_inside_the_file_is_taken_as_is() -> None:
    s = _year_series(2023)
    out, note = map_to_window(s, pd.Timestamp("2023-03-01", tz="UTC"), 48)
    assert note is None
    assert out.iloc[0] == s.loc[pd.Timestamp("2023-03-01", tz="UTC")] == 24 * 59


def test_window_outside_the_file_keeps_weekday_and_hour_and_says_so() -> None:
    s = _year_series(2023)
    start = pd.Timestamp("2026-06-10 05:00", tz="UTC")
    out, note = map_to_window(s, start, 24 * 14)
    assert note is not None and "weeks" in note and "same weekday" in note
    src = s.index[s.to_numpy().astype(int)[out.to_numpy().astype(int)]]
    assert (src.day_of_week == out.index.day_of_week).all()
    assert (src.hour == out.index.hour).all()
    # Same season: the source day of year is within half a week of the target's.
    assert abs(src[0].day_of_year - start.day_of_year) <= 4


def test_year_window_longer_than_the_file_wraps_by_whole_weeks() -> None:
    s = _year_series(2023)
    out, note = map_to_window(s, pd.Timestamp("2026-01-01", tz="UTC"), 8760)
    assert len(out) == 8760 and note is not None and "wrapped by 52 weeks" in note
    src = s.index[out.to_numpy().astype(int)]
    assert (src.day_of_week == out.index.day_of_week).all() and (src.hour == out.index.hour).all()


# -- scenario assembly ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["small", "default"])
def test_bundled_scenarios_give_hourly_utc_signals_for_every_region(name: str) -> None:
    sc = load_scenario(name)
    carbon, price = load_signals(sc, T0, 336)
    check_frame(carbon, "carbon")
    check_frame(price, "price")
    for frame in (carbon, price):
        assert frame["region"].unique().tolist() == list(sc.signals.regions)
        for _, g in frame.groupby("region"):
            assert pd.DatetimeIndex(g["timestamp"]).equals(pd.date_range(T0, periods=336, freq="h"))
    assert all("SYNTHETIC" in n for n in carbon.attrs["notes"])


def test_signals_are_deterministic_and_window_independent() -> None:
    sc = load_scenario("small")
    c1, p1 = load_signals(sc, T0, 48)
    c2, p2 = load_signals(sc, T0 - pd.Timedelta(hours=24), 96)
    pd.testing.assert_frame_equal(c1, load_signals(sc, T0, 48)[0])
    for short, long_, col in ((c1, c2, "gco2_per_kwh"), (p1, p2, "usd_per_mwh")):
        a = short.set_index(["region", "timestamp"])[col]
        b = long_.set_index(["region", "timestamp"])[col].loc[a.index]
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9)


def _with_files(tmp_path: Path, carbon: str | None, price: str | None) -> Scenario:
    sc = load_scenario("small")
    raw = sc.model_dump(mode="json")
    raw["signals"]["regions"]["us-east"].update({"carbon_file": carbon, "price_file": price, "tz": "UTC"})
    return validate_dict(raw, source_dir=str(tmp_path))


def test_region_files_are_read_relative_to_the_scenario_and_mapped_to_the_window(tmp_path: Path) -> None:
    idx = pd.date_range("2023-01-01", periods=24 * 28, freq="h", tz="UTC")
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%SZ"), "gco2_per_kwh": np.arange(len(idx)) % 24 + 100.0}
                 ).to_csv(tmp_path / "ci.csv", index=False)
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%d %H:%M"), "usd_per_mwh": -1.0}
                 ).to_csv(tmp_path / "p.csv", index=False)
    sc = _with_files(tmp_path, "ci.csv", "p.csv")
    carbon, price = load_signals(sc, T0, 48)
    east = carbon[carbon["region"] == "us-east"]
    # The file's value is 100 + hour of day, so the mapped window must show the same hour of day.
    assert (east["gco2_per_kwh"].to_numpy() == 100.0 + pd.DatetimeIndex(east["timestamp"]).hour).all()
    assert (price[price["region"] == "us-east"]["usd_per_mwh"] == -1.0).all()
    assert any("mapped by position in the year" in n for n in carbon.attrs["notes"])
    assert carbon.attrs["sources"]["us-east"].endswith("ci.csv")
    assert "SYNTHETIC" in carbon.attrs["sources"]["us-west"]


@pytest.mark.parametrize("name", ["small", "default"])
def test_spot_frame_has_every_spot_family_with_its_cap(name: str) -> None:
    sc = load_scenario(name)
    spot = load_spot(sc, T0, 24 * 28)
    check_frame(spot, "spot")
    fams = [f for f, g in sc.catalog.items() if g.spot is not None]
    assert spot["family"].unique().tolist() == fams
    for fam in fams:
        offer = sc.catalog[fam].spot
        assert offer is not None and offer.usd_per_gpu_hour is not None
        s = spot[spot["family"] == fam]
        assert (s["available_gpus"] == offer.available_gpus).all()
        rel = s["usd_per_gpu_hour"] / offer.usd_per_gpu_hour
        # Log-normal AR(1) with relative sd = volatility (0.1): 4 weeks stay within 5 sd of the level.
        assert rel.min() > 1 - 5 * offer.price_volatility and rel.max() < 1 + 5 * offer.price_volatility
        assert abs(rel.mean() - 1.0) < 2 * offer.price_volatility
    pd.testing.assert_frame_equal(spot, load_spot(sc, T0, 24 * 28))
    assert not spot.equals(load_spot(sc, T0, 24 * 28, seed=5))


def test_zero_volatility_gives_the_flat_level() -> None:
    sc = load_scenario("small", overrides={"catalog.a100.spot.price_volatility": 0.0})
    s = load_spot(sc, T0, 24)
    assert (s[s["family"] == "a100"]["usd_per_gpu_hour"] == 1.15).all()


def test_naive_plan_start_is_refused() -> None:
    with pytest.raises(InputError, match="time zone"):
        load_signals(load_scenario("small"), pd.Timestamp("2026-01-01"), 24)


@settings(max_examples=25, deadline=None)
@given(start_h=st.integers(min_value=-20 * 8760, max_value=30 * 8760), hours=st.integers(1, 9000))
def test_mapping_keeps_weekday_and_hour_for_any_window(start_h: int, hours: int) -> None:
    s = _year_series(2023)
    start = pd.Timestamp("2023-01-01", tz="UTC") + pd.Timedelta(hours=start_h)
    out, note = map_to_window(s, start, hours)
    assert len(out) == hours and out.index[0] == start
    src = s.index[out.to_numpy().astype(int)]
    assert (src.day_of_week == out.index.day_of_week).all() and (src.hour == out.index.hour).all()
    inside = s.index[0] <= start and start + pd.Timedelta(hours=hours - 1) <= s.index[-1]
    assert (note is None) == inside


def test_contract_file_with_several_regions_gives_each_region_its_rows(tmp_path: Path) -> None:
    idx = pd.date_range(T0, periods=48, freq="h")
    pd.DataFrame({
        "region": ["us-east"] * 48 + ["elsewhere"] * 48,
        "timestamp": list(idx.strftime("%Y-%m-%dT%H:%M:%SZ")) * 2,
        "gco2_per_kwh": [100.0] * 48 + [900.0] * 48,
    }).to_csv(tmp_path / "ci.csv", index=False)
    carbon, _ = load_signals(_with_files(tmp_path, "ci.csv", None), T0, 48)
    assert (carbon.loc[carbon["region"] == "us-east", "gco2_per_kwh"] == 100.0).all()
    assert not any("mapped" in n for n in carbon.attrs["notes"])


@needs_shared
@pytest.mark.shared_data
def test_real_2023_files_drive_a_2026_plan_by_position_in_the_year(tmp_path: Path) -> None:
    ci_file = SHARED / "carbon_intensity" / "DE-LU_2023_hourly.csv.gz"
    price_file = SHARED / "electricity_prices" / "DE-LU_electricity_prices_2023.csv.gz"
    sc = _with_files(tmp_path, str(ci_file), str(price_file))
    carbon, price = load_signals(sc, T0, 24 * 7)
    east = carbon[carbon["region"] == "us-east"].reset_index(drop=True)
    real = read_carbon(ci_file).set_index("timestamp")["gco2_per_kwh"]
    note = next(n for n in carbon.attrs["notes"] if "mapped by position in the year" in n)
    weeks = int(note.split("hour t - ")[1].split(" weeks")[0])
    src = pd.DatetimeIndex(east["timestamp"]) - pd.Timedelta(weeks=weeks)
    np.testing.assert_allclose(east["gco2_per_kwh"].to_numpy(), real.loc[src].to_numpy())
    assert abs(src[0].day_of_year - T0.day_of_year) <= 4 and src[0].year == 2023
    assert any("mapped by position in the year" in n for n in price.attrs["notes"])


def test_without_a_start_signals_begin_the_hour_after_the_history_ends() -> None:
    sc = load_scenario("small")
    carbon, _ = load_signals(sc, None, 24)
    spot = load_spot(sc, None, 24)
    first = pd.Timestamp("2020-05-31 16:00", tz="UTC")  # Helios Earth ends 23:00 Asia/Shanghai
    assert carbon["timestamp"].min() == first and spot["timestamp"].min() == first


def test_spot_price_file_is_read_and_mapped_onto_the_window(tmp_path: Path) -> None:
    idx = pd.date_range("2025-01-06", periods=24 * 14, freq="h", tz="UTC")  # two weeks, starting on a Monday
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%SZ"), "usd_per_gpu_hour": 1.0 + idx.day_of_week / 10}
                 ).to_csv(tmp_path / "spot.csv", index=False)
    raw = load_scenario("small").model_dump(mode="json")
    raw["catalog"]["a100"]["spot"]["price_file"] = "spot.csv"
    sc = validate_dict(raw, source_dir=str(tmp_path))
    spot = load_spot(sc, T0, 24 * 21)
    a100 = spot[spot["family"] == "a100"]
    # Each day's price encodes its weekday, so the mapping must have kept weekdays.
    expected = 1.0 + pd.DatetimeIndex(a100["timestamp"]).day_of_week / 10
    np.testing.assert_allclose(a100["usd_per_gpu_hour"].to_numpy(), expected)
    assert (a100["available_gpus"] == 48.0).all()
    assert sc.resolve("spot.csv") == spot.attrs["sources"]["a100"]
    assert any("wrapped by 2 weeks" in n for n in spot.attrs["notes"])
