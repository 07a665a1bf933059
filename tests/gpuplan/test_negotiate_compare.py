"""Negotiation pack, compare and sweep on the small scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.cli import main
from gpuplan.compare import compare_scenarios, split_values, sweep, sweep_grid
from gpuplan.negotiate import NegotiationPack, markdown_table, negotiation_pack, write_pack
from gpuplan.pipeline import scenario_paths
from scenarios import load_scenario
from scenarios.errors import InputError
from scenarios.parallel import SerialMapper


@pytest.fixture(scope="module")
def pack() -> NegotiationPack:
    sc = load_scenario("small")
    return negotiation_pack(sc, scenario_paths(sc, mapper=SerialMapper(False), progress=False))


def test_break_even_of_a_reserved_offer_is_its_rate_over_on_demand(pack: NegotiationPack) -> None:
    sc = load_scenario("small")
    be = pack.break_even
    row = be[(be["family"] == "a100") & (be["term_years"] == 1) & (be["product"] == "reserved")].iloc[0]
    assert row["break_even_utilization"] == pytest.approx(1.740137 / sc.catalog["a100"].on_demand_usd_per_gpu_hour)


def test_overcommit_lists_each_drop_for_the_whole_plan_and_every_offer(pack: NegotiationPack) -> None:
    oc = pack.overcommit
    offers = set(oc["offer"])
    assert "whole plan" in offers
    assert len(offers) == 1 + len(pack.purchases)
    for _, g in oc.groupby("offer"):
        assert sorted(g["demand_drop"]) == [0.10, 0.25, 0.50]
        # with demand falling, the fixed commitment idles more
        idle = g.sort_values("demand_drop")["idle_commitment_usd"].to_numpy()
        assert (np.diff(idle) >= -1e-6).all()
    whole = oc[oc["offer"] == "whole plan"]
    assert (whole["regret_usd"] >= -1e-6).all()


def test_sensitivity_savings_rise_with_the_discount(pack: NegotiationPack) -> None:
    s = pack.sensitivity
    assert set(s["demand_growth_per_year"]) == {-0.25, 0.0, 0.15, 0.30}
    for _, g in s.groupby(["offer", "demand_growth_per_year"]):
        sav = g.sort_values("discount")["savings_usd"].to_numpy()
        assert (np.diff(sav) >= -1e-6).all()


def test_three_year_table_answers_per_family(pack: NegotiationPack) -> None:
    """Without growth or price change every year is the same, so one 3-year term beats three 1-year terms
    exactly when its discount beats the 1-year one: the break-even is the 1-year discount, by hand from the
    catalog.  Reservations: a100 1.740137 of 2.744705 USD/GPU-h, h100 all-upfront 4.13 of 6.88 (beats 4.36);
    3-year on the table a100 1.235, h100 3.03.  Savings plans: 28 % / 25 % for 1 year, 46 % / 45 % for 3."""
    t = pack.three_year
    assert set(t["family"]) == {"a100", "h100"}
    flat = t[(t["growth_per_year"] == 0.0) & (t["on_demand_price_change_per_year"] == 0.0)]
    flat = flat.set_index(["family", "instrument"])
    want = {("a100", "reservation"): (1 - 1.740137 / 2.744705, 1 - 1.235 / 2.744705),
            ("h100", "reservation"): (1 - 4.13 / 6.88, 1 - 3.03 / 6.88),
            ("a100", "savings_plan"): (0.28, 0.46), ("h100", "savings_plan"): (0.25, 0.45)}
    assert sorted(flat.index) == sorted(want)
    for key, (one, three) in want.items():
        row = flat.loc[key]
        assert row["one_year_discount"] == pytest.approx(one, rel=1e-12), key
        assert row["min_three_year_discount"] == pytest.approx(one, abs=1e-5), key  # bisection tolerance
        assert row["offered_three_year_discount"] == pytest.approx(three, rel=1e-12), key
        assert bool(row["three_year_beats_renewal"]), key


def test_pack_writes_csv_and_markdown(pack: NegotiationPack, tmp_path: Path) -> None:
    md = write_pack(pack, tmp_path / "neg")
    text = md.read_text()
    for title in ["Break-even utilization", "3-year term beat renewing", "over-committing", "discount x demand"]:
        assert title in text
    assert {p.name for p in (tmp_path / "neg").glob("*.csv")} == {
        "purchases.csv", "break_even.csv", "three_year_vs_renewal.csv", "overcommit.csv", "sensitivity.csv",
        "walk_away.csv"}


def test_markdown_table_formats_numbers() -> None:
    md = markdown_table(pd.DataFrame({"a": ["x"], "b": [1234.5], "c": [0.123456]}))
    assert md.splitlines() == ["| a | b | c |", "|---|---|---|", "| x | 1,234 | 0.1235 |"]


def test_split_values_keeps_lists_and_strings_whole() -> None:
    assert split_values("0,100,200") == [0, 100, 200]
    assert split_values("[80, 95],[50]") == [[80, 95], [50]]
    assert split_values('"a,b",c') == ["a,b", "c"]


def test_sweep_grid_is_the_full_product() -> None:
    grid = sweep_grid(["a.b=1,2", "c=true,false"])
    assert grid == [{"a.b": 1, "c": True}, {"a.b": 1, "c": False}, {"a.b": 2, "c": True}, {"a.b": 2, "c": False}]
    with pytest.raises(InputError, match="KEY=V1,V2"):
        sweep_grid(["nonsense"])


def test_sweep_runs_each_point_and_reports_the_overrides() -> None:
    sc = load_scenario("small")
    grid = [{"policies.carbon_price_usd_per_tonne": 0.0}, {"policies.carbon_price_usd_per_tonne": 800.0}]
    table = sweep(sc, grid, mapper=SerialMapper(False), replications=2)
    assert list(table["policies.carbon_price_usd_per_tonne"]) == [0.0, 800.0]
    # the carbon price changes the schedule, never the capacity decision or the simulated capacity cost
    assert table["reserved_gpus"].nunique() == 1
    assert table.loc[1, "schedule_carbon_saved_pct"] >= table.loc[0, "schedule_carbon_saved_pct"] - 1e-9


def test_sweep_validates_every_point_before_running() -> None:
    sc = load_scenario("small")
    with pytest.raises(InputError, match=r"simulation\.replications"):
        sweep(sc, [{"simulation.replications": 2}, {"simulation.replications": 0}], mapper=SerialMapper(False))


def test_compare_puts_scenarios_side_by_side() -> None:
    a = load_scenario("small")
    b = load_scenario("small", overrides={"name": "small-no-growth", "demand.forecast.growth_rate_per_year": 0.0})
    table = compare_scenarios([a, b], mapper=SerialMapper(False), replications=2)
    assert list(table.columns) == ["figure", "small", "small-no-growth"]
    rows = table.set_index("figure")
    assert rows.loc["expected_cost_usd", "small"] > 0
    assert rows.loc["forecast_mean_gpus", "small"] > rows.loc["forecast_mean_gpus", "small-no-growth"]


def test_negotiate_cli_bad_paths_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "paths.csv"
    bad.write_text("series_id,timestamp,gpus\na100,2026-01-01T00:00:00Z,3\n")
    assert main(["-q", "negotiate", "small", "--forecast", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sample_id" in err[0]


def test_sensitivity_row_at_todays_discount_is_todays_cost(pack: NegotiationPack) -> None:
    """At each offer's current (demand-weighted) discount and the planned growth (the forecast as it is),
    every rate is today's: the row costs exactly what the plan costs, whichever offer is varied."""
    s = pack.sensitivity[pack.sensitivity["demand_growth_per_year"] == 0.15]
    centre = [g.sort_values("discount")["expected_cost_usd"].iloc[len(g) // 2] for _, g in s.groupby("offer")]
    assert len(centre) >= 2
    assert np.allclose(centre, centre[0], rtol=1e-12)
    assert centre[0] == pytest.approx(pack.plan.meta["expected_cost_usd"], rel=1e-12)


def test_scenarios_of_different_horizons_are_put_per_year_by_hand() -> None:
    from gpuplan.compare import normalise_horizons

    table = pd.DataFrame({"figure": ["horizon_hours", "expected_cost_usd", "p95_cost_usd", "coverage"],
                          "two weeks": [336, 1000.0, 1200.0, 0.8], "one year": [8760, 20000.0, 21000.0, 0.7]})
    out, notes = normalise_horizons(table)
    rows = out.set_index("figure")
    # 1,000 USD in 336 h is 1,000 x 8,760 / 336 = 26,071.43 USD a year; a one-year plan stays as it is
    assert rows.loc["expected_cost_usd_per_year", "two weeks"] == pytest.approx(26071.428571, abs=1e-6)
    assert rows.loc["expected_cost_usd_per_year", "one year"] == pytest.approx(20000.0, abs=1e-9)
    assert "p95_cost_usd_per_year" not in rows.index and "coverage_per_year" not in rows.index
    assert any("p95_cost_usd" in n and "cannot be put per year" in n for n in notes)
    assert any("336 h" in n and "8,760 h" in n for n in notes)
    same, none = normalise_horizons(table.assign(**{"one year": [336, 20000.0, 21000.0, 0.7]}))
    assert none == [] and same.equals(table.assign(**{"one year": [336, 20000.0, 21000.0, 0.7]}))


def test_compare_cli_says_when_horizons_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short.toml"
    short.write_text('extends = "small"\nname = "short"\n[demand.forecast]\nhorizon_hours = 168\nn_paths = 2\n')
    assert main(["-q", "compare", "small", str(short), "--replications", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "expected_cost_usd_per_year" in out and "cannot be put per year" in out
