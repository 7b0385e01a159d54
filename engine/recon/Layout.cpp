#include "recon/Layout.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/Error.hpp"

namespace ptyx {

ObjectLayout layoutFor(const Scan& scan, std::size_t margin) {
  return layoutFor(scan.positions, scan.frameSize(), scan.sourcePath, margin);
}

FrameWindow windowFor(const ObjectLayout& layout, const Position& p, std::size_t frameSize) {
  const long half = static_cast<long>(frameSize / 2);
  return {
      static_cast<std::int32_t>(std::lround(layout.originPixel.row) + std::lround(p.row) - half),
      static_cast<std::int32_t>(std::lround(layout.originPixel.col) + std::lround(p.col) - half)};
}

ObjectLayout layoutFor(std::span<const Position> positions, std::size_t frameSize,
                       const std::string& source, std::size_t margin) {
  const std::size_t m = frameSize;
  if (positions.empty()) throw InputError(source, "positions", "the scan has no frames");
  long minRow = std::numeric_limits<long>::max();
  long minCol = minRow;
  long maxRow = std::numeric_limits<long>::min();
  long maxCol = maxRow;
  std::vector<std::pair<long, long>> rounded;
  rounded.reserve(positions.size());
  for (const auto& p : positions) {
    if (!std::isfinite(p.row) || !std::isfinite(p.col) || std::abs(p.row) > 1e6 ||
        std::abs(p.col) > 1e6) {
      throw InputError(source, "positions", "position is not finite or absurdly large");
    }
    const long r = std::lround(p.row);
    const long c = std::lround(p.col);
    rounded.emplace_back(r, c);
    minRow = std::min(minRow, r);
    minCol = std::min(minCol, c);
    maxRow = std::max(maxRow, r);
    maxCol = std::max(maxCol, c);
  }
  constexpr long kMaxExtent = 65536;
  if (maxRow - minRow > kMaxExtent || maxCol - minCol > kMaxExtent) {
    throw InputError(source, "positions",
                     "positions span " + std::to_string(maxRow - minRow) + " x " +
                         std::to_string(maxCol - minCol) +
                         " object pixels, more than any sensible object (wrong units?)");
  }

  ObjectLayout layout;
  const long half = static_cast<long>(m / 2);
  const long originRow = static_cast<long>(margin) + half - minRow;
  const long originCol = static_cast<long>(margin) + half - minCol;
  layout.originPixel = {static_cast<double>(originRow), static_cast<double>(originCol)};
  layout.rows = static_cast<std::size_t>(maxRow - minRow) + m + 2 * margin;
  layout.cols = static_cast<std::size_t>(maxCol - minCol) + m + 2 * margin;
  layout.windows.reserve(rounded.size());
  for (const auto& [r, c] : rounded) {
    layout.windows.push_back({static_cast<std::int32_t>(originRow + r - half),
                              static_cast<std::int32_t>(originCol + c - half)});
  }
  return layout;
}

}  // namespace ptyx
