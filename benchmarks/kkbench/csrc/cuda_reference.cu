/* Hand-written CUDA reference kernels for `kernelkit bench --space cuda`.
 *
 * The harness compiles this file in the same run with NVRTC (kernelkit's own, same options: -std=c++17, no fast
 * math) for the device's architecture, loads it with the driver API and launches it on the same device buffers
 * the kernelkit versions use. Each kernel is what a competent CUDA programmer writes first: one thread per
 * element for streaming loops, grid-stride loops with warp-shuffle block reductions and one atomicAdd per
 * block for reductions, shared-memory tiles (padded against bank conflicts) for the transpose. Launch
 * configurations are in benchmarks/kkbench/gpu.py.
 */

#define KKREF_TILE 32
#define KKREF_ROWS 8
#define KKREF_DG 16

typedef long long i64;

__device__ __forceinline__ i64 gid() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ i64 gsize() { return (i64)gridDim.x * blockDim.x; }

/* The sum of `s` over a 1-D block; valid in thread 0. Ends with a barrier, so it can be called again. */
__device__ double block_sum(double s) {
    __shared__ double warp[32];
    for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if ((threadIdx.x & 31) == 0) warp[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x < 32) {
        s = threadIdx.x < (blockDim.x >> 5) ? warp[threadIdx.x] : 0.0;
        for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    }
    __syncthreads();
    return s;
}

/* ---- BabelStream and PRK nstream: one thread per element ---- */

extern "C" __global__ void kkref_copy(const double* __restrict__ a, double* __restrict__ c, i64 n) {
    const i64 i = gid();
    if (i < n) c[i] = a[i];
}

extern "C" __global__ void kkref_mul(double* __restrict__ b, const double* __restrict__ c, double s, i64 n) {
    const i64 i = gid();
    if (i < n) b[i] = s * c[i];
}

extern "C" __global__ void kkref_add(const double* __restrict__ a, const double* __restrict__ b,
                                     double* __restrict__ c, i64 n) {
    const i64 i = gid();
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" __global__ void kkref_triad(double* __restrict__ a, const double* __restrict__ b,
                                       const double* __restrict__ c, double s, i64 n) {
    const i64 i = gid();
    if (i < n) a[i] = b[i] + s * c[i];
}

extern "C" __global__ void kkref_nstream(double* __restrict__ a, const double* __restrict__ b,
                                         const double* __restrict__ c, double s, i64 n) {
    const i64 i = gid();
    if (i < n) a[i] += b[i] + s * c[i];
}

/* ---- reductions: grid-stride loop, block sum, one atomicAdd per block into *out (zeroed by the caller) ---- */

extern "C" __global__ void kkref_dot(const double* __restrict__ x, const double* __restrict__ y,
                                     double* __restrict__ out, i64 n) {
    double s = 0.0;
    for (i64 i = gid(); i < n; i += gsize()) s += x[i] * y[i];
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(out, s);
}

extern "C" __global__ void kkref_sum(const double* __restrict__ a, double* __restrict__ out, i64 n) {
    double s = 0.0;
    for (i64 i = gid(); i < n; i += gsize()) s += a[i];
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(out, s);
}

extern "C" __global__ void kkref_pi(double step, double* __restrict__ out, i64 n) {
    double s = 0.0;
    for (i64 i = gid(); i < n; i += gsize()) {
        const double x = ((double)i + 0.5) * step;
        s += 4.0 / (1.0 + x * x);
    }
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(out, s);
}

/* y^T A x, A row-major n x m: a block per row (rows strided over the grid), the row's dot product split over
 * the block's threads (coalesced) and joined by warp shuffles; each block accumulates y[j] * row in thread 0
 * and adds it to *out once. */
extern "C" __global__ void kkref_yax(const double* __restrict__ y, const double* __restrict__ a,
                                     const double* __restrict__ x, double* __restrict__ out, i64 n, i64 m) {
    double acc = 0.0;
    for (i64 j = blockIdx.x; j < n; j += gridDim.x) {
        const double* row = a + j * m;
        double s = 0.0;
        for (i64 i = threadIdx.x; i < m; i += blockDim.x) s += row[i] * x[i];
        s = block_sum(s);
        if (threadIdx.x == 0) acc += y[j] * s;
    }
    if (threadIdx.x == 0) atomicAdd(out, acc);
}

/* ---- grids: a 2-D block of 32 x 8 threads, one point each ---- */

extern "C" __global__ void kkref_stencil(const double* __restrict__ in, double* __restrict__ out, i64 n) {
    const i64 j = (i64)blockIdx.x * blockDim.x + threadIdx.x + 2;
    const i64 i = (i64)blockIdx.y * blockDim.y + threadIdx.y + 2;
    if (i < n - 2 && j < n - 2) {
        const double* r = in + i * n;
        out[i * n + j] = 0.25 * r[j + 1] - 0.25 * r[j - 1] + 0.25 * r[j + n] - 0.25 * r[j - n]
                       + 0.125 * r[j + 2] - 0.125 * r[j - 2] + 0.125 * r[j + 2 * n] - 0.125 * r[j - 2 * n];
    }
}

extern "C" __global__ void kkref_jacobi(const double* __restrict__ in, double* __restrict__ out, i64 n) {
    const i64 j = (i64)blockIdx.x * blockDim.x + threadIdx.x + 1;
    const i64 i = (i64)blockIdx.y * blockDim.y + threadIdx.y + 1;
    if (i < n - 1 && j < n - 1) {
        const double* r = in + i * n;
        out[i * n + j] = 0.25 * (r[j - n] + r[j + n] + r[j - 1] + r[j + 1]);
    }
}

/* b = a^T through a shared-memory tile padded by one column (NVIDIA's transposeCoalesced): reads and writes
 * are both coalesced; a block of 32 x 8 threads moves a 32 x 32 tile, 4 rows per thread. */
extern "C" __global__ void kkref_transpose(const double* __restrict__ a, double* __restrict__ b, i64 n) {
    __shared__ double tile[KKREF_TILE][KKREF_TILE + 1];
    i64 x = (i64)blockIdx.x * KKREF_TILE + threadIdx.x;
    i64 y = (i64)blockIdx.y * KKREF_TILE + threadIdx.y;
    for (int k = 0; k < KKREF_TILE; k += KKREF_ROWS)
        if (x < n && y + k < n) tile[threadIdx.y + k][threadIdx.x] = a[(y + k) * n + x];
    __syncthreads();
    x = (i64)blockIdx.y * KKREF_TILE + threadIdx.x;
    y = (i64)blockIdx.x * KKREF_TILE + threadIdx.y;
    for (int k = 0; k < KKREF_TILE; k += KKREF_ROWS)
        if (x < n && y + k < n) b[(y + k) * n + x] = tile[threadIdx.x][threadIdx.y + k];
}

/* ---- random access ---- */

extern "C" __global__ void kkref_gups(unsigned long long* __restrict__ table, const i64* __restrict__ idx,
                                      const i64* __restrict__ val, i64 n) {
    const i64 i = gid();
    if (i < n) atomicXor(table + idx[i], (unsigned long long)val[i]);
}

extern "C" __global__ void kkref_gather(double* __restrict__ out, const double* __restrict__ src,
                                        const i64* __restrict__ idx, i64 n) {
    const i64 i = gid();
    if (i < n) out[i] = src[idx[i]];
}

/* ---- DGEMM: one thread per element of C (kernelkit's algorithm), and 16 x 16 shared-memory tiles ---- */

extern "C" __global__ void kkref_dgemm(const double* __restrict__ a, const double* __restrict__ b,
                                       double* __restrict__ c, i64 n) {
    const i64 j = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    const i64 i = (i64)blockIdx.y * blockDim.y + threadIdx.y;
    if (i < n && j < n) {
        double s = 0.0;
        for (i64 k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
        c[i * n + j] = s;
    }
}

extern "C" __global__ void kkref_dgemm_tiled(const double* __restrict__ a, const double* __restrict__ b,
                                             double* __restrict__ c, i64 n) {
    __shared__ double as[KKREF_DG][KKREF_DG];
    __shared__ double bs[KKREF_DG][KKREF_DG];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const i64 i = (i64)blockIdx.y * KKREF_DG + ty;
    const i64 j = (i64)blockIdx.x * KKREF_DG + tx;
    double s = 0.0;
    for (i64 k0 = 0; k0 < n; k0 += KKREF_DG) {
        as[ty][tx] = (i < n && k0 + tx < n) ? a[i * n + k0 + tx] : 0.0;
        bs[ty][tx] = (k0 + ty < n && j < n) ? b[(k0 + ty) * n + j] : 0.0;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < KKREF_DG; k++) s += as[ty][k] * bs[k][tx];
        __syncthreads();
    }
    if (i < n && j < n) c[i * n + j] = s;
}
