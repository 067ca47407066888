/* Whole compiled functions (@pk.jit programs) on pk.Cuda: what the device module's kernels and the host unit
 * that launches them share.
 *
 * The host unit (g++) runs the program's host statements and launches each parallel loop, each run of host
 * statements that touch array elements (one thread), and each array fill, through the driver entry points in a
 * kk_cuda_ctx that the runtime fills in once per specialization. Reductions leave one partial per block in
 * device scratch; the host joins them after the loop. Scalars that device code assigns come back through the
 * same scratch, read only after the stream finished. */
#ifndef KERNELKIT_PROGRAM_CUDA_H
#define KERNELKIT_PROGRAM_CUDA_H

#include "abi.h"

#define KK_CUDA_BLOCK 256

typedef struct {
    int (*launch)(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                  unsigned smem, void* stream, void** params, void** extra);
    int (*sync)(void* stream);
    int (*alloc)(unsigned long long* dptr, size_t bytes);
    int (*free)(unsigned long long dptr);
    int (*memset8)(unsigned long long dptr, unsigned char v, size_t n, void* stream);
    int (*dtoh)(void* dst, unsigned long long src, size_t n, void* stream);
    int (*htod)(unsigned long long dst, const void* src, size_t n, void* stream);
    void* stream;
    unsigned long long scratch; /* device: partials of reductions, scalars written by device code */
    void* host_scratch;         /* pinned host: where they are read back */
    int64_t max_blocks;
    int64_t nfunctions;
    void* functions[64];
} kk_cuda_ctx;

/* The runtime passes, as the program's kk_ctx argument, the address of a table of (program identity, ctx). */
typedef struct {
    int64_t n;
    int64_t ids[16];
    kk_cuda_ctx* ctx[16];
} kk_cuda_table;

#ifdef KK_CUDA
namespace kk {
namespace cu {

KK_FUNCTION int64_t tid() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
KK_FUNCTION int64_t nthreads() { return (int64_t)gridDim.x * blockDim.x; }

/* A warp per iteration (backends/cuda/lanes.py): the join of the 32 lanes' `v`, in every lane */
template <class R, class T> __device__ T warp_all(T v) {
    for (int o = 16; o > 0; o >>= 1) R::join(v, (T)__shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* ... and lane `src`'s `v`, in every lane (types narrower than 32 bits travel as int) */
template <class T> __device__ T lane_bcast(T v, int src) {
    if constexpr (sizeof(T) < 4) {
        return (T)__shfl_sync(0xffffffffu, (int)v, src);
    } else {
        return __shfl_sync(0xffffffffu, v, src);
    }
}

/* the block's join of every thread's `v`, written by thread 0 to out[blockIdx.x] */
template <class R, class T> __device__ void block_partial(T v, T* out) {
    __shared__ T kk_warps[32];
    for (int o = 16; o > 0; o >>= 1) R::join(v, (T)__shfl_down_sync(0xffffffffu, v, o));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) kk_warps[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (int)((blockDim.x + 31) >> 5) ? kk_warps[lane] : R::template identity<T>();
        for (int o = 16; o > 0; o >>= 1) R::join(v, (T)__shfl_down_sync(0xffffffffu, v, o));
        if (lane == 0) out[blockIdx.x] = v;
    }
    __syncthreads(); /* kk_warps is reused by the next reduction of the same type */
}

}  // namespace cu
}  // namespace kk
#else
#include <string.h>
namespace kk {
namespace cu {

inline kk_cuda_ctx* find(int64_t table, int64_t id) {
    const kk_cuda_table* t = (const kk_cuda_table*)(uintptr_t)table;
    for (int64_t k = 0; t && k < t->n; ++k)
        if (t->ids[k] == id) return t->ctx[k];
    return 0;
}

inline void fail(const char* what, int code, int line) {
    if (!err_claim()) return;
    int at = 0;
    err_copy("CUDA error ", at);
    while (err_msg[at]) ++at;
    at = err_num(code, at);
    err_copy(" in ", at);
    while (err_msg[at]) ++at;
    err_copy(what, at);
    while (err_msg[at]) ++at;
    err_copy(" at line ", at);
    while (err_msg[at]) ++at;
    err_num(line, at);
}

inline unsigned grid(const kk_cuda_ctx* c, int64_t total) {
    int64_t g = (total + KK_CUDA_BLOCK - 1) / KK_CUDA_BLOCK;
    return (unsigned)(g < c->max_blocks ? (g > 0 ? g : 1) : c->max_blocks);
}

inline bool launch(const kk_cuda_ctx* c, int fn, unsigned blocks, unsigned threads, void** args, int line) {
    const int rc = c->launch(c->functions[fn], blocks, 1, 1, threads, 1, 1, 0, c->stream, args, 0);
    if (rc) fail("a kernel launch", rc, line);
    return rc == 0;
}

/* wait for the stream and copy `n` bytes of device scratch to the pinned host scratch */
inline bool fetch(const kk_cuda_ctx* c, size_t n, int line) {
    int rc = n ? c->dtoh(c->host_scratch, c->scratch, n, c->stream) : 0;
    if (!rc) rc = c->sync(c->stream);
    if (rc) fail("reading back a result", rc, line);
    return rc == 0;
}

template <class T> inline T slot(const kk_cuda_ctx* c, int64_t k) {
    T v;
    memcpy(&v, (const char*)c->host_scratch + 8 * k, sizeof(T));
    return v;
}

inline bool put(const kk_cuda_ctx* c, int64_t k, const void* v, size_t n, int line) {
    const int rc = c->htod(c->scratch + 8 * k, v, n, c->stream);
    if (rc) fail("passing a shared scalar", rc, line);
    return rc == 0;
}

template <class T, int R> View<T, R, 'C'> alloc(const kk_cuda_ctx* c, const int64_t (&shape)[R], int line) {
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
    unsigned long long p = 0;
    const int rc = c->alloc(&p, (size_t)(n * (int64_t)sizeof(T) > 64 ? n * (int64_t)sizeof(T) : 64));
    if (rc) fail("allocating an array", rc, line);
    v.data = (T*)(uintptr_t)p;
    return v;
}

template <class T, int R, char L> inline void release(const kk_cuda_ctx* c, View<T, R, L>& v) {
    if (v.data) c->free((unsigned long long)(uintptr_t)v.data);
    v.data = 0;
}

template <class T, int R, char L> inline int64_t size(const View<T, R, L>& v) {
    int64_t n = 1;
    for (int k = 0; k < R; ++k) n *= v.ext[k];
    return n;
}

}  // namespace cu
}  // namespace kk
#endif

#endif
