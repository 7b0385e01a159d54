#pragma once
// Where the frames sit in the object array: integer placement of every probe window (sub-pixel
// positions are rounded; DESIGN.md §1 "integer placement first").
#include <vector>

#include "backend/Backend.hpp"
#include "core/Scan.hpp"

namespace ptyx {

struct ObjectLayout {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<FrameWindow> windows;  ///< one per frame
  Position originPixel;              ///< object-array pixel under the probe centre at translation 0
};

/// The smallest object array holding every window of the scan, plus `margin` pixels each side.
ObjectLayout layoutFor(const Scan& scan, std::size_t margin = 2);

}  // namespace ptyx
