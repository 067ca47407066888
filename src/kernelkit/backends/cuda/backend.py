"""pk.Cuda: kernels compiled by NVRTC, loaded and launched through the CUDA driver API.

`CudaTarget` is the build half (render, NVRTC compile, key identity) for one architecture and needs no GPU: the
CudaCheck space uses it alone. `CudaBackend` adds a device: it loads modules, sizes the per-spec device
resources (mapped result slot, reduction scratch, arrival counter, error flag, team scratch), and makes the
native CudaSpec that `_native.launch_cuda` matches and launches with cuLaunchKernel. One instance per GPU (and
per logical GPU); `with_stream` gives the same device on another stream, sharing its specializations.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import numpy as np

from kernelkit import _native, config
from kernelkit.backends.base import Backend, Records
from kernelkit.backends.cpp import result_tag, uses_fast_math
from kernelkit.backends.cuda import program as cuda_program
from kernelkit.backends.cuda import render
from kernelkit.backends.cuda import toolchain as cuda_toolchain
from kernelkit.backends.cuda.driver import api as driver_api
from kernelkit.errors import KernelRuntimeError, KernelValueError
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T

# parallel_for launches in a burst are made by the native launch queue's thread (runtime/native/cudaq.c); the
# driver binding drains it before any other driver call, and synchronizations raise a queued launch's failure
driver_api.set_launch_queue(_native.cuda_queue_drain, _native.cuda_queue_check)

_HERE = os.path.dirname(os.path.abspath(__file__))

# NVRTC fuses `a * b + c` into an FMA by default (--fmad=true). kernelkit's contract is IEEE results equal to the
# host spaces and NumPy (docs/numerics.md), so contraction is off unless a kernel asks for fast math.
IEEE_OPTIONS = ("--fmad=false",)
FAST_OPTIONS = ("--use_fast_math",)  # implies --fmad=true, --ftz=true, approximate division and sqrt


class CudaTarget(Backend):
    """Rendering and compiling for one GPU architecture ("sm_90"); binaries load nowhere (compile checks)."""

    name = "cuda"
    suffix = ".cu"

    team_shape: tuple[int, int] | None = None  # a team kernel compiled for (team_size, vector_length) only

    def __init__(self, arch: str):
        self.arch = arch

    def codegen_files(self) -> tuple[str, ...]:
        return (os.path.join(_HERE, "render.py"), os.path.join(_HERE, "program.py"))

    def identity(self, records: Records) -> str:
        target, is_ptx, ident = cuda_toolchain.target(self.arch, records)
        return f"{target}\0{is_ptx}\0{ident}\0{' '.join(IEEE_OPTIONS)}\0{' '.join(FAST_OPTIONS)}"

    def accepts(self, unit: N.Kernel) -> bool:
        """As CudaCheck's companion: every kernel, and the programs that would run on pk.Cuda (a program with
        host OpenMP regions runs on host threads; on pk.Cuda itself it is refused with a KernelSyntaxError)."""
        return not isinstance(unit, N.Program) or cuda_program.host_region(unit) is None

    def render(self, kernel: N.Kernel) -> str:
        if isinstance(kernel, N.Program):  # a whole @pk.jit function: its kernels (program.py)
            return cuda_program.render_device(kernel)
        return render.render(kernel, bounds_check=config.get().bounds_check, team_shape=self.team_shape)

    def compile(self, source: str, kernel: N.Kernel, out_path: str) -> None:
        from kernelkit.backends.base import INCLUDE_DIR
        from kernelkit.backends.cuda import nvrtc

        target, is_ptx = nvrtc.target_for(self.arch)  # compiling loads NVRTC anyway
        options = FAST_OPTIONS if uses_fast_math(kernel) else IEEE_OPTIONS
        image = nvrtc.compile(
            source, f"{kernel.name}.cu", target, options=options, include_dirs=[INCLUDE_DIR], ptx=is_ptx
        )
        with open(out_path, "wb") as f:
            f.write(image)

    def load(self, path: str, kernel: N.Kernel) -> Any:
        return path


class _Resources:
    """Per-specialization device state: the mapped result slot, reduction scratch, the arrival counter."""

    def __init__(self, driver: Any, device: Any, kernel: N.Kernel, max_grid: int):
        self.driver = driver
        self.generation = driver.api.state.generation
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
        self.scratch1 = 0

    def __del__(self) -> None:
        d = self.driver
        if d.api.state.generation != self.generation:
            return  # memory of a driver library since replaced (driver.use_library): not this one's to free
        try:
            d.free_host(self.result)
            for p in (self.scratch, self.counter, self.err_flag, self.scratch1):
                if p:
                    d.free(p)
        except Exception:  # interpreter shutdown or a dead context: nothing left to free
            pass


class CudaBackend(CudaTarget):
    name = "cuda"
    device_memory = True
    native = staticmethod(_native.launch_cuda)

    def __init__(self, device_id: int = 0, stream: int = 0, place: Any = None):
        self.device_id = device_id
        self.native = _native.launch_cuda
        self.handle = stream  # a CUstream handle; 0 is the legacy default stream
        self._place = place
        self._family: dict[int, CudaBackend] = {device_id: self}
        self._dev: Any = None
        self._entry_points: tuple[int, ...] | None = None
        self.spec_key = ("cuda", device_id if place is None else place.code)

    @property
    def arch(self) -> str:  # type: ignore[override]
        return self.device.arch

    @property
    def place(self) -> Any:  # type: ignore[override]
        if self._place is None:
            from kernelkit.backends.cuda.place import CudaPlace

            self._place = CudaPlace(self.device_id)
        return self._place

    def place_of(self, device: int | None) -> Any:
        """The place of GPU `device` (the current one when None), or None without a usable driver."""
        from kernelkit.backends.cuda import driver

        if not driver.available()[0]:
            return None
        if device is None:
            device = driver.current_device().ordinal
        return self.for_device(device).place

    def pointer_device(self, ptr: int) -> int:
        """The GPU whose memory `ptr` points into (the current GPU when the driver cannot tell)."""
        from kernelkit.backends.cuda import driver

        dev = driver.pointer_device(ptr) if ptr else None
        return driver.current_device().ordinal if dev is None else dev

    def synchronize_stream(self, stream: Any) -> None:
        """Wait for a CUDA Array Interface v3 producer stream (None, 0: nothing to wait for)."""
        if isinstance(stream, int) and stream != 0:
            from kernelkit.backends.cuda import driver

            driver.Stream.wrap(stream).synchronize()

    def with_stream(self, stream: int) -> CudaBackend:
        """The same device, launching on `stream` (an execution space instance); specs are shared."""
        b = CudaBackend.__new__(CudaBackend)
        b.__dict__.update(self.__dict__)
        b.handle = stream
        return b

    def for_launch(self, rec: Any) -> CudaBackend:
        """A team launch builds for its block shape (the kernel's nested ranges then have constant strides)."""
        if not rec.is_team:
            return self
        shape = _native.cuda_team_shape(rec)
        b = CudaBackend.__new__(CudaBackend)
        b.__dict__.update(self.__dict__)
        b.team_shape = shape
        return b

    def for_device(self, device_id: int) -> CudaBackend:
        b = self._family.get(device_id)
        if b is None:
            b = CudaBackend(device_id)
            b._family = self._family
            self._family[device_id] = b
        return b

    def logical(self, place: Any) -> CudaBackend:
        """A backend for a logical GPU: the physical device of `place`, with that place's own copies."""
        b = CudaBackend(place.device, place=place)
        return b

    # -------------------------------------------------------------------------------------- set-up

    def available(self) -> tuple[bool, str]:
        # NVRTC is found here, not loaded (~20 ms): a process whose kernels all come from the cache never loads it
        from kernelkit.backends.base import records
        from kernelkit.backends.cuda import driver, nvrtc

        ok, why = driver.available()  # first: without a driver nothing else matters, and it fails fast
        if not ok:
            return False, why
        rec = records()
        if (
            nvrtc._lib is None
            and not (rec is not None and cuda_toolchain.recorded(rec))
            and not nvrtc.candidate_paths()
        ):
            if not nvrtc.available():  # the system loader's own search, as a last resort
                return False, "NVRTC not found (pip install 'kernelkit[cuda]' or nvidia-cuda-nvrtc)"
        dev = driver.Device(self.device_id)
        return True, f"{dev.name} ({dev.arch}, {dev.multiprocessor_count} SMs)"

    @property
    def device(self) -> Any:
        if self._dev is None:
            from kernelkit.backends.cuda import driver

            self._dev = driver.Device(self.device_id)
            self._dev.set_current()
        return self._dev

    def entry_points(self) -> tuple[int, ...]:
        if self._entry_points is None:
            from kernelkit.backends.cuda import driver

            ep = driver.entry_points()
            self._entry_points = (
                ep["cuLaunchKernel"],
                ep["cuStreamSynchronize"],
                ep["cuGetErrorName"],
                driver.symbol_address("cuCtxGetCurrent"),
                ep["cuCtxSetCurrent"],
                ep["cuStreamQuery"],  # the interruptible wait of reductions and scans (cuda.c kk_cuda_wait)
            )
        return self._entry_points

    def fence(self) -> None:
        from kernelkit.backends.cuda import driver

        for b in {id(b): b for b in (self, *self._family.values())}.values():
            if b._dev is None:
                continue
            try:
                # Stream.synchronize polls, so Ctrl-C ends the wait (docs/numerics.md); on the legacy default
                # stream the context synchronize after it finds the work done and catches the rest
                driver.Stream.wrap(b.handle, b._dev).synchronize()
                if not b.handle:
                    b._dev.synchronize()
            except driver.CudaError as e:
                raise KernelRuntimeError(
                    f"{e.message} — the fault happened in a kernel launched before this fence; the last CUDA "
                    f"kernel launched was {_native.last_cuda_kernel()!r} (KERNELKIT_BOUNDS_CHECK=1 pinpoints "
                    "out-of-bounds indices)"
                ) from None

    # -------------------------------------------------------------------------------------- graphs

    def capture_available(self) -> bool:
        from kernelkit.backends.cuda import driver

        return driver.available()[0] and driver.api.cu().cuStreamBeginCapture is not None

    def capture(self, enqueue: Any) -> Any:
        """Queue `enqueue(stream)` on a new stream in thread-local capture mode (so that any synchronous copy,
        allocation or synchronization of this thread inside it fails instead of happening) and instantiate the
        graph it recorded."""
        from kernelkit.backends.cuda import driver

        dev = self.device
        dev.activate()
        stream = driver.Stream(dev)
        # the captured launches are made by this thread (capture mode is per thread), not by the launch queue
        _native.cuda_queue_hold(1)
        try:
            driver.begin_capture(stream.handle)
            try:
                enqueue(stream.handle)
            except BaseException:
                try:
                    driver.end_capture(stream.handle).destroy()
                except driver.CudaError:
                    pass  # an invalidated capture: the error being raised is the one that matters
                raise
            graph = driver.end_capture(stream.handle)
        finally:
            _native.cuda_queue_hold(-1)
        try:
            return _Replay(graph.instantiate(), graph.node_count(), dev)
        finally:
            graph.destroy()

    def queue_copy(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        from kernelkit.backends.cuda import driver

        driver.memcpy_dtod_async(dst, src, nbytes, stream)

    def replay(self, graph: Any) -> None:
        graph.device.activate()
        graph.exec.launch(self.handle)

    # -------------------------------------------------------------------------------------- specs

    def load(self, path: str, kernel: N.Kernel) -> Any:
        from kernelkit.backends.cuda import driver

        with open(path, "rb") as f:
            image = f.read()
        is_ptx = image[:4] != b"\x7fELF"  # a cubin is an ELF image; PTX is text
        dev = self.device
        module = driver.Module.from_ptx(image, dev) if is_ptx else driver.Module.from_cubin(image, dev)
        names = cuda_program.entry_names(kernel) if isinstance(kernel, N.Program) else render.entry_names(kernel)
        return module, [module.function(n) for n in names]

    # -------------------------------------------------------------------------------------- programs

    program_native = staticmethod(_native.launch)  # programs run host code: the host launcher, at the GPU place

    @property
    def program_handle(self) -> int:
        return self.place.code

    @property
    def program_host(self) -> Backend:
        """The build of a program's host unit (g++), which launches the kernels this backend loads."""
        from kernelkit.backends.cuda.program_host import CudaProgramHost

        return CudaProgramHost.instance()

    def program_table(self) -> Any:
        """A table of (program identity, launch context) that a program's host unit looks itself up in."""
        from kernelkit.backends.cuda.program_host import ContextTable

        return ContextTable()

    def make_program_spec(
        self, program: N.Program, binary: Any, host: Any, params: tuple, guards: tuple, table: Any
    ) -> Any:
        from kernelkit.backends.cuda.program_host import make_context

        module, functions = binary
        dev = self.device
        max_blocks = dev.multiprocessor_count * max(dev.max_threads_per_multiprocessor // 256, 1)
        ctx = make_context(self, functions, max_blocks, program)
        table.add(ctx.program_id, ctx)
        return _native.Spec(host.address, params, guards, "i", (host, module, functions, ctx, table))

    def program_result(self, ptr: int, shape: tuple[int, ...], dtype: np.dtype, like: list) -> Any:
        """An array a program allocated on the GPU, for the caller: a CuPy array when the call passed CuPy
        arrays (no copy), else a NumPy copy (the device memory is freed)."""
        from kernelkit.backends.cuda.program_host import result_array

        return result_array(self, ptr, shape, dtype, like)

    def make_spec(self, kernel: N.Kernel, binary: Any, params: tuple, guards: tuple, rec: Any) -> Any:
        from kernelkit.backends.cuda import driver

        module, functions = binary
        dev = self.device
        per_sm = max(dev.max_threads_per_multiprocessor // render.BLOCK, 1)
        max_grid = dev.multiprocessor_count * per_sm
        team = rec.is_team
        if team:
            max_grid = dev.multiprocessor_count * 16  # blocks of a team launch; leagues loop over them
        res = _Resources(driver, dev, kernel, max_grid)
        check = _BoundsCheck(module, kernel.name) if config.get().bounds_check else None
        spec = _native.CudaSpec(
            tuple(f.handle for f in functions),
            f"team_{kernel.pattern}" if team else kernel.pattern,
            render.BLOCK,
            render.SCAN2_BLOCK,
            max_grid,
            self.entry_points(),
            dev.context,
            res.result,
            res.scratch,
            res.counter,
            res.err_flag,
            self.place.code,
            params,
            guards,
            result_tag(kernel),
            kernel.name,
            check,
            (module, functions, res),
        )
        if team:
            ts, _ = _native.cuda_team_shape(rec)
            s0, s1, t0, t1 = rec.scratch
            smem = s0 + ts * t0
            limit = dev.max_shared_per_block_optin
            if smem > limit:
                raise KernelValueError(
                    f"kernel {kernel.name!r} asks for {smem} bytes of level-0 scratch (shared memory) per team; this "
                    f"GPU has {limit} per block. Use level 1 (global memory) for the rest."
                )
            if smem > 48 * 1024:
                functions[0].set_max_dynamic_shared(smem)
            per_block1 = s1 + ts * t1
            res.scratch1 = driver.alloc(max(per_block1 * max_grid, 8), dev) if per_block1 else 0
            fixed = self.team_shape or (0, 0)
            spec.set_team_resources(res.scratch1, per_block1 * max_grid, max(smem, 48 * 1024), *fixed)
        return spec


class _Replay:
    """An instantiated CUDA graph, its node count and its device."""

    __slots__ = ("exec", "nodes", "device")

    def __init__(self, exec_: Any, nodes: int, device: Any):
        self.exec, self.nodes, self.device = exec_, nodes, device


class _BoundsCheck:
    """KERNELKIT_BOUNDS_CHECK=1: after each launch, wait and report the first failed index check."""

    def __init__(self, module: Any, name: str):
        self.module = module
        self.name = name

    def __call__(self) -> None:
        from kernelkit.backends.cuda import driver

        driver.current_device().synchronize()
        flag_ptr, _ = self.module.global_address("kk_err_flag")
        flag = np.zeros(1, np.int32)
        driver.memcpy_dtoh(flag, flag_ptr, 4)
        if flag[0]:
            msg_ptr, size = self.module.global_address("kk_err_msg")
            buf = np.zeros(size, np.uint8)
            driver.memcpy_dtoh(buf, msg_ptr, size)
            driver.memset_d8(flag_ptr, 0, 4)
            text = bytes(buf).split(b"\0", 1)[0].decode(errors="replace")
            raise KernelRuntimeError(f"kernel {self.name!r} on pk.Cuda: {text}")
