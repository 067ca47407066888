/* Atomics on CUDA: the hardware instruction where one exists for the type, else a compare-and-swap loop on
 * the enclosing 32- or 64-bit word (so 8- and 16-bit types and bool work too). */
#ifndef KERNELKIT_ATOMICS_CUDA_H
#define KERNELKIT_ATOMICS_CUDA_H

#include "core.h"

namespace kk {

template <class T, class U> KK_FUNCTION U bits_of(T v) {
    union { T t; U u; } x;
    x.u = 0;
    x.t = v;
    return x.u;
}
template <class T, class U> KK_FUNCTION T from_bits(U v) {
    union { T t; U u; } x;
    x.u = v;
    return x.t;
}

template <class T, class Op>
KK_FUNCTION T atomic_cas_loop(T* p, Op op) {
    if constexpr (sizeof(T) == 8) {
        unsigned long long* a = (unsigned long long*)p;
        unsigned long long old = *(volatile unsigned long long*)a, assumed;
        do {
            assumed = old;
            old = atomicCAS(a, assumed, bits_of<T, unsigned long long>(op(from_bits<T, unsigned long long>(assumed))));
        } while (old != assumed);
        return from_bits<T, unsigned long long>(old);
    } else if constexpr (sizeof(T) == 4) {
        unsigned int* a = (unsigned int*)p;
        unsigned int old = *(volatile unsigned int*)a, assumed;
        do {
            assumed = old;
            old = atomicCAS(a, assumed, bits_of<T, unsigned int>(op(from_bits<T, unsigned int>(assumed))));
        } while (old != assumed);
        return from_bits<T, unsigned int>(old);
    } else {
        /* 1 or 2 bytes: CAS on the aligned 32-bit word that contains them */
        const uintptr_t addr = (uintptr_t)p;
        unsigned int* w = (unsigned int*)(addr & ~(uintptr_t)3);
        const unsigned shift = (unsigned)(addr & 3) * 8;
        const unsigned mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
        unsigned int old = *(volatile unsigned int*)w, assumed;
        T cur;
        do {
            assumed = old;
            cur = from_bits<T, unsigned int>((assumed & mask) >> shift);
            const unsigned int nv = (bits_of<T, unsigned int>(op(cur)) << shift) & mask;
            old = atomicCAS(w, assumed, (assumed & ~mask) | nv);
        } while (old != assumed);
        return cur;
    }
}

template <class T> KK_FUNCTION constexpr bool is_float() { return (T)0.5 != 0 && sizeof(T) >= 4; }

template <class T> KK_FUNCTION T atomic_fetch_add(T* p, T v) {
    if constexpr (sizeof(T) == 8 && !is_float<T>()) return (T)atomicAdd((unsigned long long*)p, (unsigned long long)v);
    else if constexpr (sizeof(T) == 4 && !is_float<T>()) return (T)atomicAdd((unsigned int*)p, (unsigned int)v);
    else if constexpr (is_float<T>()) return atomicAdd(p, v);
    else return atomic_cas_loop(p, [v](T a) { return (T)(a + v); });
}
template <class T> KK_FUNCTION T atomic_fetch_sub(T* p, T v) {
    if constexpr (!is_float<T>() && sizeof(T) >= 4) return atomic_fetch_add(p, (T)(0 - v));
    else return atomic_cas_loop(p, [v](T a) { return (T)(a - v); });
}
template <class T> KK_FUNCTION T atomic_fetch_mul(T* p, T v) { return atomic_cas_loop(p, [v](T a) { return (T)(a * v); }); }
template <class T> KK_FUNCTION T atomic_fetch_div(T* p, T v) {
    if constexpr (is_float<T>()) return atomic_cas_loop(p, [v](T a) { return (T)(a / v); });
    else return atomic_cas_loop(p, [v](T a) { return floordiv(a, v); });
}
/* Native instructions for 32- and 64-bit integers; CAS loops for the rest. */
#define KK_NATIVE_INT_ATOMIC(NAME, INSTR, EXPR)                                                               \
    template <class T> KK_FUNCTION T atomic_fetch_##NAME(T* p, T v) {                                        \
        if constexpr (!is_float<T>() && sizeof(T) == 4 && is_signed_int<T>())                                \
            return (T)INSTR((int*)p, (int)v);                                                                 \
        else if constexpr (!is_float<T>() && sizeof(T) == 4)                                                  \
            return (T)INSTR((unsigned int*)p, (unsigned int)v);                                               \
        else if constexpr (!is_float<T>() && sizeof(T) == 8 && is_signed_int<T>())                           \
            return (T)INSTR((long long*)p, (long long)v);                                                     \
        else if constexpr (!is_float<T>() && sizeof(T) == 8)                                                  \
            return (T)INSTR((unsigned long long*)p, (unsigned long long)v);                                   \
        else                                                                                                  \
            return atomic_cas_loop(p, [v](T a) { return (T)(EXPR); });                                       \
    }
KK_NATIVE_INT_ATOMIC(min, atomicMin, v < a ? v : a)
KK_NATIVE_INT_ATOMIC(max, atomicMax, v > a ? v : a)
#undef KK_NATIVE_INT_ATOMIC
/* and/or/xor: the bit patterns are what matter, so signedness does not */
#define KK_NATIVE_BIT_ATOMIC(NAME, INSTR, OP)                                                                \
    template <class T> KK_FUNCTION T atomic_fetch_##NAME(T* p, T v) {                                        \
        if constexpr (sizeof(T) == 4)                                                                         \
            return (T)INSTR((unsigned int*)p, (unsigned int)v);                                               \
        else if constexpr (sizeof(T) == 8)                                                                    \
            return (T)INSTR((unsigned long long*)p, (unsigned long long)v);                                   \
        else                                                                                                  \
            return atomic_cas_loop(p, [v](T a) { return (T)(a OP v); });                                     \
    }
KK_NATIVE_BIT_ATOMIC(and, atomicAnd, &)
KK_NATIVE_BIT_ATOMIC(or, atomicOr, |)
KK_NATIVE_BIT_ATOMIC(xor, atomicXor, ^)
#undef KK_NATIVE_BIT_ATOMIC
template <class T> KK_FUNCTION T atomic_fetch_mod(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return pymod<T>(a, v); });
}
template <class T> KK_FUNCTION T atomic_fetch_lshift(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return shift_left<T, T>(a, v); });
}
template <class T> KK_FUNCTION T atomic_fetch_rshift(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return shift_right<T, T>(a, v); });
}
template <class T> KK_FUNCTION T atomic_fetch_exchange(T* p, T v) { return atomic_cas_loop(p, [v](T) { return v; }); }
template <class T> KK_FUNCTION T atomic_fetch_cas(T* p, T expected, T desired) {
    return atomic_cas_loop(p, [expected, desired](T a) { return a == expected ? desired : a; });
}

}  // namespace kk

#endif
