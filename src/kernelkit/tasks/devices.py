"""Devices of the task runtime: the `cpu` and `gpu` architectures, devices and their resources, logical GPUs,
and the parsing of `spawn(placement=...)` into the options a task may be mapped to.

Numbering follows Parla: `get_global_id()` is 0 for cpu(0) and i + 1 for gpu(i). A GPU of the runtime is
logical: `KERNELKIT_VIRTUAL_GPUS=n` (or `Parla(virtual_gpus=n)`, or a device file) asks for n of them, mapped
round-robin onto the physical GPUs, or backed by the host where there are none. With no GPU and no such
request, `gpu` and `gpu(0)` name the CPU, as in Parla, so programs written for GPUs still run.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from kernelkit import config
from kernelkit.tasks.errors import PlacementError, TaskTypeError

VCU_BASELINE = 1000  # the compute capacity of one device; vcus=0.5 asks for half of it, as in Parla


class DeviceType(IntEnum):
    """Kinds of device (Parla's names). `CUDA` is every GPU, logical ones included."""

    INVALID = -2
    ANY = -1
    CPU = 0
    CUDA = 1


class DeviceResource:
    """What a task needs of one device: `num_vcus` of its VCU_BASELINE and `memory_sz` bytes (0: no limit)."""

    __slots__ = ("memory_sz", "num_vcus")

    def __init__(self, memory_sz: Any = 0, num_vcus: Any = 0):
        self.memory_sz = memory_sz
        self.num_vcus = num_vcus

    @property
    def memory(self) -> float:
        return self.memory_sz

    @property
    def vcus(self) -> float:
        return self.num_vcus

    def __repr__(self) -> str:
        return f"DeviceResource(memory={self.memory_sz}, vcus={self.num_vcus})"


def _resources(param: Any, what: str) -> DeviceResource:
    if not isinstance(param, dict):
        raise TaskTypeError(f"{what}[...] takes a dict of resources, e.g. {what}[{{'vcus': 0.5, 'memory': 2**20}}]")
    unknown = set(param) - {"vcus", "memory"}
    if unknown:
        raise TaskTypeError(f"{what}[...]: unknown resource(s) {sorted(unknown)}; known: 'vcus', 'memory'")
    return _Resources(param.get("memory"), param.get("vcus"))


class _Resources(DeviceResource):
    """Per-option resources; a key that was not given stays None and falls back to spawn's vcus/memory."""

    __slots__ = ()


class MultiDevice(tuple):
    """`gpu * 2`: one task over several devices (a tuple that always means "all of these at once")."""

    __slots__ = ()


class Architecture:
    """`cpu` or `gpu`: in a placement, any device of the kind; `gpu(i)` is one device, `gpu * n` n of them."""

    def __init__(self, name: str, kind: DeviceType):
        self.name = name
        self.id = kind

    def __call__(self, index: int = 0) -> Device:
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise TaskTypeError(f"{self.name}(i) takes a device index >= 0, got {index!r}")
        manager = _active[0]
        if manager is not None:
            return manager.device(self, index)
        return Device(self, index, resolved=False)

    def __getitem__(self, param: dict) -> tuple[Architecture, DeviceResource]:
        return (self, _resources(param, self.name))

    def __mul__(self, n: int) -> MultiDevice:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TaskTypeError(f"{self.name} * n needs a count n >= 1, got {n!r}")
        return MultiDevice((self,) * n)

    __rmul__ = __mul__

    @property
    def devices(self) -> list[Device]:
        """The devices of this kind in the running runtime (none outside `with Parla():`)."""
        manager = _active[0]
        return list(manager.devices_of(self)) if manager is not None else []

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Architecture):
            return self.id == other.id
        if isinstance(other, int) and not isinstance(other, bool):
            return int(self.id) == other  # DeviceType.CUDA == gpu, as Parla programs compare them
        return NotImplemented

    def __hash__(self) -> int:
        return int(self.id)

    def __repr__(self) -> str:
        return self.name


cpu = Architecture("cpu", DeviceType.CPU)
gpu = Architecture("gpu", DeviceType.CUDA)
cuda = gpu  # Parla's other name


class Device:
    """One device: cpu(0) or a logical GPU. `device()` returns itself (Parla's environments are called to get
    their device); `architecture` is `cpu` or `gpu`, which compare equal to DeviceType.CPU / DeviceType.CUDA."""

    __slots__ = (
        "arch",
        "index",
        "physical",
        "memory",
        "vcus",
        "resolved",
        "label",
        "_space",
        "_env",
        "used_vcus",
        "used_memory",
        "load",
    )

    def __init__(
        self,
        arch: Architecture,
        index: int,
        *,
        physical: int | None = None,
        memory: int = 0,
        vcus: int = VCU_BASELINE,
        resolved: bool = True,
    ):
        self.arch = arch
        self.index = index
        self.physical = physical  # the CUDA ordinal behind a logical GPU; None: backed by the host
        self.memory = memory  # bytes a task may reserve here (0: no limit)
        self.vcus = vcus
        self.resolved = resolved  # False: a reference made outside a runtime, resolved when a task is spawned
        self.label = f"{arch.name}({index})"
        self._space: Any = None
        self._env: Any = None  # the DeviceEnvironment of a host device (it has no per-task state)
        # the scheduler's accounting (under its lock): VCUs and bytes reserved, tasks mapped here and not done
        self.used_vcus = 0
        self.used_memory = 0
        self.load = 0

    # Parla's names
    @property
    def architecture(self) -> Architecture:
        return self.arch

    @property
    def device_id(self) -> int:
        return self.index

    @property
    def id(self) -> int:
        return self.index

    def get_global_id(self) -> int:
        return 0 if self.arch.id == DeviceType.CPU else self.index + 1

    global_id = property(get_global_id)

    def get_name(self) -> str:
        return repr(self)

    def get_type(self) -> DeviceType:
        return self.arch.id

    def __call__(self) -> Device:
        return self

    def __getitem__(self, param: dict) -> tuple[Device, DeviceResource]:
        return (self, _resources(param, repr(self)))

    @property
    def is_gpu(self) -> bool:
        return self.arch.id == DeviceType.CUDA

    @property
    def host_backed(self) -> bool:
        """True for the CPU and for logical GPUs without a physical GPU behind them."""
        return self.physical is None

    @property
    def device(self) -> Any:
        """The library's device object: a `cupy.cuda.Device` for a GPU when CuPy is installed, else self."""
        if self.physical is not None:
            from kernelkit.tasks import arrays

            cp = arrays.cupy_module()
            if cp is not None:
                return cp.cuda.Device(self.physical)
        return self

    @property
    def space(self) -> Any:
        """The kernelkit execution space for kernels of a task on this device (without its stream)."""
        s = self._space
        if s is None:
            from kernelkit.api import spaces

            s = spaces.Cuda(self.physical) if self.physical is not None else spaces.OpenMP
            self._space = s
        return s

    def __repr__(self) -> str:
        return self.label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other.arch.id == self.arch.id and other.index == self.index

    def __hash__(self) -> int:
        return hash((int(self.arch.id), self.index))


def physical_cores() -> int:
    """Physical cores this process may run on (hyper-threads counted once); the default number of workers."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
    cores = set()
    for c in cpus:
        base = f"/sys/devices/system/cpu/cpu{c}/topology/"
        try:
            with open(base + "core_id") as f:
                core = f.read().strip()
            with open(base + "physical_package_id") as f:
                package = f.read().strip()
        except OSError:
            return len(cpus)
        cores.add((package, core))
    return max(1, len(cores))


def _host_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _physical_gpus() -> list[int]:
    """Total memory of each visible CUDA device (empty without a usable GPU)."""
    from kernelkit.backends.cuda import driver

    n = driver.device_count()
    return [driver.Device(i).total_memory for i in range(n)]


def _read_config(path: str) -> tuple[int | None, list[int] | None]:
    """(cpu memory, gpu memories) from a Parla device file (YAML: CPU: {num_cores, mem_sz}, GPU: {num_devices,
    mem_sz: [...]})."""
    try:
        import yaml
    except ImportError:
        raise PlacementError(f"reading the device file {path!r} needs PyYAML (pip install pyyaml)") from None
    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
    except OSError as e:
        raise PlacementError(f"cannot read the device file {path!r}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise PlacementError(f"the device file {path!r} is not valid YAML: {e}") from None
    cpu_mem = (doc.get("CPU") or {}).get("mem_sz")
    g = doc.get("GPU") or {}
    n = int(g.get("num_devices", 0) or 0)
    mems = g.get("mem_sz") or []
    if not isinstance(mems, list):
        mems = [mems] * n
    if n and len(mems) != n:
        raise PlacementError(f"the device file {path!r} lists {len(mems)} GPU memory sizes for {n} GPUs")
    return (int(cpu_mem) if cpu_mem else None), [int(m) for m in mems[:n]] if n else []


def _count(value: Any, what: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise PlacementError(f"{what} must be a number of logical GPUs (0, 1, 2, ...), got {value!r}")


class DeviceManager:
    """The devices of one runtime: cpu(0) and the logical GPUs, with their capacities."""

    def __init__(self, dev_config_file: str | None = None, virtual_gpus: int | None = None):
        cpu_mem, gpu_mems = _read_config(dev_config_file) if dev_config_file else (None, None)
        physical = _physical_gpus()
        if gpu_mems is None:
            if virtual_gpus is not None:
                n = _count(virtual_gpus, "virtual_gpus")
            elif config.get().virtual_gpus is not None:
                n = _count(config.get().virtual_gpus, "KERNELKIT_VIRTUAL_GPUS")
            else:
                n = len(physical)
            gpu_mems = []
            for i in range(n):
                if physical:  # logical GPUs share their physical GPU's memory
                    p = i % len(physical)
                    gpu_mems.append(physical[p] // len(range(p, n, len(physical))))
                else:
                    gpu_mems.append(0)
        self.cpu = Device(cpu, 0, memory=cpu_mem or 0)
        self.gpus = [
            Device(gpu, i, physical=(i % len(physical)) if physical else None, memory=m) for i, m in enumerate(gpu_mems)
        ]
        self.n_physical = len(physical)
        self.placements: dict[Any, list[Option]] = {}  # placement_options' cache

    def devices_of(self, arch: Architecture) -> list[Device]:
        if arch.id == DeviceType.CPU:
            return [self.cpu]
        return self.gpus if self.gpus else [self.cpu]  # no GPU at all: gpu names the CPU (Parla)

    def device(self, arch: Architecture, index: int) -> Device:
        """The runtime's device `arch(index)`, or an unresolved reference when there is no such device."""
        devs = self.devices_of(arch)
        if arch.id == DeviceType.CUDA and not self.gpus:
            return self.cpu if index == 0 else Device(arch, index, resolved=False)
        if index < len(devs):
            return devs[index]
        return Device(arch, index, resolved=False)

    def resolve(self, d: Device) -> Device | None:
        r = self.device(d.arch, d.index)
        return r if r.resolved else None

    def get_all_devices(self) -> list[Device]:
        return [self.cpu, *self.gpus]

    def get_all_architectures(self) -> list[Architecture]:
        return [cpu, gpu] if self.gpus else [cpu]

    def get_device_by_global_id(self, global_id: int) -> Device:
        return self.cpu if global_id == 0 else self.gpus[global_id - 1]

    def describe(self) -> str:
        if not self.gpus:
            return "cpu(0) (gpu names the CPU: no GPU here; set KERNELKIT_VIRTUAL_GPUS=n for logical GPUs)"
        last = len(self.gpus) - 1
        backing = f"on {self.n_physical} physical GPU(s)" if self.n_physical else "backed by the host"
        return f"cpu(0), gpu(0)..gpu({last}) ({len(self.gpus)} logical GPU(s) {backing})"


_active: list[DeviceManager | None] = [None]  # the running runtime's devices (set by the scheduler)


# --- placement ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One device of a mapping option and what the task reserves on it."""

    device: Device
    vcus: int
    memory: int


Option = tuple  # tuple[Slot, ...]: the devices a task runs on together


def normalize_vcus(v: Any, what: str = "vcus") -> int | None:
    """Parla's rule: a fraction <= 1 of a device, or an absolute number of VCUs above 1 (1000 is a device)."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise TaskTypeError(f"{what} must be a number >= 0 (a fraction of a device, or VCUs above 1), got {v!r}")
    return int(round(v * VCU_BASELINE)) if v <= 1 else int(v)


def _memory(m: Any, what: str = "memory") -> int | None:
    if m is None:
        return None
    if isinstance(m, bool) or not isinstance(m, (int, float)) or m < 0:
        raise TaskTypeError(f"{what} must be a number of bytes >= 0, got {m!r}")
    return int(m)


def _is_resource_pair(c: Any) -> bool:
    return type(c) is tuple and len(c) == 2 and isinstance(c[1], DeviceResource)


def _slot_candidates(spec: Any, manager: DeviceManager, vcus: int, memory: int) -> tuple[list[Device], int, int, bool]:
    """(devices, vcus, memory, wildcard) for one placement entry naming a single device or architecture."""
    if _is_resource_pair(spec):
        target, res = spec
        if isinstance(res, _Resources):
            v = (normalize_vcus(res.num_vcus, "vcus") or 0) if res.num_vcus is not None else vcus
            m = (_memory(res.memory_sz) or 0) if res.memory_sz is not None else memory
        else:
            v, m = normalize_vcus(res.num_vcus) or 0, _memory(res.memory_sz) or 0
    else:
        target, v, m = spec, vcus, memory
    if isinstance(target, Architecture):
        return list(manager.devices_of(target)), v, m, True
    if isinstance(target, Device):
        d = manager.resolve(target)
        return ([d] if d is not None else []), v, m, False
    raise TaskTypeError(
        f"placement entries are cpu, gpu, gpu(i), gpu * n, tuples of those (one task on several devices) or "
        f"entries with resources like gpu(0)[{{'vcus': 0.5}}]; got {spec!r}"
    )


def _cache_key(placement: Any, vcus: Any, memory: Any) -> Any:
    p = tuple(placement) if type(placement) is list else placement
    try:
        hash(p)
    except TypeError:
        return None
    return (type(placement) is list, p, vcus, memory)


def placement_options(
    placement: Any, vcus: Any = None, memory: Any = None, manager: DeviceManager | None = None
) -> list[Option]:
    """Every option (a tuple of Slots) a task with this placement may be mapped to, in the order given.

    Entries naming devices that do not exist here are dropped (Parla ignores them too); an error is raised
    when nothing is left, or when no option fits a device's capacity. Results are cached per runtime."""
    if manager is None:
        manager = _active[0]
        assert manager is not None
    if vcus is None and memory is None and type(placement) is Architecture:  # the hot path: placement=cpu
        hit = manager.placements.get(placement)
        if hit is None:
            hit = manager.placements[placement] = _placement_options(placement, None, None, manager)
        return hit
    key = _cache_key(placement, vcus, memory)
    if key is not None:
        hit = manager.placements.get(key)
        if hit is not None:
            return hit
    options = _placement_options(placement, vcus, memory, manager)
    if key is not None and len(manager.placements) < 4096:
        manager.placements[key] = options
    return options


def _placement_options(placement: Any, vcus: Any, memory: Any, manager: DeviceManager) -> list[Option]:
    v = normalize_vcus(vcus) or 0
    m = _memory(memory) or 0
    if placement is None:
        comps: list[Any] = list(manager.get_all_architectures())
    elif isinstance(placement, MultiDevice) or _is_resource_pair(placement):
        comps = [placement]
    elif isinstance(placement, (list, tuple)):
        comps = list(placement)
        if not comps:
            raise PlacementError("placement=[] names no device; leave it out to allow every device")
    else:
        comps = [placement]
    options: list[Option] = []
    seen: set = set()
    for c in comps:
        if isinstance(c, MultiDevice) or (isinstance(c, (tuple, list)) and not _is_resource_pair(c)):
            if not c:
                raise PlacementError("an empty tuple in a placement names no device")
            slots = [_slot_candidates(x, manager, v, m) for x in c]
            for combo in itertools.product(*(s[0] for s in slots)):
                if len(set(combo)) != len(combo):
                    continue  # one task never takes the same device twice
                if any(
                    slots[i][3] and slots[i][1:] == slots[j][1:] and slots[j][3] and combo[i].index > combo[j].index
                    for i in range(len(combo))
                    for j in range(i + 1, len(combo))
                    if combo[i].arch == combo[j].arch
                ):
                    continue  # (gpu, gpu): {gpu(0), gpu(1)} once, not also as (gpu(1), gpu(0))
                opt = tuple(Slot(d, s[1], s[2]) for d, s in zip(combo, slots, strict=True))
                if opt not in seen:
                    seen.add(opt)
                    options.append(opt)
        else:
            devs, sv, sm, _ = _slot_candidates(c, manager, v, m)
            for d in devs:
                opt = (Slot(d, sv, sm),)
                if opt not in seen:
                    seen.add(opt)
                    options.append(opt)
    if not options:
        raise PlacementError(
            f"placement {placement!r} names no device that exists here; this runtime has {manager.describe()}"
        )
    fitting = [
        o
        for o in options
        if all(s.vcus <= s.device.vcus and (not s.device.memory or s.memory <= s.device.memory) for s in o)
    ]
    if not fitting:
        s = next(s for s in options[0] if s.vcus > s.device.vcus or (s.device.memory and s.memory > s.device.memory))
        raise PlacementError(
            f"placement {placement!r}: no option fits its device; e.g. {s.device} has {s.device.vcus} VCUs and "
            f"{s.device.memory or 'unlimited'} bytes, the task asks for {s.vcus} VCUs and {s.memory} bytes"
        )
    return fitting
