// Colour maps defined by formula in OKLab (a perceptual colour space: equal steps in L look like
// equal steps in lightness), so that lightness is exactly what we ask for:
//  * Sequential: L rises linearly from 0.18 to 0.95 while the hue turns from indigo through blue
//    and teal to yellow and the chroma grows; dark to bright, readable in grey-scale print.
//  * Cyclic: constant L = 0.72 and constant chroma while the hue turns once round the wheel, so a
//    phase wrap from +pi to -pi draws no edge. Phase 0 sits at red, +-pi at cyan.
//  * Gray: sRGB grey ramp.
// Colours outside the sRGB gamut keep their lightness and hue and lose chroma.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "render/Render.hpp"

namespace ptyx {
namespace {

struct LinearRgb {
  double r, g, b;
};

LinearRgb oklabToLinearSrgb(double L, double a, double b) {
  const double l = std::pow(L + 0.3963377774 * a + 0.2158037573 * b, 3);
  const double m = std::pow(L - 0.1055613458 * a - 0.0638541728 * b, 3);
  const double s = std::pow(L - 0.0894841775 * a - 1.2914855480 * b, 3);
  return {4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
          -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
          -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s};
}

bool inGamut(const LinearRgb& c) {
  constexpr double tol = 1e-6;
  return c.r >= -tol && c.r <= 1 + tol && c.g >= -tol && c.g <= 1 + tol && c.b >= -tol &&
         c.b <= 1 + tol;
}

std::uint8_t encodeSrgb(double linear) {
  const double c = std::clamp(linear, 0.0, 1.0);
  const double v = c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055;
  return static_cast<std::uint8_t>(std::lround(255.0 * v));
}

/// OKLCh (hue in degrees) to 8-bit sRGB, reducing chroma until the colour is displayable.
Rgb fromOklch(double L, double C, double hueDeg) {
  const double h = hueDeg * std::numbers::pi / 180.0;
  auto at = [&](double chroma) {
    return oklabToLinearSrgb(L, chroma * std::cos(h), chroma * std::sin(h));
  };
  if (!inGamut(at(C))) {
    double lo = 0.0;
    double hi = C;
    for (int i = 0; i < 30; ++i) {
      const double mid = 0.5 * (lo + hi);
      (inGamut(at(mid)) ? lo : hi) = mid;
    }
    C = lo;
  }
  const LinearRgb c = at(C);
  return {encodeSrgb(c.r), encodeSrgb(c.g), encodeSrgb(c.b)};
}

Rgb sequentialFormula(double t) {
  // Chroma is held where the sRGB gamut is narrow (dark blues, teal) and opens towards yellow.
  const double s = std::clamp((t - 0.45) / 0.55, 0.0, 1.0);
  const double L = 0.18 + 0.77 * t;
  const double C = 0.078 + 0.09 * s * s * (3.0 - 2.0 * s);
  const double hue = 285.0 - 177.0 * t;  // indigo 285 -> blue 240 -> teal 190 -> yellow 108
  return fromOklch(L, C, hue);
}

Rgb cyclicFormula(double t) {
  // 0.12 is just inside the gamut for every hue at this lightness (the limit is cyan).
  return fromOklch(0.72, 0.12, 210.0 + 360.0 * t);  // t = 0.5 (phase 0) at hue 30: red
}

constexpr std::size_t kTableSize = 4096;
using Table = std::array<Rgb, kTableSize>;

/// The formulas cost a gamut search per colour; images use a fine table instead.
const Table& sequentialTable() {
  static const Table table = [] {
    Table t{};
    for (std::size_t i = 0; i < kTableSize; ++i) {
      t[i] = sequentialFormula(static_cast<double>(i) / (kTableSize - 1));
    }
    return t;
  }();
  return table;
}

const Table& cyclicTable() {
  static const Table table = [] {
    Table t{};
    for (std::size_t i = 0; i < kTableSize; ++i) {
      t[i] = cyclicFormula(static_cast<double>(i) / kTableSize);
    }
    return t;
  }();
  return table;
}

}  // namespace

Rgb colour(Colormap map, double t) {
  if (!std::isfinite(t)) t = 0.0;
  switch (map) {
    case Colormap::Cyclic: {
      const double wrapped = t - std::floor(t);
      const auto i = static_cast<std::size_t>(std::lround(wrapped * kTableSize)) % kTableSize;
      return cyclicTable()[i];
    }
    case Colormap::Gray: {
      const auto v = static_cast<std::uint8_t>(std::lround(255.0 * std::clamp(t, 0.0, 1.0)));
      return {v, v, v};
    }
    case Colormap::Sequential:
    default: {
      const auto i =
          static_cast<std::size_t>(std::lround(std::clamp(t, 0.0, 1.0) * (kTableSize - 1)));
      return sequentialTable()[i];
    }
  }
}

}  // namespace ptyx
