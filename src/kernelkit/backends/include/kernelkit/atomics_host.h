/* Atomics on the host: GCC/Clang __atomic builtins; a compare-and-swap loop where no instruction exists. */
#ifndef KERNELKIT_ATOMICS_HOST_H
#define KERNELKIT_ATOMICS_HOST_H

#include "core.h"

namespace kk {

template <class T, class Op>
KK_FUNCTION T atomic_cas_loop(T* p, Op op) {
    T old, desired;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    do {
        desired = op(old);
    } while (!__atomic_compare_exchange(p, &old, &desired, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
    return old;
}

template <class T> KK_FUNCTION constexpr bool is_float() { return (T)0.5 != 0 && sizeof(T) >= 4; }

template <class T> KK_FUNCTION T atomic_fetch_add(T* p, T v) {
    if constexpr (is_float<T>()) return atomic_cas_loop(p, [v](T a) { return (T)(a + v); });
    else return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL);
}
template <class T> KK_FUNCTION T atomic_fetch_sub(T* p, T v) {
    if constexpr (is_float<T>()) return atomic_cas_loop(p, [v](T a) { return (T)(a - v); });
    else return __atomic_fetch_sub(p, v, __ATOMIC_ACQ_REL);
}
template <class T> KK_FUNCTION T atomic_fetch_mul(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return (T)(a * v); });
}
template <class T> KK_FUNCTION T atomic_fetch_div(T* p, T v) {
    if constexpr (is_float<T>()) return atomic_cas_loop(p, [v](T a) { return (T)(a / v); });
    else return atomic_cas_loop(p, [v](T a) { return floordiv(a, v); });
}
template <class T> KK_FUNCTION T atomic_fetch_min(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return v < a ? v : a; });
}
template <class T> KK_FUNCTION T atomic_fetch_max(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return v > a ? v : a; });
}
template <class T> KK_FUNCTION T atomic_fetch_and(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL); }
template <class T> KK_FUNCTION T atomic_fetch_or(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL); }
template <class T> KK_FUNCTION T atomic_fetch_xor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_ACQ_REL); }
template <class T> KK_FUNCTION T atomic_fetch_mod(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return pymod<T>(a, v); });
}
template <class T> KK_FUNCTION T atomic_fetch_lshift(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return shift_left<T, T>(a, v); });
}
template <class T> KK_FUNCTION T atomic_fetch_rshift(T* p, T v) {
    return atomic_cas_loop(p, [v](T a) { return shift_right<T, T>(a, v); });
}
template <class T> KK_FUNCTION T atomic_fetch_exchange(T* p, T v) {
    T old;
    __atomic_exchange(p, &v, &old, __ATOMIC_ACQ_REL);
    return old;
}
/* Kokkos atomic_compare_exchange: returns the old value; stores `desired` if it equalled `expected`. */
template <class T> KK_FUNCTION T atomic_fetch_cas(T* p, T expected, T desired) {
    __atomic_compare_exchange(p, &expected, &desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    return expected;
}

}  // namespace kk

#endif
