"""The bundled GPU catalog: instance types mapped to a GPU family and GPU count, with AWS list prices.

Built from the AWS GPU price list (Vantage export of 2026-01-21, public AWS list prices) by
:func:`build_catalog`; the bundled copy is ``scenarios/data/aws_gpu_catalog.csv``.  Readers of billing
exports use it to turn instance-hours into GPU-hours per family.
"""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from scenarios.bundled import resolve_path

#: GPU model as AWS names it -> family slug used throughout gpuplan.
GPU_MODEL_FAMILY: dict[str, str] = {
    "NVIDIA B300 Blackwell": "b300",
    "NVIDIA B200 Blackwell": "b200",
    "NVIDIA H200": "h200",
    "NVIDIA H100": "h100",
    "NVIDIA A100": "a100",
    "NVIDIA V100": "v100",
    "NVIDIA L40S": "l40s",
    "NVIDIA L40": "l40",
    "NVIDIA L4": "l4",
    "NVIDIA A10G": "a10g",
    "NVIDIA T4": "t4",
    "NVIDIA K80": "k80",
    "NVIDIA M60": "m60",
    "NVIDIA GRID K520": "k520",
    "NVIDIA RTX PRO 6000 Blackwell": "rtx6000",
    "AMD Radeon Pro V520": "v520",
    "AWS Trainium": "trainium",
    "AWS Inferentia": "inferentia",
    "AWS Inferentia2": "inferentia2",
    "Qualcomm AI 100": "qaic100",
    "ARM Mali-G78MP12": "mali",
}

CATALOG_COLUMNS = [
    "instance_type", "gpu_model", "family", "gpu_count", "region",
    "on_demand_usd_per_hour", "reserved_1y_no_upfront_usd_per_hour",
    "on_demand_usd_per_gpu_hour", "reserved_1y_no_upfront_usd_per_gpu_hour",
]


def build_catalog(price_csv: str) -> pd.DataFrame:
    """Build the catalog from the AWS price file (``aws_gpu_instance_prices_vantage_*.csv``).

    Parameters
    ----------
    price_csv
        Path to the price list: one row per (instance type, region), prices in USD per instance-hour.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CATALOG_COLUMNS`; per-GPU prices in USD/GPU-hour.
    """
    d = pd.read_csv(price_csv)
    d = d[d["gpu_model"].isin(GPU_MODEL_FAMILY)].copy()
    d["family"] = d["gpu_model"].map(GPU_MODEL_FAMILY)
    d = d.rename(columns={"reserved_1yr_std_noupfront_usd_per_hour": "reserved_1y_no_upfront_usd_per_hour"})
    d["on_demand_usd_per_gpu_hour"] = d["on_demand_usd_per_hour"] / d["gpu_count"]
    d["reserved_1y_no_upfront_usd_per_gpu_hour"] = d["reserved_1y_no_upfront_usd_per_hour"] / d["gpu_count"]
    return d[CATALOG_COLUMNS].sort_values(["family", "instance_type", "region"]).reset_index(drop=True)


@cache
def load_catalog() -> pd.DataFrame:
    """The bundled catalog (see :func:`build_catalog`)."""
    return pd.read_csv(resolve_path("bundled:aws_gpu_catalog"))


def instance_gpus(instance_type: str) -> tuple[str, float] | None:
    """``(family, gpus per instance)`` of an AWS instance type or SKU string, or None if not a GPU type.

    Accepts plain types (``p5.48xlarge``) and usage types / SKUs that contain one
    (``USE1-BoxUsage:p5.48xlarge``, ``BoxUsage:p4d.24xlarge``).
    """
    table = _type_index()
    key = instance_type.strip()
    if key in table:
        return table[key]
    for token in re.findall(r"[a-z0-9-]+\.[0-9]*x?(?:large|metal)(?:-[0-9a-z]+)?", key.lower()):
        for cand in (token, token.rsplit("-", 1)[0] if "-" in token.split(".")[-1] else token):
            if cand in table:
                return table[cand]
        # SKU prefixes such as "USE1-" or "ml." stuck to the family name
        for prefix_cut in (token.split("-", 1)[-1], token.split(".", 1)[-1] if token.startswith("ml.") else token):
            if prefix_cut in table:
                return table[prefix_cut]
    return None


@cache
def _type_index() -> dict[str, tuple[str, float]]:
    cat = load_catalog().drop_duplicates("instance_type")
    return {
        str(t): (str(f), float(g))
        for t, f, g in zip(cat["instance_type"], cat["family"], cat["gpu_count"], strict=True)
    }
