"""What the notebook tests share: executing a notebook once per environment, on the small scenario."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHARED = ROOT.parent / "shared" / "data"
REAL_FILES = [SHARED / "carbon_intensity" / "ger_ci.csv", SHARED / "carbon_intensity" / "gb_ci.csv",
              SHARED / "electricity_prices" / "DE-LU_electricity_prices_2020.csv.gz"]
HAVE_REAL = all(f.is_file() for f in REAL_FILES)

#: Per-cell timeout [s]: generous, a guard against a hung kernel, not a speed target.
CELL_TIMEOUT_S = 300
REPLICATIONS = 3
SWEEP_GROWTH = 0.6

def _env(**extra: str) -> dict[str, str]:
    env = {
        "GPUPLAN_NOTEBOOK_SCENARIO": "small",
        "GPUPLAN_NOTEBOOK_PARALLEL": "0",
        "GPUPLAN_NOTEBOOK_PROGRESS": "0",
        "GPUPLAN_NOTEBOOK_REPLICATIONS": str(REPLICATIONS),
        "GPUPLAN_NOTEBOOK_GROWTH": str(SWEEP_GROWTH),
    }
    env.update(extra)
    return env


class Executed:
    """An executed notebook: its cells, the JSON of its summary cell, the wall time it took."""

    def __init__(self, nb: Any, seconds: float) -> None:
        self.nb = nb
        self.seconds = seconds

    def outputs(self) -> Iterator[dict[str, Any]]:
        for cell in self.nb.cells:
            if cell.cell_type == "code":
                yield from cell.outputs

    def summary(self) -> dict[str, Any]:
        cells = [c for c in self.nb.cells if "summary" in c.metadata.get("tags", [])]
        assert len(cells) == 1, "exactly one cell is tagged 'summary'"
        text = "".join(o["text"] for o in cells[0].outputs if o.get("output_type") == "stream" and o["name"] == "stdout")
        return json.loads(text)

    def markdown_outputs(self) -> list[str]:
        return [o["data"]["text/markdown"] for o in self.outputs() if "text/markdown" in o.get("data", {})]

    def images(self) -> int:
        return sum("image/png" in o.get("data", {}) for o in self.outputs())


_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], Executed] = {}


def execute(name: str, **extra: str) -> Executed:
    """Run ``notebooks/<name>`` once per environment (cached for the session) in its own folder."""
    env = _env(**extra)
    key = (name, tuple(sorted(env.items())))
    if key in _CACHE:
        return _CACHE[key]
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)   # the kernel inherits the environment it is started with
        t0 = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - t0
    print(f"{name}: executed in {seconds:.1f} s")
    run = Executed(nb, seconds)
    for out in run.outputs():
        assert out.get("output_type") != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
        if out.get("output_type") == "stream" and out["name"] == "stderr":
            assert "Warning" not in out["text"] and "Traceback" not in out["text"], f"{name}: stderr: {out['text']}"
    _CACHE[key] = run
    return run


def _small() -> Any:
    from scenarios.loader import load_scenario

    return load_scenario("small")


# -------------------------------------------------------------------------------------------------
# the committed files
# -------------------------------------------------------------------------------------------------
NAMES = ["01_procurement_planner.ipynb", "02_finops_commitments.ipynb", "03_sustainability_schedules.ipynb",
         "04_bring_your_own_data.ipynb", "05_backtest.ipynb", "06_monitor.ipynb", "07_inference_serving.ipynb"]

