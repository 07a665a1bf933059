"""A corpus of bad inputs across every reader and command: one line on stderr, exit 2, nothing written.

Each case builds its files in ``tmp_path`` (nothing big is committed), runs ``gpuplan.cli.main`` in-process
from ``tmp_path`` and checks:

- exit code 2 and exactly one line on stderr, starting ``gpuplan``, holding the case's key words (the file
  and row where there is one);
- nothing written: every file under ``tmp_path`` is unchanged (same names, same bytes) and no temporary
  file or folder is left.

A few cases are valid input: they must say so (exit 0) and succeed.  Every case fails before any heavy
work (no forecast, optimisation or simulation runs).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from gpuplan.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"

Build = Callable[[Path], list[str]]


@dataclass
class Case:
    """A corpus entry: ``build(tmp)`` writes the files and returns the argv; ``expect`` are words that the
    error line (or, for a valid case, stdout) must contain; ``valid`` cases must exit 0."""

    id: str
    build: Build
    expect: tuple[str, ...] = ()
    valid: bool = False
    quiet: bool = False
    # warnings a valid case must print on stderr (each names the value)
    warns: tuple[str, ...] = field(default_factory=tuple)


CASES: list[Case] = []


def case(id: str, *expect: str, valid: bool = False, quiet: bool = False,
         warns: tuple[str, ...] = ()) -> Callable[[Build], Build]:
    """Register a corpus case."""
    def deco(fn: Build) -> Build:
        CASES.append(Case(id, fn, tuple(expect), valid, quiet, warns))
        return fn
    return deco


# -- file builders --------------------------------------------------------------------------------------

def hours(n: int, start: str = "2026-01-01T00:00:00Z") -> list[str]:
    """``n`` hourly ISO times with Z."""
    t = pd.date_range(start, periods=n, freq="h", tz="UTC")
    return [x.strftime("%Y-%m-%dT%H:%M:%SZ") for x in t]


def history_rows(n: int = 48) -> list[list[str]]:
    """A valid history: one series, ``n`` hours."""
    return [["a100", t, str(10 + (i % 24) / 4)] for i, t in enumerate(hours(n))]


def write_csv(path: Path, header: list[str], rows: list[list[str]], sep: str = ",",
              encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def history(tmp: Path, rows: list[list[str]] | None = None, name: str = "hist.csv", sep: str = ",",
            header: list[str] | None = None, encoding: str = "utf-8") -> Path:
    return write_csv(tmp / name, header or ["series_id", "timestamp", "gpus"],
                     history_rows() if rows is None else rows, sep=sep, encoding=encoding)


def forecast(hist: str, *extra: str) -> list[str]:
    """argv of a small forecast into out.csv."""
    return ["forecast", hist, "--horizon", "4", "--model", "naive", "--workers", "1", "--out", "out.csv", *extra]


def scenario(tmp: Path, body: str, name: str = "s.toml") -> Path:
    p = tmp / name
    p.write_text('extends = "small"\nname = "t"\n' + body, encoding="utf-8")
    return p


USAGE_HEADER = ["hour_start", "vc", "running_gpu_mean"]


def usage_rows(n: int = 24, gpus: str = "4") -> list[list[str]]:
    """Usage rows in the default scenario's column names (naive Asia/Shanghai times, teams vc8Sj/vc3sl)."""
    t = pd.date_range("2026-01-01 00:00", periods=n, freq="h")
    return [[x.strftime("%Y-%m-%d %H:%M:%S"), vc, gpus] for x in t for vc in ("vc8Sj", "vc3sl")]


def usage_scenario(tmp: Path, rows: list[list[str]] | None = None, sep: str = ",", encoding: str = "utf-8",
                   header: list[str] | None = None) -> Path:
    data = write_csv(tmp / "usage.csv", header or USAGE_HEADER, usage_rows() if rows is None else rows,
                     sep=sep, encoding=encoding)
    return scenario(tmp, f'[demand]\nhistory = "{data.name}"\n')


def billing_scenario(tmp: Path, fmt: str, frame: pd.DataFrame, sep: str = ",", encoding: str = "utf-8",
                     text: str | None = None) -> Path:
    path = tmp / f"{fmt}.csv"
    if text is None:
        frame.to_csv(path, index=False, sep=sep, encoding=encoding)
    else:
        path.write_text(text, encoding="utf-8")
    return scenario(tmp, f'[demand]\nhistory = "{path.name}"\nformat = "{fmt}"\n')


def focus() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "focus_aws_small.csv", dtype=str, keep_default_na=False)


def cur() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "cur2_small.csv", dtype=str, keep_default_na=False)


def paths_rows(n: int = 6, gpus: str = "3") -> list[list[str]]:
    return [[fam, t, str(s), gpus] for fam in ("a100", "h100") for s in range(2) for t in hours(n)]


def paths_file(tmp: Path, rows: list[list[str]] | None = None, sep: str = ",",
               header: list[str] | None = None) -> str:
    write_csv(tmp / "paths.csv", header or ["series_id", "timestamp", "sample_id", "gpus"],
              paths_rows() if rows is None else rows, sep=sep)
    return "paths.csv"


def capacity(tmp: Path, forecast_file: str, out: str = "cap") -> list[str]:
    return ["optimize", "capacity", "small", "--forecast", forecast_file, "--workers", "1", "--out", out]


def trace_scenario(tmp: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    write_csv(tmp / "trace.csv", header or ["job_id", "submit_time", "gpus", "duration_hours"], rows)
    return scenario(tmp, '[workload]\ntrace = "trace.csv"\n')


def schedule(sc: Path) -> list[str]:
    return ["optimize", "schedule", str(sc.name), "--start", "2026-01-01T00:00:00Z", "--out", "sched"]


def read_only_dir(tmp: Path, name: str = "ro") -> Path:
    d = tmp / name
    d.mkdir()
    d.chmod(0o555)
    return d


# -- forecast: the history reader and the command's options ----------------------------------------------

@case("history-missing-file", "nope.csv", "no such history file")
def _(tmp: Path) -> list[str]:
    return forecast("nope.csv")


@case("history-empty-file", "hist.csv", "empty")
def _(tmp: Path) -> list[str]:
    (tmp / "hist.csv").write_bytes(b"")
    return forecast("hist.csv")


@case("history-header-only", "hist.csv", "no data rows")
def _(tmp: Path) -> list[str]:
    history(tmp, rows=[])
    return forecast("hist.csv")


@case("history-semicolon-decimal-comma", "hist.csv", "row 1", "10,5", "decimal mark")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[0][2] = "10,5"
    history(tmp, rows, sep=";")
    return forecast("hist.csv")


@case("history-latin1", "hist.csv, row 3: the history file is not UTF-8", "Latin-1")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[2][0] = "caf\u00e9"
    history(tmp, rows, encoding="latin-1")
    return forecast("hist.csv")


@case("history-truncated-last-line", "hist.csv", "row 48", "cut off")
def _(tmp: Path) -> list[str]:
    p = history(tmp)
    text = p.read_text()
    p.write_text(text[: text.rstrip("\n").rfind(",")])   # the last row loses its gpus field
    return forecast("hist.csv")


@case("history-year-typo-last-row", "hist.csv", "row 48", "2206", "typo")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[-1][1] = rows[-1][1].replace("2026", "2206")
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-negative-gpus", "hist.csv", "row 5", "negative")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[4][2] = "-3"
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-text-gpus", "hist.csv", "row 7", "'lots' is not a number")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[6][2] = "lots"
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-infinite-gpus", "hist.csv", "row 2", "finite")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[1][2] = "inf"
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-naive-times", "hist.csv", "row 1", "no time zone")
def _(tmp: Path) -> list[str]:
    history(tmp, [[s, t.replace("Z", ""), g] for s, t, g in history_rows()])
    return forecast("hist.csv")


@case("history-mixed-offsets", "hist.csv", "row 3", "no UTC offset while others have one")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[2][1] = rows[2][1].replace("Z", "")
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-unreadable-time", "hist.csv", "row 4", "yesterday")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[3][1] = "yesterday"
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-duplicate-hour", "hist.csv", "duplicate time")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[5][1] = rows[4][1]
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-out-of-order", "hist.csv", "earlier than the row before")
def _(tmp: Path) -> list[str]:
    rows = history_rows()
    rows[5], rows[6] = rows[6], rows[5]
    history(tmp, rows)
    return forecast("hist.csv")


@case("history-missing-gpus-column", "hist.csv", "missing column 'gpus'")
def _(tmp: Path) -> list[str]:
    history(tmp, [r[:2] for r in history_rows()], header=["series_id", "timestamp"])
    return forecast("hist.csv")


@case("history-misspelt-column", "hist.csv", "rename 'GPU' to 'gpus'")
def _(tmp: Path) -> list[str]:
    history(tmp, header=["series_id", "timestamp", "GPU"])
    return forecast("hist.csv")


@case("history-too-many-fields", "hist.csv", "row 3", "more than the header")
def _(tmp: Path) -> list[str]:
    p = history(tmp)
    lines = p.read_text().splitlines()
    lines[3] += ",99"
    p.write_text("\n".join(lines) + "\n")
    return forecast("hist.csv")


@case("history-unterminated-quote", "hist.csv", "cannot read the history file")
def _(tmp: Path) -> list[str]:
    p = history(tmp)
    p.write_text(p.read_text() + '"a100,2026-01-03T00:00:00Z,3\n')
    return forecast("hist.csv")


@case("history-gz-not-gzip", "hist.csv.gz", "cannot read the history file")
def _(tmp: Path) -> list[str]:
    history(tmp, name="hist.csv.gz")
    return forecast("hist.csv.gz")


@case("forecast-unknown-tz", "unknown time zone 'Mars/Olympus'")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return forecast("hist.csv", "--tz", "Mars/Olympus")


@case("forecast-out-is-folder", "is an existing folder")
def _(tmp: Path) -> list[str]:
    history(tmp)
    (tmp / "out.csv").mkdir()
    return forecast("hist.csv")


@case("forecast-out-empty", "--out", "empty")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return ["forecast", "hist.csv", "--horizon", "4", "--out", ""]


@case("forecast-out-read-only-folder", "read-only")
def _(tmp: Path) -> list[str]:
    history(tmp)
    read_only_dir(tmp)
    return ["forecast", "hist.csv", "--horizon", "4", "--out", "ro/f.csv"]


@case("forecast-out-under-a-file", "is a file, not a folder")
def _(tmp: Path) -> list[str]:
    history(tmp)
    (tmp / "afile").write_text("mine\n")
    return ["forecast", "hist.csv", "--horizon", "4", "--out", "afile/f.csv"]


@case("forecast-out-read-only-file", "read-only")
def _(tmp: Path) -> list[str]:
    history(tmp)
    (tmp / "out.csv").write_text("my old forecast\n")
    (tmp / "out.csv").chmod(0o444)
    return forecast("hist.csv")


@case("forecast-paths-without-paths-out", "--paths-out")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return forecast("hist.csv", "--paths", "3")


@case("forecast-paths-out-same-as-out", "same file")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return forecast("hist.csv", "--paths", "3", "--paths-out", "out.csv")


@case("forecast-paths-out-is-folder", "--paths-out", "is an existing folder")
def _(tmp: Path) -> list[str]:
    history(tmp)
    (tmp / "p").mkdir()
    return forecast("hist.csv", "--paths", "3", "--paths-out", "p")


@case("forecast-bad-step", "--step", "START=GPUS")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return forecast("hist.csv", "--step", "tomorrow")


@case("forecast-negative-paths", "--paths must be >= 0")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return forecast("hist.csv", "--paths", "-2", "--paths-out", "p.csv")


@case("forecast-horizon-not-a-number", "--horizon", "invalid int value")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return ["forecast", "hist.csv", "--horizon", "a week", "--out", "out.csv"]


@case("forecast-missing-horizon", "--horizon", "required")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return ["forecast", "hist.csv", "--out", "out.csv"]


@case("forecast-unknown-model", "--model", "invalid choice")
def _(tmp: Path) -> list[str]:
    history(tmp)
    return forecast("hist.csv", "--model", "prophet")


@case("history-semicolon-valid", "wrote out.csv", valid=True)
def _(tmp: Path) -> list[str]:
    history(tmp, sep=";")
    return forecast("hist.csv")


@case("history-utf8-bom-valid", "wrote out.csv", valid=True)
def _(tmp: Path) -> list[str]:
    history(tmp, encoding="utf-8-sig")
    return forecast("hist.csv")


# -- scenario files ------------------------------------------------------------------------------------

@case("scenario-validate-folder", "is a folder, not a scenario file")
def _(tmp: Path) -> list[str]:
    return ["scenario", "validate", "."]


@case("scenario-latin1", "s.toml", "not UTF-8", "line 2")
def _(tmp: Path) -> list[str]:
    (tmp / "s.toml").write_bytes('extends = "small"\ndescription = "co\u00fbt"\n'.encode("latin-1"))
    return ["scenario", "validate", "s.toml"]


@case("scenario-not-toml", "s.toml", "not valid TOML")
def _(tmp: Path) -> list[str]:
    (tmp / "s.toml").write_text('extends = "small\n', encoding="utf-8")
    return ["scenario", "validate", "s.toml"]


@case("scenario-unknown-key", "simulation.replicatons", "did you mean 'replications'")
def _(tmp: Path) -> list[str]:
    scenario(tmp, "[simulation]\nreplicatons = 3\n")
    return ["scenario", "validate", "s.toml"]


@case("scenario-negative-price", "catalog.a100.on_demand_usd_per_gpu_hour", "must be >")
def _(tmp: Path) -> list[str]:
    scenario(tmp, "[catalog.a100]\non_demand_usd_per_gpu_hour = -1\n")
    return ["scenario", "validate", "s.toml"]


@case("scenario-extends-missing", "extends", "no scenario file 'nowhere'")
def _(tmp: Path) -> list[str]:
    (tmp / "s.toml").write_text('extends = "nowhere"\n', encoding="utf-8")
    return ["scenario", "validate", "s.toml"]


@case("scenario-extends-itself", "cannot extend itself")
def _(tmp: Path) -> list[str]:
    (tmp / "s.toml").write_text('extends = "s.toml"\n', encoding="utf-8")
    return ["scenario", "validate", "s.toml"]


@case("scenario-unknown-name", "no scenario file 'smal'", "did you mean 'small'")
def _(tmp: Path) -> list[str]:
    return ["scenario", "show", "smal"]


@case("scenario-empty-name", "scenario name is empty")
def _(tmp: Path) -> list[str]:
    return ["scenario", "validate", ""]


@case("scenario-valid", "ok:", valid=True)
def _(tmp: Path) -> list[str]:
    scenario(tmp, "[simulation]\nreplications = 3\n")
    return ["scenario", "validate", "s.toml"]


# -- the scenario's demand history: usage, FOCUS and CUR readers (through `summary`) ----------------------

@case("usage-missing-file", "usage.csv", "no such usage file")
def _(tmp: Path) -> list[str]:
    scenario(tmp, '[demand]\nhistory = "usage.csv"\n')
    return ["summary", "s.toml"]


@case("usage-semicolon-decimal-comma", "usage.csv", "row 1", "decimal mark")
def _(tmp: Path) -> list[str]:
    rows = usage_rows()
    rows[0][2] = "4,5"
    usage_scenario(tmp, rows, sep=";")
    return ["summary", "s.toml"]


@case("usage-latin1", "usage.csv", "not UTF-8", "Latin-1")
def _(tmp: Path) -> list[str]:
    rows = usage_rows()
    rows[3][1] = "\u00e9quipe"
    usage_scenario(tmp, rows, encoding="latin-1")
    return ["summary", "s.toml"]


@case("usage-text-gpus", "usage.csv", "row 9", "'n/a' is not a number")
def _(tmp: Path) -> list[str]:
    rows = usage_rows()
    rows[8][2] = "n/a"
    usage_scenario(tmp, rows)
    return ["summary", "s.toml"]


@case("usage-year-typo", "usage.csv", "row 48", "2206")
def _(tmp: Path) -> list[str]:
    rows = usage_rows()
    rows[-1][0] = rows[-1][0].replace("2026", "2206")
    usage_scenario(tmp, rows)
    return ["summary", "s.toml"]


@case("usage-truncated-last-line", "usage.csv", "row 48", "cut off")
def _(tmp: Path) -> list[str]:
    p = tmp / "usage.csv"
    usage_scenario(tmp)
    text = p.read_text().rstrip("\n")
    p.write_text(text[: text.rfind(",")])
    return ["summary", "s.toml"]


@case("usage-semicolon-valid", "gpuplan summary", valid=True)
def _(tmp: Path) -> list[str]:
    usage_scenario(tmp, sep=";")
    return ["summary", "s.toml"]


@case("usage-1e12-gpus-warns", "gpuplan summary", valid=True, warns=("1e+12 GPUs", "usage.csv", "row 2"))
def _(tmp: Path) -> list[str]:
    rows = usage_rows()
    rows[1][2] = "1e12"
    usage_scenario(tmp, rows)
    return ["summary", "s.toml"]


@case("usage-team-without-family", "team 'vcNew' has no GPU family")
def _(tmp: Path) -> list[str]:
    rows = usage_rows()
    rows[0][1] = "vcNew"
    usage_scenario(tmp, rows)
    return ["summary", "s.toml"]


@case("summary-bad-tz", "unknown time zone")
def _(tmp: Path) -> list[str]:
    return ["summary", "small", "--tz", "Europe/Atlantis"]


@case("focus-truncated-last-line", "focus.csv", "row 19", "cut off")
def _(tmp: Path) -> list[str]:
    sc = billing_scenario(tmp, "focus", focus())
    p = tmp / "focus.csv"
    text = p.read_text().rstrip("\n")
    p.write_text(text[: text.rfind("\n") + 200])  # the last row stops in the middle
    return ["summary", sc.name]


@case("focus-charge-period-end-2099", "focus.csv", "row 1", "ChargePeriodEnd", "2099", "typo")
def _(tmp: Path) -> list[str]:
    d = focus()
    d.loc[d.index[0], "ChargePeriodEnd"] = "2099-01-01T00:00:00Z"
    return ["summary", billing_scenario(tmp, "focus", d).name]


@case("focus-missing-charge-period-start", "missing column 'ChargePeriodStart'")
def _(tmp: Path) -> list[str]:
    return ["summary", billing_scenario(tmp, "focus", focus().drop(columns=["ChargePeriodStart"])).name]


@case("focus-latin1", "focus.csv", "not UTF-8")
def _(tmp: Path) -> list[str]:
    d = focus()
    d.loc[d.index[4], "ChargeDescription"] = "r\u00e9serv\u00e9"
    return ["summary", billing_scenario(tmp, "focus", d, encoding="latin-1").name]


@case("focus-euro", "focus.csv", "currency 'EUR' is not supported")
def _(tmp: Path) -> list[str]:
    d = focus()
    d["BillingCurrency"] = "EUR"
    return ["summary", billing_scenario(tmp, "focus", d).name]


@case("focus-negative-cost", "focus.csv", "EffectiveCost", "negative")
def _(tmp: Path) -> list[str]:
    d = focus()
    d.loc[d.index[0], "EffectiveCost"] = "-5"
    return ["summary", billing_scenario(tmp, "focus", d).name]


@case("focus-semicolon-valid", "gpuplan summary", valid=True)
def _(tmp: Path) -> list[str]:
    return ["summary", billing_scenario(tmp, "focus", focus(), sep=";").name]


@case("focus-1e12-gpus-warns", "gpuplan summary", valid=True, warns=("focus.csv", "GPUs", "e+1"))
def _(tmp: Path) -> list[str]:
    d = focus()
    d.loc[d.index[0], "ConsumedQuantity"] = "1e12"
    d.loc[d.index[0], "PricingQuantity"] = "1e12"
    return ["summary", billing_scenario(tmp, "focus", d).name]


@case("focus-all-in-2099-warns", "gpuplan summary", valid=True, warns=("ChargePeriodStart", "2099", "years from today"))
def _(tmp: Path) -> list[str]:
    d = focus()
    for c in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"):
        d[c] = d[c].str.replace("2026", "2099")
    return ["summary", billing_scenario(tmp, "focus", d).name]


@case("cur-missing-one-column", "missing column 'line_item_usage_start_date'", "add a")
def _(tmp: Path) -> list[str]:
    return ["summary", billing_scenario(tmp, "cur", cur().drop(columns=["line_item_usage_start_date"])).name]


@case("cur-missing-amount", "missing column 'line_item_usage_amount'")
def _(tmp: Path) -> list[str]:
    return ["summary", billing_scenario(tmp, "cur", cur().drop(columns=["line_item_usage_amount"])).name]


@case("cur-year-typo", "cur.csv", "row 1", "2206", "line_item_usage_start_date")
def _(tmp: Path) -> list[str]:
    d = cur()
    for c in ("line_item_usage_start_date", "line_item_usage_end_date"):
        d.loc[d.index[0], c] = d.loc[d.index[0], c].replace("2026", "2206")
    return ["summary", billing_scenario(tmp, "cur", d).name]


@case("cur-is-focus", "FOCUS export, not CUR")
def _(tmp: Path) -> list[str]:
    return ["summary", billing_scenario(tmp, "cur", focus()).name]


# -- job traces (through `optimize schedule`, which reads them first) -----------------------------------

def _jobs(n: int = 4) -> list[list[str]]:
    return [[f"j{i}", t, "8", "3"] for i, t in enumerate(hours(n))]


@case("trace-job-of-1e9-hours", "trace.csv", "row 2", "too large")
def _(tmp: Path) -> list[str]:
    rows = _jobs()
    rows[1][3] = "1e9"
    return schedule(trace_scenario(tmp, rows))


@case("trace-negative-gpus", "trace.csv", "row 3", "negative")
def _(tmp: Path) -> list[str]:
    rows = _jobs()
    rows[2][2] = "-8"
    return schedule(trace_scenario(tmp, rows))


@case("trace-fractional-gpus", "trace.csv", "row 1", "whole number")
def _(tmp: Path) -> list[str]:
    rows = _jobs()
    rows[0][2] = "2.5"
    return schedule(trace_scenario(tmp, rows))


@case("trace-end-before-start", "trace.csv", "row 2", "before start_time")
def _(tmp: Path) -> list[str]:
    rows = [[f"j{i}", t, "8", t, hours(3, "2026-01-01T05:00:00Z")[i]] for i, t in enumerate(hours(3))]
    rows[1][4] = "2026-01-01T00:00:00Z"
    return schedule(trace_scenario(tmp, rows, ["job_id", "submit_time", "gpus", "start_time", "end_time"]))


@case("trace-decades-long-span", "trace.csv", "row 2", "typo")
def _(tmp: Path) -> list[str]:
    rows = [[f"j{i}", t, "8", t, hours(4, "2026-01-01T06:00:00Z")[i]] for i, t in enumerate(hours(4))]
    rows[1][4] = rows[1][4].replace("2026", "2196")
    return schedule(trace_scenario(tmp, rows, ["job_id", "submit_time", "gpus", "start_time", "end_time"]))


@case("schedule-start-without-offset", "--start", "no UTC offset")
def _(tmp: Path) -> list[str]:
    return ["optimize", "schedule", "small", "--start", "2026-01-01T00:00:00", "--out", "sched"]


@case("schedule-out-empty", "--out", "empty")
def _(tmp: Path) -> list[str]:
    return ["optimize", "schedule", "small", "--out", ""]


# -- sample paths (optimize capacity --forecast, negotiate --forecast) -----------------------------------

@case("paths-text-gpus", "paths.csv", "row 3", "'many' is not a number")
def _(tmp: Path) -> list[str]:
    rows = paths_rows()
    rows[2][3] = "many"
    return capacity(tmp, paths_file(tmp, rows))


@case("paths-semicolon-decimal-comma", "paths.csv", "row 1", "decimal mark")
def _(tmp: Path) -> list[str]:
    return capacity(tmp, paths_file(tmp, paths_rows(gpus="3,5"), sep=";"))


@case("paths-missing-column", "paths.csv", "missing column 'sample_id'")
def _(tmp: Path) -> list[str]:
    return capacity(tmp, paths_file(tmp, [[r[0], r[1], r[3]] for r in paths_rows()],
                                    header=["series_id", "timestamp", "gpus"]))


@case("paths-naive-times", "paths.csv", "row 1", "no UTC offset")
def _(tmp: Path) -> list[str]:
    return capacity(tmp, paths_file(tmp, [[a, t.rstrip("Z"), s, g] for a, t, s, g in paths_rows()]))


@case("paths-fractional-sample-id", "paths.csv", "row 2", "whole number")
def _(tmp: Path) -> list[str]:
    rows = paths_rows()
    rows[1][2] = "0.5"
    return capacity(tmp, paths_file(tmp, rows))


@case("paths-negative-gpus", "paths.csv", "row 4", "negative")
def _(tmp: Path) -> list[str]:
    rows = paths_rows()
    rows[3][3] = "-1"
    return capacity(tmp, paths_file(tmp, rows))


@case("paths-missing-file", "no such sample paths file")
def _(tmp: Path) -> list[str]:
    return capacity(tmp, "nothing.csv")


@case("capacity-out-current-folder", "current folder")
def _(tmp: Path) -> list[str]:
    return capacity(tmp, paths_file(tmp), out=".")


@case("capacity-out-existing-file", "is an existing file")
def _(tmp: Path) -> list[str]:
    (tmp / "cap").write_text("my notes\n")
    return capacity(tmp, paths_file(tmp))


@case("negotiate-paths-text", "paths.csv", "row 5")
def _(tmp: Path) -> list[str]:
    rows = paths_rows()
    rows[4][3] = "x"
    return ["negotiate", "small", "--forecast", paths_file(tmp, rows), "--workers", "1"]


@case("negotiate-out-empty", "--out", "empty")
def _(tmp: Path) -> list[str]:
    return ["negotiate", "small", "--out", ""]


# -- simulate: plan, demand and schedule files, output folder -------------------------------------------

def simulate(*extra: str) -> list[str]:
    return ["simulate", "small", "--workers", "1", "--out", "sim", *extra]


@case("simulate-plan-missing", "plan.json", "cannot read the plan")
def _(tmp: Path) -> list[str]:
    return simulate("--plan", "plan.json")


@case("simulate-plan-not-json", "plan.json", "not a capacity plan")
def _(tmp: Path) -> list[str]:
    (tmp / "plan.json").write_text("reserve 10 GPUs please\n")
    return simulate("--plan", "plan.json")


def plan_json(tmp: Path, **reserved: object) -> str:
    entry = {"family": "a100", "term_years": 1, "payment": "no_upfront", "gpus": 8.0, "usd_per_gpu_hour": 1.7,
             "start_hour": 0, **reserved}
    (tmp / "plan.json").write_text(json.dumps({"name": "mine", "reserved": [entry], "committed": []}))
    return "plan.json"


@case("simulate-plan-latin1", "plan.json", "not UTF-8")
def _(tmp: Path) -> list[str]:
    (tmp / "plan.json").write_bytes('{"name": "r\u00e9serve"}'.encode("latin-1"))
    return simulate("--plan", "plan.json")


@case("simulate-plan-text-gpus", "plan.json", "reserved[0].gpus", "'lots'")
def _(tmp: Path) -> list[str]:
    return simulate("--plan", plan_json(tmp, gpus="lots"))


@case("simulate-plan-negative-gpus", "plan.json", "reserved[0].gpus", "-8")
def _(tmp: Path) -> list[str]:
    return simulate("--plan", plan_json(tmp, gpus=-8))


@case("simulate-plan-unknown-family", "plan.json", "reserved[0].family", "'b200'")
def _(tmp: Path) -> list[str]:
    return simulate("--plan", plan_json(tmp, family="b200"))


@case("simulate-plan-two-year-term", "plan.json", "reserved[0].term_years", "not 1 or 3")
def _(tmp: Path) -> list[str]:
    return simulate("--plan", plan_json(tmp, term_years=2))


@case("schedule-plan-not-a-plan", "plan.json", "not a capacity plan")
def _(tmp: Path) -> list[str]:
    (tmp / "plan.json").write_text("[1, 2, 3]")
    return ["optimize", "schedule", "small", "--start", "2026-01-01T00:00:00Z", "--plan", "plan.json",
            "--out", "sched"]


@case("simulate-demand-text-value", "demand.csv", "row 2", "'ten' is not a number")
def _(tmp: Path) -> list[str]:
    rows = paths_rows()
    rows[1][3] = "ten"
    write_csv(tmp / "demand.csv", ["series_id", "timestamp", "sample_id", "gpus"], rows)
    return simulate("--demand", "demand.csv")


@case("simulate-demand-naive-times", "demand.csv", "row 1", "no UTC offset")
def _(tmp: Path) -> list[str]:
    write_csv(tmp / "demand.csv", ["family", "timestamp", "gpus"], [["a100", t.rstrip("Z"), "3"] for t in hours(4)])
    return simulate("--demand", "demand.csv")


@case("simulate-demand-no-timestamp", "demand.csv", "missing column 'timestamp'")
def _(tmp: Path) -> list[str]:
    write_csv(tmp / "demand.csv", ["family", "hour", "gpus"], [["a100", t, "3"] for t in hours(4)])
    return simulate("--demand", "demand.csv")


@case("simulate-schedule-latin1", "sched.csv", "not UTF-8")
def _(tmp: Path) -> list[str]:
    write_csv(tmp / "sched.csv", ["job_id", "timestamp", "gpus"], [["j\u00e9", hours(1)[0], "8"]], encoding="latin-1")
    return simulate("--schedule", "sched.csv")


@case("simulate-out-existing-file", "is an existing file")
def _(tmp: Path) -> list[str]:
    (tmp / "sim").write_text("keep me\n")
    return simulate()


@case("simulate-out-read-only", "read-only")
def _(tmp: Path) -> list[str]:
    read_only_dir(tmp, "sim")
    return simulate()


@case("simulate-out-foreign-folder", "kpis.csv", "did not write")
def _(tmp: Path) -> list[str]:
    (tmp / "sim").mkdir()
    (tmp / "sim" / "kpis.csv").write_text("my own kpis\n")
    return simulate()


@case("simulate-start-without-offset", "--start", "no UTC offset")
def _(tmp: Path) -> list[str]:
    return simulate("--start", "2026-01-01 00:00")


# -- plan, compare, sweep ---------------------------------------------------------------------------------

@case("plan-out-existing-file", "is an existing file")
def _(tmp: Path) -> list[str]:
    (tmp / "out").write_text("x\n")
    return ["plan", "small", "--out", "out"]


@case("plan-out-empty", "--out", "empty")
def _(tmp: Path) -> list[str]:
    return ["plan", "small", "--out", ""]


@case("plan-out-read-only-parent", "read-only")
def _(tmp: Path) -> list[str]:
    read_only_dir(tmp)
    return ["plan", "small", "--out", "ro/plan"]


@case("plan-out-folder-with-user-report", "report.html", "did not write")
def _(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "report.html").write_text("<p>my notes</p>\n")
    return ["plan", "small", "--out", "out"]


@case("plan-set-invalid-value", "simulation.replications", "must be >")
def _(tmp: Path) -> list[str]:
    return ["plan", "small", "--set", "simulation.replications=-1", "--out", "out"]


@case("plan-set-without-equals", "--set", "KEY=VALUE")
def _(tmp: Path) -> list[str]:
    return ["plan", "small", "--set", "simulation.replications", "--out", "out"]


@case("plan-catalog-family-without-history", "catalog.b200", "no rows in the demand history", quiet=True)
def _(tmp: Path) -> list[str]:
    scenario(tmp, "[catalog.b200]\non_demand_usd_per_gpu_hour = 9.0\nregion = \"us-east\"\n"
                  "gpu_power_kw = 1.0\n")
    return ["plan", "s.toml", "--workers", "1", "--out", "out"]


@case("compare-out-is-folder", "is an existing folder")
def _(tmp: Path) -> list[str]:
    (tmp / "cmp").mkdir()
    return ["compare", "small", "small", "--out", "cmp"]


@case("compare-bad-scenario", "s.toml", "unknown key")
def _(tmp: Path) -> list[str]:
    scenario(tmp, "[policies]\nbudget = 5\n")
    return ["compare", "small", "s.toml"]


@case("sweep-set-without-values", "--set", "KEY=V1,V2")
def _(tmp: Path) -> list[str]:
    return ["sweep", "small", "--set", "policies.carbon_price_usd_per_tonne"]


@case("sweep-out-empty", "--out", "empty")
def _(tmp: Path) -> list[str]:
    return ["sweep", "small", "--set", "policies.carbon_price_usd_per_tonne=0,100", "--out", ""]


@case("unknown-command", "invalid choice")
def _(tmp: Path) -> list[str]:
    return ["plna", "small"]


# -- the test ----------------------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root``: relative path -> content hash (files) or 'dir'."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for p in tmp_path.rglob("*"):  # let pytest remove read-only folders
        if p.is_dir():
            p.chmod(stat.S_IRWXU)


def test_corpus_is_large_and_covers_every_command() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    firsts = {c.id.split("-")[0] for c in CASES}
    for cmd in ("history", "forecast", "scenario", "usage", "focus", "cur", "trace", "paths", "simulate",
                "plan", "compare", "sweep", "negotiate", "capacity", "schedule", "summary"):
        assert cmd in firsts, cmd


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_and_nothing_written(c: Case, workdir: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    argv = c.build(workdir)
    before = snapshot(workdir)
    try:
        code = main((["-q"] if c.quiet else []) + argv)
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    err_lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    after = snapshot(workdir)
    if c.valid:
        assert code == 0, captured.err
        for word in c.expect:
            assert word in captured.out, (word, captured.out[-500:])
        warn_lines = [ln for ln in err_lines if "warning" in ln.lower()]
        for word in c.warns:
            assert any(word in ln for ln in warn_lines), (word, err_lines)
        if not c.warns:
            assert not warn_lines, warn_lines
        return
    assert code == 2, (captured.out[-300:], captured.err)
    assert len(err_lines) == 1, err_lines
    line = err_lines[0]
    assert line.startswith("gpuplan"), line
    assert "Traceback" not in captured.err
    for word in c.expect:
        assert word in line, (word, line)
    assert after == before, f"files changed: {set(after) ^ set(before)}"
