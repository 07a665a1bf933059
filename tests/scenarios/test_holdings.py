"""Holdings with dates: they expire on their own dates, and nothing expires silently (issue 9)."""

from __future__ import annotations

import pandas as pd
import pytest

from scenarios.loader import validate_dict
from scenarios.plan import current_plan, holdings_table

START = pd.Timestamp("2026-01-01", tz="UTC")


def _sc(current: dict) -> object:  # type: ignore[type-arg]
    return validate_dict({"name": "t", "demand": {"history": "unused.csv"},
                          "catalog": {"a100": {"on_demand_usd_per_gpu_hour": 2.0, "committed_discount": {"1y": 0.3}}},
                          "current": current})


def test_a_holding_bought_half_a_year_ago_expires_half_a_year_into_the_plan() -> None:
    sc = _sc({"reserved": [{"family": "a100", "term_years": 1, "gpus": 16, "usd_per_gpu_hour": 1.5,
                            "start": "2025-07-02T12:00:00Z"}],
              "committed_usd_per_hour": {"1y": 10.0}, "committed_end": {"1y": "2026-03-01T00:00:00Z"}})
    plan = current_plan(sc, START)  # type: ignore[arg-type]
    (r,) = plan.reserved
    # 2025-07-02 12:00 is 4,380 h before 2026-01-01: the holding has 8,760 - 4,380 = 4,380 h left
    assert r.start_hour == -4380 and plan.reserved_gpus("a100", 4379) == 16 and plan.reserved_gpus("a100", 4380) == 0
    (c,) = plan.committed
    assert c.start_hour + 8760 == 59 * 24  # Jan + Feb 2026 = 59 days
    tab = holdings_table(sc, START, 8760).set_index("kind")  # type: ignore[arg-type]
    assert tab.loc["reserved", "status"] == "expires in the plan window"
    assert tab.loc["reserved", "end"] == pd.Timestamp("2026-07-02T12:00:00Z")
    assert tab.loc["committed", "dates"] == "given in [current]"


def test_holdings_without_dates_are_bought_at_the_plan_start_and_say_so() -> None:
    sc = _sc({"reserved": [{"family": "a100", "term_years": 1, "gpus": 8, "usd_per_gpu_hour": 1.5}]})
    assert current_plan(sc, START).reserved[0].start_hour == 0  # type: ignore[arg-type]
    tab = holdings_table(sc, START, 4000)  # type: ignore[arg-type]
    assert tab.loc[0, "dates"].startswith("assumed: bought at the plan start")
    assert tab.loc[0, "status"] == "held through the plan window"


def test_an_expired_holding_is_left_out_of_the_plan_but_listed() -> None:
    sc = _sc({"reserved": [{"family": "a100", "term_years": 1, "gpus": 8, "usd_per_gpu_hour": 1.5,
                            "end": "2025-12-01T00:00:00Z"}]})
    assert current_plan(sc, START).name == "all-on-demand"  # type: ignore[arg-type]
    assert holdings_table(sc, START, 100).loc[0, "status"] == "expired before the plan"  # type: ignore[arg-type]


def test_holding_dates_need_an_offset_and_an_order() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        _sc({"reserved": [{"family": "a100", "term_years": 1, "gpus": 8, "usd_per_gpu_hour": 1.5,
                           "start": "2025-07-02T12:00:00"}]})
    with pytest.raises(ValueError, match="end must be after start"):
        _sc({"reserved": [{"family": "a100", "term_years": 1, "gpus": 8, "usd_per_gpu_hour": 1.5,
                           "start": "2025-07-02T12:00:00Z", "end": "2025-01-01T00:00:00Z"}]})
