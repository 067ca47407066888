"""The GPU set (`--space cuda`): every problem of `problems` on device-resident data, in one process.

Per problem: the hand-written CUDA kernel of `csrc/cuda_reference.cu` (the reference, see `cudareference`);
the kernelkit workunits on `pk.Cuda`; CuPy (zero-copy over the same buffers through
`__cuda_array_interface__`); NVIDIA Warp on "cuda" when warp-lang is installed. Data are CudaSpace Views
(LayoutRight, as the hand-written kernels and CuPy index them), uploaded once per problem; results are
validated from a download of the device buffer.

Timing is wall clock around one complete call that ends with a device synchronization (a reduction ends
with its result on the host), like the CPU set: a user waits for exactly that.
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import problems as P
from .core import Benchmark, Version
from .cudareference import BLOCK, Gpu
from .hooks import device_pointer
from .problems import Data, benchmark_of

if TYPE_CHECKING:
    from .context import Context

Run = Callable[[], Any]
Build = Callable[["Context", "DeviceData"], Run]

BLOCK_2D = (32, 8)
TEAM_2D = (8, 32)  # team threads x vector lanes of the nested and TeamVector transposes (a 32 x 8 block)
P_, F64, I64 = ctypes.c_void_p, ctypes.c_double, ctypes.c_int64


class Download:
    """A device array's contents, fetched only when validated (never inside a timed call)."""

    def __init__(self, data: DeviceData, name: str):
        self.data = data
        self.name = name

    def get(self) -> np.ndarray:
        return self.data.download(self.name)


class DeviceData:
    """The arrays of a host `Data` uploaded to CudaSpace Views; `host` keeps the NumPy originals (NumPy's
    answer and the resets are computed from them)."""

    def __init__(self, host: Data, pk: Any, gpu: Gpu):
        self.host = host
        self.n = host.n
        self.gpu = gpu
        self.ptrs: dict[str, int] = {}
        for name, value in vars(host).items():
            if name in ("n", "originals"):
                continue
            if isinstance(value, np.ndarray):
                dtype = pk.int64 if value.dtype == np.int64 else pk.double
                view = pk.View(list(value.shape), dtype, space=pk.CudaSpace, layout=pk.LayoutRight)
                pk.deep_copy(view, value)
                self.ptrs[name] = device_pointer(view)
                setattr(self, name, view)
            else:
                setattr(self, name, value)
        self._scratch: list[int] = []
        # device buffers of the reductions' results go with the data (the harness drops it after each problem)
        weakref.finalize(self, _free_all, gpu.device, self._scratch)

    def scratch(self, nbytes: int) -> int:
        """A device buffer that lives as long as this data (a hand-written reduction's result)."""
        ptr = self.gpu.device.alloc(nbytes)
        self._scratch.append(ptr)
        return ptr

    def ptr(self, name: str) -> P_:
        return P_(self.ptrs[name])

    def download(self, name: str) -> np.ndarray:
        like = getattr(self.host, name)
        out = np.empty_like(like)
        self.gpu.synchronize()  # kernelkit's launches may be on other streams
        self.gpu.device.download(out, self.ptrs[name])
        return out

    def upload(self, name: str) -> None:
        self.gpu.device.upload(self.ptrs[name], getattr(self.host, name))


def _free_all(device: Any, ptrs: list[int]) -> None:
    for ptr in ptrs:
        device.free(ptr)


def _fetch(got: Any) -> Any:
    return got.get() if isinstance(got, Download) else got


# ---- versions ---------------------------------------------------------------------------------------------


def kk(
    kernel: str,
    policy: Callable[[Any, Any, DeviceData], Any],
    args: Callable[[DeviceData], dict[str, Any]],
    out: str | None = None,
) -> Build:
    def build(ctx: Context, d: DeviceData) -> Run:
        pk = ctx.kernelkit()
        space = ctx.kernelkit_space("cuda")
        from . import kernels

        wu = getattr(kernels, kernel)
        pol = policy(pk, space, d)
        kwargs = args(d)
        if out is None:
            reduce = pk.parallel_reduce
            return lambda: reduce(kernel, pol, wu, **kwargs)  # the result is on the host: it has finished
        parallel_for, fence = pk.parallel_for, pk.fence
        result = Download(d, out)

        def run() -> Any:
            parallel_for(kernel, pol, wu, **kwargs)
            fence()
            return result

        return run

    return build


def cuda(
    fn: str,
    grid: Callable[[Gpu, DeviceData], Any],
    block: Any,
    args: Callable[[DeviceData, Any], list[Any]],
    out: str | None = None,
) -> Build:
    """A hand-written kernel. Without `out` it is a reduction: `args` gets the address of a zeroed device
    double to add into, and the run returns its value, copied back."""

    def build(ctx: Context, d: DeviceData) -> Run:
        gpu = ctx.gpu()
        f = gpu.function(f"kkref_{fn}")
        device = gpu.device
        g = grid(gpu, d)
        if out is None:
            res = d.scratch(8)
            host = np.zeros(1)
            launch = device.launcher(f, g, block, args(d, P_(res)))
            memset, download = device.memset, device.download

            def run_reduce() -> Any:
                memset(res, 0, 8)
                launch()
                download(host, res)
                return float(host[0])

            return run_reduce
        launch = device.launcher(f, g, block, args(d, None))
        result = Download(d, out)
        sync = device.synchronize

        def run() -> Any:
            launch()
            sync()
            return result

        return run

    build.kernel = f"kkref_{fn}"  # type: ignore[attr-defined]  # (the tests check the .cu defines it)
    return build


class CupyArrays:
    """Zero-copy CuPy arrays over the Views of a DeviceData, made on first use."""

    def __init__(self, cp: Any, d: DeviceData):
        self._cp = cp
        self._d = d

    def __getattr__(self, name: str) -> Any:
        arr = self._cp.asarray(getattr(self._d, name))
        setattr(self, name, arr)
        return arr


def cupy(make: Callable[[Any, CupyArrays, DeviceData], Run], out: str | None = None) -> Build:
    def build(ctx: Context, d: DeviceData) -> Run:
        cp = ctx.cupy()
        f = make(cp, CupyArrays(cp, d), d)
        sync = cp.cuda.runtime.deviceSynchronize
        if out is None:
            return lambda: float(f())  # float() waits for the value
        result = Download(d, out)

        def run() -> Any:
            f()
            sync()
            return result

        return run

    return build


def warp(
    kernel: str,
    dim: Callable[[DeviceData], Any],
    inputs: Callable[[DeviceData], list[Any]],
    out: str | None = None,
) -> Build:
    """Warp on "cuda" over the same buffers (wp.array with ptr=, not owned); reductions add atomically into a
    one-element array, as on the CPU."""

    def build(ctx: Context, d: DeviceData) -> Run:
        wp, kernels = ctx.warp()
        k = getattr(kernels, kernel)
        device = "cuda:0"

        def wrap(x: Any) -> Any:
            if isinstance(x, str):  # an array of d, by name
                host = getattr(d.host, x)
                dtype = wp.int64 if host.dtype == np.int64 else wp.float64
                return wp.array(ptr=d.ptrs[x], dtype=dtype, shape=host.shape, device=device)
            return x

        arrays = [wrap(x) for x in inputs(d)]
        launch, sync = wp.launch, wp.synchronize_device
        if out is None:
            acc = wp.zeros(1, dtype=wp.float64, device=device)
            arrays.append(acc)

            def run_reduce() -> Any:
                acc.zero_()
                launch(k, dim=dim(d), inputs=arrays, device=device)
                return float(acc.numpy()[0])

            return run_reduce
        result = Download(d, out)

        def run() -> Any:
            launch(k, dim=dim(d), inputs=arrays, device=device)
            sync(device)
            return result

        return run

    return build


# ---- launch geometry ---------------------------------------------------------------------------------------


def _blocks(n: int) -> int:
    return (n + BLOCK - 1) // BLOCK


def _grid_2d(halo: int) -> Callable[[Gpu, DeviceData], tuple[int, int]]:
    def grid(gpu: Gpu, d: DeviceData) -> tuple[int, int]:
        m = d.n - 2 * halo
        return ((m + BLOCK_2D[0] - 1) // BLOCK_2D[0], (m + BLOCK_2D[1] - 1) // BLOCK_2D[1])

    return grid


def _range(pk: Any, space: Any, d: DeviceData) -> Any:
    return pk.RangePolicy(space, 0, d.n)


def _interior(halo: int) -> Callable[[Any, Any, DeviceData], Any]:
    return lambda pk, space, d: pk.MDRangePolicy(space, [halo, halo], [d.n - halo, d.n - halo])


def _square(pk: Any, space: Any, d: DeviceData) -> Any:
    return pk.MDRangePolicy(space, [0, 0], [d.n, d.n])


def _tiles(pk: Any, space: Any, d: DeviceData) -> Any:
    tiles = (d.n + P.TILE - 1) // P.TILE
    scratch = pk.ScratchView2D[pk.double].shmem_size(P.TILE, P.TILE + 1)
    return pk.TeamPolicy(space, tiles * tiles, pk.AUTO).set_scratch_size(0, pk.PerTeam(scratch))


def _tiles_2d(pk: Any, space: Any, d: DeviceData) -> Any:
    """A tile per team of 8 threads x 32 vector lanes (the spellings with vector ranges)."""
    tiles = (d.n + P.TILE - 1) // P.TILE
    scratch = pk.ScratchView2D[pk.double].shmem_size(P.TILE, P.TILE + 1)
    return pk.TeamPolicy(space, tiles * tiles, *TEAM_2D).set_scratch_size(0, pk.PerTeam(scratch))


def _rows_team(pk: Any, space: Any, d: DeviceData) -> Any:
    return pk.TeamPolicy(space, d.n, pk.AUTO, 1)  # AUTO: 256 team threads per row, coalesced along it


# ---- per problem -------------------------------------------------------------------------------------------


# name: (output, the arrays in the kernels' order, takes s?, CuPy in-params, CuPy body, CuPy call order)
STREAM = {
    "copy": ("c", ("a", "c"), False, "float64 a", "c = a", ("a", "c")),
    "mul": ("b", ("b", "c"), True, "float64 c, float64 s", "b = s * c", ("c", "s", "b")),
    "add": ("c", ("a", "b", "c"), False, "float64 a, float64 b", "c = a + b", ("a", "b", "c")),
    "triad": (
        "a",
        ("a", "b", "c"),
        True,
        "float64 b, float64 c, float64 s",
        "a = b + s * c",
        ("b", "c", "s", "a"),
    ),
    # an in-place update: CuPy binds outputs by reference, so the body may read `a`
    "nstream": (
        "a",
        ("a", "b", "c"),
        True,
        "float64 b, float64 c, float64 s",
        "a = a + b + s * c",
        ("b", "c", "s", "a"),
    ),
}


def _stream(name: str) -> dict[str, Build]:
    out, names, scalar, params, body, order = STREAM[name]

    def cargs(d: DeviceData, _res: Any) -> list[Any]:
        return [*(d.ptr(x) for x in names), *((F64(d.s),) if scalar else ()), I64(d.n)]

    def kk_args(d: DeviceData) -> dict[str, Any]:
        return {**{x: getattr(d, x) for x in names}, **({"s": d.s} if scalar else {})}

    def make_cupy(cp: Any, A: CupyArrays, d: DeviceData) -> Run:
        k = cp.ElementwiseKernel(params, f"float64 {out}", body, f"kkbench_{name}")
        call = [d.s if x == "s" else getattr(A, x) for x in order]
        return lambda: k(*call)

    builds = {
        "cuda": cuda(name, lambda g, d: _blocks(d.n), BLOCK, cargs, out),
        "kernelkit": kk(name, _range, kk_args, out),
        "cupy": cupy(make_cupy, out),
        "warp": warp(name, lambda d: d.n, lambda d: [*names, *((d.s,) if scalar else ())], out),
    }
    if name == "copy":
        builds["cuda-memcpy"] = memcpy_dtod("a", "c")
    return builds


def memcpy_dtod(src: str, dst: str) -> Build:
    """cuMemcpyDtoD between two device buffers: the driver's own copy, for the bandwidth ceiling."""

    def build(ctx: Context, d: DeviceData) -> Run:
        gpu = ctx.gpu()
        copy, sync = gpu.device.copy, gpu.synchronize
        nbytes = getattr(d.host, src).nbytes
        s, t = d.ptrs[src], d.ptrs[dst]
        result = Download(d, dst)

        def run() -> Any:
            copy(t, s, nbytes)
            sync()
            return result

        return run

    return build


def _numpy_like_stencil(cp: Any, A: CupyArrays, d: DeviceData) -> Run:
    return lambda: P.numpy_stencil(A.inp, A.out)


def _numpy_like_jacobi(cp: Any, A: CupyArrays, d: DeviceData) -> Run:
    return lambda: P.numpy_jacobi(A.inp, A.out, xp=cp)


def _versions_for(name: str) -> dict[str, Build]:
    """framework -> build; "cuda" is the reference."""
    if name in ("copy", "mul", "add", "triad", "nstream"):
        return _stream(name)
    if name == "dot":
        return {
            "cuda": cuda(
                "dot",
                lambda g, d: g.reduction_grid,
                BLOCK,
                lambda d, res: [d.ptr("b"), d.ptr("c"), res, I64(d.n)],
            ),
            "kernelkit": kk("dot", _range, lambda d: {"x": d.b, "y": d.c}),
            "cupy": cupy(lambda cp, A, d: lambda: cp.dot(A.b, A.c)),
            "warp": warp("dot", lambda d: d.n, lambda d: ["b", "c"]),
        }
    if name == "sum":
        return {
            "cuda": cuda("sum", lambda g, d: g.reduction_grid, BLOCK, lambda d, res: [d.ptr("b"), res, I64(d.n)]),
            "kernelkit": kk("total", _range, lambda d: {"x": d.b}),
            "cupy": cupy(lambda cp, A, d: lambda: cp.sum(A.b)),
            "warp": warp("total", lambda d: d.n, lambda d: ["b"]),
        }
    if name in ("stencil", "jacobi"):
        halo = P.STAR_RADIUS if name == "stencil" else 1
        return {
            "cuda": cuda(name, _grid_2d(halo), BLOCK_2D, lambda d, _: [d.ptr("inp"), d.ptr("out"), I64(d.n)], "out"),
            "kernelkit": kk(name, _interior(halo), lambda d: {"inp": d.inp, "out": d.out}, "out"),
            "cupy": cupy(_numpy_like_stencil if name == "stencil" else _numpy_like_jacobi, "out"),
            "warp": warp(name, lambda d: (d.n - 2 * halo, d.n - 2 * halo), lambda d: ["inp", "out"], "out"),
        }
    if name == "transpose":
        tiled = lambda d: {"a": d.a, "b": d.b, "n": d.n}  # noqa: E731
        return {
            "cuda": cuda(
                "transpose",
                lambda g, d: ((d.n + P.TILE - 1) // P.TILE, (d.n + P.TILE - 1) // P.TILE),
                (P.TILE, 8),
                lambda d, _: [d.ptr("a"), d.ptr("b"), I64(d.n)],
                "b",
            ),
            "kernelkit": kk("transpose", _square, lambda d: {"a": d.a, "b": d.b}, "b"),
            "kernelkit-team": kk("transpose_tiled", _tiles, tiled, "b"),
            "kernelkit-threadvector": kk("transpose_threadvector", _tiles_2d, tiled, "b"),
            "kernelkit-teamvector": kk("transpose_teamvector", _tiles_2d, tiled, "b"),
            "cupy": cupy(lambda cp, A, d: lambda: cp.copyto(A.b, A.a.T), "b"),
            "warp": warp("transpose", lambda d: (d.n, d.n), lambda d: ["a", "b"], "b"),
        }
    if name == "yax":
        args = lambda d: {"y": d.y, "a": d.a, "x": d.x, "m": d.n}  # noqa: E731
        return {
            "cuda": cuda(
                "yax",
                lambda g, d: min(d.n, g.reduction_grid),
                BLOCK,
                lambda d, res: [d.ptr("y"), d.ptr("a"), d.ptr("x"), res, I64(d.n), I64(d.n)],
            ),
            "kernelkit": kk("yax_range", _range, args),
            "kernelkit-team": kk("yax_team", _rows_team, args),
            "kernelkit-teamvector": kk("yax_teamvector", _rows_team, args),
            "cupy": cupy(lambda cp, A, d: lambda: A.y @ (A.a @ A.x)),
            "warp": warp("yax", lambda d: d.n, lambda d: ["y", "a", "x", d.n]),
        }
    if name == "gups":

        def make_cupy(cp: Any, A: CupyArrays, d: DeviceData) -> Run:
            k = cp.ElementwiseKernel(
                "int64 idx, int64 val",
                "raw uint64 table",
                "atomicXor(&table[idx], (unsigned long long)val)",
                "kkbench_gups",
            )
            table = A.table.view(cp.uint64)
            return lambda: k(A.idx, A.val, table)

        return {
            "cuda": cuda(
                "gups",
                lambda g, d: _blocks(d.n),
                BLOCK,
                lambda d, _: [d.ptr("table"), d.ptr("idx"), d.ptr("val"), I64(d.n)],
                "table",
            ),
            "kernelkit": kk("gups", _range, lambda d: {"table": d.table, "idx": d.idx, "val": d.val}, "table"),
            "cupy": cupy(make_cupy, "table"),
            "warp": warp("gups", lambda d: d.n, lambda d: ["table", "idx", "val"], "table"),
        }
    if name == "gather":
        return {
            "cuda": cuda(
                "gather",
                lambda g, d: _blocks(d.n),
                BLOCK,
                lambda d, _: [d.ptr("out"), d.ptr("src"), d.ptr("idx"), I64(d.n)],
                "out",
            ),
            "kernelkit": kk("gather", _range, lambda d: {"out": d.out, "src": d.src, "idx": d.idx}, "out"),
            "cupy": cupy(lambda cp, A, d: lambda: cp.take(A.src, A.idx, out=A.out), "out"),
            "warp": warp("gather", lambda d: d.n, lambda d: ["out", "src", "idx"], "out"),
        }
    if name == "pi":

        def make_cupy(cp: Any, A: CupyArrays, d: DeviceData) -> Run:
            step = repr(float(d.step))  # exact: repr round-trips a double
            k = cp.ReductionKernel(
                "float64 k",
                "float64 s",
                f"4.0 / (1.0 + ((k + 0.5) * {step}) * ((k + 0.5) * {step}))",
                "a + b",
                "s = a",
                "0",
                "kkbench_pi",
            )
            index = cp.arange(d.n, dtype=cp.float64)
            return lambda: k(index)

        return {
            "cuda": cuda("pi", lambda g, d: g.reduction_grid, BLOCK, lambda d, res: [F64(d.step), res, I64(d.n)]),
            "kernelkit": kk("pi_term", _range, lambda d: {"step": d.step}),
            "cupy": cupy(make_cupy),
            "warp": warp("pi_sum", lambda d: d.n, lambda d: [d.step]),
        }
    if name == "dgemm":
        dg = 16
        args = lambda d, _: [d.ptr("a"), d.ptr("b"), d.ptr("c"), I64(d.n)]  # noqa: E731
        return {
            "cuda": cuda("dgemm", _grid_2d(0), BLOCK_2D, args, "c"),
            "cuda-tiled": cuda("dgemm_tiled", lambda g, d: ((d.n + dg - 1) // dg,) * 2, (dg, dg), args, "c"),
            "kernelkit": kk("dgemm_dot", _square, lambda d: {"a": d.a, "b": d.b, "c": d.c, "n": d.n}, "c"),
            "cupy": cupy(lambda cp, A, d: lambda: cp.matmul(A.a, A.b, out=A.c), "c"),
            "warp": warp("dgemm", lambda d: (d.n, d.n), lambda d: ["a", "b", "c", d.n], "c"),
        }
    raise KeyError(name)


NOTES = {
    ("cupy", "dot"): "cp.dot (cuBLAS)",
    ("cupy", "sum"): "cp.sum (CUB)",
    ("kernelkit-threadvector", "transpose"): "TeamThreadRange x ThreadVectorRange, 8 x 32",
    ("kernelkit-teamvector", "transpose"): "TeamVectorMDRange, 8 x 32",
    ("cupy", "yax"): "y @ (A @ x) (cuBLAS)",
    ("cupy", "dgemm"): "cp.matmul (cuBLAS)",
    ("cupy", "stencil"): "slices, as the NumPy version",
    ("cupy", "jacobi"): "slices, as the NumPy version",
    ("cupy", "transpose"): "cp.copyto(b, a.T)",
    ("cupy", "gather"): "cp.take",
    ("cupy", "gups"): "ElementwiseKernel + atomicXor",
    ("cupy", "pi"): "ReductionKernel over an index array",
    ("cuda-tiled", "dgemm"): "16x16 shared-memory tiles",
    ("cuda-memcpy", "copy"): "cuMemcpyDtoD",
    ("warp", "dot"): "atomic_add into one element",
    ("warp", "sum"): "atomic_add into one element",
    ("warp", "pi"): "atomic_add into one element",
    ("warp", "yax"): "atomic_add into one element",
}


def _gpu_data(problem: P.Problem) -> Callable[[Context, int], DeviceData]:
    def make(ctx: Context, n: int) -> DeviceData:
        return DeviceData(problem.make(n), ctx.kernelkit(), ctx.gpu())

    return make


def _reset(problem: P.Problem) -> Callable[[DeviceData], None]:
    def reset(d: DeviceData) -> None:
        if problem.clobber is not None:
            problem.clobber(d.host)
            for name in problem.outputs:
                d.upload(name)

    return reset


def gpu_benchmarks() -> list[Benchmark]:
    """The GPU set, one Benchmark per problem with versions in the "cuda" space."""
    out: list[Benchmark] = []
    for p in P.PROBLEMS:
        builds = _versions_for(p.name)
        versions = tuple(
            Version(fw, "cuda", build, reference=fw == "cuda", note=NOTES.get((fw, p.name), ""))
            for fw, build in builds.items()
        )
        bench = benchmark_of(p, P.GPU, versions, make=_gpu_data(p))
        validate = p.validate
        out.append(
            Benchmark(
                **{
                    **vars(bench),
                    "expected": lambda d, p=p: p.expected(d.host),
                    "validate": lambda got, exp, validate=validate: validate(_fetch(got), exp),
                    "reset": _reset(p),
                }
            )
        )
    return out
