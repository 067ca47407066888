/* <cmath> for NVRTC, which ships no C or C++ standard headers. kernelkit/backends/cuda/nvrtc.py passes
   this file to every NVRTC compile as the header <cmath>. */
#ifndef KK_NVRTC_CMATH
#define KK_NVRTC_CMATH
#include <math.h>
namespace std {
using ::sqrt; using ::cbrt; using ::exp; using ::exp2; using ::expm1; using ::log; using ::log2;
using ::log10; using ::log1p; using ::pow; using ::sin; using ::cos; using ::tan; using ::asin; using ::acos;
using ::atan; using ::atan2; using ::sinh; using ::cosh; using ::tanh; using ::asinh; using ::acosh;
using ::atanh; using ::fabs; using ::abs; using ::floor; using ::ceil; using ::trunc; using ::round;
using ::rint; using ::nearbyint; using ::lround; using ::llround; using ::lrint; using ::llrint;
using ::fmod; using ::remainder; using ::remquo; using ::fmin; using ::fmax; using ::fdim; using ::fma;
using ::hypot; using ::copysign; using ::erf; using ::erfc; using ::tgamma; using ::lgamma; using ::frexp;
using ::ldexp; using ::scalbn; using ::scalbln; using ::ilogb; using ::logb; using ::modf; using ::nextafter;
using ::isnan; using ::isinf; using ::isfinite; using ::signbit;
}
#endif
