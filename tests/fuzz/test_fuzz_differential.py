"""Property-based differential testing (issue 17): Hypothesis draws small kernels from the grammar of the kernel
language (fuzz_grammar.py) and inputs full of edge values; each runs on Debug, Serial, OpenMP and (where NVRTC
is installed) CudaCheck, and every space must agree with Debug (fuzz_harness.py says how exactly). Budget: the
`ci` profile (derandomized, fixed count) unless KERNELKIT_FUZZ=long (see conftest.py)."""

from __future__ import annotations

import pytest
from fuzz_grammar import PATTERNS, kernels
from fuzz_harness import STATS, differences, run, spaces
from hypothesis import given, note, settings
from hypothesis import strategies as st

import kernelkit as pk

SPACES = None


# the budget split evenly over the patterns (derandomized generation would otherwise favour the first one)
_PER_PATTERN = max(settings.default.max_examples // len(PATTERNS), 1)


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=_PER_PATTERN)
@given(data=st.data())
def test_every_space_agrees_with_debug(pattern, data):
    case = data.draw(kernels(pattern))
    global SPACES
    if SPACES is None:
        SPACES = spaces()
    note(case.source)
    note(f"pattern={case.pattern} n={case.n} m={case.m} reducer={case.reducer} seed={case.seed}")
    STATS["kernels"] += 1
    STATS["by_pattern"][case.pattern] = STATS["by_pattern"].get(case.pattern, 0) + 1
    ref = run(case, pk.Debug)
    STATS["inputs"] += 1  # one set of input arrays per kernel, run on every space
    STATS["elements"] += sum(v.size for v in case.arrays().values())
    if ref[0] == "refused":
        STATS["refused"] += 1
        note(f"refused by Debug: {ref[1]}: {ref[2]}")
    problems = {}
    for space in SPACES[1:]:
        got = run(case, space)
        diff = differences(case, ref, got)
        if diff:
            problems[str(space)] = diff
    assert not problems, f"spaces disagree with Debug: {problems}"
