"""benchmarks/openmp: the PyOMP programs' harness at tiny sizes. run.py must compile the C reference, run
kernelkit and C in fresh processes, validate both, and write JSON and Markdown with the ratios; without a PyOMP
interpreter it skips PyOMP with a note (not a failure); gpu.py on the host device runs the target programs on
CPU threads and validates them. (The measured runs are benchmarks/results/openmp-cpu.*.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "openmp"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the harness pins with sched_setaffinity")


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


def test_run_compares_kernelkit_with_c_and_writes_reports(tmp_path):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    proc = _run(
        str(BENCH / "run.py"),
        "--threads",
        "2",
        "--rounds",
        "2",
        "--repeats",
        "1",
        "--steps",
        "300000",
        "--order",
        "48",
        "--json",
        str(out_json),
        "--markdown",
        str(out_md),
    )
    report = json.loads(out_json.read_text())
    tasks = report["summary"]["kernelkit"]["pi_tasks"]
    # The tutorial's task pi needs an njit function calling an njit function (itself), which kernelkit.openmp
    # did not compile yet when this was written (/work/notes/ompbench-bugs.md #1): then the harness must say so
    # (the program FAILED with the compiler's error, exit status 1) and still time everything else.
    missing = not tasks["valid"] and "cannot be called inside a kernel" in tasks.get("error", "")
    assert proc.returncode == (1 if missing else 0), proc.stdout + proc.stderr
    if missing:
        assert "kernelkit pi_tasks" in proc.stderr and "| pi_tasks |" in out_md.read_text()
    for contender in ("kernelkit", "c"):
        for program in ("pi_loop", "pi_spmd", "pi_tasks", "pi_tasks_flat", "dgemm"):
            if missing and (contender, program) == ("kernelkit", "pi_tasks"):
                continue
            row = report["summary"][contender][program]
            assert row["valid"] and row["best_s"] > 0, (contender, program, row)
            assert len(row["samples"]) == 2  # two rounds, one call each
            assert row["cold_s"] is not None and row["warm_s"] is not None
        assert len(report["rounds"][contender]) == 2
    for program in ("pi_loop", "dgemm"):
        assert report["ratios"][program]["vs_c"] > 0 and report["ratios"][program]["vs_pyomp"] is None
    assert any("PyOMP skipped" in n for n in report["notes"])
    assert "-fopenmp" in report["c"]["command"] and "-O3" in report["c"]["command"]
    md = out_md.read_text()
    assert "| pi_tasks |" in md and "kernelkit vs C" in md and "PyOMP skipped" in md


def test_run_c_alone_and_bad_program_name(tmp_path):
    proc = _run(str(BENCH / "run.py"), "--contenders", "c", "--rounds", "1", "--steps", "100000", "--order", "16")
    assert proc.returncode == 0, proc.stderr
    assert "pi_spmd" in proc.stdout
    proc = _run(str(BENCH / "run.py"), "--programs", "pi_loop,nope")
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_run_reports_a_missing_pyomp_interpreter(tmp_path):
    out_json = tmp_path / "r.json"
    proc = _run(
        str(BENCH / "run.py"),
        "--contenders",
        "c,pyomp",
        "--pyomp-python",
        str(tmp_path / "no-such-python"),
        "--rounds",
        "1",
        "--steps",
        "100000",
        "--order",
        "16",
        "--json",
        str(out_json),
    )
    assert proc.returncode == 0, proc.stderr
    notes = json.loads(out_json.read_text())["notes"]
    assert any("PyOMP skipped" in n and "not found" in n for n in notes), notes


def test_gpu_script_on_the_host_device(tmp_path):
    out_json = tmp_path / "g.json"
    proc = _run(
        str(BENCH / "gpu.py"),
        "--device",
        "host",
        "--no-pyomp",
        "--order",
        "24",
        "--rounds",
        "1",
        "--repeats",
        "2",
        "--json",
        str(out_json),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out_json.read_text())
    row = report["summary"]["kernelkit"]
    assert row["valid"] and row["per_product_s"] >= 0 and row["with_transfers_s"] > 0
    assert "| kernelkit |" in proc.stdout
