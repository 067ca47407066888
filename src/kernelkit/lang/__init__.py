"""The in-kernel language: what a kernel may name and call, independent of how it is launched.

- `annotations`: `pk.View1D[...]`, `pk.Acc[...]`, the optional parameter annotations the frontend reads.
- `reducers`: `pk.Sum`, ..., `pk.MaxLoc`: identity and join of a reduction (Python side of reducers.h).
- `team`: nested ranges, `pk.single`, `PerTeam`/`PerThread`, ScratchViews, `pk.TeamMember`, `pk.AUTO`.
- `kmath`: math, atomics, `pk.printf`.
- `random`: `pk.rand` and the generator algorithm every space runs.
- `registry`: which object means what inside a kernel (the frontend dispatches calls through it).

Imports only ir/, errors and config (and numpy/stdlib); importing this package registers every construct.
"""

from kernelkit.lang import annotations, kmath, random, reducers, registry, team

__all__ = ["annotations", "kmath", "random", "reducers", "registry", "team"]
