#pragma once
// The object error against a known truth, modulo what far-field data cannot tell apart: a global
// complex scale, a common sub-pixel shift of object and probe, and a linear phase ramp traded
// between them (DESIGN.md §1):
//   error = min over c, shift, ramp of ||c O - O_true||^2 / ||O_true||^2
// over the well-illuminated region.
#include <memory>
#include <vector>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Scan.hpp"

namespace ptyx {

/// Pixels whose illumination (the object denominator sum |P|^2) reaches this fraction of its
/// maximum count as well illuminated.
inline constexpr float kWellIlluminated = 0.2F;

struct ObjectErrorResult {
  double error = 1.0;
  double shiftRows = 0.0;  ///< shift removed, pixels
  double shiftCols = 0.0;
};

class Fft2;

/// Scores one reconstruction grid against the truth, again and again: a run scores many
/// iterations, so the truth on the grid, the FFT plan and the work arrays are made once. The
/// object lives on a rows x cols grid with `originPixel`; the truth on its own grid with
/// truth.translationOrigin. Its FFTs are shared by `threads` OpenMP threads (0: one per
/// core), with the same result for any number.
class ObjectScorer {
 public:
  ObjectScorer(const GroundTruth& truth, std::size_t rows, std::size_t cols,
               const Position& originPixel, int threads = 1);
  ~ObjectScorer();
  ObjectScorer(const ObjectScorer&) = delete;
  ObjectScorer& operator=(const ObjectScorer&) = delete;

  /// `region` (object-sized, non-zero = include) selects the pixels.
  [[nodiscard]] ObjectErrorResult score(const Image<cfloat>& object,
                                        const Image<std::uint8_t>& region);
  /// Whether this scorer was made for that grid (a followed scan's object can grow).
  [[nodiscard]] bool scores(std::size_t rows, std::size_t cols, const Position& origin) const {
    return rows == rows_ && cols == cols_ && origin == origin_;
  }

 private:
  std::size_t rows_;
  std::size_t cols_;
  Position origin_;
  std::size_t paddedRows_;
  std::size_t paddedCols_;
  int threads_;
  Image<cfloat> truth_;          ///< on the object's grid, zero where the truth does not reach
  Image<std::uint8_t> covered_;  ///< non-zero where the truth reaches
  std::unique_ptr<Fft2> fft_;
  Image<std::uint8_t> region_;     ///< work arrays, reused
  Image<cfloat> a_, b_, aligned_;  ///< padded, padded, object-sized
  Image<cfloat> truthSpectrum_;    ///< FFT of the padded truth within spectrumRegion_
  Image<std::uint8_t> spectrumRegion_;
};

/// One score (see ObjectScorer): for a single call; a run keeps a scorer.
ObjectErrorResult objectError(const Image<cfloat>& object, const Position& originPixel,
                              const GroundTruth& truth, const Image<std::uint8_t>& region);

}  // namespace ptyx
