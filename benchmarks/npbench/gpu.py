"""npbench kernels on the GPU: kernelkit (@pk.jit, pk.Cuda) against CuPy and APPy, in one run.

    python benchmarks/npbench/gpu.py [--preset paper] [--kernels ...] [--repeat 10] [--appy-tests DIR] [--json F]
                                     [--limit 20] [--ref-limit 40]

Inputs are made by npbench's initializers and moved to the GPU once (CuPy arrays, which kernelkit uses in place);
each framework's result is validated against NumPy's on the host. At the paper preset NumPy takes minutes on a
few kernels (floyd_warshall, jacobi_2d: thousands of whole-array steps on one core): NumPy gets `--ref-limit`
seconds, and where it needs more, CuPy's result (the same npbench code, on the device) is the reference, noted in
the row. Every framework gets `--limit` seconds too; one stopped there counts as taking the limit (a lower bound
of its time: the ratio against it understates kernelkit's lead) and is marked so. Times are medians of `repeat`
runs with fresh device copies made outside the timed region and the device synchronized inside it. CuPy runs
npbench's NumPy code with `np` bound to CuPy (what npbench's CuPy versions are). APPy runs the `kernel_appy`
functions of APPy's own npbench tests when `--appy-tests` names that folder (habanero-lab/APPy
tests/integration/triton/npbench) and `import appy` works.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from bench_info import BENCHMARKS  # noqa: E402
from harness import HERE, Alarm, OverLimit, fresh, function, geomean, inputs, outputs, run  # noqa: E402


def cupy_version(name: str, cupy):
    rel, module, func = BENCHMARKS[name][:3]
    src = open(os.path.join(HERE, rel, f"{module}_numpy.py")).read()
    ns: dict = {"__name__": f"npb_{module}_cupy"}
    exec(compile(src.replace("import numpy as np", ""), f"{module}_cupy", "exec"), dict(ns, np=cupy), ns)  # noqa: S102
    return ns[func]


def speedups(rows: list, peer: str) -> list[float]:
    """kernelkit's speedups over `peer` on the rows where kernelkit's result is valid and the peer's is too (a
    peer stopped at the time limit counts as taking the limit: its result is not checked); an invalid result's
    time is not a time of the computation."""
    out = []
    for r in rows:
        p = r.get(peer, {})
        kk = r["kernelkit"]
        if "median_s" in p and "median_s" in kk and kk.get("valid") and (p.get("valid") or p.get("lower_bound")):
            out.append(p["median_s"] / r["kernelkit"]["median_s"])
    return out


def reference(name, values, names, cupy, limit, to_host, copy=np.copy):
    """npbench's reference outputs (on the host): the NumPy code run on `values` (NumPy arrays) or, given CuPy
    arrays and copy=cupy.copy, the same code on CuPy; None when it outruns `limit` seconds."""
    args = fresh(values, names, copy)
    fn = function(name, "_numpy") if copy is np.copy else cupy_version(name, cupy)
    try:
        with Alarm(limit):
            out = outputs(name, args, fn(*args))
            cupy.cuda.runtime.deviceSynchronize()
    except OverLimit:
        cupy.cuda.runtime.deviceSynchronize()
        return None
    return [np.copy(to_host(x)) for x in out]


def appy_version(name: str, folder: str | None, returns: bool = True):
    """APPy's `kernel_appy` of its own npbench test `test_<name>.py`, run as APPy 0.2.0 (the PyPI release) runs
    it: the test module is loaded with `np` bound to CuPy and APPy's tensor library set to CuPy, so the arrays
    it allocates (`np.empty(..., dtype=x.dtype)`) are device arrays, and each `X.shape[d]` in the function is
    read into a variable first, as APPy 0.2.0 asks ("please pass only variable names to loop bounds"; its
    tests on GitHub are newer than the release). `returns=False` drops the return value where npbench's NumPy
    version returns nothing (APPy returns the arrays it updated in place)."""
    if not folder:
        return None
    path = os.path.join(folder, f"test_{name}.py")
    if not os.path.exists(path):
        return None
    try:
        import appy

        appy.config.tensorlib = "cupy"
        src = appy_source(open(path).read())
        tmp = tempfile.mkdtemp(prefix="kk-appy-")
        mod_path = os.path.join(tmp, f"appy_{name}.py")
        with open(mod_path, "w") as f:
            f.write(src)
        spec = importlib.util.spec_from_file_location(f"appy_{name}", mod_path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - APPy that cannot load its test module drops out of this row
        print(f"APPy's {os.path.basename(path)} does not load: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
        return None
    call = getattr(mod, "_kk_call", None)
    if call is None:
        return None

    def run(*args):
        r = call(*args)
        if not returns:
            return None
        return tuple(_cupy(x) for x in r) if isinstance(r, tuple) else _cupy(r)

    return run


def appy_source(src: str) -> str:
    """APPy's test module as APPy 0.2.0 compiles it (see appy_version), with `_kk_call` appended: the caller of
    the APPy function from the module's own globals (APPy resolves a program's globals from its caller's frame)."""
    import ast as pyast

    tree = pyast.parse(src)
    lines = src.splitlines()
    funcs = [
        n
        for n in tree.body
        if isinstance(n, pyast.FunctionDef) and any("appy" in pyast.unparse(d) for d in n.decorator_list)
    ]
    if not funcs:
        return src
    fn = next((f for f in funcs if f.name == "kernel_appy"), funcs[0])
    pat = re.compile(r"\b([A-Za-z_]\w*)\.shape\[(\d+)\]")
    first, last = fn.lineno - 1, fn.end_lineno
    header = first
    while not lines[header].rstrip().endswith(":"):
        header += 1
    found: dict[str, str] = {}
    for k in range(header + 1, last):
        for m in pat.finditer(lines[k]):
            found[f"{m.group(1)}_shape_{m.group(2)}"] = m.group(0)
        lines[k] = pat.sub(lambda m: f"{m.group(1)}_shape_{m.group(2)}", lines[k])
    indent = " " * fn.body[0].col_offset
    lines[header + 1 : header + 1] = [f"{indent}{var} = {expr}" for var, expr in found.items()]
    out = "\n".join(lines).replace("import numpy as np", "import cupy as np")
    return out + f"\n\n\ndef _kk_call(*args):\n    return {fn.name}(*args)\n"


def _cupy(x):
    import cupy

    if type(x).__module__.startswith("torch"):
        return cupy.asarray(x)
    return x


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="paper", choices=["S", "M", "paper"])
    ap.add_argument("--kernels", default=",".join(BENCHMARKS))
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--appy-tests", default=os.environ.get("APPY_TESTS"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--limit", type=float, default=20.0, help="seconds each framework may take")
    ap.add_argument("--ref-limit", type=float, default=40.0, help="seconds the NumPy (then CuPy) reference may take")
    a = ap.parse_args(argv)
    import cupy

    import kernelkit as pk

    pk.set_default_space(pk.Cuda)
    sync = cupy.cuda.runtime.deviceSynchronize

    def to_host(x):
        return x.get() if isinstance(x, cupy.ndarray) else np.asarray(x)

    rows = []
    print(
        f"{'kernel':16} {'cupy ms':>10} {'appy ms':>10} {'kk ms':>10} {'kk/cupy':>8} {'kk/appy':>8}"
        f" {'kk 1st s':>9}  valid"
    )
    for name in a.kernels.split(","):
        values, names = inputs(name, a.preset)
        dev = {k: cupy.asarray(v) if isinstance(v, np.ndarray) else v for k, v in values.items()}
        row: dict = {"kernel": name, "preset": a.preset, "reference": "numpy"}
        ref = reference(name, values, names, cupy, a.ref_limit, to_host)
        if ref is None:
            ref, row["reference"] = reference(name, dev, names, cupy, a.ref_limit, to_host, cupy.copy), "cupy"
        # APPy last: a Triton kernel of APPy's that faults (illegal address) poisons the CUDA context of the
        # process, and every framework after it would fail
        frameworks = [
            ("cupy", cupy_version(name, cupy)),
            ("kernelkit", function(name, "_kernelkit")),
            ("appy", appy_version(name, a.appy_tests, returns=ref is None or len(ref) > len(BENCHMARKS[name][6]))),
        ]
        for label, fn in frameworks:
            if fn is None:
                continue
            try:
                row[label] = run(
                    fn, dev, names, ref, name, a.repeat, copy=cupy.copy, sync=sync, to_host=to_host, limit=a.limit
                ).__dict__
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # noqa: BLE001 - a peer that fails (APPy exits on what it cannot compile) is reported
                row[label] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
        if ref is None:
            row["kernelkit"].update(valid=False, why="no reference: NumPy and CuPy both outran the limit")
        kk = row["kernelkit"].get("median_s", float("nan"))
        cu = row.get("cupy", {}).get("median_s", float("nan"))
        ap_ = row.get("appy", {}).get("median_s", float("nan"))
        valid = row["kernelkit"].get("valid", False)
        print(
            f"{name:16} {cu * 1e3:10.3f} {ap_ * 1e3:10.3f} {kk * 1e3:10.3f} {cu / kk:8.2f} {ap_ / kk:8.2f} "
            f"{row['kernelkit'].get('first_s', float('nan')):9.3f}  "
            f"{'yes' if valid else 'NO ' + row['kernelkit'].get('why', row['kernelkit'].get('error', ''))}"
            f"{'' if row['reference'] == 'numpy' else ' (against CuPy)'}"
            f"{''.join(f' [{p} > limit]' for p in ('cupy', 'appy') if row.get(p, {}).get('lower_bound'))}",
            flush=True,
        )
        rows.append(row)
    ok = [r for r in rows if "median_s" in r["kernelkit"]]
    g_cupy, g_appy = (geomean(speedups(ok, peer)) for peer in ("cupy", "appy"))
    print(f"geomean speedup of kernelkit: {g_cupy:.2f}x over CuPy, {g_appy:.2f}x over APPy")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "geomean_cupy": g_cupy, "geomean_appy": g_appy}, f, indent=1)
    return 0 if all(r["kernelkit"].get("valid") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
