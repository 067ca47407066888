"""tools/parla_port.py: only the imports of a Parla program change."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "parla_port.py"
spec = importlib.util.spec_from_file_location("parla_port", TOOL)
port = importlib.util.module_from_spec(spec)
spec.loader.exec_module(port)

SOURCE = """import numpy as np
from parla import Parla, spawn
from parla.tasks import AtomicTaskSpace as TaskSpace
from parla.cython.device_manager import (cpu,
    gpu)
import parla, os
import parla.tasks as pt


def f():
    from parla.common.globals import get_current_context  # nested
    return "from parla import not_an_import"
"""


def test_rewrites_every_form_of_import():
    out, report = port.port_source(SOURCE)
    assert "from kernelkit.tasks import Parla, spawn" in out
    assert "from kernelkit.tasks import AtomicTaskSpace as TaskSpace" in out
    assert "from kernelkit.tasks import cpu, gpu\n" in out
    assert "import kernelkit.tasks as parla; import os" in out
    assert "import kernelkit.tasks as pt" in out
    assert "    from kernelkit.tasks import get_current_context  # nested" in out
    assert '"from parla import not_an_import"' in out  # strings are not imports
    assert not port.still_imports_parla(out)
    assert len(report) == 6
    compile(out, "ported.py", "exec")


def test_command_line(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "prog.py").write_text(SOURCE)
    (src / "devices.YAML").write_text("GPU: {num_devices: 1}\n")
    dst = tmp_path / "out"
    r = subprocess.run([sys.executable, str(TOOL), str(src), "-o", str(dst)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "prog.py:2" in r.stdout
    assert (dst / "devices.YAML").exists()
    check = subprocess.run([sys.executable, str(TOOL), str(dst / "prog.py"), "--check"], capture_output=True)
    assert check.returncode == 0
    check = subprocess.run([sys.executable, str(TOOL), str(src / "prog.py"), "--check"], capture_output=True)
    assert check.returncode == 1
