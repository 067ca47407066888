"""Latency benchmarks, each in fresh processes: cold compile, warm start, launch overhead, import time.

- cold compile: a fresh, empty cache directory; the first launch of a small kernel minus the second;
- warm start: a new process whose cache the cold run populated; the first launch's time (frontend, cache
  lookup, load, run);
- both again for a second kernel in the same process ("next kernel"), where a probe reports it: the first
  figures include the one-time work of a process's first launch (lazy imports), these do not;
- launch overhead: a tiny 3-argument kernel on one element, ~1e5 calls: each sample is a batch's total divided
  by its calls, the median of the samples is reported;
- import: `import kernelkit` (NumPy included: a user pays both) in a fresh interpreter, after one untimed
  import that writes the bytecode caches.

A framework that compiles kernels takes part by shipping a probe script (`probe_<name>.py`, same protocol).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from .core import Latency
from .hooks import COMPILER_MODULE
from .timing import Timing

# Targets of DESIGN.md section 6, shown next to kernelkit's figures.
TARGETS_S: dict[str, float] = {
    "cold_compile": 0.3,
    "warm_start": 0.010,
    "launch": 2e-6,
    "launch_one_thread": 1e-6,
    "launch_gpu": 6e-6,
    "import": 0.3,
}

_HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Probe:
    framework: str
    script: str
    cache_env: str
    spaces: tuple[str, ...]
    module: str  # what must be importable for the probe to run


PROBES: dict[str, Probe] = {
    "kernelkit": Probe(
        "kernelkit", "probe_kernelkit.py", "KERNELKIT_CACHE_DIR", ("openmp", "serial", "cuda"), "kernelkit"
    ),
    "numba": Probe("numba", "probe_numba.py", "NUMBA_CACHE_DIR", ("openmp",), "numba"),
    # "openmp" is Warp's CPU device (one thread)
    "warp": Probe("warp", "probe_warp.py", "KERNELKIT_PROBE_CACHE", ("openmp", "cuda"), "warp"),
    "cupy": Probe("cupy", "probe_cupy.py", "CUPY_CACHE_DIR", ("cuda",), "cupy"),
}


class ProbeError(RuntimeError):
    pass


def _run(cmd: list[str], env: dict[str, str], timeout: float = 300.0) -> dict[str, Any]:
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise ProbeError(f"timed out after {timeout:.0f} s") from e
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise ProbeError(f"exit status {proc.returncode}:\n{tail}")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as e:
        raise ProbeError(f"unreadable probe output: {lines[-1]!r}") from e


def _env(threads: int | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    if threads is not None:
        env["KERNELKIT_NUM_THREADS"] = str(threads)
        env["OMP_NUM_THREADS"] = str(threads)
        env["NUMBA_NUM_THREADS"] = str(threads)
    env.update(extra)
    return env


def kernel_latency(
    framework: str,
    space: str,
    *,
    threads: int | None,
    samples: int,
    calls: int,
    batches: int,
    metrics: tuple[str, ...] = ("cold_compile", "warm_start", "launch"),
    profile: bool = False,
) -> list[Latency]:
    """Cold compile, warm start and launch overhead of `framework` on `space`, as selected by `metrics`;
    with `profile` (kernelkit only), the warm start is run once more under cProfile and its top functions
    are kept in the warm_start record (`extra["profile"]`)."""
    probe = PROBES[framework]
    one_thread = space == "serial" or threads == 1
    targets = {
        "cold_compile": TARGETS_S["cold_compile"],
        "cold_compile_next": TARGETS_S["cold_compile"],
        "warm_start": TARGETS_S["warm_start"],
        "warm_start_next": TARGETS_S["warm_start"],
        "launch": TARGETS_S["launch_gpu" if space == "cuda" else "launch_one_thread" if one_thread else "launch"],
    }
    own = framework == "kernelkit"
    wanted = list(metrics)
    for m in ("cold_compile", "warm_start"):
        if m in wanted:
            wanted.insert(wanted.index(m) + 1, f"{m}_next")
    records = {m: Latency(m, framework, space, "ok", Timing(), targets[m] if own else None) for m in wanted}
    root = tempfile.mkdtemp(prefix="kernelkit-bench-")
    try:
        script = os.path.join(root, probe.script)
        # A copy in an otherwise empty folder: the script's folder lands on sys.path, the package's must not.
        shutil.copyfile(os.path.join(_HERE, probe.script), script)
        cmd = [sys.executable, script]
        cache = os.path.join(root, "cache-0")
        need_first = "cold_compile" in metrics or "warm_start" in metrics
        if need_first:
            for k in range(samples if "cold_compile" in records else 1):
                cache = os.path.join(root, f"cache-{k}")
                out = _run([*cmd, "first", space, "1024"], _env(threads, **{probe.cache_env: cache}))
                if not out.get("ok"):
                    raise ProbeError("the probe kernel computed a wrong result")
                if "cold_compile" in records:
                    records["cold_compile"].timing.samples.append(out["first_s"] - out["second_s"])
                    if "next_first_s" in out:
                        cold_next = out["next_first_s"] - out["next_second_s"]
                        records["cold_compile_next"].timing.samples.append(cold_next)
        if "warm_start" in records:
            for _ in range(samples):
                out = _run([*cmd, "first", space, "1024"], _env(threads, **{probe.cache_env: cache}))
                records["warm_start"].timing.samples.append(out["first_s"])
                if "next_first_s" in out:
                    records["warm_start_next"].timing.samples.append(out["next_first_s"])
        if profile and own and "warm_start" in records:
            out = _run([*cmd, "profile", space, "1024"], _env(threads, **{probe.cache_env: cache}))
            records["warm_start"].extra["profile"] = {"first_s": out["first_s"], "top": out["top"]}
        if "launch" in records:
            out = _run([*cmd, "launch", space, str(calls), str(batches)], _env(threads, **{probe.cache_env: cache}))
            if not out.get("ok"):
                raise ProbeError("the probe kernel computed a wrong result")
            records["launch"].timing.samples.extend(out["per_call_s"])
            records["launch"].extra["calls_per_sample"] = out["calls"]
    except ProbeError as e:
        for rec in records.values():
            if not rec.timing.samples:
                rec.status, rec.note = "error", str(e)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for name in ("cold_compile_next", "warm_start_next"):
        if name in records and records[name].status == "ok" and not records[name].timing.samples:
            del records[name]  # the probe has no second kernel
    for rec in records.values():
        one = space == "serial" or framework == "warp"
        rec.extra["threads"] = None if space == "cuda" else 1 if one else threads
    return list(records.values())


_IMPORT_SNIPPET = """\
import json, os, sys, time
def threads():
    return len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else 0
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
after_numpy = threads()
import {module}
t2 = time.perf_counter()
out = {{'numpy_s': t1 - t0, 'module_s': t2 - t1, 'total_s': t2 - t0,
       'threads_started': threads() - after_numpy,
       'compiler_loaded': {compiler_module!r} in sys.modules}}
print(json.dumps(out))
"""


def import_time(module: str = "kernelkit", *, samples: int) -> Latency:
    """`import <module>` in fresh interpreters: the median total, NumPy's share and threads alive after it."""
    rec = Latency("import", module, None, "ok", Timing(), TARGETS_S["import"] if module == "kernelkit" else None)
    cmd = [sys.executable, "-c", _IMPORT_SNIPPET.format(module=module, compiler_module=COMPILER_MODULE)]
    env = dict(os.environ)
    try:
        _run(cmd, env)  # writes bytecode caches; not counted
        numpy_s: list[float] = []
        started = 0
        compiler_loaded = False
        for _ in range(samples):
            out = _run(cmd, env)
            rec.timing.samples.append(out["total_s"])
            numpy_s.append(out["numpy_s"])
            started = max(started, int(out["threads_started"]))
            compiler_loaded = compiler_loaded or bool(out["compiler_loaded"])
    except ProbeError as e:
        rec.status, rec.note = "error", str(e)
        return rec
    numpy_s.sort()
    rec.extra["numpy_s"] = numpy_s[len(numpy_s) // 2]
    rec.extra["threads_started_by_import"] = started
    rec.extra["compiler_imported"] = compiler_loaded
    rec.note = f"NumPy's share {rec.extra['numpy_s'] * 1e3:.0f} ms; threads started: {started}"
    if compiler_loaded:
        rec.note += "; the compiler pipeline was imported"
    return rec
