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
from scenarios.schema import HOURS_PER_YEAR, Scenario


def _key_figures(item: tuple[Scenario, int | None]) -> dict[str, Any]:
    """Run one scenario's plan (in a worker) and return its key figures."""
    from gpuplan.pipeline import run_plan

    sc, replications = item
    return run_plan(sc, mapper=SerialMapper(False), progress=False, replications=replications,
                    analyses=False).key_figures()


#: Figures that add up over hours and so can be put per year [USD or kg CO2e over the horizon].
ADDITIVE_FIGURES = ("expected_cost_usd", "all_on_demand_cost_usd", "current_cost_usd", "trailing_30d_cost_usd",
                    "kg_co2e")
#: Figures that cannot be put per year, with the reason.
NOT_PER_YEAR = {"p95_cost_usd": "the 95th percentile of a total does not scale with the length of the period"}


def normalise_horizons(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Put scenarios of different horizons on a per-year footing, or say why a figure cannot be.

    When the scenarios' ``horizon_hours`` differ, each additive figure (:data:`ADDITIVE_FIGURES`) gets a
    ``<figure>_per_year`` row: its value x 8,760 / horizon hours.  Shares, percentages, GPUs and USD/h are
    rates already and stay as they are; :data:`NOT_PER_YEAR` figures stay per horizon and are named in the
    notes.  Equal horizons leave the table unchanged.

    Parameters
    ----------
    table
        ``figure`` column plus one column per scenario (:func:`compare_scenarios`).

    Returns
    -------
    tuple
        ``(table, notes)``.
    """
    rows = table.set_index("figure")
    if "horizon_hours" not in rows.index:
        return table, []
    hours = pd.Series(rows.loc["horizon_hours"], dtype=float)
    if hours.nunique() <= 1:
        return table, []
    factor = HOURS_PER_YEAR / hours
    extra = []
    for fig in ADDITIVE_FIGURES:
        if fig in rows.index:
            vals = pd.Series(rows.loc[fig], dtype=float) * factor
            extra.append(vals.rename(f"{fig}_per_year"))
    out = pd.concat([rows, pd.DataFrame(extra)]) if extra else rows
    span = ", ".join(f"{c} {int(h):,} h" for c, h in hours.items())
    notes = [f"The scenarios plan different horizons ({span}): compare the *_per_year rows, which scale each "
             "total by 8,760 / horizon hours. For a horizon shorter than a year that is a straight extrapolation: "
             "it ignores seasons and growth beyond the horizon."]
    notes += [f"{fig} is per horizon and cannot be put per year: {why}." for fig, why in NOT_PER_YEAR.items()
              if fig in rows.index]
    return out.rename_axis("figure").reset_index(), notes


def compare_scenarios(scenarios: Sequence[Scenario], *, mapper: Mapper | None = None,
                      replications: int | None = None) -> pd.DataFrame:
    """Key figures of each scenario's plan, one column per scenario (rows: figures).

    Scenarios of different horizons get per-year rows (:func:`normalise_horizons`); the notes saying so are
    in ``table.attrs["notes"]``.
    """
    names = [sc.name for sc in scenarios]
    if len(set(names)) < len(names):
        names = [f"{n} ({i + 1})" for i, n in enumerate(names)]
    figs = (mapper or SerialMapper()).map(_key_figures, [(sc, replications) for sc in scenarios],
                                          desc="scenarios")
    table = pd.DataFrame({n: pd.Series(f) for n, f in zip(names, figs, strict=True)})
    table = table.drop(index=["scenario"], errors="ignore").rename_axis("figure").reset_index()
    table, notes = normalise_horizons(table)
    table.attrs["notes"] = notes
    return table


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
