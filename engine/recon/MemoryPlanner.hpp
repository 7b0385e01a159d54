#pragma once
// The memory planner: before a run, what one rank will hold (host RAM for the cpu backend, GPU
// memory for the cuda backend) for a given scan, frame size, object, algorithm and rank count,
// and whether that fits a capacity. It mirrors the backends' allocations array by array (the
// unit tests hold it to CpuBackend::residentBytes()), so the GUI and the agent can show it
// before a job is submitted. docs/CUDA.md lists figures for typical scans.
#include <algorithm>
#include <cstddef>
#include <string>

#include "recon/MemoryEstimate.hpp"

namespace ptyx {

struct ReconParams;

enum class MemoryTarget { CpuRam, CudaDevice };

/// A run as the planner sees it.
struct MemoryCase {
  std::size_t frames = 0;     ///< whole scan
  std::size_t frameSize = 0;  ///< M: frames are M x M
  std::size_t objectRows = 0;
  std::size_t objectCols = 0;
  std::size_t threads = 1;      ///< cpu backend threads per rank (one FFT scratch pair each)
  bool auxiliaryWaves = false;  ///< general difference map / HIO keep a second wave stack
  MemoryTarget target = MemoryTarget::CpuRam;
};

/// Frames per batched cuFFT call of the cuda backend (its scratch and cuFFT work area scale with
/// it). Shared by the backend and the planner so that the two agree. The element-wise kernels run
/// one block per frame, so a batch needs a few hundred frames to keep a large GPU's memory busy:
/// at least 64 MiB of scratch, and up to 512 frames as long as that stays within 512 MiB.
inline std::size_t cudaBatchFrames(std::size_t frames, std::size_t pixels) {
  constexpr std::size_t kFloorBytes = std::size_t{64} << 20;
  constexpr std::size_t kCeilingBytes = std::size_t{512} << 20;
  constexpr std::size_t kBusyFrames = 512;
  const std::size_t perFrame = pixels * 8;  // complex scratch
  std::size_t batch = perFrame > 0 ? kFloorBytes / perFrame : 1;
  const std::size_t busy = perFrame > 0 ? std::min(kBusyFrames, kCeilingBytes / perFrame) : 1;
  batch = std::max({batch, busy, std::size_t{1}});
  return batch < frames ? batch : (frames > 0 ? frames : 1);
}

/// The cuda backend's probe gather sums its frames in chunks of this many (one thread per probe
/// pixel and chunk, then the chunks in order): enough threads for a large GPU, and a fixed order.
inline constexpr std::size_t kCudaProbeChunkFrames = 64;
inline std::size_t cudaProbeChunks(std::size_t frames) {
  return (frames + kCudaProbeChunkFrames - 1) / kCudaProbeChunkFrames;
}

/// A CUDA context, the cuFFT library's own state and allocator slack are not in residentBytes();
/// the planner keeps this much of each GPU free for them.
constexpr std::size_t kCudaContextReserve = std::size_t{512} << 20;

/// What one rank holds, for the rank with the largest block of frames.
struct RankMemory {
  int ranks = 1;
  std::size_t framesPerRank = 0;
  MemoryTarget target = MemoryTarget::CpuRam;
  /// What the backend's residentBytes() reports once loaded (and, with auxiliary waves, after
  /// the first reflectModulus): frames, mask, waves, FFT scratch; for cuda also its device
  /// copies of object/probe, overlap sums, frame lists, and the cuFFT work area (estimated).
  std::size_t backendBytes = 0;
  /// Host arrays of the Reconstructor: object, probe, their overlap sums, illumination.
  std::size_t hostModelBytes = 0;
  /// The figure compared with the capacity: RAM (backend + model) for cpu, GPU memory (backend +
  /// kCudaContextReserve) for cuda.
  [[nodiscard]] std::size_t perRank() const;
};

[[nodiscard]] RankMemory planRank(const MemoryCase& c, int ranks);

/// Whether the algorithm keeps auxiliary waves (general difference map, HIO).
[[nodiscard]] bool needsAuxiliaryWaves(const ReconParams& params);

struct PlanVerdict {
  bool fits = false;
  int ranksNeeded = 0;  ///< smallest rank count that fits; 0 when no rank count does
  RankMemory plan;      ///< for the rank count asked about
  std::string message;  ///< one line for a user
};

/// Checks `ranks` ranks against `capacityBytes` per rank (per GPU for cuda).
[[nodiscard]] PlanVerdict checkPlan(const MemoryCase& c, int ranks, std::size_t capacityBytes);
/// checkPlan, throwing Error with its message when the plan does not fit.
void requirePlan(const MemoryCase& c, int ranks, std::size_t capacityBytes);

/// MemAvailable of this machine (/proc/meminfo), 0 when unknown.
[[nodiscard]] std::size_t availableHostBytes();

/// What one rank on this node may use on `target`: PTYX_MEMORY_LIMIT_MIB when set (shared nodes,
/// tests), else the free memory of the GPU this rank would use (chosenDeviceFreeBytes), else
/// MemAvailable shared by the node's ranks (OMPI_COMM_WORLD_LOCAL_SIZE) plus `heldBytes`, memory
/// this process already holds for the run (the workbench's prepared arrays). 0 when unknown.
[[nodiscard]] std::size_t capacityPerRank(MemoryTarget target, std::size_t heldBytes = 0);

/// "123.4 MiB" / "12.3 GiB".
[[nodiscard]] std::string formatBytes(std::size_t bytes);

}  // namespace ptyx
