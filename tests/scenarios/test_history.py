"""load_history: a scenario's demand history as family and team series, from usage, FOCUS or CUR files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios import load_scenario
from scenarios.bundled import resolve_path
from scenarios.errors import InputError
from scenarios.history import HistoryData, load_history, price_usage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def default_history() -> HistoryData:
    return load_history(load_scenario("default"))


def test_default_history_has_two_families_and_eight_teams_over_744_hours(default_history: HistoryData) -> None:
    fam = default_history.family_history()
    team = default_history.team_history()
    assert sorted(fam["series_id"].unique()) == ["a100", "h100"]
    assert sorted(team["series_id"].unique()) == [
        "a100/vc8Sj", "a100/vcJkd", "a100/vcTJs", "a100/vchbv",
        "h100/vc3sl", "h100/vcMod", "h100/vcdI0", "h100/vcpDC"]
    assert fam.groupby("series_id").size().tolist() == [744, 744]
    assert str(fam["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert default_history.billing is None


def test_family_series_are_the_sum_of_their_team_series(default_history: HistoryData) -> None:
    fam = default_history.family_history().set_index(["series_id", "timestamp"])["gpus"]
    team = default_history.team_history()
    team = team.assign(family=team["series_id"].str.split("/").str[0])
    summed = team.groupby(["family", "timestamp"])["gpus"].sum()
    np.testing.assert_allclose(fam.to_numpy(), summed.to_numpy())


def test_family_totals_match_the_raw_file_and_mapping(default_history: HistoryData) -> None:
    sc = load_scenario("default")
    raw = pd.read_csv(resolve_path("bundled:helios_earth_vc"))
    raw["family"] = raw["vc"].map(sc.demand.team_family)
    expect = raw.groupby("family")["running_gpu_mean"].sum()
    got = default_history.family_history().groupby("series_id")["gpus"].sum()
    assert got.to_dict() == pytest.approx(expect.to_dict())


def test_outage_zeros_are_kept_as_read_not_replaced(default_history: HistoryData) -> None:
    fam = default_history.family_history()
    local_day = fam["timestamp"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d")
    outage = fam[local_day == "2020-05-10"]
    assert len(outage) == 48
    assert outage["gpus"].notna().all()
    assert outage["gpus"].max() < 1.0


def test_scale_and_default_family_and_tz_override() -> None:
    sc = load_scenario("default", overrides={"demand.scale": 2.0, "demand.team_family": {},
                                             "demand.default_family": "h100"})
    h = load_history(sc, tz="UTC")
    raw = pd.read_csv(resolve_path("bundled:helios_earth_vc"))
    assert h.family_history()["series_id"].unique().tolist() == ["h100"]
    assert h.family_history()["gpus"].sum() == pytest.approx(2.0 * raw["running_gpu_mean"].sum())
    assert h.family_history()["timestamp"].min() == pd.Timestamp("2020-05-01T00:00:00Z")
    assert any("demand.scale = 2" in n for n in h.notes)


def test_team_without_family_is_one_clear_error() -> None:
    sc = load_scenario("default", overrides={"demand.team_family": {"vc3sl": "h100"}})
    with pytest.raises(InputError, match=r"team '.*' has no GPU family.*demand.team_family"):
        load_history(sc)


def _billing_scenario(tmp_path: Path, fmt: str, fixture: str) -> Path:
    p = tmp_path / f"{fmt}.toml"
    p.write_text(f'extends = "default"\nname = "{fmt}"\n[demand]\nhistory = "{FIXTURES / fixture}"\n'
                 f'format = "{fmt}"\n', encoding="utf-8")
    return p


@pytest.mark.parametrize("fmt,fixture", [("focus", "focus_aws_small.csv"), ("cur", "cur2_small.csv")])
def test_billing_history_is_gpu_hours_used_per_family_and_team(tmp_path: Path, fmt: str, fixture: str) -> None:
    h = load_history(load_scenario(_billing_scenario(tmp_path, fmt, fixture)))
    fam = h.family_history().pivot(index="timestamp", columns="series_id", values="gpus")
    # a100: 2, 2, 1 reserved instances used (the idle reservation is not demand); h100 one p5 all along
    assert fam["a100"].tolist() == [16.0, 16.0, 8.0]
    assert fam["h100"].tolist() == [8.0, 8.0, 8.0]
    assert sorted(h.team_history()["series_id"].unique()) == ["a100/product", "h100/research"]
    # the spot g5 (a10g) is not in the default catalog: counted, not silently dropped
    assert h.skipped["family 'a10g' not in the scenario catalog"] == 1
    assert h.billing is not None and len(h.billing) == 8
    assert "family 'a10g'" in h.report()


def test_billing_hours_without_rows_are_zero_not_missing(tmp_path: Path) -> None:
    d = pd.read_csv(FIXTURES / "focus_aws_small.csv", dtype=str, keep_default_na=False)
    p5 = d[d["x_UsageType"] == "USE1-BoxUsage:p5.48xlarge"].copy()
    p5 = p5.iloc[[0, 2]]   # hours 0 and 2; nothing charged in hour 1
    path = tmp_path / "gap.csv"
    p5.to_csv(path, index=False)
    toml = tmp_path / "s.toml"
    toml.write_text(f'extends = "default"\n[demand]\nhistory = "{path}"\nformat = "focus"\n', encoding="utf-8")
    h = load_history(load_scenario(toml))
    assert h.family_history()["gpus"].tolist() == [8.0, 0.0, 8.0]


def test_price_usage_applies_reservations_then_committed_spend_then_on_demand(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text("""
name = "p"
[catalog.a100]
on_demand_usd_per_gpu_hour = 2.0
committed_discount = { 1y = 0.25 }
[catalog.h100]
on_demand_usd_per_gpu_hour = 4.0
committed_discount = { 1y = 0.5 }
[demand]
history = "unused.csv"
[[current.reserved]]
family = "a100"
term_years = 1
gpus = 4
usd_per_gpu_hour = 1.2
[current]
committed_usd_per_hour = { 1y = 3.0 }
""", encoding="utf-8")
    sc = load_scenario(toml)
    t = pd.to_datetime(["2026-01-01T00:00Z", "2026-01-01T01:00Z"], utc=True)
    hist = pd.DataFrame({"series_id": ["a100", "a100", "h100", "h100"], "timestamp": [*t, *t],
                         "gpus": [6.0, 2.0, 1.0, 0.0]})
    b = price_usage(sc, hist)
    g = b.fillna({"commitment_status": "-"}).groupby(["pricing_category", "commitment_status"])[
        ["gpu_hours", "effective_cost_usd"]].sum()
    # hour 0: 4 reserved a100 used; 3 USD/h buys h100 at 2.0 (1 GPU, 2 USD) then a100 at 1.5 (2/3 GPU, 1 USD);
    #         1 1/3 a100 on demand. hour 1: 2 of 4 reserved used, 2 idle; the 3 USD/h commitment idles.
    assert g.loc[("Committed", "Used"), "gpu_hours"] == pytest.approx(4 + 1 + 2 / 3 + 2)
    assert g.loc[("Committed", "Used"), "effective_cost_usd"] == pytest.approx(4.8 + 2.0 + 1.0 + 2.4)
    assert g.loc[("Committed", "Unused"), "gpu_hours"] == pytest.approx(2.0)
    assert g.loc[("Committed", "Unused"), "effective_cost_usd"] == pytest.approx(2.4 + 3.0)
    assert g.loc[("Standard", "-"), "gpu_hours"] == pytest.approx(4 / 3)
    assert g.loc[("Standard", "-"), "effective_cost_usd"] == pytest.approx(8 / 3)
    # what is paid = reservations in full + commitment in full + on-demand remainder
    assert b["effective_cost_usd"].sum() == pytest.approx(4 * 1.2 * 2 + 3.0 * 2 + 8 / 3)
    # GPU-hours used are conserved
    used = b[b["commitment_status"].fillna("") != "Unused"]["gpu_hours"].sum()
    assert used == pytest.approx(6 + 2 + 1 + 0)


def test_price_usage_without_commitments_is_list_price() -> None:
    sc = load_scenario("default", overrides={"current": {}})
    h = load_history(sc)
    b = price_usage(sc, h.family_history())
    assert set(b["pricing_category"]) == {"Standard"}
    fam = h.family_history().groupby("series_id")["gpus"].sum()
    for f in sc.families:
        got = b.loc[b["family"] == f, "effective_cost_usd"].sum()
        assert got == pytest.approx(fam[f] * sc.catalog[f].on_demand_usd_per_gpu_hour)
