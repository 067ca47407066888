"""Tests of kernelkit.mpi, run by a real launcher: `mpiexec -n 2 python -m pytest tests/mpi` (and -n 3).

- `test_ranks_*.py` need ranks: every rank runs the same tests in the same order, so their collectives meet.
  Outside a launcher they are not collected (the plain `pytest` run has no MPI job to join).
- `test_launch.py` starts `mpiexec` itself (a failing rank must end the job): it runs in the plain `pytest` run
  and is not collected under a launcher.
- Rank 0 reports as usual; the other ranks print only their failures (prefixed with the rank), so the run
  reads like one pytest session. Every rank's exit status counts: mpiexec fails when any rank fails.
- Assertions about data from several ranks use `agree(ok)` first, so that all ranks fail the same test
  together instead of one rank moving on to the next collective while another waits.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
UNDER_MPI = any(v in os.environ for v in _LAUNCHER_VARS)
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None

collect_ignore_glob = []
if not UNDER_MPI or not HAVE_MPI4PY:
    collect_ignore_glob.append("test_ranks_*.py")
if UNDER_MPI:
    collect_ignore_glob.append("test_launch*.py")


def _rank() -> int:
    for v in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        if os.environ.get(v, "").isdigit():
            return int(os.environ[v])
    return 0


class _RankReporter:
    """The reporter of ranks other than 0: failures and errors only, to stderr, prefixed with the rank."""

    def __init__(self, rank: int):
        self.rank = rank

    def pytest_runtest_logreport(self, report):
        if report.failed:
            text = report.longreprtext or ""
            lines = "\n".join(f"[rank {self.rank}] {line}" for line in text.splitlines())
            sys.stderr.write(f"[rank {self.rank}] FAILED {report.nodeid} ({report.when})\n{lines}\n")
            sys.stderr.flush()

    def pytest_collectreport(self, report):
        if report.failed:
            sys.stderr.write(f"[rank {self.rank}] collection error in {report.nodeid}:\n{report.longreprtext}\n")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    rank = _rank()
    if UNDER_MPI and rank != 0:
        reporter = config.pluginmanager.getplugin("terminalreporter")
        if reporter is not None:
            config.pluginmanager.unregister(reporter)
        config.pluginmanager.register(_RankReporter(rank), "kernelkit-rank-reporter")


@pytest.fixture(scope="session")
def comm():
    from kernelkit import mpi as kkmpi

    return kkmpi.init()


@pytest.fixture
def agree(comm):
    """`agree(ok)`: True when `ok` holds on every rank (a collective: call it on all ranks)."""
    from mpi4py import MPI

    def check(ok: bool) -> bool:
        return bool(comm.allreduce(bool(ok), op=MPI.LAND))

    return check
