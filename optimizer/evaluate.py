"""Cost of a given capacity plan on every sample path, hour by hour, vectorised with numpy.

:func:`evaluate` dispatches each hour's demand the way the optimizer's second stage does, in closed form:

1. a family's reservations serve its demand first (they are paid whether used or not);
2. each savings-plan style commitment (largest mean discount first) covers the remaining usage where a
   committed dollar saves the most: on-demand usage before spot usage, family by family in order of
   ``alternative cost / commitment rate`` (a continuous knapsack, solved greedily, hence exactly);
3. spot serves what it may (the preemptible share of demand, up to the useful spot GPUs available),
   priced with its expected interruption overhead;
4. on-demand serves the rest, up to the on-demand quota; what is left is unmet (priced at the scenario's
   penalty so a shortfall is visible, never hidden).

With one commitment term this is exactly the optimal hourly dispatch, so the cost equals the LP's second
stage for the same purchases; with several terms applied in sequence it is the billing-order cost, an
upper bound on the LP's (tested).  A plan's purchases are active for ``[start_hour, start_hour + term)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.inputs import CapacityInputs, capacity_inputs
from scenarios.errors import InputError
from scenarios.plan import CapacityPlan
from scenarios.schema import HOURS_PER_YEAR, Scenario

#: Pools a GPU-hour can be served from, in dispatch order.
POOLS = ("reserved", "committed", "spot", "on_demand", "unmet")


@dataclass(frozen=True)
class Evaluation:
    """Per-path results of :func:`evaluate` (F families, S paths, K commitment terms).

    Attributes
    ----------
    sample_ids
        Path numbers, shape (S,).
    reserved_usd, committed_usd, spot_usd, on_demand_usd, unmet_usd
        Cost of each pool on each path over the horizon, shape (S,) [USD]; reserved and committed are
        paid whether used or not; unmet is the scenario's penalty for unserved GPU-hours.
    demand_gh, reserved_gh, committed_gh, spot_gh, spot_bought_gh, on_demand_gh, unmet_gh
        GPU-hours per family and path, shape (F, S) [GPU-hours]; ``spot_gh`` is useful work, ``spot_bought_gh``
        includes the interruption overhead; ``committed_gh`` sums all terms.
    committed_used_usd
        Commitment dollars that covered usage, per term and path, shape (K, S) [USD].
    committed_term_gh
        GPU-hours covered by each commitment term per path, shape (K, S) [GPU-hours].
    reserved_capacity_gh
        Reserved GPU-hours held per family over the horizon, shape (F,) [GPU-hours].
    reserved_family_usd
        Reservation cost per family over the horizon, shape (F,) [USD] (reservations of families without
        demand count in ``reserved_usd`` only).
    committed_capacity_usd
        Commitment dollars held per term over the horizon, shape (K,) [USD].
    hours
        Hours in the horizon.
    """

    sample_ids: np.ndarray
    reserved_usd: np.ndarray
    committed_usd: np.ndarray
    spot_usd: np.ndarray
    on_demand_usd: np.ndarray
    unmet_usd: np.ndarray
    demand_gh: np.ndarray
    reserved_gh: np.ndarray
    committed_gh: np.ndarray
    spot_gh: np.ndarray
    spot_bought_gh: np.ndarray
    on_demand_gh: np.ndarray
    unmet_gh: np.ndarray
    committed_used_usd: np.ndarray
    committed_term_gh: np.ndarray
    reserved_capacity_gh: np.ndarray
    committed_capacity_usd: np.ndarray
    hours: int
    reserved_family_usd: np.ndarray

    @property
    def idle_usd(self) -> np.ndarray:
        """Commitment money not matched by usage per path (reservations pro rata per family), shape (S,) [USD]."""
        cap = np.where(self.reserved_capacity_gh > 0, self.reserved_capacity_gh, 1.0)
        res_idle = ((1.0 - self.reserved_gh / cap[:, None]) * self.reserved_family_usd[:, None]).sum(axis=0)
        res_idle += self.reserved_usd - self.reserved_family_usd.sum()
        com_idle = (self.committed_capacity_usd[:, None] - self.committed_used_usd).sum(axis=0)
        return res_idle + com_idle

    @property
    def total_usd(self) -> np.ndarray:
        """Total cost per path incl. the unmet penalty, shape (S,) [USD]."""
        return self.reserved_usd + self.committed_usd + self.spot_usd + self.on_demand_usd + self.unmet_usd

    @property
    def spend_usd(self) -> np.ndarray:
        """Money actually paid per path (total without the unmet penalty), shape (S,) [USD]."""
        return self.reserved_usd + self.committed_usd + self.spot_usd + self.on_demand_usd


def plan_capacity(plan: CapacityPlan, inputs: CapacityInputs) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Reserved GPUs per family and hour and committed USD/h per term and hour implied by ``plan``.

    Returns
    -------
    tuple
        ``(R, M, reserved_cost_usd, reserved_cost_by_family)``: R of shape (F, H) [GPUs], M of shape
        (K, H) [USD/h], the reservation cost over the horizon [USD] (including reservations of families
        without demand) and the same per family of ``inputs``, shape (F,) [USD].

    Raises
    ------
    InputError
        A commitment term the scenario offers for no family.
    """
    h_n = inputs.n_hours
    fam_index = {f: i for i, f in enumerate(inputs.families)}
    term_index = {t: k for k, t in enumerate(inputs.terms)}
    r = np.zeros((len(inputs.families), h_n))
    m = np.zeros((len(inputs.terms), h_n))
    cost = 0.0
    by_family = np.zeros(len(inputs.families))
    for p in plan.reserved:
        a = max(0, int(p.start_hour))
        b = min(h_n, int(p.start_hour + p.term_years * HOURS_PER_YEAR))
        if b <= a or p.gpus == 0:
            continue
        usd = float(p.gpus) * float(p.usd_per_gpu_hour) * (b - a)
        cost += usd
        i = fam_index.get(p.family)
        if i is not None:
            r[i, a:b] += float(p.gpus)
            by_family[i] += usd
    for c in plan.committed:
        if c.usd_per_hour == 0:
            continue
        k = term_index.get(int(c.term_years))
        if k is None:
            raise InputError(
                f"plan '{plan.name}' commits to a {c.term_years}-year term that the scenario offers for none of "
                f"the families {list(inputs.families)}",
                column="committed_discount", fix="add the term to catalog.<family>.committed_discount",
            )
        a = max(0, int(c.start_hour))
        b = min(h_n, int(c.start_hour + c.term_years * HOURS_PER_YEAR))
        if b > a:
            m[k, a:b] += float(c.usd_per_hour)
    return r, m, cost, by_family


def _compact(x: np.ndarray) -> np.ndarray:
    """(N, H) -> (N, 1) when every row is constant over hours (cheaper broadcasting)."""
    if x.shape[1] and np.all(x == x[:, :1]):
        return x[:, :1]
    return x


def evaluate(plan: CapacityPlan, inputs: CapacityInputs) -> Evaluation:
    """Dispatch every path's hourly demand against ``plan`` and cost each pool (see the module docstring).

    Parameters
    ----------
    plan
        Reservations and commitments, with start hours relative to hour 0 of ``inputs``.
    inputs
        Demand paths and prices from :func:`optimizer.inputs.capacity_inputs`.

    Returns
    -------
    Evaluation
        Per-path costs by pool and GPU-hours by family.
    """
    d = inputs.demand
    f_n, s_n, h_n = d.shape
    k_n = len(inputs.terms)
    r_fh, m_kh, res_cost, res_fam = plan_capacity(plan, inputs)
    r_fh, m_kh = _compact(r_fh), _compact(m_kh)

    use_res = np.minimum(d, r_fh[:, None, :])
    rest = d - use_res
    cap = _compact(inputs.spot_useful_cap)
    has_spot = bool((cap > 0).any()) and inputs.preemptible_share > 0
    if has_spot:
        spot_seg = np.minimum(rest, np.minimum(cap[:, None, :], inputs.preemptible_share * d))
        od_seg = rest - spot_seg
        spot_cost = _compact(np.where(np.isfinite(inputs.spot_cost), inputs.spot_cost, 0.0))
    else:
        spot_seg = np.zeros((f_n, 1, 1))
        od_seg = rest
        spot_cost = np.zeros((f_n, 1))

    committed_gh = np.zeros((f_n, s_n))
    committed_used = np.zeros((k_n, s_n))
    committed_term = np.zeros((k_n, s_n))
    # commitments with the largest mean discount first
    order_k = sorted(range(k_n), key=lambda k: -np.nanmean(1.0 - inputs.commit_rate[k] / inputs.on_demand))
    for k in order_k:
        mk = m_kh[k]
        if not (mk > 0).any():
            continue
        rate = inputs.commit_rate[k]
        ok = np.isfinite(rate)
        rate_ok = np.where(ok, rate, 1.0)
        if has_spot:
            segs = [od_seg, np.broadcast_to(spot_seg, od_seg.shape)]
            value = np.concatenate([np.broadcast_to(inputs.on_demand[:, None], spot_cost.shape), spot_cost])
            rates = np.concatenate([rate_ok, rate_ok])
            okk = np.concatenate([ok, ok])
        else:
            segs = [od_seg]
            value = inputs.on_demand[:, None]
            rates, okk = rate_ok, ok
        vpd = np.where(okk[:, None], value / rates[:, None], -np.inf)  # (G, 1 or H)
        if vpd.shape[1] == 1:
            # same order every hour: fill segments one after the other from the remaining budget
            remaining = np.broadcast_to(mk, od_seg.shape[1:]).astype(float)
            cov_list = [np.zeros(1)] * len(okk)
            for j in np.argsort(-vpd[:, 0], kind="stable"):
                if not okk[j]:
                    continue
                seg_j = segs[j // f_n][j % f_n]
                c = np.minimum(seg_j * rates[j], remaining)
                remaining = remaining - c
                cov_list[j] = c
            cov = np.stack([np.broadcast_to(c, od_seg.shape[1:]) for c in cov_list])
        else:
            seg = np.concatenate(segs, axis=0)
            dollars = np.where(okk[:, None, None], seg * rates[:, None, None], 0.0)
            order2 = np.argsort(-vpd, axis=0, kind="stable")[:, None, :]
            sd = np.take_along_axis(dollars, np.broadcast_to(order2, dollars.shape), axis=0)
            before = np.cumsum(sd, axis=0) - sd
            cov_d = np.clip(mk[None, None, :] - before, 0.0, sd)
            cov = np.empty_like(cov_d)
            np.put_along_axis(cov, np.broadcast_to(order2, dollars.shape), cov_d, axis=0)
        committed_used[k] = cov.sum(axis=(0, 2))
        cov_gh = np.where(okk[:, None, None], cov / rates[:, None, None], 0.0)
        committed_term[k] = cov_gh.sum(axis=(0, 2))
        od_seg = od_seg - cov_gh[:f_n]
        if has_spot:
            spot_seg = np.broadcast_to(spot_seg, od_seg.shape) - cov_gh[f_n:]
            committed_gh += cov_gh[:f_n].sum(axis=2) + cov_gh[f_n:].sum(axis=2)
        else:
            committed_gh += cov_gh[:f_n].sum(axis=2)
    od_seg = np.maximum(od_seg, 0.0)
    quota = inputs.on_demand_quota
    if np.isfinite(quota).any():
        od_gh_h = np.minimum(od_seg, quota[:, None, None])
        unmet_h = od_seg - od_gh_h
    else:
        od_gh_h = od_seg
        unmet_h = None
    od_gh = od_gh_h.sum(axis=2)
    on_demand_usd = (inputs.on_demand[:, None] * od_gh).sum(axis=0)
    if has_spot:
        spot_seg = np.maximum(spot_seg, 0.0)
        spot_gh = np.broadcast_to(spot_seg, d.shape).sum(axis=2)
        spot_usd = (spot_seg * spot_cost[:, None, :]).sum(axis=(0, 2))
    else:
        spot_gh = np.zeros((f_n, s_n))
        spot_usd = np.zeros(s_n)
    unmet_gh = unmet_h.sum(axis=2) if unmet_h is not None else np.zeros((f_n, s_n))
    pen = float(inputs.policies.unmet_penalty_usd_per_gpu_hour)
    commit_cap = m_kh.sum(axis=1) * (h_n if m_kh.shape[1] == 1 else 1)
    res_cap = r_fh.sum(axis=1) * (h_n if r_fh.shape[1] == 1 else 1)
    return Evaluation(
        sample_ids=np.asarray(inputs.sample_ids),
        reserved_usd=np.full(s_n, res_cost),
        committed_usd=np.full(s_n, float(commit_cap.sum())),
        spot_usd=spot_usd,
        on_demand_usd=on_demand_usd,
        unmet_usd=pen * unmet_gh.sum(axis=0),
        demand_gh=d.sum(axis=2),
        reserved_gh=use_res.sum(axis=2),
        committed_gh=committed_gh,
        spot_gh=spot_gh,
        spot_bought_gh=spot_gh * (1.0 + inputs.spot_overhead[:, None]),
        on_demand_gh=od_gh,
        unmet_gh=unmet_gh,
        committed_used_usd=committed_used,
        committed_term_gh=committed_term,
        reserved_capacity_gh=res_cap,
        committed_capacity_usd=commit_cap,
        hours=h_n,
        reserved_family_usd=res_fam,
    )


def evaluation_frame(ev: Evaluation) -> pd.DataFrame:
    """Per-path costs by pool and GPU-hours by pool, one row per sample path."""
    return pd.DataFrame({
        "sample_id": ev.sample_ids,
        "reserved_usd": ev.reserved_usd,
        "committed_usd": ev.committed_usd,
        "spot_usd": ev.spot_usd,
        "on_demand_usd": ev.on_demand_usd,
        "unmet_penalty_usd": ev.unmet_usd,
        "total_usd": ev.total_usd,
        "demand_gpu_hours": ev.demand_gh.sum(axis=0),
        "reserved_gpu_hours": ev.reserved_gh.sum(axis=0),
        "committed_gpu_hours": ev.committed_gh.sum(axis=0),
        "spot_gpu_hours": ev.spot_bought_gh.sum(axis=0),
        "on_demand_gpu_hours": ev.on_demand_gh.sum(axis=0),
        "unmet_gpu_hours": ev.unmet_gh.sum(axis=0),
        "idle_commitment_usd": ev.idle_usd,
    })


def evaluate_plan(
    plan: CapacityPlan,
    paths: pd.DataFrame | CapacityInputs,
    scenario: Scenario | None = None,
    spot: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-path cost of ``plan`` by pool over the paths' horizon.

    Parameters
    ----------
    plan
        The purchases to evaluate.
    paths
        Family-level sample paths (``series_id, timestamp, sample_id, gpus``) or, faster when a plan is
        evaluated many times (curves, sensitivities), the :class:`CapacityInputs` built from them once.
    scenario
        Needed when ``paths`` is a frame.
    spot
        Optional hourly spot table (see :func:`optimizer.inputs.capacity_inputs`).

    Returns
    -------
    pandas.DataFrame
        One row per sample path: ``reserved_usd, committed_usd, spot_usd, on_demand_usd,
        unmet_penalty_usd, total_usd`` [USD] and GPU-hours per pool [GPU-hours].

    Examples
    --------
    >>> from scenarios.plan import all_on_demand
    >>> import pandas as pd
    >>> from scenarios import load_scenario
    >>> sc = load_scenario("small")
    >>> ts = pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC")
    >>> paths = pd.DataFrame({"series_id": "a100", "timestamp": ts, "sample_id": 0, "gpus": [1.0, 2.0, 3.0]})
    >>> row = evaluate_plan(all_on_demand(), paths, sc).iloc[0]
    >>> round(float(row["on_demand_gpu_hours"]), 9)  # 6 GPU-hours, 30 % preemptible (spot where available)
    4.2
    >>> round(float(row["on_demand_usd"]), 6)  # 4.2 GPU-hours x 2.744705 USD/GPU-hour
    11.527761
    """
    if isinstance(paths, CapacityInputs):
        inputs = paths
    else:
        if scenario is None:
            raise ValueError("evaluate_plan needs the scenario when given a paths frame")
        inputs = capacity_inputs(paths, scenario, spot=spot)
    return evaluation_frame(evaluate(plan, inputs))


class PairEvaluator:
    """Per-path cost of (reserved GPUs, committed spend) for ONE family in O(S log H), from sorted demand.

    With prices and spot availability constant over the hours, an hour's recourse cost depends on its
    demand ``D`` and on ``X`` = reserved GPUs + committed GPUs (``usd_per_hour / commit_rate``) only:

    ``sigma (D - X)+ + (od - sigma) max(0, D - X - c, (1 - phi) D - X)``

    (``sigma`` spot cost per useful GPU-hour, ``c`` useful spot GPUs, ``phi`` preemptible share), i.e. the
    dispatch of :func:`evaluate` for one family.  Sorting each path's hours once turns every sum of hinge
    terms into two binary searches and a prefix-sum difference, which makes cost curves and sensitivity
    grids cheap.

    Parameters
    ----------
    demand
        Hourly demand of the family, shape (S, H) [GPUs].
    on_demand
        On-demand price [USD/GPU-hour].
    spot_cost
        Spot cost per useful GPU-hour incl. overhead [USD/GPU-hour]; None or >= on-demand = no spot.
    spot_cap
        Useful spot GPUs available [GPUs].
    preemptible_share
        Share of demand that may run on spot [fraction].
    """

    def __init__(self, demand: np.ndarray, on_demand: float, spot_cost: float | None = None,
                 spot_cap: float = 0.0, preemptible_share: float = 0.0) -> None:
        d = np.sort(np.asarray(demand, dtype=float), axis=1)
        self.n_paths, self.n_hours = d.shape
        lo, hi = float(d.min()), float(d.max())
        self._span = hi - lo + 3.0
        self._lo = lo
        self._off = np.arange(self.n_paths) * self._span
        self._flat = (d - lo + self._off[:, None]).ravel()
        self._prefix = np.concatenate([[0.0], np.cumsum(d.ravel())])
        self.on_demand = float(on_demand)
        spot_ok = spot_cost is not None and spot_cost < on_demand and spot_cap > 0 and preemptible_share > 0
        self.sigma = float(spot_cost) if spot_ok and spot_cost is not None else self.on_demand
        self.cap = float(spot_cap) if spot_ok else 0.0
        self.phi = float(preemptible_share) if spot_ok else 0.0

    def _index(self, v: np.ndarray | float) -> np.ndarray:
        q = np.clip(np.asarray(v, dtype=float) - self._lo, -1.0, self._span - 2.0) + self._off
        return np.searchsorted(self._flat, q, side="left")

    def _hinge(self, a: float, b: float, lo: float, hi: float) -> np.ndarray:
        """Per path, sum over hours with lo <= D < hi of (a D - b)+, a > 0."""
        start = max(lo, b / a)
        if start >= hi:
            return np.zeros(self.n_paths)
        i0, i1 = self._index(start), self._index(hi)
        return a * (self._prefix[i1] - self._prefix[i0]) - b * (i1 - i0)

    def recourse(self, x: float) -> np.ndarray:
        """Spot + on-demand cost per path over the horizon with ``x`` GPUs reserved or committed [USD]."""
        inf = np.inf
        out = self.sigma * self._hinge(1.0, x, -inf, inf)
        extra = self.on_demand - self.sigma
        if extra > 0:
            split = self.cap / self.phi
            out = out + extra * (self._hinge(1.0 - self.phi, x, -inf, split) + self._hinge(1.0, x + self.cap, split, inf))
        return out

    def cost(self, reserved_gpus: float, reserved_rate: float, commit_usd_per_hour: float = 0.0,
             commit_rate: float = 1.0) -> np.ndarray:
        """Total cost per path [USD]: reservations and commitment paid every hour plus the recourse.

        Parameters
        ----------
        reserved_gpus
            GPUs reserved [GPUs].
        reserved_rate
            Effective reserved rate [USD/GPU-hour].
        commit_usd_per_hour
            Committed spend [USD/h].
        commit_rate
            Commitment dollars per GPU-hour of this family, ``od (1 - d)`` [USD/GPU-hour].
        """
        x = reserved_gpus + commit_usd_per_hour / commit_rate
        fixed = (reserved_gpus * reserved_rate + commit_usd_per_hour) * self.n_hours
        return fixed + self.recourse(x)
