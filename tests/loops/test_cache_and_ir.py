"""Specializations through the compile cache, the program IR's printed form, and the Debug reference."""

import os
import subprocess
import sys
import textwrap

import numpy as np

import kernelkit as pk
from kernelkit.ir import printer
from kernelkit.loops import lower_program
from kernelkit.runtime.args import arg_type


def three_loops(a, b):
    n = a.shape[0]
    c = np.empty_like(a)
    for i in pk.prange(n):
        c[i] = a[i] * b[i]
    s = 0.0
    for i in pk.prange(n):
        s += c[i]
    m = -np.inf
    for i in pk.prange(n):
        m = max(m, c[i])
    return c, s, m


def test_ir_names_the_parallel_loops_and_their_reductions():
    a = np.ones(4)
    prog, _ = lower_program(three_loops, {"a": arg_type("a", a, None)[0], "b": arg_type("b", a, None)[0]})
    text = printer.program(prog)
    assert "program three_loops(a: View1D[float64,C], b: View1D[float64,C])" in text
    assert text.count("parallel for i in range(") == 3
    assert "reduction(+:s)" in text and "reduction(max:m)" in text
    assert "c = alloc(extent(a, 0)):View1D[float64,C]" in text


def test_debug_is_the_sequential_reference(rng):
    a, b = rng.random(100), rng.random(100)
    for space in (pk.Debug, pk.OpenMP):
        c, s, m = pk.jit(space=space)(three_loops)(a, b)
        np.testing.assert_array_equal(c, a * b)
        assert abs(s - (a * b).sum()) < 1e-12 and m == (a * b).max()


def test_a_new_process_loads_the_program_from_the_cache(tmp_path):
    src = tmp_path / "prog.py"
    src.write_text(
        textwrap.dedent("""
        import numpy as np, kernelkit as pk

        @pk.jit(space=pk.OpenMP)
        def f(a):
            s = 0.0
            for i in pk.prange(a.shape[0]):
                s += a[i] * 2
            return s

        assert f(np.arange(10.0)) == 90.0
        print(f.stats()["compiles"], f.stats()["cache_hits"])
    """)
    )
    env = dict(os.environ, KERNELKIT_CACHE_DIR=str(tmp_path / "cache"))
    first = subprocess.run([sys.executable, str(src)], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, str(src)], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["1", "0"]
    assert second.stdout.split() == ["0", "1"]


def rebinding(a):
    for i in pk.prange(a.shape[0]):
        a[i] = FACTOR


FACTOR = 2.0


def test_rebinding_a_global_recompiles():
    global FACTOR
    f = pk.jit(space=pk.OpenMP)(rebinding)
    a = np.zeros(3)
    f(a)
    assert (a == 2.0).all()
    FACTOR = 5.0
    try:
        f(a)
        assert (a == 5.0).all()
    finally:
        FACTOR = 2.0
