// What a kernel launch costs on the host against the size of its parameter block (issue 16's launch figure):
// an empty kernel taking one by-value struct of S bytes through cuLaunchKernel's `extra` buffer (as kernelkit
// passes kk_params), 100000 launches queued back to back on one stream, then a synchronize; the time per launch
// (sustained), and the best of 200 batches of 256 launches timed without their synchronization (the host's share).
//     nvcc -O2 -o /tmp/launch_params tools/device/launch_params.cu -lcuda -L/usr/local/cuda/lib64/stubs && /tmp/launch_params
#include <cuda.h>
#include <chrono>
#include <cstdio>
#include <cstring>

template <int S> struct P { char b[S]; };
template <int S> __global__ void empty(const __grid_constant__ P<S> p) {
    if (p.b[0] == 42 && threadIdx.x == 1000) printf("x");
}

#define CK(x) do { CUresult r_ = (x); if (r_) { printf("%s failed: %d\n", #x, r_); return 1; } } while (0)

template <int S> int run(CUstream s) {
    static char buf[S];
    memset(buf, 0, sizeof buf);
    size_t size = S;
    void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, buf, CU_LAUNCH_PARAM_BUFFER_SIZE, &size, CU_LAUNCH_PARAM_END};
    cudaFunction_t rf;
    cudaGetFuncBySymbol(&rf, (const void*)empty<S>);
    CUfunction fn = (CUfunction)rf;
    const int warm = 2000, n = 100000;
    for (int k = 0; k < warm; ++k) CK(cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, s, nullptr, extra));
    CK(cuStreamSynchronize(s));
    double best = 1e9;
    for (int r = 0; r < 3; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < n; ++k) cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, s, nullptr, extra);
        CK(cuStreamSynchronize(s));
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
        if (us < best) best = us;
    }
    /* the host's share alone: batches of 256 launches (well inside the launch queue), timed up to the last
     * cuLaunchKernel returning; each batch drains untimed before the next */
    double enq = 1e9;
    for (int r = 0; r < 200; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < 256; ++k) cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, s, nullptr, extra);
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 256;
        CK(cuStreamSynchronize(s));
        if (us < enq) enq = us;
    }
    printf("params %5d bytes: %.2f us per launch sustained, %.2f us to enqueue\n", S, best, enq);
    return 0;
}

int main() {
    cudaFree(0);
    CUstream s;
    CK(cuStreamCreate(&s, 0));
    run<16>(s); run<64>(s); run<256>(s); run<608>(s); run<880>(s); run<1024>(s); run<2048>(s); run<4096>(s);
    CUstream legacy = 0;
    printf("on the legacy default stream:\n");
    run<16>(legacy); run<880>(legacy);
    return 0;
}
