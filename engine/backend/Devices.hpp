#pragma once
// Which compute devices this process can use. Two separate questions (STYLE.md): was Ptyx
// compiled with CUDA (compiledWithCuda), and is a GPU usable now (queryDevices().usable).
// No CUDA type appears here; the CUDA side lives in backend/cuda/.
#include <cstddef>
#include <string>
#include <vector>

namespace ptyx {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::size_t totalBytes = 0;
  std::size_t freeBytes = 0;
  int major = 0;  ///< compute capability
  int minor = 0;
};

struct DeviceStatus {
  bool compiled = false;  ///< built with the CUDA toolkit
  bool usable = false;    ///< at least one device with a context created
  std::string reason;     ///< why not usable: "compiled without CUDA", "no CUDA driver ...", ...
  std::vector<DeviceInfo> devices;
};

[[nodiscard]] bool compiledWithCuda();

/// Lists the CUDA devices (creating a context on each to read its free memory). Never throws for
/// a missing driver or device: that is reported in `reason`.
[[nodiscard]] DeviceStatus queryDevices();

/// Whether a CUDA device is present, asked without creating a context (queryDevices creates one
/// on every device): `usable` means at least one device is listed; `devices` stays empty.
[[nodiscard]] DeviceStatus detectDevices();

/// Free memory of the device a rank of this process would use (chooseDevice(-1, ...)), asked
/// with a context on that device alone; 0 when no device is usable.
[[nodiscard]] std::size_t chosenDeviceFreeBytes();

/// "auto", "cpu" or "cuda": the names a user may choose a backend by.
[[nodiscard]] bool isBackendName(const std::string& name);

/// What a backend name means with these devices: `cpu`, or `cuda` with a usable device, or
/// `auto` (cuda when a device is usable, else cpu, and `note` says why). Throws InputError for
/// `cuda` without a usable device (naming the reason) and for an unknown name. The workbench
/// resolves its choice before a run with this, so that the session records what ran.
struct BackendChoice {
  std::string backend;  ///< "cpu" or "cuda"
  std::string note;     ///< why auto fell back to the CPU; empty otherwise
};
[[nodiscard]] BackendChoice resolveBackend(const std::string& requested,
                                           const DeviceStatus& devices);

/// The node-local rank from the launcher's environment (OMPI_COMM_WORLD_LOCAL_RANK,
/// SLURM_LOCALID, MPI_LOCALRANKID, MV2_COMM_WORLD_LOCAL_RANK); -1 when none is set.
[[nodiscard]] int localRank();

/// One rank per GPU: `requested` when >= 0, else the PTYX_DEVICE environment variable, else the
/// local rank modulo the device count, else 0. Throws InputError when the choice is out of range.
[[nodiscard]] int chooseDevice(int requested, int deviceCount);

/// The same choice with the environment given explicitly (`ptyxDevice` may be null), for tests.
[[nodiscard]] int chooseDevice(int requested, const char* ptyxDevice, int localRank,
                               int deviceCount);

/// Seconds for one forward and one inverse batched FFT of `frames` frames of size x size on the
/// device chosen as chooseDevice(-1, ...) would: the floor a cuda iteration cannot beat (ptyx
/// bench). Throws Error when compiled without CUDA or no device is usable.
[[nodiscard]] double deviceFftBatchSeconds(std::size_t frames, std::size_t size);

}  // namespace ptyx
