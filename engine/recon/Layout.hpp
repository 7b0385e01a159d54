#pragma once
// Where the frames sit in the object array: integer placement of every probe window (sub-pixel
// positions are rounded; DESIGN.md §1 "integer placement first").
#include <span>
#include <string>
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
/// The same for positions alone (a scan still being acquired is laid out for its planned
/// positions; `source` names the file in messages).
ObjectLayout layoutFor(std::span<const Position> positions, std::size_t frameSize,
                       const std::string& source, std::size_t margin = 2);
/// The probe window of a frame at `position` in `layout` (as layoutFor places it); the caller
/// checks that it lies inside the object array.
FrameWindow windowFor(const ObjectLayout& layout, const Position& position, std::size_t frameSize);

}  // namespace ptyx
