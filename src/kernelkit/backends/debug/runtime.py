"""The helpers generated Debug code calls: the kernel language's semantics, written once in Python."""

from __future__ import annotations

import math
import struct
import sys

import numpy as np

from kernelkit.ir import types
from kernelkit.lang import random as rng
from kernelkit.lang import reducers

_INF = math.inf
_NAN = math.nan


class OutOfBounds(IndexError):
    pass


def _ix(i: int) -> int:
    # NumPy would wrap a negative index to the end; the kernel language treats it as out of bounds.
    if i < 0:
        raise OutOfBounds(f"negative index {i}")
    return i


def _wrap(v: int, bits: int, signed: bool) -> int:
    v &= (1 << bits) - 1
    if signed and v >> (bits - 1):
        v -= 1 << bits
    return v


def _toint(v: float, bits: int, signed: bool) -> int:
    if v != v or v in (math.inf, -math.inf):
        return 0  # undefined in C; defined here as 0 so Debug never raises where a compiled kernel runs
    return _wrap(int(v), bits, signed)


_f32 = struct.Struct("f")


def _fop(v: float) -> float:
    """Round to float32."""
    try:
        return _f32.unpack(_f32.pack(v))[0]
    except OverflowError:
        return math.copysign(math.inf, v)


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _floordiv(a: int, b: int) -> int:
    return a // b if b else 0


def _mod(a: int, b: int) -> int:
    return a % b if b else 0


def _ffloordiv(a: float, b: float) -> float:
    if not b:
        return _div(a, b)
    try:
        return a // b  # Python's float floor division (not floor(a / b): 1.0 // 0.1 == 9.0)
    except (ValueError, OverflowError):
        return math.nan


def _fmod(a: float, b: float) -> float:
    if b == 0 or a != a or b != b or a in (math.inf, -math.inf):
        return math.nan
    return a % b


def _ipow(a: int, b: int) -> int:
    if b < 0:
        return 1 if a == 1 else ((-1 if b & 1 else 1) if a == -1 else 0)
    return a**b


def _fpow(a: float, b: float) -> float:
    try:
        r = a**b
    except ZeroDivisionError:
        return math.inf
    except OverflowError:
        return math.inf
    return math.nan if isinstance(r, complex) else r


def _min(a, b):
    return b if b < a else a


def _max(a, b):
    return b if b > a else a


def _range(a: int, b: int, s: int):
    return range(a, b, s) if s else ()


def _atomic(op: str, view, idx, *args):
    old = view[idx]
    old = old.item() if hasattr(old, "item") else old
    if op == "cas":
        if old == args[0]:
            view[idx] = args[1]
        return old
    v = args[0]
    if op == "add":
        new = old + v
    elif op == "sub":
        new = old - v
    elif op == "mul":
        new = old * v
    elif op == "div":
        new = _div(old, v) if isinstance(old, float) else _floordiv(old, v)
    elif op == "min":
        new = _min(old, v)
    elif op == "max":
        new = _max(old, v)
    elif op == "and":
        new = old & v
    elif op == "or":
        new = old | v
    elif op == "xor":
        new = old ^ v
    elif op == "mod":
        new = _mod(old, v)
    elif op == "lshift":
        bits = view.dtype.itemsize * 8
        new = old << v if 0 <= v < bits else 0
    elif op == "rshift":
        bits = view.dtype.itemsize * 8
        new = old >> v if 0 <= v < bits else (-1 if old < 0 else 0)
    elif op == "exchange":
        new = v
    else:
        raise ValueError(op)
    if view.dtype.kind in "iu":
        new = _wrap(int(new), view.dtype.itemsize * 8, view.dtype.kind == "i")
    view[idx] = new
    return old


def _printf(fmt: str, args: tuple) -> None:
    py = fmt
    for mod in ("ll", "l", "h", "z", "j"):
        for c in "diuxXc":
            py = py.replace(f"%{mod}{c}", f"%{c}")
    sys.stdout.write(py.replace("%u", "%d") % args)


def _reducer(name: str):
    return reducers.by_name(name)


def _dtype(name: str):
    return types.from_name(name)


class TeamShared:
    """What the threads of one emulated team share: reduction slots and scratch memory."""

    def __init__(self, size: int, scratch_team: list[int], scratch_thread: list[int]):
        self.slots = [None] * size
        self.team_mem = [bytearray(n) for n in scratch_team]
        self.thread_mem = [[bytearray(n) for n in scratch_thread] for _ in range(size)]


class TeamHandle:
    """pk.TeamMember in the Debug space: one per emulated team thread."""

    def __init__(self, league_rank: int, league_size: int, rank: int, size: int, vlen: int, shared: TeamShared):
        self._lr, self._ls, self._r, self._s, self._v = league_rank, league_size, rank, size, vlen
        self._sh = shared
        self._off = [0, 0]
        self._toff = [0, 0]

    def league_rank(self) -> int:
        return self._lr

    def league_size(self) -> int:
        return self._ls

    def team_rank(self) -> int:
        return self._r

    def team_size(self) -> int:
        return self._s

    def single(self, per: str) -> bool:
        return per == "thread" or self._r == 0

    def points(self, level: str, bounds: tuple, chunked: bool):
        """This thread's share of a nested range: team levels take contiguous chunks in rank order."""
        import itertools

        ranges = [range(b, e) for b, e in bounds]
        flat = list(itertools.product(*ranges)) if len(ranges) > 1 else [(i,) for i in ranges[0]]
        if level == "vector" or self._s == 1:
            return flat
        q, r = divmod(len(flat), self._s)
        lo = self._r * q + min(self._r, r)
        return flat[lo : lo + q + (1 if self._r < r else 0)]

    def put(self, value) -> None:
        self._sh.slots[self._r] = value

    def join(self, reducer):
        acc = None
        for v in self._sh.slots:
            acc = v if acc is None else reducer.join(acc, v)
        return acc

    def prefix(self):
        pre = tot = 0
        for s, v in enumerate(self._sh.slots):
            if s == self._r:
                pre = tot
            tot = tot + v
        return pre, tot

    def scratch(self, level: int, per_thread: bool, dtype: str, extents: tuple):
        dt = np.dtype(dtype if dtype != "bool" else np.bool_)
        n = 1
        for e in extents:
            n *= max(int(e), 0)
        nbytes = (n * dt.itemsize + 7) // 8 * 8
        if level not in (0, 1):
            raise ValueError(f"scratch level must be 0 or 1, got {level}")
        mem = self._sh.thread_mem[self._r][level] if per_thread else self._sh.team_mem[level]
        offs = self._toff if per_thread else self._off
        if offs[level] + nbytes > len(mem):
            raise MemoryError(
                f"scratch memory exhausted at level {level}: the kernel needs {offs[level] + nbytes} "
                f"bytes but set_scratch_size gave {len(mem)}"
            )
        view = np.frombuffer(mem, dtype=dt, count=n, offset=offs[level]).reshape(tuple(int(e) for e in extents))
        offs[level] += nbytes
        return view


class _SafeMath:
    """math.* with C semantics where Python would raise: domain errors give nan, overflow gives inf."""

    def __getattr__(self, name: str):
        if name in ("fmin", "fmax"):
            fn = getattr(np, name)
            return lambda a, b: float(fn(a, b))
        if name == "rsqrt":
            return lambda x: _div(1.0, self.sqrt(x))
        if name == "cbrt":
            return lambda x: float(np.cbrt(x))
        if name == "exp2":
            return lambda x: _fpow(2.0, x)
        if name in ("isnan", "isinf", "isfinite"):
            return getattr(math, name)
        if name == "tgamma":
            base = math.gamma
        else:
            base = getattr(math, name)
        npfn = {"tgamma": None, "lgamma": None, "erf": None, "erfc": None}.get(name, getattr(np, name, None))

        def safe(*args):
            try:
                return float(base(*args))
            except (ValueError, OverflowError, ZeroDivisionError):
                if npfn is not None:
                    with np.errstate(all="ignore"):
                        return float(npfn(*args))
                return math.nan

        setattr(self, name, safe)
        return safe


_m = _SafeMath()

NAMESPACE = {k: v for k, v in globals().items() if k.startswith("_") and not k.startswith("__")}


# --- random streams (the algorithm of kernelkit.lang.random, as include/kernelkit/random.h runs it) ----------


def _rand_get_state(pool) -> list:
    claim = int(pool[1])
    pool[1] = (claim + 1) & rng.M64
    return [rng.stream_state(int(pool[0]), claim)]


def _rand_next(st: list) -> int:
    st[0], out = rng.xorshift64_star(st[0])
    return out


def _rand_drand(st, a=None, b=None):
    u = (_rand_next(st) >> 11) * (1.0 / 9007199254740992.0)
    if a is None:
        return u
    if b is None:
        return u * a
    return a + u * (b - a)


def _rand_frand(st, a=None, b=None):
    u = _fop((_rand_next(st) >> 40) * (1.0 / 16777216.0))
    if a is None:
        return u
    if b is None:
        return _fop(u * a)
    return _fop(a + u * (b - a))


def _rand_urand(st):
    return _rand_next(st) >> 32


def _rand_urand64(st):
    return _rand_next(st)


def _rand_rand(st, a=None, b=None):
    r = _rand_next(st) >> 1
    if a is None:
        return r >> 32
    if b is None:
        return r % a if a > 0 else 0
    return a + (r % (b - a) if b > a else 0)


def _rand_normal(st, mean=0.0, std=1.0):
    u1 = 1.0 - _rand_drand(st)
    u2 = _rand_drand(st)
    return mean + std * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


class _Struct:
    """A classtype value in the Debug space (fields are attributes m_<name>)."""


def _scopy(v):
    c = _Struct()
    for k, x in v.__dict__.items():
        setattr(c, k, _scopy(x) if isinstance(x, _Struct) else x)
    return c


NAMESPACE = {k: v for k, v in globals().items() if k.startswith("_") and not k.startswith("__")}
