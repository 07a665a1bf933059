"""Users' files are never lost or mixed: folder outputs swap in as one unit, user files survive, a killed
run leaves the old outputs or the new ones (never a mix), files get the user's umask, CSV cells never run
as formulas, closed pipes and SIGTERM end quietly, progress is one line per step off a terminal."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pandas as pd
import pytest

from scenarios import io as sio
from scenarios.errors import InputError
from scenarios.io import MANIFEST, atomic_dir, write_frame, write_frames
from scenarios.parallel import LineProgress, SerialMapper, progress_bar

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def _write_run(target: Path, files: dict[str, str]) -> None:
    with atomic_dir(target) as tmp:
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text)


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


OLD = {"report.html": "old", "plan.json": "old", "tables/a.csv": "old", "tables/hourly.csv": "old"}
NEW = {"report.html": "new", "plan.json": "new", "tables/a.csv": "new"}


def test_rerun_keeps_user_files_and_drops_stale_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_run(out, OLD)
    (out / "tables" / "my_notes.csv").write_text("mine")      # the user's own file, inside tables/
    (out / "README.txt").write_text("mine too")
    _write_run(out, NEW)
    tree = _tree(out)
    assert tree.pop("tables/my_notes.csv") == "mine"
    assert tree.pop("README.txt") == "mine too"
    assert json.loads(tree.pop(MANIFEST))["files"] == sorted(NEW)
    assert tree == NEW                                          # tables/hourly.csv of the first run is gone
    assert [p.name for p in tmp_path.iterdir()] == ["out"]      # no temporary folder left


def test_a_user_file_with_an_output_name_stops_the_run_and_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.json").write_text("my plan")                  # no manifest: gpuplan did not write it
    with pytest.raises(InputError, match="not written by gpuplan"):
        _write_run(out, NEW)
    assert _tree(out) == {"plan.json": "my plan"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failure_inside_the_block_leaves_old_outputs_and_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_run(out, OLD)
    before = _tree(out)
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "report.html").write_text("half")
        raise RuntimeError("solver crashed")
    assert _tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from scenarios import io as sio
    step, sig = sys.argv[2], getattr(signal, sys.argv[3])
    def hook(name):
        if name == step:
            os.kill(os.getpid(), sig)
    sio.STEP_HOOK = hook
    files = {"report.html": "new", "plan.json": "new", "tables/a.csv": "new"}
    from gpuplan.cli import _sigterm_raises
    with _sigterm_raises():
        with sio.atomic_dir(sys.argv[1]) as tmp:
            for i, (rel, text) in enumerate(files.items()):
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                (tmp / rel).write_text(text)
                if step == "between-files" and i == 0:
                    os.kill(os.getpid(), sig)
""")


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("step", ["between-files", "written", "linked", "swapped"])
def test_a_run_killed_at_any_step_never_mixes_outputs_or_loses_user_files(tmp_path: Path, step: str,
                                                                        sig: str) -> None:
    out = tmp_path / "out"
    _write_run(out, OLD)
    (out / "tables" / "my_notes.csv").write_text("mine")
    proc = subprocess.run([PY, "-c", KILL_SCRIPT, str(out), step, sig], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    tree = _tree(out)
    assert tree.pop("tables/my_notes.csv") == "mine"
    manifest = json.loads(tree.pop(MANIFEST))
    assert set(tree.values()) in ({"old"}, {"new"}), tree     # all old or all new, never a mix
    expected = NEW if set(tree.values()) == {"new"} else OLD
    assert tree == expected and manifest["files"] == sorted(expected)
    # the swap is the commit point: killed after it, the new outputs are in; before it, the old ones
    assert (set(tree.values()) == {"new"}) == (step == "swapped")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    if sig == "SIGTERM":
        assert leftovers == []                                   # the CLI's handler cleaned up
        assert "Traceback" not in proc.stderr or "Terminated" in proc.stderr
    # the next run removes what a SIGKILL left behind, and still keeps the user's file
    _write_run(out, NEW)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "tables" / "my_notes.csv").read_text() == "mine"


def test_failed_second_file_leaves_both_previous_files(tmp_path: Path) -> None:
    paths, fc = tmp_path / "paths.csv", tmp_path / "forecast.csv"
    paths.write_text("old paths\n")
    fc.write_text("old forecast\n")

    class Boom:
        def copy(self) -> Boom:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_frames({paths: pd.DataFrame({"a": [1]}), fc: Boom()})  # type: ignore[dict-item]
    assert paths.read_text() == "old paths\n" and fc.read_text() == "old forecast\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv", "paths.csv"]


def test_failed_forecast_write_keeps_previous_paths_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from gpuplan.cli import main

    monkeypatch.chdir(tmp_path)
    t = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame({"timestamp": t, "gpus": [5.0 + i % 3 for i in range(48)]}).to_csv("h.csv", index=False)
    Path("paths.csv").write_text("my earlier paths\n")
    Path("fc.csv").write_text("my earlier forecast\n")
    real = sio._write_to

    def failing(df: pd.DataFrame, tmp: Path, name: str) -> None:
        if name == "fc.csv":
            raise OSError(28, "No space left on device", name)
        real(df, tmp, name)

    monkeypatch.setattr(sio, "_write_to", failing)
    code = main(["forecast", "h.csv", "--horizon", "3", "--model", "naive", "--workers", "1", "--paths", "2",
                 "--paths-out", "paths.csv", "--out", "fc.csv"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1] == "gpuplan: error: fc.csv: No space left on device"
    assert Path("paths.csv").read_text() == "my earlier paths\n"
    assert Path("fc.csv").read_text() == "my earlier forecast\n"
    assert sorted(os.listdir(".")) == ["fc.csv", "h.csv", "paths.csv"]


def test_outputs_get_the_users_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "f.csv")
        _write_run(tmp_path / "out", {"x.txt": "1", "tables/y.csv": "2"})
        os.umask(0o027)
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "g.csv")
    finally:
        os.umask(old)
    mode = lambda p: oct(p.stat().st_mode & 0o777)  # noqa: E731
    assert mode(tmp_path / "f.csv") == "0o644"
    assert mode(tmp_path / "out") == "0o755"
    assert mode(tmp_path / "out" / "x.txt") == "0o644"
    assert mode(tmp_path / "out" / "tables") == "0o755"
    assert mode(tmp_path / "out" / "tables" / "y.csv") == "0o644"
    assert mode(tmp_path / "g.csv") == "0o640"


def test_csv_text_cells_never_run_as_formulas(tmp_path: Path) -> None:
    df = pd.DataFrame({"team": ["=HYPERLINK(\"http://x\")", "+cmd", "-2+3", "@SUM(A1)", "ok", "-5", "+1.5e3"],
                       "gpus": [1.0, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    df["as_category"] = df["team"].astype("category")
    write_frame(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert back["as_category"].tolist() == back["team"].tolist()
    assert back["team"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+cmd", "'-2+3", "'@SUM(A1)", "ok", "-5",
                                     "+1.5e3"]
    assert back["gpus"].tolist()[1] == "-2.0"                      # numbers are numbers


def test_broken_pipe_ends_quietly() -> None:
    proc = subprocess.Popen([PY, "-m", "gpuplan.cli", "scenario", "show", "small"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()   # the reader is gone before gpuplan writes (like `| head` after its lines)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=60)
    assert err == ""
    assert proc.returncode in (0, 141)


def test_progress_off_a_terminal_is_one_line_per_step(caplog: pytest.LogCaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scenarios.parallel.on_terminal", lambda: False)
    caplog.set_level(logging.INFO, logger="gpuplan.progress")
    SerialMapper(progress=True).map(abs, list(range(-500, 0)), desc="replications")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("replications: 500 of 500 done in")
    caplog.clear()
    SerialMapper(progress=True).map(abs, [-1, -2, -3], desc="scenarios")     # few long items: one each
    assert [r.getMessage().split(" done")[0] for r in caplog.records] == [
        "scenarios: 1 of 3", "scenarios: 2 of 3", "scenarios: 3 of 3"]
    assert isinstance(progress_bar(5, "x", True), LineProgress)


def test_compare_shows_its_progress_in_a_log(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import gpuplan.compare
    from gpuplan.cli import main

    monkeypatch.setattr("scenarios.parallel.on_terminal", lambda: False)
    monkeypatch.setattr(gpuplan.compare, "_key_figures", lambda item: {"expected_cost_usd": 1.0})
    assert main(["compare", "small", "small", "--workers", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "[gpuplan] comparing 2 scenarios (small, small): each runs forecast -> optimize -> " \
                     "simulate -> schedule"
    assert [e.split(" done")[0] for e in err[1:3]] == ["[gpuplan] scenarios: 1 of 2", "[gpuplan] scenarios: 2 of 2"]
    assert err[3].startswith("[gpuplan] compare done in")


def test_progress_on_a_terminal_draws_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from tqdm.auto import tqdm

    monkeypatch.setattr("scenarios.parallel.on_terminal", lambda: True)
    bar = progress_bar(5, "x", True)
    try:
        assert isinstance(bar, tqdm)
    finally:
        bar.close()


def test_pool_workers_ignore_ctrl_c() -> None:
    from gpuplan.executors import ProcessPoolMapper

    with ProcessPoolMapper(workers=2, progress=False) as m:
        handlers = m.map(signal.getsignal, [signal.SIGINT, signal.SIGINT])
    assert handlers == [signal.SIG_IGN, signal.SIG_IGN]


INTERRUPT_SCRIPT = textwrap.dedent("""
    import os, signal, time
    from gpuplan.executors import ProcessPoolMapper
    if __name__ == "__main__":
        m = ProcessPoolMapper(workers=2, progress=False)
        print(m.map(abs, [-1, -2, -3]))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.killpg(os.getpgid(0), signal.SIGINT)   # a notebook kernel's interrupt reaches the whole group
        time.sleep(1)
        print(m.map(abs, [-4, -5, -6]))
        # no close(), as in a notebook: the pool is shut down at exit
""")


def test_a_notebooks_pool_survives_an_interrupt_and_shuts_down_quietly(tmp_path: Path) -> None:
    script = tmp_path / "nb.py"
    script.write_text(INTERRUPT_SCRIPT)
    proc = subprocess.run([PY, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          start_new_session=True)
    assert proc.stderr == ""                    # no KeyboardInterrupt tracebacks from the workers
    assert proc.returncode == 0 and proc.stdout.splitlines() == ["[1, 2, 3]", "[4, 5, 6]"]


def test_quiet_dask_prints_nothing() -> None:
    pytest.importorskip("distributed")
    script = ("from gpuplan.executors import DaskMapper\n"
              "m = DaskMapper('local', workers=2, progress=False)\n"
              "assert m.map(abs, [-1, -2, 3]) == [1, 2, 3]\n"
              "m.close()\n")
    proc = subprocess.run([PY, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""


def test_library_warnings_are_summarised_in_words() -> None:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    from forecasting.base import captured_warnings

    sink: list[str] = []
    with captured_warnings(sink):
        warnings.warn("Maximum Likelihood optimization failed to converge. Check mle_retvals",
                      ConvergenceWarning, stacklevel=1)
    assert sink == ["the fit of the model's parameters stopped before it converged; the fitted values were used "
                    "as they were (statsmodels ConvergenceWarning)"]


CLI_TERM_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from scenarios import io as sio
    sio.STEP_HOOK = lambda step: os.kill(os.getpid(), signal.SIGTERM) if step == "linked" else None
    from gpuplan.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_sigterm_during_a_real_command_leaves_the_previous_outputs_and_no_temp(tmp_path: Path) -> None:
    t = pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame({"job_id": ["a", "b", "c"], "submit_time": t, "gpus": [8, 8, 8],
                  "duration_hours": [2.0, 1.0, 3.0]}).to_csv(tmp_path / "trace.csv", index=False)
    (tmp_path / "s.toml").write_text('extends = "small"\nname = "t"\n[workload]\ntrace = "trace.csv"\n')
    out = tmp_path / "sched"
    _write_run(out, {"schedule.csv": "old", "jobs.csv": "old"})
    (out / "mine.txt").write_text("mine")
    proc = subprocess.run([PY, "-c", CLI_TERM_SCRIPT, "-q", "optimize", "schedule", "s.toml", "--start",
                           "2026-01-01T00:00:00Z", "--out", "sched"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines() == ["gpuplan: terminated (SIGTERM); nothing half-written was left"]
    tree = _tree(out)
    tree.pop(MANIFEST)
    assert tree == {"schedule.csv": "old", "jobs.csv": "old", "mine.txt": "mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml", "sched", "trace.csv"]


def test_stale_temp_folders_are_removed_only_while_the_target_exists(tmp_path: Path) -> None:
    dead = 2 ** 22 + 12345                               # above Linux's default pid_max: never a live pid
    stale = tmp_path / f".out.gpuplan-tmp-{dead}-abc"
    stale.mkdir()
    (stale / "user.csv").write_text("mine")
    assert sio.remove_stale(tmp_path, "out") == []        # target missing: maybe the only copy, kept
    assert (stale / "user.csv").read_text() == "mine"
    (tmp_path / "out").mkdir()
    assert sio.remove_stale(tmp_path, "out") == [stale]
    assert not stale.exists()
