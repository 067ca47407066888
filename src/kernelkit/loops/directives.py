"""PyOMP's directives: the string of a `with openmp("...")` block -> a Directive (its construct and clauses).

    with openmp("parallel for reduction(+:s) private(x) schedule(dynamic, 4)"):
        for i in range(n): ...

The construct is the longest known sequence of words at the start (`target teams distribute parallel for`); the
clauses follow as `name` or `name(argument)`, the argument with balanced parentheses. Expressions in clauses
(`num_threads(n + 1)`, `if(rp)`, `device(0)`, `schedule(static, cs)`) are kept as Python ASTs located at the
`with` statement. An unknown construct, an unknown clause, or a clause the construct does not take is a
KernelSyntaxError naming it and its line; clauses that only tune a scheduler (`untied`, `mergeable`,
`proc_bind(...)`) are accepted and change nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from kernelkit.errors import KernelSyntaxError, Loc


class UnspecifiedVarInDefaultNone(KernelSyntaxError):  # noqa: N818 - PyOMP's names
    """`default(none)` and a variable the construct uses has no data-sharing clause."""


class ParallelForExtraCode(KernelSyntaxError):  # noqa: N818
    """A loop construct's block holds statements besides its loop."""


class ParallelForWrongLoopCount(KernelSyntaxError):  # noqa: N818
    """A loop construct's block must hold exactly one `for` loop."""


class NonconstantOpenmpSpecification(KernelSyntaxError):  # noqa: N818
    """`with openmp(s)` where `s` is not a constant string."""


class NonStringOpenmpSpecification(KernelSyntaxError):  # noqa: N818
    """`with openmp(x)` where `x` is not a string."""


# OpenMP's reduction operators -> the IR's (ParallelFor.reductions): `-` combines partial results with +
REDUCTION_OPS = {
    "+": "+",
    "-": "+",
    "*": "*",
    "max": "max",
    "min": "min",
    "&": "&",
    "|": "|",
    "^": "^",
    "&&": "&&",
    "||": "||",
}

_DATA = {"private", "firstprivate", "shared", "default"}
_LOOP = {"private", "firstprivate", "lastprivate", "reduction", "schedule", "collapse", "nowait", "ordered"}
_PAR = _DATA | {"reduction", "num_threads", "if", "proc_bind", "copyin"}
_TARGET = {"device", "map", "if", "nowait", "depend", "defaultmap", "is_device_ptr", "private", "firstprivate"}
_TEAMS = _DATA | {"num_teams", "thread_limit", "reduction"}
_DIST = {"private", "firstprivate", "lastprivate", "collapse", "dist_schedule"}

# construct -> the clauses it takes (combined constructs take the union of their parts')
CONSTRUCTS: dict[str, set[str]] = {
    "parallel": _PAR,
    "for": _LOOP,
    "parallel for": (_PAR | _LOOP) - {"nowait"},
    "for simd": _LOOP | {"simdlen", "safelen", "aligned"},
    "parallel for simd": (_PAR | _LOOP | {"simdlen", "safelen", "aligned"}) - {"nowait"},
    "single": {"private", "firstprivate", "nowait"},
    "master": set(),
    "masked": {"filter"},
    "critical": set(),
    "barrier": set(),
    "task": _DATA | {"if", "final", "untied", "mergeable", "priority"},
    "taskwait": set(),
    "taskyield": set(),
    "target": _TARGET | {"thread_limit"},
    "target data": {"device", "map", "if", "use_device_ptr"},
    "target enter data": {"device", "map", "if", "nowait", "depend"},
    "target exit data": {"device", "map", "if", "nowait", "depend"},
    "target update": {"device", "if", "to", "from", "nowait", "depend"},
    "teams": _TEAMS,
    "target teams": _TARGET | _TEAMS,
    "distribute": _DIST,
    "teams distribute": _TEAMS | _DIST,
    "target teams distribute": _TARGET | _TEAMS | _DIST,
    "distribute parallel for": _DIST | _PAR | _LOOP - {"nowait"},
    "teams distribute parallel for": _TEAMS | _DIST | _PAR | _LOOP - {"nowait"},
    "target parallel": _TARGET | _PAR,
    "target parallel for": _TARGET | _PAR | _LOOP,
    "target teams distribute parallel for": _TARGET | _TEAMS | _DIST | _PAR | _LOOP,
    "target teams distribute parallel for simd": _TARGET | _TEAMS | _DIST | _PAR | _LOOP | {"simdlen", "safelen"},
    "teams distribute parallel for simd": _TEAMS | _DIST | _PAR | _LOOP | {"simdlen", "safelen"},
    "target teams loop": _TARGET | _TEAMS | _LOOP,
    "teams loop": _TEAMS | _LOOP,
    "target loop": _TARGET | _LOOP,
    "loop": _LOOP,
}
NOT_SUPPORTED = {  # constructs PyOMP has and kernelkit does not run (yet): the error says so
    "sections",
    "section",
    "parallel sections",
    "ordered",
    "atomic",
    "taskloop",
    "taskgroup",
    "threadprivate",
    "simd",
    "declare target",
    "end declare target",
    "scan",
}
MEANINGLESS = {"untied", "mergeable", "proc_bind", "priority", "dist_schedule", "defaultmap", "simdlen", "safelen"}
MAP_KINDS = ("to", "from", "tofrom", "alloc", "release", "delete")
SCHEDULES = ("static", "dynamic", "guided", "auto", "runtime")


@dataclass
class Directive:
    """One parsed `with openmp("...")`: `kind` its construct, the clauses by name."""

    kind: str
    text: str
    loc: Loc
    private: list[str] = field(default_factory=list)
    firstprivate: list[str] = field(default_factory=list)
    lastprivate: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    reductions: list[tuple[str, str]] = field(default_factory=list)  # (name, IR op)
    default: str = ""  # "" | shared | none
    schedule: str = ""  # static | dynamic | guided | auto | runtime
    chunk: ast.expr | None = None
    collapse: int = 1
    nowait: bool = False
    exprs: dict[str, ast.expr] = field(default_factory=dict)  # num_threads if device num_teams thread_limit ...
    maps: list[tuple[str, str]] = field(default_factory=list)  # (map kind, name)
    name: str = ""  # critical(name)

    @property
    def loop(self) -> bool:
        """A loop construct: its block is one `for` loop."""
        words = self.kind.split()
        return words[-1] in ("for", "distribute", "loop") or words[-2:] == ["for", "simd"]

    @property
    def target(self) -> bool:
        return self.kind.startswith("target")

    @property
    def parallel(self) -> bool:
        """The construct starts a team of threads (parallel, teams, or a target loop: all run as one ParallelFor)."""
        return "parallel" in self.kind.split() or self.kind.startswith(("target teams", "teams"))

    def has(self, clause: str) -> bool:
        return clause in self.exprs or bool(getattr(self, clause, None))


def _split(text: str, loc: Loc, what: str) -> list[tuple[str, str | None]]:
    """`a b(x, (y)) c` -> [(a, None), (b, "x, (y)"), (c, None)]."""
    out: list[tuple[str, str | None]] = []
    pos, n = 0, len(text)
    while pos < n:
        ch = text[pos]
        if ch in " \t\r\n,":
            pos += 1
            continue
        start = pos
        while pos < n and (text[pos].isalnum() or text[pos] == "_"):
            pos += 1
        if pos == start:
            raise KernelSyntaxError(f"cannot read {text[start:]!r} in `{what}`", loc)
        name = text[start:pos]
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        arg = None
        if pos < n and text[pos] == "(":
            depth, begin = 0, pos + 1
            while pos < n:
                if text[pos] == "(":
                    depth += 1
                elif text[pos] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                pos += 1
            if pos >= n:
                raise KernelSyntaxError(f"unbalanced parentheses in `{what}`", loc)
            arg = text[begin:pos].strip()
            pos += 1
        out.append((name, arg))
    return out


def _expr(text: str, loc: Loc, what: str) -> ast.expr:
    try:
        e = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise KernelSyntaxError(f"cannot read the expression {text!r} in `{what}`", loc) from None
    for node in ast.walk(e):  # located at the `with` statement
        node.lineno, node.col_offset = loc.line, loc.col  # type: ignore[attr-defined]
        node.end_lineno, node.end_col_offset = loc.line, loc.col  # type: ignore[attr-defined]
    return e


def _names(arg: str, loc: Loc, what: str) -> list[str]:
    names = [x.strip() for x in arg.split(",") if x.strip()]
    for x in names:
        if not x.isidentifier():
            raise KernelSyntaxError(f"{x!r} in `{what}` is not a variable name", loc)
    return names


def parse(text: str, loc: Loc) -> Directive:
    """Parse one directive string (the argument of `openmp(...)`)."""
    what = f'openmp("{" ".join(text.split())}")'
    items = _split(text, loc, what)
    if not items:
        raise KernelSyntaxError(f"an empty OpenMP directive: `{what}`", loc)
    # the construct: the longest run of leading bare words that names one
    kind, used = "", 0
    words: list[str] = []
    for name, arg in items:
        words.append(name)
        cand = " ".join(words)
        if cand in CONSTRUCTS or cand in NOT_SUPPORTED:
            kind, used = cand, len(words)
        if arg is not None:
            break
    if not kind:
        raise KernelSyntaxError(f"unknown OpenMP directive {items[0][0]!r} in `{what}`", loc)
    if kind in NOT_SUPPORTED:
        raise KernelSyntaxError(f"the OpenMP directive {kind!r} (`{what}`) is not supported by kernelkit", loc)
    d = Directive(kind, " ".join(text.split()), loc)
    rest = items[used:]
    if kind == "critical" and items[used - 1][1] is not None:  # critical(name)
        d.name = _names(items[used - 1][1] or "", loc, what)[0]
    elif items[used - 1][1] is not None:
        raise KernelSyntaxError(f"`{kind}` takes no argument in `{what}`", loc)
    allowed = CONSTRUCTS[kind]
    seen: set[str] = set()
    for name, arg in rest:
        if name not in allowed:
            known = any(name in v for v in CONSTRUCTS.values())
            raise KernelSyntaxError(
                f"the clause {name!r} does not belong on `{kind}` (`{what}`)"
                if known
                else f"unknown OpenMP clause {name!r} in `{what}`",
                loc,
            )
        needs_arg = name not in ("nowait", "untied", "mergeable", "ordered")
        if needs_arg and arg is None:
            raise KernelSyntaxError(f"the clause {name!r} needs an argument: {name}(...) in `{what}`", loc)
        if name in seen and name in ("num_threads", "if", "schedule", "default", "collapse", "device"):
            raise KernelSyntaxError(f"the clause {name!r} appears twice in `{what}`", loc)
        seen.add(name)
        if name in MEANINGLESS:
            continue
        if name in ("private", "firstprivate", "lastprivate", "shared"):
            getattr(d, name).extend(_names(arg or "", loc, what))
        elif name == "reduction":
            op, sep, names = (arg or "").partition(":")
            op = op.strip()
            if not sep or op not in REDUCTION_OPS:
                raise KernelSyntaxError(
                    f"reduction({arg}) in `{what}`: write reduction(OP: names), OP one of {' '.join(REDUCTION_OPS)}",
                    loc,
                )
            d.reductions += [(n, REDUCTION_OPS[op]) for n in _names(names, loc, what)]
        elif name == "default":
            if (arg or "").strip() not in ("shared", "none"):
                raise KernelSyntaxError(f"default({arg}) in `{what}`: default(shared) or default(none)", loc)
            d.default = (arg or "").strip()
        elif name == "schedule":
            k, _, chunk = (arg or "").partition(",")
            k = k.strip()
            if ":" in k:  # schedule(monotonic: dynamic)
                k = k.split(":")[-1].strip()
            if k not in SCHEDULES:
                raise KernelSyntaxError(f"schedule({arg}) in `{what}`: the kind is one of {', '.join(SCHEDULES)}", loc)
            d.schedule = k
            d.chunk = _expr(chunk, loc, what) if chunk.strip() else None
        elif name == "collapse":
            try:
                d.collapse = int((arg or "").strip())
            except ValueError:
                raise KernelSyntaxError(f"collapse({arg}) in `{what}`: a positive integer constant", loc) from None
            if d.collapse < 1:
                raise KernelSyntaxError(f"collapse({arg}) in `{what}`: a positive integer constant", loc)
        elif name == "nowait":
            d.nowait = True
        elif name == "ordered":
            raise KernelSyntaxError(f"the clause 'ordered' (`{what}`) is not supported by kernelkit", loc)
        elif name == "map":
            mk, sep, names = (arg or "").partition(":")
            if not sep:
                mk, names = "tofrom", arg or ""
            mk = mk.strip().split()[-1] if mk.strip() else "tofrom"  # map(always, to: x)
            mk = mk.split(",")[-1].strip()
            if mk not in MAP_KINDS:
                raise KernelSyntaxError(f"map({arg}) in `{what}`: the kind is one of {', '.join(MAP_KINDS)}", loc)
            d.maps += [(mk, n.split("[")[0].strip()) for n in names.split(",") if n.strip()]
        elif name in ("to", "from"):
            d.maps += [(name, n.strip()) for n in (arg or "").split(",") if n.strip()]
        elif name in ("depend", "copyin", "is_device_ptr", "use_device_ptr", "aligned", "filter", "final"):
            raise KernelSyntaxError(f"the clause {name!r} (`{what}`) is not supported by kernelkit", loc)
        else:  # num_threads if device num_teams thread_limit
            d.exprs[name] = _expr(arg or "", loc, what)
    return d


__all__ = [
    "CONSTRUCTS",
    "REDUCTION_OPS",
    "Directive",
    "NonStringOpenmpSpecification",
    "NonconstantOpenmpSpecification",
    "ParallelForExtraCode",
    "ParallelForWrongLoopCount",
    "UnspecifiedVarInDefaultNone",
    "parse",
]
