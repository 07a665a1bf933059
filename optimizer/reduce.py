"""Reduce hours to a few weighted representative hours (a load-duration curve, binned).

When no constraint links one hour to another, the capacity model's cost depends on the hours only
through the distribution of the per-hour vector (demand of each family, and spot price and availability
where they vary): the order of hours does not matter.  So hours can be sorted and binned: with one varying
quantity this is the classic load-duration curve cut into equal-count blocks; with several (several
families sharing a commitment, or hourly spot prices) it bins on the joint values.

:func:`bin_hours` splits the set of hours recursively, always the cell whose (count x widest scaled
spread) is largest, at the median of that widest dimension (a k-d tree grown best-first), and represents
each cell by its mean vector with the cell's hour count as weight.  Scaling each dimension by its cost
per unit (USD per GPU-hour) makes "widest" mean "most dollars at stake".  Each cell's mean is exact for
cost terms that are linear inside the cell; the error comes from cells that straddle a capacity level,
and shrinks as cells get narrower (checked against the full hourly model in the tests and benchmarks).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

#: Above this many rows, skip the exact de-duplication pass (a row sort) and split directly.
_UNIQUE_MAX_ROWS = 50_000


@dataclass(frozen=True)
class Bins:
    """Representative hours.

    Attributes
    ----------
    labels
        Cell of each input row, shape (n,).
    centers
        Mean vector of each cell, shape (B, d).
    counts
        Rows per cell, shape (B,).
    """

    labels: np.ndarray
    centers: np.ndarray
    counts: np.ndarray

    @property
    def n_bins(self) -> int:
        """Number of cells B."""
        return int(self.counts.size)


def bin_hours(x: np.ndarray, max_bins: int | None, scale: np.ndarray | None = None) -> Bins:
    """Bin rows of ``x`` (hours x quantities) into at most ``max_bins`` cells.

    Parameters
    ----------
    x
        One row per hour, one column per quantity (GPUs of a family, spot price, ...), shape (n, d).
    max_bins
        Largest number of cells; None (or >= the distinct rows) keeps every distinct row: exact.
    scale
        Weight of each column when choosing what to split [e.g. USD per unit], shape (d,); default 1.

    Returns
    -------
    Bins
        Labels, centers (cell means) and counts.

    Examples
    --------
    >>> b = bin_hours(np.array([[1.0], [2.0], [10.0], [11.0]]), max_bins=2)
    >>> b.centers.ravel().tolist(), b.counts.tolist()
    ([1.5, 10.5], [2, 2])
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, d = x.shape
    w = np.ones(d) if scale is None else np.asarray(scale, dtype=float)
    if max_bins is None or n <= _UNIQUE_MAX_ROWS:
        uniq, inv = np.unique(x, axis=0, return_inverse=True)
        inv = inv.ravel()
        if max_bins is None or uniq.shape[0] <= max_bins:
            counts = np.bincount(inv, minlength=uniq.shape[0])
            return Bins(labels=inv, centers=uniq, counts=counts)
    # (on many rows the splitting below also ends with one cell per distinct row when they are few:
    # a cell of identical rows has zero spread and is never split)
    xs = x * w[None, :]
    cells: list[np.ndarray] = []
    heap: list[tuple[float, int]] = []

    def push(idx: np.ndarray) -> None:
        sub = xs[idx]
        spread = sub.max(axis=0) - sub.min(axis=0)
        score = float(spread.max()) * idx.size
        cells.append(idx)
        heapq.heappush(heap, (-score, len(cells) - 1))

    push(np.arange(n))
    done: list[np.ndarray] = []
    while heap and len(done) + len(heap) < max_bins:
        neg, ci = heapq.heappop(heap)
        idx = cells[ci]
        if neg == 0.0:
            done.append(idx)
            break
        sub = xs[idx]
        j = int(np.argmax(sub.max(axis=0) - sub.min(axis=0)))
        v = sub[:, j]
        med = float(np.median(v))
        left = v <= med
        if left.all():
            left = v < med
        push(idx[left])
        push(idx[~left])
    done.extend(cells[ci] for _, ci in heap)
    labels = np.empty(n, dtype=np.int64)
    centers = np.empty((len(done), d))
    counts = np.empty(len(done), dtype=np.int64)
    # deterministic order: by the cell's first row
    done.sort(key=lambda a: int(a.min()))
    for b, idx in enumerate(done):
        labels[idx] = b
        centers[b] = x[idx].mean(axis=0)
        counts[b] = idx.size
    return Bins(labels=labels, centers=centers, counts=counts)
