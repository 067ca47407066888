"""PyKokkos-style annotations are kernel-language objects (kernelkit.lang.annotations), re-exported here."""

from kernelkit.lang.annotations import (
    Acc,
    AccAnnotation,
    View1D,
    View2D,
    View3D,
    View4D,
    View5D,
    View6D,
    View7D,
    View8D,
    ViewAnnotation,
)

__all__ = [
    "Acc",
    "AccAnnotation",
    "View1D",
    "View2D",
    "View3D",
    "View4D",
    "View5D",
    "View6D",
    "View7D",
    "View8D",
    "ViewAnnotation",
]
