"""A GPU as a place for View copies: its buffers come from the caching allocator, copies are driver memcpys.

A physical GPU's place code is its ordinal. A logical GPU mapped onto a physical one (`KERNELKIT_VIRTUAL_GPUS`)
is a place of its own (code 64 + k) with its own buffers on that GPU, so data movement between logical GPUs is
real (device-to-device copies). Copies are synchronous on the legacy default stream, which orders them after
work queued on blocking streams.
"""

from __future__ import annotations

from kernelkit.backends.base import Place
from kernelkit.backends.cuda import driver


class _on_device:
    """Make `device` current for the copies in a block, restoring the caller's device afterwards."""

    __slots__ = ("device", "previous")

    def __init__(self, device: int):
        self.device = device
        self.previous: driver.Device | None = None

    def __enter__(self) -> None:
        cur = driver.current_device()
        if cur.ordinal != self.device:
            self.previous = cur
            driver.Device(self.device).set_current()

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            self.previous.set_current()


class CudaPlace(Place):
    kind = "cuda"
    host_backed = False

    def __init__(self, device: int, code: int | None = None):
        self.device = device
        self.code = device if code is None else code
        self._generations: dict[int, int] = {}  # ptr -> driver generation it was allocated in

    @property
    def generation(self) -> int:  # type: ignore[override]
        return getattr(driver, "_generation", 0)

    def alloc(self, nbytes: int) -> int:
        with _on_device(self.device):  # the allocator makes its device current: keep the caller's
            ptr = driver.alloc(max(nbytes, 1), self.device)
        self._generations[ptr] = getattr(driver, "_generation", 0)
        return ptr

    def free(self, ptr: int) -> None:
        # after driver.use_library() a block belongs to a forgotten allocator: nothing to give back
        if self._generations.pop(ptr, None) == getattr(driver, "_generation", 0):
            driver.free(ptr)

    def upload(self, ptr: int, host_address: int, nbytes: int) -> None:
        with _on_device(self.device):
            driver.memcpy_htod(ptr, host_address, nbytes)

    def download(self, host_address: int, ptr: int, nbytes: int) -> None:
        with _on_device(self.device):
            driver.memcpy_dtoh(host_address, ptr, nbytes)

    def copy_from(self, ptr: int, src: Place, src_ptr: int, nbytes: int) -> str:
        if src.host_backed:
            self.upload(ptr, src_ptr, nbytes)
            return "staged"
        if src.device == self.device:
            with _on_device(self.device):
                driver.memcpy_dtod(ptr, src_ptr, nbytes)
            return "local"
        if driver.can_access_peer(self.device, src.device):
            driver.memcpy_peer(ptr, self.device, src_ptr, src.device, nbytes)
            return "peer"
        import numpy as np

        tmp = np.empty(nbytes, dtype=np.uint8)
        src.download(tmp.ctypes.data, src_ptr, nbytes)
        self.upload(ptr, tmp.ctypes.data, nbytes)
        return "staged"

    def memset(self, ptr: int, byte: int, nbytes: int) -> None:
        with _on_device(self.device):
            driver.memset_d8(ptr, byte, nbytes)

    def memset32(self, ptr: int, word: int, count: int) -> None:
        with _on_device(self.device):
            driver.memset_d32(ptr, word, count)

    def synchronize(self) -> None:
        driver.Device(self.device).synchronize()
