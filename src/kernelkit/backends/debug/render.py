"""IR -> Python source for the Debug space.

The generated Python has the semantics the compiled backends must match (see ir/nodes.py): Python floor division
and modulo, division by zero giving 0 for integers and inf/nan for floats, negative indices out of bounds,
integer stores wrapping to the element width. Each generated line remembers the user's source location, so a
runtime error names the kernel line that caused it.
"""

from __future__ import annotations

from kernelkit.errors import Loc
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T


def pyname(name: str) -> str:
    return "v_" + name.replace(".", "__dot__")  # ClassSty members arrive as "self.x"


class PyRenderer:
    def __init__(self, kernel: N.Kernel):
        self.k = kernel
        self.lines: list[str] = []
        self.locs: list[Loc | None] = []  # generated line number (1-based) -> user location
        self._n = 0

    def emit(self, text: str, loc: Loc | None) -> None:
        self.lines.append(text)
        self.locs.append(loc)

    # -------------------------------------------------------------------------------------- expressions

    def expr(self, e: N.Expr) -> str:
        return getattr(self, "e_" + type(e).__name__)(e)

    def e_Const(self, e: N.Const) -> str:
        v = e.value
        if e.type.is_float:
            v = T.convert_value(v, e.type)  # a float32 constant holds the float32 value, as in compiled code
            if v != v:
                return "_NAN"
            if v in (float("inf"), float("-inf")):
                return "_INF" if v > 0 else "(-_INF)"
            return repr(v)
        if e.type.is_bool:
            return repr(bool(v))
        return repr(int(v))

    def e_Var(self, e: N.Var) -> str:
        return pyname(e.name)

    def e_BinOp(self, e: N.BinOp) -> str:
        a, b = self.expr(e.lhs), self.expr(e.rhs)
        t, op = e.type, e.op
        if op in ("min", "max"):
            return f"_{op}({a}, {b})"
        if op == "/":
            return f"_fop(_div({a}, {b}))" if t is T.float32 else f"_div({a}, {b})"  # float32 quotients round
        if op == "//":
            if t is T.float32:
                return f"_ffloordiv32({a}, {b})"
            return f"_ffloordiv({a}, {b})" if t.is_float else f"_floordiv({a}, {b})"
        if op == "%":
            if t is T.float32:
                return f"_fmod32({a}, {b})"
            return f"_fmod({a}, {b})" if t.is_float else f"_mod({a}, {b})"
        if op == "**":
            if t is T.float32:
                return f"_m32.pow({a}, {b})"
            return f"_fpow64({a}, {b})" if t.is_float else f"_ipow({a}, {b})"
        if t.is_float and op in "+-*":
            return f"_fop({a} {op} {b})" if t is T.float32 else f"({a} {op} {b})"
        if op == "<<" and t.is_int:
            return f"_shl({a}, {b}, {t.bits}, {t.kind == 'i'})"
        if op == ">>" and t.is_int:
            return f"_shr({a}, {b}, {t.bits})"
        if t.is_int:
            return f"_wrap({a} {op} {b}, {t.bits}, {t.kind == 'i'})"
        return f"({a} {op} {b})"

    def e_UnaryOp(self, e: N.UnaryOp) -> str:
        a = self.expr(e.operand)
        if e.op == "not":
            return f"(not {a})"
        if e.type.is_int:
            return f"_wrap({e.op}{a}, {e.type.bits}, {e.type.kind == 'i'})"
        return f"({e.op}{a})"

    def e_Compare(self, e: N.Compare) -> str:
        return f"({self.expr(e.lhs)} {e.op} {self.expr(e.rhs)})"

    def e_Logical(self, e: N.Logical) -> str:
        return f"({self.expr(e.lhs)} {e.op} {self.expr(e.rhs)})"

    def e_Select(self, e: N.Select) -> str:
        return f"({self.expr(e.a)} if {self.expr(e.cond)} else {self.expr(e.b)})"

    def e_Cast(self, e: N.Cast) -> str:
        return conv(self.expr(e.value), e.type, e.value.type)

    def e_MathCall(self, e: N.MathCall) -> str:
        args = ", ".join(self.expr(a) for a in e.args)
        if e.fn == "abs":
            t = e.type
            return f"_wrap(abs({args}), {t.bits}, {t.kind == 'i'})" if t.is_int else f"abs({args})"
        if e.type is T.float32:
            return f"_m32.{e.fn}({args})"  # the C library's float functions, as compiled host code calls them
        return f"_m.{e.fn}({args})"

    def e_Load(self, e: N.Load) -> str:
        v = self.expr(e.view)
        idx = ", ".join(f"_ix({self.expr(i)})" for i in e.index)
        return conv(f"{v}[{idx}]", e.type, e.view.type.dtype, from_array=True)

    def e_SubView(self, e: N.SubView) -> str:
        parts = []
        for sp in e.spec:
            if sp[0] == "index":
                parts.append(f"_ix({self.expr(sp[1])})")
            else:
                b = self.expr(sp[1]) if sp[1] is not None else ""
                end = self.expr(sp[2]) if sp[2] is not None else ""
                parts.append(f"{b}:{end}")
        return f"{self.expr(e.view)}[{', '.join(parts)}]"

    def e_Extent(self, e: N.Extent) -> str:
        return f"{self.expr(e.view)}.shape[{e.dim}]"

    def e_Field(self, e: N.Field) -> str:
        if isinstance(e.obj.type, T.StructType):
            return f"{self.expr(e.obj)}.m_{e.name}"
        return f"{self.expr(e.obj)}[{0 if e.name == 'val' else 1}]"

    def e_Construct(self, e: N.Construct) -> str:
        return f"{e.fn.name}({', '.join(self.expr(a) for a in e.args)})"

    def e_Call(self, e: N.Call) -> str:
        return f"{e.fn.name}({', '.join(self.expr(a) for a in e.args)})"

    def e_TeamQuery(self, e: N.TeamQuery) -> str:
        return f"{self.expr(e.team)}.{e.what}()"

    def e_ScratchAlloc(self, e: N.ScratchAlloc) -> str:
        ext = ", ".join(self.expr(x) for x in e.extents)
        return f"{self.expr(e.team)}.scratch({self.expr(e.level)}, {e.per_thread}, {e.type.dtype.name!r}, ({ext},))"

    def e_RandomCall(self, e: N.RandomCall) -> str:
        args = "".join(", " + self.expr(a) for a in e.args)
        return f"_rand_{e.what}({self.expr(e.obj)}{args})"

    def e_Atomic(self, e: N.Atomic) -> str:
        idx = ", ".join(f"_ix({self.expr(i)})" for i in e.index)
        args = ", ".join(self.expr(a) for a in e.args)
        return f"_atomic({e.op!r}, {self.expr(e.view)}, ({idx},), {args})"

    # -------------------------------------------------------------------------------------- statements

    def stmts(self, body: list[N.Stmt], ind: str) -> None:
        if not body:
            self.emit(f"{ind}pass", None)
        for s in body:
            self.stmt(s, ind)

    def stmt(self, s: N.Stmt, ind: str) -> None:
        loc = s.loc
        if isinstance(s, N.Assign):
            value = self.expr(s.value)
            if isinstance(s.value.type, T.StructType) and not isinstance(s.value, N.Construct):
                value = f"_scopy({value})"  # structs have value semantics in kernels (as on every backend)
            self.emit(f"{ind}{pyname(s.target.name)} = {value}", loc)
        elif isinstance(s, N.FieldAssign):
            self.emit(f"{ind}{self.expr(s.target)} = {self.expr(s.value)}", loc)
        elif isinstance(s, N.Store):
            idx = ", ".join(f"_ix({self.expr(i)})" for i in s.index)
            dt = s.view.type.dtype
            val = self.expr(s.value)
            if dt.is_int:
                val = f"_wrap({val}, {dt.bits}, {dt.kind == 'i'})"
            self.emit(f"{ind}{self.expr(s.view)}[{idx}] = {val}", loc)
        elif isinstance(s, N.If):
            self.emit(f"{ind}if {self.expr(s.cond)}:", loc)
            self.stmts(s.then, ind + "    ")
            if s.orelse:
                self.emit(f"{ind}else:", loc)
                self.stmts(s.orelse, ind + "    ")
        elif isinstance(s, N.For):
            rng = f"range({self.expr(s.start)}, {self.expr(s.stop)}, {self.expr(s.step)})"
            if not isinstance(s.step, N.Const):
                rng = f"_range({self.expr(s.start)}, {self.expr(s.stop)}, {self.expr(s.step)})"
            self.emit(f"{ind}for {pyname(s.var.name)} in {rng}:", loc)
            self.stmts(s.body, ind + "    ")
        elif isinstance(s, N.While):
            self.emit(f"{ind}while {self.expr(s.cond)}:", loc)
            self.stmts(s.body, ind + "    ")
        elif isinstance(s, N.Break):
            self.emit(f"{ind}break", loc)
        elif isinstance(s, N.Continue):
            self.emit(f"{ind}continue", loc)
        elif isinstance(s, N.Return):
            if s.value is not None:
                value = self.expr(s.value)
                if isinstance(s.value.type, T.StructType):
                    value = f"_scopy({value})"
                self.emit(f"{ind}return {value}", loc)
            else:
                self.emit(f"{ind}return {self._ret}", loc)
        elif isinstance(s, N.ExprStmt):
            self.emit(f"{ind}{self.expr(s.value)}", loc)
        elif isinstance(s, N.Printf):
            args = ", ".join(self.expr(a) for a in s.args)
            self.emit(f"{ind}_printf({s.fmt!r}, ({args}{',' if s.args else ''}))", loc)
        elif isinstance(s, N.Barrier):
            self.emit(f"{ind}yield  # team_barrier", loc)
        elif isinstance(s, N.Single):
            self.emit(f"{ind}if {self.expr(s.team)}.single({s.per!r}):", loc)
            self.stmts(s.body, ind + "    ")
        elif isinstance(s, N.Nested):
            self.nested(s, ind)
        else:
            raise TypeError(f"no Python for {type(s).__name__}")

    def nested(self, s: N.Nested, ind: str) -> None:
        """Team threads run as generators: a join across them is a slot write, a yield (barrier) and a read."""
        self._n += 1
        n = self._n
        team = self.expr(s.team)
        loc = s.loc
        b = ", ".join(f"({self.expr(lo)}, {self.expr(hi)})" for lo, hi in s.bounds)
        join = s.level != "vector"
        vars_ = ", ".join(pyname(v.name) for v in s.vars)

        def loop(i2: str, chunked: bool) -> None:
            self.emit(f"{i2}for ({vars_},) in {team}.points({s.level!r}, ({b},), {chunked}):", loc)
            self.stmts(s.body, i2 + "    ")

        if s.pattern == "for":
            loop(ind, False)
            return
        red = s.reducer
        acc = pyname(s.acc.name)
        if s.pattern == "reduce":
            loc_acc = isinstance(s.acc.type, T.LocType)
            dt = s.acc.type.val if loc_acc else s.acc.type
            init = (
                f"list(_reducer({red!r}).identity(_dtype({dt.name!r})))"
                if loc_acc
                else f"_reducer({red!r}).identity(_dtype({dt.name!r}))"
            )
            self.emit(f"{ind}{acc} = {init}", loc)
            loop(ind, False)
            val = f"tuple({acc})" if loc_acc else acc
            if join:
                self.emit(f"{ind}{team}.put({val})", loc)
                self.emit(f"{ind}yield", loc)
                self.emit(f"{ind}_j{n} = {team}.join(_reducer({red!r}))", loc)
                self.emit(f"{ind}yield", loc)
                val = f"_j{n}"
            self.emit(f"{ind}{pyname(s.result.name)} = {'list(' + val + ')' if loc_acc else val}", loc)
            return
        fin = pyname(s.final.name)
        zero = "0.0" if s.acc.type.is_float else "0"
        self.emit(f"{ind}_pre{n} = {zero}", loc)
        self.emit(f"{ind}for _pass{n} in (0, 1):", loc)
        i2 = ind + "    "
        self.emit(f"{i2}{fin} = _pass{n} == 1", loc)
        self.emit(f"{i2}{acc} = _pre{n} if _pass{n} else {zero}", loc)
        loop(i2, True)
        self.emit(f"{i2}if _pass{n} == 0:", loc)
        if join:
            self.emit(f"{i2}    {team}.put({acc})", loc)
            self.emit(f"{i2}    yield", loc)
            self.emit(f"{i2}    _pre{n}, _tot{n} = {team}.prefix()", loc)
            self.emit(f"{i2}    yield", loc)
        else:
            self.emit(f"{i2}    _pre{n}, _tot{n} = {zero}, {acc}", loc)
        self.emit(f"{ind}{pyname(s.result.name)} = _tot{n}", loc)

    def locals_init(self, locs: dict[str, T.Type], ind: str) -> None:
        for n, t in sorted(locs.items()):
            if isinstance(t, T.LocType):
                v = "[0.0, -1]"
            elif isinstance(t, T.RandomStateType):
                v = "[1]"
            elif isinstance(t, T.StructType):
                v = "_Struct()"
            elif not isinstance(t, T.ScalarType):
                v = "None"
            else:
                v = "0.0" if t.is_float else "False" if t.is_bool else "0"
            self.emit(f"{ind}{pyname(n)} = {v}", None)

    # -------------------------------------------------------------------------------------- units

    def render(self) -> str:
        k = self.k
        for f in k.functions:
            self._ret = ""
            params = ", ".join(pyname(p.name) for p in f.params)
            self.emit(f"def {f.name}({params}):", f.loc)
            self.locals_init(f.locals, "    ")
            self.stmts(f.body, "    ")
            self.emit("", None)
        head = [p.name for p in k.indices]
        if k.team is not None:
            head.append(k.team.name)
        scalar_acc = k.acc is not None and isinstance(k.acc.type, T.AccType)
        if k.acc is not None:
            head.append(k.acc.name)
        if k.final is not None:
            head.append(k.final.name)
        self._ret = pyname(k.acc.name) if scalar_acc else ""
        params = ", ".join(pyname(n) for n in head + [p.name for p in k.params])
        self.emit(f"def kk_body({params}):", k.loc)
        if k.team is not None:
            self.emit("    if False:  # a team body is a generator: team threads interleave at barriers", None)
            self.emit("        yield", None)
        self.locals_init(k.locals, "    ")
        self.stmts(k.body, "    ")
        if self._ret:
            self.emit(f"    return {self._ret}", None)
        return "\n".join(self.lines) + "\n"


def conv(src: str, dst: T.Type, have: T.Type, from_array: bool = False) -> str:
    """Convert a Python value to the representation of `dst` (Python float/int/bool, wrapped to width)."""
    if not isinstance(dst, T.ScalarType):
        return src
    if dst.is_float:
        if dst is T.float32 and not from_array and isinstance(have, T.ScalarType) and have.is_int:
            return f"_i2f32(int({src}))"
        r = f"float({src})"
        return f"_fop({r})" if dst is T.float32 and not from_array else r
    if dst.is_bool:
        return f"bool({src})"
    if isinstance(have, T.ScalarType) and have.is_float:
        return f"_toint({src}, {dst.bits}, {dst.kind == 'i'})"
    if from_array or (
        isinstance(have, T.ScalarType) and (have.bits <= dst.bits and (have.kind == dst.kind or have.is_bool))
    ):
        return f"int({src})"
    return f"_wrap(int({src}), {dst.bits}, {dst.kind == 'i'})"
