"""Reconciliation: coherence of means and paths, MinT on coherent input, shrinkage, path pairing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.hierarchy import build_hierarchy, copula_pairing, reconcile, shrunk_covariance

IDS = ["a100", "a100/x", "a100/y", "h100", "h100/z"]
T = pd.date_range("2024-03-01", periods=6, freq="h", tz="UTC")


def _frames(means: dict[str, np.ndarray], n_paths: int = 0, seed: int = 0):
    rows = []
    for s, m in means.items():
        rows.append(pd.DataFrame({"series_id": s, "timestamp": T, "model": "x", "mean": m,
                                  "lo_90": np.maximum(m - 3, 0), "hi_90": m + 3}))
    fc = pd.concat(rows, ignore_index=True)
    rng = np.random.default_rng(seed)
    paths = None
    if n_paths:
        paths = pd.concat([pd.DataFrame({
            "series_id": s, "timestamp": np.tile(T, n_paths), "sample_id": np.repeat(np.arange(n_paths), len(T)),
            "gpus": np.repeat(m[None], n_paths, 0).ravel() + rng.normal(0, 2, n_paths * len(T))})
            for s, m in means.items()], ignore_index=True)
    resid = pd.concat([pd.DataFrame({"series_id": s, "timestamp": pd.date_range("2024-02-01", periods=100,
                       freq="h", tz="UTC"), "residual": rng.normal(0, 1 + i, 100)}) for i, s in enumerate(means)])
    return fc, paths, resid


def _sums_ok(df: pd.DataFrame, value: str, keys: list[str]) -> float:
    w = df.pivot_table(index=keys, columns="series_id", values=value)
    err = (w["a100"] - w["a100/x"] - w["a100/y"]).abs().max()
    return float(max(err, (w["h100"] - w["h100/z"]).abs().max()))


def test_summing_matrix_from_family_team_names() -> None:
    h = build_hierarchy(IDS)
    assert h.bottom == ["a100/x", "a100/y", "h100/z"]
    assert h.S.tolist() == [[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0, 200), min_size=5, max_size=5), st.sampled_from(["bottom_up", "mint_shrink"]))
def test_reconciled_means_and_paths_add_up(levels: list[float], method: str) -> None:
    means = {s: np.full(len(T), v) + np.arange(len(T)) for s, v in zip(IDS, levels, strict=True)}
    fc, paths, resid = _frames(means, n_paths=8)
    out, out_paths, _notes = reconcile(fc, paths, residuals=resid, method=method)  # type: ignore[arg-type]
    assert _sums_ok(out, "mean", ["timestamp"]) < 1e-9
    assert out_paths is not None
    assert _sums_ok(out_paths, "gpus", ["timestamp", "sample_id"]) < 1e-9
    assert (out["mean"] >= 0).all() and (out_paths["gpus"] >= 0).all()
    assert (out["lo_90"] <= out["mean"] + 1e-9).all() and (out["hi_90"] >= out["mean"] - 1e-9).all()


def test_mint_leaves_already_coherent_forecasts_unchanged() -> None:
    x, y, z = np.linspace(5, 10, 6), np.linspace(1, 3, 6), np.linspace(7, 2, 6)
    means = {"a100": x + y, "a100/x": x, "a100/y": y, "h100": z, "h100/z": z}
    fc, _, resid = _frames(means)
    out, _, _ = reconcile(fc, None, residuals=resid, method="mint_shrink")
    merged = out.merge(fc, on=["series_id", "timestamp"], suffixes=("", "_base"))
    np.testing.assert_allclose(merged["mean"], merged["mean_base"], atol=1e-9)


def test_bottom_up_takes_the_bottom_forecasts() -> None:
    means = {s: np.full(len(T), float(i + 1)) for i, s in enumerate(IDS)}
    fc, _, _ = _frames(means)
    out, _, _ = reconcile(fc, None, method="bottom_up")
    got = out.groupby("series_id")["mean"].first().to_dict()
    assert got == {"a100": 5.0, "a100/x": 2.0, "a100/y": 3.0, "h100": 5.0, "h100/z": 5.0}


def test_shrinkage_intensity_is_one_for_independent_noise_and_small_for_strong_correlation() -> None:
    rng = np.random.default_rng(0)
    common = rng.normal(size=(500, 1))
    W, lam = shrunk_covariance(common + 0.05 * rng.normal(size=(500, 3)))
    assert lam < 0.05 and W.shape == (3, 3)
    _, lam_ind = shrunk_covariance(rng.normal(size=(30, 3)))
    assert lam_ind > 0.3


def test_copula_pairing_keeps_every_path_intact_and_correlates_levels() -> None:
    rng = np.random.default_rng(1)
    paths = rng.normal(size=(2, 400, 5)) + rng.normal(size=(2, 400, 1)) * 3
    out = copula_pairing(paths, np.array([[1.0, 0.9], [0.9, 1.0]]), np.random.default_rng(2))
    for i in range(2):
        a = {tuple(np.round(p, 12)) for p in paths[i]}
        assert {tuple(np.round(p, 12)) for p in out[i]} == a
    r = np.corrcoef(out[0].mean(axis=1), out[1].mean(axis=1))[0, 1]
    assert r > 0.8


def test_mint_on_three_series_matches_the_hand_computed_projection() -> None:
    """Total T = A + B with base forecasts 1 GPU incoherent or more, worked by hand.

    With W = diag(4, 1, 1) (the total four times as uncertain): S'W^-1 S = [[5/4, 1/4], [1/4, 5/4]],
    its inverse [[5/6, -1/6], [-1/6, 5/6]], and G = [[1/6, 5/6, -1/6], [1/6, -1/6, 5/6]].  So the total
    absorbs 2/3 of the incoherence and each bottom series 1/6.  With W = I (OLS) each absorbs 1/3.
    """
    from forecasting.hierarchy import projection

    h = build_hierarchy(["t", "t/a", "t/b"])
    assert h.nodes == ["t", "t/a", "t/b"]
    G = projection(h, "mint_shrink", np.diag([4.0, 1.0, 1.0]))
    np.testing.assert_allclose(G, [[1 / 6, 5 / 6, -1 / 6], [1 / 6, -1 / 6, 5 / 6]], rtol=1e-8, atol=1e-12)
    G_ols = projection(h, "mint_shrink", np.eye(3))
    np.testing.assert_allclose(G_ols, [[1 / 3, 2 / 3, -1 / 3], [1 / 3, -1 / 3, 2 / 3]], rtol=1e-8, atol=1e-12)
    # end to end: with fewer than 10 residual hours W is the base forecasts' variance over the hours,
    # here 4, 1, 1 (T: 10, 14; A: 3, 5; B: 4, 6), and each hour is 3 GPUs incoherent (T - A - B = 3)
    t = pd.date_range("2024-03-01", periods=2, freq="h", tz="UTC")
    fc = pd.DataFrame({"series_id": np.repeat(["t", "t/a", "t/b"], 2), "timestamp": np.tile(t, 3),
                       "model": "x", "mean": [10.0, 14.0, 3.0, 5.0, 4.0, 6.0]})
    out, _, notes = reconcile(fc, None, residuals=None, method="mint_shrink")
    got = out.set_index(["series_id", "timestamp"])["mean"]
    want = {"t": [8.0, 12.0], "t/a": [3.5, 5.5], "t/b": [4.5, 6.5]}  # T - 2/3 x 3, A and B + 1/6 x 3
    for sid, values in want.items():
        np.testing.assert_allclose(got[sid].to_numpy(), values, rtol=1e-8)
    assert any("weighted by forecast variance" in n for n in notes)
