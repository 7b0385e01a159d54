#pragma once
// What a reconstruction must hold in memory, per rank: the arrays the algorithm needs (frames,
// exit waves, object, probe, their overlap sums, FFT scratch). The bench compares the measured
// peak with it; the planner of the CUDA issue grows from it.
#include <cstddef>

namespace ptyx {

struct MemoryEstimate {
  std::size_t frames = 0;     ///< magnitudes, float
  std::size_t exitWaves = 0;  ///< complex float; doubled for the general difference map / HIO
  std::size_t model = 0;      ///< object and probe, their overlap sums and the illumination
  std::size_t scratch = 0;    ///< FFT scratch, one frame per thread
  [[nodiscard]] std::size_t total() const { return frames + exitWaves + model + scratch; }
};

inline MemoryEstimate estimateMemory(std::size_t frames, std::size_t frameSize,
                                     std::size_t objectRows, std::size_t objectCols,
                                     std::size_t threads, bool auxiliaryWaves) {
  const std::size_t pixels = frameSize * frameSize;
  const std::size_t objectPixels = objectRows * objectCols;
  MemoryEstimate e;
  e.frames = frames * pixels * 4;
  e.exitWaves = frames * pixels * 8 * (auxiliaryWaves ? 2 : 1);
  // object + probe (8 B), sums: numerator 8 B + denominator 4 B, illumination 4 B
  e.model = objectPixels * (8 + 12 + 4) + pixels * (8 + 12);
  e.scratch = threads * pixels * 8;
  return e;
}

}  // namespace ptyx
