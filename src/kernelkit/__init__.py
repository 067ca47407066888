"""kernelkit: the Kokkos programming model in Python, compiled to native code.

    import kernelkit as pk

    @pk.workunit
    def axpy(i, a, x, y):
        y[i] += a * x[i]

    pk.parallel_for("axpy", n, axpy, a=2.0, x=x, y=y)

PyKokkos programs run with only their import line changed. Importing compiles nothing and starts no threads.
"""

from kernelkit.api.binsort import BinOp1D, BinOp3D, BinSort
from kernelkit.api.compat import (
    Timer, ViewTypeInfo, finalize, get_default_precision, initialize, is_initialized, set_default_precision,
)
from kernelkit.api.decorators import (
    callback, classtype, execute, function, functor, main, workload, workunit,
)
from kernelkit.api.patterns import fence, parallel_for, parallel_reduce, parallel_scan
from kernelkit.api.policies import MDRangePolicy, RangePolicy, TeamPolicy
from kernelkit.api.random import (
    HostGenerator, Random_XorShift64_Pool, Random_XorShift1024_Pool, fill_random, host_free_state, host_get_state,
)
from kernelkit.lang.annotations import Acc, View1D, View2D, View3D, View4D, View5D, View6D, View7D, View8D
from kernelkit.lang.kmath import (
    acos, acosh, asin, asinh, atan, atan2, atanh, atomic_add, atomic_and, atomic_compare_exchange, atomic_div,
    atomic_exchange, atomic_fetch_add, atomic_fetch_and, atomic_fetch_div, atomic_fetch_max, atomic_fetch_min,
    atomic_fetch_mul, atomic_fetch_or, atomic_fetch_sub, atomic_fetch_xor, atomic_max, atomic_min, atomic_mul,
    atomic_or, atomic_sub, atomic_xor, cbrt, ceil, copysign, cos, cosh, erf, erfc, exp, exp2, expm1, fabs, floor,
    fmax, fmin, fmod, hypot, isfinite, isinf, isnan, lgamma, log, log1p, log2, log10, pow, printf, rsqrt, sin,
    sinh, sqrt, tan, tanh, tgamma, trunc,
)
from kernelkit.lang.random import rand
from kernelkit.lang.reducers import BAnd, BOr, LAnd, LOr, Max, MaxLoc, Min, MinLoc, Prod, Reducer, Sum
from kernelkit.lang.team import (
    AUTO, PerTeam, PerThread, ScratchView1D, ScratchView2D, ScratchView3D, TeamMember, TeamThreadMDRange,
    TeamThreadRange, TeamVectorMDRange, TeamVectorRange, ThreadVectorRange, single,
)
from kernelkit.api.spaces import (
    Cuda, Debug, Default, ExecutionSpace, ExecutionSpaceInstance, OpenMP, Serial, Threads, get_default_space,
    get_num_threads, set_default_space, set_device, set_num_threads,
)
from kernelkit.api.views import (
    ALL, Atomic, CudaSpace, CudaUVMSpace, HostSpace, Layout, LayoutDefault, LayoutLeft, LayoutRight,
    LayoutStride, MemorySpace, MemorySpaceDefault, RandomAccess, Restrict, Trait, TraitDefault, Unmanaged, View,
    asarray, create_mirror, create_mirror_view, deep_copy, from_numpy, subview,
)
from kernelkit.errors import (
    CompileError, KernelError, KernelRuntimeError, KernelSyntaxError, KernelTypeError, KernelValueError,
    SpaceUnavailable, ToolchainNotFound,
)
from kernelkit.ir.types import (
    bool_, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
)
from kernelkit import _native as _native_mod
from kernelkit.errors import KernelRuntimeError as _KRE

from kernelkit._version import __version__  # noqa: E402

bool = bool_  # noqa: A001 - PyKokkos names: pk.bool, pk.float, pk.double
float = float32  # noqa: A001
double = float64
real = float64
array = asarray

# The host compiler is imported now, not at the first launch: it is a one-time cost of the process (~50 ms)
# that would otherwise land on the first kernel's warm start. Nothing is compiled and no thread is started.
import kernelkit.backends.openmp.backend  # noqa: E402,F401
import kernelkit.backends.cuda.backend  # noqa: E402,F401  (Python only: libcuda and NVRTC load on first use)
import kernelkit.backends.cuda.driver  # noqa: E402,F401
import kernelkit.runtime.coherence  # noqa: E402,F401
from kernelkit.errors import KernelValueError as _KVE  # noqa: E402
from kernelkit.runtime.profiler import profile  # noqa: E402

_native_mod.set_error_classes(_KRE, _KVE)
if __import__("kernelkit.config").config.get().profile:
    kernelkit.runtime.profiler.enable()
_native_mod.set_clean(KernelError, __import__('kernelkit.config').config.get().debug)
del _native_mod, _KRE, _KVE

__all__ = [
    "__version__",
    # decorators and patterns
    "workunit", "function", "functor", "classtype", "workload", "main", "callback", "execute", "parallel_for", "parallel_reduce", "parallel_scan", "fence", "profile",
    # policies and spaces
    "RangePolicy", "MDRangePolicy", "ExecutionSpace", "ExecutionSpaceInstance", "set_device", "Debug", "Serial", "OpenMP", "Threads", "Cuda", "Default",
    "get_default_space", "set_default_space", "get_num_threads", "set_num_threads",
    # hierarchical parallelism
    "TeamPolicy", "TeamMember", "AUTO", "TeamThreadRange", "ThreadVectorRange", "TeamVectorRange",
    "TeamThreadMDRange", "TeamVectorMDRange", "PerTeam", "PerThread", "single", "ScratchView1D", "ScratchView2D", "ScratchView3D",
    # random numbers
    "Random_XorShift64_Pool", "Random_XorShift1024_Pool", "rand", "fill_random", "host_get_state", "host_free_state",
    "HostGenerator",
    # PyKokkos utilities
    "Timer", "initialize", "finalize", "is_initialized", "set_default_precision", "get_default_precision",
    "ViewTypeInfo", "BinOp1D", "BinOp3D", "BinSort",
    # reducers
    "Reducer", "Sum", "Prod", "Min", "Max", "MinLoc", "MaxLoc", "LAnd", "LOr", "BAnd", "BOr",
    # views
    "View", "subview", "asarray", "array", "from_numpy", "deep_copy", "create_mirror", "create_mirror_view", "ALL",
    "Layout", "LayoutRight", "LayoutLeft", "LayoutStride", "LayoutDefault",
    "MemorySpace", "HostSpace", "CudaSpace", "CudaUVMSpace", "MemorySpaceDefault",
    "Trait", "Atomic", "RandomAccess", "Restrict", "Unmanaged", "TraitDefault",
    "View1D", "View2D", "View3D", "View4D", "View5D", "View6D", "View7D", "View8D", "Acc",
    # dtypes
    "bool", "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float", "float32", "float64", "double", "real",
    # math, atomics, printf
    "sqrt", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan",
    "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "pow", "floor", "ceil", "trunc", "fabs", "fmin",
    "fmax", "fmod", "hypot", "copysign", "erf", "erfc", "cbrt", "rsqrt", "tgamma", "lgamma", "isnan", "isinf",
    "isfinite", "printf",
    "atomic_add", "atomic_sub", "atomic_mul", "atomic_div", "atomic_min", "atomic_max", "atomic_and", "atomic_or",
    "atomic_xor", "atomic_fetch_add", "atomic_fetch_sub", "atomic_fetch_mul", "atomic_fetch_div",
    "atomic_fetch_min", "atomic_fetch_max", "atomic_fetch_and", "atomic_fetch_or", "atomic_fetch_xor",
    "atomic_compare_exchange", "atomic_exchange",
    # errors
    "KernelError", "KernelSyntaxError", "KernelTypeError", "KernelValueError", "CompileError",
    "KernelRuntimeError", "SpaceUnavailable", "ToolchainNotFound",
]
