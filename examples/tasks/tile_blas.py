"""The CPU tile kernels of the blocked Cholesky: POTRF, TRSM and GEMM on float64 tiles, in place, with the GIL
released while BLAS/LAPACK runs, so that tasks on several worker threads compute tiles at the same time.

SciPy's wrappers (`scipy.linalg.blas.dgemm`, ...) hold the GIL for the whole call: tasks calling them run one
tile at a time. SciPy also exports the C functions of the same BLAS and LAPACK for Cython, as capsules in
`scipy.linalg.cython_blas.__pyx_capi__` and `scipy.linalg.cython_lapack.__pyx_capi__`; ctypes calls them and,
as for every foreign call, releases the GIL. They take every argument by pointer (the Fortran convention).
Where a SciPy build does not export them with the expected signatures, `NOGIL` is False and the kernels call
SciPy's wrappers (the same results, holding the GIL).

BLAS is column-major: a C-order tile is, to it, its transpose, so each call works on the transposes and copies
nothing. Tiles that are not C-contiguous and aligned, or a written tile that overlaps an input, go through
NumPy/SciPy's general routines instead. One BLAS thread per tile is the caller's setting (the tasks are the
parallelism): OPENBLAS_NUM_THREADS=1 before SciPy loads its BLAS, as examples/tasks/cholesky.py and
benchmarks/tasks/cholesky.py set it.

    >>> x = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> potrf_tile(x); np.tril(x).tolist()
    [[2.0, 0.0], [1.0, 2.0]]
"""

from __future__ import annotations

import ctypes
import re

import numpy as np
import scipy.linalg
import scipy.linalg.blas
import scipy.linalg.cython_blas
import scipy.linalg.cython_lapack
import scipy.linalg.lapack

# the capsules' C signatures, SciPy's typedef of double written `d`: another signature (64-bit integers, say)
# means another calling convention, and the kernels fall back to SciPy's wrappers
_SIGNATURES = {
    "dgemm": "void (char *, char *, int *, int *, int *, d *, d *, int *, d *, int *, d *, d *, int *)",
    "dtrsm": "void (char *, char *, char *, char *, int *, int *, d *, d *, int *, d *, int *)",
    "dpotrf": "void (char *, int *, d *, int *, int *)",
}


def _load_native() -> dict[str, ctypes._CFuncPtr] | None:
    """dgemm, dtrsm and dpotrf of SciPy's BLAS/LAPACK as ctypes functions; None where a capsule is missing."""
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    functions = {}
    for module, name in (
        (scipy.linalg.cython_blas, "dgemm"),
        (scipy.linalg.cython_blas, "dtrsm"),
        (scipy.linalg.cython_lapack, "dpotrf"),
    ):
        capsule = getattr(module, "__pyx_capi__", {}).get(name)
        if capsule is None:
            return None
        signature = get_name(capsule)
        if re.sub(r"__pyx_t_\w+_d\b", "d", signature.decode()) != _SIGNATURES[name]:
            return None
        pointer = get_pointer(capsule, signature)
        n_args = _SIGNATURES[name].count("*")
        functions[name] = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * n_args)(pointer)  # CFUNCTYPE: GIL released
    return functions


try:
    _NATIVE = _load_native()
except (AttributeError, TypeError, ValueError):  # no ctypes.pythonapi, or a capsule that is not one
    _NATIVE = None
NOGIL = _NATIVE is not None  # the kernels release the GIL (on C-contiguous tiles)

_byref = ctypes.byref
_U, _L, _N, _T = (ctypes.c_char(c) for c in (b"U", b"L", b"N", b"T"))
_ONE, _MINUS_ONE = ctypes.c_double(1.0), ctypes.c_double(-1.0)


def _tile(x: object, what: str, *, written: bool = False) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{what}: a NumPy array is expected, not {type(x).__name__}")
    if x.dtype != np.float64:
        raise TypeError(f"{what}: the tile kernels take float64 tiles (native byte order), not {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{what}: a 2-D tile is expected, not shape {x.shape}")
    if written and not x.flags.writeable:
        raise ValueError(f"{what}: the tile is written in place but is read-only")
    return x


def _blas_ready(*tiles: np.ndarray) -> bool:
    return all(t.flags.c_contiguous and t.flags.aligned for t in tiles)


def _int(n: int) -> ctypes.c_int:
    return ctypes.c_int(max(n, 1))  # a leading dimension is at least 1, even for an empty matrix


def potrf_tile(x: np.ndarray) -> None:
    """x <- L with x = L L^T, in place (the upper triangle is left as it was: tiles are read lower only).

    Raises numpy.linalg.LinAlgError when the tile is not positive definite."""
    _tile(x, "potrf_tile: x", written=True)
    n = x.shape[0]
    if x.shape != (n, n):
        raise ValueError(f"potrf_tile: x must be square, not shape {x.shape}")
    if n == 0:
        return
    if not _blas_ready(x):
        try:  # reads the lower triangle only; SciPy's and NumPy's messages differ between versions: ours is one
            x[...] = np.linalg.cholesky(x)
        except np.linalg.LinAlgError as e:
            raise np.linalg.LinAlgError(f"potrf: the tile is not positive definite ({e})") from None
        return
    # x's lower triangle is the upper one of its transpose: dpotrf('U') on x.T leaves L^T there
    if _NATIVE is None:
        _, info = scipy.linalg.lapack.dpotrf(x.T, lower=0, overwrite_a=1, clean=0)
    else:
        size, status = _int(n), ctypes.c_int(0)
        _NATIVE["dpotrf"](_byref(_U), _byref(size), x.ctypes.data, _byref(size), _byref(status))
        info = status.value
    if info > 0:
        raise np.linalg.LinAlgError(
            f"dpotrf: the tile is not positive definite (its leading {info} x {info} block is not; info={info})"
        )
    if info < 0:
        raise ValueError(f"dpotrf: argument {-info} is invalid")


def trsm_tile(factor: np.ndarray, panel: np.ndarray) -> None:
    """panel <- panel L^-T with L the lower triangle of the n x n `factor` (its upper triangle is not read) and
    `panel` m x n, in place."""
    _tile(factor, "trsm_tile: factor")
    _tile(panel, "trsm_tile: panel", written=True)
    m, n = panel.shape
    if factor.shape != (n, n):
        raise ValueError(f"trsm_tile: factor must be {n} x {n} for a panel of shape {panel.shape}, not {factor.shape}")
    if m == 0 or n == 0:
        return
    if not _blas_ready(factor, panel) or np.may_share_memory(factor, panel):
        panel[...] = scipy.linalg.solve_triangular(np.tril(factor), panel.T, lower=True, check_finite=False).T
        return
    # column-major: panel.T <- L^-1 panel.T, with L = (factor.T's upper triangle)^T
    if _NATIVE is None:
        scipy.linalg.blas.dtrsm(1.0, factor.T, panel.T, side=0, lower=0, trans_a=1, overwrite_b=1)
        return
    rows, cols = _int(n), _int(m)
    _NATIVE["dtrsm"](
        _byref(_L), _byref(_U), _byref(_T), _byref(_N), _byref(rows), _byref(cols), _byref(_ONE),
        factor.ctypes.data, _byref(rows), panel.ctypes.data, _byref(rows),
    )  # fmt: skip


def gemm_tile(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """c <- c - a b^T, in place, for c m x n, a m x k and b n x k (a and b may be the same tile: SYRK)."""
    _tile(c, "gemm_tile: c", written=True)
    _tile(a, "gemm_tile: a")
    _tile(b, "gemm_tile: b")
    (m, n), k = c.shape, a.shape[1]
    if a.shape != (m, k) or b.shape != (n, k):
        raise ValueError(f"gemm_tile: shapes c {c.shape}, a {a.shape}, b {b.shape} do not fit c - a b^T")
    if m == 0 or n == 0 or k == 0:
        return
    if not _blas_ready(c, a, b) or np.may_share_memory(c, a) or np.may_share_memory(c, b):
        c -= a @ b.T  # NumPy's matmul (it releases the GIL too)
        return
    # column-major: c.T <- c.T - b a^T = c.T - (b.T)^T a.T
    if _NATIVE is None:
        scipy.linalg.blas.dgemm(-1.0, b.T, a.T, beta=1.0, c=c.T, trans_a=1, overwrite_c=1)
        return
    rows, cols, inner = _int(n), _int(m), _int(k)
    _NATIVE["dgemm"](
        _byref(_T), _byref(_N), _byref(rows), _byref(cols), _byref(inner), _byref(_MINUS_ONE),
        b.ctypes.data, _byref(inner), a.ctypes.data, _byref(inner), _byref(_ONE), c.ctypes.data, _byref(rows),
    )  # fmt: skip
