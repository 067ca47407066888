"""Errors of hierarchical parallelism (issue 4), on every space: scratch exhaustion, team sizes a space cannot
run, nested patterns outside team workunits, nested workunits with the wrong parameters, bad team policies,
barrier divergence on Debug, and (on a GPU) level-0 scratch beyond the device's shared memory.

Each error is a pk.KernelError of the right kind, says what is wrong, and (STYLE.md item 4) names the user's
line as file:line. Cases that could crash or hang the interpreter (writes past exhausted scratch, divergent
barriers) run in a child process with a time limit, so that a crash or hang is reported as this test's
failure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from team_helpers import space_name

import kernelkit as pk

HERE = os.path.basename(__file__)


def marked_line(tag: str, path: str = __file__) -> int:
    """The line of ``path`` marked ``# E:<tag>``."""
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            m = re.search(r"#\s*E:([\w-]+)", text)
            if m and m.group(1) == tag:
                return number
    raise AssertionError(f"no line marked # E:{tag}")


def check(excinfo, cls, tags, mentions=()):
    """The error is a `cls` KernelError located at one of the lines marked with `tags`, mentioning `mentions`
    (each a word, or a tuple of alternatives; case-insensitive)."""
    exc = excinfo.value
    assert isinstance(exc, pk.KernelError), f"{type(exc).__name__} is not a pk.KernelError: {exc}"
    assert isinstance(exc, cls), f"expected {cls.__name__}, got {type(exc).__name__}: {exc}"
    msg = str(exc)
    tags = [tags] if isinstance(tags, str) else list(tags)
    lines = [marked_line(t) for t in tags]
    assert any(re.search(rf"{re.escape(HERE)}\"?:{n}(:\d+)?", msg) for n in lines), (
        f"the message does not locate the error at {HERE}:<one of {lines}>:\n{msg}"
    )
    low = msg.lower()
    for word in mentions:
        alternatives = (word,) if isinstance(word, str) else tuple(word)
        assert any(a.lower() in low for a in alternatives), f"the message does not mention {word!r}:\n{msg}"
    assert "kernelkit/backends" not in msg and "kernelkit/frontend" not in msg, msg
    return msg


# ==========================================================================================================
# Child-process runs: scratch exhaustion and Debug barrier divergence.
# ==========================================================================================================

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import kernelkit as pk
    from kernelkit.api import spaces as S

    space = getattr(pk, sys.argv[1], None) or getattr(S, sys.argv[1])
    case = sys.argv[2]
    n = int(sys.argv[3])


    @pk.workunit
    def team_fill(team: pk.TeamMember, n: int, out: pk.View1D[pk.double]):
        s = pk.ScratchView1D[pk.double](team.team_scratch(0), n)  # L:team_scratch

        def fill(i: int):
            s[i] = 1.0 * i

        pk.parallel_for(pk.TeamThreadRange(team, n), fill)
        team.team_barrier()
        out[team.league_rank()] = s[n - 1]


    @pk.workunit
    def thread_fill(team: pk.TeamMember, n: int, out: pk.View1D[pk.double]):
        s = pk.ScratchView1D[pk.double](team.thread_scratch(1), n)  # L:thread_scratch
        for i in range(n):
            s[i] = 2.0 * i
        out[team.league_rank()] = s[n - 1]


    @pk.workunit
    def second_alloc(team: pk.TeamMember, n: int, out: pk.View1D[pk.double]):
        a = pk.ScratchView1D[pk.double](team.team_scratch(0), n)
        b = pk.ScratchView1D[pk.double](team.team_scratch(0), n)  # L:second_alloc

        def fill(i: int):
            a[i] = 1.0
            b[i] = 2.0

        pk.parallel_for(pk.TeamThreadRange(team, n), fill)
        out[team.league_rank()] = a[0] + b[0]


    @pk.workunit
    def divergent_barrier(team: pk.TeamMember, out: pk.View1D[pk.double]):
        if team.team_rank() == 0:
            team.team_barrier()  # L:barrier
        out[team.league_rank()] = 1.0


    @pk.workunit
    def divergent_reduce(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def f(i: int, a: pk.Acc[pk.double]):
            a += 1.0

        if team.team_rank() == 1:
            out[team.league_rank()] = pk.parallel_reduce(pk.TeamThreadRange(team, 8), f)  # L:reduce


    @pk.workunit
    def barrier_in_thread_range(team: pk.TeamMember, n: int, out: pk.View1D[pk.double]):
        def body(i: int):
            team.team_barrier()  # L:nested_barrier

        pk.parallel_for(pk.TeamThreadRange(team, n), body)
        out[team.league_rank()] = 1.0


    out = np.zeros(4)
    try:
        if case == "team":
            pk.parallel_for(pk.TeamPolicy(space, 4, 1).set_scratch_size(0, pk.PerTeam(64)), team_fill,
                            n=n, out=out)  # L:launch
        elif case == "thread":
            pk.parallel_for(pk.TeamPolicy(space, 4, 1).set_scratch_size(1, pk.PerThread(64)), thread_fill,
                            n=n, out=out)  # L:launch
        elif case == "none":
            pk.parallel_for(pk.TeamPolicy(space, 4, 1), team_fill, n=n, out=out)  # L:launch
        elif case == "second":
            size = pk.ScratchView1D[pk.double].shmem_size(n)
            pk.parallel_for(pk.TeamPolicy(space, 4, 1).set_scratch_size(0, pk.PerTeam(size)), second_alloc,
                            n=n, out=out)  # L:launch
        elif case == "divergent_barrier":
            pk.parallel_for(pk.TeamPolicy(space, 2, 2), divergent_barrier, out=out)  # L:launch
        elif case == "divergent_reduce":
            pk.parallel_for(pk.TeamPolicy(space, 2, 3), divergent_reduce, out=out)  # L:launch
        elif case == "barrier_in_thread_range":
            pk.parallel_for(pk.TeamPolicy(space, 2, 2), barrier_in_thread_range, n=n, out=out)  # L:launch
        print(json.dumps({"raised": None}))
    except Exception as e:
        print(json.dumps({"raised": type(e).__name__, "kernel_error": isinstance(e, pk.KernelError),
                          "message": str(e)}))
""")


def run_child(tmp_path, space, case, n=0, timeout=180):
    script = tmp_path / "user_program.py"
    script.write_text(CHILD)
    try:
        proc = subprocess.run(
            [sys.executable, str(script), space_name(space), case, str(n)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(tmp_path),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case} on {space_name(space)}: the program hung (no error within {timeout}s)")
    assert proc.returncode == 0, (
        f"{case} on {space_name(space)}: the process died (exit status {proc.returncode}) instead of "
        f"raising a KernelError\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    lines: dict[str, list[int]] = {}
    for i, t in enumerate(CHILD.splitlines(), start=1):
        m = re.search(r"# L:(\w+)", t)
        if m:
            lines.setdefault(m.group(1), []).append(i)
    return result, lines


def child_located(result, lines, *tags) -> bool:
    # a tagged line may be the continuation of a statement: its first line (one or two above) counts too
    return any(
        re.search(rf"user_program\.py\"?:{line - back}(:\d+)?", result["message"])
        for t in tags
        for line in lines[t]
        for back in (0, 1, 2)
    )


def not_on_gpu(space):
    if space_name(space) == "Cuda":
        pytest.skip("writing past exhausted level-0 scratch is checked on the host spaces")


@pytest.mark.parametrize("n", [100, 200_000])
def test_team_scratch_exhaustion_is_a_clear_error(space, tmp_path, n):
    # The kernel asks for n doubles of level-0 team scratch but set_scratch_size gave 64 bytes, then writes
    # all n of them (as a program that got its sizes wrong does): a KernelError, never a crash or a silent
    # write.
    not_on_gpu(space)
    result, lines = run_child(tmp_path, space, "team", n)
    assert result["raised"] and result["kernel_error"], result
    msg = result["message"].lower()
    assert "scratch" in msg and "level 0" in msg, result
    assert str(8 * n) in msg and "64" in msg, result  # what was needed and what was given


def test_thread_scratch_exhaustion_is_a_clear_error(space, tmp_path):
    not_on_gpu(space)
    n = 100_000
    result, lines = run_child(tmp_path, space, "thread", n)
    assert result["raised"] and result["kernel_error"], result
    msg = result["message"].lower()
    assert "scratch" in msg and "level 1" in msg and str(8 * n) in msg, result


def test_scratch_without_set_scratch_size(space, tmp_path):
    not_on_gpu(space)
    result, lines = run_child(tmp_path, space, "none", 1000)
    assert result["raised"] and result["kernel_error"], result
    assert "scratch" in result["message"].lower() and "set_scratch_size" in result["message"], result


def test_second_scratch_allocation_exhausts(space, tmp_path):
    # one view fits exactly; the second one does not
    not_on_gpu(space)
    n = 50_000
    result, lines = run_child(tmp_path, space, "second", n)
    assert result["raised"] and result["kernel_error"], result
    assert str(16 * n) in result["message"] and str(8 * n) in result["message"], result


def test_scratch_exhaustion_names_the_users_line(space, tmp_path):
    # STYLE.md item 4: the error names the user's line: the ScratchView that does not fit, or the launch
    not_on_gpu(space)
    result, lines = run_child(tmp_path, space, "team", 100)
    assert result["raised"] and result["kernel_error"], result
    assert child_located(result, lines, "team_scratch", "launch"), (
        f"no user_program.py:<line> of the ScratchView ({lines['team_scratch']}) or of the launch "
        f"({lines['launch']}) in:\n{result['message']}"
    )


@pytest.mark.parametrize("case,tag", [("divergent_barrier", "barrier"), ("divergent_reduce", "reduce")])
def test_debug_detects_barrier_divergence(tmp_path, case, tag):
    result, lines = run_child(tmp_path, pk.Debug, case, timeout=120)
    assert result["raised"] == "KernelRuntimeError" and result["kernel_error"], result
    assert "barrier" in result["message"].lower(), result
    assert "user_program.py" in result["message"], result


def test_debug_detects_barrier_in_uneven_thread_range(tmp_path):
    # a team_barrier inside a TeamThreadRange body: with 3 iterations over 2 threads one thread reaches it
    # twice, the other once (Kokkos forbids barriers in nested ranges; Debug must say so, not hang)
    result, lines = run_child(tmp_path, pk.Debug, "barrier_in_thread_range", n=3, timeout=120)
    assert result["raised"] and result["kernel_error"], result
    assert "barrier" in result["message"].lower(), result


# ==========================================================================================================
# Team sizes a space cannot run.
# ==========================================================================================================


@pk.workunit
def sizes(team: pk.TeamMember, out: pk.View1D[pk.int64]):
    out[team.league_rank()] = team.team_size()


def too_large(space):
    name = space_name(space)
    if name == "Debug":
        pytest.skip("Debug emulates any team size")
    if name == "Serial":
        return 2, 1
    if name == "Cuda":
        return 2048, 1  # more threads than a block holds
    return 64, 1  # OpenMP / CudaCheck: more than the 2 threads of this machine


def test_team_size_too_large_is_a_clear_error(space):
    ts, vl = too_large(space)
    out = np.zeros(3, dtype=np.int64)
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 3, ts, vl), sizes, out=out)  # E:toolarge
    msg = str(ei.value).lower()
    assert "team_size" in msg or "team size" in msg, msg
    assert str(ts) in msg, msg
    assert (out == 0).all()


def test_team_size_too_large_names_the_launch(space):
    ts, vl = too_large(space)
    policy, out = pk.TeamPolicy(space, 3, ts, vl), np.zeros(3, dtype=np.int64)
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(policy, sizes, out=out)  # E:toolarge2
    check(ei, pk.KernelError, "toolarge2", mentions=[("team_size", "team size")])


def test_team_size_too_large_reduce(space):
    ts, vl = too_large(space)

    @pk.workunit
    def count(team: pk.TeamMember, acc: pk.Acc[pk.int64]):
        acc += 1

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_reduce(pk.TeamPolicy(space, 3, ts, vl), count)
    assert "team" in str(ei.value).lower()


def test_cuda_level0_scratch_beyond_shared_memory(space):
    if space_name(space) != "Cuda":
        pytest.skip("level-0 scratch is shared memory only on Cuda")

    @pk.workunit
    def big(team: pk.TeamMember, out: pk.View1D[pk.double]):
        s = pk.ScratchView1D[pk.double](team.team_scratch(0), 4)
        s[0] = 1.0
        out[team.league_rank()] = s[0]

    policy = pk.TeamPolicy(space, 2, 1).set_scratch_size(0, pk.PerTeam(16 << 20))
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(policy, big, out=np.zeros(2))  # E:shmem
    check(ei, pk.KernelError, "shmem", mentions=[("scratch", "shared")])


# ==========================================================================================================
# Bad policies and scratch requests (host-side: located at the user's line).
# ==========================================================================================================


def test_long_vector_length_is_allowed():
    # the paper's Figure 1 passes M (e.g. 2**10) as the vector length: fine on the host, 32 lanes on CUDA
    assert pk.TeamPolicy(pk.Debug, 4, 1, 64).vector_length == 64


@pytest.mark.parametrize("vl", [3, 6, 0])
def test_bad_vector_length(vl):
    with pytest.raises(pk.KernelError) as ei:
        pk.TeamPolicy(pk.Debug, 4, 1, vl)  # E:vl
    check(ei, pk.KernelValueError, "vl", mentions=["vector_length"])


def test_bad_team_and_league_sizes():
    with pytest.raises(pk.KernelError) as ei:
        pk.TeamPolicy(pk.Debug, 4, 0)  # E:ts0
    check(ei, pk.KernelValueError, "ts0", mentions=["team_size"])
    with pytest.raises(pk.KernelError) as ei:
        pk.TeamPolicy(pk.Debug, -1, 1)  # E:league
    check(ei, pk.KernelValueError, "league", mentions=["league_size"])
    with pytest.raises(pk.KernelError) as ei:
        pk.TeamPolicy(pk.Debug, 2.5, 1)  # E:leaguef
    check(ei, TypeError, "leaguef", mentions=["league_size"])


def test_bad_set_scratch_size():
    with pytest.raises(pk.KernelError) as ei:
        pk.TeamPolicy(pk.Debug, 4, 1).set_scratch_size(2, pk.PerTeam(64))  # E:lvl
    check(ei, pk.KernelValueError, "lvl", mentions=["level"])
    with pytest.raises(pk.KernelError) as ei:
        pk.TeamPolicy(pk.Debug, 4, 1).set_scratch_size(0, 64)  # E:bytes
    check(ei, TypeError, "bytes", mentions=["PerTeam"])
    with pytest.raises(pk.KernelError) as ei:
        pk.TeamPolicy(pk.Debug, 4, 1).set_scratch_size(0, pk.PerThread(-8))  # E:neg
    check(ei, pk.KernelValueError, "neg")


def test_shmem_size_misuse():
    with pytest.raises(pk.KernelError) as ei:
        pk.ScratchView2D[pk.double].shmem_size(4)  # E:shrank
    check(ei, pk.KernelValueError, "shrank", mentions=["2"])
    with pytest.raises(pk.KernelError) as ei:
        pk.ScratchView1D.shmem_size(4)  # E:shtype
    check(ei, TypeError, "shtype", mentions=["type"])


def test_team_scan_at_top_level_is_rejected(space):
    @pk.workunit
    def wu(team: pk.TeamMember, acc: pk.Acc[pk.double], final: bool):
        acc += 1.0

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_scan(pk.TeamPolicy(space, 4, 1), wu)  # E:topscan
    check(ei, TypeError, "topscan", mentions=["TeamThreadRange"])


def test_nested_range_objects_outside_kernels():
    for fn in (pk.TeamThreadRange, pk.ThreadVectorRange, pk.TeamVectorRange, pk.TeamThreadMDRange):
        with pytest.raises(pk.KernelError) as ei:
            fn(None, 4)  # E:host
        check(ei, TypeError, "host", mentions=["TeamPolicy"])
    with pytest.raises(pk.KernelError) as ei:
        pk.single(pk.PerTeam(None), lambda: None)  # E:hostsingle
    check(ei, TypeError, "hostsingle", mentions=["TeamPolicy"])
    with pytest.raises(pk.KernelError) as ei:
        pk.ScratchView1D[pk.double](None, 4)  # E:hostsv
    check(ei, TypeError, "hostsv", mentions=["TeamPolicy"])


# ==========================================================================================================
# Nested patterns outside team workunits; team workunits under the wrong policy.
# ==========================================================================================================


def test_nested_thread_range_in_range_workunit(space):
    @pk.workunit
    def wu(i: int, out: pk.View1D[pk.double]):
        def inner(j: int):
            out[j] = 1.0

        pk.parallel_for(pk.TeamThreadRange(i, 4), inner)  # E:ttr_outside

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.RangePolicy(space, 0, 2), wu, out=np.zeros(4))
    check(ei, TypeError, "ttr_outside", mentions=[("TeamMember", "team")])


def test_nested_vector_reduce_in_range_workunit(space):
    @pk.workunit
    def wu(i: int, acc: pk.Acc[pk.double], x: pk.View1D[pk.double]):
        def inner(j: int, a: pk.Acc[pk.double]):
            a += x[j]

        acc += pk.parallel_reduce(pk.ThreadVectorRange(i, 4), inner)  # E:tvr_outside

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_reduce(pk.RangePolicy(space, 0, 2), wu, x=np.ones(4))
    check(ei, TypeError, "tvr_outside", mentions=[("TeamMember", "team")])


def test_nested_pattern_over_a_plain_count(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def inner(j: int):
            out[j] = 1.0

        pk.parallel_for(4, inner)  # E:plain

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, TypeError, "plain", mentions=["TeamThreadRange"])


def test_single_in_range_workunit(space):
    @pk.workunit
    def wu(i: int, out: pk.View1D[pk.double]):
        def once():
            out[i] = 1.0

        pk.single(pk.PerTeam(i), once)  # E:single_outside

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.RangePolicy(space, 0, 2), wu, out=np.zeros(4))
    check(ei, TypeError, "single_outside", mentions=[("TeamMember", "team")])


def test_scratch_view_in_range_workunit(space):
    @pk.workunit
    def wu(i: int, out: pk.View1D[pk.double]):
        s = pk.ScratchView1D[pk.double](i.team_scratch(0), 4)  # E:sv_outside
        out[i] = s[0]

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.RangePolicy(space, 0, 2), wu, out=np.zeros(4))
    check(ei, TypeError, "sv_outside")


def test_team_workunit_launched_with_range_policy(space):
    # the first parameter is annotated pk.TeamMember: the error should say it needs a TeamPolicy
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        out[team.league_rank()] = 1.0

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.RangePolicy(space, 0, 2), wu, out=np.zeros(4))  # E:team_range
    msg = str(ei.value)
    assert "TeamPolicy" in msg or "TeamMember" in msg, msg
    assert HERE in msg, msg


def test_range_workunit_launched_with_team_policy(space):
    @pk.workunit
    def wu(i: int, out: pk.View1D[pk.double]):
        out[i] = 1.0

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    msg = str(ei.value)
    assert "TeamPolicy" in msg or "TeamMember" in msg, msg
    assert HERE in msg, msg


# ==========================================================================================================
# Nested workunits with the wrong number of parameters (and other malformed nested calls).
# ==========================================================================================================


def test_nested_for_with_two_parameters(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def inner(j: int, k: int):  # E:for2
            out[j] = 1.0

        pk.parallel_for(pk.TeamThreadRange(team, 4), inner)

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, TypeError, "for2", mentions=["parameter"])


def test_nested_reduce_without_accumulator(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def inner(j: int):  # E:red1
            out[j] = 1.0

        s: float = pk.parallel_reduce(pk.ThreadVectorRange(team, 4), inner)
        out[0] = s

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, TypeError, "red1", mentions=["parameter"])


def test_nested_scan_without_final(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def inner(j: int, a: pk.Acc[pk.double]):  # E:scan2
            a += 1.0

        pk.parallel_scan(pk.TeamThreadRange(team, 4), inner)

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, TypeError, "scan2", mentions=["parameter"])


def test_nested_mdrange_with_too_few_indices(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def inner(i: int, j: int, a: pk.Acc[pk.double]):  # E:md3
            a += 1.0

        s: float = pk.parallel_reduce(pk.TeamThreadMDRange(team, 2, 2, 2), inner)
        out[0] = s

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, TypeError, "md3", mentions=["parameter"])


def test_nested_mdrange_rank_4(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def inner(a: int, b: int, c: int, d: int):
            out[0] = 1.0

        pk.parallel_for(pk.TeamThreadMDRange(team, 2, 2, 2, 2), inner)  # E:md4

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, pk.KernelError, "md4", mentions=["rank"])


def test_single_with_parameters(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def once(j: int):  # E:single1
            out[j] = 1.0

        pk.single(pk.PerTeam(team), once)

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, pk.KernelError, "single1", mentions=["parameter"])


def test_single_without_per(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def once():
            out[0] = 1.0

        pk.single(team, once)  # E:single_team

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, pk.KernelError, "single_team", mentions=["PerTeam"])


def test_reducer_on_nested_for(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        def inner(j: int):
            out[j] = 1.0

        pk.parallel_for(pk.TeamThreadRange(team, 4), inner, pk.Max)  # E:for_reducer

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, pk.KernelError, "for_reducer", mentions=["reducer"])


def test_nested_workunit_must_be_an_inner_def(space):
    @pk.workunit
    def outer_level(i: int, out: pk.View1D[pk.double]):
        out[i] = 1.0

    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        pk.parallel_for(pk.TeamThreadRange(team, 4), outer_level)  # E:not_inner

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4))
    check(ei, pk.KernelError, "not_inner")


def test_scratch_view_wrong_extent_count(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        s = pk.ScratchView2D[pk.double](team.team_scratch(0), 4)  # E:sv_ext
        out[0] = s[0][0]

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1).set_scratch_size(0, pk.PerTeam(256)), wu, out=np.zeros(4))
    check(ei, TypeError, "sv_ext", mentions=["extent"])


def test_unknown_team_method(space):
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.int64]):
        out[0] = team.thread_rank()  # E:method

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1), wu, out=np.zeros(4, dtype=np.int64))
    check(ei, TypeError, "method", mentions=["team_rank"])


def test_scratch_level_2_in_kernel(space):
    # levels are 0 and 1: the error says so (rather than reporting level 2 as exhausted)
    @pk.workunit
    def wu(team: pk.TeamMember, out: pk.View1D[pk.double]):
        s = pk.ScratchView1D[pk.double](team.team_scratch(2), 1)  # E:lvl2
        s[0] = 1.0
        out[team.league_rank()] = s[0]

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.TeamPolicy(space, 2, 1).set_scratch_size(0, pk.PerTeam(64)), wu, out=np.zeros(2))
    msg = str(ei.value)
    assert "level" in msg and "0 or 1" in msg, msg
