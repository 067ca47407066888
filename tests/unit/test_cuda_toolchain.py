"""The CUDA toolchain: NVRTC compiles (no GPU needed) and the driver API wrapper.

Driver tests run twice: against a fake libcuda built here from C (host memory stands in for device memory, two
"kernels" run on the CPU), so the ctypes plumbing is checked on every machine, and against the real driver
(`@pytest.mark.gpu`), skipped with the reason when no GPU is usable.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from kernelkit.backends.cuda import driver, nvrtc
from kernelkit.errors import CompileError, KernelRuntimeError, KernelTypeError, KernelValueError

INCLUDE_DIR = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "src", "kernelkit", "backends", "include")

needs_nvrtc = pytest.mark.skipif(
    not nvrtc.available(),
    reason="NVRTC not found (pip install nvidia-cuda-nvrtc, or kernelkit[cuda])",
)

ARCHS = ["sm_80", "sm_90"]

AXPY = r"""
extern "C" __global__ void axpy(long long n, double a, const double* __restrict__ x, double* __restrict__ y) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        y[i] += a * x[i];
}
"""

KERNELS = {
    "double": AXPY,
    "float": r"""
extern "C" __global__ void saxpy(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = fmaf(a, x[i], y[i]) + sqrtf(fabsf(x[i])) + expf(-x[i]);
}
""",
    "int64": r"""
#include <cstdint>
extern "C" __global__ void imath(int64_t n, const int64_t* a, int64_t* b) {
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) b[i] = (a[i] * 3 + 7) / 2 - (a[i] % 5) + (a[i] << 2) + (a[i] >> 1) + (INT64_MAX & a[i]);
}
""",
    "atomics": r"""
extern "C" __global__ void atomics(int n, const double* x, double* dsum, float* fsum,
                                   unsigned long long* usum, long long* imax, int* icount) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    atomicAdd(dsum, x[i]);                      // double atomicAdd: sm_60+
    atomicAdd(fsum, (float)x[i]);
    atomicAdd(usum, 1ull);
    atomicMax(imax, (long long)i);
    atomicAdd(icount, 1);
    unsigned long long* bits = (unsigned long long*)dsum;
    unsigned long long old = *bits, assumed;
    do {                                        // a CAS loop, as generated for ops without an instruction
        assumed = old;
        double v = fmax(__longlong_as_double(assumed), x[i]);
        old = atomicCAS(bits, assumed, __double_as_longlong(v));
    } while (assumed != old);
}
""",
    "template": r"""
template <class T> __device__ T twice(T v) { return v + v; }
template <class T> struct Plus { __device__ T operator()(T a, T b) const { return a + b; } };
template <class T, class Op> __global__ void combine(int n, const T* x, T* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = Op()(twice(x[i]), y[i]);
}
template __global__ void combine<double, Plus<double>>(int, const double*, double*);
template __global__ void combine<float, Plus<float>>(int, const float*, float*);
""",
    "abi": r"""
#include "kernelkit/abi.h"
extern "C" __global__ void scale(kk_launch_t* L) {
    const kk_array_t x = L->args[0].a;
    const double a = L->args[1].f;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < x.ext[0];
         i += (int64_t)gridDim.x * blockDim.x)
        ((double*)x.data)[i * x.str[0]] *= a;
}
""",
}


# ------------------------------------------------------------------------------------------------------ NVRTC


@needs_nvrtc
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("kind", sorted(KERNELS))
def test_compiles_to_cubin(kind, arch):
    cubin = nvrtc.compile(KERNELS[kind], f"{kind}.cu", arch, include_dirs=[INCLUDE_DIR])
    assert cubin[:4] == b"\x7fELF"
    assert len(cubin) > 1000


@needs_nvrtc
def test_template_lowered_names():
    result = nvrtc.compile_program(
        KERNELS["template"],
        "template.cu",
        "sm_90",
        name_expressions=["combine<double, Plus<double>>", "combine<float, Plus<float>>"],
    )
    names = result.lowered_names
    assert set(names) == {"combine<double, Plus<double>>", "combine<float, Plus<float>>"}
    assert all(name.startswith("_Z") and name.encode() in result.binary for name in names.values())
    assert result.arch == "sm_90" and not result.ptx and result.seconds > 0


@needs_nvrtc
def test_syntax_error_raises_compile_error_with_log():
    with pytest.raises(CompileError) as info:
        nvrtc.compile('extern "C" __global__ void broken(double* x) { x[0] = ; }', "broken.cu", "sm_90")
    err = info.value
    assert isinstance(err, RuntimeError)
    assert "broken.cu(1): error: expected an expression" in err.detail
    assert "broken.cu" in str(err) and "sm_90" in err.message
    assert pickle.loads(pickle.dumps(err)).detail == err.detail


@needs_nvrtc
def test_line_directives_map_errors_to_python_source():
    source = '#line 42 "my_kernel.py"\nextern "C" __global__ void k(double* x) { x[0] = undefined_name; }\n'
    with pytest.raises(CompileError) as info:
        nvrtc.compile(source, "k.cu", "sm_90")
    assert 'my_kernel.py(42): error: identifier "undefined_name" is undefined' in info.value.detail


@needs_nvrtc
def test_builtin_standard_headers():
    source = r"""
#include <stdint.h>
#include <cstdint>
#include <stddef.h>
#include <cstddef>
#include <math.h>
#include <cmath>
#include <limits>
#include <cfloat>
#include <climits>
static_assert(sizeof(int64_t) == 8 && sizeof(std::uint32_t) == 4 && sizeof(uintptr_t) == sizeof(void*), "");
static_assert(INT64_MAX == 9223372036854775807LL && UINT64_MAX == 18446744073709551615ULL, "");
static_assert(std::numeric_limits<int64_t>::max() == INT64_MAX, "");
static_assert(std::numeric_limits<int>::lowest() == INT_MIN, "");
static_assert(std::numeric_limits<unsigned char>::max() == 255, "");
static_assert(std::numeric_limits<double>::infinity() > DBL_MAX, "");
static_assert(std::numeric_limits<float>::lowest() == -FLT_MAX, "");
struct P { int a; double b; };
extern "C" __global__ void k(double* d, float* f, int64_t* q) {
    d[0] = std::sqrt(d[1]) + std::fma(d[0], d[1], d[2]) + M_PI + HUGE_VAL + NAN + std::abs(d[3]);
    f[0] = std::sqrt(f[1]) + std::pow(f[1], 2.0f) + INFINITY + std::fmin(f[2], f[3]);
    q[0] = std::isnan(d[0]) + std::isinf(f[0]) + std::signbit(d[1]) + offsetof(P, b) + LLONG_MIN;
    q[1] = std::abs(q[1]);
}
"""
    assert nvrtc.compile(source, "headers.cu", "sm_80")[:4] == b"\x7fELF"


def test_standard_headers_are_files_read_once():
    assert set(nvrtc.BUILTIN_HEADERS) == set(nvrtc.HEADER_FILES) and len(nvrtc.BUILTIN_HEADERS) == 11
    for name, file in nvrtc.HEADER_FILES.items():
        with open(os.path.join(nvrtc.HEADER_DIR, file), encoding="utf-8") as f:
            assert nvrtc.BUILTIN_HEADERS[name] == f.read()
    assert "namespace std" in nvrtc.BUILTIN_HEADERS["cmath"] and "using ::fma;" in nvrtc.BUILTIN_HEADERS["cmath"]
    assert "typedef long int64_t;" in nvrtc.BUILTIN_HEADERS["stdint.h"]
    assert nvrtc.BUILTIN_HEADERS["limits"] is nvrtc.BUILTIN_HEADERS["limits"]  # one read, not one per access


def test_standard_headers_ship_with_the_package():
    tomllib = pytest.importorskip("tomllib")
    import fnmatch

    root = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["kernelkit"]
    package = os.path.join(root, "src", "kernelkit")
    headers = os.path.join(package, "backends", "include", "kernelkit")
    for directory, _, names in os.walk(headers):
        for name in names:
            rel = os.path.relpath(os.path.join(directory, name), package).replace(os.sep, "/")
            # setuptools' "*" does not cross "/", unlike fnmatch's: compare folder by folder
            assert any(rel.count("/") == p.count("/") and fnmatch.fnmatch(rel, p) for p in patterns), (
                f"{rel} is not package data"
            )


def test_cache_key_covers_the_standard_headers(tmp_path, monkeypatch):
    # The compiled-kernel cache key includes the code generator's fingerprint; editing a stand-in header must
    # change it (the NVRTC identity alone is memoized per library file and would not).
    from kernelkit.backends.cuda.backend import CudaTarget
    from kernelkit.compile import pipeline

    include = tmp_path / "include"
    shutil.copytree(INCLUDE_DIR, include)
    monkeypatch.setattr(pipeline, "_HEADERS", str(include / "kernelkit"))
    monkeypatch.setattr(pipeline, "_fingerprints", {})
    target = CudaTarget("sm_90")
    before = pipeline.codegen_fingerprint(target)
    pipeline._fingerprints.clear()
    cmath = include / "kernelkit" / "nvrtc" / "cmath.h"
    cmath.write_text(cmath.read_text() + "// edited\n")
    assert pipeline.codegen_fingerprint(target) != before


@needs_nvrtc
def test_ptx_and_architectures():
    archs = nvrtc.supported_archs()
    assert archs == tuple(sorted(archs)) and 90 in archs
    assert nvrtc.target_for("sm_90") == ("sm_90", False)
    assert nvrtc.target_for((9, 0)) == ("sm_90", False)
    newest = archs[-1]
    assert nvrtc.target_for("sm_990") == (f"compute_{newest}", True)
    ptx = nvrtc.compile(AXPY, "axpy.cu", "sm_990", ptx=True)
    text = ptx.decode()
    assert ".version" in text and f".target sm_{newest}" in text and ".entry axpy" in text
    assert not ptx.endswith(b"\0")
    if archs[0] > 50:
        with pytest.raises(CompileError, match="cannot generate code for sm_50"):
            nvrtc.target_for("sm_50")
    with pytest.raises(CompileError, match="not a CUDA architecture"):
        nvrtc.compile(AXPY, "axpy.cu", "volta")


@needs_nvrtc
def test_options_replace_defaults():
    source = 'static_assert(__cplusplus >= 202002L, "c++20"); extern "C" __global__ void k(double* x) { }'
    nvrtc.compile(source, "k.cu", "sm_90", options=["-std=c++20"])
    with pytest.raises(CompileError):
        nvrtc.compile(source, "k.cu", "sm_90")


@needs_nvrtc
def test_library_identity_and_version():
    path = nvrtc.library_path()
    assert path and os.path.exists(path)
    assert nvrtc.version() >= (11, 2)
    ident = nvrtc.identity()
    major, minor = nvrtc.version()
    assert ident.startswith(f"nvrtc-{major}.{minor}:") and ident == nvrtc.identity()
    assert nvrtc.identity(["--use_fast_math"]) != ident


@needs_nvrtc
def test_threads_compile_in_parallel():
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results.append(nvrtc.compile(AXPY.replace("axpy", f"axpy{i}"), f"axpy{i}.cu", "sm_90"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and all(r[:4] == b"\x7fELF" for r in results)


def test_nothing_loaded_at_import():
    code = textwrap.dedent(
        """
        import kernelkit, kernelkit.backends.cuda.driver, kernelkit.backends.cuda.nvrtc
        maps = open("/proc/self/maps").read()
        assert "libnvrtc" not in maps and "libcuda" not in maps, maps
        assert kernelkit.backends.cuda.nvrtc.BUILTIN_HEADERS._texts is None  # the header files: on first use
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# The names the driver module had before it became a package; the rest of kernelkit, the tools and the
# benchmarks use them as `driver.<name>`.
DRIVER_NAMES = """
    AllocatorStats CachingAllocator CudaError Device Event Function FunctionAttributes Module Stream alloc
    alloc_host alloc_managed available current_device device_count driver_version empty_cache entry_points free
    free_host free_managed host_register host_unregister launch launch_kernel_address mem_info memcpy_dtod
    memcpy_dtod_async memcpy_dtoh memcpy_dtoh_async memcpy_htod memcpy_htod_async memory_stats memset_d8
    memset_d32 pointer_device size_class symbol_address use_library LIBRARY STREAM_LEGACY STREAM_PER_THREAD
    CUDA_SUCCESS CUDA_ERROR_OUT_OF_MEMORY CUDA_ERROR_NOT_READY CUDA_ERROR_INVALID_IMAGE
""".split()


def test_driver_package_keeps_the_module_names():
    missing = [name for name in DRIVER_NAMES if not hasattr(driver, name)]
    assert not missing
    assert set(driver.__all__) <= set(dir(driver))
    assert issubclass(driver.CudaError, KernelRuntimeError)


def test_driver_package_imports_only_errors_and_the_standard_library():
    import ast

    package = os.path.dirname(driver.__file__)
    allowed = {"kernelkit.errors", "kernelkit.backends.cuda.driver"}
    for name in sorted(os.listdir(package)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(package, name), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kernelkit"):
                inside = node.module.startswith("kernelkit.backends.cuda.driver")
                assert inside or node.module == "kernelkit.errors", f"{name} imports {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    assert top != "kernelkit" or alias.name in allowed, f"{name} imports {alias.name}"
                    assert top in sys.stdlib_module_names or top == "kernelkit", f"{name} imports {alias.name}"


def test_generation_follows_use_library(fake_libcuda):
    before = driver.generation()
    assert driver._generation == before  # the pre-split module global, still read by the CUDA place
    driver.use_library(fake_libcuda)
    try:
        stream = driver.Stream()
        assert driver._generation == driver.generation() == before + 1
    finally:
        driver.use_library(None)
    assert driver.generation() == before + 2
    stream.destroy()  # made under the fake: never calls the driver that replaced it
    assert stream.handle != 0


# ----------------------------------------------------------------------------------------------- size classes


def test_size_classes():
    assert driver.size_class(0) == 512
    assert driver.size_class(1) == 512
    assert driver.size_class(513) == 1024
    assert driver.size_class(1 << 20) == 1 << 20
    previous = 0
    for n in [1, 100, 4096, 10**5, (1 << 20) + 1, 3 * 10**6, 10**8, 10**10]:
        c = driver.size_class(n)
        assert c >= n and c >= previous
        assert c - n <= max(511, n // 8)
        assert driver.size_class(c) == c
        previous = c


def test_available_reports_a_reason():
    ok, reason = driver.available()
    assert isinstance(ok, bool) and isinstance(reason, str) and reason


# ----------------------------------------------------------------------------------------------- fake driver

FAKE_LIBCUDA = os.path.join(os.path.dirname(__file__), "fake_libcuda.c")

FILL_STRUCT = r"""
struct FillArgs { double* x; long long n; double v; };
extern "C" __global__ void fill_struct(FillArgs a) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < a.n;
         i += (long long)gridDim.x * blockDim.x)
        a.x[i] = a.v;
}
"""


class FillArgs(ctypes.Structure):
    _fields_ = [("x", ctypes.c_void_p), ("n", ctypes.c_longlong), ("v", ctypes.c_double)]


@pytest.fixture(scope="session")
def fake_libcuda(tmp_path_factory) -> str:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to build the fake libcuda")
    lib = tmp_path_factory.mktemp("fakecuda") / "libfakecuda.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), FAKE_LIBCUDA, "-ldl"], check=True)
    return str(lib)


class Env:
    """What a driver test needs: whether it runs on the fake, and a module with `axpy` and `fill_struct`."""

    def __init__(self, fake: bool):
        self.fake = fake
        self.device = driver.Device(0)
        if fake:
            image = b"\x7fELF fake cubin"
        else:
            nvrtc.choose_for_driver(driver.driver_version()[0])
            arch, ptx = nvrtc.target_for(self.device.arch)
            image = nvrtc.compile(AXPY + FILL_STRUCT, "toolchain_test.cu", arch, ptx=ptx)
        self.module = driver.Module.load(image, self.device)


@pytest.fixture(params=["fake", pytest.param("gpu", marks=pytest.mark.gpu)])
def cuda(request, fake_libcuda):
    if request.param == "fake":
        driver.use_library(fake_libcuda)
        try:
            yield Env(fake=True)
        finally:
            driver.use_library(None)
    else:
        ok, reason = driver.available()
        if not ok:
            pytest.skip(f"no usable CUDA GPU: {reason}")
        if not nvrtc.available():
            pytest.skip("NVRTC not found (pip install nvidia-cuda-nvrtc)")
        yield Env(fake=False)


def test_device_properties(cuda):
    dev = cuda.device
    assert driver.Device(0) is dev and driver.current_device() is dev
    assert dev.name and dev.arch.startswith("sm_") and dev.compute_capability >= (6, 0)
    assert dev.multiprocessor_count > 0 and dev.max_threads_per_block >= 512 and dev.warp_size == 32
    assert dev.max_shared_per_block_optin >= dev.max_shared_per_block >= 48 * 1024
    assert dev.total_memory > 0 and dev.context
    free_b, total_b = dev.mem_info()
    assert 0 < free_b <= total_b == dev.total_memory
    assert driver.device_count() >= 1
    assert driver.driver_version() >= (11, 0)
    dev.synchronize()
    with pytest.raises(KernelValueError, match="no CUDA device 99"):
        driver.Device(99)


def test_copy_round_trip(cuda):
    n = 100_000
    host = np.arange(n, dtype=np.float64)
    a = driver.alloc(host.nbytes)
    b = driver.alloc(host.nbytes)
    try:
        driver.memcpy_htod(a, host, host.nbytes)
        driver.memcpy_dtod(b, a, host.nbytes)
        back = np.empty_like(host)
        driver.memcpy_dtoh(back, b, host.nbytes)
        np.testing.assert_array_equal(back, host)

        driver.memset_d8(b, 0, host.nbytes)
        driver.memcpy_dtoh(back, b, host.nbytes)
        assert not back.any()
        driver.memset_d32(b, 0x3F800000, n * 2)  # float32 1.0
        f = np.empty(n * 2, dtype=np.float32)
        driver.memcpy_dtoh(f, b, f.nbytes)
        assert (f == 1.0).all()

        stream = driver.Stream()
        pinned = driver.alloc_host(host.nbytes)
        try:
            staged = np.ctypeslib.as_array((ctypes.c_double * n).from_address(pinned))
            staged[:] = host * 2
            driver.memcpy_htod_async(a, pinned, host.nbytes, stream)
            driver.memcpy_dtod_async(b, a, host.nbytes, stream)
            staged[:] = 0
            driver.memcpy_dtoh_async(pinned, b, host.nbytes, stream)
            stream.synchronize()
            np.testing.assert_array_equal(staged, host * 2)
            assert stream.query()
        finally:
            driver.free_host(pinned)
            stream.destroy()

        buf = bytearray(16)
        driver.memcpy_htod(a, b"0123456789abcdef", 16)
        driver.memcpy_dtoh(buf, a, 16)
        assert bytes(buf) == b"0123456789abcdef"
        assert driver.pointer_device(a) == 0
        assert driver.pointer_device(host.ctypes.data) is None
    finally:
        driver.free(a)
        driver.free(b)


def test_launch_compiled_kernel(cuda):
    n = 1 << 16
    x = np.random.default_rng(0).random(n)
    y = np.ones(n)
    dx, dy = driver.alloc(x.nbytes), driver.alloc(y.nbytes)
    try:
        driver.memcpy_htod(dx, x, x.nbytes)
        driver.memcpy_htod(dy, y, y.nbytes)
        fn = cuda.module.function("axpy")
        assert cuda.module.function("axpy") is fn
        _, block = fn.occupancy_max_block_size()
        assert 32 <= block <= 1024
        grid = 4 * cuda.device.multiprocessor_count
        args = [ctypes.c_longlong(n), ctypes.c_double(2.5), ctypes.c_void_p(dx), ctypes.c_void_p(dy)]
        stream = driver.Stream()
        start, end = driver.Event(), driver.Event()
        start.record(stream)
        driver.launch(fn, (grid,), (256,), 0, stream, args, label="axpy")
        end.record(stream)
        end.synchronize()
        assert start.elapsed_time(end) >= 0
        out = np.empty_like(y)
        driver.memcpy_dtoh(out, dy, out.nbytes)
        np.testing.assert_allclose(out, 1.0 + 2.5 * x)

        attrs = fn.attributes
        assert attrs.num_regs > 0 and attrs.max_threads_per_block > 0 and attrs.binary_version > 0
        assert fn.max_active_blocks_per_multiprocessor(256) >= 1

        fill = cuda.module.function("fill_struct")
        driver.launch(fill, grid, 256, 0, None, [FillArgs(dy, n, -3.0)])
        cuda.device.synchronize()
        driver.memcpy_dtoh(out, dy, out.nbytes)
        assert (out == -3.0).all()

        with pytest.raises(KernelTypeError, match="argument 1 is a float"):
            driver.launch(fn, grid, 256, 0, None, [ctypes.c_longlong(n), 2.5])
        with pytest.raises(driver.CudaError, match="kernel 'axpy' .*cuLaunchKernel") as info:
            driver.launch(fn, grid, (2048,), 0, None, args, label="axpy")
        assert isinstance(info.value, KernelRuntimeError)
        with pytest.raises(driver.CudaError, match="kernel 'missing'.*CUDA_ERROR_NOT_FOUND"):
            cuda.module.function("missing")
    finally:
        driver.free(dx)
        driver.free(dy)


def test_dynamic_shared_memory_limit(cuda):
    fn = cuda.module.function("axpy")
    optin = cuda.device.max_shared_per_block_optin
    fn.set_max_dynamic_shared(optin - fn.attributes.shared_bytes)
    assert fn.attributes.max_dynamic_shared_bytes == optin - fn.attributes.shared_bytes
    with pytest.raises(KernelValueError, match="dynamic shared memory"):
        fn.set_max_dynamic_shared(optin + 1)


def test_caching_allocator_reuses_blocks(cuda):
    driver.empty_cache()
    before = driver.memory_stats()
    p = driver.alloc(1000)
    driver.free(p)
    q = driver.alloc(1024)  # same 1024-byte class
    assert q == p
    stats = driver.memory_stats()
    assert stats.cache_hits == before.cache_hits + 1
    assert stats.driver_allocs == before.driver_allocs + 1
    assert stats.in_use_bytes == before.in_use_bytes + 1024

    stream = driver.Stream()
    r = driver.alloc(1024, stream=stream)  # another stream never gets a block freed on this one
    driver.free(q)
    r2 = driver.alloc(1024, stream=stream)
    assert r != q and r2 != q
    driver.free(r)
    driver.free(r2)
    with pytest.raises(KernelValueError, match="not allocated by kernelkit"):
        driver.free(r)

    assert driver.memory_stats().cached_bytes >= 2048
    released = driver.empty_cache()
    assert released >= 3 * 1024
    stats = driver.memory_stats()
    assert stats.cached_bytes == 0 and stats.cached_blocks == 0
    assert stats.driver_frees - before.driver_frees == stats.driver_allocs - before.driver_allocs
    stream.destroy()


def test_out_of_memory_message(cuda):
    ask = 2 * cuda.device.total_memory
    with pytest.raises(driver.CudaError) as info:
        driver.alloc(ask)
    err = info.value
    assert err.code == driver.CUDA_ERROR_OUT_OF_MEMORY
    text = str(err)
    assert f"asked for {ask / 2**30:.1f} GiB ({ask} bytes" in text
    assert "free of" in text and "cuMemAlloc_v2" in text and "CUDA_ERROR_OUT_OF_MEMORY" in text
    free_b, _ = cuda.device.mem_info()
    with pytest.raises(driver.CudaError, match="never oversubscribes"):
        driver.alloc_managed(free_b + (1 << 30))
    again = pickle.loads(pickle.dumps(err))
    assert again.code == err.code and again.call == "cuMemAlloc_v2"


def test_bad_image_reports_driver_log(cuda):
    with pytest.raises(KernelValueError, match="not a cubin"):
        driver.Module.from_cubin(b"garbage")
    with pytest.raises(driver.CudaError, match="cuModuleLoadDataEx") as info:
        driver.Module.from_ptx("this is not PTX")
    if cuda.fake:
        assert info.value.detail == "fake: not a CUDA image"


def test_streams_and_events(cuda):
    s = driver.Stream(non_blocking=True)
    wrapped = driver.Stream.wrap(s.handle)
    assert wrapped == s and not wrapped.owned and int(wrapped) == s.handle
    assert driver.Stream.wrap(s) is s
    assert s.__cuda_stream__() == (0, s.handle)
    legacy = driver.Stream.legacy_default()
    assert legacy.handle == 0
    ev = s.record()
    s.wait_event(ev)
    ev.synchronize()
    assert ev.query()
    untimed = driver.Event(timing=False).record(legacy)
    untimed.synchronize()
    untimed.destroy()
    wrapped.destroy()  # never destroys a stream it does not own
    s.synchronize()
    s.destroy()
    assert s.handle == 0


def test_native_entry_points(cuda):
    addr = driver.launch_kernel_address()
    assert addr and addr == driver.symbol_address("cuLaunchKernel")
    points = driver.entry_points()
    assert {"cuLaunchKernel", "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2", "cuStreamSynchronize"} <= set(points)
    assert all(points.values())
    with pytest.raises(KernelValueError, match="exports no cuNoSuchThing"):
        driver.symbol_address("cuNoSuchThing")


@pytest.mark.gpu
def test_device_fault_is_reported():
    ok, reason = driver.available()
    if not ok:
        pytest.skip(f"no usable CUDA GPU: {reason}")
    if not nvrtc.available():
        pytest.skip("NVRTC not found")
    # A fault poisons the context for the rest of the process, so it runs in a child.
    code = textwrap.dedent(
        """
        import ctypes
        from kernelkit.backends.cuda import driver, nvrtc
        dev = driver.Device(0)
        arch, ptx = nvrtc.target_for(dev.arch)
        src = 'extern "C" __global__ void bad(double* p) { p[threadIdx.x] = 1.0; }'
        mod = driver.Module.load(nvrtc.compile(src, "bad.cu", arch, ptx=ptx))
        driver.launch(mod.function("bad"), 1, 32, 0, None, [ctypes.c_void_p(8)], label="bad")
        try:
            dev.synchronize()
        except driver.CudaError as e:
            print("CAUGHT", e.code, e)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "CAUGHT 700" in out.stdout, out.stdout + out.stderr
    assert "cuCtxSynchronize" in out.stdout and "CUDA_ERROR_ILLEGAL_ADDRESS" in out.stdout


def test_constants_match_cuda_bindings():
    cu = pytest.importorskip("cuda.bindings.driver", reason="cuda-bindings not installed (only cross-checks)")
    attr = cu.CUdevice_attribute
    pairs = {
        driver.api.ATTR_MAX_THREADS_PER_BLOCK: attr.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
        driver.api.ATTR_MAX_SHARED_PER_BLOCK: attr.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK,
        driver.api.ATTR_WARP_SIZE: attr.CU_DEVICE_ATTRIBUTE_WARP_SIZE,
        driver.api.ATTR_MULTIPROCESSOR_COUNT: attr.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
        driver.api.ATTR_L2_CACHE_SIZE: attr.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE,
        driver.api.ATTR_MAX_THREADS_PER_SM: attr.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR,
        driver.api.ATTR_PCI_BUS_ID: attr.CU_DEVICE_ATTRIBUTE_PCI_BUS_ID,
        driver.api.ATTR_PCI_DEVICE_ID: attr.CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID,
        driver.api.ATTR_PCI_DOMAIN_ID: attr.CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID,
        driver.api.ATTR_CC_MAJOR: attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
        driver.api.ATTR_CC_MINOR: attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
        driver.api.ATTR_MAX_SHARED_PER_SM: attr.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
        driver.api.ATTR_MAX_SHARED_PER_BLOCK_OPTIN: attr.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
        driver.api.ATTR_MAX_BLOCK_DIM[0]: attr.CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X,
        driver.api.ATTR_MAX_GRID_DIM[2]: attr.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z,
    }
    func = cu.CUfunction_attribute
    pairs |= {
        driver.api.FUNC_NUM_REGS: func.CU_FUNC_ATTRIBUTE_NUM_REGS,
        driver.api.FUNC_SHARED_SIZE_BYTES: func.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
        driver.api.FUNC_MAX_DYNAMIC_SHARED_SIZE_BYTES: func.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
        driver.api.FUNC_BINARY_VERSION: func.CU_FUNC_ATTRIBUTE_BINARY_VERSION,
    }
    for ours, theirs in pairs.items():
        assert ours == int(theirs), theirs
    res = cu.CUresult
    assert driver.CUDA_ERROR_OUT_OF_MEMORY == int(res.CUDA_ERROR_OUT_OF_MEMORY)
    assert driver.CUDA_ERROR_NOT_READY == int(res.CUDA_ERROR_NOT_READY)
    assert driver.CUDA_ERROR_UNSUPPORTED_PTX_VERSION == int(res.CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
    assert driver.api.JIT_ERROR_LOG_BUFFER == int(cu.CUjit_option.CU_JIT_ERROR_LOG_BUFFER)
    assert driver.api.POINTER_DEVICE_ORDINAL == int(cu.CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL)
    for code, name in driver.api.FALLBACK_NAMES.items():
        assert int(getattr(res, name)) == code


def test_resources_of_a_replaced_driver_are_left_alone():
    """A specialization's pinned and device buffers are freed by the driver that made them; after
    driver.use_library() swapped the library, freeing them through the new one would hand it foreign pointers (the
    GPU matrix aborted in free() when a collection ran inside the fake driver's fixture)."""
    from kernelkit.backends.cuda import backend

    calls: list[int] = []

    class Recorder:
        api = driver.api

        def free_host(self, p: int) -> None:
            calls.append(p)

        def free(self, p: int) -> None:
            calls.append(p)

    res = backend._Resources.__new__(backend._Resources)
    res.driver, res.result, res.scratch, res.counter, res.err_flag, res.scratch1 = Recorder(), 1, 2, 3, 4, 0
    res.generation = driver.api.state.generation - 1
    res.__del__()
    assert calls == []
    res.generation = driver.api.state.generation
    res.__del__()
    assert calls == [1, 2, 3, 4]
    res.result = res.scratch = res.counter = res.err_flag = 0  # nothing left for the collector's call
