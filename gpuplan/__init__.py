"""gpuplan: plan GPU capacity and commitments from forecast distributions, validated in simulation.

The top floor: the CLI, the end-to-end plan pipeline, reports and executors.  It builds on the three
engines (``forecasting``, ``simulator``, ``optimizer``) and the shared vocabulary in ``scenarios``.

The public API used by the notebooks::

    from gpuplan import load_scenario, run_plan, write_plan, negotiation_pack, compare_scenarios, sweep
    from gpuplan import run_backtest, write_backtest
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_scenario": "scenarios.loader",
    "run_plan": "gpuplan.pipeline",
    "scenario_paths": "gpuplan.pipeline",
    "forecast_scenario": "gpuplan.pipeline",
    "PlanRun": "gpuplan.pipeline",
    "write_plan": "gpuplan.plan_report",
    "build_report": "gpuplan.plan_report",
    "negotiation_pack": "gpuplan.negotiate",
    "write_pack": "gpuplan.negotiate",
    "compare_scenarios": "gpuplan.compare",
    "sweep": "gpuplan.compare",
    "sweep_grid": "gpuplan.compare",
    "make_mapper": "gpuplan.executors",
    "run_backtest": "gpuplan.backtest",
    "write_backtest": "gpuplan.backtest_report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the public API lazily, so ``gpuplan --help`` stays fast."""
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gpuplan' has no attribute '{name}'")
