"""One contender in a fresh process: run the programs, validate, time, print one JSON object on stdout.

    python worker.py --contender kernelkit|pyomp|c --programs pi_loop,dgemm --threads 2 --repeats 3 \
        --steps 100000000 --order 1000 [--cpus 0,1] [--lib omp_reference.so]

Run by run.py (never imported by it): kernelkit's side with the repository's interpreter, PyOMP's with
`--pyomp-python`, C with either (ctypes). The process pins itself to `--cpus` before anything starts a thread,
so every contender runs on the same cores. Per program: the first call's time (compilation, or loading from
the cache, plus one run), `repeats` timed calls (perf_counter around the call, which returns the result: the
work is complete; also the process's CPU time of the call, all threads, which a loaded machine inflates
less), the value and whether it validated. A program that fails is reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contender", required=True, choices=["kernelkit", "pyomp", "c"])
    ap.add_argument("--programs", default="pi_loop,pi_spmd,pi_tasks,pi_tasks_flat,dgemm")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=100_000_000)
    ap.add_argument("--order", type=int, default=1000)
    ap.add_argument("--cpus", default=None, help="comma-separated CPU ids to pin to")
    ap.add_argument("--lib", default=None, help="the compiled omp_reference.c (contender c)")
    return ap.parse_args(argv)


class _C:
    """The C reference through ctypes, with the programs' call signatures."""

    def __init__(self, lib_path: str):
        import ctypes

        lib = ctypes.CDLL(lib_path)
        i64, f64, p = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p
        for name in ("pi_loop", "pi_spmd", "pi_tasks", "pi_tasks_flat"):
            fn = getattr(lib, "omp_ref_" + name)
            fn.argtypes, fn.restype = [i64], f64
        lib.omp_ref_dgemm.argtypes, lib.omp_ref_dgemm.restype = [p, p, p, i64], None
        lib.omp_ref_set_threads.argtypes = [ctypes.c_int]
        self.lib = lib

    def set_threads(self, n: int) -> None:
        self.lib.omp_ref_set_threads(n)

    def program(self, name: str):
        if name == "dgemm":
            fn = self.lib.omp_ref_dgemm
            return lambda A, B, C: fn(A.ctypes.data, B.ctypes.data, C.ctypes.data, A.shape[0])
        return getattr(self.lib, "omp_ref_" + name)


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    if a.cpus:
        os.sched_setaffinity(0, {int(c) for c in a.cpus.split(",")})
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    os.environ["KERNELKIT_NUM_THREADS"] = str(a.threads)
    t_import = time.perf_counter()
    if a.contender == "c":
        if not a.lib:
            raise SystemExit("worker: --contender c needs --lib")
        sys.path.insert(0, HERE)
        c = _C(a.lib)
        c.set_threads(a.threads)
        get = c.program
        from programs_data import dgemm_check, dgemm_inputs, pi_expected
    else:
        os.environ["OMPBENCH_BACKEND"] = a.contender
        sys.path.insert(0, HERE)
        import programs

        if a.contender == "pyomp":
            from numba.openmp import omp_set_num_threads  # type: ignore[import-not-found]
        else:
            from kernelkit.openmp import omp_set_num_threads  # type: ignore[attr-defined]
        omp_set_num_threads(a.threads)

        def get(name: str):
            return getattr(programs, name)

        from programs_data import dgemm_check, dgemm_inputs, pi_expected
    import_s = time.perf_counter() - t_import

    out: dict = {"contender": a.contender, "threads": a.threads, "import_s": import_s, "programs": {}}
    for name in a.programs.split(","):
        rec: dict = {"times": [], "cpu_times": []}
        out["programs"][name] = rec
        try:
            fn = get(name)
            if name == "dgemm":
                A, B, C = dgemm_inputs(a.order)
                rec["size"] = a.order

                def call(fn=fn, A=A, B=B, C=C):
                    C.fill(0.0)
                    c0, t0 = time.process_time(), time.perf_counter()
                    fn(A, B, C)
                    t1, c1 = time.perf_counter(), time.process_time()
                    return t1 - t0, C, c1 - c0

                def check(C, order=a.order):
                    return dgemm_check(C, order)
            else:
                rec["size"] = a.steps

                def call(fn=fn, n=a.steps):
                    c0, t0 = time.process_time(), time.perf_counter()
                    v = fn(n)
                    t1, c1 = time.perf_counter(), time.process_time()
                    return t1 - t0, v, c1 - c0

                def check(v, n=a.steps):
                    want, tol = pi_expected(n)
                    err = abs(float(v) - want)
                    return err <= tol, f"pi = {float(v)!r}, |pi - (math.pi + h^2/12)| = {err:.2e} (tol {tol:.1e})"

            first, value, _ = call()
            rec["first_s"] = first
            ok, detail = check(value)
            rec["valid"], rec["detail"] = bool(ok), detail
            if not ok:
                continue
            for _ in range(a.repeats):
                dt, value, cpu = call()
                rec["times"].append(dt)
                rec["cpu_times"].append(cpu)
            ok, detail = check(value)  # the last timed call's result too
            rec["valid"], rec["detail"] = bool(ok), detail
        except Exception as e:  # noqa: BLE001 - reported in the table, the other programs still run
            rec["valid"] = False
            rec["error"] = f"{type(e).__name__}: {e}"[:2000]
            rec["traceback"] = traceback.format_exc()[-4000:]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
