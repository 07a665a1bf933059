"""CLI smoke tests: every command explains itself; bad input is one line and exit 2; the summary prints.

Commands are discovered from the parser, so a new subcommand is covered as soon as it is registered.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gpuplan.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def _subparsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...],
                                                                                             argparse.ArgumentParser]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append(((*prefix, name), sub))
                out += _subparsers(sub, (*prefix, name))
    return out


COMMANDS = _subparsers(build_parser())


def test_top_level_help_describes_gpuplan(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "Plan GPU compute" in out
    for path, _ in COMMANDS:
        if len(path) == 1:
            assert path[0] in out


def test_scenario_and_summary_are_registered() -> None:
    names = {p for p, _ in COMMANDS}
    assert {("scenario",), ("scenario", "validate"), ("scenario", "show"), ("scenario", "schema"),
            ("summary",)} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=["-".join(p) for p, _ in COMMANDS])
def test_every_subcommand_help_exits_0_with_a_description(path: tuple[str, ...],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    sub = dict(COMMANDS)[path]
    assert sub.description and len(sub.description) > 20, f"'{' '.join(path)}' needs a description"
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gpuplan " + " ".join(path))
    assert sub.description.split()[0] in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: gpuplan" in capsys.readouterr().out


def _bad_scenario(tmp_path: Path) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text('extends = "default"\n[catalog.h100]\non_demand_usd_per_gpu_hour = -1\n', encoding="utf-8")
    return p


def test_validate_bad_scenario_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _bad_scenario(tmp_path)
    assert main(["scenario", "validate", str(bad)]) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert lines == [f"gpuplan: error: {bad}: catalog.h100.on_demand_usd_per_gpu_hour: must be > 0"]
    assert "Traceback" not in cap.err
    assert cap.out == ""


def test_validate_good_scenario_says_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "validate", "small"]) == 0
    assert capsys.readouterr().out.startswith("ok: small is a valid scenario 'small' with families a100, h100")


def test_show_prints_effective_values_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "show", "small"]) == 0
    eff = json.loads(capsys.readouterr().out)
    assert eff["name"] == "small"
    assert eff["demand"]["forecast"]["horizon_hours"] == 336           # small's override
    assert eff["catalog"]["a100"]["on_demand_usd_per_gpu_hour"] == 2.744705   # inherited from default
    assert eff["policies"]["unmet_penalty_usd_per_gpu_hour"] == 100.0      # a schema default


def test_schema_is_valid_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["type"] == "object"
    assert set(schema["required"]) >= {"catalog", "demand"}
    desc = schema["$defs"]["GpuFamily"]["properties"]["on_demand_usd_per_gpu_hour"]["description"]
    assert "[USD/GPU-hour]" in desc


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "scenario", "validate", str(_bad_scenario(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("gpuplan: error: ")


def test_installed_entry_point_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = _bad_scenario(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "gpuplan.cli", "scenario", "validate", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "must be > 0" in proc.stderr


# -- gpuplan summary ------------------------------------------------------------------------------------


def test_summary_of_default_prints_demand_spend_and_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "default"]) == 0
    out = capsys.readouterr().out
    assert "Hourly GPU demand by family and team" in out
    assert "Spend by pricing category" in out
    assert "Effective settings" in out
    assert "span: 2020-04-30 16:00 to 2020-05-31 15:00 UTC (744 hours" in out
    # the two Helios outages (local 2020-05-10 all day, 2020-05-12 15:00) are flagged, not hidden
    assert "2020-05-09 16:00 UTC +24 h, 2020-05-12 07:00 UTC +1 h" in out
    assert "a100/vc8Sj" in out and "h100/vcpDC" in out
    assert "ASSUMPTION" in out and "current commitments ([current]): 120 a100 GPUs reserved 1y" in out
    assert "Standard (on-demand)" in out


def test_summary_on_demand_spend_is_gpu_hours_times_list_rate(capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from scenarios import load_scenario
    from scenarios.bundled import resolve_path

    sc = load_scenario("default")
    raw = pd.read_csv(resolve_path("bundled:helios_earth_vc"))
    fam = raw["vc"].map(sc.demand.team_family)
    expect = sum(raw.loc[fam == f, "running_gpu_mean"].sum() * sc.catalog[f].on_demand_usd_per_gpu_hour
                 for f in sc.families)
    assert main(["summary", "default"]) == 0
    out = capsys.readouterr().out
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    assert f"{expect:,.2f}" in total


def test_summary_of_a_focus_history_shows_billed_categories(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    sc = tmp_path / "focus.toml"
    sc.write_text(f'extends = "default"\n[demand]\nhistory = "{FIXTURES / "focus_aws_small.csv"}"\n'
                  'format = "focus"\n', encoding="utf-8")
    assert main(["summary", str(sc)]) == 0
    out = capsys.readouterr().out
    assert "from the FOCUS export's GPU rows" in out
    assert "Committed / Unused" in out and "Dynamic (spot)" in out
    assert "skipped 10 rows on purpose" in out     # 9 by the reader + the a10g row not in the catalog
    assert "83.3%" in out                           # a100 utilization 5/6


def test_summary_with_a_mapped_column_missing_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "u.csv"
    data.write_text("timestamp,team,gpus\n2026-01-01 00:00:00,vc3sl,1\n", encoding="utf-8")
    sc = tmp_path / "s.toml"
    sc.write_text(f'extends = "default"\n[demand]\nhistory = "{data}"\ncolumns = {{}}\n', encoding="utf-8")
    # default's tz (Asia/Shanghai) and column mapping are inherited; the mapping points at absent columns
    assert main(["summary", str(sc)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "hour_start" in err[0] and str(data) in err[0]


def test_summary_refuses_naive_times_without_tz_and_accepts_tz_flag(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "u.csv"
    data.write_text("timestamp,team,gpus\n2026-01-01 00:00:00,a,1\n2026-01-01 01:00:00,a,3\n", encoding="utf-8")
    sc = tmp_path / "s.toml"
    sc.write_text('name = "t"\n[catalog.a100]\non_demand_usd_per_gpu_hour = 2.0\n'
                  '[demand]\nhistory = "u.csv"\ndefault_family = "a100"\n', encoding="utf-8")
    assert main(["summary", str(sc)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gpuplan: error: {data}, row 1, column 'timestamp': time '2026-01-01 00:00:00' has no time "
                   "zone (fix: add a UTC offset (e.g. 2026-01-01T00:00:00+08:00) or state the zone with --tz / "
                   "tz= (e.g. --tz Asia/Shanghai))"]
    assert main(["summary", str(sc), "--tz", "UTC"]) == 0
    out = capsys.readouterr().out
    assert "a100      2        0  2.0" in out      # 2 hours, mean of 1 and 3 GPUs
    assert "8.00" in out                          # 4 GPU-hours x 2.0 USD/GPU-hour on demand
