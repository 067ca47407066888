"""`@pk.jit`: whole functions compiled natively, their parallel loops run on an execution space.

    @pk.jit
    def gemver(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
        for i in pk.prange(A.shape[0]):
            ...

The call path mirrors the kernel launcher's (runtime/launcher.py): the fast path binds the arguments, asks the
native launcher to match one of the function's specializations and runs it (the GIL released); anything new
takes the slow path — type the arguments (runtime/args.py), lower the function (kernelkit.loops, memoized per
signature and options), make the arrays current at the space's place (runtime/coherence.py), build through the
cache (compile/pipeline.py), make a native spec. The compiled entry answers the identity of the specialization
that ran, which says how to read its results.
"""

from __future__ import annotations

import ctypes
import functools
import inspect
from typing import Any

import numpy as np

from kernelkit import _native
from kernelkit.api.spaces import ExecutionSpace, get_default_space, space_from
from kernelkit.api.views import View
from kernelkit.compile import pipeline
from kernelkit.errors import KernelError, KernelRuntimeError, KernelTypeError, caller_loc
from kernelkit.ir import nodes as N
from kernelkit.ir import printer
from kernelkit.ir import types as T
from kernelkit.lang import registry
from kernelkit.loops import Options, lower_program
from kernelkit.runtime import coherence
from kernelkit.runtime.args import arg_type, param_descriptor, writable_check
from kernelkit.runtime.launcher import guards_hold

registry.register(View, "alloc", "view")

SLOTS = 10  # int64 per result (program.h RESULT_SLOTS)
MAX_RESULTS = 32
RET = "kk_ret"
CTX = "kk_ctx"  # GPU programs: the address of their launch-context table
_REC = _native.Launch("for", 0, 0)
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


class _Owned:
    """Memory a program allocated and handed back: freed with the C library's free() with the last array."""

    __slots__ = ("__array_interface__", "ptr")

    def __init__(self, ptr: int, shape: tuple[int, ...], typestr: str):
        self.ptr = ptr
        self.__array_interface__ = {"data": (ptr, False), "shape": shape, "typestr": typestr, "version": 3}

    def __del__(self) -> None:
        _libc.free(self.ptr)


class _Decoder:
    """How to turn one specialization's result slots into Python values."""

    def __init__(self, program: N.Program):
        self.items = list(zip(program.results, program.result_params, strict=True))
        self.tuple_result = program.tuple_result
        self.tree = program.result_tree
        self.none = not program.results
        self.arrays = any(isinstance(t, T.ViewType) and p is None for t, p in self.items)


class _Buffers:
    """Result slots, reused across calls (one per concurrent call)."""

    def __init__(self) -> None:
        self.free: list[tuple[np.ndarray, np.ndarray, int]] = []

    def take(self) -> tuple[np.ndarray, np.ndarray, int]:
        if self.free:
            return self.free.pop()
        a = np.zeros(SLOTS * MAX_RESULTS, np.int64)
        return a, a.view(np.float64), a.__array_interface__["data"][0]

    def give(self, b) -> None:
        self.free.append(b)


class JitFunction:
    """A function compiled whole by `@pk.jit`; call it like the original."""

    _kk_kind = "jit"

    def __init__(self, fn, space: Any = None, options: Options | None = None, dump_code: bool = False):
        if not inspect.isfunction(fn):
            raise KernelTypeError(f"@pk.jit needs a Python function, got {type(fn).__name__}", caller_loc())
        self.py_function = fn
        self.space: ExecutionSpace | None = space_from(space) if space is not None else None
        self.options = options or Options()
        self.dump_code = dump_code
        code = fn.__code__
        self._names = list(code.co_varnames[: code.co_argcount])
        self._defaults = fn.__defaults__ or ()
        self._specs: dict = {}  # backend spec key -> [native spec]
        self._ir: dict = {}  # (options, signature) -> (Program, guards)
        self._decoders: dict[int, _Decoder] = {}
        self._buffers = _Buffers()
        self._tables: dict = {}  # backend spec key -> the GPU programs' context table
        self._made: dict = {}  # (backend spec key, program identity) -> native spec
        self._stats = {"compiles": 0, "cache_hits": 0}
        self._takes_functions = False  # called with a compiled function as an argument: every call takes _slow
        functools.update_wrapper(self, fn)

    def run_space(self) -> ExecutionSpace:
        """The space this call runs on."""
        return self.space or get_default_space()

    def stats(self) -> dict:
        return dict(self._stats, specializations=sum(len(v) for v in self._specs.values()))

    def _bind(self, args: tuple, kwargs: dict) -> dict:
        names = self._names
        if len(args) == len(names) and not kwargs:
            return dict(zip(names, args, strict=True))
        if len(args) > len(names):
            raise KernelTypeError(
                f"{self.py_function.__name__}() takes {len(names)} arguments but {len(args)} were given", caller_loc()
            )
        kw = dict(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k not in names or k in kw:
                raise KernelTypeError(f"{self.py_function.__name__}() got an unexpected argument {k!r}", caller_loc())
            kw[k] = v
        first_default = len(names) - len(self._defaults)
        for k, n in enumerate(names):
            if n not in kw:
                if k < first_default:
                    raise KernelTypeError(f"{self.py_function.__name__}() missing argument {n!r}", caller_loc())
                kw[n] = self._defaults[k - first_default]
        return {n: kw[n] for n in names}

    def __call__(self, *args, **kwargs):
        kw = self._bind(args, kwargs)
        space = self.run_space()
        backend = space._backend or space.backend
        if backend.interpreted:
            return self._interpret(backend, kw)
        buf = self._buffers.take()
        try:
            kw[RET] = buf[2]
            specs = self._specs.get(backend.spec_key)
            if specs and not self._takes_functions:  # the native matcher does not tell functions apart
                native = getattr(backend, "program_native", None)
                if native is not None:  # a GPU: host code at the GPU's place, kernels through the context table
                    kw[CTX] = self._tables[backend.spec_key].address
                    handle = backend.program_handle
                else:
                    native, handle = backend.native, backend.handle
                try:
                    r = native(specs, _REC, kw, handle)
                except KernelRuntimeError as e:
                    raise KernelRuntimeError(e.message, caller_loc()) from None
                if r is not NotImplemented:
                    return self._decode(r, buf, kw, backend)
            return self._slow(backend, kw, buf)
        finally:
            self._buffers.give(buf)

    # -------------------------------------------------------------------------------------- slow path

    def _program(self, kw: dict, device: bool) -> tuple[N.Program, list, dict]:
        loc = caller_loc()
        types: dict[str, T.Type] = {}
        args: dict[str, Any] = {}
        readonly: set[str] = set()
        statics: dict[str, Any] = {}
        for name in self._names:
            value = kw[name]
            if getattr(value, "_kk_kind", None) == "jit":  # a compiled function: called by the compiled code
                statics[name] = value
                self._takes_functions = True
                continue
            if not isinstance(value, (np.ndarray, _native.ViewBase)):
                if _host_dlpack(value):
                    value = np.from_dlpack(value)  # a CPU tensor of another library (PyTorch): zero copy
                elif isinstance(value, (list, tuple)) and value and all(_number(x) for x in value):
                    value = np.asarray(value)  # read as an array; returned as the very list it was
                    readonly.add(name)
            t, v = arg_type(name, value, loc, device)
            types[name] = t
            args[name] = v
        key = (self.options.key(), tuple(types.items()), tuple(statics.items()))
        memo = self._ir.get(key)
        if memo is None or not guards_hold(memo[1]):
            memo = lower_program(self.py_function, types, self.options, statics)
            self._ir[key] = memo
        program = memo[0]
        for name in program.writes:
            if name in readonly:
                raise KernelTypeError(f"{program.name}() writes argument {name!r}, a list: pass an array", loc)
            writable_check(name, args[name], loc)
        self._decoders[printer.program_id(program)] = _Decoder(program)
        return program, memo[1], args

    def _slow(self, backend, kw: dict, buf):
        program, guards, args = self._program(kw, backend.device_memory)
        staged, after = coherence.stage(args, program.params, program.writes, backend.place)
        try:
            spec = self._spec(backend, program, guards, args)
            staged = dict(staged)
            staged[RET] = kw[RET]
            native = getattr(backend, "program_native", None)
            if native is not None:
                staged[CTX] = kw[CTX] = self._tables[backend.spec_key].address
                handle = backend.program_handle
            else:
                native, handle = backend.native, backend.handle
            try:
                r = native([spec], _REC, staged, handle)
            except KernelRuntimeError as e:
                raise KernelRuntimeError(e.message, caller_loc()) from None
            if r is NotImplemented:
                raise KernelError(
                    f"internal error: the {backend.name} specialization of {program.name!r} does not accept its "
                    "own arguments; please report this"
                )
            return self._decode(r, buf, kw, backend)
        finally:
            for done in after:
                done()

    def _spec(self, backend, program: N.Program, guards: list, args: dict):
        """The native spec of this program for this backend: built (through the cache) and made once."""
        key = (backend.spec_key, printer.program_id(program))
        spec = self._made.get(key)
        if spec is not None:
            return spec
        host = getattr(backend, "program_host", None)
        if host is not None:  # a GPU: the host unit (g++) builds while NVRTC builds the kernels
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as pool:
                hosting = pool.submit(pipeline.build, host, program)
                built = pipeline.build(backend, program)
                hosted = hosting.result()
        else:
            built = pipeline.build(backend, program)
        self._stats["cache_hits" if built.from_cache else "compiles"] += 1
        if self.dump_code:  # a GPU program is two units: the host code, then the kernels it launches
            units = ([host.render(program)] if host is not None else []) + [backend.render(program)]
            print(f"/* {program.name} on {backend.name} */", *units, sep="\n")
        params = tuple(
            param_descriptor(p.name, p.type, args[p.name], p.name in program.writes) for p in program.params
        ) + (("s", RET, int, "i"),)
        guard_tuple = tuple((g.holder, g.key, g.value) for g in guards)
        if host is not None:  # the host unit is handed the kernels it launches
            table = self._tables.get(backend.spec_key)
            if table is None:
                table = self._tables[backend.spec_key] = backend.program_table()
            spec = backend.make_program_spec(
                program, built.binary, hosted.binary, params + (("s", CTX, int, "i"),), guard_tuple, table
            )
        else:
            spec = backend.make_spec(program, built.binary, params, guard_tuple, _REC)
        self._made[key] = spec
        specs = self._specs.setdefault(backend.spec_key, [])
        specs.insert(0, spec)
        del specs[backend.max_specs :]
        return spec

    def _interpret(self, backend, kw: dict):
        program, _, args = self._program(kw, False)
        if self.dump_code:
            from kernelkit.backends.debug.program import ProgramPyRenderer

            print(ProgramPyRenderer(program).render())
        staged, after = coherence.stage(args, program.params, program.writes, backend.place)
        try:
            values = backend.execute(program, None, staged)
        finally:
            for done in after:
                done()
        out = [kw[p] if p is not None else v for v, (_, p) in zip(values, _Decoder(program).items, strict=True)]
        out = _wrap_like(out, kw) if any(isinstance(v, np.ndarray) for v in out) else out
        if not program.results:
            return None
        if program.result_tree is not None:
            return _nest(program.result_tree, out)
        return tuple(out) if program.tuple_result else out[0]

    # -------------------------------------------------------------------------------------- results

    def _decode(self, ident: int, buf, kw: dict, backend=None):
        dec = self._decoders.get(ident)
        if dec is None:
            raise KernelError(f"internal error: unknown program specialization {ident}; please report this")
        if dec.none:
            return None
        ints, floats, _ = buf
        out = []
        for k, (t, param) in enumerate(dec.items):
            if param is not None:
                out.append(kw[param])
            elif isinstance(t, T.ScalarType):
                s = SLOTS * k
                out.append(
                    float(floats[s])
                    if t.is_float
                    else bool(ints[s])
                    if t.is_bool
                    else int(ints[s]) & 0xFFFFFFFFFFFFFFFF
                    if t is T.uint64
                    else int(ints[s])
                )
            else:
                s = SLOTS * k
                rank = int(ints[s + 1])
                shape = tuple(int(x) for x in ints[s + 2 : s + 2 + rank])
                ptr = int(ints[s]) & 0xFFFFFFFFFFFFFFFF
                adopt = getattr(backend, "program_result", None)
                if adopt is not None:  # device memory: the backend hands it over
                    out.append(adopt(ptr, shape, t.dtype.np_dtype, list(kw.values())))
                else:
                    out.append(np.asarray(_Owned(ptr, shape, t.dtype.np_dtype.str)))
        if dec.arrays:
            out = _wrap_like(out, kw)
        if dec.tree is not None:
            return _nest(dec.tree, out)
        return tuple(out) if dec.tuple_result else out[0]


def _nest(tree, flat: list):
    """The nested tuple a function returned (`return (a, b), c`), from its flat results."""
    return tuple(_nest(t, flat) for t in tree) if isinstance(tree, tuple) else flat[tree]


def _number(x) -> bool:
    return isinstance(x, (int, float, bool, np.generic))


def _host_dlpack(value) -> bool:
    dev = getattr(value, "__dlpack_device__", None)
    if dev is None or hasattr(value, "__array_interface__"):
        return False
    try:
        return dev()[0] == 1  # kDLCPU
    except (TypeError, ValueError, RuntimeError):
        return False


def _wrap_like(out: list, kw: dict) -> list:
    """New arrays in the library of the arguments: PyTorch tensors when the function was given tensors."""
    torch_in = next((v for v in kw.values() if type(v).__module__.split(".")[0] == "torch"), None)
    if torch_in is None:
        return out
    import torch

    return [torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in out]


def jit(
    fn=None,
    *,
    space=None,
    auto_simd: bool = True,
    parallel: bool = True,
    fast_math: bool | None = None,
    dump_code: bool = False,
    **options,
):
    """Compile a whole function: host code natively, each parallel loop (`pk.prange`, APPy's `#pragma parallel
    for`, tensor expressions on slices) on `space` (default: the default space at call time).

    >>> @pk.jit
    ... def total(a):
    ...     s = 0.0
    ...     for i in pk.prange(a.shape[0]):
    ...         s += a[i]
    ...     return s
    """
    opts = Options(auto_simd=auto_simd, parallel=parallel, fast_math=fast_math, extra=dict(options))

    def deco(f):
        return JitFunction(f, space, opts, dump_code=bool(dump_code))

    if fn is not None:
        if not callable(fn):
            raise KernelTypeError("use @pk.jit or @pk.jit(space=..., ...)", caller_loc())
        return deco(fn)
    return deco


__all__ = ["JitFunction", "jit"]
