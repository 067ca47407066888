"""The CUDA launch queue (runtime/native/cudaq.c): bursts of parallel_for launches made by a native thread.

Against the fake libcuda of tests/unit/fake_libcuda.c, in subprocesses: the fake logs each kernelkit launch
with the thread that made it and its parameter block, counts the launches logged at each copy, can make a
launch slow (so that the queue backs up) and can make the k-th launch fail. What is checked: launches keep the
order of the calls, every other driver use (copies, fences, captures) comes after the launches made before it,
an isolated launch is made on the caller's thread, a queued failure is raised naming its kernel and drops the
launches after it, sharing memory with another library turns the queue off, and so does
KERNELKIT_CUDA_LAUNCH_QUEUE=0. On the GPU, benchmarks/kkbench's launch figures and the CUDA test matrix run
with the queue on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

import pytest


@pytest.fixture(scope="module")
def fake_libcuda(fake_kk_driver) -> str:
    return fake_kk_driver  # tests/unit/conftest.py


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("kernelkit-cache"))


PRELUDE = """
import ctypes, json, struct, sys, threading, time
import numpy as np
from kernelkit.backends.cuda import driver
driver.use_library(sys.argv[1])
import kernelkit as pk
from kernelkit import _native
fake = ctypes.CDLL(sys.argv[1])
fake.fake_kk_launch_name.restype = ctypes.c_char_p
fake.fake_kk_launch_tid.restype = ctypes.c_long
fake.fake_gettid.restype = ctypes.c_long
fake.fake_kk_launch_params.restype = ctypes.c_size_t
MAIN = fake.fake_gettid()

def params(k):
    buf = ctypes.create_string_buffer(4096)
    size = fake.fake_kk_launch_params(k, buf, 4096)
    return buf.raw[:size]

def log():
    # (kernel, made on the main thread, its scalar s) of every launch so far
    _native.cuda_queue_drain()  # the fake's log is read behind kernelkit's back
    out = []
    for k in range(fake.fake_kk_launches()):
        p = params(k)  # another kernel's block (the reduction's) may be shorter
        s = struct.unpack_from("<d", p, SOFF)[0] if len(p) >= SOFF + 8 else None
        out.append((fake.fake_kk_launch_name(k).decode(), fake.fake_kk_launch_tid(k) == MAIN, s))
    return out

@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]

n = 1000
pol = pk.RangePolicy(pk.Cuda, 0, n)
a, b, c = (pk.View([n], pk.double, space=pk.CudaSpace) for _ in range(3))
b[:] = 1.0
pk.parallel_for(pol, triad, a=a, b=b, c=c, s=-1234.5)  # the first launch of the kernel: made directly
pk.fence()
SOFF = params(0).index(struct.pack("<d", -1234.5))  # where the scalar lies in the parameter block
fake.fake_kk_reset()
out = {}
"""


def run_fake(lib: str, cache: str, body: str, **env: str) -> dict:
    code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    with tempfile.TemporaryDirectory(prefix="kernelkit-queue-") as tmp:
        path = os.path.join(tmp, "script.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
        environ = {**os.environ, "KERNELKIT_CACHE_DIR": cache, **env}
        environ.pop("KERNELKIT_CUDA_LAUNCH_QUEUE", None)
        environ.update(env)
        proc = subprocess.run([sys.executable, path, lib], capture_output=True, text=True, env=environ, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_burst_is_launched_by_the_queue_in_call_order(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        for k in range(300):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=k + 0.5)
        out["state"] = _native.cuda_queue_state()
        pk.fence()
        out["log"] = log()
        """,
    )
    logged = out["log"]
    assert len(logged) == 300 and {name for name, _, _ in logged} == {"kk_main"}
    assert [s for _, _, s in logged] == [k + 0.5 for k in range(300)]  # launch k is call k
    assert out["state"]["enabled"] == 1 and out["state"]["queued"] > 0
    assert not all(main for _, main, _ in logged)  # the queue's thread made launches
    assert logged[0][1]  # the burst's first launch: the caller's thread (nothing was queued yet)


def test_a_full_queue_waits_for_room_and_loses_nothing(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        fake.fake_kk_launch_delay_us(20)  # 1500 launches of 20 us: the 256 slots fill and the caller waits
        ticks = [0]
        stop = threading.Event()
        def tick():  # runs while the caller waits for a slot with the GIL released
            while not stop.is_set():
                ticks[0] += 1
                time.sleep(0.0005)
        t = threading.Thread(target=tick)
        t.start()
        for k in range(1500):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=float(k))
        stop.set()
        t.join()
        pk.fence()
        out["s"] = [s for _, _, s in log()]
        out["ticks"] = ticks[0]
        """,
    )
    assert out["s"] == [float(k) for k in range(1500)]
    assert out["ticks"] > 3


def test_isolated_launches_are_made_on_the_calling_thread(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        for k in range(5):
            time.sleep(0.002)
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        out["log"] = log()
        out["queued"] = _native.cuda_queue_state()["queued"]
        """,
    )
    assert len(out["log"]) == 5 and all(main for _, main, _ in out["log"])
    assert out["queued"] == 0


def test_copies_fences_and_reductions_come_after_the_queued_launches(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        @pk.workunit
        def total(i, acc, a):
            acc += a[i]

        fake.fake_kk_launch_delay_us(300)  # the queue backs up: 40 launches take 12 ms to drain
        for k in range(40):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        out["backlog"] = _native.cuda_queue_state()
        np.asarray(a)  # a device-to-host copy of a View the kernels wrote
        out["at_copy"] = fake.fake_kk_logged_at_copy()
        for k in range(20):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        pk.deep_copy(c, a)  # a is newer on the device: a copy there
        out["at_deep_copy"] = fake.fake_kk_logged_at_copy()
        for k in range(20):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        pk.parallel_reduce(pol, total, a=a)  # launched on this thread, after the queue drained
        out["log"] = log()
        """,
    )
    backlog = out["backlog"]
    assert backlog["queued"] - backlog["done"] > 5  # the copy below really had launches to wait for
    assert out["at_copy"] == 40 and out["at_deep_copy"] == 60
    assert len(out["log"]) == 81 and out["log"][-1][1]  # the reduction: the last, on the caller's thread


def test_a_failed_queued_launch_is_raised_naming_the_kernel(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        fake.fake_kk_launch_delay_us(100)
        fake.fake_kk_fail_launch(10, 701)  # CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES on the 11th launch
        try:
            for k in range(60):
                pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
            pk.fence()
            out["raised"] = None
        except pk.KernelRuntimeError as e:
            out["raised"] = str(e)
        out["logged"] = len(log())
        out["state"] = _native.cuda_queue_state()
        fake.fake_kk_launch_delay_us(0)
        for k in range(10):  # the queue works again once the failure was told
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        pk.fence()
        out["after"] = len(log())
        """,
    )
    msg = out["raised"]
    assert msg is not None and "triad" in msg and "queued" in msg and "(701)" in msg and "did not run" in msg
    assert out["logged"] == 10  # the ten before it; it and the launches queued after it did not run
    assert out["state"]["failed"] == 0
    assert out["after"] == 20


def test_a_fault_of_an_earlier_kernel_is_told_as_one(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        fake.fake_kk_launch_delay_us(100)
        fake.fake_kk_fail_launch(5, 700)  # CUDA_ERROR_ILLEGAL_ADDRESS: an earlier kernel faulted
        try:
            for k in range(30):
                pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
            pk.fence()
            out["raised"] = None
        except pk.KernelRuntimeError as e:
            out["raised"] = str(e)
        """,
    )
    msg = out["raised"]
    assert msg is not None and "a kernel launched before 'triad' faulted" in msg and "(700)" in msg
    assert "KERNELKIT_BOUNDS_CHECK=1" in msg


def test_threads_share_the_queue_each_in_its_own_order(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        d = pk.View([n], pk.double, space=pk.CudaSpace)
        def work(k):
            for j in range(200):
                pk.parallel_for(pol, triad, a=d if k else a, b=b, c=c, s=1000.0 * k + j)
        ts = [threading.Thread(target=work, args=(k,)) for k in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        pk.fence()
        out["log"] = log()
        """,
    )
    logged = out["log"]
    assert len(logged) == 400
    for k in range(2):  # each thread's launches in the order it made them
        assert [s - 1000.0 * k for _, _, s in logged if (s >= 1000.0) == bool(k)] == list(range(200)), k


def test_memory_shared_with_another_library_is_launched_in_order_with_it(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        fake.fake_kk_launch_delay_us(100)
        for k in range(50):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        a.__cuda_array_interface__  # CuPy, PyTorch or Numba may now use a's memory on work we never see
        out["drained"] = fake.fake_kk_launches()  # the export made the queued launches first
        fake.fake_kk_reset()
        for k in range(30):  # a, and a subview of it: made on this thread, in order with the other library
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
            pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 10), triad, a=a[0:10], b=b[0:10], c=c[0:10], s=2.0)
        out["shared"] = [main for _, main, _ in log()]
        fake.fake_kk_reset()
        d = pk.View([n], pk.double, space=pk.CudaSpace)
        iface = d.__cuda_array_interface__
        class Foreign:  # another library's GPU array, as an argument
            __cuda_array_interface__ = iface
        for k in range(30):
            pk.parallel_for(pol, triad, a=b, b=b, c=Foreign(), s=1.0)
        out["foreign"] = [main for _, main, _ in log()]
        fake.fake_kk_reset()
        for k in range(50):  # Views no other library has seen still go through the queue
            pk.parallel_for(pol, triad, a=b, b=b, c=c, s=1.0)
        out["private"] = [main for _, main, _ in log()]
        out["enabled"] = _native.cuda_queue_state()["enabled"]
        """,
    )
    assert out["drained"] == 50
    assert len(out["shared"]) == 60 and all(out["shared"])
    assert len(out["foreign"]) == 30 and all(out["foreign"])
    assert len(out["private"]) == 50 and not all(out["private"]) and out["enabled"] == 1


def test_a_jit_program_and_a_hand_written_kernel_come_after_the_queued_launches(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        def scale(x, f):
            for i in pk.prange(x.shape[0]):
                x[i] *= f

        program = pk.jit(space=pk.Cuda)(scale)
        program(a, 2.0)  # compiled and run once
        fake.fake_kk_launch_delay_us(200)
        fake.fake_kk_reset()
        for k in range(30):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=float(k))
        program(a, 2.0)  # its host code calls the driver itself
        out["program"] = [(name, s) for name, _, s in log()]
        fake.fake_kk_reset()
        for k in range(30):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=float(k))
        dev = driver.Device(0)
        mod = driver.Module.load(b"\\x7fELF fake cubin", dev)
        driver.launch(mod.function("kkref_probe"), 1, 32, 0, None, [ctypes.c_double(-7.0)])
        out["hand"] = [name for name, _, _ in log()]
        """,
    )
    assert [s for _, s in out["program"][:30]] == [float(k) for k in range(30)]
    assert len(out["program"]) > 30  # the program's kernels, after every queued launch
    assert out["hand"][:30] == ["kk_main"] * 30 and out["hand"][30:] == ["kkref_probe"]


def test_the_environment_variable_turns_the_queue_off(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        for k in range(100):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        out["main"] = [main for _, main, _ in log()]
        out["state"] = _native.cuda_queue_state()
        """,
        KERNELKIT_CUDA_LAUNCH_QUEUE="0",
    )
    assert len(out["main"]) == 100 and all(out["main"])
    assert out["state"]["enabled"] == 0 and out["state"]["queued"] == 0


def test_a_graph_captured_after_a_burst_records_on_the_calling_thread(fake_libcuda, cache):
    out = run_fake(
        fake_libcuda,
        cache,
        """
        fake.fake_kk_launch_delay_us(200)
        for k in range(30):
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
        with pk.graph() as g:  # the capture begins after the 30 were made, and records these two
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=2.0)
            pk.parallel_for(pol, triad, a=a, b=b, c=c, s=3.0)
        out["before_replay"] = len(log())
        out["captured"] = g.captured
        g.launch()
        logged = log()
        out["count"] = len(logged)
        out["tail"] = [s for _, _, s in logged[-2:]]
        out["hold"] = _native.cuda_queue_state()["hold"]
        """,
    )
    assert out["captured"] and out["before_replay"] == 30 and out["count"] == 32
    assert out["tail"] == [2.0, 3.0] and out["hold"] == 0
