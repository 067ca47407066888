"""examples/tasks/tile_blas.py, the Cholesky's CPU tile kernels: each against NumPy/SciPy on random tiles (sizes
from 1, C-contiguous and not), through SciPy's BLAS called with the GIL released and through SciPy's wrappers
(the fallback), the errors, and that another Python thread runs while a kernel computes."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "tasks"))
import tile_blas  # noqa: E402

SIZES = [1, 2, 7, 64, 100, 257]


@pytest.fixture(params=["nogil", "scipy"])
def path(request, monkeypatch):
    """Each test runs on the capsules' functions (skipped where this SciPy lacks them) and on the fallback."""
    if request.param == "nogil" and not tile_blas.NOGIL:
        pytest.skip("this SciPy exports no BLAS/LAPACK capsules: the kernels use SciPy's wrappers")
    if request.param == "scipy":
        monkeypatch.setattr(tile_blas, "_NATIVE", None)
    return request.param


def layout(x: np.ndarray, kind: str) -> np.ndarray:
    """A copy of x: C-contiguous, a strided view into a larger array, or Fortran-order."""
    if kind == "c":
        return np.array(x, order="C")
    if kind == "strided":
        big = np.full((x.shape[0] * 2, x.shape[1] * 2 + 3), np.nan)
        big[::2, 1 : 1 + 2 * x.shape[1] : 2] = x
        return big[::2, 1 : 1 + 2 * x.shape[1] : 2]
    return np.array(x, order="F")


def spd(n: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.random((n, n))
    return a @ a.T + n * np.eye(n)


def assert_close(x: np.ndarray, ref: np.ndarray) -> None:
    np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-12 * max(1.0, float(np.max(np.abs(ref)))))


@pytest.mark.parametrize("kind", ["c", "strided", "f"])
@pytest.mark.parametrize("n", SIZES)
def test_potrf(path, n, kind):
    rng = np.random.default_rng(n)
    a = spd(n, rng)
    x = layout(a, kind)
    tile_blas.potrf_tile(x)
    assert_close(np.tril(x), np.linalg.cholesky(a))
    if kind == "c":  # LAPACK in place: the upper triangle is left as it was
        np.testing.assert_array_equal(np.triu(x, 1), np.triu(a, 1))


@pytest.mark.parametrize("kind", ["c", "strided", "f"])
@pytest.mark.parametrize("m,n", [(n, n) for n in SIZES] + [(3, 5), (100, 37)])
def test_trsm(path, m, n, kind):
    rng = np.random.default_rng(m * 1000 + n)
    lower = np.linalg.cholesky(spd(n, rng))
    factor = lower + np.triu(rng.random((n, n)), 1)  # garbage above the diagonal, as a factored tile has
    p = rng.random((m, n))
    x = layout(p, kind)
    tile_blas.trsm_tile(layout(factor, kind), x)
    assert_close(x, scipy.linalg.solve_triangular(lower, p.T, lower=True).T)
    assert_close(x @ lower.T, p)


@pytest.mark.parametrize("kind", ["c", "strided", "f"])
@pytest.mark.parametrize("m,n,k", [(n, n, n) for n in SIZES] + [(3, 5, 7), (100, 37, 1), (1, 64, 250)])
def test_gemm(path, m, n, k, kind):
    rng = np.random.default_rng(m * 10**6 + n * 1000 + k)
    c, a, b = rng.random((m, n)), rng.random((m, k)), rng.random((n, k))
    x = layout(c, kind)
    tile_blas.gemm_tile(x, layout(a, kind), layout(b, kind))
    assert_close(x, c - a @ b.T)


def test_syrk_with_the_same_tile(path):
    rng = np.random.default_rng(1)
    c, a = rng.random((50, 50)), rng.random((50, 50))
    x = c.copy()
    tile_blas.gemm_tile(x, a, a)
    assert_close(x, c - a @ a.T)


def test_nogil_matches_the_scipy_wrappers(monkeypatch):
    if not tile_blas.NOGIL:
        pytest.skip("no BLAS/LAPACK capsules in this SciPy")
    rng = np.random.default_rng(2)
    a, f, p, q = spd(250, rng), np.linalg.cholesky(spd(250, rng)), rng.random((250, 250)), rng.random((250, 250))

    def run():
        x, y, z = a.copy(), p.copy(), q.copy()
        tile_blas.potrf_tile(x)
        tile_blas.trsm_tile(f, y)
        tile_blas.gemm_tile(z, p, y)
        return x, y, z

    ours = run()
    monkeypatch.setattr(tile_blas, "_NATIVE", None)
    for x, ref in zip(ours, run(), strict=True):  # the same library with the same arguments
        assert_close(x, ref)


def test_overlapping_tiles_take_the_general_path(path):
    rng = np.random.default_rng(3)
    buf = rng.random((20, 10))
    c, a = buf[:10], buf[5:15]  # c and a overlap: BLAS would read what it writes
    ref = c - a @ a.T
    tile_blas.gemm_tile(c, a, a)
    assert_close(c, ref)


@pytest.mark.parametrize("kind", ["c", "strided"])
@pytest.mark.parametrize("n", [1, 5, 64])
def test_potrf_not_positive_definite(path, n, kind):
    a = spd(n, np.random.default_rng(4))
    a[n - 1, n - 1] = -1e6  # the last leading minor is negative
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        tile_blas.potrf_tile(layout(a, kind))


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: tile_blas.potrf_tile(np.eye(3, dtype=np.float32)), TypeError, "float64"),
        (lambda: tile_blas.potrf_tile(np.eye(3, dtype=">f8")), TypeError, "float64"),
        (lambda: tile_blas.potrf_tile(np.eye(3).tolist()), TypeError, "NumPy array"),
        (lambda: tile_blas.potrf_tile(np.ones((3, 4))), ValueError, "square"),
        (lambda: tile_blas.potrf_tile(np.ones(3)), ValueError, "2-D"),
        (lambda: tile_blas.trsm_tile(np.eye(3), np.ones((2, 4))), ValueError, "factor must be 4 x 4"),
        (lambda: tile_blas.trsm_tile(np.eye(3, dtype=np.int64), np.ones((3, 3))), TypeError, "float64"),
        (lambda: tile_blas.gemm_tile(np.ones((3, 3)), np.ones((3, 2)), np.ones((3, 4))), ValueError, "do not fit"),
        (lambda: tile_blas.gemm_tile(np.ones((3, 3)), np.ones((3, 3), np.complex128), np.eye(3)), TypeError, "float64"),
    ],
)
def test_bad_tiles(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_read_only_tile():
    x = np.eye(4)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        tile_blas.potrf_tile(x)
    with pytest.raises(ValueError, match="read-only"):
        tile_blas.gemm_tile(x, np.eye(4), np.eye(4))


def test_empty_tiles(path):
    tile_blas.potrf_tile(np.zeros((0, 0)))
    tile_blas.trsm_tile(np.zeros((0, 0)), np.zeros((3, 0)))
    c = np.ones((2, 3))
    tile_blas.gemm_tile(c, np.zeros((2, 0)), np.zeros((3, 0)))
    np.testing.assert_array_equal(c, 1.0)


def test_threads_compute_their_own_tiles(path):
    rng = np.random.default_rng(5)
    a, b = rng.random((200, 200)), rng.random((200, 200))
    cs = [rng.random((200, 200)) for _ in range(4)]
    out = [c.copy() for c in cs]
    threads = [threading.Thread(target=tile_blas.gemm_tile, args=(x, a, b)) for x in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, c in zip(out, cs, strict=True):
        assert_close(x, c - a @ b.T)


def test_the_gil_is_released_during_blas():
    """A second thread stamps the time every 1000 turns of a Python loop while this one is in a GEMM of about
    100 ms: it must have stamped in the middle half of the call. Holding the GIL, the kernel would let it run
    only around the call (a switch interval, 5 ms, at each end): no stamp there."""
    if not tile_blas.NOGIL:
        pytest.skip("no BLAS/LAPACK capsules in this SciPy: the fallback holds the GIL")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = None
    else:
        limits = threadpool_limits(1)  # one BLAS thread: the call is long enough even on a big machine
    try:
        rng = np.random.default_rng(6)
        c = np.zeros((1000, 1000))
        for k in (1000, 2000, 4000, 8000, 16000):
            a, b = rng.random((1000, k)), rng.random((1000, k))
            t0 = time.perf_counter()
            tile_blas.gemm_tile(c, a, b)
            if time.perf_counter() - t0 > 0.1:
                break
        else:
            pytest.skip("BLAS is too fast here for a GEMM of 100 ms")
        stamps: list[float] = []
        stop = threading.Event()

        def count():
            turns = 0
            while not stop.is_set():
                turns += 1
                if turns % 1000 == 0:
                    stamps.append(time.perf_counter())

        counter = threading.Thread(target=count)
        counter.start()
        while not stamps:  # the counter runs
            time.sleep(0.001)
        t0 = time.perf_counter()
        tile_blas.gemm_tile(c, a, b)
        t1 = time.perf_counter()
        stop.set()
        counter.join()
    finally:
        if limits is not None:
            limits.restore_original_limits()
    quarter = (t1 - t0) / 4
    during = [s for s in stamps if t0 + quarter < s < t1 - quarter]
    assert len(during) >= 3, f"{len(during)} of {len(stamps)} stamps in the middle of a {t1 - t0:.3f} s GEMM"
