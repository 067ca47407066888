"""Messages and bounds (issue 17 items 7 and 12): each bad input ends in a KernelError that names what is wrong
and where, the same on every space; never a hang, a bare OverflowError, an empty MemoryError or a raw traceback."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk
from kernelkit import config

# ------------------------------------------------------------------------------------------ item 12: messages


def _helper(x):
    return x + 1


@pk.workunit
def _calls_plain_function(i, out):
    out[i] = _helper(i)


@pk.workunit
def _generator(i, out):
    yield i


def _line_of(fn, text: str) -> int:
    import inspect

    lines, start = inspect.getsourcelines(fn.py_function)
    return start + next(k for k, line in enumerate(lines) if text in line)


def test_calling_an_undecorated_function_hints_at_pk_function(space):
    with pytest.raises(pk.KernelTypeError) as info:
        pk.parallel_for(pk.RangePolicy(space, 0, 2), _calls_plain_function, out=np.zeros(2))
    text = str(info.value)
    assert "@pk.function" in text and f"{__file__}:{_line_of(_calls_plain_function, '_helper(i)')}:" in text


def test_yield_in_a_kernel_says_so(space):
    with pytest.raises(pk.KernelSyntaxError) as info:
        pk.parallel_for(pk.RangePolicy(space, 0, 2), _generator, out=np.zeros(2))
    text = str(info.value)
    assert "`yield` is not supported in kernels" in text
    assert f"{__file__}:{_line_of(_generator, 'yield i')}:" in text


@pk.workunit
def _past_the_end(i, out):
    out[i + 1] = 1.0


@pk.workunit
def _atomic_past_the_end(i, out):
    pk.atomic_add(out, [3 * i], 1.0)


@pytest.mark.parametrize("kernel", [_past_the_end, _atomic_past_the_end], ids=["store", "atomic"])
def test_compiled_bounds_check_names_the_kernel_line(space, kernel):
    """The compiled spaces' bounds check locates the error at the kernel line, as Debug does."""
    line = _line_of(kernel, "out[i + 1]" if kernel is _past_the_end else "atomic_add")
    with config.override(bounds_check=True), pytest.raises(pk.KernelRuntimeError) as info:
        pk.parallel_for(pk.RangePolicy(space, 0, 2), kernel, out=np.zeros(2))
    err = info.value
    assert err.loc is not None and (err.loc.file, err.loc.line) == (__file__, line)
    assert "out of bounds" in err.message and ("index 2" in err.message or "index 3" in err.message)


def test_allocation_failure_says_how_much_and_where():
    with pytest.raises(MemoryError) as info:
        pk.View([2**36], pk.double)  # 512 GiB
    assert isinstance(info.value, pk.KernelMemoryError)
    text = str(info.value)
    assert "512 GiB" in text and "549755813888 bytes" in text and "host memory" in text and __file__ in text
    with pytest.raises(pk.KernelMemoryError, match="host memory"):
        pk.View([2**40, 2**20], pk.double)  # more than NumPy can index: not a bare ValueError either
