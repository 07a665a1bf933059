"""Invariants of the readers (hypothesis): GPU-hours and money are conserved, shares stay in [0, 1]."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.readers import billing_kpis, read_usage
from scenarios.readers._billing import spread_hours
from scenarios.readers._checks import ROW

T0 = pd.Timestamp("2026-03-01T00:00:00Z")
amounts = st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 60 * 72), amounts), min_size=1, max_size=12))
def test_spreading_periods_over_hours_conserves_amounts(periods: list[tuple[int, int, float]]) -> None:
    start = pd.Series([T0 + pd.Timedelta(minutes=s) for s, _, _ in periods]).dt.as_unit("ns")
    end = pd.Series([T0 + pd.Timedelta(minutes=s + d) for s, d, _ in periods]).dt.as_unit("ns")
    df = pd.DataFrame({"x": [a for _, _, a in periods], ROW: np.arange(1, len(periods) + 1)})
    out, _ = spread_hours(df, start, end, ["x"], file="f", start_col="s", end_col="e")
    assert np.isclose(out["x"].sum(), df["x"].sum(), rtol=1e-9, atol=1e-9)
    assert (out["timestamp"] == out["timestamp"].dt.floor("h")).all()
    # every piece lies within its period's hours
    for r, g in out.groupby(ROW):
        i = int(r) - 1
        assert g["timestamp"].min() == start.iloc[i].floor("h")
        assert g["timestamp"].max() < max(end.iloc[i], start.iloc[i] + pd.Timedelta(minutes=1))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(amounts, min_size=1, max_size=30), min_size=1, max_size=4),
       st.sampled_from([1, 2, 4, 12]))
def test_usage_gpu_hours_are_conserved_and_sub_hourly_samples_average(series: list[list[float]],
                                                                      per_hour: int) -> None:
    step = 60 // per_hour
    rows = []
    for k, values in enumerate(series):
        for j, v in enumerate(values):
            rows.append((T0 + pd.Timedelta(minutes=step * j), f"team{k}", v))
    df = pd.DataFrame(rows, columns=["timestamp", "team", "gpus"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "u.csv"
        df.assign(timestamp=df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(path, index=False)
        f = read_usage(path).frame
    expect = df.assign(hour=df["timestamp"].dt.floor("h")).groupby(["team", "hour"])["gpus"].mean()
    got = f.set_index(["team", "timestamp"])["gpus"]
    assert len(got) == len(expect)
    np.testing.assert_allclose(got.to_numpy(), expect.to_numpy(), rtol=1e-9, atol=1e-6)


billing_rows = st.lists(st.tuples(
    st.sampled_from(["a100", "h100"]),
    st.sampled_from([("Standard", None), ("Dynamic", None), ("Committed", "Used"), ("Committed", "Unused")]),
    amounts, amounts, amounts), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(billing_rows)
def test_billing_kpis_shares_are_fractions_and_parts_add_up(rows: list[tuple[str, tuple[str, str | None],
                                                                             float, float, float]]) -> None:
    b = pd.DataFrame({
        "timestamp": T0, "family": [r[0] for r in rows], "pricing_category": [r[1][0] for r in rows],
        "commitment_status": [r[1][1] for r in rows], "gpu_hours": [r[2] for r in rows],
        "effective_cost_usd": [r[3] for r in rows], "list_cost_usd": [r[4] for r in rows]})
    k = billing_kpis(b)
    for col in ("coverage", "utilization", "spot_share"):
        v = k[col].dropna()
        assert ((v >= -1e-12) & (v <= 1 + 1e-12)).all()
    parts = k["gpu_hours_standard"] + k["gpu_hours_dynamic"] + k["gpu_hours_committed"]
    np.testing.assert_allclose(parts.to_numpy(), k["gpu_hours"].to_numpy(), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(k.loc["all", "effective_cost_usd"], b["effective_cost_usd"].sum(), rtol=1e-9,
                               atol=1e-6)
    fams = k.drop(index="all")
    np.testing.assert_allclose(fams["gpu_hours"].sum(), k.loc["all", "gpu_hours"], rtol=1e-9, atol=1e-6)
