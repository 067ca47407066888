"""PyOMP's `with openmp("...")` blocks lowered to the program IR (a mixin of loops.lower.ProgramLowerer).

- Loop constructs (`parallel for`, `for` inside a parallel region, `target teams distribute parallel for`, ...)
  over one `range` loop become a ParallelFor: the same node, and the same C++, as a `pk.prange` loop, with the
  directive's reductions, `schedule`, `collapse`, `num_threads`, `if`; `for` inside a region is a worksharing
  loop (`omp for`: an implicit barrier unless `nowait`).
- `parallel` (and `teams`) become Region("parallel") with PyOMP's data sharing: a variable the block assigns is
  private when the directive says so, or when it is first assigned in the block and not read after it;
  otherwise it is shared. `single`, `master`, `critical` (named ones independent), `barrier`, `task`
  (variables private to the enclosing region are captured firstprivate) and `taskwait` are Regions of their kind.
- Private copies are new locals: `private(x)` renames `x` inside the block, so the `x` outside keeps its value
  (also on Debug, which runs every construct once, in order); `firstprivate(x)` copies `x` into the new local
  first; `reduction(op: x)` in a region starts the copy at the operator's identity and joins it into `x` in a
  critical section at the end.
- `target` constructs are transparent: their loops run on host threads, or (njit picks the space) on pk.Cuda
  when a GPU is the device; `target data` and `map` change nothing here, because the coherence of kernelkit's
  arrays moves data once per call.
- `omp_*` runtime calls become ThreadQuery nodes (the device queries are constants of the specialization).
"""

from __future__ import annotations

import ast

from kernelkit.errors import KernelSyntaxError
from kernelkit.frontend.base import Guard
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T
from kernelkit.loops import directives as D
from kernelkit.loops.pragmas import Pragma

FLOAT_QUERIES = ("get_wtime", "get_wtick")
IDENTITY = {"+": 0, "*": 1, "&": -1, "|": 0, "^": 0, "&&": 1, "||": 0}


def _assigned_names(stmts: list[ast.stmt]) -> list[str]:
    """Names a block assigns (in order of first assignment), nested blocks included."""
    out: dict[str, None] = {}
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.setdefault(n.id, None)
    return list(out)


def _used_names(stmts: list[ast.stmt]) -> set[str]:
    return {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name)}


class OpenmpLowering:
    """The `with openmp(...)` part of ProgramLowerer (whose methods it uses: body, expr, rn, renames, ...)."""

    # set by ProgramLowerer.__init__
    omp_strings: dict
    omp_stack: list  # enclosing constructs: (kind, {original name: private copy})
    omp_gpu: list  # enclosing target constructs: True when it runs on a GPU

    # ------------------------------------------------------------------------------------------ entry

    def visit_With(self, node: ast.With):
        if len(node.items) != 1:
            raise self.err(node, "`with` takes one openmp(...) directive", KernelSyntaxError)
        item = node.items[0]
        call = item.context_expr
        fn = self.static_value(call.func) if isinstance(call, ast.Call) else None
        if not getattr(fn, "_kk_openmp", False):
            raise self.err(
                node,
                '`with` is not supported in compiled functions, except OpenMP directives: with openmp("...")',
                KernelSyntaxError,
            )
        if item.optional_vars is not None or call.keywords or len(call.args) != 1:
            raise self.err(node, 'write with openmp("directive"): one string, no `as`', KernelSyntaxError)
        d = D.parse(self._directive_text(call.args[0], node), self.loc(node))
        return self.omp_construct(d, node)

    def _directive_text(self, arg: ast.expr, node: ast.With) -> str:
        line = node.lineno
        if isinstance(arg, ast.Constant):
            if isinstance(arg.value, str):
                return arg.value
            raise self.err(node, f"Non-string OpenMP specification at line {line}", D.NonStringOpenmpSpecification)
        if isinstance(arg, ast.Name):
            if arg.id in self.omp_strings:
                text = self.omp_strings[arg.id]
                if text is None:
                    raise self.err(
                        node, f"Non-constant OpenMP specification at line {line}", D.NonconstantOpenmpSpecification
                    )
                return text
            if not self.is_local(arg.id):
                v = self._captured_str(arg.id)
                if isinstance(v, str):
                    return v
            raise self.err(node, f"Non-string OpenMP specification at line {line}", D.NonStringOpenmpSpecification)
        raise self.err(node, f"Non-constant OpenMP specification at line {line}", D.NonconstantOpenmpSpecification)

    def _captured_str(self, name: str):
        """The string a closure variable or global names (a directive built outside: f"target device({d})"),
        guarded like every captured value: rebinding it recompiles."""
        fn = self.fn
        code = fn.__code__
        if name in code.co_freevars and fn.__closure__:
            cell = fn.__closure__[code.co_freevars.index(name)]
            try:
                value = cell.cell_contents
            except ValueError:
                return None
            if isinstance(value, str):
                self.ctx.guard(Guard(cell, None, value))
            return value
        if name in fn.__globals__:
            value = fn.__globals__[name]
            if isinstance(value, str):
                self.ctx.guard(Guard(fn.__globals__, name, value))
            return value
        return None

    def omp_string_assign(self, node: ast.stmt) -> bool:
        """`ovar = "parallel for"` (a directive named by a local): remembered, not lowered. A string local
        assigned again is not a constant directive."""
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                name = node.targets[0].id
                self.omp_strings[name] = None if name in self.omp_strings else node.value.value
                return True
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id in self.omp_strings:
            self.omp_strings[node.target.id] = None
            return True
        return False

    # ------------------------------------------------------------------------------------------ constructs

    def omp_construct(self, d: D.Directive, node: ast.With):
        k = d.kind
        loc = self.loc(node)
        if k in ("barrier", "taskwait", "taskyield"):
            out: list[N.Stmt] = [] if k == "taskyield" else [N.Region(loc, k, {}, [])]
            return out + self.body(node.body)  # `with openmp("taskwait"): r = ...` runs the block after it
        gpu = None
        before: list[N.Stmt] = []
        scoped = False
        if d.target:
            gpu = self._target_is_gpu(d, node)
            self.omp_gpu.append(gpu)
            if k not in ("target data", "target enter data", "target exit data", "target update"):
                scope, before = self._target_scope(d, node)
                self.renames.append(scope)
                scoped = True
        try:
            return before + self._construct(d, node, gpu)
        finally:
            if scoped:
                self.renames.pop()
            if gpu is not None:
                self.omp_gpu.pop()

    def _target_scope(self, d: D.Directive, node: ast.With) -> tuple[dict[str, str], list[N.Stmt]]:
        """A target region's scalars are firstprivate unless mapped `from`/`tofrom` (OpenMP's implicit rule):
        assignments inside it do not reach the host's variable."""
        mapped = {n for kind, n in d.maps if kind in ("from", "tofrom")} | set(d.shared)
        mapped |= {n for n, _ in d.reductions}
        loc = self.loc(node)
        scope: dict[str, str] = {}
        before: list[N.Stmt] = []
        for n in _assigned_names(node.body):
            t = self._type_of(n)
            if n in mapped or not isinstance(t, T.ScalarType) or n in self.omp_strings:
                continue
            scope[n] = self._fresh(n)
            self.locals[scope[n]] = t
            before.append(N.Assign(loc, N.Var(t, loc, scope[n]), N.Var(t, loc, self.rn(n))))
        return scope, before

    def _construct(self, d: D.Directive, node: ast.With, gpu) -> list[N.Stmt]:
        k = d.kind
        on_gpu = bool(self.omp_gpu and self.omp_gpu[-1])
        if d.loop:
            if gpu and self.omp_in_region():
                raise self.err(node, "a GPU target loop inside a parallel region", KernelSyntaxError)
            return self.omp_loop(d, node)
        if k in ("target data", "target enter data", "target exit data", "target update"):
            return self.body(node.body)  # data moves once per call (coherence): nothing to do here
        if k == "target":
            return self.body(node.body)
        if k in ("parallel", "teams", "target parallel", "target teams"):
            if on_gpu:
                raise self.err(
                    node,
                    f"`{k}` on a GPU target: kernelkit runs GPU target work as loops; write the loop as "
                    '`with openmp("target teams distribute parallel for")`',
                    KernelSyntaxError,
                )
            return self.omp_region(d, node, "parallel")
        if k in ("single", "master", "masked", "critical", "task"):
            return self.omp_region(d, node, "master" if k == "masked" else k)
        raise self.err(node, f"the OpenMP directive {k!r} is not supported here", KernelSyntaxError)

    def omp_in_region(self) -> bool:
        return any(kind == "parallel" for kind, _ in self.omp_stack)

    def _target_is_gpu(self, d: D.Directive, node: ast.With) -> bool:
        if not getattr(self.options, "gpu", False):
            return False
        dev = d.exprs.get("device")
        if dev is None:
            return True
        if isinstance(dev, ast.Constant) and isinstance(dev.value, int):
            return 0 <= dev.value < self.options.devices
        if isinstance(dev, ast.Call) and getattr(self.static_value(dev.func), "_kk_omp", "") == "get_initial_device":
            return False
        raise self.err(
            node, "device(...) of a target construct must be a constant or omp_get_initial_device()", KernelSyntaxError
        )

    # ------------------------------------------------------------------------------------------ data sharing

    def _fresh(self, name: str) -> str:
        self._tmp += 1
        return f"{name}_omp{self._tmp}"

    def _type_of(self, name: str):
        name = self.rn(name)
        return self.locals.get(name, self.params.get(name))

    def _default_none(self, d: D.Directive, node: ast.With, extra: set[str]) -> None:
        if d.default != "none":
            return
        named = set(d.private) | set(d.firstprivate) | set(d.lastprivate) | set(d.shared) | extra
        named |= {n for n, _ in d.reductions}
        assigned = set(_assigned_names(node.body))
        missing = sorted(
            n
            for n in _used_names(node.body)
            if n not in named and (self.is_local(n) or n in assigned) and n not in self.omp_strings
        )
        if missing:
            raise self.err(
                node,
                f"Variables with no data env clause in `{d.text}` (default(none)): {', '.join(missing)}",
                D.UnspecifiedVarInDefaultNone,
            )

    def _live_after(self, node: ast.With) -> set[str]:
        """Names read after the block (anywhere later in the function): a variable the block assigns and the
        rest of the function reads is shared, as PyOMP decides."""
        end = node.end_lineno or node.lineno
        return {
            n.id
            for n in ast.walk(self.src.tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.lineno > end
        }

    def omp_region(self, d: D.Directive, node: ast.With, kind: str) -> list[N.Stmt]:
        loc = self.loc(node)
        assigned = _assigned_names(node.body)
        reds = dict(d.reductions)
        private = list(dict.fromkeys(d.private))
        first = list(dict.fromkeys(d.firstprivate))
        explicit = set(private) | set(first) | set(d.shared) | set(reds) | set(d.lastprivate)
        self._default_none(d, node, set())
        if kind == "parallel":
            live = self._live_after(node)
            for n in assigned:
                if n not in explicit and not self.is_local(n) and n not in live and n not in self.omp_strings:
                    private.append(n)  # first assigned in the region, not read after it
        elif kind == "task":
            region_private = {orig for _, scope in self.omp_stack for orig in scope}
            live = self._live_after(node)
            for n in assigned:
                if n in explicit or n in self.omp_strings:
                    continue
                if self.is_local(n) and (n in region_private or not self.omp_in_region()):
                    first.append(n)  # private where the task is made: captured by value
                elif not self.is_local(n) and n not in live:
                    private.append(n)
        elif kind == "single":
            pass
        scope: dict[str, str] = {}
        before: list[N.Stmt] = []
        for n in private + first + list(reds):
            if n in scope:
                continue
            scope[n] = self._fresh(n)
        for n in first:
            t = self._type_of(n)
            if t is None:
                raise self.err(node, f"firstprivate({n}): {n!r} has no value before the construct")
            if isinstance(t, T.ViewType):
                del scope[n]  # an array's elements are shared; the array itself cannot be reassigned here
                continue
            self.locals[scope[n]] = t
            before.append(N.Assign(loc, N.Var(t, loc, scope[n]), N.Var(t, loc, self.rn(n))))
        head: list[N.Stmt] = []
        tail: list[N.Stmt] = []
        for n, op in reds.items():
            t = self._type_of(n)
            if not isinstance(t, T.ScalarType):
                raise self.err(node, f"reduction variable {n!r} must be a number assigned before the construct")
            if op in ("min", "max"):
                ident: N.Expr = N.Var(t, loc, self.rn(n))  # starting from the value itself is the same join
            else:
                ident = N.Const(t, loc, IDENTITY[op] if not t.is_float else float(IDENTITY[op]))
            self.locals[scope[n]] = t
            head.append(N.Assign(loc, N.Var(t, loc, scope[n]), ident))
            orig, mine = N.Var(t, loc, self.rn(n)), N.Var(t, loc, scope[n])
            if op in ("min", "max"):
                fn = N.Select(t, loc, N.BinOp(T.bool_, loc, "<" if op == "min" else ">", mine, orig), mine, orig)
                join: N.Expr = fn
            elif op in ("&&", "||"):
                join = N.Cast(t, loc, N.BinOp(T.bool_, loc, op, orig, mine))
            else:
                join = N.BinOp(t, loc, op, orig, mine)
            tail.append(N.Assign(loc, N.Var(t, loc, self.rn(n)), join))
        self.renames.append(scope)
        self.omp_stack.append((kind, scope))
        self.par_depth += 1
        try:
            body = self.body(node.body)
        finally:
            self.par_depth -= 1
            self.omp_stack.pop()
            self.renames.pop()
        clauses: dict = {}
        if kind == "critical" and d.name:
            clauses["name"] = d.name
        for key in ("num_threads", "if"):
            if key in d.exprs:
                clauses[key] = self.scalar(self.expr(d.exprs[key]), d.exprs[key], key)
        priv = [scope[n] for n in private if n in scope] + [scope[n] for n in reds]
        fp = [scope[n] for n in first if n in scope]
        if priv:
            clauses["private"] = priv
        if fp:
            clauses["firstprivate"] = fp
        if d.nowait:
            clauses["nowait"] = True
        if tail:
            body = head + body + [N.Region(loc, "critical", {"name": "kk_reduction"}, tail)]
        return before + [N.Region(loc, kind, clauses, body)]

    # ------------------------------------------------------------------------------------------ loops

    def omp_loop(self, d: D.Directive, node: ast.With) -> list[N.Stmt]:
        line = node.lineno
        stmts = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        fors = [s for s in stmts if isinstance(s, ast.For)]
        if len(fors) != 1:
            raise self.err(
                node,
                f"OpenMP parallel for regions must contain exactly one for loop (`{d.text}` at line {line})",
                D.ParallelForWrongLoopCount,
            )
        if len(stmts) != 1:
            raise self.err(
                node,
                f"Extra code near line {line}: a `{d.text}` block holds its for loop only",
                D.ParallelForExtraCode,
            )
        loop = fors[0]
        if self.loop_kind(loop.iter) not in ("range", "prange"):
            raise self.err(loop, f"`{d.text}` needs a loop over range(...)", KernelSyntaxError)
        if loop.orelse:
            raise self.err(loop, "`for ... else` is not supported", KernelSyntaxError)
        loc = self.loc(node)
        # `for` / `loop` share the iterations among the enclosing region's threads; outside a region they make
        # their own team (an orphaned `for` has a team of one: the same results)
        worksharing = d.kind in ("for", "for simd", "loop") and self.omp_in_region()
        loop_vars = set()
        inner: ast.stmt = loop
        for _ in range(d.collapse):
            if not isinstance(inner, ast.For):
                raise self.err(node, f"collapse({d.collapse}) needs {d.collapse} perfectly nested loops")
            if isinstance(inner.target, ast.Name):
                loop_vars.add(inner.target.id)
            inner = inner.body[0] if len(inner.body) == 1 else None  # type: ignore[assignment]
        self._default_none(d, node, loop_vars)
        body_assigned = set(_assigned_names(loop.body))
        scope: dict[str, str] = {}
        before: list[N.Stmt] = []
        for n in dict.fromkeys(d.private):
            if n not in loop_vars:
                scope[n] = self._fresh(n)
        for n in dict.fromkeys(d.firstprivate):
            if n in loop_vars or n not in body_assigned:
                continue  # read only: every iteration sees the value before the loop
            t = self._type_of(n)
            if not isinstance(t, T.ScalarType):
                continue
            scope[n] = self._fresh(n)
            self.locals[scope[n]] = t
            before.append(N.Assign(loc, N.Var(t, loc, scope[n]), N.Var(t, loc, self.rn(n))))
        # variables written under mutual exclusion inside the loop body are shared, not private copies
        critical: set[str] = set()
        for s in ast.walk(loop):
            if isinstance(s, ast.With):
                try:
                    kind = self._peek_kind(s)
                except KernelSyntaxError:
                    kind = ""
                if kind in ("critical", "single", "master"):
                    critical |= set(_assigned_names(s.body))
        prag = Pragma(
            "parallel",
            d.text,
            loc,
            simd="simd" in d.kind.split(),
            shared=[self.rn(n) for n in d.shared]
            + [self.rn(n) for n in sorted(critical - set(d.private) - {n for n, _ in d.reductions})],
            reductions=[(self.rn(n), op) for n, op in d.reductions],
        )
        omp: dict = {"fork": True}
        if d.schedule:
            prag.schedule = d.schedule
            if d.chunk is not None:
                if isinstance(d.chunk, ast.Constant) and isinstance(d.chunk.value, int):
                    prag.schedule += f",{d.chunk.value}"
                else:
                    omp["chunk"] = self.cast(self.scalar(self.expr(d.chunk), d.chunk, "chunk size"), T.int64)
        for key in ("num_threads", "if"):
            if key in d.exprs:
                omp[key] = self.scalar(self.expr(d.exprs[key]), d.exprs[key], key)
        if worksharing:
            omp["worksharing"] = True
            if d.nowait:
                omp["nowait"] = True
        self.renames.append(scope)
        self.omp_stack.append(("for", scope))
        try:
            pf = self.parallel_loop(loop, prag, prag.simd, collapse=d.collapse)
        finally:
            self.omp_stack.pop()
            self.renames.pop()
        pf.omp = omp
        if worksharing:  # a region's private variable is already each thread's own: no copy in or out
            mine = {v for kind, scope in self.omp_stack if kind == "parallel" for v in scope.values()}
            pf.private = [n for n in pf.private if n not in mine]
        return before + [pf]

    def _peek_kind(self, s: ast.With) -> str:
        item = s.items[0] if len(s.items) == 1 else None
        call = item.context_expr if item is not None else None
        if not isinstance(call, ast.Call) or not call.args:
            return ""
        fn = self.static_value(call.func)
        if not getattr(fn, "_kk_openmp", False):
            return ""
        return D.parse(self._directive_text(call.args[0], s), self.loc(s)).kind

    # ------------------------------------------------------------------------------------------ omp_* calls

    def omp_call(self, what: str, node: ast.Call, statement: bool):
        loc = self.loc(node)
        if node.keywords:
            raise self.err(node, f"omp_{what}() takes positional arguments", KernelSyntaxError)
        args = [self.cast(self.scalar(self.expr(a), a), T.int64) for a in node.args]
        ndev = int(getattr(self.options, "devices", 0))
        on_gpu = bool(self.omp_gpu and self.omp_gpu[-1])
        consts = {
            "get_num_devices": ndev,
            "get_initial_device": ndev,
            "is_initial_device": 0 if on_gpu else 1,
            "get_device_num": 0 if on_gpu else ndev,
        }
        if what in consts:
            return N.Const(T.int64, loc, consts[what])
        if what == "get_default_device":
            return N.Const(T.int64, loc, 0 if ndev else ndev)
        if what in ("set_default_device",):
            return N.Const(T.int64, loc, 0) if not statement else None
        t = T.float64 if what in FLOAT_QUERIES else T.int64
        q = N.ThreadQuery(t, loc, what, args)
        return N.ExprStmt(loc, q) if statement else q
