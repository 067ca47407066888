"""The MPI applications of examples/mpi, run in every rank of the job at small sizes (odd sizes, so that
blocks differ across ranks): each validates itself and must print PASS on rank 0."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mpi"
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "mpi"

CASES = {
    "nstream": ["--space", "openmp", "4", "100003"],  # PRK's positional form
    "stencil": ["--space", "openmp", "--iterations", "3", "--order", "61", "--tile", "8", "8"],
    "stencil-radius-3": ["--space", "openmp", "3", "50", "star", "3"],
    "heat": ["--space", "openmp", "--n", "45", "--steps", "30"],
    "minimd_mpi": ["--space", "openmp", "--nx", "7", "--steps", "20", "--thermo", "10", "--neigh-every", "5"],
}


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"kkmpi_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", sorted(CASES))
def test_example_validates(comm, capsys, case):
    module = load(case.split("-")[0])
    module.main(CASES[case])  # exits with status 1 (on every rank) when it does not validate
    out = capsys.readouterr().out
    if comm.Get_rank() == 0:
        assert "\nPASS" in "\n" + out, out


@pytest.mark.parametrize("exchange", ["rounds", "overlap", "shm"])
def test_transpose_validates(comm, capsys, exchange):
    module = load("transpose")
    module.main(["--space", "openmp", "2", str(12 * comm.Get_size()), "--tile", "4", "4", "--exchange", exchange])
    out = capsys.readouterr().out
    if comm.Get_rank() == 0:
        assert "Solution validates" in out and "Avg time (s):" in out and "\nPASS" in out


@pytest.mark.parametrize("exchange", [[], ["--exchange", "shm"]], ids=["alltoall", "shm"])
def test_numpy_transpose_validates(comm, capsys, exchange):
    """The mpi4py + NumPy transpose the benchmarks compare against (benchmarks/mpi/numpy_transpose.py)."""
    spec = importlib.util.spec_from_file_location("kkmpi_numpy_transpose", BENCH / "numpy_transpose.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.argv = ["numpy_transpose.py", "2", str(12 * comm.Get_size()), *exchange]
    module.main()
    out = capsys.readouterr().out
    if comm.Get_rank() == 0:
        assert "Solution validates" in out and "Avg time (s):" in out


def test_prk_usage_errors(comm):
    module = load("transpose")
    if comm.Get_size() > 1:
        with pytest.raises(SystemExit) as e:
            module.main(["--space", "openmp", "2", str(12 * comm.Get_size() + 1)])
        assert e.value.code == 2


@pytest.fixture(autouse=True)
def _restore_argv_and_space():
    import kernelkit as pk

    argv, space, threads = list(sys.argv), pk.get_default_space(), pk.get_num_threads()
    yield
    sys.argv[:] = argv
    pk.set_default_space(space)
    pk.set_num_threads(threads)
