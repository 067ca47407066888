"""The seeds' PyOMP programs (pi by loop, SPMD and tasks; DGEMM) on kernelkit, in C with OpenMP, and on PyOMP,
in one run on the same cores with the same thread count.

    python benchmarks/openmp/run.py [--threads 2] [--rounds 5] [--pyomp-python /path/to/python] \
        [--json out.json] [--markdown out.md]

Contenders: `kernelkit` (programs.py through `kernelkit.openmp`), `c` (csrc/omp_reference.c, compiled here with
the C references' compiler and flags: kernelkit's OpenMP command, as in benchmarks/kkbench), `pyomp` (the same
programs.py through `numba.openmp`, in the interpreter `--pyomp-python`; skipped with a note when it cannot
import numba.openmp). Each round starts one fresh process per contender (worker.py) that runs every program:
its first call (compilation, or loading from the cache, plus one run), then `--repeats` timed calls. Round 1
runs on empty caches (cold compile), later rounds on the caches round 1 filled (warm start); the contenders'
order rotates from round to round. Reported: the best time of all rounds (the tutorial's "best of 5"), the
median, and speed ratios (C's time / kernelkit's, PyOMP's time / kernelkit's: above 1 kernelkit is faster).
Targets (issue 13): kernelkit >= 0.90 x C and >= 1.0 x PyOMP. Exit status 1 when a result is wrong or a
contender failed. OpenMP threads sleep between regions (OMP_WAIT_POLICY=passive, for everyone) unless --spin.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/: kkbench.hooks, the C references' compiler

PROGRAMS = ("pi_loop", "pi_spmd", "pi_tasks", "pi_tasks_flat", "dgemm")
CONTENDERS = ("kernelkit", "c", "pyomp")
TARGET_C = 0.90
TARGET_PYOMP = 1.0


def compile_c(workdir: str) -> dict[str, Any]:
    """csrc/omp_reference.c as C with kernelkit's OpenMP compiler and flags (the C references' command)."""
    from kkbench.hooks import host_compiler

    found = host_compiler()
    if found is None:
        raise SystemExit("run.py: no C compiler found (set KERNELKIT_CXX, or install g++ or clang++)")
    out = os.path.join(workdir, "omp_reference.so")
    cmd = [found.path, "-x", "c", "-std=c11", *found.flags, str(HERE / "csrc" / "omp_reference.c"), "-o", out]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run.py: {shlex.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return {"lib": out, "command": shlex.join(cmd), "compile_s": elapsed, "compiler": found.as_dict()}


def pyomp_status(python: str | None) -> tuple[str | None, str]:
    """(interpreter, version) when `python` can import numba.openmp, else (None, why not)."""
    if not python:
        return None, "no --pyomp-python given (pip install pyomp in a venv and pass its python)"
    if not shutil.which(python) and not os.path.exists(python):
        return None, f"--pyomp-python {python}: not found"
    probe = "import importlib.metadata as m, numba.openmp; print(m.version('pyomp'), m.version('numba'))"
    proc = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return None, f"{python} cannot import numba.openmp: {proc.stderr.strip().splitlines()[-1:]}"
    pyomp, numba = proc.stdout.split()
    return python, f"pyomp {pyomp}, numba {numba}"


def run_worker(python: str, contender: str, a: argparse.Namespace, env: dict[str, str], lib: str | None) -> dict:
    cmd = [
        python,
        str(HERE / "worker.py"),
        "--contender",
        contender,
        "--programs",
        ",".join(a.programs),
        "--threads",
        str(a.threads),
        "--repeats",
        str(a.repeats),
        "--steps",
        str(a.steps),
        "--order",
        str(a.order),
        "--cpus",
        ",".join(map(str, a.cpus)),
    ]
    if lib:
        cmd += ["--lib", lib]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=a.timeout)
    wall = time.perf_counter() - t0
    try:
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"contender": contender, "failed": f"exit {proc.returncode}: {proc.stderr.strip()[-3000:]}"}
    rec["process_s"] = wall
    if proc.returncode != 0:
        rec["failed"] = f"exit {proc.returncode}: {proc.stderr.strip()[-3000:]}"
    return rec


def wait_quiet(limit: float, wait_s: float) -> float:
    """Sleep until the 1-minute load average is at most `limit` or `wait_s` passed; the seconds waited."""
    t0 = time.monotonic()
    while os.getloadavg()[0] > limit and time.monotonic() - t0 < wait_s:
        time.sleep(5.0)
    return time.monotonic() - t0


def summarize(rounds: dict[str, list[dict]], c_compile_s: float) -> dict[str, dict[str, Any]]:
    """contender -> program -> best, median, samples, cold and warm first-call overheads, validity."""
    out: dict[str, dict[str, Any]] = {}
    for contender, recs in rounds.items():
        per: dict[str, Any] = {}
        for name in PROGRAMS:
            samples: list[float] = []
            cpu: list[float] = []
            firsts: list[float] = []
            valid = True
            detail = ""
            error = None
            seen = False
            for rec in recs:
                p = rec.get("programs", {}).get(name)
                if p is None:
                    if "failed" in rec:
                        valid, error = False, rec["failed"]
                    continue
                seen = True
                samples += p.get("times", [])
                cpu += p.get("cpu_times", [])
                if "first_s" in p:
                    firsts.append(p["first_s"])
                valid = valid and bool(p.get("valid"))
                detail = p.get("detail", detail)
                error = p.get("error", error)
            if not seen and error is None:
                continue
            row: dict[str, Any] = {"valid": valid and bool(samples), "detail": detail, "samples": samples}
            if error:
                row["error"] = error
            if samples:
                best = min(samples)
                row["best_s"] = best
                row["median_s"] = statistics.median(samples)
                row["cpu_best_s"] = min(cpu) if cpu else None
                if firsts:
                    # the first call minus a run: compilation (or loading from the cache) and thread startup
                    row["cold_s"] = max(firsts[0] - best, 0.0) + (c_compile_s if contender == "c" else 0.0)
                    row["warm_s"] = statistics.median([max(f - best, 0.0) for f in firsts[1:]]) if firsts[1:] else None
            per[name] = row
        out[contender] = per
    return out


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """program -> {vs_c, vs_pyomp}: the other's best time over kernelkit's (above 1: kernelkit faster)."""
    out: dict[str, dict[str, float | None]] = {}
    kk = summary.get("kernelkit", {})
    for name in PROGRAMS:
        mine = kk.get(name, {}).get("best_s")
        row: dict[str, float | None] = {}
        for other, key in (("c", "vs_c"), ("pyomp", "vs_pyomp")):
            theirs = summary.get(other, {}).get(name, {}).get("best_s")
            row[key] = theirs / mine if mine and theirs else None
        mine_cpu = kk.get(name, {}).get("cpu_best_s")
        theirs_cpu = summary.get("c", {}).get(name, {}).get("cpu_best_s")
        row["cpu_vs_c"] = theirs_cpu / mine_cpu if mine_cpu and theirs_cpu else None
        out[name] = row
    return out


def machine(threads: int, cpus: list[int]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "logical_cpus": os.cpu_count(),
        "cpus_used": cpus,
        "threads": threads,
        "load_average": os.getloadavg(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import kernelkit

        info["kernelkit"] = kernelkit.__version__
    except Exception:  # noqa: BLE001 - the report says it is missing
        info["kernelkit"] = None
    return info


def _ms(row: dict[str, Any] | None, key: str = "best_s") -> str:
    if not row:
        return "—"
    if not row.get("valid"):
        return "FAILED" if row.get("error") else "wrong"
    v = row.get(key)
    return f"{v * 1e3:.1f}" if v is not None else "—"


def _ratio(v: float | None, target: float) -> str:
    return "—" if v is None else f"{v:.2f}× {'✓' if v >= target else '✗'}"


def _s(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def markdown(report: dict[str, Any]) -> str:
    s, r, m, o = report["summary"], report["ratios"], report["machine"], report["options"]
    lines = [
        f"# PyOMP programs: kernelkit vs C/OpenMP vs PyOMP ({m['threads']} threads, cores {m['cpus_used']})",
        "",
        f"{m.get('cpu', '?')}, {m['logical_cpus']} logical CPUs, load average before the run "
        f"{m['load_average'][0]:.2f}. pi: {o['steps']:,} steps; DGEMM: order {o['order']}. "
        f"{o['rounds']} rounds × {o['repeats']} calls, a fresh process per contender and round; best (median) ms.",
        f"C: `{report['c']['command']}`. PyOMP: {report['pyomp']}.",
        "",
        "| program | C/OpenMP ms | kernelkit ms | PyOMP ms | kernelkit vs C | kernelkit vs PyOMP | CPU time vs C |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in PROGRAMS:
        c, kk, py = (s.get(x, {}).get(name) for x in ("c", "kernelkit", "pyomp"))
        cells = [f"{_ms(x)} ({_ms(x, 'median_s')})" if x and x.get("valid") else _ms(x) for x in (c, kk, py)]
        lines.append(
            f"| {name} | {' | '.join(cells)} | {_ratio(r[name]['vs_c'], TARGET_C)} | "
            f"{_ratio(r[name]['vs_pyomp'], TARGET_PYOMP)} | "
            f"{'—' if r[name].get('cpu_vs_c') is None else format(r[name]['cpu_vs_c'], '.2f') + '×'} |"
        )
    lines += [
        "",
        "Ratios are the other's best time over kernelkit's (above 1: kernelkit is faster); targets ≥ 0.90× C and "
        "≥ 1.0× PyOMP. CPU time vs C: the same ratio of the best process CPU time of a call (all threads), which "
        "other work on a shared machine inflates less than the wall time.",
        "",
        "First call minus a run, seconds: cold (round 1, empty caches; C: the gcc build of the whole file plus "
        "its first call) and warm (later rounds, a new process on the filled cache: median).",
        "",
        "| program | kernelkit cold | kernelkit warm | PyOMP cold | PyOMP warm | C cold | C warm |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in PROGRAMS:
        cells = []
        for x in ("kernelkit", "pyomp", "c"):
            row = s.get(x, {}).get(name) or {}
            cells += [_s(row.get("cold_s")), _s(row.get("warm_s"))]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    imports = {x: statistics.median(v) for x, v in report.get("import_s", {}).items() if v}
    if imports:
        lines += ["", "Import of the compiler (median): " + ", ".join(f"{x} {v:.2f} s" for x, v in imports.items())]
    for note in report.get("notes", []):
        lines += ["", f"Note: {note}"]
    for x, per in s.items():
        for name, row in per.items():
            if not row.get("valid"):
                lines += ["", f"{x} {name}: {row.get('error') or row.get('detail')}"]
    return "\n".join(lines) + "\n"


def print_table(report: dict[str, Any]) -> None:
    s, r = report["summary"], report["ratios"]
    print(
        f"{'program':13} {'C ms':>9} {'kk ms':>9} {'PyOMP ms':>9} {'kk/C':>7} {'kk/PyOMP':>9}"
        f" {'kk cold':>8} {'kk warm':>8}"
    )
    for name in PROGRAMS:
        c, kk, py = (s.get(x, {}).get(name) for x in ("c", "kernelkit", "pyomp"))
        vc, vp = r[name]["vs_c"], r[name]["vs_pyomp"]
        print(
            f"{name:13} {_ms(c):>9} {_ms(kk):>9} {_ms(py):>9} {'—' if vc is None else f'{vc:.2f}':>7} "
            f"{'—' if vp is None else f'{vp:.2f}':>9} {_s((kk or {}).get('cold_s')):>8} "
            f"{_s((kk or {}).get('warm_s')):>8}"
        )
    for note in report.get("notes", []):
        print("note:", note)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    avail = sorted(os.sched_getaffinity(0))
    ap.add_argument("--threads", type=int, default=len(avail), help=f"OpenMP threads (default {len(avail)})")
    ap.add_argument("--cpus", default=None, help="CPU ids every contender is pinned to (default: the first N)")
    ap.add_argument("--rounds", type=int, default=5, help="fresh processes per contender (default 5)")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per program and process (default 3)")
    ap.add_argument("--steps", type=int, default=100_000_000, help="pi steps (default 10^8, the tutorial's)")
    ap.add_argument("--order", type=int, default=1000, help="DGEMM order (default 1000, the tutorial's)")
    ap.add_argument("--programs", default=",".join(PROGRAMS))
    ap.add_argument("--contenders", default=",".join(CONTENDERS))
    ap.add_argument("--pyomp-python", default=None, help="an interpreter with `pip install pyomp`")
    ap.add_argument("--spin", action="store_true", help="keep OpenMP's default wait policy (spinning threads)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per worker process")
    ap.add_argument(
        "--quiet-load",
        type=float,
        default=None,
        help="before starting, wait (up to --quiet-wait s) until the 1-minute load average is at most this",
    )
    ap.add_argument("--quiet-wait", type=float, default=300.0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None)
    a = ap.parse_args(argv)
    a.programs = [p for p in a.programs.split(",") if p]
    unknown = set(a.programs) - set(PROGRAMS)
    if unknown:
        ap.error(f"unknown programs {sorted(unknown)} (known: {', '.join(PROGRAMS)})")
    a.cpus = [int(c) for c in a.cpus.split(",")] if a.cpus else (avail * a.threads)[: max(a.threads, 1)]
    a.cpus = sorted(set(a.cpus))
    contenders = [c for c in a.contenders.split(",") if c]

    notes: list[str] = []
    if a.threads > len(avail):
        notes.append(f"{a.threads} threads on {len(avail)} CPUs: oversubscribed")
    pyomp_python, pyomp_info = pyomp_status(a.pyomp_python) if "pyomp" in contenders else (None, "not selected")
    if "pyomp" in contenders and pyomp_python is None:
        notes.append(f"PyOMP skipped: {pyomp_info}")
        contenders.remove("pyomp")

    work = tempfile.mkdtemp(prefix="kernelkit-ompbench-")
    try:
        c = compile_c(work) if "c" in contenders else {"command": "not run", "compile_s": 0.0}
        env = dict(os.environ)
        env["KERNELKIT_CACHE_DIR"] = os.path.join(work, "kernelkit-cache")
        env["NUMBA_CACHE_DIR"] = os.path.join(work, "numba-cache")
        env.pop("KERNELKIT_SPACE", None)
        if not a.spin:
            env["OMP_WAIT_POLICY"] = "passive"
        waited = wait_quiet(a.quiet_load, a.quiet_wait) if a.quiet_load is not None else 0.0
        if a.quiet_load is not None and os.getloadavg()[0] > a.quiet_load:
            notes.append(f"the load average stayed above {a.quiet_load} for {waited:.0f} s: started anyway")
        load_before = os.getloadavg()
        rounds: dict[str, list[dict]] = {x: [] for x in contenders}
        for r in range(a.rounds):
            order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
            for x in order:
                python = pyomp_python if x == "pyomp" else sys.executable
                assert python is not None
                load = os.getloadavg()[0]
                rec = run_worker(python, x, a, env, c.get("lib") if x == "c" else None)
                rec["load_before"] = load
                rounds[x].append(rec)
                state = "failed" if "failed" in rec else f"{rec.get('process_s', 0):.1f} s"
                print(f"round {r + 1}/{a.rounds} {x}: {state}", file=sys.stderr, flush=True)
        summary = summarize(rounds, float(c.get("compile_s", 0.0)))
        report: dict[str, Any] = {
            "options": {k: v for k, v in vars(a).items() if k not in ("json", "markdown")},
            "machine": dict(machine(a.threads, a.cpus), load_average=load_before, load_after=os.getloadavg()),
            "c": {k: v for k, v in c.items() if k != "lib"},
            "pyomp": pyomp_info,
            "summary": summary,
            "ratios": ratios(summary),
            "import_s": {x: [rec["import_s"] for rec in recs if "import_s" in rec] for x, recs in rounds.items()},
            "notes": notes,
            "rounds": rounds,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(report)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(report, indent=1) + "\n")
    if a.markdown:
        Path(a.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(a.markdown).write_text(markdown(report))
    bad = [f"{x} {n}" for x, per in summary.items() for n, row in per.items() if not row.get("valid")]
    if bad:
        print("wrong or failed:", ", ".join(bad), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
