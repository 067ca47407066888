"""The command line of the harness: `python benchmarks/run.py ...` (and `kernelkit bench ...` in a checkout)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .options import ALL_SPACES, Options, parse_size


def build_parser(prog: str = "benchmarks/run.py") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Validate every version against NumPy, then time it; ratios are to the hand-written "
        "C/OpenMP loop (CPU) or CUDA kernel (GPU) compiled in the same run. See benchmarks/README.md.",
    )
    p.add_argument("--quick", action="store_true", help="the reduced set, fewer repeats (under a minute)")
    p.add_argument("--json", metavar="PATH", help="write every number and the machine's description here")
    p.add_argument("--plot", metavar="DIR", help="write PNG charts (ratios per space, thread scaling) here")
    p.add_argument("--markdown", metavar="PATH", help="write the tables as Markdown here")
    p.add_argument("--from-json", metavar="PATH", help="print, plot or convert a saved report instead of running")
    p.add_argument(
        "--space",
        default="all",
        help="openmp, serial, cuda or all (default: all, those available); a list with commas",
    )
    p.add_argument("--threads", type=int, help="threads for every framework (default: kernelkit's count)")
    p.add_argument("--only", metavar="NAME,...", help="benchmarks, tags, latency metrics or checks (see --list)")
    p.add_argument("--frameworks", metavar="NAME,...", help="e.g. kernelkit,c-openmp (default: all)")
    p.add_argument("--size", help="elements per array / grid side / steps, overriding each benchmark's")
    p.add_argument("--repeats", type=int, help="timed repeats per version")
    p.add_argument(
        "--scaling",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="thread-scaling runs of kernelkit and C (default: in a full run on the CPU)",
    )
    p.add_argument("--scaling-threads", metavar="N,...", help="thread counts of the scaling runs (1,2,4,...)")
    p.add_argument(
        "--profile-warm",
        action="store_true",
        help="also profile kernelkit's warm start (cProfile, in a fresh process) and print where it goes",
    )
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def _names(text: str | None) -> tuple[str, ...] | None:
    return tuple(x.strip() for x in text.split(",") if x.strip()) if text else None


def options_from_args(args: argparse.Namespace) -> Options:
    spaces = ALL_SPACES if args.space == "all" else tuple(s.strip() for s in args.space.split(","))
    counts = args.scaling_threads
    return Options(
        quick=args.quick,
        spaces=spaces,
        threads=args.threads,
        only=_names(args.only),
        frameworks=_names(args.frameworks),
        size=parse_size(args.size) if args.size else None,
        repeats=args.repeats,
        json_path=args.json,
        plot_dir=args.plot,
        markdown_path=args.markdown,
        scaling=args.scaling,
        scaling_threads=tuple(int(x) for x in counts.split(",")) if counts else None,
        profile_warm=args.profile_warm,
        quiet=args.quiet,
    )


def _problem(options: Options) -> str | None:
    """What is wrong with the options, in one line, or None."""
    from .harness import known_names

    unknown_spaces = [s for s in options.spaces if s not in ALL_SPACES]
    if unknown_spaces:
        return f"unknown space(s) {', '.join(unknown_spaces)}; known: {', '.join(ALL_SPACES)}"
    if options.threads is not None and options.threads < 1:
        return "--threads must be at least 1"
    if options.only:
        known = known_names()
        unknown = [name for name in options.only if name not in known]
        if unknown:
            return f"unknown --only name(s) {', '.join(unknown)}; known: {', '.join(known)}"
    return None


def main(argv: Sequence[str] | None = None, prog: str = "benchmarks/run.py") -> int:
    """Run the harness as the command line says; 0 when every version was right, 1 when any failed, 2 on
    bad arguments."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    from . import harness

    if args.list:
        print(harness.describe())
        return 0
    try:
        options = options_from_args(args)
    except ValueError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as f:
            data = json.load(f)
        options.json_path = None if options.json_path == args.from_json else options.json_path
        harness.emit(data, options, sys.stdout)
        return 0
    problem = _problem(options)
    if problem:
        print(f"{prog}: {problem}", file=sys.stderr)
        return 2
    report = harness.run(options)
    return 1 if report.failed else 0
