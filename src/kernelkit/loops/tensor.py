"""Tensor expressions on slices, lowered to fused loops (APPy's tensor-oriented interface, NumPy's array syntax).

    b[i, :N] = exp(a[i, :N] - m) / s          ->  for j in simd range(N): b[i, j] = exp(a[i, j] - m) / s
    s = sum(exp(a[i, :N] - m))                ->  t = 0.0; for j in simd range(N): t = t + exp(a[i, j] - m); s = t
    #pragma :M=>parallel :N=>reduce(sum)
    y[:M] = mv(alpha * A[:M, :N], x[:N])      ->  for i in prange(M): t = 0.0; for j in simd range(N): ...; y[i] = t
    C *= beta                                 ->  for i in prange(C.shape[0]): for j in simd range(...): C[i, j] *= beta

The rewrite is on the Python AST, statement by statement, before lowering: the loops it produces are lowered like
the user's own (so their races are checked and their reductions found the same way), and every node it makes
carries the location of the statement it came from. One statement becomes one loop nest: the elementwise parts
of an expression are fused into its body; a full reduction (`sum`, `max`, `np.dot` of vectors, `x.mean()`) is
computed first into a temporary; `mv`, `@` and `np.dot` of matrices contract inside the element loop. Slices
follow NumPy: `a:b:c` with negative bounds counted from the end, `None` adds an axis of length 1, operands
broadcast from the right. A statement whose target array also appears on the right-hand side at other indices
(`a[1:] = a[:-1]`) evaluates the right-hand side into a temporary array first, as NumPy does.

At host level (outside any parallel loop) the outermost axis of each statement's loops runs in parallel; inside a
parallel loop the loops are sequential and the innermost one is a simd loop. A tensor pragma says which axes are
parallel and which reduce.
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Callable

import numpy as np

from kernelkit.errors import KernelSyntaxError, KernelTypeError

# names the rewrite refers to; the program lowerer resolves them (loops/lower.py INTERNAL)
PRANGE, SIMD_RANGE, RANGE, EMPTY = "__kk_prange", "__kk_simd_range", "__kk_range", "__kk_empty"
MAX, MIN = "__kk_max", "__kk_min"

METHODS = {"sum": "sum", "max": "max", "min": "min", "mean": "mean", "prod": "prod", "dot": "dot"}
_OPS = {"sum": ast.Add, "mean": ast.Add, "prod": ast.Mult}


class TE:
    """An array-valued expression: one length per axis, which axes are literally 1 (broadcast), and how to build
    the element at given indices (`elem(indices, pre)` may append statements to `pre`, e.g. a contraction)."""

    def __init__(self, shape: list[ast.expr], bcast: list[bool], elem: Callable[[list, list], ast.expr]):
        self.shape = shape
        self.bcast = bcast
        self.elem = elem

    @property
    def rank(self) -> int:
        return len(self.shape)


def _c(v) -> ast.expr:
    return ast.Constant(v)


def _name(n: str, ctx=None) -> ast.Name:
    return ast.Name(n, ctx or ast.Load())


def _add(a: ast.expr, b: ast.expr) -> ast.expr:
    if isinstance(a, ast.Constant) and a.value == 0:
        return b
    if isinstance(b, ast.Constant) and b.value == 0:
        return a
    return ast.BinOp(a, ast.Add(), b)


def _sub(a: ast.expr, b: ast.expr) -> ast.expr:
    if isinstance(b, ast.Constant) and b.value == 0:
        return a
    return ast.BinOp(a, ast.Sub(), b)


def _call(fn: str, *args: ast.expr, **kw: ast.expr) -> ast.Call:
    return ast.Call(_name(fn), list(args), [ast.keyword(k, v) for k, v in kw.items()])


def _nary(name: str, xs) -> ast.expr:
    out = xs[0]
    for x in xs[1:]:
        out = _call(name, out, x)
    return out


def locate(nodes, at: ast.AST):
    """Give every generated node the location of the statement it came from."""
    for root in nodes if isinstance(nodes, list) else [nodes]:
        for n in ast.walk(root):
            if "lineno" in n._attributes and getattr(n, "lineno", None) is None:
                if isinstance(n, ast.stmt):
                    n._kk_gen = True  # type: ignore[attr-defined]  # made here: no pragma of the user's applies
                n.lineno, n.col_offset = at.lineno, at.col_offset
                n.end_lineno, n.end_col_offset = getattr(at, "end_lineno", at.lineno), getattr(at, "end_col_offset", 0)
    return nodes


class Tensors:
    """The rewrite of one function's statements; `lw` is the program lowerer (names, types, pragmas)."""

    def __init__(self, lw):
        self.lw = lw
        self.n = 0

    def fresh(self, stem: str) -> str:
        self.n += 1
        return f"_kk_{stem}{self.n}"

    def err(self, node: ast.AST, msg: str, cls=KernelSyntaxError):
        return cls(msg, self.lw.loc(node))

    # ------------------------------------------------------------------------------------------ operands

    def array(self, node: ast.AST) -> tuple[str, int] | None:
        if isinstance(node, ast.Name):
            r = self.lw.array_rank(node.id)
            return (node.id, r) if r else None
        return None

    def callee(self, node: ast.AST):
        """The Python object a call's function denotes (None for kernel values)."""
        if isinstance(node, (ast.Name, ast.Attribute)):
            if isinstance(node, ast.Name) and (self.lw.is_local(node.id)):
                return None
            if isinstance(node, ast.Attribute) and self.array(node.value):
                return None
            return self.lw.static_value(node)
        return None

    def whole(self, name: str, rank: int) -> TE:
        shape = [ast.Subscript(ast.Attribute(_name(name), "shape", ast.Load()), _c(k), ast.Load()) for k in range(rank)]
        return TE(shape, [False] * rank, lambda idx, pre, ctx=None: self._sub(name, idx, ctx))

    def _sub(self, name: str, idx: list[ast.expr], ctx=None) -> ast.expr:
        sl = idx[0] if len(idx) == 1 else ast.Tuple(list(idx), ast.Load())
        return ast.Subscript(_name(name), sl, ctx or ast.Load())

    def sliced(self, name: str, rank: int, node: ast.Subscript) -> TE | None:
        """`a[i, 1:n, :, None]`: a TE when any index is a slice or a new axis, else None (an element)."""
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if not any(isinstance(x, ast.Slice) or (isinstance(x, ast.Constant) and x.value is None) for x in items):
            return None
        if any(isinstance(x, ast.Constant) and x.value is Ellipsis for x in items):
            raise self.err(node, "`...` in a subscript is not supported; name every dimension")
        real = [x for x in items if not (isinstance(x, ast.Constant) and x.value is None)]
        if len(real) > rank:
            raise self.err(node, f"{name!r} has rank {rank} but is indexed with {len(real)} indices", KernelTypeError)
        items += [ast.Slice()] * (rank - len(real))
        shape: list[ast.expr] = []
        bcast: list[bool] = []
        plan: list[tuple] = []  # ("fixed", expr) | ("axis", start, step) | ("new",)
        dim = 0
        for x in items:
            if isinstance(x, ast.Constant) and x.value is None:
                shape.append(_c(1))
                bcast.append(True)
                plan.append(("new",))
                continue
            extent = ast.Subscript(ast.Attribute(_name(name), "shape", ast.Load()), _c(dim), ast.Load())
            if isinstance(x, ast.Slice):
                step = 1
                if x.step is not None:
                    if not (isinstance(x.step, ast.Constant) and isinstance(x.step.value, int) and x.step.value > 0):
                        raise self.err(x, "a slice step in an array expression must be a positive integer constant")
                    step = x.step.value
                start = self._bound(x.lower, extent, _c(0))
                stop = self._bound(x.upper, extent, extent)
                length = _sub(stop, start)
                if step != 1:
                    length = ast.BinOp(_add(length, _c(step - 1)), ast.FloorDiv(), _c(step))
                shape.append(length)
                bcast.append(False)
                plan.append(("axis", start, step))
            else:
                plan.append(("fixed", x))
            dim += 1

        def elem(idx, pre, ctx=None):
            out, k = [], 0
            for p in plan:
                if p[0] == "new":
                    k += 1
                elif p[0] == "axis":
                    i = idx[k] if p[2] == 1 else ast.BinOp(idx[k], ast.Mult(), _c(p[2]))
                    out.append(_add(copy.deepcopy(p[1]), i))
                    k += 1
                else:
                    out.append(copy.deepcopy(p[1]))
            return self._sub(name, out, ctx)

        return TE(shape, bcast, elem)

    @staticmethod
    def _bound(b: ast.expr | None, extent: ast.expr, default: ast.expr) -> ast.expr:
        if b is None:
            return copy.deepcopy(default)
        v = b
        if isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub) and isinstance(v.operand, ast.Constant):
            return ast.BinOp(copy.deepcopy(extent), ast.Sub(), v.operand)  # a[:-1]: counted from the end
        if isinstance(v, ast.Constant) and isinstance(v.value, int) and v.value < 0:
            return ast.BinOp(copy.deepcopy(extent), ast.Sub(), _c(-v.value))
        return b

    # ------------------------------------------------------------------------------------------ expressions

    def conv(self, node: ast.expr, pre: list[ast.stmt]):
        """A TE, or the scalar expression with its full reductions hoisted into `pre`."""
        if isinstance(node, ast.Name):
            a = self.array(node)
            return self.whole(*a) if a else node
        if isinstance(node, ast.Subscript):
            a = self.array(node.value)
            if a:
                t = self.sliced(a[0], a[1], node)
                if t is not None:
                    return t
            return node
        if isinstance(node, ast.BinOp):
            l, r = self.conv(node.left, pre), self.conv(node.right, pre)
            if isinstance(node.op, ast.MatMult):
                return self.dot(l, r, node, pre)
            return self.elementwise([l, r], lambda a, b: ast.BinOp(a, node.op, b), node)
        if isinstance(node, ast.UnaryOp):
            return self.elementwise([self.conv(node.operand, pre)], lambda a: ast.UnaryOp(node.op, a), node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            parts = [self.conv(node.left, pre), self.conv(node.comparators[0], pre)]
            return self.elementwise(parts, lambda a, b: ast.Compare(a, [node.ops[0]], [b]), node)
        if isinstance(node, ast.IfExp):
            parts = [self.conv(x, pre) for x in (node.test, node.body, node.orelse)]
            return self.elementwise(parts, lambda c, a, b: ast.IfExp(c, a, b), node)
        if isinstance(node, ast.Call):
            return self.call(node, pre)
        return node

    def elementwise(self, parts: list, build: Callable, node: ast.AST):
        tes = [p for p in parts if isinstance(p, TE)]
        if not tes:
            return locate(build(*parts), node)
        rank = max(t.rank for t in tes)
        shape: list[ast.expr] = []
        bcast: list[bool] = []
        for d in range(rank):
            pick = None
            for t in tes:
                k = d - (rank - t.rank)
                if k >= 0 and not t.bcast[k]:
                    pick = t.shape[k]
                    break
            shape.append(pick if pick is not None else _c(1))
            bcast.append(pick is None)

        def elem(idx, pre):
            args = []
            for p in parts:
                if not isinstance(p, TE):
                    args.append(copy.deepcopy(p))
                    continue
                off = rank - p.rank
                sub = [_c(0) if p.bcast[k] else idx[off + k] for k in range(p.rank)]
                args.append(p.elem(sub, pre))
            return locate(build(*args), node)

        return TE(shape, bcast, elem)

    def call(self, node: ast.Call, pre: list[ast.stmt]):
        func = node.func
        # methods of arrays: a.sum(), a.max(), a.copy(), x.dot(y)
        if isinstance(func, ast.Attribute):
            a = self.array(func.value)
            if a is not None:
                base = self.conv(func.value, pre)
                if func.attr in METHODS:
                    if node.keywords or (func.attr != "dot" and node.args):
                        raise self.err(node, f"{func.attr}() of an array takes no arguments here (no axis=)")
                    if func.attr == "dot":
                        return self.dot(base, self.conv(node.args[0], pre), node, pre)
                    return self.reduce(base, METHODS[func.attr], node, pre)
                if func.attr == "copy" and not node.args:
                    return base
                raise self.err(node, f"array method {func.attr!r} is not supported in compiled functions")
        fn = self.callee(func)
        kind = self.lw.reduction_kind(fn, len(node.args)) if fn is not None else None
        if kind is None:
            return node  # allocations, device functions, len(): the lowerer's business
        args = [self.conv(x, pre) for x in node.args]
        if not any(isinstance(x, TE) for x in args):
            if kind == "dot" and len(args) == 2:
                return locate(ast.BinOp(args[0], ast.Mult(), args[1]), node)
            if any(a is not b for a, b in zip(args, node.args, strict=True)):
                return locate(ast.Call(func, args, node.keywords), node)
            return node
        if node.keywords:
            raise self.err(node, "keyword arguments (axis=, out=) are not supported in array expressions")
        if kind in ("sum", "max", "min", "mean", "prod"):
            if len(args) != 1:
                raise self.err(node, f"{kind}() of an array takes one argument here")
            return self.reduce(args[0], kind, node, pre)
        if kind == "dot":
            return self.dot(args[0], args[1], node, pre)
        if kind == "mv":
            return self.dot(args[0], args[1], node, pre, need=(2, 1))
        if kind == "outer":
            u, v = args
            if not (isinstance(u, TE) and isinstance(v, TE) and u.rank == v.rank == 1):
                raise self.err(node, "outer() takes two vectors")
            return TE(
                [u.shape[0], v.shape[0]],
                [False, False],
                lambda idx, p: ast.BinOp(u.elem([idx[0]], p), ast.Mult(), v.elem([idx[1]], p)),
            )
        if kind == "where":
            if len(args) != 3:
                raise self.err(node, "where() takes (condition, x, y)")
            return self.elementwise(args, lambda c, a, b: ast.IfExp(c, a, b), node)
        if kind in ("pairmax", "pairmin"):
            name = MAX if kind == "pairmax" else MIN
            return self.elementwise(args, lambda *xs: _nary(name, xs), node)
        if kind == "elementwise":
            return self.elementwise(args, lambda *xs: ast.Call(copy.deepcopy(func), list(xs), []), node)
        raise self.err(node, f"{ast.unparse(func)}() cannot take arrays in a compiled function")  # pragma: no cover

    def dot(self, a, b, node: ast.AST, pre: list[ast.stmt], need: tuple[int, int] | None = None):
        ra = a.rank if isinstance(a, TE) else 0
        rb = b.rank if isinstance(b, TE) else 0
        if need is not None and (ra, rb) != need:
            raise self.err(node, "mv(A, x) takes a matrix and a vector")
        if ra == 0 or rb == 0:
            return self.elementwise([a, b], lambda x, y: ast.BinOp(x, ast.Mult(), y), node)
        if ra == 1 and rb == 1:
            return self.reduce(
                self.elementwise([a, b], lambda x, y: ast.BinOp(x, ast.Mult(), y), node), "sum", node, pre
            )
        if ra > 2 or rb > 2:
            raise self.err(node, "products of arrays of rank above 2 are not supported")

        def contract(left: Callable, right: Callable, length: ast.expr, p: list[ast.stmt]) -> ast.expr:
            k = self.fresh("k")
            term = ast.BinOp(left(_name(k), p), ast.Mult(), right(_name(k), p))
            return self.accumulate(term, "sum", [length], [k], p, node, simd=True)

        if ra == 2 and rb == 1:
            return TE(
                [a.shape[0]],
                [False],
                lambda idx, p: contract(
                    lambda k, q: a.elem([idx[0], k], q), lambda k, q: b.elem([k], q), a.shape[1], p
                ),
            )
        if ra == 1 and rb == 2:
            return TE(
                [b.shape[1]],
                [False],
                lambda idx, p: contract(
                    lambda k, q: a.elem([k], q), lambda k, q: b.elem([k, idx[0]], q), a.shape[0], p
                ),
            )
        return TE(
            [a.shape[0], b.shape[1]],
            [False, False],
            lambda idx, p: contract(
                lambda k, q: a.elem([idx[0], k], q), lambda k, q: b.elem([k, idx[1]], q), a.shape[1], p
            ),
        )

    def reduce(self, t, kind: str, node: ast.AST, pre: list[ast.stmt]) -> ast.expr:
        """A full reduction: computed into a temporary in `pre`; the result is its name."""
        if not isinstance(t, TE):
            return t  # sum(scalar)
        idx = [self.fresh("i") for _ in t.shape]
        r = self.accumulate(None, kind, t.shape, idx, pre, node, simd=True, te=t)
        if kind == "mean":
            count = t.shape[0] if t.rank == 1 else ast.BinOp(t.shape[0], ast.Mult(), t.shape[1])
            for s in t.shape[2:]:
                count = ast.BinOp(count, ast.Mult(), s)
            return locate(ast.BinOp(r, ast.Div(), copy.deepcopy(count)), node)
        return r

    def accumulate(self, term, kind, lengths, idx, pre, node, simd: bool, te: TE | None = None) -> ast.Name:
        """`acc = identity; for idx...: acc = acc op term`; returns the accumulator's name."""
        acc = self.fresh("r")
        inner: list[ast.stmt] = []
        if term is None:
            term = te.elem([_name(i) for i in idx], inner)
        dt = self.lw.probe_type(term, idx, inner)
        if kind in ("sum", "mean"):
            init = 0
        elif kind == "prod":
            init = 1
        elif dt.is_float:
            init = -math.inf if kind == "max" else math.inf
        else:
            init = int(np.iinfo(dt.np_dtype).min if kind == "max" else np.iinfo(dt.np_dtype).max)
        pre.append(ast.Assign([_name(acc, ast.Store())], _call(f"__kk_dt_{dt.name}", _c(init))))
        if kind in _OPS:
            update: ast.expr = ast.BinOp(_name(acc), _OPS[kind](), term)
        else:
            update = _call(MAX if kind == "max" else MIN, _name(acc), term)
        body: list[ast.stmt] = inner + [ast.Assign([_name(acc, ast.Store())], update)]
        pre.extend(self.nest(lengths, idx, body, parallel=[self.lw.at_host() and d == 0 for d in range(len(idx))]))
        locate(pre, node)
        return _name(acc)

    def nest(self, lengths, idx, body, parallel: list[bool]) -> list[ast.stmt]:
        stmts = body
        last = len(idx) - 1
        for d in range(last, -1, -1):
            loops_inside = any(isinstance(s, ast.For) for s in stmts)
            fn = PRANGE if parallel[d] else (SIMD_RANGE if d == last and not loops_inside else RANGE)
            stmts = [ast.For(_name(idx[d], ast.Store()), _call(fn, copy.deepcopy(lengths[d])), stmts, [])]
        return stmts

    # ------------------------------------------------------------------------------------------ statements

    def statement(self, node: ast.stmt, pragma) -> list[ast.stmt] | None:
        """The statement rewritten into loops, or None when it has no array expressions."""
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and not isinstance(node.targets[0], ast.Tuple):
            return self.assign(node.targets[0], node.value, None, node, pragma)
        if isinstance(node, ast.AugAssign):
            return self.assign(node.target, node.value, node.op, node, pragma)
        if isinstance(node, ast.Return) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            pre: list[ast.stmt] = []
            out = []
            for v in values:
                if isinstance(v, ast.Name):  # an array returned by name: itself, not a copy
                    out.append(v)
                    continue
                c = self.conv(v, pre)
                if isinstance(c, TE):
                    tmp = self.fresh("a")
                    pre += self.materialize(tmp, c, node, pragma)
                    c = _name(tmp)
                out.append(c)
            if not pre:
                return None
            value = ast.Tuple(out, ast.Load()) if isinstance(node.value, ast.Tuple) else out[0]
            return locate(pre + [ast.Return(value)], node)
        if isinstance(node, (ast.Expr, ast.If)):
            pre = []
            field = "value" if isinstance(node, ast.Expr) else "test"
            c = self.conv(getattr(node, field), pre)
            if isinstance(c, TE):
                raise self.err(node, "an array expression cannot be used here (assign it to an array)")
            if not pre:
                return None
            new = copy.copy(node)
            setattr(new, field, c)
            return locate(pre + [new], node)
        return None

    def target_te(self, target: ast.expr) -> TE | None:
        if isinstance(target, ast.Subscript):
            a = self.array(target.value)
            if a is not None:
                return self.sliced(a[0], a[1], target)
        return None

    def assign(self, target, value, op, node, pragma) -> list[ast.stmt] | None:
        pre: list[ast.stmt] = []
        tgt = self.target_te(target)
        if tgt is None and op is None and isinstance(value, ast.Name):
            return None  # `b = a` names an array again (NumPy aliases): the lowerer says what it allows
        if tgt is None and isinstance(target, ast.Name) and self.array(target) and op is not None:
            tgt = self.whole(*self.array(target))  # C *= beta: an in-place update of the whole array
        val = self.conv(value, pre)
        if tgt is None:
            if isinstance(val, TE):
                if isinstance(target, ast.Name) and op is None:
                    return locate(pre + self.materialize(target.id, val, node, pragma), node)
                raise self.err(node, "an array expression cannot be assigned to a single element")
            if not pre:
                return None
            new = ast.Assign([target], val) if op is None else ast.AugAssign(target, op, val)
            return locate(pre + [new], node)
        root = target.value.id if isinstance(target, ast.Subscript) else target.id
        if isinstance(val, TE) and self.overlaps(root, target, value):
            tmp = self.fresh("a")
            pre += self.materialize(tmp, val, node, None)
            val = self.whole(tmp, val.rank)
        pre += self.store(tgt, val, op, node, pragma)
        return locate(pre, node)

    def overlaps(self, root: str, target: ast.expr, value: ast.expr) -> bool:
        """Does the right-hand side read the target array at other indices than the ones it writes?"""
        want = ast.dump(target.slice) if isinstance(target, ast.Subscript) else None
        for n in ast.walk(value):
            if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == root:
                if want is None or ast.dump(n.slice) != want:
                    return True
        names = [n for n in ast.walk(value) if isinstance(n, ast.Name) and n.id == root]
        subs = [n.value for n in ast.walk(value) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)]
        bare = [n for n in names if not any(n is s for s in subs)]
        return bool(bare) and want is not None

    def store(self, tgt: TE, val, op, node, pragma) -> list[ast.stmt]:
        idx = [self.fresh("i") for _ in tgt.shape]
        names = [_name(i) for i in idx]
        inner: list[ast.stmt] = []
        if isinstance(val, TE):
            if val.rank > tgt.rank:
                raise self.err(node, f"cannot assign a rank-{val.rank} array expression to a rank-{tgt.rank} slice")
            off = tgt.rank - val.rank
            v = val.elem([_c(0) if val.bcast[k] else names[off + k] for k in range(val.rank)], inner)
        else:
            v = copy.deepcopy(val)
        if op is not None:
            st: ast.stmt = ast.AugAssign(tgt.elem(names, inner, ast.Store()), op, v)
        else:
            st = ast.Assign([tgt.elem(names, inner, ast.Store())], v)
        if pragma is not None and pragma.kind == "atomic":
            st._kk_atomic = True  # type: ignore[attr-defined]
        inner.append(st)
        return self.nest(tgt.shape, idx, inner, self.parallel_axes(tgt.rank, pragma, node))

    def parallel_axes(self, rank: int, pragma, node) -> list[bool]:
        if pragma is not None and pragma.kind in ("tensor", "atomic") and pragma.dims:
            dims = [d for d in pragma.dims if d.reduce is None]  # reduce(...) names a contracted dimension
            if len(dims) > rank:
                raise self.err(node, f"the pragma names {len(dims)} dimensions; the statement has {rank}")
            return [d.parallel for d in dims] + [False] * (rank - len(dims))
        return [self.lw.at_host() and d == 0 for d in range(rank)]

    def materialize(self, name: str, val, node, pragma) -> list[ast.stmt]:
        """`name = <array expression>`: a new array of the expression's shape and element type, filled."""
        if not isinstance(val, TE):
            return [ast.Assign([_name(name, ast.Store())], val)]
        idx = [self.fresh("i") for _ in val.shape]
        scratch: list[ast.stmt] = []
        dt = self.lw.probe_type(val.elem([_name(i) for i in idx], scratch), idx, scratch)
        shape = ast.Tuple([copy.deepcopy(s) for s in val.shape], ast.Load())
        out: list[ast.stmt] = [
            ast.Assign([_name(name, ast.Store())], _call(EMPTY, shape, dtype=_name(f"__kk_dt_{dt.name}")))
        ]
        self.lw.declare_array(name, len(val.shape), dt)
        out += self.store(self.whole(name, val.rank), val, None, node, pragma)
        return out
