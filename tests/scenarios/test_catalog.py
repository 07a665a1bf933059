"""The bundled GPU catalog maps instance types and SKU strings to a family and a GPU count."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.catalog import build_catalog, instance_gpus, load_catalog

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p5.48xlarge", ("h100", 8.0)),
        ("USE1-BoxUsage:p5.48xlarge", ("h100", 8.0)),
        ("BoxUsage:p4d.24xlarge", ("a100", 8.0)),
        ("USE1-ml.p4d.24xlarge-Training", ("a100", 8.0)),
        ("g6e.xlarge", ("l40s", 1.0)),
        ("m5.xlarge", None),
    ],
)
def test_instance_gpus_maps_types_and_skus(text: str, expected: tuple[str, float] | None) -> None:
    assert instance_gpus(text) == expected


def test_catalog_per_gpu_prices_are_instance_price_over_gpu_count() -> None:
    cat = load_catalog()
    p4d = cat[(cat.instance_type == "p4d.24xlarge") & (cat.region == "us-east-1")].iloc[0]
    assert p4d.on_demand_usd_per_gpu_hour == pytest.approx(21.957642 / 8, rel=1e-5)
    assert p4d.reserved_1y_no_upfront_usd_per_gpu_hour == pytest.approx(13.921094 / 8, rel=1e-5)


def test_bundled_catalog_matches_a_fresh_build_from_the_price_list() -> None:
    src = SHARED / "aws_prices" / "aws_gpu_instance_prices_vantage_2026-01-21.csv"
    if not src.exists():
        pytest.skip("../shared/data is absent (a user's fresh clone)")
    fresh = build_catalog(str(src))
    bundled = load_catalog()
    assert len(fresh) == len(bundled)
    assert list(fresh["instance_type"]) == list(bundled["instance_type"])
    assert fresh["on_demand_usd_per_gpu_hour"].to_numpy() == pytest.approx(
        bundled["on_demand_usd_per_gpu_hour"].to_numpy(), rel=1e-5
    )
