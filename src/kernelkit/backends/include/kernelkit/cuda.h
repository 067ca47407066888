/* The CUDA drivers: Range and MDRange patterns (a parallel_for runs one index per thread, its grid covering the
 * range; reductions loop grid-stride over a bounded grid), block reductions with warp shuffles joined by the last block to finish, a three-phase scan,
 * teams as blocks. Included by generated CUDA sources, which define
 * KK_CUDA and compile with NVRTC. */
#ifndef KERNELKIT_CUDA_H
#define KERNELKIT_CUDA_H

#include "core.h"
#include "reducers.h"
#include "atomics_cuda.h"
#include "random.h"
#include "team.h"

namespace kk {
namespace cuda {

KK_FUNCTION int64_t gtid() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
KK_FUNCTION int64_t gsize() { return (int64_t)gridDim.x * blockDim.x; }

/* Shuffle any trivially copyable value, one 32-bit word at a time, among the lanes in `mask` (a team block
 * may be smaller than a warp, or not a multiple of one: naming missing lanes in the mask is undefined). */
template <class T> KK_FUNCTION T shfl_down(const T& v, int offset, unsigned mask = 0xffffffffu) {
    constexpr int W = (sizeof(T) + 3) / 4;
    union { T t; unsigned int w[W]; } in, out;
    for (int k = 0; k < W; ++k) in.w[k] = 0;
    in.t = v;
    for (int k = 0; k < W; ++k) out.w[k] = __shfl_down_sync(mask, in.w[k], offset);
    return out.t;
}

/* A load through the read-only (non-coherent) data path, as `const T* __restrict__` gives a hand-written
 * kernel: only for Views the kernel never writes, in the build the launcher runs when no argument it writes
 * overlaps them (backends/cuda/render.py, runtime/native/cuda.c). */
template <class W, class T> KK_FUNCTION T ldg_as(const T* p) {
    union { T t; W w; } x;
    x.w = __ldg((const W*)p);
    return x.t;
}
template <class T> KK_FUNCTION T ldg(const T* p) {
    if constexpr (sizeof(T) == 8 && alignof(T) >= 8) return ldg_as<unsigned long long>(p);
    else if constexpr (sizeof(T) == 4 && alignof(T) >= 4) return ldg_as<unsigned int>(p);
    else if constexpr (sizeof(T) == 2 && alignof(T) >= 2) return ldg_as<unsigned short>(p);
    else if constexpr (sizeof(T) == 1) return ldg_as<unsigned char>(p);
    else return *p;
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

/* A team kernel compiled for one team shape (the launcher's: KK_TEAM_SIZE threads of KK_VECTOR_LENGTH lanes)
 * knows its block's extents, so nested ranges over constant bounds become loops with known trip counts that
 * the compiler unrolls into straight-line code (several loads in flight, no trip count to divide out). */
#ifdef KK_TEAM_SIZE
KK_FUNCTION int lane() {
    __builtin_assume(threadIdx.x < KK_VECTOR_LENGTH);
    return threadIdx.x;
}
KK_FUNCTION int thread_rank() {
    __builtin_assume(threadIdx.y < KK_TEAM_SIZE);
    return threadIdx.y;
}
KK_FUNCTION constexpr int lanes() { return KK_VECTOR_LENGTH; }
KK_FUNCTION constexpr int threads() { return KK_TEAM_SIZE; }
#else
KK_FUNCTION int lane() { return threadIdx.x; }
KK_FUNCTION int thread_rank() { return threadIdx.y; }
KK_FUNCTION int lanes() { return blockDim.x; }
KK_FUNCTION int threads() { return blockDim.y; }
#endif

KK_FUNCTION int block_tid() { return lane() + thread_rank() * lanes(); }
KK_FUNCTION int block_threads() { return lanes() * threads(); }

/* Reduce across the block (1-D or 2-D); the result is valid in thread 0. The block size is a multiple of 32. */
template <class R, class T> KK_FUNCTION void block_reduce(T& v) {
    __shared__ unsigned char raw[32 * sizeof(T)];
    T* warp = (T*)raw;
    const int lane = block_tid() & 31, w = block_tid() >> 5, nw = (block_threads() + 31) >> 5;
    const int in_warp = block_threads() - w * 32 < 32 ? block_threads() - w * 32 : 32; /* lanes that exist */
    const unsigned mask = in_warp == 32 ? 0xffffffffu : ((1u << in_warp) - 1u);
    for (int off = 16; off > 0; off >>= 1) {
        T o = shfl_down(v, off, mask);
        if (lane + off < in_warp) R::join(v, o);
    }
    __syncthreads();
    if (lane == 0) warp[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? warp[lane] : R::template identity<T>();
        for (int off = 16; off > 0; off >>= 1) {
            T o = shfl_down(v, off, mask);
            if (lane + off < in_warp) R::join(v, o);
        }
    }
}

/* A parallel_for's grid covers its range: the launcher gives every index a thread (a range past 2^30 blocks
 * is several launches), so each thread runs its one index as a hand-written kernel does, with no loop. */
template <class F> KK_FUNCTION void range_for(const kk_dlaunch_t& D, const F& f) {
    const int64_t t = gtid();
    if (t < D.hi[0] - D.lo[0]) f(D.lo[0] + t);
}

/* Finish a reduction: every block leaves its partial in scratch; the last block to arrive joins them all in
 * block order (reproducible for a given grid) and writes the result. */
template <class R, class T> KK_FUNCTION void grid_join(const kk_dlaunch_t& D, T acc) {
    block_reduce<R>(acc);
    __shared__ int last;
    T* partial = (T*)D.scratch;
    const unsigned nblocks = gridDim.x * gridDim.y * gridDim.z;
    const unsigned bid = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    if (block_tid() == 0) {
        partial[bid] = acc;
        __threadfence();
        last = atomicInc(D.counter, nblocks - 1) == nblocks - 1; /* wraps the counter back to 0 */
    }
    __syncthreads();
    if (!last) return;
    T a = R::template identity<T>();
    for (unsigned k = block_tid(); k < nblocks; k += block_threads()) R::join(a, load_cg(partial + k));
    block_reduce<R>(a);
    if (block_tid() == 0) {
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

/* A thread's share of a 1-D reduction, U indices per trip (the renderer's reduce_unroll: 4 for a body that
 * reads one element, else 1): their loads do not depend on the accumulator, so all of them are in flight
 * before the joins, whatever the compiler's unrolling heuristics (NVRTC 13.0 left `acc += x[i]` at one load
 * per trip: the sum fell to 0.93x the hand-written kernel, which it unrolled by four). The joins keep their
 * order: the result is the plain loop's. */
template <class R, class T, int U = 1, class F> KK_FUNCTION void range_reduce(const kk_dlaunch_t& D, const F& f) {
    static_assert(U == 1 || U == 4, "range_reduce: 1 or 4 indices per trip");
    T acc = R::template identity<T>();
    const int64_t lo = D.lo[0], n = D.hi[0] - D.lo[0], g = gsize();
    int64_t t = gtid();
    for (; U == 4 && t < n && n - t > 3 * g; t += 4 * g) { /* n - t > 3g: no overflow near 2^63 */
        f(lo + t, acc);
        f(lo + t + g, acc);
        f(lo + t + 2 * g, acc);
        f(lo + t + 3 * g, acc);
    }
    for (; t < n; t += g) f(lo + t, acc);
    grid_join<R, T>(D, acc);
}

/* MDRange: a tile is a thread block, as in Kokkos. threadIdx.x runs along the last dimension (contiguous in
 * LayoutRight Views: coalesced), threadIdx.y along the one before it; blockIdx.z covers the outer dimensions.
 * The launcher sizes blocks from the policy's tile (default 32 x 8) and the grid from the extents. */
template <int R, class G> KK_FUNCTION void md_point(const kk_dlaunch_t& D, int64_t o, int64_t i, int64_t j,
                                                      const G& g) {
    int64_t ix[R];
    for (int k = R - 3; k >= 0; --k) {
        const int64_t e = D.hi[k] - D.lo[k];
        ix[k] = D.lo[k] + o % e;
        o /= e;
    }
    ix[R - 2] = D.lo[R - 2] + i;
    ix[R - 1] = D.lo[R - 1] + j;
    g(ix);
}

/* A parallel_for: the grid covers the range (gridDim.z is the product of the outer extents; the launcher cuts a
 * range past the grid limits into sub-boxes, a launch each), so a thread computes its one point after two
 * compares, as a hand-written kernel does. No loop: a grid-stride loop in the same kernel would hold registers
 * across the body (a radius-2 stencil went from 28 to 40 registers, 75% occupancy, 0.85x the reference). */
template <int R, class F> KK_FUNCTION void md_for(const kk_dlaunch_t& D, const F& f) {
    const int64_t i = blockIdx.y * (int64_t)blockDim.y + threadIdx.y;
    const int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < D.hi[R - 2] - D.lo[R - 2] && j < D.hi[R - 1] - D.lo[R - 1])
        md_point<R>(D, blockIdx.z, i, j, [&](const int64_t* ix) { f(ix, ix[R - 1]); });
}

/* A reduction's grid is bounded (a partial per block): every dimension loops grid-stride. */
template <int R, class G> KK_FUNCTION void md_visit(const kk_dlaunch_t& D, const G& g) {
    const int64_t i0 = blockIdx.y * (int64_t)blockDim.y + threadIdx.y;
    const int64_t j0 = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    const int64_t ni = D.hi[R - 2] - D.lo[R - 2], nj = D.hi[R - 1] - D.lo[R - 1];
    int64_t outer = 1;
    for (int k = 0; k < R - 2; ++k) outer *= D.hi[k] > D.lo[k] ? D.hi[k] - D.lo[k] : 0;
    for (int64_t o = blockIdx.z; o < outer; o += gridDim.z)
        for (int64_t i = i0; i < ni; i += (int64_t)gridDim.y * blockDim.y)
            for (int64_t j = j0; j < nj; j += (int64_t)gridDim.x * blockDim.x) md_point<R>(D, o, i, j, g);
}

template <int R, class Red, class T, class F> KK_FUNCTION void md_reduce(const kk_dlaunch_t& D, const F& f) {
    T acc = Red::template identity<T>();
    md_visit<R>(D, [&](const int64_t* ix) { f(ix, ix[R - 1], acc); });
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

/* ---------------------------------------------------------------------------------------- teams */

/* A team is a block: vector lanes are threadIdx.x (blockDim.x = vector_length), team threads threadIdx.y, as
 * in Kokkos. Level-0 scratch is dynamic shared memory, level 1 a slice of a global buffer per block; each has a
 * team part, then one part per team thread. D.lo = (league, team_size, vector_length), D.hi = scratch bytes
 * (team L0, team L1, thread L0, thread L1). */
struct Team {
    int64_t lrank, lsize;
    char* mem[2];
    int64_t cap[2], tcap[2], off[2], toff[2];

    KK_FUNCTION Team(const kk_dlaunch_t& D, char* smem) {
        lsize = D.lo[0];
        cap[0] = D.hi[0];
        cap[1] = D.hi[1];
        tcap[0] = D.hi[2];
        tcap[1] = D.hi[3];
        mem[0] = smem;
        mem[1] = D.scratch1 + blockIdx.x * (cap[1] + threads() * tcap[1]);
    }
    KK_FUNCTION void begin(int64_t lr) {
        lrank = lr;
        off[0] = off[1] = toff[0] = toff[1] = 0;
    }
    KK_FUNCTION int64_t league_rank() const { return lrank; }
    KK_FUNCTION int64_t league_size() const { return lsize; }
    KK_FUNCTION int64_t team_rank() const { return thread_rank(); }
    KK_FUNCTION int64_t team_size() const { return threads(); }
    KK_FUNCTION bool vector_length_host_is_one() const { return false; }
    KK_FUNCTION void barrier() const { __syncthreads(); }
    KK_FUNCTION bool single(int per) const { return lane() == 0 && (per == 1 || thread_rank() == 0); }

    KK_FUNCTION void part(int level, int64_t* id, int64_t* n) const {
        if (level == 0) { *id = thread_rank(); *n = threads(); }          /* team threads; lanes replicate */
        else if (level == 1) { *id = lane(); *n = lanes(); }              /* the vector lanes of a thread */
        else { *id = block_tid(); *n = block_threads(); }                              /* every lane of the team */
    }
    /* strided shares: neighbouring lanes take neighbouring iterations (coalesced) */
    KK_FUNCTION void range(int level, int64_t b, int64_t e, int64_t* lo, int64_t* hi, int64_t* st) const {
        int64_t id, n;
        part(level, &id, &n);
        *lo = b + id;
        *hi = e;
        *st = n;
    }
    /* contiguous shares in rank order (scans) */
    KK_FUNCTION void chunk(int level, int64_t b, int64_t e, int64_t* lo, int64_t* hi, int64_t* st) const {
        int64_t id, n;
        part(level, &id, &n);
        const int64_t len = e > b ? e - b : 0, q = len / n, r = len % n;
        *lo = b + id * q + (id < r ? id : r);
        *hi = *lo + q + (id < r ? 1 : 0);
        *st = 1;
    }

    template <class R, class T> KK_FUNCTION T reduce(int level, T v) const {
        if (level == 1) { /* butterfly within the thread's lanes: every lane gets the result */
            for (int off = lanes() >> 1; off > 0; off >>= 1) {
                constexpr int W = (sizeof(T) + 3) / 4;
                union { T t; unsigned int w[W]; } in, out;
                for (int k = 0; k < W; ++k) in.w[k] = 0;
                in.t = v;
                for (int k = 0; k < W; ++k) out.w[k] = __shfl_xor_sync(__activemask(), in.w[k], off, lanes());
                R::join(v, out.t);
            }
            return v;
        }
        if (level == 0 && lane() != 0) v = R::template identity<T>(); /* lanes replicate a thread's value */
        block_reduce<R>(v);
        __shared__ unsigned char bc_raw[sizeof(T)];
        T* bc = (T*)bc_raw;
        if (block_tid() == 0) *bc = v;
        __syncthreads();
        v = *bc;
        __syncthreads();
        return v;
    }

    template <class T> KK_FUNCTION T scan_prefix(int level, T v, T* total) const {
        int64_t id, n;
        part(level, &id, &n);
        __shared__ unsigned char raw[1024 * sizeof(T)];
        T* slot = (T*)raw;
        const bool writer = level != 0 || lane() == 0;
        if (level == 1) { /* each thread's lanes have their own slots: offset by the thread */
            slot += thread_rank() * lanes();
        }
        __syncthreads();
        if (writer) slot[id] = v;
        __syncthreads();
        T p = (T)0, t = (T)0;
        for (int64_t s = 0; s < n; ++s) {
            if (s == id) p = t;
            t = (T)(t + slot[s]);
        }
        __syncthreads();
        *total = t;
        return p;
    }

    KK_FUNCTION char* scratch_alloc(int64_t level, bool per_thread, int64_t bytes) {
        if (level < 0 || level > 1) {
            if (block_tid() == 0) printf("kernelkit: the scratch level must be 0 or 1\n");
            __trap();
        }
        bytes = (bytes + 7) / 8 * 8;
        int64_t* o = per_thread ? &toff[level] : &off[level];
        const int64_t c = per_thread ? tcap[level] : cap[level];
        if (*o + bytes > c) {
            if (block_tid() == 0)
                printf("kernelkit: scratch memory exhausted at level %d: the kernel needs %lld bytes, "
                       "set_scratch_size gave %lld\n", (int)level, (long long)(*o + bytes), (long long)c);
            __trap();
        }
        char* p = mem[level] + (per_thread ? cap[level] + thread_rank() * tcap[level] : 0) + *o;
        *o += bytes;
        return p;
    }
};

}  // namespace cuda

using TeamMember = cuda::Team;

namespace cuda {
/* Run the team body for the league ranks of this block: usually one (the launcher gives a parallel_for one block
 * per league rank unless it uses level-1 scratch, which is sized for a bounded grid). */
template <class F> KK_FUNCTION void team_for(const kk_dlaunch_t& D, char* smem, const F& f) {
    Team team(D, smem);
    for (int64_t lr = blockIdx.x; lr < D.lo[0]; lr += gridDim.x) {
        if (lr != blockIdx.x) __syncthreads(); /* the previous league rank is done with the scratch */
        team.begin(lr);
        f(team);
    }
}

template <class R, class T, class F> KK_FUNCTION void team_reduce(const kk_dlaunch_t& D, char* smem, const F& f) {
    Team team(D, smem);
    T acc = R::template identity<T>();
    for (int64_t lr = blockIdx.x; lr < D.lo[0]; lr += gridDim.x) {
        if (lr != blockIdx.x) __syncthreads();
        team.begin(lr);
        f(team, acc);
    }
    if (lane() != 0) acc = R::template identity<T>(); /* vector lanes replicate their thread's value */
    grid_join<R, T>(D, acc);
}
}  // namespace cuda
}  // namespace kk

#endif
