/* kernelkit._native: shared declarations of the extension's parts.
 *
 *   module.c   the module, its settings (threads, error classes) and init
 *   view.c     ViewBase: the host array, the coherence flags and the description of one device copy
 *   launch.c   Launch (the typed launch record), Spec, argument matching and packing, the host launcher
 *   cuda.c     CudaSpec and the CUDA launcher (cuLaunchKernel through a pointer: no CUDA headers)
 *   clean.c    the public-entry-point wrapper that trims kernelkit's frames from KernelError tracebacks
 *   fastpath.c parallel_for's common case in C (a RangePolicy or an int, a compiled spec): one call from Python
 *   cudaq.c    the CUDA launch queue: bursts of parallel_for launches made by a native thread, in order
 *
 * The coherence flags are owned by kernelkit/runtime/coherence.py; the only writes from C are the two the fast
 * paths make after a launch (kk_mark_written), under the same rule coherence.py documents.
 */
#ifndef KERNELKIT_NATIVE_H
#define KERNELKIT_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#ifndef KK_NUMPY_MAIN
#define NO_IMPORT_ARRAY
#endif
#define PY_ARRAY_UNIQUE_SYMBOL kk_ARRAY_API
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#include <numpy/arrayobject.h>

#include "../../backends/include/kernelkit/abi.h"

/* coherence flags (see runtime/coherence.py for the states) */
#define KK_HOST_STALE 1   /* a device copy is newer than the host array */
#define KK_DEVICE_STALE 2 /* the host array (or another place) is newer than the described device copy */
#define KK_HAS_DEVICE 4   /* a device copy exists */
#define KK_DERIVED 8      /* a subview or foreign wrapper: its coherence lives elsewhere (the slow path) */
#define KK_MULTI 16       /* more than one device copy is current: writes go through the slow path */
#define KK_SHARED 32      /* the memory is also another library's (exported, or wrapped): launched unqueued */
#define KK_TRAIT_ATOMIC 1

/* place codes: where a launch reads and writes its arguments */
#define KK_PLACE_HOST (-1)

/* ------------------------------------------------------------------------------------------------ ViewBase */

typedef struct {
    PyObject_HEAD
    PyObject* array; /* the host ndarray (or NULL while the View lives only on a device) */
    int flags;       /* KK_* coherence flags */
    int traits;      /* KK_TRAIT_ATOMIC: specializations differ (read-modify-writes compile to atomics) */
    /* the described copy at a non-host place, for the launchers (set by _set_device; dptr 0 = none) */
    unsigned long long dptr;
    int dplace;      /* its place code (a CUDA ordinal, or a logical device's code) */
    int dndim;
    int dtcode;      /* (dtype kind char << 8) | itemsize */
    long long dshape[KK_MAX_RANK];
    long long dstr[KK_MAX_RANK]; /* in elements */
    /* the host geometry, for the element fast paths of view.c (kept in step with `array` by its setter; a
       subview made by those paths has only these until its `_array` is first asked for) */
    char* hdata;          /* host element 0 (NULL: no host memory) */
    int hnd;
    int hwritable;        /* the memory may be written (read from `array` itself once that exists) */
    npy_intp hdims[KK_MAX_RANK];
    npy_intp hstrides[KK_MAX_RANK]; /* in bytes */
    PyArray_Descr* descr; /* the host dtype */
    PyObject* hbase;      /* the ndarray whose memory this is */
    /* the attributes views.py keeps on every View (slots here, so that a subview made in C needs no dict) */
    PyObject *shape, *dtype, *layout, *space, *trait, *parent;
    PyObject* root; /* a subview's root View, whose flags say whether the fast paths may touch the host memory */
} KKViewBase;

extern PyTypeObject KKViewBase_Type;

/* After a launch at `place` wrote view `v`: the other side becomes stale (the rule of coherence.py). */
static inline void kk_mark_written(PyObject* v, int place) {
    KKViewBase* vb = (KKViewBase*)v;
    vb->flags |= (place == KK_PLACE_HOST) ? KK_DEVICE_STALE : KK_HOST_STALE;
}

/* ------------------------------------------------------------------------------------------------ Launch */

enum { PAT_FOR = 0, PAT_REDUCE = 1, PAT_SCAN = 2 };

typedef struct {
    PyObject_HEAD
    int pattern;  /* PAT_* */
    int rank;     /* 1..6 for Range/MDRange; 0 for a TeamPolicy */
    long long lo[KK_MAX_POLICY_RANK], hi[KK_MAX_POLICY_RANK], tile[KK_MAX_POLICY_RANK];
    long long league, team_size, vector_length; /* team_size 0: AUTO (each backend chooses) */
    long long scratch[4];                       /* team L0, team L1, thread L0, thread L1 bytes */
    PyObject* reducer; /* a Reducer, or None */
    PyObject* init;    /* the initial value, or None */
    PyObject* label;   /* str or None */
    PyObject* kind;    /* selects the workunit's spec list (see make_kind) */
} KKLaunch;

extern PyTypeObject KKLaunch_Type;
PyObject* kk_range_launch(int pattern, long long lo, long long hi, PyObject* label);

/* ------------------------------------------------------------------------------------------------ params */

enum { P_ARRAY = 0, P_SCALAR = 1 };

typedef struct {
    PyObject* name; /* interned str */
    int kind;       /* P_ARRAY or P_SCALAR */
    int dtcode;     /* arrays: (kind char << 8) | itemsize */
    int ndim;
    char layout;    /* 'C', 'F' or 'A' */
    int writes;
    int traits;     /* required View traits (KK_TRAIT_ATOMIC); plain arrays have none */
    int alias;      /* written, by a build that assumes independent iterations: may overlap no other argument */
    PyTypeObject* pytype; /* scalars */
    char conv;            /* 'i', 'u', 'f', 'b' */
} kk_param_t;

int kk_parse_params(PyObject* params, Py_ssize_t* n_out, kk_param_t** out);
void kk_free_params(kk_param_t* ps, Py_ssize_t n);
int kk_check_guards(PyObject* guards);
int kk_write_init(char tag, PyObject* init, kk_result_t* r);
PyObject* kk_read_result(char tag, const kk_result_t* r);

#define KK_STACK_ARGS 16

/* The argument packing both launchers share (see launch.c). */
typedef struct {
    kk_arg_t* args;
    PyObject** written; /* Views a launch writes (their other copy becomes stale) */
    kk_arg_t stack_args[KK_STACK_ARGS];
    PyObject* stack_written[KK_STACK_ARGS];
    int shared; /* an array argument is KK_SHARED: the CUDA launch is not queued (cudaq.c) */
} kk_pack_t;

int kk_pack_args(const kk_param_t* params, Py_ssize_t n, PyObject* kwargs, int place, kk_pack_t* P);
void kk_pack_free(kk_pack_t* P);

/* ------------------------------------------------------------------------------------------------ module */

extern PyObject* kk_runtime_error; /* kernelkit.errors.KernelRuntimeError */
extern PyObject* kk_value_error;   /* kernelkit.errors.KernelValueError */
extern int kk_nthreads;
PyObject* kk_raise(PyObject* cls, const char* msg);

/* ------------------------------------------------------------------------------------------------ cudaq */

#define KKQ_BYTES 2048 /* the parameter block a queued launch may carry (kernelkit's are 600-900 bytes) */

/* one cuLaunchKernel: the driver's entry points (the spec's), the context, function, grid, block, shared bytes */
typedef struct {
    int (*launch)(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                  unsigned smem, void* stream, void** params, void** extra);
    int (*ctxget)(void** ctx);
    int (*ctxset)(void* ctx);
    void* ctx;
    void* fn;
    unsigned dims[7]; /* grid x y z, block x y z, dynamic shared bytes */
    void* stream;
} kkq_call_t;

/* Launch `c` with the parameter block `params` (`size` bytes, copied: the caller may reuse it at once), queued
 * when `may_queue` and a burst allow, else on this thread after the queue drained. Returns 0 or the CUresult of
 * a direct launch. */
int kkq_launch(const kkq_call_t* c, const void* params, size_t size, PyObject* owner, int may_queue);
void kkq_drain(void);   /* wait (releasing the GIL if it takes long) until every queued launch has been made */
void kkq_disable(void); /* drain; then launch directly for the rest of the process */
int kkq_failed(void);   /* a queued launch failed and nobody has been told yet */
/* the failure (its CUresult; 0: none), the owner given with its launch (new reference) and how many launches
 * queued after it were dropped; clears it */
int kkq_take_failure(PyObject** owner, unsigned long long* dropped);
extern PyMethodDef kk_cudaq_methods[];

/* registration of each part's types and functions into the module */
int kk_view_init(PyObject* m);
int kk_launch_init(PyObject* m);
int kk_cuda_init(PyObject* m);
int kk_clean_init(PyObject* m);
int kk_fastpath_init(PyObject* m);
int kk_copy_function_attrs(PyObject* dict, PyObject* fn);
extern PyMethodDef kk_launch_methods[];
extern PyMethodDef kk_cuda_methods[];
extern PyMethodDef kk_clean_methods[];

#endif
