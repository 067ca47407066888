"""The KernelError family and the one place that formats a source location with a caret.

Every problem a user can cause (unsupported syntax, an unknown name, a type conflict, a wrong argument, a bad
policy, a failed native compile) surfaces as a KernelError subclass that also subclasses the built-in exception a
Python programmer would expect (TypeError, ValueError, ...), so `except TypeError` keeps working.
"""

from __future__ import annotations

import linecache
import os
from dataclasses import dataclass
from types import FrameType


@dataclass(frozen=True)
class Loc:
    """A position in the user's source: file, 1-based line, 0-based column (as `ast` reports them)."""

    file: str
    line: int
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}"


UNKNOWN = Loc("<unknown>", 0, 0)


def format_location(loc: Loc | None) -> str:
    """`file:line:col`, then the source line and a caret under the column (when the source is available)."""
    if loc is None or loc.line <= 0:
        return ""
    text = linecache.getline(loc.file, loc.line).rstrip("\n")
    out = f"  File {loc}"
    if text:
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        out += f"\n    {stripped}\n    {' ' * max(loc.col - indent, 0)}^"
    return out


class KernelError(Exception):
    """Base of every error kernelkit raises for something the user wrote or passed."""

    def __init__(self, message: str, loc: Loc | None = None, detail: str | None = None):
        self.message = message
        self.loc = loc
        self.detail = detail
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        where = format_location(self.loc)
        if where:
            parts.append(where)
        if self.detail:
            parts.append(self.detail)
        return "\n".join(parts)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.loc, self.detail))


def _rebuild(cls, message, loc, detail):
    return cls(message, loc, detail)


class KernelSyntaxError(KernelError, TypeError):
    """A Python construct the kernel language does not support."""


class KernelTypeError(KernelError, TypeError):
    """A type conflict, an unknown name, or an argument of the wrong kind, dtype or rank."""


class KernelValueError(KernelError, ValueError):
    """A value out of range: a bad policy, shape, extent or option."""


class CompileError(KernelError, RuntimeError):
    """The native toolchain failed; `detail` holds its log, with locations mapped back to the Python source."""


class ToolchainNotFound(KernelError, RuntimeError):
    """No usable compiler for a space (the message names what to install)."""


class SpaceUnavailable(KernelError, RuntimeError):
    """The execution space exists but cannot run here (no GPU, missing optional dependency)."""


class KernelRuntimeError(KernelError, RuntimeError):
    """A kernel failed while running (bounds check, device fault)."""


class KernelMemoryError(KernelError, MemoryError):
    """An allocation failed: the message says how much memory was asked for, and where."""


def format_bytes(n: int) -> str:
    """`n` bytes for a reader: 512 GiB, 3.1 MiB, 17 bytes."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def caller_loc() -> Loc | None:
    """The location of the innermost frame outside kernelkit: where the user called the API."""
    import sys

    f: FrameType | None = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_PKG_DIR):
            return Loc(f.f_code.co_filename, f.f_lineno, 0)
        f = f.f_back
    return None


_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
