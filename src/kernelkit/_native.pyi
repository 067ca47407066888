"""Types of kernelkit._native (runtime/native/*.c)."""

from collections.abc import Callable
from typing import Any

HOST_STALE: int
DEVICE_STALE: int
HAS_DEVICE: int
DERIVED: int
MULTI: int
SHARED: int
TRAIT_ATOMIC: int
PLACE_HOST: int

class ViewBase:
    _array: Any
    _flags: int
    _traits: int
    _rootview: ViewBase | None
    def __getitem__(self, key: Any) -> Any: ...
    def __setitem__(self, key: Any, value: Any) -> None: ...
    @staticmethod
    def _register(cls: type, layout_of: Callable[[Any], Any]) -> None: ...
    @property
    def _dptr(self) -> int: ...
    @property
    def _dplace(self) -> int: ...
    def _set_device(
        self, ptr: int, place: int, shape: tuple[int, ...], strides: tuple[int, ...], dtcode: int
    ) -> None: ...

class Launch:
    def __init__(
        self,
        pattern: str,
        lo: int | tuple[int, ...],
        hi: int | tuple[int, ...],
        tile: tuple[int, ...] | None = ...,
        reducer: Any = ...,
        init: Any = ...,
        label: str | None = ...,
    ) -> None: ...
    pattern: str
    rank: int
    lo: int | tuple[int, ...]
    hi: int | tuple[int, ...]
    tile: tuple[int, ...] | None
    is_team: bool
    league_size: int
    team_size: int
    vector_length: int
    scratch_team: tuple[int, int]
    scratch_thread: tuple[int, int]
    scratch: tuple[int, int, int, int]
    reducer: Any
    init: Any
    label: str | None
    kind: Any

def team_launch(
    pattern: str,
    league: int,
    team_size: int,
    vector_length: int,
    scratch: tuple[int, int, int, int],
    reducer: Any = ...,
    init: Any = ...,
    label: str | None = ...,
) -> Launch: ...

class Spec:
    def __init__(self, entry: int, params: tuple, guards: tuple, result_tag: str, keepalive: Any) -> None: ...

class CudaSpec:
    def __init__(self, *args: Any) -> None: ...
    def set_team_resources(
        self, scratch1: int, scratch1_bytes: int, smem_bytes: int, team_size: int, vector_length: int
    ) -> None: ...

class clean:
    def __init__(self, fn: Callable[..., Any]) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

def launch(specs: list, rec: Launch, kwargs: dict[str, Any], place: int) -> Any: ...
def launch_cuda(specs: list, rec: Launch, kwargs: dict[str, Any], stream: int) -> Any: ...
def cuda_team_shape(rec: Launch) -> tuple[int, int]: ...
def last_cuda_kernel() -> str | None: ...
def cuda_wait(query_address: int, stream: int) -> int: ...
def cuda_queue_check() -> None: ...
def cuda_queue_drain() -> None: ...
def cuda_queue_disable() -> None: ...
def cuda_queue_hold(delta: int) -> None: ...
def cuda_queue_state() -> dict[str, int]: ...
def cuda_queue_reset() -> None: ...
def set_clean(cls: type, keep_frames: bool) -> None: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def set_error_classes(runtime_error: type, value_error: type) -> None: ...
