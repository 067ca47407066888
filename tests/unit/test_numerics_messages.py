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


# ------------------------------------------------------------------------------------------ item 7: bounds


@pk.workunit
def _nothing(i, out):
    pass


@pk.workunit
def _nothing2(i, j, out):
    pass


@pk.workunit
def _team_nothing(team, out):
    pass


@pk.workunit
def _count_range(i, acc):
    acc += 1


_BAD_POLICIES = {
    "end 2**63": (lambda s: pk.RangePolicy(s, 0, 2**63), "does not fit in a 64-bit index"),
    "begin below int64": (lambda s: pk.RangePolicy(s, -(2**63) - 1, 0), "does not fit in a 64-bit index"),
    "length overflows": (lambda s: pk.RangePolicy(s, -(2**63), 2**63 - 1), "more than 2**63 - 1 indices"),
    "end before begin": (lambda s: pk.RangePolicy(s, 5, 2), "before"),
    "md end 2**64": (lambda s: pk.MDRangePolicy(s, [0, 0], [2**64, 2]), "does not fit in a 64-bit index"),
    "md points overflow": (lambda s: pk.MDRangePolicy(s, [0, 0], [2**40, 2**40]), "more than 2**63 - 1 indices"),
    "md end before begin": (lambda s: pk.MDRangePolicy(s, [0, 3], [4, 1]), "before"),
    "league 2**63": (lambda s: pk.TeamPolicy(s, 2**63, 1), "does not fit in a 64-bit index"),
    "league negative": (lambda s: pk.TeamPolicy(s, -1, 1), "league_size"),
    "team size 2**40": (lambda s: pk.TeamPolicy(s, 1, 2**40), "more than 2**31 - 1 threads"),
    "vector length 2**40": (lambda s: pk.TeamPolicy(s, 1, 1, 2**40), "more than 2**31 - 1 threads"),
}


@pytest.mark.parametrize("case", list(_BAD_POLICIES), ids=list(_BAD_POLICIES))
def test_policy_bounds_are_validated_the_same_on_every_space(space, case):
    """Item 7: a clear KernelValueError naming the bound (not a hang, an OverflowError or a MemoryError)."""
    make, text = _BAD_POLICIES[case]
    kernel = _team_nothing if "league" in case or "team" in case or "vector" in case else _nothing
    with pytest.raises(pk.KernelValueError, match=text.replace("*", r"\*")):
        policy = make(space)
        if isinstance(policy, pk.MDRangePolicy):
            kernel = _nothing2
        pk.parallel_for(policy, kernel, out=np.zeros(1))


@pytest.mark.parametrize("n", [2**63, 2**64, -1])
def test_int_policies_are_validated(space, default_space, n):
    default_space(space)
    with pytest.raises(pk.KernelValueError):
        pk.parallel_reduce(n, _count_range)


@pk.workunit
def _offsets(i, lo, out):
    out[i - lo] = i - lo


def test_ranges_at_the_ends_of_int64_run(space):
    """Item 7: the largest representable bounds run, without overflow in any driver's loop."""
    for lo, hi in ((2**63 - 3, 2**63 - 1), (-(2**63), -(2**63) + 2)):
        out = np.full(2, -1, np.int64)
        pk.parallel_for(pk.RangePolicy(space, lo, hi), _offsets, lo=lo, out=out)
        assert out.tolist() == [0, 1]
        assert pk.parallel_reduce(pk.RangePolicy(space, lo, hi), _count_range) == 2


def test_debug_refuses_teams_it_cannot_emulate():
    with pytest.raises(pk.KernelValueError, match="more than the Debug space emulates"):
        pk.parallel_for(pk.TeamPolicy(pk.Debug, 1, 2**20), _team_nothing, out=np.zeros(1))
