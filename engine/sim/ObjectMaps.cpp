// The built-in test objects. Shapes are laid out relative to the object size so that a pattern
// fills whatever area the scan covers; fine detail (spokes near the centre, 2-pixel bars) is in
// pixels, so it probes the resolution whatever the size.
#include "sim/ObjectMaps.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

namespace ptyx::sim {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr int kSubsamples = 4;  // per axis, for pixel-area averaging of sharp edges

struct Frame {
  double cy;  // centre, pixels
  double cx;
  double size;  // min(rows, cols)
};

Frame frameOf(std::size_t rows, std::size_t cols) {
  return {(static_cast<double>(rows) - 1.0) / 2.0, (static_cast<double>(cols) - 1.0) / 2.0,
          static_cast<double>(std::min(rows, cols))};
}

/// 1 where the point (y, x) relative to the centre, in pixels, is clear; 0 where absorbing.
double siemensAt(double y, double x, double size) {
  constexpr int kSpokes = 24;
  const double starRadius = 0.30 * size;
  const double rimWidth = std::max(1.0, 0.015 * size);
  const double rho = std::hypot(y, x);
  if (rho <= starRadius) {
    return std::sin(kSpokes * std::atan2(y, x)) > 0.0 ? 0.0 : 1.0;
  }
  if (rho <= starRadius + rimWidth) return 0.0;

  // Bar gratings on the diagonals, periods 2, 3, 4 and 6 pixels, alternating orientation.
  constexpr std::array<double, 4> kPeriods = {2.0, 3.0, 4.0, 6.0};
  const double half = 0.05 * size;
  const double offset = 0.38 * size / std::numbers::sqrt2;
  for (std::size_t g = 0; g < kPeriods.size(); ++g) {
    const double gy = (g < 2 ? -1.0 : 1.0) * offset;
    const double gx = (g % 2 == 0 ? -1.0 : 1.0) * offset;
    const double dy = y - gy;
    const double dx = x - gx;
    if (std::abs(dy) <= half && std::abs(dx) <= half) {
      const double along = (g % 2 == 0 ? dx : dy) + half;
      const double phase = std::fmod(along, kPeriods[g]) / kPeriods[g];
      return phase < 0.5 ? 0.0 : 1.0;
    }
  }
  return 1.0;
}

}  // namespace

Image<double> siemensTransmission(std::size_t rows, std::size_t cols) {
  const Frame f = frameOf(rows, cols);
  Image<double> map(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      double sum = 0.0;
      for (int i = 0; i < kSubsamples; ++i) {
        const double y = static_cast<double>(r) - f.cy + (i + 0.5) / kSubsamples - 0.5;
        for (int j = 0; j < kSubsamples; ++j) {
          const double x = static_cast<double>(c) - f.cx + (j + 0.5) / kSubsamples - 0.5;
          sum += siemensAt(y, x, f.size);
        }
      }
      map(r, c) = sum / (kSubsamples * kSubsamples);
    }
  }
  return map;
}

Image<double> smoothPhase(std::size_t rows, std::size_t cols) {
  struct Hill {
    double y, x, sigma, height;  // relative to the object size
  };
  // Hills of different widths and heights so phase retrieval has something at every scale.
  constexpr std::array<Hill, 6> kHills = {{{-0.20, -0.15, 0.10, 1.0},
                                           {0.15, 0.22, 0.12, 0.8},
                                           {0.25, -0.25, 0.06, 0.9},
                                           {-0.26, 0.28, 0.07, 0.6},
                                           {0.02, 0.03, 0.16, 0.5},
                                           {-0.05, 0.33, 0.04, 0.7}}};
  const Frame f = frameOf(rows, cols);
  Image<double> map(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const double y = (static_cast<double>(r) - f.cy) / f.size;
    for (std::size_t c = 0; c < cols; ++c) {
      const double x = (static_cast<double>(c) - f.cx) / f.size;
      double v = 0.0;
      for (const Hill& h : kHills) {
        const double d2 = (y - h.y) * (y - h.y) + (x - h.x) * (x - h.x);
        v += h.height * std::exp(-d2 / (2.0 * h.sigma * h.sigma));
      }
      map(r, c) = v;
    }
  }
  stretchToUnit(map, 0.0);
  return map;
}

CellMaps cells(std::size_t rows, std::size_t cols) {
  struct Cell {
    double y, x, ry, rx, angle;
  };
  const Frame f = frameOf(rows, cols);
  // Fixed layout: the pattern is a test target, the same for every noise seed.
  std::mt19937_64 rng(0x5EED'CE11ULL);
  const auto uniform = [&rng](double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(rng() >> 11U) * 0x1.0p-53;
  };
  std::vector<Cell> placed;
  const double h = static_cast<double>(rows);
  const double w = static_cast<double>(cols);
  const std::size_t wanted =
      std::max<std::size_t>(4, static_cast<std::size_t>(h * w / (0.16 * f.size * 0.16 * f.size)));
  for (int attempt = 0; attempt < 4000 && placed.size() < wanted; ++attempt) {
    Cell cell{uniform(0.05 * h, 0.95 * h), uniform(0.05 * w, 0.95 * w),
              uniform(0.05, 0.09) * f.size, uniform(0.05, 0.09) * f.size, uniform(0.0, kPi)};
    // Cells may touch but not pile up.
    const bool crowded = std::any_of(placed.begin(), placed.end(), [&](const Cell& o) {
      return std::hypot(cell.y - o.y, cell.x - o.x) <
             0.8 * (std::max(cell.ry, cell.rx) + std::max(o.ry, o.rx));
    });
    if (!crowded) placed.push_back(cell);
  }

  CellMaps maps{Image<double>(rows, cols), Image<double>(rows, cols)};
  // Ellipsoid thickness sqrt(1 - rho^2): a smooth dome, steep at the membrane like a real cell.
  const auto dome = [](double u, double v) {
    const double rho2 = u * u + v * v;
    return rho2 < 1.0 ? std::sqrt(1.0 - rho2) : 0.0;
  };
  for (const Cell& cell : placed) {
    const double cs = std::cos(cell.angle);
    const double sn = std::sin(cell.angle);
    const auto r0 = static_cast<std::size_t>(std::max(0.0, cell.y - cell.ry - cell.rx - 1.0));
    const auto r1 = std::min(rows, static_cast<std::size_t>(cell.y + cell.ry + cell.rx + 2.0));
    const auto c0 = static_cast<std::size_t>(std::max(0.0, cell.x - cell.ry - cell.rx - 1.0));
    const auto c1 = std::min(cols, static_cast<std::size_t>(cell.x + cell.ry + cell.rx + 2.0));
    for (std::size_t r = r0; r < r1; ++r) {
      for (std::size_t c = c0; c < c1; ++c) {
        const double dy = static_cast<double>(r) - cell.y;
        const double dx = static_cast<double>(c) - cell.x;
        const double u = (cs * dx + sn * dy) / cell.rx;
        const double v = (-sn * dx + cs * dy) / cell.ry;
        const double body = dome(u, v);
        // Nucleus: a third of the cell's size, off centre, much denser.
        const double nucleus = dome((u - 0.25) / 0.35, (v + 0.1) / 0.35);
        maps.phase(r, c) += body + 1.5 * nucleus;
        maps.absorption(r, c) += 0.3 * body + nucleus;
      }
    }
  }
  stretchToUnit(maps.phase, 0.0);
  stretchToUnit(maps.absorption, 0.0);
  return maps;
}

Image<double> resample(const Image<double>& image, std::size_t rows, std::size_t cols) {
  Image<double> out(rows, cols);
  if (image.empty()) return out;
  // Pixel centres aligned: output centre (r + 1/2) maps to input (r + 1/2) * scale.
  const double sy = static_cast<double>(image.rows()) / static_cast<double>(rows);
  const double sx = static_cast<double>(image.cols()) / static_cast<double>(cols);
  const double maxY = static_cast<double>(image.rows() - 1);
  const double maxX = static_cast<double>(image.cols() - 1);
  for (std::size_t r = 0; r < rows; ++r) {
    const double y = std::clamp((static_cast<double>(r) + 0.5) * sy - 0.5, 0.0, maxY);
    const auto y0 = static_cast<std::size_t>(y);
    const std::size_t y1 = std::min(y0 + 1, image.rows() - 1);
    const double ty = y - static_cast<double>(y0);
    for (std::size_t c = 0; c < cols; ++c) {
      const double x = std::clamp((static_cast<double>(c) + 0.5) * sx - 0.5, 0.0, maxX);
      const auto x0 = static_cast<std::size_t>(x);
      const std::size_t x1 = std::min(x0 + 1, image.cols() - 1);
      const double tx = x - static_cast<double>(x0);
      out(r, c) = (1.0 - ty) * ((1.0 - tx) * image(y0, x0) + tx * image(y0, x1)) +
                  ty * ((1.0 - tx) * image(y1, x0) + tx * image(y1, x1));
    }
  }
  return out;
}

void stretchToUnit(Image<double>& map, double flatValue) {
  if (map.empty()) return;
  const auto [lo, hi] = std::minmax_element(map.span().begin(), map.span().end());
  const double low = *lo;
  const double range = *hi - *lo;
  for (double& v : map.span()) v = range > 0.0 ? (v - low) / range : flatValue;
}

}  // namespace ptyx::sim
