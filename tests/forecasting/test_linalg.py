"""Fixed-order linear algebra: right answers (against numpy/LAPACK and by hand) and a documented jitter."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.hierarchy import copula_pairing
from forecasting.linalg import FIRST_JITTER, cho_solve, cholesky, matmul


def test_cholesky_and_solve_agree_with_lapack_on_random_spd_matrices() -> None:
    rng = np.random.default_rng(4)
    for n in (1, 3, 12):
        x = rng.normal(size=(3 * n, n))
        a = x.T @ x + 0.1 * np.eye(n)
        L, jitter = cholesky(a)
        assert jitter == 0.0
        np.testing.assert_allclose(L, np.linalg.cholesky(a), rtol=1e-10, atol=1e-12)
        b = rng.normal(size=(n, 4))
        np.testing.assert_allclose(cho_solve(L, b), np.linalg.solve(a, b), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(cho_solve(L, b[:, 0]), np.linalg.solve(a, b[:, 0]), rtol=1e-9, atol=1e-12)


def test_matmul_is_a_tensordot_over_the_first_axis() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5, 6))
    np.testing.assert_allclose(matmul(a, b), np.tensordot(a, b, axes=(1, 0)), rtol=1e-12, atol=1e-12)


def test_a_singular_correlation_gets_the_smallest_documented_jitter() -> None:
    # perfectly correlated pair: [[1, 1], [1, 1]] is singular; the first jitter 1e-10 makes it PD
    a = np.ones((2, 2))
    L, jitter = cholesky(a)
    assert jitter == pytest.approx(FIRST_JITTER)
    # by hand: L = [[sqrt(1+j), 0], [1/sqrt(1+j), sqrt(1+j - 1/(1+j))]]
    j = FIRST_JITTER
    assert L[0, 0] == pytest.approx(np.sqrt(1 + j), rel=1e-15)
    assert L[1, 0] == pytest.approx(1 / np.sqrt(1 + j), rel=1e-15)
    np.testing.assert_allclose(L @ L.T, a + j * np.eye(2), rtol=0, atol=1e-15)


def test_an_indefinite_matrix_is_refused() -> None:
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_copula_normals_are_the_cholesky_factor_times_the_generators_normals() -> None:
    """The pairing ranks ``L e`` with ``e`` the generator's standard normals: checked with a 2x2 by hand."""
    rho = 0.6
    corr = np.array([[1.0, rho], [rho, 1.0]])
    n = 6
    e = np.random.default_rng(9).standard_normal((n, 2))
    z0, z1 = e[:, 0], rho * e[:, 0] + np.sqrt(1 - rho**2) * e[:, 1]
    paths = np.stack([np.arange(n, dtype=float)[:, None] * np.ones((1, 3))] * 2)  # level of path p is p
    out = copula_pairing(paths, corr, np.random.default_rng(9))
    # series i's k-th lowest normal gets its k-th lowest path: the path at sample p has level rank(z_i[p])
    assert out[0, :, 0].tolist() == np.argsort(np.argsort(z0)).astype(float).tolist()
    assert out[1, :, 0].tolist() == np.argsort(np.argsort(z1)).astype(float).tolist()


def test_auto_model_breaks_a_last_bit_tie_by_candidate_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two candidates whose CV errors differ only in the last bits (as between BLAS kernels) are a tie."""
    import forecasting.registry as registry
    from forecasting.auto import AutoModel
    from forecasting.naive import Naive

    class Nudged(Naive):
        def _mean(self, h: int) -> np.ndarray:
            return np.full(h, self.last_ * (1 + 1e-14))

    real = registry.make_model

    def fake(name: str, **kw: object) -> object:
        return Nudged() if name == "nudged" else real(name, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "make_model", fake)
    y = np.r_[np.full(100, 10.0), np.full(100, 12.0)] + np.tile([0.0, 1.0], 100)
    for order in (("naive", "nudged"), ("nudged", "naive")):
        m = AutoModel(candidates=order, combine="best", n_windows=2).fit(y)
        assert m.cv_mae_["naive"] != m.cv_mae_["nudged"]
        assert m.best_ == order[0]


def test_auto_models_weighted_combination_adds_members_in_a_fixed_order() -> None:
    """Bit for bit ``((w0 a + w1 b) + w2 c) + w3 d``: a BLAS ``w @ arr`` differs between kernels (with FMA on
    Haswell/SkylakeX, 258 of these 1,000 hours differ from SandyBridge/Prescott in the last bits)."""
    from forecasting.auto import AutoModel

    rng = np.random.default_rng(0)
    means = [rng.uniform(0, 100, 1000) for _ in range(4)]
    w = rng.dirichlet(np.ones(4)).tolist()
    got = AutoModel(combine="weighted")._combine(means, np.repeat(np.asarray(w)[:, None], 1000, axis=1))
    seq = [((w[0] * a + w[1] * b) + w[2] * c) + w[3] * d for a, b, c, d in zip(*means, strict=True)]
    assert got.tolist() == seq
