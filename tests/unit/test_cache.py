"""The on-disk compile cache (DESIGN.md section 3): a second process reuses compiled kernels; an edited
kernel, an edited @pk.function or a changed global recompiles; a corrupt entry is rebuilt, not loaded;
concurrent compiles are safe; the directory is private (0700, owned by the user) and an unsafe one is not
loaded from.

Every test here runs kernels in fresh subprocesses with their own KERNELKIT_CACHE_DIR (never the
session's), on the Serial space, and reads ``workunit.stats()``: ``compiles`` (native compiles done by that
process) and ``cache_hits`` (specializations loaded from the on-disk cache)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import kernelkit as pk

KMOD = textwrap.dedent(
    """
    import kernelkit as pk

    FACTOR = 2.0


    @pk.function
    def helper(v):
        return v * 1.0


    @pk.workunit
    def axpy(i, a, x, y):
        y[i] += a * helper(x[i])


    @pk.workunit
    def total(i, acc, x):
        acc += FACTOR * x[i]
    """
)

RUNNER = textwrap.dedent(
    """
    import json, os, sys, time
    moddir, space_name = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3 and sys.argv[3] != "-":
        os.umask(int(sys.argv[3], 8))
    go = sys.argv[4] if len(sys.argv) > 4 else None
    sys.path.insert(0, moddir)
    import numpy as np
    import kernelkit as pk
    import kmod
    if go:  # start barrier for the concurrency test
        open(go + ".ready." + str(os.getpid()), "w").close()
        while not os.path.exists(go):
            time.sleep(0.005)
    space = getattr(pk, space_name)
    n = 1000
    x = np.arange(n, dtype=np.float64)
    y = np.ones(n)
    pk.parallel_for(pk.RangePolicy(space, 0, n), kmod.axpy, a=2.0, x=x, y=y)
    s = pk.parallel_reduce(pk.RangePolicy(space, 0, n), kmod.total, x=y)

    def st(wu):
        d = wu.stats()
        return {"compiles": int(d["compiles"]), "cache_hits": int(d["cache_hits"])}

    print(json.dumps({"y_sum": float(y.sum()), "s": float(s),
                      "axpy": st(kmod.axpy), "total": st(kmod.total)}))
    """
)

N = 1000
Y_SUM = N + 2.0 * (N * (N - 1) / 2)  # y = 1 + 2 x


class Project:
    """A kernel module and a runner script in tmp_path, run in fresh processes against one cache directory."""

    def __init__(self, tmp_path, cache_dir=None):
        self.dir = tmp_path / "proj"
        self.dir.mkdir()
        (self.dir / "kmod.py").write_text(KMOD)
        (self.dir / "runner.py").write_text(RUNNER)
        self.cache = str(cache_dir or (tmp_path / "cache"))

    def env(self, **extra):
        env = dict(os.environ)
        env["KERNELKIT_CACHE_DIR"] = self.cache
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # an edited kmod.py must not be shadowed by a stale .pyc
        env.update(extra)
        return env

    def argv(self, space="Serial", umask="-", go=None):
        args = [sys.executable, str(self.dir / "runner.py"), str(self.dir), space, umask]
        if go:
            args.append(go)
        return args

    def run(self, space="Serial", umask="-", check=True, env=None):
        proc = subprocess.run(
            self.argv(space, umask), env=env or self.env(), capture_output=True, text=True, timeout=300
        )
        if check:
            assert proc.returncode == 0, f"runner failed:\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            return json.loads(proc.stdout.strip().splitlines()[-1])
        return proc

    def edit(self, old, new):
        path = self.dir / "kmod.py"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))

    def files(self):
        out = []
        for root, _dirs, names in os.walk(self.cache):
            out.extend(os.path.join(root, n) for n in names)
        return out


def compiles(r):
    return r["axpy"]["compiles"] + r["total"]["compiles"]


def hits(r):
    return r["axpy"]["cache_hits"] + r["total"]["cache_hits"]


# ------------------------------------------------------------------------------------------------------ reuse


def test_second_process_reuses_compiled_kernels(tmp_path):
    p = Project(tmp_path)
    first = p.run()
    assert first["y_sum"] == Y_SUM and first["s"] == 2.0 * Y_SUM
    assert first["axpy"]["compiles"] >= 1 and first["total"]["compiles"] >= 1
    assert hits(first) == 0
    second = p.run()
    assert second["y_sum"] == Y_SUM and second["s"] == 2.0 * Y_SUM
    assert compiles(second) == 0, second
    assert second["axpy"]["cache_hits"] >= 1 and second["total"]["cache_hits"] >= 1, second


def test_openmp_space_reuses_too(tmp_path):
    p = Project(tmp_path)
    p.run(space="OpenMP")
    second = p.run(space="OpenMP")
    assert compiles(second) == 0 and hits(second) >= 2, second


def test_debug_space_compiles_nothing(tmp_path):
    p = Project(tmp_path)
    r = p.run(space="Debug")
    assert r["y_sum"] == Y_SUM and r["s"] == 2.0 * Y_SUM
    assert compiles(r) == 0 and hits(r) == 0


# ---------------------------------------------------------------------------------------------- invalidation


def test_edited_kernel_recompiles(tmp_path):
    p = Project(tmp_path)
    p.run()
    p.edit("y[i] += a * helper(x[i])", "y[i] += a * helper(x[i]) + 1")
    r = p.run()
    assert r["axpy"]["compiles"] >= 1, r
    assert r["y_sum"] == Y_SUM + N
    assert r["s"] == 2.0 * (Y_SUM + N)


def test_edited_device_function_recompiles(tmp_path):
    p = Project(tmp_path)
    p.run()
    p.edit("return v * 1.0", "return v * 3.0")  # axpy's own text is unchanged
    r = p.run()
    assert r["axpy"]["compiles"] >= 1, r
    assert r["y_sum"] == N + 6.0 * (N * (N - 1) / 2)


def test_changed_global_recompiles(tmp_path):
    p = Project(tmp_path)
    p.run()
    p.edit("FACTOR = 2.0", "FACTOR = 5.0")
    r = p.run()
    assert r["total"]["compiles"] >= 1, r
    assert r["s"] == 5.0 * Y_SUM


def test_reverting_an_edit_reuses_the_first_binary(tmp_path):
    p = Project(tmp_path)
    p.run()
    p.edit("FACTOR = 2.0", "FACTOR = 5.0")
    p.run()
    p.edit("FACTOR = 5.0", "FACTOR = 2.0")
    r = p.run()
    assert r["s"] == 2.0 * Y_SUM
    assert compiles(r) == 0, r


# ------------------------------------------------------------------------------------------------- corruption


@pytest.mark.parametrize("how", ["truncate", "garbage", "keep_header"])
def test_corrupt_entry_is_rebuilt(tmp_path, how):
    p = Project(tmp_path)
    p.run()
    files = p.files()
    assert files, "the first run left nothing in the cache directory"
    rnd = np.random.default_rng(1)
    for path in files:
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            if how == "truncate":
                f.truncate(0)
            elif how == "garbage":
                f.write(rnd.integers(0, 256, max(size, 64), dtype=np.uint8).tobytes())
            else:  # keep the first 64 bytes (e.g. an ELF header), scramble the rest
                f.seek(min(64, size))
                f.write(rnd.integers(0, 256, max(size - 64, 64), dtype=np.uint8).tobytes())
    r = p.run()
    assert r["y_sum"] == Y_SUM and r["s"] == 2.0 * Y_SUM
    assert compiles(r) >= 1, f"a corrupt entry was loaded instead of rebuilt: {r}"
    again = p.run()
    assert compiles(again) == 0 and hits(again) >= 2, f"the rebuilt entry is not reused: {again}"
    assert again["y_sum"] == Y_SUM


def test_deleted_entry_is_rebuilt(tmp_path):
    p = Project(tmp_path)
    p.run()
    for path in p.files():
        os.unlink(path)
    r = p.run()
    assert r["y_sum"] == Y_SUM and compiles(r) >= 1


# ------------------------------------------------------------------------------------------------ concurrency


def test_concurrent_compiles_on_an_empty_cache(tmp_path):
    p = Project(tmp_path)
    go = str(tmp_path / "go")
    procs = [
        subprocess.Popen(p.argv(go=go), env=p.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    deadline = time.time() + 120
    while len([f for f in os.listdir(tmp_path) if f.startswith("go.ready.")]) < 4:
        assert time.time() < deadline, "the runners did not start"
        if any(pr.poll() is not None for pr in procs):
            break
        time.sleep(0.01)
    open(go, "w").close()  # all four compile the same kernels at once
    results = []
    for pr in procs:
        out, err = pr.communicate(timeout=300)
        assert pr.returncode == 0, f"a concurrent runner failed:\n{err}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        assert r["y_sum"] == Y_SUM and r["s"] == 2.0 * Y_SUM
        assert compiles(r) + hits(r) >= 2
    after = p.run()
    assert compiles(after) == 0 and hits(after) >= 2, after


# ------------------------------------------------------------------------------------------- ownership, modes


def test_cache_dir_is_created_private(tmp_path):
    cache = tmp_path / "deep" / "er" / "cache"
    p = Project(tmp_path, cache_dir=cache)
    p.run(umask="000")  # even with a permissive umask
    mode = stat.S_IMODE(os.stat(cache).st_mode)
    assert mode == 0o700, oct(mode)
    for path in p.files():
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o022 == 0, f"{path} is group/world writable"


def _refused_or_not_loaded(proc, closed_dir=None):
    """An unsafe cache directory: a clear error, or a run that does not load from it. With ``closed_dir``, a
    third answer is accepted: the directory was ours, kernelkit closed it again (mode 0700) before loading
    anything, and loaded only entries it verifies as its own (files owned by us, not writable by others, hash
    matching the record) -- nobody else could have placed such a file there."""
    if proc.returncode != 0:
        assert "KernelError" in proc.stderr or "Kernel" in proc.stderr or "cache" in proc.stderr.lower(), proc.stderr
        assert "Segmentation" not in proc.stderr
        return
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["y_sum"] == Y_SUM and r["s"] == 2.0 * Y_SUM
    if closed_dir is not None and hits(r):
        mode = stat.S_IMODE(os.stat(closed_dir).st_mode)
        assert mode & 0o077 == 0, f"loaded from a cache directory left open to others (mode {oct(mode)}): {r}"
        return
    assert hits(r) == 0, f"kernels were loaded from an unsafe cache directory: {r}"


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o722])
def test_group_or_world_writable_cache_is_not_loaded_from(tmp_path, mode):
    p = Project(tmp_path)
    p.run()
    os.chmod(p.cache, mode)
    _refused_or_not_loaded(p.run(check=False), closed_dir=p.cache)


def test_entries_writable_by_others_are_not_loaded(tmp_path):
    """An entry file others could have written (group/world-writable) must not be loaded."""
    p = Project(tmp_path)
    p.run()
    for path in p.files():
        os.chmod(path, 0o666)
    _refused_or_not_loaded(p.run(check=False))


def test_preexisting_world_writable_dir_is_not_trusted(tmp_path):
    cache = tmp_path / "shared-cache"
    cache.mkdir()
    os.chmod(cache, 0o777)
    p = Project(tmp_path, cache_dir=cache)
    proc = p.run(check=False)
    if proc.returncode == 0:
        # accepted but must not have made itself loadable from a directory others can write into
        second = p.run(check=False)
        if stat.S_IMODE(os.stat(cache).st_mode) & 0o022:
            _refused_or_not_loaded(second)
    else:
        _refused_or_not_loaded(proc)


def test_cache_owned_by_another_user_is_not_loaded_from(tmp_path):
    if os.geteuid() != 0:
        pytest.skip(
            "making a directory owned by another user needs root (chown); as a normal user this "
            "situation cannot be created in a test"
        )
    p = Project(tmp_path)
    p.run()
    nobody = 65534
    for root, dirs, names in os.walk(p.cache):
        for name in dirs + names:
            os.chown(os.path.join(root, name), nobody, nobody)
    os.chown(p.cache, nobody, nobody)
    _refused_or_not_loaded(p.run(check=False))


def test_entry_files_owned_by_another_user_are_not_loaded(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    p = Project(tmp_path)
    p.run()
    for path in p.files():
        os.chown(path, 65534, 65534)
    _refused_or_not_loaded(p.run(check=False))


# ------------------------------------------------------------------------------------------ environment, API


def test_cache_dir_env_is_honoured_and_user_cache_untouched(tmp_path):
    home = tmp_path / "home"
    xdg = tmp_path / "xdg"
    home.mkdir()
    xdg.mkdir()
    p = Project(tmp_path)
    p.run(env=p.env(HOME=str(home), XDG_CACHE_HOME=str(xdg)))
    assert p.files(), "nothing was written to KERNELKIT_CACHE_DIR"
    assert not any(xdg.iterdir()), list(xdg.iterdir())
    assert not (home / ".cache").exists()


def test_default_cache_introspection(tmp_path):
    p = Project(tmp_path)
    p.run()
    script = tmp_path / "introspect.py"
    script.write_text(
        textwrap.dedent(
            """
        import json
        from kernelkit.compile.cache import default_cache
        c = default_cache()
        def count(e):  # entries() may be a count or a collection of entries
            return e if isinstance(e, int) else len(list(e))
        before = {"directory": str(c.directory), "size": int(c.size_bytes()), "entries": count(c.entries())}
        c.clear()
        after = {"size": int(c.size_bytes()), "entries": count(c.entries())}
        print(json.dumps({"before": before, "after": after}))
        """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], env=p.env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert os.path.realpath(r["before"]["directory"]) == os.path.realpath(p.cache)
    assert r["before"]["size"] > 0 and r["before"]["entries"] >= 1
    assert r["after"]["entries"] == 0
    rerun = p.run()
    assert compiles(rerun) >= 2, "after clear() the kernels must be compiled again"


def test_session_uses_the_private_cache(private_kernelkit_cache):
    from kernelkit.compile.cache import default_cache

    assert os.path.realpath(str(default_cache().directory)) == os.path.realpath(private_kernelkit_cache)


@pk.workunit
def _in_process_kernel(i, x, out):
    out[i] = x[i] * 4.0 - 1.0


def test_repeated_calls_do_no_compilation_work():
    wu = _in_process_kernel

    def work():
        s = wu.stats()
        return s["compiles"] + s["cache_hits"]

    start = work()
    x = np.arange(10, dtype=np.float64)
    out = np.zeros(10)
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 10), wu, x=x, out=out)
    after_first = work()
    assert after_first == start + 1
    for _ in range(20):
        pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 10), wu, x=x, out=np.zeros(10))
        pk.parallel_for(pk.RangePolicy(pk.Serial, 3, 7), wu, x=x, out=out)
    assert work() == after_first, "a repeated call with the same argument types compiled or loaded again"
    np.testing.assert_array_equal(out, x * 4.0 - 1.0)
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 10), wu, x=x.astype(np.float32), out=np.zeros(10, np.float32))
    assert work() == after_first + 1, "a new argument dtype is a new specialization"
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 10), wu, x=x, out=out)
    assert work() == after_first + 1
    pk.parallel_for(pk.RangePolicy(pk.Debug, 0, 10), wu, x=x, out=out)
    assert wu.stats()["compiles"] + wu.stats()["cache_hits"] == after_first + 1, "Debug compiles nothing"
