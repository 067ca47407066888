"""Jobs under a real `mpiexec`, started from the plain (single-process) test run: an uncaught exception in
one rank ends the whole job with that rank's traceback instead of leaving the other ranks waiting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("mpi4py")

HANG_GUARD_S = 120  # not a timing assertion: a job that hangs must fail the test instead of the whole run


def mpiexec() -> str:
    for candidate in (os.path.join(os.path.dirname(sys.executable), "mpiexec"), shutil.which("mpiexec")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip("no mpiexec (pip install 'kernelkit[mpi]')")


def run_job(tmp_path, n: int, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for var in ("PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        env.pop(var, None)
    return subprocess.run(
        [mpiexec(), "-n", str(n), sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_failing_rank_ends_the_job(tmp_path):
    r = run_job(
        tmp_path,
        2,
        """
        from kernelkit import mpi as kkmpi
        comm = kkmpi.init()
        if comm.Get_rank() == 1:
            raise ValueError("rank one gives up")
        comm.Barrier()  # rank 0 would wait here forever without MPI_Abort
        print("unreachable")
        """,
    )
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "[rank 1] kernelkit.mpi: uncaught ValueError on rank 1 of 2; calling MPI_Abort" in out
    assert "[rank 1] ValueError: rank one gives up" in out
    assert "unreachable" not in out


def test_successful_job(tmp_path):
    r = run_job(
        tmp_path,
        2,
        """
        import sys
        import numpy as np
        import kernelkit as pk
        from kernelkit import mpi as kkmpi
        comm = kkmpi.init()
        cart = kkmpi.Cart([0], periods=[True])
        v = pk.View([4], pk.double)
        np.asarray(v)[1:3] = comm.Get_rank()
        cart.halo_exchange(v, 1)
        line = f"rank {comm.Get_rank()} halo {np.asarray(v)[0]} {kkmpi.allreduce(1)}\\n"
        sys.stdout.write(line)  # one write per rank: lines of two ranks do not interleave
        """,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rank 0 halo 1.0 2" in r.stdout and "rank 1 halo 0.0 2" in r.stdout


@pytest.mark.parametrize(
    "script,args",
    [
        ("nstream.py", ["3", "10001"]),
        ("stencil.py", ["2", "40"]),
        ("transpose.py", ["2", "24"]),
    ],
)
def test_prk_examples_on_one_rank(script, args):
    examples = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "mpi")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(
        [mpiexec(), "-n", "1", sys.executable, os.path.join(examples, script), "--space", "openmp", *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0 and "Solution validates" in r.stdout and "\nPASS" in r.stdout, r.stdout + r.stderr
