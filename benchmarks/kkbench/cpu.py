"""The CPU set: every problem of `problems` on the OpenMP and Serial spaces.

Per problem and space: the hand-written C/OpenMP loop (the reference; one thread in the Serial rows) and the
kernelkit workunits; in the OpenMP space also NumPy, Numba (`parallel=True`, `prange`) and NVIDIA Warp (its
CPU device, which runs one thread). All of them work on the same NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import problems as P
from .core import Benchmark, Skip, Version
from .creference import ptr
from .options import CPU_SPACES
from .problems import Data, benchmark_of, numpy_jacobi, numpy_pi_sum, numpy_stencil

if TYPE_CHECKING:
    from .context import Context

__all__ = ["cpu_benchmarks"]

Run = Callable[[], Any]
Build = Callable[["Context", Data], Run]


# ---- kernelkit ---------------------------------------------------------------------------------------------


def _range(pk: Any, space: Any, d: Data) -> Any:
    return pk.RangePolicy(space, 0, d.n)


def _interior(halo: int) -> Callable[[Any, Any, Data], Any]:
    def policy(pk: Any, space: Any, d: Data) -> Any:
        return pk.MDRangePolicy(space, [halo, halo], [d.n - halo, d.n - halo])

    return policy


def _square(tile: list[int] | None = None) -> Callable[[Any, Any, Data], Any]:
    def policy(pk: Any, space: Any, d: Data) -> Any:
        if tile is None:
            return pk.MDRangePolicy(space, [0, 0], [d.n, d.n])
        return pk.MDRangePolicy(space, [0, 0], [d.n, d.n], tile=tile)

    return policy


def _tiles(pk: Any, space: Any, d: Data) -> Any:
    tiles = (d.n + P.TILE - 1) // P.TILE
    scratch = pk.ScratchView2D[pk.double].shmem_size(P.TILE, P.TILE + 1)
    return pk.TeamPolicy(space, tiles * tiles, pk.AUTO).set_scratch_size(0, pk.PerTeam(scratch))


def _rows_team(vector_length: int) -> Callable[[Any, Any, Data], Any]:
    def policy(pk: Any, space: Any, d: Data) -> Any:
        return pk.TeamPolicy(space, d.n, pk.AUTO, vector_length)

    return policy


def kk(
    kernel: str,
    policy: Callable[[Any, Any, Data], Any],
    args: Callable[[Data], dict[str, Any]],
    space: str,
    out: str | None = None,
) -> Build:
    """A kernelkit version: parallel_for (returning the array `out`) or, without `out`, parallel_reduce."""

    def build(ctx: Context, d: Data) -> Run:
        pk = ctx.kernelkit()
        space_obj = ctx.kernelkit_space(space)
        from . import kernels

        wu = getattr(kernels, kernel)
        pol = policy(pk, space_obj, d)
        kwargs = args(d)
        if out is None:
            reduce = pk.parallel_reduce

            def run_reduce() -> Any:
                r = reduce(kernel, pol, wu, **kwargs)
                pk.fence()
                return r

            return run_reduce
        result = getattr(d, out)
        parallel_for = pk.parallel_for

        def run() -> Any:
            parallel_for(kernel, pol, wu, **kwargs)
            pk.fence()
            return result

        return run

    return build


# ---- the hand-written C, Numba, NumPy, Warp ----------------------------------------------------------------


def c(fn: str, args: Callable[[Data], tuple[Any, ...]], space: str, out: str | None = None) -> Build:
    def build(ctx: Context, d: Data) -> Run:
        lib = ctx.c_reference()
        f = getattr(lib, f"kkref_{fn}")
        threads = ctx.threads_for(space)
        set_threads = lib.kkref_set_threads
        cargs = args(d)
        result = getattr(d, out) if out else None

        def run() -> Any:
            set_threads(threads)  # libgomp's thread count is shared in-process: set it every call (~1 us)
            r = f(*cargs)
            return result if out else r

        return run

    return build


def nb(fn: str, args: Callable[[Data], tuple[Any, ...]], out: str | None = None) -> Build:
    def build(ctx: Context, d: Data) -> Run:
        numba = ctx.numba()
        from . import numba_kernels

        f = getattr(numba_kernels, fn)
        threads = ctx.threads_for("openmp")
        set_threads = numba.set_num_threads
        nargs = args(d)
        result = getattr(d, out) if out else None

        def run() -> Any:
            set_threads(threads)
            r = f(*nargs)
            return result if out else r

        return run

    return build


def no_numba(reason: str) -> Build:
    def build(ctx: Context, d: Data) -> Run:
        ctx.numba()  # "not installed" wins over the reason below
        raise Skip(reason)

    return build


def npy(make: Callable[[Data], Run]) -> Build:
    def build(ctx: Context, d: Data) -> Run:
        return make(d)

    return build


def wp_cpu(
    kernel: str,
    dim: Callable[[Data], Any],
    inputs: Callable[[Data], list[Any]],
    out: str | None = None,
) -> Build:
    """A Warp version on its "cpu" device; without `out` the kernel atomically adds into a one-element array
    (appended to `inputs`) whose value is returned."""

    def build(ctx: Context, d: Data) -> Run:
        wp, kernels = ctx.warp()
        k = getattr(kernels, kernel)
        arrays = [ctx.warp_array(x, "cpu") if isinstance(x, np.ndarray) else x for x in inputs(d)]
        launch, sync = wp.launch, wp.synchronize_device
        if out is None:
            acc = np.zeros(1)
            arrays.append(ctx.warp_array(acc, "cpu"))

            def run_reduce() -> Any:
                acc[0] = 0.0
                launch(k, dim=dim(d), inputs=arrays, device="cpu")
                sync("cpu")
                return float(acc[0])

            return run_reduce
        result = getattr(d, out)

        def run() -> Any:
            launch(k, dim=dim(d), inputs=arrays, device="cpu")
            sync("cpu")
            return result

        return run

    return build


WARP_NOTE = "Warp's CPU device runs one thread"


def versions(
    name: str,
    *,
    kernelkit: dict[str, Callable[[str], Build]],
    c_ref: Callable[[str], Build],
    numba: Build | None = None,
    numpy: tuple[Build, str] | None = None,
    warp: Build | None = None,
) -> tuple[Version, ...]:
    """The versions of one problem: C and each kernelkit variant per CPU space, the peers on OpenMP."""
    out: list[Version] = []
    for space in CPU_SPACES:
        out.append(Version("c-openmp", space, c_ref(space), reference=True))
        for framework, make in kernelkit.items():
            out.append(Version(framework, space, make(space)))
    if numba is not None:
        out.append(Version("numba", "openmp", numba, note="parallel=True, prange"))
    if numpy is not None:
        build, note = numpy
        out.append(Version("numpy", "openmp", build, note=note, isolated=True))
    if warp is not None:
        out.append(Version("warp", "openmp", warp, note=WARP_NOTE))
    return tuple(out)


# ---- per problem -------------------------------------------------------------------------------------------


def _np_run(fn: Callable[[Data], Any], result: Callable[[Data], Any]) -> Build:
    def make(d: Data) -> Run:
        def run() -> Any:
            fn(d)
            return result(d)

        return run

    return npy(make)


def _stream_versions(name: str, out: str, names: tuple[str, ...], scalar: bool, np_fn) -> tuple[Version, ...]:
    arrays = lambda d: tuple(getattr(d, x) for x in names)  # noqa: E731
    c_args = lambda d: (*map(ptr, arrays(d)), *((d.s,) if scalar else ()), d.n)  # noqa: E731
    nb_args = lambda d: (*arrays(d), *((d.s,) if scalar else ()))  # noqa: E731
    kk_args = lambda d: {**{x: getattr(d, x) for x in names}, **({"s": d.s} if scalar else {})}  # noqa: E731
    return versions(
        name,
        kernelkit={"kernelkit": lambda sp: kk(name, _range, kk_args, sp, out)},
        c_ref=lambda sp: c(name, c_args, sp, out),
        numba=nb(name, nb_args, out),
        numpy=(_np_run(np_fn, lambda d: getattr(d, out)), ""),
        warp=wp_cpu(name, lambda d: d.n, lambda d: list(nb_args(d)), out),
    )


def _np_triad(d: Data) -> None:
    np.multiply(d.c, d.s, out=d.a)
    np.add(d.a, d.b, out=d.a)


def _np_nstream(d: Data) -> None:
    d.a += d.b
    d.a += d.s * d.c  # one temporary: NumPy has no fused multiply-add


def _np_yax(d: Data) -> float:
    return float(d.y @ (d.a @ d.x))


def _np_gups(d: Data) -> None:
    np.bitwise_xor.at(d.table, d.idx, d.val)


STREAM_NAMES = {
    "copy": ("c", ("a", "c"), False, lambda d: np.copyto(d.c, d.a)),
    "mul": ("b", ("b", "c"), True, lambda d: np.multiply(d.c, d.s, out=d.b)),
    "add": ("c", ("a", "b", "c"), False, lambda d: np.add(d.a, d.b, out=d.c)),
    "triad": ("a", ("a", "b", "c"), True, _np_triad),
    "nstream": ("a", ("a", "b", "c"), True, _np_nstream),
}


def _versions_for(name: str) -> tuple[Version, ...]:
    if name in STREAM_NAMES and name != "copy":
        return _stream_versions(name, *STREAM_NAMES[name])
    if name == "copy":
        base = _stream_versions(name, *STREAM_NAMES[name])
        memcpy = tuple(
            Version(
                "c-memcpy",
                sp,
                c("copy_memcpy", lambda d: (ptr(d.a), ptr(d.c), d.n), sp, "c"),
                note="memcpy per thread (non-temporal stores)",
            )
            for sp in CPU_SPACES
        )
        return base[:2] + memcpy[:1] + base[2:4] + memcpy[1:] + base[4:]
    if name == "dot":
        return versions(
            name,
            kernelkit={"kernelkit": lambda sp: kk("dot", _range, lambda d: {"x": d.b, "y": d.c}, sp)},
            c_ref=lambda sp: c("dot", lambda d: (ptr(d.b), ptr(d.c), d.n), sp),
            numba=nb("dot", lambda d: (d.b, d.c)),
            numpy=(npy(lambda d: lambda: float(np.dot(d.b, d.c))), "np.dot (BLAS threads)"),
            warp=wp_cpu("dot", lambda d: d.n, lambda d: [d.b, d.c]),
        )
    if name == "sum":
        return versions(
            name,
            kernelkit={"kernelkit": lambda sp: kk("total", _range, lambda d: {"x": d.b}, sp)},
            c_ref=lambda sp: c("sum", lambda d: (ptr(d.b), d.n), sp),
            numba=nb("total", lambda d: (d.b,)),
            numpy=(npy(lambda d: lambda: float(np.sum(d.b))), "np.sum (pairwise, one thread)"),
            warp=wp_cpu("total", lambda d: d.n, lambda d: [d.b]),
        )
    if name in ("stencil", "jacobi"):
        halo = P.STAR_RADIUS if name == "stencil" else 1
        np_fn = numpy_stencil if name == "stencil" else numpy_jacobi
        io = lambda d: {"inp": d.inp, "out": d.out}  # noqa: E731
        return versions(
            name,
            kernelkit={"kernelkit": lambda sp: kk(name, _interior(halo), io, sp, "out")},
            c_ref=lambda sp: c(name, lambda d: (ptr(d.inp), ptr(d.out), d.n), sp, "out"),
            numba=nb(name, lambda d: (d.inp, d.out), "out"),
            numpy=(_np_run(lambda d: np_fn(d.inp, d.out), lambda d: d.out), "slices"),
            warp=wp_cpu(name, lambda d: (d.n - 2 * halo, d.n - 2 * halo), lambda d: [d.inp, d.out], "out"),
        )
    if name == "transpose":
        ab = lambda d: {"a": d.a, "b": d.b}  # noqa: E731
        return versions(
            name,
            kernelkit={
                "kernelkit": lambda sp: kk("transpose", _square([P.TILE, P.TILE]), ab, sp, "b"),
                "kernelkit-team": lambda sp: kk("transpose_tiled", _tiles, lambda d: {**ab(d), "n": d.n}, sp, "b"),
            },
            c_ref=lambda sp: c("transpose", lambda d: (ptr(d.a), ptr(d.b), d.n), sp, "b"),
            numba=nb("transpose", lambda d: (d.a, d.b), "b"),
            numpy=(_np_run(lambda d: np.copyto(d.b, d.a.T), lambda d: d.b), "np.copyto(b, a.T)"),
            warp=wp_cpu("transpose", lambda d: (d.n, d.n), lambda d: [d.a, d.b], "b"),
        )
    if name == "yax":
        args = lambda d: {"y": d.y, "a": d.a, "x": d.x, "m": d.n}  # noqa: E731
        return versions(
            name,
            kernelkit={
                "kernelkit": lambda sp: kk("yax_range", _range, args, sp),
                "kernelkit-team": lambda sp: kk("yax_team", _rows_team(1), args, sp),
                "kernelkit-teamvector": lambda sp: kk("yax_teamvector", _rows_team(1), args, sp),
            },
            c_ref=lambda sp: c("yax", lambda d: (ptr(d.y), ptr(d.a), ptr(d.x), d.n, d.n), sp),
            numba=nb("yax", lambda d: (d.y, d.a, d.x)),
            numpy=(npy(lambda d: lambda: _np_yax(d)), "y @ (A @ x) (BLAS threads)"),
            warp=wp_cpu("yax", lambda d: d.n, lambda d: [d.y, d.a, d.x, d.n]),
        )
    if name == "gups":
        args = lambda d: {"table": d.table, "idx": d.idx, "val": d.val}  # noqa: E731
        return versions(
            name,
            kernelkit={"kernelkit": lambda sp: kk("gups", _range, args, sp, "table")},
            c_ref=lambda sp: c("gups", lambda d: (ptr(d.table), ptr(d.idx), ptr(d.val), d.n), sp, "table"),
            numba=no_numba("numba has no atomics on the CPU (a prange loop would race)"),
            numpy=(_np_run(_np_gups, lambda d: d.table), "np.bitwise_xor.at"),
            warp=wp_cpu("gups", lambda d: d.n, lambda d: [d.table, d.idx, d.val], "table"),
        )
    if name == "gather":
        args = lambda d: {"out": d.out, "src": d.src, "idx": d.idx}  # noqa: E731
        return versions(
            name,
            kernelkit={"kernelkit": lambda sp: kk("gather", _range, args, sp, "out")},
            c_ref=lambda sp: c("gather", lambda d: (ptr(d.out), ptr(d.src), ptr(d.idx), d.n), sp, "out"),
            numba=nb("gather", lambda d: (d.out, d.src, d.idx), "out"),
            numpy=(_np_run(lambda d: np.take(d.src, d.idx, out=d.out), lambda d: d.out), "np.take"),
            warp=wp_cpu("gather", lambda d: d.n, lambda d: [d.out, d.src, d.idx], "out"),
        )
    if name == "pi":
        return versions(
            name,
            kernelkit={"kernelkit": lambda sp: kk("pi_term", _range, lambda d: {"step": d.step}, sp)},
            c_ref=lambda sp: c("pi", lambda d: (d.n, d.step), sp),
            numba=nb("pi_sum", lambda d: (d.n, d.step)),
            numpy=(npy(lambda d: lambda: numpy_pi_sum(d.n, d.step)), "chunked"),
            warp=wp_cpu("pi_sum", lambda d: d.n, lambda d: [d.step]),
        )
    if name == "dgemm":
        args = lambda d: {"a": d.a, "b": d.b, "c": d.c, "n": d.n}  # noqa: E731
        return versions(
            name,
            kernelkit={"kernelkit": lambda sp: kk("dgemm_row", _range, args, sp, "c")},
            c_ref=lambda sp: c("dgemm", lambda d: (ptr(d.a), ptr(d.b), ptr(d.c), d.n), sp, "c"),
            numba=nb("dgemm", lambda d: (d.a, d.b, d.c), "c"),
            numpy=(_np_run(lambda d: np.matmul(d.a, d.b, out=d.c), lambda d: d.c), "np.matmul (BLAS)"),
            warp=wp_cpu("dgemm", lambda d: (d.n, d.n), lambda d: [d.a, d.b, d.c, d.n], "c"),
        )
    raise KeyError(name)


def cpu_benchmarks() -> list[Benchmark]:
    """The CPU set, in the order they run."""
    return [benchmark_of(p, P.CPU, _versions_for(p.name)) for p in P.PROBLEMS]
