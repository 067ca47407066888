# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""Devices and placement: cpu, gpu, gpu(i), gpu * n, alternatives, tuples (one task on several devices),
per-option resources, VCU capacity, logical GPUs (argument, KERNELKIT_VIRTUAL_GPUS, a device file), the CPU
standing in for `gpu` without GPUs, and the errors of a bad placement."""

from __future__ import annotations

import threading

import pytest

from kernelkit import config
from kernelkit.tasks import (
    DeviceType,
    PlacementError,
    TaskSpace,
    TaskTypeError,
    cpu,
    cuda,
    get_current_context,
    get_current_devices,
    get_device_manager,
    gpu,
    spawn,
)
from kernelkit.tasks.devices import MultiDevice, placement_options


def _where(task):
    return [repr(d) for d in task.devices]


def test_architectures_and_devices():
    assert cuda is gpu
    assert gpu == DeviceType.CUDA and cpu == DeviceType.CPU and gpu != cpu
    d = gpu(2)
    assert d.get_global_id() == 3 and cpu(0).get_global_id() == 0
    assert d() is d and d.architecture is gpu
    two = gpu * 2
    assert isinstance(two, MultiDevice) and tuple(two) == (gpu, gpu)
    with pytest.raises(TaskTypeError):
        gpu(-1)
    with pytest.raises(TaskTypeError, match="unknown resource"):
        gpu[{"cores": 2}]


def test_global_ids_inside_tasks(parla):
    ids = {}
    with parla():
        for i in range(4):

            @spawn(placement=gpu(i))
            def t():
                ids[i] = get_current_context()().get_global_id()

        @spawn(placement=cpu)
        def c():
            ids["cpu"] = get_current_context()().get_global_id()

    assert ids == {0: 1, 1: 2, 2: 3, 3: 4, "cpu": 0}


def test_logical_gpus_from_the_argument_and_the_environment(parla):
    with parla(virtual_gpus=3):
        assert [repr(d) for d in get_device_manager().gpus] == ["gpu(0)", "gpu(1)", "gpu(2)"]
        assert all(d.host_backed for d in get_device_manager().gpus) or get_device_manager().n_physical
    with config.override(virtual_gpus="2"):
        with parla(virtual_gpus=None):
            assert len(get_device_manager().gpus) == 2
    with config.override(virtual_gpus="two"):
        with pytest.raises(PlacementError, match="KERNELKIT_VIRTUAL_GPUS"):
            with parla(virtual_gpus=None):
                pass


def test_without_gpus_gpu_names_the_cpu(parla):
    from kernelkit.backends.cuda import driver

    if driver.device_count():
        pytest.skip("a GPU is present: gpu names it")
    with parla(virtual_gpus=0):

        @spawn(placement=gpu)
        def t():
            return get_current_context()()

    assert t.result == cpu(0) or repr(t.result) == "cpu(0)"


def test_device_file(parla, tmp_path):
    f = tmp_path / "devices.yaml"
    f.write_text("CPU:\n  num_cores: 8\n  mem_sz: 1000000\nGPU:\n  num_devices: 2\n  mem_sz: [5000, 6000]\n")
    with parla(dev_config_file=str(f), virtual_gpus=None):
        m = get_device_manager()
        assert [d.memory for d in m.gpus] == [5000, 6000]
        assert m.cpu.memory == 1000000
        with pytest.raises(PlacementError, match="no option fits"):
            spawn(placement=gpu(0), memory=5001)
    bad = tmp_path / "bad.yaml"
    bad.write_text("GPU:\n  num_devices: 2\n  mem_sz: [1]\n")
    with pytest.raises(PlacementError, match="2 GPUs"):
        with parla(dev_config_file=str(bad)):
            pass


def test_alternatives_and_tuples(parla):
    with parla():
        T = TaskSpace("T")

        @spawn(T[0], placement=[(cpu, gpu(2))])
        def pair():
            return [repr(e()) for e in get_current_devices()]

        @spawn(T[1], placement=gpu * 3)
        def three():
            return len(get_current_devices())

        @spawn(T[2], placement=[gpu(1), cpu])
        def alt():
            pass

    assert pair.result == ["cpu(0)", "gpu(2)"]
    assert three.result == 3
    assert _where(T[2]) in (["gpu(1)"], ["cpu(0)"])


def test_placement_options_expand_architectures():
    from kernelkit.tasks.devices import DeviceManager

    m = DeviceManager(virtual_gpus=3)
    assert [tuple(repr(s.device) for s in o) for o in placement_options(gpu, manager=m)] == [
        ("gpu(0)",),
        ("gpu(1)",),
        ("gpu(2)",),
    ]
    pairs = [tuple(repr(s.device) for s in o) for o in placement_options([(gpu, gpu)], manager=m)]
    assert pairs == [("gpu(0)", "gpu(1)"), ("gpu(0)", "gpu(2)"), ("gpu(1)", "gpu(2)")]
    mixed = placement_options([(cpu, gpu(1))], manager=m)
    assert [tuple(repr(s.device) for s in o) for o in mixed] == [("cpu(0)", "gpu(1)")]
    # a device that does not exist drops its option (as in Parla); none left is an error
    assert len(placement_options([(gpu(0), gpu(7)), gpu(1)], manager=m)) == 1
    with pytest.raises(PlacementError, match="names no device that exists here"):
        placement_options(gpu(7), manager=m)
    with pytest.raises(TaskTypeError, match="placement entries"):
        placement_options(["gpu"], manager=m)


def test_per_option_resources_and_spawn_defaults():
    from kernelkit.tasks.devices import DeviceManager

    m = DeviceManager(virtual_gpus=2)
    opts = placement_options([cpu, gpu(0)[{"vcus": 0.5, "memory": 1}], gpu(1)], vcus=1, memory=300, manager=m)
    got = [(repr(o[0].device), o[0].vcus, o[0].memory) for o in opts]
    assert got == [("cpu(0)", 1000, 300), ("gpu(0)", 500, 1), ("gpu(1)", 1000, 300)]
    assert placement_options(cpu, vcus=250, manager=m)[0][0].vcus == 250  # above 1: VCUs, as Parla
    with pytest.raises(PlacementError, match="no option fits"):
        placement_options(cpu, vcus=1500, manager=m)
    with pytest.raises(TaskTypeError, match="vcus"):
        placement_options(cpu, vcus=-1, manager=m)


def test_vcus_limit_how_many_tasks_share_a_device(parla):
    active = [0, 0]  # now, most
    lock = threading.Lock()
    with parla(n_workers=3):
        for _ in range(6):

            @spawn(placement=cpu, vcus=0.75)
            def heavy():
                with lock:
                    active[0] += 1
                    active[1] = max(active[1], active[0])
                for _ in range(2000):
                    pass
                with lock:
                    active[0] -= 1

    assert active[1] == 1  # 0.75 + 0.75 > 1 device: never two at once


def test_fractional_vcus_let_tasks_overlap(parla, gate):
    gate = gate(2)
    with parla(n_workers=2):
        for _ in range(2):

            @spawn(placement=cpu, vcus=0.5)
            def half():
                gate.arrive()  # both halves run at the same time, or the barrier breaks
