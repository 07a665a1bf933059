"""Commitments over their full term: the obligation, the cost and the saving of each year of the term.

A 3-year reservation is a 26,280-hour contract, not a one-year cost.  :func:`term_costing` costs a plan
year by year until its last purchase expires, on demand paths that reach that far (a long-range forecast;
when the paths are shorter, the last year they cover is carried forward with the planned growth, and a
note says so), in the scenario's price paths:

- on-demand and spot prices change by ``on_demand_price_change_per_year`` / ``spot_price_change_per_year``
  each plan year (year ``y`` = 0, 1, 2 pays ``price x (1 + change)^y``, constant within the year);
- a reservation keeps its fixed hourly rate for its whole term;
- a savings-plan style commitment keeps its spend [USD/h] and its discount on whatever on-demand becomes:
  one committed dollar covers ``1 / (od_y (1 - d))`` GPU-hours, more as on-demand falls.

Each year is costed exactly on every hour of every path with :func:`optimizer.evaluate.evaluate`.  The
saving of one purchase in a year is what the plan would cost that year without it minus what it costs
with it (leave-one-out), so it credits a purchase with what it adds beside the others.

:func:`renewal_comparison` compares a 3-year term against three renewed 1-year terms over the same three
years for the same quantity: the GPU-hours served are the same, only the price paid differs.  A renewed
1-year reservation is priced at the 1-year rate times ``(1 + on-demand change)^y`` (reserved list prices
follow on-demand); a renewed 1-year commitment keeps its discount, so covering the same GPUs costs
``(1 - d_1y) / (1 - d_3y)`` times the 3-year spend in every year, whatever on-demand does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from optimizer.evaluate import evaluate
from optimizer.inputs import CapacityInputs
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase
from scenarios.schema import HOURS_PER_YEAR

YEAR_H = int(HOURS_PER_YEAR)


@dataclass(frozen=True)
class TermCosting:
    """A plan costed over the full terms of its purchases.

    Attributes
    ----------
    purchases
        One row per purchase and plan year it is held in: ``purchase, kind, family, term_years, payment,
        start_hour, year, gpus, gpus_per_instance, instances, usd_per_hour, hours, obligation_usd,
        expected_saving_usd`` [USD in that year].
    contracts
        One row per purchase: ``purchase, kind, family, term_years, payment, start_hour, gpus,
        gpus_per_instance, instances, usd_per_hour, term_hours, obligation_usd`` (the whole contract [USD]),
        ``obligation_usd_per_year`` and ``expected_saving_usd`` over the term.
    years
        One row per plan year: ``year, starts, obligation_usd, expected_cost_usd, p95_cost_usd,
        all_on_demand_usd, expected_saving_usd`` and, per reference plan, ``<name>_usd`` and
        ``saving_vs_<name>_usd`` [USD in that year].
    notes
        How demand and prices were extended, for the report.
    """

    purchases: pd.DataFrame
    contracts: pd.DataFrame
    years: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def total_obligation_usd(self) -> float:
        """Sum of every purchase's contract obligation [USD]."""
        return float(self.contracts["obligation_usd"].sum()) if len(self.contracts) else 0.0

    def as_dict(self) -> dict[str, object]:
        """JSON-able summary (for ``plan.json``)."""
        def rows(df: pd.DataFrame) -> list[dict[str, object]]:
            return [{str(k): (None if isinstance(v, float) and not math.isfinite(v) else
                              (str(v) if isinstance(v, pd.Timestamp) else v)) for k, v in r.items()}
                    for r in df.to_dict("records")]
        return {"total_obligation_usd": self.total_obligation_usd, "contracts": rows(self.contracts),
                "by_purchase_and_year": rows(self.purchases), "by_year": rows(self.years), "notes": self.notes}


def _end_hour(p: ReservedPurchase | CommitmentPurchase) -> int:
    return int(p.start_hour + p.term_years * YEAR_H)


def plan_years(plan: CapacityPlan) -> int:
    """Plan years until the plan's last purchase expires (at least 1)."""
    items: list[ReservedPurchase | CommitmentPurchase] = [*plan.reserved, *plan.committed]
    ends = [_end_hour(p) for p in items]
    return max(1, math.ceil(max(ends, default=YEAR_H) / YEAR_H))


def _tile(a: np.ndarray, n: int) -> np.ndarray:
    """Repeat the last axis of ``a`` to length ``n``."""
    reps = math.ceil(n / a.shape[-1])
    return np.concatenate([a] * reps, axis=-1)[..., :n]


def demand_for_years(demand: np.ndarray, years: int, growth_per_year: float) -> tuple[np.ndarray, list[str]]:
    """Demand paths (F, S, years x 8,760) from paths that may be shorter [GPUs].

    Hours the paths cover are kept.  A year they do not cover is the last year they cover (a horizon
    shorter than a year is repeated to a year) times ``(1 + growth_per_year)`` per year beyond it.
    """
    need = years * YEAR_H
    h = demand.shape[2]
    if h >= need:
        return demand[:, :, :need], []
    full = h // YEAR_H
    if full == 0:
        base = _tile(demand, YEAR_H)
        out = [base]
        first = 1
        note = (f"the forecast covers {h:,} h: it is repeated to a year and carried to year {years} with the "
                f"planned growth of {growth_per_year:+.1%} per year")
    else:
        out = [demand[:, :, y * YEAR_H:(y + 1) * YEAR_H] for y in range(full)]
        base = out[-1]
        first = full
        note = (f"the forecast covers {full} year(s); years {full + 1}-{years} repeat year {full} with the "
                f"planned growth of {growth_per_year:+.1%} per year")
    for y in range(first, years):
        out.append(base * (1.0 + growth_per_year) ** (y - first + 1))
    return np.concatenate(out, axis=2)[:, :, :need], [note]


def year_inputs(inputs: CapacityInputs, demand: np.ndarray, year: int) -> CapacityInputs:
    """Inputs of plan year ``year``: its demand, prices moved by the yearly changes, hours re-stamped."""
    f_n = len(inputs.families)
    odc = inputs.on_demand_change if inputs.on_demand_change is not None else np.zeros(f_n)
    spc = inputs.spot_change if inputs.spot_change is not None else np.zeros(f_n)
    od = inputs.on_demand * (1.0 + odc) ** year
    disc = inputs.commit_discount if inputs.commit_discount is not None else 1.0 - inputs.commit_rate / inputs.on_demand
    h = demand.shape[2]
    ts = inputs.timestamps[0] + pd.to_timedelta(np.arange(year * YEAR_H, year * YEAR_H + h), unit="h")
    return replace(
        inputs, demand=demand, timestamps=pd.DatetimeIndex(ts), on_demand=od,
        commit_rate=od[None, :] * (1.0 - disc),
        spot_price=_tile(inputs.spot_price, h) * ((1.0 + spc) ** year)[:, None],
        spot_available=_tile(inputs.spot_available, h),
    )


def _shift(plan: CapacityPlan, hours: int, drop: int | None = None) -> CapacityPlan:
    """The plan seen from ``hours`` later, optionally without purchase number ``drop``."""
    items = [*plan.reserved, *plan.committed]
    keep = [p for i, p in enumerate(items) if i != drop]
    return CapacityPlan(
        name=plan.name,
        reserved=tuple(replace(p, start_hour=p.start_hour - hours) for p in keep if isinstance(p, ReservedPurchase)),
        committed=tuple(replace(p, start_hour=p.start_hour - hours) for p in keep
                        if isinstance(p, CommitmentPurchase)),
    )


def _held_hours(p: ReservedPurchase | CommitmentPurchase, year: int) -> int:
    a, b = max(p.start_hour, year * YEAR_H), min(_end_hour(p), (year + 1) * YEAR_H)
    return max(0, b - a)


def term_costing(plan: CapacityPlan, inputs: CapacityInputs, demand: np.ndarray | None = None,
                 growth_per_year: float = 0.0, references: dict[str, CapacityPlan] | None = None,
                 ) -> TermCosting:
    """Cost ``plan`` in every plan year until its last purchase expires.

    Parameters
    ----------
    plan
        The purchases (``start_hour`` after the plan start; negative for holdings bought before it).
    inputs
        Prices, offers and the horizon's spot table; ``inputs.demand`` is used when ``demand`` is None.
    demand
        Demand paths from the plan start, shape (F, S, H) [GPUs], ideally reaching the end of the longest
        term (a long-range forecast); shorter paths are carried forward (see :func:`demand_for_years`).
    growth_per_year
        Growth used to carry the demand beyond the paths [fraction/year].
    references
        Other plans costed in the same years (e.g. ``current``), by name.

    Returns
    -------
    TermCosting
    """
    years = plan_years(plan)
    base = inputs.demand if demand is None else demand
    if base.shape[:2] != inputs.demand.shape[:2]:
        raise ValueError("demand must have the inputs' families and paths")
    dem, notes = demand_for_years(base, years, growth_per_year)
    if inputs.on_demand_change is not None and np.any(inputs.on_demand_change != 0):
        notes.append("on-demand prices change per year by " + ", ".join(
            f"{f} {c:+.1%}" for f, c in zip(inputs.families, inputs.on_demand_change, strict=True))
            + "; reservations keep their rate, commitments keep their discount")
    if inputs.spot_change is not None and np.any(inputs.spot_change != 0):
        notes.append("spot prices change per year by " + ", ".join(
            f"{f} {c:+.1%}" for f, c in zip(inputs.families, inputs.spot_change, strict=True)))
    items: list[ReservedPurchase | CommitmentPurchase] = [*plan.reserved, *plan.committed]
    empty = CapacityPlan(name="all-on-demand")
    refs = references or {}
    year_rows, buy_rows = [], []
    saving_sum = np.zeros(len(items))
    for y in range(years):
        inp = year_inputs(inputs, dem[:, :, y * YEAR_H:(y + 1) * YEAR_H], y)
        cost = evaluate(_shift(plan, y * YEAR_H), inp).total_usd
        od = evaluate(empty, inp).total_usd
        row: dict[str, object] = {
            "year": y + 1, "starts": inputs.timestamps[0] + pd.Timedelta(hours=y * YEAR_H),
            "obligation_usd": sum(_obligation(p, _held_hours(p, y)) for p in items),
            "expected_cost_usd": float(cost.mean()), "p95_cost_usd": float(np.quantile(cost, 0.95)),
            "all_on_demand_usd": float(od.mean()), "expected_saving_usd": float(od.mean() - cost.mean()),
        }
        for name, ref in refs.items():
            rc = float(evaluate(_shift(ref, y * YEAR_H), inp).total_usd.mean())
            row[f"{name}_usd"] = rc
            row[f"saving_vs_{name}_usd"] = rc - float(cost.mean())
        year_rows.append(row)
        for i, p in enumerate(items):
            held = _held_hours(p, y)
            if held == 0:
                continue
            without = evaluate(_shift(plan, y * YEAR_H, drop=i), inp).total_usd
            saving = float(without.mean() - cost.mean())
            saving_sum[i] += saving
            buy_rows.append({**_describe(i, p, inputs), "year": y + 1, "hours": held,
                             "obligation_usd": _obligation(p, held), "expected_saving_usd": saving})
    contracts = []
    for i, p in enumerate(items):
        hours = int(p.term_years * YEAR_H)
        ob = _obligation(p, hours)
        contracts.append({**_describe(i, p, inputs), "term_hours": hours, "obligation_usd": ob,
                          "obligation_usd_per_year": ob / p.term_years, "expected_saving_usd": float(saving_sum[i])})
    return TermCosting(purchases=pd.DataFrame(buy_rows), contracts=pd.DataFrame(contracts),
                       years=pd.DataFrame(year_rows), notes=notes)


def _obligation(p: ReservedPurchase | CommitmentPurchase, hours: int) -> float:
    """What the contract obliges the buyer to pay for ``hours`` of it [USD]."""
    if isinstance(p, ReservedPurchase):
        return float(p.gpus) * float(p.usd_per_gpu_hour) * hours
    return float(p.usd_per_hour) * hours


def _describe(i: int, p: ReservedPurchase | CommitmentPurchase, inputs: CapacityInputs) -> dict[str, object]:
    if isinstance(p, ReservedPurchase):
        f = inputs.families.index(p.family) if p.family in inputs.families else -1
        size = inputs.instance_size(f) if f >= 0 else None
        return {"purchase": i + 1, "kind": "reserved", "family": p.family, "term_years": p.term_years,
                "payment": p.payment, "start_hour": p.start_hour, "gpus": float(p.gpus),
                "gpus_per_instance": size if size else math.nan,
                "instances": float(p.gpus) / size if size else math.nan,
                "usd_per_hour": float(p.gpus) * float(p.usd_per_gpu_hour)}
    return {"purchase": i + 1, "kind": "committed", "family": "", "term_years": p.term_years,
            "payment": "no_upfront", "start_hour": p.start_hour, "gpus": math.nan, "gpus_per_instance": math.nan,
            "instances": math.nan, "usd_per_hour": float(p.usd_per_hour)}


def renewal_comparison(plan: CapacityPlan, inputs: CapacityInputs, years: int = 3) -> pd.DataFrame:
    """Each 3-year purchase of ``plan`` against renewing a 1-year term ``years`` times, same quantity.

    Returns
    -------
    pandas.DataFrame
        ``kind, family, quantity, unit, three_year_usd, renewed_one_year_usd, three_year_saving_usd`` and the
        yearly ``renewed_year<k>_usd`` [USD over the same ``years`` years]; empty when no 3-year purchase has
        a 1-year alternative.
    """
    rows = []
    f_n = len(inputs.families)
    odc = inputs.on_demand_change if inputs.on_demand_change is not None else np.zeros(f_n)
    for p in plan.reserved:
        if p.term_years != 3 or p.family not in inputs.families:
            continue
        f = inputs.families.index(p.family)
        one = [o.usd_per_gpu_hour for o in inputs.reserved if o.family == p.family and o.term_years == 1]
        if not one:
            continue
        r1 = min(one)
        yearly = [float(p.gpus) * r1 * (1.0 + float(odc[f])) ** y * YEAR_H for y in range(years)]
        three = float(p.gpus) * float(p.usd_per_gpu_hour) * years * YEAR_H
        rows.append({"kind": "reserved", "family": p.family, "quantity": float(p.gpus), "unit": "GPUs",
                     "three_year_usd": three, "renewed_one_year_usd": sum(yearly),
                     "three_year_saving_usd": sum(yearly) - three,
                     **{f"renewed_year{y + 1}_usd": v for y, v in enumerate(yearly)}})
    if 1 in inputs.terms and 3 in inputs.terms:
        rate = inputs.mean_commit_rate()
        ratio = float(rate[inputs.terms.index(1)] / rate[inputs.terms.index(3)])
        for c in plan.committed:
            if c.term_years != 3:
                continue
            yearly = [float(c.usd_per_hour) * ratio * YEAR_H for _ in range(years)]
            three = float(c.usd_per_hour) * years * YEAR_H
            rows.append({"kind": "committed", "family": "", "quantity": float(c.usd_per_hour), "unit": "USD/h",
                         "three_year_usd": three, "renewed_one_year_usd": sum(yearly),
                         "three_year_saving_usd": sum(yearly) - three,
                         **{f"renewed_year{y + 1}_usd": v for y, v in enumerate(yearly)}})
    return pd.DataFrame(rows)


#: Hours in a calendar quarter (a quarter of 8,760 h).
QUARTER_H = YEAR_H // 4


def purchase_calendar(plan: CapacityPlan, inputs: CapacityInputs, held: CapacityPlan | None = None,
                      ) -> pd.DataFrame:
    """When to buy and what expires, quarter by quarter from the plan start.

    Parameters
    ----------
    plan
        The recommendation (a laddered plan buys in later quarters).
    inputs
        Families, GPUs per instance and the plan start.
    held
        Holdings (``start_hour`` negative when bought before the plan; see
        :func:`scenarios.plan.current_plan`); their expiries are listed so none passes silently.

    Returns
    -------
    pandas.DataFrame
        One row per event, in time order: ``quarter`` (1 = the plan's first 2,190 h), ``quarter_starts``,
        ``hour``, ``date``, ``action`` (``buy``, ``holding expires``, ``purchase expires``), ``kind``,
        ``family``, ``term_years``, ``payment``, ``instances``, ``gpus``, ``usd_per_hour`` and
        ``obligation_usd`` (the whole contract, for purchases) [USD].
    """
    t0 = inputs.timestamps[0]
    rows = []

    def add(hour: int, action: str, i: int, p: ReservedPurchase | CommitmentPurchase, obligation: float) -> None:
        d = _describe(i, p, inputs)
        q = hour // QUARTER_H
        rows.append({"quarter": q + 1, "quarter_starts": t0 + pd.Timedelta(hours=q * QUARTER_H), "hour": hour,
                     "date": t0 + pd.Timedelta(hours=hour), "action": action, "kind": d["kind"],
                     "family": d["family"], "term_years": d["term_years"], "payment": d["payment"],
                     "instances": d["instances"], "gpus": d["gpus"], "usd_per_hour": d["usd_per_hour"],
                     "obligation_usd": obligation})

    items: list[ReservedPurchase | CommitmentPurchase] = [*plan.reserved, *plan.committed]
    for i, p in enumerate(items):
        add(max(0, p.start_hour), "buy", i, p, _obligation(p, int(p.term_years * YEAR_H)))
        add(_end_hour(p), "purchase expires", i, p, math.nan)
    if held is not None:
        hitems: list[ReservedPurchase | CommitmentPurchase] = [*held.reserved, *held.committed]
        for i, p in enumerate(hitems):
            if _end_hour(p) > 0:
                add(_end_hour(p), "holding expires", i, p, math.nan)
    cols = ["quarter", "quarter_starts", "hour", "date", "action", "kind", "family", "term_years", "payment",
            "instances", "gpus", "usd_per_hour", "obligation_usd"]
    order = {"holding expires": 0, "purchase expires": 1, "buy": 2}
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    df["_o"] = df["action"].map(order)
    return df.sort_values(["hour", "_o", "kind", "family"], kind="stable").drop(columns="_o").reset_index(drop=True)
