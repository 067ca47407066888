"""The annotated-loop frontend: whole `@pk.jit` functions (pk.prange, APPy's pragmas and tensor expressions)
lowered to one IR Program of host statements and parallel loops. It sits at the frontend's level of the pipeline:
it imports ir/, lang/ and frontend/, and is called by the runtime glue in api/jit.py.

    program, guards = lower_program(fn, {"a": view_type, "n": pk.int64})
"""

from kernelkit.loops.builtins import mv, prange
from kernelkit.loops.lower import Options, lower_program

__all__ = ["Options", "lower_program", "mv", "prange"]
