"""read_focus and read_cur on small exports with the real column names; billing_kpis; every bad input.

The fixtures (tests/fixtures/*.csv, written by make_billing_fixtures.py) tell one story in both formats:
research runs a p5.48xlarge on demand for 3 h (h100, 8 GPUs), product two reserved p4d.24xlarge in hours
0-1 and one in hour 2 while the second reservation idles (a100, 8 GPUs), research one g5.12xlarge on spot
for 1 h (a10g, 4 GPUs); plus nine lines that must be skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scenarios.errors import InputError
from scenarios.readers import BILLING_COLUMNS, ReadResult, billing_kpis, read_cur, read_focus

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FOCUS = FIXTURES / "focus_aws_small.csv"
CUR = FIXTURES / "cur2_small.csv"
P5, P4D, P4D_RI, G5 = 55.04, 21.957642, 13.921094, 5.672

Reader = Callable[..., ReadResult]


def _totals(b: pd.DataFrame) -> dict[tuple[str, str, str], tuple[float, float, float]]:
    g = b.fillna({"commitment_status": "-"}).groupby(["family", "pricing_category", "commitment_status"])
    s = g[["gpu_hours", "effective_cost_usd", "list_cost_usd"]].sum()
    return {k: tuple(round(float(x), 6) for x in v) for k, v in s.iterrows()}  # type: ignore[misc]


EXPECTED = {
    ("h100", "Standard", "-"): (3 * 8.0, round(3 * P5, 6), round(3 * P5, 6)),
    ("a100", "Committed", "Used"): (5 * 8.0, round(5 * P4D_RI, 6), round(5 * P4D, 6)),
    ("a100", "Committed", "Unused"): (1 * 8.0, round(P4D_RI, 6), 0.0),
    ("a10g", "Dynamic", "-"): (4.0, 2.0, G5),
}
EXPECTED_SKIPS = {"non-GPU usage": 5, "tax": 1, "credit": 1, "unused commitment not tied to a GPU instance type": 1}


@pytest.mark.parametrize("reader,path", [(read_focus, FOCUS), (read_cur, CUR)], ids=["focus", "cur"])
def test_billing_export_gives_gpu_hours_and_costs_by_category(reader: Reader, path: Path) -> None:
    res = reader(path)
    b = res.frame
    assert b.columns.tolist() == BILLING_COLUMNS
    assert str(b["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert _totals(b) == EXPECTED
    # hourly: the reserved a100s used 16, 16, 8 GPU-hours in hours 0, 1, 2
    used = b[(b["family"] == "a100") & (b["commitment_status"] == "Used")]
    assert used["gpu_hours"].tolist() == [16.0, 16.0, 8.0]
    assert used["timestamp"].dt.hour.tolist() == [0, 1, 2]
    # tags -> team and project
    h100 = b[b["family"] == "h100"]
    assert set(h100["team"]) == {"research"}
    assert set(h100["project"]) == {"llm"}
    assert set(b.loc[b["family"] == "a10g", "team"]) == {"research"}
    assert set(b["region"]) == {"us-east-1"}


@pytest.mark.parametrize("reader,path,purchase", [
    (read_focus, FOCUS, "purchase (commitment or upfront fee)"),
    (read_cur, CUR, "upfront or one-time fee (amortised into effective costs)"),
], ids=["focus", "cur"])
def test_skipped_rows_are_counted_by_reason_and_reported(reader: Reader, path: Path, purchase: str) -> None:
    res = reader(path)
    assert res.skipped == {**EXPECTED_SKIPS, purchase: 1}
    assert res.n_skipped == 9
    # every data row is either kept (10 GPU lines) or skipped
    assert res.n_skipped + 10 == len(pd.read_csv(path))
    text = res.report()
    assert "skipped 9 rows on purpose" in text
    assert "unused commitment not tied to a GPU instance type left out: 10.00 USD" in text


def test_focus_and_cur_of_the_same_bill_give_the_same_table() -> None:
    pd.testing.assert_frame_equal(read_focus(FOCUS).frame, read_cur(CUR).frame)


def test_billing_kpis_coverage_utilization_and_savings_by_hand() -> None:
    k = billing_kpis(read_focus(FOCUS).frame)
    a100 = k.loc["a100"]
    assert a100["gpu_hours"] == 40.0
    assert a100["coverage"] == 1.0
    # 5 used reserved instance-hours against 1 idle one
    assert a100["utilization"] == pytest.approx(5 / 6)
    assert a100["savings_vs_list"] == pytest.approx(1 - 6 * P4D_RI / (5 * P4D))
    total = k.loc["all"]
    assert total["gpu_hours"] == 24 + 40 + 4
    assert total["coverage"] == pytest.approx(40 / 68)
    assert total["spot_share"] == pytest.approx(4 / 68)
    assert total["effective_cost_usd"] == pytest.approx(3 * P5 + 6 * P4D_RI + 2.0)
    assert total["list_cost_usd"] == pytest.approx(3 * P5 + 5 * P4D + G5)
    assert total["effective_usd_per_gpu_hour"] == pytest.approx((3 * P5 + 6 * P4D_RI + 2.0) / 68)
    assert pd.isna(k.loc["h100", "utilization"])     # no commitment, no utilization


def test_billing_kpis_by_team() -> None:
    k = billing_kpis(read_cur(CUR).frame, by="team")
    assert k.loc["research", "gpu_hours"] == 28.0
    assert k.loc["product", "coverage"] == 1.0


def test_daily_focus_rows_are_spread_evenly_over_their_hours(tmp_path: Path) -> None:
    d = pd.read_csv(FOCUS, dtype=str, keep_default_na=False)
    row = d.iloc[[0]].copy()
    row["ChargePeriodStart"], row["ChargePeriodEnd"] = "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"
    row["ConsumedQuantity"], row["EffectiveCost"], row["ListCost"] = "24", str(24 * P5), str(24 * P5)
    path = tmp_path / "daily.csv"
    row.to_csv(path, index=False)
    res = read_focus(path)
    assert len(res.frame) == 24
    assert res.frame["gpu_hours"].tolist() == [8.0] * 24
    assert res.frame["effective_cost_usd"].sum() == pytest.approx(24 * P5)
    assert any("spread evenly" in n for n in res.notes)


def test_focus_parquet_with_typed_columns_reads_like_csv(tmp_path: Path) -> None:
    d = pd.read_csv(FOCUS)
    for c in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"):
        d[c] = pd.to_datetime(d[c], utc=True)
    path = tmp_path / "focus.parquet"
    d.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_focus(path).frame, read_focus(FOCUS).frame)


def test_cur_parquet_with_map_tags_reads_like_csv(tmp_path: Path) -> None:
    d = pd.read_csv(CUR)
    tags = [list(json.loads(t).items()) if isinstance(t, str) else None for t in d.pop("resource_tags")]
    table = pa.Table.from_pandas(d, preserve_index=False).append_column(
        "resource_tags", pa.array(tags, type=pa.map_(pa.string(), pa.string())))
    path = tmp_path / "cur.parquet"
    pq.write_table(table, path)
    pd.testing.assert_frame_equal(read_cur(path).frame, read_cur(CUR).frame)


def test_legacy_tag_keys_can_be_chosen(tmp_path: Path) -> None:
    d = pd.read_csv(CUR, dtype=str, keep_default_na=False)
    d["resource_tags"] = d["resource_tags"].str.replace("user_team", "user_CostCenter")
    path = tmp_path / "cur.csv"
    d.to_csv(path, index=False)
    b = read_cur(path, tag_keys={"team": ["costcenter"], "project": ["project"]}).frame
    assert set(b.loc[b["family"] == "h100", "team"]) == {"research"}


# -- bad input ---------------------------------------------------------------------------------------------

def _mutate(src: Path, tmp_path: Path, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    d = pd.read_csv(src, dtype=str, keep_default_na=False)
    d = fn(d)
    path = tmp_path / "bad.csv"
    d.to_csv(path, index=False)
    return path


def _set(col: str, row: int, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def f(d: pd.DataFrame) -> pd.DataFrame:
        d.loc[row - 1, col] = value
        return d
    return f


def _all(col: str, fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def f(d: pd.DataFrame) -> pd.DataFrame:
        d[col] = fn(d[col])
        return d
    return f


def _rename(old: str, new: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda d: d.rename(columns={old: new})


FOCUS_BAD = [
    ("missing column", _rename("EffectiveCost", "EffectiveCosts"), "column 'EffectiveCost'",
     "rename 'EffectiveCosts' to 'EffectiveCost'"),
    ("missing column no near", lambda d: d.drop(columns="ListCost"), "column 'ListCost'", "add a 'ListCost'"),
    ("mixed currency", _set("BillingCurrency", 4, "EUR"), "row 4, column 'BillingCurrency'", "mixed currencies"),
    ("non-USD", _all("BillingCurrency", lambda s: s.str.replace("USD", "EUR")), "column 'BillingCurrency'",
     "currency 'EUR' is not supported"),
    ("mixed units", _set("ConsumedUnit", 2, "Seconds"), "row 2, column 'ConsumedUnit'", "mixed units"),
    ("non-time unit", _all("ConsumedUnit", lambda s: s.str.replace("Hrs", "GB")), "column 'ConsumedUnit'",
     "not a unit of instance time"),
    ("wrong type", _set("EffectiveCost", 2, "twelve"), "row 2, column 'EffectiveCost'", "not a number"),
    ("negative quantity", _set("ConsumedQuantity", 1, "-1"), "row 1, column 'ConsumedQuantity'", "negative"),
    ("naive time", _all("ChargePeriodStart", lambda s: s.str.rstrip("Z")), "row 1, column 'ChargePeriodStart'",
     "no time zone"),
    ("unparsable time", _set("ChargePeriodStart", 3, "Jan 1st"), "row 3, column 'ChargePeriodStart'", "cannot read"),
    ("end before start", _set("ChargePeriodEnd", 1, "2025-12-31T00:00:00Z"), "row 1, column 'ChargePeriodEnd'",
     "is before ChargePeriodStart"),
    ("bad pricing category", _set("PricingCategory", 1, "Cheap"), "row 1, column 'PricingCategory'",
     "not Standard, Dynamic or Committed"),
    ("bad commitment status", _set("CommitmentDiscountStatus", 2, "Partly"),
     "row 2, column 'CommitmentDiscountStatus'", "Used or Unused"),
    ("bad tags", _set("Tags", 1, "{team: research"), "row 1, column 'Tags'", "not valid JSON"),
    ("a CUR file", lambda d: pd.read_csv(CUR, dtype=str, keep_default_na=False), "bad.csv", "AWS CUR export"),
]


@pytest.mark.parametrize(("case", "fn", "where", "what"), FOCUS_BAD, ids=[c[0] for c in FOCUS_BAD])
def test_bad_focus_gives_one_line_naming_file_row_column(tmp_path: Path, case: str, fn: Callable[[pd.DataFrame],
                                                         pd.DataFrame], where: str, what: str) -> None:
    path = _mutate(FOCUS, tmp_path, fn)
    with pytest.raises(InputError) as info:
        read_focus(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith(str(path))
    assert where in line
    assert what in line


def _dup_first(d: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([d, d.iloc[[0]]], ignore_index=True)


CUR_BAD = [
    ("missing column", _rename("line_item_usage_amount", "line_item_usage_amnt"), "column 'line_item_usage_amount'",
     "rename 'line_item_usage_amnt'"),
    ("legacy CUR", _rename("line_item_usage_start_date", "lineItem/UsageStartDate"), "bad.csv", "legacy CUR"),
    ("missing RI column", lambda d: d.drop(columns="reservation_effective_cost"),
     "column 'reservation_effective_cost'", "needed by DiscountedUsage"),
    ("mixed currency", _set("line_item_currency_code", 3, "JPY"), "row 3, column 'line_item_currency_code'",
     "mixed currencies"),
    ("mixed units", _set("pricing_unit", 2, "Seconds"), "row 2, column 'pricing_unit'", "mixed units"),
    ("wrong type", _set("line_item_usage_amount", 1, "one"), "row 1, column 'line_item_usage_amount'",
     "not a number"),
    ("negative quantity", _set("line_item_usage_amount", 1, "-1"), "row 1, column 'line_item_usage_amount'",
     "negative"),
    ("negative cost", _set("reservation_effective_cost", 2, "-3"), "row 2, column 'reservation_effective_cost'",
     "negative"),
    ("naive time", _all("line_item_usage_start_date", lambda s: s.str.rstrip("Z")),
     "row 1, column 'line_item_usage_start_date'", "no time zone"),
    ("end before start", _set("line_item_usage_end_date", 1, "2025-12-31T00:00:00Z"),
     "row 1, column 'line_item_usage_end_date'", "is before line_item_usage_start_date"),
    ("duplicate line item", _dup_first, "row 20, column 'identity_line_item_id'", "duplicate line item li-0000"),
    ("a FOCUS file", lambda d: pd.read_csv(FOCUS, dtype=str, keep_default_na=False), "bad.csv", "FOCUS export"),
]


@pytest.mark.parametrize(("case", "fn", "where", "what"), CUR_BAD, ids=[c[0] for c in CUR_BAD])
def test_bad_cur_gives_one_line_naming_file_row_column(tmp_path: Path, case: str, fn: Callable[[pd.DataFrame],
                                                       pd.DataFrame], where: str, what: str) -> None:
    path = _mutate(CUR, tmp_path, fn)
    with pytest.raises(InputError) as info:
        read_cur(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith(str(path))
    assert where in line
    assert what in line


def test_naive_cur_times_are_read_with_tz_utc(tmp_path: Path) -> None:
    def strip_z(d: pd.DataFrame) -> pd.DataFrame:
        for c in ("line_item_usage_start_date", "line_item_usage_end_date"):
            d[c] = d[c].str.rstrip("Z")
        return d

    path = _mutate(CUR, tmp_path, strip_z)
    pd.testing.assert_frame_equal(read_cur(path, tz="UTC").frame, read_cur(CUR).frame)


def test_export_without_gpu_rows_gives_an_empty_table_and_counts(tmp_path: Path) -> None:
    path = _mutate(FOCUS, tmp_path, lambda d: d[d["x_UsageType"].str.contains("m5|TimedStorage|Transfer|^$", regex=True)])
    res = read_focus(path)
    assert res.frame.empty
    assert res.frame.columns.tolist() == BILLING_COLUMNS
    assert res.skipped["non-GPU usage"] == 5
