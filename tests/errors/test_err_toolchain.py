"""No usable C++ compiler: a clear KernelError naming what to install (never sys.exit, no internal frames in
the traceback), while the Debug space keeps working. Runs in a subprocess with a private cache and a bogus
compiler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys, traceback
    import numpy as np
    import kernelkit as pk

    @pk.workunit
    def fill(i, out):
        out[i] = i

    result = {}
    out = np.zeros(4)
    pk.parallel_for(pk.RangePolicy(pk.Debug, 0, 4), fill, out=out)
    result["debug_ok"] = out.tolist() == [0.0, 1.0, 2.0, 3.0]
    try:
        pk.parallel_for(pk.RangePolicy(pk.Serial, 0, 4), fill, out=np.zeros(4))
        result["raised"] = None
    except BaseException as exc:
        result["raised"] = type(exc).__name__
        result["is_kernel_error"] = isinstance(exc, pk.KernelError)
        result["message"] = str(exc)
        result["frames"] = [f.filename for f in traceback.extract_tb(exc.__traceback__)]
    result["pkg"] = list(pk.__path__)
    print(json.dumps(result))
    """
)


def test_missing_compiler_gives_a_clear_error(tmp_path):
    script = tmp_path / "nocxx.py"
    script.write_text(SCRIPT)
    env = dict(os.environ)
    env["KERNELKIT_CACHE_DIR"] = str(tmp_path / "cache")
    env["KERNELKIT_CXX"] = str(tmp_path / "no-such-compiler" / "c++")
    env["CXX"] = env["KERNELKIT_CXX"]
    # and nothing to fall back on: a PATH with only the Python interpreter's directory
    env["PATH"] = os.path.dirname(sys.executable)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["debug_ok"], "the Debug space needs no compiler"
    assert result["raised"] is not None, "a Serial launch without a compiler must raise"
    assert result["raised"] != "SystemExit"
    assert result["is_kernel_error"], result
    msg = result["message"]
    assert "no-such-compiler" in msg or "c++" in msg.lower() or "compiler" in msg.lower(), msg
    assert any(word in msg.lower() for word in ("install", "cxx", "kernelkit_cxx")), msg
    pkg_dirs = [os.path.realpath(p) for p in result["pkg"]]
    internal = [f for f in result["frames"] if any(os.path.realpath(f).startswith(d + os.sep) for d in pkg_dirs)]
    assert not internal, internal
