/* <stddef.h> for NVRTC, which ships no C or C++ standard headers. kernelkit/backends/cuda/nvrtc.py passes
   this file to every NVRTC compile as the header <stddef.h>. */
#ifndef KK_NVRTC_STDDEF_H
#define KK_NVRTC_STDDEF_H
#ifndef NULL
#define NULL 0
#endif
#ifndef offsetof
#define offsetof(t, m) ((size_t)&(((t*)0)->m)) /* older NVRTC has no __builtin_offsetof */
#endif
#endif
