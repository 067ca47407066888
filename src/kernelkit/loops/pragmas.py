"""APPy's pragmas: `#pragma ...` comments that annotate the statement after them.

    #pragma parallel for [simd] [shared(a, b)] [reduction(+:s)]    the next loop runs in parallel
                         [schedule(dynamic)]                       (a kernelkit extension: how CPU threads share it)
    #pragma sequential for                                         the next loop stays sequential
    #pragma simd                                                   the next loop's iterations may be vector lanes
    #pragma atomic [:N=>le(128)]                                   the next statement updates atomically
    #pragma :M=>parallel :N=>reduce(sum)                           a tensor pragma on a slice assignment
    #pragma 1:M-1=>parallel 1:N-1=>parallel,block(128)

A pragma belongs to the first statement that starts after it. An unknown pragma or clause is a KernelSyntaxError
naming it; hints that only tune APPy's GPU code generation (`le(...)`, `block(...)`, `num_warps(...)`) are
accepted and have no effect on meaning.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

from kernelkit.errors import KernelSyntaxError, Loc
from kernelkit.frontend.source import Source

# hints of APPy's Triton code generation: accepted, meaningless here
TUNING = ("le", "block", "num_warps", "num_stages", "unroll", "nowait")
REDUCE_OPS = {"sum": "+", "+": "+", "prod": "*", "*": "*", "max": "max", "min": "min", "-": "+"}


@dataclass
class DimSpec:
    """One `slice=>properties` entry of a tensor pragma."""

    text: str  # the slice as written, e.g. ":M" or "1:M-1"
    parallel: bool = False
    reduce: str | None = None  # + * min max
    simd: bool = False


@dataclass
class Pragma:
    kind: str  # parallel | sequential | simd | atomic | tensor
    text: str
    loc: Loc
    simd: bool = False
    shared: list[str] = field(default_factory=list)
    reductions: list[tuple[str, str]] = field(default_factory=list)  # (name, op)
    private: list[str] = field(default_factory=list)
    dims: list[DimSpec] = field(default_factory=list)
    schedule: str = ""


_CLAUSE = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*(\(([^()]*)\))?")


def _names(arg: str) -> list[str]:
    return [n.strip() for n in arg.split(",") if n.strip()]


def _clauses(p: Pragma, rest: str, allowed: tuple[str, ...]) -> None:
    pos = 0
    while pos < len(rest):
        if rest[pos] in " \t,":
            pos += 1
            continue
        m = _CLAUSE.match(rest, pos)
        if m is None:
            raise KernelSyntaxError(f"cannot read pragma clause {rest[pos:]!r} in `#pragma {p.text}`", p.loc)
        name, arg = m.group(1), m.group(3)
        pos = m.end()
        if name == "simd" and "simd" in allowed:
            p.simd = True
        elif name in ("shared", "private", "firstprivate") and name in allowed and arg is not None:
            (p.shared if name == "shared" else p.private).extend(_names(arg))
        elif name in ("reduction", "reduce") and "reduction" in allowed and arg is not None:
            op, _, names = arg.partition(":")
            if op.strip() not in REDUCE_OPS or not names.strip():
                raise KernelSyntaxError(
                    f"reduction({arg}) in `#pragma {p.text}`: write reduction(OP:names) with OP one of "
                    "+ * max min sum prod",
                    p.loc,
                )
            p.reductions += [(n, REDUCE_OPS[op.strip()]) for n in _names(names)]
        elif name == "schedule" and "schedule" in allowed and arg is not None:
            kind, _, chunk = (x.strip() for x in arg.partition(","))
            if kind not in ("static", "dynamic", "guided", "auto", "runtime") or (chunk and not chunk.isdigit()):
                raise KernelSyntaxError(f"schedule({arg}) in `#pragma {p.text}`: static, dynamic or guided", p.loc)
            p.schedule = kind + (f",{chunk}" if chunk else "")
        elif name in TUNING:
            continue
        else:
            raise KernelSyntaxError(f"unknown clause {name!r} in `#pragma {p.text}`", p.loc)


def _dim(p: Pragma, entry: str) -> DimSpec:
    sl, _, props = entry.partition("=>")
    d = DimSpec(sl.strip())
    for prop in re.findall(r"[A-Za-z_]+(?:\([^()]*\))?", props):
        name, _, arg = prop.partition("(")
        arg = arg.rstrip(")")
        if name == "parallel":
            d.parallel = True
        elif name == "simd":
            d.simd = True
        elif name in ("reduce", "reduction"):
            op = arg.split(":")[0].strip() or "sum"
            if op not in REDUCE_OPS:
                raise KernelSyntaxError(f"unknown reduction {op!r} in `#pragma {p.text}`", p.loc)
            d.reduce = REDUCE_OPS[op]
        elif name in TUNING:
            continue
        else:
            raise KernelSyntaxError(f"unknown property {name!r} of {d.text!r} in `#pragma {p.text}`", p.loc)
    return d


def parse(text: str, loc: Loc) -> Pragma:
    """One pragma's text (after `#pragma`)."""
    t = text.strip()
    if "=>" in t:
        kind = "atomic" if t.startswith("atomic") else "tensor"
        body = t[len("atomic") :] if kind == "atomic" else t
        p = Pragma(kind, t, loc)
        p.dims = [_dim(p, e) for e in body.split() if "=>" in e]
        return p
    for kind, head in (("parallel", "parallel for"), ("sequential", "sequential for"), ("parallel", "parallel")):
        if t == head or t.startswith(head + " ") or t.startswith(head + "\t"):
            p = Pragma(kind, t, loc)
            _clauses(p, t[len(head) :], ("simd", "shared", "private", "firstprivate", "reduction", "schedule"))
            return p
    if t == "simd" or t.startswith("simd ") or t.startswith("simd("):
        p = Pragma("simd", t, loc, simd=True)
        _clauses(p, t[4:], ("reduction", "private"))
        return p
    if t == "atomic" or t.startswith("atomic "):
        return Pragma("atomic", t, loc)
    raise KernelSyntaxError(
        f"unknown pragma `#pragma {t}` (known: parallel for [simd], sequential for, simd, atomic, and tensor "
        "pragmas like `:M=>parallel :N=>reduce(sum)`)",
        loc,
    )


def collect(src: Source) -> dict[int, Pragma]:
    """The pragmas of a function, keyed by the line of the statement each annotates."""
    tree = src.tree
    first = min([tree.lineno] + [d.lineno for d in tree.decorator_list])
    comments: list[tuple[int, int, str]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src.text).readline):
            if tok.type == tokenize.COMMENT:
                m = re.match(r"#\s*pragma\b(.*)", tok.string)
                if m:
                    comments.append((tok.start[0] + first - 1, tok.start[1], m.group(1)))
    except (tokenize.TokenError, IndentationError) as e:  # the source parsed, so this is not expected
        raise KernelSyntaxError(f"cannot read the comments of {tree.name!r}: {e}", src.loc(tree)) from None
    if not comments:
        return {}
    starts = sorted({n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt) and n is not tree})
    out: dict[int, Pragma] = {}
    for line, col, text in comments:
        loc = Loc(src.file, line, col + src.indent)
        target = next((s for s in starts if s > line), None)
        if target is None:
            raise KernelSyntaxError(f"`#pragma {text.strip()}` annotates no statement", loc)
        if target in out:
            raise KernelSyntaxError(f"two pragmas annotate the statement at line {target}", loc)
        out[target] = parse(text, loc)
    return out
