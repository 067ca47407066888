"""Getting a kernel's Python source and AST, with locations that point into the user's file."""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from dataclasses import dataclass

from kernelkit.errors import KernelSyntaxError, Loc


@dataclass
class Source:
    """A function's AST with its position in the file it came from."""

    tree: ast.FunctionDef
    file: str
    indent: int  # columns removed by dedent, added back to every reported column
    text: str  # the dedented source (part of no key: the IR carries what matters)

    def loc(self, node: ast.AST) -> Loc:
        return Loc(self.file, getattr(node, "lineno", 0), getattr(node, "col_offset", 0) + self.indent)


_CACHE: dict[object, Source] = {}


def get_source(fn) -> Source:
    """Parse `fn` once per code object. Works for module-level functions, nested functions and closures; the
    source must be available (defined in a file or registered in linecache, e.g. by IPython)."""
    code = fn.__code__
    cached = _CACHE.get(code)
    if cached is not None:
        return cached
    file = code.co_filename
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise KernelSyntaxError(
            f"cannot read the source of {fn.__qualname__!r}: kernels must be defined in a file "
            f"(or a notebook cell), not built with exec() or typed at a bare interpreter prompt ({e})",
            Loc(file, code.co_firstlineno, 0),
        ) from None
    raw = "".join(lines)
    text = textwrap.dedent(raw)
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    indent -= len(text.splitlines()[0]) - len(text.splitlines()[0].lstrip()) if text else 0
    try:
        module = ast.parse(text)
    except SyntaxError as e:
        raise KernelSyntaxError(
            f"cannot parse kernel source: {e.msg}", Loc(file, first + (e.lineno or 1) - 1)
        ) from None
    ast.increment_lineno(module, first - 1)
    node = module.body[0] if module.body else None
    if not isinstance(node, ast.FunctionDef):
        raise KernelSyntaxError(
            f"{fn.__qualname__!r} is not a plain `def` function (lambdas and async functions cannot be kernels)",
            Loc(file, first, 0),
        )
    linecache.checkcache(file)
    src = Source(node, file, indent, text)
    _CACHE[code] = src
    return src
