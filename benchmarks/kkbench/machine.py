"""What the numbers were measured on: CPU, cores, memory, compiler, versions, threads."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cache_sizes() -> dict[str, str]:
    sizes: dict[str, str] = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in sorted(os.listdir(base)):
            path = os.path.join(base, entry)
            try:
                with open(os.path.join(path, "level")) as f:
                    level = f.read().strip()
                with open(os.path.join(path, "type")) as f:
                    kind = f.read().strip()
                with open(os.path.join(path, "size")) as f:
                    size = f.read().strip()
            except OSError:
                continue
            name = f"L{level}" + ({"Data": "d", "Instruction": "i"}.get(kind, ""))
            sizes[name] = size
    except OSError:
        pass
    return sizes


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def version_of(dist: str) -> str | None:
    """Installed version of a distribution, or None (without importing it)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_revision() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(
            ["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def load_average() -> list[float] | None:
    """The 1/5/15-minute load averages: other work on the machine shows here, and in the figures."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_info(threads: int | None = None, compiler: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-ready description of this machine and software stack."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    try:
        import kernelkit

        kk_version = getattr(kernelkit, "__version__", None) or version_of("kernelkit")
    except ImportError:
        kk_version = version_of("kernelkit")
    import numpy

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "os": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "caches": _cache_sizes(),
        "memory_gib": _memory_gib(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "kernelkit": kk_version,
        "kernelkit_git": _git_revision(),
        "numpy": numpy.__version__,
        "numba": version_of("numba"),
        "warp": version_of("warp-lang"),
        "cupy": next((v for v in map(version_of, ("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x")) if v), None),
        "matplotlib": version_of("matplotlib"),
        "compiler": compiler,
        "threads": threads,
        "load_average": load_average(),
        "env": {
            k: v for k, v in os.environ.items() if k.startswith(("OMP_", "KERNELKIT_", "NUMBA_", "GOMP_", "CUDA_"))
        },
    }
