"""Kernels against NumPy (issue 17): float expressions whose every operation is correctly rounded in IEEE
arithmetic (+ - * /, sqrt, abs, negation, comparisons, selects, float32/float64 conversions, Python float
literals, which are weak in both) must give NumPy's array results bit for bit on every space, edge values
included (docs/numerics.md). Transcendental functions and min/max are left out: NumPy's own implementations
differ in the last bit, and its minimum/maximum propagate NaN where Python's min/max do not."""

from __future__ import annotations

import numpy as np
from fuzz_harness import STATS, load, mismatches, spaces
from hypothesis import given, note
from hypothesis import strategies as st

import kernelkit as pk

LITERALS = ["0.0", "-0.0", "0.5", "1.0", "-1.5", "3.0", "1e30", "1e-310", "1e300", "0.1"]
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 2.5, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 1e308, -1e308, 3.0e38, 1e-45]


@st.composite
def trees(draw, depth=3):
    """(kernel text, NumPy text, type) of a float expression."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(["a", "b", "lit"]))
        if kind == "a":
            return "a[i]", "A", "f64"
        if kind == "b":
            return "b[i]", "B", "f32"
        text = draw(st.sampled_from(LITERALS))
        return f"({text})", f"({text})", "weak"
    kind = draw(st.sampled_from(["bin", "bin", "bin", "unary", "cast", "select"]))
    if kind == "bin":
        (ka, na, ta), (kb, nb, tb) = draw(trees(depth - 1)), draw(trees(depth - 1))
        op = draw(st.sampled_from(["+", "-", "*", "/"]))
        t = "f64" if "f64" in (ta, tb) else "f32" if "f32" in (ta, tb) else "weak"
        if t == "weak":  # literals only: folded, as the kernel frontend folds it (in C's arithmetic: no errors)
            with np.errstate(all="ignore"):
                value = float(eval(f"np.float64({na}) {op} np.float64({nb})", {"np": np}))  # noqa: S307
            return f"({ka} {op} {kb})", f"float({str(value)!r})", t
        return f"({ka} {op} {kb})", f"({na} {op} {nb})", t
    if kind == "unary":
        k, n, t = draw(trees(depth - 1))
        fn = draw(st.sampled_from(["neg", "abs", "sqrt"]))
        if fn == "neg":
            return f"(-{k})", f"(-{n})", t
        if t == "weak":  # abs/sqrt of a literal is a float64 value in kernels, a np.float64 in NumPy
            t = "f64"
        return (f"abs({k})", f"np.abs({n})", t) if fn == "abs" else (f"math.sqrt({k})", f"np.sqrt({n})", t)
    if kind == "cast":
        k, n, t = draw(trees(depth - 1))
        if draw(st.booleans()):
            return f"pk.float32({k})", f"np.float32({n})", "f32"
        if t == "weak":  # float(literal) is still a Python float, weak (as float(...) of one in NumPy code)
            return f"float({k})", f"float({n})", "weak"
        return f"float({k})", f"np.float64({n})", "f64"
    (kc1, nc1, _), (kc2, nc2, _) = draw(trees(depth - 1)), draw(trees(depth - 1))
    op = draw(st.sampled_from(["<", "<=", ">", "==", "!="]))
    (kx, nx, tx), (ky, ny, ty) = draw(trees(depth - 1)), draw(trees(depth - 1))
    t = "f64" if "f64" in (tx, ty) or tx == ty == "weak" else "f32"
    return f"({kx} if ({kc1} {op} {kc2}) else {ky})", f"np.where(({nc1} {op} {nc2}), {nx}, {ny})", t


HEADER = "import math\n\nimport kernelkit as pk\n\n\n@pk.workunit\ndef kernel(i, a, b, out):\n"


@given(trees(), st.sampled_from([1, 7, 33]), st.integers(0, 2**16))
def test_float_expressions_equal_numpy(tree, n, seed):
    k_text, np_text, t = tree
    dtype = np.float32 if t == "f32" else np.float64
    source = HEADER + f"    out[i] = {k_text}\n"
    note(source)
    note(f"numpy: {np_text}")
    rng = np.random.default_rng(seed)
    a = np.array([EDGES[(k + seed) % len(EDGES)] for k in range(n)])
    a[len(EDGES) :] = rng.standard_normal(max(n - len(EDGES), 0))
    with np.errstate(all="ignore"):
        b = a[::-1].astype(np.float32)
        expected = np.asarray(eval(np_text, {"np": np, "A": a, "B": b}), dtype=dtype)  # noqa: S307 - our own text
        if expected.shape != (n,):
            expected = np.broadcast_to(expected, (n,)).astype(dtype)
    kernel = load(source).kernel
    STATS["kernels"] += 1
    STATS["inputs"] += 1
    for space in spaces():
        out = np.zeros(n, dtype)
        STATS["launches"] += 1
        STATS["elements"] += 2 * n
        pk.parallel_for(pk.RangePolicy(space, 0, n), kernel, a=a, b=b, out=out)
        bad = np.flatnonzero(mismatches(expected, out))
        assert not bad.size, f"{space}: out{bad[:5].tolist()} = {out[bad[:5]].tolist()}, NumPy {expected[bad[:5]]}"
