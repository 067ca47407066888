"""Expressions: constants, names, attributes (View extents, classtype fields, MinLoc/MaxLoc results), subscripts
and subviews, arithmetic with NumPy's promotion rules (Python literals are weak: they adopt the other operand's
type), comparisons, `and`/`or` (short-circuit kept when the right side runs statements), conditional expressions.
"""

from __future__ import annotations

import ast

import numpy as np

from kernelkit.errors import KernelSyntaxError, KernelValueError
from kernelkit.frontend.base import CT, LowererBase, Method, ViewAttr, describe, is_pk_function, scalar_type_of, tname
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T

BIN_OPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
CMP_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


class ExpressionsMixin(LowererBase):
    """One `visit_<Node>` per expression, and the View indexing they share with statements."""

    def visit_Constant(self, node: ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return N.Const(T.bool_, self.loc(node), v)
        if isinstance(v, int):
            if not -(1 << 63) <= v < (1 << 64):
                raise self.err(node, f"integer literal {v} does not fit in 64 bits", KernelValueError)
            return N.Const(T.int64 if v < (1 << 63) else T.uint64, self.loc(node), v, weak=True)
        if isinstance(v, float):
            return N.Const(T.float64, self.loc(node), v, weak=True)
        if isinstance(v, str):
            raise self.err(node, "strings are only allowed as the format of pk.printf(...)", KernelSyntaxError)
        raise self.err(node, f"constant {v!r} is not supported in kernels", KernelSyntaxError)

    def visit_Name(self, node: ast.Name):
        return self.lookup(node.id, node)

    def visit_Attribute(self, node: ast.Attribute):
        if self.self_name and isinstance(node.value, ast.Name) and node.value.id == self.self_name:
            key = f"{self.self_name}.{node.attr}"
            if key in self.params:
                return N.Var(self._value_type(self.params[key]), self.loc(node), key)
            member = getattr(self.self_cls, node.attr, None)
            if is_pk_function(member):
                return CT(Method(member))
            raise self.err(
                node,
                f"member {node.attr!r} of {self.self_cls.__name__} is not available in kernels "
                "(members are the Views and numbers set in __init__)",
            )
        base = self.visit(node.value)
        if isinstance(base, CT):
            try:
                value = getattr(base.value, node.attr)
            except AttributeError:
                raise self.err(node, f"{describe(base.value)} has no attribute {node.attr!r}") from None
            st = scalar_type_of(value)
            if st is not None:
                return N.Const(st, self.loc(node), value.item() if isinstance(value, np.generic) else value)
            return CT(value)
        if isinstance(base.type, T.LocType) and node.attr in ("val", "loc"):
            return N.Field(base.type.val if node.attr == "val" else base.type.loc, self.loc(node), base, node.attr)
        if isinstance(base.type, T.StructType):
            ft = base.type.fields.get(node.attr)
            if ft is None:
                raise self.err(
                    node,
                    f"{base.type.pyname} has no field {node.attr!r} (fields: "
                    f"{', '.join(base.type.fields) or 'none yet'})",
                )
            return N.Field(ft, self.loc(node), base, node.attr)
        if isinstance(base.type, T.ViewType) and node.attr in ("shape", "extent", "ndim"):
            if node.attr == "ndim":
                return N.Const(T.int64, self.loc(node), base.type.rank)
            return ViewAttr(base, node.attr)
        hint = ""
        if node.attr in ("league_rank", "league_size", "team_rank", "team_size", "team_barrier", "team_scratch"):
            hint = " (a team workunit is launched with pk.TeamPolicy, not a range policy)"
        raise self.err(node, f"{tname(base.type)} has no attribute {node.attr!r} in kernels{hint}")

    def visit_Subscript(self, node: ast.Subscript):
        try:
            return self._subscript(node)
        except SubviewRequest as req:
            return self.subview(req.view, req.index_nodes, node)

    def subview(self, view: N.Expr, index_nodes: list, node: ast.AST) -> N.Expr:
        """A strided View into `view`: integer indices drop a dimension, slices (`:`, `a:b`) keep it."""
        vt = view.type
        if len(index_nodes) > vt.rank:
            raise self.err(
                node, f"{view.name!r} has rank {vt.rank} but the subview names {len(index_nodes)} dimensions"
            )
        index_nodes = list(index_nodes) + [ast.Slice()] * (vt.rank - len(index_nodes))
        spec = []
        for ix in index_nodes:
            if isinstance(ix, ast.Slice):
                if ix.step is not None:
                    raise self.err(ix, "subviews inside kernels take unit-step slices")
                b = self.cast(self.scalar(self.expr(ix.lower), ix.lower), T.int64) if ix.lower else None
                e = self.cast(self.scalar(self.expr(ix.upper), ix.upper), T.int64) if ix.upper else None
                spec.append(("range", b, e))
                continue
            v = self.visit(ix)
            if isinstance(v, CT) and v.value == slice(None):
                spec.append(("range", None, None))
                continue
            e = self.scalar(self.expr(ix), ix, "index")
            if not (e.type.is_int or e.type.is_bool):
                raise self.err(ix, f"an index must be an integer, got {e.type.name}")
            spec.append(("index", self.cast(e, T.int64)))
        rank = sum(1 for s in spec if s[0] == "range")
        if rank == 0:
            raise self.err(node, "a subview keeps at least one dimension (index every dimension for an element)")
        st = T.ViewType(vt.dtype, rank, T.LAYOUT_STRIDE, atomic=vt.atomic)
        return N.SubView(st, self.loc(node), view, spec)

    def _subscript(self, node: ast.Subscript):
        inner = node.value
        if self.is_local_list(inner):
            return self.list_load(node)  # frontend/lists.py
        if not isinstance(inner, ast.Subscript):
            base = self.visit(inner)
            if isinstance(base, CT):  # a compile-time object: pk.ScratchView1D[pk.double], pk.Acc[int], ...
                key = self.visit(node.slice)
                if isinstance(key, CT):
                    try:
                        return CT(base.value[key.value])
                    except (TypeError, KeyError, IndexError) as e:
                        raise self.err(node, f"cannot index {describe(base.value)}: {e}") from None
        if isinstance(inner, ast.Attribute) and inner.attr == "shape":
            base = self.visit(inner)
            if isinstance(base, ViewAttr):
                return self.extent(base.view, node.slice, node)
        view, index = self.view_index(node, allow_subview=True)
        return N.Load(view.type.dtype, self.loc(node), view, index)

    def view_index(self, node: ast.Subscript, allow_subview: bool = False) -> tuple[N.Expr, list[N.Expr]]:
        """`v[i, j]` and `v[i][j]`: the View and its full index list."""
        chain: list[ast.AST] = []
        base: ast.AST = node
        while isinstance(base, ast.Subscript):
            chain.append(base.slice)
            base = base.value
        view = self.visit(base)
        if isinstance(view, CT) or not isinstance(view.type, T.ViewType):
            what = describe(view.value) if isinstance(view, CT) else tname(view.type)
            raise self.err(base, f"{what} cannot be indexed in a kernel")
        index_nodes: list[ast.AST] = []
        for s in reversed(chain):
            index_nodes.extend(s.elts if isinstance(s, ast.Tuple) else [s])
        if any(isinstance(ix, ast.Slice) for ix in index_nodes) or any(
            isinstance(self.visit(ix), CT) and self.visit(ix).value == slice(None)
            for ix in index_nodes
            if isinstance(ix, (ast.Attribute, ast.Name))
        ):
            if not allow_subview:
                raise self.err(
                    node,
                    "assigning to a slice is not supported inside kernels; loop over the elements",
                    KernelSyntaxError,
                )
            raise SubviewRequest(view, index_nodes)
        index = []
        for ix in index_nodes:
            if isinstance(ix, ast.Slice):
                raise self.err(
                    ix, "slicing is not supported inside kernels; index one element at a time", KernelSyntaxError
                )
            e = self.scalar(self.expr(ix), ix, "index")
            if not (e.type.is_int or e.type.is_bool):
                raise self.err(ix, f"an index must be an integer, got {e.type.name}")
            index.append(self.cast(e, T.int64))
        rank = view.type.rank
        if len(index) != rank:
            raise self.err(
                node,
                f"{view.name!r} has rank {rank} but is indexed with {len(index)} "
                f"index{'es' if len(index) != 1 else ''}",
            )
        return view, index

    def extent(self, view: N.Expr, dim_node: ast.AST, node: ast.AST) -> N.Expr:
        d = self.expr(dim_node)
        if not isinstance(d, N.Const) or not isinstance(d.value, int) or isinstance(d.value, bool):
            raise self.err(dim_node, "the dimension of extent()/shape[] must be an integer constant")
        if not 0 <= d.value < view.type.rank:
            raise self.err(
                dim_node,
                f"dimension {d.value} is out of range for rank-{view.type.rank} View {view.name!r}",
                KernelValueError,
            )
        return N.Extent(T.int64, self.loc(node), view, d.value)

    def visit_BinOp(self, node: ast.BinOp):
        op = BIN_OPS.get(type(node.op))
        if op is None:
            raise self.err(node, f"operator `{type(node.op).__name__}` is not supported in kernels", KernelSyntaxError)
        return self.binop(op, self.expr(node.left), self.expr(node.right), node)

    def binop(self, op: str, a: N.Expr, b: N.Expr, node: ast.AST) -> N.Expr:
        self.scalar(a, node, "operand")
        self.scalar(b, node, "operand")
        loc = self.loc(node)
        weak = isinstance(a, N.Const) and a.weak and isinstance(b, N.Const) and b.weak
        if op in ("<<", ">>", "&", "|", "^"):
            if a.type.is_float or b.type.is_float:
                raise self.err(node, f"operator {op} needs integers, got {a.type.name} and {b.type.name}")
            if op in ("&", "|", "^") and a.type.is_bool and b.type.is_bool:
                return N.BinOp(T.bool_, loc, op, a, b)
            t = self.unify(a, b)
            t = T.int64 if t.is_bool else t
            return N.BinOp(t, loc, op, self.cast(a, t), self.cast(b, t))
        t = self.unify(a, b)
        if t.is_bool:
            t = T.int64
        if op == "/":
            t = t if t.is_float else T.float64
        r = N.BinOp(t, loc, op, self.cast(a, t), self.cast(b, t))
        if weak:
            return N.Const(t, loc, _fold(op, a.value, b.value, t), weak=True) if _foldable(op, b.value) else r
        return r

    def visit_UnaryOp(self, node: ast.UnaryOp):
        e = self.scalar(self.expr(node.operand), node.operand, "operand")
        loc = self.loc(node)
        if isinstance(node.op, ast.Not):
            return N.UnaryOp(T.bool_, loc, "not", self.truth(e, node.operand))
        if isinstance(node.op, ast.USub):
            if isinstance(e, N.Const):
                return N.Const(e.type, loc, -e.value, weak=e.weak)
            t = T.int64 if e.type.is_bool else e.type
            return N.UnaryOp(t, loc, "-", self.cast(e, t))
        if isinstance(node.op, ast.UAdd):
            return e
        if isinstance(node.op, ast.Invert):
            if e.type.is_float:
                raise self.err(node, "operator ~ needs an integer")
            t = T.int64 if e.type.is_bool else e.type
            return N.UnaryOp(t, loc, "~", self.cast(e, t))
        raise self.err(node, f"unary `{type(node.op).__name__}` is not supported", KernelSyntaxError)

    def visit_Compare(self, node: ast.Compare):
        result = None
        left = self.scalar(self.expr(node.left), node.left, "operand")
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            op = CMP_OPS.get(type(op_node))
            if op is None:
                raise self.err(
                    node, f"comparison `{type(op_node).__name__}` is not supported in kernels", KernelSyntaxError
                )
            right = self.scalar(self.expr(right_node), right_node, "operand")
            t = self.unify(left, right)
            c = N.Compare(T.bool_, self.loc(node), op, self.cast(left, t), self.cast(right, t))
            result = c if result is None else N.Logical(T.bool_, self.loc(node), "and", result, c)
            left = right
        return result

    def visit_BoolOp(self, node: ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        loc = self.loc(node)
        result = self.truth(self.expr(node.values[0]), node.values[0])
        for v_node in node.values[1:]:
            saved, self.pending = self.pending, []
            v = self.truth(self.expr(v_node), v_node)
            inner, self.pending = self.pending, saved
            if not inner:
                result = N.Logical(T.bool_, loc, op, result, v)
                continue
            # the right operand runs statements (a nested reduction): keep Python's short-circuit
            t = N.Var(T.bool_, loc, self.new_tmp(T.bool_))
            self.pending.append(N.Assign(loc, t, result))
            cond = t if op == "and" else N.UnaryOp(T.bool_, loc, "not", t)
            self.pending.append(N.If(loc, cond, inner + [N.Assign(loc, t, v)], []))
            result = t
        return result

    def visit_IfExp(self, node: ast.IfExp):
        cond = self.truth(self.expr(node.test), node.test)
        a = self.scalar(self.expr(node.body), node.body)
        b = self.scalar(self.expr(node.orelse), node.orelse)
        t = self.unify(a, b)
        return N.Select(t, self.loc(node), cond, self.cast(a, t), self.cast(b, t))


class SubviewRequest(Exception):
    """Raised inside view_index when the subscript has slices: the caller builds a SubView instead."""

    def __init__(self, view, index_nodes):
        self.view = view
        self.index_nodes = index_nodes


def _foldable(op: str, b) -> bool:
    return (
        not (op in ("/", "//", "%") and b == 0)
        and not (op == "**" and isinstance(b, int) and b < 0)
        and not (op in ("<<", ">>") and (b < 0 or b > 63))
    )


def _fold(op: str, a, b, t: T.ScalarType):
    r = {
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "/": lambda: a / b,
        "//": lambda: a // b,
        "%": lambda: a % b,
        "**": lambda: a**b,
    }[op]()
    return float(r) if t.is_float else int(r)
