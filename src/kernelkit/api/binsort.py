"""Kokkos::BinSort with Kokkos::BinOp1D / BinOp3D: bin keys, build the permutation, count and offsets per bin,
and apply the permutation to Views.

Computed with NumPy on the host copy of the Views; results are written back through the View API, so they reach
the device copy of a GPU View.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernelkit.api import hostarrays
from kernelkit.errors import KernelTypeError, KernelValueError

__all__ = ["BinOp1D", "BinOp3D", "BinSort"]


def _numbers(x: Any, n: int, what: str) -> list[float]:
    seq = list(np.asarray(hostarrays.read(x) if not isinstance(x, (list, tuple)) else x, dtype=float).ravel())
    if len(seq) != n:
        raise KernelValueError(f"{what} needs {n} value(s), got {len(seq)}")
    return [float(v) for v in seq]


class BinOp1D:
    """Kokkos::BinOp1D: `nbins` equal bins over [min, max) of a rank-1 key View. A key equal to `max` falls in
    one extra bin (Kokkos gives `max_bins() == nbins + 1`).

    >>> op = BinOp1D(None, 4, 0.0, 1.0); op.max_bins(), op.bin_of(np.array([0.0, 0.3, 0.99, 1.0])).tolist()
    (5, [0, 1, 3, 4])
    """

    rank = 1

    def __init__(self, keys: Any, nbins: int, min: float, max: float) -> None:  # noqa: A002 - Kokkos names
        nbins = int(nbins)
        if nbins < 1:
            raise KernelValueError(f"BinOp1D needs at least one bin, got {nbins}")
        if not float(max) > float(min):
            raise KernelValueError(f"BinOp1D needs max > min, got min={min!r}, max={max!r}")
        self.keys = keys
        self.nbins = nbins
        self.min = float(min)
        self.max = float(max)
        self.mul = nbins / (self.max - self.min)

    def max_bins(self) -> int:
        return self.nbins + 1

    def bin_of(self, keys: np.ndarray) -> np.ndarray:
        """The bin of each key (host NumPy)."""
        k = np.asarray(keys, dtype=np.float64)
        if k.ndim != 1:
            raise KernelValueError(f"BinOp1D bins rank-1 keys, got shape {k.shape}")
        return (self.mul * (k - self.min)).astype(np.int64)

    def __repr__(self) -> str:
        return f"pk.BinOp1D({self.nbins}, {self.min}, {self.max})"


class BinOp3D:
    """Kokkos::BinOp3D: a grid of nbins[0] x nbins[1] x nbins[2] bins over a rank-2 (n, 3) key View
    (positions).
    The bin of key i is `(ix * nbins[1] + iy) * nbins[2] + iz`.

    >>> op = BinOp3D(None, [2, 2, 2], [0, 0, 0], [1, 1, 1]); op.bin_of(np.array([[0.7, 0.2, 0.6]])).tolist()
    [5]
    """

    rank = 3

    def __init__(self, keys: Any, nbins: Any, min: Any, max: Any) -> None:  # noqa: A002 - Kokkos names
        nb = [int(b) for b in _numbers(nbins, 3, "BinOp3D nbins")]
        lo = _numbers(min, 3, "BinOp3D min")
        hi = _numbers(max, 3, "BinOp3D max")
        if any(b < 1 for b in nb):
            raise KernelValueError(f"BinOp3D needs at least one bin per dimension, got {nb}")
        if any(not h > low for low, h in zip(lo, hi, strict=True)):
            raise KernelValueError(f"BinOp3D needs max > min in every dimension, got min={lo}, max={hi}")
        self.keys = keys
        self.nbins = nb
        self.min = lo
        self.max = hi
        self.mul = [b / (h - low) for b, low, h in zip(nb, lo, hi, strict=True)]

    def max_bins(self) -> int:
        return self.nbins[0] * self.nbins[1] * self.nbins[2]

    def bin_of(self, keys: np.ndarray) -> np.ndarray:
        k = np.asarray(keys, dtype=np.float64)
        if k.ndim != 2 or k.shape[1] < 3:
            raise KernelValueError(f"BinOp3D bins (n, 3) keys, got shape {k.shape}")
        ix, iy, iz = ((self.mul[d] * (k[:, d] - self.min[d])).astype(np.int64) for d in range(3))
        return (ix * self.nbins[1] + iy) * self.nbins[2] + iz

    def __repr__(self) -> str:
        return f"pk.BinOp3D({self.nbins}, {self.min}, {self.max})"


class BinSort:
    """Kokkos::BinSort: `BinSort(keys, bin_op[, sort_within_bins])` or `BinSort(keys, begin, end, bin_op[,
    sort_within_bins])` (only keys begin..end-1 are binned and sorted).

    `create_permute_vector()` bins the keys; then `get_permute_vector()[j]` is the original index of the j-th
    element in bin order, `get_bin_count()[b]` the number of keys in bin b and `get_bin_offsets()[b]` where
    bin b starts (an exclusive scan of the counts); `sort(view)` reorders the first dimension of a View (or
    its begin..end part) into bin order. Within a bin, elements keep their original order (Kokkos leaves it
    unspecified unless `sort_within_bins`, which then orders by key). The Views returned are int32, in the
    keys' memory space. A key whose bin falls outside 0..max_bins-1 raises (Kokkos has undefined behavior).
    """

    def __init__(self, keys: Any, *args: Any, sort_within_bins: bool = False) -> None:
        if len(args) in (1, 2) and isinstance(args[0], (BinOp1D, BinOp3D)):
            begin, end, bin_op = 0, None, args[0]
            rest = args[1:]
        elif len(args) in (3, 4) and isinstance(args[2], (BinOp1D, BinOp3D)):
            begin, end, bin_op = int(args[0]), int(args[1]), args[2]
            rest = args[3:]
        else:
            raise KernelTypeError(
                "BinSort(keys, bin_op[, sort_within_bins]) or BinSort(keys, begin, end, "
                "bin_op[, sort_within_bins]) with a pk.BinOp1D or pk.BinOp3D"
            )
        if rest:
            sort_within_bins = bool(rest[0])
        n = len(keys) if hasattr(keys, "__len__") else np.asarray(keys).shape[0]
        end = n if end is None else end
        if not 0 <= begin <= end <= n:
            raise KernelValueError(f"BinSort range [{begin}, {end}) is outside the {n} keys")
        self.keys = keys
        self.bin_op = bin_op
        self.begin = begin
        self.end = end
        self.sort_within_bins = sort_within_bins
        self._perm: Any = None
        self._count: Any = None
        self._offsets: Any = None
        self._perm_np: np.ndarray | None = None

    def create_permute_vector(self, exec_space: Any = None) -> None:
        """Bin the keys and build the permutation, bin counts and bin offsets."""
        keys = hostarrays.read(self.keys)[self.begin : self.end]
        bins = self.bin_op.bin_of(keys)
        nb = self.bin_op.max_bins()
        if bins.size and (bins.min() < 0 or bins.max() >= nb):
            bad = int(np.flatnonzero((bins < 0) | (bins >= nb))[0])
            raise KernelValueError(
                f"BinSort: key {self.begin + bad} ({keys[bad]!r}) falls in bin "
                f"{int(bins[bad])}, outside the {nb} bins of {self.bin_op!r}"
            )
        if self.sort_within_bins:
            k = keys if keys.ndim == 1 else keys[:, 0]
            perm = np.lexsort((k, bins))
        else:
            perm = np.argsort(bins, kind="stable")
        count = np.bincount(bins, minlength=nb)
        offsets = np.zeros(nb, dtype=np.int64)
        np.cumsum(count[:-1], out=offsets[1:])
        self._perm_np = perm
        self._perm = hostarrays.new_view(perm.astype(np.int32), self.keys)
        self._count = hostarrays.new_view(count.astype(np.int32), self.keys)
        self._offsets = hostarrays.new_view(offsets.astype(np.int32), self.keys)

    def _need(self) -> None:
        if self._perm_np is None:
            raise KernelValueError("call create_permute_vector() first")

    def get_permute_vector(self) -> Any:
        self._need()
        return self._perm

    def get_bin_count(self) -> Any:
        self._need()
        return self._count

    def get_bin_offsets(self) -> Any:
        self._need()
        return self._offsets

    def sort(self, values: Any, begin: int | None = None, end: int | None = None) -> None:
        """Reorder `values` along its first dimension: element begin+j becomes old element begin+perm[j].
        Without begin/end the BinSort's own range is used."""
        self._need()
        perm = self._perm_np
        b = self.begin if begin is None else int(begin)
        e = b + perm.size if end is None else int(end)
        if e - b != perm.size:
            raise KernelValueError(f"sort(view, {b}, {e}): the range must hold the {perm.size} sorted elements")
        arr = hostarrays.read(values)
        if arr.shape[0] < e:
            raise KernelValueError(f"sort(): the View has {arr.shape[0]} rows, the range ends at {e}")
        new = np.array(arr, copy=True)
        new[b:e] = arr[b:e][perm]
        hostarrays.write(values, new)

    def __repr__(self) -> str:
        return f"pk.BinSort({self.bin_op!r}, range=[{self.begin}, {self.end}))"
