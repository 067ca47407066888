"""Whole compiled functions (@pk.jit programs) on pk.Cuda: the device module and the host unit that drives it.

`plan` splits a program's body: parallel loops become kernels (one thread per iteration, grid-stride; a
reduction leaves one partial per block), runs of host statements that touch array elements become one-thread
kernels ("device blocks": the arrays live on the GPU), array fills with a value become fill kernels; the rest
stays host code. `render_device` writes the kernels (NVRTC); `render_host` the host unit (g++) that launches them
in order on one stream through kk_cuda_ctx (include/kernelkit/program_cuda.h), allocates arrays with
cuMemAlloc, and reads scalars back from the device only where device code assigned them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from kernelkit.backends.cpp import CppRenderer, c_string, ctype, ident, literal
from kernelkit.backends.cuda import lanes
from kernelkit.backends.openmp.program import RET, ProgramRenderer
from kernelkit.errors import KernelSyntaxError
from kernelkit.ir import nodes as N
from kernelkit.ir import printer
from kernelkit.ir import types as T

RED = {
    "+": "kk::Sum",
    "*": "kk::Prod",
    "min": "kk::Min",
    "max": "kk::Max",
    "&": "kk::BAnd",
    "|": "kk::BOr",
    "^": "kk::BXor",
    "&&": "kk::LAnd",
    "||": "kk::LOr",
}


@dataclass(eq=False)
class DeviceBlock(N.Stmt):
    """Host statements that touch array elements, run by one GPU thread."""

    body: list[N.Stmt]


@dataclass
class KernelInfo:
    name: str
    node: N.Stmt  # a ParallelFor or a DeviceBlock
    free: list[tuple[str, T.Type]] = field(default_factory=list)  # passed by value, in order
    assigned: list[tuple[str, T.Type]] = field(default_factory=list)  # device blocks: scalars sent back
    warp: bool = False  # a parallel loop run a warp per iteration, its simd loops across the lanes (lanes.py)


@dataclass
class Plan:
    body: list[N.Stmt]
    kernels: list[KernelInfo]
    fills: list[T.ScalarType]  # element types of arrays filled with a value (one fill kernel each)
    extra: dict[str, T.Type] = field(default_factory=dict)  # locals the plan added

    def kernel_of(self, node: N.Stmt) -> int:
        return next(k for k, info in enumerate(self.kernels) if info.node is node)

    def names(self) -> list[str]:
        return [k.name for k in self.kernels] + [f"kk_fill_{t.name}" for t in self.fills]


def _touches_arrays(s: N.Stmt) -> bool:
    for t in N.walk_stmts([s]):
        if isinstance(t, (N.Store, N.ParallelFor)):
            return True
        for v in vars(t).values():
            exprs = v if isinstance(v, list) else [v]
            for e in exprs:
                if isinstance(e, N.Expr) and any(
                    isinstance(x, (N.Load, N.Atomic, N.SubView)) or (isinstance(x, N.Call) and _passes_arrays(x))
                    for x in N.walk_exprs(e)
                ):
                    return True
    return False


def _passes_arrays(call: N.Call) -> bool:
    """A function called with arrays reads or writes them: on pk.Cuda it runs where they live (device code)."""
    return any(isinstance(a.type, T.ViewType) for a in call.args)


def _host_only_calls(body: list[N.Stmt]):
    """Calls, in device code, of compiled functions that hold OpenMP regions (loops/callees.py): host only."""
    for s in N.walk_stmts(body):
        for v in vars(s).values():
            for e in v if isinstance(v, list) else [v]:
                if isinstance(e, N.Expr):
                    for x in N.walk_exprs(e):
                        if isinstance(x, N.Call) and getattr(x.fn, "_kk_host_only", False):
                            yield x


def _has_parallel(s: N.Stmt) -> bool:
    return any(isinstance(t, N.ParallelFor) for t in N.walk_stmts([s]))


def _names(stmts: list[N.Stmt], extra: list[N.Expr] = ()) -> list[str]:
    seen: dict[str, None] = {}
    exprs: list[N.Expr] = list(extra)
    for s in N.walk_stmts(stmts):
        for v in vars(s).values():
            for e in v if isinstance(v, list) else [v]:
                if isinstance(e, N.Expr):
                    exprs.append(e)
                elif isinstance(e, tuple):
                    exprs += [x for x in e if isinstance(x, N.Expr)]
        if isinstance(s, N.Store):
            exprs += s.index
    for e in exprs:
        for x in N.walk_exprs(e):
            if isinstance(x, N.Var):
                seen.setdefault(x.name, None)
    return list(seen)


def plan(p: N.Program) -> Plan:
    types = {q.name: q.type for q in p.params} | dict(p.locals)
    kernels: list[KernelInfo] = []
    fills: list[T.ScalarType] = []
    extra: dict[str, T.Type] = {}  # locals the plan adds (conditions computed on the device)

    def typed(names: list[str], skip: set[str]) -> list[tuple[str, T.Type]]:
        return [(n, types[n]) for n in names if n in types and n not in skip]

    def split(body: list[N.Stmt]) -> list[N.Stmt]:
        out: list[N.Stmt] = []
        run: list[N.Stmt] = []

        def flush():
            if run:
                b = DeviceBlock(run[0].loc, list(run))
                assigned = sorted(
                    {s.target.name for s in N.walk_stmts(run) if isinstance(s, N.Assign)}
                    | {s.var.name for s in N.walk_stmts(run) if isinstance(s, N.For)}
                )
                kernels.append(
                    KernelInfo(
                        f"kk_block{len(kernels)}",
                        b,
                        typed(_names(run), set()),
                        [(n, types[n]) for n in assigned if isinstance(types.get(n), T.ScalarType)],
                        warp=lanes.fits(b.body, types),
                    )
                )
                out.append(b)
                run.clear()

        for s in body:
            if isinstance(s, N.Assign) and isinstance(s.value, N.Alloc):
                flush()
                if s.value.fill is not None and not (isinstance(s.value.fill, N.Const) and not s.value.fill.value):
                    if s.value.type.dtype not in fills:
                        fills.append(s.value.type.dtype)
                out.append(s)
            elif isinstance(s, N.ParallelFor):
                flush()
                skip = {v.name for v in s.vars} | {n for n, _ in s.reductions}
                bounds = [x for b in s.bounds for x in b]
                free = typed(_names(s.body, bounds), skip)
                warp = lanes.warp_per_iteration(s, types)
                kernels.append(KernelInfo(f"kk_loop{len(kernels)}", s, free, warp=warp))
                out.append(s)
            elif isinstance(s, (N.Result, N.Return, N.Free)) or not _touches_arrays(s):
                if isinstance(s, (N.Result, N.Return)) and _touches_arrays(s):
                    raise KernelSyntaxError("return an array by name on pk.Cuda", s.loc)
                flush()
                out.append(s)
            elif _has_parallel(s):
                flush()
                if isinstance(s, (N.For, N.While)) and isinstance(s, N.For):
                    s.body = split(s.body)
                elif isinstance(s, N.If):
                    if any(isinstance(x, (N.Load, N.Atomic)) for x in N.walk_exprs(s.cond)):
                        # the condition reads device memory: a device block computes it into a local first
                        tmp = N.Var(T.bool_, s.cond.loc, f"kk_cond{len(extra)}")
                        extra[tmp.name] = T.bool_
                        types[tmp.name] = T.bool_
                        run.append(N.Assign(s.loc, tmp, s.cond))
                        flush()
                        s.cond = tmp
                    s.then, s.orelse = split(s.then), split(s.orelse)
                else:
                    raise KernelSyntaxError(
                        "on pk.Cuda, a loop or branch around a parallel loop cannot read array elements in its "
                        "condition; compute the condition into a local first",
                        s.loc,
                    )
                out.append(s)
            else:
                run.append(s)
        flush()
        return out

    body = split(copy.deepcopy(p.body))  # a copy: the program itself stays as it is
    return Plan(body, kernels, fills, extra)


def _param_decl(name: str, t: T.Type) -> str:
    if isinstance(t, T.ViewType):
        return f"const {ctype(t)} {ident(name)}"
    return f"{ctype(t)} {ident(name)}"


class DeviceRenderer(CppRenderer):
    def __init__(self, p: N.Program, pl: Plan):
        shell = N.Kernel(p.name, "for", [], None, None, p.params, [], {}, p.functions, None, p.loc, structs=p.structs)
        super().__init__(shell, "cuda")
        self.p = p
        self.pl = pl
        self.shared: dict[str, int] = {}  # shared scalars of the loop being rendered -> scratch slot
        self.warp = False  # rendering a warp-per-iteration loop (lanes.py)
        self.in_lanes = False  # ... inside one of its lane-shared simd loops

    def stmt(self, s: N.Stmt, ind: str) -> str:
        if self.warp and not self.in_lanes:
            if isinstance(s, N.SimdFor):
                return self.lane_loop(s, ind)
            if isinstance(s, (N.Store, N.ExprStmt, N.Printf)):  # one lane writes, then the warp sees it
                inner = self.stmt_one(s, ind + "    ")
                return f"{ind}if (kk_lane == 0) {{\n{inner}{ind}}}\n{ind}__syncwarp();\n"
        return self.stmt_one(s, ind)

    def lane_loop(self, s: N.SimdFor, ind: str) -> str:
        """A simd loop shared by the warp's lanes: lane l runs iterations l, l + 32, ...; then reductions are
        joined across the warp and the last iteration's values taken from the lane that ran it."""
        self._n += 1
        n = self._n
        b, e, st = f"kk_lb{n}", f"kk_le{n}", f"kk_ls{n}"
        i2 = ind + "    "
        out = [f"{self.line(s)}{ind}{{\n"]
        out.append(
            f"{i2}const int64_t {b} = {self.expr(s.start)}, {e} = {self.expr(s.stop)}, {st} = {self.expr(s.step)};\n"
        )
        if isinstance(s.step, N.Const) and s.step.value > 0:
            trip = f"({e} > {b} ? ({e} - {b} + {st} - 1) / {st} : (int64_t)0)"
        else:
            trip = (
                f"({st} > 0 ? ({e} > {b} ? ({e} - {b} + {st} - 1) / {st} : (int64_t)0) : "
                f"({st} < 0 && {b} > {e} ? ({b} - {e} - {st} - 1) / (-{st}) : (int64_t)0))"
            )
        out.append(f"{i2}const int64_t kk_ln{n} = {trip};\n")
        for r, (name, op) in enumerate(s.reductions):
            t = ctype(self._type(name))
            out.append(f"{i2}const {t} kk_lr{n}_{r} = {ident(name)};\n")
            out.append(f"{i2}{ident(name)} = {RED[op]}::template identity<{t}>();\n")
        out.append(f"{i2}for (int64_t kk_q{n} = kk_lane; kk_q{n} < kk_ln{n}; kk_q{n} += 32) {{\n")
        out.append(f"{i2}    {ident(s.var.name)} = ({s.var.type.ctype})({b} + kk_q{n} * {st});\n")
        self.in_lanes = True
        try:
            out.append(self.stmts(s.body, i2 + "    "))
        finally:
            self.in_lanes = False
        out.append(f"{i2}}}\n{i2}__syncwarp();\n")
        for r, (name, op) in enumerate(s.reductions):
            t = ctype(self._type(name))
            v = ident(name)
            out.append(f"{i2}{v} = kk::cu::warp_all<{RED[op]}, {t}>({v});\n")
            out.append(f"{i2}{{ {t} kk_j = kk_lr{n}_{r}; {RED[op]}::join(kk_j, {v}); {v} = kk_j; }}\n")
        last = [s.var.name] + [p for p in s.private if p not in {x for x, _ in s.reductions}]
        if last:
            out.append(f"{i2}if (kk_ln{n} > 0) {{\n{i2}    const int kk_src = (int)((kk_ln{n} - 1) & 31);\n")
            for name in last:
                out.append(f"{i2}    {ident(name)} = kk::cu::lane_bcast({ident(name)}, kk_src);\n")
            out.append(f"{i2}}}\n")
        out.append(f"{ind}}}\n")
        return "".join(out)

    def _type(self, name: str) -> T.Type:
        return self.p.locals.get(name) or next(q.type for q in self.p.params if q.name == name)

    def stmt_one(self, s: N.Stmt, ind: str) -> str:
        if isinstance(s, N.Assign) and s.target.name in self.shared:  # APPy's shared(a): the last write wins
            v = ident(s.target.name)
            slot = f"*({ctype(s.target.type)}*)(kk_scratch + {8 * self.shared[s.target.name]})"
            return f"{self.line(s)}{ind}{v} = {self.expr(s.value)};\n{ind}{slot} = {v};\n"
        if isinstance(s, N.SimdFor):  # a sequential loop in one thread
            return super().stmt(N.For(s.loc, s.var, s.start, s.stop, s.step, s.body), ind)
        if isinstance(s, N.ParallelFor):  # nested inside device code: sequential
            out = self.line(s)
            inner: list[N.Stmt] = s.body
            for v, (b, e, st) in reversed(list(zip(s.vars, s.bounds, strict=True))):
                inner = [N.For(s.loc, v, b, e, st, inner)]
            return out + self.stmts(inner, ind)
        return super().stmt(s, ind)

    def e_ThreadQuery(self, e: N.ThreadQuery) -> str:
        """omp_* calls in a target loop on the GPU: a team is a block, its threads the block's threads."""
        gpu = {
            "get_thread_num": "((int64_t)threadIdx.x)",
            "get_num_threads": "((int64_t)blockDim.x)",
            "get_team_num": "((int64_t)blockIdx.x)",
            "get_num_teams": "((int64_t)gridDim.x)",
            "in_parallel": "((int64_t)1)",
            "get_level": "((int64_t)1)",
            "get_active_level": "((int64_t)1)",
        }
        if e.what in gpu:
            return gpu[e.what]
        raise KernelSyntaxError(f"omp_{e.what}() cannot be called in GPU code", e.loc)

    def locals_of(self, body: list[N.Stmt], skip: set[str]) -> str:
        names = set(_names(body)) | {s.target.name for s in N.walk_stmts(body) if isinstance(s, N.Assign)}
        names |= {s.var.name for s in N.walk_stmts(body) if isinstance(s, N.For)}
        locs = {n: t for n, t in (self.p.locals | self.pl.extra).items() if n in names and n not in skip}
        return self.locals_decl(locs, "    ")

    def kernel(self, info: KernelInfo) -> str:
        params = [_param_decl(n, t) for n, t in info.free]
        s = info.node
        if isinstance(s, N.ParallelFor):
            dims = len(s.bounds)
            params = [
                f"const int64_t kk_b{d}, const int64_t kk_s{d}, const int64_t kk_n{d}" for d in range(dims)
            ] + params
            params.append("char* kk_scratch")
            skip = {n for n, _ in info.free} | {v.name for v in s.vars}
            body = [
                f'{self.line(s)}extern "C" __global__ void __launch_bounds__(KK_CUDA_BLOCK) {info.name}('
                f"{', '.join(params)}) {{\n"
            ]
            body.append(self.locals_of(s.body, skip | {n for n, _ in s.reductions}))
            for n, op in s.reductions:
                t = self.p.locals.get(n) or next(q.type for q in self.p.params if q.name == n)
                body.append(f"    {ctype(t)} {ident(n)} = {RED[op]}::template identity<{ctype(t)}>();\n")
            total = " * ".join(f"kk_n{d}" for d in range(dims))
            if info.warp:  # a warp per iteration, its simd loops across the lanes (lanes.py)
                body.append("    const int kk_lane = (int)(threadIdx.x & 31);\n")
                body.append(
                    f"    for (int64_t kk_t = kk::cu::tid() >> 5; kk_t < {total}; kk_t += kk::cu::nthreads() >> 5) {{\n"
                )
            else:
                body.append(f"    for (int64_t kk_t = kk::cu::tid(); kk_t < {total}; kk_t += kk::cu::nthreads()) {{\n")
            body.append("        int64_t kk_r = kk_t;\n")
            for d in range(dims - 1, -1, -1):
                idx = f"kk_r % kk_n{d}" if d else "kk_r"
                body.append(f"        const int64_t {ident(s.vars[d].name)} = kk_b{d} + ({idx}) * kk_s{d};\n")
                if d:
                    body.append(f"        kk_r /= kk_n{d};\n")
            self.shared = {n: k for k, n in enumerate(s.shared)}
            self.warp = info.warp
            try:
                body.append(self.stmts(s.body, "        "))
            finally:
                self.shared, self.warp = {}, False
            body.append("    }\n")
            for n, op in s.reductions if info.warp else ():  # every lane holds the same value: count lane 0's
                t = ctype(self._type(n))
                body.append(f"    if (kk_lane != 0) {ident(n)} = {RED[op]}::template identity<{t}>();\n")
            for k, (n, op) in enumerate(s.reductions):
                t = self.p.locals.get(n) or next(q.type for q in self.p.params if q.name == n)
                body.append(
                    f"    kk::cu::block_partial<{RED[op]}>({ident(n)}, ({ctype(t)}*)(kk_scratch + "
                    f"{8 * len(s.shared)}) + {k} * (int64_t)gridDim.x);\n"
                )
            body.append("}\n\n")
            return "".join(body)
        assert isinstance(s, DeviceBlock)
        params.append("char* kk_scratch")
        out = [f'{self.line(s)}extern "C" __global__ void {info.name}({", ".join(params)}) {{\n']
        out.append(self.locals_of(s.body, {n for n, _ in info.free}))
        if info.warp:  # one warp, its simd loops across the lanes (lanes.py); every lane ends with the same values
            out.append("    const int kk_lane = (int)(threadIdx.x & 31);\n")
        self.warp = info.warp
        try:
            out.append(self.stmts(s.body, "    "))
        finally:
            self.warp = False
        if info.warp and info.assigned:
            out.append("    if (kk_lane != 0) return;\n")
        for k, (n, t) in enumerate(info.assigned):
            out.append(f"    *({ctype(t)}*)(kk_scratch + {8 * k}) = {ident(n)};\n")
        out.append("}\n\n")
        return "".join(out)


def host_region(p: N.Program) -> N.Region | None:
    """The first OpenMP region (`with openmp("parallel")`, single, critical, task, ...) outside target loops: a
    program holding one runs on host threads, not on pk.Cuda (njit sends such programs to the host)."""
    return next((s for s in N.walk_stmts(p.body) if isinstance(s, N.Region)), None)


def _refuse_host_regions(p: N.Program) -> None:
    r = host_region(p)
    if r is not None:
        raise KernelSyntaxError(
            f"`omp {r.kind}` outside a target loop in a program that runs on pk.Cuda: host regions of a GPU "
            "program do not run yet; write the GPU work as `target teams distribute parallel for` loops, or run "
            "the program on host threads (njit(space=pk.OpenMP))",
            r.loc,
        )


def render_device(p: N.Program) -> str:
    _refuse_host_regions(p)
    pl = plan(p)
    r = DeviceRenderer(p, pl)
    parts = [
        "/* generated by kernelkit: do not edit */\n#define KK_CUDA 1\n",
        '#include "kernelkit/cuda.h"\n#include "kernelkit/program_cuda.h"\n\n',
        r.structs(),
    ]
    # compiled functions holding OpenMP regions, parallel loops or local arrays run on host threads only (callees.py)
    device = [f for f in p.functions if not getattr(f, "_kk_host_only", False)]
    for k in pl.kernels:
        for call in _host_only_calls([k.node]):
            raise KernelSyntaxError(
                f"{call.fn.pyname}() holds OpenMP regions, parallel loops or local arrays (host threads only): it "
                "cannot be called in GPU code (a target loop, or host code of a pk.Cuda program that touches arrays)",
                call.loc,
            )
    parts.append(r.prototypes(device))
    parts += [r.function(f) + "\n" for f in device]
    parts += [r.kernel(k) for k in pl.kernels]
    for t in pl.fills:
        parts.append(
            f'extern "C" __global__ void kk_fill_{t.name}({t.ctype}* p, int64_t n, {t.ctype} v) {{\n'
            "    for (int64_t i = kk::cu::tid(); i < n; i += kk::cu::nthreads()) p[i] = v;\n}\n\n"
        )
    return "".join(parts)


def entry_names(p: N.Program) -> list[str]:
    return plan(p).names()


class HostRenderer(ProgramRenderer):
    """The host unit: ProgramRenderer's host statements, with device work launched through the ctx."""

    def __init__(self, p: N.Program):
        self.pid = printer.program_id(p)
        self.pl = plan(p)
        planned = copy.copy(p)
        planned.body = self.pl.body  # device blocks in place of the statements they run
        planned.locals = dict(p.locals) | self.pl.extra
        super().__init__(planned, "host")

    def e_Alloc(self, e: N.Alloc) -> str:  # pragma: no cover - allocations are statements (s_Assign below)
        raise TypeError("allocations are rendered as statements on pk.Cuda")

    def stmt(self, s: N.Stmt, ind: str) -> str:
        if isinstance(s, N.Assign) and isinstance(s.value, N.Alloc):
            if self.fn is not None:
                raise KernelSyntaxError(
                    f"{self.fn.pyname}() allocates an array: called from a program that runs on pk.Cuda it does "
                    "not run yet; allocate the array in the caller and pass it",
                    s.loc,
                )
            return self.line(s) + self.alloc(s, ind)
        if isinstance(s, DeviceBlock):
            return self.line(s) + self.block(s, ind)
        return super().stmt(s, ind)

    def alloc(self, s: N.Assign, ind: str) -> str:
        e = s.value
        t = e.type
        v = ident(s.target.name)
        shape = ", ".join(f"(int64_t)({self.expr(x)})" for x in e.shape)
        line = s.loc.line
        out = f"{ind}{v} = kk::cu::alloc<{t.dtype.ctype}, {t.rank}>(kk_c, {{{shape}}}, {line});\n"
        bytes_ = f"(size_t)(kk::cu::size({v}) * {t.dtype.itemsize})"
        if e.fill is None:
            return out
        if isinstance(e.fill, N.Const) and not e.fill.value:
            dptr = f"(unsigned long long)(uintptr_t){v}.data"
            return out + f"{ind}if ({v}.data) kk_c->memset8({dptr}, 0, {bytes_}, kk_c->stream);\n"
        k = len(self.pl.kernels) + self.pl.fills.index(t.dtype)
        return out + (
            f"{ind}{{ {t.dtype.ctype}* kk_p = {v}.data; int64_t kk_m = kk::cu::size({v}); {t.dtype.ctype} kk_v = "
            f"{self.expr(e.fill)}; void* kk_a[] = {{&kk_p, &kk_m, &kk_v}};\n"
            f"{ind}  if (kk_p && kk_m) kk::cu::launch(kk_c, {k}, kk::cu::grid(kk_c, kk_m), KK_CUDA_BLOCK, kk_a, "
            f"{line}); }}\n"
        )

    def args(self, info: KernelInfo) -> list[str]:
        return [f"(void*)&{ident(n)}" for n, _ in info.free]

    def s_ParallelFor(self, s: N.ParallelFor, ind: str) -> str:
        if self.fn is not None:  # a compiled function the program calls (loops/callees.py): planned loops only
            raise KernelSyntaxError(
                f"{self.fn.pyname}() holds a parallel loop: called from a program that runs on pk.Cuda it does not "
                "run yet; run the program on host threads (njit(space=pk.OpenMP)) or write the loop in the caller",
                s.loc,
            )
        k = self.pl.kernel_of(s)
        info = self.pl.kernels[k]
        dims = len(s.bounds)
        i2 = ind + "    "
        out = [f"{ind}{{\n"]
        for d, (b, e, st) in enumerate(s.bounds):
            out.append(
                f"{i2}int64_t kk_b{d} = {self.expr(b)}, kk_s{d} = {self.expr(st)};\n"
                f"{i2}int64_t kk_n{d} = kk::trip(kk_b{d}, {self.expr(e)}, kk_s{d});\n"
            )
        total = " * ".join(f"kk_n{d}" for d in range(dims))
        out.append(f"{i2}const int64_t kk_tot = {total};\n{i2}char* kk_sc = (char*)(uintptr_t)kk_c->scratch;\n")
        args = [f"(void*)&kk_{w}{d}" for d in range(dims) for w in ("b", "s", "n")] + self.args(info)
        args.append("(void*)&kk_sc")
        out.append(f"{i2}void* kk_a[] = {{{', '.join(args)}}};\n")
        lanes = " * 32" if info.warp else ""  # a warp per iteration (lanes.py)
        out.append(f"{i2}const unsigned kk_g = kk::cu::grid(kk_c, kk_tot{lanes});\n")
        line = s.loc.line
        ns = len(s.shared)
        puts = "".join(
            f" && kk::cu::put(kk_c, {j}, &{ident(n)}, sizeof {ident(n)}, {line})" for j, n in enumerate(s.shared)
        )
        out.append(f"{i2}if (kk_tot > 0{puts} && kk::cu::launch(kk_c, {k}, kk_g, KK_CUDA_BLOCK, kk_a, {line})")
        if s.reductions or s.shared:
            out.append(f" && kk::cu::fetch(kk_c, {8 * ns} + (size_t)kk_g * 8 * {len(s.reductions)}, {line})) {{\n")
            for j, n in enumerate(s.shared):
                out.append(f"{i2}    {ident(n)} = kk::cu::slot<{ctype(self._type(n))}>(kk_c, {j});\n")
            for j, (n, op) in enumerate(s.reductions):
                ct = ctype(self._type(n))
                out.append(
                    f"{i2}    for (unsigned kk_q = 0; kk_q < kk_g; ++kk_q) {RED[op]}::join({ident(n)}, "
                    f"(({ct}*)((char*)kk_c->host_scratch + {8 * ns}))[{j} * (int64_t)kk_g + kk_q]);\n"
                )
            out.append(f"{i2}}}\n")
        else:
            out.append(") {}\n")
        out.append(f"{ind}}}\n")
        return "".join(out)

    def block(self, s: DeviceBlock, ind: str) -> str:
        k = self.pl.kernel_of(s)
        info = self.pl.kernels[k]
        line = s.loc.line
        args = self.args(info) + ["(void*)&kk_sc"]
        out = [
            f"{ind}{{\n{ind}    char* kk_sc = (char*)(uintptr_t)kk_c->scratch;\n"
            f"{ind}    void* kk_a[] = {{{', '.join(args)}}};\n"
            f"{ind}    if (kk::cu::launch(kk_c, {k}, 1, {32 if info.warp else 1}, kk_a, {line})"
        ]
        if info.assigned:
            out.append(f" && kk::cu::fetch(kk_c, {8 * len(info.assigned)}, {line})) {{\n")
            for j, (n, t) in enumerate(info.assigned):
                out.append(f"{ind}        {ident(n)} = kk::cu::slot<{ctype(t)}>(kk_c, {j});\n")
            out.append(f"{ind}    }}\n")
        else:
            out.append(") {}\n")
        out.append(f"{ind}}}\n")
        return "".join(out)

    def s_Return(self, s: N.Return, ind: str) -> str:
        if self.fn is not None:  # in a compiled function the program calls
            return super().s_Return(s, ind)
        keep = set(getattr(s, "keep", ()))
        frees = "".join(f"{ind}kk::cu::release(kk_c, {ident(n)});\n" for n in self.p.allocs if n not in keep)
        return f"{frees}{ind}goto kk_done;\n"

    def s_Free(self, s: N.Free, ind: str) -> str:
        return f"{ind}kk::cu::release(kk_c, {ident(s.var.name)});\n"

    def s_Region(self, s: N.Region, ind: str) -> str:
        _refuse_host_regions(self.p)
        raise AssertionError("unreachable: a program with a host region is refused above")

    def entry(self) -> str:
        ind = "    "
        p = self.p
        pid = self.pid
        frees = "".join(f"{ind}kk::cu::release(kk_c, {ident(n)});\n" for n in p.allocs)
        ctx = len(p.params) + 1  # after kk_ret
        return (
            f'{self.line(p)}extern "C" int kk_entry(kk_launch_t* L) {{\n'
            f"{ind}kk::err_flag = 0;\n"
            f"{ind}const kk_cuda_ctx* kk_c = kk::cu::find(L->args[{ctx}].i, (int64_t){pid}LL);\n"
            f'{ind}if (!kk_c) {{ kk::err_report(L->err, "no CUDA context for this program"); return 1; }}\n'
            f"{self.unpack(ind)}{self.locals_decl(p.locals, ind)}"
            f"{self.stmts(p.body, ind)}"
            f"{frees}"
            f"kk_done:\n"
            f'{ind}if (!kk::err_flag && kk_c->sync(kk_c->stream)) kk::cu::fail("the program\'s kernels", 1, 0);\n'
            f"{ind}fflush(stdout);\n"
            f"{ind}kk::result_store(L->result, (int64_t){pid}LL);\n"
            f"{ind}if (kk::err_flag) {{ kk::err_report(L->err, {c_string(p.name)}); return 1; }}\n"
            f"{ind}return 0;\n}}\n"
        )


def render_host(p: N.Program) -> str:
    r = HostRenderer(p)
    parts = [
        "/* generated by kernelkit: do not edit */\n",
        '#include "kernelkit/program.h"\n',
        '#include "kernelkit/program_cuda.h"\n\n',
        r.structs(),
        r.prototypes(p.functions),
    ]
    parts += [r.function(f) + "\n" for f in p.functions]
    parts.append(r.entry())
    return "".join(parts)


__all__ = ["RET", "DeviceBlock", "entry_names", "literal", "plan", "render_device", "render_host"]
