"""`pk.graph()`: record launches once, replay them with one call (CUDA graphs on a GPU).

The machinery is runtime/graph.py; this is the public name.
"""

from __future__ import annotations

from kernelkit.runtime.graph import Graph


def graph() -> Graph:
    """A graph to record into: the `parallel_for` launches and `deep_copy` calls of the `with` block are recorded,
    not run (on every space), and `g.launch()` replays them in order, as often as needed.

    On a GPU the recording becomes one CUDA graph (kernels compiled and data staged first, then captured), so a
    replay costs one driver call instead of one launch per kernel; on host spaces the launches replay one by
    one, so the same code runs everywhere. Each replay makes the Views it uses current on the device first and
    marks what it wrote, so host writes between replays are seen. Reductions and scans cannot be recorded.

    >>> with pk.graph() as g:
    ...     for _ in range(100):
    ...         pk.parallel_for(n, step, u=u, v=v)
    ...         pk.deep_copy(u, v)
    >>> for t in range(steps):
    ...     g.launch()
    """
    return Graph()


__all__ = ["Graph", "graph"]
