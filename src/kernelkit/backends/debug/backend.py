"""pk.Debug: kernels run sequentially as generated Python — the reference semantics and the test oracle."""

from __future__ import annotations

import itertools
import weakref

from kernelkit import _native
from kernelkit.backends.base import Backend
from kernelkit.backends.debug import runtime
from kernelkit.backends.debug.render import PyRenderer
from kernelkit.errors import KernelRuntimeError, KernelValueError
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T

MAX_TEAM_SIZE = 1 << 16  # threads of one emulated team (compiled spaces are limited by their hardware)


class _Compiled:
    def __init__(self, kernel: N.Kernel):
        r = PyRenderer(kernel)
        self.source = r.render()
        self.locs = r.locs
        self.filename = f"<kernelkit-debug {kernel.name} {id(self):x}>"
        ns = dict(runtime.NAMESPACE)
        exec(compile(self.source, self.filename, "exec"), ns)  # noqa: S102 - code we generated from the IR
        self.body = ns["kk_body"]
        self.kernel = kernel


class DebugBackend(Backend):
    name = "debug"
    interpreted = True
    spec_key = "debug"

    def available(self) -> tuple[bool, str]:
        return True, "pure-Python interpreter (sequential)"

    def execute(self, kernel: N.Kernel, rec, args: dict):
        """Run `kernel` over `rec`'s policy; `args` hold host arrays made current by the coherence layer. A
        whole-function Program runs once (rec is None) and returns its results as a list."""
        if isinstance(kernel, N.Program):
            return self._program(kernel, args)
        pattern, reducer, init = rec.pattern, rec.reducer, rec.init
        compiled = self._compiled.get(kernel)
        if compiled is None:
            compiled = self._compiled[kernel] = _Compiled(kernel)
        values = []
        for p in kernel.params:
            v = args[p.name]
            if isinstance(v, _native.ViewBase):
                v = v._array
            elif hasattr(v, "item") and not hasattr(v, "shape") or (hasattr(v, "ndim") and v.ndim == 0):
                v = v.item()  # NumPy scalars compute as Python numbers here, like the other literals
            values.append(v)
        body = compiled.body
        if rec.is_team:
            if rec.team_size > MAX_TEAM_SIZE:
                raise KernelValueError(
                    f"team_size {rec.team_size} is more than the Debug space emulates ({MAX_TEAM_SIZE} threads per "
                    "team, each a Python generator); use a smaller team or pk.AUTO"
                )
            try:
                return self._teams(kernel, compiled, rec, values, reducer, init)
            except KernelRuntimeError:
                raise
            except Exception as e:
                raise self._locate(e, compiled, None) from None
        if rec.rank == 1:
            points = ((i,) for i in range(rec.lo, rec.hi))
        else:
            points = itertools.product(*(range(a, b) for a, b in zip(rec.lo, rec.hi, strict=True)))
        point = None
        try:
            if pattern == "for":
                for point in points:
                    body(*point, *values)
                return None
            if pattern == "scan":
                acc = _zero(kernel.acc.type.dtype)
                for point in points:
                    acc = body(*point, acc, True, *values)
                return acc
            dtype = kernel.acc.type.val if isinstance(kernel.acc.type, T.LocType) else kernel.acc.type.dtype
            ident = reducer.identity(dtype)
            if reducer.with_loc:
                acc = list(ident)
                for point in points:
                    body(*point, acc, *values)
                result = (acc[0], acc[1])
                if init is not None:
                    result = reducer.join(tuple(init), result)
                return (_as(dtype, result[0]), int(result[1]))
            acc = ident
            for point in points:
                acc = body(*point, acc, *values)
            if init is not None:
                acc = reducer.join(init, acc)
            return _as(dtype, acc)
        except KernelRuntimeError:
            raise
        except Exception as e:
            raise self._locate(e, compiled, point) from None

    def __init__(self) -> None:
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Kernel | Program -> code

    def _program(self, program: N.Program, args: dict) -> list:
        from kernelkit.backends.debug.program import CompiledProgram, results

        compiled = self._compiled.get(program)
        if compiled is None:
            compiled = self._compiled[program] = CompiledProgram(program)
        values = []
        for p in program.params:
            v = args[p.name]
            if isinstance(v, _native.ViewBase):
                v = v._array
            elif hasattr(v, "item") and not hasattr(v, "shape") or (hasattr(v, "ndim") and v.ndim == 0):
                v = v.item()
            values.append(v)
        try:
            return results(program, compiled.run(*values))
        except KernelRuntimeError:
            raise
        except Exception as e:
            raise self._locate(e, compiled, None) from None

    def _teams(self, kernel, compiled, policy, values, reducer, init):
        """Run each team's threads as generators, advancing them together from barrier to barrier."""
        size = policy.team_size or 1  # AUTO: one thread per team
        total = None
        if kernel.pattern == "reduce":
            dtype = kernel.acc.type.val if isinstance(kernel.acc.type, T.LocType) else kernel.acc.type.dtype
            total = reducer.identity(dtype)
        for lr in range(policy.league_size):
            shared = runtime.TeamShared(size, policy.scratch_team, policy.scratch_thread)
            threads = []
            for r in range(size):
                handle = runtime.TeamHandle(lr, policy.league_size, r, size, policy.vector_length, shared)
                if kernel.pattern == "reduce":
                    ident = reducer.identity(dtype)
                    acc = list(ident) if reducer.with_loc else ident
                    threads.append((compiled.body(handle, acc, *values), acc))
                else:
                    threads.append((compiled.body(handle, *values), None))
            results = [None] * size
            live = set(range(size))
            while live:
                done = []
                for r in sorted(live):
                    gen = threads[r][0]
                    try:
                        next(gen)
                    except StopIteration as stop:
                        results[r] = stop.value
                        done.append(r)
                if done and len(done) != len(live):
                    raise KernelRuntimeError(
                        f"kernel {kernel.name!r}: the threads of team {lr} reached different numbers of barriers "
                        "(a team_barrier or nested reduction inside a branch that not every thread takes)",
                        kernel.loc,
                    )
                live.difference_update(done)
            if kernel.pattern == "reduce":
                for r in range(size):
                    v = threads[r][1] if reducer.with_loc else results[r]
                    total = reducer.join(total, tuple(v) if reducer.with_loc else v)
        if kernel.pattern != "reduce":
            return None
        if init is not None:
            total = reducer.join(tuple(init) if reducer.with_loc else init, total)
        if reducer.with_loc:
            return (_as(dtype, total[0]), int(total[1]))
        return _as(dtype, total)

    def _locate(self, e: Exception, compiled: _Compiled, point) -> Exception:
        tb = e.__traceback__
        loc = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == compiled.filename:
                line = tb.tb_lineno
                if 0 < line <= len(compiled.locs) and compiled.locs[line - 1] is not None:
                    loc = compiled.locs[line - 1]
            tb = tb.tb_next
        what = "index out of bounds" if isinstance(e, (IndexError, runtime.OutOfBounds)) else type(e).__name__
        at = "" if point is None else f" at index {point[0] if len(point) == 1 else point}"
        unit = getattr(compiled, "kernel", None) or compiled.program
        err = KernelRuntimeError(f"kernel {unit.name!r} failed{at} ({what}: {e})", loc)
        return err


def _zero(t: T.ScalarType):
    return 0.0 if t.is_float else (False if t.is_bool else 0)


def _as(t: T.ScalarType, v):
    if t.is_float:
        return float(v)
    if t.is_bool:
        return bool(v)
    return int(v)
