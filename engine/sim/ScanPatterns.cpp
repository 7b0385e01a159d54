#include "sim/ScanPatterns.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>

#include "sim/Random.hpp"

namespace ptyx::sim {

namespace {

/// Unit-scale Fermat spiral (Vogel's model): r = sqrt(k), theta = k x golden angle. Equal area
/// per point and no lattice direction, which avoids the raster-grid pathology.
std::vector<Position> fermatSpiral(std::size_t count) {
  const double goldenAngle = std::numbers::pi * (3.0 - std::sqrt(5.0));  // 137.508 degrees
  std::vector<Position> points(count);
  for (std::size_t k = 0; k < count; ++k) {
    const auto kd = static_cast<double>(k);
    const double r = std::sqrt(kd);
    points[k] = {r * std::sin(kd * goldenAngle), r * std::cos(kd * goldenAngle)};
  }
  return points;
}

std::size_t rasterColumns(std::size_t count) {
  return static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(count))));
}

/// Row-major grid of unit step, each point moved by up to +-jitter along each axis.
std::vector<Position> jitteredGrid(std::size_t count, double jitter, std::uint64_t seed) {
  const std::size_t columns = rasterColumns(count);
  std::mt19937_64 rng = randomStream(seed, Stream::Positions);
  std::vector<Position> points(count);
  for (std::size_t k = 0; k < count; ++k) {
    const double dy = jitter * (2.0 * unitUniform(rng) - 1.0);
    const double dx = jitter * (2.0 * unitUniform(rng) - 1.0);
    points[k] = {static_cast<double>(k / columns) + dy, static_cast<double>(k % columns) + dx};
  }
  return points;
}

std::vector<Position> roundedScaled(std::span<const Position> unit, double scale) {
  std::vector<Position> points(unit.size());
  std::transform(unit.begin(), unit.end(), points.begin(), [scale](const Position& p) {
    return Position{std::round(p.row * scale), std::round(p.col * scale)};
  });
  return points;
}

/// Scales the unit pattern so that, after rounding to whole pixels, the mean nearest-neighbour
/// distance is `step`. Rounding shifts that mean by a few per cent at small steps, so the scale
/// is corrected a few times from the measurement.
std::vector<Position> calibrated(std::span<const Position> unit, double step) {
  const double unitMean = meanNearestNeighbour(unit);
  double scale = unitMean > 0.0 ? step / unitMean : step;
  double bestScale = scale;
  double bestError = std::numeric_limits<double>::infinity();
  for (int round = 0; round < 6; ++round) {
    const double measured = meanNearestNeighbour(roundedScaled(unit, scale));
    const double error = std::abs(measured - step);
    if (error < bestError) {
      bestError = error;
      bestScale = scale;
    }
    if (measured <= 0.0 || error < 0.002 * step) break;
    scale *= step / measured;
  }
  return roundedScaled(unit, bestScale);
}

void centre(std::vector<Position>& points) {
  if (points.empty()) return;
  const auto [rowLo, rowHi] =
      std::minmax_element(points.begin(), points.end(),
                          [](const Position& a, const Position& b) { return a.row < b.row; });
  const auto [colLo, colHi] =
      std::minmax_element(points.begin(), points.end(),
                          [](const Position& a, const Position& b) { return a.col < b.col; });
  // Whole-pixel shift, so the positions stay integral.
  const double dr = std::floor((rowLo->row + rowHi->row) / 2.0);
  const double dc = std::floor((colLo->col + colHi->col) / 2.0);
  for (Position& p : points) {
    p.row -= dr;
    p.col -= dc;
  }
}

}  // namespace

double meanNearestNeighbour(std::span<const Position> points) {
  const std::size_t n = points.size();
  if (n < 2) return 0.0;
  double rowLo = points[0].row;
  double rowHi = rowLo;
  double colLo = points[0].col;
  double colHi = colLo;
  for (const Position& p : points) {
    rowLo = std::min(rowLo, p.row);
    rowHi = std::max(rowHi, p.row);
    colLo = std::min(colLo, p.col);
    colHi = std::max(colHi, p.col);
  }
  // Bucket grid with about one point per cell; search rings of cells outwards until no
  // unvisited cell can hold a closer point.
  const double area = std::max((rowHi - rowLo) * (colHi - colLo), 1e-12);
  const double cell = std::max(std::sqrt(area / static_cast<double>(n)), 1e-9);
  const auto cellsAlong = [cell](double extent) {
    return std::min<std::size_t>(static_cast<std::size_t>(extent / cell) + 1, 1U << 12U);
  };
  const std::size_t gridRows = cellsAlong(rowHi - rowLo);
  const std::size_t gridCols = cellsAlong(colHi - colLo);
  const double cellRow = (rowHi - rowLo) / static_cast<double>(gridRows) + 1e-12;
  const double cellCol = (colHi - colLo) / static_cast<double>(gridCols) + 1e-12;
  const auto cellOf = [&](const Position& p) {
    const auto r = std::min(gridRows - 1, static_cast<std::size_t>((p.row - rowLo) / cellRow));
    const auto c = std::min(gridCols - 1, static_cast<std::size_t>((p.col - colLo) / cellCol));
    return std::pair{r, c};
  };
  // Counting sort of the points into cells.
  std::vector<std::size_t> start(gridRows * gridCols + 1, 0);
  for (const Position& p : points) {
    const auto [r, c] = cellOf(p);
    ++start[r * gridCols + c + 1];
  }
  for (std::size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
  std::vector<std::size_t> members(n);
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const auto [r, c] = cellOf(points[i]);
      members[fill[r * gridCols + c]++] = i;
    }
  }

  // A cell k rings away is at least k - 1 cells away along an axis with more than one cell.
  const double ringWidth = gridRows == 1   ? cellCol
                           : gridCols == 1 ? cellRow
                                           : std::min(cellRow, cellCol);
  const std::size_t maxRing = std::max(gridRows, gridCols);
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto [hr, hc] = cellOf(points[i]);
    double best2 = std::numeric_limits<double>::infinity();
    for (std::size_t ring = 0; ring <= maxRing; ++ring) {
      const std::size_t r0 = hr >= ring ? hr - ring : 0;
      const std::size_t r1 = std::min(gridRows - 1, hr + ring);
      const std::size_t c0 = hc >= ring ? hc - ring : 0;
      const std::size_t c1 = std::min(gridCols - 1, hc + ring);
      for (std::size_t r = r0; r <= r1; ++r) {
        const bool edgeRow = r + ring == hr || r == hr + ring;
        for (std::size_t c = c0; c <= c1; ++c) {
          if (!edgeRow && c + ring != hc && c != hc + ring) continue;  // inner cells done
          const std::size_t cellIndex = r * gridCols + c;
          for (std::size_t m = start[cellIndex]; m < start[cellIndex + 1]; ++m) {
            const std::size_t j = members[m];
            if (j == i) continue;
            const double dr = points[j].row - points[i].row;
            const double dc = points[j].col - points[i].col;
            best2 = std::min(best2, dr * dr + dc * dc);
          }
        }
      }
      // Cells beyond this ring are at least ring * width away.
      const double reach = static_cast<double>(ring) * ringWidth;
      if (best2 <= reach * reach) break;
    }
    total += std::sqrt(best2);
  }
  return total / static_cast<double>(n);
}

std::vector<Position> scanPositions(ScanPattern pattern, std::size_t count, double step,
                                    double jitter, std::uint64_t seed) {
  std::vector<Position> points;
  switch (pattern) {
    case ScanPattern::Fermat:
      points = calibrated(fermatSpiral(count), step);
      break;
    case ScanPattern::Raster: {
      // A regular grid keeps a whole-pixel step, so every nearest neighbour is exactly `step`.
      const double whole = std::max(1.0, std::round(step));
      const std::size_t columns = rasterColumns(count);
      points.resize(count);
      for (std::size_t k = 0; k < count; ++k) {
        points[k] = {static_cast<double>(k / columns) * whole,
                     static_cast<double>(k % columns) * whole};
      }
      break;
    }
    case ScanPattern::JitteredRaster:
      points = calibrated(jitteredGrid(count, jitter, seed), step);
      break;
  }
  centre(points);
  return points;
}

}  // namespace ptyx::sim
