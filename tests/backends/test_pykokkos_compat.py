"""PyKokkos behaviours that PyKokkos' own tests and examples rely on, on every space (issue 15, part 2).

Each test is written the way PyKokkos programs write it: user subclasses of pk.View with a pk.DataTypeClass
parameter, classtype methods without @pk.function, classtypes holding classtypes, functions returning
classtypes, workload reductions through `pk.parallel_reduce(n, self.method)` with pk.Acc annotations, a
workunit named like the math function it calls, typing.List locals and members, C++ type names in annotations.
"""

from __future__ import annotations

import math
from math import sin

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.errors import KernelError

# --- user View classes ---------------------------------------------------------------------------------------


class MyView2D(pk.View):
    def __init__(self, x: int, y: int, dtype: pk.DataTypeClass = pk.int32):
        super().__init__([x, y], dtype)


@pk.functor
class SubclassFunctor:
    def __init__(self, n: int, m: int):
        self.m: int = m
        self.mine: pk.View2D[int] = MyView2D(n, m, int)
        self.plain: pk.View2D[pk.int32] = MyView2D(n, m)
        for i in range(n):
            for j in range(m):
                self.mine[i][j] = 10
                self.plain[i, j] = i

    @pk.workunit
    def bump(self, tid: int) -> None:
        for j in range(self.m):
            self.mine[tid][j] += tid + j
            self.plain[tid][j] += 1


def test_view_subclasses(space):
    f = SubclassFunctor(5, 4)
    assert isinstance(f.mine, MyView2D) and f.mine.dtype is pk.int64 and f.plain.dtype is pk.int32
    assert isinstance(pk.int32, pk.DataTypeClass) and pk.DataType.int32 is pk.int32
    pk.parallel_for(pk.RangePolicy(space, 0, 5), f.bump)
    for i in range(5):
        for j in range(4):
            assert f.mine[i][j] == 10 + i + j and f.plain[i][j] == i + 1


# --- classtypes ----------------------------------------------------------------------------------------------


@pk.classtype
class DepOne:
    def __init__(self, i: int, j: float, k: bool):
        self.i: int = i
        self.j: float = j
        self.k: bool = k

    def sum(self) -> float:  # no @pk.function: every classtype method is callable from kernels
        if self.k:
            return self.i + self.j
        return self.j

    def scaled(self, f: float) -> float:
        return self.sum() * f


@pk.classtype
class DepTwo:
    def __init__(self, dep_one: DepOne):
        self.dep_one: DepOne = DepOne(dep_one.i, dep_one.j, dep_one.k)
        self.count: int = 0

    def sum(self) -> float:
        return self.dep_one.sum() + self.count

    def bump(self, by: int) -> None:
        self.count += by
        self.dep_one.i += by


@pk.functor
class ClasstypeFunctor:
    def __init__(self, i_1: int, i_2: int, f_1: float):
        self.i_1: int = i_1
        self.i_2: int = i_2
        self.f_1: float = f_1

    @pk.function
    def make(self) -> DepOne:
        return DepOne(self.i_1, self.f_1, True)

    @pk.function
    def mutate(self, d: DepOne) -> None:
        d.i = self.i_2

    @pk.workunit
    def work(self, i: int, acc: pk.Acc[pk.double]) -> None:
        one: DepOne = self.make()  # a function returning a classtype
        acc += one.scaled(2.0)  # 2 * (i_1 + f_1)
        self.mutate(one)
        two: DepTwo = DepTwo(one)  # holds a copy of `one`
        one.i = 100  # not seen by `two`
        two.bump(3)  # mutates its own field and its nested classtype
        acc += two.sum()  # (i_2 + 3 + f_1) + 3


def test_classtypes(space):
    f = ClasstypeFunctor(5, 1, 5.5)
    n = 7
    got = pk.parallel_reduce(pk.RangePolicy(space, 0, n), f.work)
    assert got == n * (2 * (5 + 5.5) + (1 + 3 + 5.5) + 3)
    assert DepTwo(DepOne(1, 2.0, True)).sum() == 3.0  # the same classes still work from Python


# --- workload reductions -------------------------------------------------------------------------------------


@pk.workload
class SquareSum:
    def __init__(self, n):
        self.N: int = n
        self.total_u32: pk.uint32 = 0
        self.total_i16: pk.int16 = 0
        self.total_f64: float = 0.0

    @pk.main
    def run(self):
        self.total_u32 = pk.parallel_reduce(self.N, self.squares_u32)
        self.total_i16 = pk.parallel_reduce(self.N, self.squares_i16)
        self.total_f64 = pk.parallel_reduce(self.N, self.squares_f64)

    @pk.workunit
    def squares_u32(self, i: pk.int32, acc: pk.Acc[pk.uint32]):
        acc += i * i

    @pk.workunit
    def squares_i16(self, i: pk.int16, acc: pk.Acc[pk.int16]):
        acc += i * i

    @pk.workunit
    def squares_f64(self, i: int, acc: pk.Acc[pk.double]):
        acc += i * i * 0.5


def test_workload_reductions_with_acc_annotations(space):
    w = SquareSum(20)
    pk.execute(space, w)
    expect = sum(i * i for i in range(20))
    assert w.total_u32 == expect and w.total_i16 == expect and w.total_f64 == expect * 0.5
    assert isinstance(w.total_u32, int) and isinstance(w.total_f64, float)


# --- a workunit named like the math function it calls --------------------------------------------------------


@pk.workunit
def sin(tid: int, view: pk.View1D[pk.double]):  # noqa: F811 - PyKokkos gh-192: the call below is math.sin
    view[tid] = sin(view[tid])


@pk.workunit
def exp(tid, view):  # not imported at all: the name alone means the math function (as in PyKokkos)
    view[tid] = exp(view[tid])


def test_workunit_named_like_a_math_function(space):
    v = pk.array(np.linspace(0.0, 1.0, 10))
    pk.parallel_for(pk.RangePolicy(space, 0, 10), sin, view=v)
    np.testing.assert_allclose(np.asarray(v), np.sin(np.linspace(0.0, 1.0, 10)), rtol=1e-15)
    pk.parallel_for(pk.RangePolicy(space, 0, 10), exp, view=v)
    np.testing.assert_allclose(np.asarray(v), np.exp(np.sin(np.linspace(0.0, 1.0, 10))), rtol=1e-15)


# --- typing.List ---------------------------------------------------------------------------------------------


@pk.functor
class ListFunctor:
    def __init__(self, n: int):
        self.weights: list[float] = [0.5, 0.25, 0.125]  # a member: read-only in kernels
        self.out: pk.View1D[pk.double] = pk.View([n], pk.double)

    @pk.workunit
    def run(self, i: int, acc: pk.Acc[pk.double]) -> None:
        x: list[int] = [i, 2 * i, 3]
        y = [1.0, 2.0]  # unannotated: the elements' type
        x[2] += i  # a constant index
        x[i % 3] = x[i % 3] + 1  # a computed one
        y[-1] = y[0] + x[-1]
        self.out[i] = self.weights[i % 3] * y[1]
        acc += x[0] + x[1] + x[2]


def test_list_locals_and_members(space):
    f = ListFunctor(9)
    got = pk.parallel_reduce(pk.RangePolicy(space, 0, 9), f.run)
    want, out = 0, []
    for i in range(9):
        x, y = [i, 2 * i, 3], [1.0, 2.0]
        x[2] += i
        x[i % 3] = x[i % 3] + 1
        y[-1] = y[0] + x[-1]
        out.append([0.5, 0.25, 0.125][i % 3] * y[1])
        want += sum(x)
    assert got == want and list(f.out) == out


def test_list_errors(space):
    @pk.workunit
    def out_of_range(i, v):
        x: list[int] = [1, 2]
        v[i] = x[2]

    @pk.workunit
    def float_in_int_list(i, v):
        x: list[int] = [1, 2.5]
        v[i] = x[0]

    for wu, msg in ((out_of_range, "index 2 is out of range for a list of 2"), (float_in_int_list, "cannot hold")):
        with pytest.raises(KernelError, match=msg) as info:
            pk.parallel_for(pk.RangePolicy(space, 0, 1), wu, v=pk.View([1], pk.int64))
        assert "test_pykokkos_compat.py" in str(info.value)


# --- C++ type names in annotations ---------------------------------------------------------------------------


@pk.workunit
def scratch_names(team: pk.TeamMember, out: pk.View1D[pk.double]):
    d: pk.ScratchView1D[double] = pk.ScratchView1D(team.team_scratch(0), 4)  # noqa: F821 - C++ `double`
    f: pk.ScratchView1D[float] = pk.ScratchView1D(team.team_scratch(0))  # no extent: empty, as in PyKokkos
    if team.team_rank() == 0:
        for k in range(4):
            d[k] = team.league_rank() + k
        out[team.league_rank()] = d[0] + d[3] + f.extent(0)


def test_cpp_type_names_in_annotations(space):
    out = pk.View([3], pk.double)
    policy = pk.TeamPolicy(space, 3, 1).set_scratch_size(0, pk.PerTeam(64))
    pk.parallel_for(policy, scratch_names, out=out)
    assert list(out) == [2 * r + 3.0 for r in range(3)]


# --- host-side names -----------------------------------------------------------------------------------------


def test_array_keywords_result_type_and_constants():
    a = np.arange(6.0).reshape(2, 3)
    assert pk.array(a)._array is a and pk.array(a, space=pk.HostSpace)._array is a
    c = pk.array(a, dtype=pk.float32, layout=pk.LayoutLeft)
    assert c.dtype is pk.float32 and c.layout is pk.LayoutLeft and np.asarray(c).tolist() == a.tolist()
    assert pk.array(a, space=pk.CudaSpace).space is pk.CudaSpace
    assert pk.result_type(pk.uint8, pk.uint16) is pk.uint16 and pk.result_type(pk.float32, pk.float64) is pk.float64
    assert pk.result_type(pk.View([1], pk.int8), pk.int32) is pk.int32
    assert (pk.e, pk.pi) == (math.e, math.pi) and math.isinf(pk.inf) and math.isnan(pk.nan)


# --- policies and ClassStyWithMain as PyKokkos' examples write them -----------------------------------------


@pk.workload
class Transpose:
    def __init__(self, order: int, iterations: int):
        self.order: int = order
        self.iterations: int = iterations
        self.A: pk.View2D[pk.double] = pk.View([order, order], pk.double, layout=pk.LayoutRight)
        self.B: pk.View2D[pk.double] = pk.View([order, order], pk.double, layout=pk.LayoutRight)
        self.err: float = -1.0

    @pk.main
    def run(self):
        # bare member names, as PyKokkos' ParRes workloads read them (its @pk.main is translated to C++)
        t: int = order  # noqa: F821
        pk.parallel_for(pk.MDRangePolicy([0, 0], [t, t], [4, 4]), self.init)  # the tile given by position
        for _ in range(iterations):  # noqa: F821
            pk.parallel_for(
                "transpose",
                pk.MDRangePolicy([0, 0], [t, t], [4, 4], rank=pk.Rank(2, pk.Iterate.Left, pk.Iterate.Right)),
                self.transpose,
            )
        self.err = pk.parallel_reduce(pk.MDRangePolicy([0, 0], [t, t], [4, 4]), self.error)

    @pk.workunit
    def init(self, i: int, j: int):
        self.A[i][j] = i * self.order + j

    @pk.workunit
    def transpose(self, i: int, j: int):
        self.B[i][j] += self.A[j][i]

    @pk.workunit
    def error(self, i: int, j: int, acc: pk.Acc[pk.double]):
        acc += abs(self.B[j][i] - (i * self.order + j) * self.iterations)


def test_workload_main_reads_members_by_bare_name(space, default_space):
    default_space(space)
    w = Transpose(6, 3)
    pk.execute(pk.ExecutionSpace.Default, w)  # "the default": the space made default above
    assert w.err == 0.0


@pk.workunit
def team_sum(team, acc, x):
    def inner(i: int, inner_acc: pk.Acc[float]):
        inner_acc += x[team.league_rank(), i]

    s: float = pk.parallel_reduce(pk.TeamThreadRange(team, x.extent(1)), inner)
    if team.team_rank() == 0:
        acc += s


def test_team_policy_spellings_and_acc_keyword(space):
    x = pk.array(np.arange(12.0).reshape(3, 4))
    for policy in (pk.TeamPolicy(3, "auto", 1, space), pk.TeamPolicy(space, 3, "AUTO")):
        assert pk.parallel_reduce(policy, team_sum, x=x) == 66.0
        assert pk.parallel_reduce(policy, team_sum, acc=0.0, x=x) == 66.0  # PyKokkos' acc= initial value
    assert pk.parallel_reduce(pk.RangePolicy(space, 0, 4), sum_from, acc=10.0, x=np.ones(4)) == 14.0


@pk.workunit
def sum_from(i, acc, x):
    acc += x[i]
