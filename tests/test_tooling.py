"""The checks `make test` relies on stay switched on: doctests of the product packages, strict mypy."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["scenarios", "forecasting", "simulator", "optimizer", "gpuplan"]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_pytest_runs_the_docstring_examples_of_every_product_package() -> None:
    opts = _pyproject()["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in opts["addopts"].split()
    assert set(PACKAGES) <= set(opts["testpaths"])


def test_mypy_requires_annotations_and_ignores_missing_types_only_for_untyped_libraries() -> None:
    cfg = _pyproject()["tool"]["mypy"]
    assert cfg["disallow_untyped_defs"] is True
    assert "ignore_missing_imports" not in cfg
    assert sorted(cfg["packages"]) == sorted(PACKAGES)
    ignored = [m for o in cfg.get("overrides", []) if o.get("ignore_missing_imports") for m in o["module"]]
    assert sorted(ignored) == ["pulp.*", "scipy.*", "statsmodels.*"]
