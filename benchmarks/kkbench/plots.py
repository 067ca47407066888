"""PNG charts of a report (its JSON form), with matplotlib when it is installed.

- `ratio-<space>.png`: every version's rate over the reference's (hand-written C/OpenMP or CUDA), per
  benchmark, on a log axis with the reference at 1 and kernelkit's 0.95 target marked;
- `bandwidth-<space>.png`: the bandwidth-bound benchmarks as a fraction of the space's achievable bandwidth
  (the best copy rate of the run);
- `scaling.png`: speedup over one thread against threads, kernelkit and C, one panel per benchmark.
"""

from __future__ import annotations

import math
import os
from typing import Any

COLORS = {
    "c-openmp": "#444444",
    "cuda": "#444444",
    "cuda-tiled": "#888888",
    "c-memcpy": "#888888",
    "cuda-memcpy": "#aaaaaa",
    "kernelkit": "#d62728",
    "kernelkit-team": "#ff7f0e",
    "kernelkit-teamvector": "#e377c2",
    "kernelkit-threadvector": "#8c564b",
    "numba": "#1f77b4",
    "numpy": "#2ca02c",
    "cupy": "#2ca02c",
    "warp": "#9467bd",
}
TARGET = 0.95


def _ok(results: list[dict[str, Any]], space: str) -> list[dict[str, Any]]:
    return [r for r in results if r["space"] == space and r["status"] == "ok"]


ORDER = list(COLORS)
MARKERS = {"kernelkit": "o", "kernelkit-team": "s", "kernelkit-teamvector": "D", "kernelkit-threadvector": "^"}


def _frameworks(rows: list[dict[str, Any]]) -> list[str]:
    present = {r["framework"] for r in rows}
    return [f for f in ORDER if f in present] + sorted(present - set(ORDER))


def _dots(ax: Any, rows: list[dict[str, Any]], value: str) -> list[str]:
    """One row per benchmark, one marker per framework (slightly offset so that equal values stay visible)."""
    benches = list(dict.fromkeys(r["benchmark"] for r in rows))
    frameworks = _frameworks(rows)
    spread = 0.6 / max(len(frameworks), 1)
    for k, fw in enumerate(frameworks):
        ys, xs = [], []
        for b, bench in enumerate(benches):
            r = next((r for r in rows if r["benchmark"] == bench and r["framework"] == fw), None)
            if r is not None and r.get(value) is not None:
                ys.append(b - 0.3 + (k + 0.5) * spread)
                xs.append(r[value])
        big = fw.startswith("kernelkit")
        ax.scatter(
            xs,
            ys,
            label=fw,
            color=COLORS.get(fw),
            marker=MARKERS.get(fw, "|" if not big else "o"),
            s=60 if big else 90,
            zorder=3,
            linewidths=2,
        )
    ax.set_yticks(range(len(benches)))
    ax.set_yticklabels(benches)
    ax.set_ylim(len(benches) - 0.5, -0.5)
    for b in range(len(benches) - 1):
        ax.axhline(b + 0.5, color="#eeeeee", linewidth=0.8, zorder=1)
    return benches


def _height(rows: list[dict[str, Any]]) -> float:
    return min(14.0, 0.42 * len({r["benchmark"] for r in rows}) + 1.8)


def ratio_chart(data: dict[str, Any], space: str, path: str) -> bool:
    import matplotlib.pyplot as plt

    rows = [r for r in _ok(data["results"], space) if r.get("ratio_to_reference") is not None]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(9, _height(rows)))
    ref = next(r["reference"] for r in rows)
    ax.axvline(1.0, color="black", linewidth=1, zorder=2)
    ax.axvline(TARGET, color="#d62728", linestyle="--", linewidth=1, label=f"kernelkit target {TARGET}x", zorder=2)
    _dots(ax, [r for r in rows if r["framework"] != ref], "ratio_to_reference")
    ax.set_xscale("log")
    ax.set_xlabel(f"rate / rate of {ref} (same run; right of 1 is faster)")
    gpu = ((data.get("machine") or {}).get("gpu") or {}).get("name")
    where = gpu if space == "cuda" and gpu else (data.get("machine") or {}).get("cpu", "")
    ax.set_title(f"kernelkit bench, {space}: ratio to the hand-written {ref}\n{where}", fontsize=10)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def bandwidth_chart(data: dict[str, Any], space: str, path: str) -> bool:
    import matplotlib.pyplot as plt

    rows = [r for r in _ok(data["results"], space) if r.get("fraction_of_achievable") is not None]
    ceiling = (data.get("ceilings") or {}).get(space)
    if not rows or not ceiling:
        return False
    fig, ax = plt.subplots(figsize=(9, _height(rows)))
    ax.axvline(1.0, color="black", linewidth=1, zorder=2)
    _dots(ax, rows, "fraction_of_achievable")
    ax.set_xlim(0, max(1.1, max(r["fraction_of_achievable"] for r in rows) * 1.05))
    ax.set_xlabel(
        f"fraction of the achievable bandwidth ({ceiling['GBs']:.0f} GB/s: best copy, {ceiling['framework']})"
    )
    ax.set_title(f"kernelkit bench, {space}: bandwidth-bound benchmarks", fontsize=10)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def scaling_chart(data: dict[str, Any], path: str) -> bool:
    import matplotlib.pyplot as plt

    rows = [r for r in data.get("scaling") or [] if r["status"] == "ok" and r.get("rate")]
    if not rows:
        return False
    benches = list(dict.fromkeys(r["benchmark"] for r in rows))
    counts = sorted({r["threads"] for r in rows})
    cols = min(3, len(benches))
    nrows = math.ceil(len(benches) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3.3 * nrows), squeeze=False)
    for k, bench in enumerate(benches):
        ax = axes[k // cols][k % cols]
        ax.plot(counts, counts, color="#bbbbbb", linestyle=":", label="linear")
        for fw in dict.fromkeys(r["framework"] for r in rows if r["benchmark"] == bench):
            pts = sorted((r["threads"], r["rate"]) for r in rows if r["benchmark"] == bench and r["framework"] == fw)
            base = next((rate for t, rate in pts if t == 1), None)
            if not base:
                continue
            ax.plot(
                [t for t, _ in pts],
                [rate / base for _, rate in pts],
                marker="o",
                label=fw,
                color=COLORS.get(fw),
            )
        ax.set_title(bench, fontsize=10)
        ax.set_xticks(counts)
        ax.set_xlabel("threads")
        ax.set_ylabel("speedup over 1 thread")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for k in range(len(benches), nrows * cols):
        axes[k // cols][k % cols].axis("off")
    cpu = (data.get("machine") or {}).get("cpu", "")
    fig.suptitle(f"kernelkit bench: thread scaling (OpenMP), {cpu}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_all(data: dict[str, Any], directory: str) -> tuple[list[str], str | None]:
    """Write every chart the report has data for; returns (paths written, why none could be)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        return [], (
            "matplotlib not installed: no plots (pip install matplotlib; or plot later with "
            "`kernelkit bench --from-json REPORT.json --plot DIR` where it is)"
        )
    os.makedirs(directory, exist_ok=True)
    written = []
    spaces = list(dict.fromkeys(r["space"] for r in data.get("results") or []))
    for space in spaces:
        path = os.path.join(directory, f"ratio-{space}.png")
        if ratio_chart(data, space, path):
            written.append(path)
        path = os.path.join(directory, f"bandwidth-{space}.png")
        if bandwidth_chart(data, space, path):
            written.append(path)
    from .gpu_sweep import sweep_chart

    path = os.path.join(directory, "sweep-cuda.png")
    if sweep_chart(data, path):
        written.append(path)
    path = os.path.join(directory, "scaling.png")
    if scaling_chart(data, path):
        written.append(path)
    return written, None
