"""Which parallel loops of a @pk.jit program run a warp per iteration on pk.Cuda, their `simd` loops across its lanes.

A `#pragma simd` loop inside a parallel loop (SimdFor: the compiler proved its iterations independent) is where
APPy-style programs keep most of their work: `for i in prange(M)` over rows, `for j in range(N)` simd over the
row. One thread per row would run each row's loop alone; instead each iteration of the parallel loop gets a
warp, and each simd loop at the top of that warp's work (not inside another simd loop) is shared by its 32
lanes, lane l taking iterations l, l + 32, ... The rest of the iteration runs on every lane with the same values
(its control flow is uniform); what it writes (stores, expression statements, printf) lane 0 does, then
`__syncwarp()` publishes it to the other lanes; after each simd loop the lanes meet (`__syncwarp()`), simd
reductions are joined across the warp into every lane, and the last iteration's private values and loop
variable are taken from the lane that ran it. The outer loop's reductions count lane 0's copy only. A device
block (host statements that touch arrays, run on the GPU) with simd loops is one warp the same way, instead of
one thread: sequential code with vectorizable inner loops (npbench's cholesky) gets the warp's 32 lanes.

A loop qualifies when that schedule keeps its meaning: no nested parallel loop or `return`, no `break` inside a
simd loop, no atomic, random draw or device-function call in what every lane evaluates redundantly, and scalar
private values. Others keep one thread per iteration (the simd loops then run in order in that thread).

The default since it ran on the H200 (tests/loops on pk.Cuda, npbench at the paper preset, all valid):
`KERNELKIT_CUDA_SIMD_WARPS=0` turns it off (one thread per iteration, the simd loops in order in that thread). CI
compiles it with NVRTC and checks its results on the host (CudaCheck).
"""

from __future__ import annotations

from kernelkit import config
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T

RED_OPS = ("+", "*", "min", "max")
_SIDE_EFFECTS = (N.Atomic, N.Call, N.RandomCall)


def lane_simd_loops(body: list[N.Stmt]):
    """The simd loops a warp's lanes share: SimdFors not inside another SimdFor."""
    for s in body:
        if isinstance(s, N.SimdFor):
            yield s
            continue
        for attr in ("then", "orelse", "body"):
            inner = getattr(s, attr, None)
            if inner and isinstance(inner, list):
                yield from lane_simd_loops(inner)


def _exprs_of(s: N.Stmt) -> list[N.Expr]:
    out: list[N.Expr] = []
    for v in vars(s).values():
        if isinstance(v, N.Expr):
            out.append(v)
        elif isinstance(v, list):
            out += [x for x in v if isinstance(x, N.Expr)]
    return out


def _redundant_ok(body: list[N.Stmt]) -> bool:
    """What every lane evaluates alike (outside the shared simd loops) has no side effect but the guarded ones."""
    for s in body:
        if isinstance(s, N.SimdFor):
            if any(isinstance(t, (N.Break, N.Return, N.ParallelFor)) for t in N.walk_stmts(s.body)):
                return False
            for e in (s.start, s.stop, s.step):
                if any(isinstance(x, _SIDE_EFFECTS) for x in N.walk_exprs(e)):
                    return False
            if not isinstance(s.var.type, T.ScalarType):
                return False
            if any(op not in RED_OPS for _, op in s.reductions):
                return False
            continue
        if isinstance(s, (N.ParallelFor, N.Return)):
            return False
        if not isinstance(s, (N.Store, N.ExprStmt, N.Printf)):  # those run on lane 0 only
            for e in _exprs_of(s):
                if any(isinstance(x, _SIDE_EFFECTS) for x in N.walk_exprs(e)):
                    return False
        for attr in ("then", "orelse", "body"):
            inner = getattr(s, attr, None)
            if inner and isinstance(inner, list) and not _redundant_ok(inner):
                return False
    return True


def warp_per_iteration(s: N.ParallelFor, types: dict[str, T.Type]) -> bool:
    """Whether parallel loop `s` runs a warp per iteration (the module docstring says when)."""
    return fits(s.body, types)


def fits(body: list[N.Stmt], types: dict[str, T.Type]) -> bool:
    """Whether `body` (a parallel loop's iteration, or a device block: host statements that touch arrays, run
    by one warp instead of one thread) keeps its meaning when a warp runs it, its simd loops across the lanes."""
    if not config.get().cuda_simd_warps:
        return False
    loops = list(lane_simd_loops(body))
    if not loops or not _redundant_ok(body):
        return False
    for loop in loops:
        if not all(isinstance(types.get(n), T.ScalarType) for n in loop.private):
            return False
        if not all(isinstance(types.get(n), T.ScalarType) for n, _ in loop.reductions):
            return False
    return True
