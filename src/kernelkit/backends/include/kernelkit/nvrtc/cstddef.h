/* <cstddef> for NVRTC, which ships no C or C++ standard headers. kernelkit/backends/cuda/nvrtc.py passes
   this file to every NVRTC compile as the header <cstddef>. */
#ifndef KK_NVRTC_CSTDDEF
#define KK_NVRTC_CSTDDEF
#include <stddef.h>
namespace std { using ::size_t; using ::ptrdiff_t; typedef decltype(nullptr) nullptr_t; }
#endif
