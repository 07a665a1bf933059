"""Bundled data and scenario files, and path resolution for scenario references."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scenarios.errors import InputError

#: Bundled data sets, by the name used as ``bundled:NAME`` in scenario files.
BUNDLED_DATA: dict[str, str] = {
    "helios_earth_vc": "data/helios_earth_vc_hourly.csv",
    "helios_earth_cluster": "data/helios_earth_cluster_hourly.csv",
    "aws_gpu_catalog": "data/aws_gpu_catalog.csv",
    "philly_runtimes": "data/philly_runtimes.csv.gz",
    "acme_cluster_summary": "data/acme_cluster_summary.csv",
    "azure_llm_conv": "data/azure_llm_conv.csv.gz",
}


def package_dir() -> Path:
    """Folder of the ``scenarios`` package."""
    return Path(str(resources.files("scenarios")))


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario files by name (``default``, ``small``, ...)."""
    return {p.stem: p for p in sorted(package_dir().glob("*.toml"))}


def resolve_path(path: str, base_dir: str | None = None) -> str:
    """Resolve ``bundled:NAME`` to the packaged file, or a relative path against ``base_dir``.

    Raises
    ------
    InputError
        When a ``bundled:`` name is unknown.
    """
    if path.startswith("bundled:"):
        name = path.split(":", 1)[1]
        if name not in BUNDLED_DATA:
            import difflib

            near = difflib.get_close_matches(name, list(BUNDLED_DATA), n=1)
            raise InputError(
                f"unknown bundled data set '{name}'",
                fix=f"did you mean 'bundled:{near[0]}'?" if near else f"one of {sorted(BUNDLED_DATA)}",
            )
        return str(package_dir() / BUNDLED_DATA[name])
    p = Path(path).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return str(p)
