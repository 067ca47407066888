"""Target DGEMM on the GPU: the PyOMP program (`target teams distribute parallel for collapse(2)` with `map`
clauses, programs.py) on kernelkit and on PyOMP, against hand-written CUDA and CuPy's matmul, in one run.

    python benchmarks/openmp/gpu.py [--order 4096] [--repeats 5] [--rounds 3] [--no-pyomp | --pyomp-python PY] \
        [--json out.json] [--markdown out.md]
    python benchmarks/openmp/gpu.py --device host --order 256 --no-pyomp   # no GPU: the target regions on CPU
                                                                           # threads, the CUDA kernels NVRTC-compiled

Measured per contender (best of `--rounds`):
- `per product`: `target_dgemm_iters(A, B, C, R + 1)` minus `target_dgemm_iters(A, B, C, 1)`, over R (R =
  `--repeats`): one `target data` region maps A, B and C once, so the difference is R kernels, no transfers.
  CUDA and CuPy: R launches on device buffers uploaded once, then a synchronization, over R.
- `with transfers`: one call of `target_dgemm` (map(to: A, B) map(from: C) on the region itself): copies in,
  one product, copy out. CUDA and CuPy: upload A and B, one product, download C.
The OpenMP programs run in fresh processes (kernelkit with this interpreter, PyOMP with `--pyomp-python`;
skipped with a note when it cannot import numba.openmp, or with `--no-pyomp`). `cuda` is one thread per
element of C, the k loop in the thread (what the target region's collapse(2) asks for); `cuda-tiled` is 16 x
16 shared-memory tiles (benchmarks/kkbench/csrc/cuda_reference.cu, NVRTC through kkbench.hooks); `cupy` is
`cp.matmul` (cuBLAS). Every result is checked exactly (the tutorial's integer matrices). Exit status 1 when a
result is wrong or a contender failed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # benchmarks/: kkbench

from programs_data import dgemm_check, dgemm_inputs  # noqa: E402


def _check(C: np.ndarray, order: int, times: int) -> tuple[bool, str]:
    return dgemm_check(C / times if times != 1 else C, order)


# ---- the OpenMP programs, one per fresh process ------------------------------------------------------------


def worker(backend: str, order: int, repeats: int, rounds: int) -> dict[str, Any]:
    os.environ["OMPBENCH_BACKEND"] = backend
    t0 = time.perf_counter()
    import programs

    out: dict[str, Any] = {"contender": backend, "import_s": time.perf_counter() - t0}
    if backend == "kernelkit":
        from kernelkit.openmp import omp_get_num_devices  # type: ignore[attr-defined]
    else:
        from numba.openmp import omp_get_num_devices  # type: ignore[import-not-found]
    out["num_devices"] = int(omp_get_num_devices())
    A, B, C = dgemm_inputs(order)
    t0 = time.perf_counter()
    programs.target_dgemm(A, B, C)
    out["first_s"] = time.perf_counter() - t0
    ok, detail = _check(C, order, 1)
    out["valid"], out["detail"] = ok, detail
    once: list[float] = []
    per: list[float] = []
    t0 = time.perf_counter()
    programs.target_dgemm_iters(A, B, np.zeros_like(C), 1)  # compile the second program
    out["first_iters_s"] = time.perf_counter() - t0
    for _ in range(rounds):
        C.fill(np.nan)
        t0 = time.perf_counter()
        programs.target_dgemm(A, B, C)
        once.append(time.perf_counter() - t0)
        ok, detail = _check(C, order, 1)
        out["valid"] = out["valid"] and ok
        C.fill(0.0)
        t0 = time.perf_counter()
        programs.target_dgemm_iters(A, B, C, 1)
        t1 = time.perf_counter() - t0
        C.fill(0.0)
        t0 = time.perf_counter()
        programs.target_dgemm_iters(A, B, C, repeats + 1)
        tr = time.perf_counter() - t0
        per.append(max(tr - t1, 0.0) / repeats)
        ok, detail2 = _check(C, order, repeats + 1)
        out["valid"] = out["valid"] and ok
        if not ok:
            out["detail"] = detail2
    out["with_transfers_s"], out["per_product_s"] = once, per
    return out


def run_worker(python: str, backend: str, a: argparse.Namespace) -> dict[str, Any]:
    cmd = [python, str(Path(__file__).resolve()), "--worker", backend, "--order", str(a.order)]
    cmd += ["--repeats", str(a.repeats), "--rounds", str(a.rounds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"contender": backend, "valid": False, "error": f"exit {proc.returncode}: {proc.stderr[-3000:]}"}


def pyomp_python(a: argparse.Namespace) -> tuple[str | None, str]:
    if a.no_pyomp:
        return None, "--no-pyomp"
    python = a.pyomp_python or sys.executable
    proc = subprocess.run([python, "-c", "import numba.openmp"], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return None, f"{python} cannot import numba.openmp (pip install pyomp; or --pyomp-python PATH)"
    return python, python


# ---- hand-written CUDA and CuPy, in this process -------------------------------------------------------------


def cuda_versions(a: argparse.Namespace, A: np.ndarray, B: np.ndarray) -> dict[str, Any]:
    from kkbench.cudareference import Gpu

    out: dict[str, Any] = {}
    gpu = Gpu()
    dev = gpu.device
    n = a.order
    nbytes = A.nbytes
    pa, pb, pc = dev.alloc(nbytes), dev.alloc(nbytes), dev.alloc(nbytes)
    host_c = np.empty_like(A)
    try:
        geometry = {
            "cuda": ("kkref_dgemm", ((n + 31) // 32, (n + 7) // 8), (32, 8)),
            "cuda-tiled": ("kkref_dgemm_tiled", ((n + 15) // 16, (n + 15) // 16), (16, 16)),
        }
        args = [ctypes.c_void_p(pa), ctypes.c_void_p(pb), ctypes.c_void_p(pc), ctypes.c_int64(n)]
        for label, (kernel, grid, block) in geometry.items():
            fn = gpu.function(kernel)
            dev.upload(pa, A)
            dev.upload(pb, B)
            dev.launch(fn, grid, block, args)  # warm-up
            dev.synchronize()
            per: list[float] = []
            once: list[float] = []
            for _ in range(a.rounds):
                dev.synchronize()
                t0 = time.perf_counter()
                for _ in range(a.repeats):
                    dev.launch(fn, grid, block, args)
                dev.synchronize()
                per.append((time.perf_counter() - t0) / a.repeats)
                t0 = time.perf_counter()
                dev.upload(pa, A)
                dev.upload(pb, B)
                dev.launch(fn, grid, block, args)
                dev.download(host_c, pc)
                once.append(time.perf_counter() - t0)
            ok, detail = dgemm_check(host_c, n)
            out[label] = {"per_product_s": per, "with_transfers_s": once, "valid": ok, "detail": detail}
        out["_info"] = gpu.info()
    finally:
        for p in (pa, pb, pc):
            dev.free(p)
    return out


def cupy_version(a: argparse.Namespace, A: np.ndarray, B: np.ndarray) -> dict[str, Any]:
    import cupy as cp  # type: ignore[import-not-found]

    dA, dB = cp.asarray(A), cp.asarray(B)
    dC = cp.empty_like(dA)
    cp.matmul(dA, dB, out=dC)
    cp.cuda.runtime.deviceSynchronize()
    per: list[float] = []
    once: list[float] = []
    for _ in range(a.rounds):
        cp.cuda.runtime.deviceSynchronize()
        t0 = time.perf_counter()
        for _ in range(a.repeats):
            cp.matmul(dA, dB, out=dC)
        cp.cuda.runtime.deviceSynchronize()
        per.append((time.perf_counter() - t0) / a.repeats)
        t0 = time.perf_counter()
        hC = cp.asnumpy(cp.matmul(cp.asarray(A), cp.asarray(B)))
        once.append(time.perf_counter() - t0)
    ok, detail = dgemm_check(hC, a.order)
    return {"per_product_s": per, "with_transfers_s": once, "valid": ok, "detail": detail, "version": cp.__version__}


# ---- the report ----------------------------------------------------------------------------------------------


def summarize(results: dict[str, Any], order: int) -> dict[str, dict[str, Any]]:
    flops = 2.0 * order**3
    rows: dict[str, dict[str, Any]] = {}
    for name, r in results.items():
        if name.startswith("_") or not isinstance(r, dict):
            continue
        row: dict[str, Any] = {"valid": bool(r.get("valid")), "detail": r.get("detail") or r.get("error")}
        if r.get("per_product_s"):
            best = min(r["per_product_s"])
            row["per_product_s"] = best
            row["gflops"] = flops / best * 1e-9 if best > 0 else None
        if r.get("with_transfers_s"):
            row["with_transfers_s"] = min(r["with_transfers_s"])
        if "first_s" in r:
            row["first_call_s"] = r["first_s"]
        rows[name] = row
    ref = rows.get("cuda", {}).get("per_product_s")
    for row in rows.values():
        mine = row.get("per_product_s")
        row["vs_cuda"] = ref / mine if ref and mine else None
    return rows


def markdown(report: dict[str, Any]) -> str:
    o = report["options"]
    lines = [
        f"# Target DGEMM, order {o['order']} ({report.get('device', '?')})",
        "",
        f"Best of {o['rounds']} rounds; per product: {o['repeats']} products on data already on the device.",
        "",
        "| version | per product ms | GFLOP/s | vs cuda | one call with transfers ms | first call s |",
        "|---|---|---|---|---|---|",
    ]

    def f(v: float | None, scale: float = 1.0, fmt: str = "{:.2f}") -> str:
        return "—" if v is None else fmt.format(v * scale)

    for name, row in report["summary"].items():
        if not row["valid"]:
            why = str(row.get("detail") or "").strip().splitlines()[-1:] or ["?"]
            lines.append(f"| {name} | wrong or failed: {why[0][:200]} | | | | |")
            continue
        lines.append(
            f"| {name} | {f(row.get('per_product_s'), 1e3)} | {f(row.get('gflops'), 1.0, '{:.0f}')} | "
            f"{f(row.get('vs_cuda'), 1.0, '{:.2f}×')} | {f(row.get('with_transfers_s'), 1e3)} | "
            f"{f(row.get('first_call_s'), 1.0, '{:.3f}')} |"
        )
    lines += [
        "",
        "vs cuda: the hand-written one-thread-per-element kernel's time over the version's (above 1: faster).",
    ]
    for note in report.get("notes", []):
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--order", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5, help="products per timed sample (default 5)")
    ap.add_argument("--rounds", type=int, default=3, help="samples; the best is reported (default 3)")
    ap.add_argument("--device", choices=["gpu", "host"], default="gpu", help="host: no CUDA or CuPy versions")
    ap.add_argument("--no-pyomp", action="store_true")
    ap.add_argument("--pyomp-python", default=None)
    ap.add_argument("--no-cupy", action="store_true")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--worker", choices=["kernelkit", "pyomp"], default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.worker, a.order, a.repeats, a.rounds)))
        return 0

    notes: list[str] = []
    results: dict[str, Any] = {"kernelkit": run_worker(sys.executable, "kernelkit", a)}
    py, why = pyomp_python(a)
    if py:
        results["pyomp"] = run_worker(py, "pyomp", a)
    else:
        notes.append(f"PyOMP skipped: {why}")
    A, B, _ = dgemm_inputs(a.order)
    device = "host CPU threads"
    if a.device == "gpu":
        try:
            cuda = cuda_versions(a, A, B)
            info = cuda.pop("_info", {})
            device = f"{info.get('name', '?')} ({info.get('arch', '?')})"
            results.update(cuda)
        except Exception as e:  # noqa: BLE001 - no GPU here: reported, the OpenMP programs still count
            notes.append(f"hand-written CUDA skipped: {type(e).__name__}: {str(e)[:300]}")
        if not a.no_cupy:
            try:
                results["cupy"] = cupy_version(a, A, B)
            except Exception as e:  # noqa: BLE001
                notes.append(f"CuPy skipped: {type(e).__name__}: {str(e)[:300]}")
    nd = results["kernelkit"].get("num_devices")
    if nd == 0 and a.device == "gpu":
        notes.append("kernelkit.openmp sees no GPU (omp_get_num_devices() == 0): its target regions ran on the host")
    report = {
        "options": {k: v for k, v in vars(a).items() if k not in ("json", "markdown", "worker")},
        "device": device,
        "results": results,
        "summary": summarize(results, a.order),
        "notes": notes,
    }
    text = markdown(report)
    print(text)
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1) + "\n")
    if a.markdown:
        Path(a.markdown).write_text(text)
    bad = [name for name, row in report["summary"].items() if not row["valid"]]
    if bad:
        print("wrong or failed:", ", ".join(bad), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
