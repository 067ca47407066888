"""parallel_for, parallel_reduce, parallel_scan and fence.

The common case, `parallel_for(label?, policy, workunit, **kwargs)`, costs a few attribute reads here and one
call into the native launcher; everything else happens on the first call with new argument types.
"""

from __future__ import annotations

import numpy as np

from kernelkit import _native
from kernelkit.api import reducers as R
from kernelkit.api.decorators import BoundWorkunit, Workunit, as_workunit
from kernelkit.api.policies import MDRangePolicy, RangePolicy
from kernelkit.api.spaces import Default, ExecutionSpace, get_default_space
from kernelkit.api.team import TeamPolicy
from kernelkit.errors import KernelTypeError, KernelValueError, caller_loc
from kernelkit.runtime.launcher import Launch, launch, team_launch


def _split(args: tuple, name: str):
    """(label, policy, workunit, rest) from the positional arguments."""
    if args and isinstance(args[0], str):
        label, args = args[0], args[1:]
    else:
        label = None
    if len(args) < 2:
        raise KernelTypeError(
            f"{name}([label,] policy, workunit, **kwargs) needs a policy and a workunit", caller_loc()
        )
    return label, args[0], args[1], args[2:]


def _record(policy, pattern: str, reducer, init, label):
    """(space or None, the Launch record) of a policy: the one launch contract every backend receives."""
    cls = policy.__class__
    if cls not in _POLICIES:  # a user's subclass of a policy is that policy
        cls = next((base for base in _POLICIES if isinstance(policy, base)), cls)
    if cls is RangePolicy:
        return policy.space, Launch(pattern, policy.begin, policy.end, None, reducer, init, label)
    if cls is int:
        if policy < 0:
            raise KernelValueError(f"the number of iterations must be >= 0, got {policy}", caller_loc())
        return None, Launch(pattern, 0, policy, None, reducer, init, label)
    if cls is MDRangePolicy:
        return policy.space, Launch(pattern, policy.begin, policy.end, policy.tile, reducer, init, label)
    if cls is TeamPolicy:
        ts = policy.team_size if policy.team_size.__class__ is int else 0  # 0: AUTO, each backend chooses
        scratch = (*policy.scratch_team, *policy.scratch_thread)
        return policy.space, team_launch(
            pattern, policy.league_size, ts, policy.vector_length, scratch, reducer, init, label
        )
    if isinstance(policy, ExecutionSpace):
        raise KernelTypeError(
            f"{policy!r} is not a policy (did you mean pk.RangePolicy({policy!r}, 0, n)?)", caller_loc()
        )
    try:
        import operator

        n = operator.index(policy)
    except TypeError:
        raise KernelTypeError(
            f"expected a policy (an int, RangePolicy or MDRangePolicy), got {policy!r}", caller_loc()
        ) from None
    return _record(n, pattern, reducer, init, label)


_POLICIES = (RangePolicy, MDRangePolicy, TeamPolicy)


def _checked_record(policy, pattern, reducer, init, label):
    try:
        return _record(policy, pattern, reducer, init, label)
    except KernelValueError as e:  # the record validates bounds in C: name the user's line
        if e.loc is None:
            raise KernelValueError(e.message, caller_loc()) from None
        raise


def _space(space):
    return get_default_space() if space is None or space is Default else space


def _unbind(wu, kwargs):
    """(Workunit, keyword arguments): a bound method brings its object's members along."""
    if wu.__class__ is BoundWorkunit:
        return wu.workunit, {**wu.member_kwargs(), **kwargs}
    return as_workunit(wu), kwargs


def _positional(wu, pattern: str, policy, rest: tuple, kwargs: dict) -> dict:
    """Bind positional kernel arguments to the workunit's parameters after its index (and accumulator)."""
    if not rest:
        return kwargs
    from kernelkit.frontend.source import get_source

    fn = wu.workunit.py_function if wu.__class__ is BoundWorkunit else as_workunit(wu).py_function
    names = [a.arg for a in get_source(fn).tree.args.args]
    if wu.__class__ is BoundWorkunit:
        names = names[1:]
    head = (
        (
            policy.rank
            if isinstance(policy, (RangePolicy, MDRangePolicy))
            else 0
            if policy.__class__ is TeamPolicy
            else 1
        )
        + (1 if policy.__class__ is TeamPolicy else 0)
        + {"for": 0, "reduce": 1, "scan": 2}[pattern]
    )
    params = names[head:]
    if len(rest) > len(params):
        raise KernelTypeError(
            f"{fn.__name__}() takes {len(params)} kernel argument(s) ({', '.join(params)}) but "
            f"{len(rest)} were given positionally",
            caller_loc(),
        )
    out = dict(zip(params, rest, strict=False))
    for k in kwargs:
        if k in out:
            raise KernelTypeError(f"kernel argument {k!r} given both positionally and by keyword", caller_loc())
    out.update(kwargs)
    return out


def _accumulator_name(wu, policy) -> str | None:
    """The name of a reduction workunit's accumulator parameter (after `self`, the indices or the team)."""
    bound = wu.__class__ is BoundWorkunit
    fn = wu.workunit.py_function if bound else getattr(wu, "py_function", wu)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    names = code.co_varnames[int(bound) : code.co_argcount]
    rank = policy.rank if isinstance(policy, (RangePolicy, MDRangePolicy)) else 1  # an int N or a team member
    return names[rank] if len(names) > rank else None


def _run(pattern, args, kwargs, reducer, init):
    label, policy, wu, rest = _split(args, f"parallel_{pattern}")
    kwargs = _positional(wu, pattern, policy, rest, kwargs)
    space, rec = _checked_record(policy, pattern, reducer, init, label)
    wu, kwargs = _unbind(wu, kwargs)
    return launch(_space(space).backend, wu, rec, kwargs)


def parallel_for(*args, **kwargs) -> None:
    """Run `workunit(i, **kwargs)` for every index of the policy.

    >>> pk.parallel_for("axpy", n, axpy, a=2.0, x=x, y=y)
    """
    # fast path: (policy, wu) or (label, policy, wu) with an int or RangePolicy and a decorated workunit
    n = len(args)
    if n == 3:
        label, policy, wu = args
    elif n == 2:
        label = None
        policy, wu = args
    else:
        return _run("for", args, kwargs, None, None)
    cls = policy.__class__
    if wu.__class__ is Workunit and (label is None or label.__class__ is str):
        if cls is int and 0 <= policy < _INT64:
            space = _default_space[0] or _scoped.space or get_default_space()  # _scoped: a task's space_scope
            launch(space._backend or space.backend, wu, Launch("for", 0, policy, None, None, None, label), kwargs)
            return None
        if cls is RangePolicy:
            space = policy.space
            if space is None or space is Default:
                space = get_default_space()
            try:
                rec = Launch("for", policy.begin, policy.end, None, None, None, label)
            except KernelValueError as e:  # validated in C: name the user's line
                raise KernelValueError(e.message, caller_loc()) from None
            launch(space._backend or space.backend, wu, rec, kwargs)
            return None
    _run("for", args, kwargs, None, None)
    return None


def parallel_reduce(*args, reducer=None, initial_value=None, **kwargs):
    """Reduce over the policy: `workunit(i, acc, **kwargs)` updates `acc`; returns the joined result.

    Reducers (pk.Sum by default, Prod, Min, Max, MinLoc, MaxLoc, LAnd, LOr, BAnd, BOr) and an initial value may
    follow the workunit positionally or come as keywords.

    >>> total = pk.parallel_reduce(pk.RangePolicy(pk.OpenMP, 0, n), dot, x=x, y=y)
    """
    label, policy, wu, rest = _split(args, "parallel_reduce")
    positional = []
    for extra in rest:
        if (
            hasattr(extra, "__array_interface__")
            or hasattr(extra, "__cuda_array_interface__")
            or hasattr(extra, "_array")
        ):
            positional.append(extra)  # an array or View: a kernel argument given by position
            continue
        if isinstance(extra, R.Reducer):
            if reducer is not None:
                raise KernelTypeError("parallel_reduce got two reducers", caller_loc())
            reducer = extra
        elif isinstance(extra, type) and extra.__name__ in R.ALL:
            reducer = R.ALL[extra.__name__]
        else:
            if initial_value is not None:
                raise KernelTypeError("parallel_reduce got two initial values", caller_loc())
            initial_value = extra
    if reducer is None:
        reducer = R.Sum
    elif not isinstance(reducer, R.Reducer):
        raise KernelTypeError(
            f"reducer must be one of {', '.join('pk.' + n for n in R.ALL)}, got {reducer!r}", caller_loc()
        )
    kwargs = _positional(wu, "reduce", policy, tuple(positional), kwargs)
    if kwargs:
        acc = _accumulator_name(wu, policy)
        # PyKokkos: `acc=0.0` (a number under the accumulator's name) is the initial value
        if acc is not None and isinstance(kwargs.get(acc), (int, float, np.number, np.bool_)):
            if initial_value is not None:
                raise KernelTypeError(f"parallel_reduce got initial_value and {acc}=", caller_loc())
            initial_value = kwargs.pop(acc)
    space, rec = _checked_record(policy, "reduce", reducer, initial_value, label)
    wu, kwargs = _unbind(wu, kwargs)
    return launch(_space(space).backend, wu, rec, kwargs)


def parallel_scan(*args, **kwargs):
    """Kokkos scan: `workunit(i, acc, final, **kwargs)`; writing `out[i] = acc` before `acc += v` gives an
    exclusive scan, after it an inclusive one. Returns the total."""
    label, policy, wu, rest = _split(args, "parallel_scan")
    kwargs = _positional(wu, "scan", policy, rest, kwargs)
    space, rec = _checked_record(policy, "scan", R.Sum, None, label)
    if rec.is_team or rec.rank != 1:
        raise KernelTypeError(
            "parallel_scan takes an int or a RangePolicy (a team scan is nested: "
            "pk.parallel_scan(pk.TeamThreadRange(team, n), fn) inside a team workunit)",
            caller_loc(),
        )
    wu, kwargs = _unbind(wu, kwargs)
    return launch(_space(space).backend, wu, rec, kwargs)


def fence(space=None) -> None:
    """Wait until every kernel launched so far has finished (host kernels are synchronous); `fence(space)` waits
    for one space or execution space instance only."""
    from kernelkit.backends import base

    if space is not None:
        space.fence()
        return
    for b in base.loaded():
        b.fence()


from kernelkit.api.spaces import _default as _default_space  # noqa: E402
from kernelkit.api.spaces import _local as _scoped  # noqa: E402

_INT64 = 1 << 63

# parallel_for's common case runs in C (runtime/native/fastpath.c): the same checks as the Python fast path
# above, which takes every other call, and the launcher's slow path and error locating behind it.
from kernelkit.api.spaces import Default as _Default  # noqa: E402
from kernelkit.runtime import graph as _graph  # noqa: E402
from kernelkit.runtime import launcher as _launcher  # noqa: E402
from kernelkit.runtime import profiler as _profiler  # noqa: E402

parallel_for = _native.fast_for(
    parallel_for,
    RangePolicy,
    Workunit,
    _Default,
    _default_space,
    vars(_graph),
    vars(_profiler),
    _launcher._slow,
    _launcher.raise_failed,
)

# Public entry points go through a native wrapper so that a KernelError's traceback ends at the user's call.
parallel_for = _native.clean(parallel_for)
parallel_reduce = _native.clean(parallel_reduce)
parallel_scan = _native.clean(parallel_scan)
fence = _native.clean(fence)

# Inside a team kernel the patterns nest (lowered by the frontend's "pattern" handler).
from kernelkit.lang import registry as _registry  # noqa: E402

_registry.register(parallel_for, "pattern", "for")
_registry.register(parallel_reduce, "pattern", "reduce")
_registry.register(parallel_scan, "pattern", "scan")
