# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""@specialize: the variant is chosen by the architectures of the devices the task was mapped to."""

from __future__ import annotations

import pytest

from kernelkit.tasks import VariantDefinitionError, cpu, gpu, spawn, specialize


@specialize
def f():
    return "default"


@f.variant(gpu)
def _f_gpu():
    return "1 gpu"


@f.variant([(gpu, gpu), gpu * 3])
def _f_multi():
    return "2-3 gpus"


@f.variant((cpu, gpu))
def _f_mixed():
    return "cpu+gpu"


@specialize
def g():
    return "default"


@g.variant(architecture=cpu)
def _g_cpu():
    return "any cpus"


@pytest.mark.parametrize(
    "placement, expected",
    [
        (cpu, "default"),
        (gpu, "1 gpu"),
        ([(gpu, gpu)], "2-3 gpus"),
        (gpu * 3, "2-3 gpus"),
        ([(cpu, gpu)], "cpu+gpu"),
        ([(gpu, cpu)], "default"),
    ],
)
def test_variant_follows_the_mapped_devices(parla, placement, expected):
    with parla():

        @spawn(placement=placement)
        def t():
            return f()

    assert t.result == expected


def test_architecture_covers_every_count(parla):
    with parla():

        @spawn(placement=cpu)
        def on_cpu():
            return g()

        @spawn(placement=gpu)
        def on_gpu():
            return g()

    assert (on_cpu.result, on_gpu.result) == ("any cpus", "default")
    assert f() == "default"  # outside tasks: the default


def test_variant_definition_errors():
    @specialize
    def h():
        pass

    h.variant(gpu)(lambda: 1)
    with pytest.raises(VariantDefinitionError, match="already has a variant"):
        h.variant(gpu)(lambda: 2)
    h.variant(gpu, override=True)(lambda: 3)
    with pytest.raises(VariantDefinitionError, match="not by device"):
        h.variant(gpu(0))
    with pytest.raises(VariantDefinitionError, match="needs a target"):
        h.variant()
    with pytest.raises(VariantDefinitionError, match="not both"):
        h.variant(gpu, architecture=cpu)
