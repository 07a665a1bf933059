"""The four floors: scenarios imports no engine; engines import no other engine nor gpuplan."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "scenarios": {"forecasting", "simulator", "optimizer", "gpuplan"},
    "forecasting": {"simulator", "optimizer", "gpuplan"},
    "simulator": {"forecasting", "optimizer", "gpuplan"},
    "optimizer": {"forecasting", "simulator", "gpuplan"},
}


def _imported_top_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_floors(package: str) -> None:
    offenders = []
    for f in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_top_packages(f) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{f.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == [], offenders


def test_table_registry_parses_every_row() -> None:
    from scenarios.tables import columns, registry

    assert columns("history") == ["series_id", "timestamp", "gpus"]
    for table, cols in registry().items():
        for c in cols:
            assert c.dtype in {"string", "float64", "int64", "bool", "datetime64[ns, UTC]"}, (table, c.name, c.dtype)
