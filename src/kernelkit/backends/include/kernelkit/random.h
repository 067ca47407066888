/* Random streams for pk.Random_XorShift64_Pool / Random_XorShift1024_Pool (see kernelkit/api/random.py):
 * get_state claims a stream with one atomic increment of the pool's counter and seeds xorshift64* from it with
 * splitmix64. The Python side of the same algorithm (kernelkit/lang/random.py) serves the Debug space and the
 * host generators. */
#ifndef KERNELKIT_RANDOM_H
#define KERNELKIT_RANDOM_H

#include "core.h"

namespace kk {

struct RandState {
    uint64_t s;
};

KK_FUNCTION uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

template <class V> KK_FUNCTION RandState rand_get(const V& pool) {
    const uint64_t claim = atomic_fetch_add<uint64_t>(&pool(1), (uint64_t)1);
    const uint64_t s = splitmix64(pool(0) ^ (claim * 0x9E3779B97F4A7C15ull));
    return RandState{s ? s : 1};
}

KK_FUNCTION uint64_t rand_next(RandState& st) {
    uint64_t s = st.s;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    st.s = s;
    return s * 0x2545F4914F6CDD1Dull;
}

KK_FUNCTION double rand_drand(RandState& st) { return (double)(rand_next(st) >> 11) * (1.0 / 9007199254740992.0); }
KK_FUNCTION double rand_drand(RandState& st, double e) { return rand_drand(st) * e; }
KK_FUNCTION double rand_drand(RandState& st, double b, double e) { return b + rand_drand(st) * (e - b); }
KK_FUNCTION float rand_frand(RandState& st) { return (float)(rand_next(st) >> 40) * (1.0f / 16777216.0f); }
KK_FUNCTION float rand_frand(RandState& st, double e) { return (float)(rand_frand(st) * (float)e); }
KK_FUNCTION float rand_frand(RandState& st, double b, double e) {
    return (float)((float)b + rand_frand(st) * (float)(e - b));
}
KK_FUNCTION uint32_t rand_urand(RandState& st) { return (uint32_t)(rand_next(st) >> 32); }
KK_FUNCTION uint64_t rand_urand64(RandState& st) { return rand_next(st); }
KK_FUNCTION int64_t rand_rand(RandState& st) { return (int64_t)((rand_next(st) >> 1) >> 32); }
KK_FUNCTION int64_t rand_rand(RandState& st, int64_t e) {
    const uint64_t r = rand_next(st) >> 1;
    return e > 0 ? (int64_t)(r % (uint64_t)e) : 0;
}
KK_FUNCTION int64_t rand_rand(RandState& st, int64_t b, int64_t e) {
    const uint64_t r = rand_next(st) >> 1;
    return b + (e > b ? (int64_t)(r % (uint64_t)(e - b)) : 0);
}
KK_FUNCTION double rand_normal(RandState& st, double mean = 0.0, double stddev = 1.0) {
    const double u1 = 1.0 - rand_drand(st), u2 = rand_drand(st);
    return mean + stddev * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace kk

#endif
