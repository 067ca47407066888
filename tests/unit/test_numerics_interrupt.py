"""Ctrl-C during a long kernel (issue 17 item 8): KeyboardInterrupt within a second or two, on every host space
and pattern (the launch polls Python's signals between blocks of iterations), and in the CUDA launcher's wait.

Each case runs in a fresh process that starts a kernel of ~10**12 iterations (minutes of work) and sends itself
SIGINT half a second later; the process reports how the launch ended. The subprocess timeout only guards
against a hang (an uninterruptible launch would run far longer); no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import json, os, signal, sys, threading
    import numpy as np
    import kernelkit as pk

    space = getattr(pk, sys.argv[1])

    @pk.workunit
    def spin(i, out):
        out[0] = out[0] + 1.0

    @pk.workunit
    def spin_reduce(i, acc):
        acc += i % 7

    @pk.workunit
    def spin_scan(i, acc, final, out):
        acc += 1
        if final and i == 0:
            out[0] = acc

    @pk.workunit
    def spin_md(i, j, out):
        out[0] = out[0] + 1.0

    @pk.workunit
    def spin_team(team, out):
        s = 0.0
        for k in range(1000):
            s += k
        out[0] = out[0] + s

    out = np.zeros(1)
    runs = {
        "for": lambda n: pk.parallel_for(pk.RangePolicy(space, 0, n), spin, out=out),
        "reduce": lambda n: pk.parallel_reduce(pk.RangePolicy(space, 0, n), spin_reduce),
        "scan": lambda n: pk.parallel_scan(pk.RangePolicy(space, 0, n), spin_scan, out=out),
        "mdrange": lambda n: pk.parallel_for(pk.MDRangePolicy(space, [0, 0], [n // 10**6, 10**6]), spin_md, out=out),
        "team": lambda n: pk.parallel_for(pk.TeamPolicy(space, n // 1000, 1), spin_team, out=out),
    }
    report = {}
    for kind, run in runs.items():
        run(1000)  # compiled and warm: what is interrupted is the kernel, not the compiler
        timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        try:
            run(10**12)
            report[kind] = "finished"
        except KeyboardInterrupt:
            report[kind] = "interrupted"
        timer.join()
        run(1000)  # the space still works afterwards
    print(json.dumps(report))
    """
)


@pytest.mark.parametrize("space_name", ["Serial", "OpenMP"])
def test_ctrl_c_interrupts_long_host_kernels(space_name, tmp_path):
    script = tmp_path / "long_kernels.py"  # kernels need a source file
    script.write_text(PROGRAM)
    proc = subprocess.run([sys.executable, str(script), space_name], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == dict.fromkeys(["for", "reduce", "scan", "mdrange", "team"], "interrupted")


WAIT = textwrap.dedent(
    """
    import ctypes, os, signal, sys, threading
    from kernelkit import _native

    lib = ctypes.CDLL(sys.argv[1])  # stand-ins for cuStreamQuery: a stream that never finishes, one that has
    never, done = (ctypes.cast(f, ctypes.c_void_p).value for f in (lib.never, lib.done))
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    try:
        _native.cuda_wait(never, 0)
        print("finished")
    except KeyboardInterrupt:
        print("interrupted")
    print(_native.cuda_wait(done, 0))
    """
)


def test_ctrl_c_interrupts_the_cuda_wait(tmp_path):
    """The CUDA launcher's wait for a reduction or a fence (kk_cuda_wait) on a stream that never finishes."""
    import shutil

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler for the stand-in query functions")
    src = tmp_path / "query.c"
    src.write_text("int never(void* s) { return 600; }\nint done(void* s) { return 0; }\n")
    lib = tmp_path / "query.so"
    subprocess.run([cc, "-shared", "-fPIC", str(src), "-o", str(lib)], check=True, timeout=120)
    proc = subprocess.run([sys.executable, "-c", WAIT, str(lib)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["interrupted", "0"]


GPU = textwrap.dedent(
    """
    import os, signal, threading
    import kernelkit as pk

    @pk.workunit
    def spin_reduce(i, acc):
        acc += i % 7

    pk.parallel_reduce(pk.RangePolicy(pk.Cuda, 0, 1000), spin_reduce)
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    try:
        pk.parallel_reduce(pk.RangePolicy(pk.Cuda, 0, 2**62), spin_reduce)
        print("finished")
    except KeyboardInterrupt:
        print("interrupted")
    os._exit(0)  # the kernel still runs on the device: do not wait for it at exit
    """
)


@pytest.mark.gpu
def test_ctrl_c_interrupts_a_long_gpu_reduction(tmp_path):
    from kernelkit.backends.base import space_report

    if not any(d["name"] == "cuda" and d["available"] for d in space_report()):
        pytest.skip("needs a usable CUDA GPU")
    script = tmp_path / "long_gpu.py"
    script.write_text(GPU)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["interrupted"]
