"""api/spaces.space_scope: a thread's default space. Launches that name no space use the innermost scope of
their thread; other threads keep the process default; set_default_space and pk.execute keep working."""

from __future__ import annotations

import threading

import kernelkit as pk
from kernelkit.api import spaces


def test_scope_is_per_thread_and_nests():
    base = pk.get_default_space()
    other = pk.Serial if base is not pk.Serial else pk.OpenMP
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def elsewhere():
        inside.wait(30)
        seen["other thread"] = pk.get_default_space()
        done.set()

    t = threading.Thread(target=elsewhere)
    t.start()
    with spaces.space_scope(other) as s:
        assert s is other and pk.get_default_space() is other
        with spaces.space_scope(pk.Debug):
            assert pk.get_default_space() is pk.Debug
        assert pk.get_default_space() is other
        inside.set()
        done.wait(30)
    t.join()
    assert seen["other thread"] is base
    assert pk.get_default_space() is base
    assert spaces._default[0] is base  # the fast path's cache is back


def test_set_default_space_inside_a_scope_changes_the_process_default():
    base = pk.get_default_space()
    try:
        with spaces.space_scope(pk.Debug):
            pk.set_default_space(pk.Serial)
            assert pk.get_default_space() is pk.Debug  # the scope still wins on this thread
        assert pk.get_default_space() is pk.Serial
    finally:
        pk.set_default_space(base)
    assert pk.get_default_space() is base


def test_execute_runs_main_in_a_scope():
    base = pk.get_default_space()
    seen = []

    @pk.workload
    class W:
        @pk.main
        def run(self):
            seen.append(pk.get_default_space())

    pk.execute(pk.Debug, W())
    with spaces.space_scope(pk.Serial):
        pk.execute(pk.Debug, W())
        assert pk.get_default_space() is pk.Serial
    assert seen == [pk.Debug, pk.Debug]
    assert pk.get_default_space() is base


def test_launch_in_a_scope_uses_it(monkeypatch):
    import numpy as np

    @pk.workunit
    def inc(i, x):
        x[i] += 1

    backend = pk.Debug.backend
    calls = []
    real = backend.execute

    def counted(kernel, rec, args):
        calls.append(rec.pattern)
        return real(kernel, rec, args)

    monkeypatch.setattr(backend, "execute", counted)
    x = np.zeros(4)
    with spaces.space_scope(pk.Debug):
        pk.parallel_for(4, inc, x=x)  # the int fast path
        pk.parallel_for(pk.RangePolicy(0, 4), inc, x=x)
    assert np.all(x == 2) and calls == ["for", "for"]
    if pk.get_default_space() is not pk.Debug:
        pk.parallel_for(4, inc, x=x)  # outside the scope: not Debug
        assert calls == ["for", "for"]
