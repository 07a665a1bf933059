"""The scenario loader's messages: unknown keys suggest the nearest, rules name the path, extends chains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios import load_scenario
from scenarios.errors import ScenarioError
from scenarios.loader import apply_overrides, deep_merge, effective_dict, json_schema, parse_value


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text.strip() + "\n", encoding="utf-8")
    return p


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith(str(path))
    return line


BAD = [
    ('[catalog.a100]\non_demand_usd_per_gpu_hourr = 3',
     "catalog.a100.on_demand_usd_per_gpu_hourr: unknown key (did you mean 'on_demand_usd_per_gpu_hour'?)"),
    ('[catalog.h100]\non_demand_usd_per_gpu_hour = -1', "catalog.h100.on_demand_usd_per_gpu_hour: must be > 0"),
    ('[catalog.h100]\npue = 0.9', "catalog.h100.pue: must be >= 1"),
    ('[polices]\ncarbon_price_usd_per_tonne = 1', "polices: unknown key (did you mean 'policies'?)"),
    ('[catalog.a100.spot]\nusd_per_gpu_hourr = 1', "catalog.a100.spot.usd_per_gpu_hourr: unknown key "
     "(did you mean 'usd_per_gpu_hour'?)"),
    ('[[catalog.a100.reserved]]\nterm_years = 1\npaymnt = "all_upfront"\nusd_per_gpu_hour = 1',
     "catalog.a100.reserved[0].paymnt: unknown key (did you mean 'payment'?)"),
    ('[[catalog.a100.reserved]]\nterm_years = 2\nusd_per_gpu_hour = 1', "catalog.a100.reserved[0].term_years:"),
    ('[[catalog.a100.reserved]]\nterm_years = 1\nusd_per_gpu_hour = 9',
     "catalog.a100.reserved[0].usd_per_gpu_hour: must be below the on-demand price"),
    ('[demand.forecast]\nmodle = "ets"', "demand.forecast.modle: unknown key (did you mean 'model'?)"),
    ('[demand.team_family]\nvc3sl = "b200"', "demand.team_family.vc3sl: unknown family 'b200'"),
    ('[catalog.a100]\nregion = "mars"', "catalog.a100.region: 'mars' has no [signals.regions.mars] entry"),
    ('start = 2026-01-01T00:00:00', "start: "),
    ('[policies.risk]\nalpha = 1.5', "policies.risk.alpha: must be < 1"),
]


@pytest.mark.parametrize(("override", "expected"), BAD)
def test_bad_scenario_is_one_line_naming_path_and_rule(tmp_path: Path, override: str, expected: str) -> None:
    line = _error(tmp_path, 'extends = "default"\n' + override)
    assert expected in line


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    line = _error(tmp_path, 'extends = "default"\n[catalog.h100\npue = 1.2')
    assert "not valid TOML" in line
    assert "line 2" in line


def test_missing_required_section(tmp_path: Path) -> None:
    assert "catalog: required, but missing" in _error(tmp_path, '[demand]\nhistory = "x.csv"')


def test_unknown_parent_names_extends_and_suggests(tmp_path: Path) -> None:
    line = _error(tmp_path, 'extends = "defualt"')
    assert "extends: no scenario file 'defualt'" in line
    assert "did you mean 'default'?" in line


def test_self_extension_is_refused(tmp_path: Path) -> None:
    assert "cannot extend itself" in _error(tmp_path, 'extends = "s.toml"')


def test_extends_cycle_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, 'extends = "b.toml"', "a.toml")
    _write(tmp_path, 'extends = "a.toml"', "b.toml")
    with pytest.raises(ScenarioError, match="extends chain is too deep"):
        load_scenario(tmp_path / "a.toml")


def test_extends_chain_overrides_only_what_differs(tmp_path: Path) -> None:
    base = load_scenario("default")
    _write(tmp_path, 'extends = "default"\nname = "mid"\n[catalog.h100]\non_demand_usd_per_gpu_hour = 7.5\n'
           '[policies]\ncarbon_price_usd_per_tonne = 10', "mid.toml")
    _write(tmp_path, 'extends = "mid.toml"\nname = "leaf"\n[policies]\nbudget_usd_per_year = 1e6', "leaf.toml")
    sc = load_scenario(tmp_path / "leaf.toml")
    assert sc.name == "leaf"
    assert sc.catalog["h100"].on_demand_usd_per_gpu_hour == 7.5                # from mid
    assert sc.policies.carbon_price_usd_per_tonne == 10                          # from mid
    assert sc.policies.budget_usd_per_year == 1e6                                # from leaf
    assert sc.catalog["h100"].reserved == base.catalog["h100"].reserved          # from default
    assert sc.catalog["a100"] == base.catalog["a100"]
    assert sc.demand.history == "bundled:helios_earth_vc"


def test_relative_paths_stay_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(tmp_path, 'extends = "default"\n[demand]\nhistory = "data/usage.csv"', "sub/parent.toml")
    _write(tmp_path, 'extends = "sub/parent.toml"', "child.toml")
    sc = load_scenario(tmp_path / "child.toml")
    assert sc.resolve(sc.demand.history) == str((tmp_path / "sub" / "data" / "usage.csv").resolve())


def test_overrides_apply_last_and_are_validated() -> None:
    sc = load_scenario("small", overrides={"policies.carbon_price_usd_per_tonne": 100, "demand.scale": 2})
    assert sc.policies.carbon_price_usd_per_tonne == 100
    assert sc.demand.scale == 2
    assert sc.demand.forecast.model == "naive168"        # small's own value survives
    with pytest.raises(ScenarioError, match=r"demand.scale: must be > 0"):
        load_scenario("small", overrides={"demand.scale": 0})


def test_small_extends_default() -> None:
    small, default = load_scenario("small"), load_scenario("default")
    assert small.catalog == default.catalog
    assert small.demand.forecast.horizon_hours == 336
    assert small.simulation.replications == 4


def test_helpers_merge_override_and_parse() -> None:
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}
    assert apply_overrides({"a": {"b": 1}}, {"a.c.d": 2}) == {"a": {"b": 1, "c": {"d": 2}}}
    assert parse_value("1.5") == 1.5
    assert parse_value("[1, 3]") == [1, 3]
    assert parse_value("true") is True
    assert parse_value("hello") == "hello"


def test_effective_dict_and_schema_are_json() -> None:
    eff = effective_dict(load_scenario("default"))
    assert eff["catalog"]["a100"]["pue"] == 1.2
    assert eff["policies"]["risk"]["measure"] == "cvar"
    schema = json.loads(json.dumps(json_schema()))
    assert "catalog" in schema["properties"]
    assert "on_demand_usd_per_gpu_hour" in schema["$defs"]["GpuFamily"]["properties"]


def test_json_schema_is_valid_and_accepts_the_bundled_scenarios_and_refuses_bad_ones() -> None:
    """Validated with ``jsonschema`` (Draft 2020-12, what pydantic emits), not by looking at keys."""
    import copy

    import jsonschema

    schema = json.loads(json.dumps(json_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in ("default", "small"):
        eff = effective_dict(load_scenario(name))
        errors = sorted(validator.iter_errors(eff), key=str)
        assert errors == [], [e.message for e in errors]
    eff = effective_dict(load_scenario("default"))
    bad = copy.deepcopy(eff)
    bad["catalog"]["a100"]["on_demand_usd_per_gpu_hour"] = "cheap"
    assert [list(e.absolute_path) for e in validator.iter_errors(bad)] == [
        ["catalog", "a100", "on_demand_usd_per_gpu_hour"]]
    bad = copy.deepcopy(eff)
    bad["simulation"]["replications"] = 0
    assert any(list(e.absolute_path) == ["simulation", "replications"] for e in validator.iter_errors(bad))
