"""examples/tasks/: each script run as a user runs it (a subprocess, small sizes, 4 logical GPUs) must print
PASS and exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"

CASES = {
    "inner_product": ["inner_product.py", "-n", "100000"],
    "cholesky_cpu": ["cholesky.py", "-n", "400", "-b", "100"],
    "cholesky_gpus": ["cholesky.py", "-n", "400", "-b", "100", "--placement", "gpu"],
    "cholesky_any_kernelkit": ["cholesky.py", "-n", "240", "-b", "60", "--placement", "any", "--kernels", "kernelkit"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_example(case):
    script, *args = CASES[case]
    env = {**os.environ, "KERNELKIT_VIRTUAL_GPUS": "4"}
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "PASS"
