"""The small plan's key figures do not depend on the CPU's BLAS kernel (``OPENBLAS_CORETYPE``).

Each run happens in a fresh interpreter (OpenBLAS picks its kernel when it loads).  Before the copula
drew through a Cholesky factor in a fixed order, ``Haswell`` and ``SandyBridge`` gave
``all_on_demand_cost_usd`` 413,583.418 and 412,424.536 and 13 of 16 figures moved.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

KERNELS = ("Haswell", "SandyBridge")

_SCRIPT = r"""
import ctypes, glob, json, os
import numpy as np

def corename():
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*.so*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for sym in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            f = getattr(lib, sym, None)
            if f is not None:
                f.restype = ctypes.c_char_p
                return f().decode()
    return None

from gpuplan.pipeline import run_plan
from scenarios import load_scenario
from scenarios.parallel import SerialMapper

run = run_plan(load_scenario("small"), mapper=SerialMapper(False), progress=False, replications=3,
               analyses=False)
print(json.dumps({"core": corename(), "key": run.key_figures()}))
"""


def _cpu_has_avx2() -> bool:
    try:
        return " avx2 " in f" {Path('/proc/cpuinfo').read_text()} ".replace("\n", " ")
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not _cpu_has_avx2(),
                    reason="the Haswell and SandyBridge OpenBLAS kernels need an x86-64 CPU with AVX2")
def test_key_figures_are_identical_under_two_blas_kernels() -> None:
    procs = {}
    for kernel in KERNELS:
        env = {**os.environ, "OPENBLAS_CORETYPE": kernel, "OPENBLAS_NUM_THREADS": "1"}
        procs[kernel] = subprocess.Popen([sys.executable, "-c", _SCRIPT], env=env, text=True,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = {}
    for kernel, p in procs.items():
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr[-2000:]
        out[kernel] = json.loads(stdout.strip().splitlines()[-1])
    cores = {k: v["core"] for k, v in out.items()}
    if None in cores.values():
        pytest.skip("numpy is not linked to a bundled OpenBLAS whose kernel can be read")
    assert cores["Haswell"].lower() == "haswell" and cores["SandyBridge"].lower() == "sandybridge", cores
    a, b = (out[k]["key"] for k in KERNELS)
    assert sorted(a) == sorted(b)
    for key, value in a.items():
        if isinstance(value, float):
            assert b[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
        else:
            assert b[key] == value, key
