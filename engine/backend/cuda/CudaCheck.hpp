#pragma once
// Private to the CUDA backend: every CUDA runtime and cuFFT return code goes through these and
// becomes a ptyx::Error naming the call, so nothing fails silently (STYLE.md §7). Include only
// from files compiled against the CUDA toolkit; public headers never see a CUDA type.
#include <cuda_runtime.h>
#include <cufft.h>

#include <string>

#include "core/Error.hpp"

namespace ptyx::cuda {

inline const char* cufftResultName(cufftResult r) {
  switch (r) {
    case CUFFT_SUCCESS:
      return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN:
      return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED:
      return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_VALUE:
      return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR:
      return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED:
      return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED:
      return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE:
      return "CUFFT_INVALID_SIZE";
    case CUFFT_INVALID_DEVICE:
      return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE:
      return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED:
      return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED:
      return "CUFFT_NOT_SUPPORTED";
    default:
      return "unknown cufftResult";
  }
}

inline void checkCuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  throw Error(std::string("cuda backend: ") + call + " failed: " + cudaGetErrorName(e) + " (" +
              cudaGetErrorString(e) + ") at " + file + ":" + std::to_string(line));
}

inline void checkCufft(cufftResult r, const char* call, const char* file, int line) {
  if (r == CUFFT_SUCCESS) return;
  throw Error(std::string("cuda backend: ") + call + " failed: " + cufftResultName(r) + " (" +
              std::to_string(static_cast<int>(r)) + ") at " + file + ":" + std::to_string(line));
}

}  // namespace ptyx::cuda

#define PTYX_CUDA_CHECK(call) ::ptyx::cuda::checkCuda((call), #call, __FILE__, __LINE__)
#define PTYX_CUFFT_CHECK(call) ::ptyx::cuda::checkCufft((call), #call, __FILE__, __LINE__)
/// After a kernel launch: launch-configuration errors surface here, not at the next call.
#define PTYX_CUDA_CHECK_LAUNCH(what) \
  ::ptyx::cuda::checkCuda(cudaGetLastError(), what, __FILE__, __LINE__)
