"""Which Views a CUDA kernel loads through the read-only data path (backends/cuda/render.readonly_views).

A View qualifies when the kernel never writes it and never binds it under another name; an element read
assigned to a scalar (`t = x[i]`, a reduction's `acc += x[i] * y[i]`) binds no View. The hand-written CUDA
references load such arrays through `const T* __restrict__`, i.e. LDG...CONSTANT: reductions had lost it."""

from __future__ import annotations

import kernelkit as pk
from kernelkit.backends.cuda import render
from kernelkit.frontend import Signature, lower_kernel
from kernelkit.ir import types as T
from kernelkit.lang import reducers

V1 = T.ViewType(T.float64, 1, T.LAYOUT_RIGHT)


@pk.workunit
def dot(i, acc, x, y):
    acc += x[i] * y[i]


@pk.workunit
def copy_through_a_scalar(i, a, x):
    t = x[i]
    a[i] = t * 2.0


@pk.workunit
def alias_by_subview(i, a, x):
    s = x[1:3]
    a[i] = s[0]


@pk.workunit
def reads_what_it_writes(i, a, x):
    a[i] = a[i] + x[i]


@pk.function
def first(v) -> float:
    return v[0]


@pk.workunit
def passes_a_view_to_a_function(i, a, x):
    t = first(x)
    a[i] = t


def lowered(wu, pattern="for", **views):
    reduce = pattern == "reduce"
    sig = Signature(pattern, 1, views, reducers.Sum if reduce else None, T.float64 if reduce else None)
    kernel, _ = lower_kernel(wu, sig)
    return kernel


def test_a_reduction_reads_its_views_through_the_read_only_path():
    k = lowered(dot, "reduce", x=V1, y=V1)
    assert render.readonly_views(k) == {"x", "y"}
    assert render.entry_names(k) == ("kk_main",)  # writes no array: no plain-load twin needed
    assert "kk::cuda::ldg(&KK_AT((v_x)" in render.render(k)


def test_an_element_copied_to_a_scalar_keeps_the_read_only_path_and_the_alias_entry():
    k = lowered(copy_through_a_scalar, a=V1, x=V1)
    assert render.readonly_views(k) == {"x"}
    assert render.entry_names(k) == ("kk_main", "kk_main_alias")


def test_views_bound_to_other_names_or_written_load_plainly():
    assert render.readonly_views(lowered(alias_by_subview, a=V1, x=V1)) == frozenset()
    assert render.readonly_views(lowered(reads_what_it_writes, a=V1, x=V1)) == {"x"}
    assert render.readonly_views(lowered(passes_a_view_to_a_function, a=V1, x=V1)) == frozenset()


@pk.workunit
def total(i, acc, x):
    acc += x[i]


@pk.workunit
def total_of_firsts(i, acc, x):
    acc += first(x)


def test_a_one_load_reduction_takes_four_indices_per_trip_others_one():
    one = lowered(total, "reduce", x=V1)
    assert render.reduce_unroll(one) == 4
    assert "range_reduce<kk::Sum, double, 4>" in render.render(one)
    assert render.reduce_unroll(lowered(dot, "reduce", x=V1, y=V1)) == 1
    assert render.reduce_unroll(lowered(total_of_firsts, "reduce", x=V1)) == 1  # a call: its loads are unseen
