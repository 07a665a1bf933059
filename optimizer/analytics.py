"""Pure analytics on offers and plans, for the recommendation and the negotiation pack.

- :func:`cvar` of a cost sample; :func:`break_even_table` (the utilization at which each offer pays);
- :func:`newsvendor` - the optimal single commitment on known hourly demand, in closed form;
- :func:`min_three_year_discount` - the smallest 3-year discount that beats renewing 1-year terms;
- :func:`overcommit_cost` - what a plan costs if demand falls by 10, 25, 50 %;
- :func:`sensitivity_table` - savings over a grid of discount x growth;
- :func:`cost_curve` - expected cost against the amount committed, the recommendation marked.

All take arrays or :class:`~optimizer.inputs.CapacityInputs` and return numbers or tidy frames; those that
re-optimise take a ``solver`` and a ``mapper``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from optimizer.baselines import SolverConfig, solve_plan
from optimizer.capacity import CapacitySettings, with_settings
from optimizer.evaluate import PairEvaluator, evaluate
from optimizer.inputs import TERM_KEYS, CapacityInputs
from scenarios.errors import InputError
from scenarios.parallel import Mapper, SerialMapper
from scenarios.plan import CapacityPlan, CommitmentPurchase, ReservedPurchase, all_on_demand
from scenarios.schema import HOURS_PER_YEAR, Scenario

#: Demand drops for the over-commitment table [fraction].
DEFAULT_DROPS = (0.10, 0.25, 0.50)


def cvar(costs: np.ndarray, alpha: float) -> float:
    """Conditional value at risk: mean of the worst ``1 - alpha`` share of equally likely costs [same unit].

    Uses the Rockafellar-Uryasev form ``VaR + E[(C - VaR)+] / (1 - alpha)`` with VaR the ``alpha``
    quantile (inverted CDF), which handles a tail share that is not a whole number of samples.

    Examples
    --------
    >>> cvar(np.array([1.0, 2.0, 3.0, 4.0]), 0.5)
    3.5
    """
    c = np.asarray(costs, dtype=float)
    var = float(np.quantile(c, alpha, method="inverted_cdf"))
    return var + float(np.mean(np.maximum(c - var, 0.0))) / (1.0 - alpha)


def break_even_table(scenario: Scenario, families: Sequence[str] | None = None) -> pd.DataFrame:
    """Break-even utilization of every reserved and committed offer.

    A reserved GPU at rate ``r`` pays off against on-demand ``od`` when used more than ``r / od`` of the
    hours; a commitment with discount ``d`` when more than ``1 - d`` of the committed dollars find usage.
    Against spot (for the preemptible share of demand) the break-even is ``r / spot cost``; above 1 means
    the offer never beats spot for work that may run there.

    Parameters
    ----------
    scenario
        The catalog.
    families
        Families to include (default: all).

    Returns
    -------
    pandas.DataFrame
        ``family, product, term_years, payment, usd_per_gpu_hour, on_demand_usd_per_gpu_hour, discount,
        break_even_utilization, spot_usd_per_gpu_hour, break_even_vs_spot``.
    """
    rows = []
    for fam in families or scenario.families:
        g = scenario.catalog[fam]
        od = g.on_demand_usd_per_gpu_hour
        spot = g.spot.usd_per_gpu_hour if g.spot is not None and g.spot.usd_per_gpu_hour is not None else math.nan
        offers: list[tuple[str, int, str, float]] = [
            ("reserved", o.term_years, o.payment, o.usd_per_gpu_hour) for o in g.reserved]
        offers += [("committed", TERM_KEYS[t], "no_upfront", od * (1.0 - d)) for t, d in g.committed_discount.items()]
        for product, term, payment, rate in offers:
            rows.append({
                "family": fam, "product": product, "term_years": int(term), "payment": payment,
                "usd_per_gpu_hour": rate, "on_demand_usd_per_gpu_hour": od, "discount": 1.0 - rate / od,
                "break_even_utilization": rate / od, "spot_usd_per_gpu_hour": spot,
                "break_even_vs_spot": rate / spot if spot == spot else math.nan,
            })
    return pd.DataFrame(rows)


def newsvendor(demand: np.ndarray, on_demand: float, discount: float) -> tuple[float, float]:
    """Optimal commitment level on known hourly demand, one offer, no spot: the newsvendor.

    Cost of ``x`` GPUs committed: ``sum_t od (1 - d) x + od (D_t - x)+``.  Its slope in ``x`` is
    ``od ((1 - d) n - #{D_t > x})``, so the optimum is the smallest ``x`` with ``#{D_t <= x} >= d n``: the
    ``d``-quantile of hourly demand with the inverted-CDF convention (``np.quantile(..., method=
    "inverted_cdf")``, the ``ceil(d n)``-th smallest value).  When ``d n`` is a whole number, every level
    between that order statistic and the next is optimal; this returns the lowest.

    Parameters
    ----------
    demand
        Hourly demand, any shape (all hours equally weighted) [GPUs].
    on_demand
        On-demand price [USD/GPU-hour].
    discount
        Discount of the commitment off on-demand [fraction].

    Returns
    -------
    tuple
        ``(level [GPUs], cost [USD])``.
    """
    d = np.sort(np.asarray(demand, dtype=float).ravel())
    x = float(np.quantile(d, discount, method="inverted_cdf")) if discount > 0 else 0.0
    x = max(x, 0.0)
    cost = on_demand * (1.0 - discount) * x * d.size + on_demand * float(np.maximum(d - x, 0.0).sum())
    return x, cost


def committed_level(demand: np.ndarray, commit_rate: np.ndarray | float, on_demand: np.ndarray | float
                    ) -> tuple[float, float]:
    """Optimal single commitment level when rates move over the hours: a price-weighted newsvendor.

    Cost of ``x`` GPUs committed: ``sum_t a_t x + p_t (D_t - x)+`` with ``a_t`` the commitment's rate and
    ``p_t`` the on-demand price in hour ``t`` (both may carry a present-value factor).  The cost is convex
    and piecewise linear in ``x`` with slope ``sum_t a_t - sum_{D_t > x} p_t``; the optimum is the lowest
    demand value at which that slope is no longer negative (0 when committing never pays).

    Parameters
    ----------
    demand
        Hourly demand, 1-D, equally likely hours pooled over paths [GPUs].
    commit_rate
        Commitment rate per GPU-hour in each hour (or one value) [USD/GPU-hour].
    on_demand
        On-demand price in each hour (or one value) [USD/GPU-hour].

    Returns
    -------
    tuple
        ``(level [GPUs], cost [USD] summed over the hours given)``.

    Examples
    --------
    >>> committed_level(np.array([1.0, 2.0, 3.0, 4.0]), 0.5, 1.0)
    (2.0, 7.0)
    """
    d = np.asarray(demand, dtype=float).ravel()
    a = np.broadcast_to(np.asarray(commit_rate, dtype=float), d.shape)
    p = np.broadcast_to(np.asarray(on_demand, dtype=float), d.shape)
    total_a = float(a.sum())
    x = 0.0
    if total_a < float(p[d > 0].sum()):
        order = np.argsort(d, kind="stable")
        ds, csum = d[order], np.cumsum(p[order])
        above = csum[-1] - csum[np.searchsorted(ds, ds, side="right") - 1]  # on-demand weight with D > ds[i]
        x = max(float(ds[int(np.flatnonzero(above <= total_a)[0])]), 0.0)
    cost = total_a * x + float((p * np.maximum(d - x, 0.0)).sum())
    return x, cost


def price_path(change_per_year: float, years: np.ndarray) -> np.ndarray:
    """Compounded price factor ``(1 + c)^t`` at times ``t`` [years] for a yearly change ``c`` [fraction]."""
    return np.power(1.0 + float(change_per_year), np.asarray(years, dtype=float))


def smallest_discount(cost_at: Callable[[float], float], target: float, lo: float, hi: float,
                      tol: float) -> float:
    """Smallest discount in ``[lo, hi]`` at which ``cost_at(discount) <= target``, by bisection [fraction].

    ``cost_at`` must not rise as the discount rises.  Returns ``lo`` when the target is met there already and
    NaN when it is not met even at ``hi``; otherwise the answer is within ``tol`` above the exact root.
    """
    if cost_at(lo) <= target:
        return lo
    if cost_at(hi) > target:
        return math.nan
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if cost_at(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


def min_three_year_discount(
    inputs: CapacityInputs,
    growth_per_year: float = 0.0,
    one_year_discount: dict[str, float] | None = None,
    offered: dict[str, float] | None = None,
    tol: float = 1e-10,
    price_change_per_year: dict[str, float] | None = None,
    discount_rate_per_year: float = 0.0,
    instrument: str = "reservation",
) -> pd.DataFrame:
    """Smallest 3-year discount at which one 3-year term beats three renewed 1-year terms.

    Demand of year ``y`` (0, 1, 2) is the forecast's hours scaled by ``(1 + growth)^y``; hour ``h`` of the
    ``H`` forecast hours stands for time ``y + h / H`` years (the forecast is spread over each year).  On-demand moves as
    ``od (1 + c)^t`` (``c``: ``price_change_per_year``).  Renewing re-sizes the commitment each year to that
    year's demand (its optimal level, :func:`committed_level`); the 3-year term fixes one level for all three
    years.  The instrument's own rule sets its rate:

    - ``"reservation"``: the rate is fixed when bought - the 3-year term at ``od (1 - d3)`` for three years,
      each 1-year renewal at ``od (1 + c)^y (1 - d1)`` for its year;
    - ``"savings_plan"``: the discount applies to whatever on-demand becomes, ``od (1 + c)^t (1 - d)``.

    Costs are present values at ``discount_rate_per_year`` (``(1 + r)^-t``), expected over the paths
    (pooled hours summed, divided by the number of paths), spot left aside.  The 3-year cost falls as its
    discount rises; the break-even discount is found by bisection.

    With constant, fully committed demand the root has a closed form:
    ``1 - d3 = (1 - d1) sum_y (1 + c)^y v_y / sum_y v_y`` for reservations, ``v_y = (1 + r)^-y``.

    Parameters
    ----------
    inputs
        Forecast demand (one year or less of hours, pooled over paths).
    growth_per_year
        Demand growth per year [fraction]; negative for a decline.
    one_year_discount
        1-year discount per family [fraction]; default: the family's best 1-year offer of the instrument
        (its reservations, or its committed-spend discount), else of either.
    offered
        3-year discount on the table per family, to compare [fraction]; default the best 3-year offer, chosen
        the same way.
    tol
        Bisection tolerance on the discount [fraction].
    price_change_per_year
        Expected on-demand price change per family [fraction/year]; default 0.
    discount_rate_per_year
        Cost of capital for present values [fraction/year]; 0 sums undiscounted dollars.
    instrument
        ``"reservation"`` or ``"savings_plan"`` (see above).

    Returns
    -------
    pandas.DataFrame
        ``family, instrument, growth_per_year, on_demand_price_change_per_year, one_year_discount,
        min_three_year_discount, offered_three_year_discount, three_year_beats_renewal, renewal_cost_usd,
        three_year_cost_usd_at_offer`` (costs: expected over the three years, present value [USD]).
    """
    if instrument not in ("reservation", "savings_plan"):
        raise InputError(f"unknown instrument '{instrument}'", column="instrument",
                         fix="use 'reservation' or 'savings_plan'")
    n_paths = max(inputs.n_paths, 1)
    within = np.arange(inputs.n_hours) / inputs.n_hours  # the forecast's hours spread over each year [years]
    rows = []
    for f, fam in enumerate(inputs.families):
        od = float(inputs.on_demand[f])
        c = float((price_change_per_year or {}).get(fam, 0.0))
        d1 = (one_year_discount or {}).get(fam, _best_discount(inputs, f, 1, instrument))
        d3_off = (offered or {}).get(fam, _best_discount(inputs, f, 3, instrument))
        if d1 is None or not np.isfinite(d1):
            continue
        base = inputs.demand[f]  # (S, H)
        years = [np.broadcast_to(y + within, base.shape).ravel() for y in range(3)]
        demand = [(base * (1.0 + growth_per_year) ** y).ravel() for y in range(3)]
        pv = [np.power(1.0 + discount_rate_per_year, -t) for t in years]
        od_t = [od * price_path(c, t) for t in years]
        if instrument == "reservation":
            rate1 = [od * (1.0 + c) ** y * (1.0 - d1) * np.ones_like(t) for y, t in enumerate(years)]
        else:
            rate1 = [o * (1.0 - d1) for o in od_t]
        renewal = sum(committed_level(demand[y], rate1[y] * pv[y], od_t[y] * pv[y])[1] for y in range(3)) / n_paths
        all_d = np.concatenate(demand)
        all_pv = np.concatenate(pv)
        all_od = np.concatenate(od_t) * all_pv
        base_rate = (od * all_pv if instrument == "reservation" else all_od)

        def three(d3: float, all_d: np.ndarray = all_d, all_od: np.ndarray = all_od,
                  base_rate: np.ndarray = base_rate) -> float:
            return committed_level(all_d, base_rate * (1.0 - d3), all_od)[1] / n_paths

        d_min = smallest_discount(three, renewal, 0.0, 1.0 - 1e-12, tol)
        rows.append({
            "family": fam, "instrument": instrument, "growth_per_year": growth_per_year,
            "on_demand_price_change_per_year": c, "one_year_discount": d1,
            "min_three_year_discount": d_min,
            "offered_three_year_discount": d3_off if d3_off is not None else math.nan,
            "three_year_beats_renewal": bool(d3_off is not None and d3_off >= d_min),
            "renewal_cost_usd": renewal,
            "three_year_cost_usd_at_offer": three(d3_off) if d3_off is not None else math.nan,
        })
    return pd.DataFrame(rows)


def _best_discount(inputs: CapacityInputs, f: int, term: int, kind: str | None = None) -> float | None:
    """Best discount off on-demand of family ``f``'s ``term``-year offers: reservations, committed spend, or
    both (``kind`` None); an instrument without its own offer falls back to both."""
    od = float(inputs.on_demand[f])
    res = [1.0 - o.usd_per_gpu_hour / od for o in inputs.reserved if o.family_index == f and o.term_years == term]
    com = []
    if term in inputs.terms:
        r = inputs.commit_rate[inputs.terms.index(term), f]
        if np.isfinite(r):
            com.append(1.0 - r / od)
    own = {"reservation": res, "savings_plan": com}.get(kind or "", [])
    ds = own or res + com
    return max(ds) if ds else None


def _summary_row(inputs: CapacityInputs, plan: CapacityPlan) -> dict[str, float]:
    ev = evaluate(plan, inputs)
    od = evaluate(all_on_demand(), inputs)
    cap = float(ev.committed_capacity_usd.sum() + ev.reserved_usd[0])
    idle = float(ev.idle_usd.mean())
    return {
        "expected_cost_usd": float(ev.total_usd.mean()),
        "all_on_demand_usd": float(od.total_usd.mean()),
        "savings_usd": float(od.total_usd.mean() - ev.total_usd.mean()),
        "savings_pct": float(1.0 - ev.total_usd.mean() / od.total_usd.mean()) if od.total_usd.mean() > 0 else 0.0,
        "idle_commitment_usd": idle,
        "commitment_utilization": float(1.0 - idle / cap) if cap > 0 else math.nan,
    }


def _reopt_item(item: tuple[CapacityInputs, CapacitySettings, SolverConfig]) -> CapacityPlan:
    inputs, settings, solver = item
    plan, res = solve_plan(inputs, settings, solver, name="reoptimised")
    if not res.ok:
        raise InputError(f"re-optimisation did not solve ({res.termination})")
    return plan


def overcommit_cost(
    plan: CapacityPlan,
    inputs: CapacityInputs,
    drops: Sequence[float] = DEFAULT_DROPS,
    settings: CapacitySettings | None = None,
    solver: SolverConfig | None = None,
    mapper: Mapper | None = None,
    reoptimize: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """What ``plan`` costs if demand turns out ``drop`` lower than forecast (every path, every hour).

    Parameters
    ----------
    plan
        The purchases (kept fixed).
    inputs
        Forecast demand and prices.
    drops
        Relative demand falls [fraction].
    settings, solver, mapper
        For the re-optimised plan at each lower demand (the regret reference).
    reoptimize
        Also solve for the best plan at the lower demand (``regret_usd`` = plan - best).
    progress
        Progress bar for the default serial mapper.

    Returns
    -------
    pandas.DataFrame
        ``demand_drop, expected_cost_usd, all_on_demand_usd, savings_usd, savings_pct, idle_commitment_usd,
        commitment_utilization, best_plan_cost_usd, regret_usd``.
    """
    mapper = mapper or SerialMapper(progress)
    rows = []
    items = []
    for drop in drops:
        scaled = inputs.with_demand(inputs.demand * (1.0 - drop), inputs.sample_ids)
        row = {"demand_drop": float(drop), **_summary_row(scaled, plan)}
        rows.append(row)
        items.append((scaled, with_settings(settings, risk_weight=0.0, per_path=False),
                      solver or SolverConfig()))
    if reoptimize:
        best = mapper.map(_reopt_item, items, desc="over-commitment")
        for row, it, bp in zip(rows, items, best, strict=True):
            row["best_plan_cost_usd"] = float(evaluate(bp, it[0]).total_usd.mean())
            row["regret_usd"] = row["expected_cost_usd"] - row["best_plan_cost_usd"]
    return pd.DataFrame(rows)


def _growth(inputs: CapacityInputs, g: float, planned: float = 0.0) -> CapacityInputs:
    """Demand re-grown from ``planned`` to ``g`` per year: scaled by ``((1 + g) / (1 + planned))^(t / 8760)``."""
    t = np.arange(inputs.n_hours) / HOURS_PER_YEAR
    factor = ((1.0 + g) / (1.0 + planned)) ** t
    return inputs.with_demand(inputs.demand * factor[None, None, :], inputs.sample_ids)


def offer_keys(plan: CapacityPlan) -> list[str]:
    """Keys of a plan's offers: ``reserved_<family>_<term>y_<payment>`` and ``committed_<term>y``."""
    keys = [f"reserved_{p.family}_{p.term_years}y_{p.payment}" for p in plan.reserved]
    keys += [f"committed_{c.term_years}y" for c in plan.committed]
    return list(dict.fromkeys(keys))


def committed_discount(inputs: CapacityInputs, term: int) -> float:
    """Demand-weighted discount off on-demand of the ``term``-year commitment across its families [fraction].

    The same weighting as the break-even table: ``1 - sum(w rate) / sum(w od)`` over the families it covers.
    """
    if term not in inputs.terms:
        raise InputError(f"no {term}-year commitment in the scenario", column="offer")
    k = inputs.terms.index(term)
    ok = np.isfinite(inputs.commit_rate[k])
    w = np.where(ok, inputs.demand.mean(axis=(1, 2)), 0.0)
    if w.sum() <= 0:
        w = ok.astype(float)
    paid = float((w * np.where(ok, inputs.commit_rate[k], 0.0)).sum())
    return 1.0 - paid / float((w * inputs.on_demand).sum())


def with_offer_discount(plan: CapacityPlan, inputs: CapacityInputs, key: str,
                   discount: float) -> tuple[CapacityPlan, CapacityInputs]:
    """Re-price one offer at ``discount`` off on-demand (the plan's quantities unchanged).

    A commitment covers several families at their own discounts: each is shifted by the same amount, so that
    the demand-weighted discount (:func:`committed_discount`) becomes ``discount`` and today's value leaves
    every rate as it is.
    """
    if key.startswith("committed_"):
        term = int(key.split("_")[1].rstrip("y"))
        shift = discount - committed_discount(inputs, term)
        rate = inputs.commit_rate.copy()
        k = inputs.terms.index(term)
        own = 1.0 - rate[k] / inputs.on_demand
        rate[k] = np.where(np.isfinite(rate[k]), inputs.on_demand * (1.0 - np.clip(own + shift, 0.0, 0.99)), np.nan)
        return plan, replace(inputs, commit_rate=rate)
    res = []
    for p in plan.reserved:
        if f"reserved_{p.family}_{p.term_years}y_{p.payment}" == key:
            od = float(inputs.on_demand[inputs.families.index(p.family)])
            p = replace(p, usd_per_gpu_hour=od * (1.0 - discount))
        res.append(p)
    return replace(plan, reserved=tuple(res)), inputs


def sensitivity_table(
    plan: CapacityPlan,
    inputs: CapacityInputs,
    discounts: Sequence[float],
    growths: Sequence[float] = (-0.25, 0.0, 0.15, 0.30),
    offer: str | None = None,
    planned_growth: float = 0.0,
) -> pd.DataFrame:
    """Savings of ``plan`` over a grid of the offer's discount x demand growth per year.

    ``growths`` are whole yearly growth rates of demand.  The forecast already carries ``planned_growth``
    (the scenario's ``demand.forecast.growth_rate_per_year``), so growth ``g`` scales the forecast at hour
    ``t`` by ``((1 + g) / (1 + planned_growth))^(t / 8760)``: the row at ``g = planned_growth`` is the
    forecast itself and ``g = 0`` is demand that stays at its starting level.  The plan's quantities stay
    fixed (it is what was signed); only the offer's rate changes with the discount.

    Parameters
    ----------
    plan
        The purchases.
    inputs
        Forecast demand and prices.
    discounts
        Discounts off on-demand to try for ``offer`` [fraction].
    growths
        Yearly growth rates of demand [fraction per year].
    offer
        Offer key (see :func:`offer_keys`); default the plan's largest purchase by hourly cost.
    planned_growth
        Growth the forecast already assumes [fraction per year].

    Returns
    -------
    pandas.DataFrame
        ``offer, discount, demand_growth_per_year, expected_cost_usd, all_on_demand_usd, savings_usd, savings_pct,
        idle_commitment_usd, commitment_utilization``.
    """
    keys = offer_keys(plan)
    if offer is None:
        if not keys:
            raise InputError("the plan buys nothing: no offer to vary", column="offer")
        costs = {f"reserved_{p.family}_{p.term_years}y_{p.payment}": p.gpus * p.usd_per_gpu_hour for p in plan.reserved}
        costs.update({f"committed_{c.term_years}y": c.usd_per_hour for c in plan.committed})
        offer = max(costs, key=lambda k: costs[k])
    rows = []
    for g in growths:
        grown = _growth(inputs, g, planned_growth)
        for disc in discounts:
            p2, i2 = with_offer_discount(plan, grown, offer, disc)
            rows.append({"offer": offer, "discount": float(disc), "demand_growth_per_year": float(g),
                         **_summary_row(i2, p2)})
    return pd.DataFrame(rows)


def scale_plan(plan: CapacityPlan, factor: float, name: str | None = None) -> CapacityPlan:
    """Every purchase of ``plan`` multiplied by ``factor`` (same mix, terms and start hours)."""
    return CapacityPlan(
        name=name or f"{plan.name} x{factor:g}",
        reserved=tuple(replace(p, gpus=p.gpus * factor) for p in plan.reserved),
        committed=tuple(replace(c, usd_per_hour=c.usd_per_hour * factor) for c in plan.committed),
        notes=plan.notes,
    )


def commitment_gpu_equivalents(plan: CapacityPlan, inputs: CapacityInputs) -> float:
    """Reserved GPUs plus committed spend in GPUs at the demand-weighted commitment rate, at hour 0 [GPUs]."""
    rate = inputs.mean_commit_rate()
    gpus = sum(p.gpus for p in plan.reserved if p.start_hour == 0)
    gpus += sum(c.usd_per_hour / rate[inputs.terms.index(c.term_years)]
                for c in plan.committed if c.start_hour == 0 and c.term_years in inputs.terms)
    return float(gpus)


def cost_curve(plan: CapacityPlan, inputs: CapacityInputs,
               factors: Sequence[float] | None = None, alpha: float = 0.95) -> pd.DataFrame:
    """Expected cost (and its spread over paths) as the plan is scaled from nothing to twice its size.

    Parameters
    ----------
    plan
        The recommendation; factor 1 is it, factor 0 is all on-demand.
    inputs
        Forecast demand and prices.
    factors
        Scale factors; default 0 to 2 in steps of 0.1.
    alpha
        CVaR level [fraction].

    Returns
    -------
    pandas.DataFrame
        ``factor, commitment_gpu_equivalents, commitment_usd_per_hour, expected_cost_usd, p05_usd,
        p95_usd, cvar_usd, savings_vs_on_demand_usd, is_recommendation``.
    """
    fs = np.round(np.linspace(0.0, 2.0, 21), 10) if factors is None else np.asarray(factors, dtype=float)
    if not np.isclose(fs, 1.0).any():
        fs = np.sort(np.append(fs, 1.0))
    od = float(evaluate(all_on_demand(), inputs).total_usd.mean())
    rows = []
    for f in fs:
        p = scale_plan(plan, float(f))
        tot = evaluate(p, inputs).total_usd
        rows.append({
            "factor": float(f),
            "commitment_gpu_equivalents": commitment_gpu_equivalents(p, inputs),
            "commitment_usd_per_hour": float(sum(r.gpus * r.usd_per_gpu_hour for r in p.reserved if r.start_hour == 0)
                                             + sum(c.usd_per_hour for c in p.committed if c.start_hour == 0)),
            "expected_cost_usd": float(tot.mean()),
            "p05_usd": float(np.quantile(tot, 0.05)), "p95_usd": float(np.quantile(tot, 0.95)),
            "cvar_usd": cvar(tot, alpha),
            "savings_vs_on_demand_usd": od - float(tot.mean()),
            "is_recommendation": bool(np.isclose(f, 1.0)),
        })
    return pd.DataFrame(rows)


def curve_break_even(curve: pd.DataFrame) -> float:
    """Commitment level [GPU-equivalents] beyond the recommendation at which the expected cost climbs back to
    the all-on-demand cost (linear interpolation on :func:`cost_curve`'s rows); NaN when not reached.

    Committing more than this loses money against buying nothing, in expectation.
    """
    c = curve.sort_values("factor")
    od = float(c.loc[c["factor"] == 0.0, "expected_cost_usd"].iloc[0]) if (c["factor"] == 0.0).any() else math.nan
    rec = c[c["factor"] >= 1.0]
    x = rec["commitment_gpu_equivalents"].to_numpy()
    y = rec["expected_cost_usd"].to_numpy() - od
    above = np.flatnonzero(y >= 0)
    if not above.size or not np.isfinite(od):
        return math.nan
    i = int(above[0])
    if i == 0:
        return float(x[0])
    return float(x[i - 1] + (x[i] - x[i - 1]) * (0 - y[i - 1]) / (y[i] - y[i - 1]))


def offer_curve(plan: CapacityPlan, inputs: CapacityInputs, offer: str,
                levels: Sequence[float]) -> pd.DataFrame:
    """Expected cost as one offer's quantity varies, the rest of ``plan`` fixed.

    Parameters
    ----------
    plan
        The recommendation.
    inputs
        Forecast demand and prices.
    offer
        ``reserved_<family>_<term>y_<payment>`` (quantity in GPUs) or ``committed_<term>y`` (USD/h).
    levels
        Quantities to try.

    Returns
    -------
    pandas.DataFrame
        ``offer, quantity, expected_cost_usd, p05_usd, p95_usd, is_recommendation``.
    """
    base = _offer_quantity(plan, offer)
    rows = []
    for q in sorted({*map(float, levels), base}):
        p = _set_offer(plan, inputs, offer, q)
        tot = evaluate(p, inputs).total_usd
        rows.append({"offer": offer, "quantity": q, "expected_cost_usd": float(tot.mean()),
                     "p05_usd": float(np.quantile(tot, 0.05)), "p95_usd": float(np.quantile(tot, 0.95)),
                     "is_recommendation": bool(np.isclose(q, base))})
    return pd.DataFrame(rows)


def _offer_quantity(plan: CapacityPlan, offer: str) -> float:
    if offer.startswith("committed_"):
        t = int(offer.split("_")[1].rstrip("y"))
        return float(sum(c.usd_per_hour for c in plan.committed if c.term_years == t and c.start_hour == 0))
    return float(sum(p.gpus for p in plan.reserved
                     if f"reserved_{p.family}_{p.term_years}y_{p.payment}" == offer and p.start_hour == 0))


def _set_offer(plan: CapacityPlan, inputs: CapacityInputs, offer: str, q: float) -> CapacityPlan:
    if offer.startswith("committed_"):
        t = int(offer.split("_")[1].rstrip("y"))
        rest_c = tuple(c for c in plan.committed if not (c.term_years == t and c.start_hour == 0))
        return replace(plan, committed=(*rest_c, CommitmentPurchase(term_years=t, usd_per_hour=q)))
    parts = offer.split("_")  # reserved_<family>_<term>y_<payment...>
    fam, term, payment = parts[1], int(parts[2].rstrip("y")), "_".join(parts[3:])
    rate = next((o.usd_per_gpu_hour for o in inputs.reserved
                 if o.family == fam and o.term_years == term and o.payment == payment), None)
    if rate is None:
        raise InputError(f"no offer '{offer}' in the scenario", column="offer")
    rest = tuple(p for p in plan.reserved
                 if not (f"reserved_{p.family}_{p.term_years}y_{p.payment}" == offer and p.start_hour == 0))
    return replace(plan, reserved=(*rest, ReservedPurchase(fam, term, payment, q, rate)))


def pair_curve(inputs: CapacityInputs, family: str, rate: float, levels: Sequence[float]) -> pd.DataFrame:
    """Single-family cost curve of a reservation at ``rate`` from sorted demand (:class:`PairEvaluator`).

    Exact when spot price and availability are constant over the hours (else it uses their means).

    Returns
    -------
    pandas.DataFrame
        ``family, gpus, expected_cost_usd, p05_usd, p95_usd``.
    """
    f = inputs.families.index(family)
    sc = inputs.spot_cost[f]
    pe = PairEvaluator(inputs.demand[f], float(inputs.on_demand[f]),
                       float(np.nanmean(sc)) if np.isfinite(sc).any() else None,
                       float(inputs.spot_useful_cap[f].mean()), inputs.preemptible_share)
    rows = []
    for x in levels:
        c = pe.cost(float(x), rate)
        rows.append({"family": family, "gpus": float(x), "expected_cost_usd": float(c.mean()),
                     "p05_usd": float(np.quantile(c, 0.05)), "p95_usd": float(np.quantile(c, 0.95))})
    return pd.DataFrame(rows)
