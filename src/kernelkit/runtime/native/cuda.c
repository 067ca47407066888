/* CudaSpec and the CUDA launcher.
 *
 * Driver API entry points are called through pointers the Python side looked up in libcuda (no CUDA headers or
 * link-time dependency). launch_cuda(specs, rec, kwargs, stream) matches like the host launcher, with the
 * arguments' described copies at the spec's place, and calls cuLaunchKernel; reductions and scans wait for their
 * stream and read the result from mapped pinned memory. */
#include "native.h"

#include <time.h>

typedef int (*cu_launch_fn)(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned smem, void* stream, void** params, void** extra);
typedef int (*cu_sync_fn)(void* stream);
typedef int (*cu_errname_fn)(int code, const char** name);
typedef int (*cu_ctxget_fn)(void** ctx);
typedef int (*cu_ctxset_fn)(void* ctx);

enum { CK_FOR = 0, CK_REDUCE = 1, CK_SCAN = 2, CK_TEAM_FOR = 3, CK_TEAM_REDUCE = 4 };

typedef struct {
    PyObject_HEAD
    void* fn[3];
    int nfn;
    int pattern; /* CK_* */
    unsigned block;
    unsigned scan2_block;
    long long max_grid; /* reductions and scans: blocks that fill the device */
    cu_launch_fn launch;
    cu_sync_fn sync;
    cu_sync_fn query; /* cuStreamQuery: the interruptible wait (kk_cuda_wait); NULL: cuStreamSynchronize */
    cu_errname_fn errname;
    cu_ctxget_fn ctxget;
    cu_ctxset_fn ctxset;
    void* ctx;
    kk_result_t* result; /* pinned, device-mapped */
    void* scratch;
    unsigned int* counter;
    int* err_flag;
    char* scratch1;         /* TeamPolicy level-1 scratch */
    long long scratch1_cap; /* its bytes */
    long long smem_cap;     /* dynamic shared memory the function may use */
    long long team_ts, team_vl; /* the team shape the function was compiled for (0: any) */
    int place;              /* the place code its arguments' copies must have */
    Py_ssize_t nparams;
    kk_param_t* params;
    PyObject* guards;
    char result_tag;
    PyObject* label;
    PyObject* check;     /* None, or a callable run after each launch (bounds-checked builds) */
    PyObject* keepalive;
    int launched_ok; /* a launch made on the calling thread succeeded: later ones may be queued (cudaq.c) */
} KKCudaSpec;

static void cudaspec_dealloc(KKCudaSpec* self) {
    kk_free_params(self->params, self->nparams);
    Py_XDECREF(self->guards);
    Py_XDECREF(self->label);
    Py_XDECREF(self->check);
    Py_XDECREF(self->keepalive);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

/* ------------------------------------------------------------------------------------------------ waiting */

#define CU_NOT_READY 600 /* CUDA_ERROR_NOT_READY */
#define KK_WAIT_POLL_MS 100

static long long ms_since(const struct timespec* t0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000LL + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Wait for `stream` with the GIL released, interruptibly: poll cuStreamQuery (spinning at first, as
 * cuStreamSynchronize would, then sleeping in steps of up to 100 us), and every KK_WAIT_POLL_MS take the GIL
 * back and run Python's pending signal handlers, so Ctrl-C ends the wait with KeyboardInterrupt (the kernel
 * itself runs on until it finishes: a GPU kernel cannot be stopped from the host). Called with the GIL held;
 * returns the CUDA status, or -1 with the Python exception set. */
int kk_cuda_wait(cu_sync_fn query, void* stream) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    PyThreadState* ts = PyEval_SaveThread();
    long long polls = 0;
    long sleep_ns = 1000;
    int rc;
    while ((rc = query(stream)) == CU_NOT_READY) {
        if (++polls > 2000) { /* not a short kernel: stop spinning */
            struct timespec d = {0, sleep_ns};
            nanosleep(&d, NULL);
            if (sleep_ns < 100000) sleep_ns *= 2;
        }
        if ((polls & 63) == 0 && ms_since(&t0) >= KK_WAIT_POLL_MS) {
            PyEval_RestoreThread(ts);
            if (PyErr_CheckSignals() < 0) return -1;
            ts = PyEval_SaveThread();
            clock_gettime(CLOCK_MONOTONIC, &t0);
        }
    }
    PyEval_RestoreThread(ts);
    return rc;
}

/* cuda_wait(query_address, stream) -> CUDA status: kk_cuda_wait for Python callers (Stream.synchronize; tests
 * drive it with a stand-in query that never finishes, to check that Ctrl-C ends the wait). */
static PyObject* kk_cuda_wait_py(PyObject* self, PyObject* args) {
    unsigned long long q, stream;
    if (!PyArg_ParseTuple(args, "KK", &q, &stream)) return NULL;
    const int rc = kk_cuda_wait((cu_sync_fn)(uintptr_t)q, (void*)(uintptr_t)stream);
    if (rc < 0) return NULL;
    return PyLong_FromLong(rc);
}

/* CudaSpec(functions, pattern, block, scan2_block, max_grid, entry_points, ctx, result, scratch, counter,
 *          err_flag, place, params, guards, result_tag, label, check, keepalive)
 * entry_points: (cuLaunchKernel, cuStreamSynchronize, cuGetErrorName, cuCtxGetCurrent, cuCtxSetCurrent);
 * pattern: for, reduce, scan, team_for, team_reduce */
static int cudaspec_init(KKCudaSpec* self, PyObject* args, PyObject* kw) {
    PyObject *fns, *eps, *params, *guards, *label, *check, *keepalive;
    const char *pattern, *tag;
    unsigned long long ctx, result, scratch, counter, errflag;
    if (!PyArg_ParseTuple(args, "O!sIILO!KKKKKiO!O!sUOO", &PyTuple_Type, &fns, &pattern, &self->block,
                          &self->scan2_block, &self->max_grid, &PyTuple_Type, &eps, &ctx, &result, &scratch, &counter,
                          &errflag, &self->place, &PyTuple_Type, &params, &PyTuple_Type, &guards, &tag, &label, &check,
                          &keepalive))
        return -1;
    self->nfn = (int)PyTuple_GET_SIZE(fns);
    if (self->nfn < 1 || self->nfn > 3 || PyTuple_GET_SIZE(eps) < 5 || PyTuple_GET_SIZE(eps) > 6) {
        PyErr_SetString(PyExc_ValueError, "CudaSpec: 1-3 functions and 5 or 6 entry points");
        return -1;
    }
    self->query = PyTuple_GET_SIZE(eps) > 5 ? (cu_sync_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 5)) : NULL;
    for (int k = 0; k < self->nfn; ++k) self->fn[k] = PyLong_AsVoidPtr(PyTuple_GET_ITEM(fns, k));
    self->launch = (cu_launch_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 0));
    self->sync = (cu_sync_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 1));
    self->errname = (cu_errname_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 2));
    self->ctxget = (cu_ctxget_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 3));
    self->ctxset = (cu_ctxset_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 4));
    if (PyErr_Occurred()) return -1;
    if (strcmp(pattern, "for") == 0) self->pattern = CK_FOR;
    else if (strcmp(pattern, "reduce") == 0) self->pattern = CK_REDUCE;
    else if (strcmp(pattern, "scan") == 0) self->pattern = CK_SCAN;
    else if (strcmp(pattern, "team_for") == 0) self->pattern = CK_TEAM_FOR;
    else if (strcmp(pattern, "team_reduce") == 0) self->pattern = CK_TEAM_REDUCE;
    else {
        PyErr_Format(PyExc_ValueError, "CudaSpec: unknown pattern %s", pattern);
        return -1;
    }
    self->ctx = (void*)(uintptr_t)ctx;
    self->result = (kk_result_t*)(uintptr_t)result;
    self->scratch = (void*)(uintptr_t)scratch;
    self->counter = (unsigned int*)(uintptr_t)counter;
    self->err_flag = (int*)(uintptr_t)errflag;
    if (kk_parse_params(params, &self->nparams, &self->params) < 0) return -1;
    self->guards = Py_NewRef(guards);
    self->result_tag = tag[0];
    self->label = Py_NewRef(label);
    self->check = check == Py_None ? NULL : Py_NewRef(check);
    self->keepalive = Py_NewRef(keepalive);
    return 0;
}

/* set_team_resources(scratch1, scratch1_bytes, smem_bytes, team_size, vector_length): the last two are the
 * block shape the function was compiled for (0, 0: any) */
static PyObject* cudaspec_set_team(KKCudaSpec* self, PyObject* args) {
    unsigned long long p;
    if (!PyArg_ParseTuple(args, "KLLLL", &p, &self->scratch1_cap, &self->smem_cap, &self->team_ts, &self->team_vl))
        return NULL;
    self->scratch1 = (char*)(uintptr_t)p;
    Py_RETURN_NONE;
}

static PyMethodDef cudaspec_methods[] = {
    {"set_team_resources", (PyCFunction)cudaspec_set_team, METH_VARARGS, "level-1 scratch and shared memory caps"},
    {NULL},
};

static PyTypeObject KKCudaSpec_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kernelkit._native.CudaSpec",
    .tp_basicsize = sizeof(KKCudaSpec),
    .tp_dealloc = (destructor)cudaspec_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A compiled CUDA specialization: functions, launch configuration, argument signature.",
    .tp_methods = cudaspec_methods,
    .tp_init = (initproc)cudaspec_init,
    .tp_new = PyType_GenericNew,
};

/* The team shape a CUDA block gets: vector lanes are a warp's lanes (a longer vector_length, fine on the host,
 * runs as 32 lanes: results do not depend on it); AUTO makes blocks of 256 threads. */
static void team_shape(const KKLaunch* R, long long* ts, long long* vl) {
    *vl = R->vector_length < 32 ? R->vector_length : 32;
    *ts = R->team_size ? R->team_size : (256 / *vl > 0 ? 256 / *vl : 1);
}

static PyObject* kk_cuda_team_shape(PyObject* self, PyObject* rec) {
    if (Py_TYPE(rec) != &KKLaunch_Type) {
        PyErr_SetString(PyExc_TypeError, "cuda_team_shape(rec: Launch)");
        return NULL;
    }
    long long ts, vl;
    team_shape((const KKLaunch*)rec, &ts, &vl);
    return Py_BuildValue("(LL)", ts, vl);
}

static PyObject* g_last_cuda_label = NULL; /* the label of the last CUDA kernel launched: named by fence errors */

static PyObject* cuda_error(KKCudaSpec* spec, int code, const char* what) {
    const char* name = "unknown";
    if (spec->errname) spec->errname(code, &name);
    PyErr_Format(kk_runtime_error ? kk_runtime_error : PyExc_RuntimeError,
                 "CUDA error in kernel %R: %s failed with %s (%d)", spec->label, what, name ? name : "?", code);
    return NULL;
}

/* One launch of `fn`, a function of `spec`, with the parameter block `buf` (`size` bytes): queued by cudaq.c
 * when `may_queue` (a parallel_for), the spec has launched directly before and a burst is on; else made here,
 * after the queue drained. Returns 0 or the CUresult. */
static int submit(KKCudaSpec* spec, void* fn, const unsigned dims[7], void* stream, const void* buf, size_t size,
                  int may_queue) {
    kkq_call_t c = {spec->launch, spec->ctxget, spec->ctxset, spec->ctx, fn, {0}, stream};
    memcpy(c.dims, dims, sizeof c.dims);
    const int rc = kkq_launch(&c, buf, size, (PyObject*)spec, may_queue && spec->launched_ok);
    if (rc == 0) spec->launched_ok = 1;
    return rc;
}

/* Raise the failure of a queued launch (kkq_take_failure), naming its kernel; NULL, or Py_None when none. */
static PyObject* raise_queued_failure(void) {
    PyObject* owner = NULL;
    unsigned long long dropped = 0;
    const int rc = kkq_take_failure(&owner, &dropped);
    if (!rc) Py_RETURN_NONE;
    KKCudaSpec* spec = (KKCudaSpec*)owner;
    const char* name = "unknown";
    if (spec->errname) spec->errname(rc, &name);
    PyObject* cls = kk_runtime_error ? kk_runtime_error : PyExc_RuntimeError;
    if (rc == 700 || (rc >= 714 && rc <= 719)) /* a fault of an earlier kernel: the context is unusable */
        PyErr_Format(cls,
                     "CUDA error: a kernel launched before %R faulted, and the queued launch of %R failed with %s "
                     "(%d); the %llu launches queued after it did not run, and the CUDA context is unusable "
                     "(KERNELKIT_BOUNDS_CHECK=1 pinpoints out-of-bounds indices)",
                     spec->label, spec->label, name ? name : "?", rc, dropped);
    else
        PyErr_Format(cls,
                     "CUDA error in kernel %R: cuLaunchKernel (queued) failed with %s (%d); the %llu launches "
                     "queued after it did not run",
                     spec->label, name ? name : "?", rc, dropped);
    Py_DECREF(owner);
    return NULL;
}

/* The bytes [*lo, *hi) an array argument's description spans (empty: *lo == *hi). */
static void arg_span(const kk_param_t* q, const kk_arg_t* a, uintptr_t* lo, uintptr_t* hi) {
    const long long isz = q->dtcode & 0xff;
    long long low = 0, high = 0;
    for (int d = 0; d < q->ndim; ++d) {
        if (a->a.ext[d] <= 0) {
            *lo = *hi = 0;
            return;
        }
        const long long reach = (a->a.ext[d] - 1) * a->a.str[d] * isz;
        if (reach < 0) low += reach;
        else high += reach;
    }
    *lo = (uintptr_t)a->a.data + low;
    *hi = (uintptr_t)a->a.data + high + isz;
}

/* Whether an array the kernel writes shares memory with one it only reads: the read-only-path build (fn[0])
 * would then read stale data, so the plain build (fn[1]) runs. A handful of comparisons per launch. */
static int written_overlaps_read(const KKCudaSpec* spec, const kk_arg_t* packed) {
    for (Py_ssize_t w = 0; w < spec->nparams; ++w) {
        const kk_param_t* qw = &spec->params[w];
        if (qw->kind != P_ARRAY || !qw->writes) continue;
        uintptr_t wlo, whi;
        arg_span(qw, &packed[w], &wlo, &whi);
        if (wlo == whi) continue;
        for (Py_ssize_t r = 0; r < spec->nparams; ++r) {
            const kk_param_t* qr = &spec->params[r];
            if (qr->kind != P_ARRAY || qr->writes) continue;
            uintptr_t rlo, rhi;
            arg_span(qr, &packed[r], &rlo, &rhi);
            if (rlo != rhi && rlo < whi && wlo < rhi) return 1;
        }
    }
    return 0;
}

/* An MDRange parallel_for as launches whose grids cover their ranges: the kernel (md_for in cuda.h) computes its
 * one point per thread with no grid-stride loop, which keeps its registers to the body's own (a loop in the same
 * kernel raised a radius-2 stencil from 28 to 40 registers, 75% occupancy). A range past the grid limits (2^31 - 1
 * blocks along x, 65535 along y and z) is cut into sub-boxes, each a launch of its own over D->lo/hi: chunk
 * sizes c[k] per dimension, the outer dimensions sharing z's 65535 (inner ones first). Returns 0 or the
 * driver's error. */
static int md_for_launches(KKCudaSpec* spec, const KKLaunch* R, kk_dlaunch_t* D, void* fn, long long bx, long long by,
                           void* stream, size_t size, int may_queue) {
    const int Rk = R->rank;
    long long c[KK_MAX_POLICY_RANK], at[KK_MAX_POLICY_RANK];
    c[Rk - 1] = ((1LL << 31) - 1) * bx;
    c[Rk - 2] = 65535LL * by;
    long long budget = 65535;
    for (int k = Rk - 3; k >= 0; --k) {
        const long long e = R->hi[k] - R->lo[k];
        c[k] = e < budget ? e : budget;
        budget /= c[k];
    }
    for (int k = 0; k < Rk; ++k) at[k] = R->lo[k];
    for (;;) {
        long long g[3] = {1, 1, 1};
        for (int k = 0; k < Rk; ++k) {
            D->lo[k] = at[k];
            D->hi[k] = at[k] + c[k] < R->hi[k] ? at[k] + c[k] : R->hi[k];
            const long long e = D->hi[k] - D->lo[k];
            if (k == Rk - 1) g[0] = (e + bx - 1) / bx;
            else if (k == Rk - 2) g[1] = (e + by - 1) / by;
            else g[2] *= e;
        }
        const unsigned dims[7] = {(unsigned)g[0], (unsigned)g[1], (unsigned)g[2], (unsigned)bx, (unsigned)by, 1, 0};
        int rc = submit(spec, fn, dims, stream, D, size, may_queue);
        if (rc) return rc;
        int k = Rk - 1; /* the next sub-box, last dimension fastest */
        for (; k >= 0; --k) {
            at[k] += c[k];
            if (at[k] < R->hi[k]) break;
            at[k] = R->lo[k];
        }
        if (k < 0) return 0;
    }
}

static PyObject* cuda_run(KKCudaSpec* spec, const KKLaunch* R, const kk_arg_t* packed, void* stream, int may_queue) {
    if (kkq_failed()) return raise_queued_failure();
    const Py_ssize_t nslots = spec->nparams ? spec->nparams : 1;
    size_t size = sizeof(kk_dlaunch_t) + sizeof(kk_arg_t) * (size_t)nslots;
    char stack_buf[sizeof(kk_dlaunch_t) + sizeof(kk_arg_t) * KK_STACK_ARGS] __attribute__((aligned(16)));
    char* buf = (size <= sizeof(stack_buf)) ? stack_buf : PyMem_Malloc(size);
    if (!buf) return PyErr_NoMemory();
    kk_dlaunch_t* D = (kk_dlaunch_t*)buf; /* the kernel's kk_params: D, then the arguments */
    memset(D, 0, sizeof(*D));
    const int team = spec->pattern == CK_TEAM_FOR || spec->pattern == CK_TEAM_REDUCE;
    long long total = 1;
    long long ts = 1, vl = 1;
    if (team) {
        team_shape(R, &ts, &vl);
        D->rank = 1;
        D->lo[0] = R->league;
        D->lo[1] = ts;
        D->lo[2] = vl;
        for (int k = 0; k < 4; ++k) D->hi[k] = R->scratch[k];
    } else {
        D->rank = R->rank;
        for (int k = 0; k < R->rank; ++k) {
            D->lo[k] = R->lo[k];
            D->hi[k] = R->hi[k];
            D->tile[k] = R->tile[k];
            total *= R->hi[k] - R->lo[k]; /* Launch validated: no overflow */
        }
    }
    D->result = spec->result;
    D->scratch = spec->scratch;
    D->counter = spec->counter;
    D->err_flag = spec->err_flag;
    if (spec->nparams) memcpy(buf + sizeof(kk_dlaunch_t), packed, sizeof(kk_arg_t) * spec->nparams);
    else memset(buf + sizeof(kk_dlaunch_t), 0, sizeof(kk_arg_t));
    if ((spec->pattern == CK_REDUCE || spec->pattern == CK_TEAM_REDUCE) && R->init != Py_None && spec->result_tag) {
        if (kk_write_init(spec->result_tag, R->init, spec->result) < 0) goto fail;
        D->has_init = 1;
    }
    /* for, reduce and team kernels with a second entry: its plain loads when arguments overlap */
    void* fn = spec->fn[0];
    if (spec->nfn == 2 && written_overlaps_read(spec, packed)) fn = spec->fn[1];
    void* cur = NULL;
    if (spec->ctxget(&cur) != 0 || cur != spec->ctx) spec->ctxset(spec->ctx);
    if (g_last_cuda_label != spec->label) Py_XSETREF(g_last_cuda_label, Py_NewRef(spec->label));
    int rc;
    if (team) {
        if (ts * vl > 1024) {
            PyErr_Format(kk_value_error, "team_size %lld x vector_length %lld is more than the 1024 threads of a CUDA block",
                         ts, vl);
            goto fail;
        }
        /* a block per league rank, as a hand-written kernel launches its tiles; level-1 scratch (a slice per
         * block) and a reduction's partials (one per block) are sized for max_grid blocks that loop */
        const int bounded = spec->pattern == CK_TEAM_REDUCE || R->scratch[1] || R->scratch[3];
        const long long cap = bounded ? spec->max_grid : (1LL << 31) - 1;
        long long grid = R->league < cap ? R->league : cap;
        if (grid < 1) grid = 1;
        D->scratch1 = spec->scratch1;
        const long long smem = R->scratch[0] + ts * R->scratch[2];
        const unsigned dims[7] = {(unsigned)grid, 1, 1, (unsigned)vl, (unsigned)ts, 1, (unsigned)smem};
        rc = submit(spec, fn, dims, stream, buf, size, may_queue && spec->pattern == CK_TEAM_FOR);
        if (rc) {
            cuda_error(spec, rc, "cuLaunchKernel (team)");
            goto fail;
        }
        goto done;
    }
    if (R->rank >= 2 && (spec->pattern == CK_FOR || spec->pattern == CK_REDUCE)) {
        /* MDRange: a tile is a block (x along the last dimension, y the one before), z the outer dimensions */
        const int Rk = R->rank;
        long long ext[KK_MAX_POLICY_RANK], outer = 1;
        for (int k = 0; k < Rk; ++k) {
            ext[k] = R->hi[k] - R->lo[k];
            if (k < Rk - 2) outer *= ext[k];
        }
        if (spec->pattern == CK_FOR && total == 0) goto done;
        long long bx = R->tile[Rk - 1] > 0 ? R->tile[Rk - 1] : 32, by = R->tile[Rk - 2] > 0 ? R->tile[Rk - 2] : 8;
        if (bx > 256) bx = 256;
        if (bx * by > 256) by = 256 / bx > 0 ? 256 / bx : 1;
        if (spec->pattern == CK_FOR) {
            rc = md_for_launches(spec, R, D, fn, bx, by, stream, size, may_queue);
            if (rc) {
                cuda_error(spec, rc, "cuLaunchKernel (MDRange)");
                goto fail;
            }
            goto done;
        }
        long long g[3] = {(ext[Rk - 1] + bx - 1) / bx, (ext[Rk - 2] + by - 1) / by, outer};
        const long long cap[3] = {(1LL << 31) - 1, 65535, 65535};
        for (int d = 0; d < 3; ++d) {
            if (g[d] < 1) g[d] = 1;
            if (g[d] > cap[d]) g[d] = cap[d];
        }
        /* a reduction: every block leaves a partial, at most max_grid of them; its kernel loops grid-stride */
        while (g[0] * g[1] * g[2] > spec->max_grid) {
            int d = g[0] >= g[1] && g[0] >= g[2] ? 0 : (g[1] >= g[2] ? 1 : 2);
            g[d] = (g[d] + 1) / 2;
        }
        const unsigned dims[7] = {(unsigned)g[0], (unsigned)g[1], (unsigned)g[2], (unsigned)bx, (unsigned)by, 1, 0};
        rc = submit(spec, fn, dims, stream, buf, size, 0);
        if (rc) {
            cuda_error(spec, rc, "cuLaunchKernel (MDRange)");
            goto fail;
        }
        goto done;
    }
    long long blocks = (total + spec->block - 1) / spec->block;
    if (spec->pattern != CK_FOR && blocks > spec->max_grid) blocks = spec->max_grid;
    if (spec->pattern == CK_FOR && total == 0) goto done;
    if (spec->pattern == CK_FOR) { /* a thread per index (range_for has no loop): 2^30 blocks per launch */
        const long long step = (1LL << 30) * spec->block;
        for (long long at = R->lo[0]; at < R->hi[0]; at += step) {
            D->lo[0] = at;
            D->hi[0] = R->hi[0] - at > step ? at + step : R->hi[0];
            const long long b = (D->hi[0] - at + spec->block - 1) / spec->block;
            const unsigned dims[7] = {(unsigned)b, 1, 1, spec->block, 1, 1, 0};
            rc = submit(spec, fn, dims, stream, buf, size, may_queue);
            if (rc) {
                cuda_error(spec, rc, "cuLaunchKernel");
                goto fail;
            }
        }
        goto done;
    }
    if (blocks > (1LL << 30)) blocks = 1LL << 30; /* grid-stride loops cover the rest */
    if (blocks < 1) blocks = 1;
    if (spec->pattern == CK_SCAN) {
        const unsigned dims[7] = {(unsigned)blocks, 1, 1, spec->block, 1, 1, 0};
        rc = submit(spec, spec->fn[0], dims, stream, buf, size, 0);
        if (rc) {
            cuda_error(spec, rc, "cuLaunchKernel (scan phase 1)");
            goto fail;
        }
        D->tile[0] = blocks * spec->block;
        const unsigned dims2[7] = {1, 1, 1, spec->scan2_block, 1, 1, 0};
        rc = submit(spec, spec->fn[1], dims2, stream, buf, size, 0);
        if (rc) {
            cuda_error(spec, rc, "cuLaunchKernel (scan phase 2)");
            goto fail;
        }
        D->tile[0] = R->tile[0];
        rc = submit(spec, spec->fn[2], dims, stream, buf, size, 0);
        if (rc) {
            cuda_error(spec, rc, "cuLaunchKernel (scan phase 3)");
            goto fail;
        }
    } else {
        const unsigned dims[7] = {(unsigned)blocks, 1, 1, spec->block, 1, 1, 0};
        rc = submit(spec, fn, dims, stream, buf, size, 0);
        if (rc) {
            cuda_error(spec, rc, "cuLaunchKernel");
            goto fail;
        }
    }
done:
    if (buf != stack_buf) PyMem_Free(buf);
    if (spec->pattern == CK_FOR || spec->pattern == CK_TEAM_FOR) Py_RETURN_NONE;
    if (spec->query) {
        rc = kk_cuda_wait(spec->query, stream);
        if (rc < 0) return NULL; /* interrupted: KeyboardInterrupt is set */
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = spec->sync(stream);
        Py_END_ALLOW_THREADS
    }
    if (rc) return cuda_error(spec, rc, "cuStreamSynchronize");
    return kk_read_result(spec->result_tag, (const kk_result_t*)spec->result);
fail:
    if (buf != stack_buf) PyMem_Free(buf);
    return NULL;
}

/* launch_cuda(specs, rec, kwargs, stream) -> result | None | NotImplemented
 * stream: a CUstream handle (int); 0 is the legacy default stream. */
static PyObject* kk_launch_cuda(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyList_Check(args[0]) || Py_TYPE(args[1]) != &KKLaunch_Type || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "launch_cuda(specs: list, rec: Launch, kwargs: dict, stream: int)");
        return NULL;
    }
    void* stream = PyLong_AsVoidPtr(args[3]);
    if (stream == NULL && PyErr_Occurred()) return NULL;
    PyObject* specs = args[0];
    const KKLaunch* R = (const KKLaunch*)args[1];
    PyObject* kwargs = args[2];
    const Py_ssize_t nkw = PyDict_GET_SIZE(kwargs);
    kk_pack_t P;
    for (Py_ssize_t s = 0; s < PyList_GET_SIZE(specs); ++s) {
        KKCudaSpec* spec = (KKCudaSpec*)PyList_GET_ITEM(specs, s);
        if (Py_TYPE(spec) != &KKCudaSpec_Type || spec->nparams != nkw) continue;
        int g = kk_check_guards(spec->guards);
        if (g < 0) return NULL;
        if (g == 0) continue;
        int ok = kk_pack_args(spec->params, spec->nparams, kwargs, spec->place, &P);
        if (ok == 1 && (spec->pattern == CK_TEAM_FOR || spec->pattern == CK_TEAM_REDUCE)) {
            long long ts, vl;
            team_shape(R, &ts, &vl);
            /* another team shape than the function's, or scratch beyond what this spec's buffers hold: the
             * slow path builds (or sizes) a new spec */
            if ((spec->team_ts && (ts != spec->team_ts || vl != spec->team_vl)) ||
                R->scratch[0] + ts * R->scratch[2] > spec->smem_cap ||
                (R->scratch[1] + ts * R->scratch[3]) * spec->max_grid > spec->scratch1_cap)
                ok = 0;
        }
        PyObject* r = NULL;
        if (ok == 1) {
            r = cuda_run(spec, R, P.args, stream, !P.shared);
            if (r != NULL)
                for (Py_ssize_t k = 0; k < spec->nparams; ++k)
                    if (P.written[k]) kk_mark_written(P.written[k], spec->place);
            if (r != NULL && spec->check != NULL) {
                PyObject* c = PyObject_CallNoArgs(spec->check);
                if (c == NULL) Py_CLEAR(r);
                else Py_DECREF(c);
            }
        }
        kk_pack_free(&P);
        if (ok < 0) return NULL;
        if (ok == 1) return r;
    }
    Py_RETURN_NOTIMPLEMENTED;
}

static PyObject* kk_cuda_queue_check(PyObject* self, PyObject* unused) {
    kkq_drain();
    return raise_queued_failure();
}

static PyObject* kk_last_cuda_kernel(PyObject* self, PyObject* unused) {
    return Py_NewRef(g_last_cuda_label ? g_last_cuda_label : Py_None);
}

PyMethodDef kk_cuda_methods[] = {
    {"launch_cuda", (PyCFunction)(void (*)(void))kk_launch_cuda, METH_FASTCALL,
     "launch_cuda(specs, rec, kwargs, stream): run the first matching CUDA spec, else NotImplemented"},
    {"cuda_team_shape", kk_cuda_team_shape, METH_O, "(team_size, vector_length) of a team launch on a CUDA block"},
    {"last_cuda_kernel", kk_last_cuda_kernel, METH_NOARGS, "label of the last CUDA kernel launched"},
    {"cuda_wait", kk_cuda_wait_py, METH_VARARGS, "cuda_wait(cuStreamQuery address, stream): interruptible wait"},
    {"cuda_queue_check", kk_cuda_queue_check, METH_NOARGS,
     "drain the launch queue and raise the failure of a queued launch, if one failed"},
    {NULL},
};

int kk_cuda_init(PyObject* m) {
    if (PyType_Ready(&KKCudaSpec_Type) < 0) return -1;
    return PyModule_AddObjectRef(m, "CudaSpec", (PyObject*)&KKCudaSpec_Type);
}
