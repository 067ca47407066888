"""The harness: select benchmarks, validate every version against NumPy, time them, report.

Within one benchmark and one space every version runs on the same arrays with the same thread count; after
each has been validated they are timed round-robin (see `timing.measure_interleaved`), and every rate is
divided by the reference version's rate from the same run.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from .core import UNITS, Benchmark, Latency, Result, Skip
from .timing import measure_interleaved

ALL_SPACES = ("openmp", "serial", "cuda")
LATENCY_METRICS = {"compile": "cold_compile", "warm": "warm_start", "launch": "launch", "import": "import"}


@dataclass
class Options:
    """What `kernelkit bench` runs; every field has a command-line flag of the same name."""

    quick: bool = False
    spaces: tuple[str, ...] = ALL_SPACES
    threads: int | None = None
    only: tuple[str, ...] | None = None
    frameworks: tuple[str, ...] | None = None
    size: int | None = None
    repeats: int | None = None
    json_path: str | None = None
    latency_samples: int | None = None
    launch_calls: int | None = None
    launch_batches: int | None = None
    quiet: bool = False
    settle_s: float = (
        0.3  # sleep that lets the previous version's helper threads (OpenBLAS spins ~0.2 s) idle
    )

    @property
    def budget_s(self) -> float:
        return 1.0 if self.quick else 5.0

    @property
    def n_repeats(self) -> int:
        return self.repeats or (5 if self.quick else 20)

    @property
    def min_repeats(self) -> int:
        return min(self.n_repeats, 3 if self.quick else 5)

    @property
    def n_latency_samples(self) -> int:
        return self.latency_samples or (3 if self.quick else 5)

    @property
    def n_launch_calls(self) -> int:
        return self.launch_calls or 20_000

    @property
    def n_launch_batches(self) -> int:
        return self.launch_batches or (5 if self.quick else 10)


class Context:
    """What versions need from the run: spaces, thread counts, the compiled C reference, the peers."""

    def __init__(self, options: Options):
        self.options = options
        self.notes: list[str] = []
        self._pk: Any = None
        self._spaces: dict[str, tuple[bool, str]] | None = None
        self._c: Any = None
        self._c_error: Exception | None = None
        self._numba: Any = None
        self.threads = options.threads or self._default_threads()

    @staticmethod
    def _default_threads() -> int:
        try:
            import kernelkit as pk

            return int(pk.get_num_threads())
        except (ImportError, AttributeError):
            from kernelkit import config

            return config.get().num_threads

    # -- kernelkit -----------------------------------------------------------------------------------------

    def kernelkit(self) -> Any:
        if self._pk is None:
            import kernelkit as pk

            missing = [
                n for n in ("parallel_for", "parallel_reduce", "RangePolicy", "fence") if not hasattr(pk, n)
            ]
            if missing:
                raise RuntimeError(f"this kernelkit build lacks {', '.join(missing)}")
            self._pk = pk
        return self._pk

    def space_status(self, space: str) -> tuple[bool, str]:
        """(available, detail) from kernelkit's space report."""
        if self._spaces is None:
            self._spaces = {}
            try:
                from kernelkit.backends.base import space_report

                for entry in space_report():
                    self._spaces[str(entry["name"]).lower()] = (
                        bool(entry["available"]),
                        str(entry.get("detail", "")),
                    )
            except ImportError as e:
                self._spaces = {s: (False, f"kernelkit backends unavailable: {e}") for s in ALL_SPACES}
        return self._spaces.get(space, (False, "unknown space"))

    def kernelkit_space(self, space: str) -> Any:
        pk = self.kernelkit()
        available, detail = self.space_status(space)
        if not available:
            raise Skip(f"{space} space not available" + (f": {detail}" if detail else ""))
        return getattr(pk, {"openmp": "OpenMP", "serial": "Serial", "cuda": "Cuda", "debug": "Debug"}[space])

    def kernelkit_policy(self, space: str, n: int) -> tuple[Any, Any]:
        pk = self.kernelkit()
        space_obj = self.kernelkit_space(space)
        if space == "openmp":
            pk.set_num_threads(self.threads)
        return pk, pk.RangePolicy(space_obj, 0, n)

    def threads_for(self, space: str) -> int:
        return 1 if space == "serial" else self.threads

    # -- the hand-written reference and the peers ---------------------------------------------------------

    def c_reference(self) -> Any:
        if self._c is None and self._c_error is None:
            from .creference import compile_reference

            try:
                self._c = compile_reference()
            except Exception as e:  # reported on every C version, the rest of the run goes on
                self._c_error = e
        if self._c_error is not None:
            raise self._c_error
        return self._c

    def compiler_info(self) -> dict[str, Any] | None:
        if self._c is not None:
            info = self._c.compiler.as_dict()
            info["reference_compile_s"] = self._c.compile_s
            return info
        try:
            from .creference import openmp_compiler

            return openmp_compiler().as_dict()
        except Exception:
            return None

    def numba(self) -> Any:
        if self._numba is None:
            try:
                import numba
            except ImportError as e:
                raise Skip("numba not installed (pip install numba)") from e
            most = int(getattr(numba.config, "NUMBA_NUM_THREADS", self.threads))
            if self.threads > most:
                raise Skip(f"numba was started with {most} threads (NUMBA_NUM_THREADS)")
            self._numba = numba
        return self._numba

    def close(self) -> None:
        if self._c is not None:
            self._c.close()


@dataclass
class Report:
    options: Options
    machine: dict[str, Any]
    results: list[Result] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    load_at_start: list[float] | None = None

    @property
    def failed(self) -> bool:
        return any(r.status in ("invalid", "error") for r in self.results) or any(
            r.status == "error" for r in self.latencies
        )

    def as_dict(self) -> dict[str, Any]:
        from .report import SCHEMA

        opts = asdict(self.options)
        opts.update(repeats=self.options.n_repeats, budget_s=self.options.budget_s)
        return {
            "schema": SCHEMA,
            "command": sys.argv,
            "options": opts,
            "machine": self.machine,
            "results": [r.as_dict() for r in self.results],
            "latency": [r.as_dict() for r in self.latencies],
            "notes": self.notes,
            "elapsed_s": self.elapsed_s,
            "load_average_at_start": self.load_at_start,
        }


def _selected(name: str, tags: Sequence[str], options: Options) -> bool:
    if options.only:
        return name in options.only or any(t in options.only for t in tags)
    return "quick" in tags if options.quick else True


def _framework_selected(framework: str, options: Options) -> bool:
    return options.frameworks is None or framework in options.frameworks


def _describe(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def run_benchmark(ctx: Context, bench: Benchmark, log: Callable[[str], None]) -> list[Result]:
    """Validate and time every selected version of `bench` in every selected space."""
    options = ctx.options
    n = options.size or bench.size(options.quick)
    spaces = [s for s in bench.spaces() if s in options.spaces]
    versions = [v for v in bench.versions if v.space in spaces and _framework_selected(v.framework, options)]
    if not versions:
        return []
    log(f"{bench.name}: n={n:,}, preparing data")
    data = bench.make_data(n)
    expected = bench.expected(data)
    results: list[Result] = []
    try:
        for space in spaces:
            group = [v for v in versions if v.space == space]
            runs: dict[int, Callable[[], Any]] = {}
            rows: dict[int, Result] = {}
            for k, v in enumerate(group):
                threads = None if v.framework == "numpy" else ctx.threads_for(space)
                r = Result(bench.name, v.framework, space, bench.unit, n, "ok", threads=threads, note=v.note)
                rows[k] = r
                results.append(r)
                try:
                    run = v.build(ctx, data)
                    if bench.reset is not None:
                        bench.reset(data)
                    got = run()  # also the first call: compiles what compiles on first use
                except Skip as e:
                    r.status, r.note = "skipped", str(e)
                    continue
                except Exception as e:
                    r.status, r.note = "error", _describe(e)
                    continue
                err, problem = bench.validate(got, expected)
                r.max_error = err
                if problem is not None:
                    r.status, r.note = "invalid", problem
                    continue
                runs[k] = run
            log(f"{bench.name}/{space}: timing {', '.join(group[k].framework for k in runs)}")
            timings = measure_interleaved(
                runs,
                repeats=options.n_repeats,
                warmup=1,
                budget_s=options.budget_s,
                min_repeats=options.min_repeats,
                isolated={k for k in runs if group[k].isolated},
                settle_s=options.settle_s,
            )
            scale = UNITS[bench.unit][1]
            work = bench.work(n)
            for k, timing in timings.items():
                rows[k].timing = timing
                rows[k].rate = work / timing.median / scale
            ref = next((k for k, v in enumerate(group) if v.reference and k in timings), None)
            if ref is not None:
                for k in timings:
                    rows[k].reference = group[ref].framework
                    rows[k].ratio = rows[k].rate / rows[ref].rate  # type: ignore[operator]
                    rows[k].ratio_best = timings[ref].min / timings[k].min
    finally:
        del data, expected
        gc.collect()
    return results


def _latency(ctx: Context, log: Callable[[str], None]) -> list[Latency]:
    from .latency import PROBES, import_time, kernel_latency

    options = ctx.options
    wanted = [m for key, m in LATENCY_METRICS.items() if _selected(key, ("latency", "quick"), options)]
    kernel_metrics = tuple(m for m in wanted if m != "import")
    out: list[Latency] = []
    if kernel_metrics:
        for framework, probe in PROBES.items():
            if not _framework_selected(framework, options):
                continue
            peer = framework != "kernelkit"
            for space in probe.spaces:
                if space not in options.spaces:
                    continue
                if peer and options.quick:
                    out.extend(
                        Latency(m, framework, space, "skipped", note="peers' latency: full run only")
                        for m in kernel_metrics
                    )
                    continue
                reason = _probe_unavailable(ctx, framework, space)
                if reason:
                    out.extend(Latency(m, framework, space, "skipped", note=reason) for m in kernel_metrics)
                    continue
                log(f"latency: {framework}/{space}")
                out.extend(
                    kernel_latency(
                        framework,
                        space,
                        threads=ctx.threads,
                        samples=options.n_latency_samples,
                        calls=options.n_launch_calls,
                        batches=options.n_launch_batches,
                        metrics=kernel_metrics,
                    )
                )
    if "import" in wanted and _framework_selected("kernelkit", options):
        log("latency: import kernelkit")
        out.append(import_time("kernelkit", samples=max(options.n_latency_samples, 3)))
    return out


def _probe_unavailable(ctx: Context, framework: str, space: str) -> str | None:
    import importlib.util

    if framework == "kernelkit":
        try:
            ctx.kernelkit()
        except Exception as e:
            return _describe(e)
        available, detail = ctx.space_status(space)
        return None if available else f"{space} space not available: {detail}"
    if importlib.util.find_spec(framework) is None:
        return f"{framework} not installed"
    return None


def run(options: Options, out: TextIO | None = None, benchmarks: Sequence[Benchmark] | None = None) -> Report:
    """Run the selected benchmarks, print the tables to `out`, write JSON if asked; returns the report.

    `benchmarks` replaces the built-in set (the CPU set of `cpu.cpu_benchmarks`)."""
    from .cpu import cpu_benchmarks
    from .machine import machine_info
    from .report import latency_table, results_table, write_json

    out = out or sys.stdout
    start = time.perf_counter()

    def log(message: str) -> None:
        if not options.quiet:
            print(f"[{time.perf_counter() - start:6.1f} s] {message}", file=sys.stderr, flush=True)

    from .machine import load_average

    ctx = Context(options)
    notes = ctx.notes
    load = load_average()
    if load is not None and load[0] > 0.5:
        notes.append(
            f"load average {load[0]:.2f} at the start: the machine was not idle, so absolute rates may be "
            "low (the ratios are taken in the same run)"
        )
    if "cuda" in options.spaces:
        available, detail = ctx.space_status("cuda")
        explicit = options.spaces == ("cuda",)
        if not available and explicit:
            notes.append(f"cuda: space not available ({detail})")
        elif explicit or available:
            notes.append("cuda: no GPU benchmarks in this version yet")
    report = Report(options=options, machine={}, notes=notes)
    report.load_at_start = load
    try:
        candidates = cpu_benchmarks() if benchmarks is None else list(benchmarks)
        benches = [b for b in candidates if _selected(b.name, b.tags, options)]
        for bench in benches:
            report.results.extend(run_benchmark(ctx, bench, log))
        report.latencies.extend(_latency(ctx, log))
        report.machine = machine_info(threads=ctx.threads, compiler=ctx.compiler_info())
    finally:
        ctx.close()
    report.elapsed_s = time.perf_counter() - start

    m = report.machine
    compiler = (m.get("compiler") or {}).get("version", "no compiler")
    title = (
        f"kernelkit bench{' --quick' if options.quick else ''}: {m.get('cpu')}, {m.get('cores')} cores, "
        f"{ctx.threads} threads, {compiler}"
    )
    print(title, file=out)
    if report.results:
        print("\n" + results_table(report.results, out), file=out)
        print(
            "\nrate: from the median of the repeats, warm-up excluded; vs ref: rate / the rate of the "
            "hand-written C/OpenMP loop of the same space in this run; best: the same ratio from each "
            "version's fastest repeat",
            file=out,
        )
    if report.latencies:
        print("\n" + latency_table(report.latencies, out), file=out)
    for note in notes:
        print(f"note: {note}", file=out)
    print(f"\n{report.elapsed_s:.1f} s", file=out)
    if options.json_path:
        write_json(options.json_path, report.as_dict())
        print(f"wrote {options.json_path}", file=out)
    return report


def known_names() -> list[str]:
    """Everything --only accepts: benchmark names, their tags, the latency metrics, 'latency'."""
    from .cpu import cpu_benchmarks

    names: list[str] = []
    for b in cpu_benchmarks():
        for name in (b.name, *b.tags):
            if name not in names and name != "quick":
                names.append(name)
    return names + [*LATENCY_METRICS, "latency"]


def describe() -> str:
    """The benchmark list, for `kernelkit bench --list`."""
    from .cpu import cpu_benchmarks

    lines = []
    for b in cpu_benchmarks():
        quick = " [quick]" if "quick" in b.tags else ""
        frameworks = sorted({v.framework for v in b.versions})
        lines.append(f"{b.name:8} {b.description}{quick}\n{'':8} versions: {', '.join(frameworks)}")
    lines.append(f"{'compile':8} cold compile of a small kernel (fresh cache, new process) [quick]")
    lines.append(f"{'warm':8} warm start: first launch in a new process with the cache populated [quick]")
    lines.append(f"{'launch':8} launch overhead of a tiny 3-argument kernel, N=1 [quick]")
    lines.append(f"{'import':8} import kernelkit in a fresh interpreter [quick]")
    return "\n".join(lines)


def parse_size(text: str) -> int:
    """'1048576', '2**20', '1<<20' or '1M'-style sizes."""
    t = text.strip().lower().replace("_", "")
    suffix = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    if t and t[-1] in suffix:
        return int(t[:-1]) * suffix[t[-1]]
    if "**" in t:
        base, exp = t.split("**", 1)
        return int(base) ** int(exp)
    if "<<" in t:
        base, shift = t.split("<<", 1)
        return int(base) << int(shift)
    return int(t)


def options_from_args(args: Any) -> Options:
    """Options from the `kernelkit bench` argparse namespace."""
    spaces = ALL_SPACES if args.space == "all" else (args.space,)

    def names(text: str | None) -> tuple[str, ...] | None:
        return tuple(x.strip() for x in text.split(",") if x.strip()) if text else None

    return Options(
        quick=args.quick,
        spaces=spaces,
        threads=args.threads,
        only=names(args.only),
        frameworks=names(args.frameworks),
        size=parse_size(args.size) if args.size else None,
        repeats=args.repeats,
        json_path=args.json,
        quiet=args.quiet,
    )


def main(args: Any) -> int:
    """Entry point of `kernelkit bench` (the CLI parses, this runs); 1 when any version failed."""
    options = options_from_args(args)
    if options.threads is not None and options.threads < 1:
        print("kernelkit bench: --threads must be at least 1", file=sys.stderr)
        return 2
    if options.only:
        known = known_names()
        unknown = [name for name in options.only if name not in known]
        if unknown:
            print(
                f"kernelkit bench: unknown --only name(s) {', '.join(unknown)}; known: {', '.join(known)}",
                file=sys.stderr,
            )
            return 2
    report = run(options)
    return 1 if report.failed else 0
