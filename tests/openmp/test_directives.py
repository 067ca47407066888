"""kernelkit.openmp: each PyOMP directive and clause on Debug (the sequential reference), Serial (one thread,
compiled) and OpenMP (threads), target constructs also compiled for the GPU (CudaCheck here, pk.Cuda on the GPU
machine), checked against NumPy or the sequential result; and the errors for directives kernelkit cannot run."""

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.api.spaces import CudaCheck
from kernelkit.errors import KernelError, KernelSyntaxError, KernelTypeError
from kernelkit.ir import types as T
from kernelkit.loops import Options, lower_program
from kernelkit.openmp import (
    UnspecifiedVarInDefaultNone,
    njit,
    omp_get_initial_device,  # noqa: F401 - named in a directive string
    omp_get_num_devices,
    omp_get_num_threads,
    omp_get_team_num,
    omp_get_thread_num,
    omp_get_wtime,
    omp_is_initial_device,
    omp_set_num_threads,
    openmp,
)

HOST = [pk.Debug, pk.Serial, pk.OpenMP]
GPU = [pk.Cuda] if pk.Cuda.available() else ([CudaCheck] if CudaCheck.available() else [])
IDS = ["Debug", "Serial", "OpenMP"]


@pytest.fixture(params=HOST, ids=IDS)
def hs(request):
    return request.param


@pytest.fixture(params=HOST + GPU, ids=IDS + [s.name for s in GPU])
def tspace(request):
    return request.param


def threads(hs) -> int:
    return 1 if hs in (pk.Debug, pk.Serial) else 4


# ------------------------------------------------------------------------------------------ parallel for


def pi_loop(n):
    step = 1.0 / n
    s = 0.0
    with openmp("parallel for reduction(+:s) private(x) schedule(static)"):
        for i in range(n):
            x = (i + 0.5) * step
            s += 4.0 / (1.0 + x * x)
    return step * s


def test_parallel_for_reduction_pi(hs):
    assert abs(njit(space=hs)(pi_loop)(200_000) - np.pi) < 1e-9


@pytest.mark.parametrize("op,init,expect", [("+", 0, 4950), ("-", 0, 4950), ("*", 1, 2**20), ("max", -1, 99)])
def test_reduction_operators_arith(hs, op, init, expect):
    ns = {"openmp": openmp}
    update = {"+": "r += i", "-": "r += i", "*": "r *= 2 if i < 20 else 1", "max": "r = max(r, i)"}[op]
    src = (
        f"def f(n):\n    r = {init}\n    with openmp('parallel for reduction({op}:r)'):\n"
        f"        for i in range(n):\n            {update}\n    return r\n"
    )
    exec(src, ns)  # noqa: S102 - a test's own source, one per operator
    import linecache

    linecache.cache[f"<omp-{op}>"] = (len(src), None, src.splitlines(True), f"<omp-{op}>")
    f = _compile(src, f"<omp-{op}>")
    assert njit(space=hs)(f)(100) == expect


def _compile(src: str, name: str):
    import linecache

    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    ns = {"openmp": openmp, "np": np}
    exec(compile(src, name, "exec"), ns)  # noqa: S102
    return ns["f"]


def test_reduction_min(hs):
    def f(a):
        m = 1e300
        with openmp("parallel for reduction(min:m)"):
            for i in range(a.shape[0]):
                m = min(m, a[i])
        return m

    a = np.random.default_rng(0).random(10_000)
    assert njit(space=hs)(f)(a) == a.min()


def test_reduction_bitwise_and_logical(hs):
    def f(a):
        band = -1
        bor = 0
        bxor = 0
        with openmp("parallel for reduction(&:band) reduction(|:bor) reduction(^:bxor)"):
            for i in range(a.shape[0]):
                band &= a[i]
                bor |= a[i]
                bxor ^= a[i]
        return band, bor, bxor

    a = np.random.default_rng(1).integers(0, 1 << 20, 5000) | 1
    band, bor, bxor = njit(space=hs)(f)(a)
    assert band == np.bitwise_and.reduce(a) and bor == np.bitwise_or.reduce(a) and bxor == np.bitwise_xor.reduce(a)

    def g(a, t):
        all_ok = True
        any_ok = False
        with openmp("parallel for reduction(&&:all_ok) reduction(||:any_ok)"):
            for i in range(a.shape[0]):
                all_ok = all_ok and a[i] > 0
                any_ok = any_ok or a[i] > t
        return all_ok, any_ok

    assert njit(space=hs)(g)(a, 1 << 19) == (True, True)
    assert njit(space=hs)(g)(a, 1 << 21) == (True, False)


def test_private_firstprivate_lastprivate_shared(hs):
    def f(n, a):
        x = 100
        y = 7
        last = -1
        with openmp("parallel for private(x) firstprivate(y) lastprivate(last) shared(a)"):
            for i in range(n):
                x = i * 2
                last = i + y
                a[i] = x + y
        return x, last

    a = np.zeros(50)
    assert njit(space=hs)(f)(50, a) == (100, 49 + 7)
    np.testing.assert_array_equal(a, np.arange(50) * 2 + 7)


@pytest.mark.parametrize("sched", ["static", "static, 3", "dynamic", "dynamic, chunk", "guided", "runtime", "auto"])
def test_schedules(hs, sched):
    src = (
        "def f(a, chunk):\n"
        f"    with openmp('parallel for schedule({sched})'):\n"
        "        for i in range(a.shape[0]):\n"
        "            a[i] = i * i\n"
        "    return a\n"
    )
    f = _compile(src, f"<omp-sched-{sched}>")
    np.testing.assert_array_equal(njit(space=hs)(f)(np.zeros(1000), 7), np.arange(1000) ** 2)


def test_collapse(hs):
    def f(a):
        with openmp("parallel for collapse(2)"):
            for i in range(a.shape[0]):
                for j in range(a.shape[1]):
                    a[i, j] = i * 10 + j
        return a

    expect = np.arange(6)[:, None] * 10 + np.arange(5)[None, :]
    np.testing.assert_array_equal(njit(space=hs)(f)(np.zeros((6, 5))), expect)


def test_num_threads_and_if(hs):
    def f(n, cond):
        who = np.full(n, -1)
        with openmp("parallel for num_threads(3) if(cond) schedule(static)"):
            for i in range(n):
                who[i] = omp_get_thread_num()
        return who

    who = njit(space=hs)(f)(30, 1)
    assert set(np.unique(who)) == ({0} if hs in (pk.Debug, pk.Serial) else {0, 1, 2})
    assert set(np.unique(njit(space=hs)(f)(30, 0))) == {0}


def test_default_none(hs):
    def ok(n, a):
        with openmp("parallel for default(none) shared(a, n)"):
            for i in range(n):
                a[i] = i
        return a

    np.testing.assert_array_equal(njit(space=hs)(ok)(4, np.zeros(4)), np.arange(4))

    def bad(n, a):
        c = 2
        with openmp("parallel for default(none) shared(a)"):
            for i in range(n):
                a[i] = c
        return a

    with pytest.raises(UnspecifiedVarInDefaultNone, match=r"no data env clause.*: c, n"):
        njit(space=hs)(bad)(4, np.zeros(4))


# ------------------------------------------------------------------------------------------ regions


def spmd_pi(n, nt):
    omp_set_num_threads(nt)
    sums = np.zeros(64)
    step = 1.0 / n
    with openmp("parallel"):
        tid = omp_get_thread_num()
        nth = omp_get_num_threads()
        acc = 0.0
        for i in range(tid, n, nth):
            x = (i + 0.5) * step
            acc += 4.0 / (1.0 + x * x)
        sums[tid] = acc
        with openmp("single"):
            used = nth
    total = 0.0
    for k in range(used):
        total += sums[k]
    return total * step, used


def test_spmd_pattern(hs):
    pi, used = njit(space=hs)(spmd_pi)(100_000, 4)
    assert abs(pi - np.pi) < 1e-9
    assert used == threads(hs)


def test_worksharing_for_and_nowait(hs):
    def f(a, b):
        n = a.shape[0]
        with openmp("parallel"):
            with openmp("for"):
                for i in range(n):
                    a[i] = i
            with openmp("for schedule(static) nowait"):
                for i in range(n):
                    b[i] = 2 * i
            with openmp("barrier"):
                pass
        return a, b

    a, b = njit(space=hs)(f)(np.zeros(1000), np.zeros(1000))
    np.testing.assert_array_equal(a, np.arange(1000))
    np.testing.assert_array_equal(b, 2 * np.arange(1000))


def test_critical_single_master_counts(hs):
    def f(nt):
        omp_set_num_threads(nt)
        crit = 0
        named = 0
        single = 0
        master = 0
        with openmp("parallel"):
            with openmp("critical"):
                crit += 1
            with openmp("critical(other)"):
                named += 2
            with openmp("single"):
                single += 1
            with openmp("master"):
                master += 1
        return crit, named, single, master

    t = threads(hs)
    assert njit(space=hs)(f)(4) == (t, 2 * t, 1, 1)


def test_region_reduction_and_private(hs):
    def f(nt):
        omp_set_num_threads(nt)
        total = 100
        x = 5
        with openmp("parallel reduction(+:total) private(x)"):
            x = omp_get_thread_num()
            total += x + 1
        return total, x

    t = threads(hs)
    assert njit(space=hs)(f)(4) == (100 + t * (t + 1) // 2, 5)


def test_region_default_data_sharing(hs):
    def f(nt):
        omp_set_num_threads(nt)
        seen = np.zeros(8)
        count = 0
        with openmp("parallel"):
            me = omp_get_thread_num()  # first assigned here, not read after: private
            seen[me] = me + 1
            with openmp("critical"):
                count += 1  # assigned before the region: shared
        return seen, count

    seen, count = njit(space=hs)(f)(4)
    t = threads(hs)
    assert count == t
    np.testing.assert_array_equal(seen[:t], np.arange(1, t + 1))


def test_tasks_and_taskwait(hs):
    def f(n):
        a = np.zeros(n)
        done = 0
        with openmp("parallel"):
            with openmp("single"):
                for i in range(n):
                    with openmp("task"):
                        a[i] = i * i
                with openmp("taskwait"):
                    done = 1
        return a, done

    a, done = njit(space=hs)(f)(40)
    np.testing.assert_array_equal(a, np.arange(40) ** 2)
    assert done == 1


def test_task_firstprivate_capture(hs):
    def f(n):
        out = np.zeros(n)
        with openmp("parallel"):
            with openmp("single"):
                for i in range(n):
                    v = i * 3
                    with openmp("task firstprivate(v) if(1)"):
                        out[i] = v
        return out

    np.testing.assert_array_equal(njit(space=hs)(f)(25), np.arange(25) * 3)


def test_set_num_threads_honoured_by_next_region(hs):
    def f():
        omp_set_num_threads(3)
        c = 0
        with openmp("parallel"):
            with openmp("critical"):
                c += 1
        return c

    assert njit(space=hs)(f)() == (1 if hs in (pk.Debug, pk.Serial) else 3)


def test_plain_python_runs_sequentially():
    assert abs(pi_loop(10_000) - np.pi) < 1e-6
    assert spmd_pi(10_000, 4)[1] == 1
    t0 = omp_get_wtime()
    assert omp_get_wtime() >= t0 and omp_get_thread_num() == 0 and omp_get_num_threads() == 1


def test_wtime_compiled(hs):
    def f(n):
        t0 = omp_get_wtime()
        s = 0.0
        for i in range(n):
            s += i
        return omp_get_wtime() - t0, s

    dt, s = njit(space=hs)(f)(1000)
    assert 0.0 <= dt < 5.0 and s == 499500.0


# ------------------------------------------------------------------------------------------ target


def target_gemm(a, b, c):
    n, k = a.shape
    m = b.shape[1]
    with openmp("target data map(to: a, b) map(tofrom: c)"):
        with openmp("target teams distribute parallel for collapse(2) thread_limit(256) num_teams(8)"):
            for i in range(n):
                for j in range(m):
                    s = 0.0
                    for p in range(k):
                        s += a[i, p] * b[p, j]
                    c[i, j] = s
    return c


def test_target_teams_distribute_parallel_for(tspace):
    rng = np.random.default_rng(2)
    a, b = rng.random((20, 30)), rng.random((30, 10))
    c = njit(space=tspace)(target_gemm)(a, b, np.zeros((20, 10)))
    np.testing.assert_allclose(c, a @ b, rtol=1e-12)


def test_target_then_teams_loop_reduction(tspace):
    def f(x):
        s = 0.0
        with openmp("target map(tofrom: s) device(0)"):
            with openmp("teams distribute parallel for reduction(+:s)"):
                for i in range(x.shape[0]):
                    s += x[i] * x[i]
        return s

    x = np.arange(1000.0)
    assert njit(space=tspace)(f)(x) == pytest.approx(float(x @ x), rel=1e-12)


def test_target_program_with_host_timing(tspace):
    def f(x):
        t0 = omp_get_wtime()
        with openmp("target teams distribute parallel for map(tofrom: x)"):
            for i in range(x.shape[0]):
                x[i] = x[i] * 2.0 + omp_get_team_num() * 0
        return omp_get_wtime() - t0, x

    dt, x = njit(space=tspace)(f)(np.arange(100.0))
    assert dt >= 0.0
    np.testing.assert_array_equal(x, 2.0 * np.arange(100.0))


def test_target_on_the_host_device(hs):
    def f(x):
        host = 0
        with openmp("target device(omp_get_initial_device()) map(from: host)"):
            host = omp_is_initial_device()
            with openmp("parallel for"):
                for i in range(x.shape[0]):
                    x[i] = 2 * i
        return host, x

    host, x = njit(space=hs)(f)(np.zeros(10))
    assert host == 1
    np.testing.assert_array_equal(x, 2 * np.arange(10))


def test_num_devices_is_a_number():
    assert omp_get_num_devices() >= 0


# ------------------------------------------------------------------------------------------ C++ and errors


def test_parallel_for_reduction_is_a_prange_reduction():
    """`parallel for reduction(+:s)` is the same OpenMP loop as a `pk.prange` reduction."""
    from kernelkit.backends.openmp.program import render

    def by_prange(n):
        step = 1.0 / n
        s = 0.0
        for i in pk.prange(n):
            x = (i + 0.5) * step
            s += 4.0 / (1.0 + x * x)
        return step * s

    types = {"n": T.int64}
    omp_src = render(lower_program(pi_loop, types, Options())[0])
    pr_src = render(lower_program(by_prange, types, Options())[0])
    head = "omp parallel for schedule(static) reduction(+ : v_s)"
    assert head in omp_src and head in pr_src


@pytest.mark.parametrize(
    "directive,message",
    [
        ("parallel for bogus(x)", "unknown OpenMP clause 'bogus'"),
        ("paralel for", "unknown OpenMP directive 'paralel'"),
        ("parallel for nowait", "'nowait' does not belong on `parallel for`"),
        ("single schedule(static)", "'schedule' does not belong on `single`"),
        ("parallel for reduction(%:s)", "reduction(%:s)"),
        ("parallel for schedule(sometimes)", "schedule(sometimes)"),
        ("sections", "'sections'"),
        ("parallel for ordered", "'ordered'"),
    ],
)
def test_directive_errors_name_the_clause_and_line(directive, message):
    src = (
        "def f(a):\n"
        "    s = 0.0\n"
        f"    with openmp({directive!r}):\n"
        "        for i in range(a.shape[0]):\n"
        "            s += a[i]\n"
        "    return s\n"
    )
    f = _compile(src, f"<omp-err-{directive}>")
    with pytest.raises(KernelSyntaxError) as e:
        njit(space=pk.OpenMP)(f)(np.zeros(4))
    assert message in str(e.value)
    assert e.value.loc.line == 3


def test_race_the_compiler_can_see():
    def f(a):
        with openmp("parallel for"):
            for i in range(a.shape[0]):
                a[0] = i
        return a

    with pytest.raises(KernelTypeError, match="may write the same element of 'a'"):
        njit(space=pk.OpenMP)(f)(np.zeros(4))


def test_with_other_than_openmp_is_an_error():
    def f(a):
        with open("x"):
            a[0] = 1

    with pytest.raises(KernelError, match="except OpenMP directives"):
        njit(space=pk.OpenMP)(f)(np.zeros(4))


def test_which_target_constructs_go_to_a_gpu():
    from kernelkit.openmp import _gpu_directive

    assert _gpu_directive("target teams distribute parallel for", 1)
    assert _gpu_directive("target device(0) map(to: a)", 1)
    assert not _gpu_directive("target device(1)", 1)  # PyOMP's host device on a one-GPU machine
    assert not _gpu_directive("target device(omp_get_initial_device())", 1)
    assert not _gpu_directive("target data map(to: a)", 1)
    assert not _gpu_directive("parallel for", 1)
    assert not _gpu_directive("target teams distribute parallel for", 0)


def test_gpu_target_lowering():
    """Lowered for a GPU (njit on pk.Cuda): target loops are the program's ParallelFors, the device queries are
    the GPU's, and host-thread constructs inside a GPU target are refused with the spelling that works."""
    from kernelkit.ir import nodes as N

    gpu = Options(devices=1, gpu=True)
    program = lower_program(target_gemm, {k: T.ViewType(T.float64, 2, T.LAYOUT_RIGHT) for k in "abc"}, gpu)[0]
    loops = list(N.parallel_loops(program.body))
    assert len(loops) == 1 and len(loops[0].bounds) == 2

    def nested(a):
        with openmp("target device(0)"):
            with openmp("parallel"):
                a[0] = 1.0

    with pytest.raises(KernelSyntaxError, match="target teams distribute parallel for"):
        lower_program(nested, {"a": T.ViewType(T.float64, 1, T.LAYOUT_RIGHT)}, gpu)
    # the same program lowered for the host runs its region on threads
    lower_program(nested, {"a": T.ViewType(T.float64, 1, T.LAYOUT_RIGHT)}, Options(devices=1))


def test_host_regions_and_the_gpu_program_renderers():
    """A program with a host `parallel` region runs on threads: CudaCheck builds no pk.Cuda units for it (they
    would not run there), and rendering it for pk.Cuda is a KernelSyntaxError naming the region's line."""
    from kernelkit.backends.cuda import program as cuda_program
    from kernelkit.backends.cuda.backend import CudaTarget
    from kernelkit.backends.cuda.program_host import CudaProgramHost

    program = lower_program(spmd_pi, {"n": T.int64, "nt": T.int64}, Options(devices=1))[0]
    assert cuda_program.host_region(program) is not None
    assert not CudaTarget.accepts(CudaTarget.__new__(CudaTarget), program)
    assert not CudaProgramHost.instance().accepts(program)
    with pytest.raises(KernelSyntaxError, match="omp parallel. outside a target loop") as e:
        cuda_program.render_device(program)
    assert e.value.loc is not None and e.value.loc.line > 0
    gemm = lower_program(target_gemm, {k: T.ViewType(T.float64, 2, T.LAYOUT_RIGHT) for k in "abc"}, Options())[0]
    assert CudaProgramHost.instance().accepts(gemm) == (cuda_program.host_region(gemm) is None)


@pytest.mark.parametrize("n", [1, 7, 1000])
def test_spmd_regions_run_where_cudacheck_is_the_space(n):
    """What the ompbench examples hit: CudaCheck runs the SPMD program on OpenMP threads (no raw TypeError)."""
    from kernelkit.backends.base import space_report

    if not any(r["name"] == "cudacheck" and r["available"] for r in space_report()):
        pytest.skip("CudaCheck needs NVRTC")
    from kernelkit.api.spaces import CudaCheck

    value, used = njit(space=CudaCheck)(spmd_pi)(n, 2)
    assert used == 2 and value == pytest.approx(njit(space=pk.Debug)(spmd_pi)(n, 2)[0], rel=1e-12)
