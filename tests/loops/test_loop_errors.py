"""What @pk.jit refuses, and how it says so: a KernelError naming the user's file:line:col, no internal frames."""

import numpy as np
import pytest

import kernelkit as pk
import kernelkit.appy as appy

HERE = __file__


def racy_store(a, k):
    for i in pk.prange(a.shape[0]):
        a[k[i]] = i


def racy_scalar(a):
    s = 0.0
    for i in pk.prange(a.shape[0]):
        a[i] = s  # reads what another iteration left
        s = a[i] + 1.0
    return s


def two_stores(a):
    for i in pk.prange(a.shape[0] - 1):
        a[i] = 1.0
        a[i + 1] = 2.0  # iteration i + 1 writes a[i + 1] too


def alloc_in_loop(n):
    for i in pk.prange(n):
        t = np.zeros(3)
        t[0] = i


def bad_clause(a):
    # pragma parallel for simd my_directive
    for i in range(a.shape[0]):
        a[i] = 0.0


def with_statement(a):
    with open("x"):
        a[0] = 1.0


def pragma_on_statement(a):
    # pragma parallel for
    a[0] = 1.0


def mixed_returns(a):
    if a[0] > 0:
        return a
    return 1.0


def line_of(fn, text: str) -> int:
    import inspect

    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if text in line)


@pytest.mark.parametrize(
    "fn, args, text, message",
    [
        (racy_store, (np.zeros(4), np.zeros(4, dtype=np.int64)), "a[k[i]] = i", "may write the same element"),
        (racy_scalar, (np.zeros(4),), "a[i] = s", "loop-carried dependence"),
        (two_stores, (np.zeros(4),), "a[i + 1] = 2.0", "through two stores"),
        (alloc_in_loop, (4,), "t = np.zeros(3)", "cannot be allocated inside a parallel loop"),
        (bad_clause, (np.zeros(4),), "pragma parallel for simd my_directive", "my_directive"),
        (with_statement, (np.zeros(4),), "with open", "is not supported"),
        (pragma_on_statement, (np.zeros(4),), "a[0] = 1.0", "must come right before a for loop"),
        (mixed_returns, (np.ones(4),), "return 1.0", "same types"),
    ],
)
def test_errors_point_at_the_user_line(fn, args, text, message):
    with pytest.raises(pk.KernelError) as info:
        pk.jit(space=pk.OpenMP)(fn)(*args)
    err = info.value
    assert message in str(err)
    assert err.loc is not None and err.loc.file == HERE and err.loc.line == line_of(fn, text)
    shown = str(err)
    assert "kernelkit/loops" not in shown and "kernelkit/frontend" not in shown


def atomic_ok(a, k):
    for i in pk.prange(a.shape[0]):
        pk.atomic_add(a, [k[i]], 1.0)


def test_atomics_are_not_races(space):
    a = np.zeros(3)
    k = np.array([0, 1, 1, 2, 2, 2])
    pk.jit(space=space)(atomic_ok)(np.zeros(6), k)
    out = np.zeros(6)
    pk.jit(space=space)(atomic_ok)(out, k)
    np.testing.assert_array_equal(out[:3], [1.0, 2.0, 3.0])
    assert a.sum() == 0.0


def writes_list(x):
    for i in pk.prange(len(x)):
        x[i] = 1.0


def test_list_arguments_are_read_only():
    assert appy.jit(lambda_free_identity)([1, 2, 3]) == [1, 2, 3]
    with pytest.raises(pk.KernelTypeError, match="a list"):
        pk.jit(space=pk.OpenMP)(writes_list)([1.0, 2.0])


def lambda_free_identity(x):
    return x
