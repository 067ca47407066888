"""Parla's test helpers: `sleep_nogil(us)` and `sleep_gil(us)` wait `us` microseconds without / while holding
the GIL (a stand-in for a kernel and for Python work), and `timeout(seconds)`, a decorator that fails a call
that takes longer."""

from __future__ import annotations

import ctypes
import functools
import threading
import time
from typing import Any

_libc_gil = ctypes.PyDLL(None)  # calls through PyDLL keep the GIL


def sleep_nogil(microseconds: float) -> None:
    """Wait `microseconds` with the GIL released (other Python threads run meanwhile)."""
    if microseconds > 0:
        time.sleep(microseconds / 1e6)


def sleep_gil(microseconds: float) -> None:
    """Wait `microseconds` holding the GIL (no other Python thread runs meanwhile)."""
    if microseconds > 0:
        _libc_gil.usleep(ctypes.c_uint(int(microseconds)))


def timeout(seconds_before_timeout: float):
    """Run the decorated function in a thread; raise TimeoutError if it has not returned after the limit (the
    thread is left running: Python cannot stop it)."""

    def deco(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            out: list[Any] = []
            err: list[BaseException] = []

            def run() -> None:
                try:
                    out.append(fn(*args, **kwargs))
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                    err.append(e)

            t = threading.Thread(target=run, name=f"timeout-{fn.__name__}", daemon=True)
            t.start()
            t.join(seconds_before_timeout)
            if t.is_alive():
                raise TimeoutError(f"{fn.__name__}() did not finish within {seconds_before_timeout} s")
            if err:
                raise err[0]
            return out[0]

        return wrapper

    return deco
