#!/usr/bin/env python3
"""Port Parla programs to kernelkit.tasks by rewriting their imports, and nothing else.

    from parla import Parla, spawn              ->  from kernelkit.tasks import Parla, spawn
    from parla.cython.device_manager import cpu ->  from kernelkit.tasks import cpu
    from parla.tasks import AtomicTaskSpace as T ->  from kernelkit.tasks import AtomicTaskSpace as T
    import parla                                ->  import kernelkit.tasks as parla
    import parla.tasks as pt                    ->  import kernelkit.tasks as pt

Usage: python tools/parla_port.py FILE_OR_DIR... -o OUTDIR   (writes the ported copies, prints each rewrite)
       python tools/parla_port.py FILE --check                 (exit 1 if FILE still imports parla)
Non-Python files found in a directory (device files, data) are copied as they are.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from pathlib import Path

TARGET = "kernelkit.tasks"


def _is_parla(module: str | None) -> bool:
    return module is not None and (module == "parla" or module.startswith("parla."))


def _alias(a: ast.alias) -> str:
    return a.name if a.asname is None else f"{a.name} as {a.asname}"


def _rewrite(node: ast.stmt) -> str | None:
    """The replacement text of an import statement of Parla, else None."""
    if isinstance(node, ast.ImportFrom) and node.level == 0 and _is_parla(node.module):
        return f"from {TARGET} import {', '.join(_alias(a) for a in node.names)}"
    if isinstance(node, ast.Import) and any(_is_parla(a.name) for a in node.names):
        parts = []
        for a in node.names:
            if _is_parla(a.name):
                # `import parla.x` binds `parla`; `import parla.x as y` binds y: both become kernelkit.tasks
                parts.append(f"import {TARGET} as {a.asname or a.name.split('.')[0]}")
            else:
                parts.append(f"import {_alias(a)}")
        return "; ".join(parts)
    return None


def port_source(text: str) -> tuple[str, list[tuple[int, str, str]]]:
    """(ported text, [(line, old, new)]) for one Python source."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            new = _rewrite(node)
            if new is not None:
                edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, new))
    report = []
    for lineno, col, end_lineno, end_col, new in sorted(edits, reverse=True):
        first, last = lines[lineno - 1], lines[end_lineno - 1]
        old = "".join(lines[lineno - 1 : end_lineno])
        lines[lineno - 1 : end_lineno] = [first[:col] + new + last[end_col:]]
        report.append((lineno, old.strip(), new))
    return "".join(lines), sorted(report)


def still_imports_parla(text: str) -> bool:
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _is_parla(node.module):
            return True
        if isinstance(node, ast.Import) and any(_is_parla(a.name) for a in node.names):
            return True
    return False


def _files(paths: list[str]) -> list[tuple[Path, Path]]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend((f, f.relative_to(p)) for f in sorted(p.rglob("*")) if f.is_file())
        else:
            out.append((p, Path(p.name)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("-o", "--out", help="directory for the ported copies")
    ap.add_argument("--check", action="store_true", help="only report files that still import parla")
    args = ap.parse_args(argv)
    if not args.check and not args.out:
        ap.error("give -o OUTDIR (or --check)")
    bad = 0
    for src, rel in _files(args.paths):
        if src.suffix != ".py":
            if not args.check:
                dst = Path(args.out) / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
            continue
        text = src.read_text()
        if args.check:
            if still_imports_parla(text):
                print(f"{src}: imports parla")
                bad += 1
            continue
        ported, report = port_source(text)
        dst = Path(args.out) / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(ported)
        for line, old, new in report:
            print(f"{src}:{line}: {old}  ->  {new}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
