#include "render/Canvas.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "render/Font.hpp"

namespace ptyx::render {
namespace {

std::uint8_t mix(std::uint8_t under, std::uint8_t over, double alpha) {
  const double v = under + (over - under) * alpha;
  return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

/// Distance from (px, py) to the segment (x0, y0)-(x1, y1).
double segmentDistance(double px, double py, double x0, double y0, double x1, double y1) {
  const double dx = x1 - x0;
  const double dy = y1 - y0;
  const double len2 = dx * dx + dy * dy;
  double t = 0.0;
  if (len2 > 0.0) t = std::clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0.0, 1.0);
  return std::hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

}  // namespace

Canvas::Canvas(int width, int height, Rgb background)
    : width_(std::max(width, 1)),
      height_(std::max(height, 1)),
      image_(static_cast<std::size_t>(height_), static_cast<std::size_t>(width_), background) {}

void Canvas::set(int x, int y, Rgb colour) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  image_(static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = colour;
}

void Canvas::blend(int x, int y, Rgb colour, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_ || !(alpha > 0.0)) return;
  Rgb& p = image_(static_cast<std::size_t>(y), static_cast<std::size_t>(x));
  if (alpha >= 1.0) {
    p = colour;
    return;
  }
  p = {mix(p.r, colour.r, alpha), mix(p.g, colour.g, alpha), mix(p.b, colour.b, alpha)};
}

void Canvas::fillRect(int x, int y, int w, int h, Rgb colour) {
  const int x0 = std::max(x, 0);
  const int y0 = std::max(y, 0);
  const int x1 = std::min(x + w, width_);
  const int y1 = std::min(y + h, height_);
  for (int yy = y0; yy < y1; ++yy) {
    for (int xx = x0; xx < x1; ++xx) {
      image_(static_cast<std::size_t>(yy), static_cast<std::size_t>(xx)) = colour;
    }
  }
}

void Canvas::frameRect(int x, int y, int w, int h, Rgb colour) {
  hline(x - 1, x + w, y - 1, colour);
  hline(x - 1, x + w, y + h, colour);
  vline(x - 1, y - 1, y + h, colour);
  vline(x + w, y - 1, y + h, colour);
}

void Canvas::hline(int x0, int x1, int y, Rgb colour) {
  for (int x = std::min(x0, x1); x <= std::max(x0, x1); ++x) set(x, y, colour);
}

void Canvas::vline(int x, int y0, int y1, Rgb colour) {
  for (int y = std::min(y0, y1); y <= std::max(y0, y1); ++y) set(x, y, colour);
}

void Canvas::dashedVline(int x, int y0, int y1, Rgb colour, int on, int off) {
  const int period = std::max(on + off, 1);
  for (int y = std::min(y0, y1); y <= std::max(y0, y1); ++y) {
    if ((y - std::min(y0, y1)) % period < on) set(x, y, colour);
  }
}

void Canvas::disc(double cx, double cy, double radius, Rgb colour) {
  const int x0 = static_cast<int>(std::floor(cx - radius - 1));
  const int x1 = static_cast<int>(std::ceil(cx + radius + 1));
  const int y0 = static_cast<int>(std::floor(cy - radius - 1));
  const int y1 = static_cast<int>(std::ceil(cy + radius + 1));
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
      blend(x, y, colour, std::clamp(radius + 0.5 - d, 0.0, 1.0));
    }
  }
}

int Canvas::text(int x, int y, std::string_view str, int scale, Rgb colour, Align align) {
  const int w = textWidth(str, scale);
  int pen = x;
  if (align == Align::Centre) pen = x - w / 2;
  if (align == Align::Right) pen = x - w;
  for (std::size_t pos = 0; pos < str.size();) {
    const Glyph& g = glyph(nextCodePoint(str, pos));
    for (int r = 0; r < Glyph::kRows; ++r) {
      for (int c = g.left; c < g.left + g.width; ++c) {
        if (!g.ink(r, c)) continue;
        fillRect(pen + (c - g.left) * scale, y + r * scale, scale, scale, colour);
      }
    }
    pen += (g.width + 1) * scale;
  }
  return w;
}

void Canvas::heading(int x, int y, std::string_view str, int scale, Align align) {
  text(x, y, str, scale, kInk, align);
  if (scale > 1) text(x + 1, y, str, scale, kInk, align);
}

void Canvas::textUp(int x, int cy, std::string_view str, int scale, Rgb colour) {
  // Rotating anticlockwise maps glyph row r to column x + r and glyph column c upwards.
  int pen = cy + textWidth(str, scale) / 2;
  for (std::size_t pos = 0; pos < str.size();) {
    const Glyph& g = glyph(nextCodePoint(str, pos));
    for (int r = 0; r < Glyph::kRows; ++r) {
      for (int c = g.left; c < g.left + g.width; ++c) {
        if (!g.ink(r, c)) continue;
        fillRect(x + r * scale, pen - (c - g.left + 1) * scale, scale, scale, colour);
      }
    }
    pen -= (g.width + 1) * scale;
  }
}

std::string formatNumber(double value) {
  if (value == 0.0) return "0";  // also folds -0
  if (!std::isfinite(value)) return std::isnan(value) ? "NaN" : (value > 0 ? "inf" : "\u2212inf");
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.3g", value);
  std::string raw = buffer.data();
  std::string out;
  if (const auto e = raw.find('e'); e != std::string::npos) {
    // "1.5e-04" -> "1.5e-4", "2e+10" -> "2e10": shorter labels, same information.
    std::string mantissa = raw.substr(0, e);
    const char sign = raw[e + 1];
    std::string digits = raw.substr(e + 2);
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    raw = mantissa + "e" + (sign == '-' ? "-" : "") + digits;
  }
  for (char c : raw) {
    if (c == '-') {
      out += "\u2212";
    } else {
      out += c;
    }
  }
  return out;
}

StrokeLayer::StrokeLayer(int width, int height)
    : width_(std::max(width, 1)),
      height_(std::max(height, 1)),
      coverage_(static_cast<std::size_t>(height_), static_cast<std::size_t>(width_), 0.0F) {}

void StrokeLayer::cover(int x, int y, double c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_ || !(c > 0.0)) return;
  float& v = coverage_(static_cast<std::size_t>(y), static_cast<std::size_t>(x));
  v = std::max(v, static_cast<float>(std::min(c, 1.0)));
}

void StrokeLayer::segment(double x0, double y0, double x1, double y1, double lineWidth) {
  // Coverage falls off linearly over one pixel at the stroke edge: cheap, and smooth enough.
  const double half = 0.5 * lineWidth;
  const int xa = static_cast<int>(std::floor(std::min(x0, x1) - half - 1));
  const int xb = static_cast<int>(std::ceil(std::max(x0, x1) + half + 1));
  const int ya = static_cast<int>(std::floor(std::min(y0, y1) - half - 1));
  const int yb = static_cast<int>(std::ceil(std::max(y0, y1) + half + 1));
  for (int y = std::max(ya, 0); y <= std::min(yb, height_ - 1); ++y) {
    for (int x = std::max(xa, 0); x <= std::min(xb, width_ - 1); ++x) {
      const double d = segmentDistance(x + 0.5, y + 0.5, x0, y0, x1, y1);
      cover(x, y, half + 0.5 - d);
    }
  }
}

void StrokeLayer::dot(double cx, double cy, double radius) {
  segment(cx, cy, cx, cy, 2 * radius);
}

void StrokeLayer::paint(Canvas& canvas, Rgb colour) const {
  for (int y = 0; y < height_; ++y) {
    for (int x = 0; x < width_; ++x) {
      const float c = coverage_(static_cast<std::size_t>(y), static_cast<std::size_t>(x));
      if (c > 0.0F) canvas.blend(x, y, colour, c);
    }
  }
}

}  // namespace ptyx::render
