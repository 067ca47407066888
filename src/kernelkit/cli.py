"""The `kernelkit` command: info, cache, compile, demo, bench.

Startup stays cheap: argparse only at import; each subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _attempt(fn: Callable[[], Any]) -> tuple[Any, str | None]:
    """(value, None), or (None, a one-line reason) when the probe raised."""
    try:
        return fn(), None
    except Exception as e:  # info reports what is broken instead of dying on it
        text = str(e).strip().splitlines()
        return None, f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


# ---- info --------------------------------------------------------------------------------------------------


def _cache_summary() -> dict[str, Any]:
    from kernelkit.compile.cache import default_cache

    cache = default_cache()
    entries = cache.entries()
    count = entries if isinstance(entries, int) else len(list(entries))
    return {"directory": str(cache.directory), "entries": count, "size_bytes": int(cache.size_bytes())}


def _default_space_name(pk: Any) -> str:
    for getter in ("get_default_space", "default_space"):
        fn = getattr(pk, getter, None)
        if callable(fn):
            space = fn()
            return str(getattr(space, "name", space)).lower()
    space = getattr(pk, "Default", None)
    if space is None:
        raise AttributeError("kernelkit has no default space")
    return str(getattr(space, "name", space)).lower()


def collect_info() -> dict[str, Any]:
    """Everything `kernelkit info` prints, as a JSON-ready dict (broken parts carry an 'error' string)."""
    import platform

    info: dict[str, Any] = {"python": platform.python_version(), "python_executable": sys.executable}
    import numpy

    info["numpy"] = numpy.__version__
    import kernelkit as pk

    info["kernelkit"] = getattr(pk, "__version__", None)
    info["kernelkit_path"] = (list(getattr(pk, "__path__", [])) or [None])[0]

    def spaces() -> list[dict[str, Any]]:
        from kernelkit.backends.base import space_report

        return [
            {"name": str(s["name"]), "available": bool(s["available"]), "detail": str(s.get("detail", ""))}
            for s in space_report()
        ]

    def compiler() -> dict[str, Any] | None:
        from kernelkit.backends.openmp.toolchain import find_cxx

        found = find_cxx()
        return None if found is None else {"path": str(found.path), "version": str(found.version)}

    for key, fn in (
        ("spaces", spaces),
        ("compiler", compiler),
        ("default_space", lambda: _default_space_name(pk)),
        ("threads", lambda: int(pk.get_num_threads())),
        ("cache", _cache_summary),
    ):
        value, error = _attempt(fn)
        info[key] = value
        if error:
            info[f"{key}_error"] = error
    return info


def _info(args: argparse.Namespace) -> int:
    info = collect_info()
    if args.json:
        import json

        print(json.dumps(info, indent=2))
        return 0

    def row(key: str, value: str) -> None:
        print(f"{key:<14}{value}")

    row("kernelkit", f"{info['kernelkit'] or 'unknown version'} ({info['kernelkit_path']})")
    row("python", f"{info['python']} ({info['python_executable']})")
    row("numpy", info["numpy"])
    if info.get("compiler_error"):
        row("C++ compiler", f"unknown ({info['compiler_error']})")
    elif info["compiler"] is None:
        row("C++ compiler", "none found: install g++ or clang++ (or set CXX) for the Serial and OpenMP spaces")
    else:
        row("C++ compiler", f"{info['compiler']['path']} ({info['compiler']['version']})")
    row("default space", info["default_space"] or f"unknown ({info.get('default_space_error')})")
    row(
        "threads",
        str(info["threads"]) if info["threads"] is not None else f"unknown ({info.get('threads_error')})",
    )
    if info["spaces"] is None:
        row("spaces", f"unknown ({info.get('spaces_error')})")
    else:
        print("spaces")
        for s in info["spaces"]:
            mark = "yes" if s["available"] else "no"
            print(f"  {s['name']:<12}{mark:<5}{s['detail']}")
    cache = info["cache"]
    if cache is None:
        row("cache", f"unknown ({info.get('cache_error')})")
    else:
        row("cache", f"{cache['directory']} ({cache['entries']} entries, {_fmt_bytes(cache['size_bytes'])})")
    return 0


# ---- cache -------------------------------------------------------------------------------------------------


def _cache(args: argparse.Namespace) -> int:
    from kernelkit.compile.cache import default_cache

    cache = default_cache()
    before = _cache_summary()
    if args.cache_command == "clear":
        removed = cache.clear()
        count = removed if isinstance(removed, int) else before["entries"]
        print(
            f"removed {count} entr{'y' if count == 1 else 'ies'} ({_fmt_bytes(before['size_bytes'])}) "
            f"from {before['directory']}"
        )
        return 0
    print(f"directory  {before['directory']}")
    print(f"entries    {before['entries']}")
    print(f"size       {_fmt_bytes(before['size_bytes'])}")
    return 0


# ---- demo and bench ----------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from kernelkit.demo import demo

    spaces = tuple(s.strip() for s in args.space.split(",")) if args.space else None
    return demo(spaces=spaces, size=args.size)


DEMO_SIZE = 1 << 23  # kernelkit.demo.N (not imported here: the CLI starts without kernelkit)

BENCH_MISSING = (
    "kernelkit bench: the benchmark harness is not part of the installed package; it lives in benchmarks/ of "
    "the kernelkit repository. From a clone, run `python benchmarks/run.py --quick` (or `pip install -e .` "
    "there, then `kernelkit bench --quick`)."
)


def find_benchmarks() -> str | None:
    """The benchmarks/ folder of the checkout kernelkit runs from (an editable install), else of the current
    directory or one above it; None when there is none (kernelkit installed from a wheel)."""
    import os

    import kernelkit

    package = os.path.dirname(os.path.abspath(kernelkit.__file__))
    candidates = [os.path.dirname(os.path.dirname(package))]  # <repo>/src/kernelkit -> <repo>
    here = os.path.abspath(os.getcwd())
    while True:
        candidates.append(here)
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    for root in candidates:
        folder = os.path.join(root, "benchmarks")
        if os.path.isfile(os.path.join(folder, "kkbench", "__init__.py")):
            return folder
    return None


def _bench(argv: Sequence[str]) -> int:
    """`kernelkit bench ARGS`: `python benchmarks/run.py ARGS` of the checkout, when there is one."""
    folder = find_benchmarks()
    if folder is None:
        print(BENCH_MISSING, file=sys.stderr)
        return 2
    if folder not in sys.path:
        sys.path.insert(0, folder)
    from kkbench.cli import main as bench_main

    return bench_main(list(argv), prog="kernelkit bench")


def _compile(args: argparse.Namespace) -> int:
    """Ahead-of-time compilation of the annotated workunits in files (no GPU needed for --space cuda)."""
    from kernelkit.aot import compile_file
    from kernelkit.errors import KernelError

    status = 0
    for path in args.files:

        def progress(k: int, n: int, name: str, path: str = path) -> None:
            if n and not args.quiet:
                width = 30
                done = int(width * k / n)
                sys.stderr.write(f"\r{path}: [{'#' * done}{'.' * (width - done)}] {k}/{n} {name:<24}")
                sys.stderr.flush()

        try:
            results = compile_file(path, args.space, args.arch, progress=progress)
        except (KernelError, OSError) as e:
            print(f"\n{path}: {e}", file=sys.stderr)
            status = 1
            continue
        if not args.quiet:
            sys.stderr.write("\n")
        for r in results:
            print(f"{path}: {r.name}: {r.status}{' (' + r.detail + ')' if r.detail else ''}")
            if r.status == "failed":
                status = 1
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kernelkit", description="kernelkit: performance-portable parallel kernels in Python."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="version, spaces, compiler, threads, cache")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=_info)

    p = sub.add_parser("cache", help="the compiled-kernel cache")
    cache_sub = p.add_subparsers(dest="cache_command", metavar="ACTION")
    cache_sub.add_parser("info", help="location, entries and size (the default)")
    cache_sub.add_parser("clear", help="remove every compiled kernel")
    p.set_defaults(func=_cache, cache_command="info")

    p = sub.add_parser(
        "compile",
        help="compile the annotated workunits of Python files ahead of time (like PyKokkos' PKC)",
        description="Every @pk.workunit whose parameters are annotated is compiled for the space (for cuda: "
        "with NVRTC for --arch, no GPU needed) and stored in the kernel cache; the others are listed as skipped.",
    )
    p.add_argument("files", nargs="+", help="Python files defining workunits (they are imported)")
    p.add_argument("--space", default="openmp", choices=["openmp", "serial", "cuda"])
    p.add_argument("--arch", help="CUDA architecture, e.g. sm_90 (required with --space cuda)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_compile)

    p = sub.add_parser("demo", help="run axpy, dot and the pi integral on every space, check them against NumPy")
    p.add_argument("--space", help="comma-separated spaces (default: every available one)")
    p.add_argument(
        "--size",
        type=int,
        default=DEMO_SIZE,
        help=f"doubles per array (default {DEMO_SIZE:,}; pi takes 8x as many steps)",
    )
    p.set_defaults(func=_demo)

    # `kernelkit bench ARGS` hands ARGS to the harness in benchmarks/ (see `main`); listed here for --help
    sub.add_parser(
        "bench",
        help="benchmarks against hand-written C/OpenMP and CUDA, NumPy, Numba, CuPy and Warp "
        "(a repository checkout: benchmarks/run.py)",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`kernelkit [--version] COMMAND ...`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":
        try:
            return _bench(argv[1:])
        except KeyboardInterrupt:
            return 130
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        import kernelkit

        print(getattr(kernelkit, "__version__", "unknown"))
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
