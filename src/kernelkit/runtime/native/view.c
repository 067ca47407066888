/* ViewBase: the native base of kernelkit.View.
 *
 * It holds the host ndarray, the coherence flags and the description of one copy at a non-host place (the
 * one the launchers use), so that the fast paths read them without Python. The flags mean what
 * runtime/coherence.py says; that module writes them, and the launchers only through kk_mark_written. */
#include "native.h"

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

/* The buffer protocol hands out the host array after making it current: memoryview(view), mpi4py, struct, ...
 * Once a View has a device copy, a read-only request gets a read-only export and leaves the device copy valid
 * (np.asarray(view) is then a snapshot that cannot be written by mistake); a writable request marks the device
 * copy stale. Both go through View._host (coherence.host_array). */
static int viewbase_getbuffer(KKViewBase* self, Py_buffer* view, int flags) {
    const int writable = (flags & PyBUF_WRITABLE) != 0;
    const int readonly_export = (self->flags & KK_HAS_DEVICE) && !writable && !(self->flags & KK_DERIVED);
    if (self->flags || self->array == NULL) {
        PyObject* r = PyObject_HasAttrString((PyObject*)self, "_host")
                          ? PyObject_CallMethod((PyObject*)self, "_host", "O", readonly_export ? Py_False : Py_True)
                          : NULL;
        if (r == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_BufferError, "this View has no host memory");
            return -1;
        }
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

/* _set_device(ptr, place, shape, strides, dtcode): describe the copy the launchers use (ptr 0: none). */
static PyObject* viewbase_set_device(KKViewBase* self, PyObject* args) {
    unsigned long long ptr;
    int place, dtcode;
    PyObject *shape, *strides;
    if (!PyArg_ParseTuple(args, "KiO!O!i", &ptr, &place, &PyTuple_Type, &shape, &PyTuple_Type, &strides, &dtcode))
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
    self->dplace = place;
    self->dndim = (int)nd;
    self->dtcode = dtcode;
    Py_RETURN_NONE;
}

static PyObject* viewbase_get_dptr(KKViewBase* self, void* unused) { return PyLong_FromUnsignedLongLong(self->dptr); }
static PyObject* viewbase_get_dplace(KKViewBase* self, void* unused) { return PyLong_FromLong(self->dplace); }

static PyMethodDef viewbase_methods[] = {
    {"_set_device", (PyCFunction)viewbase_set_device, METH_VARARGS, "describe the copy the launchers use"},
    {NULL},
};

static PyGetSetDef viewbase_getset[] = {
    {"_dptr", (getter)viewbase_get_dptr, NULL, "address of the described copy's element 0 (0: none)", NULL},
    {"_dplace", (getter)viewbase_get_dplace, NULL, "place code of the described copy", NULL},
    {NULL},
};

static PyBufferProcs viewbase_as_buffer = {(getbufferproc)viewbase_getbuffer, NULL};

static PyMemberDef viewbase_members[] = {
    {"_array", T_OBJECT, offsetof(KKViewBase, array), 0, "host ndarray"},
    {"_flags", T_INT, offsetof(KKViewBase, flags), 0, "coherence flags (written by runtime/coherence.py)"},
    {"_traits", T_INT, offsetof(KKViewBase, traits), 0, "memory traits that change code (1: Atomic)"},
    {NULL},
};

PyTypeObject KKViewBase_Type = {
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

int kk_view_init(PyObject* m) {
    if (PyType_Ready(&KKViewBase_Type) < 0) return -1;
    if (PyModule_AddObjectRef(m, "ViewBase", (PyObject*)&KKViewBase_Type) < 0) return -1;
    if (PyModule_AddIntConstant(m, "HOST_STALE", KK_HOST_STALE) < 0 ||
        PyModule_AddIntConstant(m, "DEVICE_STALE", KK_DEVICE_STALE) < 0 ||
        PyModule_AddIntConstant(m, "HAS_DEVICE", KK_HAS_DEVICE) < 0 ||
        PyModule_AddIntConstant(m, "DERIVED", KK_DERIVED) < 0 ||
        PyModule_AddIntConstant(m, "MULTI", KK_MULTI) < 0 ||
        PyModule_AddIntConstant(m, "TRAIT_ATOMIC", KK_TRAIT_ATOMIC) < 0 ||
        PyModule_AddIntConstant(m, "PLACE_HOST", KK_PLACE_HOST) < 0)
        return -1;
    return 0;
}
