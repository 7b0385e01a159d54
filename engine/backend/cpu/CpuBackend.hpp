#pragma once
// The CPU backend: FFTW single precision, OpenMP threads. Each thread takes whole frames and
// runs the fused per-frame pipeline (form the wave, FFT, modulus projection, inverse FFT,
// update) while the frame is in cache, with single-frame plans made once per run and executed
// concurrently (FFTW's new-array execute is thread-safe). Overlap sums are gathered per block of
// object rows (or probe rows) in frame order, so results do not depend on the thread count.
// The per-pixel loops have an AVX2/FMA clone chosen at load time (see CpuBackend.cpp) and
// docs/PERFORMANCE.md has the figures. formExitWaves only records the model: the waves are
// formed on first use, so that the caller can drop its copy of the frames in between.
#include <memory>
#include <vector>

#include "backend/Backend.hpp"

namespace ptyx {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const BackendOptions& options);
  ~CpuBackend() override;
  CpuBackend(const CpuBackend&) = delete;
  CpuBackend& operator=(const CpuBackend&) = delete;

  [[nodiscard]] std::string name() const override { return "cpu"; }
  std::string settleTransforms(std::size_t frameSize) override;
  void adoptTransforms(const std::string& settled) override;
  void load(const FrameSet& frames) override;
  [[nodiscard]] std::size_t frameCount() const override { return count_; }
  void appendFrames(const FrameSet& added, const ModelView& model) override;
  void formExitWaves(const ModelView& model) override;
  void readExitWaves(std::span<cfloat> out) const override;
  void writeExitWaves(std::span<const cfloat> in) override;
  void accumulateObject(Waves waves, std::span<const cfloat> probe, std::span<cfloat> numerator,
                        std::span<float> denominator) override;
  void accumulateProbe(Waves waves, std::span<const cfloat> object, std::span<cfloat> numerator,
                       std::span<float> denominator) override;
  StepSums relaxedStep(const RelaxedStep& step, const ModelView& model,
                       const ModelView& updateModel) override;
  void reflectModulus(float gammaA) override;
  void frameFourierErrors(std::span<double> out) const override;
  [[nodiscard]] std::size_t residentBytes() const override;

  [[nodiscard]] int threads() const { return threads_; }

  /// Faults in, on the calling thread, the two large arrays that a backend loading `frames`
  /// frames of `frameSize`² asks for (the frame magnitudes and the exit waves), so that a run
  /// started later begins iterating without the kernel's page faults (0.3 s for 1024 × 128² on
  /// the reference VM: docs/PERFORMANCE.md). The workbench calls it while an opened scan is
  /// shown. Replaces what an earlier call prepared; the next load() takes what fits and frees
  /// the rest. Their contents are undefined, as with any allocation.
  static void prepareMemory(std::size_t frames, std::size_t frameSize);
  /// What prepareMemory(frames, frameSize) holds: 12 bytes per pixel of every frame.
  [[nodiscard]] static std::size_t preparedBytesFor(std::size_t frames, std::size_t frameSize);
  /// Bytes prepared and not yet taken by a load().
  [[nodiscard]] static std::size_t preparedBytes();
  static void releasePreparedMemory();

 private:
  struct Buffers;
  [[nodiscard]] const cfloat* waves(Waves which) const;
  void checkModel(const ModelView& model) const;
  void formInto(const cfloat* object, const cfloat* probe, cfloat* out) const;
  void formPendingWaves();

  int threads_;
  std::size_t frameSize_ = 0;  // M
  std::size_t pixels_ = 0;     // M * M
  std::size_t count_ = 0;
  std::size_t capacity_ = 0;  // frames the arrays hold room for (appendFrames grows by half)
  std::size_t objectRows_ = 0;
  std::size_t objectCols_ = 0;
  std::vector<FrameWindow> windows_;
  std::unique_ptr<Buffers> buffers_;
};

}  // namespace ptyx
