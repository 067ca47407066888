"""Hierarchical parallelism: TeamMember methods, scratch views, nested patterns over team ranges, `pk.single`,
and the nested workunits (inner `def`s) they inline, with Python's scoping (a name assigned in the nested
function is its own, renamed; `nonlocal` names and every other name read the enclosing scope)."""

from __future__ import annotations

import ast

from kernelkit.errors import KernelSyntaxError, KernelTypeError, KernelValueError
from kernelkit.frontend.base import CT, Closure, LowererBase, Per, ScratchHandle, handles, handles_methods
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T
from kernelkit.lang import annotations as A
from kernelkit.lang import reducers, registry
from kernelkit.lang.registry import Entry
from kernelkit.lang.team import ScratchViewType


class TeamMixin(LowererBase):
    """The team constructs; `team.team_rank()` and friends dispatch here on the TeamMember's IR type."""

    @handles_methods(T.TeamType)
    def team_method(self, team: N.Expr, node: ast.Call, statement: bool):
        if (
            node.func.attr in ("team_scratch", "thread_scratch")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value not in (0, 1)
        ):
            raise self.err(node.args[0], "the scratch level must be 0 or 1", KernelValueError)
        what = node.func.attr
        loc = self.loc(node)
        if what in ("league_rank", "league_size", "team_rank", "team_size"):
            self.exactly(node, 0)
            return N.TeamQuery(T.int64, loc, team, what)
        if what == "team_barrier":
            self.exactly(node, 0)
            if not statement:
                raise self.err(node, "team_barrier() is a statement", KernelSyntaxError)
            return N.Barrier(loc, team)
        if what in ("team_scratch", "thread_scratch"):
            (level,) = self.exactly(node, 1)
            if not level.type.is_int:
                raise self.err(node, "the scratch level is an integer (0 or 1)")
            return CT(ScratchHandle(team, self.cast(level, T.int64), what == "thread_scratch"))
        raise self.err(
            node,
            f"TeamMember has no method {what!r} in kernels (league_rank, league_size, "
            "team_rank, team_size, team_barrier, team_scratch, thread_scratch)",
        )

    @handles("scratch_view")
    def call_scratch_view(self, st, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        """`pk.ScratchView2D[pk.double](team.team_scratch(0), n0, n1)`; as in PyKokkos, the element type may come
        from the annotation instead (`s: pk.ScratchView1D[double] = pk.ScratchView1D(team.team_scratch(0), n)`),
        and with no extents at all it is empty."""
        dtype = st.dtype
        ann_node = getattr(self, "annotation_node", None)
        if dtype is None and ann_node is not None:
            ann = self.resolve_annotation_object(ann_node)
            if isinstance(ann, ScratchViewType) and ann.rank == st.rank:
                dtype = ann.dtype
        if dtype is None:
            raise self.err(node, f"give the element type: pk.ScratchView{st.rank}D[pk.double](...)")
        if len(node.args) not in (1, st.rank + 1):
            raise self.err(node, f"ScratchView{st.rank}D takes the scratch handle and {st.rank} extent(s)")
        handle = self.visit(node.args[0])
        if not (isinstance(handle, CT) and isinstance(handle.value, ScratchHandle)):
            raise self.err(node.args[0], "the first argument is team.team_scratch(level) or team.thread_scratch(level)")
        h = handle.value
        ext = []
        for a in node.args[1:]:
            e = self.scalar(self.expr(a), a, "extent")
            if not e.type.is_int:
                raise self.err(a, "extents are integers")
            ext.append(self.cast(e, T.int64))
        ext += [N.Const(T.int64, self.loc(node), 0)] * (st.rank - len(ext))
        vt = T.ViewType(dtype, st.rank, T.LAYOUT_RIGHT, scratch=True)
        return N.ScratchAlloc(vt, self.loc(node), h.team, h.level, h.per_thread, ext)

    def closure_of(self, node: ast.AST, what: str) -> ast.FunctionDef:
        c = self.visit(node)
        if not (isinstance(c, CT) and isinstance(c.value, Closure)):
            raise self.err(
                node, f"{what} takes a nested workunit: a `def` written inside this workunit", KernelSyntaxError
            )
        return c.value.node

    def enter_closure(self, fn: ast.FunctionDef, params: dict[str, T.Type]) -> dict[str, str]:
        """Rename the nested function's parameters and the locals it assigns (Python scoping: a name assigned in
        it is its own unless declared nonlocal); every other name reads the enclosing scope."""
        nonlocal_names = {n for st in ast.walk(fn) if isinstance(st, ast.Nonlocal) for n in st.names}
        assigned: set[str] = set()
        for st in _walk_own(fn):
            targets = []
            if isinstance(st, (ast.Assign,)):
                targets = st.targets
            elif isinstance(st, (ast.AugAssign, ast.AnnAssign, ast.For)):
                targets = [st.target]
            for t in targets:
                assigned.update(_bound_names(t))
        scope = {}
        for name in list(params) + sorted(assigned - nonlocal_names - set(params)):
            self._tmp += 1
            scope[name] = f"{name}_{self._tmp}"
        for name, t in params.items():
            self.locals[scope[name]] = t
        return scope

    def inline_closure(self, fn: ast.FunctionDef, params: dict[str, T.Type], kind: str) -> tuple[list, dict]:
        scope = self.enter_closure(fn, params)
        self.renames.append(scope)
        self.closures.append({})
        self.in_closure.append(kind)
        saved_depth, self.loop_depth = self.loop_depth, 0
        try:
            body = self.body(fn.body)
        finally:
            self.loop_depth = saved_depth
            self.in_closure.pop()
            self.closures.pop()
            self.renames.pop()
        return body, scope

    @handles("pattern")
    def call_nested(self, callee, entry: Entry, node: ast.Call, statement: bool):
        """`pk.parallel_for/reduce/scan(pk.TeamThreadRange(team, n), inner_def[, reducer])` inside a team kernel."""
        pattern = entry.name
        loc = self.loc(node)
        if node.keywords or len(node.args) < 2:
            raise self.err(
                node, f"nested parallel_{pattern}(policy, nested_workunit) inside a team workunit", KernelSyntaxError
            )
        pol = node.args[0]
        kind = self.visit(pol.func) if isinstance(pol, ast.Call) else None
        range_entry = registry.lookup(kind.value) if isinstance(kind, CT) else None
        if range_entry is None or range_entry.kind not in ("range", "mdrange"):
            raise self.err(
                pol,
                "a nested pattern takes pk.TeamThreadRange, pk.ThreadVectorRange, "
                "pk.TeamVectorRange or pk.TeamThreadMDRange",
            )
        team = self.expr(pol.args[0]) if pol.args else None
        if team is None or not isinstance(team.type, T.TeamType):
            raise self.err(pol, "the first argument of a nested range is the TeamMember")
        ext = []
        for a in pol.args[1:]:
            e = self.scalar(self.expr(a), a, "range bound")
            if not (e.type.is_int or e.type.is_bool):
                raise self.err(a, "range bounds are integers")
            ext.append(self.cast(e, T.int64))
        zero = N.Const(T.int64, loc, 0)
        level = range_entry.name
        if range_entry.kind == "mdrange":
            if not 2 <= len(ext) <= 3:
                raise self.err(pol, f"{kind.value.__name__}(team, n0, n1[, n2]) has rank 2 or 3")
            bounds = [(zero, e) for e in ext]
        elif len(ext) == 1:
            bounds = [(zero, ext[0])]
        elif len(ext) == 2:
            bounds = [(ext[0], ext[1])]
        else:
            raise self.err(pol, "a nested range is (team, n) or (team, begin, end)")
        fn = self.closure_of(node.args[1], f"parallel_{pattern}")
        reducer = reducers.Sum
        if len(node.args) > 2:
            r = self.visit(node.args[2])
            if pattern != "reduce" or not (isinstance(r, CT) and isinstance(r.value, reducers.Reducer)):
                raise self.err(node.args[2], "only a nested parallel_reduce takes a third argument: the reducer")
            reducer = r.value
        names = [a.arg for a in fn.args.args]
        need = len(bounds) + (1 if pattern == "reduce" else 2 if pattern == "scan" else 0)
        if len(names) != need or fn.args.vararg or fn.args.kwarg:
            raise self.err(
                fn,
                f"this nested workunit is used with parallel_{pattern} over {len(bounds)} "
                f"dimension(s): it must take {need} parameter(s)",
                KernelTypeError,
            )
        params: dict[str, T.Type] = {n: T.int64 for n in names[: len(bounds)]}
        acc_t = None
        if pattern != "for":
            ann_node = fn.args.args[len(bounds)].annotation
            ann = self.resolve_annotation(ann_node) if ann_node is not None else None
            dt = (
                ann.dtype
                if isinstance(ann, A.AccAnnotation) and ann.dtype
                else ann
                if isinstance(ann, T.ScalarType)
                else reducer.default
            )
            acc_t = T.LocType(dt) if reducer.with_loc else dt
            params[names[len(bounds)]] = acc_t
            if pattern == "scan":
                params[names[len(bounds) + 1]] = T.bool_
        body, scope = self.inline_closure(fn, params, "pattern")
        var = lambda n, t: N.Var(t, loc, scope[n])  # noqa: E731
        result = None
        if pattern != "for":
            result = N.Var(acc_t, loc, self.new_tmp(acc_t))
        nest = N.Nested(
            loc,
            pattern,
            level,
            team,
            bounds,
            [var(n, T.int64) for n in names[: len(bounds)]],
            var(names[len(bounds)], acc_t) if pattern != "for" else None,
            var(names[len(bounds) + 1], T.bool_) if pattern == "scan" else None,
            result,
            reducer.name if pattern == "reduce" else ("Sum" if pattern == "scan" else None),
            body,
        )
        if pattern == "for":
            if not statement:
                raise self.err(node, "a nested parallel_for has no value", KernelSyntaxError)
            return nest
        self.pending.append(nest)
        return result

    @handles("single")
    def call_single(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Stmt:
        """`pk.single(pk.PerTeam(team) | pk.PerThread(team), inner_def)`."""
        if len(node.args) != 2:
            raise self.err(node, "pk.single(pk.PerTeam(team) | pk.PerThread(team), nested_workunit)")
        per = self.visit(node.args[0])
        if not (isinstance(per, CT) and isinstance(per.value, Per)):
            raise self.err(node.args[0], "pk.single takes pk.PerTeam(team) or pk.PerThread(team) first")
        inner = self.closure_of(node.args[1], "pk.single")
        if inner.args.args:
            raise self.err(inner, "the nested workunit of pk.single takes no parameters (use nonlocal)")
        body, _ = self.inline_closure(inner, {}, "single")
        return N.Single(self.loc(node), per.value.per, per.value.team, body)

    @handles("per")
    def call_per(self, fn, entry: Entry, node: ast.Call, statement: bool) -> CT:
        (team,) = [self.expr(a) for a in node.args] if len(node.args) == 1 else (None,)
        if team is None or not isinstance(team.type, T.TeamType):
            raise self.err(node, f"pk.{fn.__name__}(team) takes the TeamMember")
        return CT(Per(entry.name, team))

    @handles("range", "mdrange")
    def call_range(self, fn, entry: Entry, node: ast.Call, statement: bool):
        raise self.err(
            node,
            f"pk.{fn.__name__}(...) is the policy of a nested pk.parallel_for/reduce/scan; it has "
            "no meaning on its own",
            KernelSyntaxError,
        )


def _bound_names(target: ast.AST) -> set[str]:
    """The names an assignment target binds (`x`, `a, b`), not those it only reads (`v[i] = ...`)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound_names(e) for e in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return set()


def _walk_own(fn: ast.FunctionDef):
    """The statements of a function, not descending into functions nested in it."""
    todo = list(fn.body)
    while todo:
        st = todo.pop()
        yield st
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for child in ast.iter_child_nodes(st):
            if isinstance(child, ast.stmt):
                todo.append(child)
