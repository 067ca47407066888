"""kernelkit.tasks exports flat every name a Parla 0.3 program imports, so one rewrite rule ports it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import kernelkit.tasks as kt

PARLA_NAMES = [
    "Parla",
    "spawn",
    "TaskSpace",
    "AtomicTaskSpace",
    "specialize",
    "get_current_task",
    "get_current_context",
    "get_current_devices",
    "get_current_stream",
    "cpu",
    "gpu",
    "cuda",
    "parray",
    "clone_here",
    "copy",
    "asarray",
    "asarray_batch",
    "sleep_gil",
    "sleep_nogil",
    "timeout",
    "Coherence",
    "get_scheduler",
    "get_device_manager",
    "DeviceType",
    "CUPY_ENABLED",
    "cupy",
    "wait",
    "Tasks",
    "TaskList",
    "AtomicTaskList",
]


def test_every_parla_name_is_exported():
    for name in PARLA_NAMES:
        assert hasattr(kt, name), name
        assert name in kt.__all__, name
    assert kt.parray.asarray is kt.asarray and hasattr(kt.parray, "array") and hasattr(kt.parray, "asarray_batch")
    assert (kt.Coherence.INVALID, kt.Coherence.SHARED, kt.Coherence.MODIFIED) == (0, 1, 2)
    assert (int(kt.DeviceType.CPU), int(kt.DeviceType.CUDA)) == (0, 1)


def test_cupy_names_follow_the_installation():
    has = importlib.util.find_spec("cupy") is not None
    assert kt.CUPY_ENABLED is has
    assert (kt.cupy is not None) is has


def test_importing_starts_nothing():
    code = (
        "import threading, sys; import kernelkit.tasks; "
        "assert threading.active_count() == 1, threading.enumerate(); "
        "assert 'cupy' not in sys.modules; print('ok')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_sleep_helpers_and_timeout():
    import pytest

    kt.sleep_nogil(100)
    kt.sleep_gil(100)

    @kt.timeout(30)
    def quick(x):
        return x + 1

    assert quick(1) == 2

    @kt.timeout(30)
    def fails():
        raise KeyError("inner")

    with pytest.raises(KeyError):
        fails()

    import threading

    release = threading.Event()

    @kt.timeout(0.01)
    def stuck():
        release.wait(30)

    with pytest.raises(TimeoutError, match="stuck"):
        stuck()
    release.set()
