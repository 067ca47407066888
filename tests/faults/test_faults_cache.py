"""Faults around the compile cache (issue 17 item 9 and the fault-injection set): a killed compiler, a killed
build, an unusable / read-only / full cache directory, a garbled binary whose record matches, and two processes
building the same kernels while a third deletes the cache. None may crash the process, hang it, or end in a
raw traceback; each ends in a correct result or one clear KernelError."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from faultlib import Program, expected

pytestmark = pytest.mark.skipif(shutil.which("c++") is None and shutil.which("g++") is None, reason="no C++ compiler")


def _cxx() -> str:
    return shutil.which("c++") or shutil.which("g++") or "c++"


def _wrapper(program: Program, body: str) -> str:
    path = program.root / "cxx-wrapper"
    path.write_text(f'#!/bin/sh\n{body}\nexec {_cxx()} "$@"\n')
    path.chmod(0o755)
    return str(path)


def test_killed_compiler_is_reported_and_the_next_build_succeeds(program):
    cxx = _wrapper(program, 'case "$*" in *" -o "*) kill -KILL $$ ;; esac')
    code, report, _ = program.run(KERNELKIT_CXX=cxx)
    assert code == 1 and report["error"] == "CompileError"
    assert "killed by SIGKILL" in report["message"] and "kernelkit bug" not in report["message"]
    assert program.temporaries() == []  # the failed build removed its temporary files
    code, report, _ = program.run()
    assert code == 0 and report["results"] == expected(2) and report["compiles"] == 4


def test_temporaries_of_a_killed_build_are_removed_by_the_next_build(program):
    # the compiler kills the Python process that runs it: the build's temporary files stay behind
    cxx = _wrapper(program, 'case "$*" in *" -o "*) kill -KILL $PPID; sleep 2 ;; esac')
    proc = subprocess.run(program.argv(), env=program.env(KERNELKIT_CXX=cxx), capture_output=True, timeout=300)
    assert proc.returncode == -9
    left = program.temporaries()
    assert left, "the killed build should have left its temporary files (the premise of this test)"
    code, report, _ = program.run()
    assert code == 0 and report["results"] == expected(2)
    assert program.temporaries() == [], f"left behind: {program.temporaries()}"


@pytest.mark.parametrize("how", ["file", "under-a-file"])
def test_unusable_cache_dir_falls_back_with_a_warning(program, how):
    blocker = program.root / "blocker"
    blocker.write_text("not a directory")
    program.cache = blocker if how == "file" else blocker / "cache"
    code, report, _ = program.run()
    assert code == 0 and report["results"] == expected(2)
    (warning,) = [w for w in report["warnings"] if w.startswith("CacheWarning")]
    assert str(blocker) in warning and "KERNELKIT_CACHE_DIR" in warning
    assert blocker.read_text() == "not a directory"


def test_read_only_cache_is_read_and_builds_go_elsewhere(program):
    """A cache others prepared and made read-only (a shared, prebuilt cache) is loaded from; new kernels are
    built in the fallback cache, with a warning."""
    code, report, _ = program.run()
    assert code == 0 and report["compiles"] == 4
    if os.geteuid() == 0:
        # root writes through any mode: the file system refuses instead (EROFS injected on the cache's writes)
        code, report, stderr = program.run(variants=3, KK_TEST_FAULT="erofs")
    else:
        for d in (program.cache, program.cache / "v1"):
            os.chmod(d, 0o500)
        try:
            code, report, stderr = program.run(variants=3)
        finally:
            for d in (program.cache, program.cache / "v1"):
                os.chmod(d, 0o700)
    assert code == 0, stderr
    assert report["results"] == expected(3)
    assert report["hits"] == 4 and report["compiles"] == 2  # the old kernels loaded, the new ones built elsewhere
    assert any("cannot be used" in w and "KERNELKIT_CACHE_DIR" in w for w in report["warnings"])


def _limit_file_size():
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_full_disk_ends_in_one_clear_error(program):
    """Every file system full (a 4 KiB file size limit): a CacheError naming the cache and the setting."""
    code, report, _ = program.run(preexec=_limit_file_size)
    assert code == 1 and report["error"] == "CacheError"
    assert str(program.cache) in report["message"] and "KERNELKIT_CACHE_DIR" in report["message"]
    assert program.temporaries() == []
    assert not [p for p in program.entries() if p.suffix == ".so"]  # nothing half-written was published


def test_full_cache_directory_falls_back(program):
    """Only the cache's disk is full (ENOSPC on its writes): kernels are cached in the fallback directory."""
    code, report, _ = program.run(KK_TEST_FAULT="enospc")
    assert code == 0 and report["results"] == expected(2)
    assert any("No space left on device" in w for w in report["warnings"])


def _rewrite_record(meta, data: bytes) -> None:
    record = json.loads(meta.read_text())
    record["sha256"] = hashlib.sha256(data).hexdigest()
    meta.write_text(json.dumps(record))


@pytest.mark.parametrize("how", ["truncated", "garbage", "header-only"])
def test_garbled_binary_with_a_matching_record_is_rebuilt(program, how):
    """A binary cut short (or replaced) whose record was rewritten to match must be rebuilt, not loaded: loading
    a truncated library kills the process with SIGBUS."""
    code, report, _ = program.run()
    assert code == 0 and report["compiles"] == 4
    for so in [p for p in program.entries() if p.suffix == ".so" and not p.name.startswith(".")]:
        data = so.read_bytes()
        bad = {"truncated": data[: len(data) // 2], "garbage": os.urandom(len(data)), "header-only": data[:64]}[how]
        so.write_bytes(bad)
        _rewrite_record(so.with_suffix(".json"), bad)
    code, report, _ = program.run()
    assert code == 0 and report["results"] == expected(2)
    assert report["compiles"] == 4 and report["hits"] == 0


DELETER = """
import os, shutil, sys, time
cache, stop = sys.argv[1], sys.argv[2]
deleted = 0
while not os.path.exists(stop):
    if os.path.isdir(cache):
        shutil.rmtree(cache, ignore_errors=True)
        deleted += 1
    time.sleep(0.05)
print(deleted)
"""


def test_two_builders_and_a_deleter(program):
    """Two processes build the same kernels while a third keeps deleting the cache directory."""
    stop = program.root / "stop"
    deleter = subprocess.Popen(
        [sys.executable, "-c", DELETER, str(program.cache), str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:
        builders = [
            subprocess.Popen(
                program.argv(3), env=program.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outs = [b.communicate(timeout=600) for b in builders]
    finally:
        stop.write_text("")
        deleted = int(deleter.communicate(timeout=60)[0] or 0)
    for b, (out, err) in zip(builders, outs, strict=True):
        assert b.returncode == 0, f"exit {b.returncode}\n{out}\n{err}"
        report = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
        assert report["results"] == expected(3)
    assert deleted > 0
