"""The compiled host spaces: pk.OpenMP (threads) and pk.Serial (one thread, no OpenMP runtime)."""

from __future__ import annotations

from kernelkit import _native
from kernelkit.api.team import TeamPolicy
from kernelkit.backends.base import Backend
from kernelkit.backends.cpp import result_tag
from kernelkit.compile.pipeline import build_host
from kernelkit.compile.toolchain import find_cxx
from kernelkit.errors import KernelError, KernelRuntimeError, caller_loc
from kernelkit.runtime.args import param_descriptor, sync_views
from kernelkit.runtime.launch import prepare

MAX_SPECS = 16  # per workunit, pattern and space; a workunit called with ever-new types evicts the oldest


class HostBackend(Backend):
    target = ""

    def available(self) -> tuple[bool, str]:
        tc = find_cxx()
        if tc is None:
            return False, "no C++ compiler (install g++ or clang++, or set KERNELKIT_CXX)"
        return True, tc.path

    def launch(self, wu, pattern, lo, hi, tile, kwargs, reducer, init):
        if lo.__class__ is TeamPolicy:
            return self.team_launch(wu, pattern, lo, kwargs, reducer, init)
        rank = 1 if lo.__class__ is int else len(lo)
        key = (self.name, pattern, rank, reducer, None if init is None else type(init))
        specs = wu._specs.get(key)
        if specs is None:
            specs = wu._specs[key] = []
        try:
            r = _native.launch(specs, lo, hi, tile, kwargs, init)
        except KernelRuntimeError as e:
            raise KernelRuntimeError(e.message, caller_loc()) from None  # name the launch line
        if r is not NotImplemented:
            return r
        return self.slow_launch(wu, pattern, rank, lo, hi, tile, kwargs, reducer, init, specs)

    def team_launch(self, wu, pattern, policy, kwargs, reducer, init):
        # on the host a team is team_size OpenMP threads; AUTO is 1 (each thread runs whole teams)
        ts = 1 if policy.team_size.__class__ is not int else policy.team_size
        lo = (policy.league_size, ts, policy.vector_length, 0, 0, 0)
        hi = (*policy.scratch_team, *policy.scratch_thread, 0, 0)
        key = (self.name, pattern, "team", reducer, None if init is None else type(init))
        specs = wu._specs.get(key)
        if specs is None:
            specs = wu._specs[key] = []
        try:
            r = _native.launch(specs, lo, hi, None, kwargs, init)
        except KernelRuntimeError as e:
            raise KernelRuntimeError(e.message, caller_loc()) from None
        if r is not NotImplemented:
            return r
        return self.slow_launch(wu, pattern, 0, lo, hi, None, kwargs, reducer, init, specs, team=True)

    def slow_launch(self, wu, pattern, rank, lo, hi, tile, kwargs, reducer, init, specs, team=False):
        kernel, guards, args = prepare(wu, pattern, rank, kwargs, reducer, init, team=team)
        args = sync_views(args, kernel.writes)
        try:
            r = _native.launch(specs, lo, hi, tile, args, init)
        except KernelRuntimeError as e:
            raise KernelRuntimeError(e.message, caller_loc()) from None  # e.g. a View whose host copy was just synced
        if r is not NotImplemented:
            return r
        loaded = build_host(kernel, self.target)
        wu._count("cache_hits" if loaded.from_cache else "compiles")
        params = tuple(param_descriptor(p.name, p.type, args[p.name], p.name in kernel.writes)
                       for p in kernel.params)
        spec = _native.Spec(loaded.address, params, tuple((g.holder, g.key, g.value) for g in guards),
                            result_tag(kernel), loaded.library)
        specs.insert(0, spec)
        del specs[MAX_SPECS:]
        try:
            r = _native.launch([spec], lo, hi, tile, args, init)
        except KernelRuntimeError as e:
            raise KernelRuntimeError(e.message, caller_loc()) from None
        if r is NotImplemented:
            raise KernelError(f"internal error: the new specialization of {kernel.name!r} does not accept its own "
                              f"arguments ({params}); please report this")
        return r


class OpenMPBackend(HostBackend):
    name = "openmp"
    target = "openmp"


class SerialBackend(HostBackend):
    name = "serial"
    target = "serial"
