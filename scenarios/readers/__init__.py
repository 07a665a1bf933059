"""Readers: usage and history files, FOCUS and AWS CUR 2.0 billing exports, job traces.

Every reader returns tables in the contract of ``scenarios/data/tables.csv`` with tz-aware UTC times,
raises :class:`scenarios.errors.InputError` (one line naming file, row, column and fix) on bad input, and
counts rows it leaves out on purpose by reason (:class:`ReadResult`). See ``docs/data-formats.md``.
"""

from scenarios.readers._checks import ReadResult
from scenarios.readers.history import read_history
from scenarios.readers.traces import JOB_COLUMNS, read_trace

__all__ = ["JOB_COLUMNS", "ReadResult", "read_history", "read_trace"]
