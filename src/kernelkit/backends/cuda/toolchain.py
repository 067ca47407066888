"""The CUDA toolchain as the cache key sees it: NVRTC's target for an architecture, without loading NVRTC.

NVRTC is loaded only to compile. A warm start (every kernel already in the cache) must not pay its ~20 ms load,
yet the key needs NVRTC's identity and the target it would compile for (a cubin for `sm_XX`, or PTX for a GPU
newer than NVRTC). Both are memoized in a private record of the cache (`records`, given by the build), keyed by
the library file's path, size and mtime: a different or updated NVRTC is a different key.
"""

from __future__ import annotations

import os

from kernelkit.backends.base import Records
from kernelkit.backends.cuda import nvrtc

RECORD = "nvrtc"
_memo: dict[str, tuple[str, bool, str]] = {}


def _light_key(path: str) -> str | None:
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return None
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"


def recorded(records: Records) -> bool:
    """True when an earlier process recorded an NVRTC library that is still on disk."""
    record = records.read(RECORD) or {}
    return any(os.path.exists(k.rsplit(":", 2)[0]) for k in record)


def target(arch: str, records: Records) -> tuple[str, bool, str]:
    """(target, is_ptx, NVRTC identity) for `arch` ("sm_90")."""
    hit = _memo.get(arch)
    if hit is not None:
        return hit
    record = records.read(RECORD) or {}
    if nvrtc._lib is None:  # a recorded library that is still the same file: no sys.path scan, no dlopen
        for light, archs in record.items():
            if isinstance(archs, dict) and arch in archs and _light_key(light.rsplit(":", 2)[0]) == light:
                entry = archs[arch]
                _memo[arch] = result = (str(entry[0]), bool(entry[1]), str(entry[2]))
                return result
    tgt, is_ptx = nvrtc.target_for(arch)
    _memo[arch] = result = (tgt, is_ptx, nvrtc.identity())
    path = nvrtc.library_path()
    light = _light_key(path) if path else None
    if light is not None:
        archs = record.get(light)
        record[light] = dict(archs if isinstance(archs, dict) else {}, **{arch: list(result)})
        records.write(RECORD, record)
    return result
