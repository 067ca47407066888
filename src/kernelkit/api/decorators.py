"""`@pk.workunit` and `@pk.function`."""

from __future__ import annotations

import functools

from kernelkit.errors import KernelTypeError, caller_loc


class Workunit:
    """A kernel body. Decorate with `@pk.workunit`; launch with pk.parallel_for / parallel_reduce / parallel_scan.

    >>> @pk.workunit
    ... def axpy(i, a, x, y):
    ...     y[i] += a * x[i]
    """

    _kk_kind = "workunit"

    def __init__(self, fn, options: dict | None = None):
        if not callable(fn) or not hasattr(fn, "__code__"):
            raise KernelTypeError(f"@pk.workunit needs a Python function, got {type(fn).__name__}", caller_loc())
        self.py_function = fn
        self.options = options or {}
        self._specs: dict = {}  # (space, pattern, rank, reducer, init type) -> [native Spec]
        self._ir: dict = {}  # signature -> (Kernel, guards)
        self._debug: dict = {}  # Debug space: compiled Python per Kernel
        self._stats = {"compiles": 0, "cache_hits": 0}
        functools.update_wrapper(self, fn)

    def _count(self, what: str) -> None:
        self._stats[what] += 1

    def stats(self) -> dict:
        """Native compiles done and cache entries loaded by this process for this workunit."""
        return dict(self._stats, specializations=sum(len(v) for v in self._specs.values()))

    def __call__(self, *args):
        # Called directly, a workunit is its plain Python function (handy for unit tests of the body).
        return self.py_function(*args)

    def __repr__(self) -> str:
        return f"<pk.workunit {self.py_function.__qualname__}>"


class DeviceFunction:
    """A function callable from kernels (`@pk.function`); specialized per call-site argument types."""

    _kk_kind = "function"

    def __init__(self, fn):
        self.py_function = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        return self.py_function(*args)

    def __repr__(self) -> str:
        return f"<pk.function {self.py_function.__qualname__}>"


def workunit(fn=None, **options):
    """Decorator: `@pk.workunit` or `@pk.workunit(x=pk.ViewTypeInfo(...))` (options are recorded)."""
    if fn is None:
        return lambda f: Workunit(f, options)
    return Workunit(fn, options)


def function(fn=None, **options):
    """Decorator for device functions callable from workunits."""
    if fn is None:
        return lambda f: DeviceFunction(f)
    return DeviceFunction(fn)


def as_workunit(obj) -> Workunit:
    if isinstance(obj, Workunit):
        return obj
    if callable(obj) and hasattr(obj, "__code__"):
        # An undecorated function works too; its state lives on the function object.
        wu = obj.__dict__.get("_kk_workunit")
        if wu is None:
            wu = Workunit(obj)
            obj._kk_workunit = wu
        return wu
    raise KernelTypeError(f"expected a workunit (a function decorated with @pk.workunit), got {obj!r}",
                          caller_loc())
