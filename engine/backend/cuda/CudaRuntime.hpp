#pragma once
// The CUDA library's entry points for the engine (BackendFactory.cpp, Devices.cpp), compiled
// only when PTYX_HAVE_CUDA. No CUDA type appears here.
#include <cstddef>
#include <memory>
#include <string>

#include "backend/Backend.hpp"
#include "backend/Devices.hpp"

namespace ptyx::cuda {

/// cudaGetDeviceCount; 0 with `reason` filled ("no CUDA driver ...", "no CUDA device") when none.
int deviceCount(std::string& reason);
/// Every device with its memory; creates a context on each (for free memory).
DeviceStatus queryDevices();
/// Free memory of `device` (creates a context on it alone); 0 when it cannot be read.
std::size_t freeBytes(int device);
/// Best seconds of a forward + inverse batched FFT of `frames` frames of size x size on `device`.
double fftBatchSeconds(std::size_t frames, std::size_t size, int device);
/// A CUDA backend on `device` (creates its context: throws Error naming the failing call).
std::unique_ptr<Backend> makeBackend(const BackendOptions& options, int device);

}  // namespace ptyx::cuda
