"""Small local lists, as PyKokkos allows them: `x: List[int] = [a, b]`, then `x[0]`, `x[i] = v`, `x[k] += v`.

A list is a fixed number of scalars of one type (the annotation's element type, else the promoted type of its
elements), lowered to one scalar local per element: a constant index names its local, any other index selects
among them (a negative index counts from the end, as in Python). An index outside the list is an error when it
is a constant; a computed index outside it reads the last element and stores nothing (kernels raise no
exceptions). Lists cannot grow, be passed to functions or be stored in Views.
"""

from __future__ import annotations

import ast
import typing

from kernelkit.errors import KernelSyntaxError
from kernelkit.frontend.base import LowererBase
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T


class ListsMixin(LowererBase):
    """The local lists of one function: name -> (element type, the element locals)."""

    def _lists(self) -> dict[str, tuple[T.ScalarType, list[str]]]:
        lists = self.__dict__.get("_kk_lists")
        if lists is None:
            lists = self.__dict__["_kk_lists"] = {}
        return lists

    def is_local_list(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and self.rn(node.id) in self._lists()

    def list_annotation(self, annotation: ast.AST) -> tuple[bool, T.ScalarType | None]:
        """(is a `List[...]`/`list[...]` annotation, its element type when it names one)."""
        try:
            value = self.resolve_annotation_object(annotation)
        except Exception:  # noqa: BLE001 - not evaluable: not a list annotation we know
            return False, None
        origin = typing.get_origin(value) or value
        if origin is not list:
            return False, None
        args = typing.get_args(value)
        elem = self.scalar_annotation(args[0]) if args else None
        return True, elem

    def list_assign(self, target: ast.Name, value: ast.AST, elem: T.ScalarType | None, node: ast.AST):
        """`x = [a, b, c]` (or with a `List[T]` annotation): the element locals, initialized."""
        name = self.rn(target.id)
        if name in self.locals or name in self.params or name in self._lists():
            raise self.err(target, f"{name!r} already has a value; a local list is created once")
        if not isinstance(value, (ast.List, ast.Tuple)) or not value.elts:
            raise self.err(
                node, "a local list is created from a non-empty list of numbers: `x = [a, b]`", KernelSyntaxError
            )
        vals = [self.scalar(self.expr(e), e, "list element") for e in value.elts]
        t = elem
        if t is None:
            strong = [v.type for v in vals if not (isinstance(v, N.Const) and v.weak)] or [vals[0].type]
            t = strong[0]
            for vt in strong[1:]:
                t = T.promote(t, vt)
        if not isinstance(t, T.ScalarType):
            raise self.err(node, "a local list holds numbers")
        names = []
        out: list[N.Stmt] = []
        for v, e in zip(vals, value.elts, strict=True):
            if t.is_int and v.type.is_float:
                raise self.err(e, f"a list of {t.name} cannot hold the {v.type.name} value {ast.unparse(e)}")
            local = self.new_tmp(t)
            names.append(local)
            out.append(N.Assign(self.loc(e), N.Var(t, self.loc(e), local), self.cast(v, t)))
        self._lists()[name] = (t, names)
        return out

    def _list_index(self, node: ast.Subscript):
        """(element type, element locals, a constant position or None, the index expression)."""
        t, names = self._lists()[self.rn(node.value.id)]
        if isinstance(node.slice, (ast.Slice, ast.Tuple)):
            raise self.err(node, "a local list takes one integer index")
        ix = self.scalar(self.expr(node.slice), node.slice, "index")
        if not (ix.type.is_int or ix.type.is_bool):
            raise self.err(node.slice, f"a list index must be an integer, got {ix.type.name}")
        if isinstance(ix, N.Const):
            k = int(ix.value)
            if not -len(names) <= k < len(names):
                raise self.err(node, f"index {k} is out of range for a list of {len(names)}")
            return t, names, k % len(names), ix
        return t, names, None, self.cast(ix, T.int64)

    def _is_position(self, ix: N.Expr, k: int, n: int, loc) -> N.Expr:
        at = N.Compare(T.bool_, loc, "==", ix, N.Const(T.int64, loc, k))
        from_end = N.Compare(T.bool_, loc, "==", ix, N.Const(T.int64, loc, k - n))
        return N.Logical(T.bool_, loc, "or", at, from_end)

    def list_load(self, node: ast.Subscript) -> N.Expr:
        t, names, k, ix = self._list_index(node)
        loc = self.loc(node)
        if k is not None:
            return N.Var(t, loc, names[k])
        out: N.Expr = N.Var(t, loc, names[-1])
        for pos in range(len(names) - 2, -1, -1):
            out = N.Select(t, loc, self._is_position(ix, pos, len(names), loc), N.Var(t, loc, names[pos]), out)
        return out

    def list_store(self, target: ast.Subscript, value: N.Expr, node: ast.AST) -> list[N.Stmt]:
        t, names, k, ix = self._list_index(target)
        loc = self.loc(target)
        v = self.check_assign(f"{target.value.id}[...]", t, self.scalar(value, node), node)  # type: ignore[attr-defined]
        if k is not None:
            return [N.Assign(loc, N.Var(t, loc, names[k]), v)]
        if not isinstance(v, (N.Const, N.Var)):
            tmp = N.Var(t, loc, self.new_tmp(t))
            pre: list[N.Stmt] = [N.Assign(loc, tmp, v)]
            v = tmp
        else:
            pre = []
        chain: list[N.Stmt] = []
        for pos in range(len(names) - 1, -1, -1):
            chain = [
                N.If(
                    loc,
                    self._is_position(ix, pos, len(names), loc),
                    [N.Assign(loc, N.Var(t, loc, names[pos]), v)],
                    chain,
                )
            ]
        return pre + chain
