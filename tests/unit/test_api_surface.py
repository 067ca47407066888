"""The public surface of issue 2: every promised name exists (and is exported in __all__), the error classes
sit in the right hierarchy, the introspection the lead promises works, and `import kernelkit` starts no
threads, spawns no compiler and compiles nothing (measured in a fresh interpreter, with its import time
reported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kernelkit as pk

NAMES = """
workunit function parallel_for parallel_reduce parallel_scan fence
RangePolicy MDRangePolicy
Debug Serial OpenMP Threads Default set_default_space get_default_space set_num_threads get_num_threads
Sum Prod Min Max MinLoc MaxLoc LAnd LOr BAnd BOr Acc
int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float float64 double bool
View View1D View2D View3D View4D View5D View6D View7D View8D LayoutRight LayoutLeft
KernelError KernelSyntaxError KernelTypeError KernelValueError CompileError
atomic_add atomic_fetch_add atomic_fetch_sub atomic_fetch_mul atomic_fetch_div atomic_fetch_min
atomic_fetch_max
atomic_fetch_and atomic_fetch_or atomic_fetch_xor atomic_compare_exchange printf
""".split()

MATH = """sqrt exp log log2 log10 sin cos tan asin acos atan atan2 sinh cosh tanh pow floor ceil fabs fmin
fmax fmod hypot erf erfc isnan isinf isfinite copysign""".split()


@pytest.mark.parametrize("name", NAMES + MATH)
def test_public_name_exists(name):
    assert hasattr(pk, name), f"pk.{name} is missing"


def test_explicit_all():
    exported = set(getattr(pk, "__all__", ()))
    assert exported, "kernelkit/__init__.py has no __all__"
    missing = sorted(set(NAMES + MATH) - exported)
    assert not missing, f"not in kernelkit.__all__: {missing}"
    for name in exported:
        assert hasattr(pk, name), f"__all__ lists {name} but kernelkit has no such attribute"


def test_error_hierarchy():
    assert issubclass(pk.KernelSyntaxError, pk.KernelError)
    assert issubclass(pk.KernelTypeError, pk.KernelError) and issubclass(pk.KernelTypeError, TypeError)
    assert issubclass(pk.KernelValueError, pk.KernelError) and issubclass(pk.KernelValueError, ValueError)
    assert issubclass(pk.CompileError, pk.KernelError)
    assert issubclass(pk.KernelError, Exception)


def test_math_functions_work_in_plain_python():
    """The Debug space runs kernels as Python: pk.* math must be callable from Python, same results."""
    assert pk.sqrt(16.0) == 4.0
    assert pk.fmin(2.0, -1.0) == -1.0 and pk.fmax(2.0, -1.0) == 2.0
    assert pk.isnan(float("nan")) and pk.isinf(float("inf")) and pk.isfinite(1.0)
    assert pk.copysign(3.0, -0.0) == -3.0
    assert pk.fmod(-7.0, 2.0) == -1.0
    assert pk.hypot(3.0, 4.0) == 5.0
    assert abs(pk.erf(0.5) + pk.erfc(0.5) - 1.0) < 1e-15


def test_space_report():
    from kernelkit.backends.base import space_report

    report = space_report()
    assert isinstance(report, list) and report
    for entry in report:
        assert {"name", "available", "detail"} <= set(entry), entry
        assert isinstance(entry["available"], bool)
    by_name = {str(e["name"]).lower(): e for e in report}
    for required in ("debug", "serial", "openmp"):
        assert required in by_name, f"space_report() lacks {required}: {report}"
        assert by_name[required]["available"], f"{required} reported unavailable here: {by_name[required]}"


def test_default_cache_object():
    from kernelkit.compile.cache import default_cache

    c = default_cache()
    for attr in ("directory", "size_bytes", "entries", "clear"):
        assert hasattr(c, attr), attr
    assert isinstance(c.size_bytes(), int)


@pk.workunit
def _probe(i, out):
    out[i] = i


def test_workunit_stats():
    s = _probe.stats()
    assert isinstance(s, dict) and "compiles" in s and "cache_hits" in s
    out = np.zeros(3)
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 3), _probe, out=out)
    s2 = _probe.stats()
    assert s2["compiles"] + s2["cache_hits"] >= 1


def test_view_annotations_are_subscriptable():
    for rank in range(1, 9):
        getattr(pk, f"View{rank}D")[pk.double]
    pk.Acc[pk.double]
    pk.Acc[int]


IMPORT_PROBE = textwrap.dedent(
    """
    import json, os, sys, threading, time

    def tasks():
        return len(os.listdir("/proc/self/task"))

    def children():
        me = str(os.getpid())
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[1] == me:
                    out.append(pid)
        return out

    import numpy  # measured separately: kernelkit's own import time is what the target is about
    t0 = time.perf_counter()
    py_threads, native_threads = threading.active_count(), tasks()
    import kernelkit
    dt = time.perf_counter() - t0
    after = {"py_threads": threading.active_count(), "native_threads": tasks(), "children": children()}
    cache = os.environ["KERNELKIT_CACHE_DIR"]
    cached = sum(len(f) for _, _, f in os.walk(cache)) if os.path.isdir(cache) else 0
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("numba", "cupy", "torch"))
    print(json.dumps({"import_s": dt, "py_threads_before": py_threads,
                      "native_threads_before": native_threads, "after": after, "cache_files": cached,
                      "modules": heavy}))
    """
)


def test_import_starts_nothing_and_is_quick(tmp_path, record_property):
    script = tmp_path / "probe.py"
    script.write_text(IMPORT_PROBE)
    env = dict(os.environ)
    env["KERNELKIT_CACHE_DIR"] = str(tmp_path / "cache")
    timings = []
    for _ in range(3):  # best of three: the first run also pays for a cold disk cache
        proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        timings.append(r["import_s"])
        assert r["after"]["py_threads"] == r["py_threads_before"], "import kernelkit started Python threads"
        assert r["after"]["native_threads"] == r["native_threads_before"], "import kernelkit started native threads"
        assert r["after"]["children"] == [], "import kernelkit left child processes (a compiler?)"
        assert r["cache_files"] == 0, "import kernelkit compiled something"
        assert r["modules"] == [], f"import kernelkit imported heavy optional packages: {r['modules']}"
    best = min(timings)
    record_property("import_kernelkit_s", best)
    print(f"\nimport kernelkit: best {best * 1000:.1f} ms of {[round(t * 1000, 1) for t in timings]} ms")
    assert best < 1.0, f"import kernelkit took {best:.3f} s (sanity bound 1 s; the target is 0.3 s)"


ENV_PROBE = textwrap.dedent(
    """
    import json
    import kernelkit as pk
    from kernelkit.backends.base import space_report
    cuda = any(str(d["name"]).lower() == "cuda" and d["available"] for d in space_report())
    d = pk.get_default_space()
    print(json.dumps({"default": str(getattr(d, "name", d)), "is_openmp": d == pk.OpenMP,
                      "is_serial": d == pk.Serial, "is_debug": d == pk.Debug, "cuda": cuda,
                      "threads": pk.get_num_threads()}))
    """
)


def _env_probe(tmp_path, **env_changes):
    script = tmp_path / "envprobe.py"
    script.write_text(ENV_PROBE)
    env = dict(os.environ)
    for k in ("KERNELKIT_SPACE", "OMP_NUM_THREADS", "KERNELKIT_NUM_THREADS"):
        env.pop(k, None)
    env.update(env_changes)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_default_space_is_openmp_without_a_gpu(tmp_path):
    r = _env_probe(tmp_path)
    if r["cuda"]:
        assert r["default"].lower() == "cuda", r
    else:
        assert r["is_openmp"], f"with no usable GPU the default space must be OpenMP: {r}"


@pytest.mark.parametrize("value,expect", [("serial", "is_serial"), ("Debug", "is_debug"), ("OpenMP", "is_openmp")])
def test_kernelkit_space_env(tmp_path, value, expect):
    r = _env_probe(tmp_path, KERNELKIT_SPACE=value)
    assert r[expect], r


def test_omp_num_threads_env(tmp_path):
    assert _env_probe(tmp_path, OMP_NUM_THREADS="1")["threads"] == 1
    assert _env_probe(tmp_path, OMP_NUM_THREADS="3")["threads"] == 3
