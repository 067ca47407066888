"""The one C++ renderer for kernel bodies and device functions, shared by the host and CUDA drivers.

It renders IR to C++17 that includes only kernelkit's headers. Every user identifier is prefixed (`v_x`) so it
cannot collide with C++ keywords or our names; every string that reaches the output (printf formats, file names
in #line directives) goes through `c_string`. Each statement is preceded by a `#line` directive naming the user's
Python file, so compiler diagnostics and sanitizers point at Python lines.
"""

from __future__ import annotations

import math

from kernelkit import config
from kernelkit.ir import nodes as N
from kernelkit.ir import printf as P
from kernelkit.ir import types as T


def uses_fast_math(kernel: N.Kernel) -> bool:
    """Whether `kernel` is built with contraction and fast math (docs/numerics.md): its own
    `@pk.workunit(fast_math=...)`, else KERNELKIT_FAST_MATH. Every target renders this into the source."""
    return kernel.fast_math if kernel.fast_math is not None else config.get().fast_math


def c_string(s: str) -> str:
    """A C string literal for any Python string (escapes quotes, backslashes, control and non-ASCII bytes)."""
    out = []
    for b in s.encode("utf-8"):
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= b < 127 and ch != "?":  # '?' avoids trigraphs
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def ident(name: str) -> str:
    return "v_" + "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"_u{ord(ch):x}_" for ch in name)


def ctype(t: T.Type) -> str:
    if isinstance(t, T.ScalarType):
        return t.ctype
    if isinstance(t, T.TeamType):
        return "kk::TeamMember"
    if isinstance(t, T.RandomPoolType):
        return "kk::View<uint64_t, 1, 'C'>"
    if isinstance(t, T.RandomStateType):
        return "kk::RandState"
    if isinstance(t, T.StructType):
        return t.name
    if isinstance(t, T.ViewType):
        return f"kk::View<{t.dtype.ctype}, {t.rank}, '{t.layout}'>"
    if isinstance(t, T.AccType):
        return t.dtype.ctype
    if isinstance(t, T.LocType):
        return f"kk::ValLoc<{t.val.ctype}>"
    if isinstance(t, T.VoidType):
        return "void"
    raise TypeError(t)


def literal(value, t: T.ScalarType) -> str:
    if t.is_bool:
        return "true" if value else "false"
    if t.is_float:
        v = float(value)
        if math.isnan(v):
            s = "KK_NAN"
        elif math.isinf(v):
            s = "KK_INF" if v > 0 else "(-KK_INF)"
        else:
            s = repr(v)
        return f"(({t.ctype}){s})"
    v = int(value)
    if t is T.uint64 or (t.kind == "u" and v >= 0):
        return f"(({t.ctype})UINT64_C({v % (1 << 64)}))"
    if v == -(1 << 63):
        return f"(({t.ctype})(-INT64_C(9223372036854775807) - 1))"
    return f"(({t.ctype})INT64_C({v}))"


_MATH32 = {"abs": "kk::abs", "isnan": "kk::isnan", "isinf": "kk::isinf", "isfinite": "kk::isfinite"}


def math_name(fn: str, t: T.ScalarType) -> str:
    if fn in _MATH32:
        return _MATH32[fn]
    if fn == "rsqrt":
        return "kk_rsqrt" if t is T.float64 else "kk_rsqrtf"
    return fn + ("f" if t is T.float32 else "")


class CppRenderer:
    """Renders the functions and the body of a Kernel. `target` is "host" or "cuda"."""

    def __init__(self, kernel: N.Kernel, target: str, line_directives: bool = True):
        self.k = kernel
        self.target = target
        self.lines = line_directives
        self.readonly: frozenset[str] = frozenset()  # View parameters loaded with kk::cuda::ldg
        self._n = 0

    # -------------------------------------------------------------------------------------- expressions

    def expr(self, e: N.Expr) -> str:
        m = getattr(self, "e_" + type(e).__name__)
        return m(e)

    def e_Const(self, e: N.Const) -> str:
        return literal(e.value, e.type)

    def e_Var(self, e: N.Var) -> str:
        return ident(e.name)

    def e_BinOp(self, e: N.BinOp) -> str:
        t = e.type
        a, b = self.expr(e.lhs), self.expr(e.rhs)
        ct = t.ctype
        op = e.op
        if op in ("min", "max"):
            return f"kk::{op}<{ct}>({a}, {b})"
        if op == "//":
            return f"kk::pyfloordiv(({ct}){a}, ({ct}){b})" if t.is_float else f"kk::floordiv<{ct}>({a}, {b})"
        if op == "%":
            return f"kk::pyfmod(({ct}){a}, ({ct}){b})" if t.is_float else f"kk::pymod<{ct}>({a}, {b})"
        if op == "**":
            return f"{math_name('pow', t)}({a}, {b})" if t.is_float else f"kk::ipow<{ct}>({a}, {b})"
        if op in ("<<", ">>") and t.is_int:  # defined for every count (core.h), where C leaves it undefined
            return f"kk::{'shl' if op == '<<' else 'shr'}<{ct}>({a}, {b})"
        if t.is_bool:
            return f"({a} {op} {b})"
        if op in "+-*" and self._wraps(t):
            u = f"uint{t.bits}_t"
            return f"(({ct})(({u})({a}) {op} ({u})({b})))"
        return f"(({ct})({a} {op} {b}))"

    def _wraps(self, t: T.ScalarType) -> bool:
        """Signed 32/64-bit arithmetic done unsigned, so that it wraps as the language defines: the host compiles
        with -fwrapv, which NVRTC does not have (signed overflow is undefined behaviour in C++ otherwise)."""
        return self.target == "cuda" and t.kind == "i" and t.bits >= 32

    def e_UnaryOp(self, e: N.UnaryOp) -> str:
        a = self.expr(e.operand)
        if e.op == "not":
            return f"(!{a})"
        t = e.type
        if e.op == "-" and isinstance(t, T.ScalarType) and self._wraps(t):
            return f"(({t.ctype})((uint{t.bits}_t)0 - (uint{t.bits}_t)({a})))"
        return f"(({t.ctype})({e.op}{a}))"

    def e_Compare(self, e: N.Compare) -> str:
        return f"({self.expr(e.lhs)} {e.op} {self.expr(e.rhs)})"

    def e_Logical(self, e: N.Logical) -> str:
        return f"({self.expr(e.lhs)} {'&&' if e.op == 'and' else '||'} {self.expr(e.rhs)})"

    def e_Select(self, e: N.Select) -> str:
        return f"({self.expr(e.cond)} ? {self.expr(e.a)} : {self.expr(e.b)})"

    def e_Cast(self, e: N.Cast) -> str:
        src = e.value.type
        if isinstance(src, T.ScalarType) and src.is_float and e.type.is_int:  # defined for NaN and overflow
            return f"kk::ftoi<{e.type.ctype}>({self.expr(e.value)})"
        return f"(({e.type.ctype})({self.expr(e.value)}))"

    def e_MathCall(self, e: N.MathCall) -> str:
        t = e.args[0].type if e.fn in ("isnan", "isinf", "isfinite") else e.type
        return f"{math_name(e.fn, t)}({', '.join(self.expr(a) for a in e.args)})"

    def at(self, view: N.Expr, index: list[N.Expr]) -> str:
        """An element: KK_AT (core.h) checks it under KERNELKIT_BOUNDS_CHECK, naming this line."""
        return f"KK_AT(({self.expr(view)}), {', '.join(f'({self.expr(i)})' for i in index)})"

    def e_Load(self, e: N.Load) -> str:
        load = self.at(e.view, e.index)
        if isinstance(e.view, N.Var) and e.view.name in self.readonly:
            return f"kk::cuda::ldg(&{load})"  # CUDA: the read-only data path (backends/cuda/render.py says when)
        return load

    def e_SubView(self, e: N.SubView) -> str:
        parts = []
        for sp in e.spec:
            if sp[0] == "index":
                parts += ["0", self.expr(sp[1]), "0"]
            else:
                parts += [
                    "1",
                    self.expr(sp[1]) if sp[1] is not None else "0",
                    self.expr(sp[2]) if sp[2] is not None else "-1",
                ]
        return f"kk::subview<{e.type.rank}>({self.expr(e.view)}, {', '.join(parts)})"

    def e_Extent(self, e: N.Extent) -> str:
        return f"{self.expr(e.view)}.ext[{e.dim}]"

    def e_Field(self, e: N.Field) -> str:
        if isinstance(e.obj.type, T.StructType):
            return f"{self.expr(e.obj)}.m_{e.name}"
        return f"{self.expr(e.obj)}.{e.name}"

    def e_Construct(self, e: N.Construct) -> str:
        return f"{e.fn.name}({', '.join(self.expr(a) for a in e.args)})"

    def e_Call(self, e: N.Call) -> str:
        return f"{e.fn.name}({', '.join(self.expr(a) for a in e.args)})"

    def e_TeamQuery(self, e: N.TeamQuery) -> str:
        return f"((int64_t){self.expr(e.team)}.{e.what}())"

    def e_ScratchAlloc(self, e: N.ScratchAlloc) -> str:
        ext = ", ".join(self.expr(x) for x in e.extents)
        return (
            f"kk::scratch_view<{e.type.dtype.ctype}, {e.type.rank}>({self.expr(e.team)}, {self.expr(e.level)}, "
            f"{'true' if e.per_thread else 'false'}, {ext})"
        )

    def e_RandomCall(self, e: N.RandomCall) -> str:
        args = "".join(", " + self.expr(a) for a in e.args)
        if e.what == "get_state":
            return f"kk::rand_get({self.expr(e.obj)})"
        return f"kk::rand_{e.what}({self.expr(e.obj)}{args})"

    def e_Atomic(self, e: N.Atomic) -> str:
        ptr = f"&{self.at(e.view, e.index)}"
        args = ", ".join(self.expr(a) for a in e.args)
        fn = {"cas": "atomic_fetch_cas", "exchange": "atomic_fetch_exchange"}.get(e.op, f"atomic_fetch_{e.op}")
        return f"kk::{fn}<{e.type.ctype}>({ptr}, {args})"

    # -------------------------------------------------------------------------------------- statements

    def line(self, s: N.Stmt | N.Kernel | N.Function) -> str:
        if not self.lines or s.loc.line <= 0:
            return ""
        return f"#line {s.loc.line} {c_string(s.loc.file)}\n"

    def stmts(self, body: list[N.Stmt], ind: str) -> str:
        return "".join(self.stmt(s, ind) for s in body)

    def stmt(self, s: N.Stmt, ind: str) -> str:
        pre = self.line(s) + ind
        if isinstance(s, N.Assign):
            return f"{pre}{ident(s.target.name)} = {self.expr(s.value)};\n"
        if isinstance(s, N.FieldAssign):
            return f"{pre}{self.expr(s.target)} = {self.expr(s.value)};\n"
        if isinstance(s, N.Store):
            return f"{pre}{self.at(s.view, s.index)} = {self.expr(s.value)};\n"
        if isinstance(s, N.If):
            out = f"{pre}if ({self.expr(s.cond)}) {{\n{self.stmts(s.then, ind + '    ')}{ind}}}"
            if s.orelse:
                out += f" else {{\n{self.stmts(s.orelse, ind + '    ')}{ind}}}"
            return out + "\n"
        if isinstance(s, N.For):
            self._n += 1
            n = self._n
            it, stop, step = f"kk_it{n}", f"kk_stop{n}", f"kk_step{n}"
            if isinstance(s.step, N.Const):
                cond = f"{it} < {stop}" if s.step.value > 0 else f"{it} > {stop}"
            else:
                cond = f"({step} > 0 ? {it} < {stop} : ({step} < 0 && {it} > {stop}))"
            head = (
                f"for (int64_t {it} = {self.expr(s.start)}, {stop} = {self.expr(s.stop)}, "
                f"{step} = {self.expr(s.step)}; {cond}; {it} += {step}) {{\n"
            )
            body = f"{ind}    {ident(s.var.name)} = ({s.var.type.ctype}){it};\n" + self.stmts(s.body, ind + "    ")
            return f"{pre}{head}{body}{ind}}}\n"
        if isinstance(s, N.While):
            return f"{pre}while ({self.expr(s.cond)}) {{\n{self.stmts(s.body, ind + '    ')}{ind}}}\n"
        if isinstance(s, N.Break):
            return f"{pre}break;\n"
        if isinstance(s, N.Continue):
            return f"{pre}continue;\n"
        if isinstance(s, N.Return):
            return f"{pre}return{(' ' + self.expr(s.value)) if s.value is not None else ''};\n"
        if isinstance(s, N.ExprStmt):
            return f"{pre}(void)({self.expr(s.value)});\n"
        if isinstance(s, N.Printf):
            return pre + self.printf(s) + "\n"
        if isinstance(s, N.Barrier):
            return f"{pre}{self.expr(s.team)}.barrier();\n"
        if isinstance(s, N.Single):
            per = "kk::PER_TEAM" if s.per == "team" else "kk::PER_THREAD"
            return f"{pre}if ({self.expr(s.team)}.single({per})) {{\n{self.stmts(s.body, ind + '    ')}{ind}}}\n"
        if isinstance(s, N.Nested):
            return pre + self.nested(s, ind)
        raise TypeError(f"no C++ for {type(s).__name__}")

    def nested(self, s: N.Nested, ind: str) -> str:
        """A nested pattern: this participant's share of the range, then the join across the level."""
        self._n += 1
        n = self._n
        level = {"thread": "kk::LEVEL_THREAD", "vector": "kk::LEVEL_VECTOR", "teamvector": "kk::LEVEL_TEAMVECTOR"}[
            s.level
        ]
        team = self.expr(s.team)
        i2 = ind + "    "
        out = ["{\n"]
        dims = len(s.bounds)
        for d, (b, e) in enumerate(s.bounds):
            out.append(f"{i2}const int64_t kk_b{n}_{d} = {self.expr(b)}, kk_e{n}_{d} = {self.expr(e)};\n")
        if dims == 1:
            total_b, total_e = f"kk_b{n}_0", f"kk_e{n}_0"
        else:  # flattened, last dimension fastest
            ext = " * ".join(f"(kk_e{n}_{d} > kk_b{n}_{d} ? kk_e{n}_{d} - kk_b{n}_{d} : 0)" for d in range(dims))
            out.append(f"{i2}const int64_t kk_t{n} = {ext};\n")
            total_b, total_e = "0", f"kk_t{n}"
        acc_t = ctype(s.acc.type) if s.acc is not None else None
        red = f"kk::{s.reducer}" if s.reducer else None
        host = self.target == "host"
        own = N.writes_own_elements(
            s.body, {v.name for v in s.vars}, any(getattr(f, "_writes", None) for f in self.k.functions)
        )
        # on the host every share is contiguous (stride 1), and each thread runs its share as one simd loop: a
        # vector range always (its iterations are independent by definition), a thread range when the body
        # provably writes only its own elements; reductions vectorize with a simd reduction clause
        own = own and not self.k.no_simd  # a build for overlapping arguments runs every loop in order
        host_simd = host and (s.level in ("vector", "teamvector") or own) and own

        def loop(chunked: bool, simd: str) -> str:
            it = f"kk_it{n}"
            head = (
                f"{i2}int64_t kk_lo{n}, kk_hi{n}, kk_st{n};\n"
                f"{i2}{team}.{'chunk' if chunked else 'range'}({level}, {total_b}, {total_e}, &kk_lo{n}, "
                f"&kk_hi{n}, &kk_st{n});\n"
            )
            if host and dims > 1 and not chunked:
                # an MD range on a one-thread host team: plain nested loops (no div/mod per element), the last
                # dimension innermost and vectorizable
                head += f"{i2}if ({team}.team_size() == 1 && {team}.vector_length_host_is_one()) {{\n"
                for d in range(dims):
                    v = ident(s.vars[d].name)
                    inner_simd = simd.replace(i2, i2 + "    " * (d + 1)) if d == dims - 1 else ""
                    head += inner_simd
                    head += f"{i2}{'    ' * (d + 1)}for ({v} = kk_b{n}_{d}; {v} < kk_e{n}_{d}; ++{v}) {{\n"
                head += self.stmts(s.body, i2 + "    " * (dims + 1))
                for d in range(dims - 1, -1, -1):
                    head += f"{i2}{'    ' * (d + 1)}}}\n"
                head += f"{i2}}} else {{\n"
                tail = f"{i2}}}\n"
            else:
                tail = ""
            head += simd
            if dims == 1:
                assign = f"{i2}    {ident(s.vars[0].name)} = {it};\n"
            else:
                assign = f"{i2}    int64_t kk_r{n} = {it};\n"
                for d in range(dims - 1, -1, -1):
                    v = ident(s.vars[d].name)
                    if d == 0:
                        assign += f"{i2}    {v} = kk_b{n}_0 + kk_r{n};\n"
                    else:
                        w = f"(kk_e{n}_{d} - kk_b{n}_{d})"
                        assign += f"{i2}    {v} = kk_b{n}_{d} + kk_r{n} % {w}; kk_r{n} /= {w};\n"
            if host or chunked:
                step = "++" + it if host else f"{it} += kk_st{n}"
                head += f"{i2}for (int64_t {it} = kk_lo{n}; {it} < kk_hi{n}; {step}) {{\n"
                return head + assign + self.stmts(s.body, i2 + "    ") + f"{i2}}}\n" + tail
            # CUDA: the rounds in which every participant has an index, then at most one more. With the team
            # shape compiled in and constant bounds, the round count is a constant: the loop unrolls into
            # straight-line code (several loads in flight) and the last round vanishes when the range divides
            # evenly; otherwise the count costs one division by a constant, not one per trip.
            full, b = f"kk_full{n}", total_b
            head += (
                f"{i2}const int64_t kk_len{n} = kk_hi{n} > {b} ? kk_hi{n} - {b} : 0, {full} = kk_len{n} / kk_st{n};\n"
                f"{i2}const int64_t kk_id{n} = kk_lo{n} - {b};\n"
                f"{i2}KK_PRAGMA(unroll 4)\n"
                f"{i2}for (int64_t kk_rd{n} = 0; kk_rd{n} < {full}; ++kk_rd{n}) {{\n"
                f"{i2}    const int64_t {it} = kk_lo{n} + kk_rd{n} * kk_st{n};\n"
            )
            # the last round as a loop of at most one trip: the body's `continue` (a nested `return`) still works
            once = f"kk_once{n}"
            last = (
                f"{i2}for (bool {once} = {full} * kk_st{n} + kk_id{n} < kk_len{n}; {once}; {once} = false) {{\n"
                f"{i2}    const int64_t {it} = kk_lo{n} + {full} * kk_st{n};\n"
            )
            body = self.stmts(s.body, i2 + "    ")
            rest = self.stmts(s.body, i2 + "    ")  # rendered twice: fresh names for the nested constructs
            return head + assign + body + f"{i2}}}\n" + last + assign + rest + f"{i2}}}\n" + tail

        if s.pattern == "for":
            out.append(loop(False, f"{i2}KK_PRAGMA(omp simd)\n" if host_simd else ""))
        elif s.pattern == "reduce":
            acc = ident(s.acc.name)
            simd = ""
            if host and own and s.reducer == "Sum" and isinstance(s.acc.type, T.ScalarType):
                simd = f"{i2}KK_PRAGMA(omp simd reduction(+ : {acc}))\n"
            out.append(f"{i2}{acc} = {red}::template identity<{acc_t}>();\n")
            out.append(loop(False, simd))
            out.append(f"{i2}{ident(s.result.name)} = {team}.template reduce<{red}, {acc_t}>({level}, {acc});\n")
        else:
            acc, fin = ident(s.acc.name), ident(s.final.name)
            out.append(f"{i2}{acc_t} kk_prefix{n} = 0, kk_total{n} = 0;\n")
            out.append(f"{i2}for (int kk_pass{n} = 0; kk_pass{n} < 2; ++kk_pass{n}) {{\n")
            out.append(f"{i2}{fin} = kk_pass{n} == 1;\n{i2}{acc} = kk_pass{n} ? kk_prefix{n} : ({acc_t})0;\n")
            out.append(loop(True, ""))
            out.append(
                f"{i2}if (kk_pass{n} == 0) kk_prefix{n} = {team}.template scan_prefix<{acc_t}>({level}, "
                f"{acc}, &kk_total{n});\n{i2}}}\n"
            )
            out.append(f"{i2}{ident(s.result.name)} = kk_total{n};\n")
        out.append(f"{ind}}}\n")
        return "".join(out)

    def printf(self, s: N.Printf) -> str:
        """Rewrite each conversion for the argument's C type: the user's format never reaches printf as-is."""
        convs = P.conversions(s.fmt) or []
        out, args, pos = [], [], 0
        for conv, a in zip(convs, s.args, strict=True):
            k = s.fmt.index(conv, pos)
            out.append(s.fmt[pos:k])
            pos = k + len(conv)
            flags = conv[1:-1].rstrip("lhzj")
            c = conv[-1]
            v = self.expr(a)
            if c in "di":
                out.append(f"%{flags}lld")
                args.append(f"(long long)({v})")
            elif c in "uxX":
                out.append(f"%{flags}ll{c}")
                args.append(f"(unsigned long long)({v})")
            elif c == "c":
                out.append(f"%{flags}c")
                args.append(f"(int)({v})")
            else:
                out.append(f"%{flags}{c}")
                args.append(f"(double)({v})")
        out.append(s.fmt[pos:])
        fmt = "".join(out).replace("%%", "%%")
        return f"printf({', '.join([c_string(fmt)] + args)});"

    # -------------------------------------------------------------------------------------- units

    def locals_decl(self, locs: dict[str, T.Type], ind: str) -> str:
        return "".join(
            f"{ind}{ctype(t)} {ident(n)}{' = 0' if isinstance(t, T.ScalarType) else '{}'};\n"
            for n, t in sorted(locs.items())
        )

    def structs(self) -> str:
        """The classtype structs, before the functions that use them."""
        out = []
        for st in self.k.structs:
            fields = "".join(f"    {ctype(t)} m_{n};\n" for n, t in st.fields.items())
            out.append(f"struct {st.name} {{\n{fields}}};\n")
        return "".join(out)

    def function_head(self, f: N.Function) -> str:
        def decl(p):
            if isinstance(p.type, T.ViewType):
                return f"const {ctype(p.type)}& "
            if isinstance(p.type, T.StructType):
                return f"{ctype(p.type)}& "  # Python passes objects by reference
            return f"{ctype(p.type)} "

        params = ", ".join(decl(p) + ident(p.name) for p in f.params)
        # Parameters are mutable locals in Python: scalar ones are passed by value. A compiled function called
        # from a program (loops/callees.py) may be recursive: an ordinary function, not a forced-inline one.
        if getattr(f, "_kk_callee", False):
            qual = "static __device__" if self.target == "cuda" else "static"
        else:
            qual = "KK_FUNCTION"
        return f"{qual} {ctype(f.ret)} {f.name}({params})"

    def prototypes(self, functions: list[N.Function]) -> str:
        """Declarations of the compiled functions a program calls, before any definition (recursion)."""
        return "".join(f"{self.function_head(f)};\n" for f in functions if getattr(f, "_kk_callee", False))

    def function(self, f: N.Function) -> str:
        head = self.function_head(f)
        return f"{self.line(f)}{head} {{\n{self.locals_decl(f.locals, '    ')}{self.stmts(f.body, '    ')}}}\n"

    def body_params(self) -> list[tuple[str, str]]:
        """(C parameter declaration, C argument expression) for the body function, in order."""
        k = self.k
        out = [(f"int64_t {ident(p.name)}", ident(p.name)) for p in k.indices]
        if k.team is not None:
            out.append((f"kk::TeamMember& {ident(k.team.name)}", ident(k.team.name)))
        if k.acc is not None:
            out.append((f"{ctype(k.acc.type)}& {ident(k.acc.name)}", ident(k.acc.name)))
        if k.final is not None:
            out.append((f"bool {ident(k.final.name)}", ident(k.final.name)))
        for p in k.params:
            view_like = isinstance(p.type, (T.ViewType, T.RandomPoolType))
            decl = f"const {ctype(p.type)}& " if view_like else f"{ctype(p.type)} "
            out.append((decl + ident(p.name), ident(p.name)))
        return out

    def body(self) -> str:
        k = self.k
        params = ", ".join(d for d, _ in self.body_params())
        # Scalar parameters may be reassigned by the body (they are Python locals): passed by value.
        return (
            f"{self.line(k)}static KK_FUNCTION void kk_body({params}) {{\n"
            f"{self.locals_decl(k.locals, '    ')}{self.stmts(k.body, '    ')}}}\n"
        )

    def unpack_params(self, ind: str, args: str = "L->args") -> str:
        """Declarations turning the packed kk_arg_t array into typed locals (used by the drivers)."""
        out = []
        for n, p in enumerate(self.k.params):
            t = p.type
            v = ident(p.name)
            if isinstance(t, (T.ViewType, T.RandomPoolType)):
                out.append(f"{ind}const {ctype(t)} {v}({args}[{n}].a, {c_string(p.name)});\n")
            elif t.is_float:
                out.append(f"{ind}const {t.ctype} {v} = ({t.ctype}){args}[{n}].f;\n")
            elif t.is_bool:
                out.append(f"{ind}const bool {v} = {args}[{n}].i != 0;\n")
            elif t.kind == "u":
                out.append(f"{ind}const {t.ctype} {v} = ({t.ctype}){args}[{n}].u;\n")
            else:
                out.append(f"{ind}const {t.ctype} {v} = ({t.ctype}){args}[{n}].i;\n")
        return "".join(out)

    def acc_ctype(self) -> str:
        k = self.k
        return ctype(k.acc.type) if k.acc is not None else "void"


def result_tag(kernel: N.Kernel) -> str:
    """How the launcher converts the kk_result_t back to Python (see _native.c)."""
    if kernel.acc is None:
        return ""
    t = kernel.acc.type
    st = t.val if isinstance(t, T.LocType) else t.dtype
    tag = "f" if st.is_float else "b" if st.is_bool else "u" if st.kind == "u" else "i"
    return tag.upper() if isinstance(t, T.LocType) else tag
