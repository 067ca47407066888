/* The CUDA drivers: Range and MDRange patterns as grid-stride loops, block reductions with warp shuffles
 * joined by the last block to finish, and a three-phase scan. Included by generated CUDA sources, which define
 * KK_CUDA and compile with NVRTC. */
#ifndef KERNELKIT_CUDA_H
#define KERNELKIT_CUDA_H

#include "core.h"
#include "reducers.h"
#include "atomics_cuda.h"

namespace kk {
namespace cuda {

KK_FUNCTION int64_t gtid() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
KK_FUNCTION int64_t gsize() { return (int64_t)gridDim.x * blockDim.x; }

/* Shuffle any trivially copyable value, one 32-bit word at a time. */
template <class T> KK_FUNCTION T shfl_down(const T& v, int offset) {
    constexpr int W = (sizeof(T) + 3) / 4;
    union { T t; unsigned int w[W]; } in, out;
    for (int k = 0; k < W; ++k) in.w[k] = 0;
    in.t = v;
    for (int k = 0; k < W; ++k) out.w[k] = __shfl_down_sync(0xffffffffu, in.w[k], offset);
    return out.t;
}

/* A cache-bypassing read of a value written by another block (it fenced before signalling). */
template <class T> KK_FUNCTION T load_cg(const T* p) {
    constexpr int W = (sizeof(T) + 3) / 4;
    if constexpr (sizeof(T) % 4 == 0) {
        union { T t; unsigned int w[W]; } x;
        for (int k = 0; k < W; ++k) x.w[k] = __ldcg((const unsigned int*)p + k);
        return x.t;
    } else {
        return *(const volatile T*)p;
    }
}

/* Reduce across the block; the result is valid in thread 0. blockDim.x is a multiple of 32. */
template <class R, class T> KK_FUNCTION void block_reduce(T& v) {
    __shared__ unsigned char raw[32 * sizeof(T)];
    T* warp = (T*)raw;
    for (int off = 16; off > 0; off >>= 1) {
        T o = shfl_down(v, off);
        R::join(v, o);
    }
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) warp[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? warp[lane] : R::template identity<T>();
        for (int off = 16; off > 0; off >>= 1) {
            T o = shfl_down(v, off);
            R::join(v, o);
        }
    }
}

template <class F> KK_FUNCTION void range_for(const kk_dlaunch_t& D, const F& f) {
    const int64_t lo = D.lo[0], n = D.hi[0] - D.lo[0];
    for (int64_t t = gtid(); t < n; t += gsize()) f(lo + t);
}

/* Finish a reduction: every block leaves its partial in scratch; the last block to arrive joins them all in
 * block order (reproducible for a given grid) and writes the result. */
template <class R, class T> KK_FUNCTION void grid_join(const kk_dlaunch_t& D, T acc) {
    block_reduce<R>(acc);
    __shared__ int last;
    T* partial = (T*)D.scratch;
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = acc;
        __threadfence();
        last = atomicInc(D.counter, gridDim.x - 1) == gridDim.x - 1; /* wraps the counter back to 0 */
    }
    __syncthreads();
    if (!last) return;
    T a = R::template identity<T>();
    for (unsigned k = threadIdx.x; k < gridDim.x; k += blockDim.x) R::join(a, load_cg(partial + k));
    block_reduce<R>(a);
    if (threadIdx.x == 0) {
        if (D.has_init) {
            T init;
            result_load(D.result, init);
            R::join(init, a);
            a = init;
        }
        result_store(D.result, a);
        __threadfence_system();
    }
}

template <class R, class T, class F> KK_FUNCTION void range_reduce(const kk_dlaunch_t& D, const F& f) {
    T acc = R::template identity<T>();
    const int64_t lo = D.lo[0], n = D.hi[0] - D.lo[0];
    for (int64_t t = gtid(); t < n; t += gsize()) f(lo + t, acc);
    grid_join<R, T>(D, acc);
}

/* MDRange: the iteration space flattened with the last index fastest (coalesced along the contiguous
 * dimension of LayoutRight Views); one grid-stride loop. */
template <int R> struct Flat {
    int64_t lo[R], ext[R], total;
    KK_FUNCTION explicit Flat(const kk_dlaunch_t& D) {
        total = 1;
        for (int k = 0; k < R; ++k) {
            lo[k] = D.lo[k];
            ext[k] = D.hi[k] > D.lo[k] ? D.hi[k] - D.lo[k] : 0;
            total *= ext[k];
        }
    }
    KK_FUNCTION void point(int64_t t, int64_t* ix) const {
        for (int k = R - 1; k > 0; --k) {
            ix[k] = lo[k] + t % ext[k];
            t /= ext[k];
        }
        ix[0] = lo[0] + t;
    }
};

template <int R, class F> KK_FUNCTION void md_for(const kk_dlaunch_t& D, const F& f) {
    const Flat<R> fl(D);
    for (int64_t t = gtid(); t < fl.total; t += gsize()) {
        int64_t ix[R];
        fl.point(t, ix);
        f(ix, ix[R - 1]);
    }
}

template <int R, class Red, class T, class F> KK_FUNCTION void md_reduce(const kk_dlaunch_t& D, const F& f) {
    const Flat<R> fl(D);
    T acc = Red::template identity<T>();
    for (int64_t t = gtid(); t < fl.total; t += gsize()) {
        int64_t ix[R];
        fl.point(t, ix);
        f(ix, ix[R - 1], acc);
    }
    grid_join<Red, T>(D, acc);
}

/* Scan, phase 1 and 3: each grid thread owns one contiguous chunk. Phase 1 sums it (final=false) into
 * scratch; phase 2 (one block) turns the sums into exclusive prefixes and writes the total; phase 3 replays the
 * chunk from its prefix with final=true. */
KK_FUNCTION void chunk_of(const kk_dlaunch_t& D, int64_t* b, int64_t* e) {
    const int64_t n = D.hi[0] - D.lo[0], g = gsize(), per = (n + g - 1) / g, t = gtid();
    const int64_t s = t * per < n ? t * per : n;
    *b = D.lo[0] + s;
    *e = D.lo[0] + (s + per < n ? s + per : n);
}

template <class T, class F> KK_FUNCTION void scan_phase1(const kk_dlaunch_t& D, const F& f) {
    int64_t b, e;
    chunk_of(D, &b, &e);
    T acc = (T)0;
    for (int64_t i = b; i < e; ++i) f(i, acc, false);
    ((T*)D.scratch)[gtid()] = acc;
}

template <class T> KK_FUNCTION void scan_phase2(const kk_dlaunch_t& D, int64_t count) {
    /* one block: each thread owns a run of `per` sums; a shared-memory scan of the run totals seeds them */
    __shared__ unsigned char raw[1024 * sizeof(T)];
    T* tot = (T*)raw;
    T* s = (T*)D.scratch;
    const int64_t per = (count + blockDim.x - 1) / blockDim.x;
    const int64_t b = threadIdx.x * per < count ? threadIdx.x * per : count;
    const int64_t e = b + per < count ? b + per : count;
    T run = (T)0;
    for (int64_t k = b; k < e; ++k) run = (T)(run + s[k]);
    tot[threadIdx.x] = run;
    __syncthreads();
    for (unsigned off = 1; off < blockDim.x; off <<= 1) {
        T add = threadIdx.x >= off ? tot[threadIdx.x - off] : (T)0;
        __syncthreads();
        tot[threadIdx.x] = (T)(tot[threadIdx.x] + add);
        __syncthreads();
    }
    T prefix = threadIdx.x ? tot[threadIdx.x - 1] : (T)0;
    for (int64_t k = b; k < e; ++k) {
        const T v = s[k];
        s[k] = prefix;
        prefix = (T)(prefix + v);
    }
    if (threadIdx.x == blockDim.x - 1) {
        result_store(D.result, tot[blockDim.x - 1]);
        __threadfence_system();
    }
}

template <class T, class F> KK_FUNCTION void scan_phase3(const kk_dlaunch_t& D, const F& f) {
    int64_t b, e;
    chunk_of(D, &b, &e);
    T acc = ((T*)D.scratch)[gtid()];
    for (int64_t i = b; i < e; ++i) f(i, acc, true);
}

}  // namespace cuda
}  // namespace kk

#endif
