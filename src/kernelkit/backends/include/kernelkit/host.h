/* The host drivers: Range and MDRange patterns on OpenMP threads (or one thread when built without OpenMP).
 *
 * Each thread takes one contiguous static chunk and runs it as an `omp simd` loop over a thread-private copy of
 * the functor (the copy matters: it lets the compiler keep captured pointers in registers and vectorize).
 * Partial results are joined in thread order, so a reduction is reproducible for a given thread count.
 */
#ifndef KERNELKIT_HOST_H
#define KERNELKIT_HOST_H

#include "core.h"
#include "reducers.h"
#include "atomics_host.h"
#include "random.h"

#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
#endif

namespace kk {
namespace host {

KK_FUNCTION void chunk(int64_t lo, int64_t hi, int nt, int t, int64_t* b, int64_t* e) {
    const int64_t n = hi - lo, q = n / nt, r = n % nt;
    *b = lo + t * q + (t < r ? t : r);
    *e = *b + q + (t < r ? 1 : 0);
}

/* Threads worth starting for n units of work. */
KK_FUNCTION int team_for(const kk_launch_t* L, int64_t n) {
#ifdef _OPENMP
    int nt = L->nthreads;
    return n < nt ? (int)(n > 0 ? n : 1) : nt;
#else
    (void)L; (void)n;
    return 1;
#endif
}

template <class R, class T, class F>
KK_FUNCTION void reduce_chunk(int64_t b, int64_t e, T& acc, const F& f) {
    if constexpr (R::op == OP_SUM) {
        KK_PRAGMA(omp simd reduction(+ : acc))
        for (int64_t i = b; i < e; ++i) f(i, acc);
    } else if constexpr (R::op == OP_PROD) {
        KK_PRAGMA(omp simd reduction(* : acc))
        for (int64_t i = b; i < e; ++i) f(i, acc);
    } else if constexpr (R::op == OP_BAND) {
        KK_PRAGMA(omp simd reduction(& : acc))
        for (int64_t i = b; i < e; ++i) f(i, acc);
    } else if constexpr (R::op == OP_BOR) {
        KK_PRAGMA(omp simd reduction(| : acc))
        for (int64_t i = b; i < e; ++i) f(i, acc);
    } else {
        for (int64_t i = b; i < e; ++i) f(i, acc);
    }
}

/* SIMD: the compiler proved each iteration writes only its own elements (see ir.nodes.writes_own_elements), so
 * the iterations of a chunk may run as vector lanes; otherwise the chunk runs in order (the C++ compiler may
 * still vectorize it where it can prove that itself). */
template <bool SIMD, class F>
KK_FUNCTION void run_chunk(int64_t b, int64_t e, const F& f) {
    if constexpr (SIMD) {
        KK_PRAGMA(omp simd)
        for (int64_t i = b; i < e; ++i) f(i);
    } else {
        for (int64_t i = b; i < e; ++i) f(i);
    }
}

template <bool SIMD = true, class F>
void parallel_for(const kk_launch_t* L, const F& f0) {
    const int64_t lo = L->lo[0], hi = L->hi[0];
    if (hi <= lo) return;
    const int nt = team_for(L, hi - lo);
    if (nt == 1) {
        const F f = f0;
        run_chunk<SIMD>(lo, hi, f);
        return;
    }
    KK_PRAGMA(omp parallel num_threads(nt)) {
        const F f = f0;
        int64_t b, e;
        chunk(lo, hi, omp_get_num_threads(), omp_get_thread_num(), &b, &e);
        run_chunk<SIMD>(b, e, f);
    }
}

template <class R, class T, class F>
void parallel_reduce(const kk_launch_t* L, const F& f0, T& result) {
    const int64_t lo = L->lo[0], hi = L->hi[0];
    result = R::template identity<T>();
    if (hi <= lo) return;
    const int nt = team_for(L, hi - lo);
    if (nt == 1) {
        const F f = f0;
        reduce_chunk<R>(lo, hi, result, f);
        return;
    }
    T* partial = (T*)__builtin_alloca(sizeof(T) * nt);
    for (int t = 0; t < nt; ++t) partial[t] = R::template identity<T>();
    KK_PRAGMA(omp parallel num_threads(nt)) {
        const F f = f0;
        T acc = R::template identity<T>();
        int64_t b, e;
        chunk(lo, hi, omp_get_num_threads(), omp_get_thread_num(), &b, &e);
        reduce_chunk<R>(b, e, acc, f);
        partial[omp_get_thread_num()] = acc;
    }
    for (int t = 0; t < nt; ++t) R::join(result, partial[t]);
}

/* Kokkos scan: a pass with final=false sums each chunk, an exclusive prefix over the chunks seeds a second pass
 * with final=true. `result` is the total. */
template <class T, class F>
void parallel_scan(const kk_launch_t* L, const F& f0, T& result) {
    const int64_t lo = L->lo[0], hi = L->hi[0];
    result = (T)0;
    if (hi <= lo) return;
    const int nt = team_for(L, hi - lo);
    if (nt == 1) {
        const F f = f0;
        T acc = (T)0;
        for (int64_t i = lo; i < hi; ++i) f(i, acc, true);
        result = acc;
        return;
    }
    T* partial = (T*)__builtin_alloca(sizeof(T) * nt);
    for (int t = 0; t < nt; ++t) partial[t] = (T)0;
    KK_PRAGMA(omp parallel num_threads(nt)) {
        const F f = f0;
        const int t = omp_get_thread_num();
        int64_t b, e;
        chunk(lo, hi, omp_get_num_threads(), t, &b, &e);
        T acc = (T)0;
        for (int64_t i = b; i < e; ++i) f(i, acc, false);
        partial[t] = acc;
        KK_PRAGMA(omp barrier)
        T prefix = (T)0;
        for (int s = 0; s < t; ++s) prefix = (T)(prefix + partial[s]);
        acc = prefix;
        for (int64_t i = b; i < e; ++i) f(i, acc, true);
    }
    for (int t = 0; t < nt; ++t) result = (T)(result + partial[t]);
}

/* ---------------------------------------------------------------------------------------- MDRange */

/* The iteration space split into tiles; by default a tile is one "row" (the last dimension whole). */
template <int R>
struct Tiling {
    int64_t lo[R], hi[R], ts[R], nt[R], count;
    KK_FUNCTION explicit Tiling(const kk_launch_t* L) {
        count = 1;
        for (int k = 0; k < R; ++k) {
            lo[k] = L->lo[k];
            hi[k] = L->hi[k];
            const int64_t ext = hi[k] > lo[k] ? hi[k] - lo[k] : 0;
            ts[k] = L->tile[k] > 0 ? L->tile[k] : (k == R - 1 ? (ext > 0 ? ext : 1) : 1);
            nt[k] = (ext + ts[k] - 1) / ts[k];
            count *= nt[k];
        }
    }
    KK_FUNCTION void bounds(int64_t t, int64_t* b, int64_t* e) const {
        for (int k = R - 1; k >= 0; --k) {
            const int64_t c = t % nt[k];
            t /= nt[k];
            b[k] = lo[k] + c * ts[k];
            e[k] = b[k] + ts[k] < hi[k] ? b[k] + ts[k] : hi[k];
        }
    }
};

/* Visit every point of a tile: an odometer over the outer dimensions, the last one as a simd loop. */
template <int R, bool SIMD, class F>
KK_FUNCTION void tile_for(const int64_t* b, const int64_t* e, const F& f) {
    int64_t ix[R];
    for (int k = 0; k < R; ++k) ix[k] = b[k];
    for (;;) {
        if constexpr (SIMD) {
            KK_PRAGMA(omp simd)
            for (int64_t j = b[R - 1]; j < e[R - 1]; ++j) f(ix, j);
        } else {
            for (int64_t j = b[R - 1]; j < e[R - 1]; ++j) f(ix, j);
        }
        int k = R - 2;
        while (k >= 0) {
            if (++ix[k] < e[k]) break;
            ix[k] = b[k];
            --k;
        }
        if (k < 0) return;
    }
}

template <int R, class Red, class T, class F>
KK_FUNCTION void tile_reduce(const int64_t* b, const int64_t* e, T& acc, const F& f) {
    int64_t ix[R];
    for (int k = 0; k < R; ++k) ix[k] = b[k];
    for (;;) {
        reduce_chunk<Red>(b[R - 1], e[R - 1], acc, [&](int64_t j, T& a) { f(ix, j, a); });
        int k = R - 2;
        while (k >= 0) {
            if (++ix[k] < e[k]) break;
            ix[k] = b[k];
            --k;
        }
        if (k < 0) return;
    }
}

template <int R, bool SIMD = true, class F>
void parallel_for_md(const kk_launch_t* L, const F& f0) {
    const Tiling<R> tl(L);
    if (tl.count == 0) return;
    const int nt = team_for(L, tl.count);
    KK_PRAGMA(omp parallel num_threads(nt) if (nt > 1)) {
        const F f = f0;
        int64_t tb, te;
        chunk(0, tl.count, omp_get_num_threads(), omp_get_thread_num(), &tb, &te);
        for (int64_t t = tb; t < te; ++t) {
            int64_t b[R], e[R];
            tl.bounds(t, b, e);
            tile_for<R, SIMD>(b, e, f);
        }
    }
}

template <int R, class Red, class T, class F>
void parallel_reduce_md(const kk_launch_t* L, const F& f0, T& result) {
    const Tiling<R> tl(L);
    result = Red::template identity<T>();
    if (tl.count == 0) return;
    const int nt = team_for(L, tl.count);
    T* partial = (T*)__builtin_alloca(sizeof(T) * nt);
    for (int t = 0; t < nt; ++t) partial[t] = Red::template identity<T>();
    KK_PRAGMA(omp parallel num_threads(nt) if (nt > 1)) {
        const F f = f0;
        T acc = Red::template identity<T>();
        int64_t tb, te;
        chunk(0, tl.count, omp_get_num_threads(), omp_get_thread_num(), &tb, &te);
        for (int64_t t = tb; t < te; ++t) {
            int64_t b[R], e[R];
            tl.bounds(t, b, e);
            tile_reduce<R, Red>(b, e, acc, f);
        }
        partial[omp_get_thread_num()] = acc;
    }
    for (int t = 0; t < nt; ++t) Red::join(result, partial[t]);
}

}  // namespace host
}  // namespace kk

#endif
