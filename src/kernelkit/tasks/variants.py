"""`@specialize`: one function, variants per architecture of the devices the calling task was mapped to.

    @specialize
    def f(): ...                      # the default
    @f.variant(gpu)                   # a task on one GPU
    def f_gpu(): ...
    @f.variant([(gpu, gpu), gpu * 3])  # a task on two or three GPUs
    def f_multi(): ...
    @f.variant(architecture=cpu)      # a task on 1..8 CPUs
    def f_cpu(): ...

Inside a task on (cpu, gpu) the variant for `(cpu, gpu)` runs; with no match (or outside tasks) the default.
"""

from __future__ import annotations

import functools
from typing import Any

from kernelkit.tasks.devices import Architecture, Device
from kernelkit.tasks.environments import get_current_devices
from kernelkit.tasks.errors import TaskTypeError


class VariantDefinitionError(TaskTypeError):
    """A variant names no architecture, or one that already has a variant."""


def _key(spec: Any) -> tuple:
    parts = spec if isinstance(spec, tuple) else (spec,)
    out = []
    for p in parts:
        if isinstance(p, Device):
            raise VariantDefinitionError(f"variants are chosen by architecture (cpu, gpu), not by device: got {p!r}")
        if not isinstance(p, Architecture):
            raise VariantDefinitionError(f"a variant's target is cpu, gpu, or a tuple of them; got {p!r}")
        out.append(p)
    return tuple(out)


class VariantFunction:
    """A function with variants; calling it runs the variant for the current task's devices."""

    def __init__(self, func: Any):
        self._default = func
        self._variants: dict[tuple, Any] = {}
        functools.update_wrapper(self, func)

    def variant(
        self,
        spec_list: Any = None,
        override: bool = False,
        architecture: Architecture | None = None,
        max_amount: int = 8,
    ):
        if architecture is not None:
            if spec_list is not None:
                raise VariantDefinitionError("give the targets or architecture=..., not both")
            spec_list = [tuple([architecture] * i) for i in range(1, max_amount + 1)]
        if spec_list is None:
            raise VariantDefinitionError("variant() needs a target: f.variant(gpu), f.variant([cpu, (gpu, gpu)])")
        specs = spec_list if isinstance(spec_list, list) else [spec_list]
        keys = [_key(s) for s in specs]
        taken = [k for k in keys if k in self._variants]
        if taken and not override:
            raise VariantDefinitionError(f"{self._default.__name__} already has a variant for {taken[0]}")

        def register(f: Any) -> Any:
            for k in keys:
                self._variants[k] = f
            return f

        return register

    def get_variant(self, key: tuple) -> Any:
        return self._variants.get(key, self._default)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        devices = get_current_devices()
        if not devices:
            return self._default(*args, **kwargs)
        key = tuple(d().arch for d in devices)
        return self._variants.get(key, self._default)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self._default.__name__} specialized for {list(self._variants)}>"


def specialize(func: Any) -> VariantFunction:
    """Make `func` the default implementation of a function with per-architecture variants."""
    return VariantFunction(func)
