/* Hand-written C/OpenMP reference loops for `kernelkit bench`.
 *
 * The harness compiles this file in the same run, with the same compiler and flags kernelkit uses for its
 * OpenMP space, and calls it through ctypes on the same NumPy arrays the other versions use. Each loop is what
 * a competent C programmer would write: `parallel for` for the streaming kernels (as STREAM and BabelStream
 * do), `parallel for simd reduction` for the reductions so the partial sums vectorize without -ffast-math.
 * Thread count: kkref_set_threads() before each timed series, so C runs on the same threads as the rest.
 */
#include <stdint.h>
#include <string.h>
#include <omp.h>

void kkref_set_threads(int n) { omp_set_num_threads(n); }

int kkref_get_threads(void) {
    int n = 0;
#pragma omp parallel
    {
#pragma omp single
        n = omp_get_num_threads();
    }
    return n;
}

/* BabelStream copy: c[i] = a[i] (2 x 8 bytes per element). */
void kkref_copy(const double* restrict a, double* restrict c, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) c[i] = a[i];
}

/* copy with memcpy, a contiguous chunk per thread: glibc's memcpy uses non-temporal stores for copies larger
 * than the cache, so it saves the write-allocate traffic of a plain loop; it defines the bandwidth ceiling. */
void kkref_copy_memcpy(const double* restrict a, double* restrict c, int64_t n) {
#pragma omp parallel
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t lo = n * t / nt, hi = n * (t + 1) / nt;
        memcpy(c + lo, a + lo, (size_t)(hi - lo) * sizeof(double));
    }
}

/* BabelStream mul: b[i] = s * c[i]. */
void kkref_mul(double* restrict b, const double* restrict c, double s, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) b[i] = s * c[i];
}

/* BabelStream add: c[i] = a[i] + b[i]. */
void kkref_add(const double* restrict a, const double* restrict b, double* restrict c, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) c[i] = a[i] + b[i];
}

/* STREAM/BabelStream triad: a[i] = b[i] + s * c[i] (3 x 8 bytes per element). */
void kkref_triad(double* restrict a, const double* restrict b, const double* restrict c, double s, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

/* dot: sum of x[i] * y[i] (2 x 8 bytes per element). */
double kkref_dot(const double* restrict x, const double* restrict y, int64_t n) {
    double s = 0.0;
#pragma omp parallel for simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

/* sum: the sum of a[i] (8 bytes per element), a full-array reduction. */
double kkref_sum(const double* restrict a, int64_t n) {
    double s = 0.0;
#pragma omp parallel for simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += a[i];
    return s;
}

/* The seeds' pi integral: sum over midpoints of 4 / (1 + x^2); the caller multiplies by step. */
double kkref_pi(int64_t n, double step) {
    double s = 0.0;
#pragma omp parallel for simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) {
        double x = ((double)i + 0.5) * step;
        s += 4.0 / (1.0 + x * x);
    }
    return s;
}

/* PRK nstream: a[i] += b[i] + s * c[i] (4 x 8 bytes per element). */
void kkref_nstream(double* restrict a, const double* restrict b, const double* restrict c, double s, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) a[i] += b[i] + s * c[i];
}

/* PRK star stencil of radius 2 on the interior of an n x n grid, weights 1/4 and 1/8 (PRK's 1/(2kR)). */
void kkref_stencil(const double* restrict in, double* restrict out, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 2; i < n - 2; i++) {
        const double* r = in + i * n;
#pragma omp simd
        for (int64_t j = 2; j < n - 2; j++)
            out[i * n + j] = 0.25 * r[j + 1] - 0.25 * r[j - 1] + 0.25 * r[j + n] - 0.25 * r[j - n]
                           + 0.125 * r[j + 2] - 0.125 * r[j - 2] + 0.125 * r[j + 2 * n] - 0.125 * r[j - 2 * n];
    }
}

/* One Jacobi sweep of the 5-point Laplacian on the interior of an n x n grid. */
void kkref_jacobi(const double* restrict in, double* restrict out, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 1; i < n - 1; i++) {
        const double* r = in + i * n;
#pragma omp simd
        for (int64_t j = 1; j < n - 1; j++) out[i * n + j] = 0.25 * (r[j - n] + r[j + n] + r[j - 1] + r[j + 1]);
    }
}

/* PRK transpose, b = a^T, in TILE x TILE blocks (PRK's tiling): each block's reads and writes stay in cache. */
#define KKREF_TILE 32
void kkref_transpose(const double* restrict a, double* restrict b, int64_t n) {
#pragma omp parallel for collapse(2)
    for (int64_t it = 0; it < n; it += KKREF_TILE)
        for (int64_t jt = 0; jt < n; jt += KKREF_TILE) {
            const int64_t ie = it + KKREF_TILE < n ? it + KKREF_TILE : n;
            const int64_t je = jt + KKREF_TILE < n ? jt + KKREF_TILE : n;
            for (int64_t i = it; i < ie; i++)
                for (int64_t j = jt; j < je; j++) b[j * n + i] = a[i * n + j];
        }
}

/* The Kokkos tutorial's y^T A x, A row-major n x m: a row per iteration, the row's dot product vectorized. */
double kkref_yax(const double* restrict y, const double* restrict a, const double* restrict x, int64_t n,
                 int64_t m) {
    double result = 0.0;
#pragma omp parallel for reduction(+ : result)
    for (int64_t j = 0; j < n; j++) {
        const double* row = a + j * m;
        double t = 0.0;
#pragma omp simd reduction(+ : t)
        for (int64_t i = 0; i < m; i++) t += row[i] * x[i];
        result += y[j] * t;
    }
    return result;
}

/* GUPS: table[idx[i]] ^= val[i], atomically (updates may collide). */
void kkref_gups(int64_t* restrict table, const int64_t* restrict idx, const int64_t* restrict val, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) {
#pragma omp atomic
        table[idx[i]] ^= val[i];
    }
}

/* gather: out[i] = src[idx[i]]. */
void kkref_gather(double* restrict out, const double* restrict src, const int64_t* restrict idx, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) out[i] = src[idx[i]];
}

/* The seeds' DGEMM, "parallel loops": rows of C in parallel, ikj order so the inner loop vectorizes. */
void kkref_dgemm(const double* restrict a, const double* restrict b, double* restrict c, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) {
        double* ci = c + i * n;
        for (int64_t j = 0; j < n; j++) ci[j] = 0.0;
        for (int64_t k = 0; k < n; k++) {
            const double aik = a[i * n + k];
            const double* bk = b + k * n;
#pragma omp simd
            for (int64_t j = 0; j < n; j++) ci[j] += aik * bk[j];
        }
    }
}
