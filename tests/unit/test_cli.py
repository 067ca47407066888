"""The `kernelkit` command, run as a user runs it: a subprocess with its own cache directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from kernelkit import cli

ROW = re.compile(r"^  (numpy|serial|openmp|cuda|debug)[,:]? ")  # a row of a demo table
TITLE = re.compile(r"^(axpy|dot|pi): ")
SMALL = ("--size", "20000")  # the demo at a size that runs in a second (the default is 2**23)


def _command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "kernelkit")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "kernelkit.cli"]


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "cache")


def run_cli(*args: str, cache_dir: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, KERNELKIT_CACHE_DIR=cache_dir, PYTHONIOENCODING="utf-8")
    return subprocess.run([*_command(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_info(cache_dir):
    import kernelkit

    proc = run_cli("info", cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert kernelkit.__version__ in out
    for word in ("python", "numpy", "C++ compiler", "default space", "threads", "debug", "serial", "openmp"):
        assert word in out
    assert cache_dir in out
    assert "Traceback" not in proc.stderr


def test_info_json(cache_dir):
    proc = run_cli("info", "--json", cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    names = {s["name"]: s["available"] for s in info["spaces"]}
    assert names["debug"] is True
    assert {"serial", "openmp"} <= set(names)
    assert info["cache"]["directory"] == cache_dir
    assert info["threads"] >= 1
    if names["openmp"]:
        assert info["compiler"]["path"]


def test_version_and_help(cache_dir):
    import kernelkit

    proc = run_cli("--version", cache_dir=cache_dir)
    assert proc.returncode == 0 and proc.stdout.strip() == kernelkit.__version__
    proc = run_cli(cache_dir=cache_dir)
    assert proc.returncode == 2 and "info" in proc.stdout and "bench" in proc.stdout


def test_cache_info_and_clear(cache_dir, tmp_path):
    import kernelkit as pk

    if not pk.OpenMP.available():
        pytest.skip("needs a compiled space")
    prog = tmp_path / "one_kernel.py"
    prog.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import kernelkit as pk

            @pk.workunit
            def twice(i, x):
                x[i] *= 2.0

            x = np.ones(8)
            pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 8), twice, x=x)
            assert (x == 2.0).all()
            """
        )
    )
    env = dict(os.environ, KERNELKIT_CACHE_DIR=cache_dir)
    subprocess.run([sys.executable, str(prog)], env=env, check=True, timeout=120)

    proc = run_cli("cache", "info", cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stderr
    assert cache_dir in proc.stdout
    assert "entries    0" not in proc.stdout

    proc = run_cli("cache", "clear", cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("removed ") and cache_dir in proc.stdout
    assert "removed 0 " not in proc.stdout

    proc = run_cli("cache", cache_dir=cache_dir)  # `info` is the default action
    assert proc.returncode == 0 and "entries    0" in proc.stdout


def _demo_tables(out: str) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if TITLE.match(line):
            current = tables.setdefault(line.split(":")[0], [])
        elif current is not None and ROW.match(line):
            current.append(line)
    return tables


def test_demo(cache_dir):
    proc = run_cli("demo", *SMALL, cache_dir=cache_dir, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for words in ("first call", "time per call", "vs NumPy", "checked against NumPy"):
        assert words in out
    tables = _demo_tables(out)
    assert set(tables) == {"axpy", "dot", "pi"}
    spaces = [s for s in ("serial", "openmp", "debug") if f"{s}," in out]
    for name, rows in tables.items():
        assert rows[0].startswith("  numpy: ") and len(rows) == 1 + len(spaces), (name, rows)
        assert all("✓" in row for row in rows), rows
        for row in rows[1:]:
            # what a reader can parse: "2.1x faster", "1.5x slower", "same speed"; never a bare "0.000621x"
            assert re.search(r"\d+(\.\d)?x (faster|slower)|same speed", row), row
            assert not re.search(r"\b0\.\d+x\b", row), row
    if pk_compiled():
        assert "compiled" in out  # a fresh cache: the first call compiles, and says so
        assert re.search(r"openmp \(\d+ threads?\) over serial: axpy \d", out)
    assert "✗" not in out
    assert "pi ≈ 3.14159265" in out
    # the same kernels again in a new process: the first call now loads them from the cache
    if pk_compiled():
        again = run_cli("demo", *SMALL, "--space", "serial", cache_dir=cache_dir, timeout=300)
        assert again.returncode == 0 and "from cache" in again.stdout and "compiled" not in again.stdout


def pk_compiled() -> bool:
    import kernelkit as pk

    return pk.OpenMP.available()


def test_demo_one_space(cache_dir):
    proc = run_cli("demo", "--space", "debug", *SMALL, cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tables = _demo_tables(proc.stdout)
    assert [row.split()[0].rstrip(",:") for row in tables["pi"]] == ["numpy", "debug"]
    assert "(NumPy at n = 4,096)" in tables["axpy"][1]
    proc = run_cli("demo", "--space", "nosuch", cache_dir=cache_dir)
    assert proc.returncode == 2 and "known: serial" in proc.stdout


def test_demo_in_process_failure_is_reported(monkeypatch):
    """A result that differs from NumPy's is a failed row and exit status 1 (here: a broken dot kernel)."""
    import dataclasses
    import io

    from kernelkit import demo

    real = demo.dot_case

    def wrong(space, n):
        run, check = real(space, n)
        return (lambda: run() + (0.0 if space is None else 1.0)), check

    kernels = tuple(dataclasses.replace(k, case=wrong) for k in demo.KERNELS if k.name == "dot")
    monkeypatch.setattr(demo, "KERNELS", kernels)
    out = io.StringIO()
    assert demo.demo(spaces=("debug",), out=out, size=1000) == 1
    text = out.getvalue()
    (debug_row,) = [line for line in text.splitlines() if line.startswith("  debug,")]
    assert "values differ" in debug_row


def test_bench_list_and_bad_names(cache_dir):
    proc = run_cli("bench", "--list", cache_dir=cache_dir)
    assert proc.returncode == 0
    for name in ("triad", "copy", "dot", "sum", "pi", "compile", "warm", "launch", "import", "transfers"):
        assert name in proc.stdout
    proc = run_cli("bench", "--only", "nosuch", cache_dir=cache_dir)
    assert proc.returncode == 2 and "unknown --only" in proc.stderr and "kernelkit bench" in proc.stderr
    proc = run_cli("bench", "--help", cache_dir=cache_dir)
    assert proc.returncode == 0 and "--profile-warm" in proc.stdout


def test_bench_script_is_the_same_harness(cache_dir):
    script = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "run.py")
    env = dict(os.environ, KERNELKIT_CACHE_DIR=cache_dir)
    proc = subprocess.run([sys.executable, script, "--list"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "transfers" in proc.stdout, proc.stderr


def test_bench_without_a_checkout(monkeypatch, capsys):
    """Installed from a wheel there is no benchmarks/ folder: `kernelkit bench` says where the harness is."""
    monkeypatch.setattr(cli, "find_benchmarks", lambda: None)
    assert cli.main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "benchmarks/run.py" in err and "repository" in err


def test_cli_imports_nothing_heavy():
    code = (
        "import sys; import kernelkit.cli as c; c.build_parser().parse_args(['info']); "
        # the host compiler (kernelkit.compile, frontend) is imported with kernelkit itself, by design: it keeps
        # a cached kernel's first launch fast; the CLI must not pull in the bench harness, the demo or the peers
        "heavy = ('kkbench', 'kernelkit.demo', 'numba', 'matplotlib'); "
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_main_in_process(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KERNELKIT_CACHE_DIR", str(tmp_path / "c"))
    assert cli.main(["bench", "--list"]) == 0
    assert "triad" in capsys.readouterr().out
