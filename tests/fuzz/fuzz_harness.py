"""Running one generated kernel on every space and comparing the results (the fuzzer's oracle).

Debug is the reference; Serial, OpenMP (and CudaCheck, which also compiles each kernel for CUDA) must give the
same outputs: bit for bit, except that all NaNs are one value (their sign and payload are not part of the
contract) and float sums, which each space may associate differently (docs/numerics.md), agree to a relative
1e-9. A kernel one space refuses must be refused by every space with the same KernelError class. Any other
exception is a failure."""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import math
import os
import shutil
import sys
import tempfile

import numpy as np

import kernelkit as pk

STATS: dict = {"kernels": 0, "launches": 0, "inputs": 0, "elements": 0, "refused": 0, "by_pattern": {}}

_DIR = tempfile.mkdtemp(prefix="kernelkit-fuzz-")  # the generated modules, removed when the process ends
atexit.register(shutil.rmtree, _DIR, True)
_modules: dict[str, object] = {}


def spaces() -> list:
    """Debug (the reference), Serial, OpenMP, and Cuda where a GPU is usable, else CudaCheck where NVRTC is."""
    from kernelkit.backends.base import space_report

    report = {d["name"]: d["available"] for d in space_report()}
    out = [pk.Debug, pk.Serial, pk.OpenMP]
    if report.get("cuda") and hasattr(pk, "Cuda"):
        out.append(pk.Cuda)
    elif report.get("cudacheck"):
        from kernelkit.api.spaces import CudaCheck

        out.append(CudaCheck)
    return out


def load(source: str):
    """The generated source as a module in a file (kernels need their source on disk)."""
    mod = _modules.get(source)
    if mod is None:
        name = "fz_" + hashlib.sha256(source.encode()).hexdigest()[:16]
        path = os.path.join(_DIR, name + ".py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        _modules[source] = mod
    return mod


PARAMS = {
    "for": ["a", "b", "c", "d", "out_f", "out_i", "out_f32", "out_i32", "hist"],
    "mdrange": ["a", "b", "c", "d", "a2", "out2", "out_f", "out_i", "out_f32", "out_i32"],
    "reduce": ["a", "b", "c", "d"],
    "scan": ["a", "b", "c", "d", "out_f", "out_i", "out_f32", "out_i32"],
    "team": ["a", "b", "c", "d", "out_f", "out_i", "out_f32", "out_i32"],
}


def run(case, space):
    """("ok", result, outputs) or ("refused", KernelError class name, message)."""
    kernel = load(case.source).kernel
    arrays = case.arrays()
    args = {k: arrays[k] for k in PARAMS[case.pattern]}
    STATS["launches"] += 1
    try:
        with np.errstate(all="ignore"):
            if case.pattern == "for":
                result = pk.parallel_for(pk.RangePolicy(space, 0, case.n), kernel, **args)
            elif case.pattern == "mdrange":
                policy = pk.MDRangePolicy(space, [0, 0], [case.n, case.m])
                result = pk.parallel_for(policy, kernel, **args)
            elif case.pattern == "reduce":
                reducer = getattr(pk, case.reducer)
                result = pk.parallel_reduce(pk.RangePolicy(space, 0, case.n), kernel, reducer, **args)
            elif case.pattern == "scan":
                result = pk.parallel_scan(pk.RangePolicy(space, 0, case.n), kernel, **args)
            else:
                result = pk.parallel_for(pk.TeamPolicy(space, case.n, pk.AUTO), kernel, **args)
    except pk.KernelError as e:
        return ("refused", type(e).__name__, str(e))
    outputs = {k: v for k, v in args.items() if k.startswith(("out", "hist"))}
    return ("ok", result, outputs)


def mismatches(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Where two outputs differ: bit for bit, except that every NaN equals every NaN."""
    x, y = x.ravel(), y.ravel()
    if x.dtype.kind != "f":
        return x != y
    bits = f"u{x.itemsize}"
    nx, ny = np.isnan(x), np.isnan(y)
    return (nx != ny) | (~nx & ~ny & (x.view(bits) != y.view(bits)))


def _same_scalar(x, y, loose: bool) -> bool:
    if type(x) is not type(y):
        return False
    if isinstance(x, float):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        if loose:
            return x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-300)
        return math.copysign(1.0, x) == math.copysign(1.0, y) and x == y
    return x == y


def differences(case, ref, got) -> list[str]:
    """What `got` (another space's run) gets wrong against `ref` (Debug's)."""
    if ref[0] != got[0]:
        return [
            f"Debug {ref[0]} ({ref[1]}: {ref[2] if ref[0] == 'refused' else ''}) but this space {got[0]} "
            f"({got[1]}: {got[2] if got[0] == 'refused' else ''})"
        ]
    if ref[0] == "refused":
        return [] if ref[1] == got[1] else [f"refused with {got[1]}, Debug with {ref[1]}: {got[2]}"]
    out = []
    loose = case.pattern == "reduce" and case.reducer == "Sum" and isinstance(ref[1], float)
    if case.pattern == "reduce" and case.reducer in ("Min", "Max") and isinstance(ref[1], float):
        # which of two equal values (0.0 and -0.0) a Min/Max keeps, and whether a NaN survives, depend on the
        # order of the joins, which differs between spaces (docs/numerics.md): compare as numbers, NaN aside
        if not (math.isnan(ref[1]) or math.isnan(got[1]) or ref[1] == got[1]):
            out.append(f"result {got[1]!r}, Debug {ref[1]!r}")
    elif not _same_scalar(ref[1], got[1], loose):
        out.append(f"result {got[1]!r}, Debug {ref[1]!r}")
    for k, x in ref[2].items():
        y = got[2][k]
        if x.dtype != y.dtype or x.shape != y.shape:
            out.append(f"{k}: dtype/shape {y.dtype}{y.shape}, Debug {x.dtype}{x.shape}")
            continue
        bad = np.flatnonzero(mismatches(x, y))
        if bad.size:
            out.append(f"{k}{bad[:5].tolist()} = {y.ravel()[bad[:5]].tolist()}, Debug {x.ravel()[bad[:5]].tolist()}")
    return out
