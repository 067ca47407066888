"""Cart: process grids, block decompositions and halo exchange, checked against the global picture."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from mpi4py import MPI

import kernelkit as pk
from kernelkit import mpi as kkmpi

SENTINEL = -1.0


def global_value(g: tuple[int, ...], comp: int = 0) -> float:
    """A distinct value for every global cell (and component)."""
    v = 0.0
    for d, x in enumerate(g):
        v += (x + 1) * 1000.0**d
    return v + 0.25 * comp


def expected_block(cart, shape, start, widths, comps):
    """What a block View must hold after a halo exchange: owned cells and halos of existing neighbours carry
    the global value of the cell (wrapped on periodic axes), halos beyond a non-periodic edge the sentinel."""
    local = tuple(c + 2 * w for c, w in zip(shape, widths, strict=True))
    out = np.empty(local + ((comps,) if comps else ()))
    for idx in itertools.product(*(range(n) for n in local)):
        g, outside = [], False
        for d, i in enumerate(idx):
            x = start[d] + i - widths[d]
            if not 0 <= x < cart.global_shape[d]:
                if not cart.periods[d]:
                    outside = True
                x %= cart.global_shape[d]
            g.append(x)
        for c in range(max(comps, 1)):
            out[idx + ((c,) if comps else ())] = SENTINEL if outside else global_value(tuple(g), c)
    return out


def make_block(cart, global_shape, widths, comps=0, layout=pk.LayoutRight):
    cart.global_shape = tuple(global_shape)
    start, count = cart.block(global_shape)
    local = [c + 2 * w for c, w in zip(count, widths, strict=True)] + ([comps] if comps else [])
    v = pk.View(local, pk.double, layout=layout)
    ref = expected_block(cart, count, start, widths, comps)
    a = np.asarray(v)
    a[...] = SENTINEL
    owned = tuple(slice(w, w + c) for w, c in zip(widths, count, strict=True))
    a[owned] = ref[owned]
    return v, ref


def test_dims_filled_like_compute_dims(comm):
    n = comm.Get_size()
    cart = kkmpi.Cart([0, 0])
    assert cart.dims == tuple(MPI.Compute_dims(n, [0, 0]))
    assert cart.comm.Get_topo()[0] == list(cart.dims)
    assert cart.coords == tuple(cart.comm.Get_coords(cart.comm.Get_rank()))
    assert kkmpi.Cart([n]).dims == (n,)
    assert kkmpi.Cart([0, 1, 0]).dims[1] == 1


def test_bad_grids_are_clear_errors(comm):
    n = comm.Get_size()
    with pytest.raises(pk.KernelValueError, match="does not fit"):
        kkmpi.Cart([n + 1])
    with pytest.raises(pk.KernelValueError, match="1 to 3 axes"):
        kkmpi.Cart([1, 1, 1, n])
    with pytest.raises(pk.KernelTypeError, match="sequence of ints"):
        kkmpi.Cart(n)
    with pytest.raises(pk.KernelValueError, match="periods"):
        kkmpi.Cart([n], periods=[True, False])


@pytest.mark.parametrize("shape", [[7], [5, 9], [4, 3, 6]])
def test_blocks_tile_the_domain(comm, agree, shape):
    cart = kkmpi.Cart([0] * len(shape))
    start, count = cart.block(shape)
    assert all(c >= 1 for c in count)
    owners = np.zeros(shape, dtype=int)
    for s, c in comm.allgather((start, count)):
        owners[tuple(slice(a, a + b) for a, b in zip(s, c, strict=True))] += 1
    assert agree(np.all(owners == 1))
    # ordered by coordinate: a rank's block starts where the block of its lower neighbour ends
    for d in range(len(shape)):
        lower = cart.neighbors[d][0]
        got = comm.sendrecv((start[d] + count[d]), dest=cart.neighbors[d][1], source=lower)
        assert lower == MPI.PROC_NULL or got == start[d]


def test_block_too_many_ranks_for_an_axis(comm):
    cart = kkmpi.Cart([comm.Get_size()])
    if comm.Get_size() > 1:
        with pytest.raises(pk.KernelValueError, match="cannot be split"):
            cart.block([1])
    with pytest.raises(pk.KernelValueError, match="2-axis domain"):
        cart.block([4, 4])


CASES = [
    # (grid dims, periods, global shape, widths)
    ([0], [True], [23], [1]),
    ([0], [False], [23], [2]),
    ([0, 0], [True, False], [12, 11], [1, 1]),
    ([0, 0], [False, True], [9, 14], [2, 1]),
    ([1, 0], [True, True], [6, 13], [1, 2]),  # axis 0 has one rank and wraps onto itself
    ([0, 1, 0], [True, True, False], [7, 5, 6], [1, 1, 1]),
]


@pytest.mark.parametrize("dims,periods,global_shape,widths", CASES)
@pytest.mark.parametrize("layout", [pk.LayoutRight, pk.LayoutLeft])
def test_halo_exchange_matches_global_picture(comm, agree, dims, periods, global_shape, widths, layout):
    cart = kkmpi.Cart(dims, periods=periods)
    v, ref = make_block(cart, global_shape, widths, layout=layout)
    cart.halo_exchange(v, widths)
    assert agree(np.array_equal(np.asarray(v), ref))
    cart.halo_exchange(v, widths)  # the cached plan, again: same result
    assert agree(np.array_equal(np.asarray(v), ref))


@pytest.mark.parametrize("dims,periods,global_shape,widths", CASES[2:4])
def test_halo_exchange_trailing_component_axis(comm, agree, dims, periods, global_shape, widths):
    cart = kkmpi.Cart(dims, periods=periods)
    v, ref = make_block(cart, global_shape, widths, comps=3)
    cart.halo_exchange(v, widths)
    assert agree(np.array_equal(np.asarray(v), ref))


def test_halo_exchange_numpy_array_and_subview(comm, agree):
    cart = kkmpi.Cart([0, 0], periods=[True, True])
    v, ref = make_block(cart, [10, 9], [1, 1])
    a = np.array(v)  # a plain NumPy copy
    cart.halo_exchange(a, 1)
    assert agree(np.array_equal(a, ref))
    # the block as a strided subview of a larger View (every second row of a padded array)
    big = pk.View([2 * v.shape[0], v.shape[1] + 3], pk.double)
    sub = big[::2, 1 : 1 + v.shape[1]]
    np.asarray(sub)[...] = np.asarray(v)
    np.asarray(sub)[0, :] = SENTINEL
    np.asarray(sub)[-1, :] = SENTINEL
    np.asarray(sub)[:, 0] = SENTINEL
    np.asarray(sub)[:, -1] = SENTINEL
    cart.halo_exchange(sub, 1)
    assert agree(np.array_equal(np.asarray(sub), ref))
    assert agree(np.all(np.asarray(big)[1::2] == 0.0))  # the rows between were not touched


def test_halo_exchange_int_views(comm, agree):
    cart = kkmpi.Cart([0], periods=[True])
    start, count = cart.block([11])
    v = pk.View([count[0] + 2], pk.int32)
    np.asarray(v)[1:-1] = np.arange(start[0], start[0] + count[0])
    cart.halo_exchange(v, 1)
    a = np.asarray(v)
    assert agree(a[0] == (start[0] - 1) % 11 and a[-1] == (start[0] + count[0]) % 11)


def test_halo_width_zero_axis_is_skipped(comm, agree):
    cart = kkmpi.Cart([0, 0], periods=[True, True])
    cart.global_shape = (8, 8)
    v, _ = make_block(cart, [8, 8], [1, 0])
    before = np.array(v)
    cart.halo_exchange(v, [1, 0])
    after = np.asarray(v)
    assert agree(np.array_equal(after[1:-1], before[1:-1]))  # only axis-0 halos changed


def test_halo_exchange_bad_input(comm):
    cart = kkmpi.Cart([0, 0])
    with pytest.raises(pk.KernelValueError, match="rank-1 View on a 2-axis grid"):
        cart.halo_exchange(pk.View([8], pk.double), 1)
    with pytest.raises(pk.KernelValueError, match="too few"):
        cart.halo_exchange(pk.View([2, 8], pk.double), 1)
    with pytest.raises(pk.KernelValueError, match="one width"):
        cart.halo_exchange(pk.View([8, 8], pk.double), [1, 1, 1])
    with pytest.raises(pk.KernelTypeError, match="View or a NumPy array"):
        cart.halo_exchange([[0.0] * 8] * 8, 1)


def test_plans_do_not_keep_views_alive(comm):
    import gc
    import weakref

    cart = kkmpi.Cart([0], periods=[True])
    v = pk.View([8], pk.double)
    cart.halo_exchange(v, 1)
    ref = weakref.ref(v)
    del v
    gc.collect()
    assert ref() is None
    assert not cart._plans
