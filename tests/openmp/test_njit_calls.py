"""kernelkit.openmp: @njit functions calling @njit functions (loops/callees.py) — plain helpers from host code
and from parallel loops, recursion (Fibonacci with and without tasks, the tutorial's pi with tasks), mutual
recursion, arrays passed by reference, and the errors at the call site. Debug, Serial and OpenMP run each;
CudaCheck compiles the programs whose callees hold no OpenMP regions."""

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.api.spaces import CudaCheck
from kernelkit.errors import KernelError, KernelSyntaxError, KernelTypeError
from kernelkit.openmp import njit, openmp

HOST = [pk.Debug, pk.Serial, pk.OpenMP]
IDS = ["Debug", "Serial", "OpenMP"]
CHECK = [CudaCheck] if CudaCheck.available() else []
GPU = CHECK + ([pk.Cuda] if pk.Cuda.available() else [])  # the lent GPU runs them too


@pytest.fixture(params=HOST, ids=IDS)
def hs(request):
    return request.param


@pytest.fixture(params=HOST + GPU, ids=IDS + [s.name for s in GPU])
def anyspace(request):
    return request.param


def on(space, *fns):
    """The njit functions again, run on `space` (the callees are compiled into the caller's program)."""
    return [njit(space=space)(f.py_function if hasattr(f, "py_function") else f) for f in fns]


# ------------------------------------------------------------------------------------------ plain helpers


@njit
def twice(x):
    return 2 * x


def host_caller(x):
    return twice(x) + 1


def loop_caller(a):
    for i in pk.prange(a.shape[0]):
        a[i] = twice(a[i]) + 1.0
    return a.sum()


def test_helper_from_host_code(anyspace):
    (f,) = on(anyspace, host_caller)
    assert f(3) == 7
    assert f(2.5) == 6.0


def test_helper_from_parallel_loop(anyspace):
    (f,) = on(anyspace, loop_caller)
    a = np.arange(1000.0)
    expect = 2 * np.arange(1000.0) + 1
    assert f(a) == expect.sum()
    np.testing.assert_array_equal(a, expect)


@njit
def fill(a, v):
    for i in range(a.shape[0]):
        a[i] = v


def fill_caller(a):
    fill(a, 3.0)


def test_array_argument_by_reference(anyspace):
    (f,) = on(anyspace, fill_caller)
    a = np.zeros(7)
    assert f(a) is None
    np.testing.assert_array_equal(a, 3.0)


def test_callee_writes_count_as_the_callers():
    (f,) = on(pk.Serial, fill_caller)
    a = np.zeros(4)
    a.flags.writeable = False
    with pytest.raises(KernelError):
        f(a)


# ------------------------------------------------------------------------------------------ recursion


@njit
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def py_fib(n):
    return n if n < 2 else py_fib(n - 1) + py_fib(n - 2)


def test_fib_recursive(anyspace):
    (f,) = on(anyspace, fib)
    assert [f(n) for n in (0, 1, 2, 10, 20)] == [py_fib(n) for n in (0, 1, 2, 10, 20)]


def fib_table(a):
    for i in pk.prange(a.shape[0]):
        a[i] = fib(i)  # on pk.Cuda a recursive device function


def test_fib_recursive_in_a_parallel_loop(anyspace):
    (f,) = on(anyspace, fib_table)
    a = np.zeros(16, np.int64)
    f(a)
    assert a.tolist() == [py_fib(n) for n in range(16)]


@njit
def fib_tasks(n):
    if n < 2:
        return n
    with openmp("task shared(i) firstprivate(n)"):
        i = fib_tasks(n - 1)
    with openmp("task shared(j) firstprivate(n)"):
        j = fib_tasks(n - 2)
    with openmp("taskwait"):
        r = i + j
    return r


def fib_tasks_top(n):
    r = 0
    with openmp("parallel"):
        with openmp("single"):
            r = fib_tasks(n)
    return r


def test_fib_with_tasks(hs):
    (f,) = on(hs, fib_tasks_top)
    assert [f(n) for n in (1, 2, 15, 20)] == [py_fib(n) for n in (1, 2, 15, 20)]


def test_fib_with_tasks_outside_a_region(hs):
    (f,) = on(hs, fib_tasks)  # tasks made outside a parallel region run at once: still the right answer
    assert f(12) == py_fib(12)


MIN_BLK = 64


@njit
def piComp(Nstart, Nfinish, step):
    iblk = Nfinish - Nstart
    if iblk < MIN_BLK:
        sum = 0.0
        for i in range(Nstart, Nfinish):
            x = (i + 0.5) * step
            sum += 4.0 / (1.0 + x * x)
    else:
        sum1 = 0.0
        sum2 = 0.0
        with openmp("task shared(sum1)"):
            sum1 = piComp(Nstart, Nfinish - iblk // 2, step)
        with openmp("task shared(sum2)"):
            sum2 = piComp(Nfinish - iblk // 2, Nfinish, step)
        with openmp("taskwait"):
            sum = sum1 + sum2
    return sum


def piFunc(NumSteps):
    step = 1.0 / NumSteps
    sum = 0.0
    with openmp("parallel"):
        with openmp("single"):
            sum = piComp(0, NumSteps, step)
    return step * sum


def test_pi_with_tasks(hs):
    (f,) = on(hs, piFunc)
    for steps in (1000, 4096, 100_000):  # recursion 4 to 11 levels deep
        assert abs(f(steps) - np.pi) < 1e-5 if steps < 10_000 else abs(f(steps) - np.pi) < 1e-10
        assert f(steps) == pytest.approx(piFunc_python(steps), abs=1e-12)


def piFunc_python(n):
    step = 1.0 / n
    x = (np.arange(n) + 0.5) * step
    return step * float(np.sum(4.0 / (1.0 + x * x)))


@njit
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


@njit
def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)


def parity(n):
    return is_even(n), is_odd(n)


def test_mutual_recursion(anyspace):
    (f,) = on(anyspace, parity)
    assert f(10) == (True, False)
    assert f(7) == (False, True)
    assert f(0) == (True, False)


@njit
def halve(x):
    if x < 1.0:
        return x
    return halve(x / 2) + 0.0


def test_recursive_float_result(hs):
    (f,) = on(hs, halve)
    assert f(10.0) == 0.625


@njit
def count_down(n):
    if n <= 0:
        return 0.5
    return count_down(n - 1) + 1  # the first guess (int64 from n) is wrong: lowered again as float64


def test_recursive_result_type_settles(hs):
    (f,) = on(hs, count_down)
    assert f(4) == 4.5


# ------------------------------------------------------------------------------------------ errors


def wrong_count(x):
    return twice(x, x)


def test_wrong_argument_count_names_the_call():
    (f,) = on(pk.Serial, wrong_count)
    with pytest.raises(KernelTypeError, match=r"twice\(\) takes 1 argument") as e:
        f(1)
    assert e.value.loc.line == wrong_count.__code__.co_firstlineno + 1


@njit
def broken(x):
    return x.nope


def calls_broken(x):
    y = 1
    return broken(x) + y


def test_callee_that_cannot_compile_names_the_caller():
    (f,) = on(pk.Serial, calls_broken)
    line = calls_broken.__code__.co_firstlineno + 2
    with pytest.raises(KernelError, match=rf"called from .*test_njit_calls.py:{line}"):
        f(1)


@njit
def makes_array(n):
    a = np.zeros(n)
    return a[0]


def calls_makes_array(n):
    return makes_array(n)


@njit
def local_work(n, a):
    t = np.zeros(n)
    for i in range(n):
        t[i] = a[i] * 2.0
    if n > 2:
        return t[0] + t[n - 1]
    t = np.ones(n)  # the first array is freed here, the second when the function returns
    return t[0]


def calls_local_work(a):
    return local_work(a.shape[0], a) + local_work(2, a)


def test_callee_with_local_arrays(hs):
    (f,) = on(hs, calls_makes_array)
    assert f(3) == 0.0
    (g,) = on(hs, calls_local_work)
    a = np.arange(1.0, 6.0)
    assert g(a) == 2.0 + 10.0 + 1.0


@pytest.mark.skipif(not CHECK, reason="NVRTC is not available")
def test_callee_allocating_on_cuda_is_refused():
    (f,) = on(CudaCheck, calls_makes_array)
    with pytest.raises(KernelSyntaxError, match="allocate the array in the caller"):
        f(3)


@njit
def no_return_sometimes(x):
    if x > 0:
        return x


def calls_no_return(x):
    return no_return_sometimes(x)


def test_callee_missing_return_is_refused():
    (f,) = on(pk.Serial, calls_no_return)
    with pytest.raises(KernelTypeError, match="can also end without `return`"):
        f(3)


def keyword_call(x):
    return twice(x=x)


def test_keyword_call_is_refused():
    (f,) = on(pk.Serial, keyword_call)
    with pytest.raises(KernelSyntaxError, match="positional"):
        f(3)


@pytest.mark.skipif(not CHECK, reason="NVRTC is not available")
def test_region_callee_from_gpu_target_is_refused():
    from kernelkit.ir import types as T
    from kernelkit.loops import Options, lower_program

    def target_calls(a):
        with openmp("target teams distribute parallel for map(tofrom: a)"):
            for i in range(a.shape[0]):
                a[i] = piComp(0, 10, 0.1)
        return a[0]

    opts = Options(devices=1, gpu=True)
    with pytest.raises(KernelSyntaxError, match="GPU target region"):
        lower_program(target_calls, {"a": T.ViewType(T.float64, 1, T.LAYOUT_RIGHT)}, opts)


# ------------------------------------------------------------------------------------------ more call shapes


def two_types(n):
    return twice(n) + twice(0.25)  # one specialization per argument type


def test_one_specialization_per_argument_type(anyspace):
    (f,) = on(anyspace, two_types)
    assert f(3) == 6.5


@njit
def scaled_sum(a, c):
    s = 0.0
    with openmp("parallel for reduction(+:s)"):
        for i in range(a.shape[0]):
            s += c * a[i]
    return s


def calls_parallel_for(a):
    return scaled_sum(a, 2.0) + scaled_sum(a, 1)


def test_callee_with_parallel_for(hs):
    (f,) = on(hs, calls_parallel_for)
    a = np.arange(10_000.0)
    assert f(a) == 3 * a.sum()


@pk.jit
def jit_square(x):
    return x * x


@pk.jit
def jit_caller(a):
    s = 0.0
    for i in pk.prange(a.shape[0]):
        s += jit_square(a[i])
    return s


def test_pk_jit_calls_pk_jit(hs):
    (f,) = on(hs, jit_caller)
    a = np.arange(100.0)
    assert f(a) == (a * a).sum()


@njit
def swap_fill(a, b, n):
    if n == 0:
        a[0] = 1.0
        return
    swap_fill(b, a, n - 1)  # writes reach `b` only through the recursive call


def calls_swap_fill(a, b):
    swap_fill(a, b, 1)


def test_recursive_writes_reach_every_argument(hs):
    (f,) = on(hs, calls_swap_fill)
    a, b = np.zeros(2), np.zeros(2)
    f(a, b)
    assert (a[0], b[0]) == (0.0, 1.0)
    b.flags.writeable = False
    with pytest.raises(KernelError):
        f(a, b)


@njit
def returns_array(a):
    return a


def calls_returns_array(a):
    return returns_array(a)[0]


def test_callee_returning_an_array_is_refused():
    (f,) = on(pk.Serial, calls_returns_array)
    with pytest.raises(KernelError):
        f(np.zeros(2))


# ------------------------------------------------------------------------------------------ functions as arguments


def test_pi_task_pyomp(hs):
    """PyOMP's TestOpenmpPi.test_pi_task: the recursive njit function is passed to the njit program."""

    def test_pi_comp(Nstart, Nfinish, step):
        MIN_BLK = 256
        pi_sum = 0.0
        if Nfinish - Nstart < MIN_BLK:
            for i in range(Nstart, Nfinish):
                x = (i + 0.5) * step
                pi_sum += 4.0 / (1.0 + x * x)
        else:
            iblk = Nfinish - Nstart
            pi_sum1 = 0.0
            pi_sum2 = 0.0
            cut = Nfinish - (iblk // 2)
            with openmp("task shared(pi_sum1)"):
                pi_sum1 = test_pi_comp(Nstart, cut, step)
            with openmp("task shared(pi_sum2)"):
                pi_sum2 = test_pi_comp(cut, Nfinish, step)
            with openmp("taskwait"):
                pi_sum = pi_sum1 + pi_sum2
        return pi_sum

    @njit
    def test_pi_comp_njit(Nstart, Nfinish, step):
        MIN_BLK = 256
        pi_sum = 0.0
        if Nfinish - Nstart < MIN_BLK:
            for i in range(Nstart, Nfinish):
                x = (i + 0.5) * step
                pi_sum += 4.0 / (1.0 + x * x)
        else:
            iblk = Nfinish - Nstart
            pi_sum1 = 0.0
            pi_sum2 = 0.0
            cut = Nfinish - (iblk // 2)
            with openmp("task shared(pi_sum1)"):
                pi_sum1 = test_pi_comp_njit(Nstart, cut, step)
            with openmp("task shared(pi_sum2)"):
                pi_sum2 = test_pi_comp_njit(cut, Nfinish, step)
            with openmp("taskwait"):
                pi_sum = pi_sum1 + pi_sum2
        return pi_sum

    def test_impl(lb, num_steps, pi_comp_func):
        step = 1.0 / num_steps
        full_sum = 0.0
        with openmp("parallel"):
            with openmp("single"):
                full_sum = pi_comp_func(lb, num_steps, step)
        pi = step * full_sum
        return pi

    py_output = test_impl(0, 1024, test_pi_comp)
    njit_output = njit(space=hs)(test_impl)(0, 1024, test_pi_comp_njit)
    assert njit_output == pytest.approx(py_output, rel=1e-14)


@njit
def thrice(x):
    return 3 * x


def apply(f, x):
    return f(x) + 1


def test_function_argument_picks_its_specialization(anyspace):
    g = njit(space=anyspace)(apply)
    assert g(twice, 5) == 11
    assert g(thrice, 5) == 16  # another function: another program, not the first one's
    assert g(twice, 2.5) == 6.0
    assert g(thrice, 5) == 16
