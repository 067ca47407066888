# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""Inside a task: get_current_task/context/devices/stream, the task's environment, and kernelkit launches that
name no space running on the task's device."""

from __future__ import annotations

import numpy as np

import kernelkit as pk
from kernelkit.tasks import (
    DeviceEnvironment,
    HostStream,
    TaskEnvironment,
    cpu,
    get_current_context,
    get_current_devices,
    get_current_stream,
    get_current_task,
    gpu,
    spawn,
)


def test_outside_tasks_nothing_is_current():
    assert get_current_task() is None and get_current_context() is None
    assert get_current_devices() == [] and get_current_stream() is None


def test_current_task_context_devices_and_stream(parla):
    with parla():

        @spawn(placement=gpu(1))
        def one():
            ctx = get_current_context()
            assert isinstance(ctx, DeviceEnvironment)
            devs = get_current_devices()
            stream = get_current_stream()
            stream.synchronize()  # a GPU stream, or the host stand-in with the same methods
            return get_current_task(), repr(ctx), devs[0]().get_global_id(), type(stream).__name__

        @spawn(placement=[(cpu, gpu(0), gpu(3))])
        def several():
            ctx = get_current_context()
            assert isinstance(ctx, TaskEnvironment) and len(ctx) == 3
            assert gpu(3) in ctx and gpu(2) not in ctx
            names = [repr(e()) for e in ctx.devices]
            inner = []
            for _env in ctx.loop():
                inner.append(repr(get_current_context()()))
            return names, inner, sorted(ctx.global_ids)

    task, ctx, gid, stream = one.result
    assert task is one and gid == 2 and ctx == "GPUEnvironment(gpu(1))"
    assert stream in ("HostStream", "Stream")
    names, inner, ids = several.result
    assert names == ["cpu(0)", "gpu(0)", "gpu(3)"] and inner == names and ids == [0, 1, 4]


def test_parfor_runs_once_per_device(parla):
    with parla():

        @spawn(placement=[(gpu(0), gpu(1))])
        def t():
            seen = []

            @get_current_context().parfor()
            def per_device(env):
                seen.append(env().index)

            return sorted(seen)

    assert t.result == [0, 1]


def test_launches_without_a_space_run_on_the_task_device(parla):
    @pk.workunit
    def fill(i, x, v):
        x[i] = v

    x = np.zeros(16)
    with parla():

        @spawn(placement=gpu(0))
        def on_gpu():
            pk.parallel_for(16, fill, x=x, v=3.0)  # the fast path: an int policy, no space
            return pk.get_default_space()

        @spawn(placement=cpu, dependencies=[on_gpu])
        def on_cpu():
            return pk.get_default_space()

    assert np.all(x == 3.0)
    # a logical GPU backed by the host runs kernels on OpenMP; a physical one on its Cuda device (and stream)
    assert on_gpu.result.name in ("OpenMP", "Cuda")
    assert on_cpu.result.name in ("OpenMP", "Serial", "Debug", pk.get_default_space().name)
    assert isinstance(HostStream(cpu(0)).stream, HostStream)
