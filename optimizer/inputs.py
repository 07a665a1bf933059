"""Inputs of the capacity model: demand sample paths and the scenario's prices, as validated arrays.

:func:`capacity_inputs` is the ``check_*`` layer of the capacity optimizer: it checks the paths table
(columns, UTC hourly timestamps, a full family x sample x hour grid, no missing or negative demand, families
known to the catalog) and turns it and the scenario into :class:`CapacityInputs`, plain numpy arrays the
model builder and :func:`optimizer.evaluate.evaluate_plan` share.

Spot is priced per *useful* GPU-hour.  A spot GPU is interrupted at the hazard ``lambda`` [1/h] (the
instance hazard plus the expected share of a correlated fleet revocation); with checkpoints every
Young's interval ``tau = sqrt(2 delta / lambda)`` (``delta`` = checkpoint cost [h]) the expected overhead
per useful hour is ``delta / tau + lambda (tau / 2 + R)`` = ``sqrt(2 delta lambda) + lambda R``
(``R`` = restart cost [h]); spot GPU-hours bought = useful GPU-hours x (1 + overhead).  Expected capacity
droughts scale the available spot GPUs by ``1 - events_per_month x drought_hours / 730``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.readers import hourly_window
from scenarios.schema import HOURS_PER_MONTH, HOURS_PER_YEAR, Policies, Scenario
from scenarios.tables import check_frame

#: Commitment terms as written in ``catalog.<family>.committed_discount``.
TERM_KEYS: dict[str, int] = {"1y": 1, "3y": 3}


@dataclass(frozen=True)
class ReservedOffer:
    """One reserved-instance offer of one family, with its position in :attr:`CapacityInputs.families`."""

    family: str
    family_index: int
    term_years: int
    payment: str
    usd_per_gpu_hour: float

    @property
    def key(self) -> str:
        """Deterministic identifier, e.g. ``reserve_h100_3y_no_upfront``."""
        return f"reserve_{self.family}_{self.term_years}y_{self.payment}"


def spot_overhead(hazard_per_hour: float, checkpoint_cost_hours: float, restart_cost_hours: float) -> float:
    """Expected interruption overhead of spot work with Young's checkpoint interval [fraction].

    Parameters
    ----------
    hazard_per_hour
        Interruption hazard of one instance ``lambda`` [1/h].
    checkpoint_cost_hours
        Time to write one checkpoint ``delta`` [h].
    restart_cost_hours
        Time to restart after an interruption ``R`` [h].

    Returns
    -------
    float
        ``sqrt(2 delta lambda) + lambda R``: extra GPU-hours per useful GPU-hour (first-order Young/Daly).

    Examples
    --------
    >>> round(spot_overhead(0.001, 0.05, 0.1), 5)
    0.0101
    """
    lam = max(float(hazard_per_hour), 0.0)
    return math.sqrt(2.0 * checkpoint_cost_hours * lam) + lam * restart_cost_hours


@dataclass(frozen=True, eq=False)
class CapacityInputs:
    """Validated arrays for the capacity model (F families, S sample paths, H hours, K commitment terms).

    Attributes
    ----------
    families
        Family slugs, in catalog order, that have demand in the paths.
    timestamps
        Hour starts (UTC), length H; hour 0 is the plan start.
    sample_ids
        Sample path numbers, length S.
    demand
        GPUs busy per family, path and hour, shape (F, S, H) [GPUs].
    on_demand
        On-demand price per family, shape (F,) [USD/GPU-hour].
    reserved
        Reserved offers of these families.
    terms
        Commitment terms (years) offered by at least one family, length K.
    commit_rate
        Commitment spend that covers one GPU-hour of family f, ``od_f (1 - d_fk)``, shape (K, F)
        [USD/GPU-hour]; NaN where the family has no discount for that term (not coverable).
    spot_price
        Spot price per family and hour, shape (F, H) [USD/GPU-hour]; NaN rows mean no spot.
    spot_overhead
        Expected interruption overhead per family, shape (F,) [fraction of useful GPU-hours].
    spot_available
        Expected spot GPUs that can be held per family and hour, shape (F, H) [GPUs].
    preemptible_share
        Share of demand that may run on spot [fraction].
    on_demand_quota
        On-demand quota per family, shape (F,) [GPUs]; inf when unlimited.
    policies
        The scenario's policies (budget, caps, risk, unmet-demand option).
    gpus_per_instance
        GPUs per instance per family, shape (F,) [GPUs]; NaN where unknown (reservations then in GPUs).
    on_demand_change
        Expected change of the on-demand price per family, shape (F,) [fraction/year].
    spot_change
        Expected change of the spot price per family, shape (F,) [fraction/year].
    commit_discount
        Commitment discount per term and family, shape (K, F) [fraction]; NaN where not offered.
    notes
        Assumptions made while building the inputs, for the report.
    """

    families: tuple[str, ...]
    timestamps: pd.DatetimeIndex
    sample_ids: np.ndarray
    demand: np.ndarray
    on_demand: np.ndarray
    reserved: tuple[ReservedOffer, ...]
    terms: tuple[int, ...]
    commit_rate: np.ndarray
    spot_price: np.ndarray
    spot_overhead: np.ndarray
    spot_available: np.ndarray
    preemptible_share: float
    on_demand_quota: np.ndarray
    policies: Policies
    notes: tuple[str, ...] = field(default=())
    gpus_per_instance: np.ndarray | None = None
    on_demand_change: np.ndarray | None = None
    spot_change: np.ndarray | None = None
    commit_discount: np.ndarray | None = None

    # -- derived ----------------------------------------------------------------------------------
    @property
    def n_hours(self) -> int:
        """H, hours in the horizon."""
        return int(self.demand.shape[2])

    @property
    def n_paths(self) -> int:
        """S, sample paths."""
        return int(self.demand.shape[1])

    @property
    def spot_cost(self) -> np.ndarray:
        """Spot cost per useful GPU-hour incl. interruption overhead, shape (F, H) [USD/GPU-hour]."""
        return self.spot_price * (1.0 + self.spot_overhead[:, None])

    @property
    def spot_useful_cap(self) -> np.ndarray:
        """Useful spot GPUs available per family and hour, shape (F, H) [GPUs]; 0 when spot is not cheaper."""
        cap = self.spot_available / (1.0 + self.spot_overhead[:, None])
        worth = np.isfinite(self.spot_price) & (self.spot_cost < self.on_demand[:, None])
        return np.where(worth, cap, 0.0)

    def mean_commit_rate(self) -> np.ndarray:
        """Demand-weighted mean commitment rate per term, shape (K,) [USD/GPU-hour].

        Converts committed spend into GPU-equivalents for the commitment-share and headroom caps.
        """
        w = self.demand.mean(axis=(1, 2))
        out = np.empty(len(self.terms))
        for k in range(len(self.terms)):
            ok = np.isfinite(self.commit_rate[k])
            ww = w[ok]
            out[k] = float(np.average(self.commit_rate[k, ok], weights=ww)) if ww.sum() > 0 else float(
                np.nanmean(self.commit_rate[k, ok]))
        return out

    def with_demand(self, demand: np.ndarray, sample_ids: np.ndarray | None = None) -> CapacityInputs:
        """A copy with other demand (same families and hours), e.g. scaled or one realized path."""
        if demand.shape[0] != self.demand.shape[0] or demand.shape[2] != self.demand.shape[2]:
            raise ValueError("demand must keep the families and hours")
        sids = np.arange(demand.shape[1]) if sample_ids is None else np.asarray(sample_ids)
        return replace(self, demand=demand, sample_ids=sids)

    def instance_size(self, f: int) -> float | None:
        """GPUs per instance of family ``f`` [GPUs], or None when unknown."""
        if self.gpus_per_instance is None:
            return None
        g = float(self.gpus_per_instance[f])
        return g if math.isfinite(g) else None

    def with_policies(self, policies: Policies) -> CapacityInputs:
        """A copy with other policies (e.g. without the budget, for an infeasibility diagnosis)."""
        return replace(self, policies=policies)


def paths_to_array(
    paths: pd.DataFrame, file: str | None = None, what: str = "paths"
) -> tuple[list[str], pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Pivot a paths table into an array (series, samples, hours), checking the grid is full and hourly.

    Parameters
    ----------
    paths
        Long frame ``series_id, timestamp, sample_id, gpus`` (UTC timestamps) [GPUs].
    file
        File name for error messages.
    what
        Table name for error messages.

    Returns
    -------
    tuple
        ``(series, timestamps, sample_ids, values)`` with ``values`` of shape (len(series), S, H) [GPUs].

    Raises
    ------
    InputError
        Missing columns, naive timestamps, a gap in the hourly grid, a missing (series, sample, hour)
        combination, duplicates, NaN or negative GPUs.
    """
    check_frame(paths, "paths", file=file)
    if paths.empty:
        raise InputError(f"the {what} table is empty", file=file, fix="give at least one sample path")
    s_idx, series = pd.factorize(paths["series_id"].astype(str), sort=True)
    ts = pd.DatetimeIndex(paths["timestamp"]).tz_convert("UTC")
    uniq_ts = ts.unique().sort_values()
    if len(uniq_ts) > 1:
        step = np.asarray(uniq_ts[1:] - uniq_ts[:-1]) != np.timedelta64(1, "h")
        if step.any():
            bad = int(np.flatnonzero(step)[0])
            raise InputError(
                f"timestamps are not a gap-free hourly grid: {uniq_ts[bad]} is followed by {uniq_ts[bad + 1]}",
                file=file, column="timestamp", fix="give every hour of the horizon for every series and sample",
            )
    if (uniq_ts != uniq_ts.floor("h")).any():
        raise InputError("timestamps must be on the hour", file=file, column="timestamp")
    t_idx = uniq_ts.get_indexer(ts)
    p_idx, sample_index = pd.factorize(paths["sample_id"], sort=True)
    samples = np.asarray(sample_index)
    gpus = paths["gpus"].to_numpy(dtype=float, na_value=np.nan)
    nan = np.flatnonzero(~np.isfinite(gpus))
    if nan.size:
        raise InputError("missing GPUs in a sample path", file=file, row=int(nan[0]) + 1, column="gpus",
                         fix="sample paths must be complete; fill or drop the path")
    shape = (len(series), len(samples), len(uniq_ts))
    flat = (s_idx * shape[1] + p_idx) * shape[2] + t_idx
    counts = np.bincount(flat, minlength=int(np.prod(shape)))
    if (counts > 1).any():
        i = int(np.flatnonzero(counts > 1)[0])
        f, rest = divmod(i, shape[1] * shape[2])
        p, t = divmod(rest, shape[2])
        raise InputError(
            f"duplicate rows for series '{series[f]}', sample {samples[p]}, hour {uniq_ts[t]}",
            file=file, fix="keep one row per (series_id, sample_id, timestamp)",
        )
    if (counts == 0).any():
        i = int(np.flatnonzero(counts == 0)[0])
        f, rest = divmod(i, shape[1] * shape[2])
        p, t = divmod(rest, shape[2])
        raise InputError(
            f"series '{series[f]}', sample {samples[p]} has no row for hour {uniq_ts[t]}",
            file=file, fix="every series needs the same samples and hours",
        )
    values = np.empty(int(np.prod(shape)))
    values[flat] = gpus
    return [str(s) for s in series], uniq_ts, samples, values.reshape(shape)


def _spot_arrays(
    sc: Scenario, families: list[str], timestamps: pd.DatetimeIndex, spot: pd.DataFrame | None, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spot price (F, H), overhead (F,) and expected available GPUs (F, H) from the scenario and a spot table."""
    f_n, h_n = len(families), len(timestamps)
    price = np.full((f_n, h_n), np.nan)
    avail = np.zeros((f_n, h_n))
    overhead = np.zeros(f_n)
    wl = sc.workload
    offered = [f for f in families if sc.catalog[f].spot is not None]
    spot_price: dict[str, np.ndarray] = {}
    spot_avail: dict[str, np.ndarray] = {}
    if spot is not None and not spot.empty:
        # the one rule for hourly tables, as in the simulator: hourly, UTC, complete; nothing averaged or filled
        have = sorted(set(spot["family"].astype(str)) & set(offered))
        pos = np.rint((timestamps - timestamps[0]) / pd.Timedelta(hours=1)).astype(np.int64)
        span = int(pos[-1]) + 1 if h_n else 0
        spot_price = {k: v[pos] for k, v in hourly_window(spot, "family", have, "usd_per_gpu_hour", timestamps[0],
                                                          span, table="spot").items()}
        if "available_gpus" in spot.columns:
            spot_avail = {k: v[pos] for k, v in hourly_window(spot, "family", have, "available_gpus", timestamps[0],
                                                              span, table="spot").items()}
    for i, fam in enumerate(families):
        offer = sc.catalog[fam].spot
        if offer is None:
            continue
        lam = offer.hazard() + offer.correlated_events_per_month / HOURS_PER_MONTH * offer.correlated_share
        overhead[i] = spot_overhead(lam, wl.checkpoint_cost_hours, wl.restart_cost_hours)
        drought = min(1.0, offer.drought_events_per_month * offer.drought_hours / HOURS_PER_MONTH)
        level_avail = offer.available_gpus * (1.0 - drought)
        avail[i] = level_avail
        if fam in spot_price:
            price[i] = spot_price[fam]
            if fam in spot_avail:
                avail[i] = spot_avail[fam]
        else:  # the simulator's rule: the level, with a note when a file is named
            price[i], note = offer.level_without_table(fam)
            if note:
                notes.append(note)
        if np.isfinite(price[i]).any():
            notes.append(
                f"spot {fam}: hazard {lam:.5f}/h (band or hazard + correlated revocations), Young/Daly overhead "
                f"{overhead[i]:.2%} of useful GPU-hours (checkpoint {wl.checkpoint_cost_hours:g} h, restart "
                f"{wl.restart_cost_hours:g} h); expected availability {level_avail:g} GPUs after droughts"
            )
    return price, overhead, avail


def capacity_inputs(
    paths: pd.DataFrame,
    scenario: Scenario,
    spot: pd.DataFrame | None = None,
    file: str | None = None,
) -> CapacityInputs:
    """Check the paths and the scenario and build :class:`CapacityInputs`.

    Parameters
    ----------
    paths
        Family-level sample paths ``series_id`` (= family slug), ``timestamp`` (UTC), ``sample_id``,
        ``gpus`` [GPUs].  Team series (``a100/team``) are not accepted: aggregate them first.
    scenario
        The scenario: catalog prices and offers, demand.preemptible_share, policies, workload checkpoint
        and restart costs (for spot overhead).
    spot
        Hourly spot table ``family, timestamp, usd_per_gpu_hour[, available_gpus]`` from the caller
        (``scenarios.signals.load_spot``), under the one rule for hourly tables
        (:func:`scenarios.readers.hourly_window`: hourly, UTC, one row per hour, every plan hour); families
        without rows use their offer's price level and ``available_gpus`` (after droughts).  The optimizer
        reads no file itself: an offer priced only from a ``price_file`` needs this table.
    file
        Name of the paths file, for error messages.

    Returns
    -------
    CapacityInputs

    Raises
    ------
    InputError
        A malformed paths table, a team-level or unknown series.
    """
    series, ts, samples, values = paths_to_array(paths, file=file)
    catalog = scenario.catalog
    for s in series:
        if "/" in s:
            raise InputError(
                f"series '{s}' is a team series; the capacity optimizer reads family-level paths",
                file=file, column="series_id", fix="sum team paths per family (series_id = family slug)",
            )
        if s not in catalog:
            import difflib

            near = difflib.get_close_matches(s, list(catalog), n=1)
            raise InputError(
                f"series '{s}' is not a GPU family of the scenario (catalog has {sorted(catalog)})",
                file=file, column="series_id", fix=f"did you mean '{near[0]}'?" if near else "add it to [catalog]",
            )
    if (values < 0).any():
        raise InputError("negative GPUs in a sample path", file=file, column="gpus")
    families = [f for f in catalog if f in series]
    order = [series.index(f) for f in families]
    demand = values[order]
    od = np.array([catalog[f].on_demand_usd_per_gpu_hour for f in families])
    reserved = tuple(
        ReservedOffer(f, i, int(o.term_years), str(o.payment), float(o.usd_per_gpu_hour))
        for i, f in enumerate(families) for o in catalog[f].reserved
    )
    term_names = sorted({t for f in families for t in catalog[f].committed_discount}, key=lambda t: TERM_KEYS[t])
    terms = tuple(TERM_KEYS[t] for t in term_names)
    commit_rate = np.full((len(terms), len(families)), np.nan)
    for k, t in enumerate(term_names):
        for i, f in enumerate(families):
            d = catalog[f].committed_discount.get(t)  # type: ignore[call-overload,unused-ignore]
            if d is not None:
                commit_rate[k, i] = od[i] * (1.0 - d)
    notes: list[str] = []
    price, overhead, avail = _spot_arrays(scenario, families, ts, spot, notes)
    quotas = [catalog[f].on_demand_quota_gpus for f in families]
    quota = np.array([np.inf if q is None else float(q) for q in quotas])
    if len(ts) < HOURS_PER_YEAR:
        notes.append(
            f"horizon is {len(ts)} h (< 1 year): commitment costs are amortised per hour, i.e. the horizon is "
            "taken as representative of the whole term"
        )
    per_inst = [catalog[f].instance_gpus() for f in families]
    unknown = [f for f, g in zip(families, per_inst, strict=True) if g is None and catalog[f].reserved]
    if unknown:
        notes.append("GPUs per instance unknown for " + ", ".join(unknown) + " (no instance_type in the bundled "
                     "catalog and no gpus_per_instance): their reservations are recommended in GPUs")
    return CapacityInputs(
        families=tuple(families), timestamps=ts, sample_ids=np.asarray(samples), demand=demand, on_demand=od,
        reserved=reserved, terms=terms, commit_rate=commit_rate, spot_price=price, spot_overhead=overhead,
        spot_available=avail, preemptible_share=float(scenario.demand.preemptible_share), on_demand_quota=quota,
        policies=scenario.policies, notes=tuple(notes),
        gpus_per_instance=np.array([np.nan if g is None else float(g) for g in per_inst]),
        on_demand_change=np.array([catalog[f].on_demand_price_change_per_year for f in families], dtype=float),
        spot_change=np.array([catalog[f].spot_price_change_per_year for f in families], dtype=float),
        commit_discount=1.0 - commit_rate / od[None, :],
    )
