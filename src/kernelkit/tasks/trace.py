"""Where the time went: `stats()` (counts and times of tasks, kept always) and a Chrome/Perfetto trace
(`KERNELKIT_TRACE=trace.json`, or `Parla(trace="trace.json")`), written when the Parla context ends.

The trace has one process per device (cpu(0), gpu(0), ...) with one track per worker thread: a slice per task
run (name, args: the task's dependencies and the time from spawn to ready to start), instant events for spawn
and ready, flow arrows from each dependency to its dependents, slices for data prefetches, and a slice per copy
of PArray data on the destination place (`copy gpu(1)->cpu(0)`, with the bytes and the array). Open it at
https://ui.perfetto.dev or chrome://tracing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

_T0 = time.perf_counter()


def _us(t: float) -> float:
    return round((t - _T0) * 1e6, 3)


class Stats:
    """Counters of the task runtime since the last `reset_stats()`, across Parla contexts."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.spawned = 0
        self.completed = 0
        self.failed = 0
        self.cancelled = 0
        self.suspensions = 0
        self.run_s = 0.0
        self.wait_s = 0.0  # spawn -> start, summed over tasks that ran
        self.max_workers = 0
        self.per_device: dict[str, list[float]] = {}  # name -> [tasks, busy seconds]
        self.wall_s = 0.0
        self.copies: dict[tuple[str, str], list[float]] = {}  # (src, dst) -> [copies, bytes, seconds]

    def as_dict(self) -> dict[str, Any]:
        ran = self.completed + self.failed
        return {
            "tasks_spawned": self.spawned,
            "tasks_completed": self.completed,
            "tasks_failed": self.failed,
            "tasks_cancelled": self.cancelled,
            "suspensions": self.suspensions,
            "task_time_s": self.run_s,
            "mean_task_us": (self.run_s / ran * 1e6) if ran else 0.0,
            "mean_spawn_to_start_us": (self.wait_s / ran * 1e6) if ran else 0.0,
            "workers": self.max_workers,
            "runtime_wall_s": self.wall_s,
            "per_device": {k: {"tasks": int(v[0]), "busy_s": v[1]} for k, v in sorted(self.per_device.items())},
            "copies": sum(int(v[0]) for v in self.copies.values()),
            "copy_bytes": sum(int(v[1]) for v in self.copies.values()),
            "copy_time_s": sum(v[2] for v in self.copies.values()),
            "copies_per_pair": {
                f"{a}->{b}": {"copies": int(v[0]), "bytes": int(v[1]), "time_s": v[2]}
                for (a, b), v in sorted(self.copies.items())
            },
        }


_stats = Stats()


def stats() -> dict[str, Any]:
    """Counts and times of tasks: spawned, completed, failed, cancelled; summed and mean task time; mean time
    from spawn to start; per device the tasks run and the busy time; workers; the time inside Parla contexts;
    copies of PArray data (`copies`, `copy_bytes`, `copy_time_s`, and per "src->dst" pair `copies_per_pair`)."""
    return _stats.as_dict()


_copy_lock = threading.Lock()
_active: list[Trace | None] = [None]  # the trace of the running Parla context (set by the runtime)


def record_copy(src: str, dst: str, nbytes: int, t0: float, t1: float, what: str) -> None:
    """Count a copy of PArray data (and show it in the running context's trace, on the destination place)."""
    with _copy_lock:
        row = _stats.copies.get((src, dst))
        if row is None:
            row = _stats.copies[(src, dst)] = [0, 0, 0.0]
        row[0] += 1
        row[1] += nbytes
        row[2] += t1 - t0
    tr = _active[0]
    if tr is not None and tr.enabled:
        from kernelkit.tasks.environments import get_current_task

        task = get_current_task()
        worker = task.worker if task is not None else -1
        args = {"bytes": nbytes, "array": what, "task": task.name if task is not None else None}
        tr.slice(f"copy {src}->{dst}", "copy", t0, t1, dst, worker, args)


def reset_stats() -> None:
    _stats.reset()


class Trace:
    """Chrome trace events of one Parla context (kept in memory, written at its end)."""

    def __init__(self, path: str | None):
        self.path = path
        self.enabled = bool(path)
        self.events: list[dict[str, Any]] = []
        self._pids: dict[str, int] = {}
        self._tids: set[tuple[int, int]] = set()
        self._lock = threading.Lock()
        self._flow = 0

    def _pid(self, place: str) -> int:
        pid = self._pids.get(place)
        if pid is None:
            with self._lock:
                pid = self._pids.setdefault(place, len(self._pids) + 1)
        return pid

    def _track(self, place: str, worker: int) -> tuple[int, int]:
        pid = self._pid(place)
        key = (pid, worker)
        if key not in self._tids:
            self._tids.add(key)
            self.events.append(
                {
                    "ph": "M",
                    "name": "thread_name",
                    "pid": pid,
                    "tid": worker,
                    "args": {"name": f"worker {worker}" if worker >= 0 else "spawner"},
                }
            )
        return key

    def instant(
        self, name: str, cat: str, t: float, place: str = "runtime", worker: int = -1, args: dict | None = None
    ) -> None:
        pid, tid = self._track(place, worker)
        self.events.append(
            {"ph": "i", "s": "t", "name": name, "cat": cat, "ts": _us(t), "pid": pid, "tid": tid, "args": args or {}}
        )

    def slice(
        self, name: str, cat: str, t0: float, t1: float, place: str, worker: int, args: dict | None = None
    ) -> None:
        pid, tid = self._track(place, worker)
        self.events.append(
            {
                "ph": "X",
                "name": name,
                "cat": cat,
                "ts": _us(t0),
                "dur": round((t1 - t0) * 1e6, 3),
                "pid": pid,
                "tid": tid,
                "args": args or {},
            }
        )

    def task(self, task: Any, place: str) -> None:
        """A task's run slice, its spawn/ready instants and flow arrows from its dependencies."""
        w = task.worker
        deps = [d.name for d in task.dependencies]
        self.instant(f"spawn {task.name}", "spawn", task.t_spawn, "runtime", -1)
        self.instant(f"ready {task.name}", "ready", task.t_ready, place, w)
        self.slice(
            task.name,
            "task",
            task.t_start,
            task.t_end,
            place,
            w,
            {
                "devices": [repr(d) for d in task.devices],
                "dependencies": deps,
                "spawn_to_ready_us": round((task.t_ready - task.t_spawn) * 1e6, 3),
                "ready_to_start_us": round((task.t_start - task.t_ready) * 1e6, 3),
                "state": type(task.state).__name__,
            },
        )
        pid, tid = self._track(place, w)
        task.trace_end = (pid, tid, _us(task.t_end))
        for d in task.dependencies:
            end = d.trace_end
            if end is None:
                continue
            with self._lock:
                self._flow += 1
                fid = self._flow
            self.events.append(
                {
                    "ph": "s",
                    "id": fid,
                    "name": "dependency",
                    "cat": "dependency",
                    "ts": end[2],
                    "pid": end[0],
                    "tid": end[1],
                }
            )
            self.events.append(
                {
                    "ph": "f",
                    "bp": "e",
                    "id": fid,
                    "name": "dependency",
                    "cat": "dependency",
                    "ts": _us(task.t_start),
                    "pid": pid,
                    "tid": tid,
                }
            )

    def write(self) -> None:
        if not self.enabled or not self.path:
            return
        meta = [
            {"ph": "M", "name": "process_name", "pid": pid, "args": {"name": place}}
            for place, pid in self._pids.items()
        ]
        doc = {"traceEvents": meta + self.events, "displayTimeUnit": "ms", "otherData": {"producer": "kernelkit.tasks"}}
        tmp = f"{self.path}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, self.path)
