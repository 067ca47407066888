"""List the imports inside src/kernelkit that point up the pipeline.

    python tools/check_imports.py      # one line per upward import (exit status 1 if any), then facade imports

The pipeline, lowest first: errors/config <- ir <- lang <- frontend (and loops, the annotated-loop frontend,
at its level) <- compile <- runtime <- api (and the packages built on the api: tasks, interop, mpi, cli, bench,
the facade). A module may import its own
stage and the stages below it. Backends are reached through their interface: a backend may import only
errors, config, ir, lang, _native and other backend modules. Every import counts, also those inside
functions, since a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "src" / "kernelkit"
STAGES = [
    "errors",
    "config",
    "_version",
    "_native",
    "ir",
    "interop",
    "lang",
    "frontend",
    "loops",
    "compile",
    "runtime",
    "api",
]
LEVEL = {
    "errors": 0,
    "config": 0,
    "_version": 0,
    "_native": 0,
    "ir": 1,
    "interop": 1,  # DLPack and the CUDA array interface: descriptions of foreign memory, above ir's types
    "lang": 2,
    "frontend": 3,
    "loops": 3,  # the annotated-loop frontend: a second frontend beside frontend/, at its level
    "compile": 4,
    "runtime": 5,
    "api": 6,
}
TOP = 7  # everything else: the facade, tasks, cli, bench, ...
BACKEND_MAY_IMPORT = {"errors", "config", "_native", "ir", "lang", "backends"}


def stage_of(module: str) -> str:
    """The first component under kernelkit ("" for the facade itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    return (PKG / name).is_dir() or (PKG / f"{name}.py").exists() or any(PKG.glob(f"{name}.*.so"))


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported kernelkit module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "kernelkit"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] != "kernelkit":
                continue
            if base == "kernelkit":  # `from kernelkit import lang` names a module, `... import __version__` the facade
                out += [(node.lineno, f"kernelkit.{a.name}" if _is_module(a.name) else "kernelkit") for a in node.names]
            else:
                out.append((node.lineno, base))
    return out


def problems() -> tuple[list[str], list[str]]:
    """(upward imports, imports of the facade by modules inside the package)."""
    found, facade = [], []
    for path in sorted(PKG.rglob("*.py")):
        module = module_name(path)
        src = stage_of(module)
        for line, target in imports_of(path, module):
            dst = stage_of(target)
            if dst == src:
                continue
            where = f"{path.relative_to(PKG.parent.parent)}:{line}"
            if src == "backends":
                if dst not in BACKEND_MAY_IMPORT:
                    found.append(
                        f"{where}: backend imports {target} (a backend may import only "
                        f"{', '.join(sorted(BACKEND_MAY_IMPORT - {'backends'}))})"
                    )
                continue
            if dst == "backends":
                continue  # reaching a backend is the interface's business (backends/base.py), not a layering one
            if src in LEVEL and LEVEL.get(dst, TOP) > LEVEL[src]:
                up = "the facade" if dst == "" else dst
                found.append(f"{where}: {src} imports {target} ({up} is above {src})")
            elif dst == "" and src:
                facade.append(f"{where}: {module} imports the facade (internal modules import modules)")
    return found, facade


def main() -> int:
    found, facade = problems()
    for line in found + facade:
        print(line)
    print(f"{len(found)} upward import(s); {len(facade)} import(s) of the facade from inside the package")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
