"""The GPU set (`--space cuda`): every problem of `problems` on device-resident data, in one process.

Per problem: the hand-written CUDA kernel of `csrc/cuda_reference.cu` (the reference), compiled with NVRTC in
this run and launched through the driver API (`kernelkit.backends.cuda.driver.launch`); the kernelkit
workunits on `pk.Cuda`; CuPy (zero-copy over the same buffers through `__cuda_array_interface__`); NVIDIA Warp
on "cuda" when warp-lang is installed. Data are CudaSpace Views (LayoutRight, as the hand-written kernels and
CuPy index them), uploaded once per problem; results are validated from a download of the device buffer.

Timing is wall clock around one complete call that ends with a device synchronization (a reduction ends
with its result on the host), like the CPU set: a user waits for exactly that.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from . import problems as P
from .core import Benchmark, Version
from .cpu import benchmark_of
from .problems import Data

if TYPE_CHECKING:
    from .harness import Context

Run = Callable[[], Any]
Build = Callable[["Context", "DeviceData"], Run]

BLOCK = 256  # threads per block of the hand-written 1-D kernels (as kernelkit's Range launches)
BLOCK_2D = (32, 8)
P_, F64, I64 = ctypes.c_void_p, ctypes.c_double, ctypes.c_int64


class Gpu:
    """What the cuda versions of one run share: the device, the compiled reference kernels."""

    def __init__(self) -> None:
        from kernelkit.backends.cuda import driver, nvrtc

        self.driver = driver
        self.nvrtc = nvrtc
        self.dev = driver.Device(0)
        self.dev.set_current()
        self._module: Any = None
        self.compile_s: float | None = None

    def module(self) -> Any:
        if self._module is None:
            source = resources.files("kernelkit.bench").joinpath("csrc", "cuda_reference.cu").read_text()
            t0 = time.perf_counter()
            cubin = self.nvrtc.compile(source, "cuda_reference.cu", self.dev.arch)
            self.compile_s = time.perf_counter() - t0
            self._module = self.driver.Module.from_cubin(cubin, self.dev)
        return self._module

    def function(self, name: str) -> Any:
        return self.module().function(name)

    @property
    def reduction_grid(self) -> int:
        """Blocks of a grid-stride reduction: enough to fill every SM."""
        per_sm = max(self.dev.max_threads_per_multiprocessor // BLOCK, 1)
        return self.dev.multiprocessor_count * per_sm

    def synchronize(self) -> None:
        self.dev.synchronize()

    def info(self) -> dict[str, Any]:
        d = self.dev
        out: dict[str, Any] = {
            "name": d.name,
            "arch": d.arch,
            "multiprocessors": d.multiprocessor_count,
            "memory_gib": round(d.total_memory / 2**30, 1),
            "l2_cache_mib": round(d.l2_cache_size / 2**20, 1),
            "pci_bus_id": d.pci_bus_id,
        }
        try:
            out["driver"] = ".".join(map(str, self.driver.driver_version()))
            out["nvrtc"] = ".".join(map(str, self.nvrtc.version()))
        except Exception:  # informational only
            pass
        if self.compile_s is not None:
            out["reference_compile_s"] = self.compile_s
        return out


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
        from kernelkit.runtime import memory

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
                self.ptrs[name] = memory.ensure_device(view)
                setattr(self, name, view)
            else:
                setattr(self, name, value)

    def ptr(self, name: str) -> P_:
        return P_(self.ptrs[name])

    def download(self, name: str) -> np.ndarray:
        like = getattr(self.host, name)
        out = np.empty_like(like)
        self.gpu.synchronize()
        self.gpu.driver.memcpy_dtoh(out, self.ptrs[name], out.nbytes)
        return out

    def upload(self, name: str) -> None:
        array = getattr(self.host, name)
        self.gpu.driver.memcpy_htod(self.ptrs[name], array, array.nbytes)
        self.gpu.synchronize()


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
        driver = gpu.driver
        launch = driver.launch
        g = grid(gpu, d)
        if out is None:
            res = driver.alloc(8)
            host = np.zeros(1)
            cargs = args(d, P_(res))
            memset, dtoh = driver.memset_d8, driver.memcpy_dtoh

            def run_reduce() -> Any:
                memset(res, 0, 8)
                launch(f, g, block, 0, None, cargs)
                dtoh(host, res, 8)
                return float(host[0])

            return run_reduce
        cargs = args(d, None)
        result = Download(d, out)
        sync = gpu.synchronize

        def run() -> Any:
            launch(f, g, block, 0, None, cargs)
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
        copy, sync = gpu.driver.memcpy_dtod, gpu.synchronize
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
    if name in ("stencil", "jacobi"):
        halo = P.STAR_RADIUS if name == "stencil" else 1
        return {
            "cuda": cuda(
                name, _grid_2d(halo), BLOCK_2D, lambda d, _: [d.ptr("inp"), d.ptr("out"), I64(d.n)], "out"
            ),
            "kernelkit": kk(name, _interior(halo), lambda d: {"inp": d.inp, "out": d.out}, "out"),
            "cupy": cupy(_numpy_like_stencil if name == "stencil" else _numpy_like_jacobi, "out"),
            "warp": warp(name, lambda d: (d.n - 2 * halo, d.n - 2 * halo), lambda d: ["inp", "out"], "out"),
        }
    if name == "transpose":
        return {
            "cuda": cuda(
                "transpose",
                lambda g, d: ((d.n + P.TILE - 1) // P.TILE, (d.n + P.TILE - 1) // P.TILE),
                (P.TILE, 8),
                lambda d, _: [d.ptr("a"), d.ptr("b"), I64(d.n)],
                "b",
            ),
            "kernelkit": kk("transpose", _square, lambda d: {"a": d.a, "b": d.b}, "b"),
            "kernelkit-team": kk("transpose_tiled", _tiles, lambda d: {"a": d.a, "b": d.b, "n": d.n}, "b"),
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
            "kernelkit": kk(
                "gups", _range, lambda d: {"table": d.table, "idx": d.idx, "val": d.val}, "table"
            ),
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
            "cuda": cuda(
                "pi", lambda g, d: g.reduction_grid, BLOCK, lambda d, res: [F64(d.step), res, I64(d.n)]
            ),
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
    ("warp", "pi"): "atomic_add into one element",
    ("warp", "yax"): "atomic_add into one element",
}


def _gpu_data(problem: P.Problem) -> Callable[[int], DeviceData]:
    def make(n: int) -> DeviceData:
        import kernelkit as pk

        from .harness import current_context

        return DeviceData(problem.make(n), pk, current_context().gpu())

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
