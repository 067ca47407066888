"""Ahead-of-time compilation: `kernelkit compile` (and kernelkit.aot) on annotated workunits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SOURCE = textwrap.dedent("""
    import kernelkit as pk

    @pk.workunit
    def axpy(i: int, a: float, x: pk.View1D[pk.double], y: pk.View1D[pk.double]):
        y[i] += a * x[i]

    @pk.workunit
    def dot(i: int, acc: pk.Acc[pk.double], x: pk.View1D[pk.double], y: pk.View1D[pk.double]):
        acc += x[i] * y[i]

    @pk.workunit
    def prefix(i: int, acc: pk.Acc[pk.int64], final: bool, x: pk.View1D[pk.int32], out: pk.View1D[pk.int64]):
        acc += x[i]
        if final:
            out[i] = acc

    @pk.workunit(rank=2)
    def grid(i: int, j: int, a: pk.View2D[pk.float32]):
        a[i, j] = i + j

    @pk.workunit
    def untyped(i, x):
        x[i] = 1

    if __name__ == "__main__":
        raise SystemExit("AOT must not run the script's main block")
""")


def run(tmp_path, *args):
    path = tmp_path / "kernels.py"
    path.write_text(SOURCE)
    env = dict(os.environ, KERNELKIT_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run(
        [sys.executable, "-m", "kernelkit.cli", "compile", "--quiet", *args, str(path)],
        capture_output=True,
        text=True,
        env=env,
    )


def test_aot_openmp_compiles_annotated_workunits_and_skips_the_rest(tmp_path):
    r = run(tmp_path, "--space", "openmp")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for name, pattern in (("axpy", "for"), ("dot", "reduce"), ("prefix", "scan"), ("grid", "for")):
        assert f"{name}: compiled (parallel_{pattern}, openmp)" in out, out
    assert "untyped: skipped" in out and "'x' has no annotation" in out
    again = run(tmp_path, "--space", "openmp")
    assert again.stdout.count("cached") == 4, again.stdout  # the second run loads, compiles nothing


def test_aot_cuda_without_a_gpu(tmp_path):
    from kernelkit.backends.cuda import nvrtc

    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (pip install nvidia-cuda-nvrtc)")
    r = run(tmp_path, "--space", "cuda", "--arch", "sm_90")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("sm_90") == 4 and "untyped: skipped" in r.stdout, r.stdout


def test_aot_cuda_needs_an_arch(tmp_path):
    r = run(tmp_path, "--space", "cuda")
    assert r.returncode == 1 and "architecture" in r.stderr
