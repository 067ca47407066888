"""Shared fixtures of the kernelkit test suite.

- The whole run gets a private, empty compile cache (``KERNELKIT_CACHE_DIR``), set in ``pytest_configure``
  before anything imports kernelkit, so tests never read or write the user's cache. pytest-xdist workers
  inherit the controller's environment, so all workers of one run share that one private cache (which also
  exercises concurrent use of the cache).
- ``space``: every available execution space (Debug, Serial, OpenMP, plus Cuda where a GPU is usable, else
  CudaCheck where NVRTC is installed: each kernel compiled for CUDA, then run on OpenMP), with
  the space's name as the test id (Kokkos ``TEST_EXECSPACE``; STYLE.md item 11).
- ``rng``: a seeded NumPy generator, so a failure reproduces."""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import pytest

_OWNER_VAR = "KERNELKIT_TEST_CACHE_OWNER"
_ROOT_VAR = "KERNELKIT_TEST_CACHE_ROOT"


def pytest_configure(config):
    # An xdist worker (or a nested pytest) finds the controller's private cache already set: keep it.
    if os.environ.get(_OWNER_VAR) and os.environ.get("KERNELKIT_CACHE_DIR"):
        return
    root = tempfile.mkdtemp(prefix="kernelkit-test-cache-")
    # Not created here: kernelkit creates the directory itself (mode 0700), as it would for a new user.
    os.environ["KERNELKIT_CACHE_DIR"] = os.path.join(root, "cache")
    os.environ[_OWNER_VAR] = str(os.getpid())
    os.environ[_ROOT_VAR] = root
    config._kernelkit_cache_root = root


def pytest_unconfigure(config):
    root = getattr(config, "_kernelkit_cache_root", None)
    if root and os.environ.get(_OWNER_VAR) == str(os.getpid()):
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------------------------- spaces


def space_name(space) -> str:
    """A space's short name ("Debug", "OpenMP", ...) whatever object represents it."""
    for attr in ("name", "__name__"):
        value = getattr(space, attr, None)
        if isinstance(value, str) and value:
            return value.split(".")[-1]
    return str(space).split(".")[-1]


def _space_report() -> dict[str, dict]:
    try:
        from kernelkit.backends.base import space_report
    except ImportError:
        return {}
    try:
        return {str(d["name"]).lower(): d for d in space_report()}
    except Exception:  # the report itself is tested in tests/unit; here it only decides on Cuda
        return {}


def available_spaces() -> list:
    import kernelkit as pk

    # Debug, Serial and OpenMP are required by issue 2 on every machine with a C++ compiler: they are always
    # parametrized, so a missing one is a failure, not a skip.
    spaces = [pk.Debug, pk.Serial, pk.OpenMP]
    report = _space_report()
    if report.get("cuda", {}).get("available") and hasattr(pk, "Cuda"):
        spaces.append(pk.Cuda)
    elif report.get("cudacheck", {}).get("available"):
        # No GPU here (CI): every kernel is still compiled for CUDA by NVRTC, then run on OpenMP.
        from kernelkit.api.spaces import CudaCheck

        spaces.append(CudaCheck)
    return spaces


def pytest_generate_tests(metafunc):
    # Parametrized here, not with fixture(params=...), so that kernelkit is imported only after
    # pytest_configure has set the private cache directory.
    if "space" in metafunc.fixturenames:
        spaces = available_spaces()
        metafunc.parametrize("space", spaces, ids=[space_name(s) for s in spaces], indirect=True)
    if "compiled_space" in metafunc.fixturenames:
        spaces = [s for s in available_spaces() if space_name(s) != "Debug"]
        metafunc.parametrize("compiled_space", spaces, ids=[space_name(s) for s in spaces], indirect=True)


@pytest.fixture
def space(request):
    """An execution space: every available one in turn (Debug, Serial, OpenMP, Cuda where usable)."""
    return request.param


@pytest.fixture
def compiled_space(request):
    """A compiled execution space (every available one but Debug): for sizes the interpreter crawls at."""
    return request.param


@pytest.fixture(scope="session", autouse=True)
def private_kernelkit_cache():
    """The run's private cache directory; asserts kernelkit really uses it (never the user's cache)."""
    path = os.environ["KERNELKIT_CACHE_DIR"]
    root = os.environ.get(_ROOT_VAR)
    assert root and path.startswith(root), "the test run must use its own private kernelkit cache"
    try:
        from kernelkit import config
    except ImportError:
        config = None
    if config is not None and config.get().cache_dir != path:
        config.reload()
    yield path


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


@pytest.fixture
def default_space():
    """Call ``default_space(space)`` to make ``space`` the default for the test; restored afterwards."""
    import kernelkit as pk

    old = pk.get_default_space()

    def set_(space):
        pk.set_default_space(space)
        return space

    yield set_
    pk.set_default_space(old)


class Helpers:
    """Small helpers the test modules share (reached through the ``kk`` fixture)."""

    name = staticmethod(space_name)

    @staticmethod
    def is_debug(space) -> bool:
        return space_name(space) == "Debug"

    @staticmethod
    def size(space, compiled: int, debug: int = 1000) -> int:
        """A problem size: the Debug space is a Python interpreter, so it gets a smaller one."""
        return debug if space_name(space) == "Debug" else compiled


@pytest.fixture(scope="session")
def kk():
    return Helpers
