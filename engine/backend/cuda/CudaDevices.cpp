// Device queries for `ptyx devices`, "auto" and placement. Compiled by the host compiler against
// the CUDA runtime; nothing here needs a device to exist (a missing driver is a reason, not an
// error).
#include <cuda_runtime.h>

#include <string>

#include "backend/cuda/CudaRuntime.hpp"

namespace ptyx::cuda {
namespace {

std::string describe(cudaError_t e) {
  std::string why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
  if (e == cudaErrorInsufficientDriver)
    return "no CUDA driver (or one older than the runtime; " + why + ")";
  if (e == cudaErrorNoDevice) return "no CUDA device found (" + why + ")";
  return why;
}

}  // namespace

int deviceCount(std::string& reason) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    reason = describe(e);
    (void)cudaGetLastError();  // the query's error is reported, not left sticky
    return 0;
  }
  if (count == 0) reason = "no CUDA device found";
  return count;
}

DeviceStatus queryDevices() {
  DeviceStatus s;
  s.compiled = true;
  const int count = deviceCount(s.reason);
  for (int d = 0; d < count; ++d) {
    DeviceInfo info;
    info.index = d;
    cudaDeviceProp prop{};
    cudaError_t e = cudaGetDeviceProperties(&prop, d);
    if (e == cudaSuccess) {
      info.name = prop.name;
      info.major = prop.major;
      info.minor = prop.minor;
      info.totalBytes = prop.totalGlobalMem;
      e = cudaSetDevice(d);
    }
    if (e == cudaSuccess) e = cudaMemGetInfo(&info.freeBytes, &info.totalBytes);  // makes a context
    if (e == cudaSuccess) {
      s.usable = true;
    } else if (s.reason.empty()) {
      s.reason = "device " + std::to_string(d) + ": " + describe(e);
      (void)cudaGetLastError();
    }
    s.devices.push_back(info);
  }
  if (s.usable) s.reason.clear();
  return s;
}

std::size_t freeBytes(int device) {
  std::size_t free = 0;
  std::size_t total = 0;
  if (cudaSetDevice(device) != cudaSuccess || cudaMemGetInfo(&free, &total) != cudaSuccess) {
    (void)cudaGetLastError();  // reported as unknown (0), not left sticky
    return 0;
  }
  return free;
}

}  // namespace ptyx::cuda
