"""The host toolchain's part of the cache key (issue 17 item 10): the CPU that -march=native resolved to, found
once per compiler and CPU and memoized in the cache's records."""

from __future__ import annotations

import os
import subprocess

import pytest

from kernelkit.backends import base
from kernelkit.backends.openmp import toolchain
from kernelkit.compile.cache import Cache


@pytest.fixture
def records(tmp_path):
    return Cache(str(tmp_path / "cache"))


def test_key_includes_the_resolved_native_cpu(records, monkeypatch):
    tc = toolchain.require_cxx()
    monkeypatch.setattr(toolchain, "_native_memo", {})
    backend = base.get("serial")
    here = backend.identity(records)
    native = toolchain.native_target(tc, records)
    assert native in here
    # another CPU (a node of another generation sharing the home directory): another key
    monkeypatch.setattr(toolchain, "cpu_signature", lambda: "another-cpu")
    monkeypatch.setattr(toolchain, "_resolve_native", lambda tc: "sapphirerapids:0123456789abcdef")
    monkeypatch.setattr(toolchain, "_native_memo", {})
    assert backend.identity(records) != here


def test_gcc_reports_the_cpu_name():
    tc = toolchain.require_cxx()
    if "gcc" not in tc.version.lower() and "g++" not in tc.version.lower() and "(debian" not in tc.version.lower():
        pytest.skip(f"not GCC: {tc.version}")
    name, digest = toolchain._resolve_native(tc).split(":")
    assert name not in ("", "native") and len(digest) == 16


def test_native_cpu_is_memoized_in_the_records(records, monkeypatch):
    tc = toolchain.require_cxx()
    monkeypatch.setattr(toolchain, "_native_memo", {})
    first = toolchain.native_target(tc, records)
    assert os.path.exists(os.path.join(records.root, f"{toolchain.NATIVE_RECORD}.record.json"))

    def no_compiler(*a, **kw):
        raise AssertionError("a warm start must not run the compiler to resolve -march=native")

    monkeypatch.setattr(toolchain, "_native_memo", {})  # a new process: only the record remains
    monkeypatch.setattr(subprocess, "run", no_compiler)
    assert toolchain.native_target(tc, records) == first
