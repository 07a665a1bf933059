"""Tagging hygiene against sums taken straight from the export, and the double-billing check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.tagging import read_tagged_rows, tag_hygiene


def _retag(bill: pd.DataFrame) -> pd.DataFrame:
    """Give every third usage row no tags, every row a free-text experiment id, even rows a model tag."""
    b = bill.copy()
    usage = (b["ChargeCategory"] == "Usage").to_numpy()
    new = []
    for i, (cell, is_usage) in enumerate(zip(b["Tags"], usage, strict=True)):
        t = json.loads(cell) if isinstance(cell, str) else {}
        if is_usage and t:
            if i % 3 == 0:
                t = {}
            else:
                t["user:Experiment"] = f"exp-{i}"
                if i % 2 == 0:
                    t["model"] = "llama" if i % 4 == 0 else "mixtral"
        new.append(json.dumps(t))
    b["Tags"] = new
    return b


def test_hygiene_matches_sums_taken_directly_from_the_export(small_export: pd.DataFrame, tmp_path: Path) -> None:
    bill = _retag(small_export)
    path = tmp_path / "focus.csv"
    bill.to_csv(path, index=False)
    h = tag_hygiene(read_tagged_rows(path).frame)
    raw = pd.read_csv(path)
    use = raw[(raw["ChargeCategory"] == "Usage") & (raw["CommitmentDiscountStatus"] != "Unused")]
    tags = use["Tags"].map(json.loads)
    total = float(use["EffectiveCost"].sum())
    untagged = float(use.loc[tags.map(len) == 0, "EffectiveCost"].sum())
    s = h["summary"].set_index("measure")["value"]
    assert s["taggable_spend_usd"] == pytest.approx(total, rel=1e-12)
    assert s["untagged_share"] == pytest.approx(untagged / total, rel=1e-12)
    assert 0.05 < s["untagged_share"] < 0.95
    no_model = float(use.loc[tags.map(lambda t: "model" not in t), "EffectiveCost"].sum())
    assert s["missing_model_usd"] == pytest.approx(no_model, rel=1e-12)
    idle = float(raw.loc[(raw["ChargeCategory"] == "Usage") & (raw["CommitmentDiscountStatus"] == "Unused"),
                         "EffectiveCost"].sum())
    assert s["idle_commitment_spend_usd (not taggable)"] == pytest.approx(idle, rel=1e-12)
    keys = h["keys"].set_index("key")
    assert keys.loc["experiment", "runaway"] and not keys.loc["team", "runaway"]
    assert not keys.loc["model", "runaway"] and keys.loc["model", "distinct_values"] == 2
    by = h["by_tag"]
    llama = float(use.loc[tags.map(lambda t: t.get("model") == "llama"), "EffectiveCost"].sum())
    got = by[(by["key"] == "model") & (by["value"] == "llama")]["spend_usd"]
    assert got.iloc[0] == pytest.approx(llama, rel=1e-12)
    for key in ("team", "project", "model", "environment"):
        assert by.loc[by["key"] == key, "spend_usd"].sum() == pytest.approx(total, rel=1e-12)


def test_overlapping_charge_periods_are_refused_with_the_row(small_export: pd.DataFrame, tmp_path: Path) -> None:
    bill = small_export
    usage = np.flatnonzero(((bill["ChargeCategory"] == "Usage") & bill["ResourceId"].notna()).to_numpy())
    dup = bill.iloc[[usage[5]]].copy()
    dup["ChargePeriodStart"] = dup["ChargePeriodStart"] - pd.Timedelta(minutes=30)
    doubled = pd.concat([bill, dup], ignore_index=True)
    path = tmp_path / "focus.csv"
    doubled.to_csv(path, index=False)
    with pytest.raises(InputError, match="overlaps row") as e:
        read_tagged_rows(path)
    assert e.value.row in (usage[5] + 1, len(doubled)) and e.value.column == "ChargePeriodStart"
    ok = tmp_path / "clean.csv"
    bill.to_csv(ok, index=False)
    assert len(read_tagged_rows(ok).frame) == int((bill["ChargeCategory"] == "Usage").sum())


def test_mixed_currencies_are_refused(small_export: pd.DataFrame, tmp_path: Path) -> None:
    b = small_export.copy()
    b.loc[b.index[7], "BillingCurrency"] = "EUR"
    path = tmp_path / "focus.csv"
    b.to_csv(path, index=False)
    with pytest.raises(InputError, match="BillingCurrency"):
        read_tagged_rows(path)
