"""Holdings derived from the FOCUS and CUR fixture bills, checked by hand against the fixture rows."""

from __future__ import annotations

import pandas as pd
import pytest

from scenarios.readers.holdings import derive_holdings
from scenarios.schema import CurrentCommitments

FIX = "tests/fixtures"


@pytest.mark.parametrize(("name", "fmt"), [("focus_aws_small.csv", "focus"), ("cur2_small.csv", "cur")])
def test_reservation_and_savings_plan_are_derived_from_the_bill(name: str, fmt: str) -> None:
    res = derive_holdings(f"{FIX}/{name}", fmt)  # type: ignore[arg-type]
    (r,) = res.current["reserved"]
    # reserved-instances/4f2a-p4d: 2 p4d.24xlarge billed in hours 0 and 1 (8 GPUs each) at 13.921094 USD per
    # instance-hour -> 16 GPUs at 13.921094 / 8 = 1.74013675 USD/GPU-hour; the bill states no term
    assert r == {"family": "a100", "term_years": 1, "gpus": 16.0, "usd_per_gpu_hour": pytest.approx(1.74013675)}
    # the compute savings plan: 10 USD/h committed, 1 year from its usage type 'ComputeSP:1yrNoUpfront'
    assert res.current["committed_usd_per_hour"] == {"1y": pytest.approx(10.0)}
    t = res.table.set_index("kind")
    assert t.loc["reserved", "term_source"] == "assumed: not in the bill"
    assert t.loc["committed", "term_source"] == "from the bill"
    assert t.loc["reserved", "first_seen"] == pd.Timestamp("2026-01-01T00:00:00Z")
    cur = CurrentCommitments(**res.current)  # valid as a [current] section
    assert cur.derived_from == f"{name} ({fmt.upper()})"
    assert any("16 GPUs" in n for n in res.notes)


def test_cur_dates_become_the_holdings_dates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = pd.read_csv(f"{FIX}/cur2_small.csv")
    df["reservation_start_time"] = "2025-07-01T00:00:00Z"
    df["reservation_end_time"] = "2026-07-01T00:00:00Z"
    df["pricing_lease_contract_length"] = ["1yr" if t == "DiscountedUsage" else "" for t in
                                           df["line_item_line_item_type"]]
    p = tmp_path / "cur.csv"
    df.to_csv(p, index=False)
    (r,) = derive_holdings(p, "cur").current["reserved"]
    assert r["start"] == "2025-07-01T00:00:00+00:00" and r["end"] == "2026-07-01T00:00:00+00:00"
    assert derive_holdings(p, "cur").table.set_index("kind").loc["reserved", "term_source"] == "from the bill"


def test_holdings_cli_prints_a_valid_current_section(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    from gpuplan.cli import main

    assert main(["scenario", "holdings", f"{FIX}/focus_aws_small.csv", "--format", "focus"]) == 0
    doc = tomllib.loads(capsys.readouterr().out)
    cur = CurrentCommitments(**doc["current"])
    assert cur.reserved[0].gpus == 16 and cur.reserved[0].usd_per_gpu_hour == pytest.approx(1.74013675, rel=1e-9)
    assert cur.committed_usd_per_hour == {"1y": 10.0}
