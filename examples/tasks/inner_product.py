"""The inner product of the Parla slides ("Parla API example: PArrays"), verbatim inside a minimal program.

Each logical GPU computes the partial sum of one block (`IND[i]` on `gpu(i)`, reading its slices of `a` and
`b`: only those slices are copied to it), then a CPU task reduces the partial sums. Run it with logical GPUs:

    KERNELKIT_VIRTUAL_GPUS=4 python examples/tasks/inner_product.py
    KERNELKIT_VIRTUAL_GPUS=4 KERNELKIT_TRACE=inner.json python examples/tasks/inner_product.py   # + a trace
    python examples/tasks/inner_product.py --gpus 4 -n 1000000
"""

# ruff: noqa: B023, F841 - the slide as written: spawn copies loop variables; `result` is the slide's
from __future__ import annotations

import argparse
import sys

import numpy as np

from kernelkit.tasks import Parla, TaskSpace, cpu, get_device_manager, gpu, parray, spawn, stats


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=1 << 20, help="vector length")
    p.add_argument("--gpus", type=int, default=None, help="logical GPUs (default: KERNELKIT_VIRTUAL_GPUS)")
    p.add_argument(
        "--space",
        choices=["debug", "serial", "openmp", "cuda", "cudacheck"],
        default=None,
        help="the default execution space (this program launches no kernelkit kernel: accepted for uniformity)",
    )
    args = p.parse_args(argv)
    if args.space:
        import kernelkit as pk
        from kernelkit.api.spaces import space_from

        pk.set_default_space(space_from(args.space))
        print(f"inner_product.py: space {pk.get_default_space().name}")
    rng = np.random.default_rng(1)
    x, y = rng.random(args.n), rng.random(args.n)
    out = {}

    with Parla(virtual_gpus=args.gpus):

        @spawn(placement=cpu)
        async def main_task():
            num_gpu = len(get_device_manager().gpus) or 1
            block_size = -(-args.n // num_gpu)
            a, b = parray.asarray(x), parray.asarray(y)
            partial_sums = np.zeros(num_gpu)
            reduce = TaskSpace("Reduce")[0]  # the slide's `reduce` task and `result`
            result = reduce

            # --- the slide, verbatim ------------------------------------------------------------------------
            # fmt: off
            IND = TaskSpace("Independent Tasks")
            for i in range(num_gpu):
                s = slice(i * block_size, (i + 1) * block_size)
                @spawn(IND[i], placement=gpu(i), input=[a[s], b[s]])
                def inner_product():
                    partial_sums[i] = a[s] @ b[s]

            @spawn(reduce,
                    dependencies=IND,
                    placement=cpu)
            def reduce():
                result = np.sum(partial_sums)
            await result
            # fmt: on
            # --- end of the slide -----------------------------------------------------------------------------

            out["value"] = float(np.sum(partial_sums))
            out["gpus"] = num_gpu

    moved = stats()
    print(f"copies between places: {moved['copies']} ({moved['copy_bytes']} bytes): {sorted(moved['copies_per_pair'])}")
    expected = float(x @ y)
    err = abs(out["value"] - expected) / abs(expected)
    print(
        f"inner product of {args.n} elements on {out['gpus']} logical GPU(s): {out['value']:.12g} "
        f"(NumPy {expected:.12g}, relative error {err:.1e})"
    )
    ok = err < 1e-12
    print("PASS" if ok else "FAIL: the inner product differs from NumPy's")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
