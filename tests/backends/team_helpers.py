"""What the team tests share: the team sizes and vector lengths they sweep, which a space runs, and a counting
kernel."""

from __future__ import annotations

import pytest

import kernelkit as pk


def space_name(space) -> str:
    for attr in ("name", "__name__"):
        value = getattr(space, attr, None)
        if isinstance(value, str) and value:
            return value.split(".")[-1]
    return str(space).split(".")[-1]


TEAM_SIZES = [1, 2, 3, 4]
VECTOR_LENGTHS = [1, 4, 32]


def max_team_size(space) -> int:
    """The largest explicit team size these tests ask of `space` (issue 4: Serial 1; OpenMP up to its thread
    count, 2 on the test machine; Debug emulates any size)."""
    name = space_name(space)
    if name == "Debug":
        return 4
    if name == "Serial":
        return 1
    if name == "Cuda":
        return 4
    return 2  # OpenMP and CudaCheck (which runs on OpenMP)


def need_team_size(space, ts) -> None:
    if ts is not pk.AUTO and ts > max_team_size(space):
        pytest.skip(f"team_size {ts} is beyond what {space_name(space)} runs (covered in test_teams_errors.py)")


def small(space, compiled: int, debug: int) -> int:
    return debug if space_name(space) == "Debug" else compiled


@pk.workunit
def count_threads(team: pk.TeamMember, acc: pk.Acc[pk.int64]):
    """Every team thread adds one: a top-level team reduction of it is league_size * team_size."""
    acc += 1
