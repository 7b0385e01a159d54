#pragma once
// The seam between the algorithm and the hardware. A Backend keeps its share of the frames
// (magnitudes, mask, exit waves) resident and runs the frame-wise work; the Reconstructor owns
// the loop, the object and the probe, and the reductions across ranks. No device type appears
// here: a CUDA backend keeps its buffers behind this interface.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/Complex.hpp"

namespace ptyx {

/// Top-left corner of frame j's probe window in the object array, whole pixels.
struct FrameWindow {
  std::int32_t row = 0;
  std::int32_t col = 0;
  bool operator==(const FrameWindow&) const = default;
};

/// The frames a backend is given to keep resident.
struct FrameSet {
  std::size_t frameSize = 0;   ///< M: frames are M x M
  std::size_t objectRows = 0;  ///< object array the windows index into
  std::size_t objectCols = 0;
  std::span<const float> magnitudes;     ///< n x M x M, centred as on the detector
  std::span<const std::uint8_t> mask;    ///< M x M, non-zero = bad pixel; may be empty
  std::span<const FrameWindow> windows;  ///< n windows
};

/// Object and probe as the frame-wise kernels read them (host memory, row-major).
struct ModelView {
  std::span<const cfloat> object;
  std::span<const cfloat> probe;
};

/// One relaxed step of the projection family (DESIGN.md §1) in a single form:
///   z = pi_a(p phi + q psi),   psi <- a psi + b w + c z
/// with phi = P O from `model` and w = P' O' from `updateModel`. For every algorithm except the
/// general difference map the two models are the same.
struct RelaxedStep {
  float p = 1.0F;
  float q = 0.0F;
  float a = 0.0F;
  float b = 0.0F;
  float c = 1.0F;
};

/// Partial sums of one step over the resident frames; the Reconstructor all-reduces them.
struct StepSums {
  double fourierResidual = 0.0;  ///< sum over unmasked pixels of (|F z_in| - a)^2
  double magnitudeNorm = 0.0;    ///< sum over unmasked pixels of a^2
  double overlapResidual = 0.0;  ///< sum |psi - phi|^2 (before the update)
  double exitWaveNorm = 0.0;     ///< sum |psi|^2 (before the update)
};

/// Which resident wave stack an overlap sum reads.
enum class Waves { Exit, Auxiliary };

class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual std::string name() const = 0;

  /// How this backend will transform M x M frames, settled before load() on rank 0 and adopted
  /// by every other rank, so that a frame's result does not depend on the rank holding it (the
  /// CPU backend's measured FFT plans, math/FftWisdom.hpp). Default: nothing to settle.
  virtual std::string settleTransforms(std::size_t /*frameSize*/) { return {}; }
  virtual void adoptTransforms(const std::string& /*settled*/) {}
  /// Copies the frames in (replacing any previous set) and plans the FFTs for them.
  virtual void load(const FrameSet& frames) = 0;
  [[nodiscard]] virtual std::size_t frameCount() const = 0;

  /// Adds frames to the resident set (a scan still being acquired, docs/STREAMING.md): `added`
  /// has the same frame size, object array and mask as the loaded set; the new frames' exit
  /// waves start as P(r - r_j) O(r) of `model`, and the resident frames keep theirs. The
  /// default refuses (a backend that cannot grow its frame set).
  virtual void appendFrames(const FrameSet& added, const ModelView& model);

  /// psi_j = P(r - r_j) O(r) for every resident frame.
  virtual void formExitWaves(const ModelView& model) = 0;
  /// All resident exit waves, n x M x M (checkpoints, tests).
  virtual void readExitWaves(std::span<cfloat> out) const = 0;
  virtual void writeExitWaves(std::span<const cfloat> in) = 0;

  /// num_O = sum_j P*(r - r_j) w_j(r), den_O = sum_j |P(r - r_j)|^2 over resident frames,
  /// overwriting both arrays (a pixel no frame covers gets 0): the caller need not clear them,
  /// and a GPU need not read them. Each pixel sums its frames in frame order, so the result does
  /// not depend on threading.
  virtual void accumulateObject(Waves waves, std::span<const cfloat> probe,
                                std::span<cfloat> numerator, std::span<float> denominator) = 0;
  /// num_P = sum_j O*(r + r_j) w_j(r), den_P = sum_j |O(r + r_j)|^2, overwriting both.
  virtual void accumulateProbe(Waves waves, std::span<const cfloat> object,
                               std::span<cfloat> numerator, std::span<float> denominator) = 0;

  /// One relaxed step over all resident frames (see RelaxedStep).
  virtual StepSums relaxedStep(const RelaxedStep& step, const ModelView& model,
                               const ModelView& updateModel) = 0;

  /// Auxiliary waves T = (1 + gamma_a) pi_a(psi) - gamma_a psi, for the general difference map.
  virtual void reflectModulus(float gammaA) = 0;

  /// Each resident frame's Fourier error (its residual over its norm) in the last relaxedStep,
  /// so that a scan plot can show where the data disagree; 0 before the first step.
  virtual void frameFourierErrors(std::span<double> out) const = 0;

  /// Bytes this backend holds for the resident frames (frames, waves, FFT scratch).
  [[nodiscard]] virtual std::size_t residentBytes() const = 0;
};

struct BackendOptions {
  int threads = 0;  ///< 0 = all cores
  int device = -1;  ///< CUDA device; -1 = PTYX_DEVICE, else the node-local rank (Devices.hpp)
};

/// "cpu" (always built), "cuda" (when compiled with CUDA and a device is usable), "auto" (cuda
/// when usable, else cpu, saying so once on stderr). Throws Error for an unknown or unavailable
/// backend, naming why (compiled without CUDA / no driver / no device).
std::unique_ptr<Backend> makeBackend(const std::string& name, const BackendOptions& options);

}  // namespace ptyx
