"""Golden tests of the IR printer: the typed IR of a handful of kernels (tests/unit/golden/kernels.py), lowered
for fixed signatures, must print exactly as checked in (tests/unit/golden/<name>.ir).

The text is what the cache key hashes and what `KERNELKIT_DUMP`-style dumps show, so a change here is a change
of the compiler's output: review the diff, then regenerate the files with

    python tests/unit/test_ir_golden.py --regen
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from kernelkit.frontend import Signature, lower_kernel
from kernelkit.ir import printer
from kernelkit.ir import types as T
from kernelkit.lang import reducers

GOLDEN = Path(__file__).parent / "golden"


def _kernels():
    spec = importlib.util.spec_from_file_location("kk_golden_kernels", GOLDEN / "kernels.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _v(dtype: T.ScalarType, rank: int, layout: str = T.LAYOUT_RIGHT) -> T.ViewType:
    return T.ViewType(dtype, rank, layout)


# name -> (workunit name, signature)
CASES = {
    "range_for": ("axpy", Signature("for", 1, {"a": T.float64, "x": _v(T.float64, 1), "y": _v(T.float64, 1)})),
    "reduce_max": ("max_abs", Signature("reduce", 1, {"x": _v(T.float32, 1)}, reducers.Max, T.float32)),
    "mdrange": ("stencil", Signature("for", 2, {"n": T.int64, "u": _v(T.float64, 2), "out": _v(T.float64, 2)})),
    "team_nested_scratch": (
        "team_rows",
        Signature(
            "for",
            0,
            {"M": T.int64, "A": _v(T.float64, 2), "x": _v(T.float64, 1), "out": _v(T.float64, 1)},
            team=True,
        ),
    ),
    "classtype_function": (
        "point_norms",
        Signature("for", 1, {"xs": _v(T.float64, 1), "ys": _v(T.float64, 1), "out": _v(T.float64, 1, "F")}),
    ),
}


def render(case: str) -> str:
    wu_name, sig = CASES[case]
    kernel, _guards = lower_kernel(getattr(_kernels(), wu_name), sig)
    return printer.kernel(kernel) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_ir_matches_golden(case):
    expected = (GOLDEN / f"{case}.ir").read_text()
    assert render(case) == expected, f"IR of {case} changed; if intended: python {__file__} --regen"


def test_golden_files_match_cases():
    assert sorted(p.stem for p in GOLDEN.glob("*.ir")) == sorted(CASES)


if __name__ == "__main__":
    if sys.argv[1:] != ["--regen"]:
        sys.exit(f"usage: python {sys.argv[0]} --regen")
    for name in sorted(CASES):
        (GOLDEN / f"{name}.ir").write_text(render(name))
        print(f"wrote {GOLDEN / (name + '.ir')}")
