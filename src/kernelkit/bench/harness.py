"""The harness: select benchmarks, validate every version against NumPy, time them, report.

Within one benchmark and one space every version runs on the same arrays with the same thread count; after
each has been validated they are timed round-robin (see `timing.measure_interleaved`), and every rate is
divided by the reference version's rate from the same run. Bandwidth-bound results are also given as a
fraction of the best copy rate measured in that space in the same run (the achievable bandwidth). The
scaling runs repeat the kernelkit and C versions of the `scaling` benchmarks at 1, 2, 4, ... threads.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TextIO

from .core import UNITS, Benchmark, Latency, Result, Skip
from .timing import measure_interleaved

ALL_SPACES = ("openmp", "serial", "cuda")
CPU_SPACES = ("openmp", "serial")
LATENCY_METRICS = {"compile": "cold_compile", "warm": "warm_start", "launch": "launch", "import": "import"}
SCALING_FRAMEWORKS = ("c-openmp", "kernelkit", "kernelkit-team", "kernelkit-teamvector")

_current: Context | None = None


def current_context() -> Context:
    """The Context of the run in progress (the GPU set makes its device data through it)."""
    if _current is None:
        raise RuntimeError("no benchmark run in progress")
    return _current


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
    plot_dir: str | None = None
    markdown_path: str | None = None
    scaling: bool | None = None  # None: in a full run on the CPU, not with --quick
    scaling_threads: tuple[int, ...] | None = None
    latency_samples: int | None = None
    launch_calls: int | None = None
    launch_batches: int | None = None
    quiet: bool = False
    settle_s: float = (
        0.3  # sleep that lets the previous version's helper threads (OpenBLAS spins ~0.2 s) idle
    )

    def budget_s(self, space: str = "openmp") -> float:
        """Seconds of timed calls per version before it stops repeating (after min_repeats)."""
        if space == "cuda":
            return 0.5 if self.quick else 1.0
        return 0.5 if self.quick else 3.0

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


def quiet_warp(wp: Any) -> None:
    """No banner and no per-module load lines from Warp (the setting moved between Warp versions)."""
    wp.config.quiet = True
    wp.config.log_level = 30  # logging.WARNING


class Context:
    """What versions need from the run: spaces, thread counts, the compiled references, the peers."""

    def __init__(self, options: Options):
        self.options = options
        self.notes: list[str] = []
        self._pk: Any = None
        self._spaces: dict[str, tuple[bool, str]] | None = None
        self._c: Any = None
        self._c_error: Exception | None = None
        self._numba: Any = None
        self._warp: Any = None
        self._cupy: Any = None
        self._gpu: Any = None
        self._gpu_error: Exception | None = None
        self._warp_arrays: dict[tuple[int, str], Any] = {}
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
        """The execution space object, with the run's thread count set for OpenMP."""
        pk = self.kernelkit()
        available, detail = self.space_status(space)
        if not available:
            raise Skip(f"{space} space not available" + (f": {detail}" if detail else ""))
        if space == "openmp":
            pk.set_num_threads(self.threads)
        return getattr(pk, {"openmp": "OpenMP", "serial": "Serial", "cuda": "Cuda", "debug": "Debug"}[space])

    def threads_for(self, space: str) -> int | None:
        return None if space == "cuda" else 1 if space == "serial" else self.threads

    # -- the hand-written references and the peers ---------------------------------------------------------

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

    def gpu(self) -> Any:
        """The GPU of the run (`gpu.Gpu`): device, compiled CUDA reference."""
        if self._gpu is None and self._gpu_error is None:
            from .gpu import Gpu

            try:
                self._gpu = Gpu()
            except Exception as e:
                self._gpu_error = e
        if self._gpu_error is not None:
            raise self._gpu_error
        return self._gpu

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

    def gpu_info(self) -> dict[str, Any] | None:
        return self._gpu.info() if self._gpu is not None else None

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

    def warp(self) -> tuple[Any, Any]:
        """(warp, bench.warp_kernels), initialized once; Skip when warp-lang is not installed."""
        if self._warp is None:
            try:
                import warp as wp
            except ImportError as e:
                raise Skip("warp not installed (pip install warp-lang)") from e
            quiet_warp(wp)
            wp.init()
            from . import warp_kernels

            self._warp = (wp, warp_kernels)
        return self._warp

    def warp_array(self, x: Any, device: str) -> Any:
        """A Warp array over a NumPy array's memory (no copy), one per array and device."""
        key = (id(x), device)
        arr = self._warp_arrays.get(key)
        if arr is None or arr[0] is not x:
            wp, _ = self.warp()
            dtype = wp.int64 if x.dtype.kind == "i" else wp.float64
            arr = (x, wp.array(x, dtype=dtype, device=device, copy=False))
            self._warp_arrays[key] = arr
        return arr[1]

    def cupy(self) -> Any:
        if self._cupy is None:
            try:
                import cupy
            except ImportError as e:
                raise Skip("cupy not installed (pip install cupy-cuda12x)") from e
            self._cupy = cupy
        return self._cupy

    def forget_arrays(self) -> None:
        self._warp_arrays.clear()

    def close(self) -> None:
        if self._c is not None:
            self._c.close()


@dataclass
class Report:
    options: Options
    machine: dict[str, Any]
    results: list[Result] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    scaling: list[Result] = field(default_factory=list)
    ceilings: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    load_at_start: list[float] | None = None

    @property
    def failed(self) -> bool:
        return (
            any(r.status in ("invalid", "error") for r in self.results)
            or any(r.status in ("invalid", "error") for r in self.scaling)
            or any(r.status == "error" for r in self.latencies)
        )

    def as_dict(self) -> dict[str, Any]:
        from .report import SCHEMA

        opts = asdict(self.options)
        opts.update(repeats=self.options.n_repeats, budget_s=self.options.budget_s())
        return {
            "schema": SCHEMA,
            "command": sys.argv,
            "options": opts,
            "machine": self.machine,
            "ceilings": self.ceilings,
            "results": [r.as_dict() for r in self.results],
            "scaling": [r.as_dict() for r in self.scaling],
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


def _measure_space(
    ctx: Context,
    bench: Benchmark,
    n: int,
    data: Any,
    expected: Any,
    space: str,
    group: Sequence[Any],
    log: Callable[[str], None],
) -> list[Result]:
    """Validate each version of `group` (one space), then time the valid ones round-robin."""
    options = ctx.options
    runs: dict[int, Callable[[], Any]] = {}
    rows: dict[int, Result] = {}
    for k, v in enumerate(group):
        threads = None if v.framework in ("numpy", "warp") else ctx.threads_for(space)
        if v.framework == "warp" and space != "cuda":
            threads = 1
        r = Result(bench.name, v.framework, space, bench.unit, n, "ok", threads=threads, note=v.note)
        rows[k] = r
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
        try:
            err, problem = bench.validate(got, expected)
        except Exception as e:
            r.status, r.note = "error", f"validation: {_describe(e)}"
            continue
        r.max_error = err
        if problem is not None:
            r.status, r.note = "invalid", problem
            continue
        runs[k] = run
    if runs:
        log(f"{bench.name}/{space}: timing {', '.join(group[k].framework for k in runs)}")
    timings = measure_interleaved(
        runs,
        repeats=options.n_repeats,
        warmup=1,
        budget_s=options.budget_s(space),
        min_repeats=options.min_repeats,
        isolated={k for k in runs if group[k].isolated},
        settle_s=options.settle_s if space != "cuda" else 0.0,
    )
    scale = UNITS[bench.unit][1]
    work = bench.work(n)
    moved = bench.bytes_moved(n)
    for k, timing in timings.items():
        rows[k].timing = timing
        rows[k].rate = work / timing.median / scale
        if moved is not None:
            rows[k].bandwidth = moved / timing.median / 1e9
    ref = next((k for k, v in enumerate(group) if v.reference and k in timings), None)
    if ref is not None:
        for k in timings:
            rows[k].reference = group[ref].framework
            rows[k].ratio = rows[k].rate / rows[ref].rate  # type: ignore[operator]
            rows[k].ratio_best = timings[ref].min / timings[k].min
    return [rows[k] for k in range(len(group))]


def _skip_all(bench: Benchmark, n: int, group: Sequence[Any], reason: str) -> list[Result]:
    return [Result(bench.name, v.framework, v.space, bench.unit, n, "skipped", note=reason) for v in group]


def run_benchmark(
    ctx: Context,
    bench: Benchmark,
    log: Callable[[str], None],
    *,
    thread_counts: Sequence[int] | None = None,
    frameworks: Sequence[str] | None = None,
) -> list[Result]:
    """Validate and time every selected version of `bench` in every selected space; with `thread_counts`,
    once per thread count (the scaling runs: OpenMP only)."""
    options = ctx.options
    n = options.size or bench.size(options.quick)
    spaces = [s for s in bench.spaces() if s in options.spaces]
    if thread_counts is not None:
        spaces = [s for s in spaces if s == "openmp"]
    versions = [
        v
        for v in bench.versions
        if v.space in spaces
        and _framework_selected(v.framework, options)
        and (frameworks is None or v.framework in frameworks)
    ]
    if not versions:
        return []
    results: list[Result] = []
    live: list[str] = []
    for space in spaces:
        group = [v for v in versions if v.space == space]
        available, detail = ctx.space_status(space)
        if group and space == "cuda" and not available:
            results.extend(_skip_all(bench, n, group, f"cuda space not available: {detail}"))
        elif group:
            live.append(space)
    if not live:
        return results
    log(f"{bench.name}: n={n:,}, preparing data")
    try:
        data = bench.make_data(n)
        expected = bench.expected(data)
    except Exception as e:
        reason = f"preparing the data failed: {_describe(e)}"
        for space in live:
            rows = _skip_all(bench, n, [v for v in versions if v.space == space], reason)
            for r in rows:
                r.status = "error"
            results.extend(rows)
        return results
    saved = ctx.threads
    try:
        for space in live:
            group = [v for v in versions if v.space == space]
            for t in thread_counts or [None]:
                if t is not None:
                    ctx.threads = t
                results.extend(_measure_space(ctx, bench, n, data, expected, space, group, log))
    finally:
        ctx.threads = saved
        ctx.forget_arrays()
        del data, expected
        gc.collect()
    return results


# ---- the achievable bandwidth ------------------------------------------------------------------------------


def _fill_fractions(ctx: Context, report: Report, candidates: Sequence[Benchmark], log) -> None:
    """The best copy rate of each space (any framework) is its achievable bandwidth; when copy did not run in
    a space that has bandwidth-bound results, its reference copy is measured for the purpose."""
    spaces = {r.space for r in report.results if r.bandwidth is not None and r.status == "ok"}
    for space in sorted(spaces):
        copies = [r for r in report.results if r.benchmark == "copy" and r.space == space and r.rate]
        if not copies:
            copy = next((b for b in candidates if b.name == "copy" and space in b.spaces()), None)
            if copy is None:
                continue
            refs = [v.framework for v in copy.versions if v.space == space and v.reference]
            saved = ctx.options.spaces
            ctx.options.spaces = (space,)
            try:
                extra = run_benchmark(ctx, copy, log, frameworks=refs)
            finally:
                ctx.options.spaces = saved
            for r in extra:
                r.note = (r.note + "; " if r.note else "") + "measured for the bandwidth ceiling"
            report.results.extend(extra)
            copies = [r for r in extra if r.rate]
        if not copies:
            continue
        best = max(copies, key=lambda r: r.rate or 0.0)
        report.ceilings[space] = {"GBs": best.rate, "benchmark": "copy", "framework": best.framework}
        for r in report.results:
            if r.space == space and r.bandwidth is not None:
                r.fraction = r.bandwidth / best.rate  # type: ignore[operator]


# ---- scaling -----------------------------------------------------------------------------------------------


def default_thread_counts(cores: int | None = None) -> list[int]:
    """1, 2, 4, ... below the core count, then the core count itself."""
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
    counts = []
    t = 1
    while t < cores:
        counts.append(t)
        t *= 2
    counts.append(cores)
    return counts


def _scaling_wanted(ctx: Context) -> bool:
    o = ctx.options
    if o.scaling is not None:
        return o.scaling and "openmp" in o.spaces
    return not o.quick and "openmp" in o.spaces and ctx.space_status("openmp")[0]


def _scaling(ctx: Context, benches: Sequence[Benchmark], log) -> list[Result]:
    counts = list(ctx.options.scaling_threads or default_thread_counts())
    out: list[Result] = []
    for bench in benches:
        if "scaling" not in bench.tags or "openmp" not in bench.spaces():
            continue
        log(f"scaling: {bench.name} at {counts} threads")
        out.extend(run_benchmark(ctx, bench, log, thread_counts=counts, frameworks=SCALING_FRAMEWORKS))
    return out


# ---- latency -----------------------------------------------------------------------------------------------


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
                reason = _probe_unavailable(ctx, probe, space)
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


def _probe_unavailable(ctx: Context, probe: Any, space: str) -> str | None:
    import importlib.util

    if probe.framework == "kernelkit":
        try:
            ctx.kernelkit()
        except Exception as e:
            return _describe(e)
    elif importlib.util.find_spec(probe.module) is None:
        return f"{probe.framework} not installed"
    kk_space = "openmp" if space == "openmp" and probe.framework != "kernelkit" else space
    available, detail = ctx.space_status(kk_space)
    return None if available else f"{space} space not available: {detail}"


# ---- the run -----------------------------------------------------------------------------------------------


def all_benchmarks() -> list[Benchmark]:
    from .cpu import cpu_benchmarks
    from .gpu import gpu_benchmarks

    return cpu_benchmarks() + gpu_benchmarks()


def run(options: Options, out: TextIO | None = None, benchmarks: Sequence[Benchmark] | None = None) -> Report:
    """Run the selected benchmarks, print the tables to `out`, write JSON/plots/Markdown if asked.

    `benchmarks` replaces the built-in set (`all_benchmarks()`)."""
    global _current
    from .machine import load_average, machine_info

    out = out or sys.stdout
    start = time.perf_counter()

    def log(message: str) -> None:
        if not options.quiet:
            print(f"[{time.perf_counter() - start:6.1f} s] {message}", file=sys.stderr, flush=True)

    ctx = Context(options)
    notes = ctx.notes
    load = load_average()
    if load is not None and load[0] > 0.5 and any(s in CPU_SPACES for s in options.spaces):
        notes.append(
            f"load average {load[0]:.2f} at the start: the machine was not idle, so absolute rates may be "
            "low (the ratios are taken in the same run)"
        )
    if "cuda" in options.spaces:
        available, detail = ctx.space_status("cuda")
        if not available:
            notes.append(f"cuda: space not available ({detail}); the GPU set was skipped")
            options = ctx.options = replace(options, spaces=tuple(s for s in options.spaces if s != "cuda"))
    report = Report(options=options, machine={}, notes=notes)
    report.load_at_start = load
    _current = ctx
    try:
        candidates = all_benchmarks() if benchmarks is None else list(benchmarks)
        benches = [b for b in candidates if _selected(b.name, b.tags, options)]
        for bench in benches:
            report.results.extend(run_benchmark(ctx, bench, log))
        _fill_fractions(ctx, report, candidates, log)
        if _scaling_wanted(ctx):
            report.scaling = _scaling(ctx, benches, log)
        report.latencies.extend(_latency(ctx, log))
        report.machine = machine_info(threads=ctx.threads, compiler=ctx.compiler_info())
        report.machine["gpu"] = ctx.gpu_info()
    finally:
        _current = None
        ctx.close()
    report.elapsed_s = time.perf_counter() - start
    emit(report.as_dict(), options, out)
    return report


def emit(data: dict[str, Any], options: Options, out: TextIO) -> None:
    """Print the tables of a report (live or loaded from JSON) and write what `options` asks for."""
    from .report import markdown, print_report, write_json

    print_report(data, out)
    if options.json_path:
        write_json(options.json_path, data)
        print(f"wrote {options.json_path}", file=out)
    if options.markdown_path:
        directory = os.path.dirname(os.path.abspath(options.markdown_path))
        os.makedirs(directory, exist_ok=True)
        with open(options.markdown_path, "w", encoding="utf-8") as f:
            f.write(markdown(data))
        print(f"wrote {options.markdown_path}", file=out)
    if options.plot_dir:
        from .plots import plot_all

        written, problem = plot_all(data, options.plot_dir)
        for path in written:
            print(f"wrote {path}", file=out)
        if problem:
            print(f"note: {problem}", file=out)


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
    lines = []
    for b in all_benchmarks():
        quick = " [quick]" if "quick" in b.tags else ""
        frameworks = ", ".join(dict.fromkeys(v.framework for v in b.versions))
        spaces = ", ".join(b.spaces())
        lines.append(f"{b.name:9} {b.description}{quick}\n{'':9} {spaces}: {frameworks}")
    lines.append(f"{'compile':9} cold compile of a small kernel (fresh cache, new process) [quick]")
    lines.append(f"{'warm':9} warm start: first launch in a new process with the cache populated [quick]")
    lines.append(f"{'launch':9} launch overhead of a tiny 3-argument kernel, N=1 [quick]")
    lines.append(f"{'import':9} import kernelkit in a fresh interpreter [quick]")
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
    spaces = ALL_SPACES if args.space == "all" else tuple(s.strip() for s in args.space.split(","))

    def names(text: str | None) -> tuple[str, ...] | None:
        return tuple(x.strip() for x in text.split(",") if x.strip()) if text else None

    scaling = getattr(args, "scaling", None)
    counts = getattr(args, "scaling_threads", None)
    return Options(
        quick=args.quick,
        spaces=spaces,
        threads=args.threads,
        only=names(args.only),
        frameworks=names(args.frameworks),
        size=parse_size(args.size) if args.size else None,
        repeats=args.repeats,
        json_path=args.json,
        plot_dir=getattr(args, "plot", None),
        markdown_path=getattr(args, "markdown", None),
        scaling=scaling,
        scaling_threads=tuple(int(x) for x in counts.split(",")) if counts else None,
        quiet=args.quiet,
    )


def main(args: Any) -> int:
    """Entry point of `kernelkit bench` (the CLI parses, this runs); 1 when any version failed."""
    options = options_from_args(args)
    from_json = getattr(args, "from_json", None)
    if from_json:
        import json

        with open(from_json, encoding="utf-8") as f:
            data = json.load(f)
        options.json_path = None if options.json_path == from_json else options.json_path
        emit(data, options, sys.stdout)
        return 0
    unknown_spaces = [s for s in options.spaces if s not in ALL_SPACES]
    if unknown_spaces:
        print(f"kernelkit bench: unknown space(s) {', '.join(unknown_spaces)}", file=sys.stderr)
        return 2
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
