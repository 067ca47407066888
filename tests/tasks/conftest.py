"""Fixtures of the task-runtime tests: a runtime with 4 logical GPUs (backed by the host without a GPU) and
two workers, so multi-GPU placement and mapping run on CPU-only CI."""

from __future__ import annotations

import threading

import pytest

from kernelkit.tasks import Parla

GPUS = 4


@pytest.fixture
def parla():
    """`with parla(): ...` starts a runtime with 4 logical GPUs and 2 workers (keyword arguments override)."""

    def make(**kw):
        kw.setdefault("virtual_gpus", GPUS)
        kw.setdefault("n_workers", 2)
        return Parla(**kw)

    return make


class Gate:
    """A handshake between tasks that must overlap: each party arrives and waits for the others (a safety
    timeout turns a missing overlap into a failure instead of a hang)."""

    def __init__(self, parties: int):
        self.barrier = threading.Barrier(parties, timeout=30)

    def arrive(self) -> None:
        self.barrier.wait()


@pytest.fixture
def gate():
    """`gate(n)`: a Gate for n parties."""
    return Gate
