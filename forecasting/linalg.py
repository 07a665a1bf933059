"""Small dense linear algebra that gives the same bits on every machine (no BLAS or LAPACK call).

``numpy.linalg`` and the ``@`` operator hand their work to OpenBLAS, whose kernel is chosen at run time
from the CPU (``OPENBLAS_CORETYPE`` overrides it).  Kernels add products in different orders, so results
differ in the last bits, and an eigendecomposition may even return different (equally valid) vectors.
When such numbers feed a discrete step (ranking sample paths, binning demand, a solver's choice of
vertex) a plan can change from one machine to the next.

The functions here run every sum in one fixed order with element-wise numpy operations (each a single
IEEE-754 rounding, never fused), so the result depends only on the inputs.  They are meant for the small
matrices of a forecast hierarchy (tens of series); the cost is O(n^3) Python-level steps.

Examples
--------
>>> import numpy as np
>>> L, jitter = cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
>>> L.tolist(), jitter
([[2.0, 0.0], [1.0, 2.0]], 0.0)
>>> cho_solve(L, np.array([[8.0], [9.0]])).ravel().tolist()
[1.375, 1.25]
>>> matmul(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])).tolist()
[[11.0]]
"""

from __future__ import annotations

import math

import numpy as np

#: First diagonal jitter tried when a matrix is not numerically positive definite, relative to its
#: largest diagonal element [-]; it grows tenfold per attempt up to :data:`MAX_JITTER`.
FIRST_JITTER = 1e-10
#: Largest relative jitter before giving up [-].
MAX_JITTER = 1e-2


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` summed over the inner index in increasing order (no BLAS).

    Parameters
    ----------
    a
        Shape ``(m, k)``.
    b
        Shape ``(k, ...)``: any trailing shape (a tensordot over ``a``'s last and ``b``'s first axis).

    Returns
    -------
    ndarray
        Shape ``(m, ...)``: ``sum_j a[:, j] * b[j]`` with ``j = 0, 1, ...`` added in that order.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim != 2 or b.ndim < 1 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align")
    extra = (1,) * (b.ndim - 1)
    out = np.zeros((a.shape[0], *b.shape[1:]))
    for j in range(a.shape[1]):
        out += a[:, j].reshape(-1, *extra) * b[j][None]
    return out


def _try_cholesky(a: np.ndarray) -> np.ndarray | None:
    n = a.shape[0]
    L = np.zeros((n, n))
    for j in range(n):
        d = float(a[j, j])
        for k in range(j):
            d -= float(L[j, k]) * float(L[j, k])
        if not d > 0.0 or not math.isfinite(d):
            return None
        L[j, j] = math.sqrt(d)
        if j + 1 < n:
            col = a[j + 1:, j].astype(float).copy()
            for k in range(j):
                col -= L[j + 1:, k] * float(L[j, k])
            L[j + 1:, j] = col / L[j, j]
    return L


def cholesky(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Lower Cholesky factor ``L`` with ``L L' = a + jitter I``, computed in a fixed order.

    The Cholesky factor of a symmetric positive-definite matrix is unique (positive diagonal), unlike an
    eigendecomposition.  When ``a`` is not numerically positive definite (a singular correlation from
    fewer hours than series, or rounding), ``jitter = FIRST_JITTER x max(diag a)`` is added to the
    diagonal and multiplied by 10 until the factorisation succeeds (at most ``MAX_JITTER x max(diag a)``).

    Parameters
    ----------
    a
        Symmetric matrix ``(n, n)``; only the lower triangle is read.

    Returns
    -------
    (L, jitter)
        The factor and the diagonal jitter that was added (0.0 when none) [units of ``a``].

    Raises
    ------
    numpy.linalg.LinAlgError
        When even the largest jitter leaves ``a`` indefinite.
    """
    a = np.asarray(a, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"cholesky: a square matrix is needed, got shape {a.shape}")
    if a.shape[0] == 0:
        return np.zeros((0, 0)), 0.0
    L = _try_cholesky(a)
    if L is not None:
        return L, 0.0
    scale = max(float(np.max(np.abs(np.diag(a)))), 1e-300)
    rel = FIRST_JITTER
    eye = np.eye(a.shape[0])
    while rel <= MAX_JITTER * (1 + 1e-12):
        L = _try_cholesky(a + eye * (rel * scale))
        if L is not None:
            return L, rel * scale
        rel *= 10.0
    raise np.linalg.LinAlgError("matrix is not positive definite even with a diagonal jitter of "
                                f"{MAX_JITTER:g} x its largest diagonal element")


def cho_solve(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``(L L') x = b`` by forward and back substitution in a fixed order.

    Parameters
    ----------
    L
        Lower Cholesky factor ``(n, n)``.
    b
        Right-hand side(s), shape ``(n,)`` or ``(n, m)``.

    Returns
    -------
    ndarray
        ``x`` with the shape of ``b``.
    """
    L = np.asarray(L, dtype=float)
    b = np.asarray(b, dtype=float)
    vec = b.ndim == 1
    y = (b[:, None] if vec else b).copy()
    n = L.shape[0]
    for i in range(n):  # L y = b
        for k in range(i):
            y[i] -= L[i, k] * y[k]
        y[i] /= L[i, i]
    for i in range(n - 1, -1, -1):  # L' x = y
        for k in range(i + 1, n):
            y[i] -= L[k, i] * y[k]
        y[i] /= L[i, i]
    return y[:, 0] if vec else y
