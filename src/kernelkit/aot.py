"""Ahead-of-time compilation of the workunits in a file (the `kernelkit compile` command, like PyKokkos' PKC).

Without a call there are no argument types, so AOT compiles the workunits whose parameters are annotated
(PyKokkos style: `x: pk.View1D[pk.double]`, `a: float`, `acc: pk.Acc[pk.double]`) and reports the others as
skipped, naming the first unannotated parameter. The pattern follows from the signature: an `Acc` second
parameter makes a reduction, an `Acc` then a `bool` a scan; `@pk.workunit(rank=2)` marks an MDRange body. For
CUDA no GPU is needed: NVRTC compiles for the architecture given (`arch="sm_90"`).
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass

from kernelkit.api.decorators import Workunit
from kernelkit.errors import KernelError, KernelValueError
from kernelkit.frontend.lower import Signature, lower_kernel, param_annotations
from kernelkit.frontend.source import get_source
from kernelkit.ir import types as T
from kernelkit.lang import annotations as A
from kernelkit.lang import reducers as R


@dataclass
class Result:
    name: str
    status: str  # compiled | cached | skipped | failed
    detail: str = ""


def signature_from_annotations(wu: Workunit) -> Signature:
    fn = wu.py_function
    names = [a.arg for a in get_source(fn).tree.args.args]
    anns = param_annotations(fn)
    rank = int(wu.options.get("rank", 1))
    pattern, reducer, nhead = "for", None, rank
    if len(names) > rank and isinstance(anns.get(names[rank]), A.AccAnnotation):
        pattern, nhead = "reduce", rank + 1
        reducer = (
            R.ALL[wu.options.get("reducer", "Sum")]
            if isinstance(wu.options.get("reducer", "Sum"), str)
            else wu.options["reducer"]
        )
        if len(names) > rank + 1 and anns.get(names[rank + 1]) is T.bool_:
            pattern, nhead = "scan", rank + 2
    types: dict[str, T.Type] = {}
    for n in names[nhead:]:
        ann = anns.get(n)
        if isinstance(ann, A.ViewAnnotation):
            if ann.rank is None or ann.dtype is None:
                raise KernelValueError(f"parameter {n!r}: a View annotation needs a rank and a dtype for AOT")
            types[n] = T.ViewType(ann.dtype, ann.rank, ann.layout or T.LAYOUT_RIGHT)
        elif isinstance(ann, T.ScalarType):
            types[n] = ann
        else:
            raise KernelValueError(f"parameter {n!r} has no annotation (AOT compilation needs types)")
    return Signature(pattern, rank, types, reducer)


def compile_file(path: str, space: str = "openmp", arch: str | None = None, progress=None) -> list[Result]:
    """Compile every annotated workunit defined in `path` for `space` ("openmp", "serial" or "cuda")."""
    from kernelkit.backends import base
    from kernelkit.backends.base import Backend
    from kernelkit.compile import pipeline
    from kernelkit.compile.cache import default_cache

    if space == "cuda" and not arch:
        raise KernelValueError("compiling for cuda needs an architecture, e.g. arch='sm_90'")
    if space == "cuda":
        from kernelkit.backends.cuda.backend import CudaTarget
        from kernelkit.backends.cuda.toolchain import target

        backend: Backend = CudaTarget(arch)
        where = target(arch, default_cache())[0]
    else:
        backend, where = base.get(space), space
    module = runpy.run_path(path, run_name="__kernelkit_aot__")
    units = [(k, v) for k, v in module.items() if isinstance(v, Workunit)]
    out: list[Result] = []
    for n, (name, wu) in enumerate(units):
        if progress:
            progress(n, len(units), name)
        try:
            sig = signature_from_annotations(wu)
        except KernelError as e:
            out.append(Result(name, "skipped", e.message))
            continue
        try:
            kernel, _ = lower_kernel(wu, sig)
            built = pipeline.build(backend, kernel)
            out.append(Result(name, "cached" if built.from_cache else "compiled", f"parallel_{sig.pattern}, {where}"))
        except KernelError as e:
            out.append(Result(name, "failed", str(e)))
    if progress:
        progress(len(units), len(units), "")
    return out
