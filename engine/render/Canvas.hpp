#pragma once
// Drawing on an RGB raster: filled rectangles, antialiased thick lines, dashed rules and bitmap
// text. Coordinates are (x = column, y = row) in pixels; everything clips to the raster.
#include <string>
#include <string_view>
#include <utility>

#include "core/Array.hpp"
#include "render/Render.hpp"

namespace ptyx::render {

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kInk{34, 34, 34};  ///< text and frames: near-black, softer than pure
inline constexpr Rgb kGrid{228, 228, 228};
inline constexpr Rgb kMutedInk{110, 110, 110};

/// A colour washed towards white: pixels outside the region of interest stay visible but recede.
inline Rgb fade(Rgb c) {
  const auto wash = [](std::uint8_t v) { return static_cast<std::uint8_t>(v / 3 + 170); };
  return {wash(c.r), wash(c.g), wash(c.b)};
}

enum class Align { Left, Centre, Right };

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = kWhite);

  [[nodiscard]] int width() const { return width_; }
  [[nodiscard]] int height() const { return height_; }
  [[nodiscard]] Image<Rgb>& image() { return image_; }
  Image<Rgb> release() { return std::move(image_); }

  void set(int x, int y, Rgb colour);
  /// Mixes `colour` over the pixel with opacity `alpha` in [0, 1].
  void blend(int x, int y, Rgb colour, double alpha);
  void fillRect(int x, int y, int w, int h, Rgb colour);
  /// One-pixel outline of the rectangle whose inside is (x, y, w, h).
  void frameRect(int x, int y, int w, int h, Rgb colour);
  void hline(int x0, int x1, int y, Rgb colour);
  void vline(int x, int y0, int y1, Rgb colour);
  /// Vertical dashed rule, `on` pixels drawn then `off` skipped.
  void dashedVline(int x, int y0, int y1, Rgb colour, int on, int off);
  /// Filled disc with a soft edge.
  void disc(double cx, double cy, double radius, Rgb colour);

  /// Text whose capital letters occupy rows y .. y + 7*scale - 1; x is the left, centre or right
  /// end depending on `align`. Returns the width drawn.
  int text(int x, int y, std::string_view text, int scale, Rgb colour, Align align = Align::Left);
  /// A title: the text in ink, emboldened by a second pass one pixel to the right.
  void heading(int x, int y, std::string_view text, int scale, Align align = Align::Left);
  /// Text turned 90 degrees anticlockwise (reads bottom to top), centred on row `cy`, with the
  /// tops of its capitals at column x.
  void textUp(int x, int cy, std::string_view text, int scale, Rgb colour);

 private:
  int width_;
  int height_;
  Image<Rgb> image_;
};

/// A tick label: three significant digits, short exponents ("1.5e-4"), a true minus sign.
std::string formatNumber(double value);

/// Antialiased polyline coverage: segments are accumulated as a per-pixel maximum, so joints and
/// overlapping segments of one curve never darken, then painted in one colour.
class StrokeLayer {
 public:
  StrokeLayer(int width, int height);
  /// A segment of the given full width with round caps.
  void segment(double x0, double y0, double x1, double y1, double lineWidth);
  void dot(double cx, double cy, double radius);
  void paint(Canvas& canvas, Rgb colour) const;

 private:
  void cover(int x, int y, double c);
  int width_;
  int height_;
  Image<float> coverage_;
};

}  // namespace ptyx::render
