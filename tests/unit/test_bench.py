"""The benchmark harness (benchmarks/kkbench): its parts, and tiny-size runs that validate every version and
write the reports.

Nothing here asserts a speed (DESIGN.md section 6: performance is measured by `benchmarks/run.py`, never by
timed unit tests); only that every version computes NumPy's result and that the report is complete.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import kernelkit as pk

# The harness is a folder of the repository, not part of the installed package.
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from kkbench import Benchmark, Options, Skip, Version, hooks, run  # noqa: E402
from kkbench.core import check_array, check_scalar, max_relative_error  # noqa: E402
from kkbench.cpu import cpu_benchmarks  # noqa: E402
from kkbench.harness import default_thread_counts  # noqa: E402
from kkbench.options import parse_size  # noqa: E402
from kkbench.problems import numpy_pi_sum  # noqa: E402
from kkbench.report import clean, fmt_seconds, table, write_json  # noqa: E402
from kkbench.timing import Timing, measure, measure_interleaved, per_call  # noqa: E402

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
HAVE_WARP = importlib.util.find_spec("warp") is not None
HAVE_MPL = importlib.util.find_spec("matplotlib") is not None
COMPILED = pk.OpenMP.available()
needs_compiler = pytest.mark.skipif(not COMPILED, reason="needs a C++ compiler")


# ---- timing ------------------------------------------------------------------------------------------------


def test_measure_counts_and_warmup():
    calls = []
    t = measure(lambda: calls.append(1), repeats=7, warmup=2)
    assert len(t.samples) == 7 and len(calls) == 9
    assert t.min <= t.median <= t.max and t.stdev >= 0


def test_measure_budget_stops_after_min_repeats():
    t = measure(lambda: sum(range(20000)), repeats=1000, warmup=0, budget_s=0.0, min_repeats=3)
    assert len(t.samples) == 3


def test_interleaved_round_robin_and_isolated():
    order: list[str] = []
    runs = {k: (lambda k=k: order.append(k)) for k in ("a", "b", "c")}
    t = measure_interleaved(runs, repeats=3, warmup=1, isolated={"c"})
    assert {k: len(v.samples) for k, v in t.items()} == {"a": 3, "b": 3, "c": 3}
    # warm-ups, then a/b alternate (each round starting one further), the isolated version apart, after them
    assert order == ["a", "b"] + ["a", "b", "b", "a", "a", "b"] + ["c"] * 4


def test_interleaved_rotation_gives_every_version_every_slot():
    order: list[str] = []
    runs = {k: (lambda k=k: order.append(k)) for k in ("a", "b", "c")}
    measure_interleaved(runs, repeats=6, warmup=0)
    rounds = [order[i : i + 3] for i in range(0, 18, 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    assert {name: [r.index(name) for r in rounds].count(0) for name in "abc"} == {"a": 2, "b": 2, "c": 2}


def test_per_call_divides_by_calls():
    t = per_call(lambda: None, calls=1000, batches=4, warmup_calls=10)
    assert len(t.samples) == 4 and all(0 < s < 1e-3 for s in t.samples)


def test_timing_dict():
    d = Timing([3.0, 1.0, 2.0]).as_dict()
    assert d["median_s"] == 2.0 and d["min_s"] == 1.0 and d["repeats"] == 3


# ---- validation, formatting, JSON --------------------------------------------------------------------------


def test_validators():
    a = np.arange(10.0)
    assert check_array(0.0)(a, a.copy()) == (0.0, None)
    err, problem = check_array(1e-12)(a + 1e-3, a)
    assert problem and err > 1e-12
    b = a.copy()
    b[3] = np.nan
    assert max_relative_error(b, a) == math.inf
    assert check_array(0.0)(a[:5], a)[1] is not None
    assert check_scalar(1e-12)(3.0, 3.0)[1] is None
    assert check_scalar(1e-12)(float("nan"), 3.0)[1] is not None
    assert check_scalar(1e-12)("x", 3.0)[1] is not None


def test_numpy_pi():
    n = 100_003
    assert abs(numpy_pi_sum(n, 1.0 / n, chunk=4096) / n - math.pi) < 1e-9


def test_formatting():
    assert fmt_seconds(1.5e-6) == "1.50 µs"
    assert fmt_seconds(0.25) == "250.0 ms"
    assert fmt_seconds(None) == "-"
    lines = table(["a", "num"], [["x", "1.0"], ["long", "22.5"]], right=(1,)).splitlines()
    assert lines[0] == "a      num" and lines[2] == "x      1.0" and lines[3] == "long  22.5"
    assert parse_size("2**10") == 1024 and parse_size("1<<4") == 16 and parse_size("2K") == 2048


def test_json_is_strict(tmp_path):
    path = tmp_path / "sub" / "r.json"
    write_json(str(path), {"x": np.float64(1.5), "bad": float("inf"), "t": (1, 2), "n": np.int64(3)})
    data = json.loads(path.read_text())
    assert data == {"x": 1.5, "bad": "inf", "t": [1, 2], "n": 3}
    assert clean({"a": float("nan")}) == {"a": "nan"}


# ---- the C and CUDA references -----------------------------------------------------------------------------


@needs_compiler
def test_c_reference_matches_numpy():
    from kkbench import problems as P
    from kkbench.creference import compile_reference, ptr

    lib = compile_reference()
    try:
        assert "-fopenmp" in lib.command and "-O3" in lib.command
        lib.set_threads(2)
        assert lib.threads() == 2
        n = 1001
        a, b, c = np.zeros(n), np.arange(n, dtype=float), np.full(n, 0.5)
        lib.kkref_triad(ptr(a), ptr(b), ptr(c), 3.0, n)
        assert np.array_equal(a, b + 3.0 * c)
        lib.kkref_copy(ptr(b), ptr(a), n)
        assert np.array_equal(a, b)
        assert lib.kkref_dot(ptr(b), ptr(c), n) == float(np.dot(b, c))
        assert lib.kkref_sum(ptr(b), n) == float(np.sum(b))
        assert abs(lib.kkref_pi(n, 1.0 / n) / n - math.pi) < 1e-6
        d = P.problem("transpose").make(45)
        lib.kkref_transpose(ptr(d.a), ptr(d.b), d.n)
        assert np.array_equal(d.b, d.a.T)
        d = P.problem("yax").make(37)
        assert lib.kkref_yax(ptr(d.y), ptr(d.a), ptr(d.x), d.n, d.n) == P.problem("yax").expected(d)
        d = P.problem("gups").make(300)
        lib.kkref_gups(ptr(d.table), ptr(d.idx), ptr(d.val), d.n)
        assert np.array_equal(d.table, P.problem("gups").expected(d))
        with pytest.raises(TypeError):
            ptr(np.zeros(4, dtype=np.float32))
    finally:
        lib.close()


def test_cuda_reference_names_and_compile():
    """Every hand-written kernel the GPU set launches exists in cuda_reference.cu, and the file compiles with
    NVRTC for sm_90 where NVRTC is installed (the launches themselves need the GPU)."""
    import re

    from kkbench.cudareference import SOURCE
    from kkbench.gpu import gpu_benchmarks

    source = SOURCE.read_text()
    defined = set(re.findall(r'extern "C" __global__ void (\w+)\(', source))
    launched = {getattr(v.build, "kernel", None) for b in gpu_benchmarks() for v in b.versions}
    launched.discard(None)
    assert launched and launched <= defined, launched - defined
    assert "kkref_triad" in defined  # the in-process launch check's kernel (gpu_checks)
    if hooks.nvrtc_available():
        assert len(hooks.nvrtc_compile(source, "cuda_reference.cu", "sm_90")) > 0


# ---- the harness -------------------------------------------------------------------------------------------


def _tiny(**kw) -> Options:
    base = dict(
        quick=True,
        size=67,  # odd, so no version can rely on a multiple of its vector width
        repeats=2,
        latency_samples=1,
        launch_calls=200,
        launch_batches=2,
        quiet=True,
        settle_s=0.0,
        spaces=("openmp", "serial"),
    )
    base.update(kw)
    return Options(**base)


ALL_CPU = tuple(b.name for b in cpu_benchmarks())
OWN = ("c-openmp", "c-memcpy", "kernelkit", "kernelkit-team", "kernelkit-teamvector", "numpy")


@needs_compiler
def test_tiny_run_validates_every_version_and_writes_reports(tmp_path, capsys):
    path = tmp_path / "bench.json"
    md = tmp_path / "bench.md"
    report = run(
        _tiny(only=ALL_CPU, frameworks=OWN, json_path=str(path), markdown_path=str(md), plot_dir=str(tmp_path))
    )
    out = capsys.readouterr().out
    assert not report.failed, out
    assert {r.benchmark for r in report.results} == set(ALL_CPU)
    for r in report.results:
        assert r.status == "ok", (r.benchmark, r.framework, r.space, r.note)
        assert r.rate and r.rate > 0 and r.ratio and r.ratio > 0
        assert r.reference == "c-openmp"
    frameworks = {(r.framework, r.space) for r in report.results}
    assert {
        ("kernelkit", "openmp"),
        ("kernelkit", "serial"),
        ("kernelkit-team", "openmp"),
        ("c-openmp", "serial"),
        ("numpy", "openmp"),
    } <= frameworks
    # the bandwidth-bound results carry a fraction of the best copy of their space
    assert set(report.ceilings) == {"openmp", "serial"}
    triad = next(r for r in report.results if r.benchmark == "triad" and r.framework == "kernelkit")
    assert triad.bandwidth and triad.fraction and triad.fraction > 0
    assert next(r for r in report.results if r.benchmark == "pi").fraction is None

    data = json.loads(path.read_text())
    assert data["schema"] == "kernelkit-bench/2"
    machine = data["machine"]
    for key in ("cpu", "cores", "compiler", "kernelkit", "numpy", "numba", "warp", "threads", "python"):
        assert key in machine
    assert machine["compiler"]["version"]
    assert len(data["results"]) == len(report.results)
    row = next(r for r in data["results"] if r["benchmark"] == "triad" and r["framework"] == "kernelkit")
    assert row["unit"] == "GB/s" and row["time"]["repeats"] >= 1 and row["ratio_to_reference"] > 0
    assert row["fraction_of_achievable"] > 0
    assert "c-openmp" in out and "vs ref" in out and "of BW" in out
    assert "| benchmark |" in md.read_text()
    if HAVE_MPL:
        assert (tmp_path / "ratio-openmp.png").stat().st_size > 0
        assert (tmp_path / "bandwidth-openmp.png").exists()


@needs_compiler
def test_latency_and_scaling(tmp_path, capsys):
    report = run(
        _tiny(
            only=("triad", "compile", "warm", "launch"),
            frameworks=("kernelkit", "c-openmp"),
            spaces=("openmp",),
            scaling=True,
            scaling_threads=(1, 2),
            plot_dir=str(tmp_path),
        )
    )
    out = capsys.readouterr().out
    assert not report.failed, out
    metrics = {x.metric for x in report.latencies if x.framework == "kernelkit"}
    assert {"cold_compile", "warm_start", "launch"} <= metrics
    for x in report.latencies:
        assert x.status == "ok" and x.value is not None and x.value > 0, (x.metric, x.note)
    assert {(r.framework, r.threads) for r in report.scaling} == {
        ("kernelkit", 1),
        ("kernelkit", 2),
        ("c-openmp", 1),
        ("c-openmp", 2),
    }
    assert all(r.status == "ok" and r.rate for r in report.scaling)
    assert "thread scaling" in out and "cold compile" in out
    if HAVE_MPL:
        assert (tmp_path / "scaling.png").exists()


@pytest.mark.skipif(not (HAVE_NUMBA or HAVE_WARP), reason="needs numba or warp")
def test_peers_validate(capsys):
    report = run(_tiny(only=("triad", "dot"), frameworks=("c-openmp", "numba", "warp"), spaces=("openmp",)))
    assert not report.failed, capsys.readouterr().out
    for r in report.results:
        installed = HAVE_NUMBA if r.framework == "numba" else HAVE_WARP if r.framework == "warp" else True
        assert r.status == ("ok" if installed else "skipped"), (r.framework, r.note)


def test_from_json_and_cli(tmp_path, capsys):
    from kernelkit.cli import main

    data = {
        "schema": "kernelkit-bench/2",
        "machine": {
            "cpu": "test cpu",
            "cores": 2,
            "threads": 2,
            "gpu": {"name": "Test GPU", "arch": "sm_90"},
        },
        "ceilings": {"cuda": {"GBs": 3000.0, "benchmark": "copy", "framework": "cuda"}},
        "results": [
            {
                "benchmark": "copy",
                "framework": "cuda",
                "space": "cuda",
                "threads": None,
                "n": 8,
                "status": "ok",
                "unit": "GB/s",
                "rate": 3000.0,
                "reference": "cuda",
                "ratio_to_reference": 1.0,
                "ratio_best_to_reference": 1.0,
                "fraction_of_achievable": 1.0,
                "time": {"median_s": 1e-3},
            },
            {
                "benchmark": "copy",
                "framework": "kernelkit",
                "space": "cuda",
                "threads": None,
                "n": 8,
                "status": "ok",
                "unit": "GB/s",
                "rate": 2900.0,
                "reference": "cuda",
                "ratio_to_reference": 0.967,
                "ratio_best_to_reference": 0.97,
                "fraction_of_achievable": 0.967,
                "time": {"median_s": 1.03e-3},
            },
            {
                "benchmark": "copy",
                "framework": "warp",
                "space": "cuda",
                "threads": None,
                "n": 8,
                "status": "skipped",
                "unit": "GB/s",
                "note": "warp not installed",
            },
        ],
        "latency": [],
        "checks": [
            {"check": "transfers", "space": "cuda", "status": "ok", "value": 0, "note": "0 host<->device transfers"}
        ],
        "notes": [],
    }
    path = tmp_path / "gpu.json"
    write_json(str(path), data)
    md = tmp_path / "gpu.md"
    assert main(["bench", "--from-json", str(path), "--markdown", str(md), "--plot", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Test GPU" in out and "0.97" in out and "warp not installed" in out
    assert "transfers" in out and "0 host<->device transfers" in out
    assert "| copy | kernelkit |" in md.read_text() and "**Checks**" in md.read_text()
    # benchmarks/run.py's own entry reads the same file
    from kkbench import main as bench_main

    assert bench_main(["--from-json", str(path)]) == 0
    assert "Test GPU" in capsys.readouterr().out
    if HAVE_MPL:
        assert (tmp_path / "ratio-cuda.png").exists()


def test_thread_counts():
    assert default_thread_counts(1) == [1]
    assert default_thread_counts(2) == [1, 2]
    assert default_thread_counts(6) == [1, 2, 4, 6]
    assert default_thread_counts(8) == [1, 2, 4, 8]


def _toy(versions: tuple[Version, ...]) -> Benchmark:
    return Benchmark(
        name="toy",
        description="x + 1",
        unit="GB/s",
        size=lambda quick: 16,
        make_data=lambda ctx, n: np.arange(float(n)),
        expected=lambda x: x + 1,
        validate=check_array(0.0),
        work=lambda n: 16.0 * n,
        versions=versions,
        tags=("quick",),
    )


def test_wrong_result_and_skip_are_reported(tmp_path):
    def good(ctx, x):
        return lambda: x + 1

    def wrong(ctx, x):
        return lambda: x + 2

    def absent(ctx, x):
        raise Skip("toyframework not installed")

    def broken(ctx, x):
        raise RuntimeError("boom")

    bench = _toy(
        (
            Version("ref", "openmp", good, reference=True),
            Version("wrong", "openmp", wrong),
            Version("absent", "openmp", absent),
            Version("broken", "openmp", broken),
        )
    )
    path = tmp_path / "toy.json"
    report = run(_tiny(only=("toy",), json_path=str(path), size=None), benchmarks=[bench])
    status = {r.framework: r.status for r in report.results}
    assert status == {"ref": "ok", "wrong": "invalid", "absent": "skipped", "broken": "error"}
    assert report.failed
    notes = {r["framework"]: r["note"] for r in json.loads(path.read_text())["results"]}
    assert "toyframework not installed" in notes["absent"] and "boom" in notes["broken"]
    assert "relative error" in notes["wrong"]


def test_sets_are_well_formed():
    from kkbench.gpu import gpu_benchmarks

    for b in cpu_benchmarks() + gpu_benchmarks():
        for space in b.spaces():
            refs = [v for v in b.versions if v.space == space and v.reference]
            assert len(refs) == 1, (b.name, space)
        assert b.unit in ("GB/s", "Gsteps/s", "GFLOP/s", "GUP/s")
        assert b.work(64) > 0
    assert {b.name for b in gpu_benchmarks()} == {b.name for b in cpu_benchmarks()}


class _FakeDevice:
    """Stands in for gpu.DeviceData on a machine without a GPU: the host arrays themselves."""

    def __init__(self, host):
        self.host = host
        self.n = host.n
        self.__dict__.update({k: v for k, v in vars(host).items() if k not in ("n", "originals")})

    def download(self, name):
        return getattr(self.host, name).copy()


class _CheckContext:
    def kernelkit(self):
        return pk

    def kernelkit_space(self, space):
        return hooks.cuda_check_space()


def test_gpu_kernelkit_versions_compile_for_cuda_and_validate():
    """The GPU set's kernelkit versions (policies included), compiled for CUDA by NVRTC and run on OpenMP."""
    from kkbench import problems as P
    from kkbench.gpu import gpu_benchmarks

    if not (COMPILED and hooks.nvrtc_available()):
        pytest.skip("needs a C++ compiler and NVRTC")
    threads = pk.get_num_threads()
    pk.set_num_threads(max(threads, 8))  # the 8 x 32 team spellings need 8 team threads on the host
    try:
        _compile_and_validate_gpu_versions(gpu_benchmarks(), P)
    finally:
        pk.set_num_threads(threads)


def _compile_and_validate_gpu_versions(benchmarks, P):
    for b in benchmarks:
        p = P.problem(b.name)
        for v in b.versions:
            if not v.framework.startswith("kernelkit"):
                continue
            n = 40 if b.name in ("dgemm", "yax", "transpose", "stencil", "jacobi") else 300
            d = _FakeDevice(p.make(n))
            expected = b.expected(d)
            if p.clobber is not None:
                p.clobber(d.host)
            got = v.build(_CheckContext(), d)()
            err, problem = b.validate(got, expected)
            assert problem is None, (b.name, v.framework, problem)


# ---- the harness's shape: no package left behind, imports one way, internals in one module ------------------

KKBENCH = BENCHMARKS / "kkbench"


def test_no_bench_package_in_kernelkit():
    assert importlib.util.find_spec("kernelkit.bench") is None


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(kkbench modules, kernelkit modules) that `path` imports at run time (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text())
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            typing_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    local, kernelkit_modules = set(), set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                local.add(node.module.split(".")[0])
            else:
                local.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kernelkit."):
            kernelkit_modules.add(node.module)
        elif isinstance(node, ast.Import):
            kernelkit_modules.update(a.name for a in node.names if a.name.startswith("kernelkit."))
    return local, kernelkit_modules


def test_kkbench_has_no_import_cycle_and_one_door_into_kernelkit():
    graph = {}
    for path in KKBENCH.glob("*.py"):
        local, inner = _imports(path)
        graph[path.stem] = local & {p.stem for p in KKBENCH.glob("*.py")}
        if path.stem != "hooks":
            assert not inner, f"{path.name} reaches into {sorted(inner)}: go through kkbench/hooks.py"
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == 2:
            return
        assert state.get(module) != 1, f"import cycle: {' -> '.join([*trail, module])}"
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            visit(dep, [*trail, module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])
    # the model and the hooks sit at the bottom; nothing but the entry points imports the harness
    assert not graph["core"] - {"timing"} and not graph["hooks"]
    assert {m for m, deps in graph.items() if "harness" in deps} <= {"cli", "__init__"}


def test_hooks():
    status = hooks.space_status()
    assert {"debug", "serial", "openmp"} <= set(status) and status["debug"][0] is True
    compiler = hooks.host_compiler()
    if COMPILED:
        assert compiler is not None and "-fopenmp" in compiler.flags and "-O3" in compiler.flags
        assert not any(f.startswith(("-std=", "-I")) for f in compiler.flags)  # C++-only flags left out
    hooks.reset_transfer_counts()
    assert set(hooks.transfer_counts()) >= {"h2d", "d2h", "d2d"}


def test_options_and_names():
    from kkbench.harness import known_names

    names = known_names()
    assert len(names) == len(set(names))
    for name in ("triad", "sum", "transfers", "launch", "checks", "latency"):
        assert name in names
    quick = Options(quick=True)
    assert quick.selected("triad", ("stream", "quick")) and not quick.selected("sum", ("reduction",))
    only = Options(only=("reduction",))
    assert only.selected("sum", ("reduction",)) and not only.selected("triad", ("stream", "quick"))


@needs_compiler
def test_profile_warm_start(capsys):
    report = run(_tiny(only=("warm",), spaces=("serial",), frameworks=("kernelkit",), profile_warm=True))
    out = capsys.readouterr().out
    assert not report.failed, out
    warm = next(x for x in report.latencies if x.metric == "warm_start")
    profile = warm.extra["profile"]
    assert profile["first_s"] > 0 and profile["top"]
    assert all({"function", "calls", "tottime_s"} <= set(row) for row in profile["top"])
    assert "profiled" in out


HAVE_GPU = pk.Cuda.available()


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_GPU, reason="needs a usable CUDA device")
def test_gpu_set_and_checks(capsys):
    """On the GPU: the kernelkit versions and the hand-written CUDA validate, the 100-step loop moves nothing,
    the in-process launch check has its three rows (kernelkit, the driver binding, CuPy where installed)."""
    report = run(
        _tiny(
            spaces=("cuda",),
            only=("triad", "dot", "sum", "transpose", "yax", "transfers", "launch"),
            frameworks=(
                "cuda",
                "kernelkit",
                "kernelkit-team",
                "kernelkit-threadvector",
                "kernelkit-teamvector",
                "cupy",
            ),
        )
    )
    out = capsys.readouterr().out
    assert not report.failed, out
    # copy joins the selection: its reference is measured as the bandwidth ceiling of the "of BW" column
    assert {r.benchmark for r in report.results} == {"copy", "triad", "dot", "sum", "transpose", "yax"}
    assert all("bandwidth ceiling" in r.note for r in report.results if r.benchmark == "copy")
    ran = {(r.benchmark, r.framework) for r in report.results if r.status == "ok"}
    assert {("transpose", "kernelkit-threadvector"), ("transpose", "kernelkit-teamvector"), ("sum", "cuda")} <= ran
    (transfers,) = report.checks
    assert transfers.status == "ok" and transfers.value == 0
    launches = {x.framework: x for x in report.latencies if x.metric == "launch_in_process"}
    assert launches["kernelkit"].value > 0 and launches["cuda"].value > 0
    if importlib.util.find_spec("cupy") is not None:
        assert launches["cupy-rawkernel"].status == "ok"
