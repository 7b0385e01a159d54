// renderComplex: one part of a complex image, colour-mapped, magnified by an integer factor, with
// a labelled colour bar on the right and the title above.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "render/Canvas.hpp"
#include "render/Font.hpp"
#include "render/Render.hpp"

namespace ptyx {
namespace {

using render::Align;
using render::Canvas;

constexpr Rgb kMissing{150, 150, 150};  ///< NaN / inf pixels: a neutral grey outside every map
constexpr double kPi = std::numbers::pi;

struct Tick {
  double t;  ///< position along the bar, 0 = bottom
  std::string label;
};

struct Mapping {
  double lo = 0.0;
  double hi = 1.0;
  std::vector<Tick> ticks;
};

/// Value at fraction q of the sorted finite values (nearest rank).
double quantile(std::vector<float>& values, double q) {
  const auto k = static_cast<std::size_t>(std::floor(q * static_cast<double>(values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

// Amplitude range: the 0.1st to 99.9th percentile, not min..max, so that a few hot or dead pixels
// (a common sight at the badly illuminated edge of a reconstruction) cannot wash the picture
// out; at most one pixel in a thousand saturates at either end of the map.
std::vector<float> finiteValues(const Image<float>& values, const Image<std::uint8_t>* region) {
  std::vector<float> finite;
  finite.reserve(values.size());
  const bool useRegion = region != nullptr && region->size() == values.size();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float v = values.data()[i];
    if (std::isfinite(v) && (!useRegion || region->data()[i] != 0)) finite.push_back(v);
  }
  return finite;
}

Mapping amplitudeMapping(const Image<float>& values, const Image<std::uint8_t>* region) {
  std::vector<float> finite = finiteValues(values, region);
  Mapping m;
  if (!finite.empty()) {
    m.lo = quantile(finite, 0.001);
    m.hi = quantile(finite, 0.999);
  }
  if (!(m.hi > m.lo)) {  // constant image: centre the one value on the bar
    const double pad = m.lo != 0.0 ? 0.1 * std::abs(m.lo) : 1.0;
    m.lo -= pad;
    m.hi += pad;
  }
  m.ticks = {{0.0, render::formatNumber(m.lo)},
             {0.5, render::formatNumber(0.5 * (m.lo + m.hi))},
             {1.0, render::formatNumber(m.hi)}};
  return m;
}

// A weak phase object spans a small part of -pi..pi: fit the range to the region's phases
// (0.5th..99.5th percentile) when they span less than about pi.
std::optional<Mapping> fittedPhaseMapping(const Image<float>& values,
                                          const Image<std::uint8_t>* region) {
  std::vector<float> finite = finiteValues(values, region);
  if (finite.size() < 2) return std::nullopt;
  Mapping m;
  m.lo = quantile(finite, 0.005);
  m.hi = quantile(finite, 0.995);
  if (!(m.hi > m.lo) || m.hi - m.lo > 0.9 * kPi) return std::nullopt;
  m.ticks = {{0.0, render::formatNumber(m.lo)},
             {0.5, render::formatNumber(0.5 * (m.lo + m.hi))},
             {1.0, render::formatNumber(m.hi)}};
  return m;
}

Mapping phaseMapping() {
  Mapping m;
  m.lo = -kPi;
  m.hi = kPi;
  m.ticks = {{0.0, "\u2212\u03C0"},
             {0.25, "\u2212\u03C0/2"},
             {0.5, "0"},
             {0.75, "\u03C0/2"},
             {1.0, "\u03C0"}};
  return m;
}

int autoScale(std::size_t rows, std::size_t cols) {
  // At least ~256 px on the shorter side, but never more than 2048 px on the longer one.
  const auto shortSide = static_cast<int>(std::max<std::size_t>(std::min(rows, cols), 1));
  const auto longSide = static_cast<int>(std::max<std::size_t>(std::max(rows, cols), 1));
  const int wanted = (256 + shortSide - 1) / shortSide;
  return std::clamp(wanted, 1, std::max(1, 2048 / longSide));
}

Image<Rgb> renderEmpty(const std::string& title) {
  constexpr int ts = 2;
  Canvas canvas(320, 320);
  canvas.heading(16, 16, title, ts);
  canvas.frameRect(16, 46, 288, 258, render::kGrid);
  canvas.text(160, 46 + 129 - 7, "no data", ts, render::kMutedInk, Align::Centre);
  return canvas.release();
}

}  // namespace

Image<Rgb> renderComplex(const Image<cfloat>& image, const ImageRenderOptions& options) {
  if (image.empty()) return renderEmpty(options.title);
  const std::size_t rows = image.rows();
  const std::size_t cols = image.cols();
  const bool phase = options.part == ComplexPart::Phase;

  Image<float> values(rows, cols);
  {
    auto in = image.span();
    auto out = values.span();
    for (std::size_t i = 0; i < in.size(); ++i) {
      out[i] = phase ? std::atan2(in[i].im, in[i].re) : std::sqrt(norm2(in[i]));
    }
  }
  Mapping mapping = phase ? phaseMapping() : amplitudeMapping(values, options.region);
  Colormap map = options.colormap;
  if (phase && options.fitPhaseRange) {
    if (auto fitted = fittedPhaseMapping(values, options.region)) {
      mapping = *fitted;
      map = Colormap::Sequential;  // a partial range is not cyclic
    }
  }
  const bool faded = options.region != nullptr && options.region->size() == image.size();

  const int scale = options.scale > 0 ? options.scale : autoScale(rows, cols);
  const int imgW = static_cast<int>(cols) * scale;
  const int imgH = static_cast<int>(rows) * scale;

  // Text grows with the picture so that it stays readable next to large images.
  const int ts = std::clamp(std::min(imgW, imgH) / 320 + 1, 2, 5);
  const int u = ts;  // layout unit
  const int pad = 8 * u;
  const int capH = render::kCapHeight * ts;
  const int captionTs = std::max(1, ts - 1);

  const int imgX = pad;
  const int imgY = pad + capH + 6 * u;
  const int barX = imgX + imgW + 8 * u;
  const int barW = 9 * u;
  const int tickLen = 2 * u;
  const int labelX = barX + barW + tickLen + 3 * u;  // a clear gap: a tick must not read as a minus
  int labelW = 0;
  for (const Tick& t : mapping.ticks) labelW = std::max(labelW, render::textWidth(t.label, ts));

  const std::string caption = std::to_string(cols) + " \u00D7 " + std::to_string(rows) + " px" +
                              (scale > 1 ? ", shown \u00D7" + std::to_string(scale) : "");
  const int captionY = imgY + imgH + 5 * u;
  const int width =
      std::max({labelX + labelW + pad, imgX + render::textWidth(options.title, ts) + pad,
                imgX + render::textWidth(caption, captionTs) + pad});
  const int height = captionY + render::kCapHeight * captionTs + pad;

  Canvas canvas(width, height);
  canvas.heading(imgX, pad, options.title, ts);

  // The image, nearest-neighbour magnified.
  const double span = mapping.hi - mapping.lo;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = values(r, c);
      Rgb px = std::isfinite(v) ? colour(map, (v - mapping.lo) / span) : kMissing;
      if (faded && (*options.region)(r, c) == 0) px = render::fade(px);
      canvas.fillRect(imgX + static_cast<int>(c) * scale, imgY + static_cast<int>(r) * scale, scale,
                      scale, px);
    }
  }
  canvas.frameRect(imgX, imgY, imgW, imgH, render::kInk);
  canvas.text(imgX, captionY, caption, captionTs, render::kMutedInk);

  // Colour bar: bottom row is the low end, top row the high end, both exactly.
  for (int y = 0; y < imgH; ++y) {
    const double t = imgH > 1 ? 1.0 - static_cast<double>(y) / (imgH - 1) : 0.5;
    canvas.hline(barX, barX + barW - 1, imgY + y, colour(map, t));
  }
  canvas.frameRect(barX, imgY, barW, imgH, render::kInk);
  for (const Tick& tick : mapping.ticks) {
    const int y = imgY + static_cast<int>(std::lround((1.0 - tick.t) * (imgH - 1)));
    for (int k = 0; k < u / 2 + 1; ++k) {
      canvas.hline(barX + barW, barX + barW + tickLen - 1, y + k - u / 4, render::kInk);
    }
    canvas.text(labelX, y - capH / 2, tick.label, ts, render::kInk);
  }
  return canvas.release();
}

}  // namespace ptyx
