"""A grammar of small kernels for the differential fuzzer (tests/fuzz/test_fuzz_differential.py).

`kernels()` is a Hypothesis strategy drawing a `Case`: the Python source of one workunit of a chosen pattern
(parallel_for over a range or an MDRange, parallel_reduce, parallel_scan, a TeamPolicy body) written in the
kernel language (arithmetic and comparisons over int32/int64/float32/float64, casts, math calls, min/max/abs,
conditional expressions, locals, if/else, for and while loops with break/continue, atomics), and the arguments
to run it with: arrays holding edge values (0, -0.0, +-inf, nan, denormals, INT_MIN/INT_MAX, ...) of sizes 0, 1,
odd and larger. Expressions are generated with the types the language gives them (docs/numerics.md), so almost
every kernel compiles; one that does not must be refused the same way by every space.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

I32, I64, F32, F64, BOOL = "int32", "int64", "float32", "float64", "bool"
NUMERIC = (I32, I64, F32, F64)
INTS = (I32, I64)
FLOATS = (F32, F64)

# the 1-D input arrays every kernel may read, by element type
ARRAYS = {F64: "a", F32: "b", I32: "c", I64: "d"}

F_EDGES = [0.0, -0.0, 1.0, -1.5, 0.5, 3.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 1e308, -1e308, 2.0**31, 1e30]
I32_EDGES = [0, 1, -1, 2, -7, 100, 2**31 - 1, -(2**31), 31, 32]
I64_EDGES = [0, 1, -1, 3, -5, 2**31, 2**63 - 1, -(2**63), 63, 64, 2**40 + 3]

INT_LITERALS = {I32: [0, 1, -1, 2, 3, 7, -4, 31, 100, 2**31 - 1, -(2**31)], I64: [0, 1, -1, 5, 2**31, 2**40, 63, 64]}
FLOAT_LITERALS = ["0.0", "-0.0", "0.5", "1.0", "-1.5", "2.0", "3.25", "1e30", "1e-310", "1e300", "0.1"]


def promote(a: str, b: str) -> str:
    """The kernel language's promotion (NumPy's) over the four numeric types."""
    if a == b:
        return a
    if a in FLOATS or b in FLOATS:
        if a in FLOATS and b in FLOATS:
            return F64
        return F64  # float32 with an int32/int64 is float64 (NumPy)
    return I64


@dataclass
class Scope:
    """Locals visible at a point of the body, with their types (first assignment decides, as in kernels)."""

    names: dict[str, str] = field(default_factory=dict)
    counter: list[int] = field(default_factory=lambda: [0])
    index_vars: tuple[str, ...] = ("i",)
    in_loop: bool = False

    def fresh(self) -> str:
        self.counter[0] += 1
        return f"x{self.counter[0]}"

    def child(self, in_loop: bool | None = None) -> Scope:
        return Scope(dict(self.names), self.counter, self.index_vars, self.in_loop if in_loop is None else in_loop)


class Gen:
    """Draws typed expressions and statements (the `draw` of a Hypothesis composite strategy)."""

    def __init__(self, draw, pattern: str, md: bool = False):
        self.draw = draw
        self.pattern = pattern
        self.md = md  # MDRange kernels read a2[i, j] too
        self.atomic: str | None = None

    def choice(self, options):
        return self.draw(st.sampled_from(options))

    # ------------------------------------------------------------------------------------------ expressions

    def leaf(self, t: str, scope: Scope) -> str:
        options = []
        own = [n for n, lt in scope.names.items() if lt == t]
        if own:
            options += [("local", n) for n in own]
        options.append(("load", None))
        if t in INTS:
            options += [("literal", None), ("index", None)]
        else:
            options.append(("literal", None))
        kind, name = self.choice(options)
        if kind == "local":
            return name
        if kind == "load":
            if self.md and self.draw(st.booleans()) and t == F64:
                return "a2[i, j]"
            return f"{ARRAYS[t]}[i]"
        if kind == "index":
            v = self.choice(list(scope.index_vars))
            return v if t == I64 else f"pk.int32({v})"
        if t in INTS:
            value = self.choice(INT_LITERALS[t])
            text = str(value) if value >= 0 else f"({value})"
            return text if t == I64 else f"pk.int32({text})"  # a typed literal: int32 whatever its value
        text = self.choice(FLOAT_LITERALS)
        return f"({text})" if t == F64 else f"pk.float32({text})"

    def expr(self, t: str, scope: Scope, depth: int) -> str:
        """An expression of kernel type `t`."""
        if t == BOOL:
            return self.condition(scope, depth)
        if depth <= 0:
            return self.leaf(t, scope)
        kind = self.choice(["leaf", "binop", "binop", "cast", "call", "minmax", "select", "unary"])
        if kind == "leaf":
            return self.leaf(t, scope)
        if kind == "binop":
            return self.binop(t, scope, depth)
        if kind == "cast":
            src = self.choice(list(NUMERIC))
            inner = self.expr(src, scope, depth - 1)
            return self.cast(inner, t)
        if kind == "call":
            if t in FLOATS:
                fn = self.choice(
                    [
                        "sqrt",
                        "exp",
                        "log",
                        "sin",
                        "cos",
                        "floor",
                        "ceil",
                        "trunc",
                        "fabs",
                        "tanh",
                        "atan",
                        "expm1",
                        "log1p",
                        "cbrt",
                        "erf",
                        "atan2",
                        "hypot",
                        "fmod",
                        "copysign",
                        "fmin",
                        "fmax",
                        "pow",
                    ]
                )
                if fn in ("atan2", "hypot", "fmod", "copysign", "fmin", "fmax", "pow"):
                    prefix = "pk." if fn in ("fmin", "fmax", "cbrt") else "math."
                    return f"{prefix}{fn}({self.expr(t, scope, depth - 1)}, {self.expr(t, scope, depth - 1)})"
                prefix = "pk." if fn == "cbrt" else "math."
                return f"{prefix}{fn}({self.expr(t, scope, depth - 1)})"
            return f"abs({self.expr(t, scope, depth - 1)})"
        if kind == "minmax":
            fn = self.choice(["min", "max"])
            return f"{fn}({self.expr(t, scope, depth - 1)}, {self.expr(t, scope, depth - 1)})"
        if kind == "select":
            c = self.condition(scope, depth - 1)
            return f"({self.expr(t, scope, depth - 1)} if {c} else {self.expr(t, scope, depth - 1)})"
        return f"(-{self.expr(t, scope, depth - 1)})"

    def cast(self, inner: str, t: str) -> str:
        return {
            I32: f"pk.int32({inner})",
            I64: f"pk.int64({inner})",
            F32: f"pk.float32({inner})",
            F64: f"float({inner})",
        }[t]

    def binop(self, t: str, scope: Scope, depth: int) -> str:
        """`x op y` of type t: operand types chosen so that the language's promotion gives t."""
        if t in INTS:
            op = self.choice(["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>", "**"])
            other = I32 if t == I32 else self.choice([I32, I64])
            a, b = (t, other) if self.draw(st.booleans()) else (other, t)
            if op in ("<<", ">>"):
                b = t if t == I32 else b  # the count: any integer (defined for every count)
            if op == "**":  # a small exponent (a large one only wraps, slowly on Debug)
                return f"({self.expr(t, scope, depth - 1)} ** {self.choice(['0', '1', '2', '3', '(-1)'])})"
            return f"({self.expr(a, scope, depth - 1)} {op} {self.expr(b, scope, depth - 1)})"
        op = self.choice(["+", "-", "*", "/", "//", "%", "+", "*", "**"])
        if t == F32:
            a, b = F32, F32
        else:
            other = self.choice(list(NUMERIC))
            a, b = (F64, other) if self.draw(st.booleans()) else (other, F64)
        return f"({self.expr(a, scope, depth - 1)} {op} {self.expr(b, scope, depth - 1)})"

    def condition(self, scope: Scope, depth: int) -> str:
        kind = self.choice(["cmp", "cmp", "not", "andor", "isnan"]) if depth > 0 else "cmp"
        if kind == "cmp" or depth <= 0:
            t = self.choice(list(NUMERIC))
            op = self.choice(["<", "<=", ">", ">=", "==", "!="])
            d = max(depth - 1, 0)
            return f"({self.expr(t, scope, d)} {op} {self.expr(t, scope, d)})"
        if kind == "not":
            return f"(not {self.condition(scope, depth - 1)})"
        if kind == "andor":
            op = self.choice(["and", "or"])
            return f"({self.condition(scope, depth - 1)} {op} {self.condition(scope, depth - 1)})"
        fn = self.choice(["isnan", "isinf", "isfinite"])
        return f"math.{fn}({self.expr(self.choice(list(FLOATS)), scope, depth - 1)})"

    # ------------------------------------------------------------------------------------------ statements

    def assign_new(self, scope: Scope, ind: str, depth: int) -> list[str]:
        t = self.choice(list(NUMERIC))
        name = scope.fresh()
        line = f"{ind}{name} = {self.expr(t, scope, depth)}"
        scope.names[name] = t
        return [line]

    def reassign(self, scope: Scope, ind: str, depth: int) -> list[str]:
        mine = sorted(n for n in scope.names if n.startswith("x"))  # never an index or a loop variable
        if not mine:
            return self.assign_new(scope, ind, depth)
        name = self.choice(mine)
        t = scope.names[name]
        if self.draw(st.booleans()) and t != BOOL:
            op = self.choice(["+", "-", "*"] + (["//", "%", "^"] if t in INTS else ["/"]))
            rhs_t = t if t in INTS else self.choice([t, I32])
            if t == I32:
                rhs_t = I32
            return [f"{ind}{name} {op}= {self.expr(rhs_t, scope, depth)}"]
        return [f"{ind}{name} = {self.expr(t, scope, depth)}"]

    def block(self, scope: Scope, ind: str, depth: int, n: int) -> list[str]:
        lines: list[str] = []
        for _ in range(n):
            lines += self.statement(scope, ind, depth)
        return lines or [f"{ind}pass"]

    def statement(self, scope: Scope, ind: str, depth: int) -> list[str]:
        kinds = ["new", "new", "re", "re"]
        if depth > 0:
            kinds += ["if", "for", "while"]
        if scope.in_loop:
            kinds.append("jump")
        if self.pattern == "for":
            kinds.append("atomic")
        kind = self.choice(kinds)
        e_depth = self.draw(st.integers(0, 3))
        if kind == "new":
            return self.assign_new(scope, ind, e_depth)
        if kind == "re":
            return self.reassign(scope, ind, e_depth)
        if kind == "atomic":
            slot = f"abs({self.expr(I32, scope, 1)}) % 8"
            if self.atomic is None:  # one kind per kernel: adds and maxes of one slot do not commute
                self.atomic = self.choice(["atomic_add", "atomic_max", "atomic_min"])
            fn = self.atomic
            value = self.expr(I64, scope, 1)
            return [f"{ind}pk.{fn}(hist, [{slot}], {value})"]
        if kind == "jump":
            return [f"{ind}if {self.condition(scope, 1)}:", f"{ind}    {self.choice(['break', 'continue'])}"]
        if kind == "if":
            cond = self.condition(scope, 2)
            then_scope, else_scope = scope.child(), scope.child()
            then = self.block(then_scope, ind + "    ", depth - 1, self.draw(st.integers(1, 3)))
            out = [f"{ind}if {cond}:", *then]
            if self.draw(st.booleans()):
                out += [f"{ind}else:", *self.block(else_scope, ind + "    ", depth - 1, self.draw(st.integers(1, 2)))]
            return out  # locals made in a branch stay local to it here (the frontend would reject reads after)
        if kind == "for":
            var = f"j{scope.counter[0]}"
            scope.counter[0] += 1
            bound = self.choice(["0", "1", "3", "4", f"abs({self.expr(I32, scope, 1)}) % 5"])
            inner = scope.child(in_loop=True)
            inner.names[var] = I64
            inner.index_vars = (*scope.index_vars, var)
            body = self.block(inner, ind + "    ", depth - 1, self.draw(st.integers(1, 3)))
            return [f"{ind}for {var} in range({bound}):", *body]
        # while: a counted loop (a break inside may end it early)
        var = scope.fresh()
        limit = self.draw(st.integers(0, 4))
        inner = scope.child(in_loop=True)
        body = self.block(inner, ind + "    ", depth - 1, self.draw(st.integers(1, 2)))
        scope.names[var] = I64
        return [f"{ind}{var} = 0", f"{ind}while {var} < {limit}:", f"{ind}    {var} += 1", *body]


@dataclass
class Case:
    pattern: str  # for | mdrange | reduce | scan | team
    source: str  # the module's source: imports and one workunit named `kernel`
    n: int  # range length (league size for teams; rows for MDRanges)
    m: int = 1  # MDRange columns
    reducer: str = "Sum"
    seed: int = 0  # of the random part of the inputs

    def arrays(self) -> dict[str, np.ndarray]:
        """Inputs with edge values first, then random ones; fresh arrays on every call."""
        rng = np.random.default_rng(self.seed)
        n = max(self.n, 1) * (self.m if self.pattern == "mdrange" else 1)

        def fill(edges, dtype, rand):
            out = np.array([edges[k % len(edges)] for k in range(n)], dtype=np.float64 if dtype is float else None)
            if n > len(edges):
                out[len(edges) :] = rand(n - len(edges))
            return out

        with np.errstate(over="ignore", invalid="ignore"):
            f = fill(F_EDGES, float, lambda k: rng.standard_normal(k) * 10.0 ** rng.integers(-3, 4, k))
            i32 = np.array([I32_EDGES[k % len(I32_EDGES)] for k in range(n)], dtype=np.int64)
            i32[len(I32_EDGES) :] = rng.integers(-1000, 1000, max(n - len(I32_EDGES), 0))
            i64 = np.array([I64_EDGES[k % len(I64_EDGES)] for k in range(n)], dtype=object)
            i64 = np.array([int(v) for v in i64], dtype=np.int64)
            i64[len(I64_EDGES) :] = rng.integers(-(10**12), 10**12, max(n - len(I64_EDGES), 0))
            perm = rng.permutation(n)
            arrays = {
                "a": f[perm],
                "b": f[rng.permutation(n)].astype(np.float32),
                "c": i32[rng.permutation(n)].astype(np.int32),
                "d": i64[perm],
            }
        if self.pattern == "mdrange":
            arrays = {k: v.reshape(self.n, self.m)[:, 0].copy() for k, v in arrays.items()}
            arrays["a2"] = f[perm].reshape(self.n, self.m)
            arrays["out2"] = np.zeros((self.n, self.m))
        if self.pattern in ("for", "team", "mdrange", "scan"):
            rows = self.n
            arrays.update(
                out_f=np.zeros(rows),
                out_i=np.zeros(rows, np.int64),
                out_f32=np.zeros(rows, np.float32),
                out_i32=np.zeros(rows, np.int32),
            )
        if self.pattern == "for":
            arrays["hist"] = np.zeros(8, np.int64)
        for k in ("a", "b", "c", "d"):
            arrays[k] = arrays[k][: max(self.n, 1)]
        return arrays


HEADER = "import math\n\nimport kernelkit as pk\n\n\n@pk.workunit\n"


PATTERNS = ("for", "mdrange", "reduce", "scan", "team")


@st.composite
def kernels(draw, pattern: str | None = None) -> Case:
    """A kernel of `pattern` (any, when None)."""
    if pattern is None:
        pattern = draw(st.sampled_from(["for", "for", "for", "mdrange", "reduce", "reduce", "scan", "team"]))
    gen = Gen(draw, pattern, md=pattern == "mdrange")
    n = draw(st.sampled_from([1, 2, 7, 33] if pattern == "mdrange" else [0, 1, 2, 7, 33, 100]))
    seed = draw(st.integers(0, 2**16))
    scope = Scope(index_vars=("i", "j") if pattern == "mdrange" else ("i",))
    depth = draw(st.integers(1, 3))
    ind = "    "
    head = {
        "for": "def kernel(i, a, b, c, d, out_f, out_i, out_f32, out_i32, hist):",
        "mdrange": "def kernel(i, j, a, b, c, d, a2, out2, out_f, out_i, out_f32, out_i32):",
        "reduce": "def kernel(i, acc, a, b, c, d):",
        "scan": "def kernel(i, acc, final, a, b, c, d, out_f, out_i, out_f32, out_i32):",
        "team": "def kernel(team, a, b, c, d, out_f, out_i, out_f32, out_i32):",
    }[pattern]
    lines = [head]
    if pattern == "team":
        lines.append(f"{ind}i = team.league_rank()")
        scope.names["i"] = I64
    lines += gen.block(scope, ind, depth, draw(st.integers(1, 5)))
    if pattern == "team" and draw(st.booleans()):
        # a nested reduction over the team's threads, its result used by the league body
        inner = Scope(names={"i": I64, "k": I64}, index_vars=("i", "k"))
        value = gen.expr(I64, inner, draw(st.integers(0, 2)))
        count = draw(st.sampled_from(["0", "1", "5", "abs(c[i]) % 7"]))
        name = scope.fresh()
        lines += [
            f"{ind}def inner(k: int, s: pk.Acc[pk.int64]):",
            f"{ind}    s += {value}",
            f"{ind}{name} = pk.parallel_reduce(pk.TeamThreadRange(team, {count}), inner, pk.Sum)",
        ]
        scope.names[name] = I64
    if pattern in ("for", "team") and draw(st.integers(0, 3)) == 0:
        # a compound assignment into a View element (NumPy's in-place rule: the result converted back)
        lines += [f"{ind}out_i[i] = {gen.expr(I64, scope, 1)}", f"{ind}out_i[i] += {gen.expr(I64, scope, 1)}"]
        lines += [f"{ind}out_f[i] = {gen.expr(F64, scope, 1)}", f"{ind}out_f[i] *= {gen.expr(F32, scope, 1)}"]
    reducer = "Sum"
    if pattern == "reduce":
        kind = draw(st.sampled_from(["int-sum", "int-sum", "float-max", "float-min", "float-sum", "int-max"]))
        reducer = {"int-sum": "Sum", "float-max": "Max", "float-min": "Min", "float-sum": "Sum", "int-max": "Max"}[kind]
        t = F64 if kind.startswith("float") else I64
        value = gen.expr(t, scope, draw(st.integers(0, 3)))
        if reducer == "Sum":
            lines.append(f"{ind}acc += {value}")
        else:
            # acc first: `max(acc, v)` never lets a NaN in, whatever the order of the joins; `max(v, acc)` with NaN
            # values depends on it (docs/numerics.md), so it is not compared
            lines.append(f"{ind}acc = {reducer.lower()}(acc, {value})")
        if t == F64:
            lines[0] = lines[0].replace("acc,", "acc: pk.Acc[pk.double],")
    elif pattern == "scan":
        lines.append(f"{ind}acc += {gen.expr(I64, scope, draw(st.integers(0, 2)))}")
        lines.append(f"{ind}if final:")
        lines.append(f"{ind}    out_i[i] = acc")
    else:
        row = "i"
        for out, t in (("out_f", F64), ("out_i", I64), ("out_f32", F32), ("out_i32", I32)):
            if draw(st.booleans()) or out == "out_f":
                lines.append(f"{ind}{out}[{row}] = {gen.expr(t, scope, draw(st.integers(0, 3)))}")
        if pattern == "mdrange":
            lines.append(f"{ind}out2[i, j] = {gen.expr(F64, scope, draw(st.integers(0, 3)))}")
    m = draw(st.sampled_from([1, 3, 8])) if pattern == "mdrange" else 1
    if pattern == "mdrange":
        # every (i, j) writes row i of the 1-D outputs: only the j == 0 column does, so the result is defined
        body = lines[1:]
        stores = [ln for ln in body if ln.startswith(f"{ind}out_")]
        rest = [ln for ln in body if not ln.startswith(f"{ind}out_")]
        lines = [lines[0], *rest, f"{ind}if j == 0:", *("    " + s for s in stores)] if stores else lines
    return Case(pattern, HEADER + "\n".join(lines) + "\n", n, m, reducer, seed)
