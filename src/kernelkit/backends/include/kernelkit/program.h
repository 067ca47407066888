/* What whole compiled functions (@pk.jit programs) need beyond kernel bodies: arrays they allocate, trip
 * counts of loops with any step, and the slots through which they hand results back to Python.
 *
 * A program's arrays are C-contiguous blocks from malloc/calloc (64 bytes at least), freed with free(): the
 * Python side frees the ones it receives with the same C library. A result slot is 10 int64: a scalar's bits in
 * slot 0, or an array's (data, rank, extents...). */
#ifndef KERNELKIT_PROGRAM_H
#define KERNELKIT_PROGRAM_H

#include "host.h"

/* GCC 12 splits outer loops whose inner `omp simd reduction` loop has a triangular trip count, and the split
 * loses the vectorized reduction (it keeps the scalar simd-array fallback only): a 3x slower trisolv. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-split-loops")
#endif

#include <stdlib.h>
#include <string.h>

#ifndef _OPENMP
#include <time.h>
#endif

namespace kk {

namespace host {
inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
inline double wtime() {
#ifdef _OPENMP
    return omp_get_wtime();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
}
}  // namespace host

/* PyOMP's omp_* runtime calls (kernelkit.openmp): the OpenMP runtime's answers, or one thread's without OpenMP
 * (pk.Serial). Setters answer 0, so every call is an expression. */
namespace omp {
#ifdef _OPENMP
#define KK_OMP_GET(name, fallback) inline int name() { return omp_##name(); }
#define KK_OMP_SET(name) inline int name(int v) { omp_##name(v); return 0; }
#else
#define KK_OMP_GET(name, fallback) inline int name() { return fallback; }
#define KK_OMP_SET(name) inline int name(int) { return 0; }
#endif
KK_OMP_GET(get_thread_num, 0)
KK_OMP_GET(get_num_threads, 1)
KK_OMP_GET(get_max_threads, 1)
KK_OMP_GET(get_num_procs, 1)
KK_OMP_GET(in_parallel, 0)
KK_OMP_GET(get_thread_limit, 2147483647)
KK_OMP_GET(get_dynamic, 0)
KK_OMP_GET(get_max_active_levels, 1)
KK_OMP_GET(get_supported_active_levels, 1)
KK_OMP_GET(get_level, 0)
KK_OMP_GET(get_active_level, 0)
KK_OMP_GET(in_final, 0)
KK_OMP_GET(get_team_num, 0)
KK_OMP_GET(get_num_teams, 1)
KK_OMP_SET(set_num_threads)
KK_OMP_SET(set_dynamic)
KK_OMP_SET(set_max_active_levels)
#undef KK_OMP_GET
#undef KK_OMP_SET
#ifdef _OPENMP
inline int get_nested() { return omp_get_max_active_levels() > 1; }
inline int set_nested(int v) { omp_set_max_active_levels(v ? 255 : 1); return 0; }
inline int get_ancestor_thread_num(int level) { return omp_get_ancestor_thread_num(level); }
inline int get_team_size(int level) { return omp_get_team_size(level); }
inline double get_wtick() { return omp_get_wtick(); }
#else
inline int get_nested() { return 0; }
inline int set_nested(int) { return 0; }
inline int get_ancestor_thread_num(int level) { return level == 0 ? 0 : -1; }
inline int get_team_size(int level) { return level == 0 ? 1 : -1; }
inline double get_wtick() { return 1e-9; }
#endif
inline double get_wtime() { return host::wtime(); }
}  // namespace omp

/* parallel loops of simple bodies with fewer iterations run on one thread: ~1 ns each, 32768 of them are about
 * what waking sleeping threads costs (OMP_WAIT_POLICY=passive, or threads idle past their spin count); at 4096,
 * npbench's jacobi_1d (6000 loops of 12000 iterations per call) took 0.3-0.5 s on 2 cores, at 32768 13-16 ms */
#ifndef KK_PAR_MIN
#define KK_PAR_MIN 32768
#endif
/* parallel loops with inner loops fork only above this many inner iterations, where they can be counted before
 * the loop (backends/openmp/work.py): waking sleeping threads costs tens of microseconds */
#ifndef KK_PAR_WORK
#define KK_PAR_WORK 65536
#endif

enum { FILL_NONE = 0, FILL_ZERO = 1, FILL_VALUE = 2 };
enum { RESULT_SLOTS = 10 };

/* iterations of range(b, e, s), s != 0 */
KK_FUNCTION int64_t trip(int64_t b, int64_t e, int64_t s) {
    if (s > 0) return e > b ? (e - b + s - 1) / s : 0;
    return b > e ? (b - e - s - 1) / (-s) : 0;
}

template <class T, int R> KK_FUNCTION View<T, R, 'C'> no_view() {
    View<T, R, 'C'> v;
    v.data = 0;
    for (int k = 0; k < R; ++k) v.ext[k] = v.str[k] = 0;
#ifdef KK_BOUNDS_CHECK
    v.name = "<array>";
#endif
    return v;
}

inline void alloc_fail(int64_t bytes) {
    if (!err_claim()) return;
    int at = 0;
    err_copy("cannot allocate an array of ", at);
    while (err_msg[at]) ++at;
    at = err_num(bytes, at);
    err_copy(" bytes", at);
}

template <class T, int R> View<T, R, 'C'> alloc_view(const int64_t (&shape)[R], int fill, T value) {
    View<T, R, 'C'> v = no_view<T, R>();
    int64_t n = 1;
    for (int k = 0; k < R; ++k) {
        v.ext[k] = shape[k] > 0 ? shape[k] : 0;
        n *= v.ext[k];
    }
    int64_t s = 1;
    for (int k = R - 1; k >= 0; --k) {
        v.str[k] = s;
        s *= v.ext[k];
    }
    const int64_t bytes = n * (int64_t)sizeof(T);
    const size_t padded = (size_t)(bytes > 64 ? bytes : 64);
    v.data = (T*)(fill == FILL_ZERO ? calloc(padded, 1) : malloc(padded));
    if (!v.data) {
        alloc_fail(bytes);
        return v;
    }
    if (fill == FILL_VALUE) {
        T* d = v.data;
        KK_PRAGMA(omp parallel for simd schedule(static) if (n > 65536))
        for (int64_t i = 0; i < n; ++i) d[i] = value;
    }
    return v;
}

template <class T, int R, char L> inline void free_view(View<T, R, L>& v) {
    free((void*)v.data);
    v.data = 0;
}

KK_FUNCTION void put_float(int64_t* slots, int k, double value) { memcpy(slots + RESULT_SLOTS * k, &value, 8); }
KK_FUNCTION void put_int(int64_t* slots, int k, int64_t value) { slots[RESULT_SLOTS * k] = value; }

template <class T, int R, char L> KK_FUNCTION void put_array(int64_t* slots, int k, View<T, R, L>& v) {
    int64_t* s = slots + RESULT_SLOTS * k;
    s[0] = (int64_t)(uintptr_t)v.data;
    s[1] = R;
    for (int d = 0; d < R; ++d) s[2 + d] = v.ext[d];
    v.data = 0; /* owned by the caller now */
}

}  // namespace kk

#endif
