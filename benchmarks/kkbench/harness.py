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

from .context import Context
from .core import UNITS, Benchmark, Check, Latency, Result, Skip
from .options import CPU_SPACES, GPU_CHECKS, LATENCY_METRICS, SCALING_FRAMEWORKS, Options
from .timing import measure_interleaved

Log = Callable[[str], None]


@dataclass
class Report:
    options: Options
    machine: dict[str, Any]
    results: list[Result] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    scaling: list[Result] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
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
            or any(c.status in ("failed", "error") for c in self.checks)
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
            "checks": [c.as_dict() for c in self.checks],
            "notes": self.notes,
            "elapsed_s": self.elapsed_s,
            "load_average_at_start": self.load_at_start,
        }


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
        and options.framework_selected(v.framework)
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
        data = bench.make_data(ctx, n)
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


# ---- latency and the GPU checks ---------------------------------------------------------------------------


def _latency(ctx: Context, log: Log) -> list[Latency]:
    from .latency import PROBES, import_time, kernel_latency

    options = ctx.options
    wanted = [m for key, m in LATENCY_METRICS.items() if options.selected(key, ("latency", "quick"))]
    kernel_metrics = tuple(m for m in wanted if m != "import")
    out: list[Latency] = []
    if kernel_metrics:
        for framework, probe in PROBES.items():
            if not options.framework_selected(framework):
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
                        profile=options.profile_warm,
                    )
                )
    if "import" in wanted and options.framework_selected("kernelkit"):
        log("latency: import kernelkit")
        out.append(import_time("kernelkit", samples=max(options.n_latency_samples, 3)))
    return out


def _probe_unavailable(ctx: Context, probe: Any, space: str) -> str | None:
    import importlib.util

    if importlib.util.find_spec(probe.module) is None:
        return f"{probe.framework} not installed"
    kk_space = "openmp" if space == "openmp" and probe.framework != "kernelkit" else space
    available, detail = ctx.space_status(kk_space)
    return None if available else f"{space} space not available: {detail}"


def _gpu_checks(ctx: Context, log: Log) -> tuple[list[Check], list[Latency]]:
    """The in-process GPU checks (`gpu_checks`), when the run has the cuda space."""
    options = ctx.options
    if "cuda" not in options.spaces or not options.framework_selected("kernelkit"):
        return [], []
    from . import gpu_checks

    checks: list[Check] = []
    latencies: list[Latency] = []
    if options.selected("transfers", ("checks", "quick")):
        log("check: transfers of a 100-step loop on the GPU")
        try:
            checks.append(gpu_checks.transfers(ctx))
        except Exception as e:  # reported as a failed check; the run goes on
            checks.append(Check("transfers", "cuda", "error", note=_describe(e)))
    if options.selected("graph", ("checks", "quick")):
        log("check: a 100-kernel time-step loop replayed as pk.graph() against the same launches one by one")
        try:
            checks.append(gpu_checks.graph(ctx))
        except Exception as e:  # reported as a failed check; the run goes on
            checks.append(Check("graph", "cuda", "error", note=_describe(e)))
    if options.selected("sweep", ("checks",)):
        log("check: bandwidth against array size (copy, triad; kernelkit, hand-written CUDA, CuPy)")
        from .gpu_sweep import sweep

        try:
            checks.append(sweep(ctx))
        except Exception as e:  # reported as a failed check; the run goes on
            checks.append(Check("sweep", "cuda", "error", note=_describe(e)))
    if options.selected("launch", ("latency", "quick")):
        log("latency: launch in process on the GPU (kernelkit, driver, CuPy RawKernel)")
        try:
            latencies.extend(gpu_checks.launch_in_process(ctx))
        except Exception as e:  # reported as an error row; the run goes on
            latencies.append(Latency("launch_in_process", "kernelkit", "cuda", "error", note=_describe(e)))
    return checks, latencies


# ---- the run -----------------------------------------------------------------------------------------------


def all_benchmarks() -> list[Benchmark]:
    from .cpu import cpu_benchmarks
    from .gpu import gpu_benchmarks

    return cpu_benchmarks() + gpu_benchmarks()


def run(options: Options, out: TextIO | None = None, benchmarks: Sequence[Benchmark] | None = None) -> Report:
    """Run the selected benchmarks, print the tables to `out`, write JSON/plots/Markdown if asked.

    `benchmarks` replaces the built-in set (`all_benchmarks()`)."""
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
    try:
        candidates = all_benchmarks() if benchmarks is None else list(benchmarks)
        benches = [b for b in candidates if options.selected(b.name, b.tags)]
        for bench in benches:
            report.results.extend(run_benchmark(ctx, bench, log))
        _fill_fractions(ctx, report, candidates, log)
        if _scaling_wanted(ctx):
            report.scaling = _scaling(ctx, benches, log)
        report.latencies.extend(_latency(ctx, log))
        checks, launches = _gpu_checks(ctx, log)
        report.checks.extend(checks)
        report.latencies.extend(launches)
        report.machine = machine_info(threads=ctx.threads, compiler=ctx.compiler_info())
        report.machine["gpu"] = ctx.gpu_info()
    finally:
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
    """Everything --only accepts: benchmark names, their tags, the latency metrics and GPU checks."""
    from .cpu import cpu_benchmarks

    names: list[str] = []
    for b in cpu_benchmarks():
        for name in (b.name, *b.tags):
            if name not in names and name != "quick":
                names.append(name)
    return list(dict.fromkeys([*names, *LATENCY_METRICS, "latency", *GPU_CHECKS, "checks"]))


def describe() -> str:
    """The benchmark list, for `--list`."""
    lines = []
    for b in all_benchmarks():
        quick = " [quick]" if "quick" in b.tags else ""
        frameworks = ", ".join(dict.fromkeys(v.framework for v in b.versions))
        spaces = ", ".join(b.spaces())
        lines.append(f"{b.name:9} {b.description}{quick}\n{'':9} {spaces}: {frameworks}")
    lines.append(f"{'compile':9} cold compile of a small kernel (fresh cache, new process) [quick]")
    lines.append(f"{'warm':9} warm start: first launch in a new process with the cache populated [quick]")
    lines.append(
        f"{'launch':9} launch overhead of a tiny kernel, N=1 (fresh process; on cuda also in process against "
        "the driver binding and CuPy's RawKernel) [quick]"
    )
    lines.append(f"{'import':9} import kernelkit in a fresh interpreter [quick]")
    lines.append(f"{'transfers':9} cuda: a 100-step loop of triad + copy moves no host<->device data [quick]")
    lines.append(f"{'graph':9} cuda: a 100-kernel loop replayed as pk.graph() against the launches one by one [quick]")
    lines.append(f"{'sweep':9} cuda: copy and triad bandwidth from L2-resident arrays to 4 GiB, graphs of launches")
    return "\n".join(lines)
