"""Terminal tables and JSON for benchmark results."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from .core import Latency, Result

SCHEMA = "kernelkit-bench/1"
RATIO_TARGET = 0.95  # DESIGN.md section 6: kernelkit >= 0.95x the hand-written reference, same run


def marks(stream: TextIO | None = None) -> tuple[str, str]:
    """(pass, fail) symbols: check marks where the terminal can print them, else plain words."""
    stream = stream or sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    try:
        "✓✗".encode(encoding or "ascii")
        return "✓", "✗"
    except (LookupError, UnicodeEncodeError):
        return "ok", "FAIL"


def fmt_seconds(s: float | None) -> str:
    if s is None or math.isnan(s):
        return "-"
    a = abs(s)
    if a < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if a < 1e-3:
        return f"{s * 1e6:.2f} µs" if a < 1e-5 else f"{s * 1e6:.1f} µs"
    if a < 1.0:
        return f"{s * 1e3:.2f} ms" if a < 1e-2 else f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_number(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    return f"{x:.{decimals}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Plain aligned columns; the column indices in `right` are right-aligned (numbers)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for k, cell in enumerate(row):
            widths[k] = max(widths[k], len(cell))

    def line(cells: Sequence[str]) -> str:
        out = []
        for k, cell in enumerate(cells):
            out.append(cell.rjust(widths[k]) if k in right else cell.ljust(widths[k]))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def results_table(results: Sequence[Result], stream: TextIO | None = None) -> str:
    ok, bad = marks(stream)
    rows: list[list[str]] = []
    for r in results:
        if r.status == "ok":
            timing = r.timing
            ratio = "-"
            if r.ratio is not None:
                ratio = f"{r.ratio:.2f}"
                if r.reference == r.framework:
                    ratio += " (ref)"
                elif r.framework == "kernelkit":
                    ratio += f" {ok if r.ratio >= RATIO_TARGET else bad}"
            rows.append(
                [
                    r.benchmark,
                    r.space,
                    r.framework,
                    str(r.threads) if r.threads is not None else "-",
                    f"{r.n:,}",
                    fmt_seconds(timing.median if timing else None),
                    f"{fmt_number(r.rate)} {r.unit}" if r.rate is not None else "-",
                    ratio,
                    f"{r.ratio_best:.2f}" if r.ratio_best is not None else "-",
                    r.note,
                ]
            )
        else:
            note = r.note.strip().splitlines()[0] if r.note.strip() else ""
            label = {"skipped": "skipped", "invalid": f"{bad} wrong result", "error": f"{bad} error"}[
                r.status
            ]
            rows.append(
                [r.benchmark, r.space, r.framework, "-", f"{r.n:,}", "-", "-", "-", "-", f"{label}: {note}"]
            )
    headers = ["benchmark", "space", "framework", "threads", "n", "time", "rate", "vs ref", "best", "note"]
    return table(headers, rows, right=(3, 4, 5, 6, 8))


_METRIC_NAMES = {
    "cold_compile": "cold compile",
    "cold_compile_next": "  next kernel",
    "warm_start": "warm start",
    "warm_start_next": "  next kernel",
    "launch": "launch overhead",
    "import": "import",
}


def latency_table(latencies: Sequence[Latency], stream: TextIO | None = None) -> str:
    ok, bad = marks(stream)
    rows: list[list[str]] = []
    for rec in latencies:
        name = _METRIC_NAMES.get(rec.metric, rec.metric)
        if rec.status != "ok" or rec.value is None:
            label = "skipped" if rec.status == "skipped" else f"{bad} error"
            note = rec.note.strip().splitlines()[0] if rec.note.strip() else ""
            rows.append([name, rec.framework, rec.space or "-", "-", "-", f"{label}: {note}"])
            continue
        target = "-"
        if rec.target_s is not None:
            target = f"≤ {fmt_seconds(rec.target_s)} {ok if rec.value <= rec.target_s else bad}"
            if ok == "ok":
                target = target.replace("≤", "<=")
        spread = ""
        if len(rec.timing.samples) > 1:
            spread = f"{len(rec.timing.samples)} samples, min {fmt_seconds(rec.timing.min)}"
        note = "; ".join(x for x in (spread, rec.note) if x)
        rows.append([name, rec.framework, rec.space or "-", fmt_seconds(rec.value), target, note])
    return table(["metric", "framework", "space", "median", "target", "note"], rows, right=(3,))


def clean(obj: Any) -> Any:
    """Strict-JSON form: NumPy scalars to Python, tuples to lists, NaN and infinities to strings."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def write_json(path: str, payload: dict[str, Any]) -> None:
    """Write atomically (temp file then rename), creating the directory if needed."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(clean(payload), f, indent=2, allow_nan=False, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
