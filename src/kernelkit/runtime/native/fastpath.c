/* parallel_for's common case in C: one call from the user's line to the backend's native launcher.
 *
 * `pk.parallel_for([label,] policy, workunit, **kwargs)` where the policy is a RangePolicy of an explicit space
 * (or an int count, when the process-wide default space is known), the workunit is a decorated Workunit that
 * already holds compiled specializations for this backend and launch kind, and neither a graph recording nor the
 * profiler is active: the Launch record is made here and `backend.native(specs, rec, kwargs, backend.handle)` is
 * called directly. That is what api/patterns.py's Python fast path does, less its two Python frames (about half
 * of kernelkit's share of a launch: 0.9 us of a CUDA launch's 4.3 us on the H200 host).
 *
 * Everything else goes to Python, which stays the definition of a launch: any other argument shape, policy or
 * space goes to the Python parallel_for with the call's own arguments (nothing has happened yet); a spec that
 * does not match (NotImplemented: new argument types, stale data) goes to runtime/launcher.py's slow path with
 * the record; a KernelRuntimeError of the kernel goes to the launcher's `raise_failed`, which locates it. */
#include "native.h"

typedef struct {
    PyObject_HEAD
    PyObject* fallback;      /* api.patterns' Python parallel_for */
    PyObject* range_policy;  /* kernelkit.api.policies.RangePolicy */
    PyObject* workunit;      /* kernelkit.api.decorators.Workunit */
    PyObject* default_mark;  /* kernelkit.api.spaces.Default */
    PyObject* default_cell;  /* kernelkit.api.spaces._default: [the process default space or None] */
    PyObject* graph_dict;    /* runtime.graph's globals (`recording`) */
    PyObject* profiler_dict; /* runtime.profiler's globals (`active`) */
    PyObject* slow;          /* runtime.launcher._slow(backend, wu, rec, kwargs) */
    PyObject* failed;        /* runtime.launcher.raise_failed(error): raises it located */
    unsigned long long hits; /* calls the C path launched (tests/unit/test_fast_for.py reads it) */
    vectorcallfunc vectorcall;
    PyObject* dict;
} KKFastFor;

static PyObject *s_space, *s_begin, *s_end, *s_backend, *s_specs, *s_spec_key, *s_native, *s_handle, *s_recording,
    *s_active, *s_kind1;

/* a module global that must be None for the fast path: 1 when it is, 0 when not (or missing) */
static int global_is_none(PyObject* globals, PyObject* name) {
    PyObject* v = PyDict_GetItemWithError(globals, name); /* borrowed */
    if (v == NULL) {
        PyErr_Clear();
        return 0;
    }
    return v == Py_None;
}

/* an exact int that fits in int64: 1 and *out, else 0 (the Python path reports the error) */
static int exact_int(PyObject* v, long long* out) {
    if (v == NULL || !PyLong_CheckExact(v)) return 0;
    int overflow = 0;
    *out = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (*out == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* The space and bounds of `policy` when the fast path takes it: a new reference to the space, or NULL (no
 * error set) for the Python path. */
static PyObject* policy_space(KKFastFor* self, PyObject* policy, long long* lo, long long* hi) {
    if ((PyObject*)Py_TYPE(policy) == self->range_policy) {
        PyObject* b = PyObject_GetAttr(policy, s_begin);
        PyObject* e = b ? PyObject_GetAttr(policy, s_end) : NULL;
        int ok = exact_int(b, lo) && exact_int(e, hi);
        Py_XDECREF(b);
        Py_XDECREF(e);
        PyObject* space = ok ? PyObject_GetAttr(policy, s_space) : NULL;
        if (space == NULL || space == Py_None || space == self->default_mark) {
            PyErr_Clear();
            Py_XDECREF(space);
            return NULL;
        }
        return space;
    }
    if (PyLong_CheckExact(policy) && exact_int(policy, hi) && *hi >= 0) {
        *lo = 0;
        PyObject* space = PyList_GET_ITEM(self->default_cell, 0); /* None until a default is known */
        return space == Py_None ? NULL : Py_NewRef(space);
    }
    return NULL;
}

/* The launch through the backend's native launcher; NULL with the error set, else a new reference. */
static PyObject* run(KKFastFor* self, PyObject* backend, PyObject* wu, PyObject* specs, PyObject* rec,
                     PyObject* kwargs) {
    PyObject* native = PyObject_GetAttr(backend, s_native);
    PyObject* handle = native ? PyObject_GetAttr(backend, s_handle) : NULL;
    PyObject* r = NULL;
    if (handle != NULL) {
        PyObject* argv[4] = {specs, rec, kwargs, handle};
        r = PyObject_Vectorcall(native, argv, 4, NULL);
    }
    Py_XDECREF(native);
    Py_XDECREF(handle);
    if (r == NULL && kk_runtime_error != NULL && PyErr_ExceptionMatches(kk_runtime_error)) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        Py_XDECREF(t);
        Py_XDECREF(tb);
        PyObject* again = PyObject_CallOneArg(self->failed, v); /* raises the located error */
        Py_DECREF(v);
        Py_XDECREF(again);
        if (again != NULL) PyErr_SetString(PyExc_SystemError, "raise_failed returned");
        return NULL;
    }
    if (r == Py_NotImplemented) { /* no spec matched: the slow path types, stages, builds and runs */
        Py_DECREF(r);
        PyObject* argv[4] = {backend, wu, rec, kwargs};
        r = PyObject_Vectorcall(self->slow, argv, 4, NULL);
    }
    return r;
}

static PyObject* fastfor_vectorcall(PyObject* self_, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    KKFastFor* self = (KKFastFor*)self_;
    const Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyObject *label = Py_None, *policy, *wu;
    if (n == 3) {
        label = args[0], policy = args[1], wu = args[2];
        if (label != Py_None && !PyUnicode_CheckExact(label)) goto python;
    } else if (n == 2) {
        policy = args[0], wu = args[1];
    } else {
        goto python;
    }
    if ((PyObject*)Py_TYPE(wu) != self->workunit || !global_is_none(self->graph_dict, s_recording) ||
        !global_is_none(self->profiler_dict, s_active))
        goto python;
    long long lo = 0, hi = 0;
    PyObject* space = policy_space(self, policy, &lo, &hi);
    if (space == NULL) goto python;
    PyObject* backend = PyObject_GetAttr(space, s_backend);
    Py_DECREF(space);
    if (backend == NULL || backend == Py_None) { /* not made yet: the Python path makes it */
        PyErr_Clear();
        Py_XDECREF(backend);
        goto python;
    }
    /* the workunit's specs of this backend and launch kind ("for", rank 1: kind 1, see make_kind) */
    PyObject* all = PyObject_GetAttr(wu, s_specs);
    PyObject* key = all ? PyObject_GetAttr(backend, s_spec_key) : NULL;
    PyObject* table = key && PyDict_CheckExact(all) ? PyDict_GetItemWithError(all, key) : NULL;
    PyObject* specs = table && PyDict_CheckExact(table) ? PyDict_GetItemWithError(table, s_kind1) : NULL;
    Py_XINCREF(specs);
    Py_XDECREF(all);
    Py_XDECREF(key);
    if (specs == NULL || !PyList_CheckExact(specs) || PyList_GET_SIZE(specs) == 0) { /* a first launch */
        PyErr_Clear();
        Py_XDECREF(specs);
        Py_DECREF(backend);
        goto python;
    }
    PyObject* rec = kk_range_launch(PAT_FOR, lo, hi, label);
    PyObject* kwargs = rec ? PyDict_New() : NULL;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; kwargs && k < nkw; ++k)
        if (PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, k), args[n + k]) < 0) Py_CLEAR(kwargs);
    if (kwargs == NULL) { /* an invalid range (end before begin): the Python path names the user's line */
        PyErr_Clear();
        Py_XDECREF(rec);
        Py_DECREF(specs);
        Py_DECREF(backend);
        goto python;
    }
    PyObject* r = run(self, backend, wu, specs, rec, kwargs);
    self->hits++;
    Py_DECREF(kwargs);
    Py_DECREF(rec);
    Py_DECREF(specs);
    Py_DECREF(backend);
    if (r == NULL) return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
python:
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

static PyObject* fastfor_call(PyObject* self, PyObject* args, PyObject* kw) {
    return PyVectorcall_Call(self, args, kw);
}

/* fast_for(fallback, RangePolicy, Workunit, Default, default_cell, graph_globals, profiler_globals, slow,
 *          raise_failed) */
static int fastfor_init(KKFastFor* self, PyObject* args, PyObject* kw) {
    PyObject *fb, *rp, *wu, *dm, *cell, *g, *p, *slow, *failed;
    if (!PyArg_ParseTuple(args, "OOOOO!O!O!OO", &fb, &rp, &wu, &dm, &PyList_Type, &cell, &PyDict_Type, &g,
                          &PyDict_Type, &p, &slow, &failed))
        return -1;
    if (PyList_GET_SIZE(cell) != 1) {
        PyErr_SetString(PyExc_ValueError, "fast_for: the default-space cell is a one-item list");
        return -1;
    }
    Py_XSETREF(self->fallback, Py_NewRef(fb));
    Py_XSETREF(self->range_policy, Py_NewRef(rp));
    Py_XSETREF(self->workunit, Py_NewRef(wu));
    Py_XSETREF(self->default_mark, Py_NewRef(dm));
    Py_XSETREF(self->default_cell, Py_NewRef(cell));
    Py_XSETREF(self->graph_dict, Py_NewRef(g));
    Py_XSETREF(self->profiler_dict, Py_NewRef(p));
    Py_XSETREF(self->slow, Py_NewRef(slow));
    Py_XSETREF(self->failed, Py_NewRef(failed));
    self->vectorcall = fastfor_vectorcall;
    if (self->dict == NULL) self->dict = PyDict_New();
    if (self->dict == NULL) return -1;
    return kk_copy_function_attrs(self->dict, fb);
}

static int fastfor_traverse(KKFastFor* self, visitproc visit, void* arg) {
    Py_VISIT(self->fallback);
    Py_VISIT(self->range_policy);
    Py_VISIT(self->workunit);
    Py_VISIT(self->default_mark);
    Py_VISIT(self->default_cell);
    Py_VISIT(self->graph_dict);
    Py_VISIT(self->profiler_dict);
    Py_VISIT(self->slow);
    Py_VISIT(self->failed);
    Py_VISIT(self->dict);
    return 0;
}

static int fastfor_clear(KKFastFor* self) {
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->range_policy);
    Py_CLEAR(self->workunit);
    Py_CLEAR(self->default_mark);
    Py_CLEAR(self->default_cell);
    Py_CLEAR(self->graph_dict);
    Py_CLEAR(self->profiler_dict);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->failed);
    Py_CLEAR(self->dict);
    return 0;
}

static void fastfor_dealloc(KKFastFor* self) {
    PyObject_GC_UnTrack(self);
    fastfor_clear(self);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyObject* fastfor_repr(KKFastFor* self) {
    return self->fallback ? PyObject_Repr(self->fallback) : PyUnicode_FromString("<fast_for>");
}

static PyMemberDef fastfor_members[] = {
    {"hits", T_ULONGLONG, offsetof(KKFastFor, hits), READONLY, "calls launched by the C path"},
    {NULL},
};

static PyTypeObject KKFastFor_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kernelkit._native.fast_for",
    .tp_basicsize = sizeof(KKFastFor),
    .tp_dealloc = (destructor)fastfor_dealloc,
    .tp_vectorcall_offset = offsetof(KKFastFor, vectorcall),
    .tp_call = fastfor_call,
    .tp_repr = (reprfunc)fastfor_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "parallel_for with its common case in C (see runtime/native/fastpath.c).",
    .tp_traverse = (traverseproc)fastfor_traverse,
    .tp_clear = (inquiry)fastfor_clear,
    .tp_members = fastfor_members,
    .tp_dictoffset = offsetof(KKFastFor, dict),
    .tp_init = (initproc)fastfor_init,
    .tp_new = PyType_GenericNew,
};

int kk_fastpath_init(PyObject* m) {
    const char* names[] = {"space",   "begin",  "end",       "_backend", "_specs", "spec_key",
                           "native",  "handle", "recording", "active",   NULL};
    PyObject** slots[] = {&s_space,  &s_begin,  &s_end,       &s_backend, &s_specs, &s_spec_key,
                          &s_native, &s_handle, &s_recording, &s_active};
    for (int k = 0; names[k]; ++k)
        if ((*slots[k] = PyUnicode_InternFromString(names[k])) == NULL) return -1;
    if ((s_kind1 = PyLong_FromLong(PAT_FOR * 8 + 1)) == NULL) return -1;
    if (PyType_Ready(&KKFastFor_Type) < 0) return -1;
    return PyModule_AddObjectRef(m, "fast_for", (PyObject*)&KKFastFor_Type);
}
