/* kernelkit._native: the launch fast path and the View base type.
 *
 * launch(specs, lo, hi, tile, kwargs, init) tries each compiled specialization of a workunit in turn: a spec
 * matches when its guards (captured globals) still hold and every keyword argument has the Python type, dtype,
 * rank and layout the spec was compiled for. The first match is packed into a kk_launch_t and its entry point is
 * called with the GIL released. No match returns NotImplemented and the Python slow path compiles a new spec.
 * The work per call is proportional to the number of arguments, never to the kernel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#include <numpy/arrayobject.h>

#include "../backends/include/kernelkit/abi.h"

#define KK_HOST_STALE 1  /* a device copy is newer than the host array */
#define KK_DEVICE_STALE 2 /* the host array is newer than the device copy */
#define KK_HAS_DEVICE 4  /* a device copy exists */
#define KK_TRAIT_ATOMIC 1
#define KK_DERIVED 8     /* a subview or foreign wrapper: its coherence lives elsewhere (the slow path handles it) */

static PyObject* g_error_class = NULL; /* kernelkit.errors.KernelRuntimeError */
static int g_nthreads = 1;

/* ------------------------------------------------------------------------------------------------ ViewBase */

typedef struct {
    PyObject_HEAD
    PyObject* array; /* the host ndarray (or NULL while the View lives only on a device) */
    int flags;       /* KK_HOST_STALE | KK_DEVICE_STALE | KK_HAS_DEVICE */
    int traits;      /* KK_TRAIT_ATOMIC: specializations differ (read-modify-writes compile to atomics) */
    /* the device copy, described for the CUDA launcher (set by _set_device; dptr 0 = none) */
    unsigned long long dptr;
    int ddevice;
    int dndim;
    int dtcode;      /* (dtype kind char << 8) | itemsize */
    long long dshape[KK_MAX_RANK];
    long long dstr[KK_MAX_RANK]; /* in elements */
} KKViewBase;

static int viewbase_traverse(KKViewBase* self, visitproc visit, void* arg) {
    Py_VISIT(self->array);
    return 0;
}

static int viewbase_clear(KKViewBase* self) {
    Py_CLEAR(self->array);
    return 0;
}

static void viewbase_dealloc(KKViewBase* self) {
    PyObject_GC_UnTrack(self);
    viewbase_clear(self);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

/* The buffer protocol delegates to the host array after syncing it: memoryview(view), mpi4py, struct, ... */
static int viewbase_getbuffer(KKViewBase* self, Py_buffer* view, int flags) {
    /* Coherence for buffer consumers (NumPy, memoryview, mpi4py). Once a View has a device copy, a read-only
     * request gets a read-only export and leaves the device copy valid (np.asarray(view) is then a snapshot you
     * cannot write by mistake); a writable request marks the device copy stale. Subviews go through _host,
     * which syncs and marks their root. */
    const int writable = (flags & PyBUF_WRITABLE) != 0;
    const int readonly_export = (self->flags & KK_HAS_DEVICE) && !writable && !(self->flags & KK_DERIVED);
    if (self->flags & (KK_HOST_STALE | KK_DERIVED | KK_HAS_DEVICE) || self->array == NULL) {
        PyObject* r = PyObject_HasAttrString((PyObject*)self, "_host")
                          ? PyObject_CallMethod((PyObject*)self, "_host", "O", readonly_export ? Py_False : Py_True)
                          : PyObject_CallMethod((PyObject*)self, "_sync_host", NULL);
        if (r == NULL) return -1;
        Py_DECREF(r);
    }
    if (self->array == NULL) {
        PyErr_SetString(PyExc_BufferError, "this View has no host memory");
        return -1;
    }
    if (PyObject_GetBuffer(self->array, view, flags) < 0) return -1;
    if (readonly_export) view->readonly = 1;
    return 0;
}

static PyObject* viewbase_set_device(KKViewBase* self, PyObject* args) {
    unsigned long long ptr;
    int dev, dtcode;
    PyObject *shape, *strides;
    if (!PyArg_ParseTuple(args, "KiO!O!i", &ptr, &dev, &PyTuple_Type, &shape, &PyTuple_Type, &strides, &dtcode))
        return NULL;
    Py_ssize_t nd = PyTuple_GET_SIZE(shape);
    if (nd < 1 || nd > KK_MAX_RANK || PyTuple_GET_SIZE(strides) != nd) {
        PyErr_SetString(PyExc_ValueError, "device shape/strides must have 1 to 8 entries");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < nd; ++k) {
        self->dshape[k] = PyLong_AsLongLong(PyTuple_GET_ITEM(shape, k));
        self->dstr[k] = PyLong_AsLongLong(PyTuple_GET_ITEM(strides, k));
    }
    if (PyErr_Occurred()) return NULL;
    self->dptr = ptr;
    self->ddevice = dev;
    self->dndim = (int)nd;
    self->dtcode = dtcode;
    Py_RETURN_NONE;
}

static PyObject* viewbase_get_dptr(KKViewBase* self, void* unused) { return PyLong_FromUnsignedLongLong(self->dptr); }
static PyObject* viewbase_get_ddevice(KKViewBase* self, void* unused) { return PyLong_FromLong(self->ddevice); }

static PyMethodDef viewbase_methods[] = {
    {"_set_device", (PyCFunction)viewbase_set_device, METH_VARARGS, "describe the device copy"},
    {NULL},
};

static PyGetSetDef viewbase_getset[] = {
    {"_dptr", (getter)viewbase_get_dptr, NULL, "device pointer (0: none)", NULL},
    {"_ddevice", (getter)viewbase_get_ddevice, NULL, "device ordinal of the device copy", NULL},
    {NULL},
};

static PyBufferProcs viewbase_as_buffer = {(getbufferproc)viewbase_getbuffer, NULL};

static PyMemberDef viewbase_members[] = {
    {"_array", T_OBJECT, offsetof(KKViewBase, array), 0, "host ndarray"},
    {"_flags", T_INT, offsetof(KKViewBase, flags), 0, "coherence flags"},
    {"_traits", T_INT, offsetof(KKViewBase, traits), 0, "memory traits that change code (1: Atomic)"},
    {NULL},
};

static PyTypeObject KKViewBase_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kernelkit._native.ViewBase",
    .tp_basicsize = sizeof(KKViewBase),
    .tp_dealloc = (destructor)viewbase_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Native base of kernelkit.View: holds the host array and coherence flags.",
    .tp_traverse = (traverseproc)viewbase_traverse,
    .tp_clear = (inquiry)viewbase_clear,
    .tp_members = viewbase_members,
    .tp_methods = viewbase_methods,
    .tp_getset = viewbase_getset,
    .tp_as_buffer = &viewbase_as_buffer,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------------------------------------ Spec */

enum { P_ARRAY = 0, P_SCALAR = 1 };

typedef struct {
    PyObject* name; /* interned str */
    int kind;       /* P_ARRAY or P_SCALAR */
    /* arrays */
    int dtcode;     /* (kind char << 8) | itemsize */
    int ndim;
    char layout;    /* 'C', 'F' or 'A' */
    int writes;
    int traits;     /* required View traits (KK_TRAIT_ATOMIC); plain arrays have none */
    /* scalars */
    PyTypeObject* pytype;
    char conv;      /* 'i', 'u', 'f', 'b' */
} kk_param_t;

typedef struct {
    PyObject_HEAD
    kk_entry_t entry;
    Py_ssize_t nparams;
    kk_param_t* params;
    PyObject* guards; /* tuple of (holder, key-or-None, expected) */
    char result_tag;  /* 0 none; f i u b; F I U B with a location (MinLoc/MaxLoc) */
    PyObject* keepalive; /* the loaded library object: the entry lives as long as the spec */
} KKSpec;

static void spec_dealloc(KKSpec* self) {
    for (Py_ssize_t k = 0; k < self->nparams; ++k) {
        Py_XDECREF(self->params[k].name);
        Py_XDECREF(self->params[k].pytype);
    }
    PyMem_Free(self->params);
    Py_XDECREF(self->guards);
    Py_XDECREF(self->keepalive);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

static int parse_params(PyObject* params, Py_ssize_t* n_out, kk_param_t** out);

/* Spec(entry_address, params, guards, result_tag, keepalive)
 *   params: tuple of ("a", name, dtcode, ndim, layout, writes) or ("s", name, pytype, conv) */
static int spec_init(KKSpec* self, PyObject* args, PyObject* kw) {
    unsigned long long addr;
    PyObject *params, *guards, *keepalive;
    const char* tag;
    if (!PyArg_ParseTuple(args, "KO!O!sO", &addr, &PyTuple_Type, &params, &PyTuple_Type, &guards, &tag,
                          &keepalive))
        return -1;
    self->entry = (kk_entry_t)(uintptr_t)addr;
    if (parse_params(params, &self->nparams, &self->params) < 0) return -1;
    self->guards = Py_NewRef(guards);
    self->result_tag = tag[0];
    self->keepalive = Py_NewRef(keepalive);
    return 0;
}

static int parse_params(PyObject* params, Py_ssize_t* n_out, kk_param_t** out) {
    const Py_ssize_t n = PyTuple_GET_SIZE(params);
    kk_param_t* ps = PyMem_Calloc(n ? n : 1, sizeof(kk_param_t));
    if (!ps) { PyErr_NoMemory(); return -1; }
    *out = ps;
    *n_out = 0;
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject* p = PyTuple_GET_ITEM(params, k);
        kk_param_t* q = &ps[k];
        const char *kind, *layout;
        PyObject* name;
        if (!PyTuple_Check(p) || PyTuple_GET_SIZE(p) < 1) goto bad;
        if (!PyArg_Parse(PyTuple_GET_ITEM(p, 0), "s", &kind)) return -1;
        if (kind[0] == 'a') {
            if (!PyArg_ParseTuple(p, "sUiisp|i", &kind, &name, &q->dtcode, &q->ndim, &layout, &q->writes,
                                  &q->traits))
                return -1;
            q->kind = P_ARRAY;
            q->layout = layout[0];
        } else {
            PyObject* pytype;
            const char* conv;
            if (!PyArg_ParseTuple(p, "sUO!s", &kind, &name, &PyType_Type, &pytype, &conv)) return -1;
            q->kind = P_SCALAR;
            q->pytype = (PyTypeObject*)Py_NewRef(pytype);
            q->conv = conv[0];
        }
        Py_INCREF(name);
        PyUnicode_InternInPlace(&name);
        q->name = name;
        *n_out = k + 1;
    }
    return 0;
bad:
    PyErr_SetString(PyExc_TypeError, "malformed parameter descriptor");
    return -1;
}

static PyTypeObject KKSpec_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kernelkit._native.Spec",
    .tp_basicsize = sizeof(KKSpec),
    .tp_dealloc = (destructor)spec_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A compiled specialization: entry point plus the argument signature it accepts.",
    .tp_init = (initproc)spec_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------------------------------------ matching */

static inline int dtcode_of(PyArrayObject* a) {
    PyArray_Descr* d = PyArray_DESCR(a);
    return ((int)d->kind << 8) | (int)PyDataType_ELSIZE(d);
}

/* 1: matched and packed; 0: no match (try the next spec); -1: error set. */
static int match_array(const kk_param_t* q, PyObject* v, kk_arg_t* out, PyObject** written) {
    PyArrayObject* a;
    if (PyArray_CheckExact(v) || PyArray_Check(v)) {
        if (q->traits) return 0;
        a = (PyArrayObject*)v;
        *written = NULL;
    } else if (PyObject_TypeCheck(v, &KKViewBase_Type)) {
        KKViewBase* vb = (KKViewBase*)v;
        if (vb->traits != q->traits) return 0;
        /* the slow path syncs a stale host copy, and routes subviews through their root */
        if (vb->flags & (KK_HOST_STALE | KK_DERIVED) || vb->array == NULL) return 0;
        a = (PyArrayObject*)vb->array;
        *written = (q->writes && (vb->flags & KK_HAS_DEVICE)) ? v : NULL;
    } else {
        return 0;
    }
    if (PyArray_NDIM(a) != q->ndim || dtcode_of(a) != q->dtcode) return 0;
    if (!PyArray_ISNOTSWAPPED(a) || !PyArray_ISALIGNED(a)) return 0;
    if (q->writes && !PyArray_ISWRITEABLE(a)) return 0;
    const int nd = q->ndim;
    const npy_intp* dims = PyArray_DIMS(a);
    const npy_intp* strides = PyArray_STRIDES(a);
    const npy_intp isz = PyArray_ITEMSIZE(a);
    if (q->layout == 'C') {
        if (!PyArray_IS_C_CONTIGUOUS(a)) return 0;
    } else if (q->layout == 'F') {
        if (!PyArray_IS_F_CONTIGUOUS(a) || (nd <= 1) || PyArray_IS_C_CONTIGUOUS(a)) return 0;
    } else {
        if (PyArray_IS_C_CONTIGUOUS(a)) return 0; /* a contiguous array gets the faster 'C' specialization */
        for (int k = 0; k < nd; ++k)
            if (strides[k] % isz) return 0;
    }
    out->a.data = PyArray_BYTES(a);
    for (int k = 0; k < nd; ++k) {
        out->a.ext[k] = dims[k];
        out->a.str[k] = strides[k] / isz;
    }
    return 1;
}

static int match_scalar(const kk_param_t* q, PyObject* v, kk_arg_t* out) {
    if (Py_TYPE(v) != q->pytype) return 0;
    switch (q->conv) {
    case 'f':
        out->f = PyFloat_AsDouble(v);
        if (out->f == -1.0 && PyErr_Occurred()) return -1;
        return 1;
    case 'b': {
        int t = PyObject_IsTrue(v);
        if (t < 0) return -1;
        out->i = t;
        return 1;
    }
    case 'u': {
        PyObject* n = PyNumber_Index(v);
        if (!n) return -1;
        out->u = PyLong_AsUnsignedLongLongMask(n);
        Py_DECREF(n);
        return PyErr_Occurred() ? -1 : 1;
    }
    default: {
        int overflow = 0;
        PyObject* n = PyLong_CheckExact(v) ? Py_NewRef(v) : PyNumber_Index(v);
        if (!n) return -1;
        out->i = PyLong_AsLongLongAndOverflow(n, &overflow);
        Py_DECREF(n);
        if (overflow) return 0; /* the slow path reports an integer that does not fit */
        return PyErr_Occurred() ? -1 : 1;
    }
    }
}

static int check_guards(PyObject* guards) {
    Py_ssize_t n = PyTuple_GET_SIZE(guards);
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject* g = PyTuple_GET_ITEM(guards, k);
        PyObject* holder = PyTuple_GET_ITEM(g, 0);
        PyObject* key = PyTuple_GET_ITEM(g, 1);
        PyObject* expected = PyTuple_GET_ITEM(g, 2);
        PyObject* cur;
        if (key == Py_None) {
            cur = PyCell_GET(holder);
        } else {
            cur = PyDict_GetItemWithError(holder, key);
            if (cur == NULL && PyErr_Occurred()) return -1;
        }
        if (cur != expected) return 0;
    }
    return 1;
}

static int read_policy(PyObject* lo, PyObject* hi, PyObject* tile, kk_launch_t* L) {
    if (PyLong_Check(lo)) {
        L->rank = 1;
        L->lo[0] = PyLong_AsLongLong(lo);
        L->hi[0] = PyLong_AsLongLong(hi);
        L->tile[0] = 0;
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_Check(lo) || !PyTuple_Check(hi) || PyTuple_GET_SIZE(lo) != PyTuple_GET_SIZE(hi) ||
        PyTuple_GET_SIZE(lo) > KK_MAX_POLICY_RANK) {
        PyErr_SetString(PyExc_TypeError, "policy bounds must be ints or tuples of equal length (rank <= 6)");
        return -1;
    }
    L->rank = (int32_t)PyTuple_GET_SIZE(lo);
    for (int k = 0; k < L->rank; ++k) {
        L->lo[k] = PyLong_AsLongLong(PyTuple_GET_ITEM(lo, k));
        L->hi[k] = PyLong_AsLongLong(PyTuple_GET_ITEM(hi, k));
        L->tile[k] = (tile != Py_None && PyTuple_Check(tile) && k < PyTuple_GET_SIZE(tile))
                         ? PyLong_AsLongLong(PyTuple_GET_ITEM(tile, k))
                         : 0;
    }
    return PyErr_Occurred() ? -1 : 0;
}

static int write_init(char tag, PyObject* init, kk_result_t* r) {
    PyObject* val = init;
    if (tag >= 'A' && tag <= 'Z') { /* (value, location) */
        if (!PyTuple_Check(init) || PyTuple_GET_SIZE(init) != 2) {
            PyErr_SetString(PyExc_TypeError, "initial_value of a MinLoc/MaxLoc reduction is a (value, index) pair");
            return -1;
        }
        val = PyTuple_GET_ITEM(init, 0);
        r->loc = PyLong_AsLongLong(PyTuple_GET_ITEM(init, 1));
        if (PyErr_Occurred()) return -1;
        tag = (char)(tag - 'A' + 'a');
    }
    switch (tag) {
    case 'f': r->f = PyFloat_AsDouble(val); break;
    case 'u': r->u = PyLong_AsUnsignedLongLongMask(val); break;
    case 'b': { int t = PyObject_IsTrue(val); if (t < 0) return -1; r->i = t; break; }
    default: r->i = PyLong_AsLongLong(val); break;
    }
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject* read_result(char tag, const kk_result_t* r) {
    PyObject* loc = NULL;
    if (tag >= 'A' && tag <= 'Z') {
        loc = PyLong_FromLongLong(r->loc);
        tag = (char)(tag - 'A' + 'a');
    }
    PyObject* v;
    switch (tag) {
    case 'f': v = PyFloat_FromDouble(r->f); break;
    case 'u': v = PyLong_FromUnsignedLongLong(r->u); break;
    case 'b': v = PyBool_FromLong((long)r->i); break;
    default: v = PyLong_FromLongLong(r->i); break;
    }
    if (loc == NULL) return v;
    if (v == NULL) { Py_DECREF(loc); return NULL; }
    PyObject* t = PyTuple_Pack(2, v, loc);
    Py_DECREF(v);
    Py_DECREF(loc);
    return t;
}

#define KK_STACK_ARGS 16

/* The argument packing both launchers share: match every parameter of a spec against the keyword arguments
 * and pack it. device < 0 packs host arrays, device >= 0 device copies on that GPU. Returns 1 (matched and
 * packed), 0 (not this spec) or -1 (error set). More than KK_STACK_ARGS parameters use the heap: pack_free. */
typedef struct {
    kk_arg_t* args;
    PyObject** written; /* Views a launch writes (their other copy becomes stale) */
    kk_arg_t stack_args[KK_STACK_ARGS];
    PyObject* stack_written[KK_STACK_ARGS];
} kk_pack_t;

static int match_device_array(const kk_param_t* q, PyObject* v, int device, kk_arg_t* out, PyObject** written);

static void pack_free(kk_pack_t* P) {
    if (P->args != P->stack_args) {
        PyMem_Free(P->args);
        PyMem_Free(P->written);
    }
}

static int pack_args(const kk_param_t* params, Py_ssize_t n, PyObject* kwargs, int device, kk_pack_t* P) {
    P->args = P->stack_args;
    P->written = P->stack_written;
    if (n > KK_STACK_ARGS) { /* functors with many members */
        P->args = PyMem_Malloc(sizeof(kk_arg_t) * n);
        P->written = PyMem_Malloc(sizeof(PyObject*) * n);
        if (!P->args || !P->written) {
            PyMem_Free(P->args);
            PyMem_Free(P->written);
            P->args = P->stack_args;
            PyErr_NoMemory();
            return -1;
        }
    }
    for (Py_ssize_t k = 0; k < n; ++k) {
        const kk_param_t* q = &params[k];
        PyObject* v = PyDict_GetItemWithError(kwargs, q->name);
        P->written[k] = NULL;
        if (v == NULL) return PyErr_Occurred() ? -1 : 0;
        int ok;
        if (q->kind != P_ARRAY)
            ok = match_scalar(q, v, &P->args[k]);
        else if (device < 0)
            ok = match_array(q, v, &P->args[k], &P->written[k]);
        else
            ok = match_device_array(q, v, device, &P->args[k], &P->written[k]);
        if (ok != 1) return ok;
    }
    return 1;
}

/* launch(specs, lo, hi, tile, kwargs, init) -> result | None | NotImplemented */
static PyObject* kk_launch(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 6 || !PyList_Check(args[0]) || !PyDict_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "launch(specs: list, lo, hi, tile, kwargs: dict, init)");
        return NULL;
    }
    PyObject* specs = args[0];
    PyObject* kwargs = args[4];
    PyObject* init = args[5];
    const Py_ssize_t nkw = PyDict_GET_SIZE(kwargs);
    kk_pack_t P;
    for (Py_ssize_t s = 0; s < PyList_GET_SIZE(specs); ++s) {
        KKSpec* spec = (KKSpec*)PyList_GET_ITEM(specs, s);
        if (Py_TYPE(spec) != &KKSpec_Type || spec->nparams != nkw) continue;
        int g = check_guards(spec->guards);
        if (g < 0) return NULL;
        if (g == 0) continue;
        int ok = pack_args(spec->params, spec->nparams, kwargs, -1, &P);
        if (ok == 1) {
            kk_launch_t L;
            kk_result_t result = {0};
            if (read_policy(args[1], args[2], args[3], &L) < 0) ok = -1;
            L.nthreads = g_nthreads;
            L.args = P.args;
            L.result = &result;
            L.has_init = 0;
            L.err[0] = 0;
            if (ok == 1 && init != Py_None && spec->result_tag) {
                if (write_init(spec->result_tag, init, &result) < 0) ok = -1;
                L.has_init = 1;
            }
            int rc = 0;
            if (ok == 1) {
                Py_BEGIN_ALLOW_THREADS
                rc = spec->entry(&L);
                Py_END_ALLOW_THREADS
                for (Py_ssize_t k = 0; k < spec->nparams; ++k)
                    if (P.written[k]) ((KKViewBase*)P.written[k])->flags |= KK_DEVICE_STALE;
            }
            pack_free(&P);
            if (ok != 1) return NULL;
            if (rc != 0) {
                L.err[KK_ERRLEN - 1] = 0;
                PyErr_SetString(g_error_class ? g_error_class : PyExc_RuntimeError,
                                L.err[0] ? L.err : "kernel failed");
                return NULL;
            }
            if (!spec->result_tag) Py_RETURN_NONE;
            return read_result(spec->result_tag, &result);
        }
        pack_free(&P);
        if (ok < 0) return NULL;
    }
    Py_RETURN_NOTIMPLEMENTED;
}


/* ------------------------------------------------------------------------------------------------ CUDA */

/* Driver API entry points, called through pointers the Python side looked up in libcuda (no CUDA headers or
 * link-time dependency). */
typedef int (*cu_launch_fn)(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned smem, void* stream, void** params, void** extra);
typedef int (*cu_sync_fn)(void* stream);
typedef int (*cu_errname_fn)(int code, const char** name);
typedef int (*cu_ctxget_fn)(void** ctx);
typedef int (*cu_ctxset_fn)(void* ctx);

enum { PAT_FOR = 0, PAT_REDUCE = 1, PAT_SCAN = 2, PAT_TEAM_FOR = 3, PAT_TEAM_REDUCE = 4 };

typedef struct {
    PyObject_HEAD
    void* fn[3];
    int nfn;
    int pattern;
    unsigned block;
    unsigned scan2_block;
    long long max_grid; /* reductions and scans: blocks that fill the device */
    cu_launch_fn launch;
    cu_sync_fn sync;
    cu_errname_fn errname;
    cu_ctxget_fn ctxget;
    cu_ctxset_fn ctxset;
    void* ctx;
    void* stream;
    kk_result_t* result; /* pinned, device-mapped */
    void* scratch;
    unsigned int* counter;
    int* err_flag;
    char* scratch1;          /* TeamPolicy level-1 scratch */
    long long scratch1_cap;  /* its bytes */
    long long smem_cap;      /* dynamic shared memory the function may use (set by the Python side) */
    int device;
    Py_ssize_t nparams;
    kk_param_t* params;
    PyObject* guards;
    char result_tag;
    PyObject* label;
    PyObject* keepalive;
} KKCudaSpec;

static void cudaspec_dealloc(KKCudaSpec* self) {
    for (Py_ssize_t k = 0; k < self->nparams; ++k) {
        Py_XDECREF(self->params[k].name);
        Py_XDECREF(self->params[k].pytype);
    }
    PyMem_Free(self->params);
    Py_XDECREF(self->guards);
    Py_XDECREF(self->label);
    Py_XDECREF(self->keepalive);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

static int parse_params(PyObject* params, Py_ssize_t* n_out, kk_param_t** out);

/* CudaSpec(functions, pattern, block, scan2_block, max_grid, entry_points, ctx, stream, result, scratch,
 *          counter, err_flag, device, params, guards, result_tag, label, keepalive)
 * entry_points: (cuLaunchKernel, cuStreamSynchronize, cuGetErrorName, cuCtxGetCurrent, cuCtxSetCurrent) */
static int cudaspec_init(KKCudaSpec* self, PyObject* args, PyObject* kw) {
    PyObject *fns, *eps, *params, *guards, *label, *keepalive;
    const char *pattern, *tag;
    unsigned long long ctx, stream, result, scratch, counter, errflag;
    if (!PyArg_ParseTuple(args, "O!sIIiO!KKKKKKiO!O!sUO", &PyTuple_Type, &fns, &pattern, &self->block,
                          &self->scan2_block, &self->max_grid, &PyTuple_Type, &eps, &ctx, &stream, &result,
                          &scratch, &counter, &errflag, &self->device, &PyTuple_Type, &params, &PyTuple_Type,
                          &guards, &tag, &label, &keepalive))
        return -1;
    self->nfn = (int)PyTuple_GET_SIZE(fns);
    if (self->nfn < 1 || self->nfn > 3 || PyTuple_GET_SIZE(eps) != 5) {
        PyErr_SetString(PyExc_ValueError, "CudaSpec: 1-3 functions and 5 entry points");
        return -1;
    }
    for (int k = 0; k < self->nfn; ++k) self->fn[k] = PyLong_AsVoidPtr(PyTuple_GET_ITEM(fns, k));
    self->launch = (cu_launch_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 0));
    self->sync = (cu_sync_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 1));
    self->errname = (cu_errname_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 2));
    self->ctxget = (cu_ctxget_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 3));
    self->ctxset = (cu_ctxset_fn)PyLong_AsVoidPtr(PyTuple_GET_ITEM(eps, 4));
    if (PyErr_Occurred()) return -1;
    self->pattern = pattern[0] == 'f' ? PAT_FOR : pattern[0] == 'r' ? PAT_REDUCE : PAT_SCAN;
    if (pattern[0] == 't') self->pattern = pattern[5] == 'f' ? PAT_TEAM_FOR : PAT_TEAM_REDUCE; /* team_for/_reduce */
    self->ctx = (void*)(uintptr_t)ctx;
    self->stream = (void*)(uintptr_t)stream;
    self->result = (kk_result_t*)(uintptr_t)result;
    self->scratch = (void*)(uintptr_t)scratch;
    self->counter = (unsigned int*)(uintptr_t)counter;
    self->err_flag = (int*)(uintptr_t)errflag;
    if (parse_params(params, &self->nparams, &self->params) < 0) return -1;
    self->guards = Py_NewRef(guards);
    self->result_tag = tag[0];
    self->label = Py_NewRef(label);
    self->keepalive = Py_NewRef(keepalive);
    return 0;
}

/* set_team_resources(scratch1, scratch1_bytes, smem_bytes) */
static PyObject* cudaspec_set_team(KKCudaSpec* self, PyObject* args) {
    unsigned long long p;
    if (!PyArg_ParseTuple(args, "KLL", &p, &self->scratch1_cap, &self->smem_cap)) return NULL;
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

static int layout_matches(char layout, int nd, const long long* shape, const long long* str) {
    int c = 1, f = 1;
    long long e = 1;
    for (int k = nd - 1; k >= 0; --k) {
        if (shape[k] != 1 && str[k] != e) c = 0;
        e *= shape[k];
    }
    e = 1;
    for (int k = 0; k < nd; ++k) {
        if (shape[k] != 1 && str[k] != e) f = 0;
        e *= shape[k];
    }
    if (e == 0) c = 1; /* an empty array is contiguous */
    if (layout == 'C') return c;
    if (layout == 'F') return f && !c && nd > 1;
    return !c;
}

static int match_device_array(const kk_param_t* q, PyObject* v, int device, kk_arg_t* out, PyObject** written) {
    if (!PyObject_TypeCheck(v, &KKViewBase_Type)) return 0;
    KKViewBase* vb = (KKViewBase*)v;
    if (vb->traits != q->traits) return 0;
    if (vb->dptr == 0 || vb->ddevice != device || (vb->flags & (KK_DEVICE_STALE | KK_DERIVED))) return 0;
    if (vb->dndim != q->ndim || vb->dtcode != q->dtcode) return 0;
    if (!layout_matches(q->layout, vb->dndim, vb->dshape, vb->dstr)) return 0;
    out->a.data = (char*)(uintptr_t)vb->dptr;
    for (int k = 0; k < q->ndim; ++k) {
        out->a.ext[k] = vb->dshape[k];
        out->a.str[k] = vb->dstr[k];
    }
    *written = q->writes ? v : NULL;
    return 1;
}

static PyObject* g_last_cuda_label = NULL; /* the label of the last CUDA kernel launched: named by fence errors */

static PyObject* cuda_error(KKCudaSpec* spec, int code, const char* what) {
    const char* name = "unknown";
    if (spec->errname) spec->errname(code, &name);
    PyErr_Format(g_error_class ? g_error_class : PyExc_RuntimeError,
                 "CUDA error in kernel %R: %s failed with %s (%d)", spec->label, what, name ? name : "?", code);
    return NULL;
}

static PyObject* cuda_run(KKCudaSpec* spec, PyObject* lo, PyObject* hi, PyObject* tile, const kk_arg_t* packed,
                          PyObject* init, void* stream) {
    kk_launch_t L;
    if (read_policy(lo, hi, tile, &L) < 0) return NULL;
    const Py_ssize_t nslots = spec->nparams ? spec->nparams : 1;
    size_t size = sizeof(kk_dlaunch_t) + sizeof(kk_arg_t) * (size_t)nslots;
    char stack_buf[sizeof(kk_dlaunch_t) + sizeof(kk_arg_t) * KK_STACK_ARGS] __attribute__((aligned(16)));
    char* buf = (size <= sizeof(stack_buf)) ? stack_buf : PyMem_Malloc(size);
    if (!buf) return PyErr_NoMemory();
    kk_dlaunch_t* D = (kk_dlaunch_t*)buf; /* the kernel's kk_params: D, then the arguments */
    memset(D, 0, sizeof(*D));
    long long total = 1;
    for (int k = 0; k < L.rank; ++k) {
        D->lo[k] = L.lo[k];
        D->hi[k] = L.hi[k];
        D->tile[k] = L.tile[k];
        total *= (L.hi[k] > L.lo[k] ? L.hi[k] - L.lo[k] : 0);
    }
    D->rank = L.rank;
    D->result = spec->result;
    D->scratch = spec->scratch;
    D->counter = spec->counter;
    D->err_flag = spec->err_flag;
    if (spec->nparams) memcpy(buf + sizeof(kk_dlaunch_t), packed, sizeof(kk_arg_t) * spec->nparams);
    else memset(buf + sizeof(kk_dlaunch_t), 0, sizeof(kk_arg_t));
    if ((spec->pattern == PAT_REDUCE || spec->pattern == PAT_TEAM_REDUCE) && init != Py_None && spec->result_tag) {
        if (write_init(spec->result_tag, init, spec->result) < 0) goto fail;
        D->has_init = 1;
    }
    void* cur = NULL;
    if (spec->ctxget(&cur) != 0 || cur != spec->ctx) spec->ctxset(spec->ctx);
    if (g_last_cuda_label != spec->label) Py_XSETREF(g_last_cuda_label, Py_NewRef(spec->label));
    int rc;
    void* extra[] = {(void*)1, buf, (void*)2, &size, (void*)0};
    if (spec->pattern == PAT_TEAM_FOR || spec->pattern == PAT_TEAM_REDUCE) {
        /* lo = (league, team_size, vector_length), hi = scratch bytes (team L0, L1, thread L0, L1) */
        const long long league = L.lo[0], ts = L.lo[1], vl = L.lo[2];
        long long grid = league < spec->max_grid ? league : spec->max_grid;
        if (grid < 1) grid = 1;
        D->scratch1 = spec->scratch1;
        const long long smem = L.hi[0] + ts * L.hi[2];
        rc = spec->launch(spec->fn[0], (unsigned)grid, 1, 1, (unsigned)vl, (unsigned)ts, 1, (unsigned)smem,
                          stream, NULL, extra);
        if (rc) { cuda_error(spec, rc, "cuLaunchKernel (team)"); goto fail; }
        goto done;
    }
    if (L.rank >= 2 && (spec->pattern == PAT_FOR || spec->pattern == PAT_REDUCE)) {
        /* MDRange: a tile is a block (x along the last dimension, y the one before), z the outer dimensions */
        const int R = L.rank;
        long long ext[KK_MAX_POLICY_RANK], outer = 1;
        for (int k = 0; k < R; ++k) {
            ext[k] = L.hi[k] > L.lo[k] ? L.hi[k] - L.lo[k] : 0;
            if (k < R - 2) outer *= ext[k];
        }
        if (spec->pattern == PAT_FOR && total == 0) goto done;
        long long bx = L.tile[R - 1] > 0 ? L.tile[R - 1] : 32, by = L.tile[R - 2] > 0 ? L.tile[R - 2] : 8;
        if (bx > 256) bx = 256;
        if (bx * by > 256) by = 256 / bx > 0 ? 256 / bx : 1;
        long long g[3] = {(ext[R - 1] + bx - 1) / bx, (ext[R - 2] + by - 1) / by, outer};
        const long long cap[3] = {(1LL << 31) - 1, 65535, 65535};
        for (int d = 0; d < 3; ++d) {
            if (g[d] < 1) g[d] = 1;
            if (g[d] > cap[d]) g[d] = cap[d];
        }
        if (spec->pattern == PAT_REDUCE) /* every block leaves a partial: at most max_grid of them */
            while (g[0] * g[1] * g[2] > spec->max_grid) {
                int d = g[0] >= g[1] && g[0] >= g[2] ? 0 : (g[1] >= g[2] ? 1 : 2);
                g[d] = (g[d] + 1) / 2;
            }
        rc = spec->launch(spec->fn[0], (unsigned)g[0], (unsigned)g[1], (unsigned)g[2], (unsigned)bx,
                          (unsigned)by, 1, 0, stream, NULL, extra);
        if (rc) { cuda_error(spec, rc, "cuLaunchKernel (MDRange)"); goto fail; }
        goto done;
    }
    long long blocks = (total + spec->block - 1) / spec->block;
    if (spec->pattern != PAT_FOR && blocks > spec->max_grid) blocks = spec->max_grid;
    if (blocks > (1LL << 30)) blocks = 1LL << 30; /* grid-stride loops cover the rest */
    if (spec->pattern == PAT_FOR && total == 0) goto done;
    if (blocks < 1) blocks = 1;
    if (spec->pattern == PAT_SCAN) {
        rc = spec->launch(spec->fn[0], (unsigned)blocks, 1, 1, spec->block, 1, 1, 0, stream, NULL, extra);
        if (rc) { cuda_error(spec, rc, "cuLaunchKernel (scan phase 1)"); goto fail; }
        D->tile[0] = blocks * spec->block;
        rc = spec->launch(spec->fn[1], 1, 1, 1, spec->scan2_block, 1, 1, 0, stream, NULL, extra);
        if (rc) { cuda_error(spec, rc, "cuLaunchKernel (scan phase 2)"); goto fail; }
        D->tile[0] = L.tile[0];
        rc = spec->launch(spec->fn[2], (unsigned)blocks, 1, 1, spec->block, 1, 1, 0, stream, NULL, extra);
        if (rc) { cuda_error(spec, rc, "cuLaunchKernel (scan phase 3)"); goto fail; }
    } else {
        rc = spec->launch(spec->fn[0], (unsigned)blocks, 1, 1, spec->block, 1, 1, 0, stream, NULL, extra);
        if (rc) { cuda_error(spec, rc, "cuLaunchKernel"); goto fail; }
    }
done:
    if (buf != stack_buf) PyMem_Free(buf);
    if (spec->pattern == PAT_FOR || spec->pattern == PAT_TEAM_FOR) Py_RETURN_NONE;
    Py_BEGIN_ALLOW_THREADS
    rc = spec->sync(stream);
    Py_END_ALLOW_THREADS
    if (rc) return cuda_error(spec, rc, "cuStreamSynchronize");
    return read_result(spec->result_tag, (const kk_result_t*)spec->result);
fail:
    if (buf != stack_buf) PyMem_Free(buf);
    return NULL;
}

/* launch_cuda(specs, lo, hi, tile, kwargs, init[, stream]) -> result | None | NotImplemented
 * stream: a CUstream handle (int); 0 or absent: the spec's stream (the legacy default stream). */
static PyObject* kk_launch_cuda(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    if ((nargs != 6 && nargs != 7) || !PyList_Check(args[0]) || !PyDict_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "launch_cuda(specs: list, lo, hi, tile, kwargs: dict, init[, stream])");
        return NULL;
    }
    void* stream_override = NULL;
    if (nargs == 7 && args[6] != Py_None) {
        stream_override = PyLong_AsVoidPtr(args[6]);
        if (stream_override == NULL && PyErr_Occurred()) return NULL;
    }
    PyObject* specs = args[0];
    PyObject* kwargs = args[4];
    const Py_ssize_t nkw = PyDict_GET_SIZE(kwargs);
    kk_pack_t P;
    for (Py_ssize_t s = 0; s < PyList_GET_SIZE(specs); ++s) {
        KKCudaSpec* spec = (KKCudaSpec*)PyList_GET_ITEM(specs, s);
        if (Py_TYPE(spec) != &KKCudaSpec_Type || spec->nparams != nkw) continue;
        int g = check_guards(spec->guards);
        if (g < 0) return NULL;
        if (g == 0) continue;
        int ok = pack_args(spec->params, spec->nparams, kwargs, spec->device, &P);
        if (ok == 1 && (spec->pattern == PAT_TEAM_FOR || spec->pattern == PAT_TEAM_REDUCE) &&
            PyTuple_Check(args[1]) && PyTuple_Check(args[2]) && PyTuple_GET_SIZE(args[1]) >= 3 &&
            PyTuple_GET_SIZE(args[2]) >= 4) {
            const long long ts = PyLong_AsLongLong(PyTuple_GET_ITEM(args[1], 1));
            const long long s0 = PyLong_AsLongLong(PyTuple_GET_ITEM(args[2], 0));
            const long long s1 = PyLong_AsLongLong(PyTuple_GET_ITEM(args[2], 1));
            const long long t0 = PyLong_AsLongLong(PyTuple_GET_ITEM(args[2], 2));
            const long long t1 = PyLong_AsLongLong(PyTuple_GET_ITEM(args[2], 3));
            if (PyErr_Occurred()) ok = -1;
            else if (s0 + ts * t0 > spec->smem_cap || (s1 + ts * t1) * spec->max_grid > spec->scratch1_cap) ok = 0;
        }
        PyObject* r = NULL;
        if (ok == 1) {
            r = cuda_run(spec, args[1], args[2], args[3], P.args, args[5],
                         stream_override ? stream_override : spec->stream);
            if (r != NULL)
                for (Py_ssize_t k = 0; k < spec->nparams; ++k)
                    if (P.written[k]) ((KKViewBase*)P.written[k])->flags |= KK_HOST_STALE;
        }
        pack_free(&P);
        if (ok < 0) return NULL;
        if (ok == 1) return r;
    }
    Py_RETURN_NOTIMPLEMENTED;
}


/* ------------------------------------------------------------------------------------------------ Clean */

/* A public entry point: calls a Python function and, when it raises a KernelError, drops the traceback entries
 * of kernelkit's own frames, so the user's traceback ends at their call. It has to be C: a frame that re-raises
 * in Python always appears in the traceback. A descriptor too, so it works as a method (e.g. __init__). */
static PyObject* g_clean_class = NULL; /* kernelkit.errors.KernelError */
static int g_keep_frames = 0;          /* KERNELKIT_DEBUG=1 */

typedef struct {
    PyObject_HEAD
    PyObject* fn;
    vectorcallfunc vectorcall;
    PyObject* dict;
} KKClean;

static PyObject* clean_finish(PyObject* r) {
    if (r != NULL || g_keep_frames || g_clean_class == NULL) return r;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v != NULL && PyObject_IsInstance(v, g_clean_class) == 1) {
        Py_CLEAR(tb);
        PyException_SetTraceback(v, Py_None);
    }
    PyErr_Restore(t, v, tb);
    return NULL;
}

static PyObject* clean_vectorcall(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    return clean_finish(PyObject_Vectorcall(((KKClean*)self)->fn, args, nargsf, kwnames));
}

static int clean_init(KKClean* self, PyObject* args, PyObject* kw) {
    PyObject* fn;
    if (!PyArg_ParseTuple(args, "O", &fn)) return -1;
    Py_XSETREF(self->fn, Py_NewRef(fn));
    self->vectorcall = clean_vectorcall;
    /* look like the wrapped function: name, docstring, signature */
    if (self->dict == NULL) self->dict = PyDict_New();
    if (self->dict == NULL) return -1;
    const char* attrs[] = {"__name__", "__qualname__", "__doc__", "__module__", "__wrapped__", NULL};
    for (int k = 0; attrs[k]; ++k) {
        PyObject* a = k == 4 ? Py_NewRef(fn) : PyObject_GetAttrString(fn, attrs[k]);
        if (a == NULL) { PyErr_Clear(); continue; }
        PyDict_SetItemString(self->dict, attrs[k], a);
        Py_DECREF(a);
    }
    return 0;
}

static PyObject* clean_call(PyObject* self, PyObject* args, PyObject* kw) {
    return clean_finish(PyObject_Call(((KKClean*)self)->fn, args, kw));
}

static PyObject* clean_get(PyObject* self, PyObject* obj, PyObject* type) {
    if (obj == NULL || obj == Py_None) return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static int clean_traverse(KKClean* self, visitproc visit, void* arg) {
    Py_VISIT(self->fn);
    Py_VISIT(self->dict);
    return 0;
}

static int clean_clear(KKClean* self) {
    Py_CLEAR(self->fn);
    Py_CLEAR(self->dict);
    return 0;
}

static void clean_dealloc(KKClean* self) {
    PyObject_GC_UnTrack(self);
    clean_clear(self);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyObject* clean_repr(KKClean* self) { return PyObject_Repr(self->fn); }

static PyTypeObject KKClean_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kernelkit._native.clean",
    .tp_basicsize = sizeof(KKClean),
    .tp_dealloc = (destructor)clean_dealloc,
    .tp_vectorcall_offset = offsetof(KKClean, vectorcall),
    .tp_call = clean_call,
    .tp_repr = (reprfunc)clean_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "A public kernelkit entry point (tracebacks of KernelErrors end at the caller).",
    .tp_traverse = (traverseproc)clean_traverse,
    .tp_clear = (inquiry)clean_clear,
    .tp_descr_get = clean_get,
    .tp_dictoffset = offsetof(KKClean, dict),
    .tp_init = (initproc)clean_init,
    .tp_new = PyType_GenericNew,
};

static PyObject* kk_set_clean(PyObject* self, PyObject* args) {
    PyObject* cls;
    int keep;
    if (!PyArg_ParseTuple(args, "Op", &cls, &keep)) return NULL;
    Py_XSETREF(g_clean_class, Py_NewRef(cls));
    g_keep_frames = keep;
    Py_RETURN_NONE;
}

static PyObject* kk_last_cuda_kernel(PyObject* self, PyObject* unused) {
    return Py_NewRef(g_last_cuda_label ? g_last_cuda_label : Py_None);
}

static PyObject* kk_set_num_threads(PyObject* self, PyObject* arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "the number of threads must be >= 1");
        return NULL;
    }
    g_nthreads = (int)n;
    Py_RETURN_NONE;
}

static PyObject* kk_get_num_threads(PyObject* self, PyObject* unused) { return PyLong_FromLong(g_nthreads); }

static PyObject* kk_set_error_class(PyObject* self, PyObject* cls) {
    Py_XSETREF(g_error_class, Py_NewRef(cls));
    Py_RETURN_NONE;
}

static PyMethodDef kk_methods[] = {
    {"launch", (PyCFunction)(void (*)(void))kk_launch, METH_FASTCALL,
     "launch(specs, lo, hi, tile, kwargs, init): run the first matching spec, else NotImplemented"},
    {"launch_cuda", (PyCFunction)(void (*)(void))kk_launch_cuda, METH_FASTCALL,
     "launch_cuda(specs, lo, hi, tile, kwargs, init): run the first matching CUDA spec, else NotImplemented"},
    {"set_clean", kk_set_clean, METH_VARARGS, "set_clean(KernelError, keep_frames)"},
    {"last_cuda_kernel", kk_last_cuda_kernel, METH_NOARGS, "label of the last CUDA kernel launched"},
    {"set_num_threads", kk_set_num_threads, METH_O, "threads used by OpenMP launches"},
    {"get_num_threads", kk_get_num_threads, METH_NOARGS, "threads used by OpenMP launches"},
    {"set_error_class", kk_set_error_class, METH_O, "exception raised when a kernel reports an error"},
    {NULL},
};

static struct PyModuleDef kk_module = {PyModuleDef_HEAD_INIT, "kernelkit._native", NULL, -1, kk_methods};

PyMODINIT_FUNC PyInit__native(void) {
    import_array();
    if (PyType_Ready(&KKViewBase_Type) < 0 || PyType_Ready(&KKSpec_Type) < 0 || PyType_Ready(&KKCudaSpec_Type) < 0 ||
        PyType_Ready(&KKClean_Type) < 0)
        return NULL;
    PyObject* m = PyModule_Create(&kk_module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "ViewBase", (PyObject*)&KKViewBase_Type) < 0 ||
        PyModule_AddObjectRef(m, "Spec", (PyObject*)&KKSpec_Type) < 0 ||
        PyModule_AddObjectRef(m, "CudaSpec", (PyObject*)&KKCudaSpec_Type) < 0 ||
        PyModule_AddObjectRef(m, "clean", (PyObject*)&KKClean_Type) < 0 ||
        PyModule_AddIntConstant(m, "HOST_STALE", KK_HOST_STALE) < 0 ||
        PyModule_AddIntConstant(m, "DEVICE_STALE", KK_DEVICE_STALE) < 0 ||
        PyModule_AddIntConstant(m, "HAS_DEVICE", KK_HAS_DEVICE) < 0 ||
        PyModule_AddIntConstant(m, "DERIVED", KK_DERIVED) < 0 ||
        PyModule_AddIntConstant(m, "TRAIT_ATOMIC", KK_TRAIT_ATOMIC) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
