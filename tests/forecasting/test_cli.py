"""``gpuplan forecast``: the CLI contract of issue 3 (columns, UTC output, exit code 2 on bad input)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gpuplan.cli import main

from .conftest import seasonal_series


def _write(path: Path, n: int = 240, series: tuple[str, ...] = ("a100", "h100"), naive: bool = False) -> Path:
    t = pd.date_range("2024-05-01", periods=n, freq="h", tz="UTC")
    stamps = t.strftime("%Y-%m-%d %H:%M:%S") if naive else t.strftime("%Y-%m-%dT%H:%M:%SZ")
    df = pd.concat([pd.DataFrame({"series_id": s, "timestamp": stamps, "gpus": seasonal_series(n, seed=i)})
                    for i, s in enumerate(series)], ignore_index=True)
    df.to_csv(path, index=False)
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith("gpuplan: error: ")
    return err[0]


def test_happy_path_writes_exactly_the_contract_columns(tmp_path: Path) -> None:
    hist = _write(tmp_path / "h.csv")
    out, paths = tmp_path / "f.csv", tmp_path / "p.csv"
    code = main(["--quiet", "forecast", str(hist), "--horizon", "24", "--levels", "80", "95", "--model", "naive24",
                 "--paths", "3", "--paths-out", str(paths), "--out", str(out)])
    assert code == 0
    fc = pd.read_csv(out)
    assert list(fc.columns) == ["series_id", "timestamp", "model", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(fc) == 2 * 24 and fc["timestamp"].str.endswith("Z").all()
    assert fc["timestamp"].iloc[0] == "2024-05-11T00:00:00Z"
    p = pd.read_csv(paths)
    assert list(p.columns) == ["series_id", "timestamp", "sample_id", "gpus"]
    assert len(p) == 2 * 3 * 24 and (p["gpus"] >= 0).all()


def test_naive_times_are_read_in_the_given_zone(tmp_path: Path) -> None:
    hist = _write(tmp_path / "h.csv", series=("a100",), naive=True)
    out = tmp_path / "f.csv"
    assert main(["--quiet", "forecast", str(hist), "--horizon", "2", "--model", "naive", "--tz", "Asia/Shanghai",
                 "--out", str(out)]) == 0
    # last local hour 2024-05-10 23:00 +08:00 = 15:00Z; the forecast starts the hour after
    assert pd.read_csv(out)["timestamp"].tolist() == ["2024-05-10T16:00:00Z", "2024-05-10T17:00:00Z"]


def _corrupt(kind: str, path: Path) -> list[str]:
    df = pd.read_csv(path)
    extra: list[str] = []
    if kind == "negative":
        df.loc[5, "gpus"] = -3
    elif kind == "unparsable":
        df.loc[7, "timestamp"] = "not a time"
    elif kind == "duplicate":
        df = pd.concat([df, df.iloc[[10]]], ignore_index=True)
    elif kind == "naive":
        df["timestamp"] = df["timestamp"].str.replace("Z", "", regex=False)
    elif kind == "too_short":
        df = df.groupby("series_id").head(100)
        extra = ["--model", "naive168"]
    df.to_csv(path, index=False)
    return extra


@pytest.mark.parametrize("kind", ["negative", "unparsable", "duplicate", "naive", "too_short"])
def test_bad_input_exits_2_with_one_line_and_no_file(kind: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    hist = _write(tmp_path / "h.csv", series=("a100",))
    extra = _corrupt(kind, hist)
    out, paths = tmp_path / "f.csv", tmp_path / "p.csv"
    code = main(["--quiet", "forecast", str(hist), "--horizon", "24", *extra, "--paths", "2",
                 "--paths-out", str(paths), "--out", str(out)])
    assert code == 2
    line = _one_error_line(capsys)
    assert "h.csv" in line or "168" in line
    assert not out.exists() and not paths.exists()
    assert list(tmp_path.iterdir()) == [hist]  # no temporary files left either


def test_paths_without_a_paths_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist = _write(tmp_path / "h.csv", series=("a100",))
    assert main(["--quiet", "forecast", str(hist), "--horizon", "24", "--paths", "5", "--out",
                 str(tmp_path / "f.csv")]) == 2
    assert "--paths-out" in _one_error_line(capsys)
    assert not (tmp_path / "f.csv").exists()


def test_backtest_prints_a_leaderboard_per_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist = _write(tmp_path / "h.csv", n=24 * 16, series=("a100",))
    assert main(["--quiet", "forecast", str(hist), "--horizon", "24", "--backtest", "--windows", "2",
                 "--model", "theta", "--backtest-models", "naive", "naive24"]) == 0
    text = capsys.readouterr().out
    assert "mase" in text and "cov_95" in text and "crps" in text
    board = [line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in
             {"naive", "naive24", "theta"}]
    assert sorted(board) == ["naive", "naive24", "theta"]
    assert "2 rolling-origin windows of 24 h" in text
