/* A stand-in libcuda for tests and for benchmarks/gpu_driver_binding.py without a GPU: host memory plays
   device memory, two "kernels" (axpy, fill_struct) run on the CPU, every other call does the least it can.
   tests/unit/test_cuda_toolchain.py builds it and loads it with driver.use_library(); built as libcuda.so.1
   and put first on LD_LIBRARY_PATH it also serves cuda-bindings and NVRTC (which dlopens the driver):
       cc -shared -fPIC -O1 -Wl,-soname,libcuda.so.1 -o DIR/libcuda.so.1 tests/unit/fake_libcuda.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long dptr;
static size_t total_mem = (size_t)1 << 30, used_mem = 0;
struct blk { void* p; size_t n; struct blk* next; };
static struct blk* blocks = 0;
static int alloc_calls = 0, free_calls = 0, max_dyn = 0;
static unsigned last_launch[7];

int fake_alloc_calls(void) { return alloc_calls; }
int fake_free_calls(void) { return free_calls; }
void fake_last_launch(unsigned* out) { memcpy(out, last_launch, sizeof last_launch); }

static struct blk* find(dptr p) {
    for (struct blk* b = blocks; b; b = b->next) if ((dptr)b->p == p) return b;
    return 0;
}
static int do_alloc(dptr* p, size_t n) {
    if (used_mem + n > total_mem) return 2;
    struct blk* b = malloc(sizeof *b);
    b->p = malloc(n); b->n = n; b->next = blocks; blocks = b;
    used_mem += n; alloc_calls++;
    *p = (dptr)b->p;
    return 0;
}

int cuInit(unsigned f) { return 0; }
int cuDriverGetVersion(int* v) { *v = 13000; return 0; }
static const char* ename(int e) {
    switch (e) {
    case 0: return "CUDA_SUCCESS"; case 1: return "CUDA_ERROR_INVALID_VALUE";
    case 2: return "CUDA_ERROR_OUT_OF_MEMORY"; case 200: return "CUDA_ERROR_INVALID_IMAGE";
    case 500: return "CUDA_ERROR_NOT_FOUND";
    default: return 0;
    }
}
int cuGetErrorName(int e, const char** s) { *s = ename(e); return *s ? 0 : 1; }
int cuGetErrorString(int e, const char** s) {
    *s = e == 2 ? "out of memory" : e == 200 ? "device kernel image is invalid"
       : e == 500 ? "named symbol not found" : e == 1 ? "invalid argument" : 0;
    return *s ? 0 : 1;
}
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int o) { if (o != 0) return 101; *d = o; return 0; }
int cuDeviceGetName(char* buf, int len, int d) { strncpy(buf, "Fake GPU", len); return 0; }
int cuDeviceGetAttribute(int* v, int a, int d) {
    switch (a) {
    case 75: *v = 9; break; case 76: *v = 0; break; case 16: *v = 132; break; case 1: *v = 1024; break;
    case 8: *v = 49152; break; case 97: *v = 232448; break; case 10: *v = 32; break;
    default: *v = 1;
    }
    return 0;
}
int cuDeviceTotalMem_v2(size_t* t, int d) { *t = total_mem; return 0; }
int cuDevicePrimaryCtxRetain(void** c, int d) { *c = (void*)(uintptr_t)(0x1000 + d); return 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { return 0; }
static void* current_ctx = 0;
int cuCtxSetCurrent(void* c) { current_ctx = c; return 0; }
int cuCtxGetCurrent(void** c) { *c = current_ctx; return 0; }
int cuCtxSynchronize(void) { return current_ctx ? 0 : 201; }
int cuMemGetInfo_v2(size_t* f, size_t* t) { *f = total_mem - used_mem; *t = total_mem; return 0; }
int cuMemAlloc_v2(dptr* p, size_t n) { return current_ctx ? do_alloc(p, n) : 201; }
int cuMemAllocManaged(dptr* p, size_t n, unsigned f) { return do_alloc(p, n); }
int cuMemFree_v2(dptr p) {
    for (struct blk** b = &blocks; *b; b = &(*b)->next)
        if ((dptr)(*b)->p == p) {
            struct blk* dead = *b; *b = dead->next;
            used_mem -= dead->n; free(dead->p); free(dead); free_calls++;
            return 0;
        }
    return 1;
}
int cuMemAllocHost_v2(void** p, size_t n) { *p = malloc(n); return 0; }
int cuMemFreeHost(void* p) { free(p); return 0; }
int cuMemHostRegister_v2(void* p, size_t n, unsigned f) { return 0; }
int cuMemHostUnregister(void* p) { return 0; }
int cuMemcpyHtoD_v2(dptr d, const void* s, size_t n) { memcpy((void*)d, s, n); return 0; }
int cuMemcpyDtoH_v2(void* d, dptr s, size_t n) { memcpy(d, (void*)s, n); return 0; }
int cuMemcpyDtoD_v2(dptr d, dptr s, size_t n) { memmove((void*)d, (void*)s, n); return 0; }
int cuMemcpyHtoDAsync_v2(dptr d, const void* s, size_t n, void* st) { return cuMemcpyHtoD_v2(d, s, n); }
int cuMemcpyDtoHAsync_v2(void* d, dptr s, size_t n, void* st) { return cuMemcpyDtoH_v2(d, s, n); }
int cuMemcpyDtoDAsync_v2(dptr d, dptr s, size_t n, void* st) { return cuMemcpyDtoD_v2(d, s, n); }
int cuMemsetD8_v2(dptr d, unsigned char v, size_t n) { memset((void*)d, v, n); return 0; }
int cuMemsetD8Async(dptr d, unsigned char v, size_t n, void* st) { return cuMemsetD8_v2(d, v, n); }
int cuMemsetD32_v2(dptr d, unsigned v, size_t n) {
    for (size_t i = 0; i < n; i++) ((unsigned*)d)[i] = v;
    return 0;
}
int cuMemsetD32Async(dptr d, unsigned v, size_t n, void* st) { return cuMemsetD32_v2(d, v, n); }
int cuPointerGetAttribute(void* data, int attr, dptr p) {
    if (!find(p)) return 1;
    if (attr == 2) *(unsigned*)data = 2; else if (attr == 9) *(int*)data = 0; else return 1;
    return 0;
}
int cuStreamCreate(void** s, unsigned f) { *s = malloc(8); return 0; }
int cuStreamDestroy_v2(void* s) { free(s); return 0; }
int cuStreamSynchronize(void* s) { return 0; }
int cuStreamQuery(void* s) { return 0; }
int cuStreamWaitEvent(void* s, void* e, unsigned f) { return 0; }
int cuEventCreate(void** e, unsigned f) { *e = malloc(8); return 0; }
int cuEventDestroy_v2(void* e) { free(e); return 0; }
int cuEventRecord(void* e, void* s) { return 0; }
int cuEventSynchronize(void* e) { return 0; }
int cuEventQuery(void* e) { return 0; }
int cuEventElapsedTime_v2(float* ms, void* a, void* b) { *ms = 1.5f; return 0; }
int cuModuleLoadDataEx(void** m, const char* img, unsigned n, int* opts, void** vals) {
    if (memcmp(img, "\x7f" "ELF", 4) == 0 || strstr(img, ".version")) { *m = malloc(8); return 0; }
    for (unsigned i = 0; i < n; i++)
        if (opts[i] == 5) strcpy((char*)vals[i], "fake: not a CUDA image");
    return 200;
}
int cuModuleUnload(void* m) { free(m); return 0; }
int cuModuleGetFunction(void** f, void* m, const char* name) {
    if (!strcmp(name, "axpy")) { *f = (void*)1; return 0; }
    if (!strcmp(name, "fill_struct")) { *f = (void*)2; return 0; }
    return 500;
}
int cuModuleGetGlobal_v2(dptr* p, size_t* n, void* m, const char* name) { return 500; }
int cuFuncGetAttribute(int* v, int a, void* f) {
    *v = a == 4 ? 32 : a == 0 ? 1024 : a == 8 ? max_dyn : a == 6 ? 90 : 0;
    return 0;
}
int cuFuncSetAttribute(void* f, int a, int v) { if (a == 8) max_dyn = v; return 0; }
struct fill_args { double* x; long long n; double v; };
int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void* stream, void** params, void** extra) {
    unsigned dims[7] = {gx, gy, gz, bx, by, bz, shared};
    memcpy(last_launch, dims, sizeof dims);
    if (bx * by * bz > 1024) return 1;
    if (f == (void*)1) {
        long long n = *(long long*)params[0];
        double a = *(double*)params[1];
        const double* x = *(double**)params[2];
        double* y = *(double**)params[3];
        for (long long i = 0; i < n; i++) y[i] += a * x[i];
        return 0;
    }
    if (f == (void*)2) {
        struct fill_args* s = (struct fill_args*)params[0];
        for (long long i = 0; i < s->n; i++) s->x[i] = s->v;
        return 0;
    }
    return 400;
}
int cuOccupancyMaxPotentialBlockSize(int* g, int* b, void* f, void* cb, size_t dyn, int lim) {
    *g = 264; *b = lim && lim < 1024 ? lim : 1024; return 0;
}
int cuOccupancyMaxActiveBlocksPerMultiprocessor(int* n, void* f, int bs, size_t dyn) {
    *n = 2048 / bs; return 0;
}

/* cuda-bindings resolves every entry point through this: the _v2 symbol when there is one (the versions it
   asks for are all recent enough), else the plain one. */
int cuGetProcAddress_v2(const char* name, void** pfn, int version, unsigned long long flags, int* status) {
    static void* self = 0;
    if (!self) {
        Dl_info info;
        if (!dladdr((void*)cuGetProcAddress_v2, &info)) return 999;
        self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    }
    char v2[256];
    snprintf(v2, sizeof v2, "%s_v2", name);
    void* p = dlsym(self, v2);
    if (!p) p = dlsym(self, name);
    *pfn = p;
    if (status) *status = p ? 0 : 1;
    return p ? 0 : 500;
}
/* NVRTC asks the driver for an export table when it finds one; this one has none. */
int cuGetExportTable(const void** table, const void* id) { *table = 0; return 500; }
