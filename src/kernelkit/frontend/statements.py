"""Statements: assignment (to locals, View elements, classtype fields), augmented assignment (atomic on Views with
the Atomic trait), if/while/for over range(), break/continue/return, expression statements, nested `def`s."""

from __future__ import annotations

import ast

from kernelkit.errors import KernelSyntaxError, KernelValueError
from kernelkit.frontend.base import CT, LowererBase, describe, tname
from kernelkit.frontend.expressions import BIN_OPS
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T
from kernelkit.lang import annotations as A


class StatementsMixin(LowererBase):
    """One `visit_<Node>` per statement."""

    def visit_Pass(self, node):
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef):
        # a nested workunit: inlined where pk.parallel_for/reduce/scan or pk.single uses it
        if node.decorator_list:
            raise self.err(node, "nested workunits take no decorators", KernelSyntaxError)
        self.closures[-1][node.name] = node
        return None

    def visit_Nonlocal(self, node: ast.Nonlocal):
        if not self.in_closure:
            raise self.err(node, "`nonlocal` is only meaningful in a nested workunit", KernelSyntaxError)
        return None  # the names were left un-renamed when the nested function was entered

    def visit_Expr(self, node: ast.Expr):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # docstring
        if not isinstance(node.value, ast.Call):
            raise self.err(
                node, "an expression statement must be a call (it has no effect otherwise)", KernelSyntaxError
            )
        r = self.visit_Call(node.value, statement=True)
        if r is None or isinstance(r, N.Stmt):
            return r
        return N.ExprStmt(r.loc, r)

    def visit_Assign(self, node: ast.Assign):
        out: list[N.Stmt] = []
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            tgt = node.targets[0]
            if not isinstance(node.value, ast.Tuple) or len(node.value.elts) != len(tgt.elts):
                raise self.err(
                    node, "tuple assignment needs a tuple of the same length on the right", KernelSyntaxError
                )
            vals = [self.scalar(self.expr(v), v) for v in node.value.elts]
            tmps = []
            for v in vals:  # evaluate every right-hand side before any assignment: `a, b = b, a` swaps
                t = self.new_tmp(v.type)
                tmps.append(N.Var(v.type, v.loc, t))
                out.append(N.Assign(v.loc, tmps[-1], v))
            for t_node, tmp in zip(tgt.elts, tmps, strict=True):
                out.extend(self.assign_to(t_node, tmp, node))
            return out
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.List):
            return self.list_assign(node.targets[0], node.value, None, node)  # a local list (frontend/lists.py)
        value = self.expr(node.value)
        if len(node.targets) > 1 and not isinstance(value, (N.Const, N.Var)):
            t = self.new_tmp(self.scalar(value, node.value).type)
            out.append(N.Assign(value.loc, N.Var(value.type, value.loc, t), value))
            value = N.Var(value.type, value.loc, t)
        for target in node.targets:
            out.extend(self.assign_to(target, value, node))
        return out

    def visit_AnnAssign(self, node: ast.AnnAssign):
        if isinstance(node.target, ast.Attribute) and self.building is not None and node.value is not None:
            ann = self.resolve_annotation(node.annotation)
            value = self.expr(node.value)
            if (
                isinstance(ann, T.ScalarType)
                and isinstance(node.target.value, ast.Name)
                and node.target.value.id == self.building
            ):
                st = self.locals[self.building]
                if node.target.attr not in st.fields:
                    if ann.is_int and isinstance(value.type, T.ScalarType) and value.type.is_float:
                        raise self.err(node, f"field {node.target.attr!r} is annotated {ann.name} but gets a float")
                    st.fields[node.target.attr] = ann
            return self.assign_to(node.target, value, node)
        if not isinstance(node.target, ast.Name):
            raise self.err(node, "annotated assignment needs a plain name", KernelSyntaxError)
        if node.value is not None:
            is_list, elem = self.list_annotation(node.annotation)  # `x: List[int] = [a, b]` (frontend/lists.py)
            if is_list:
                return self.list_assign(node.target, node.value, elem, node)
        ann = self.resolve_annotation(node.annotation)
        if isinstance(ann, A.ViewAnnotation) or (ann is None and node.value is not None):
            # `s: pk.ScratchView1D[...] = ...` and annotations we do not model: the value's type decides (a
            # ScratchView made without an element type takes the annotation's: frontend/team.py)
            self.annotation_node = node.annotation
            try:
                value = self.expr(node.value)
            finally:
                self.annotation_node = None
            return self.assign_to(node.target, value, node)
        if not isinstance(ann, T.ScalarType):
            raise self.err(node.annotation, "a local variable annotation must be a scalar type (int, float, ...)")
        name = self.rn(node.target.id)
        self._check_new_local(name, node)
        if name in self.locals and self.locals[name] != ann:
            raise self.err(node, f"{name!r} was declared {tname(self.locals[name])}; cannot redeclare as {ann}")
        self.locals[name] = ann
        if node.value is None:
            return None
        value = self.scalar(self.expr(node.value), node.value)
        if ann.is_int and value.type.is_float:
            raise self.err(node, f"cannot initialize integer {name!r} with a {value.type.name} value")
        return N.Assign(self.loc(node), N.Var(ann, self.loc(node), name), self.cast(value, ann))

    def _check_new_local(self, name: str, node: ast.AST):
        if name in self.params:
            t = self.params[name]
            if not isinstance(t, (T.ScalarType, T.AccType)):
                raise self.err(node, f"cannot assign to parameter {name!r} ({tname(t)})")

    def assign_to(self, target: ast.AST, value, node: ast.AST) -> list[N.Stmt]:
        loc = self.loc(target)
        if isinstance(target, ast.Name):
            name = self.rn(target.id)
            if isinstance(value, CT):
                raise self.err(node, f"{describe(value.value)} cannot be assigned to a variable")
            self._check_new_local(name, target)
            if name in self.params:
                have = self.params[name]
                if isinstance(have, T.LocType):
                    raise self.err(target, f"assign to {name}.val and {name}.loc, not to {name!r} itself")
                slot = have.dtype if isinstance(have, T.AccType) else have
                return [N.Assign(loc, N.Var(slot, loc, name), self.check_assign(name, slot, value, node))]
            if name in self.locals:
                have = self.locals[name]
                return [N.Assign(loc, N.Var(have, loc, name), self.check_assign(name, have, value, node))]
            if isinstance(value, N.SubView):
                self.locals[name] = value.type
                root = value.view
                self.aliases[name] = self.aliases.get(root.name, root.name) if isinstance(root, N.Var) else None
                return [N.Assign(loc, N.Var(value.type, loc, name), value)]
            if (
                isinstance(value.type, T.ViewType) and value.type.scratch and isinstance(value, N.ScratchAlloc)
            ) or isinstance(value.type, (T.LocType, T.RandomStateType, T.StructType)):
                self.locals[name] = value.type  # a ScratchView, or a nested MinLoc/MaxLoc result
                return [N.Assign(loc, N.Var(value.type, loc, name), value)]
            if not isinstance(value.type, T.ScalarType):
                raise self.err(
                    node,
                    f"cannot assign {tname(value.type)} to {name!r}: Views cannot be stored in "
                    "local variables inside kernels; index the parameter directly",
                )
            t = value.type
            self.locals[name] = t
            return [N.Assign(loc, N.Var(t, loc, name), value)]
        if isinstance(target, ast.Subscript):
            if self.is_local_list(target.value):
                return self.list_store(target, value, node)
            view, index = self.view_index(target)
            vt = view.type
            self.scalar(value, node)
            self.mark_write(view)
            return [N.Store(loc, view, index, self.cast(value, vt.dtype))]
        if isinstance(target, ast.Attribute):
            obj = self.expr(target.value)
            if isinstance(obj.type, T.StructType):
                st = obj.type
                self.scalar(value, node) if not isinstance(value.type, T.StructType) else None
                if target.attr not in st.fields:
                    if not (self.building is not None and isinstance(obj, N.Var) and obj.name == self.building):
                        raise self.err(
                            target, f"{st.pyname} has no field {target.attr!r}; fields are created in __init__"
                        )
                    if isinstance(value.type, (T.ViewType, T.AccType)):
                        raise self.err(target, "classtype fields hold numbers or other classtypes, not Views")
                    st.fields[target.attr] = value.type
                ft = st.fields[target.attr]
                f = N.Field(ft, loc, obj, target.attr)
                v = (
                    value
                    if isinstance(ft, T.StructType)
                    else self.check_assign(f"{st.pyname}.{target.attr}", ft, value, node)
                )
                return [N.FieldAssign(loc, f, v)]
            if isinstance(obj.type, T.LocType) and target.attr in ("val", "loc"):
                ft = obj.type.val if target.attr == "val" else obj.type.loc
                f = N.Field(ft, loc, obj, target.attr)
                return [N.FieldAssign(loc, f, self.check_assign(f"{obj.name}.{target.attr}", ft, value, node))]
            raise self.err(target, f"cannot assign to attribute {target.attr!r}")
        raise self.err(target, f"cannot assign to `{type(target).__name__}`", KernelSyntaxError)

    _ATOMIC_AUG = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "div", "&": "and", "|": "or", "^": "xor"}

    def visit_AugAssign(self, node: ast.AugAssign):
        op = BIN_OPS.get(type(node.op))
        if op is None:
            raise self.err(node, f"operator `{type(node.op).__name__}` is not supported", KernelSyntaxError)
        if isinstance(node.target, ast.Subscript) and self.is_local_list(node.target.value):
            load = ast.Subscript(value=node.target.value, slice=node.target.slice, ctx=ast.Load())
            new = ast.copy_location(
                ast.BinOp(left=ast.copy_location(load, node.target), op=node.op, right=node.value), node
            )
            return self.list_store(node.target, self.expr(new), node)
        if isinstance(node.target, ast.Subscript):
            view, index = self.view_index(node.target)
            if view.type.atomic:  # the Atomic trait: `v[i] += x` is an atomic update
                aop = self._ATOMIC_AUG.get(op)
                dt = view.type.dtype
                if (
                    aop is None
                    or (aop in ("and", "or", "xor") and dt.is_float)
                    or (op == "/" and not dt.is_float)
                    or (op == "//" and dt.is_float)
                ):
                    raise self.err(node, f"`{op}=` on a View with the Atomic trait has no atomic form")
                value = self.cast(self.scalar(self.expr(node.value), node.value), dt)
                self.mark_write(view)
                return N.ExprStmt(self.loc(node), N.Atomic(dt, self.loc(node), aop, view, index, [value], False))
        current = self.expr(node.target)
        rhs = self.expr(node.value)
        value = self.binop(op, current, rhs, node)
        return self.assign_to(node.target, value, node)

    def visit_If(self, node: ast.If):
        cond = self.truth(self.expr(node.test), node.test)
        return N.If(self.loc(node), cond, self.body(node.body), self.body(node.orelse))

    def visit_While(self, node: ast.While):
        if node.orelse:
            raise self.err(node, "`while ... else` is not supported in kernels", KernelSyntaxError)
        cond = self.truth(self.expr(node.test), node.test)
        if self.pending:
            raise self.err(
                node.test,
                "a nested parallel_reduce/scan cannot be part of a while condition; assign it to a variable first",
                KernelSyntaxError,
            )
        self.loop_depth += 1
        body = self.body(node.body)
        self.loop_depth -= 1
        return N.While(self.loc(node), cond, body)

    def visit_For(self, node: ast.For):
        if node.orelse:
            raise self.err(node, "`for ... else` is not supported in kernels", KernelSyntaxError)
        it = node.iter
        callee = self.visit(it.func) if isinstance(it, ast.Call) else None
        if not (isinstance(callee, CT) and callee.value is range):
            raise self.err(it, "kernels can only loop over range(...)", KernelSyntaxError)
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise self.err(it, "range() takes 1 to 3 positional arguments", KernelSyntaxError)
        args = [self.scalar(self.expr(a), a, "range bound") for a in it.args]
        for a, a_node in zip(args, it.args, strict=True):
            if not (a.type.is_int or a.type.is_bool):
                raise self.err(a_node, f"range() bounds must be integers, got {a.type.name}")
        args = [self.cast(a, T.int64) for a in args]
        zero, one = N.Const(T.int64, self.loc(it), 0), N.Const(T.int64, self.loc(it), 1)
        if len(args) == 1:
            start, stop, step = zero, args[0], one
        else:
            start, stop, step = args[0], args[1], args[2] if len(args) == 3 else one
        if isinstance(step, N.Const) and step.value == 0:
            raise self.err(it.args[2], "range() step must not be zero", KernelValueError)
        if not isinstance(node.target, ast.Name):
            raise self.err(node.target, "the loop variable must be a plain name", KernelSyntaxError)
        name = self.rn(node.target.id)
        self._check_new_local(name, node.target)
        have = self.locals.get(name, self.params.get(name))
        if have is None:
            self.locals[name] = T.int64
        elif not (isinstance(have, T.ScalarType) and have.is_int):
            raise self.err(node.target, f"loop variable {name!r} already holds {tname(have)}")
        var = N.Var(self.locals.get(name, have), self.loc(node.target), name)
        self.loop_depth += 1
        body = self.body(node.body)
        self.loop_depth -= 1
        return N.For(self.loc(node), var, start, stop, step, body)

    def visit_Break(self, node):
        if not self.loop_depth:
            raise self.err(node, "`break` outside a loop", KernelSyntaxError)
        return N.Break(self.loc(node))

    def visit_Continue(self, node):
        if not self.loop_depth:
            raise self.err(node, "`continue` outside a loop", KernelSyntaxError)
        return N.Continue(self.loc(node))

    def visit_Return(self, node: ast.Return):
        if self.in_closure:
            if self.in_closure[-1] != "pattern" or node.value is not None or self.loop_depth:
                raise self.err(
                    node,
                    "a nested workunit may only `return` (no value, outside inner loops) to end its iteration",
                    KernelSyntaxError,
                )
            return N.Continue(self.loc(node))
        if node.value is None:
            r = N.Return(self.loc(node), None)
        else:
            if not self.in_function:
                raise self.err(node, "a workunit cannot return a value (reductions update their accumulator)")
            value = self.expr(node.value)
            if not (isinstance(value, N.Expr) and isinstance(value.type, T.StructType)):  # a classtype: a copy
                value = self.scalar(value, node.value, "return value")
            r = N.Return(self.loc(node), value)
        self.returns.append(r)
        return r
