/* Hand-written C/OpenMP reference loops for `kernelkit bench`.
 *
 * The harness compiles this file in the same run, with the same compiler and flags kernelkit uses for its
 * OpenMP space, and calls it through ctypes on the same NumPy arrays the other versions use. Each loop is what
 * a competent C programmer would write: `parallel for` for the streaming kernels (as STREAM and BabelStream
 * do), `parallel for simd reduction` for the reductions so the partial sums vectorize without -ffast-math.
 * Thread count: kkref_set_threads() before each timed series, so C runs on the same threads as the rest.
 */
#include <stdint.h>
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
