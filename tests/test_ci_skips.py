"""The suite-wide CI hook (tests/conftest.py): a skip for missing shared data fails under CI=true."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = """
import pytest

def test_needs_shared():
    pytest.skip("../shared/data is absent (fresh clone)")

@pytest.mark.skipif(True, reason="real data not found under /x/shared/data")
def test_needs_shared_by_mark():
    pass

@pytest.mark.shared_data
def test_marked():
    pytest.skip("no helios here")

def test_other_skip():
    pytest.skip("an optional plotting backend is missing")
"""


def _run(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    shared_data: needs ../shared/data\n")
    pytester.makepyfile(test_skips=TESTS)
    return pytester.runpytest("-p", "no:cacheprovider")


def test_under_ci_a_skip_for_missing_shared_data_fails(pytester: pytest.Pytester,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    res = _run(pytester)
    res.assert_outcomes(failed=2, errors=1, skipped=1)  # a skipif mark skips in setup: an error
    res.stdout.fnmatch_lines(["*CI=true: this test needs the shared data*"])


def test_off_ci_the_same_tests_skip(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    _run(pytester).assert_outcomes(skipped=4)
