"""examples/tasks/: each script run as a user runs it (a subprocess, small sizes, 4 logical GPUs, a trace) must
print PASS and exit 0; on logical GPUs the data really moves (copies counted) and the trace shows the tasks and
the copies."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"

CASES = {
    "inner_product": ["inner_product.py", "-n", "100000"],
    "cholesky_cpu": ["cholesky.py", "-n", "400", "-b", "100"],
    "cholesky_gpus": ["cholesky.py", "-n", "400", "-b", "100", "--placement", "gpu", "--gpus", "4"],
    "cholesky_any_kernelkit": ["cholesky.py", "-n", "240", "-b", "60", "--placement", "any", "--kernels", "kernelkit"],
}
MOVES = {"inner_product": 2 * 100000 * 8, "cholesky_gpus": 1}  # at least these bytes are copied


@pytest.mark.parametrize("case", sorted(CASES))
def test_example(case, tmp_path):
    script, *args = CASES[case]
    trace = tmp_path / "trace.json"
    env = {**os.environ, "KERNELKIT_VIRTUAL_GPUS": "4", "KERNELKIT_TRACE": str(trace)}
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "PASS"
    moved = re.search(r"copies between places: (\d+) \((\d+) bytes\)", r.stdout)
    assert moved, r.stdout
    events = json.loads(trace.read_text())["traceEvents"]
    assert any(e.get("cat") == "task" for e in events)
    copies = [e for e in events if e.get("cat") == "copy" and e["name"].startswith("copy ")]
    if case in MOVES:
        assert int(moved.group(2)) >= MOVES[case] and int(moved.group(1)) == len(copies) > 0
        assert all(e["args"]["bytes"] > 0 for e in copies)
    if case == "cholesky_cpu":
        assert int(moved.group(1)) == 0 and not copies  # everything on the host: nothing moves
