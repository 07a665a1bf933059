"""A small SYNTHETIC FOCUS export of two days of the bundled Helios demand, shared by the monitor tests."""

from __future__ import annotations

import pandas as pd
import pytest

from scenarios.history import load_history
from scenarios.loader import load_scenario
from scenarios.synthetic import focus_export


@pytest.fixture(scope="session")
def small_usage() -> pd.DataFrame:
    u = load_history(load_scenario("small")).usage
    return u[u["timestamp"] < u["timestamp"].min() + pd.Timedelta(days=2)].reset_index(drop=True)


@pytest.fixture(scope="session")
def small_export(small_usage: pd.DataFrame) -> pd.DataFrame:
    return focus_export(small_usage, load_scenario("small"), seed=0)
