#include "backend/Devices.hpp"

#include <cstdlib>
#include <string>

#include "core/Error.hpp"

#if defined(PTYX_HAVE_CUDA)
#include "backend/cuda/CudaRuntime.hpp"
#endif

namespace ptyx {

bool compiledWithCuda() {
#if defined(PTYX_HAVE_CUDA)
  return true;
#else
  return false;
#endif
}

DeviceStatus queryDevices() {
#if defined(PTYX_HAVE_CUDA)
  return cuda::queryDevices();
#else
  DeviceStatus s;
  s.reason = "compiled without CUDA";
  return s;
#endif
}

DeviceStatus detectDevices() {
  DeviceStatus s;
#if defined(PTYX_HAVE_CUDA)
  s.compiled = true;
  s.usable = cuda::deviceCount(s.reason) > 0;
#else
  s.reason = "compiled without CUDA";
#endif
  return s;
}

std::size_t chosenDeviceFreeBytes() {
#if defined(PTYX_HAVE_CUDA)
  std::string reason;
  const int count = cuda::deviceCount(reason);
  return count > 0 ? cuda::freeBytes(chooseDevice(-1, count)) : 0;
#else
  return 0;
#endif
}

bool isBackendName(const std::string& name) {
  return name == "auto" || name == "cpu" || name == "cuda";
}

BackendChoice resolveBackend(const std::string& requested, const DeviceStatus& devices) {
  if (!isBackendName(requested)) {
    throw InputError("backend", requested, "unknown backend (available: auto, cpu, cuda)");
  }
  if (requested == "cpu") return {"cpu", {}};
  if (devices.usable) return {"cuda", {}};
  const std::string why = "no usable CUDA device (" + devices.reason + ")";
  if (requested == "cuda") throw InputError("backend", requested, "not available: " + why);
  return {"cpu", why};
}

namespace {

bool parseIndex(const char* text, int& value) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*end != '\0' || v < 0 || v > 1'000'000) return false;
  value = static_cast<int>(v);
  return true;
}

}  // namespace

int localRank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID",
                           "MV2_COMM_WORLD_LOCAL_RANK"}) {
    int v = 0;
    if (parseIndex(std::getenv(name), v)) return v;
  }
  return -1;
}

int chooseDevice(int requested, const char* ptyxDevice, int rank, int deviceCount) {
  if (deviceCount <= 0) throw Error("no CUDA device to choose from");
  int device = 0;
  std::string from = "default";
  if (requested >= 0) {
    device = requested;
    from = "the requested device";
  } else if (ptyxDevice != nullptr && *ptyxDevice != '\0') {
    if (!parseIndex(ptyxDevice, device)) {
      throw InputError("PTYX_DEVICE", ptyxDevice, "not a device index");
    }
    from = "PTYX_DEVICE";
  } else if (rank >= 0) {
    return rank % deviceCount;  // one rank per GPU; more ranks than GPUs share round-robin
  }
  if (device >= deviceCount) {
    throw InputError("device", std::to_string(device),
                     from + " is out of range (" + std::to_string(deviceCount) + " CUDA device" +
                         (deviceCount == 1 ? "" : "s") + ")");
  }
  return device;
}

int chooseDevice(int requested, int deviceCount) {
  return chooseDevice(requested, std::getenv("PTYX_DEVICE"), localRank(), deviceCount);
}

double deviceFftBatchSeconds(std::size_t frames, std::size_t size) {
#if defined(PTYX_HAVE_CUDA)
  std::string reason;
  const int count = cuda::deviceCount(reason);
  if (count == 0) throw Error("cuda: not available: " + reason);
  return cuda::fftBatchSeconds(frames, size, chooseDevice(-1, count));
#else
  (void)frames;
  (void)size;
  throw Error("cuda: not available: compiled without CUDA");
#endif
}

}  // namespace ptyx
