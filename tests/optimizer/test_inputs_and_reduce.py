"""Input checks of the capacity model, spot overhead, and the hour reduction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from optimizer.inputs import capacity_inputs, spot_overhead
from optimizer.reduce import bin_hours
from scenarios.errors import InputError

from .conftest import TWO_FAMILIES, make_paths, make_scenario


def _paths() -> pd.DataFrame:
    return make_paths({"a100": np.arange(12.0).reshape(2, 6)})


def test_paths_with_a_missing_hour_are_refused_with_the_hour() -> None:
    p = _paths().drop(index=3)
    with pytest.raises(InputError, match=r"sample 0 has no row for hour 2026-01-01 03:00"):
        capacity_inputs(p, make_scenario())


def test_paths_with_a_gap_in_time_are_refused() -> None:
    p = _paths()
    p = p[p["timestamp"] != p["timestamp"].iloc[2]]
    with pytest.raises(InputError, match="not a gap-free hourly grid"):
        capacity_inputs(p, make_scenario())


def test_duplicate_rows_and_missing_values_are_refused() -> None:
    p = _paths()
    with pytest.raises(InputError, match="duplicate rows"):
        capacity_inputs(pd.concat([p, p.iloc[[0]]], ignore_index=True), make_scenario())
    p.loc[4, "gpus"] = np.nan
    with pytest.raises(InputError, match="missing GPUs") as err:
        capacity_inputs(p, make_scenario())
    assert err.value.row == 5


def test_unknown_and_team_series_are_refused_with_a_fix() -> None:
    p = _paths()
    p["series_id"] = "a10"
    with pytest.raises(InputError, match="did you mean 'a100'"):
        capacity_inputs(p, make_scenario())
    p["series_id"] = "a100/research"
    with pytest.raises(InputError, match="team series"):
        capacity_inputs(p, make_scenario())


def test_naive_timestamps_are_refused() -> None:
    p = _paths()
    p["timestamp"] = p["timestamp"].dt.tz_localize(None)
    with pytest.raises(InputError, match="timezone-aware"):
        capacity_inputs(p, make_scenario())


def test_young_daly_overhead_is_the_minimum_of_the_overhead_curve() -> None:
    lam, delta, restart = 0.002, 0.05, 0.1
    taus = np.linspace(0.5, 40, 200_000)
    curve = delta / taus + lam * (taus / 2 + restart)
    assert spot_overhead(lam, delta, restart) == pytest.approx(curve.min(), rel=1e-6)
    assert spot_overhead(0.0, delta, restart) == 0.0


def test_spot_is_priced_per_useful_gpu_hour_with_band_hazard_and_droughts() -> None:
    fam = {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "spot": {
        "usd_per_gpu_hour": 1.0, "interruption_band": "5-10%", "available_gpus": 20,
        "drought_events_per_month": 1.0, "drought_hours": 73.0}}}
    sc = make_scenario(fam, workload={"checkpoint_cost_hours": 0.05, "restart_cost_hours": 0.1})
    inp = capacity_inputs(_paths(), sc)
    lam = -math.log(1 - 0.075) / 730.0
    theta = math.sqrt(2 * 0.05 * lam) + lam * 0.1
    assert inp.spot_overhead[0] == pytest.approx(theta)
    assert inp.spot_cost[0, 0] == pytest.approx(1.0 * (1 + theta))
    assert inp.spot_available[0, 0] == pytest.approx(20 * (1 - 73 / 730))
    assert any("Young/Daly" in n for n in inp.notes)


def test_commit_rate_exists_only_for_terms_a_family_is_offered() -> None:
    fams = {**TWO_FAMILIES, "h100": {**TWO_FAMILIES["h100"], "committed_discount": {"1y": 0.25}}}
    sc = make_scenario(fams)
    inp = capacity_inputs(make_paths({"a100": np.ones((1, 4)), "h100": np.ones((1, 4))}), sc)
    assert inp.terms == (1, 3)
    assert inp.commit_rate[0].tolist() == pytest.approx([2.74 * 0.72, 6.88 * 0.75])
    assert np.isnan(inp.commit_rate[1, 1]) and inp.commit_rate[1, 0] == pytest.approx(2.74 * 0.54)


def test_one_quantity_binning_cuts_the_sorted_load_duration_curve_into_blocks() -> None:
    rng = np.random.default_rng(0)
    even = rng.permutation(np.arange(1024.0))
    b = bin_hours(even, max_bins=8)
    assert b.counts.tolist() == [128] * 8  # evenly spread values: equal blocks
    assert np.allclose(np.sort(b.centers.ravel()), np.sort(even).reshape(8, 128).mean(axis=1))
    x = rng.normal(50, 10, 1024)
    b = bin_hours(x, max_bins=16)
    order = np.argsort(x, kind="stable")
    labels_sorted = b.labels[order]
    assert (np.diff(labels_sorted) != 0).sum() == 15  # each block is one contiguous stretch of the curve
    assert np.allclose(np.bincount(b.labels, weights=x) / b.counts, b.centers.ravel())
    # the wide tails get narrower blocks by count than the dense middle
    assert b.counts.min() < b.counts.max()


def test_binning_keeps_distinct_rows_exactly_when_there_is_room() -> None:
    x = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]])
    b = bin_hours(x, max_bins=10)
    assert b.n_bins == 2 and sorted(b.counts.tolist()) == [1, 2]


def test_joint_binning_splits_the_widest_dollar_dimension_and_preserves_means() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.uniform(0, 100, 5000), rng.uniform(0, 1, 5000)])
    b = bin_hours(x, max_bins=64, scale=np.array([1.0, 1.0]))
    assert b.n_bins == 64 and b.counts.sum() == 5000
    assert np.allclose((b.centers * b.counts[:, None]).sum(axis=0), x.sum(axis=0))
    widths = [np.ptp(x[b.labels == k, 0]) for k in range(b.n_bins)]
    assert max(widths) < 10  # 100 wide split into narrow cells along the dimension that matters
