"""The frontend: Python source -> typed IR (kernelkit.ir), for the kernel language of kernelkit.lang.

    kernel, guards = lower_kernel(workunit, Signature("for", 1, {"x": view_type}))

`source` extracts a function's source and locations; `lower` holds the entry points; `statements`,
`expressions`, `calls` and `team` lower the constructs; `base` the state they share; `annotations` reads
parameter annotations.
"""

from kernelkit.frontend.base import Guard, scalar_type_of
from kernelkit.frontend.lower import Signature, lower_function, lower_kernel
from kernelkit.frontend.source import get_source

__all__ = ["Guard", "Signature", "get_source", "lower_function", "lower_kernel", "scalar_type_of"]
