/* <climits> for NVRTC, which ships no C or C++ standard headers. kernelkit/backends/cuda/nvrtc.py passes
   this file to every NVRTC compile as the header <climits>. */
#ifndef KK_NVRTC_CLIMITS
#define KK_NVRTC_CLIMITS
#include <limits.h>
#endif
