"""Issue 16's "Done means" from harness reports: `python3 tools/device/issue16_summary.py OUT.json REPORT.json...`.

Prints one line per figure (value, target, whether it holds) and writes them as JSON. The ratios are
kernelkit's rate over the hand-written CUDA kernel's in the same run (benchmarks/kkbench/gpu.py).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _result(data: dict[str, Any], bench: str, fw: str) -> dict[str, Any] | None:
    for r in data.get("results") or []:
        if r["benchmark"] == bench and r["framework"] == fw and r["space"] == "cuda" and r["status"] == "ok":
            return r
    return None


def _latency(data: dict[str, Any], metric: str, fw: str = "kernelkit") -> float | None:
    for r in data.get("latency") or []:
        if r["metric"] == metric and r["framework"] == fw and r.get("space") in ("cuda", None) and r["status"] == "ok":
            return r["value_s"]
    return None


def _check(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((c for c in data.get("checks") or [] if c["check"] == name), None)


def summary(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def ratio(label: str, bench: str, fw: str, target: float) -> None:
        r = _result(data, bench, fw)
        value = r["ratio_to_reference"] if r else None
        extra = ""
        if r and r.get("bandwidth_GBs"):
            frac = r.get("fraction_of_achievable")
            extra = f"{r['bandwidth_GBs']:,.0f} GB/s" + (f", {frac:.0%} of the best copy" if frac else "")
        rows.append(
            {
                "figure": label,
                "value": value,
                "target": f">= {target}",
                "ok": value is not None and value >= target,
                "detail": extra,
            }
        )

    ratio("copy / hand-written", "copy", "kernelkit", 0.97)
    ratio("triad / hand-written", "triad", "kernelkit", 0.97)
    ratio("dot / hand-written", "dot", "kernelkit", 1.0)
    ratio("sum / hand-written", "sum", "kernelkit", 1.0)
    ratio("transpose TeamThread x ThreadVector", "transpose", "kernelkit-threadvector", 0.92)
    ratio("transpose TeamVectorMDRange", "transpose", "kernelkit-teamvector", 0.92)
    ratio("transpose TeamThreadMDRange (AUTO team)", "transpose", "kernelkit-team", 0.92)
    ratio("stencil (star r=2) / hand-written", "stencil", "kernelkit", 0.92)
    memcpy = _result(data, "copy", "cuda-memcpy")
    kcopy = _result(data, "copy", "kernelkit")
    if memcpy and kcopy:
        rows.append(
            {
                "figure": "copy bandwidth / cuMemcpyDtoD",
                "value": kcopy["rate"] / memcpy["rate"],
                "target": "report",
                "ok": True,
                "detail": f"{kcopy['rate']:,.0f} vs {memcpy['rate']:,.0f} GB/s",
            }
        )
    for label, metric, target in (
        ("launch overhead, fresh process (us)", "launch", 5e-6),
        ("launch overhead, in process (us)", "launch_in_process", 5e-6),
        ("first cached kernel of a process (ms)", "warm_start", 8e-3),
    ):
        v = _latency(data, metric)
        scale = 1e6 if "us" in label else 1e3
        rows.append(
            {
                "figure": label,
                "value": None if v is None else v * scale,
                "target": f"<= {target * scale:g}",
                "ok": v is not None and v <= target,
                "detail": "",
            }
        )
    g = _check(data, "graph")
    rows.append(
        {
            "figure": "100-kernel loop: graph speedup",
            "value": g.get("value") if g else None,
            "target": ">= 3",
            "ok": bool(g and g["status"] == "ok"),
            "detail": g["note"] if g else "not run",
        }
    )
    s = _check(data, "sweep")
    rows.append(
        {
            "figure": "bandwidth sweep",
            "value": s.get("value") if s else None,
            "target": "plot",
            "ok": bool(s and s["status"] == "ok"),
            "detail": (s["note"] if s else "not run"),
        }
    )
    return rows


def merged(paths: list[str]) -> dict[str, Any]:
    """The reports' results, latencies and checks together (the machine of the first one found)."""
    data: dict[str, Any] = {"results": [], "latency": [], "checks": [], "machine": {}}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                part = json.load(f)
        except (OSError, ValueError) as e:
            print(f"note: {path}: {e}")
            continue
        for key in ("results", "latency", "checks"):
            data[key] += part.get(key) or []
        data["machine"] = data["machine"] or part.get("machine") or {}
    return data


def main(argv: list[str]) -> int:
    data = merged(argv[2:])
    rows = summary(data)
    gpu = (data.get("machine") or {}).get("gpu") or {}
    print(f"issue 16 on {gpu.get('name', '?')} (driver {gpu.get('driver', '?')}, NVRTC {gpu.get('nvrtc', '?')})")
    for r in rows:
        v = r["value"]
        shown = "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
        mark = "ok " if r["ok"] else "NO "
        print(f"{mark} {r['figure']:<44} {shown:>9}  (target {r['target']})  {r['detail']}")
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump({"gpu": gpu, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
