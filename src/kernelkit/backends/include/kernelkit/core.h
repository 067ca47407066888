/* kernelkit core: what every generated kernel body needs, on every target.
 *
 * View access, the Python semantics of integer division and modulo, min/max, math predicates, the error
 * buffer. Targets: the host (C++ with or without OpenMP) and CUDA (KK_CUDA defined by the CUDA driver).
 * Kept free of STL headers: compile time of small kernels is dominated by headers.
 */
#ifndef KERNELKIT_CORE_H
#define KERNELKIT_CORE_H

#include "abi.h"

#ifdef KK_CUDA
#define KK_FUNCTION __device__ __forceinline__
#define KK_DEVICE_GLOBAL __device__
#else
#include <math.h>
#include <stdio.h>
#define KK_FUNCTION inline __attribute__((always_inline))
#define KK_DEVICE_GLOBAL
#endif

#define KK_PRAGMA(x) _Pragma(#x)
#ifdef KK_CUDA
#define KK_INF (__longlong_as_double(0x7ff0000000000000LL))
#define KK_NAN (__longlong_as_double(0x7ff8000000000000LL))
#else
#define KK_INF (__builtin_huge_val())
#define KK_NAN (__builtin_nan(""))
#endif

namespace kk {

/* ---------------------------------------------------------------------------------------- errors */

/* The first runtime error of a launch (bounds check, bad argument) is kept; the entry reports it. On CUDA the
 * two live in the module under C names (kk_err_flag, kk_err_msg), which the host reads after a checked launch. */
#ifdef KK_CUDA
}  // namespace kk
extern "C" __device__ int kk_err_flag;
extern "C" __device__ char kk_err_msg[KK_ERRLEN];
__device__ int kk_err_flag;
__device__ char kk_err_msg[KK_ERRLEN];
namespace kk {
#define err_flag kk_err_flag
#define err_msg kk_err_msg
#else
static int err_flag;
static char err_msg[KK_ERRLEN];
#endif

KK_FUNCTION void err_copy(const char* s, int at) {
    for (; *s && at < KK_ERRLEN - 1; ++s, ++at) err_msg[at] = *s;
    err_msg[at] = 0;
}

KK_FUNCTION int err_num(long long v, int at) {
    char buf[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do { buf[n++] = (char)('0' + u % 10); u /= 10; } while (u && n < 23);
    if (v < 0 && at < KK_ERRLEN - 1) err_msg[at++] = '-';
    while (n && at < KK_ERRLEN - 1) err_msg[at++] = buf[--n];
    err_msg[at] = 0;
    return at;
}

KK_FUNCTION int err_claim() {
#ifdef KK_CUDA
    return atomicCAS(&err_flag, 0, 1) == 0;
#else
    return __atomic_exchange_n(&err_flag, 1, __ATOMIC_ACQ_REL) == 0;
#endif
}

/* Copy the recorded error into the launch, naming the kernel first. */
KK_FUNCTION void err_report(char* out, const char* kernel) {
    int at = 0;
    const char* parts[] = {"kernel '", kernel, "': "};
    for (int p = 0; p < 3; ++p)
        for (const char* c = parts[p]; *c && at < KK_ERRLEN - 1; ++c) out[at++] = *c;
    for (const char* c = err_msg; *c && at < KK_ERRLEN - 1; ++c) out[at++] = *c;
    out[at] = 0;
}

KK_FUNCTION void bounds_fail(const char* view, int dim, long long index, long long extent) {
    if (!err_claim()) return;
    int at = 0;
    const char* parts[] = {"index ", " out of bounds for dimension ", " of View '", "' (extent ", ")"};
    err_copy(parts[0], at); while (err_msg[at]) ++at;
    at = err_num(index, at);
    err_copy(parts[1], at); while (err_msg[at]) ++at;
    at = err_num(dim, at);
    err_copy(parts[2], at); while (err_msg[at]) ++at;
    err_copy(view, at); while (err_msg[at]) ++at;
    err_copy(parts[3], at); while (err_msg[at]) ++at;
    at = err_num(extent, at);
    err_copy(parts[4], at);
}

/* ---------------------------------------------------------------------------------------- View */

/* A View of rank R over T with layout L: 'C' (LayoutRight), 'F' (LayoutLeft) or 'A' (strided). */
template <class T, int R, char L>
struct View {
    T* data;
    int64_t ext[R];
    int64_t str[R];
#ifdef KK_BOUNDS_CHECK
    const char* name;
#endif

    KK_FUNCTION View() {}
    KK_FUNCTION View(const kk_array_t& a, const char* name_ = "") {
        data = (T*)a.data;
        for (int k = 0; k < R; ++k) {
            ext[k] = a.ext[k];
            str[k] = a.str[k];
        }
#ifdef KK_BOUNDS_CHECK
        name = name_;
#else
        (void)name_;
#endif
    }

    KK_FUNCTION int64_t offset(const int64_t* ix) const {
        int64_t o;
        if constexpr (L == 'C') {
            o = ix[0];
            for (int k = 1; k < R; ++k) o = o * ext[k] + ix[k];
        } else if constexpr (L == 'F') {
            o = ix[R - 1];
            for (int k = R - 2; k >= 0; --k) o = o * ext[k] + ix[k];
        } else {
            o = 0;
            for (int k = 0; k < R; ++k) o += ix[k] * str[k];
        }
        return o;
    }

    template <class... I>
    KK_FUNCTION T& operator()(I... i) const {
        static_assert(sizeof...(I) == R, "wrong number of indices");
        const int64_t ix[R] = {(int64_t)i...};
#ifdef KK_BOUNDS_CHECK
        for (int k = 0; k < R; ++k)
            if ((uint64_t)ix[k] >= (uint64_t)ext[k]) {
                bounds_fail(name, k, ix[k], ext[k]);
                return data[0]; /* never dereferenced past the end: the launch is reported failed */
            }
#endif
        return data[offset(ix)];
    }

    KK_FUNCTION int64_t extent(int k) const { return ext[k]; }
};

/* A subview inside a kernel: (kind, begin, end) per dimension, kind 0 = an index (dimension dropped), 1 = a
 * range (end < 0: to the extent). The result is strided (layout 'A') and shares the parent's memory. */
template <class T, int R, char L> KK_FUNCTION int64_t stride_of(const View<T, R, L>& v, int k) {
    if constexpr (L == 'C') {
        int64_t s = 1;
        for (int m = R - 1; m > k; --m) s *= v.ext[m];
        return s;
    } else if constexpr (L == 'F') {
        int64_t s = 1;
        for (int m = 0; m < k; ++m) s *= v.ext[m];
        return s;
    } else {
        return v.str[k];
    }
}

template <int R2, class T, int R, char L, class... A>
KK_FUNCTION View<T, R2, 'A'> subview(const View<T, R, L>& v, A... a) {
    static_assert(sizeof...(A) == 3 * R, "a subview needs (kind, begin, end) per dimension");
    const int64_t s[3 * R] = {(int64_t)a...};
    View<T, R2, 'A'> out;
    int64_t off = 0;
    int d = 0;
    for (int k = 0; k < R; ++k) {
        const int64_t st = stride_of(v, k);
        if (s[3 * k] == 0) {
            off += s[3 * k + 1] * st;
        } else {
            const int64_t b = s[3 * k + 1], e = s[3 * k + 2] < 0 ? v.ext[k] : s[3 * k + 2];
            off += b * st;
            out.ext[d] = e > b ? e - b : 0;
            out.str[d] = st;
            ++d;
        }
    }
    out.data = v.data + off;
#ifdef KK_BOUNDS_CHECK
    out.name = v.name;
#endif
    return out;
}

/* ---------------------------------------------------------------------------------------- Python semantics */

template <class T> KK_FUNCTION constexpr bool is_signed_int() { return (T)(-1) < (T)0; }

/* a // b with Python's floor semantics; division by zero gives 0 (never a crash: documented). */
template <class T> KK_FUNCTION T floordiv(T a, T b) {
    if (b == 0) return 0;
    if constexpr (is_signed_int<T>()) {
        if (b == (T)-1) return (T)(0ull - (unsigned long long)a); /* no trap on INT_MIN // -1: wraps */
        T q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        return q;
    } else {
        return a / b;
    }
}

template <class T> KK_FUNCTION T pymod(T a, T b) {
    if (b == 0) return 0;
    if constexpr (is_signed_int<T>()) {
        if (b == (T)-1) return 0;
        T r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return r;
    } else {
        return a % b;
    }
}

KK_FUNCTION double pyfmod(double a, double b) {
    double r = fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
KK_FUNCTION float pyfmod(float a, float b) {
    float r = fmodf(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
/* Python's float floor division (CPython float_floor_div): exact on the remainder, so 1.0 // 0.1 == 9.0. */
/* Shifts with every count defined (the atomics' lshift/rshift): counts outside 0..bits-1 give 0 for a left shift
 * and the sign fill for a right shift (arithmetic for signed types). */
template <class T, class N> KK_FUNCTION T shift_left(T a, N n) {
    const long long c = (long long)n;
    if (c < 0 || c >= (long long)sizeof(T) * 8) return 0;
    return (T)((unsigned long long)a << c);
}
template <class T, class N> KK_FUNCTION T shift_right(T a, N n) {
    const long long c = (long long)n;
    if (c < 0 || c >= (long long)sizeof(T) * 8) {
        if constexpr (is_signed_int<T>()) return (T)(a < 0 ? -1 : 0);
        else return 0;
    }
    return (T)(a >> c);
}

template <class T> KK_FUNCTION T pyfloordiv_(T a, T b, T mod) {
    if (b == 0) return a / b;
    T div = (a - mod) / b;
    if (mod != 0) {
        if ((b < 0) != (mod < 0)) div -= 1;
    }
    T fl;
    if (div != 0) {
        fl = floor(div);
        if (div - fl > (T)0.5) fl += 1;
    } else {
        fl = copysign((T)0, a / b);
    }
    return fl;
}
KK_FUNCTION double pyfloordiv(double a, double b) { return pyfloordiv_<double>(a, b, fmod(a, b)); }
KK_FUNCTION float pyfloordiv(float a, float b) { return pyfloordiv_<float>(a, b, fmodf(a, b)); }

/* Integer power; a negative exponent gives the truncated result (0 unless |a| == 1). */
template <class T> KK_FUNCTION T ipow(T a, T b) {
    if constexpr (is_signed_int<T>()) {
        if (b < 0) return a == 1 ? 1 : (a == (T)-1 ? ((b & 1) ? (T)-1 : (T)1) : 0);
    }
    T r = 1;
    while (b) {
        if (b & 1) r = (T)(r * a);
        b >>= 1;
        if (b) a = (T)(a * a);
    }
    return r;
}

template <class T> KK_FUNCTION T min(T a, T b) { return b < a ? b : a; }
template <class T> KK_FUNCTION T max(T a, T b) { return b > a ? b : a; }
template <class T> KK_FUNCTION T abs(T a) { return a < 0 ? (T)(0 - a) : a; }
KK_FUNCTION double abs(double a) { return fabs(a); }
KK_FUNCTION float abs(float a) { return fabsf(a); }

#ifdef KK_CUDA
KK_FUNCTION bool isnan(double x) { return ::isnan(x); }
KK_FUNCTION bool isinf(double x) { return ::isinf(x); }
KK_FUNCTION bool isfinite(double x) { return ::isfinite(x); }
KK_FUNCTION bool isnan(float x) { return ::isnan(x); }
KK_FUNCTION bool isinf(float x) { return ::isinf(x); }
KK_FUNCTION bool isfinite(float x) { return ::isfinite(x); }
#else
KK_FUNCTION bool isnan(double x) { return __builtin_isnan(x); }
KK_FUNCTION bool isinf(double x) { return __builtin_isinf(x); }
KK_FUNCTION bool isfinite(double x) { return __builtin_isfinite(x); }
KK_FUNCTION bool isnan(float x) { return __builtin_isnan(x); }
KK_FUNCTION bool isinf(float x) { return __builtin_isinf(x); }
KK_FUNCTION bool isfinite(float x) { return __builtin_isfinite(x); }
#endif

}  // namespace kk

KK_FUNCTION double kk_rsqrt(double x) { return 1.0 / sqrt(x); }
KK_FUNCTION float kk_rsqrtf(float x) { return 1.0f / sqrtf(x); }

#endif
