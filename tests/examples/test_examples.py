"""The ported applications under examples/, run as a user runs them: each script in a subprocess, at a small
size, on every available execution space (`--space`), must print PASS (its own validation) and exit 0.

The subprocesses inherit the run's private KERNELKIT_CACHE_DIR (tests/conftest.py). Debug gets much smaller
sizes: it is the Python interpreter. Also here: `--help` of every example, and the host-side PyKokkos API the
examples use (`pk.BinSort`, `pk.Timer`, random pools, ...: api/binsort.py, compat.py, random.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# script: (arguments on compiled spaces, arguments on Debug)
YAX = ["-N", "300", "-M", "70", "--repeat", "2"]
YAX_DEBUG = ["-N", "13", "-M", "7", "--repeat", "1"]
TEAMS = ["-E", "10", "-N", "40", "-M", "50", "--repeat", "2"]
TEAMS_DEBUG = ["-E", "2", "-N", "3", "-M", "5", "--repeat", "1", "--vector-length", "4"]
CASES: dict[str, tuple[list[str], list[str]]] = {
    "tutorial/01_yAx_arrays.py": (YAX, YAX_DEBUG),
    "tutorial/02_yAx_views.py": (YAX, YAX_DEBUG),
    "tutorial/03_yAx_mirrors.py": (YAX, YAX_DEBUG),
    "tutorial/04_yAx_layouts.py": ([*YAX, "--layout", "left"], YAX_DEBUG),
    "tutorial/subview.py": ([*YAX, "--blocks", "5"], [*YAX_DEBUG, "--blocks", "3"]),
    "tutorial/mdrange.py": ([*YAX, "--tile", "8", "16"], [*YAX_DEBUG, "--tile", "4", "4"]),
    "tutorial/team_policy.py": (YAX, ["-N", "6", "-M", "5", "--repeat", "1"]),
    "tutorial/team_vector_loop.py": (TEAMS, TEAMS_DEBUG),
    "tutorial/team_scratch_memory.py": (TEAMS, TEAMS_DEBUG),
    "prk/nstream.py": (["--length", "100000", "--iterations", "3"], ["--length", "50", "--iterations", "2"]),
    "prk/stencil.py": (
        ["-n", "100", "--iterations", "3", "--tile", "8", "8"],
        ["-n", "9", "--iterations", "1"],
    ),
    "prk/transpose.py": (
        ["-n", "100", "--iterations", "3", "--tile", "8", "8"],
        ["-n", "7", "--iterations", "2"],
    ),
    "benchmarks/babelstream.py": (["-s", "100000", "-n", "3"], ["-s", "40", "-n", "2"]),
    "benchmarks/bytes_and_flops.py": (
        ["-N", "50", "-K", "64", "-D", "2", "-F", "4", "--repeat", "1"],
        ["-N", "3", "-K", "5", "-F", "2", "--repeat", "1"],
    ),
    "benchmarks/gather.py": (
        ["-N", "5000", "-K", "8", "-D", "64", "-R", "2"],
        ["-N", "40", "-K", "3", "-D", "8", "-R", "1"],
    ),
    "benchmarks/gups.py": (
        ["--indices", "2000", "--data", "5000", "--repeats", "3"],
        ["--indices", "30", "--data", "20", "--repeats", "2"],
    ),
    "parallel_programs/pi.py": (["--steps", "100000", "--repeat", "1"], ["--steps", "500", "--repeat", "1"]),
    "parallel_programs/dgemm.py": (["-n", "64", "--iterations", "2"], ["-n", "5", "--iterations", "2"]),
    "tasks/inner_product.py": (["-n", "100000"], ["-n", "1000"]),  # kernelkit.tasks (tests/tasks runs more)
    "tasks/cholesky.py": (
        ["-n", "400", "-b", "100", "--kernels", "kernelkit"],
        ["-n", "40", "-b", "20", "--kernels", "kernelkit"],
    ),
    "md/minimd.py": (
        ["--nx", "5", "--steps", "20", "--thermo", "5", "--neigh-every", "5", "--drift-tol", "1e-3"],
        [
            "--nx",
            "4",
            "--steps",
            "2",
            "--thermo",
            "1",
            "--neigh-every",
            "1",
            "--check-atoms",
            "16",
            "--drift-tol",
            "1e-3",
        ],
    ),
}

# further runs of an example with other options, compiled spaces only
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "gups-no-atomics": (
        "benchmarks/gups.py",
        ["--indices", "2000", "--data", "5000", "--repeats", "2", "--no-atomics"],
    ),
    "dgemm-mdrange": (
        "parallel_programs/dgemm.py",
        ["-n", "48", "--iterations", "2", "--variant", "mdrange"],
    ),
    "minimd-half-list": (
        "md/minimd.py",
        [
            "--nx",
            "5",
            "--steps",
            "20",
            "--thermo",
            "10",
            "--list",
            "half",
            "--no-sort",
            "--drift-tol",
            "1e-3",
        ],
    ),
    "team-policy-team-size-2": ("tutorial/team_policy.py", ["-N", "50", "-M", "33", "--team-size", "2"]),
}

# examples/openmp: PyOMP programs (kernelkit.openmp, no --space): arguments on compiled spaces, on Debug. They run
# on the space named by KERNELKIT_SPACE (njit follows the default space; Debug runs them with one thread).
OPENMP_CASES: dict[str, tuple[list[str], list[str]]] = {
    "openmp/pi_loop.py": (["--steps", "1000000", "--threads", "2"], ["--steps", "2000"]),
    "openmp/pi_spmd.py": (["--steps", "1000000", "--threads", "2"], ["--steps", "2000"]),
    "openmp/pi_tasks.py": (["--steps", "3000000", "--threads", "2"], ["--steps", "600000"]),
    "openmp/dgemm.py": (
        ["--order", "96", "--iterations", "2", "--threads", "2"],
        ["--order", "6", "--iterations", "1"],
    ),
    "openmp/target_dgemm.py": (
        ["--space", "host", "--order", "48", "--iterations", "2"],
        ["--space", "host", "--order", "5"],
    ),
}
OPENMP_VARIANTS: dict[str, tuple[str, list[str]]] = {
    "pi-spmd-critical": ("openmp/pi_spmd.py", ["--steps", "1000000", "--threads", "2", "--critical"]),
    "pi-spmd-one-thread": ("openmp/pi_spmd.py", ["--steps", "100000", "--threads", "1"]),
    "pi-tasks-three-threads": ("openmp/pi_tasks.py", ["--steps", "2000000", "--threads", "3"]),
}

_CLI_NAMES = {
    "Debug": "debug",
    "Serial": "serial",
    "OpenMP": "openmp",
    "Cuda": "cuda",
    "CudaCheck": "cudacheck",
}


def run_example(script: str, *args: str, timeout: float = 300, space: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    env.pop("KERNELKIT_SPACE", None)
    if space is not None:
        env["KERNELKIT_SPACE"] = space
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(EXAMPLES),
    )


def _assert_pass(proc: subprocess.CompletedProcess, what: str) -> None:
    out = proc.stdout
    assert proc.returncode == 0 and "\nPASS" in "\n" + out, (
        f"{what}: exit status {proc.returncode}\n--- stdout\n{out}\n--- stderr\n{proc.stderr}"
    )


@pytest.mark.parametrize("script", sorted(CASES))
def test_example(script, space):
    name = space.name
    compiled, debug = CASES[script]
    proc = run_example(script, "--space", _CLI_NAMES[name], *(debug if name == "Debug" else compiled))
    _assert_pass(proc, f"{script} on {name}")
    assert f"space {name}" in proc.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_example_variant(variant, compiled_space):
    script, args = VARIANTS[variant]
    name = compiled_space.name
    if "--team-size" in args and name == "Serial":
        pytest.skip("Serial runs teams of one thread (as Kokkos::Serial)")
    proc = run_example(script, "--space", _CLI_NAMES[name], *args)
    _assert_pass(proc, f"{variant} on {name}")


# Two features of kernelkit.openmp the tutorial's programs need and that were still missing when these tests were
# written (/work/notes/ompbench-bugs.md #1, #2). Each is probed by compiling a minimal program in a subprocess:
# while the probe fails the example is an expected failure (with the probe's message), once it compiles the
# example must PASS like every other: no marker to remove by hand.
_PROBES = {
    "njit calls njit": (
        "from kernelkit.openmp import njit\n"
        "@njit\ndef callee(x):\n    return 2 * x\n"
        "@njit\ndef caller(x):\n    return callee(x) + 1\n"
        "assert caller(3) == 7\n",
        None,
    ),
    "parallel region on CudaCheck": (
        "import numpy as np\nfrom kernelkit.openmp import njit, openmp_context as openmp, omp_get_thread_num\n"
        "@njit\ndef ids():\n    out = np.zeros(64)\n    with openmp('parallel'):\n"
        "        out[omp_get_thread_num()] = 1.0\n    return out.sum()\n"
        "assert ids() >= 1.0\n",
        "cudacheck",
    ),
}
_PROBED: dict[str, str | None] = {}


def _missing(feature: str, tmp_dir: Path) -> str | None:
    """None when kernelkit.openmp compiles the probe for `feature`, else the last line of its error."""
    if feature not in _PROBED:
        source, space = _PROBES[feature]
        path = tmp_dir / f"probe_{abs(hash(feature))}.py"  # a file: kernelkit reads the source back
        path.write_text(source)
        env = dict(os.environ)
        env.pop("KERNELKIT_SPACE", None)
        if space:
            env["KERNELKIT_SPACE"] = space
        proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, env=env)
        lines = [line.strip() for line in proc.stderr.splitlines() if "Error" in line] or ["?"]
        _PROBED[feature] = None if proc.returncode == 0 else lines[-1]
    return _PROBED[feature]


def _needs(script: str, space_name: str) -> list[str]:
    features = []
    if script.endswith("pi_tasks.py"):  # piComp calls itself, piFunc calls piComp
        features.append("njit calls njit")
    if space_name == "CudaCheck" and script.endswith(("pi_spmd.py", "pi_tasks.py")):
        features.append("parallel region on CudaCheck")
    return features


def _xfail_if_missing(script: str, space_name: str, tmp_dir: Path) -> None:
    for feature in _needs(script, space_name):
        why = _missing(feature, tmp_dir)
        if why is not None:
            pytest.xfail(f"kernelkit.openmp: {feature} not compiled yet ({why[:200]})")


@pytest.mark.parametrize("script", sorted(OPENMP_CASES))
def test_openmp_example(script, space, tmp_path_factory):
    name = space.name
    _xfail_if_missing(script, name, tmp_path_factory.getbasetemp())
    compiled, debug = OPENMP_CASES[script]
    proc = run_example(script, *(debug if name == "Debug" else compiled), space=_CLI_NAMES[name])
    _assert_pass(proc, f"{script} on {name}")


@pytest.mark.parametrize("variant", sorted(OPENMP_VARIANTS))
def test_openmp_example_variant(variant, tmp_path_factory):
    script, args = OPENMP_VARIANTS[variant]
    _xfail_if_missing(script, "OpenMP", tmp_path_factory.getbasetemp())
    proc = run_example(script, *args, space="openmp")
    _assert_pass(proc, variant)
    if "--threads" in args:  # the team really has the requested size (a region run sequentially would say 1)
        assert f"{args[args.index('--threads') + 1]} threads" in proc.stdout, proc.stdout


def test_openmp_examples_are_pyomp_programs():
    # a PyOMP user's program with the import changed: nothing of kernelkit but kernelkit.openmp
    for script in OPENMP_CASES:
        src = (EXAMPLES / script).read_text()
        imports = [line for line in src.splitlines() if line.startswith(("import ", "from "))]
        assert [line for line in imports if "kernelkit" in line and "kernelkit.openmp" not in line] == [], script
        assert any(line.startswith("from kernelkit.openmp import") for line in imports), script
        proc = run_example(script, "--help", timeout=120)
        assert proc.returncode == 0 and "usage:" in proc.stdout, proc.stderr


def test_every_example_is_tested():
    scripts = {
        str(p.relative_to(EXAMPLES))
        for p in EXAMPLES.rglob("*.py")
        if not p.name.startswith("_")
        and p.parent != EXAMPLES
        and p.stem not in _MODULES
        and p.parent.name != "mpi"  # examples/mpi: run under mpiexec by tests/mpi
    }
    assert scripts == set(CASES) | set(OPENMP_CASES), "examples without a test case (or cases without a script)"


# modules imported by an example, not run: md/'s by minimd.py, tasks/tile_blas.py by cholesky.py (tests/tasks tests it)
_MODULES = {"system", "neighbor", "force", "integrator", "tile_blas"}


def test_help_documents_the_options():
    # one interpreter for every --help (argparse exits before any kernel runs)
    code = (
        "import contextlib, io, os, runpy, sys\n"
        "for script in sys.argv[1:]:\n"
        "    sys.argv = [script, '--help']\n"
        "    sys.path.insert(0, os.path.dirname(script))\n"
        "    buf = io.StringIO()\n"
        "    with contextlib.redirect_stdout(buf):\n"
        "        try:\n"
        "            runpy.run_path(script, run_name='__main__')\n"
        "        except SystemExit as e:\n"
        "            assert e.code == 0, (script, e.code)\n"
        "    print('=====', script)\n"
        "    print(buf.getvalue())\n"
    )
    scripts = [str(EXAMPLES / s) for s in sorted(CASES)]
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", code, *scripts],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(EXAMPLES),
    )
    assert proc.returncode == 0, proc.stderr
    sections = proc.stdout.split("===== ")[1:]
    assert len(sections) == len(scripts)
    for sec in sections:
        head, _, body = sec.partition("\n")
        assert "usage:" in body and "--space" in body, head
    md = next(s for s in sections if s.startswith(str(EXAMPLES / "md/minimd.py")))
    for option in (
        "--nx",
        "--density",
        "--temperature",
        "--dt",
        "--steps",
        "--thermo",
        "--cutoff",
        "--skin",
        "--neigh-every",
        "--drift-tol",
    ):
        assert option in md, option


def test_md_reports_performance_and_drift():
    proc = run_example("md/minimd.py", "--space", "openmp", "--nx", "5", "--steps", "10", "--thermo", "5")
    _assert_pass(proc, "minimd")
    out = proc.stdout
    assert "atom-steps/s" in out and "energy drift" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["0", "5", "10"]
    assert all(len(r) == 5 for r in rows)
    assert abs(float(rows[0][1]) - 1.44) < 1e-9  # the initial temperature is the target exactly


def test_failing_validation_exits_nonzero():
    # an impossible tolerance: the example must say FAIL and exit 1 (not crash, not PASS)
    proc = run_example(
        "md/minimd.py",
        "--space",
        "serial",
        "--nx",
        "4",
        "--steps",
        "4",
        "--thermo",
        "2",
        "--drift-tol",
        "1e-30",
    )
    assert proc.returncode == 1, proc.stderr
    assert "\nFAIL: energy drift" in "\n" + proc.stdout


# ---------------------------------------------------------------------------------------- host-side API


def _iota(i, x):
    x[i] = i


def _draw(i, pool, out):
    g = pool.get_state()
    out[i, 0] = g.drand()
    out[i, 1] = g.rand(100)
    out[i, 2] = g.normal(1.0, 2.0)
    out[i, 3] = g.frand(2.0, 3.0)
    out[i, 4] = g.drand(5.0)
    pool.free_state(g)


@pytest.fixture
def X():
    import kernelkit

    return kernelkit


def test_timer(X):
    t = X.Timer()
    a = t.seconds()
    assert 0.0 <= a <= t.seconds()
    t.reset()
    assert t.seconds() < 1.0


def test_initialize_finalize_are_harmless(X):
    import kernelkit as pk

    X.initialize()
    assert X.is_initialized()
    X.finalize()
    x = np.zeros(4)
    pk.parallel_for(4, _iota, x=x)  # kernels still run after finalize
    assert list(x) == [0.0, 1.0, 2.0, 3.0]


def test_default_precision(X):
    import kernelkit as pk

    assert X.get_default_precision() is pk.float64
    try:
        X.set_default_precision(pk.float32)
        assert pk.real is pk.float32 and X.get_default_precision() is pk.float32
        with pytest.raises(ValueError):
            X.set_default_precision(pk.int32)
    finally:
        X.set_default_precision(pk.float64)
    assert pk.real is pk.float64


def test_view_type_info_in_decorators(X):
    import kernelkit as pk

    info = X.ViewTypeInfo(layout=pk.LayoutRight)
    assert info.layout is pk.LayoutRight and info.space is None

    @pk.workunit(x=info)
    def scale(i, x):
        x[i] *= 2.0

    x = np.ones(5)
    pk.parallel_for(5, scale, x=x)
    assert np.all(x == 2.0)


def test_binsort_1d(X):
    import kernelkit as pk

    keys = pk.View([10], pk.int32)
    keys.data[:] = [5, 3, 9, 0, 1, 3, 7, 2, 8, 10]
    op = X.BinOp1D(keys, 5, 0, 10)
    assert op.max_bins() == 6  # the key equal to max gets its own bin, as in Kokkos
    s = X.BinSort(keys, op)
    s.create_permute_vector()
    np.testing.assert_array_equal(np.asarray(s.get_bin_count()), [2, 3, 1, 1, 2, 1])
    np.testing.assert_array_equal(np.asarray(s.get_bin_offsets()), [0, 2, 5, 6, 7, 9])
    perm = np.asarray(s.get_permute_vector())
    np.testing.assert_array_equal(perm, [3, 4, 1, 5, 7, 0, 6, 2, 8, 9])  # stable within bins
    vals = pk.View([10], pk.double)
    vals.data[:] = np.arange(10) * 1.5
    s.sort(vals)
    np.testing.assert_array_equal(np.asarray(vals), perm * 1.5)
    s.sort(keys)
    np.testing.assert_array_equal(np.asarray(keys), [0, 1, 3, 3, 2, 5, 7, 9, 8, 10])


def test_binsort_3d_and_range(X, rng):
    import kernelkit as pk

    n = 500
    x = pk.View([n, 3], pk.double)
    x.data[:] = rng.random((n, 3)) * [4.0, 5.0, 6.0]
    orig = np.array(x)
    op = X.BinOp3D(x, [2, 3, 4], [0, 0, 0], [4.0, 5.0, 6.0])
    s = X.BinSort(x, 100, 400, op)
    s.create_permute_vector()
    assert int(np.asarray(s.get_bin_count()).sum()) == 300
    s.sort(x)
    sorted_part = np.asarray(x)[100:400]
    b = op.bin_of(sorted_part)
    assert np.all(np.diff(b) >= 0)
    np.testing.assert_array_equal(np.asarray(x)[:100], orig[:100])
    np.testing.assert_array_equal(sorted_part, orig[100:400][np.asarray(s.get_permute_vector())])


def test_binsort_errors(X):
    import kernelkit as pk

    keys = pk.View([4])
    keys.data[:] = [0.0, 1.0, 2.0, 99.0]
    s = X.BinSort(keys, X.BinOp1D(keys, 2, 0.0, 2.0))
    with pytest.raises(ValueError, match="outside"):
        s.create_permute_vector()
    with pytest.raises(ValueError, match="create_permute_vector"):
        s.get_permute_vector()
    with pytest.raises(TypeError):
        X.BinSort(keys, "not a bin op")


@pytest.mark.parametrize("pool_name", ["Random_XorShift64_Pool", "Random_XorShift1024_Pool"])
def test_host_generator_draws_what_a_kernel_draws(X, pool_name, space):
    import kernelkit as pk

    cls = getattr(pk, pool_name)
    kernel_pool, host_pool = cls(5374857), cls(5374857)
    out = np.zeros((2, 5))
    pk.parallel_for(pk.RangePolicy(space, 0, 1), _draw, pool=kernel_pool, out=out)
    g = X.host_get_state(host_pool)
    host = [g.drand(), float(g.rand(100)), g.normal(1.0, 2.0), g.frand(2.0, 3.0), g.drand(5.0)]
    # the integer-derived draws are bit for bit the same; normal() goes through libm (and maybe an FMA)
    assert [out[0][k] for k in (0, 1, 3, 4)] == [host[k] for k in (0, 1, 3, 4)]
    assert out[0][2] == pytest.approx(host[2], rel=1e-14)
    X.host_free_state(host_pool, g)
    # claims are shared: a host claim after the kernel's takes the next stream
    assert X.host_get_state(kernel_pool).claim == 1


def test_host_generator_distributions(X):
    import kernelkit as pk

    g = X.host_get_state(pk.Random_XorShift64_Pool(99))
    d = [g.drand() for _ in range(4000)]
    assert 0.0 <= min(d) and max(d) < 1.0 and abs(np.mean(d) - 0.5) < 0.05
    assert {g.rand(3, 7) for _ in range(200)} == {3, 4, 5, 6}
    assert 0 <= g.urand() < 2**32 and 0 <= g.urand64() < 2**64
    z = [g.normal(1.0, 2.0) for _ in range(4000)]
    assert abs(np.mean(z) - 1.0) < 0.15 and abs(np.std(z) - 2.0) < 0.15
    with pytest.raises(TypeError):
        X.host_get_state(np.zeros(2))


def test_fill_random(X):
    import kernelkit as pk

    pool = pk.Random_XorShift64_Pool(7)
    v = pk.View([10000], pk.int64)
    X.fill_random(v, pool, 10, 20)
    a = np.asarray(v)
    assert a.min() == 10 and a.max() == 19
    w = pk.View([100, 50], pk.double)
    X.fill_random(w, pool, 2.0)
    b = np.asarray(w)
    assert 0.0 <= b.min() and b.max() < 2.0 and abs(b.mean() - 1.0) < 0.05
