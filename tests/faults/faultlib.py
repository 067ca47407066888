"""Helpers of the fault-injection tests: each test runs a small kernelkit program in a fresh process
(`Program.run`) with its own cache directory and a fault set up around it, and reads what the process reports:
its results and counters as JSON on success, or the KernelError it ended with. A raw traceback (an exception
that is not a KernelError), a crash or a hang fails the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

KERNELS = textwrap.dedent(
    """
    import kernelkit as pk

    @pk.workunit
    def scale(i, a, x, y):
        y[i] = a * x[i] + K

    @pk.workunit
    def total(i, acc, x):
        acc += x[i] * K
    """
)

RUNNER = textwrap.dedent(
    """
    import json, os, sys, traceback, warnings
    moddir, variants = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, moddir)
    out = {"warnings": []}
    fault = os.environ.get("KK_TEST_FAULT")
    if fault in ("enospc", "erofs"):  # the configured cache's disk is full / read-only: its writes fail
        import errno, tempfile
        code = errno.ENOSPC if fault == "enospc" else errno.EROFS
        cache = os.path.abspath(os.environ["KERNELKIT_CACHE_DIR"])
        real_mkstemp, real_open = tempfile.mkstemp, os.open
        def mkstemp(*a, **kw):
            if os.path.abspath(str(kw.get("dir", ""))).startswith(cache):
                raise OSError(code, os.strerror(code))
            return real_mkstemp(*a, **kw)
        def open_(path, flags, *a, **kw):
            if flags & os.O_CREAT and os.path.abspath(str(path)).startswith(cache) and not os.path.exists(path):
                raise OSError(code, os.strerror(code), path)
            return real_open(path, flags, *a, **kw)
        tempfile.mkstemp, os.open = mkstemp, open_
    try:
        import numpy as np
        import kernelkit as pk
        import kmod
        results = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for k in range(variants):
                kmod.K = float(k)  # a changed global: a new specialization, another compile
                x = np.arange(8.0)
                y = np.zeros(8)
                pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 8), kmod.scale, a=2.0, x=x, y=y)
                s = pk.parallel_reduce(pk.RangePolicy(pk.Serial, 0, 8), kmod.total, x=x)
                results.append([float(y.sum()), float(s)])
        out["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
        out["results"] = results
        st = [kmod.scale.stats(), kmod.total.stats()]
        out["compiles"] = sum(x["compiles"] for x in st)
        out["hits"] = sum(x["cache_hits"] for x in st)
        print(json.dumps(out))
    except Exception as e:
        import kernelkit
        if isinstance(e, kernelkit.KernelError):
            print(json.dumps({"error": type(e).__name__, "message": str(e)}))
            sys.exit(1)
        traceback.print_exc()
        sys.exit(2)
    """
)


def expected(variants: int) -> list[list[float]]:
    return [[2.0 * 28.0 + 8 * k, 28.0 * k] for k in range(variants)]


class Program:
    def __init__(self, root: Path, cache: Path | None = None):
        self.root = root
        self.moddir = root / "mod"
        self.moddir.mkdir(exist_ok=True)
        (self.moddir / "kmod.py").write_text("K = 0.0\n" + KERNELS)
        (root / "runner.py").write_text(RUNNER)
        self.cache = cache or (root / "cache")

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["KERNELKIT_CACHE_DIR"] = str(self.cache)
        env["TMPDIR"] = str(self.root / "tmp")  # the fallback cache lands here, not in the shared /tmp
        (self.root / "tmp").mkdir(exist_ok=True)
        env.pop("KERNELKIT_CXX", None)
        env.update(extra)
        return env

    def argv(self, variants: int = 2) -> list[str]:
        return [sys.executable, str(self.root / "runner.py"), str(self.moddir), str(variants)]

    def run(self, variants: int = 2, timeout: float = 300, preexec=None, **env: str) -> tuple[int, dict, str]:
        """(exit code, the JSON report, stderr). Exit 0: ran; 1: a KernelError (reported); anything else is a
        crash or a raw traceback, which fails the test here."""
        proc = subprocess.run(
            self.argv(variants),
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=preexec,
        )
        if proc.returncode not in (0, 1):
            pytest.fail(f"the process crashed or raised a raw exception (exit {proc.returncode}):\n{proc.stderr}")
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        report = json.loads(lines[-1]) if lines else {}
        if not report:
            pytest.fail(f"no report (exit {proc.returncode}):\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc.returncode, report, proc.stderr

    def entries(self) -> list[Path]:
        root = self.cache / "v1"
        return sorted(root.iterdir()) if root.is_dir() else []

    def temporaries(self) -> list[Path]:
        return [p for p in self.entries() if p.name.startswith(".")]
