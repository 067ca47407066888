"""The typed kernel IR.

A kernel is a tree of statements over typed expressions. Every node carries the source location it came from, so
any later stage can raise a KernelError pointing at the user's line. The frontend builds it (frontend/);
backends render it (backends/cpp.py for C++ and CUDA, backends/debug for Python); printer.py dumps it as stable
text, which is also what the cache key hashes.

Semantics (defined by the Debug backend, matched by the others): integer `//` and `%` follow Python (floor), `/`
is true division, array indices are not wrapped (a negative index is out of bounds), integers have the width of
their type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kernelkit.errors import Loc
from kernelkit.ir import types as T

# ------------------------------------------------------------------------------------------------ expressions


@dataclass(eq=False)
class Expr:
    type: T.Type
    loc: Loc


@dataclass(eq=False)
class Const(Expr):
    value: int | float | bool
    weak: bool = False  # an untyped Python literal: adopts the other operand's type in arithmetic


@dataclass(eq=False)
class Var(Expr):
    name: str


@dataclass(eq=False)
class BinOp(Expr):
    op: str  # + - * / // % ** << >> & | ^ ; also "min" "max"
    lhs: Expr
    rhs: Expr


@dataclass(eq=False)
class UnaryOp(Expr):
    op: str  # - + ~ not
    operand: Expr


@dataclass(eq=False)
class Compare(Expr):
    op: str  # < <= > >= == !=
    lhs: Expr
    rhs: Expr


@dataclass(eq=False)
class Logical(Expr):
    op: str  # and or
    lhs: Expr
    rhs: Expr


@dataclass(eq=False)
class Select(Expr):
    cond: Expr
    a: Expr
    b: Expr


@dataclass(eq=False)
class Cast(Expr):
    value: Expr


@dataclass(eq=False)
class MathCall(Expr):
    fn: str  # sqrt exp ... (see lang/kmath.py MATH)
    args: list[Expr]


@dataclass(eq=False)
class Load(Expr):
    view: Expr
    index: list[Expr]


@dataclass(eq=False)
class SubView(Expr):
    """`v[j, :]`, `v[a:b, k]`, `pk.subview(v, j, pk.ALL)`: a strided View into `view`. Each entry of `spec` is
    ("index", expr) (the dimension is dropped) or ("range", begin, end) (begin/end None: the whole extent)."""

    view: Expr
    spec: list


@dataclass(eq=False)
class Extent(Expr):
    view: Expr
    dim: int


@dataclass(eq=False)
class Field(Expr):
    obj: Expr  # a MinLoc/MaxLoc accumulator
    name: str  # val | loc


@dataclass(eq=False)
class Call(Expr):
    fn: Function
    args: list[Expr]


@dataclass(eq=False)
class Atomic(Expr):
    op: str  # add sub mul div min max and or xor ; "cas" for compare-exchange
    view: Expr
    index: list[Expr]
    args: list[Expr]  # [value] or [expected, desired]
    fetch: bool  # True: the expression's value is the old value


@dataclass(eq=False)
class TeamQuery(Expr):
    team: Expr
    what: str  # league_rank league_size team_rank team_size vector_length


@dataclass(eq=False)
class ScratchAlloc(Expr):
    """A ScratchView carved from the team's (or thread's) scratch memory at `level`; `type` is its ViewType."""

    team: Expr
    level: Expr
    per_thread: bool
    extents: list[Expr]


@dataclass(eq=False)
class ScratchSize(Expr):
    """The bytes a ScratchView of these extents needs (ScratchView1D[T].shmem_size(n) in a kernel)."""

    elem: T.ScalarType
    extents: list[Expr]


@dataclass(eq=False)
class RandomCall(Expr):
    """pool.get_state() (`what` "get_state", obj the pool) or a generator method (obj the state): drand, frand,
    urand, urand64, rand, normal."""

    obj: Expr
    what: str
    args: list[Expr]


# ------------------------------------------------------------------------------------------------ statements


@dataclass(eq=False)
class Stmt:
    loc: Loc


@dataclass(eq=False)
class Assign(Stmt):
    target: Var
    value: Expr


@dataclass(eq=False)
class FieldAssign(Stmt):
    target: Field
    value: Expr


@dataclass(eq=False)
class Store(Stmt):
    view: Expr
    index: list[Expr]
    value: Expr


@dataclass(eq=False)
class If(Stmt):
    cond: Expr
    then: list[Stmt]
    orelse: list[Stmt]


@dataclass(eq=False)
class For(Stmt):
    var: Var
    start: Expr
    stop: Expr
    step: Expr
    body: list[Stmt]


@dataclass(eq=False)
class While(Stmt):
    cond: Expr
    body: list[Stmt]


@dataclass(eq=False)
class Break(Stmt):
    pass


@dataclass(eq=False)
class Continue(Stmt):
    pass


@dataclass(eq=False)
class Return(Stmt):
    value: Expr | None


@dataclass(eq=False)
class ExprStmt(Stmt):
    value: Expr


@dataclass(eq=False)
class Printf(Stmt):
    fmt: str
    args: list[Expr]


@dataclass(eq=False)
class Barrier(Stmt):
    team: Expr


@dataclass(eq=False)
class Nested(Stmt):
    """A nested pattern inside a team workunit: parallel_for/reduce/scan over TeamThreadRange (threads of the
    team), ThreadVectorRange (vector lanes of one thread), TeamVectorRange (all lanes of the team) or
    TeamThreadMDRange. Its body is the nested function's body, inlined with its locals renamed."""

    pattern: str  # for | reduce | scan
    level: str  # thread | vector | teamvector
    team: Expr
    bounds: list[tuple[Expr, Expr]]  # [begin, end) per dimension
    vars: list[Var]
    acc: Var | None
    final: Var | None
    result: Var | None  # where a reduce/scan result goes (the value of the call)
    reducer: str | None
    body: list[Stmt]


@dataclass(eq=False)
class Single(Stmt):
    """pk.single(pk.PerTeam(team) | pk.PerThread(team), fn): one thread of the team / one lane of the thread."""

    per: str  # team | thread
    team: Expr
    body: list[Stmt]


# ------------------------------------------------------------------------------------------------ units


@dataclass(eq=False)
class Param:
    name: str
    type: T.Type
    loc: Loc


@dataclass(eq=False)
class Function:
    """A `@pk.function` specialized for one signature of argument types."""

    name: str  # unique C identifier
    pyname: str
    params: list[Param]
    ret: T.Type
    body: list[Stmt]
    locals: dict[str, T.Type]
    loc: Loc


@dataclass(eq=False)
class Construct(Expr):
    """A @pk.classtype constructor call: `fn` builds and returns the struct."""

    fn: Function
    args: list[Expr]


@dataclass(eq=False)
class Kernel:
    """A workunit specialized for one pattern, policy rank and argument signature."""

    name: str
    pattern: str  # for | reduce | scan
    indices: list[Param]  # one per policy dimension
    acc: Param | None  # reduce and scan
    final: Param | None  # scan
    params: list[Param]  # the keyword arguments, in declaration order
    body: list[Stmt]
    locals: dict[str, T.Type]
    functions: list[Function]  # callees, each before its callers
    reducer: str | None  # Sum Prod Min Max MinLoc MaxLoc LAnd LOr BAnd BOr
    loc: Loc
    writes: set[str] = field(default_factory=set)  # names of array params the kernel may write
    team: Param | None = None  # TeamPolicy workunits: the TeamMember parameter (instead of indices)
    structs: list = field(default_factory=list)  # @pk.classtype struct types, in dependency order
    fast_math: bool | None = None  # @pk.workunit(fast_math=...); None: the KERNELKIT_FAST_MATH default
    no_simd: bool = False  # a build for overlapping arguments: iterations run in order, never as simd lanes


def walk_stmts(body: list[Stmt]):
    """Every statement in a body, nested ones included."""
    for s in body:
        yield s
        for attr in ("then", "orelse", "body"):
            inner = getattr(s, attr, None)
            if inner and isinstance(inner, list):
                yield from walk_stmts(inner)


def assigned_names(body: list[Stmt]) -> set[str]:
    """The locals a body assigns (assignments, loop variables, the results of nested patterns), nested
    statements included."""
    out: set[str] = set()
    for s in walk_stmts(body):
        if isinstance(s, Assign):
            out.add(s.target.name)
        elif isinstance(s, For):
            out.add(s.var.name)
        elif isinstance(s, Nested) and s.result is not None:
            out.add(s.result.name)
    return out


def walk_exprs(e):
    """An expression and every expression inside it."""
    if not isinstance(e, Expr):
        return
    yield e
    for v in vars(e).values():
        if isinstance(v, Expr):
            yield from walk_exprs(v)
        elif isinstance(v, list):
            for x in v:
                yield from walk_exprs(x)


def _root_name(view) -> str | None:
    while isinstance(view, SubView):
        view = view.view
    return view.name if isinstance(view, Var) else None


def writes_own_elements(body: list[Stmt], index_vars: set[str], functions_write: bool) -> bool:
    """True when distinct iterations touch distinct elements of every View they write, so they may run as simd
    lanes: every store names one of `index_vars` directly as an index, and so does every load from a View the
    body writes (`x[i] = x[i - 1] + 1` reads another iteration's element: it keeps its order). Scatter stores
    (`h[k[i]] += 1`), atomics and device functions that write make it False: such loops keep their sequential
    order within a thread. Arguments that overlap in memory are the launcher's concern (`assumes_independent`)."""
    if functions_write:
        return False

    def own(index: list[Expr]) -> bool:
        return any(isinstance(ix, Var) and ix.name in index_vars for ix in index)

    written: set[str | None] = set()
    for s in walk_stmts(body):
        if isinstance(s, Store):
            if not own(s.index):
                return False
            written.add(_root_name(s.view))
        for e in (v for v in vars(s).values() if isinstance(v, Expr)):
            for sub in walk_exprs(e):
                if isinstance(sub, Atomic):
                    return False
    for s in walk_stmts(body):
        for value in vars(s).values():
            for x in value if isinstance(value, list) else [value]:
                for sub in walk_exprs(x):
                    if isinstance(sub, Load) and _root_name(sub.view) in written and not own(sub.index):
                        return False
    return True


def assumes_independent(kernel: Kernel) -> bool:
    """Whether the compiled kernel may run iterations as simd lanes on the premise that distinct iterations touch
    distinct elements: true of a kernel that writes Views, unless built for overlapping arguments (`no_simd`).
    Two arguments that overlap in memory, one of them written, break the premise (unless they are the same
    View): the launcher then runs the `no_simd` build (host) or refuses (GPU)."""
    return bool(kernel.writes) and not kernel.no_simd


# ------------------------------------------------------------------------------------------------ programs
# A whole `@pk.jit` function (kernelkit.loops lowers it): host statements, in which ParallelFor nodes mark the
# loops that run in parallel on the program's space. Their bodies are ordinary kernel statements, so every
# renderer reuses its expression and statement methods for them.


@dataclass(eq=False)
class Alloc(Expr):
    """A new array (`np.empty`, `np.zeros`, `pk.View`, ... in a program): `type` is a C-layout ViewType, `shape`
    one extent per dimension, `fill` the value of every element (None: uninitialized)."""

    shape: list[Expr]
    fill: Expr | None


@dataclass(eq=False)
class ParallelFor(Stmt):
    """A parallel loop of a program: every point of `bounds` (per dimension (start, stop, step), outermost first;
    more than one dimension is a collapsed loop nest, an MDRange) runs `body` with `vars` set, concurrently.

    `reductions` are (local, op) pairs, op one of + * min max: each thread accumulates its own copy from the
    operator's identity and the copies are joined into the local after the loop. `private` locals get a copy per
    thread, initialized from their value before the loop. `shared` locals are written in place (APPy's
    `shared(x)`: the last write wins). `simd`: iterations also run as vector lanes (no iteration reads what
    another writes, as far as the compiler can see). `schedule` is a hint for CPU threads."""

    vars: list[Var]
    bounds: list[tuple[Expr, Expr, Expr]]
    body: list[Stmt]
    reductions: list[tuple[str, str]] = field(default_factory=list)
    private: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    simd: bool = False
    label: str = ""
    schedule: str = ""  # "" (static), or OpenMP's kind[,chunk]: static,1 dynamic guided ...
    # PyOMP's directive clauses (loops/omp.py): num_threads, if, chunk (Exprs); worksharing (an `omp for` inside a
    # parallel region), nowait, fork (always fork threads, however few the iterations)
    omp: dict = field(default_factory=dict)


@dataclass(eq=False)
class SimdFor(For):
    """A sequential loop whose iterations may run as vector lanes (APPy's `#pragma simd`): `reductions` as in
    ParallelFor, `private` the locals each lane has its own copy of (the last iteration's value survives)."""

    reductions: list[tuple[str, str]] = field(default_factory=list)
    private: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Result(Stmt):
    """The `index`-th value the program returns (a Return follows)."""

    index: int
    value: Expr


@dataclass(eq=False)
class Free(Stmt):
    """The end of a program-allocated array's life (before a Return, for arrays the program does not return)."""

    var: Var


@dataclass(eq=False)
class Region(Stmt):
    """An OpenMP construct in a program (PyOMP's `with openmp("...")`): `kind` is parallel | single | master |
    critical | barrier | task | taskwait | ordered, `clauses` its parsed clauses (name -> value), `body` the
    statements it covers (empty for barrier and taskwait). Inside a parallel region, ThreadQuery answers the
    thread's number and the team's size."""

    kind: str
    clauses: dict
    body: list[Stmt]


@dataclass(eq=False)
class ThreadQuery(Expr):
    """A call of the OpenMP runtime: `what` is the name after `omp_` (get_thread_num, set_num_threads, get_wtime,
    in_parallel, get_level, ...; the older short names thread_num | num_threads | max_threads | wtime too)."""

    what: str
    args: list[Expr] = field(default_factory=list)


@dataclass(eq=False)
class Program:
    """A `@pk.jit` function specialized for one signature of argument types. `results` are the types of the
    values it returns ([] when it returns None); `result_params[k]` names the parameter the k-th result always
    is (an array argument returned as it came in), or is None; `tuple_result` says the function returns a
    tuple."""

    name: str
    params: list[Param]
    body: list[Stmt]
    locals: dict[str, T.Type]
    functions: list[Function]
    loc: Loc
    results: list[T.Type] = field(default_factory=list)
    result_params: list[str | None] = field(default_factory=list)
    tuple_result: bool = False
    result_tree: tuple | None = None  # a nested tuple returned (`return (a, b), c`): its shape, leaves the indices
    writes: set[str] = field(default_factory=set)
    structs: list = field(default_factory=list)
    allocs: list[str] = field(default_factory=list)  # locals holding program-allocated arrays
    fast_math: bool | None = None  # @pk.jit(fast_math=...); None: the KERNELKIT_FAST_MATH default


def parallel_loops(body: list[Stmt]):
    """Every ParallelFor in a program body, outermost first."""
    for s in walk_stmts(body):
        if isinstance(s, ParallelFor):
            yield s
