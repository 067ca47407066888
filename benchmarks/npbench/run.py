"""npbench kernels on the CPU: kernelkit (@pk.jit, OpenMP) against NumPy and Numba (parallel=True), in one run.

    python benchmarks/npbench/run.py [--preset S] [--kernels gemm,spmv] [--repeat 10] [--json out.json]

Every framework's result is validated against NumPy's (npbench's rule); times are medians of `repeat` runs with
fresh input copies made outside the timed region (npbench's method). The table ends with the geometric mean of
kernelkit's speedup over Numba and over NumPy. OpenMP threads sleep between parallel regions
(OMP_WAIT_POLICY=passive, for every framework) unless --spin. Needs `pip install kernelkit[bench]` (Numba, SciPy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if "--spin" not in sys.argv:
    # On a machine shared with other processes, threads that spin between parallel regions get preempted and a
    # region's barrier then waits a whole time slice (milliseconds): every framework's OpenMP threads sleep instead.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from bench_info import BENCHMARKS  # noqa: E402
from harness import function, geomean, inputs, numba_functions, outputs, run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="S", choices=["S", "M", "paper"])
    ap.add_argument("--kernels", default=",".join(BENCHMARKS))
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--no-numba", action="store_true")
    ap.add_argument("--spin", action="store_true", help="keep OpenMP's default wait policy (spinning threads)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    rows = []
    print(
        f"{'kernel':16} {'numpy ms':>10} {'numba ms':>10} {'kk ms':>10} {'kk/numba':>9} {'kk/numpy':>9}"
        f" {'kk 1st s':>9} {'nb 1st s':>9}  valid"
    )
    for name in a.kernels.split(","):
        values, names = inputs(name, a.preset)
        ref_fn = function(name, "_numpy")
        ref_args = [
            v.copy() if hasattr(v, "copy") and not isinstance(v, (int, float)) else v
            for v in (values[n] for n in names)
        ]
        ref = [x.copy() for x in outputs(name, ref_args, ref_fn(*ref_args))]
        row = {"kernel": name, "preset": a.preset}
        row["numpy"] = run(ref_fn, values, names, None, name, a.repeat).__dict__
        nb = None
        for variant, fn in [] if a.no_numba else numba_functions(name):
            try:  # the first variant Numba compiles is the one timed (prange variants fail on some versions)
                row["numba"] = dict(run(fn, values, names, ref, name, a.repeat).__dict__, variant=variant)
                nb = fn
                break
            except Exception as e:  # noqa: BLE001 - a peer that fails to compile is reported, not fatal
                row.setdefault("numba_errors", []).append(f"{variant}: {type(e).__name__}: {str(e)[:200]}")
        row["kernelkit"] = run(function(name, "_kernelkit"), values, names, ref, name, a.repeat).__dict__
        kk, npy = row["kernelkit"]["median_s"], row["numpy"]["median_s"]
        nbt = row["numba"]["median_s"] if "numba" in row else float("nan")
        valid = row["kernelkit"]["valid"] and (nb is None or row["numba"]["valid"])
        why = row["kernelkit"]["why"] or (row.get("numba", {}).get("why") or "")
        print(
            f"{name:16} {npy * 1e3:10.3f} {nbt * 1e3:10.3f} {kk * 1e3:10.3f} {nbt / kk:9.2f} {npy / kk:9.2f}"
            f" {row['kernelkit']['first_s']:9.3f} {row.get('numba', {}).get('first_s', float('nan')):9.3f}"
            f"  {'yes' if valid else 'NO ' + why}",
            flush=True,
        )
        rows.append(row)
    g_nb = geomean([r["numba"]["median_s"] / r["kernelkit"]["median_s"] for r in rows if "numba" in r])
    g_np = geomean([r["numpy"]["median_s"] / r["kernelkit"]["median_s"] for r in rows])
    print(f"geomean speedup of kernelkit: {g_nb:.2f}x over Numba (parallel=True), {g_np:.2f}x over NumPy")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "geomean_numba": g_nb, "geomean_numpy": g_np}, f, indent=1)
    return 0 if all(r["kernelkit"]["valid"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
