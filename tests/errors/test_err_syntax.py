"""Unsupported Python constructs inside kernels raise pk.KernelSyntaxError at the construct, on every space
(the Debug interpreter must reject what the compiled spaces reject: otherwise code that runs in Debug
breaks on OpenMP). Kernels are defined inside pytest.raises so that a decorator that checks eagerly is
tested too."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


def _run(space, wu, n=2, **kwargs):
    kwargs.setdefault("out", np.zeros(n))
    pk.parallel_for(pk.RangePolicy(space, 0, n), wu, **kwargs)


def test_try(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            try:  # E:try
                out[i] = 1.0
            except Exception:
                out[i] = 2.0

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "try", mentions=["try"])


def test_with(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            with open("x"):  # E:with
                out[i] = 1.0

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "with", mentions=["with"])


def test_lambda(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            f = lambda v: v + 1  # E:lambda  # noqa: E731
            out[i] = f(i)

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "lambda", mentions=["lambda"])


def test_list_literal(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            values = []  # E:list  (a local list of numbers is fine: frontend/lists.py; an empty one is not)
            out[i] = values[0]

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "list", mentions=["list"])


def test_list_comprehension(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            t = [j for j in range(i)]  # E:listcomp
            out[i] = t[0]

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "listcomp", mentions=[("comprehension", "listcomp", "list")])


def test_dict_literal(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            d = {"a": 1.0}  # E:dict
            out[i] = d["a"]

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "dict", mentions=[("dict", "str")])


def test_yield(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = 1.0
            yield i  # E:yield

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "yield", mentions=["yield"])


def test_import_inside_kernel(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            import math  # E:import

            out[i] = math.sqrt(i)

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "import", mentions=["import"])


def test_string_arithmetic(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            s = "a" + "b"  # E:str
            out[i] = len(s)

        _run(space, k)
    check_error(ei, (pk.KernelSyntaxError, pk.KernelTypeError), "str", mentions=[("str", "string")])


def test_fstring(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            pk.printf(f"{i}\n")  # E:fstring
            out[i] = 1.0

        _run(space, k)
    check_error(
        ei, (pk.KernelSyntaxError, pk.KernelTypeError), "fstring", mentions=[("f-string", "joinedstr", "format", "str")]
    )


def test_global_statement(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            global SOMETHING  # E:global
            out[i] = 1.0

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "global", mentions=["global"])


def test_class_definition(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            class Point:  # E:class
                pass

            out[i] = 1.0

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "class", mentions=["class"])


def test_del(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            t = 1.0
            del t  # E:del
            out[i] = 1.0

        _run(space, k)
    check_error(ei, pk.KernelSyntaxError, "del", mentions=["del"])


def test_python_print_is_not_a_kernel_function(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            print(i)  # E:print
            out[i] = 1.0

        _run(space, k)
    check_error(ei, (pk.KernelSyntaxError, pk.KernelTypeError), "print", mentions=["print"])


def test_recursion_in_function(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.function
        def fact(n):  # E:rec-def
            if n <= 1:
                return 1
            return n * fact(n - 1)  # E:rec-call

        @pk.workunit
        def k(i, out):
            out[i] = fact(i)

        _run(space, k)
    check_error(ei, TypeError, ["rec-call", "rec-def"], mentions=[("recurs",)])


def test_mutual_recursion(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.function
        def ping(n):  # E:mrec-def
            if n <= 0:
                return 0
            return pong(n - 1)  # E:mrec-call

        @pk.function
        def pong(n):  # E:mrec-def
            return ping(n - 1) + 1  # E:mrec-call

        @pk.workunit
        def k(i, out):
            out[i] = ping(i)

        _run(space, k)
    check_error(ei, TypeError, ["mrec-call", "mrec-def"], mentions=[("recurs",)])


def test_error_is_raised_again_on_the_next_call(space, check_error):
    def make():
        @pk.workunit
        def k(i, out):
            out[i] = [i]  # E:again

        return k

    k = None
    for _ in range(2):
        with pytest.raises(pk.KernelError) as ei:
            if k is None:
                k = make()  # a decorator that checks eagerly raises here each time
            _run(space, k)
        check_error(ei, pk.KernelSyntaxError, "again")
