"""Helpers for the reader tests: write small files into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], str]:
    """Write ``text`` (a CSV, leading/trailing blank lines stripped) to ``tmp_path/name``; return the path."""

    def _write(name: str, text: str) -> str:
        p = tmp_path / name
        p.write_text(text.strip() + "\n", encoding="utf-8")
        return str(p)

    return _write
