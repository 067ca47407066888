"""Whole compiled functions (@pk.jit programs) on pk.Debug: the IR rendered to one Python function that runs
every loop sequentially, in order — the reference the compiled spaces are tested against.

Parallel loops run their iterations in order (so a reduction's result is the sequential one), allocations are
NumPy arrays, and OpenMP regions run once, as a team of one thread.
"""

from __future__ import annotations

from kernelkit.backends.debug import runtime
from kernelkit.backends.debug.render import PyRenderer, pyname
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T


class ProgramPyRenderer(PyRenderer):
    def __init__(self, program: N.Program):
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
        super().__init__(shell)
        self.p = program
        self._ret = ""
        self.in_fn = False  # rendering a compiled function the program calls: `return` returns its value

    def e_Alloc(self, e: N.Alloc) -> str:
        t = e.type
        shape = ", ".join(self.expr(x) for x in e.shape)
        dt = repr(t.dtype.np_dtype.str)
        if e.fill is None:
            return f"_np.empty(({shape},), {dt})"
        return f"_np.full(({shape},), {self.expr(e.fill)}, {dt})"

    def e_ThreadQuery(self, e: N.ThreadQuery) -> str:
        """One thread's answers (the program runs sequentially); setters change nothing."""
        if e.what in ("wtime", "get_wtime"):
            return "_time.perf_counter()"
        if e.what == "get_wtick":
            return "1e-9"
        if e.what in ("get_ancestor_thread_num", "get_team_size"):
            a = self.expr(e.args[0])
            return f"({'0' if e.what == 'get_ancestor_thread_num' else '1'} if {a} == 0 else -1)"
        answers = {"get_num_threads": "1", "num_threads": "1", "max_threads": "1", "get_max_threads": "1"}
        answers.update(get_num_procs="1", get_thread_limit="2147483647", get_max_active_levels="1", get_num_teams="1")
        answers.update(get_supported_active_levels="1")
        return answers.get(e.what, "0")

    def stmt(self, s: N.Stmt, ind: str) -> None:
        loc = s.loc
        if isinstance(s, N.ParallelFor):
            for d, (b, e, st) in enumerate(s.bounds):
                rng = f"_range({self.expr(b)}, {self.expr(e)}, {self.expr(st)})"
                self.emit(f"{ind}{'    ' * d}for {pyname(s.vars[d].name)} in {rng}:", loc)
            self.stmts(s.body, ind + "    " * len(s.bounds))
        elif isinstance(s, N.Result):
            self.emit(f"{ind}_res[{s.index}] = {self.expr(s.value)}", loc)
        elif isinstance(s, N.Return) and not self.in_fn:
            self.emit(f"{ind}return _res", loc)
        elif isinstance(s, N.Free):
            self.emit(f"{ind}pass  # free {s.var.name}", loc)
        elif isinstance(s, N.Region):
            self.emit(f"{ind}if True:  # omp {s.kind}: one thread", loc)
            self.stmts(s.body, ind + "    ")
            if not s.body:
                self.emit(f"{ind}    pass", loc)
        else:
            super().stmt(s, ind)  # SimdFor is a For: a sequential loop

    def render(self) -> str:
        p = self.p
        self.in_fn = True
        for f in p.functions:
            self._ret = ""
            self.emit(f"def {f.name}({', '.join(pyname(x.name) for x in f.params)}):", f.loc)
            self.locals_init(f.locals, "    ")
            self.stmts(f.body, "    ")
            self.emit("", None)
        self.in_fn = False
        self.emit(f"def kk_program({', '.join(pyname(x.name) for x in p.params)}):", p.loc)
        self.emit(f"    _res = [None] * {len(p.results)}", None)
        self.locals_init(p.locals, "    ")
        self.stmts(p.body, "    ")
        self.emit("    return _res", None)
        return "\n".join(self.lines) + "\n"


class CompiledProgram:
    """A program's Python function, made once per Program."""

    def __init__(self, program: N.Program):
        import time

        import numpy as np

        r = ProgramPyRenderer(program)
        self.source = r.render()
        self.locs = r.locs
        self.filename = f"<kernelkit-debug {program.name} {id(self):x}>"
        ns = dict(runtime.NAMESPACE)
        ns["_np"] = np
        ns["_time"] = time
        exec(compile(self.source, self.filename, "exec"), ns)  # noqa: S102 - code we generated from the IR
        self.run = ns["kk_program"]
        self.program = program


def results(program: N.Program, values: list):
    """Python values of a program's results, as the compiled spaces return them (before the caller maps array
    arguments back to the objects it passed)."""
    out = []
    for t, v in zip(program.results, values, strict=True):
        if isinstance(t, T.ScalarType):
            v = float(v) if t.is_float else bool(v) if t.is_bool else int(v)
        out.append(v)
    return out
