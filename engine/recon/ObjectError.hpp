#pragma once
// The object error against a known truth, modulo what far-field data cannot tell apart: a global
// complex scale, a common sub-pixel shift of object and probe, and a linear phase ramp traded
// between them (DESIGN.md §1):
//   error = min over c, shift, ramp of ||c O - O_true||^2 / ||O_true||^2
// over the well-illuminated region.
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

/// `object` lives on the reconstruction's grid with `originPixel`; the truth on its own grid with
/// truth.translationOrigin. `region` (object-sized, non-zero = include) selects the pixels.
ObjectErrorResult objectError(const Image<cfloat>& object, const Position& originPixel,
                              const GroundTruth& truth, const Image<std::uint8_t>& region);

}  // namespace ptyx
