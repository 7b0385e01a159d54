// The floor for `ptyx bench --backend cuda`: one forward and one inverse batched 2-D C2C FFT of
// every frame on the device, as the backend's relaxed step does them (in place, single
// precision). Timed with CUDA events, best of five after a warm-up.
#include <cuda_runtime.h>
#include <cufft.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>

#include "backend/cuda/CudaCheck.hpp"
#include "backend/cuda/CudaRuntime.hpp"

namespace ptyx::cuda {

double fftBatchSeconds(std::size_t frames, std::size_t size, int device) {
  if (frames > static_cast<std::size_t>(std::numeric_limits<int>::max()) || size > 65536) {
    throw Error("cuda FFT timing: " + std::to_string(frames) + " frames of " +
                std::to_string(size) + " pixels is out of range for one plan");
  }
  PTYX_CUDA_CHECK(cudaSetDevice(device));
  const std::size_t count = frames * size * size;
  cufftComplex* data = nullptr;
  cufftHandle plan = 0;
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  // Released on every path, also when a check throws half-way.
  struct Release {
    cufftComplex*& data;
    cufftHandle& plan;
    cudaEvent_t& start;
    cudaEvent_t& stop;
    ~Release() {
      if (plan != 0) cufftDestroy(plan);
      if (start != nullptr) cudaEventDestroy(start);
      if (stop != nullptr) cudaEventDestroy(stop);
      if (data != nullptr) cudaFree(data);
    }
  } release{data, plan, start, stop};

  PTYX_CUDA_CHECK(cudaMalloc(&data, count * sizeof(cufftComplex)));
  PTYX_CUDA_CHECK(cudaMemset(data, 0, count * sizeof(cufftComplex)));
  int n[2] = {static_cast<int>(size), static_cast<int>(size)};
  const int dist = n[0] * n[1];
  PTYX_CUFFT_CHECK(cufftPlanMany(&plan, 2, n, nullptr, 1, dist, nullptr, 1, dist, CUFFT_C2C,
                                 static_cast<int>(frames)));
  PTYX_CUDA_CHECK(cudaEventCreate(&start));
  PTYX_CUDA_CHECK(cudaEventCreate(&stop));
  double best = std::numeric_limits<double>::max();
  for (int k = 0; k < 6; ++k) {  // the first is the warm-up
    PTYX_CUDA_CHECK(cudaEventRecord(start));
    PTYX_CUFFT_CHECK(cufftExecC2C(plan, data, data, CUFFT_FORWARD));
    PTYX_CUFFT_CHECK(cufftExecC2C(plan, data, data, CUFFT_INVERSE));
    PTYX_CUDA_CHECK(cudaEventRecord(stop));
    PTYX_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0F;
    PTYX_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (k > 0) best = std::min(best, static_cast<double>(ms) / 1000.0);
  }
  return best;
}

}  // namespace ptyx::cuda
