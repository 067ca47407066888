"""The host driver for whole compiled functions (@pk.jit programs): one C++ unit, `extern "C" kk_entry`.

Host statements become plain C++; each ParallelFor becomes an OpenMP worksharing loop over its trip count
(`parallel for`, collapsed over the outer dimensions of a nest, the innermost dimension an `omp simd` loop when
the compiler proved its iterations independent), with `reduction`, `firstprivate`/`lastprivate` clauses from the
loop's analysis; a SimdFor an `omp simd` loop. Built without OpenMP (pk.Serial) the same source runs on one
thread and keeps the simd loops. Results go through the slots whose address is the program's `kk_ret` argument;
`L->result` carries the program's identity, so the launcher knows which specialization answered.
"""

from __future__ import annotations

from kernelkit.backends.cpp import CppRenderer, c_string, ctype, ident, literal
from kernelkit.backends.openmp.work import estimate
from kernelkit.ir import nodes as N
from kernelkit.ir import printer
from kernelkit.ir import types as T

RET = "kk_ret"  # the hidden parameter: the address of the result slots
RED = {"+": "+", "*": "*", "min": "min", "max": "max", "&": "&", "|": "|", "^": "^", "&&": "&&", "||": "||"}


class ProgramRenderer(CppRenderer):
    """Renders a Program; `target` is "host" (the OpenMP/Serial driver)."""

    def __init__(self, program: N.Program, target: str = "host", line_directives: bool = True):
        shell = N.Kernel(
            program.name,
            "for",
            [],
            None,
            None,
            program.params,
            [],
            {},
            program.functions,
            None,
            program.loc,
            structs=program.structs,
        )
        super().__init__(shell, target, line_directives)
        self.p = program
        self.shared: set[str] = set()
        self.fn: N.Function | None = None

    # -------------------------------------------------------------------------------------- expressions

    def e_Alloc(self, e: N.Alloc) -> str:
        t = e.type
        assert isinstance(t, T.ViewType)
        fill = "kk::FILL_NONE"
        value = literal(0, t.dtype)
        if e.fill is not None:
            zero = isinstance(e.fill, N.Const) and not e.fill.value
            fill = "kk::FILL_ZERO" if zero else "kk::FILL_VALUE"
            value = self.expr(e.fill)
        shape = ", ".join(f"(int64_t)({self.expr(x)})" for x in e.shape)
        return f"kk::alloc_view<{t.dtype.ctype}, {t.rank}>({{{shape}}}, {fill}, {value})"

    def e_ThreadQuery(self, e: N.ThreadQuery) -> str:
        short = {"thread_num": "get_thread_num", "num_threads": "get_num_threads", "max_threads": "get_max_threads"}
        what = {"wtime": "get_wtime"}.get(e.what, short.get(e.what, e.what))
        args = ", ".join(f"(int)({self.expr(a)})" for a in e.args)
        if what in ("get_wtime", "get_wtick"):
            return f"kk::omp::{what}({args})"
        return f"((int64_t)kk::omp::{what}({args}))"

    # -------------------------------------------------------------------------------------- statements

    def stmt(self, s: N.Stmt, ind: str) -> str:
        m = getattr(self, "s_" + type(s).__name__, None)
        if m is not None:
            return self.line(s) + m(s, ind)
        if isinstance(s, N.Assign) and s.target.name in self.shared:
            return (
                f"{self.line(s)}{ind}KK_PRAGMA(omp atomic write)\n{ind}{ident(s.target.name)} = {self.expr(s.value)};\n"
            )
        return super().stmt(s, ind)

    def s_Result(self, s: N.Result, ind: str) -> str:
        t = s.value.type
        if isinstance(t, T.ViewType):
            if isinstance(s.value, N.Var) and any(p.name == s.value.name for p in self.p.params):
                return ""  # an argument returned as it came in: the caller has it
            return f"{ind}kk::put_array({RET}_p, {s.index}, {self.expr(s.value)});\n"
        put = "put_float" if t.is_float else "put_int"
        return f"{ind}kk::{put}({RET}_p, {s.index}, {self.expr(s.value)});\n"

    def function(self, f: N.Function) -> str:
        self.fn = f  # a compiled function the program calls: its own locals, `return` returns
        try:
            return super().function(f)
        finally:
            self.fn = None

    def s_Return(self, s: N.Return, ind: str) -> str:
        if self.fn is not None:
            frees = "".join(f"{ind}kk::free_view({ident(n)});\n" for n in getattr(self.fn, "_kk_allocs", ()))
            if s.value is None:
                return f"{frees}{ind}return;\n"
            if not frees:
                return f"{ind}return {self.expr(s.value)};\n"
            value = f"{ind}const {ctype(s.value.type)} kk_rv = {self.expr(s.value)};\n"
            return f"{ind}{{\n{value}{frees}{ind}return kk_rv;\n{ind}}}\n"
        keep = set(getattr(s, "keep", ()))
        frees = "".join(f"{ind}kk::free_view({ident(n)});\n" for n in self.p.allocs if n not in keep)
        return f"{frees}{ind}goto kk_done;\n"

    def s_Free(self, s: N.Free, ind: str) -> str:
        return f"{ind}kk::free_view({ident(s.var.name)});\n"

    def s_SimdFor(self, s: N.SimdFor, ind: str) -> str:
        self._n += 1
        n = self._n
        private = [v for v in s.private if not isinstance(self._type(v), T.ViewType)]
        clauses = self.clauses(s.reductions, [], private)  # lanes' own copies; the last iteration's survives
        i2 = ind + "    "
        return (
            f"{ind}{{\n{i2}const int64_t kk_b{n} = {self.expr(s.start)}, kk_s{n} = {self.expr(s.step)};\n"
            f"{i2}const int64_t kk_n{n} = kk::trip(kk_b{n}, {self.expr(s.stop)}, kk_s{n});\n"
            f"{i2}KK_PRAGMA(omp simd{clauses})\n"
            f"{i2}for (int64_t kk_k{n} = 0; kk_k{n} < kk_n{n}; ++kk_k{n}) {{\n"
            f"{i2}    const int64_t {ident(s.var.name)} = kk_b{n} + kk_k{n} * kk_s{n};\n"
            f"{self.stmts(s.body, i2 + '    ')}{i2}}}\n{ind}}}\n"
        )

    def clauses(self, reductions, firstprivate, lastprivate) -> str:
        out = ""
        for op in RED:
            names = [ident(v) for v, o in reductions if o == op]
            if names:
                out += f" reduction({RED[op]} : {', '.join(names)})"
        if firstprivate:
            out += f" firstprivate({', '.join(ident(v) for v in firstprivate)})"
        if lastprivate:
            out += f" lastprivate({', '.join(ident(v) for v in lastprivate)})"
        return out

    def s_ParallelFor(self, s: N.ParallelFor, ind: str) -> str:
        self._n += 1
        n = self._n
        i2 = ind + "    "
        dims = len(s.bounds)
        out = [f"{ind}{{\n"]
        for d, (b, e, st) in enumerate(s.bounds):
            out.append(
                f"{i2}const int64_t kk_b{n}_{d} = {self.expr(b)}, kk_s{n}_{d} = {self.expr(st)};\n"
                f"{i2}const int64_t kk_n{n}_{d} = kk::trip(kk_b{n}_{d}, {self.expr(e)}, kk_s{n}_{d});\n"
            )
        private = [v for v in s.private if not isinstance(self._type(v), T.ViewType)]
        simd_inner = dims > 1 and s.simd
        outer = dims - 1 if simd_inner else dims
        omp = s.omp
        head = ("omp for" if omp.get("worksharing") else "omp parallel for") + (" simd" if s.simd and dims == 1 else "")
        if outer > 1:
            head += f" collapse({outer})"
        sched = s.schedule or "static"
        if "chunk" in omp:
            sched += f", (int)({self.expr(omp['chunk'])})"
        head += f" schedule({sched})" + self.clauses(s.reductions, private, private)
        if "num_threads" in omp:
            head += f" num_threads((int)({self.expr(omp['num_threads'])}))"
        if "if" in omp:
            head += f" if({self.expr(omp['if'])})"
        elif not omp.get("fork") and not omp.get("worksharing"):
            work = estimate(s, self.expr, [f"kk_n{n}_{d}" for d in range(dims)])
            if work is not None:  # fork only when the inner loops' iterations pay for it (backends/openmp/work.py)
                out.append(f"{i2}const double kk_w{n} = {work};\n")
                head += f" if(kk_w{n} >= KK_PAR_WORK)"
        if omp.get("nowait"):
            head += " nowait"
        saved = self.shared
        self.shared = set(s.shared)
        if omp.get("fork") or any(isinstance(x, (N.For, N.While)) for x in N.walk_stmts(s.body)):
            out.append(self.nest(s, n, i2, head, outer, simd_inner))
        else:
            # simple iterations: below PAR_MIN of them the loop runs on this thread (forking costs microseconds)
            total = " * ".join(f"kk_n{n}_{d}" for d in range(dims))
            seq = ("omp simd" + self.clauses(s.reductions, [], private)) if s.simd else None
            out.append(f"{i2}if ({total} >= KK_PAR_MIN) {{\n")
            out.append(self.nest(s, n, i2 + "    ", head, outer, simd_inner))
            out.append(f"{i2}}} else {{\n")
            out.append(
                self.nest(
                    s,
                    n,
                    i2 + "    ",
                    seq,
                    dims if seq is None or dims == 1 else dims - 1,
                    simd_inner and seq is not None,
                )
            )
            out.append(f"{i2}}}\n")
        self.shared = saved
        out.append(f"{ind}}}\n")
        return "".join(out)

    def nest(self, s: N.ParallelFor, n: int, ind: str, head: str | None, outer: int, simd_inner: bool) -> str:
        """The loop nest of a ParallelFor: `outer` loops under `head` (collapsed: perfectly nested), the loop
        variables set in the innermost body, and with `simd_inner` the last dimension as an omp simd loop."""
        dims = len(s.bounds)
        out = []
        if head is not None:
            out.append(f"{ind}KK_PRAGMA({head})\n")
        depth = ind
        for d in range(outer):
            out.append(f"{depth}for (int64_t kk_k{n}_{d} = 0; kk_k{n}_{d} < kk_n{n}_{d}; ++kk_k{n}_{d}) {{\n")
            depth += "    "
        for d in range(outer):
            out.append(f"{depth}const int64_t {ident(s.vars[d].name)} = kk_b{n}_{d} + kk_k{n}_{d} * kk_s{n}_{d};\n")
        closing = outer
        for d in range(outer, dims):
            if simd_inner and d == dims - 1:
                private = [v for v in s.private if not isinstance(self._type(v), T.ViewType)]
                out.append(f"{depth}KK_PRAGMA(omp simd{self.clauses(s.reductions, [], private)})\n")
            out.append(f"{depth}for (int64_t kk_k{n}_{d} = 0; kk_k{n}_{d} < kk_n{n}_{d}; ++kk_k{n}_{d}) {{\n")
            depth += "    "
            out.append(f"{depth}const int64_t {ident(s.vars[d].name)} = kk_b{n}_{d} + kk_k{n}_{d} * kk_s{n}_{d};\n")
            closing += 1
        out.append(self.stmts(s.body, depth))
        for _ in range(closing):
            depth = depth[:-4]
            out.append(f"{depth}}}\n")
        return "".join(out)

    def s_Region(self, s: N.Region, ind: str) -> str:
        head = {
            "parallel": "omp parallel",
            "single": "omp single",
            "master": "omp master",
            "critical": "omp critical",
            "barrier": "omp barrier",
            "task": "omp task",
            "taskwait": "omp taskwait",
            "ordered": "omp ordered",
        }[s.kind]
        for k, v in s.clauses.items():
            if k == "num_threads":
                head += f" num_threads((int)({self.expr(v)}))"
            elif k == "if":
                head += f" if({self.expr(v)})"
            elif k == "name" and s.kind == "critical":
                head += f"(kk_{ident(str(v))})"
            elif k in ("private", "firstprivate", "shared"):
                names = [ident(n) for n in v if self._type(n) is not None]  # a copy never assigned is not declared
                if names:
                    head += f" {k}({', '.join(names)})"
            elif k == "nowait":
                head += " nowait"
            else:
                raise TypeError(f"no C++ for the clause {k!r} of `omp {s.kind}`")
        if s.kind in ("barrier", "taskwait"):
            return f"{ind}KK_PRAGMA({head})\n"
        return f"{ind}KK_PRAGMA({head})\n{ind}{{\n{self.stmts(s.body, ind + '    ')}{ind}}}\n"

    def _type(self, name: str):
        if self.fn is not None:
            return self.fn.locals.get(name) or next((p.type for p in self.fn.params if p.name == name), None)
        return self.p.locals.get(name) or next((p.type for p in self.p.params if p.name == name), None)

    # -------------------------------------------------------------------------------------- the unit

    def locals_decl(self, locs: dict[str, T.Type], ind: str) -> str:
        out = []
        for name, t in sorted(locs.items()):
            if isinstance(t, T.ViewType):
                out.append(f"{ind}{ctype(t)} {ident(name)} = kk::no_view<{t.dtype.ctype}, {t.rank}>();\n")
            else:
                out.append(f"{ind}{ctype(t)} {ident(name)}{' = 0' if isinstance(t, T.ScalarType) else '{}'};\n")
        return "".join(out)

    def unpack(self, ind: str) -> str:
        out = []
        for k, p in enumerate(self.p.params):
            t, v = p.type, ident(p.name)
            if isinstance(t, T.ViewType):
                out.append(f"{ind}const {ctype(t)} {v}(L->args[{k}].a, {c_string(p.name)});\n")
            elif t.is_float:
                out.append(f"{ind}{t.ctype} {v} = ({t.ctype})L->args[{k}].f;\n")
            elif t.is_bool:
                out.append(f"{ind}bool {v} = L->args[{k}].i != 0;\n")
            elif t.kind == "u":
                out.append(f"{ind}{t.ctype} {v} = ({t.ctype})L->args[{k}].u;\n")
            else:
                out.append(f"{ind}{t.ctype} {v} = ({t.ctype})L->args[{k}].i;\n")
        if self.p.results:
            out.append(f"{ind}int64_t* {RET}_p = (int64_t*)(uintptr_t)L->args[{len(self.p.params)}].i;\n")
        return "".join(out)

    def entry(self) -> str:
        ind = "    "
        p = self.p
        frees = "".join(f"{ind}kk::free_view({ident(n)});\n" for n in p.allocs)
        return (
            f'{self.line(p)}extern "C" int kk_entry(kk_launch_t* L) {{\n'
            f"{ind}kk::err_flag = 0;\n"
            "#ifdef _OPENMP\n"
            f"{ind}if (L->nthreads > 0) omp_set_num_threads(L->nthreads);\n"
            "#endif\n"
            f"{self.unpack(ind)}{self.locals_decl(p.locals, ind)}"
            f"{self.stmts(p.body, ind)}"
            f"{frees}"
            f"kk_done:\n"
            f"{ind}fflush(stdout);\n"
            f"{ind}kk::result_store(L->result, (int64_t){printer.program_id(p)}LL);\n"
            f"{ind}if (kk::err_flag) {{ kk::err_report(L->err, {c_string(p.name)}); return 1; }}\n"
            f"{ind}return 0;\n}}\n"
        )


def render(program: N.Program, bounds_check: bool = False) -> str:
    r = ProgramRenderer(program, "host")
    parts = ["/* generated by kernelkit: do not edit */\n"]
    if bounds_check:
        parts.append("#define KK_BOUNDS_CHECK 1\n")
    parts.append('#include "kernelkit/program.h"\n\n')
    parts.append(r.structs())
    parts.append(r.prototypes(program.functions))
    parts += [r.function(f) + "\n" for f in program.functions]
    parts.append(r.entry())
    return "".join(parts)
