"""Where the time of a test run goes: a pytest plugin, and the summary of what it recorded.

    PYTHONPATH=tools/device python -m pytest -p matrix_timing ... # each process appends to $KK_TIMING_DIR
    python tools/device/matrix_timing.py $KK_TIMING_DIR               # the summary

Per test and in total it adds up the seconds spent in NVRTC compiles, CUDA module loads, device and stream
synchronizations, host<->device copies (coherence), the host C++ compiler, and the calls of the Python
fallback of View element access (View._getitem / _setitem: the native paths serve the rest), so that a slow
GPU matrix can be pinned on its cause. The patches are wrappers around kernelkit's own functions, installed
at session start (after tests/conftest.py has chosen the private cache); nothing else changes.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time

_CATS = ("nvrtc", "module_load", "sync", "copies", "host_cxx", "view_slow_path")
_now: dict[str, float] = dict.fromkeys(_CATS, 0.0)
_counts: dict[str, int] = dict.fromkeys(_CATS, 0)
_per_test: dict[str, dict[str, float]] = {}


def _wrap(owner, name: str, cat: str, cls: bool = False) -> None:
    raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    fn = raw.__func__ if isinstance(raw, classmethod) else raw

    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            _now[cat] += time.perf_counter() - t
            _counts[cat] += 1

    timed.__wrapped__ = fn  # type: ignore[attr-defined]
    setattr(owner, name, classmethod(timed) if cls else timed)


def pytest_sessionstart(session):
    from kernelkit.api.views import View
    from kernelkit.backends.cuda import nvrtc
    from kernelkit.backends.cuda.driver import device, modules, streams
    from kernelkit.backends.openmp import toolchain
    from kernelkit.runtime import coherence

    _wrap(nvrtc, "compile_program", "nvrtc")
    _wrap(modules.Module, "_load", "module_load", cls=True)
    _wrap(device.Device, "synchronize", "sync")
    _wrap(streams.Stream, "synchronize", "sync")
    _wrap(coherence, "_upload", "copies")
    _wrap(coherence, "_download", "copies")
    _wrap(coherence, "_transfer", "copies")
    _wrap(View, "_getitem", "view_slow_path")
    _wrap(View, "_setitem", "view_slow_path")
    _wrap(toolchain.Toolchain, "compile", "host_cxx")


def pytest_runtest_logfinish(nodeid, location):
    before, start = _pending.pop(nodeid, (None, None))
    if before is None:
        return
    row = {c: _now[c] - before[c] for c in _CATS}
    row["wall"] = time.perf_counter() - start
    _per_test[nodeid] = row


_pending: dict[str, tuple[dict[str, float], float]] = {}


def pytest_runtest_logstart(nodeid, location):
    _pending[nodeid] = (dict(_now), time.perf_counter())


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("KK_TIMING_DIR")
    if not out:
        return
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"timing-{os.getpid()}.json"), "w") as f:
        json.dump({"totals": _now, "counts": _counts, "tests": _per_test}, f)


def summarize(folder: str, top: int = 15) -> str:
    totals: collections.Counter = collections.Counter()
    counts: collections.Counter = collections.Counter()
    tests: dict[str, dict[str, float]] = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith("timing-") and name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                d = json.load(f)
            totals.update(d["totals"])
            counts.update(d["counts"])
            tests.update(d["tests"])
    wall = sum(t["wall"] for t in tests.values())
    lines = [f"{len(tests)} tests, {wall:.1f} s of test time summed over the workers"]
    for c in _CATS:
        lines.append(f"  {c:15s} {totals[c]:8.1f} s in {counts[c]:7d} calls")
    for key in ("wall", *_CATS):
        worst = sorted(tests.items(), key=lambda kv: -kv[1].get(key, 0.0))[:top]
        if not worst or worst[0][1].get(key, 0.0) <= 0:
            continue
        lines.append(f"slowest by {key}:")
        lines += [f"  {v.get(key, 0.0):7.2f} s  {k}" for k, v in worst]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KK_TIMING_DIR", ".")))
