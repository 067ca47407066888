"""Builds the one native extension, kernelkit._native (the launch fast path and the View base type).

Everything else in kernelkit is pure Python; kernels themselves are compiled at run time and cached."""

import numpy as np
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "kernelkit._native",
            sources=[
                f"src/kernelkit/runtime/native/{n}.c" for n in ("module", "view", "launch", "cuda", "cudaq", "clean", "fastpath")
            ],
            depends=["src/kernelkit/runtime/native/native.h", "src/kernelkit/backends/include/kernelkit/abi.h"],
            include_dirs=[np.get_include()],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wno-missing-field-initializers"],
        )
    ]
)
