"""PyKokkos-style annotations: `pk.View1D[pk.double]`, `pk.Acc[pk.double]`, ...

Annotations are optional in kernelkit (types come from the call), but when present they are honoured: a View
annotation checks the argument's dtype and rank, a scalar annotation converts the argument, an Acc annotation sets
the accumulator's type.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernelkit.ir import types as T
from kernelkit.lang import registry


@dataclass(frozen=True)
class ViewAnnotation:
    rank: int | None
    dtype: T.ScalarType | None = None
    layout: str | None = None  # 'C' / 'F' / 'A' or None for any

    def __getitem__(self, dtype) -> ViewAnnotation:
        return ViewAnnotation(self.rank, T.as_scalar_type(dtype), self.layout)

    def __repr__(self) -> str:
        rank = f"{self.rank}D" if self.rank else ""
        return f"pk.View{rank}[{self.dtype!r}]" if self.dtype else f"pk.View{rank}"


@dataclass(frozen=True)
class AccAnnotation:
    dtype: T.ScalarType | None = None

    def __getitem__(self, dtype) -> AccAnnotation:
        return AccAnnotation(T.as_scalar_type(dtype))

    def __repr__(self) -> str:
        return f"pk.Acc[{self.dtype!r}]"


View1D = ViewAnnotation(1)
View2D = ViewAnnotation(2)
View3D = ViewAnnotation(3)
View4D = ViewAnnotation(4)
View5D = ViewAnnotation(5)
View6D = ViewAnnotation(6)
View7D = ViewAnnotation(7)
View8D = ViewAnnotation(8)
Acc = AccAnnotation()

registry.register_type(ViewAnnotation, "annotation")
registry.register_type(AccAnnotation, "annotation")
