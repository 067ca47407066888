/* The seeds' tutorial programs in C with OpenMP: what benchmarks/openmp/programs.py computes, with the same
 * directives, written as a C programmer writes them. Compiled by run.py with the C references' compiler and
 * flags (benchmarks/kkbench/hooks.py: kernelkit's OpenMP command, as C), loaded with ctypes.
 *
 * The directives are the Python programs' ones, no more: `parallel for reduction` without `simd` (the
 * PyOMP program has none), the SPMD pattern with a cyclic distribution and partial sums, the task pattern
 * with the tutorial's leaf size, and DGEMM in ikj order with `parallel for` over rows. */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>

#define MAX_THREADS 64
#define MIN_BLK (1024 * 256)

void omp_ref_set_threads(int n) { omp_set_num_threads(n); }

int omp_ref_max_threads(void) { return omp_get_max_threads(); }

double omp_ref_pi_loop(int64_t num_steps) {
    double step = 1.0 / (double)num_steps;
    double sum = 0.0;
#pragma omp parallel for reduction(+ : sum)
    for (int64_t i = 0; i < num_steps; i++) {
        double x = ((double)i + 0.5) * step;
        sum += 4.0 / (1.0 + x * x);
    }
    return step * sum;
}

double omp_ref_pi_spmd(int64_t num_steps) {
    double step = 1.0 / (double)num_steps;
    double partial_sums[MAX_THREADS] = {0.0};
    int num_thrds = 1;
#pragma omp parallel shared(partial_sums, num_thrds)
    {
        int thread_id = omp_get_thread_num();
#pragma omp single
        num_thrds = omp_get_num_threads();
        double local_sum = 0.0;
        for (int64_t i = thread_id; i < num_steps; i += num_thrds) {
            double x = ((double)i + 0.5) * step;
            local_sum += 4.0 / (1.0 + x * x);
        }
        partial_sums[thread_id] = local_sum;
    }
    double sum = 0.0;
    for (int t = 0; t < MAX_THREADS; t++) sum += partial_sums[t];
    return step * sum;
}

static double pi_comp(int64_t n_start, int64_t n_finish, double step) {
    int64_t iblk = n_finish - n_start;
    double sum = 0.0;
    if (iblk < MIN_BLK) {
        for (int64_t i = n_start; i < n_finish; i++) {
            double x = ((double)i + 0.5) * step;
            sum += 4.0 / (1.0 + x * x);
        }
    } else {
        double sum1 = 0.0, sum2 = 0.0;
#pragma omp task shared(sum1)
        sum1 = pi_comp(n_start, n_finish - iblk / 2, step);
#pragma omp task shared(sum2)
        sum2 = pi_comp(n_finish - iblk / 2, n_finish, step);
#pragma omp taskwait
        sum = sum1 + sum2;
    }
    return sum;
}

double omp_ref_pi_tasks(int64_t num_steps) {
    double step = 1.0 / (double)num_steps;
    double sum = 0.0;
#pragma omp parallel
    {
#pragma omp single
        sum = pi_comp(0, num_steps, step);
    }
    return step * sum;
}

/* Not the tutorial's: the task pattern without recursion, one task per MIN_BLK block spawned by `single`. */
double omp_ref_pi_tasks_flat(int64_t num_steps) {
    double step = 1.0 / (double)num_steps;
    int64_t nblk = (num_steps + MIN_BLK - 1) / MIN_BLK;
    double* partial = (double*)calloc((size_t)nblk, sizeof(double));
    if (!partial) return 0.0;
#pragma omp parallel shared(partial)
    {
#pragma omp single
        for (int64_t b = 0; b < nblk; b++) {
#pragma omp task firstprivate(b)
            {
                int64_t lo = b * MIN_BLK;
                int64_t hi = lo + MIN_BLK < num_steps ? lo + MIN_BLK : num_steps;
                double s = 0.0;
                for (int64_t i = lo; i < hi; i++) {
                    double x = ((double)i + 0.5) * step;
                    s += 4.0 / (1.0 + x * x);
                }
                partial[b] = s;
            }
        }
    }
    double sum = 0.0;
    for (int64_t b = 0; b < nblk; b++) sum += partial[b];
    free(partial);
    return step * sum;
}

/* C += A B for n x n row-major matrices, ikj order (the tutorial's loop nest). */
void omp_ref_dgemm(const double* restrict A, const double* restrict B, double* restrict C, int64_t n) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < n; k++) {
            const double aik = A[i * n + k];
            for (int64_t j = 0; j < n; j++) C[i * n + j] += aik * B[k * n + j];
        }
    }
}
