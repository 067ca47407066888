/* kernelkit._native: the launch fast path and the View base type (see native.h for the parts). */
#define KK_NUMPY_MAIN 1
#include "native.h"

PyObject* kk_runtime_error = NULL;
PyObject* kk_value_error = NULL;
int kk_nthreads = 1;

PyObject* kk_raise(PyObject* cls, const char* msg) {
    PyErr_SetString(cls ? cls : PyExc_RuntimeError, msg);
    return NULL;
}

static PyObject* kk_set_num_threads(PyObject* self, PyObject* arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "the number of threads must be >= 1");
        return NULL;
    }
    kk_nthreads = (int)n;
    Py_RETURN_NONE;
}

static PyObject* kk_get_num_threads(PyObject* self, PyObject* unused) { return PyLong_FromLong(kk_nthreads); }

/* set_error_classes(KernelRuntimeError, KernelValueError) */
static PyObject* kk_set_error_classes(PyObject* self, PyObject* args) {
    PyObject *rt, *val;
    if (!PyArg_ParseTuple(args, "OO", &rt, &val)) return NULL;
    Py_XSETREF(kk_runtime_error, Py_NewRef(rt));
    Py_XSETREF(kk_value_error, Py_NewRef(val));
    Py_RETURN_NONE;
}

static PyMethodDef kk_module_methods[] = {
    {"set_num_threads", kk_set_num_threads, METH_O, "threads used by OpenMP launches"},
    {"get_num_threads", kk_get_num_threads, METH_NOARGS, "threads used by OpenMP launches"},
    {"set_error_classes", kk_set_error_classes, METH_VARARGS, "exceptions raised for failed and invalid launches"},
    {NULL},
};

static struct PyModuleDef kk_module = {PyModuleDef_HEAD_INIT, "kernelkit._native", NULL, -1, kk_module_methods};

static int add_methods(PyObject* m, PyMethodDef* defs) {
    for (PyMethodDef* d = defs; d->ml_name; ++d) {
        PyObject* f = PyCFunction_NewEx(d, NULL, PyModule_GetNameObject(m));
        if (f == NULL || PyModule_AddObject(m, d->ml_name, f) < 0) {
            Py_XDECREF(f);
            return -1;
        }
    }
    return 0;
}

PyMODINIT_FUNC PyInit__native(void) {
    import_array();
    kk_runtime_error = Py_NewRef(PyExc_RuntimeError);
    kk_value_error = Py_NewRef(PyExc_ValueError);
    PyObject* m = PyModule_Create(&kk_module);
    if (!m) return NULL;
    if (kk_view_init(m) < 0 || kk_launch_init(m) < 0 || kk_cuda_init(m) < 0 || kk_clean_init(m) < 0 || kk_fastpath_init(m) < 0 ||
        add_methods(m, kk_launch_methods) < 0 || add_methods(m, kk_cuda_methods) < 0 || add_methods(m, kk_cudaq_methods) < 0 ||
        add_methods(m, kk_clean_methods) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
