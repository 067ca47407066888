"""Views straight into mpi4py's buffer calls, and `message()` for subviews (strided ones too)."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

import kernelkit as pk
from kernelkit import mpi as kkmpi


def ring(comm):
    r, n = comm.Get_rank(), comm.Get_size()
    return (r + 1) % n, (r - 1) % n


def filled(shape, value, dtype=pk.double, layout=pk.LayoutRight):
    v = pk.View(list(shape), dtype, layout=layout)
    v.fill(value)
    return v


def test_send_recv_isend_irecv(comm, agree):
    right, left = ring(comm)
    r = comm.Get_rank()
    out, got = filled([5, 3], r), pk.View([5, 3], pk.double)
    if comm.Get_size() > 1:
        if r % 2 == 0:
            comm.Send(out, dest=right)
            comm.Recv(got, source=left)
        else:
            comm.Recv(got, source=left)
            comm.Send(out, dest=right)
    else:
        comm.Sendrecv(out, right, recvbuf=got, source=left)
    ok = np.all(np.asarray(got) == left)
    got2 = pk.View([5, 3], pk.double)
    reqs = [comm.Irecv(got2, source=left, tag=3), comm.Isend(out, dest=right, tag=3)]
    MPI.Request.Waitall(reqs)
    assert agree(ok and np.all(np.asarray(got2) == left))


def test_sendrecv_into_contiguous_subview(comm, agree):
    right, left = ring(comm)
    out = filled([6], comm.Get_rank() + 0.5)
    big = pk.View([4, 6], pk.double)
    comm.Sendrecv(out, right, recvbuf=big[2], source=left)  # a row of a LayoutRight View: contiguous
    a = np.asarray(big)
    assert agree(np.all(a[2] == left + 0.5) and np.all(a[[0, 1, 3]] == 0.0))


def test_collectives_take_views(comm, agree):
    r, n = comm.Get_rank(), comm.Get_size()
    v = filled([4], r + 1.0)
    comm.Allreduce(MPI.IN_PLACE, v, op=MPI.SUM)
    ok = np.all(np.asarray(v) == n * (n + 1) / 2)
    b = filled([3], 7.0 if r == 0 else 0.0, pk.int64)
    comm.Bcast(b, root=0)
    ok &= np.all(np.asarray(b) == 7)
    g = pk.View([n, 2], pk.double) if r == 0 else None
    comm.Gather(filled([2], float(r)), g, root=0)
    if r == 0:
        ok &= np.array_equal(np.asarray(g), np.repeat(np.arange(n, dtype=float)[:, None], 2, axis=1))
    counts = [k + 1 for k in range(n)]
    gv = pk.View([sum(counts)], pk.int32)
    comm.Allgatherv(filled([r + 1], r, pk.int32), [gv, counts])
    ok &= np.array_equal(np.asarray(gv), np.repeat(np.arange(n), counts))
    send = pk.View([n, 2], pk.int64)
    np.asarray(send)[...] = np.arange(n)[:, None] * 100 + r
    recv = pk.View([n, 2], pk.int64)
    comm.Alltoall(send, recv)
    ok &= np.array_equal(np.asarray(recv), np.repeat((r * 100 + np.arange(n))[:, None], 2, axis=1))
    sc, rc = [1] * n, [1] * n
    sv, rv = pk.View([n], pk.double), pk.View([n], pk.double)
    np.asarray(sv)[...] = r * 10.0 + np.arange(n)
    comm.Alltoallv([sv, sc], [rv, rc])
    ok &= np.array_equal(np.asarray(rv), np.arange(n) * 10.0 + r)
    assert agree(ok)


@pytest.mark.parametrize("layout", [pk.LayoutRight, pk.LayoutLeft])
def test_strided_subviews_through_message(comm, agree, layout):
    right, left = ring(comm)
    r = comm.Get_rank()
    src = pk.View([6, 5], pk.double, layout=layout)
    np.asarray(src)[...] = r * 1000 + np.arange(30).reshape(6, 5)
    dst = pk.View([6, 5], pk.double, layout=layout)
    col_out, col_in = src[:, 1], dst[:, 3]  # a column (strided for LayoutRight) into another column
    comm.Sendrecv(kkmpi.message(col_out), right, 0, kkmpi.message(col_in, write=True), left, 0)
    block_out, block_in = src[1:4, ::2], dst[2:5, 0:5:2]  # a doubly strided block
    comm.Sendrecv(kkmpi.message(block_out), right, 1, kkmpi.message(block_in, write=True), left, 1)
    expect = np.zeros((6, 5))
    base = left * 1000 + np.arange(30).reshape(6, 5)
    expect[:, 3] = base[:, 1]
    expect[2:5, 0:5:2] = base[1:4, ::2]
    assert agree(np.array_equal(np.asarray(dst), expect))


def test_plain_send_of_a_strided_subview_is_refused(comm):
    v = pk.View([4, 4], pk.double)
    with pytest.raises(BufferError):
        comm.Sendrecv(v[:, 1], comm.Get_rank(), recvbuf=pk.View([4], pk.double), source=comm.Get_rank())


def test_message_of_numpy_and_bad_input(comm):
    a = np.arange(6.0)
    assert kkmpi.message(a) is a
    strided = kkmpi.message(a[::2])
    assert isinstance(strided, list) and strided[1] == 1
    ro = np.arange(3.0)
    ro.flags.writeable = False
    with pytest.raises(pk.KernelValueError, match="read-only"):
        kkmpi.message(ro, write=True)
    with pytest.raises(pk.KernelTypeError, match="View or a NumPy array"):
        kkmpi.message([1.0, 2.0])
