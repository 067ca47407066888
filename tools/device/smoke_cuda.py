"""A quick end-to-end check of the CUDA path: every pattern, teams, subviews, coherence, interop, streams.

Run on the GPU machine before the test matrix; prints one line per check and exits 1 on the first failure."""

import sys

import numpy as np

import kernelkit as pk
from kernelkit.runtime import coherence


@pk.workunit
def axpy(i, a, x, y):
    y[i] += a * x[i]


@pk.workunit
def dot(i, acc, x, y):
    acc += x[i] * y[i]


@pk.workunit
def scan(i, acc, final, x, out):
    acc += x[i]
    if final:
        out[i] = acc


@pk.workunit
def md(i, j, a):
    a[i, j] = i * 10 + j


@pk.workunit
def team_sum(team, acc, a):
    r = team.league_rank()

    def inner(j, s):
        s += a[r, j]

    t = pk.parallel_reduce(pk.TeamThreadRange(team, a.extent(1)), inner)
    if team.team_rank() == 0:
        acc += t


def check(name, ok):
    print(f"{'ok  ' if ok else 'FAIL'} {name}", flush=True)
    if not ok:
        sys.exit(1)


n = 1 << 20
x = pk.View([n], pk.double, space=pk.CudaSpace)
y = pk.View([n], pk.double, space=pk.CudaSpace)
x.fill(1.0)
pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, n), axpy, a=2.0, x=x, y=y)
check("axpy on CudaSpace Views", float(y[n - 1]) == 2.0)
coherence.reset_stats()
for _ in range(10):
    pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, n), axpy, a=1.0, x=x, y=y)
check("a loop of launches moves no data", coherence.stats()["h2d"] == 0 and coherence.stats()["d2h"] == 0)
s = pk.parallel_reduce(pk.RangePolicy(pk.Cuda, 0, n), dot, x=x, y=y)
check(f"dot = {s}", s == 12.0 * n)
out = pk.View([1000], pk.int64, space=pk.CudaSpace)
xs = pk.View([1000], pk.int64)
xs.fill(1)
total = pk.parallel_scan(pk.RangePolicy(pk.Cuda, 0, 1000), scan, x=xs, out=out)
check("scan", total == 1000 and int(out[999]) == 1000 and int(out[0]) == 1)
a = pk.View([37, 45], pk.int64, space=pk.CudaSpace)
pk.parallel_for(pk.MDRangePolicy(pk.Cuda, [0, 0], [37, 45]), md, a=a)
check("MDRange", int(a[36, 44]) == 404)
t = pk.parallel_reduce(pk.TeamPolicy(pk.Cuda, 37, pk.AUTO), team_sum, a=a)
check("team reduce", t == int(np.asarray(a).sum()))
h = np.ones(n)
pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, n), axpy, a=3.0, x=h, y=y)
check("NumPy argument (temporary device copy)", float(y[5]) == 15.0)
sub = y[10:20]
pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 10), axpy, a=1.0, x=x, y=sub)
check("subview argument", float(y[10]) == 16.0 and float(y[9]) == 15.0)
try:
    import cupy as cp

    c = cp.ones(n)
    pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, n), axpy, a=2.0, x=c, y=c)
    cp.cuda.runtime.deviceSynchronize()
    check("CuPy array in place", float(c[7]) == 3.0)
    v = pk.asarray(c)
    check("pk.asarray(cupy) zero copy", float(v[3]) == 3.0)
    back = cp.asarray(y)
    check("cupy.asarray(View)", float(back[10]) == 16.0)
except ImportError:
    print("skip CuPy")
inst = pk.ExecutionSpaceInstance(pk.Cuda)
pk.parallel_for(pk.RangePolicy(inst, 0, n), axpy, a=1.0, x=x, y=y)
inst.fence()
check("execution space instance", float(y[0]) == 16.0)
w = pk.View([8], pk.double, space=pk.HostSpace)
w.fill(1.0)
pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 8), axpy, a=1.0, x=w, y=w)
check("HostSpace View on the GPU, read back", float(w[3]) == 2.0)
with pk.profile() as prof:
    pk.parallel_for("labelled", pk.RangePolicy(pk.Cuda, 0, n), axpy, a=1.0, x=x, y=y)
check("kernel timer sees labels", "labelled" in prof.summary())
print("smoke: all passed")
