#pragma once
// Marks functions callable from both host code and CUDA kernels. The element-wise maths is
// written once with this marker; the CPU loops and the CUDA kernels both call it.
#if defined(__CUDACC__)
#define PTYX_HD __host__ __device__ __forceinline__
#else
#define PTYX_HD inline
#endif
