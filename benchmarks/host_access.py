"""Host element access from Python: kernelkit Views beside NumPy arrays, in the same run.

    python benchmarks/host_access.py [--number N] [--repeat R] [--json PATH] [--markdown PATH]

Every access kind (`v[i]`, `v[i, j, k]`, `v[i][j][k]`, read and write, Python floats and ints stored into
float64, ints into int32) is timed on a NumPy array and on kernelkit Views of the same shape and dtype:

- `host`: a HostSpace View (no copy elsewhere);
- `device`: a CudaSpace View whose host copy is current and that also has a copy on a GPU (the real one when
  CUDA is usable, else a logical device backed by host memory, which sets the very same coherence flags);
- `host+subviews`: the host View while 10,000 of its subviews are alive (per-element work must not grow with
  them).

Each figure is the best of `--repeat` rounds of `--number` executions of one statement; the rounds of all the
versions of one kind are interleaved, so load on the machine hits them alike. The ratio is the View's time over
NumPy's; the performance contract (DESIGN.md section 6) is <= 1.5. Exit status 1 when a ratio is above it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import timeit

import numpy as np

import kernelkit as pk
from kernelkit.backends.base import HostBackedPlace
from kernelkit.runtime import coherence

TARGET = 1.5

# (name, statement with `a` the array, the shape, the dtype, the value stored as `x`)
KINDS: list[tuple[str, str, tuple[int, ...], object, object]] = [
    ("v[i] = x", "a[i] = x", (4096,), np.float64, 1.5),
    ("x = v[i]", "x = a[i]", (4096,), np.float64, None),
    ("v[i, j, k] = x", "a[i, j, k] = x", (64, 32, 16), np.float64, 1.5),
    ("x = v[i, j, k]", "x = a[i, j, k]", (64, 32, 16), np.float64, None),
    ("v[i][j][k] = x", "a[i][j][k] = x", (64, 32, 16), np.float64, 1.5),
    ("x = v[i][j][k]", "x = a[i][j][k]", (64, 32, 16), np.float64, None),
    ("v[i][j] = x", "a[i][j] = x", (256, 16), np.float64, 1.5),
    ("x = v[i][j]", "x = a[i][j]", (256, 16), np.float64, None),
    ("v[i] = 1 (int into float64)", "a[i] = x", (4096,), np.float64, 1),
    ("v[i, j] = 7 (int into int32)", "a[i, j] = x", (256, 16), np.int32, 7),
    ("x = v[i, j] (int32)", "x = a[i, j]", (256, 16), np.int32, None),
]


def device_place():
    """(place, words): the GPU when CUDA is usable, else a logical device backed by host memory."""
    place = coherence.gpu_place()
    if place is not None:
        return place, f"GPU {place.device}"
    return HostBackedPlace(4096), "logical device (host memory; the same flags as a GPU copy)"


def versions(shape, dtype, place) -> dict[str, object]:
    out: dict[str, object] = {"numpy": np.zeros(shape, dtype=dtype)}
    host = pk.View(list(shape), dtype, space=pk.HostSpace)
    out["host"] = host
    dev = pk.View(list(shape), dtype, space=pk.CudaSpace, layout=pk.LayoutRight)
    dev.fill(0)
    coherence.ensure(dev, place)  # a current copy there, and the host copy current too
    assert dev._flags & coherence.HAS_DEVICE and not dev._flags & coherence.HOST_STALE
    out["device"] = dev
    alive = [host[n % shape[0]] if len(shape) > 1 else host[n % shape[0] :] for n in range(10_000)]
    out["host+subviews"] = (host, alive)
    return out


def measure(number: int, repeat: int) -> tuple[list[dict], str]:
    place, where = device_place()
    rows = []
    for name, stmt, shape, dtype, value in KINDS:
        idx = {"i": shape[0] // 3, "j": shape[1] // 2 if len(shape) > 1 else 0, "k": shape[-1] - 2}
        vs = versions(shape, dtype, place)
        timers = {}
        for label, obj in vs.items():
            arr = obj[0] if isinstance(obj, tuple) else obj
            env = dict(idx, a=arr, x=value)
            timers[label] = timeit.Timer(stmt, globals=env)
        best = dict.fromkeys(timers, float("inf"))
        for _ in range(repeat):
            for label, t in timers.items():
                best[label] = min(best[label], t.timeit(number) / number)
        dev = vs["device"]
        if value is not None:
            # one write marked the device copy stale; the host copy stayed current the whole time
            assert dev._flags & coherence.DEVICE_STALE and not dev._flags & coherence.HOST_STALE
            check = np.asarray(dev)[tuple(idx[c] for c in "ijk"[: len(shape)])]
            assert check == value, (name, check, value)
        ns = {k: v * 1e9 for k, v in best.items()}
        rows.append(
            {
                "kind": name,
                "numpy_ns": ns["numpy"],
                "host_ns": ns["host"],
                "device_ns": ns["device"],
                "subviews_ns": ns["host+subviews"],
                "host_ratio": best["host"] / best["numpy"],
                "device_ratio": best["device"] / best["numpy"],
                "subviews_ratio": best["host+subviews"] / best["numpy"],
            }
        )
    return rows, where


def table(rows: list[dict]) -> str:
    lines = [
        "| access | NumPy ns | host View ns (ratio) | CudaSpace View ns (ratio) | with 10k subviews alive ns (ratio) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['kind']}` | {r['numpy_ns']:.0f} | {r['host_ns']:.0f} ({r['host_ratio']:.2f}x) | "
            f"{r['device_ns']:.0f} ({r['device_ratio']:.2f}x) | {r['subviews_ns']:.0f} ({r['subviews_ratio']:.2f}x) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--number", type=int, default=20_000, help="executions per round (default 20000)")
    p.add_argument("--repeat", type=int, default=9, help="rounds; the best is kept (default 9)")
    p.add_argument("--json", help="write every figure here")
    p.add_argument("--markdown", help="write the table here")
    a = p.parse_args(argv)
    rows, where = measure(a.number, a.repeat)
    text = table(rows)
    worst = max(max(r["host_ratio"], r["device_ratio"], r["subviews_ratio"]) for r in rows)
    print(f"host element access, best of {a.repeat} x {a.number}; device copy on: {where}")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}")
    print(text)
    print(f"worst ratio {worst:.2f} (target <= {TARGET})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"where": where, "rows": rows, "numpy": np.__version__, "python": sys.version}, f, indent=1)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text + "\n")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
