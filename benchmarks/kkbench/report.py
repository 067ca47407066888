"""Terminal tables, Markdown and JSON for benchmark results (all from the JSON form of a report)."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

SCHEMA = "kernelkit-bench/2"
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


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """The same table in Markdown."""
    align = ["---:" if k in right else "---" for k in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def _rate(r: dict[str, Any]) -> str:
    return f"{fmt_number(r['rate'])} {r['unit']}" if r.get("rate") is not None else "-"


RESULT_HEADERS = ["benchmark", "framework", "threads", "n", "time", "rate", "vs ref", "best", "of BW", "note"]
RESULT_RIGHT = (2, 3, 4, 5, 7, 8)


def result_rows(results: Sequence[dict[str, Any]], ok: str, bad: str) -> list[list[str]]:
    """Rows of the results table (dicts as in the JSON): rate, ratio to the reference with the target mark on
    kernelkit's rows, the ratio from the fastest repeats, the fraction of the achievable bandwidth."""
    rows: list[list[str]] = []
    for r in results:
        threads = str(r["threads"]) if r.get("threads") is not None else "-"
        if r["status"] != "ok":
            label = {"skipped": "skipped", "invalid": f"{bad} wrong result", "error": f"{bad} error"}[r["status"]]
            rows.append(
                [
                    r["benchmark"],
                    r["framework"],
                    "-",
                    f"{r['n']:,}",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    f"{label}: {_first_line(r.get('note'))}",
                ]
            )
            continue
        ratio = "-"
        q = r.get("ratio_to_reference")
        if q is not None:
            ratio = f"{q:.2f}"
            if r.get("reference") == r["framework"]:
                ratio += " (ref)"
            elif r["framework"].startswith("kernelkit"):
                ratio += f" {ok if q >= RATIO_TARGET else bad}"
        best = r.get("ratio_best_to_reference")
        frac = r.get("fraction_of_achievable")
        t = (r.get("time") or {}).get("median_s")
        rows.append(
            [
                r["benchmark"],
                r["framework"],
                threads,
                f"{r['n']:,}",
                fmt_seconds(t),
                _rate(r),
                ratio,
                f"{best:.2f}" if best is not None else "-",
                f"{frac:.0%}" if frac is not None else "-",
                r.get("note") or "",
            ]
        )
    return rows


def _spaces(results: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(r["space"] for r in results))


def _space_heading(data: dict[str, Any], space: str) -> str:
    rows = [r for r in data["results"] if r["space"] == space]
    ref = next((r["reference"] for r in rows if r.get("reference")), None)
    threads = next((r["threads"] for r in rows if r["framework"] == "c-openmp" and r.get("threads")), None)
    gpu = (data.get("machine") or {}).get("gpu") or {}
    where = {
        "openmp": f"OpenMP, {threads} threads" if threads else "OpenMP",
        "serial": "Serial, 1 thread",
        "cuda": f"Cuda, {gpu.get('name', 'GPU')}",
    }.get(space, space)
    text = f"{space} ({where})"
    if ref:
        text += f": ratios to {ref}"
    ceiling = (data.get("ceilings") or {}).get(space)
    if ceiling:
        text += f"; achievable bandwidth (best copy) {fmt_number(ceiling['GBs'])} GB/s ({ceiling['framework']})"
    return text


SCALING_HEADERS = ["benchmark", "framework"]


def scaling_rows(scaling: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """One row per benchmark and framework, one column per thread count: rate and speedup over 1 thread."""
    counts = sorted({r["threads"] for r in scaling if r.get("threads")})
    keys = list(dict.fromkeys((r["benchmark"], r["framework"]) for r in scaling))
    rows = []
    for bench, fw in keys:
        by_t = {r["threads"]: r for r in scaling if r["benchmark"] == bench and r["framework"] == fw}
        base = (by_t.get(1) or {}).get("rate")
        row = [bench, fw]
        for t in counts:
            r = by_t.get(t)
            if r is None or r.get("rate") is None:
                row.append("-" if r is None else r["status"])
                continue
            cell = _rate(r)
            if base and t != 1:
                cell += f" ({r['rate'] / base:.2f}x)"
            row.append(cell)
        rows.append(row)
    return [*SCALING_HEADERS, *(f"{t} thread{'s' if t > 1 else ''}" for t in counts)], rows


_METRIC_NAMES = {
    "cold_compile": "cold compile",
    "cold_compile_next": "  next kernel",
    "warm_start": "warm start",
    "warm_start_next": "  next kernel",
    "launch": "launch overhead",
    "launch_in_process": "launch, in process",
    "import": "import",
}


def latency_rows(latencies: Sequence[dict[str, Any]], ok: str, bad: str) -> list[list[str]]:
    rows: list[list[str]] = []
    for rec in latencies:
        name = _METRIC_NAMES.get(rec["metric"], rec["metric"])
        value = rec.get("value_s")
        if rec["status"] != "ok" or value is None:
            label = "skipped" if rec["status"] == "skipped" else f"{bad} error"
            rows.append(
                [
                    name,
                    rec["framework"],
                    rec.get("space") or "-",
                    "-",
                    "-",
                    f"{label}: {_first_line(rec.get('note'))}",
                ]
            )
            continue
        target = "-"
        if rec.get("target_s") is not None:
            le = "≤" if ok != "ok" else "<="
            target = f"{le} {fmt_seconds(rec['target_s'])} {ok if value <= rec['target_s'] else bad}"
        time_ = rec.get("time") or {}
        spread = ""
        if time_.get("repeats", 0) > 1:
            spread = f"{time_['repeats']} samples, min {fmt_seconds(time_['min_s'])}"
        note = "; ".join(x for x in (spread, rec.get("note") or "") if x)
        rows.append([name, rec["framework"], rec.get("space") or "-", fmt_seconds(value), target, note])
    return rows


LATENCY_HEADERS = ["metric", "framework", "space", "median", "target", "note"]
CHECK_HEADERS = ["check", "space", "result", "note"]


def check_rows(checks: Sequence[dict[str, Any]], ok: str, bad: str) -> list[list[str]]:
    marks_ = {"ok": ok, "failed": f"{bad} failed", "error": f"{bad} error", "skipped": "skipped"}
    return [
        [c["check"], c.get("space") or "-", marks_.get(c["status"], c["status"]), _first_line(c.get("note"))]
        for c in checks
    ]


def profile_lines(latencies: Sequence[dict[str, Any]]) -> list[str]:
    """The warm-start profiles (`--profile-warm`): the functions with the most own time, per space."""
    lines: list[str] = []
    for rec in latencies:
        prof = rec.get("profile")
        if rec["metric"] != "warm_start" or not prof:
            continue
        lines.append(
            f"warm start of the first kernel on {rec.get('space')}, profiled: {fmt_seconds(prof['first_s'])} "
            "(cProfile adds overhead); own time, calls, function"
        )
        for row in prof["top"]:
            lines.append(f"  {fmt_seconds(row['tottime_s']):>10}  {row['calls']:>6}  {row['function']}")
    return lines


RATE_NOTE = (
    "rate: from the median of the repeats, warm-up excluded; vs ref: rate / the reference's rate in the "
    "same space and run (hand-written C/OpenMP on the CPU, hand-written CUDA on the GPU); best: the same "
    "ratio from each version's fastest repeat; of BW: the bytes the benchmark must move per second, as a "
    "fraction of the best copy rate measured in that space in this run"
)


def print_report(data: dict[str, Any], out: TextIO) -> None:
    """The terminal report of a run (the dict of `Report.as_dict`, or the same loaded from JSON)."""
    ok, bad = marks(out)
    m = data.get("machine") or {}
    options = data.get("options") or {}
    compiler = (m.get("compiler") or {}).get("version", "no compiler")
    title = (
        f"kernelkit bench{' --quick' if options.get('quick') else ''}: {m.get('cpu')}, "
        f"{m.get('cores')} cores, {m.get('threads')} threads, {compiler}"
    )
    gpu = m.get("gpu")
    if gpu:
        title += f"; GPU {gpu.get('name')} ({gpu.get('arch')}, driver {gpu.get('driver')})"
    print(title, file=out)
    results = data.get("results") or []
    for space in _spaces(results):
        rows = result_rows([r for r in results if r["space"] == space], ok, bad)
        print(f"\n{_space_heading(data, space)}\n" + table(RESULT_HEADERS, rows, RESULT_RIGHT), file=out)
    if results:
        print("\n" + RATE_NOTE, file=out)
    scaling = data.get("scaling") or []
    if scaling:
        headers, rows = scaling_rows(scaling)
        print(
            "\nthread scaling (OpenMP): rate (speedup over 1 thread)\n" + table(headers, rows, range(2, len(headers))),
            file=out,
        )
    latencies = data.get("latency") or []
    if latencies:
        print("\n" + table(LATENCY_HEADERS, latency_rows(latencies, ok, bad), (3,)), file=out)
        for line in profile_lines(latencies):
            print(line, file=out)
    checks = data.get("checks") or []
    if checks:
        print("\n" + table(CHECK_HEADERS, check_rows(checks, ok, bad)), file=out)
    for note in data.get("notes") or []:
        print(f"note: {note}", file=out)
    if data.get("elapsed_s") is not None:
        print(f"\n{data['elapsed_s']:.1f} s", file=out)


def markdown(data: dict[str, Any]) -> str:
    """The report as Markdown tables (what docs/performance.md quotes)."""
    ok, bad = "✓", "✗"
    m = data.get("machine") or {}
    parts = []
    results = data.get("results") or []
    for space in _spaces(results):
        rows = result_rows([r for r in results if r["space"] == space], ok, bad)
        parts.append(f"**{_space_heading(data, space)}**\n\n" + md_table(RESULT_HEADERS, rows, RESULT_RIGHT))
    scaling = data.get("scaling") or []
    if scaling:
        headers, rows = scaling_rows(scaling)
        parts.append(
            "**Thread scaling (OpenMP)**: rate (speedup over 1 thread)\n\n"
            + md_table(headers, rows, range(2, len(headers)))
        )
    latencies = data.get("latency") or []
    if latencies:
        parts.append("**Latency**\n\n" + md_table(LATENCY_HEADERS, latency_rows(latencies, ok, bad), (3,)))
    checks = data.get("checks") or []
    if checks:
        parts.append("**Checks**\n\n" + md_table(CHECK_HEADERS, check_rows(checks, ok, bad)))
    if data.get("notes"):
        parts.append("\n".join(f"- {n}" for n in data["notes"]))
    cpu = f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB"
    versions = ", ".join(f"{k} {m[k]}" for k in ("python", "kernelkit", "numpy", "numba", "warp", "cupy") if m.get(k))
    head = f"Measured {m.get('date')} on {cpu}; {versions}; command `{' '.join(data.get('command') or [])}`."
    if m.get("gpu"):
        g = m["gpu"]
        head += f" GPU: {g.get('name')} ({g.get('arch')}, {g.get('memory_gib')} GiB, driver {g.get('driver')})."
    return head + "\n\n" + "\n\n".join(parts) + "\n"


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
