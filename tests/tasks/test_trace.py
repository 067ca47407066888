# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""The Chrome/Perfetto trace (KERNELKIT_TRACE or Parla(trace=...)) and stats()."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kernelkit import config
from kernelkit.tasks import TaskSpace, cpu, gpu, parray, reset_stats, spawn, stats


def _run(parla, **kw):
    with parla(**kw):
        T = TaskSpace("T")
        a = parray.asarray(np.zeros(4))
        for i in range(3):

            @spawn(T[i], placement=gpu(i), input=[a])
            def work():
                pass

        @spawn(T[3], dependencies=T[0:3], placement=cpu)
        def join():
            pass


def test_trace_file_is_valid_chrome_json(parla, tmp_path):
    path = tmp_path / "trace.json"
    _run(parla, trace=str(path))
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    assert doc["displayTimeUnit"] == "ms"
    runs = {e["name"]: e for e in events if e["ph"] == "X" and e["cat"] == "task"}
    assert set(runs) == {"T_0", "T_1", "T_2", "T_3"}
    assert all(e["dur"] >= 0 and "ts" in e for e in runs.values())
    assert runs["T_3"]["args"]["dependencies"] == ["T_0", "T_1", "T_2"]
    places = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert {"cpu(0)", "gpu(0)", "gpu(1)", "gpu(2)", "runtime"} <= places
    kinds = {(e["ph"], e.get("cat")) for e in events}
    assert ("i", "spawn") in kinds and ("i", "ready") in kinds and ("X", "copy") in kinds
    starts = [e for e in events if e["ph"] == "s"]
    ends = [e for e in events if e["ph"] == "f"]
    assert len(starts) == len(ends) == 3  # one arrow per dependency of T_3
    assert runs["T_3"]["ts"] >= max(runs[f"T_{i}"]["ts"] + runs[f"T_{i}"]["dur"] for i in range(3)) - 1e-3


def test_trace_from_the_environment(parla, tmp_path):
    path = tmp_path / "env.json"
    with config.override(trace=str(path)):
        _run(parla)
    assert json.loads(path.read_text())["traceEvents"]


def test_no_trace_by_default(parla, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run(parla)
    assert list(tmp_path.iterdir()) == []


def test_stats_count_and_time(parla):
    reset_stats()
    _run(parla)
    with pytest.raises(ValueError):
        with parla():

            @spawn()
            def fails():
                raise ValueError

            @spawn(dependencies=[fails])
            def cancelled():
                pass

    s = stats()
    assert s["tasks_spawned"] == 6 and s["tasks_completed"] == 4
    assert s["tasks_failed"] == 1 and s["tasks_cancelled"] == 1
    assert s["per_device"]["cpu(0)"]["tasks"] >= 1 and s["per_device"]["gpu(2)"]["tasks"] == 1
    assert s["task_time_s"] > 0 and s["runtime_wall_s"] > 0 and s["workers"] >= 2
