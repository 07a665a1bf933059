"""Request traces and the traffic generator, checked against the raw Azure LLM traces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.inference_config import TrafficGenerator, roofline_profile
from scenarios.loader import load_scenario
from scenarios.traffic import (
    REQUEST_COLUMNS,
    bundled_traffic_fit,
    fit_traffic,
    generate_requests,
    hourly_shape,
    read_requests,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "azure_llm_inference_2023"
START = pd.Timestamp("2026-01-05 00:00", tz="UTC")   # a Monday


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "req.csv"
    p.write_text(text.strip() + "\n")
    return str(p)


def test_trace_reads_sorted_with_model_and_team_defaults(tmp_path: Path) -> None:
    f = read_requests(_write(tmp_path, """
timestamp,input_tokens,output_tokens,team
2026-01-01T00:00:01.5Z,100,20,search
2026-01-01T00:00:00Z,10,2,
"""), model="chat")
    assert f.columns.tolist() == REQUEST_COLUMNS
    assert f["input_tokens"].tolist() == [10, 100]
    assert f["model"].tolist() == ["chat", "chat"] and f["team"].tolist() == ["", "search"]
    assert (f["timestamp"].iloc[1] - f["timestamp"].iloc[0]).total_seconds() == 1.5


@pytest.mark.parametrize(("text", "tz", "needle"), [
    ("timestamp,input_tokens\n2026-01-01T00:00:00Z,1", None, "missing column 'output_tokens'"),
    ("timestamp,input_tokens,output_tokens\nyesterday,1,2", None, "row 1, column 'timestamp'"),
    ("timestamp,input_tokens,output_tokens\n2026-01-01 00:00:00,1,2", None, "no time zone"),
    ("timestamp,input_tokens,output_tokens\n2026-01-01T00:00:00Z,1,2\n2026-01-01T00:00:01Z,-3,2", None,
     "row 2, column 'input_tokens'"),
    ("timestamp,input_tokens,output_tokens\n2026-01-01T00:00:00Z,1,2.5", None, "column 'output_tokens'"),
    ("timestamp,input_tokens,output_tokens\n2026-01-01 00:00:00,1,2", "Mars/Base", "cannot localise"),
    ("timestamp,input_tokens,output_tokens", None, "no requests"),
])
def test_bad_traces_fail_with_one_line_naming_the_place(tmp_path: Path, text: str, tz: str | None,
                                                        needle: str) -> None:
    with pytest.raises(InputError) as info:
        read_requests(_write(tmp_path, text), tz=tz)
    msg = str(info.value)
    assert needle in msg and "\n" not in msg and "req.csv" in msg


def test_missing_trace_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_requests(tmp_path / "nope.csv")


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"Azure traces not found under {SHARED}")
@pytest.mark.parametrize("name", ["conv", "code"])
def test_bundled_fit_is_what_the_raw_trace_gives(name: str) -> None:
    path = SHARED / f"AzureLLMInferenceTrace_{name}.csv.gz"
    fit = fit_traffic(path)
    bundled = bundled_traffic_fit()[name]
    assert set(fit) == set(bundled)
    for key, value in fit.items():
        assert value == pytest.approx(bundled[key], rel=1e-12), key
    # independent reading with plain pandas
    raw = pd.read_csv(path)
    assert fit["requests"] == len(raw)
    assert fit["input_tokens_percentiles"][50] == float(raw["ContextTokens"].median())
    t = pd.to_datetime(raw["TIMESTAMP"])
    per_s = np.bincount(((t - t.iloc[0]).dt.total_seconds()).astype(int))
    assert fit["requests_per_s"] == pytest.approx(per_s.mean())


def test_bundled_conv_trace_is_the_raw_file() -> None:
    sc = load_scenario("default")
    assert sc.inference is not None
    f = read_requests(sc.resolve("bundled:azure_llm_conv"), tz="UTC")
    assert len(f) == bundled_traffic_fit()["conv"]["requests"]


@pytest.mark.parametrize("name", ["conv", "code"])
def test_generator_reproduces_the_traces_burstiness_and_token_lengths(name: str) -> None:
    fit = bundled_traffic_fit()[name]
    # a flat daily/weekly shape so that the trace's hourly rate applies to every hour
    gen = TrafficGenerator(shape_of=name, daily_amplitude=0.0, weekend_factor=1.0, seed=3)
    req = generate_requests(START, 24, gen, fit=fit)
    t = (req["timestamp"] - START).dt.total_seconds().to_numpy()
    c1 = np.bincount(t.astype(int), minlength=24 * 3600)
    c60 = np.bincount((t // 60).astype(int), minlength=24 * 60)
    assert c1.mean() == pytest.approx(fit["requests_per_s"], rel=0.05)
    # the dispersion of counts per second and per minute of the raw trace (tolerances: 24 h of samples)
    assert c1.var() / c1.mean() == pytest.approx(fit["dispersion_1s"], rel=0.15)
    assert c60.var() / c60.mean() == pytest.approx(fit["dispersion_60s"], rel=0.25)
    for col in ("input_tokens", "output_tokens"):
        q = np.asarray(fit[f"{col}_percentiles"])
        assert float(req[col].median()) == pytest.approx(q[50], rel=0.03)
        assert float(req[col].quantile(0.9)) == pytest.approx(q[90], rel=0.05)
    assert abs(req[["input_tokens", "output_tokens"]].corr(method="spearman").iloc[0, 1]) < 0.02


def test_generator_is_seeded_and_follows_the_daily_and_weekly_shape() -> None:
    gen = TrafficGenerator(requests_per_s=2.0, daily_amplitude=0.5, peak_hour_utc=17.0, weekend_factor=0.5, seed=1)
    a = generate_requests(START, 168, gen)
    b = generate_requests(START, 168, gen)
    pd.testing.assert_frame_equal(a, b)
    shape = hourly_shape(START, 168, gen)
    assert shape.mean() == pytest.approx(1.0)                 # the mean rate over a week is requests_per_s
    assert len(a) / (168 * 3600) == pytest.approx(2.0, rel=0.03)
    per_h = a.groupby(a["timestamp"].dt.floor("h")).size()
    assert per_h.idxmax().hour in (15, 16, 17, 18, 19)
    weekday = per_h[per_h.index.day_of_week < 5].mean()
    weekend = per_h[per_h.index.day_of_week >= 5].mean()
    assert weekend / weekday == pytest.approx(0.5, rel=0.1)


def test_default_profile_is_the_datasheet_derivation_documented_in_the_scenario() -> None:
    sc = load_scenario("default")
    assert sc.inference is not None
    prof = sc.inference.models["chat8b"].profile
    # Llama-3-8B-like: 8e9 parameters, BF16, KV 2 x 32 layers x 8 heads x 128 x 2 bytes per token, 1,500
    # tokens of context; A100: 312 TFLOP/s, 2,039 GB/s; MFU 0.5, bandwidth efficiency 0.6.
    pre, dec = roofline_profile("a100", parameters=8e9, kv_bytes_per_token=2 * 32 * 8 * 128 * 2,
                                context_tokens=1500, batch_sizes=tuple(prof.batch_sizes))
    assert prof.prefill_tokens_per_s == pytest.approx(pre, rel=1e-3)
    assert prof.decode_tokens_per_s == pytest.approx(dec, rel=1e-3)
    # by hand at batch 1: 312e12 * 0.5 / (2 * 8e9) = 9,750 tokens/s; 16e9 + 1,500 * 131,072 bytes per step
    assert pre[0] == pytest.approx(9750.0)
    assert dec[0] == pytest.approx(2.039e12 * 0.6 / (16e9 + 1500 * 131072))


def test_bundled_json_names_its_source() -> None:
    from importlib import resources

    doc = json.loads(resources.files("scenarios").joinpath("data/azure_llm_traffic.json").read_text())
    assert "CC BY 4.0" in doc["about"] and "Splitwise" in doc["about"]


def test_request_table_is_registered_with_units() -> None:
    from scenarios.tables import registry

    cols = registry()["requests"]
    assert [c.name for c in cols] == REQUEST_COLUMNS
    assert {c.name: c.unit for c in cols}["input_tokens"] == "tokens"


def test_generator_follows_an_hourly_rate_file_and_splits_teams(tmp_path: Path) -> None:
    from scenarios.traffic import load_requests

    hours = pd.date_range(START, periods=6, freq="h")
    rates = [1000.0, 2000.0, 4000.0, 8000.0, 4000.0, 1000.0]          # requests per hour
    f = tmp_path / "rate.csv"
    pd.DataFrame({"series_id": "chat", "timestamp": [h.isoformat() for h in hours], "mean": rates}).to_csv(f, index=False)
    gen = TrafficGenerator(rate_column="mean", rate_unit="per_hour", teams={"search": 1.0, "chat": 3.0}, seed=2)
    req = load_requests(None, gen, start=START, hours=6, rate_path=str(f))
    per_h = req.groupby(req["timestamp"].dt.floor("h")).size().to_numpy()
    np.testing.assert_allclose(per_h, rates, rtol=0.15)
    assert float(per_h.sum()) == pytest.approx(sum(rates), rel=0.05)
    share = req["team"].value_counts(normalize=True)
    assert share["chat"] == pytest.approx(0.75, abs=0.02)


@pytest.mark.parametrize(("text", "needle"), [
    ("timestamp,requests_per_s\n2026-01-05T00:00:00Z,1", "no rate for 2026-01-05 01:00"),
    ("timestamp,requests_per_s\n2026-01-05T00:00:00,1\n2026-01-05T01:00:00,1", "no time zone"),
    ("timestamp,requests_per_s\n2026-01-05T00:00:00Z,-1\n2026-01-05T01:00:00Z,1", "row 1, column 'requests_per_s'"),
    ("timestamp,rate\n2026-01-05T00:00:00Z,1", "missing column 'requests_per_s'"),
])
def test_bad_rate_files_fail_with_one_line(tmp_path: Path, text: str, needle: str) -> None:
    from scenarios.traffic import read_hourly_rate

    p = tmp_path / "rate.csv"
    p.write_text(text + "\n")
    with pytest.raises(InputError) as info:
        read_hourly_rate(p, START, 2)
    assert needle in str(info.value) and "rate.csv" in str(info.value)
