"""Executors that satisfy :class:`scenarios.parallel.Mapper`: serial, a local process pool, or Dask.

``make_mapper(dask=None)`` is what the CLI and the pipeline call:

- ``dask=None``: a local process pool (``concurrent.futures``) with ``workers`` processes (default: the
  machine's cores), or in-process when ``workers == 1``;
- ``dask="local"``: a ``dask.distributed.LocalCluster`` started for the run;
- ``dask="tcp://host:8786"``: an existing Dask cluster.

Each returns results in item order, and since work items carry their own seeds, the same seed gives the
same numbers on every executor.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import os
import signal
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from scenarios.parallel import Mapper, SerialMapper, progress_bar

#: Loggers of dask/distributed that ``progress=False`` (the CLI's ``-q``) silences.
DASK_LOGGERS = ("distributed", "dask")


def _bar(total: int, desc: str | None, progress: bool) -> Any:
    return progress_bar(total, desc, progress)


def _worker_init() -> None:
    """Worker processes ignore Ctrl-C / SIGINT: the parent decides when they stop (no tracebacks from
    every worker when a notebook kernel is interrupted or shut down)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _shutdown(pool: ProcessPoolExecutor) -> None:
    pool.shutdown(wait=True, cancel_futures=True)


def _pool_context() -> multiprocessing.context.BaseContext:
    """Start method of worker processes: ``forkserver`` where available, else ``spawn``.

    Never plain ``fork``: HiGHS (and BLAS) start threads in the parent, and a forked child inherits their
    locks held, which deadlocks (seen with the schedule's carbon-price sweep).
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


#: Environment for worker processes: one BLAS/OpenMP thread each, so N workers use N cores (not N x N).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1"}


class ProcessPoolMapper:
    """Run items on a local pool of ``workers`` processes (``concurrent.futures``, forkserver start).

    The pool starts on the first ``map`` and is kept for the next ones (a plan makes a dozen calls), until
    :meth:`close`.  Workers run single-threaded BLAS (:data:`WORKER_ENV`).
    """

    def __init__(self, workers: int | None = None, progress: bool = True) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress
        self._pool: ProcessPoolExecutor | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            saved = {k: os.environ.get(k) for k in WORKER_ENV}
            os.environ.update(WORKER_ENV)  # inherited by the forkserver and its children
            # Started with SIGINT ignored, the forkserver (and every worker it forks) never turns Ctrl-C into
            # KeyboardInterrupt, not even while a worker is still starting; the initializer covers the rest.
            main_thread = threading.current_thread() is threading.main_thread()
            old_int = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
            try:
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_pool_context(),
                                                 initializer=_worker_init)
                # a pool nobody closed (a notebook) is shut down cleanly at exit
                self._finalizer = weakref.finalize(self, _shutdown, self._pool)
                # start the workers now, while the environment is set
                list(self._pool.map(abs, range(self.workers)))
            finally:
                if main_thread:
                    signal.signal(signal.SIGINT, old_int if old_int is not None else signal.default_int_handler)
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        return self._pool

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str | None = None) -> list[Any]:
        """Apply ``fn`` to every item in worker processes; results in item order."""
        if len(items) <= 1 or self.workers == 1:
            return SerialMapper(self.progress).map(fn, items, desc)
        from concurrent.futures import as_completed

        pool = self._executor()
        out: list[Any] = [None] * len(items)
        with _bar(len(items), desc, self.progress) as bar:
            futures = {pool.submit(fn, x): i for i, x in enumerate(items)}
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
                bar.update(1)
        return out

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None

    def __enter__(self) -> ProcessPoolMapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()



class DaskMapper:
    """Run items on a ``dask.distributed`` cluster: ``"local"`` starts a ``LocalCluster``."""

    def __init__(self, address: str = "local", workers: int | None = None, progress: bool = True) -> None:
        from distributed import Client, LocalCluster

        self.progress = progress
        self._cluster = None
        self._levels: dict[str, int] = {}
        if not progress:  # quiet: no Dask log lines, here or in the workers ("killed by signal 9" at close)
            for name in DASK_LOGGERS:
                lg = logging.getLogger(name)
                self._levels[name] = lg.level
                lg.setLevel(logging.CRITICAL)
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=":0", env=dict(WORKER_ENV),  # any free port: 8787 may be taken
                silence_logs=logging.CRITICAL if not progress else logging.WARNING,
            )
            self.client = Client(self._cluster)
        else:
            self.client = Client(address)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str | None = None) -> list[Any]:
        """Submit every item to the cluster; results in item order."""
        from distributed import as_completed

        if not items:
            return []
        futures = self.client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(items)
        with _bar(len(items), desc, self.progress) as bar:
            for fut in as_completed(futures):
                out[index[fut.key]] = fut.result()
                bar.update(1)
        return out

    def close(self) -> None:
        """Close the client (and the local cluster, if this mapper started one)."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        self._levels = {}

    def __enter__(self) -> DaskMapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_mapper(dask: str | None = None, workers: int | None = None, progress: bool = True) -> Mapper:
    """The executor for a run: a local process pool by default, Dask when ``dask`` is given."""
    if dask:
        return DaskMapper(dask, workers=workers, progress=progress)
    if workers == 1:
        return SerialMapper(progress)
    return ProcessPoolMapper(workers, progress=progress)


def close_mapper(mapper: Mapper) -> None:
    """Release a mapper's resources (a no-op for local ones)."""
    close = getattr(mapper, "close", None)
    if callable(close):
        close()
