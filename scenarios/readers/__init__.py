"""Readers: usage and history files, FOCUS and AWS CUR 2.0 billing exports, job traces.

Every reader returns tables in the contract of ``scenarios/data/tables.csv`` with tz-aware UTC times,
raises :class:`scenarios.errors.InputError` (one line naming file, row, column and fix) on bad input, and
counts rows it leaves out on purpose by reason (:class:`ReadResult`). See ``docs/data-formats.md``.

=====================  ===========================================  ==========================
reader                 input                                        output table
=====================  ===========================================  ==========================
:func:`read_usage`     hourly usage, long format (CSV / Parquet)    ``usage``
:func:`read_history`   the forecasting CLI's history file           ``history``
:func:`read_focus`     FOCUS 1.0-1.2 billing export                 ``billing``
:func:`read_cur`       AWS CUR 2.0 export                           ``billing``
:func:`read_trace`     job trace, one row per job                   ``jobs``
=====================  ===========================================  ==========================

:func:`billing_kpis` turns a billing table into coverage, utilization and savings figures.
:func:`hourly_window` is the one rule both engines apply to the hourly ``carbon``, ``price`` and ``spot``
tables they are given.
"""

from scenarios.readers._billing import BILLING_COLUMNS, billing_kpis
from scenarios.readers._checks import ReadResult
from scenarios.readers._hourly import hourly_window
from scenarios.readers.cur import read_cur
from scenarios.readers.focus import read_focus
from scenarios.readers.history import read_history
from scenarios.readers.traces import JOB_COLUMNS, read_trace
from scenarios.readers.usage import USAGE_KEYS, read_usage

__all__ = [
    "BILLING_COLUMNS",
    "JOB_COLUMNS",
    "USAGE_KEYS",
    "ReadResult",
    "billing_kpis",
    "hourly_window",
    "read_cur",
    "read_focus",
    "read_history",
    "read_trace",
    "read_usage",
]
