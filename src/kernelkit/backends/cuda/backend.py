"""pk.Cuda: kernels compiled by NVRTC, loaded and launched through the CUDA driver API.

The hot path is `_native.launch_cuda`: it matches the arguments against the compiled specializations (Views
whose device copy is current, scalars) and calls cuLaunchKernel directly. The slow path here lowers and compiles
new signatures, brings device copies up to date (kernelkit.runtime.memory), and handles arguments the native
path does not take (subviews, NumPy arrays, CuPy/PyTorch arrays).
"""

from __future__ import annotations

import ctypes

from kernelkit import _native
from kernelkit.backends.base import Backend
from kernelkit.backends.cpp import result_tag
from kernelkit.backends.cuda import render
from kernelkit.backends.openmp.backend import MAX_SPECS
from kernelkit.api.team import TeamPolicy
import numpy as np

from kernelkit.errors import KernelError, KernelRuntimeError, KernelValueError, caller_loc
from kernelkit.ir import types as T
from kernelkit.runtime.args import param_descriptor
from kernelkit.runtime.launch import prepare


_MODULES: dict[int, object] = {}  # spec id -> its module (bounds-check mode reads the module's error flag)


def spec_module(spec):
    return _MODULES.get(id(spec))


class _Resources:
    """Per-specialization device state: the mapped result slot, reduction scratch, the arrival counter."""

    def __init__(self, driver, device, kernel, max_grid: int):
        self.driver = driver
        self.result = driver.alloc_host(64)
        ctypes.memset(self.result, 0, 64)
        acc = kernel.acc.type if kernel.acc is not None else None
        width = 16 if isinstance(acc, T.LocType) else (acc.dtype.itemsize if acc is not None else 8)
        width = max(width, 8)
        slots = max_grid * (render.BLOCK if kernel.pattern == "scan" else 1)
        self.scratch = driver.alloc(width * slots, device) if acc is not None else 0
        self.counter = driver.alloc(8, device)
        driver.memset_d8(self.counter, 0, 8)
        self.err_flag = driver.alloc(8, device)
        driver.memset_d8(self.err_flag, 0, 8)

    scratch1 = 0

    def __del__(self):
        d = self.driver
        try:
            d.free_host(self.result)
            for p in (self.scratch, self.counter, self.err_flag, self.scratch1):
                if p:
                    d.free(p)
        except Exception:  # interpreter shutdown or a dead context: nothing left to free
            pass


class CudaBackend(Backend):
    name = "cuda"

    def __init__(self, device_id: int = 0, stream: int = 0):
        self.device_id = device_id
        self.stream = stream  # a CUstream handle; 0 is the legacy default stream
        self._per_device: dict[int, CudaBackend] = {device_id: self}
        self._dev = None
        self._entry_points = None

    def with_stream(self, stream: int) -> CudaBackend:
        """The same device, launching on `stream` (an execution space instance)."""
        b = CudaBackend.__new__(CudaBackend)
        b.__dict__.update(self.__dict__)
        b.stream = stream
        return b

    # -------------------------------------------------------------------------------------- set-up

    def available(self) -> tuple[bool, str]:
        # NVRTC is found here, not loaded (~20 ms): a process whose kernels all come from the cache never loads it
        from kernelkit.backends.cuda import driver, nvrtc
        from kernelkit.compile.pipeline import nvrtc_recorded

        ok, why = driver.available()  # first: without a driver nothing else matters, and it fails fast
        if not ok:
            return False, why
        if nvrtc._lib is None and not nvrtc_recorded() and not nvrtc.candidate_paths():
            if not nvrtc.available():  # the system loader's own search, as a last resort
                return False, "NVRTC not found (pip install 'kernelkit[cuda]' or nvidia-cuda-nvrtc)"
        dev = driver.Device(self.device_id)
        return True, f"{dev.name} ({dev.arch}, {dev.multiprocessor_count} SMs)"

    def for_device(self, device_id: int) -> CudaBackend:
        b = self._per_device.get(device_id)
        if b is None:
            b = CudaBackend(device_id)
            b._per_device = self._per_device
            self._per_device[device_id] = b
        return b

    @property
    def device(self):
        if self._dev is None:
            from kernelkit.backends.cuda import driver

            self._dev = driver.Device(self.device_id)
            self._dev.set_current()
        return self._dev

    def entry_points(self) -> tuple[int, ...]:
        if self._entry_points is None:
            from kernelkit.backends.cuda import driver

            ep = driver.entry_points()
            self._entry_points = (ep["cuLaunchKernel"], ep["cuStreamSynchronize"], ep["cuGetErrorName"],
                                  driver.symbol_address("cuCtxGetCurrent"), ep["cuCtxSetCurrent"])
        return self._entry_points

    def fence(self) -> None:
        from kernelkit.backends.cuda.driver import CudaError

        for b in self._per_device.values():
            if b._dev is not None:
                try:
                    if b.stream:
                        from kernelkit.backends.cuda import driver

                        driver.Stream.wrap(b.stream, b._dev).synchronize()
                    else:
                        b._dev.synchronize()
                except CudaError as e:
                    raise KernelRuntimeError(
                        f"{e.message} — the fault happened in a kernel launched before this fence; the last CUDA "
                        f"kernel launched was {_native.last_cuda_kernel()!r} (KERNELKIT_BOUNDS_CHECK=1 pinpoints "
                        "out-of-bounds indices)", caller_loc()) from None

    # -------------------------------------------------------------------------------------- launches

    def launch(self, wu, pattern, lo, hi, tile, kwargs, reducer, init):
        if lo.__class__ is TeamPolicy:
            return self.team_launch(wu, pattern, lo, kwargs, reducer, init)
        rank = 1 if lo.__class__ is int else len(lo)
        key = ("cuda", self.device_id, pattern, rank, reducer, None if init is None else type(init))
        specs = wu._specs.get(key)
        if specs is None:
            specs = wu._specs[key] = []
        r = _native.launch_cuda(specs, lo, hi, tile, kwargs, init, self.stream)
        if r is not NotImplemented:
            if self.checked:
                self.check(specs)
            return r
        return self.slow_launch(wu, pattern, rank, lo, hi, tile, kwargs, reducer, init, specs)

    def team_launch(self, wu, pattern, policy, kwargs, reducer, init):
        """A team is a block of vector_length x team_size threads; AUTO makes blocks of 256 threads."""
        # vector lanes are the lanes of a warp: a longer vector_length (fine on the host, e.g. the paper's
        # Figure 1 passes M) runs as 32 lanes; results do not depend on it
        vl = min(policy.vector_length, 32)
        ts = policy.team_size if policy.team_size.__class__ is int else max(256 // vl, 1)
        if ts * vl > 1024:
            raise KernelValueError(f"team_size {ts} x vector_length {vl} is more than the 1024 threads of a CUDA "
                                   "block", caller_loc())
        lo = (policy.league_size, ts, vl, 0, 0, 0)
        hi = (*policy.scratch_team, *policy.scratch_thread, 0, 0)
        key = ("cuda", self.device_id, pattern, "team", reducer, None if init is None else type(init))
        specs = wu._specs.get(key)
        if specs is None:
            specs = wu._specs[key] = []
        if policy.league_size == 0:
            return None if pattern == "for" else (init if init is not None else
                                                   self.slow_launch(wu, pattern, 0, lo, hi, None, kwargs, reducer,
                                                                    init, specs, team=True))
        r = _native.launch_cuda(specs, lo, hi, None, kwargs, init, self.stream)
        if r is not NotImplemented:
            if self.checked:
                self.check(specs)
            return r
        return self.slow_launch(wu, pattern, 0, lo, hi, None, kwargs, reducer, init, specs, team=True)

    def slow_launch(self, wu, pattern, rank, lo, hi, tile, kwargs, reducer, init, specs, team=False):
        from kernelkit.runtime import memory

        kernel, guards, args = prepare(wu, pattern, rank, kwargs, reducer, init, device=True, team=team)
        dev = self.device
        dev_args: dict[str, object] = {}
        after = []
        for p in kernel.params:
            v = args[p.name]
            if isinstance(p.type, (T.ViewType, T.RandomPoolType)):
                v, done = memory.device_arg(p.name, v, self.device_id, p.name in kernel.writes or
                                            isinstance(p.type, T.RandomPoolType))
                if isinstance(p.type, T.ViewType) and p.type.atomic:
                    v._traits = _native.TRAIT_ATOMIC  # a temporary descriptor of an Atomic subview
                if done is not None:
                    after.append(done)
            dev_args[p.name] = v
        try:
            r = _native.launch_cuda(specs, lo, hi, tile, dev_args, init, self.stream)
            if r is NotImplemented:
                spec = self.make_spec(wu, kernel, guards, args, lo if team else None, hi if team else None)
                specs.insert(0, spec)
                del specs[MAX_SPECS:]
                r = _native.launch_cuda([spec], lo, hi, tile, dev_args, init, self.stream)
                if r is NotImplemented:
                    raise KernelError(f"internal error: the new CUDA specialization of {kernel.name!r} does not "
                                      "accept its own arguments; please report this")
        finally:
            for done in after:
                done()
        if self.checked:
            self.check(specs)
        del dev
        return r

    @property
    def checked(self) -> bool:
        from kernelkit import config

        return config.get().bounds_check

    def check(self, specs) -> None:
        """KERNELKIT_BOUNDS_CHECK=1: wait for the launch and report the first failed index check."""
        from kernelkit.backends.cuda import driver

        self.fence()
        for spec in specs:
            module = spec_module(spec)
            if module is None:
                continue
            flag_ptr, _ = module.global_address("kk_err_flag")
            flag = np.zeros(1, np.int32)
            driver.memcpy_dtoh(flag, flag_ptr, 4)
            if flag[0]:
                msg_ptr, size = module.global_address("kk_err_msg")
                buf = np.zeros(size, np.uint8)
                driver.memcpy_dtoh(buf, msg_ptr, size)
                driver.memset_d8(flag_ptr, 0, 4)
                text = bytes(buf).split(b"\0", 1)[0].decode(errors="replace")
                raise KernelRuntimeError(f"kernel {_native.last_cuda_kernel()!r} on pk.Cuda: {text}", caller_loc())

    def make_spec(self, wu, kernel, guards, args, team_lo=None, team_hi=None):
        from kernelkit.backends.cuda import driver
        from kernelkit.compile.pipeline import build_cuda

        dev = self.device
        binary = build_cuda(kernel, dev.arch)
        wu._count("cache_hits" if binary.from_cache else "compiles")
        module = driver.Module.from_ptx(binary.image, dev) if binary.is_ptx else \
            driver.Module.from_cubin(binary.image, dev)
        functions = [module.function(n) for n in render.entry_names(kernel)]
        per_sm = max(dev.max_threads_per_multiprocessor // render.BLOCK, 1)
        max_grid = dev.multiprocessor_count * per_sm
        if team_lo is not None:
            max_grid = dev.multiprocessor_count * 16  # blocks of a team launch; leagues loop over them
        res = _Resources(driver, dev, kernel, max_grid)
        params = tuple(param_descriptor(p.name, p.type, args[p.name], p.name in kernel.writes)
                       for p in kernel.params)
        pattern = kernel.pattern if team_lo is None else f"team_{kernel.pattern}"
        spec = _native.CudaSpec(
            tuple(f.handle for f in functions), pattern, render.BLOCK, render.SCAN2_BLOCK, max_grid,
            self.entry_points(), dev.context, 0, res.result, res.scratch, res.counter, res.err_flag,
            self.device_id, params, tuple((g.holder, g.key, g.value) for g in guards), result_tag(kernel),
            kernel.name, (module, functions, res, binary),
        )
        _MODULES[id(spec)] = module
        if team_lo is not None:
            ts = team_lo[1]
            smem = team_hi[0] + ts * team_hi[2]
            limit = dev.max_shared_per_block_optin
            if smem > limit:
                raise KernelValueError(
                    f"kernel {kernel.name!r} asks for {smem} bytes of level-0 scratch (shared memory) per team; this "
                    f"GPU has {limit} per block. Use level 1 (global memory) for the rest.", caller_loc())
            if smem > 48 * 1024:
                functions[0].set_max_dynamic_shared(smem)
            per_block1 = team_hi[1] + ts * team_hi[3]
            res.scratch1 = driver.alloc(max(per_block1 * max_grid, 8), dev) if per_block1 else 0
            spec.set_team_resources(res.scratch1, per_block1 * max_grid, max(smem, 48 * 1024 if smem <= 48 * 1024
                                                                              else smem))
        return spec
