"""The benchmark harness: its parts, and a tiny-size run that validates every version and writes JSON.

Nothing here asserts a speed (DESIGN.md section 6: performance is measured by `kernelkit bench`, never by
timed unit tests); only that every version computes NumPy's result and that the report is complete.
"""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.bench import Benchmark, Options, Skip, Version, run
from kernelkit.bench.core import check_array, check_scalar, max_relative_error
from kernelkit.bench.cpu import cpu_benchmarks, numpy_pi_sum
from kernelkit.bench.harness import parse_size
from kernelkit.bench.report import clean, fmt_seconds, table, write_json
from kernelkit.bench.timing import Timing, measure, measure_interleaved, per_call

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
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
    # warm-ups, then a/b alternate, and the isolated version runs apart, after them
    assert order == ["a", "b"] + ["a", "b"] * 3 + ["c"] * 4


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


# ---- the C reference ---------------------------------------------------------------------------------------


@needs_compiler
def test_c_reference_matches_numpy():
    from kernelkit.bench.creference import compile_reference, ptr

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
        assert abs(lib.kkref_pi(n, 1.0 / n) / n - math.pi) < 1e-6
        with pytest.raises(TypeError):
            ptr(np.zeros(4, dtype=np.float32))
    finally:
        lib.close()


# ---- the harness -------------------------------------------------------------------------------------------


def _tiny(**kw) -> Options:
    base = dict(
        quick=True,
        size=4099,  # odd, so no version can rely on a multiple of its vector width
        repeats=2,
        latency_samples=1,
        launch_calls=200,
        launch_batches=2,
        quiet=True,
        settle_s=0.0,
    )
    base.update(kw)
    return Options(**base)


@needs_compiler
def test_tiny_run_validates_every_version_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    report = run(_tiny(json_path=str(path)))
    out = capsys.readouterr().out
    assert not report.failed, out

    names = {r.benchmark for r in report.results}
    assert names == {"triad", "copy", "dot", "pi"}
    for r in report.results:
        if r.framework == "numba" and not HAVE_NUMBA:
            assert r.status == "skipped" and "numba not installed" in r.note
            continue
        if r.space == "cuda":
            continue
        assert r.status == "ok", (r.benchmark, r.framework, r.space, r.note)
        assert r.rate and r.rate > 0 and r.ratio and r.ratio > 0
        assert r.reference == "c-openmp"
    frameworks = {(r.framework, r.space) for r in report.results if r.status == "ok"}
    assert {
        ("kernelkit", "openmp"),
        ("kernelkit", "serial"),
        ("c-openmp", "openmp"),
        ("numpy", "openmp"),
    } <= frameworks

    metrics = {(x.metric, x.space) for x in report.latencies if x.framework == "kernelkit"}
    for m in ("cold_compile", "warm_start", "launch"):
        assert (m, "openmp") in metrics and (m, "serial") in metrics
    assert ("import", None) in metrics
    for x in report.latencies:
        if x.framework == "kernelkit":
            assert x.status == "ok" and x.value is not None and x.value > 0, (x.metric, x.note)

    data = json.loads(path.read_text())
    assert data["schema"] == "kernelkit-bench/1"
    machine = data["machine"]
    for key in ("cpu", "cores", "compiler", "kernelkit", "numpy", "numba", "threads", "python"):
        assert key in machine
    assert machine["compiler"]["version"]
    assert len(data["results"]) == len(report.results)
    triad = next(r for r in data["results"] if r["benchmark"] == "triad" and r["framework"] == "kernelkit")
    assert triad["unit"] == "GB/s" and triad["time"]["repeats"] >= 1 and triad["ratio_to_reference"] > 0
    assert "c-openmp" in out and "vs ref" in out and "cold compile" in out


def _toy(versions: tuple[Version, ...]) -> Benchmark:
    return Benchmark(
        name="toy",
        description="x + 1",
        unit="GB/s",
        size=lambda quick: 16,
        make_data=lambda n: np.arange(float(n)),
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
    report = run(_tiny(only=("toy",), json_path=str(path)), benchmarks=[bench])
    status = {r.framework: r.status for r in report.results}
    assert status == {"ref": "ok", "wrong": "invalid", "absent": "skipped", "broken": "error"}
    assert report.failed
    notes = {r["framework"]: r["note"] for r in json.loads(path.read_text())["results"]}
    assert "toyframework not installed" in notes["absent"] and "boom" in notes["broken"]
    assert "relative error" in notes["wrong"]


def test_cpu_set_is_well_formed():
    for b in cpu_benchmarks():
        spaces = b.spaces()
        for space in spaces:
            refs = [v for v in b.versions if v.space == space and v.reference]
            assert len(refs) == 1, (b.name, space)
        assert b.unit in ("GB/s", "Gsteps/s", "GFLOP/s")
        assert b.work(10) > 0
