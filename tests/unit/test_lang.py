"""kernelkit.lang: the builtin registry (one operation however a function was imported; types for objects made
on demand; conflicting registrations refused), the random-stream algorithm shared by Debug and the host, and
the import direction of lang/ and frontend/ (tools/check_imports.py)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.lang import random as rng
from kernelkit.lang import registry
from kernelkit.lang.registry import Entry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "objs, entry",
    [
        ((math.sqrt, np.sqrt, pk.sqrt), Entry("math", "sqrt")),
        ((math.atan2, np.arctan2, pk.atan2), Entry("math", "atan2")),
        ((math.gamma, pk.tgamma), Entry("math", "tgamma")),
        ((min, np.minimum), Entry("builtin", "min")),
        ((abs, np.abs, np.absolute), Entry("builtin", "abs")),
        ((pk.atomic_add,), Entry("atomic", "add")),
        ((pk.atomic_fetch_max,), Entry("atomic_fetch", "max")),
        ((pk.atomic_compare_exchange,), Entry("atomic_cas", "cas")),
        ((pk.printf,), Entry("printf", "printf")),
        ((pk.rand,), Entry("rand", "drand")),
        ((pk.parallel_reduce,), Entry("pattern", "reduce")),
        ((pk.subview,), Entry("subview", "subview")),
        ((pk.TeamVectorRange,), Entry("range", "teamvector")),
        ((pk.TeamThreadMDRange,), Entry("mdrange", "thread")),
        ((pk.PerThread,), Entry("per", "thread")),
        ((np.int32,), Entry("convert", "int32")),
    ],
)
def test_registry_one_operation_however_imported(objs, entry):
    for obj in objs:
        assert registry.lookup(obj) == entry, obj


def test_registry_types_and_protocols():
    assert registry.lookup(pk.ScratchView2D[pk.double]).kind == "scratch_view"
    assert registry.lookup(pk.float32).kind == "convert"
    assert registry.lookup(pk.MaxLoc).kind == "reducer"
    assert registry.lookup(pk.View2D[pk.double]).kind == "annotation"

    @pk.function
    def twice(x):
        return 2 * x

    @pk.classtype
    class P:
        def __init__(self, x: float):
            self.x = x

    assert registry.lookup(twice) == Entry("function", "twice")
    assert registry.lookup(P) == Entry("classtype", "P")
    assert registry.lookup(print).kind == "builtin"
    assert registry.lookup(np.float16) is None
    assert registry.lookup(object()) is None
    assert registry.lookup([1, 2]) is None  # unhashable objects are looked up by identity too


def test_registry_refuses_a_second_meaning():
    def op():
        pass

    registry.register(op, "math", "sqrt")
    registry.register(op, "math", "sqrt")  # the same meaning again is fine
    with pytest.raises(pk.KernelValueError, match="already registered"):
        registry.register(op, "math", "exp")
    registry.register_alias(op, "math", "exp")  # an alias keeps the first meaning
    assert registry.lookup(op) == Entry("math", "sqrt")
    assert op in registry.entries("math")["sqrt"]


def test_random_stream_algorithm():
    assert rng.splitmix64(0) == 0xE220A8397B1DCDAF
    assert rng.stream_state(7, 3) == rng.splitmix64(7 ^ ((3 * rng.GOLDEN) & rng.M64))
    state, out = rng.xorshift64_star(1)  # 1 ^= 1 >> 12; ^= 1 << 25; ^= >> 27
    assert state == 0x2000001 and out == (0x2000001 * rng.XORSHIFT_MUL) & rng.M64
    # the host generator draws what the algorithm says
    pool = pk.Random_XorShift64_Pool(12345)
    gen = pool.get_state()
    s = rng.stream_state(12345, 0)
    s, raw = rng.xorshift64_star(s)
    assert gen.urand64() == raw
    assert int(pool[1]) == 1  # one claim


def _check_imports():
    spec = importlib.util.spec_from_file_location("kk_check_imports", ROOT / "tools" / "check_imports.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_lang_and_frontend_import_nothing_above_them():
    upward, facade = _check_imports().problems()
    ours = [p for p in upward + facade if "/lang/" in p or "/frontend/" in p or "/ir/" in p]
    assert not ours, "\n".join(ours)
