"""The executor contract engines use to run independent work items in parallel.

Engines never create process pools or clusters themselves: they take any object with an order-preserving
``map(fn, items)`` (a :class:`Mapper`).  ``gpuplan.executors`` provides a local process pool and a Dask
``distributed`` client that satisfy it; :class:`SerialMapper` is the in-process default.

Work items must be picklable and ``fn`` a module-level function, so the same call runs on any executor.
Randomness travels inside the items (a seed or ``SeedSequence`` per item), never in global state, so the
numbers do not depend on which executor or how many workers ran them.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Mapper(Protocol):
    """Anything that maps a function over items and returns results in item order."""

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str | None = None) -> list[Any]:
        """Apply ``fn`` to each item; results in the order of ``items``."""
        ...


def on_terminal() -> bool:
    """True when progress bars can be drawn: stderr is a terminal, or a Jupyter kernel shows widgets."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty or "ipykernel" in sys.modules


class LineProgress:
    """Progress for logs and CI: no bar and no carriage returns.  A step of up to :attr:`PER_ITEM` items
    (long ones: scenarios of a comparison) logs a line per finished item; a larger one logs one line when
    it ends (``desc: N of N done in S s``)."""

    PER_ITEM = 10

    def __init__(self, total: int, desc: str | None) -> None:
        self.total = total
        self.desc = desc or "work items"
        self.n = 0
        self._t0 = time.perf_counter()

    def update(self, n: int = 1) -> None:
        """Count ``n`` finished items."""
        self.n += n
        if self.total <= self.PER_ITEM and self.n < self.total:
            self._line()

    def _line(self) -> None:
        logging.getLogger("gpuplan.progress").info(
            "%s: %d of %d done in %.1f s", self.desc, self.n, self.total, time.perf_counter() - self._t0)

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self._line()


def progress_bar(total: int, desc: str | None, enabled: bool) -> Any:
    """A progress counter for ``total`` items: a tqdm bar on a terminal, one log line per step elsewhere
    (a log file or CI gets no carriage-return updates), nothing when ``enabled`` is false or ``total <= 1``.

    The object has ``update(n)`` and is a context manager.
    """
    if not enabled or total <= 1:
        from contextlib import nullcontext

        class _Off:
            def update(self, n: int = 1) -> None:
                pass

        return nullcontext(_Off())
    if on_terminal():
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, leave=False)
    return LineProgress(total, desc)


class SerialMapper:
    """Run items one after the other in this process, with an optional tqdm progress bar."""

    def __init__(self, progress: bool = False) -> None:
        self.progress = progress

    def map(self, fn: Callable[[T], R], items: Sequence[T], desc: str | None = None) -> list[R]:
        """Apply ``fn`` to each item in order."""
        out: list[R] = []
        with progress_bar(len(items), desc, self.progress) as bar:
            for x in items:
                out.append(fn(x))
                bar.update(1)
        return out
