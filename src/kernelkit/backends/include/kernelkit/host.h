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

/* Ctrl-C: a launch runs in blocks of iterations; between blocks thread 0 asks the launcher (L->poll, which
 * checks Python's signals at most every ~100 ms) whether to stop, and the other threads read L->stop. A block is
 * long enough that the check costs nothing measurable; a launch shorter than one block never polls. */
constexpr int64_t POLL_BLOCK = 1 << 15;

struct Poller {
    const kk_launch_t* L;
    int t;
    int64_t work;
    KK_FUNCTION Poller(const kk_launch_t* L_, int t_) : L(L_), t(t_), work(0) {}
    /* true: stop now (the launch is being interrupted) */
    KK_FUNCTION bool stop_now() const {
        if (t == 0 && L->poll) return L->poll((void*)L) != 0;
        return __atomic_load_n(&L->stop, __ATOMIC_RELAXED) != 0;
    }
    /* count `n` iterations done; poll once a block's worth has been done */
    KK_FUNCTION bool tick(int64_t n) {
        work += n;
        if (work < POLL_BLOCK) return false;
        work = 0;
        return stop_now();
    }
};

template <class R, bool SIMD = true, class T, class F>
KK_FUNCTION void reduce_chunk(int64_t b, int64_t e, T& acc, const F& f) {
    if constexpr (!SIMD) {
        for (int64_t i = b; i < e; ++i) f(i, acc);
    } else if constexpr (R::op == OP_SUM) {
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

/* [b, e) in blocks of POLL_BLOCK, polling between blocks; `run(bb, be)` runs one block. */
template <class G>
KK_FUNCTION void blocked(Poller& p, int64_t b, int64_t e, const G& run) {
    while (b < e) {
        const int64_t m = e - b > POLL_BLOCK ? b + POLL_BLOCK : e;
        run(b, m);
        b = m;
        if (b < e && p.stop_now()) return;
    }
}

template <bool SIMD = true, class F>
void parallel_for(const kk_launch_t* L, const F& f0) {
    const int64_t lo = L->lo[0], hi = L->hi[0];
    if (hi <= lo) return;
    const int nt = team_for(L, hi - lo);
    if (nt == 1) {
        const F f = f0;
        Poller p(L, 0);
        blocked(p, lo, hi, [&](int64_t b, int64_t e) { run_chunk<SIMD>(b, e, f); });
        return;
    }
    KK_PRAGMA(omp parallel num_threads(nt)) {
        const F f = f0;
        int64_t b, e;
        chunk(lo, hi, omp_get_num_threads(), omp_get_thread_num(), &b, &e);
        Poller p(L, omp_get_thread_num());
        blocked(p, b, e, [&](int64_t bb, int64_t be) { run_chunk<SIMD>(bb, be, f); });
    }
}

template <class R, bool SIMD = true, class T, class F>
void parallel_reduce(const kk_launch_t* L, const F& f0, T& result) {
    const int64_t lo = L->lo[0], hi = L->hi[0];
    result = R::template identity<T>();
    if (hi <= lo) return;
    const int nt = team_for(L, hi - lo);
    if (nt == 1) {
        const F f = f0;
        Poller p(L, 0);
        blocked(p, lo, hi, [&](int64_t b, int64_t e) { reduce_chunk<R, SIMD>(b, e, result, f); });
        return;
    }
    T* partial = (T*)__builtin_alloca(sizeof(T) * nt);
    for (int t = 0; t < nt; ++t) partial[t] = R::template identity<T>();
    KK_PRAGMA(omp parallel num_threads(nt)) {
        const F f = f0;
        T acc = R::template identity<T>();
        int64_t b, e;
        chunk(lo, hi, omp_get_num_threads(), omp_get_thread_num(), &b, &e);
        Poller p(L, omp_get_thread_num());
        blocked(p, b, e, [&](int64_t bb, int64_t be) { reduce_chunk<R, SIMD>(bb, be, acc, f); });
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
        Poller p(L, 0);
        blocked(p, lo, hi, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) f(i, acc, true); });
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
        Poller p(L, t);
        blocked(p, b, e, [&](int64_t bb, int64_t be) { for (int64_t i = bb; i < be; ++i) f(i, acc, false); });
        partial[t] = acc;
        KK_PRAGMA(omp barrier) /* every thread reaches it: an interrupted one only skipped iterations */
        T prefix = (T)0;
        for (int s = 0; s < t; ++s) prefix = (T)(prefix + partial[s]);
        acc = prefix;
        if (!__atomic_load_n(&L->stop, __ATOMIC_RELAXED))
            blocked(p, b, e, [&](int64_t bb, int64_t be) { for (int64_t i = bb; i < be; ++i) f(i, acc, true); });
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
KK_FUNCTION bool tile_for(const int64_t* b, const int64_t* e, const F& f, Poller& p) {
    int64_t ix[R];
    for (int k = 0; k < R; ++k) ix[k] = b[k];
    for (;;) {
        for (int64_t jb = b[R - 1]; jb < e[R - 1];) { /* a long row in blocks, polling between them */
            const int64_t je = e[R - 1] - jb > POLL_BLOCK ? jb + POLL_BLOCK : e[R - 1];
            if constexpr (SIMD) {
                KK_PRAGMA(omp simd)
                for (int64_t j = jb; j < je; ++j) f(ix, j);
            } else {
                for (int64_t j = jb; j < je; ++j) f(ix, j);
            }
            if (p.tick(je - jb)) return true;
            jb = je;
        }
        int k = R - 2;
        while (k >= 0) {
            if (++ix[k] < e[k]) break;
            ix[k] = b[k];
            --k;
        }
        if (k < 0) return false;
    }
}

template <int R, class Red, bool SIMD, class T, class F>
KK_FUNCTION bool tile_reduce(const int64_t* b, const int64_t* e, T& acc, const F& f, Poller& p) {
    int64_t ix[R];
    for (int k = 0; k < R; ++k) ix[k] = b[k];
    for (;;) {
        for (int64_t jb = b[R - 1]; jb < e[R - 1];) {
            const int64_t je = e[R - 1] - jb > POLL_BLOCK ? jb + POLL_BLOCK : e[R - 1];
            reduce_chunk<Red, SIMD>(jb, je, acc, [&](int64_t j, T& a) { f(ix, j, a); });
            if (p.tick(je - jb)) return true;
            jb = je;
        }
        int k = R - 2;
        while (k >= 0) {
            if (++ix[k] < e[k]) break;
            ix[k] = b[k];
            --k;
        }
        if (k < 0) return false;
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
        Poller p(L, omp_get_thread_num());
        for (int64_t t = tb; t < te; ++t) {
            int64_t b[R], e[R];
            tl.bounds(t, b, e);
            if (tile_for<R, SIMD>(b, e, f, p)) break;
        }
    }
}

template <int R, class Red, bool SIMD = true, class T, class F>
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
        Poller p(L, omp_get_thread_num());
        for (int64_t t = tb; t < te; ++t) {
            int64_t b[R], e[R];
            tl.bounds(t, b, e);
            if (tile_reduce<R, Red, SIMD>(b, e, acc, f, p)) break;
        }
        partial[omp_get_thread_num()] = acc;
    }
    for (int t = 0; t < nt; ++t) Red::join(result, partial[t]);
}

}  // namespace host
}  // namespace kk

#endif
