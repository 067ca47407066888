"""pk.graph(): recording launches and deep copies, replaying them (runtime/graph.py).

On the host spaces a graph replays its calls in order; those tests run here on every space but the GPU. The
CUDA path (a captured CUDA graph) runs against the fake libcuda of tests/unit/fake_libcuda.c in subprocesses
(the fake logs kernelkit's kernels instead of running them, records stream captures and replays them, and fails
any synchronous copy, allocation or synchronization made inside a capture), so what is checked there is what
the host side does: that nothing runs while recording, what the graph holds, which build of a kernel runs,
and the coherence of the Views around replays. On a GPU, benchmarks/kkbench/graphs.py checks the results of a
replayed time-step loop against the same launches one by one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.errors import KernelTypeError, KernelValueError

HOST_SPACES = [pk.Debug, pk.Serial, pk.OpenMP]


@pk.workunit
def inc(i, a):
    a[i] += 1.0


@pk.workunit
def twice(i, a, b):
    b[i] = 2.0 * a[i]


@pk.workunit
def dot(i, acc, a):
    acc += a[i]


@pytest.fixture(params=HOST_SPACES, ids=lambda s: s.name)
def host_space(request):
    if not request.param.available():
        pytest.skip(f"{request.param.name} is not available here")
    return request.param


def test_recording_runs_nothing_and_replays_in_order(host_space):
    a = pk.View([8], pk.double)
    b = pk.View([8], pk.double)
    pol = pk.RangePolicy(host_space, 0, 8)
    with pk.graph() as g:
        pk.parallel_for(pol, inc, a=a)
        pk.parallel_for(pol, twice, a=a, b=b)
        pk.deep_copy(a, b)  # recorded too: a = 2 * (a + 1)
    assert np.all(np.asarray(a) == 0.0) and np.all(np.asarray(b) == 0.0)
    assert g.nodes == 3 and not g.captured
    g.launch()
    assert np.all(np.asarray(a) == 2.0)
    g.launch()
    assert np.all(np.asarray(a) == 6.0) and np.all(np.asarray(b) == 6.0)


def test_host_writes_between_replays_are_seen(host_space):
    a = pk.View([4], pk.double)
    with pk.graph() as g:
        pk.parallel_for(pk.RangePolicy(host_space, 0, 4), inc, a=a)
    g.launch()
    a[2] = 10.0
    g.launch()
    assert list(np.asarray(a)) == [2.0, 2.0, 11.0, 2.0]


def test_a_reduction_cannot_be_recorded_and_says_where(host_space):
    a = pk.View([4], pk.double)
    with pytest.raises(KernelValueError, match="parallel_reduce cannot be recorded in a graph") as info:
        with pk.graph():
            pk.parallel_reduce(pk.RangePolicy(host_space, 0, 4), dot, a=a)
    assert "test_graph.py" in str(info.value)


def test_errors_of_use():
    a = pk.View([4], pk.double)
    g = pk.graph()
    with pytest.raises(KernelValueError, match="recorded nothing yet"):
        g.launch()
    with g:
        with pytest.raises(KernelValueError, match="still recording"):
            g.launch()
        with pytest.raises(KernelValueError, match="do not nest"):
            with pk.graph():
                pass
        pk.parallel_for(4, inc, a=a)
    with pytest.raises(KernelValueError, match="records once"):
        with g:
            pass
    failed = pk.graph()
    with pytest.raises(RuntimeError, match="boom"):
        with failed:
            pk.parallel_for(4, inc, a=a)
            raise RuntimeError("boom")
    with pytest.raises(KernelValueError, match="recording failed"):
        failed.launch()
    assert np.all(np.asarray(a) == 0.0)  # neither graph ran anything
    g.launch()
    assert np.all(np.asarray(a) == 1.0)


def test_type_errors_surface_while_recording():
    with pytest.raises(KernelTypeError, match="test_graph.py"):
        with pk.graph():
            pk.parallel_for(4, inc, a="not an array")


def test_other_threads_launch_normally_while_one_records():
    a = pk.View([4], pk.double)
    b = pk.View([4], pk.double)
    with pk.graph() as g:
        pk.parallel_for(4, inc, a=a)
        t = threading.Thread(target=lambda: pk.parallel_for(4, inc, a=b))
        t.start()
        t.join()
    assert np.all(np.asarray(a) == 0.0) and np.all(np.asarray(b) == 1.0)
    g.launch()
    assert np.all(np.asarray(a) == 1.0)


# ------------------------------------------------------------------------------------------ CUDA (fake driver)


@pytest.fixture(scope="module")
def fake_libcuda(fake_kk_driver) -> str:
    return fake_kk_driver  # tests/unit/conftest.py


PRELUDE = """
import ctypes, json, sys
import numpy as np
from kernelkit.backends.cuda import driver
driver.use_library(sys.argv[1])
import kernelkit as pk
from kernelkit import _native
from kernelkit.runtime import coherence
fake = ctypes.CDLL(sys.argv[1])
fake.fake_kk_launch_name.restype = ctypes.c_char_p
def launched():
    _native.cuda_queue_drain()  # the fake's log is read behind kernelkit's back: the queued launches first
    return [fake.fake_kk_launch_name(k).decode() for k in range(fake.fake_kk_launches())]

@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]

@pk.workunit
def copy(i, a, c):
    c[i] = a[i]

n = 1000
pol = pk.RangePolicy(pk.Cuda, 0, n)
a, b, c = (pk.View([n], pk.double, space=pk.CudaSpace) for _ in range(3))
b[:] = 1.0
out = {}
"""


def run_script(code: str, lib: str, **env: str) -> dict:
    """Run `code` (kernels need a source file) in a fresh interpreter with the fake driver; its last line of
    output, as JSON."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kernelkit-graph-") as tmp:
        path = os.path.join(tmp, "script.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
        environ = {**os.environ, **env}
        proc = subprocess.run([sys.executable, path, lib], capture_output=True, text=True, env=environ, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_fake(lib: str, cache: str, body: str, **env: str) -> dict:
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    return run_script(script, lib, KERNELKIT_CACHE_DIR=cache, **env)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("kernelkit-cache"))


def test_cuda_graph_captures_and_replays(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        with pk.graph() as g:
            for _ in range(5):
                pk.parallel_for(pol, triad, a=a, b=b, c=c, s=2.0)
                pk.parallel_for(pol, copy, a=a, c=c)
            pk.deep_copy(b, c)
        out["recorded"] = launched()
        out["captured"], out["nodes"], out["graph_nodes"] = g.captured, g.nodes, g._exec.nodes
        coherence.reset_stats()
        g.launch()
        out["replayed"] = launched()
        out["graph_launches"] = fake.fake_graph_launches()
        out["after_replay"] = coherence.stats()
        b[0] = 5.0  # b was written by the graph: downloaded, changed on the host, uploaded before the next replay
        g.launch()
        out["after_host_write"] = coherence.stats()
        _native.cuda_queue_drain()
        out["count"] = fake.fake_kk_launches()
        np.asarray(c)  # the graph wrote c: the host copy is stale, downloaded now
        out["after_read"] = coherence.stats()
        """,
    )
    assert out["recorded"] == []  # nothing ran while recording
    assert out["captured"] and out["nodes"] == 11 and out["graph_nodes"] == 11
    assert out["replayed"] == ["kk_main"] * 10 and out["graph_launches"] == 1
    assert out["after_replay"]["h2d"] == 0  # staged before the capture: a replay moves nothing
    assert out["after_host_write"]["h2d"] == 1 and out["after_host_write"]["d2h"] == 1 and out["count"] == 20
    assert out["after_read"]["d2h"] == 2  # and c, which the graph wrote, on its first host read


def test_cuda_graph_rejects_what_it_cannot_capture(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        for name, record in [
            ("host array", lambda: pk.parallel_for(pol, copy, a=np.ones(n), c=c)),
            ("host copy", lambda: pk.deep_copy(a, np.ones(n))),
        ]:
            try:
                with pk.graph() as g:
                    pk.parallel_for(pol, copy, a=a, c=c)
                    record()
                out[name] = "built"
            except Exception as e:
                out[name] = f"{type(e).__name__}: {e}"
        out["launched"] = launched()
        with pk.graph() as g:
            pk.parallel_for(pol, copy, a=a, c=c)
        coherence.release(c)  # its device copy is gone,
        other = pk.View([n], pk.double, space=pk.CudaSpace)
        other[:] = 0.0
        other.__cuda_array_interface__  # noqa: B018 (and its memory has gone to another View)
        try:
            g.launch()
            out["released"] = "launched"
        except Exception as e:
            out["released"] = f"{type(e).__name__}: {e}"
        """,
    )
    assert out["host array"].startswith("KernelTypeError") and "host memory: pass a View" in out["host array"]
    assert out["host copy"].startswith("KernelTypeError") and "device to device" in out["host copy"]
    assert out["launched"] == []
    assert "record the graph again" in out["released"]


def test_bounds_checked_graphs_replay_launch_by_launch(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        with pk.graph() as g:
            pk.parallel_for(pol, copy, a=a, c=c)
            pk.parallel_for(pol, copy, a=c, c=b)
        out["captured"] = g.captured
        """,
        KERNELKIT_BOUNDS_CHECK="1",
    )
    assert out["captured"] is False


def test_overlapping_arguments_run_the_plain_load_build(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        pk.parallel_for(pol, copy, a=a, c=c)        # distinct Views: the read-only-path build
        pk.parallel_for(pol, copy, a=a, c=a)        # the same View read and written
        x = pk.View([2 * n], pk.double, space=pk.CudaSpace)
        pk.parallel_for(pol, copy, a=x[0:n], c=x[n:2 * n])          # two halves of one View: disjoint
        try:  # overlapping halves, one written: a race on a GPU, refused (docs/numerics.md)
            pk.parallel_for(pol, copy, a=x[0:n], c=x[n // 2:n + n // 2])
        except pk.KernelValueError as e:
            out["refused"] = "overlap in memory" in str(e)
        pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        pk.parallel_for(pol, triad, a=b, b=b, c=c, s=1.0)
        out["launched"] = launched()
        """,
    )
    assert out["launched"] == ["kk_main", "kk_main_alias", "kk_main", "kk_main", "kk_main_alias"]
    assert out["refused"] is True


def test_driver_capture_records_instead_of_running(fake_libcuda):
    """The driver binding alone, with the fake's axpy kernel: captured launches run only when replayed."""
    code = """
    import ctypes, json, sys
    import numpy as np
    from kernelkit.backends.cuda import driver
    driver.use_library(sys.argv[1])
    dev = driver.Device(0)
    mod = driver.Module.load(b"\\x7fELF fake cubin", dev)
    axpy = mod.function("axpy")
    n = 4
    x, y = driver.alloc(8 * n), driver.alloc(8 * n)
    driver.memcpy_htod(x, np.arange(4.0), 32)
    driver.memcpy_htod(y, np.zeros(4), 32)
    s = driver.Stream(dev)
    args = [ctypes.c_longlong(n), ctypes.c_double(2.0), ctypes.c_void_p(x), ctypes.c_void_p(y)]
    driver.begin_capture(s.handle)
    driver.launch(axpy, 1, 32, 0, s, args)
    status = driver.capture_status(s.handle)
    try:
        driver.memcpy_htod(y, np.zeros(4), 32)  # synchronous: refused inside a capture
        refused = ""
    except driver.CudaError as e:
        refused = str(e)
    try:
        driver.end_capture(s.handle)
        ended = ""
    except driver.CudaError as e:  # the refused call invalidated the capture
        ended = str(e)
    out = {"status": status, "refused": refused, "ended": ended}
    print(json.dumps(out))
    """
    out = run_script(textwrap.dedent(code), fake_libcuda)
    assert out["status"] == 1 and "CAPTURE_UNSUPPORTED" in out["refused"] and "INVALIDATED" in out["ended"]
    code2 = """
    import ctypes, json, sys
    import numpy as np
    from kernelkit.backends.cuda import driver
    driver.use_library(sys.argv[1])
    dev = driver.Device(0)
    axpy = driver.Module.load(b"\\x7fELF fake cubin", dev).function("axpy")
    x, y = driver.alloc(32), driver.alloc(32)
    driver.memcpy_htod(x, np.arange(4.0), 32)
    driver.memcpy_htod(y, np.zeros(4), 32)
    s = driver.Stream(dev)
    args = [ctypes.c_longlong(4), ctypes.c_double(2.0), ctypes.c_void_p(x), ctypes.c_void_p(y)]
    driver.begin_capture(s.handle)
    driver.launch(axpy, 1, 32, 0, s, args)
    graph = driver.end_capture(s.handle)
    host = np.zeros(4)
    driver.memcpy_dtoh(host, y, 32)
    before = host.tolist()
    exe = graph.instantiate()
    exe.launch(s.handle)
    exe.launch(s.handle)
    driver.memcpy_dtoh(host, y, 32)
    print(json.dumps({"nodes": graph.node_count(), "before": before, "after": host.tolist()}))
    """
    out = run_script(textwrap.dedent(code2), fake_libcuda)
    assert out == {"nodes": 1, "before": [0.0] * 4, "after": [0.0, 4.0, 8.0, 12.0]}
