"""Where the first cached CUDA launch of a process spends its time (run twice: the first run fills the cache)."""
import cProfile
import pstats
import time

t0 = time.perf_counter()
import kernelkit as pk  # noqa: E402
from kernelkit.backends.cuda import driver  # noqa: E402

t1 = time.perf_counter()
driver.Device(0).set_current()
t2 = time.perf_counter()


@pk.workunit
def k(i, x, y, a):
    y[i] = a * x[i] + 1.0


x = pk.View([1024], pk.double, space=pk.CudaSpace)
y = pk.View([1024], pk.double, space=pk.CudaSpace)
p = pk.RangePolicy(pk.Cuda, 0, 1024)
from kernelkit.runtime import memory  # noqa: E402

for v in (x, y):  # the Views' first device allocation is data movement, not the kernel's warm start
    memory.ensure_device(v, 0)
prof = cProfile.Profile()
t3 = time.perf_counter()
prof.enable()
pk.parallel_for(p, k, x=x, y=y, a=2.0)
pk.fence()
prof.disable()
t4 = time.perf_counter()
print(f"import {t1 - t0:.3f}s context {t2 - t1:.3f}s first launch {t4 - t3:.4f}s stats {k.stats()}")
pstats.Stats(prof).sort_stats("tottime").print_stats(14)
