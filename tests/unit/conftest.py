"""Fixtures shared by the unit tests that run kernelkit's CUDA path against tests/unit/fake_libcuda.c."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def fake_kk_driver(tmp_path_factory) -> str:
    """The fake libcuda, built once per session: the path to give driver.use_library(). Skips without a C
    compiler, and without NVRTC (these tests compile kernelkit's real CUDA kernels, which the fake then logs)."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to build the fake libcuda")
    from kernelkit.backends.cuda import nvrtc

    if not nvrtc.available():
        pytest.skip("NVRTC not found (the CUDA path compiles real kernels)")
    lib = tmp_path_factory.mktemp("fakecuda") / "libfakecuda.so"
    subprocess.run(
        [cc, "-shared", "-fPIC", "-O1", "-o", str(lib), os.path.join(HERE, "fake_libcuda.c"), "-ldl"], check=True
    )
    return str(lib)
