"""Suite-wide hooks: under ``CI=true`` a test that would be skipped for missing shared data fails instead.

On a developer's fresh clone ``../shared/data`` is absent and the tests that read real data skip.  On CI
the data must be there: a skip would hide that the real-data checks never ran, so it becomes a failure.
A skip counts as "for missing shared data" when the test is marked ``shared_data`` or its reason names
the shared folder.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

pytest_plugins = ["pytester"]


def on_ci() -> bool:
    """True when the environment variable ``CI`` is set to true/1/yes (GitHub Actions, GitLab set it)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _skip_reason(report: pytest.TestReport) -> str:
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2])
    return str(lr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.skipped or not on_ci():
        return
    reason = _skip_reason(report)
    if item.get_closest_marker("shared_data") is not None or "shared" in reason.lower():
        report.outcome = "failed"
        report.longrepr = (f"CI=true: this test needs the shared data and would have been skipped "
                           f"({reason}); put ../shared/data in place on the CI runner")
