/* <limits> for NVRTC, which ships no C or C++ standard headers. kernelkit/backends/cuda/nvrtc.py passes
   this file to every NVRTC compile as the header <limits>. A subset of std::numeric_limits for bool,
   the integer types, float and double: is_specialized, is_integer, is_signed, has_infinity, has_quiet_NaN,
   digits, min, lowest, max, epsilon, infinity, quiet_NaN. */
#ifndef KK_NVRTC_LIMITS
#define KK_NVRTC_LIMITS
#include <stdint.h>
#include <limits.h>
#include <float.h>
#include <math.h>
namespace std {
template <class T> struct numeric_limits { static constexpr bool is_specialized = false; };
#define KK_NVRTC_INT_LIMITS(T, LO, HI, SIGNED, DIGITS)                                   \
  template <> struct numeric_limits<T> {                                                \
    static constexpr bool is_specialized = true, is_integer = true, is_signed = SIGNED; \
    static constexpr bool has_infinity = false, has_quiet_NaN = false;                   \
    static constexpr int digits = DIGITS;                                                \
    static constexpr T min() noexcept { return LO; }                                     \
    static constexpr T lowest() noexcept { return LO; }                                  \
    static constexpr T max() noexcept { return HI; }                                     \
    static constexpr T epsilon() noexcept { return 0; }                                  \
  };
KK_NVRTC_INT_LIMITS(bool, false, true, false, 1)
KK_NVRTC_INT_LIMITS(char, CHAR_MIN, CHAR_MAX, true, 7)
KK_NVRTC_INT_LIMITS(signed char, SCHAR_MIN, SCHAR_MAX, true, 7)
KK_NVRTC_INT_LIMITS(unsigned char, 0, UCHAR_MAX, false, 8)
KK_NVRTC_INT_LIMITS(short, SHRT_MIN, SHRT_MAX, true, 15)
KK_NVRTC_INT_LIMITS(unsigned short, 0, USHRT_MAX, false, 16)
KK_NVRTC_INT_LIMITS(int, INT_MIN, INT_MAX, true, 31)
KK_NVRTC_INT_LIMITS(unsigned int, 0, UINT_MAX, false, 32)
KK_NVRTC_INT_LIMITS(long, LONG_MIN, LONG_MAX, true, (int)sizeof(long) * 8 - 1)
KK_NVRTC_INT_LIMITS(unsigned long, 0, ULONG_MAX, false, (int)sizeof(long) * 8)
KK_NVRTC_INT_LIMITS(long long, LLONG_MIN, LLONG_MAX, true, 63)
KK_NVRTC_INT_LIMITS(unsigned long long, 0, ULLONG_MAX, false, 64)
#undef KK_NVRTC_INT_LIMITS
#define KK_NVRTC_FLOAT_LIMITS(T, MIN, MAX, EPS, INF, QNAN, DIGITS)                          \
  template <> struct numeric_limits<T> {                                                \
    static constexpr bool is_specialized = true, is_integer = false, is_signed = true;  \
    static constexpr bool has_infinity = true, has_quiet_NaN = true;                     \
    static constexpr int digits = DIGITS;                                                \
    static constexpr T min() noexcept { return MIN; }                                    \
    static constexpr T lowest() noexcept { return -MAX; }                                \
    static constexpr T max() noexcept { return MAX; }                                    \
    static constexpr T epsilon() noexcept { return EPS; }                                \
    static constexpr T infinity() noexcept { return INF; }                               \
    static constexpr T quiet_NaN() noexcept { return QNAN; }                             \
  };
KK_NVRTC_FLOAT_LIMITS(float, FLT_MIN, FLT_MAX, FLT_EPSILON, INFINITY, NAN, FLT_MANT_DIG)
KK_NVRTC_FLOAT_LIMITS(double, DBL_MIN, DBL_MAX, DBL_EPSILON, HUGE_VAL,
                      __builtin_bit_cast(double, 0x7ff8000000000000ull), DBL_MANT_DIG)
#undef KK_NVRTC_FLOAT_LIMITS
}
#endif
