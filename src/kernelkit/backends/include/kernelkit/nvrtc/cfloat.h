/* <cfloat> for NVRTC, which ships no C or C++ standard headers. kernelkit/backends/cuda/nvrtc.py passes
   this file to every NVRTC compile as the header <cfloat>. */
#ifndef KK_NVRTC_CFLOAT
#define KK_NVRTC_CFLOAT
#include <float.h>
#endif
