"""gpuplan inference: the command, its files, bad input, and the plan pipeline's inference hand-off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpuplan.cli import main
from gpuplan.inference import add_steady_demand, run_inference
from scenarios import load_scenario
from scenarios.signals import load_signals


@pytest.fixture(scope="module")
def small_inference():  # type: ignore[no-untyped-def]
    return run_inference(load_scenario("small"))


def test_inference_cli_writes_tables_report_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "inf"
    assert main(["-q", "inference", "small", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "USD per 1,000 requests" in text and "Report:" in text
    files = {p.name for p in (out / "tables").iterdir()}
    assert {"inference_summary.csv", "inference_chat8b_sweep.csv", "inference_chat8b_options.csv",
            "inference_chat8b_hourly.csv", "inference_chat8b_teams.csv", "inference_warm_floor_demand.csv"} <= files
    html = (out / "inference.html").read_text()
    assert "Inference serving" in html and "chat8b" in html
    summary = json.loads((out / "inference_summary.json").read_text())["chat8b"]
    hourly = pd.read_csv(out / "tables" / "inference_chat8b_hourly.csv")
    # the period figure is the sum of the hourly costs over the sum of requests
    assert summary["usd_per_1k_requests"] == pytest.approx(hourly["cost_usd"].sum() / hourly["requests"].sum() * 1e3,
                                                           rel=1e-9)
    assert len(hourly) == 6


def test_inference_cli_without_an_inference_section_exits_2_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # an [inference] section cannot be removed through extends: the default scenario without its section
    sc = tmp_path / "noinf.toml"
    base = Path(__file__).resolve().parents[2] / "scenarios" / "default.toml"
    sc.write_text(base.read_text().split("\n# INFERENCE SERVING")[0])
    out = tmp_path / "o"
    assert main(["-q", "inference", str(sc), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no [inference] section" in err and err.count("\n") == 1
    assert not out.exists()


def test_inference_cli_bad_trace_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "req.csv"
    trace.write_text("timestamp,input_tokens,output_tokens\n2026-01-01T00:00:00Z,10,5\n2026-01-01T00:00:01Z,x,5\n")
    out = tmp_path / "o"
    code = main(["-q", "inference", "small", "--set", f"inference.models.chat8b.traffic.trace={trace}", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "input_tokens" in err and err.count("\n") == 1
    assert not out.exists()


def test_recommendation_meets_the_slo_and_beats_or_equals_static_peak(small_inference) -> None:  # type: ignore[no-untyped-def]
    m = small_inference.models["chat8b"]
    s = m.summary
    assert s["meets_slo"] and s["slo_attainment"] >= m.model.slo.quantile
    # the recommendation is the cheapest swept policy that meets the SLO, static provisioning included, so it
    # never costs more than static provisioning for the peak at its cheapest rate
    assert s["cost_usd"] <= s["static_peak_cost_usd"] + 1e-9
    assert s["saving_vs_static_peak_pct"] == pytest.approx(100 * (1 - s["cost_usd"] / s["static_peak_cost_usd"]))
    # an independent replay of the chosen policy's replicas: the static count is the smallest that meets the SLO
    assert m.static_replicas is not None and m.static_replay is not None
    assert m.static_replay.slo_attainment(m.model.slo) >= m.model.slo.quantile
    # every option is priced over the same requests
    opts = m.options.set_index("option")
    assert opts.loc["API", "usd_per_1k_requests"] == pytest.approx(1e3 * s["api_usd_per_request"], rel=1e-9)


def test_warm_floor_adds_to_every_path_and_hour_of_its_family_only() -> None:
    ts = pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC")
    paths = pd.DataFrame({"series_id": np.repeat(["a100", "h100"], 6), "timestamp": np.tile(np.repeat(ts, 2), 2),
                          "sample_id": np.tile([0, 1], 6), "gpus": np.arange(12, dtype=float)})
    floor = pd.DataFrame({"series_id": "a100", "timestamp": ts[:2], "gpus": 4.0})
    got = add_steady_demand(paths, floor)
    assert got.columns.tolist() == paths.columns.tolist()
    diff = got["gpus"] - paths["gpus"]
    assert diff.tolist() == [4.0] * 4 + [0.0] * 8


def test_plan_includes_inference_without_moving_training_figures() -> None:
    # the small scenario keeps commit_warm_floor = false; its plan carries the inference section
    from gpuplan.pipeline import run_plan
    from gpuplan.plan_report import build_report, plan_tables
    from scenarios.parallel import SerialMapper

    run = run_plan(load_scenario("small"), mapper=SerialMapper(False), progress=False, replications=2,
                   analyses=False)
    assert run.extras["inference"] is not None
    assert "inference_chat8b_options" in plan_tables(run)
    assert any(s.title == "Inference serving" for s in build_report(run).sections)


@pytest.mark.slow
def test_planner_prediction_on_generated_traffic_matches_a_replay_of_the_real_azure_trace_within_2_points() -> None:
    from scenarios.traffic import bundled_traffic_fit, read_requests
    from simulator.inference import replay

    # the planner sees only generated traffic: the conversation trace's rate, burstiness and token lengths
    # over 4 hours (flat daily shape, as the trace covers one hour); the real trace is never shown to it
    ov = {"inference.replay_hours": 4, "inference.sweep_min_warm": [4, 8], "inference.sweep_target_utilization": [0.2, 0.3],
          "inference.models.chat8b.traffic.generator.requests_per_s": bundled_traffic_fit()["conv"]["requests_per_s"],
          "inference.models.chat8b.traffic.generator.daily_amplitude": 0.0,
          "inference.models.chat8b.traffic.generator.weekend_factor": 1.0,
          "inference.models.chat8b.policy.max_replicas": 40}
    sc = load_scenario("default", overrides=ov)
    m = run_inference(sc).models["chat8b"]
    assert m.chosen is not None
    real = read_requests(sc.resolve("bundled:azure_llm_conv"), tz="UTC")
    arr = (real["timestamp"] - real["timestamp"].iloc[0]).dt.total_seconds().to_numpy()
    floor, target = int(m.chosen["min_warm_replicas"]), m.chosen["target_utilization"]
    if pd.isna(target):
        pol = m.model.policy.model_copy(update={"min_warm_replicas": floor, "max_replicas": floor})
        rep = replay(arr, real["input_tokens"].to_numpy(float), real["output_tokens"].to_numpy(float), m.model.profile,
                     pol, autoscale=False)
    else:
        pol = m.model.policy.model_copy(update={"min_warm_replicas": floor, "target_utilization": float(target)})
        rep = replay(arr, real["input_tokens"].to_numpy(float), real["output_tokens"].to_numpy(float), m.model.profile,
                     pol, initial_replicas=floor)
    predicted, actual = float(m.chosen["slo_attainment"]), rep.slo_attainment(m.model.slo)
    print(f"chosen {m.summary['policy']}: predicted {100 * predicted:.2f} %, real trace {100 * actual:.2f} %")
    assert abs(predicted - actual) <= 0.02


def _replica_hours_by_clipping(replicas: pd.DataFrame, hours: int) -> np.ndarray:
    out = np.zeros(hours)
    for asked, stop in zip(replicas["asked_s"], replicas["stop_s"], strict=True):
        for h in range(hours):
            out[h] += max(0.0, min(stop, (h + 1) * 3600.0) - max(asked, h * 3600.0)) / 3600.0
    return out


def test_carbon_per_1k_requests_is_replica_energy_times_the_hourly_intensity() -> None:
    # idle replicas drawing full power: energy = replica-hours x GPUs per replica x power x PUE, hour by hour
    sc = load_scenario("small", overrides={"inference.models.chat8b.idle_power_share": 1.0,
                                           "inference.sweep_target_utilization": [0.2],
                                           "inference.hourly_floor_blocks": 0,
                                           "inference.models.chat8b.policy.allow_spot": False})
    run = run_inference(sc)
    mp = run.models["chat8b"]
    fam = sc.catalog["a100"]
    hours = len(mp.hourly)
    rh = _replica_hours_by_clipping(mp.replay.replicas, hours)
    kwh = rh * mp.model.profile.gpus_per_replica * fam.gpu_power_kw * fam.pue
    carbon, _ = load_signals(sc, mp.hourly["timestamp"].iloc[0], hours)
    ci = carbon.loc[carbon["region"] == fam.region, "gco2_per_kwh"].to_numpy()
    want = float((kwh * ci).sum()) / mp.summary["requests"] * 1e3
    assert mp.summary["gco2e_per_1k_requests"] == pytest.approx(want, rel=1e-9)
    assert mp.summary["kwh_per_1k_requests"] == pytest.approx(kwh.sum() / mp.summary["requests"] * 1e3, rel=1e-9)


def test_energy_of_the_small_plan_splits_busy_and_idle_replica_time_from_the_replicas(small_inference) -> None:  # type: ignore[no-untyped-def]
    # busy time from the replicas' own busy_s, paid time from their lifetimes; idle at idle_power_share
    mp = small_inference.models["chat8b"]
    fam = small_inference.scenario.catalog["a100"]
    r = mp.replay.replicas
    paid = float((r["stop_s"] - r["asked_s"]).sum()) / 3600.0
    busy = float(r["busy_s"].sum()) / 3600.0
    share = mp.model.idle_power_share
    kwh = mp.model.profile.gpus_per_replica * fam.gpu_power_kw * fam.pue * (busy + share * (paid - busy))
    # busy_s also holds the part of a batch still running after the replay's end, which the plan does not count:
    # the plan's figure is at most this one, and within 0.1 % of it
    got = mp.summary["kwh_per_1k_requests"]
    assert got <= kwh / mp.summary["requests"] * 1e3 + 1e-12
    assert got == pytest.approx(kwh / mp.summary["requests"] * 1e3, rel=1e-3)
