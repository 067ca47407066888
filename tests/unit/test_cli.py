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

ROW = re.compile(r"^(axpy|dot|pi)\s+(debug|serial|openmp|cuda)\s")


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


def test_demo(cache_dir):
    proc = run_cli("demo", cache_dir=cache_dir, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for word in ("axpy", "dot", "pi", "debug", "vs NumPy", "first call"):
        assert word in out
    table = [line for line in out.splitlines() if ROW.match(line)]
    assert table and all(line.rstrip().endswith("✓") for line in table)
    assert "✗" not in out
    assert "pi ≈ 3.14159265" in out


def test_demo_one_space(cache_dir):
    proc = run_cli("demo", "--space", "debug", cache_dir=cache_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split()[1] for line in proc.stdout.splitlines() if ROW.match(line)]
    assert rows == ["debug"] * 3
    proc = run_cli("demo", "--space", "nosuch", cache_dir=cache_dir)
    assert proc.returncode == 2 and "known: debug" in proc.stdout


def test_bench_list_and_bad_names(cache_dir):
    proc = run_cli("bench", "--list", cache_dir=cache_dir)
    assert proc.returncode == 0
    for name in ("triad", "copy", "dot", "pi", "compile", "warm", "launch", "import"):
        assert name in proc.stdout
    proc = run_cli("bench", "--only", "nosuch", cache_dir=cache_dir)
    assert proc.returncode == 2 and "unknown --only" in proc.stderr


def test_cli_imports_nothing_heavy():
    code = (
        "import sys; import kernelkit.cli as c; c.build_parser().parse_args(['info']); "
        # the host compiler (kernelkit.compile, frontend) is imported with kernelkit itself, by design: it keeps
        # a cached kernel's first launch fast; the CLI must not pull in the bench harness or the peers
        "heavy = ('kernelkit.bench', 'numba', 'matplotlib'); "
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_main_in_process(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KERNELKIT_CACHE_DIR", str(tmp_path / "c"))
    assert cli.main(["bench", "--list"]) == 0
    assert "triad" in capsys.readouterr().out
