/* The launch record, compiled specializations, argument matching and packing, and the host launcher.
 *
 * launch(specs, rec, kwargs, place) tries each compiled specialization of a workunit in turn: a spec matches when
 * its guards (captured globals) still hold and every keyword argument has the Python type, dtype, rank and layout
 * it was compiled for. The first match is packed into a kk_launch_t and its entry point is called with the GIL
 * released. No match returns NotImplemented and runtime/launcher.py's slow path builds a new spec. The work per
 * call is proportional to the number of arguments, never to the kernel. */
#include "native.h"

#include <time.h>

/* ------------------------------------------------------------------------------------------------ Launch */

static const char* const PATTERN_NAMES[] = {"for", "reduce", "scan"};

static int parse_pattern(PyObject* p, int* out) {
    const char* s = PyUnicode_Check(p) ? PyUnicode_AsUTF8(p) : NULL;
    if (s != NULL)
        for (int k = 0; k < 3; ++k)
            if (strcmp(s, PATTERN_NAMES[k]) == 0) {
                *out = k;
                return 0;
            }
    if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "unknown pattern %R (for, reduce, scan)", p);
    return -1;
}

/* an int bound that must fit in int64: a KernelValueError naming it otherwise */
static int read_bound(PyObject* v, const char* what, int dim, long long* out) {
    int overflow = 0;
    PyObject* n = PyLong_CheckExact(v) ? Py_NewRef(v) : PyNumber_Index(v);
    if (n == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "the policy's %s must be an integer, got %.100s", what, Py_TYPE(v)->tp_name);
        return -1;
    }
    *out = PyLong_AsLongLongAndOverflow(n, &overflow);
    if (overflow || (*out == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        if (dim < 0)
            PyErr_Format(kk_value_error, "the policy's %s %R does not fit in a 64-bit index", what, n);
        else
            PyErr_Format(kk_value_error, "the policy's %s %R (dimension %d) does not fit in a 64-bit index", what, n,
                         dim);
        Py_DECREF(n);
        return -1;
    }
    Py_DECREF(n);
    return 0;
}

static int read_bounds(PyObject* v, const char* what, int rank, long long* out) {
    if (rank == 1 && !PyTuple_Check(v)) return read_bound(v, what, -1, out);
    for (int k = 0; k < rank; ++k)
        if (read_bound(PyTuple_GET_ITEM(v, k), what, k, &out[k]) < 0) return -1;
    return 0;
}

/* every index of the policy and their count must be representable: a clear error instead of a hang or a
 * wrapped loop (the same on every space, since every space goes through here) */
static int check_extent(KKLaunch* L) {
    long long total = 1;
    for (int k = 0; k < L->rank; ++k) {
        long long ext;
        if (L->hi[k] < L->lo[k]) {
            PyErr_Format(kk_value_error, "the policy's end (%lld) is before its begin (%lld)%s", L->hi[k], L->lo[k],
                         L->rank > 1 ? " in one dimension" : "");
            return -1;
        }
        if (__builtin_sub_overflow(L->hi[k], L->lo[k], &ext) || __builtin_mul_overflow(total, ext, &total)) {
            PyErr_Format(kk_value_error,
                         "the policy has more than 2**63 - 1 indices (end - begin overflows a 64-bit count)");
            return -1;
        }
    }
    return 0;
}

/* the launch kind, which selects a workunit's spec list: a small int (pattern * 8 + rank, teams rank 7) when there
 * is no reducer and no initial value (the common case: cheap to make and to hash), else a tuple with them */
static PyObject* make_kind(KKLaunch* L) {
    const long code = L->pattern * 8 + (L->rank ? L->rank : 7);
    if (L->reducer == Py_None && L->init == Py_None) return PyLong_FromLong(code);
    PyObject* itype = L->init == Py_None ? Py_None : (PyObject*)Py_TYPE(L->init);
    return Py_BuildValue("(lOO)", code, L->reducer, itype);
}

static KKLaunch* launch_alloc(void) {
    KKLaunch* L = PyObject_New(KKLaunch, &KKLaunch_Type);
    if (L == NULL) return NULL;
    memset((char*)L + sizeof(PyObject), 0, sizeof(KKLaunch) - sizeof(PyObject));
    L->reducer = Py_NewRef(Py_None);
    L->init = Py_NewRef(Py_None);
    L->label = Py_NewRef(Py_None);
    return L;
}

static int launch_finish(KKLaunch* L, PyObject* reducer, PyObject* init, PyObject* label) {
    if (reducer) Py_SETREF(L->reducer, Py_NewRef(reducer));
    if (init) Py_SETREF(L->init, Py_NewRef(init));
    if (label) Py_SETREF(L->label, Py_NewRef(label));
    L->kind = make_kind(L);
    return L->kind == NULL ? -1 : 0;
}

/* Launch(pattern, lo, hi, tile=None, reducer=None, init=None, label=None)
 * lo, hi: ints (a range) or tuples of 2..6 ints (an MDRange); tile: None or a tuple like lo. */
static PyObject* launch_vectorcall(PyObject* type, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        PyErr_SetString(PyExc_TypeError, "Launch() takes positional arguments only");
        return NULL;
    }
    if (n < 3 || n > 7) {
        PyErr_SetString(PyExc_TypeError, "Launch(pattern, lo, hi, tile=None, reducer=None, init=None, label=None)");
        return NULL;
    }
    KKLaunch* L = launch_alloc();
    if (L == NULL) return NULL;
    PyObject *lo = args[1], *hi = args[2], *tile = n > 3 ? args[3] : Py_None;
    if (parse_pattern(args[0], &L->pattern) < 0) goto fail;
    if (PyTuple_Check(lo)) {
        Py_ssize_t r = PyTuple_GET_SIZE(lo);
        if (!PyTuple_Check(hi) || PyTuple_GET_SIZE(hi) != r || r < 1 || r > KK_MAX_POLICY_RANK) {
            PyErr_SetString(PyExc_TypeError, "policy bounds must be ints or tuples of equal length (rank <= 6)");
            goto fail;
        }
        L->rank = (int)r;
    } else {
        L->rank = 1;
    }
    if (read_bounds(lo, "begin", L->rank, L->lo) < 0 || read_bounds(hi, "end", L->rank, L->hi) < 0) goto fail;
    if (tile != Py_None) {
        if (!PyTuple_Check(tile) || PyTuple_GET_SIZE(tile) != L->rank) {
            PyErr_SetString(PyExc_TypeError, "a tile has one size per dimension");
            goto fail;
        }
        if (read_bounds(tile, "tile", L->rank, L->tile) < 0) goto fail;
    }
    if (check_extent(L) < 0) goto fail;
    if (launch_finish(L, n > 4 ? args[4] : NULL, n > 5 ? args[5] : NULL, n > 6 ? args[6] : NULL) < 0) goto fail;
    return (PyObject*)L;
fail:
    Py_DECREF(L);
    return NULL;
}

/* The record of a one-dimensional launch over [lo, hi) with no reducer or initial value, for the C fast path of
 * parallel_for (fastpath.c); NULL with the error set when the range is invalid (end before begin). */
PyObject* kk_range_launch(int pattern, long long lo, long long hi, PyObject* label) {
    KKLaunch* L = launch_alloc();
    if (L == NULL) return NULL;
    L->pattern = pattern;
    L->rank = 1;
    L->lo[0] = lo;
    L->hi[0] = hi;
    if (check_extent(L) < 0 || launch_finish(L, NULL, NULL, label) < 0) {
        Py_DECREF(L);
        return NULL;
    }
    return (PyObject*)L;
}

/* team_launch(pattern, league, team_size, vector_length, scratch, reducer=None, init=None, label=None)
 * team_size 0 means AUTO; scratch = (team L0, team L1, thread L0, thread L1) bytes */
static PyObject* kk_team_launch(PyObject* self, PyObject* const* args, Py_ssize_t n) {
    if (n < 5 || n > 8 || !PyTuple_Check(args[4]) || PyTuple_GET_SIZE(args[4]) != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "team_launch(pattern, league, team_size, vector_length, (s0, s1, t0, t1), reducer, init, label)");
        return NULL;
    }
    KKLaunch* L = launch_alloc();
    if (L == NULL) return NULL;
    if (parse_pattern(args[0], &L->pattern) < 0) goto fail;
    L->rank = 0;
    if (read_bound(args[1], "league size", -1, &L->league) < 0 || read_bound(args[2], "team size", -1, &L->team_size) < 0 ||
        read_bound(args[3], "vector length", -1, &L->vector_length) < 0)
        goto fail;
    for (int k = 0; k < 4; ++k)
        if (read_bound(PyTuple_GET_ITEM(args[4], k), "scratch size", -1, &L->scratch[k]) < 0) goto fail;
    if (L->league < 0 || L->team_size < 0 || L->vector_length < 1) {
        PyErr_SetString(kk_value_error, "a TeamPolicy needs league_size >= 0, team_size >= 1 and vector_length >= 1");
        goto fail;
    }
    /* threads and lanes are counted in 32 bits by every driver: a larger request is an error, never truncated */
    if (L->team_size > INT32_MAX || L->vector_length > INT32_MAX ||
        L->team_size * L->vector_length > INT32_MAX) {
        PyErr_Format(kk_value_error,
                     "a TeamPolicy of team_size %lld and vector_length %lld asks for more than 2**31 - 1 threads "
                     "per team; no space runs that many (use pk.AUTO or a smaller team)",
                     L->team_size, L->vector_length);
        goto fail;
    }
    for (int k = 0; k < 4; ++k)
        if (L->scratch[k] < 0) {
            PyErr_Format(kk_value_error, "a TeamPolicy's scratch size cannot be negative (got %lld)", L->scratch[k]);
            goto fail;
        }
    if (launch_finish(L, n > 5 ? args[5] : NULL, n > 6 ? args[6] : NULL, n > 7 ? args[7] : NULL) < 0) goto fail;
    return (PyObject*)L;
fail:
    Py_DECREF(L);
    return NULL;
}

static void launch_dealloc(KKLaunch* L) {
    Py_XDECREF(L->reducer);
    Py_XDECREF(L->init);
    Py_XDECREF(L->label);
    Py_XDECREF(L->kind);
    PyObject_Free(L);
}

static PyObject* tuple_of(const long long* v, int n) {
    PyObject* t = PyTuple_New(n);
    if (t == NULL) return NULL;
    for (int k = 0; k < n; ++k) {
        PyObject* x = PyLong_FromLongLong(v[k]);
        if (x == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, x);
    }
    return t;
}

static PyObject* launch_get(KKLaunch* L, void* which) {
    switch ((int)(intptr_t)which) {
    case 0: return PyUnicode_FromString(PATTERN_NAMES[L->pattern]);
    case 1: return L->rank == 1 ? PyLong_FromLongLong(L->lo[0]) : tuple_of(L->lo, L->rank);
    case 2: return L->rank == 1 ? PyLong_FromLongLong(L->hi[0]) : tuple_of(L->hi, L->rank);
    case 3: {
        int any = 0;
        for (int k = 0; k < L->rank; ++k) any |= L->tile[k] != 0;
        return any ? tuple_of(L->tile, L->rank) : Py_NewRef(Py_None);
    }
    case 4: return PyBool_FromLong(L->rank == 0);
    case 5: return PyLong_FromLongLong(L->league);
    case 6: return PyLong_FromLongLong(L->team_size);
    case 7: return PyLong_FromLongLong(L->vector_length);
    case 8: return tuple_of(L->scratch, 2);
    case 9: return tuple_of(L->scratch + 2, 2);
    default: return tuple_of(L->scratch, 4);
    }
}

static PyObject* launch_repr(KKLaunch* L) {
    if (L->rank == 0)
        return PyUnicode_FromFormat("Launch(%s, team league=%lld team_size=%lld vector_length=%lld, label=%R)",
                                    PATTERN_NAMES[L->pattern], L->league, L->team_size, L->vector_length, L->label);
    PyObject* lo = launch_get(L, (void*)1);
    PyObject* hi = launch_get(L, (void*)2);
    PyObject* r = (lo && hi) ? PyUnicode_FromFormat("Launch(%s, %R..%R, reducer=%R, label=%R)",
                                                    PATTERN_NAMES[L->pattern], lo, hi, L->reducer, L->label)
                             : NULL;
    Py_XDECREF(lo);
    Py_XDECREF(hi);
    return r;
}

static PyGetSetDef launch_getset[] = {
    {"pattern", (getter)launch_get, NULL, "for, reduce or scan", (void*)0},
    {"lo", (getter)launch_get, NULL, "begin (an int, or a tuple for an MDRange)", (void*)1},
    {"hi", (getter)launch_get, NULL, "end (an int, or a tuple for an MDRange)", (void*)2},
    {"tile", (getter)launch_get, NULL, "MDRange tile, or None", (void*)3},
    {"is_team", (getter)launch_get, NULL, "a TeamPolicy launch", (void*)4},
    {"league_size", (getter)launch_get, NULL, "teams", (void*)5},
    {"team_size", (getter)launch_get, NULL, "threads per team (0: AUTO)", (void*)6},
    {"vector_length", (getter)launch_get, NULL, "vector lanes per thread", (void*)7},
    {"scratch_team", (getter)launch_get, NULL, "per-team scratch bytes (level 0, level 1)", (void*)8},
    {"scratch_thread", (getter)launch_get, NULL, "per-thread scratch bytes (level 0, level 1)", (void*)9},
    {"scratch", (getter)launch_get, NULL, "(team L0, team L1, thread L0, thread L1) bytes", (void*)10},
    {NULL},
};

static PyMemberDef launch_members[] = {
    {"rank", T_INT, offsetof(KKLaunch, rank), READONLY, "policy rank (0 for teams)"},
    {"reducer", T_OBJECT, offsetof(KKLaunch, reducer), READONLY, "the reducer, or None"},
    {"init", T_OBJECT, offsetof(KKLaunch, init), READONLY, "the initial value, or None"},
    {"label", T_OBJECT, offsetof(KKLaunch, label), READONLY, "the launch's label, or None"},
    {"kind", T_OBJECT, offsetof(KKLaunch, kind), READONLY, "selects the spec list: pattern * 8 + rank, with reducer and type(init) when given"},
    {NULL},
};

PyTypeObject KKLaunch_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kernelkit._native.Launch",
    .tp_basicsize = sizeof(KKLaunch),
    .tp_dealloc = (destructor)launch_dealloc,
    .tp_repr = (reprfunc)launch_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One launch: pattern, policy bounds, tile or team sizes, reducer, initial value, label (validated).",
    .tp_getset = launch_getset,
    .tp_members = launch_members,
    .tp_vectorcall = launch_vectorcall,
};

/* ------------------------------------------------------------------------------------------------ Spec */

typedef struct {
    PyObject_HEAD
    kk_entry_t entry;
    Py_ssize_t nparams;
    kk_param_t* params;
    PyObject* guards;    /* tuple of (holder, key-or-None, expected) */
    char result_tag;     /* 0 none; f i u b; F I U B with a location (MinLoc/MaxLoc) */
    PyObject* keepalive; /* the loaded library object: the entry lives as long as the spec */
} KKSpec;

static void spec_dealloc(KKSpec* self) {
    kk_free_params(self->params, self->nparams);
    Py_XDECREF(self->guards);
    Py_XDECREF(self->keepalive);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

void kk_free_params(kk_param_t* ps, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; ++k) {
        Py_XDECREF(ps[k].name);
        Py_XDECREF(ps[k].pytype);
    }
    PyMem_Free(ps);
}

/* Spec(entry_address, params, guards, result_tag, keepalive)
 *   params: tuple of ("a", name, dtcode, ndim, layout, writes[, traits]) or ("s", name, pytype, conv) */
static int spec_init(KKSpec* self, PyObject* args, PyObject* kw) {
    unsigned long long addr;
    PyObject *params, *guards, *keepalive;
    const char* tag;
    if (!PyArg_ParseTuple(args, "KO!O!sO", &addr, &PyTuple_Type, &params, &PyTuple_Type, &guards, &tag, &keepalive))
        return -1;
    self->entry = (kk_entry_t)(uintptr_t)addr;
    if (kk_parse_params(params, &self->nparams, &self->params) < 0) return -1;
    self->guards = Py_NewRef(guards);
    self->result_tag = tag[0];
    self->keepalive = Py_NewRef(keepalive);
    return 0;
}

int kk_parse_params(PyObject* params, Py_ssize_t* n_out, kk_param_t** out) {
    const Py_ssize_t n = PyTuple_GET_SIZE(params);
    kk_param_t* ps = PyMem_Calloc(n ? n : 1, sizeof(kk_param_t));
    if (!ps) {
        PyErr_NoMemory();
        return -1;
    }
    *out = ps;
    *n_out = 0;
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject* p = PyTuple_GET_ITEM(params, k);
        kk_param_t* q = &ps[k];
        const char *kind, *layout;
        PyObject* name;
        if (!PyTuple_Check(p) || PyTuple_GET_SIZE(p) < 1) {
            PyErr_SetString(PyExc_TypeError, "malformed parameter descriptor");
            return -1;
        }
        if (!PyArg_Parse(PyTuple_GET_ITEM(p, 0), "s", &kind)) return -1;
        if (kind[0] == 'a') {
            if (!PyArg_ParseTuple(p, "sUiisp|ii", &kind, &name, &q->dtcode, &q->ndim, &layout, &q->writes, &q->traits,
                                  &q->alias))
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
static int match_host_array(const kk_param_t* q, PyObject* v, kk_arg_t* out, PyObject** written) {
    PyArrayObject* a;
    if (PyArray_Check(v)) {
        if (q->traits) return 0;
        a = (PyArrayObject*)v;
        *written = NULL;
    } else if (PyObject_TypeCheck(v, &KKViewBase_Type)) {
        KKViewBase* vb = (KKViewBase*)v;
        if (vb->traits != q->traits) return 0;
        /* the slow path syncs a stale host copy, routes subviews through their root, and writes shared copies */
        if (vb->flags & (KK_HOST_STALE | KK_DERIVED) || vb->array == NULL) return 0;
        if (q->writes && (vb->flags & KK_MULTI)) return 0;
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

/* a View whose described copy is current at `place` (a GPU, or a logical device backed by host memory) */
static int match_placed_array(const kk_param_t* q, PyObject* v, int place, kk_arg_t* out, PyObject** written) {
    if (!PyObject_TypeCheck(v, &KKViewBase_Type)) return 0;
    KKViewBase* vb = (KKViewBase*)v;
    if (vb->traits != q->traits) return 0;
    if (vb->dptr == 0 || vb->dplace != place || (vb->flags & (KK_DEVICE_STALE | KK_DERIVED))) return 0;
    if (q->writes && (vb->flags & KK_MULTI)) return 0;
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

int kk_check_guards(PyObject* guards) {
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

int kk_write_init(char tag, PyObject* init, kk_result_t* r) {
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
    case 'b': {
        int t = PyObject_IsTrue(val);
        if (t < 0) return -1;
        r->i = t;
        break;
    }
    default: r->i = PyLong_AsLongLong(val); break;
    }
    return PyErr_Occurred() ? -1 : 0;
}

PyObject* kk_read_result(char tag, const kk_result_t* r) {
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
    if (v == NULL) {
        Py_DECREF(loc);
        return NULL;
    }
    PyObject* t = PyTuple_Pack(2, v, loc);
    Py_DECREF(v);
    Py_DECREF(loc);
    return t;
}

void kk_pack_free(kk_pack_t* P) {
    if (P->args != P->stack_args) {
        PyMem_Free(P->args);
        PyMem_Free(P->written);
    }
}

/* The bytes an array argument spans: [lo, hi); empty when an extent is 0. */
static int span_of(const kk_param_t* q, const kk_arg_t* a, uintptr_t* lo, uintptr_t* hi) {
    const long long isz = q->dtcode & 0xff;
    long long neg = 0, pos = 0;
    for (int k = 0; k < q->ndim; ++k) {
        if (a->a.ext[k] <= 0) return 0;
        const long long off = (a->a.ext[k] - 1) * a->a.str[k] * isz;
        if (off < 0) neg += off;
        else pos += off;
    }
    *lo = (uintptr_t)a->a.data + neg;
    *hi = (uintptr_t)a->a.data + pos + isz;
    return 1;
}

static int same_array(const kk_param_t* p, const kk_arg_t* a, const kk_param_t* q, const kk_arg_t* b) {
    if (a->a.data != b->a.data || p->ndim != q->ndim || p->dtcode != q->dtcode) return 0;
    for (int k = 0; k < p->ndim; ++k)
        if (a->a.ext[k] != b->a.ext[k] || a->a.str[k] != b->a.str[k]) return 0;
    return 1;
}

/* 1 when an argument written by a build that assumes independent iterations (q->alias) shares memory with
 * another array argument (the same array passed twice is fine: each iteration still touches its own elements).
 * The mirror of runtime/coherence.py `overlapping`, which decides the same in the slow path. */
static int args_overlap(const kk_param_t* params, Py_ssize_t n, const kk_arg_t* args) {
    for (Py_ssize_t k = 0; k < n; ++k) {
        if (!params[k].alias) continue;
        uintptr_t lo, hi, lo2, hi2;
        if (!span_of(&params[k], &args[k], &lo, &hi)) continue;
        for (Py_ssize_t m = 0; m < n; ++m) {
            if (m == k || params[m].kind != P_ARRAY || !span_of(&params[m], &args[m], &lo2, &hi2)) continue;
            if (lo < hi2 && lo2 < hi && !same_array(&params[k], &args[k], &params[m], &args[m])) return 1;
        }
    }
    return 0;
}

/* Match every parameter of a spec against the keyword arguments and pack it: host arrays at KK_PLACE_HOST, else
 * the described copies at `place`. Returns 1 (matched and packed), 0 (not this spec: also when arguments overlap
 * that its build assumes apart) or -1 (error set). More than KK_STACK_ARGS parameters use the heap:
 * kk_pack_free. */
int kk_pack_args(const kk_param_t* params, Py_ssize_t n, PyObject* kwargs, int place, kk_pack_t* P) {
    P->args = P->stack_args;
    P->written = P->stack_written;
    if (n > KK_STACK_ARGS) { /* functors with many members */
        P->args = PyMem_Malloc(sizeof(kk_arg_t) * n);
        P->written = PyMem_Malloc(sizeof(PyObject*) * n);
        if (!P->args || !P->written) {
            PyMem_Free(P->args);
            PyMem_Free(P->written);
            P->args = P->stack_args;
            P->written = P->stack_written;
            PyErr_NoMemory();
            return -1;
        }
    }
    int check_alias = 0;
    P->shared = 0;
    for (Py_ssize_t k = 0; k < n; ++k) {
        const kk_param_t* q = &params[k];
        PyObject* v = PyDict_GetItemWithError(kwargs, q->name);
        P->written[k] = NULL;
        if (v == NULL) return PyErr_Occurred() ? -1 : 0;
        int ok;
        if (q->kind != P_ARRAY)
            ok = match_scalar(q, v, &P->args[k]);
        else if (place == KK_PLACE_HOST)
            ok = match_host_array(q, v, &P->args[k], &P->written[k]);
        else {
            ok = match_placed_array(q, v, place, &P->args[k], &P->written[k]);
            if (ok == 1) P->shared |= ((KKViewBase*)v)->flags & KK_SHARED;
        }
        if (ok != 1) return ok;
        check_alias |= q->alias;
    }
    if (check_alias && args_overlap(params, n, P->args)) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------------ host launch */

static void fill_policy(const KKLaunch* R, kk_launch_t* L) {
    if (R->rank == 0) { /* teams: lo = (league, team_size, vector_length), hi = scratch bytes */
        L->rank = 1;
        L->lo[0] = R->league;
        L->lo[1] = R->team_size ? R->team_size : 1; /* AUTO on the host: one thread per team */
        L->lo[2] = R->vector_length;
        for (int k = 0; k < 4; ++k) L->hi[k] = R->scratch[k];
        return;
    }
    L->rank = R->rank;
    for (int k = 0; k < R->rank; ++k) {
        L->lo[k] = R->lo[k];
        L->hi[k] = R->hi[k];
        L->tile[k] = R->tile[k];
    }
}

/* ------------------------------------------------------------------------------------------------ Ctrl-C */

/* A long host launch stays interruptible: the kernel's thread 0 calls kk_poll between blocks of iterations
 * (host.h Poller). At most every KK_POLL_MS it takes the GIL back for a moment and runs Python's pending signal
 * handlers (PyErr_CheckSignals); if one raised (KeyboardInterrupt), the kernel stops and the launch returns
 * with that exception. A launch shorter than one block never polls; launches from threads other than the main
 * one (which never see signals) are given no poll at all. */
#define KK_POLL_MS 100

typedef struct {
    PyThreadState* ts;
    struct timespec last;
    int started;
} kk_poll_state_t;

static unsigned long kk_main_thread = 0;

static int kk_poll(void* Lv) {
    kk_launch_t* L = (kk_launch_t*)Lv;
    kk_poll_state_t* st = (kk_poll_state_t*)L->poll_state;
    if (__atomic_load_n(&L->stop, __ATOMIC_RELAXED)) return 1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!st->started) { /* the first block ended: time starts now */
        st->last = now;
        st->started = 1;
        return 0;
    }
    const long long ms = (now.tv_sec - st->last.tv_sec) * 1000LL + (now.tv_nsec - st->last.tv_nsec) / 1000000;
    if (ms < KK_POLL_MS) return 0;
    st->last = now;
    PyEval_RestoreThread(st->ts);
    const int r = PyErr_CheckSignals();
    st->ts = PyEval_SaveThread();
    if (r < 0) {
        __atomic_store_n(&L->stop, 1, __ATOMIC_RELAXED);
        return 1;
    }
    return 0;
}

/* launch(specs, rec, kwargs, place) -> result | None | NotImplemented
 * place: KK_PLACE_HOST for host arrays, or the code of a logical device whose copies live in host memory */
static PyObject* kk_launch(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyList_Check(args[0]) || Py_TYPE(args[1]) != &KKLaunch_Type || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "launch(specs: list, rec: Launch, kwargs: dict, place: int)");
        return NULL;
    }
    PyObject* specs = args[0];
    const KKLaunch* R = (const KKLaunch*)args[1];
    PyObject* kwargs = args[2];
    const int place = (int)PyLong_AsLong(args[3]);
    if (place == -1 && PyErr_Occurred()) return NULL;
    const Py_ssize_t nkw = PyDict_GET_SIZE(kwargs);
    kk_pack_t P;
    for (Py_ssize_t s = 0; s < PyList_GET_SIZE(specs); ++s) {
        KKSpec* spec = (KKSpec*)PyList_GET_ITEM(specs, s);
        if (Py_TYPE(spec) != &KKSpec_Type || spec->nparams != nkw) continue;
        int g = kk_check_guards(spec->guards);
        if (g < 0) return NULL;
        if (g == 0) continue;
        int ok = kk_pack_args(spec->params, spec->nparams, kwargs, place, &P);
        if (ok == 1) {
            kk_launch_t L;
            kk_result_t result = {0};
            memset(&L, 0, offsetof(kk_launch_t, err) + 1);
            fill_policy(R, &L);
            L.nthreads = kk_nthreads;
            L.args = P.args;
            L.result = &result;
            if (R->init != Py_None && spec->result_tag) {
                if (kk_write_init(spec->result_tag, R->init, &result) < 0) ok = -1;
                L.has_init = 1;
            }
            int rc = 0;
            if (ok == 1) {
                kk_poll_state_t poll_state = {NULL, {0, 0}, 0};
                if (PyThread_get_thread_ident() == kk_main_thread) {
                    L.poll = kk_poll;
                    L.poll_state = &poll_state;
                }
                /* a @pk.jit program at a GPU's place calls the driver itself: after the queued launches */
                if (place != KK_PLACE_HOST) kkq_drain();
                poll_state.ts = PyEval_SaveThread();
                rc = spec->entry(&L);
                PyEval_RestoreThread(poll_state.ts);
                for (Py_ssize_t k = 0; k < spec->nparams; ++k)
                    if (P.written[k]) kk_mark_written(P.written[k], place);
                if (L.stop) ok = -1; /* interrupted: the exception a signal handler raised is set */
            }
            kk_pack_free(&P);
            if (ok != 1) return NULL;
            if (rc != 0) {
                L.err[KK_ERRLEN - 1] = 0;
                return kk_raise(kk_runtime_error, L.err[0] ? L.err : "kernel failed");
            }
            if (!spec->result_tag) Py_RETURN_NONE;
            return kk_read_result(spec->result_tag, &result);
        }
        kk_pack_free(&P);
        if (ok < 0) return NULL;
    }
    Py_RETURN_NOTIMPLEMENTED;
}

PyMethodDef kk_launch_methods[] = {
    {"launch", (PyCFunction)(void (*)(void))kk_launch, METH_FASTCALL,
     "launch(specs, rec, kwargs, place): run the first matching host spec, else NotImplemented"},
    {"team_launch", (PyCFunction)(void (*)(void))kk_team_launch, METH_FASTCALL,
     "team_launch(pattern, league, team_size, vector_length, scratch, reducer, init, label) -> Launch"},
    {NULL},
};

int kk_launch_init(PyObject* m) {
    if (PyType_Ready(&KKLaunch_Type) < 0 || PyType_Ready(&KKSpec_Type) < 0) return -1;
    PyObject* threading = PyImport_ImportModule("threading");
    PyObject* main = threading ? PyObject_CallMethod(threading, "main_thread", NULL) : NULL;
    PyObject* ident = main ? PyObject_GetAttrString(main, "ident") : NULL;
    kk_main_thread = ident ? PyLong_AsUnsignedLong(ident) : 0;
    Py_XDECREF(threading);
    Py_XDECREF(main);
    Py_XDECREF(ident);
    if (PyErr_Occurred()) return -1;
    if (PyModule_AddObjectRef(m, "Launch", (PyObject*)&KKLaunch_Type) < 0 ||
        PyModule_AddObjectRef(m, "Spec", (PyObject*)&KKSpec_Type) < 0)
        return -1;
    return 0;
}
