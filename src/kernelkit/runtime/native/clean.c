/* A public entry point: calls a Python function and, when it raises a KernelError, drops the traceback entries
 * of kernelkit's own frames, so the user's traceback ends at their call. It has to be C: a frame that re-raises
 * in Python always appears in the traceback. A descriptor too, so it works as a method (e.g. __init__). */
#include "native.h"

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

/* A wrapper's attributes that make it look like the wrapped function: name, docstring, signature. */
int kk_copy_function_attrs(PyObject* dict, PyObject* fn) {
    const char* attrs[] = {"__name__", "__qualname__", "__doc__", "__module__", "__wrapped__", NULL};
    for (int k = 0; attrs[k]; ++k) {
        PyObject* a = k == 4 ? Py_NewRef(fn) : PyObject_GetAttrString(fn, attrs[k]);
        if (a == NULL) {
            PyErr_Clear();
            continue;
        }
        int rc = PyDict_SetItemString(dict, attrs[k], a);
        Py_DECREF(a);
        if (rc < 0) return -1;
    }
    return 0;
}

static int clean_init(KKClean* self, PyObject* args, PyObject* kw) {
    PyObject* fn;
    if (!PyArg_ParseTuple(args, "O", &fn)) return -1;
    Py_XSETREF(self->fn, Py_NewRef(fn));
    self->vectorcall = clean_vectorcall;
    /* look like the wrapped function: name, docstring, signature */
    if (self->dict == NULL) self->dict = PyDict_New();
    if (self->dict == NULL) return -1;
    return kk_copy_function_attrs(self->dict, fn);
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

PyMethodDef kk_clean_methods[] = {
    {"set_clean", kk_set_clean, METH_VARARGS, "set_clean(KernelError, keep_frames)"},
    {NULL},
};

int kk_clean_init(PyObject* m) {
    if (PyType_Ready(&KKClean_Type) < 0) return -1;
    return PyModule_AddObjectRef(m, "clean", (PyObject*)&KKClean_Type);
}
