/* The CUDA launch queue: parallel_for launches handed to a native thread that calls cuLaunchKernel.
 *
 * On the lent H200's host a cuLaunchKernel costs 3-5 us of CPU, kernelkit's own share of a launch 0.6-0.9 us, and
 * a Python loop of small kernels paid both one after the other (and more: the driver's code ran cold between
 * two Python calls; the sum was 1.5-2.5 us above the two parts). Here the calling thread copies the kernel's
 * parameter block into a ring slot and returns; one worker thread, with the driver's code and data hot on its
 * core, makes the driver calls in the order the slots were filled. A burst of launches then costs what the
 * driver alone costs per launch, and the Python work between launches overlaps it.
 *
 * Order is the contract. Every other use of the driver is ordered after the queued launches by a drain:
 *   - Python reaches the driver only through api.cu(), which drains (copies, synchronizations, events,
 *     frees, module loads, captures);
 *   - the native launcher drains before any launch it does not queue (reductions and scans wait for their
 *     result), and launches directly only when the queue is empty;
 *   - memory that crosses to another library (__cuda_array_interface__, DLPack, a foreign GPU array as an
 *     argument) may be used later by work kernelkit never sees: the first such crossing turns the queue off for
 *     the process (kkq_disable), after draining.
 * A launch is queued only in a burst (the previous one, a parallel_for too, returned less than KKQ_BURST_NS ago,
 * or the queue is not empty), and only for a specialization whose first launch succeeded directly: an isolated launch pays no
 * hand-off, and a configuration the driver rejects is reported at its own call. A queued launch that fails
 * (the driver rejects it, or a fault of an earlier kernel left the context unusable) stops the queue: the
 * launches after it are dropped, and the failure is raised, naming the kernel, by the next launch or
 * synchronization of any thread (kkq_take_failure).
 *
 * All producers hold the GIL; the worker never touches Python objects (a slot's owner reference is taken and
 * released by producers). KERNELKIT_CUDA_LAUNCH_QUEUE=0 launches everything on the calling thread. */
#include "native.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define KKQ_SLOTS 256
#define KKQ_BURST_NS 50000LL  /* a launch this soon after the previous one returned is queued */
#define KKQ_SPIN_NS 200000LL  /* the worker polls this long for more work before it sleeps */
#define KKQ_DRAIN_SPIN_NS 20000LL

typedef struct {
    kkq_call_t call;
    void* extra[5];
    size_t size;
    PyObject* owner; /* a strong reference, released by the producer that reuses the slot */
    _Alignas(16) char params[KKQ_BYTES];
} kkq_slot;

static kkq_slot* ring = NULL;
static _Atomic unsigned long long q_enq = 0;  /* slots filled (producers) */
static _Atomic unsigned long long q_done = 0; /* slots whose driver call returned (worker) */
static _Atomic int q_sleeping = 0;
static _Atomic int q_waiters = 0;
static _Atomic int q_fail_rc = 0;          /* the first queued launch that failed: its CUresult */
static unsigned long long q_fail_seq = 0;  /* ... and its slot (written before q_fail_rc) */
static unsigned long long q_dropped = 0;   /* launches dropped after it (the worker's count) */
static int q_state = -1;                   /* -1: not decided yet; 0: off; 1: on */
static int q_hold = 0;                     /* > 0: launch directly (a graph capture records this thread) */
static int q_started = 0;
static long long q_last_ns = 0;            /* when the previous launch returned */
static int q_last_queueable = 0;           /* ... and whether it could have been queued */
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_idle = PTHREAD_COND_INITIALIZER;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* A launch on the calling thread, whose context the launcher (cuda.c cuda_run) has made current. */
static int direct(const kkq_call_t* c, const void* params, size_t size) {
    size_t sz = size;
    void* extra[] = {(void*)1, (void*)params, (void*)2, &sz, (void*)0};
    return c->launch(c->fn, c->dims[0], c->dims[1], c->dims[2], c->dims[3], c->dims[4], c->dims[5], c->dims[6],
                     c->stream, NULL, extra);
}

static void* worker(void* unused) {
    void* cur = NULL;
    unsigned long long d = atomic_load(&q_done);
    for (;;) {
        if (atomic_load(&q_enq) == d) {
            const long long t0 = now_ns();
            while (atomic_load(&q_enq) == d && now_ns() - t0 < KKQ_SPIN_NS) sched_yield();
            if (atomic_load(&q_enq) == d) {
                pthread_mutex_lock(&q_mu);
                atomic_store(&q_sleeping, 1);
                while (atomic_load(&q_enq) == d) pthread_cond_wait(&q_work, &q_mu);
                atomic_store(&q_sleeping, 0);
                pthread_mutex_unlock(&q_mu);
            }
            continue;
        }
        kkq_slot* s = &ring[d % KKQ_SLOTS];
        if (atomic_load(&q_fail_rc) == 0) {
            const kkq_call_t* c = &s->call;
            if (cur != c->ctx) {
                c->ctxset(c->ctx);
                cur = c->ctx;
            }
            s->extra[0] = (void*)1;
            s->extra[1] = s->params;
            s->extra[2] = (void*)2;
            s->extra[3] = &s->size;
            s->extra[4] = NULL;
            const int rc = c->launch(c->fn, c->dims[0], c->dims[1], c->dims[2], c->dims[3], c->dims[4], c->dims[5],
                                     c->dims[6], c->stream, NULL, s->extra);
            if (rc) {
                q_fail_seq = d;
                atomic_store(&q_fail_rc, rc);
            }
        } else {
            q_dropped++;
        }
        atomic_store(&q_done, ++d);
        if (atomic_load(&q_waiters)) {
            pthread_mutex_lock(&q_mu);
            pthread_cond_broadcast(&q_idle);
            pthread_mutex_unlock(&q_mu);
        }
    }
    return NULL;
}

static void after_fork_child(void) {
    /* the child has no worker: whatever the parent had queued is the parent's; the child launches directly */
    q_started = 0;
    q_state = 0;
    atomic_store(&q_enq, 0);
    atomic_store(&q_done, 0);
    atomic_store(&q_sleeping, 0);
    atomic_store(&q_waiters, 0);
    pthread_mutex_init(&q_mu, NULL);
    pthread_cond_init(&q_work, NULL);
    pthread_cond_init(&q_idle, NULL);
}

static int enabled(void) {
    if (q_state < 0) {
        const char* v = getenv("KERNELKIT_CUDA_LAUNCH_QUEUE");
        q_state = !(v && (strcmp(v, "0") == 0 || strcmp(v, "off") == 0 || strcmp(v, "false") == 0));
    }
    return q_state == 1 && q_hold == 0;
}

static int start(void) {
    if (q_started) return 1;
    ring = calloc(KKQ_SLOTS, sizeof(kkq_slot));
    if (!ring) return 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    const int rc = pthread_create(&t, &attr, worker, NULL);
    pthread_attr_destroy(&attr);
    if (rc) {
        free(ring);
        ring = NULL;
        q_state = 0;
        return 0;
    }
    static int atfork = 0;
    if (!atfork) {
        pthread_atfork(NULL, NULL, after_fork_child);
        atfork = 1;
    }
    q_started = 1;
    return 1;
}

int kkq_failed(void) { return atomic_load(&q_fail_rc) != 0; }

int kkq_take_failure(PyObject** owner, unsigned long long* dropped) {
    if (!atomic_load(&q_fail_rc)) return 0;
    kkq_drain(); /* the worker has passed every slot: its count of dropped launches is final */
    const int rc = atomic_load(&q_fail_rc); /* read again: another thread may have taken it meanwhile */
    if (!rc) return 0;
    *owner = Py_NewRef(ring[q_fail_seq % KKQ_SLOTS].owner);
    *dropped = q_dropped;
    q_dropped = 0;
    atomic_store(&q_fail_rc, 0);
    return rc;
}

/* The ring is full (the worker is KKQ_SLOTS launches behind: the GPU's own launch queue is full, or the driver
 * is slow): wait for a slot, with the GIL released once the wait is not short. Returns the slot's number, read
 * again afterwards, since another thread may have queued meanwhile. */
static unsigned long long wait_for_slot(void) {
    const long long t0 = now_ns();
    while (atomic_load(&q_enq) - atomic_load(&q_done) >= KKQ_SLOTS && now_ns() - t0 < KKQ_DRAIN_SPIN_NS)
        sched_yield();
    while (atomic_load(&q_enq) - atomic_load(&q_done) >= KKQ_SLOTS) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&q_mu);
        atomic_fetch_add(&q_waiters, 1);
        while (atomic_load(&q_enq) - atomic_load(&q_done) >= KKQ_SLOTS) pthread_cond_wait(&q_idle, &q_mu);
        atomic_fetch_sub(&q_waiters, 1);
        pthread_mutex_unlock(&q_mu);
        Py_END_ALLOW_THREADS
    }
    return atomic_load(&q_enq);
}

void kkq_drain(void) {
    if (!q_started) return;
    const unsigned long long target = atomic_load(&q_enq);
    if (atomic_load(&q_done) >= target) return;
    const long long t0 = now_ns();
    while (atomic_load(&q_done) < target && now_ns() - t0 < KKQ_DRAIN_SPIN_NS) sched_yield();
    if (atomic_load(&q_done) >= target) return;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&q_mu);
    atomic_fetch_add(&q_waiters, 1);
    while (atomic_load(&q_done) < target) pthread_cond_wait(&q_idle, &q_mu);
    atomic_fetch_sub(&q_waiters, 1);
    pthread_mutex_unlock(&q_mu);
    Py_END_ALLOW_THREADS
}

int kkq_launch(const kkq_call_t* c, const void* params, size_t size, PyObject* owner, int may_queue) {
    const unsigned long long e = atomic_load(&q_enq);
    const int idle = !q_started || atomic_load(&q_done) == e;
    const long long t = now_ns();
    /* a burst: parallel_for launches back to back (after a reduction, which waited for the GPU, the next
     * launch is not in one: a loop of one parallel_for and one reduction gains nothing from a hand-off) */
    const int burst = t - q_last_ns < KKQ_BURST_NS && q_last_queueable;
    q_last_queueable = may_queue;
    if (!may_queue || size > KKQ_BYTES || !enabled() || (idle && !burst) || !start()) {
        if (!idle) kkq_drain();
        const int rc = direct(c, params, size);
        q_last_ns = now_ns();
        return rc;
    }
    unsigned long long e1 = e;
    if (e - atomic_load(&q_done) >= KKQ_SLOTS) e1 = wait_for_slot();
    kkq_slot* s = &ring[e1 % KKQ_SLOTS];
    Py_XSETREF(s->owner, Py_NewRef(owner));
    s->call = *c;
    s->size = size;
    memcpy(s->params, params, size);
    atomic_store(&q_enq, e1 + 1);
    if (atomic_load(&q_sleeping)) {
        pthread_mutex_lock(&q_mu);
        pthread_cond_signal(&q_work);
        pthread_mutex_unlock(&q_mu);
    }
    q_last_ns = t; /* a queued launch returns at once */
    return 0;
}

void kkq_disable(void) {
    kkq_drain();
    q_state = 0;
}

/* ------------------------------------------------------------------------------------------------ Python */

static PyObject* py_drain(PyObject* self, PyObject* unused) {
    kkq_drain();
    Py_RETURN_NONE;
}

static PyObject* py_disable(PyObject* self, PyObject* unused) {
    kkq_disable();
    Py_RETURN_NONE;
}

/* cuda_queue_hold(delta): launches go directly while the hold count is above zero (graph captures) */
static PyObject* py_hold(PyObject* self, PyObject* arg) {
    const long d = PyLong_AsLong(arg);
    if (d == -1 && PyErr_Occurred()) return NULL;
    kkq_drain();
    q_hold += (int)d;
    if (q_hold < 0) q_hold = 0;
    Py_RETURN_NONE;
}

/* cuda_queue_state() -> dict: for tests and the benchmarks' notes */
static PyObject* py_state(PyObject* self, PyObject* unused) {
    return Py_BuildValue("{s:i,s:i,s:K,s:K,s:i,s:i}", "enabled", enabled(), "started", q_started, "queued",
                         (unsigned long long)atomic_load(&q_enq), "done", (unsigned long long)atomic_load(&q_done),
                         "failed", atomic_load(&q_fail_rc), "hold", q_hold);
}

/* cuda_queue_reset(): forget the on/off decision (tests; the environment variable is read again) */
static PyObject* py_reset(PyObject* self, PyObject* unused) {
    kkq_drain();
    q_state = -1;
    q_hold = 0;
    q_last_ns = 0;
    q_last_queueable = 0;
    Py_RETURN_NONE;
}

PyMethodDef kk_cudaq_methods[] = {
    {"cuda_queue_drain", py_drain, METH_NOARGS, "wait until every queued CUDA launch has been made"},
    {"cuda_queue_disable", py_disable, METH_NOARGS, "drain, then launch on the calling thread for good"},
    {"cuda_queue_hold", py_hold, METH_O, "cuda_queue_hold(+1 / -1): launch directly while held"},
    {"cuda_queue_state", py_state, METH_NOARGS, "the launch queue's counters"},
    {"cuda_queue_reset", py_reset, METH_NOARGS, "drain and read KERNELKIT_CUDA_LAUNCH_QUEUE again"},
    {NULL},
};
