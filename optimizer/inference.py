"""Inference serving economics: choose a warm floor and policy under an SLO, price the options.

Works on plain tables from a replay (any engine can produce them): per candidate policy, the replica-hours
of the warm floor and of the autoscaled replicas, busy replica-hours, requests, tokens and SLO attainment.

Pricing options of one model (all USD):

- ``api``: every request through the API at its per-token prices;
- ``on-demand``: every replica-hour at the family's on-demand rate;
- ``floor <product> + burst on-demand``: the warm floor at a commitment's effective rate (the floor runs every
  hour, so it is used 100 % of its term), replicas above it on demand;
- ``static peak <product>``: enough replicas for the SLO at peak, all hours at the commitment's rate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MILLION = 1e6


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
    """
    floor = float(row["floor_replica_hours"])
    burst = float(row["autoscaled_replica_hours"])
    overflow = float(row.get("api_overflow", 0.0)) * (api_per_request or 0.0)
    out = {"on-demand": (floor + burst) * prices.on_demand + overflow}
    for k, rate in sorted(prices.commitments.items()):
        out[f"floor {k} + burst on-demand"] = floor * rate + burst * prices.on_demand + overflow
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


def unit_costs(hourly: pd.DataFrame, floor_rate: float, burst_rate: float, api_per_request: float = 0.0
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

    Returns
    -------
    pandas.DataFrame
        ``hourly`` plus ``cost_usd``, ``usage_cost_usd``, ``idle_cost_usd``, ``usd_per_1k_requests``,
        ``usd_per_million_tokens`` (allocation), ``usage_usd_per_1k_requests``,
        ``usage_usd_per_million_tokens``.
    """
    h = hourly.copy()
    paid = h["floor_replica_hours"] + h["autoscaled_replica_hours"]
    replica_cost = h["floor_replica_hours"] * floor_rate + h["autoscaled_replica_hours"] * burst_rate
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


def energy_kwh(busy_replica_hours: float, idle_replica_hours: float, gpus_per_replica: int, gpu_power_kw: float,
               pue: float, idle_power_share: float) -> float:
    """Site energy of the replicas [kWh]: busy at full power, idle at ``idle_power_share`` of it, times PUE."""
    return gpus_per_replica * gpu_power_kw * pue * (busy_replica_hours + idle_power_share * idle_replica_hours)


def warm_floor_demand(floors: dict[str, float], start: pd.Timestamp, hours: int) -> pd.DataFrame:
    """The warm floor as an hourly demand series per family (``series_id, timestamp, gpus``) [GPUs].

    The floor runs every hour, so it is steady demand a capacity optimiser can commit against next to the
    training demand.
    """
    idx = pd.date_range(start, periods=hours, freq="h")
    frames = [pd.DataFrame({"series_id": fam, "timestamp": idx, "gpus": float(g)}) for fam, g in sorted(floors.items())]
    if not frames:
        return pd.DataFrame({"series_id": pd.Series(dtype="string"), "timestamp": pd.Series(dtype="datetime64[ns, UTC]"),
                             "gpus": pd.Series(dtype="float64")})
    out = pd.concat(frames, ignore_index=True)
    out["series_id"] = out["series_id"].astype("string")
    return out


def sweep_grid(floors: Sequence[int], targets: Sequence[float]) -> list[tuple[int, float]]:
    """Every (warm floor, target utilisation) pair, in a fixed order."""
    return [(int(f), float(t)) for f in sorted(set(floors)) for t in sorted(set(targets))]
