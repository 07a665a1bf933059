"""Hierarchies of demand series and forecast reconciliation (bottom-up and MinT with shrinkage).

Series naming follows ``docs/architecture.md``: a family series is ``a100``, a team below it is
``a100/vc8Sj`` (deeper levels work the same way).  A series is *bottom* when no other series names it as
parent.  ``S`` (nodes x bottom) sums bottom series into every node.

Reconciliation makes forecasts add up: ``y~ = S G y^``.  Bottom-up takes ``G`` = pick the bottom
forecasts; MinT (Wickramasuriya, Athanasopoulos & Hyndman 2019) uses
``G = (S' W^-1 S)^-1 S' W^-1`` with ``W`` the covariance of in-sample one-step errors, shrunk towards its
diagonal (Schäfer & Strimmer 2005) so it is well conditioned with short histories.  Because ``G S = I``,
MinT leaves already-coherent forecasts unchanged.

The same projection is applied to every sample path (per sample and hour), so reconciled paths add up
too.  Sample paths of different series come from independent simulations; before projecting, whole
paths are re-paired across series (permuting sample ids, each path kept intact) so that their levels
are correlated like the series' residuals (a Gaussian copula on path means).  Demand is non-negative:
reconciled bottom values are clipped at 0 and every node is re-summed from them, so coherence is exact.

Same numbers on every machine: the copula draws its correlated normals through the (unique) Cholesky
factor of the shrunk correlation, and every product and solve here runs in :mod:`forecasting.linalg`
(fixed summation order, no BLAS or LAPACK), so paths, their pairing and the reconciled values do not
depend on the CPU's BLAS kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.linalg import cho_solve, cholesky, matmul
from scenarios.errors import InputError

Method = Literal["bottom_up", "mint_shrink"]


def parent_of(series_id: str) -> str | None:
    """Parent series of ``a100/team`` (``a100``); None for a top-level series."""
    return series_id.rsplit("/", 1)[0] if "/" in series_id else None


@dataclass(frozen=True)
class Hierarchy:
    """Nodes, bottom series and the summing matrix ``S`` (nodes x bottom)."""

    nodes: list[str]
    bottom: list[str]
    S: np.ndarray

    @property
    def is_trivial(self) -> bool:
        """True when no series has a parent in the set (nothing to reconcile)."""
        return len(self.nodes) == len(self.bottom)

    def children(self, node: str) -> list[str]:
        """Direct children of ``node`` among the nodes."""
        return [n for n in self.nodes if parent_of(n) == node]

    def ancestors(self, node: str) -> list[str]:
        """Ancestors of ``node`` present among the nodes, nearest first."""
        out = []
        p = parent_of(node)
        while p is not None:
            if p in self.nodes:
                out.append(p)
            p = parent_of(p)
        return out


def build_hierarchy(series_ids: Sequence[str]) -> Hierarchy:
    """Hierarchy of ``series_ids`` from their names (``family/team``).

    Examples
    --------
    >>> h = build_hierarchy(["a100", "a100/x", "a100/y", "h100"])
    >>> h.bottom, h.S.tolist()
    (['a100/x', 'a100/y', 'h100'], [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    """
    nodes = sorted(dict.fromkeys(str(s) for s in series_ids))
    present = set(nodes)

    def _anc(n: str) -> set[str]:
        out = set()
        p = parent_of(n)
        while p is not None:
            if p in present:
                out.add(p)
            p = parent_of(p)
        return out

    has_child = set()
    for n in nodes:
        has_child |= _anc(n)
    bottom = [n for n in nodes if n not in has_child]
    S = np.zeros((len(nodes), len(bottom)))
    idx = {n: i for i, n in enumerate(nodes)}
    for j, b in enumerate(bottom):
        S[idx[b], j] = 1.0
        for a in _anc(b):
            S[idx[a], j] = 1.0
    return Hierarchy(nodes=nodes, bottom=bottom, S=S)


def shrunk_covariance(residuals: np.ndarray) -> tuple[np.ndarray, float]:
    """Covariance of residuals (T x n) with correlations shrunk towards 0 (Schäfer & Strimmer 2005).

    Returns
    -------
    (W, lambda)
        The shrunk covariance [GPUs^2] and the shrinkage intensity in [0, 1].
    """
    x = np.asarray(residuals, dtype=float)
    t, n = x.shape
    sd = x.std(axis=0, ddof=1) if t > 1 else np.ones(n)
    sd = np.where(sd > 0, sd, 1e-9)
    z = (x - x.mean(axis=0)) / sd
    if n == 1 or t < 3:
        return np.diag(sd**2), 1.0
    w = z[:, :, None] * z[:, None, :]  # (t, n, n) products, summed over t row by row below
    r = w.sum(axis=0) / (t - 1)
    var_r = w.var(axis=0, ddof=1) * t / (t - 1) ** 2
    off = ~np.eye(n, dtype=bool)
    denom = float((r[off] ** 2).sum())
    lam = float(np.clip(var_r[off].sum() / denom, 0.0, 1.0)) if denom > 0 else 1.0
    r_shrunk = np.where(off, (1.0 - lam) * r, 1.0)
    return r_shrunk * np.outer(sd, sd), lam


def projection(h: Hierarchy, method: Method, W: np.ndarray | None = None) -> np.ndarray:
    """``G`` (bottom x nodes) so that ``S @ G`` maps base forecasts of all nodes to coherent ones."""
    nb = len(h.bottom)
    if method == "bottom_up":
        G = np.zeros((nb, len(h.nodes)))
        for j, b in enumerate(h.bottom):
            G[j, h.nodes.index(b)] = 1.0
        return G
    if W is None:
        raise ValueError("mint_shrink needs the residual covariance W")
    Wr = W + np.eye(W.shape[0]) * (1e-9 * max(float(np.max(np.diag(W))), 1e-12))
    Lw, _ = cholesky(Wr)
    Winv_S = cho_solve(Lw, h.S)
    La, _ = cholesky(matmul(h.S.T, Winv_S))
    return cho_solve(La, Winv_S.T)


def copula_pairing(paths: np.ndarray, corr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Re-pair whole sample paths across series so path levels follow a Gaussian copula with ``corr``.

    Parameters
    ----------
    paths
        Shape ``(n_series, n_paths, h)``.
    corr
        Correlation matrix ``(n_series, n_series)``.  The normals are ``e L'`` with ``L`` its Cholesky
        factor (unique, computed in a fixed order by :func:`forecasting.linalg.cholesky`; a matrix that is
        not numerically positive definite gets the diagonal jitter documented there), so the pairing is
        the same on every machine.
    rng
        Source of the standard normals ``e`` (``npaths x n_series``, drawn row by row).

    Returns
    -------
    ndarray
        Same paths, sample ids permuted per series; each path is unchanged.
    """
    ns, npaths, _ = paths.shape
    if ns < 2 or npaths < 2:
        return paths
    L, _ = cholesky(np.asarray(corr, dtype=float))
    e = rng.standard_normal((npaths, ns))
    z = matmul(L, e.T).T  # (npaths, ns): row p is L e_p
    out = np.empty_like(paths)
    for i in range(ns):
        by_level = np.argsort(paths[i].mean(axis=1), kind="stable")
        rank = np.argsort(np.argsort(z[:, i], kind="stable"), kind="stable")
        out[i] = paths[i][by_level[rank]]
    return out


def _corr(W: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.clip(np.diag(W), 1e-18, None))
    c = W / np.outer(d, d)
    np.fill_diagonal(c, 1.0)
    return np.asarray(c)


def residual_matrix(residuals: pd.DataFrame, nodes: Sequence[str]) -> np.ndarray:
    """In-sample residuals as a (T x nodes) matrix on the hours where every node has one."""
    wide = residuals.pivot_table(index="timestamp", columns="series_id", values="residual", aggfunc="mean")
    wide = wide.reindex(columns=list(nodes))
    return np.asarray(wide.dropna(how="any").to_numpy(dtype=float))


def reconcile(forecast: pd.DataFrame, paths: pd.DataFrame | None = None, *,
              residuals: pd.DataFrame | None = None, method: Method = "mint_shrink",
              levels: Sequence[float] | None = None, seed: int = 0,
              sd: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """Make forecasts (and paths) of a ``family/team`` hierarchy add up.

    Parameters
    ----------
    forecast
        ``series_id, timestamp, model, mean, lo_<level>, hi_<level>`` (same timestamps for every series).
    paths
        ``series_id, timestamp, sample_id, gpus`` or None.
    residuals
        ``series_id, timestamp, residual`` in-sample one-step errors [GPUs]; needed by ``mint_shrink``.
    method
        ``"bottom_up"`` or ``"mint_shrink"``.
    levels
        Interval levels [%] to recompute; default: those found in ``forecast``.
    seed
        Seed for pairing paths across series.
    sd
        ``series_id, timestamp, sd``: base predictive standard deviations [GPUs] used for the reconciled
        intervals; default: derived from the widest interval.

    Returns
    -------
    (forecast, paths, notes)
        Reconciled frames (same columns) and notes on what was done.
    """
    notes: list[str] = []
    h = build_hierarchy([str(x) for x in forecast["series_id"].unique()])
    if h.is_trivial:
        return forecast, paths, ["no hierarchy (no family/team series): nothing to reconcile"]
    if levels is None:
        levels = sorted(float(c[3:]) for c in forecast.columns if c.startswith("lo_"))
    fc = forecast.sort_values(["series_id", "timestamp"], kind="stable")
    wide_mean = fc.pivot(index="timestamp", columns="series_id", values="mean").reindex(columns=h.nodes)
    if wide_mean.isna().any().any():
        ends = forecast.groupby("series_id")["timestamp"].min().sort_values()
        raise InputError(
            "every series must end its history at the same hour to reconcile; forecasts start at "
            + ", ".join(f"{sid} {t:%Y-%m-%d %H:%M}Z" for sid, t in ends.items()),
            column="timestamp",
            fix="give every family and team the same last hour (an hour with no use is 0, a missing one NaN)",
        )
    base = wide_mean.to_numpy(dtype=float).T  # nodes x hours
    n = len(h.nodes)
    W = None
    if method == "mint_shrink":
        res = residual_matrix(residuals, h.nodes) if residuals is not None else np.empty((0, n))
        if res.shape[0] >= 10:
            W, lam = shrunk_covariance(res)
            notes.append(f"MinT-shrink on {res.shape[0]} hours of one-step residuals (shrinkage {lam:.2f})")
        else:
            var = np.nanvar(base, axis=1) + 1e-9
            W = np.diag(var)
            notes.append("too few common residual hours for MinT: weighted by forecast variance instead")
    G = projection(h, method, W)
    P_bottom = G  # bottom = G @ base

    def _coherent(x: np.ndarray) -> np.ndarray:
        b = np.maximum(matmul(P_bottom, x), 0.0)
        return matmul(h.S, b)

    rec = _coherent(base)
    # intervals: Gaussian with the projected covariance
    if sd is not None:
        wide_sd = sd.pivot(index="timestamp", columns="series_id", values="sd").reindex(columns=h.nodes)
        base_sd = wide_sd.to_numpy(dtype=float).T
    else:
        top = max(levels) if levels else None
        if top is not None:
            z = stats.norm.ppf(0.5 + top / 200.0)
            hi = fc.pivot(index="timestamp", columns="series_id", values=f"hi_{top:g}").reindex(columns=h.nodes)
            lo = fc.pivot(index="timestamp", columns="series_id", values=f"lo_{top:g}").reindex(columns=h.nodes)
            base_sd = ((hi - lo).to_numpy(dtype=float).T) / (2 * z)
        else:
            base_sd = np.zeros_like(base)
    corr = _corr(W) if W is not None else np.eye(n)
    SG = matmul(h.S, G)
    # var_i(t) = sum_jk u_ij corr_jk u_ik with u_ij = SG_ij sd_j(t), summed in a fixed order
    u = SG[:, :, None] * base_sd[None, :, :]  # (n, n, T)
    cu = np.zeros_like(u)
    for k in range(n):
        cu += corr[None, :, k, None] * u[:, k, None, :]
    var = np.zeros((n, base_sd.shape[1]))
    for j in range(n):
        var += u[:, j, :] * cu[:, j, :]
    rec_sd = np.sqrt(np.clip(var, 0.0, None))
    out = fc.copy()
    pos = {s: i for i, s in enumerate(h.nodes)}
    times = {t: j for j, t in enumerate(wide_mean.index)}
    ri = out["series_id"].map(pos).to_numpy()
    ci = out["timestamp"].map(times).to_numpy()
    out["mean"] = rec[ri, ci]
    for lv in levels:
        z = stats.norm.ppf(0.5 + lv / 200.0)
        out[f"lo_{lv:g}"] = np.maximum(rec[ri, ci] - z * rec_sd[ri, ci], 0.0)
        out[f"hi_{lv:g}"] = np.maximum(rec[ri, ci] + z * rec_sd[ri, ci], 0.0)
    out["model"] = out["model"].astype(str) + f"+{method}"
    notes.append(f"reconciled {n} series ({len(h.bottom)} bottom) by {method}")
    out_paths = None
    if paths is not None and len(paths):
        out_paths = _reconcile_paths(paths, h, P_bottom, corr, seed, list(wide_mean.index))
    return out.reset_index(drop=True), out_paths, notes


def _reconcile_paths(paths: pd.DataFrame, h: Hierarchy, G: np.ndarray, corr: np.ndarray, seed: int,
                     times: list[pd.Timestamp]) -> pd.DataFrame:
    p = paths.sort_values(["series_id", "sample_id", "timestamp"], kind="stable")
    n_paths = int(p["sample_id"].nunique())
    hz = len(times)
    arr = np.empty((len(h.nodes), n_paths, hz))
    for i, s in enumerate(h.nodes):
        vals = p.loc[p["series_id"] == s, "gpus"].to_numpy(dtype=float)
        if vals.size != n_paths * hz:
            raise ValueError(f"series {s}: expected {n_paths} paths of {hz} hours")
        arr[i] = vals.reshape(n_paths, hz)
    arr = copula_pairing(arr, corr, np.random.default_rng(seed))
    bottom = np.maximum(matmul(G, arr), 0.0)
    rec = matmul(h.S, bottom)  # nodes x paths x hours
    ts = pd.DatetimeIndex(times)
    frames = []
    for i, s in enumerate(h.nodes):
        frames.append(pd.DataFrame({
            "series_id": s,
            "timestamp": np.tile(ts, n_paths),
            "sample_id": np.repeat(np.arange(n_paths), hz),
            "gpus": rec[i].ravel(),
        }))
    return pd.concat(frames, ignore_index=True)
