"""The mapping policy: which of a ready task's placement options it runs on.

An option fits when every device in it has the VCUs and memory the task asks for free now. Among the options
that fit, the score is the share of the task's declared data already valid on the option's devices
(tasks/data.py's `valid_bytes`; a task that declares none scores 0), minus the load of the devices (tasks
mapped there and not finished, per worker). Locality weighs twice the load: moving data costs more than
waiting a little. Ties go to the earlier option, so the order of `placement` is a preference.
"""

from __future__ import annotations

from typing import Any

from kernelkit.tasks import data as _data

LOCALITY_WEIGHT = 2.0


def fits(option: tuple) -> bool:
    for s in option:
        d = s.device
        if s.vcus and d.used_vcus + s.vcus > d.vcus:
            return False
        if s.memory and d.memory and d.used_memory + s.memory > d.memory:
            return False
    return True


def choose(options: list, dataflow: list | None, workers: int) -> Any:
    """The best option that fits now, or None when none does (the task waits for resources)."""
    if len(options) == 1:
        return options[0] if fits(options[0]) else None
    best = None
    best_score = 0.0
    total = sum(p.subarray_nbytes for p, _, _ in dataflow) if dataflow else 0
    for opt in options:
        if not fits(opt):
            continue
        load = sum(s.device.load for s in opt) / (max(1, workers) * len(opt))
        score = -load
        if total and dataflow:
            local = 0
            for p, slot, _ in dataflow:
                if slot < len(opt):
                    local += _data.valid_bytes(p, opt[slot].device)
            score += LOCALITY_WEIGHT * local / total
        if best is None or score > best_score:
            best, best_score = opt, score
    return best


def reserve(option: tuple) -> None:
    for s in option:
        d = s.device
        d.used_vcus += s.vcus
        d.used_memory += s.memory
        d.load += 1


def release(option: tuple) -> None:
    for s in option:
        d = s.device
        d.used_vcus -= s.vcus
        d.used_memory -= s.memory
        d.load -= 1
