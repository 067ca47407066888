"""The one launcher: every kernel launch of every space goes through `launch`.

The contract is a `Launch` record (kernelkit._native.Launch: pattern, policy bounds, tile or team sizes,
reducer, initial value, label; validated when it is made) plus the keyword arguments. The fast path is one dict
lookup for the workunit's specializations of this backend and launch kind, and one native call that matches the
arguments and runs the kernel. Anything new (argument types, stale data, a subview, a first launch) takes the
slow path: type the arguments, lower the workunit (memoized per signature), make the data current at the
backend's place (runtime.coherence), build the binary (compile.pipeline, through the cache), make a native
spec, run it. Backends are called, never callers.
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any, NoReturn

from kernelkit import _native
from kernelkit.backends.base import Backend
from kernelkit.compile import pipeline
from kernelkit.errors import KernelError, KernelRuntimeError, KernelTypeError, KernelValueError, Loc, caller_loc
from kernelkit.frontend import Guard, Signature, lower_kernel, scalar_type_of
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T
from kernelkit.runtime import coherence, graph, profiler
from kernelkit.runtime.args import arg_type, param_descriptor, writable_check

Launch = _native.Launch
team_launch = _native.team_launch


def _failed(e: KernelRuntimeError) -> KernelRuntimeError:
    """A compiled kernel's runtime error, located: at the kernel line the kernel reported (bounds checks end
    their message with "\n#line N FILE", see core.h), with the launch line in the text; else at the launch."""
    launched = caller_loc()
    text, sep, where = e.message.partition("\n#line ")
    line, _, file = where.partition(" ")
    if sep and line.isdigit() and file:
        at = f" (launched at {launched})" if launched is not None else ""
        return KernelRuntimeError(text + at, Loc(file, int(line), 0))
    return KernelRuntimeError(e.message, launched)


def raise_failed(e: KernelRuntimeError) -> NoReturn:
    """Raise a compiled kernel's runtime error located (the C fast path of parallel_for calls this)."""
    raise _failed(e) from None


def launch(backend: Backend, wu: Any, rec: Any, kwargs: dict[str, Any]) -> Any:
    """Run workunit `wu` on `backend` as `rec` describes, with keyword arguments `kwargs` (or, inside a
    `with pk.graph()` block of this thread, record it)."""
    if graph.recording is not None and graph.recording.here():
        return graph.recording.add_launch(backend, wu, rec, kwargs)
    table = wu._specs.get(backend.spec_key)  # spec_key -> launch kind -> [native spec]
    if table is not None and profiler.active is None:
        specs = table.get(rec.kind)
        if specs:
            try:
                r = backend.native(specs, rec, kwargs, backend.handle)
            except KernelRuntimeError as e:
                raise _failed(e) from None  # name the kernel line, or the launch line
            if r is not NotImplemented:
                return r
    elif profiler.active is not None:
        return profiler.active.timed(backend, rec, _timed, backend, wu, rec, kwargs)
    return _slow(backend, wu, rec, kwargs)


def _timed(backend: Backend, wu: Any, rec: Any, kwargs: dict[str, Any]) -> Any:
    specs = wu._specs.get(backend.spec_key, {}).get(rec.kind)
    if specs:
        try:
            r = backend.native(specs, rec, kwargs, backend.handle)
        except KernelRuntimeError as e:
            raise _failed(e) from None
        if r is not NotImplemented:
            return r
    return _slow(backend, wu, rec, kwargs)


def _slow(backend: Backend, wu: Any, rec: Any, kwargs: dict[str, Any]) -> Any:
    kernel, guards, args = prepare(wu, rec, kwargs, backend.device_memory)
    if not backend.interpreted and N.assumes_independent(kernel):
        kernel = _for_overlaps(backend, kernel, args)
    staged, after = coherence.stage(args, kernel.params, kernel.writes, backend.place)
    try:
        if backend.interpreted:
            return backend.execute(kernel, rec, staged)
        specs = wu._specs.setdefault(backend.spec_key, {}).setdefault(rec.kind, [])
        try:
            r = backend.native(specs, rec, staged, backend.handle)  # e.g. a View whose host copy was just synced
            if r is NotImplemented:
                target = backend.for_launch(rec)
                built = pipeline.build(target, kernel)
                wu._count("cache_hits" if built.from_cache else "compiles")
                apart = N.assumes_independent(kernel)
                params = tuple(
                    param_descriptor(p.name, p.type, args[p.name], p.name in kernel.writes, apart)
                    for p in kernel.params
                )
                guard_tuple = tuple((g.holder, g.key, g.value) for g in guards)
                spec = target.make_spec(kernel, built.binary, params, guard_tuple, rec)
                # the in-order build for overlapping arguments goes last: the matcher tries it only after the
                # vectorized one refused the launch's arguments (launch.c args_overlap)
                if kernel.no_simd:
                    specs.append(spec)
                else:
                    specs.insert(0, spec)
                del specs[backend.max_specs :]
                r = backend.native([spec], rec, staged, backend.handle)
                if r is NotImplemented:
                    raise KernelError(
                        f"internal error: the new {backend.name} specialization of {kernel.name!r} does not accept "
                        f"its own arguments ({params}); please report this"
                    )
        except KernelRuntimeError as e:
            raise _failed(e) from None
        except KernelValueError as e:
            if e.loc is None:
                raise KernelValueError(e.message, caller_loc()) from None
            raise
        return r
    finally:
        for done in after:
            done()


_in_order: weakref.WeakKeyDictionary[N.Kernel, N.Kernel] = weakref.WeakKeyDictionary()  # -> its no_simd build


def _for_overlaps(backend: Backend, kernel: N.Kernel, args: dict[str, Any]) -> N.Kernel:
    """The kernel to build for these arguments: itself, or, when a written argument overlaps another one (two
    subviews of one buffer), its in-order build (no simd lanes, one thread: the order Debug runs iterations in)
    on host memory; on a GPU, whose threads run at once whatever the build, an error."""
    clash = coherence.overlapping(args, kernel)
    if clash is None:
        return kernel
    written, other = clash
    if not backend.place.host_backed:
        raise KernelValueError(
            f"arguments {written!r} and {other!r} of kernel {kernel.name!r} overlap in memory and the kernel writes "
            f"{written!r}: on {backend.name} its iterations run at the same time, so the result would depend on "
            "their order; pass arrays that do not overlap (e.g. a copy of one of them)",
            caller_loc(),
        )
    hit = _in_order.get(kernel)
    if hit is None:
        hit = _in_order[kernel] = dataclasses.replace(kernel, no_simd=True)
    return hit


# --- typing and lowering ------------------------------------------------------------------------------------


def guards_hold(guards: list[Guard]) -> bool:
    for g in guards:
        holder: Any = g.holder  # a closure cell (key None) or a globals dict
        try:
            cur = holder.cell_contents if g.key is None else holder.get(g.key, _MISSING)
        except ValueError:
            return False
        if cur is not g.value:
            return False
    return True


_MISSING = object()


def acc_hint(reducer: Any, init: Any) -> T.ScalarType | None:
    if init is None:
        return None
    v = init[0] if reducer is not None and reducer.with_loc and isinstance(init, tuple) else init
    st = scalar_type_of(v)
    if st is None:
        raise KernelTypeError(f"initial_value must be a number, got {type(init).__name__}", caller_loc())
    return st


def prepare(wu: Any, rec: Any, kwargs: dict[str, Any], device: bool = False) -> tuple[N.Kernel, list[Guard], dict]:
    """Lower `wu` for this launch (memoized per signature). Returns (kernel, guards, normalized kwargs)."""
    loc = caller_loc()
    types: dict[str, T.Type] = {}
    args: dict[str, object] = {}
    for name, value in kwargs.items():
        t, v = arg_type(name, value, loc, device)
        types[name] = t
        args[name] = v
    pattern, reducer, team = rec.pattern, rec.reducer, rec.is_team
    rank = 0 if team else rec.rank
    hint = acc_hint(reducer, rec.init) if pattern == "reduce" else None
    self_name = None
    for name in kwargs:
        if "." in name:  # ClassSty members ("self.x"): the workunit is a method of that object's class
            self_name = name.split(".", 1)[0]
            break
    else:
        if getattr(wu, "_owner", None) is not None:  # a method that reads no member: `self` is still first
            self_name = wu.py_function.__code__.co_varnames[0]
    key = (
        pattern,
        rank,
        team,
        reducer.name if reducer else None,
        hint,
        tuple(sorted(types.items(), key=lambda x: x[0])),
    )
    memo = wu._ir.get(key)
    if memo is None or not guards_hold(memo[1]):
        self_cls = getattr(wu, "_owner", None) if self_name is not None else None
        memo = lower_kernel(wu, Signature(pattern, rank, types, reducer, hint, self_name, self_cls, team))
        wu._ir[key] = memo
    kernel: N.Kernel = memo[0]
    for name in kernel.writes:
        writable_check(name, args[name], loc)
    return kernel, memo[1], args
