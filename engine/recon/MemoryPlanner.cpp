#include "recon/MemoryPlanner.hpp"

#include <fstream>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "backend/Devices.hpp"
#include "core/Error.hpp"
#include "params/Parameters.hpp"

namespace ptyx {
namespace {

constexpr std::size_t kComplex = 8;  // cfloat
constexpr std::size_t kFloat = 4;

const char* targetName(MemoryTarget t) {
  return t == MemoryTarget::CudaDevice ? "GPU memory" : "RAM";
}
const char* unitName(MemoryTarget t) {
  return t == MemoryTarget::CudaDevice ? "GPUs (ranks)" : "ranks";
}

}  // namespace

std::size_t RankMemory::perRank() const {
  return target == MemoryTarget::CudaDevice ? backendBytes + kCudaContextReserve
                                            : backendBytes + hostModelBytes;
}

RankMemory planRank(const MemoryCase& c, int ranks) {
  if (ranks < 1) throw Error("memory planner: rank count must be at least 1");
  const auto r = static_cast<std::size_t>(ranks);
  RankMemory m;
  m.ranks = ranks;
  m.target = c.target;
  m.framesPerRank = (c.frames + r - 1) / r;  // the largest block frameBlock hands out
  const std::size_t n = m.framesPerRank;
  const std::size_t pixels = c.frameSize * c.frameSize;
  const std::size_t objectPixels = c.objectRows * c.objectCols;
  const std::size_t waves = n * pixels * kComplex * (c.auxiliaryWaves ? 2 : 1);

  // Reconstructor, host: as estimateMemory's model, plus the copies of object and probe the
  // general difference map keeps for phi.
  const MemoryEstimate base = estimateMemory(n, c.frameSize, c.objectRows, c.objectCols, 1, false);
  m.hostModelBytes = base.model + (c.auxiliaryWaves ? (objectPixels + pixels) * kComplex : 0);

  if (c.target == MemoryTarget::CpuRam) {
    // CpuBackend: magnitudes, mask (as floats), waves, per thread two FFT scratch frames (the
    // transforms are out of place) and a model frame.
    m.backendBytes = n * pixels * kFloat + pixels * kFloat + waves +
                     std::max<std::size_t>(c.threads, 1) * 3 * pixels * kComplex;
  } else {
    // CudaBackend (engine/backend/cuda/CudaBackend.cu, allocation for allocation).
    const std::size_t batch = cudaBatchFrames(n, pixels);
    m.backendBytes = n * pixels * kFloat + pixels * kFloat + waves        // magnitudes, mask, waves
                     + batch * pixels * kComplex                          // batch scratch z
                     + batch * pixels * kComplex                          // cuFFT work area (bound)
                     + 2 * (objectPixels + pixels) * kComplex             // model and update model
                     + objectPixels * (kComplex + kFloat)                 // object num / den
                     + pixels * (kComplex + kFloat)                       // probe num / den
                     + cudaProbeChunks(n) * pixels * (kComplex + kFloat)  // probe chunk sums
                     + n * 2 * 4                                          // windows
                     + (c.objectRows + 1) * 4 + n * c.frameSize * 4       // per-row frame lists
                     + n * 4 * sizeof(double);                            // per-frame step sums
  }
  return m;
}

bool needsAuxiliaryWaves(const ReconParams& p) {
  return p.algorithm == Algorithm::HIO || (p.algorithm == Algorithm::DM && p.gammaA != -1.0);
}

std::string formatBytes(std::size_t bytes) {
  std::ostringstream out;
  const double b = static_cast<double>(bytes);
  out << std::fixed << std::setprecision(1);
  if (b >= 1024.0 * 1024.0 * 1024.0) {
    out << b / (1024.0 * 1024.0 * 1024.0) << " GiB";
  } else {
    out << b / (1024.0 * 1024.0) << " MiB";
  }
  return out.str();
}

PlanVerdict checkPlan(const MemoryCase& c, int ranks, std::size_t capacityBytes) {
  PlanVerdict v;
  v.plan = planRank(c, ranks);
  v.fits = v.plan.perRank() <= capacityBytes;
  // Memory per rank falls with the rank count until a rank holds one frame.
  const int most = static_cast<int>(std::max<std::size_t>(c.frames, 1));
  for (int r = 1; r <= most; r = (r < 64 ? r + 1 : r + r / 8)) {
    if (planRank(c, r).perRank() <= capacityBytes) {
      v.ranksNeeded = r;
      break;
    }
  }
  if (v.ranksNeeded == 0 && planRank(c, most).perRank() <= capacityBytes) v.ranksNeeded = most;
  std::ostringstream msg;
  msg << "memory plan: " << formatBytes(v.plan.perRank()) << " of " << targetName(c.target)
      << " per rank on " << ranks << (ranks == 1 ? " rank" : " ranks") << " ("
      << v.plan.framesPerRank << " frames each), capacity " << formatBytes(capacityBytes);
  if (v.fits) {
    msg << ": fits";
  } else if (v.ranksNeeded > 0) {
    msg << ": does not fit; it would take " << v.ranksNeeded << " " << unitName(c.target);
  } else {
    msg << ": does not fit on any number of " << unitName(c.target)
        << " (the object-sized arrays alone exceed the capacity)";
  }
  v.message = msg.str();
  return v;
}

void requirePlan(const MemoryCase& c, int ranks, std::size_t capacityBytes) {
  const PlanVerdict v = checkPlan(c, ranks, capacityBytes);
  if (!v.fits) throw Error(v.message);
}

std::size_t availableHostBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::size_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

std::size_t capacityPerRank(MemoryTarget target, std::size_t heldBytes) {
  if (const char* limit = std::getenv("PTYX_MEMORY_LIMIT_MIB")) {
    return static_cast<std::size_t>(std::max(0.0, std::strtod(limit, nullptr)) * 1048576.0);
  }
  if (target == MemoryTarget::CudaDevice) return chosenDeviceFreeBytes();
  const std::size_t available = availableHostBytes();
  if (available == 0) return 0;
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const long ranksHere = local != nullptr ? std::max(1L, std::atol(local)) : 1L;
  return available / static_cast<std::size_t>(ranksHere) + heldBytes;
}

}  // namespace ptyx
