"""Executors: the same seeded work gives the same numbers serially, on a process pool and on Dask."""

from __future__ import annotations

import numpy as np
import pytest

from gpuplan.executors import DaskMapper, ProcessPoolMapper, make_mapper
from scenarios.parallel import Mapper, SerialMapper


def _draw(seed_seq: np.random.SeedSequence) -> float:
    rng = np.random.default_rng(seed_seq)
    return float(rng.normal(size=1000).sum())


def _items(n: int = 6) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(42).spawn(n)


def test_serial_mapper_keeps_order() -> None:
    assert SerialMapper().map(abs, [-3, 1, -2]) == [3, 1, 2]


def test_process_pool_matches_serial() -> None:
    serial = SerialMapper().map(_draw, _items())
    pooled = ProcessPoolMapper(workers=2, progress=False).map(_draw, _items())
    assert pooled == serial


def test_dask_local_cluster_matches_serial() -> None:
    pytest.importorskip("distributed")
    serial = SerialMapper().map(_draw, _items())
    with DaskMapper("local", workers=2, progress=False) as mapper:
        assert isinstance(mapper, Mapper)
        on_dask = mapper.map(_draw, _items())
    assert on_dask == serial


def test_make_mapper_defaults() -> None:
    assert isinstance(make_mapper(workers=1, progress=False), SerialMapper)
    assert isinstance(make_mapper(progress=False), ProcessPoolMapper)


def _worker_info(_: int) -> tuple[int, str | None]:
    import os

    return os.getpid(), os.environ.get("OMP_NUM_THREADS")


def test_process_pool_is_reused_across_calls_and_single_threaded() -> None:
    import os

    before = os.environ.get("OMP_NUM_THREADS")
    with ProcessPoolMapper(workers=2, progress=False) as mapper:
        first = mapper.map(_worker_info, list(range(6)))
        second = mapper.map(_worker_info, list(range(6)))
    pids = {p for p, _ in first}
    assert os.getpid() not in pids
    assert {p for p, _ in second} <= pids, "the second map must run on the same worker processes"
    assert {t for _, t in first + second} == {"1"}
    assert os.environ.get("OMP_NUM_THREADS") == before, "the parent's environment is restored"
