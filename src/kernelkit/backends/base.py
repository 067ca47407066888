"""The backend interface and registry.

A backend runs one launch: (workunit, pattern, policy bounds, keyword arguments, reducer, initial value). The
compiled backends keep per-workunit lists of native specializations that the C launcher matches directly; the
Debug backend interprets. Spaces name backends; an unknown name lists the known ones.
"""

from __future__ import annotations

import importlib
from typing import Any

from kernelkit.errors import KernelValueError, SpaceUnavailable


class Backend:
    name: str = ""

    def available(self) -> tuple[bool, str]:
        """(usable here, why / details)."""
        return True, ""

    def launch(self, wu, pattern: str, lo, hi, tile, kwargs: dict, reducer, init) -> Any:
        raise NotImplementedError

    def fence(self) -> None:
        pass


# name -> "module:Class": backends are imported on first use, so `import kernelkit` stays cheap
_REGISTRY: dict[str, str] = {
    "debug": "kernelkit.backends.debug.backend:DebugBackend",
    "serial": "kernelkit.backends.openmp.backend:SerialBackend",
    "openmp": "kernelkit.backends.openmp.backend:OpenMPBackend",
    "cuda": "kernelkit.backends.cuda.backend:CudaBackend",
    "cudacheck": "kernelkit.backends.cuda.check:CudaCheckBackend",  # NVRTC compile check, runs on OpenMP
}
_instances: dict[str, Backend] = {}


def register(name: str, target: str) -> None:
    _REGISTRY[name] = target


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str) -> Backend:
    b = _instances.get(name)
    if b is not None:
        return b
    target = _REGISTRY.get(name)
    if target is None:
        raise KernelValueError(f"unknown execution space {name!r}; known: {', '.join(_REGISTRY)}")
    mod, cls = target.split(":")
    try:
        b = getattr(importlib.import_module(mod), cls)()
    except ImportError as e:
        raise SpaceUnavailable(f"the {name} space is not available in this installation: {e}") from None
    _instances[name] = b
    return b


def space_report() -> list[dict]:
    """Every registered space: name, whether it is usable here, and details (for `kernelkit info`)."""
    out = []
    for name in _REGISTRY:
        try:
            ok, detail = get(name).available()
        except Exception as e:  # a broken optional backend must not break `kernelkit info`
            ok, detail = False, f"{type(e).__name__}: {e}"
        out.append({"name": name, "available": ok, "detail": detail})
    return out
