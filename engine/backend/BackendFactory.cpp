#include <cstdlib>
#include <iostream>
#include <mutex>

#include "backend/Backend.hpp"
#include "backend/Devices.hpp"
#include "backend/cpu/CpuBackend.hpp"
#include "core/Error.hpp"

#if defined(PTYX_HAVE_CUDA)
#include "backend/cuda/CudaRuntime.hpp"
#endif

namespace ptyx {
namespace {

// "auto" falling back to the CPU is said once per process, and under MPI by rank 0 only.
void noteFallback(const std::string& reason) {
  static std::once_flag once;
  std::call_once(once, [&] {
    const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
    if (rank == nullptr) rank = std::getenv("PMI_RANK");
    if (rank != nullptr && std::string(rank) != "0") return;
    std::cerr << "ptyx: backend auto: no usable CUDA device (" << reason << "); using cpu\n";
  });
}

#if defined(PTYX_HAVE_CUDA)
// A CUDA backend on the chosen device, or null with `reason` saying why none is usable.
std::unique_ptr<Backend> tryCuda(const BackendOptions& options, std::string& reason) {
  const int count = cuda::deviceCount(reason);
  if (count <= 0) return nullptr;
  const int device =
      chooseDevice(options.device, count);  // a bad choice is an error, not a fallback
  try {
    return cuda::makeBackend(options, device);
  } catch (const Error& e) {
    reason = "device " + std::to_string(device) + ": " + e.what();
    return nullptr;
  }
}
#endif

}  // namespace

std::unique_ptr<Backend> makeBackend(const std::string& name, const BackendOptions& options) {
  if (name == "cpu") return std::make_unique<CpuBackend>(options);
  if (name == "cuda" || name == "auto") {
    std::string reason;
#if defined(PTYX_HAVE_CUDA)
    if (auto backend = tryCuda(options, reason)) return backend;
#else
    reason = "compiled without CUDA";
#endif
    if (name == "cuda") throw InputError("backend", name, "not available: " + reason);
    noteFallback(reason);
    return std::make_unique<CpuBackend>(options);
  }
  throw InputError("backend", name, "unknown backend (available: auto, cpu, cuda)");
}

}  // namespace ptyx
