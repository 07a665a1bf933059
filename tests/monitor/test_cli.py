"""``gpuplan monitor`` end to end: the small scenario's SYNTHETIC bill, a user's file, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from gpuplan.cli import main


def _gpu_usage_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The export's GPU instance-time rows, picked with plain pandas (independent of the reader)."""
    ut = raw["x_UsageType"].fillna("")
    gpu = ut.str.contains(r"(?:BoxUsage|SpotUsage):p\d", regex=True)
    return raw[(raw["ChargeCategory"] == "Usage") & gpu]


def test_monitor_on_the_synthetic_bill_writes_everything_and_reconciles(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    budget = tmp_path / "budget.csv"
    budget.write_text("month,family,pricing_category,gpu_hours,budget_usd\n"
                      "2020-05,a100,Committed,60000,110000\n2020-05,a100,Unused,,40000\n"
                      "2020-05,h100,Committed,45000,200000\n2020-05,h100,Standard,40000,300000\n"
                      "2020-05,h100,Dynamic,10000,31000\n")
    out = tmp_path / "mon"
    code = main(["--quiet", "monitor", "synthetic", "--scenario", "small", "--budget", str(budget),
                 "--out", str(out), "--idle", "owner", "--owner", "a100=vc8Sj", "--owner", "h100=vc3sl"])
    assert code == 0
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"monitor.html", "summary.json", "anomalies.jsonl", "tables/chargeback_bills.csv",
            "tables/waterfall_2020-05.csv", "tables/breach_probability.csv", "tables/tag_keys.csv",
            "synthetic_focus_small.parquet"} <= files
    raw = pd.read_parquet(out / "synthetic_focus_small.parquet")
    gpu = _gpu_usage_rows(raw)
    invoice = float(gpu["EffectiveCost"].sum())
    s = json.loads((out / "summary.json").read_text())
    assert s["invoice_usd"] == pytest.approx(invoice, rel=1e-12)
    assert s["reconciliation_max_abs_difference_usd"] <= 1e-9 * invoice
    bills = pd.read_csv(out / "tables" / "chargeback_bills.csv")
    assert bills["total_usd"].sum() == pytest.approx(invoice, rel=1e-12)
    # idle reservations go to their owners: vc8Sj pays at least the a100 idle rows of the export
    idle = gpu[(gpu["CommitmentDiscountStatus"] == "Unused")]
    idle_a100 = float(idle.loc[idle["x_InstanceType"].str.startswith("p4"), "EffectiveCost"].sum())
    got = bills.set_index(["month", "team"])["idle_commitment_usd"]
    assert got.groupby("team").sum()["vc8Sj"] == pytest.approx(idle_a100, rel=1e-9)
    wf = pd.read_csv(out / "tables" / "waterfall_2020-05.csv").set_index("step")["usd"]
    assert wf["budget"] == pytest.approx(681000.0)
    may = pd.to_datetime(gpu["ChargePeriodStart"], utc=True).dt.month == 5
    assert wf["actual"] == pytest.approx(float(gpu.loc[may, "EffectiveCost"].sum()), rel=1e-9)
    assert wf["budget"] + wf.drop(["budget", "actual"]).sum() == pytest.approx(wf["actual"], rel=1e-12)
    anomalies = pd.read_csv(out / "tables" / "anomalies.csv")
    lines = (out / "anomalies.jsonl").read_text().splitlines()
    assert len(lines) == len(anomalies) > 0
    first = json.loads(lines[0])
    assert {"level", "series", "start", "size_usd", "driver"} <= set(first)
    html = (out / "monitor.html").read_text()
    assert "FinOps monitor: chargeback" in html and "Variance waterfall 2020-05" in html
    assert "P(breach by month end)" in capsys.readouterr().out


def _write(bill: pd.DataFrame, path: Path) -> Path:
    bill.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("case", ["currency", "overlap", "require", "owner"])
def test_bad_bills_exit_2_with_one_line_and_write_nothing(small_export: pd.DataFrame, tmp_path: Path, case: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    b = small_export.copy()
    args: list[str] = []
    if case == "currency":
        b.loc[b.index[3], "BillingCurrency"] = "EUR"
        want = "currency"
    elif case == "overlap":
        i = int(((b["ChargeCategory"] == "Usage") & b["ResourceId"].notna()).to_numpy().nonzero()[0][2])
        b = pd.concat([b, b.iloc[[i]]], ignore_index=True)
        want = "overlaps row"
    elif case == "require":
        args = ["--require-tags", "team,model"]
        want = "no 'model' tag"
    else:
        args = ["--idle", "owner"]
        want = "no owner"
    path = _write(b, tmp_path / "focus.csv")
    out = tmp_path / "mon"
    code = main(["--quiet", "monitor", str(path), "--scenario", "small", "--out", str(out), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and want in err and len(err.splitlines()) == 1 and "fix:" in err
    assert not out.exists()


def test_a_users_file_with_missing_tags_is_counted_not_refused(small_export: pd.DataFrame, tmp_path: Path) -> None:
    b = small_export.copy()
    used = _gpu_usage_rows(b)
    gpu = used[used["CommitmentDiscountStatus"] != "Unused"].index[:40]   # idle reservations carry no tags
    b.loc[gpu, "Tags"] = "{}"
    path = _write(b, tmp_path / "focus.csv")
    out = tmp_path / "mon"
    assert main(["--quiet", "monitor", str(path), "--scenario", "small", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    share = float(b.loc[gpu, "EffectiveCost"].sum()) / float(
        b[(b["ChargeCategory"] == "Usage") & (b["CommitmentDiscountStatus"] != "Unused")]["EffectiveCost"].sum())
    assert s["untagged_share"] == pytest.approx(share, rel=1e-9)
    bills = pd.read_csv(out / "tables" / "chargeback_bills.csv").set_index("team")
    # its own usage; it also takes its share of idle commitment under the spread rule, as any team does
    own = bills.loc["(untagged)", "direct_usd"] + bills.loc["(untagged)", "commitment_used_usd"]
    assert own == pytest.approx(float(b.loc[gpu, "EffectiveCost"].sum()), rel=1e-9)
    assert bills.loc["(untagged)", "idle_commitment_usd"] > 0
    assert any("no team tag" in n for n in s["notes"])


def test_the_same_bill_as_focus_and_as_cur_gives_the_same_team_bills(tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    bills = {}
    for name in ("focus_aws_small.csv", "cur2_small.csv"):
        out = tmp_path / name
        assert main(["--quiet", "monitor", str(fixtures / name), "--scenario", "small", "--out", str(out)]) == 0
        bills[name] = pd.read_csv(out / "tables" / "chargeback_bills.csv").set_index(["month", "team"])
    f, c = bills["focus_aws_small.csv"], bills["cur2_small.csv"]
    assert f.index.tolist() == c.index.tolist()
    assert f["total_usd"].to_numpy() == pytest.approx(c["total_usd"].to_numpy(), rel=1e-9)
