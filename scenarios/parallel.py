"""The executor contract engines use to run independent work items in parallel.

Engines never create process pools or clusters themselves: they take any object with an order-preserving
``map(fn, items)`` (a :class:`Mapper`).  ``gpuplan.executors`` provides a local process pool and a Dask
``distributed`` client that satisfy it; :class:`SerialMapper` is the in-process default.

Work items must be picklable and ``fn`` a module-level function, so the same call runs on any executor.
Randomness travels inside the items (a seed or ``SeedSequence`` per item), never in global state, so the
numbers do not depend on which executor or how many workers ran them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Mapper(Protocol):
    """Anything that maps a function over items and returns results in item order."""

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str | None = None) -> list[Any]:
        """Apply ``fn`` to each item; results in the order of ``items``."""
        ...


class SerialMapper:
    """Run items one after the other in this process, with an optional tqdm progress bar."""

    def __init__(self, progress: bool = False) -> None:
        self.progress = progress

    def map(self, fn: Callable[[T], R], items: Sequence[T], desc: str | None = None) -> list[R]:
        """Apply ``fn`` to each item in order."""
        it: Iterable[T] = items
        if self.progress and len(items) > 1:
            from tqdm.auto import tqdm

            it = tqdm(items, desc=desc, leave=False)
        return [fn(x) for x in it]
