"""Inference serving economics: choose a warm floor and policy under an SLO, price the options.

Works on plain tables from a replay (any engine can produce them): per candidate policy, the replica-hours
of the warm floor and of the autoscaled replicas, busy replica-hours, requests, tokens and SLO attainment.

Pricing options of one model (all USD):

- ``api``: every request through the API at its per-token prices;
- ``on-demand``: every replica-hour at the family's on-demand rate;
- ``floor <product> + burst on-demand``: the warm floor at a commitment's effective rate (the floor runs every
  hour, so it is used 100 % of its term), replicas above it on demand;
- ``static peak <product>``: enough replicas for the SLO at peak, all hours at the commitment's rate;
- ``floor <product> + burst spot`` / ``all spot``: replicas on spot paid at the spot price of each hour
  (``spot_cost_usd`` of the row), the rest as above (``all spot``: the rest, i.e. on-demand replacements, on
  demand);
- a warm floor that varies by hour of day (:func:`choose_block_floors`): only its minimum over the hours can be
  committed (it runs every hour); the rest of it, like the burst, is paid on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

MILLION = 1e6

FloatOrArray = TypeVar("FloatOrArray", float, np.ndarray)


@dataclass(frozen=True)
class ReplicaPrices:
    """Rates of one replica of a model [USD/replica-hour]: on demand and per commitment product."""

    on_demand: float
    commitments: dict[str, float]

    @classmethod
    def from_gpu_rates(cls, gpus_per_replica: int, on_demand_usd_per_gpu_hour: float,
                       commitments_usd_per_gpu_hour: dict[str, float]) -> ReplicaPrices:
        """Replica rates from per-GPU rates [USD/GPU-hour] times GPUs per replica."""
        return cls(gpus_per_replica * on_demand_usd_per_gpu_hour,
                   {k: gpus_per_replica * v for k, v in commitments_usd_per_gpu_hour.items()})

    def best_commitment(self) -> tuple[str, float]:
        """Cheapest commitment product and its rate [USD/replica-hour]; on demand when none is cheaper."""
        best = ("on-demand", self.on_demand)
        for k, v in sorted(self.commitments.items()):
            if v < best[1]:
                best = (k, v)
        return best


def api_usd_per_request(input_tokens: float, output_tokens: float, usd_per_million_input: float,
                        usd_per_million_output: float) -> float:
    """API cost of one request [USD] from its tokens and the per-million-token prices."""
    return (input_tokens * usd_per_million_input + output_tokens * usd_per_million_output) / MILLION


def break_even_requests_per_hour(replica_usd_per_hour: float, api_usd_per_request_: float) -> float:
    """Request rate at which one always-on replica costs as much as the API [requests/h].

    Below it the API is cheaper; above it (up to what the replica can serve within the SLO) self-hosting is.
    """
    if api_usd_per_request_ <= 0:
        return float("inf")
    return replica_usd_per_hour / api_usd_per_request_


def option_costs(row: pd.Series | dict[str, float], prices: ReplicaPrices, api_per_request: float | None
                 ) -> dict[str, float]:
    """Cost [USD] of one replayed policy under each option (see the module docstring).

    ``row`` needs ``floor_replica_hours``, ``autoscaled_replica_hours``, ``requests`` and ``api_overflow``
    (requests sent to the API, paid at ``api_per_request``).
    ``spot`` (``burst`` or ``all``; default none) with ``spot_replica_hours``, ``spot_floor_replica_hours``
    and ``spot_cost_usd`` prices the spot replica-hours at ``spot_cost_usd`` and the rest as usual.
    """
    spot_h = float(row.get("spot_replica_hours", 0.0) or 0.0)
    spot_floor_h = float(row.get("spot_floor_replica_hours", 0.0) or 0.0)
    floor = float(row["floor_replica_hours"]) - spot_floor_h
    burst = float(row["autoscaled_replica_hours"]) - (spot_h - spot_floor_h)
    overflow = float(row.get("api_overflow", 0.0)) * (api_per_request or 0.0)
    mode = str(row.get("spot", "none") or "none")
    if mode in ("none", "nan"):
        out = {"on-demand": (floor + burst) * prices.on_demand + overflow}
        for k, rate in sorted(prices.commitments.items() if floor > 0 else []):   # no floor, nothing to commit
            out[f"floor {k} + burst on-demand"] = floor * rate + burst * prices.on_demand + overflow
        return out
    spot_usd = float(row["spot_cost_usd"])
    if mode == "all":
        return {"all spot": (floor + burst) * prices.on_demand + spot_usd + overflow}
    out = {"floor on-demand + burst spot": (floor + burst) * prices.on_demand + spot_usd + overflow}
    for k, rate in sorted(prices.commitments.items() if floor > 0 else []):
        out[f"floor {k} + burst spot"] = floor * rate + burst * prices.on_demand + spot_usd + overflow
    return out


def choose_policy(sweep: pd.DataFrame, prices: ReplicaPrices, slo_quantile: float,
                  api_per_request: float | None = None) -> tuple[pd.DataFrame, pd.Series | None]:
    """Cost every swept policy at its best option; pick the cheapest that meets the SLO.

    Parameters
    ----------
    sweep
        One row per policy: ``min_warm_replicas``, ``target_utilization``, ``slo_attainment``,
        ``floor_replica_hours``, ``autoscaled_replica_hours``, ``requests``, ``api_overflow``.
    prices
        Replica rates.
    slo_quantile
        Share of requests that must meet the latency targets [fraction].
    api_per_request
        API cost of an overflowed request [USD].

    Returns
    -------
    (pandas.DataFrame, pandas.Series or None)
        The sweep with ``cost_usd`` (best option), ``option`` and ``meets_slo``; the chosen row (None when no
        policy meets the SLO).
    """
    out = sweep.copy()
    costs = [option_costs(r, prices, api_per_request) for _, r in out.iterrows()]
    best = [min(c.items(), key=lambda kv: (kv[1], kv[0])) for c in costs]
    out["option"] = [b[0] for b in best]
    out["cost_usd"] = [b[1] for b in best]
    out["meets_slo"] = out["slo_attainment"] >= slo_quantile
    ok = out[out["meets_slo"]]
    if ok.empty:
        return out, None
    order = ok.sort_values(["cost_usd", "min_warm_replicas", "target_utilization"], kind="stable")
    return out, order.iloc[0]


def smallest_static(meets: Callable[[int], bool], lo: int, hi: int) -> int | None:
    """Smallest replica count in ``[lo, hi]`` for which ``meets(c)`` holds (assumed monotone).

    Gallops up from ``lo`` (lo, 2 lo, 4 lo, ... capped at ``hi``), then bisects the last step, so small answers
    cost few evaluations.
    """
    c = max(lo, 1)
    prev = lo - 1
    while not meets(c):
        if c >= hi:
            return None
        prev, c = c, min(2 * c, hi)
    lo, hi = prev + 1, c
    while lo < hi:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def unit_costs(hourly: pd.DataFrame, floor_rate: float, burst_rate: float, api_per_request: float = 0.0,
               spot_rate: np.ndarray | float | None = None, committed_replicas: float | None = None
               ) -> pd.DataFrame:
    """Cost per 1,000 requests and per million tokens, on the allocation and the usage basis, per hour.

    Allocation basis: every paid replica-hour (idle included) is charged to the requests.  Usage basis: only
    busy replica-hours, charged at the rate of the replicas they ran on in proportion (idle time is left as a
    separate line, ``idle_cost_usd``).

    Parameters
    ----------
    hourly
        Per hour: ``floor_replica_hours``, ``autoscaled_replica_hours``, ``busy_replica_hours``,
        ``requests``, ``input_tokens``, ``output_tokens``, ``api_overflow``.
    floor_rate, burst_rate
        Rates of floor and autoscaled replicas [USD/replica-hour].
    api_per_request
        API cost of an overflowed request [USD].
    spot_rate
        Spot rate of a replica in each hour (or one rate) [USD/replica-hour]; spot replica-hours
        (``spot_replica_hours``, of which ``spot_floor_replica_hours`` in the floor) are paid at it.
    committed_replicas
        Replicas of the floor paid at ``floor_rate`` (a floor varying by hour commits only its minimum); the
        rest of the floor is paid at ``burst_rate``.  Default: the whole floor.

    Returns
    -------
    pandas.DataFrame
        ``hourly`` plus ``cost_usd``, ``usage_cost_usd``, ``idle_cost_usd``, ``usd_per_1k_requests``,
        ``usd_per_million_tokens`` (allocation), ``usage_usd_per_1k_requests``,
        ``usage_usd_per_million_tokens``.
    """
    h = hourly.copy()
    paid = h["floor_replica_hours"] + h["autoscaled_replica_hours"]
    spot_h = h["spot_replica_hours"] if (spot_rate is not None and "spot_replica_hours" in h) else 0.0 * paid
    spot_floor_h = h["spot_floor_replica_hours"] if (spot_rate is not None and "spot_floor_replica_hours" in h) \
        else 0.0 * paid
    floor_h = h["floor_replica_hours"] - spot_floor_h
    committed = floor_h if committed_replicas is None else np.minimum(floor_h, float(committed_replicas))
    rest = paid - spot_h - committed
    replica_cost = committed * floor_rate + rest * burst_rate + spot_h * (0.0 if spot_rate is None else spot_rate)
    mean_rate = np.where(paid > 0, replica_cost / paid.where(paid > 0, 1.0), 0.0)
    api = h.get("api_overflow", 0.0) * api_per_request
    h["cost_usd"] = replica_cost + api
    h["usage_cost_usd"] = h["busy_replica_hours"] * mean_rate + api
    h["idle_cost_usd"] = h["cost_usd"] - h["usage_cost_usd"]
    tokens = h["input_tokens"] + h["output_tokens"]
    with np.errstate(divide="ignore", invalid="ignore"):
        h["usd_per_1k_requests"] = h["cost_usd"] / h["requests"] * 1e3
        h["usd_per_million_tokens"] = h["cost_usd"] / tokens * MILLION
        h["usage_usd_per_1k_requests"] = h["usage_cost_usd"] / h["requests"] * 1e3
        h["usage_usd_per_million_tokens"] = h["usage_cost_usd"] / tokens * MILLION
    return h


def period_unit_costs(hourly_costs: pd.DataFrame) -> dict[str, float]:
    """Totals and unit costs over the whole period from :func:`unit_costs`' output (sums, then ratios)."""
    req = float(hourly_costs["requests"].sum())
    tok = float((hourly_costs["input_tokens"] + hourly_costs["output_tokens"]).sum())
    cost = float(hourly_costs["cost_usd"].sum())
    usage = float(hourly_costs["usage_cost_usd"].sum())
    return {
        "requests": req, "tokens": tok, "cost_usd": cost, "usage_cost_usd": usage,
        "idle_cost_usd": cost - usage,
        "usd_per_1k_requests": cost / req * 1e3 if req else float("nan"),
        "usd_per_million_tokens": cost / tok * MILLION if tok else float("nan"),
        "usage_usd_per_1k_requests": usage / req * 1e3 if req else float("nan"),
        "usage_usd_per_million_tokens": usage / tok * MILLION if tok else float("nan"),
    }


def team_unit_costs(requests: pd.DataFrame, total_cost_usd: float, usage_cost_usd: float) -> pd.DataFrame:
    """Split costs to teams by their share of tokens; cost per 1,000 requests and per million tokens per team.

    ``requests`` needs ``team``, ``input_tokens``, ``output_tokens``.
    """
    tok = requests["input_tokens"] + requests["output_tokens"]
    g = pd.DataFrame({"team": requests["team"].replace("", "(none)"), "tokens": tok}).groupby("team")
    t = pd.DataFrame({"requests": g.size(), "tokens": g["tokens"].sum()})
    share = t["tokens"] / t["tokens"].sum()
    t["cost_usd"] = share * total_cost_usd
    t["usage_cost_usd"] = share * usage_cost_usd
    t["usd_per_1k_requests"] = t["cost_usd"] / t["requests"] * 1e3
    t["usd_per_million_tokens"] = t["cost_usd"] / t["tokens"] * MILLION
    t["usage_usd_per_1k_requests"] = t["usage_cost_usd"] / t["requests"] * 1e3
    return t.reset_index()


def energy_kwh(busy_replica_hours: FloatOrArray, idle_replica_hours: FloatOrArray, gpus_per_replica: int,
               gpu_power_kw: float, pue: float, idle_power_share: float) -> FloatOrArray:
    """Site energy of the replicas [kWh]: busy at full power, idle at ``idle_power_share`` of it, times PUE."""
    return gpus_per_replica * gpu_power_kw * pue * (busy_replica_hours + idle_power_share * idle_replica_hours)


def warm_floor_demand(floors: Mapping[str, float | np.ndarray], start: pd.Timestamp, hours: int) -> pd.DataFrame:
    """The warm floor as an hourly demand series per family (``series_id, timestamp, gpus, committable_gpus``).

    A floor is one number [GPUs] or 24 numbers, one per hour of day (UTC) [GPUs].  A flat floor runs every
    hour, so all of it is steady demand a capacity optimiser can commit against next to the training demand; of
    a floor that varies by hour only its minimum (``committable_gpus``) runs every hour, the rest is demand for
    some hours of the day only (on demand or spot).
    """
    idx = pd.date_range(start, periods=hours, freq="h")
    hod = np.asarray(idx.tz_convert("UTC").hour if idx.tz is not None else idx.hour)
    frames = []
    for fam, g in sorted(floors.items()):
        arr = np.broadcast_to(np.asarray(g, dtype=float), (24,))   # one number: the same every hour
        frames.append(pd.DataFrame({"series_id": fam, "timestamp": idx, "gpus": arr[hod],
                                    "committable_gpus": float(np.min(arr))}))
    if not frames:
        return pd.DataFrame({"series_id": pd.Series(dtype="string"), "timestamp": pd.Series(dtype="datetime64[ns, UTC]"),
                             "gpus": pd.Series(dtype="float64"), "committable_gpus": pd.Series(dtype="float64")})
    out = pd.concat(frames, ignore_index=True)
    out["series_id"] = out["series_id"].astype("string")
    return out


def sweep_grid(floors: Sequence[int], targets: Sequence[float]) -> list[tuple[int, float]]:
    """Every (warm floor, target utilisation) pair, in a fixed order."""
    return [(int(f), float(t)) for f in sorted(set(floors)) for t in sorted(set(targets))]


def choose_block_floors(met: np.ndarray, replica_hours: np.ndarray, need: int, hours_per_block: np.ndarray,
                        on_demand: float, commit: float) -> tuple[list[int], float] | None:
    """Cheapest warm floor per block of hours that meets the SLO, if blocks are independent.

    Candidate floors are ``0 .. F`` (the columns of ``met``).  The floor's minimum over the blocks, ``m``, is
    committed (it runs every hour); every other replica-hour is paid on demand, so the cost of floors
    ``f_b`` is ``on_demand * sum_b replica_hours[b, f_b] - (on_demand - commit) * m * sum_b hours_b``.
    For each ``m`` a dynamic programme over blocks and met requests (capped at ``need``) finds the cheapest
    floors ``f_b >= m`` with ``sum_b met[b, f_b] >= need``; the cheapest over ``m`` wins.  Exact for the given
    tables; whether the blocks really are independent (backlog carried over an hour boundary, replicas
    pre-warmed before a rise) is for a replay to confirm.

    Parameters
    ----------
    met
        Requests of block ``b`` that meet the SLO with floor ``f`` [requests], shape (blocks, F + 1).
    replica_hours
        Replica-hours paid in block ``b`` with floor ``f`` [replica-h], same shape.
    need
        Requests that must meet the SLO over all blocks [requests].
    hours_per_block
        Hours of the replay in each block [h].
    on_demand, commit
        Rates of an on-demand and a committed replica [USD/replica-hour].

    Returns
    -------
    (list of int, float) or None
        The floor per block [replicas] and its estimated cost [USD]; None when even the largest floors miss.
    """
    met = np.asarray(met, dtype=np.int64)
    rh = np.asarray(replica_hours, dtype=float)
    n_blocks, n_f = met.shape
    need = max(int(need), 0)
    total_h = float(np.sum(hours_per_block))
    best: tuple[list[int], float] | None = None
    for m in range(n_f):
        dp = np.full(need + 1, np.inf)
        dp[0] = 0.0
        picks: list[tuple[np.ndarray, np.ndarray]] = []
        for b in range(n_blocks):
            new = np.full(need + 1, np.inf)
            arg_f = np.full(need + 1, -1, dtype=np.int64)
            arg_s = np.full(need + 1, -1, dtype=np.int64)
            for f in range(m, n_f):
                k = min(int(met[b, f]), need)
                c = on_demand * rh[b, f]
                cand = np.full(need + 1, np.inf)
                src = np.arange(need + 1) - k
                if need > k:
                    cand[k:need] = dp[:need - k] + c
                lo = need - k
                j = lo + int(np.argmin(dp[lo:]))
                cand[need] = dp[j] + c
                src[need] = j
                better = cand < new
                new = np.where(better, cand, new)
                arg_f = np.where(better, f, arg_f)
                arg_s = np.where(better, src, arg_s)
            dp = new
            picks.append((arg_f, arg_s))
        if not np.isfinite(dp[need]):
            continue
        cost = float(dp[need]) - (on_demand - commit) * m * total_h
        floors = [0] * n_blocks
        state = need
        for b in range(n_blocks - 1, -1, -1):
            floors[b] = int(picks[b][0][state])
            state = int(picks[b][1][state])
        if best is None or cost < best[1] - 1e-9:
            best = (floors, cost)
    return best
