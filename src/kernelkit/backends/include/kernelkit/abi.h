/* The launch ABI between the native launcher (kernelkit/runtime/_native.c) and generated kernels.
 *
 * Plain C so that both the CPython extension and the C++/CUDA kernels include it. A kernel entry is
 *     extern "C" int kk_entry(kk_launch_t* L);
 * It returns 0, or nonzero after writing a message into L->err (bounds-check failures, bad team sizes).
 * Changing anything here changes every cache key (the header's text is part of the key).
 */
#ifndef KERNELKIT_ABI_H
#define KERNELKIT_ABI_H

#include <stdint.h>

#define KK_MAX_RANK 8
#define KK_MAX_POLICY_RANK 6
#define KK_ERRLEN 512

/* An array argument: data pointer, extents, strides in elements (not bytes). */
typedef struct {
    char* data;
    int64_t ext[KK_MAX_RANK];
    int64_t str[KK_MAX_RANK];
} kk_array_t;

/* One kernel argument. Scalars travel widened (ints as int64/uint64, floats as double, bools as int64). */
typedef union {
    kk_array_t a;
    int64_t i;
    uint64_t u;
    double f;
} kk_arg_t;

/* A reduction or scan result, and the initial value on the way in. */
typedef struct {
    double f;
    int64_t i;
    uint64_t u;
    int64_t loc;
} kk_result_t;

typedef struct {
    int64_t lo[KK_MAX_POLICY_RANK];
    int64_t hi[KK_MAX_POLICY_RANK];
    int64_t tile[KK_MAX_POLICY_RANK];
    int32_t rank;
    int32_t nthreads;
    int32_t has_init; /* result holds an initial value to join into (parallel_reduce initial_value=) */
    int32_t pad_;
    const kk_arg_t* args;
    kk_result_t* result;
    /* Interruption (host): thread 0 calls poll(L) between blocks of iterations (host.h Poller); nonzero means
     * stop (a KeyboardInterrupt is pending), and poll has set `stop`, which the other threads read. NULL: never
     * interrupted (launches from threads other than Python's main thread). */
    int (*poll)(void* L);
    void* poll_state;
    int32_t stop;
    int32_t pad2_;
    char err[KK_ERRLEN];
} kk_launch_t;

typedef int (*kk_entry_t)(kk_launch_t*);

/* What a CUDA kernel receives (by value, ahead of its arguments). */
typedef struct {
    int64_t lo[KK_MAX_POLICY_RANK];
    int64_t hi[KK_MAX_POLICY_RANK];
    int64_t tile[KK_MAX_POLICY_RANK];
    int32_t rank;
    int32_t has_init;
    kk_result_t* result;   /* device-visible: pinned host memory, mapped (unified addressing) */
    void* scratch;         /* per-block partials (reduce) or per-thread sums (scan) */
    unsigned int* counter; /* 0 between launches: the last block of a reduction resets it */
    int* err_flag;         /* device error flag, 0 between launches */
    char* scratch1;        /* TeamPolicy: level-1 scratch, (team + team_size * thread bytes) per block */
} kk_dlaunch_t;

#endif
