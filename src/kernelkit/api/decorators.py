"""`@pk.workunit` and `@pk.function`."""

from __future__ import annotations

import functools
import types

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
        self._specs: dict = {}  # backend spec key -> launch kind -> [native spec] (runtime/launcher.py)
        self._ir: dict = {}  # signature -> (Kernel, guards)
        self._debug: dict = {}  # Debug space: compiled Python per Kernel
        self._stats = {"compiles": 0, "cache_hits": 0}
        functools.update_wrapper(self, fn)

    def _count(self, what: str) -> None:
        self._stats[what] += 1

    def stats(self) -> dict:
        """Native compiles done and cache entries loaded by this process for this workunit."""
        return dict(self._stats, specializations=sum(len(v) for t in self._specs.values() for v in t.values()))

    def __call__(self, *args):
        # Called directly, a workunit is its plain Python function (handy for unit tests of the body).
        return self.py_function(*args)

    def __get__(self, obj, objtype=None):
        # ClassSty: `obj.method` is the workunit with obj's members as hidden arguments
        if obj is None:
            return self
        self._owner = type(obj)
        return BoundWorkunit(self, obj)

    def __repr__(self) -> str:
        return f"<pk.workunit {self.py_function.__qualname__}>"


class BoundWorkunit:
    """A workunit method of a functor or workload object, as `pk.parallel_for(policy, obj.method)` sees it."""

    __slots__ = ("workunit", "obj")

    def __init__(self, workunit: Workunit, obj):
        self.workunit = workunit
        self.obj = obj

    def member_kwargs(self) -> dict:
        """The members the class's kernels read, as keyword arguments ("self.x": value), read now: a member
        changed between launches is seen by the next one."""
        self_name, names = _members(type(self.obj), self.workunit)
        obj = self.obj
        out = {}
        for n in names:
            try:
                value = getattr(obj, n)
                if isinstance(value, (list, tuple)):
                    value = _list_member(value)
                out[f"{self_name}.{n}"] = value
            except AttributeError:
                raise KernelTypeError(
                    f"{type(obj).__name__} object has no member {n!r} (used by its kernels); set self.{n} in __init__",
                    caller_loc(),
                ) from None
        return out

    def __call__(self, *args):
        return self.workunit.py_function(self.obj, *args)

    def __repr__(self) -> str:
        return f"<bound pk.workunit {self.workunit.py_function.__qualname__} of {self.obj!r}>"


def _list_member(value: list | tuple):
    """A `typing.List` member (`self.w: List[float] = [0.5, 0.25]`), as PyKokkos allows: the kernel reads it
    as a read-only rank-1 array of its values, copied at each launch (a View is the way to data kernels write)."""
    import numpy as np

    try:
        arr = np.array(value)
    except (TypeError, ValueError):
        return value  # not a list of numbers: the argument checks say what is wrong
    if arr.ndim < 1 or arr.dtype.kind not in "biuf":
        return value
    arr.flags.writeable = False
    return arr


_MEMBERS: dict = {}


def _members(cls: type, wu: Workunit) -> tuple[str, list[str]]:
    """(name of `self`, the members read by the class's workunits and @pk.function methods), cached per class."""
    key = (cls, wu)
    hit = _MEMBERS.get(key)
    if hit is not None:
        return hit
    import ast

    from kernelkit.frontend.source import get_source

    self_name = get_source(wu.py_function).tree.args.args[0].arg
    used: set[str] = set()
    for klass in cls.__mro__:
        for v in vars(klass).values():
            if isinstance(v, (Workunit, DeviceFunction)):
                tree = get_source(v.py_function).tree
                own = tree.args.args[0].arg if tree.args.args else None
                for node in ast.walk(tree):
                    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == own:
                        used.add(node.attr)
    methods = {n for n in used if isinstance(getattr(cls, n, None), (Workunit, DeviceFunction))}
    hit = (self_name, sorted(used - methods))
    _MEMBERS[key] = hit
    return hit


class DeviceFunction:
    """A function callable from kernels (`@pk.function`); specialized per call-site argument types."""

    _kk_kind = "function"

    def __init__(self, fn):
        self.py_function = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        return self.py_function(*args)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return lambda *args: self.py_function(obj, *args)  # called from Python: a plain method call

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


def classtype(cls):
    """Class decorator: a user type usable inside kernels (PyKokkos classtype). Its `__init__` assigns the
    fields (`self.x: float = x`, or typed by the first value, like locals); its `@pk.function` methods are
    device functions. Inside kernels values are structs: assignment copies."""
    cls._kk_classtype = True
    return cls


def functor(cls=None, **options):
    """Class decorator (ClassSty): the annotated members set in `__init__` are the data of the class's
    `@pk.workunit` methods, which are launched as `pk.parallel_for(policy, obj.method)`."""

    def mark(c):
        c._kk_functor = options
        return c

    return mark if cls is None else mark(cls)


def workload(cls=None, **options):
    """Class decorator (ClassStyWithMain): `pk.execute(space, obj)` runs its `@pk.main` method, then its
    `@pk.callback` methods."""

    def mark(c):
        c._kk_workload = options
        return c

    return mark if cls is None else mark(cls)


def main(fn):
    """Marks the method `pk.execute` runs (it runs as ordinary Python: launches from it are cheap)."""
    fn._kk_main = True
    return fn


def callback(fn):
    """Marks a method `pk.execute` runs after `@pk.main`."""
    fn._kk_callback = True
    return fn


def execute(space, obj) -> None:
    """Run a `@pk.workload` object: its `@pk.main` with `space` as the default space, then its callbacks."""
    from kernelkit.api import spaces

    cls = type(obj)
    mains = [n for k in reversed(cls.__mro__) for n, v in vars(k).items() if getattr(v, "_kk_main", False)]
    if not mains:
        raise KernelTypeError(f"{cls.__name__} has no @pk.main method", caller_loc())
    callbacks = [n for k in reversed(cls.__mro__) for n, v in vars(k).items() if getattr(v, "_kk_callback", False)]
    with spaces.space_scope(space):  # this thread's default: also right inside a task of kernelkit.tasks
        _with_members(obj, getattr(cls, mains[-1]))()
        for n in callbacks:
            getattr(obj, n)()


def _with_members(obj, fn):
    """`fn` bound to `obj`, where a name that is neither global nor builtin is the object's member, as in
    PyKokkos' @pk.main (translated to C++, where `n` means `this->n`): `for i in range(iterations)`."""

    class Scope(dict):
        def __missing__(self, name):
            try:
                return getattr(obj, name)
            except AttributeError:
                raise KeyError(name) from None

    main = getattr(fn, "__func__", fn)
    scoped = types.FunctionType(
        main.__code__, Scope(main.__globals__), main.__name__, main.__defaults__, main.__closure__
    )
    return scoped.__get__(obj, type(obj))


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
    raise KernelTypeError(f"expected a workunit (a function decorated with @pk.workunit), got {obj!r}", caller_loc())
