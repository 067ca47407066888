/* ViewBase: the native base of kernelkit.View.
 *
 * It holds the host ndarray, the coherence flags and the description of one copy at a non-host place (the
 * one the launchers use), so that the fast paths read them without Python. The flags mean what
 * runtime/coherence.py says; that module writes them, and the launchers only through kk_mark_written. */
#include "native.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static PyTypeObject* kk_view_class = NULL; /* kernelkit.View: the type of the subviews made here */
static PyObject* kk_layout_of = NULL;      /* views._layout_of(ndarray) -> Layout */
static PyObject *str_getitem, *str_setitem;

static int viewbase_traverse(KKViewBase* self, visitproc visit, void* arg) {
    Py_VISIT(self->array);
    Py_VISIT(self->descr);
    Py_VISIT(self->hbase);
    Py_VISIT(self->shape);
    Py_VISIT(self->dtype);
    Py_VISIT(self->layout);
    Py_VISIT(self->space);
    Py_VISIT(self->trait);
    Py_VISIT(self->parent);
    Py_VISIT(self->root);
    return 0;
}

static int viewbase_clear(KKViewBase* self) {
    self->hdata = NULL;
    Py_CLEAR(self->array);
    Py_CLEAR(self->descr);
    Py_CLEAR(self->hbase);
    Py_CLEAR(self->shape);
    Py_CLEAR(self->dtype);
    Py_CLEAR(self->layout);
    Py_CLEAR(self->space);
    Py_CLEAR(self->trait);
    Py_CLEAR(self->parent);
    Py_CLEAR(self->root);
    return 0;
}

static void viewbase_dealloc(KKViewBase* self) {
    PyObject_GC_UnTrack(self);
    viewbase_clear(self);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

/* ------------------------------------------------------------------------------------------ the host array */

/* The host ndarray (borrowed), made from the geometry the first time for a subview made by the fast paths;
 * NULL without an exception when there is no host memory. */
static PyObject* kk_host_array(KKViewBase* self) {
    if (self->array != NULL || self->hbase == NULL || self->hdata == NULL) return self->array;
    Py_INCREF(self->descr); /* stolen */
    PyObject* a = PyArray_NewFromDescr(&PyArray_Type, self->descr, self->hnd, self->hdims, self->hstrides,
                                       self->hdata, self->hwritable ? NPY_ARRAY_WRITEABLE : 0, NULL);
    if (a == NULL) return NULL;
    if (PyArray_SetBaseObject((PyArrayObject*)a, Py_NewRef(self->hbase)) < 0) {
        Py_DECREF(a);
        return NULL;
    }
    self->array = a;
    return a;
}

static PyObject* viewbase_get_array(KKViewBase* self, void* unused) {
    PyObject* a = kk_host_array(self);
    if (a == NULL && PyErr_Occurred()) return NULL;
    return Py_NewRef(a ? a : Py_None);
}

static int viewbase_set_array(KKViewBase* self, PyObject* value, void* unused) {
    if (value == NULL || value == Py_None) {
        self->hdata = NULL;
        self->hnd = 0;
        Py_CLEAR(self->array);
        Py_CLEAR(self->descr);
        Py_CLEAR(self->hbase);
        return 0;
    }
    if (!PyArray_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "a View's host memory is a NumPy array");
        return -1;
    }
    PyArrayObject* a = (PyArrayObject*)value;
    if (PyArray_NDIM(a) > KK_MAX_RANK) {
        PyErr_SetString(PyExc_ValueError, "a View has rank 1 to 8");
        return -1;
    }
    self->hdata = PyArray_BYTES(a);
    self->hnd = PyArray_NDIM(a);
    self->hwritable = PyArray_ISWRITEABLE(a);
    for (int k = 0; k < self->hnd; ++k) {
        self->hdims[k] = PyArray_DIMS(a)[k];
        self->hstrides[k] = PyArray_STRIDES(a)[k];
    }
    Py_XSETREF(self->descr, (PyArray_Descr*)Py_NewRef(PyArray_DESCR(a)));
    Py_XSETREF(self->hbase, Py_NewRef(value));
    Py_XSETREF(self->array, Py_NewRef(value));
    return 0;
}

static PyObject* viewbase_get_shape(KKViewBase* self, void* unused) {
    if (self->shape == NULL) {
        if (self->hdata == NULL) {
            PyErr_SetString(PyExc_AttributeError, "_shape");
            return NULL;
        }
        PyObject* t = PyTuple_New(self->hnd);
        if (t == NULL) return NULL;
        for (int k = 0; k < self->hnd; ++k) {
            PyObject* n = PyLong_FromSsize_t(self->hdims[k]);
            if (n == NULL) {
                Py_DECREF(t);
                return NULL;
            }
            PyTuple_SET_ITEM(t, k, n);
        }
        self->shape = t;
    }
    return Py_NewRef(self->shape);
}

static PyObject* viewbase_get_layout(KKViewBase* self, void* unused) {
    if (self->layout == NULL) {
        PyObject* a = kk_host_array(self);
        if (a == NULL || kk_layout_of == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_AttributeError, "_layout");
            return NULL;
        }
        self->layout = PyObject_CallOneArg(kk_layout_of, a);
        if (self->layout == NULL) return NULL;
    }
    return Py_NewRef(self->layout);
}

static int set_slot(PyObject** slot, PyObject* value) {
    Py_XSETREF(*slot, Py_XNewRef(value));
    return 0;
}

static int viewbase_set_shape(KKViewBase* self, PyObject* v, void* u) { return set_slot(&self->shape, v); }
static int viewbase_set_layout(KKViewBase* self, PyObject* v, void* u) { return set_slot(&self->layout, v); }

static PyObject* viewbase_get_root(KKViewBase* self, void* unused) {
    return Py_NewRef(self->root ? self->root : Py_None);
}

static int viewbase_set_root(KKViewBase* self, PyObject* value, void* unused) {
    if (value == Py_None) value = NULL;
    if (value != NULL && !PyObject_TypeCheck(value, &KKViewBase_Type)) {
        PyErr_SetString(PyExc_TypeError, "_rootview must be a View");
        return -1;
    }
    return set_slot(&self->root, value);
}

/* ----------------------------------------------------------------------------------- element fast paths */

/* Host element access without Python: `v[i]`, `v[i, j, k]`, and `v[i][j]` through subviews made here, for
 * int (or NumPy integer) indices inside the extents. A read needs a current host copy (HOST_STALE clear on the
 * root); a write also needs a single current copy elsewhere at most (MULTI clear), and marks the described copy
 * stale as a host launch does (kk_mark_written: the rule of coherence.py). Everything else — slices, stale or
 * shared copies, out-of-range indices, values that need checking — goes to View._getitem / View._setitem. */

/* The View whose flags govern `self`'s host memory (itself, or a subview's root); NULL: take the slow path. */
static inline KKViewBase* kk_governing(KKViewBase* self) {
    if (self->hdata == NULL) return NULL;
    if (!(self->flags & KK_DERIVED)) return self;
    KKViewBase* r = (KKViewBase*)self->root;
    return (r != NULL && !(r->flags & KK_DERIVED)) ? r : NULL;
}

/* 1: `*out` is the index `k` selects along an extent of `n`; 0: not a fast case. */
static inline int kk_index(PyObject* k, npy_intp n, npy_intp* out) {
    npy_intp i;
    if (PyLong_CheckExact(k)) {
        i = PyLong_AsSsize_t(k);
    } else if (PyArray_IsScalar(k, Integer)) {
        i = PyArray_PyIntAsIntp(k);
    } else {
        return 0;
    }
    if (i == -1 && PyErr_Occurred()) {
        PyErr_Clear(); /* too large: the slow path says so in NumPy's words */
        return 0;
    }
    if (i < 0) i += n;
    if (i < 0 || i >= n) return 0;
    *out = i;
    return 1;
}

/* The address `key` selects and how many dimensions it consumed (0: not a fast case). */
static inline int kk_locate(KKViewBase* self, PyObject* key, char** ptr) {
    char* p = self->hdata;
    npy_intp i;
    if (PyTuple_CheckExact(key)) {
        Py_ssize_t n = PyTuple_GET_SIZE(key);
        if (n == 0 || n > self->hnd) return 0;
        for (Py_ssize_t k = 0; k < n; ++k) {
            if (!kk_index(PyTuple_GET_ITEM(key, k), self->hdims[k], &i)) return 0;
            p += i * self->hstrides[k];
        }
        *ptr = p;
        return (int)n;
    }
    if (self->hnd < 1 || !kk_index(key, self->hdims[0], &i)) return 0;
    *ptr = p + i * self->hstrides[0];
    return 1;
}

/* The subview of `self` at `p` with its first `used` dimensions fixed: a View with the geometry only (its
 * ndarray, shape and layout are made when first asked for), DERIVED from `root`. */
static PyObject* kk_subview(KKViewBase* self, KKViewBase* root, char* p, int used) {
    PyTypeObject* t = kk_view_class;
    KKViewBase* s = (KKViewBase*)t->tp_alloc(t, 0);
    if (s == NULL) return NULL;
    s->flags = KK_DERIVED;
    s->traits = self->traits;
    s->hdata = p;
    s->hnd = self->hnd - used;
    s->hwritable = self->array ? PyArray_ISWRITEABLE((PyArrayObject*)self->array) : self->hwritable;
    for (int k = 0; k < s->hnd; ++k) {
        s->hdims[k] = self->hdims[used + k];
        s->hstrides[k] = self->hstrides[used + k];
    }
    s->descr = (PyArray_Descr*)Py_NewRef(self->descr);
    s->hbase = Py_NewRef(self->hbase);
    s->dtype = Py_XNewRef(self->dtype);
    s->space = Py_XNewRef(self->space);
    s->trait = Py_XNewRef(self->trait);
    s->parent = Py_NewRef(self);
    s->root = Py_NewRef(root);
    return (PyObject*)s;
}

static PyObject* viewbase_subscript(KKViewBase* self, PyObject* key) {
    KKViewBase* r = kk_governing(self);
    char* p;
    int used;
    if (r != NULL && !(r->flags & KK_HOST_STALE) && (used = kk_locate(self, key, &p)) > 0) {
        if (used == self->hnd) return PyArray_Scalar(p, self->descr, self->hbase);
        if (kk_view_class != NULL && self->hnd - used <= KK_MAX_RANK) return kk_subview(self, r, p, used);
    }
    return PyObject_CallMethodOneArg((PyObject*)self, str_getitem, key);
}

/* Python numbers and NumPy scalars of the View's own type, stored when the value is exactly representable
 * (the rules of views._checked_source); 0 leaves anything else to the slow path, which checks and raises. */
static int kk_store(char* p, PyArray_Descr* d, PyObject* v) {
    const char kind = d->kind;
    const npy_intp size = PyDataType_ELSIZE(d);
    if (!PyArray_ISNBO(d->byteorder)) return 0;
    long long i;
    unsigned long long u;
    int negative, huge = 0; /* huge: above LLONG_MAX, so only in u */
    if (PyFloat_Check(v)) { /* also np.float64 */
        const double x = PyFloat_AS_DOUBLE(v);
        if (kind == 'f') {
            if (size == 8) {
                memcpy(p, &x, 8);
                return 1;
            }
            if (size != 4 || fabs(x) > FLT_MAX) return 0; /* inf and nan are exact; a finite overflow raises */
            const float f = (float)x;
            memcpy(p, &f, 4);
            return 1;
        }
        if ((kind != 'i' && kind != 'u') || !isfinite(x) || x != trunc(x)) return 0;
        if (x < -9223372036854775808.0 || x >= 18446744073709551616.0) return 0;
        negative = x < 0;
        if (negative) {
            i = (long long)x;
            u = 0;
        } else {
            u = (unsigned long long)x;
            i = u <= (unsigned long long)LLONG_MAX ? (long long)u : -1;
        }
    } else if (PyLong_CheckExact(v)) {
        int overflow;
        i = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow > 0) {
            u = PyLong_AsUnsignedLongLong(v);
            if (u == (unsigned long long)-1 && PyErr_Occurred()) {
                PyErr_Clear();
                return 0;
            }
            i = -1;
            negative = 0;
            huge = 1;
        } else if (overflow < 0 || (i == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        } else {
            negative = i < 0;
            u = negative ? 0 : (unsigned long long)i;
        }
        if (kind == 'f') {
            /* exactly representable magnitudes only: beyond them the slow path rounds as NumPy does */
            const long long limit = size == 8 ? (1LL << 53) : size == 4 ? (1LL << 24) : 0;
            if (limit == 0 || huge || i > limit || i < -limit) return 0;
            if (size == 8) {
                const double x = (double)i;
                memcpy(p, &x, 8);
            } else {
                const float x = (float)i;
                memcpy(p, &x, 4);
            }
            return 1;
        }
        if (kind != 'i' && kind != 'u') return 0;
    } else if (Py_TYPE(v) == d->typeobj) { /* a NumPy scalar of the View's dtype */
        PyArray_ScalarAsCtype(v, p);
        return 1;
    } else if (PyBool_Check(v) && kind == 'b') {
        *p = (char)(v == Py_True);
        return 1;
    } else {
        return 0;
    }
    /* an integer value (negative: in i; else in u, and in i when it fits) into an integer dtype */
    if (kind == 'u') {
        if (negative || (size < 8 && u >> (8 * size))) return 0;
        switch (size) {
            case 1: { const uint8_t x = (uint8_t)u; memcpy(p, &x, 1); return 1; }
            case 2: { const uint16_t x = (uint16_t)u; memcpy(p, &x, 2); return 1; }
            case 4: { const uint32_t x = (uint32_t)u; memcpy(p, &x, 4); return 1; }
            case 8: memcpy(p, &u, 8); return 1;
        }
        return 0;
    }
    if (!negative && u > (unsigned long long)LLONG_MAX) return 0;
    if (size < 8) {
        const long long hi = (1LL << (8 * size - 1)) - 1;
        if (i > hi || i < -hi - 1) return 0;
    }
    switch (size) {
        case 1: { const int8_t x = (int8_t)i; memcpy(p, &x, 1); return 1; }
        case 2: { const int16_t x = (int16_t)i; memcpy(p, &x, 2); return 1; }
        case 4: { const int32_t x = (int32_t)i; memcpy(p, &x, 4); return 1; }
        case 8: memcpy(p, &i, 8); return 1;
    }
    return 0;
}

static int viewbase_ass_subscript(KKViewBase* self, PyObject* key, PyObject* value) {
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "View elements cannot be deleted");
        return -1;
    }
    KKViewBase* r = kk_governing(self);
    char* p;
    if (r != NULL && !(r->flags & (KK_HOST_STALE | KK_MULTI)) &&
        (self->array ? PyArray_ISWRITEABLE((PyArrayObject*)self->array) : self->hwritable) &&
        kk_locate(self, key, &p) == self->hnd && kk_store(p, self->descr, value)) {
        if (r->flags & KK_HAS_DEVICE) kk_mark_written((PyObject*)r, KK_PLACE_HOST);
        return 0;
    }
    PyObject* res = PyObject_CallMethodObjArgs((PyObject*)self, str_setitem, key, value, NULL);
    if (res == NULL) return -1;
    Py_DECREF(res);
    return 0;
}

static PyMappingMethods viewbase_as_mapping = {
    .mp_subscript = (binaryfunc)viewbase_subscript,
    .mp_ass_subscript = (objobjargproc)viewbase_ass_subscript,
};

/* _register(View, layout_of): the class of the subviews the fast paths make, and how to name their layout. */
static PyObject* viewbase_register(PyObject* unused, PyObject* args) {
    PyObject *cls, *layout_of;
    if (!PyArg_ParseTuple(args, "O!O", &PyType_Type, &cls, &layout_of)) return NULL;
    if (!PyType_IsSubtype((PyTypeObject*)cls, &KKViewBase_Type)) {
        PyErr_SetString(PyExc_TypeError, "_register: the class must derive from ViewBase");
        return NULL;
    }
    Py_XSETREF(kk_view_class, (PyTypeObject*)Py_NewRef(cls));
    Py_XSETREF(kk_layout_of, Py_NewRef(layout_of));
    Py_RETURN_NONE;
}

/* The buffer protocol hands out the host array after making it current: memoryview(view), mpi4py, struct, ...
 * Once a View has a device copy, a read-only request gets a read-only export and leaves the device copy valid
 * (np.asarray(view) is then a snapshot that cannot be written by mistake); a writable request marks the device
 * copy stale. Both go through View._host (coherence.host_array). */
static int viewbase_getbuffer(KKViewBase* self, Py_buffer* view, int flags) {
    const int writable = (flags & PyBUF_WRITABLE) != 0;
    const int readonly_export = (self->flags & KK_HAS_DEVICE) && !writable && !(self->flags & KK_DERIVED);
    if (self->flags || kk_host_array(self) == NULL) {
        if (PyErr_Occurred()) return -1;
        PyObject* r = PyObject_HasAttrString((PyObject*)self, "_host")
                          ? PyObject_CallMethod((PyObject*)self, "_host", "O", readonly_export ? Py_False : Py_True)
                          : NULL;
        if (r == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_BufferError, "this View has no host memory");
            return -1;
        }
        Py_DECREF(r);
    }
    PyObject* a = kk_host_array(self);
    if (a == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_BufferError, "this View has no host memory");
        return -1;
    }
    if (PyObject_GetBuffer(a, view, flags) < 0) return -1;
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
    {"_register", (PyCFunction)viewbase_register, METH_VARARGS | METH_STATIC,
     "_register(View, layout_of): the class of subviews made by the element fast paths"},
    {NULL},
};

static PyGetSetDef viewbase_getset[] = {
    {"_dptr", (getter)viewbase_get_dptr, NULL, "address of the described copy's element 0 (0: none)", NULL},
    {"_dplace", (getter)viewbase_get_dplace, NULL, "place code of the described copy", NULL},
    {"_array", (getter)viewbase_get_array, (setter)viewbase_set_array, "host ndarray (None: no host memory)", NULL},
    {"_shape", (getter)viewbase_get_shape, (setter)viewbase_set_shape, "the extents (a tuple)", NULL},
    {"_layout", (getter)viewbase_get_layout, (setter)viewbase_set_layout, "the Layout", NULL},
    {"_rootview", (getter)viewbase_get_root, (setter)viewbase_set_root, "a subview's root View, or None", NULL},
    {NULL},
};

static PyBufferProcs viewbase_as_buffer = {(getbufferproc)viewbase_getbuffer, NULL};

static PyMemberDef viewbase_members[] = {
    {"_dtype", T_OBJECT_EX, offsetof(KKViewBase, dtype), 0, "the ScalarType"},
    {"_space", T_OBJECT_EX, offsetof(KKViewBase, space), 0, "the MemorySpace"},
    {"_trait", T_OBJECT_EX, offsetof(KKViewBase, trait), 0, "the Trait"},
    {"_parent", T_OBJECT, offsetof(KKViewBase, parent), 0, "the View a subview was taken from, or None"},
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
    .tp_as_mapping = &viewbase_as_mapping,
    .tp_new = PyType_GenericNew,
};

int kk_view_init(PyObject* m) {
    str_getitem = PyUnicode_InternFromString("_getitem");
    str_setitem = PyUnicode_InternFromString("_setitem");
    if (str_getitem == NULL || str_setitem == NULL) return -1;
    if (PyType_Ready(&KKViewBase_Type) < 0) return -1;
    if (PyModule_AddObjectRef(m, "ViewBase", (PyObject*)&KKViewBase_Type) < 0) return -1;
    if (PyModule_AddIntConstant(m, "HOST_STALE", KK_HOST_STALE) < 0 ||
        PyModule_AddIntConstant(m, "DEVICE_STALE", KK_DEVICE_STALE) < 0 ||
        PyModule_AddIntConstant(m, "HAS_DEVICE", KK_HAS_DEVICE) < 0 ||
        PyModule_AddIntConstant(m, "DERIVED", KK_DERIVED) < 0 ||
        PyModule_AddIntConstant(m, "MULTI", KK_MULTI) < 0 ||
        PyModule_AddIntConstant(m, "SHARED", KK_SHARED) < 0 ||
        PyModule_AddIntConstant(m, "TRAIT_ATOMIC", KK_TRAIT_ATOMIC) < 0 ||
        PyModule_AddIntConstant(m, "PLACE_HOST", KK_PLACE_HOST) < 0)
        return -1;
    return 0;
}
