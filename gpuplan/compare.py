"""Compare scenarios side by side, and sweep a grid of variations of one scenario.

Each scenario (or grid point) runs the whole plan pipeline; the runs go through the executor, one
scenario per work item, so ``--dask`` spreads a sweep over a cluster.  Seeds come from the scenarios, so
the numbers do not depend on the executor.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pandas as pd

from scenarios.errors import InputError
from scenarios.loader import apply_overrides, effective_dict, parse_value, validate_dict
from scenarios.parallel import Mapper, SerialMapper
from scenarios.schema import Scenario


def _key_figures(item: tuple[Scenario, int | None]) -> dict[str, Any]:
    """Run one scenario's plan (in a worker) and return its key figures."""
    from gpuplan.pipeline import run_plan

    sc, replications = item
    return run_plan(sc, mapper=SerialMapper(False), progress=False, replications=replications,
                    analyses=False).key_figures()


def compare_scenarios(scenarios: Sequence[Scenario], *, mapper: Mapper | None = None,
                      replications: int | None = None) -> pd.DataFrame:
    """Key figures of each scenario's plan, one column per scenario (rows: figures)."""
    names = [sc.name for sc in scenarios]
    if len(set(names)) < len(names):
        names = [f"{n} ({i + 1})" for i, n in enumerate(names)]
    figs = (mapper or SerialMapper()).map(_key_figures, [(sc, replications) for sc in scenarios],
                                          desc="scenarios")
    table = pd.DataFrame({n: pd.Series(f) for n, f in zip(names, figs, strict=True)})
    return table.drop(index=["scenario"], errors="ignore").rename_axis("figure").reset_index()


def split_values(text: str) -> list[Any]:
    """Split ``V1,V2,...`` at top-level commas (brackets and quotes kept) and parse each as TOML."""
    parts, depth, cur, quote = [], 0, "", ""
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [parse_value(p.strip()) for p in parts if p.strip()]


def sweep_grid(sets: Sequence[str]) -> list[dict[str, Any]]:
    """The grid of ``--set KEY=V1,V2,...`` options: one overrides dict per combination."""
    axes: list[tuple[str, list[Any]]] = []
    for s in sets:
        key, sep, values = s.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise InputError(f"'{s}' is not KEY=V1,V2,...", column="--set",
                             fix="e.g. --set policies.carbon_price_usd_per_tonne=0,100,200")
        axes.append((key.strip(), split_values(values)))
    if not axes:
        raise InputError("nothing to sweep", column="--set", fix="give at least one --set KEY=V1,V2,...")
    keys = [k for k, _ in axes]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))]


def sweep(sc: Scenario, grid: Sequence[dict[str, Any]], *, mapper: Mapper | None = None,
          replications: int | None = None) -> pd.DataFrame:
    """Run the plan for every grid point; one row per point: the overrides, then the key figures.

    Every variation is validated before anything runs, so a bad value stops the sweep at once.
    """
    raw = effective_dict(sc)
    raw.pop("extends", None)
    variants = []
    for point in grid:
        v = validate_dict(apply_overrides(raw, point), source_dir=sc._source_dir, file=sc._source_file)
        variants.append(v.model_copy(update={"name": f"{sc.name}[{', '.join(f'{k}={val}' for k, val in point.items())}]"}))
    for v in variants:
        v._source_dir = sc._source_dir
    figs = (mapper or SerialMapper()).map(_key_figures, [(v, replications) for v in variants], desc="sweep")
    rows = [{**point, **fig} for point, fig in zip(grid, figs, strict=True)]
    return pd.DataFrame(rows)
