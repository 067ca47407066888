"""Loading npbench-style kernels, making their inputs, validating and timing them the npbench way.

A kernel `name` lives in `<relative_path>/`: `<module>.py` (npbench's `initialize`), `<module>_numpy.py` (the
reference), `<module>_numba_npr.py` or `<module>_numba_np.py` (Numba, parallel=True), `<module>_kernelkit.py`.
Validation is npbench's rule: `np.allclose(ref, val)` (rtol 1e-5, atol 1e-8) or a relative L2 error at most 1e-5,
for every output argument and the return value. Timing is npbench's too: `repeat` runs, fresh copies of the
inputs made outside the timed region, the median reported; the first call (compilation) is timed separately.
A framework given a time `limit` that its first call outruns is stopped there (a SIGALRM interrupts its Python
code between operations) and reported as taking at least that long (`median_s` is the limit, `lower_bound` set);
one whose first call fits but whose repeats would not is timed on as many repeats as fit (at least one).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import signal
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from bench_info import BENCHMARKS, INIT_OUTPUTS

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name: str, suffix: str):
    """The module `<module><suffix>.py` of kernel `name`, or None when that framework has no version of it."""
    rel, module = BENCHMARKS[name][0], BENCHMARKS[name][1]
    path = os.path.join(HERE, rel, f"{module}{suffix}.py")
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location(f"npb_{module}{suffix}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def function(name: str, suffix: str) -> Callable | None:
    mod = load(name, suffix)
    return getattr(mod, BENCHMARKS[name][2]) if mod is not None else None


def numba_functions(name: str) -> list[tuple[str, Callable]]:
    """npbench's Numba versions with parallel=True: with prange first, then the NumPy code under njit."""
    out = []
    for suffix in ("_numba_npr", "_numba_np"):
        fn = function(name, suffix)
        if fn is not None:
            out.append((suffix[1:], fn))
    return out


def inputs(name: str, preset: str, datatype=np.float64) -> tuple[dict, list[str]]:
    """(every named value: the preset's parameters and what `initialize` made, the call's argument names)."""
    _, _, _, presets, init_args, input_args, _ = BENCHMARKS[name]
    params = dict(presets[preset])
    init = load(name, "").initialize
    kwargs = {a: params[a] for a in init_args}
    if "datatype" in inspect.signature(init).parameters and name not in ("floyd_warshall", "softmax"):
        kwargs["datatype"] = datatype
    made = init(**kwargs)
    outs = INIT_OUTPUTS[name]
    made = made if isinstance(made, tuple) else (made,)
    values = dict(params)
    values.update(zip(outs, made, strict=True))
    return values, input_args


def fresh(values: dict, names: list[str], copy: Callable = np.copy) -> list:
    """Every array argument copied (NumPy and GPU arrays alike: a kernel that updates its arguments in place
    must not see what an earlier run of any framework left there); scalars as they are."""
    return [copy(values[n]) if _is_array(values[n]) else values[n] for n in names]


def _is_array(v) -> bool:
    return isinstance(v, np.ndarray) or hasattr(v, "__cuda_array_interface__")


def outputs(name: str, args: list, result) -> list:
    """What npbench compares: the output arguments after the call, then the returned values."""
    input_args, output_args = BENCHMARKS[name][5], BENCHMARKS[name][6]
    out = [args[input_args.index(a)] for a in output_args]
    if result is not None:
        out += list(result) if isinstance(result, tuple) else [result]
    return out


def relerror(val, ref) -> float:
    nref = np.linalg.norm(ref)
    return float(np.linalg.norm(val - ref) / nref) if nref else float(np.linalg.norm(val - ref))


def validate(ref: list, val: list) -> tuple[bool, str]:
    if len(ref) != len(val):
        return False, f"{len(val)} outputs, expected {len(ref)}"
    for k, (r, v) in enumerate(zip(ref, val, strict=True)):
        r = np.asarray(r)
        v = np.asarray(v)
        if r.shape != v.shape:
            return False, f"output {k}: shape {v.shape}, expected {r.shape}"
        if not np.allclose(r, v):
            err = relerror(v.astype(np.float64), r.astype(np.float64))
            if not err <= 1e-5:
                return False, f"output {k}: relative error {err:.3g}"
    return True, ""


@dataclass
class Timing:
    first_s: float
    median_s: float
    valid: bool
    why: str = ""
    samples: int = 0
    lower_bound: bool = False


class OverLimit(Exception):
    """A framework's call ran past the time limit it was given."""


class Alarm:
    """SIGALRM after `seconds` raises OverLimit in the main thread (none when seconds is 0 or signals are
    unavailable); the previous handler and timer are restored on exit."""

    def __init__(self, seconds: float):
        self.seconds = seconds if hasattr(signal, "setitimer") else 0

    def __enter__(self):
        if self.seconds > 0:
            self.old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    @staticmethod
    def _fire(signum, frame):
        raise OverLimit

    def __exit__(self, *exc):
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        return False


def run(
    fn: Callable,
    values: dict,
    names: list[str],
    ref: list | None,
    name: str,
    repeat: int,
    copy: Callable = np.copy,
    sync: Callable = lambda: None,
    to_host: Callable = lambda x: x,
    limit: float = 0.0,
) -> Timing:
    """Validate `fn` against `ref` (None: no check) and time it; `limit` > 0 bounds the seconds it may take in
    all (see the module's note)."""
    args = fresh(values, names, copy)
    t0 = time.perf_counter()
    try:
        with Alarm(limit):
            result = fn(*args)
            sync()
    except OverLimit:
        sync()
        return Timing(limit, limit, False, f"stopped after {limit:g} s", 0, True)
    first = time.perf_counter() - t0
    valid, why = True, ""
    if ref is not None:
        valid, why = validate(ref, [to_host(x) for x in outputs(name, args, result)])
    times: list[float] = []
    spent = first
    for _ in range(repeat):
        if times and limit > 0 and spent + max(times) > limit:
            break
        args = fresh(values, names, copy)
        sync()
        t0 = time.perf_counter()
        fn(*args)
        sync()
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    return Timing(first, statistics.median(times), valid, why, len(times))


def geomean(xs: list[float]) -> float:
    xs = [x for x in xs if x > 0]
    return float(np.exp(np.mean(np.log(xs)))) if xs else float("nan")
