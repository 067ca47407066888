/* Reducers: identity and join, as in Kokkos. The workunit updates the accumulator; these say where each
 * thread's accumulator starts and how partial results combine. Mirrors kernelkit/lang/reducers.py. */
#ifndef KERNELKIT_REDUCERS_H
#define KERNELKIT_REDUCERS_H

#include "core.h"

namespace kk {

enum { OP_NONE = 0, OP_SUM, OP_PROD, OP_BAND, OP_BOR, OP_LAND, OP_LOR };

template <class V>
struct ValLoc {
    V val;
    int64_t loc;
};

template <class T> KK_FUNCTION constexpr T lowest() {
    if constexpr ((T)0.5 != 0) return -KK_INF;
    else if constexpr (is_signed_int<T>()) return (T)((T)1 << (sizeof(T) * 8 - 1));
    else return (T)0;
}
template <class T> KK_FUNCTION constexpr T highest() {
    if constexpr ((T)0.5 != 0) return KK_INF;
    else if constexpr (is_signed_int<T>()) return (T)~((T)1 << (sizeof(T) * 8 - 1));
    else return (T)~(T)0;
}
template <> KK_FUNCTION constexpr bool lowest<bool>() { return false; }
template <> KK_FUNCTION constexpr bool highest<bool>() { return true; }

struct Sum {
    static constexpr int op = OP_SUM;
    template <class T> KK_FUNCTION static T identity() { return (T)0; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { a = (T)(a + b); }
};
struct Prod {
    static constexpr int op = OP_PROD;
    template <class T> KK_FUNCTION static T identity() { return (T)1; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { a = (T)(a * b); }
};
struct Min {
    static constexpr int op = OP_NONE;
    template <class T> KK_FUNCTION static T identity() { return highest<T>(); }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { if (b < a) a = b; }
};
struct Max {
    static constexpr int op = OP_NONE;
    template <class T> KK_FUNCTION static T identity() { return lowest<T>(); }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { if (b > a) a = b; }
};
struct LAnd {
    static constexpr int op = OP_LAND;
    template <class T> KK_FUNCTION static T identity() { return (T)1; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { a = (T)(a && b); }
};
struct LOr {
    static constexpr int op = OP_LOR;
    template <class T> KK_FUNCTION static T identity() { return (T)0; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { a = (T)(a || b); }
};
struct BAnd {
    static constexpr int op = OP_BAND;
    template <class T> KK_FUNCTION static T identity() { return (T)~(T)0; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { a = (T)(a & b); }
};
struct BOr {
    static constexpr int op = OP_BOR;
    template <class T> KK_FUNCTION static T identity() { return (T)0; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { a = (T)(a | b); }
};
struct BXor {
    static constexpr int op = OP_NONE;
    template <class T> KK_FUNCTION static T identity() { return (T)0; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) { a = (T)(a ^ b); }
};
/* MinLoc/MaxLoc: the better value wins; ties go to the smaller location, and loc -1 ("none") loses every tie
 * (compared as unsigned). */
struct MinLoc {
    static constexpr int op = OP_NONE;
    template <class T> KK_FUNCTION static T identity() { return T{highest<decltype(T::val)>(), -1}; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) {
        if (b.val < a.val || (b.val == a.val && (uint64_t)b.loc < (uint64_t)a.loc)) a = b;
    }
};
struct MaxLoc {
    static constexpr int op = OP_NONE;
    template <class T> KK_FUNCTION static T identity() { return T{lowest<decltype(T::val)>(), -1}; }
    template <class T> KK_FUNCTION static void join(T& a, const T& b) {
        if (b.val > a.val || (b.val == a.val && (uint64_t)b.loc < (uint64_t)a.loc)) a = b;
    }
};

/* Results cross the ABI in a kk_result_t. */
template <class T> KK_FUNCTION void result_store(kk_result_t* r, const T& v) {
    if constexpr ((T)0.5 != 0) r->f = (double)v;
    else if constexpr (is_signed_int<T>()) r->i = (int64_t)v;
    else r->u = (uint64_t)v;
}
KK_FUNCTION void result_store(kk_result_t* r, const bool& v) { r->i = v; }
template <class V> KK_FUNCTION void result_store(kk_result_t* r, const ValLoc<V>& v) {
    result_store(r, v.val);
    r->loc = v.loc;
}
template <class T> KK_FUNCTION void result_load(const kk_result_t* r, T& v) {
    if constexpr ((T)0.5 != 0) v = (T)r->f;
    else if constexpr (is_signed_int<T>()) v = (T)r->i;
    else v = (T)r->u;
}
KK_FUNCTION void result_load(const kk_result_t* r, bool& v) { v = r->i != 0; }
template <class V> KK_FUNCTION void result_load(const kk_result_t* r, ValLoc<V>& v) {
    result_load(r, v.val);
    v.loc = r->loc;
}

}  // namespace kk

#endif
