// What a user would notice in the figures: files that do not round-trip, colour maps that lie,
// images missing their colour bar, error plots whose curves go the wrong way.
#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "render/Render.hpp"

namespace ptyx {
namespace {

namespace fs = std::filesystem;
constexpr double kPi = std::numbers::pi;
// The error plot's curve and marker colours (ErrorPlot.cpp).
constexpr Rgb kFourierColour{33, 102, 172};
constexpr Rgb kOverlapColour{228, 108, 10};
constexpr Rgb kObjectColour{24, 150, 90};
constexpr Rgb kMarkerColour{150, 150, 150};

double linearise(std::uint8_t v) {
  const double c = v / 255.0;
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

double luminance(Rgb c) {
  return 0.2126 * linearise(c.r) + 0.7152 * linearise(c.g) + 0.0722 * linearise(c.b);
}

int colourDistance(Rgb a, Rgb b) {
  return std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b);
}

/// Amplitude ramp along columns (rows x cols), constant down each column.
Image<cfloat> rampImage(std::size_t rows, std::size_t cols) {
  Image<cfloat> image(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) image(r, c) = {static_cast<float>(c) + 1.0F, 0.0F};
  }
  return image;
}

std::vector<IterationMetrics> decreasingHistory(int n) {
  std::vector<IterationMetrics> history;
  for (int i = 1; i <= n; ++i) {
    IterationMetrics m;
    m.iteration = i;
    m.fourierError = 0.5 * std::pow(0.95, i);
    m.overlapError = 0.1 * std::pow(0.97, i);
    history.push_back(m);
  }
  return history;
}

/// The lowest row in column x whose pixel is `colour` (within a small tolerance), or -1.
int lowestRowOf(const Image<Rgb>& image, std::size_t x, Rgb colour) {
  for (std::size_t y = image.rows(); y-- > 0;) {
    if (colourDistance(image(y, x), colour) <= 6) return static_cast<int>(y);
  }
  return -1;
}

TEST(Png, RoundTripIsPixelExact) {
  Image<Rgb> image(37, 53);
  for (std::size_t r = 0; r < image.rows(); ++r) {
    for (std::size_t c = 0; c < image.cols(); ++c) {
      image(r, c) = {static_cast<std::uint8_t>(r * 7), static_cast<std::uint8_t>(c * 5),
                     static_cast<std::uint8_t>((r * c) % 256)};
    }
  }
  writePng(image, "roundtrip.png");
  EXPECT_EQ(readPng("roundtrip.png"), image);
}

/// Writes a PNG of another layout than writePng's with libpng directly.
void writeRawPng(const std::string& path, std::uint32_t format, std::uint32_t width,
                 std::uint32_t height, const std::vector<std::uint8_t>& samples) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = width;
  png.height = height;
  png.format = format;
  ASSERT_NE(png_image_write_to_file(&png, path.c_str(), 0, samples.data(), 0, nullptr), 0)
      << png.message;
}

TEST(Png, ReadsGrayAndRgbaFiles) {
  writeRawPng("gray.png", PNG_FORMAT_GRAY, 3, 1, {0, 128, 255});
  const Image<Rgb> gray = readPng("gray.png");
  ASSERT_EQ(gray.rows(), 1U);
  ASSERT_EQ(gray.cols(), 3U);
  EXPECT_EQ(gray(0, 1), (Rgb{128, 128, 128}));
  EXPECT_EQ(gray(0, 2), (Rgb{255, 255, 255}));

  // Opaque pixels keep their colour; transparent ones show the white a viewer would show.
  writeRawPng("rgba.png", PNG_FORMAT_RGBA, 2, 1, {10, 20, 30, 255, 10, 20, 30, 0});
  const Image<Rgb> rgba = readPng("rgba.png");
  EXPECT_EQ(rgba(0, 0), (Rgb{10, 20, 30}));
  EXPECT_EQ(rgba(0, 1), (Rgb{255, 255, 255}));
}

TEST(Png, WriteIntoMissingDirectoryThrowsNamingPathAndLeavesNoFile) {
  const std::string path = "no_such_dir/figure.png";
  try {
    writePng(Image<Rgb>(4, 4, Rgb{1, 2, 3}), path);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists("no_such_dir"));
  EXPECT_FALSE(fs::exists(path));
}

TEST(Png, FailedWriteLeavesNoTemporaryBeside) {
  fs::create_directories("empty_out");
  EXPECT_THROW(writePng(Image<Rgb>(), "empty_out/figure.png"), Error);
  EXPECT_TRUE(fs::is_empty("empty_out"));
}

TEST(Png, ReadingGarbageOrMissingFileIsInputErrorNamingFile) {
  { std::ofstream("garbage.png") << "this is not a PNG"; }
  for (const std::string path : {"garbage.png", "missing.png"}) {
    try {
      readPng(path);
      FAIL() << "expected an InputError for " << path;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(Colormap, CyclicWrapsAndKeepsLightnessEven) {
  const Rgb first = colour(Colormap::Cyclic, 0.0);
  const Rgb last = colour(Colormap::Cyclic, 1.0);
  EXPECT_LE(colourDistance(first, last), 3);
  EXPECT_LE(colourDistance(colour(Colormap::Cyclic, 0.999), first), 12);
  double lo = 1.0;
  double hi = 0.0;
  for (int i = 0; i < 256; ++i) {
    const Rgb c = colour(Colormap::Cyclic, i / 256.0);
    lo = std::min(lo, luminance(c));
    hi = std::max(hi, luminance(c));
  }
  // Hue carries the phase; lightness must not jump (no false edges).
  EXPECT_LT(hi - lo, 0.12) << lo << " .. " << hi;
  // Opposite phases are clearly distinguishable.
  EXPECT_GT(colourDistance(colour(Colormap::Cyclic, 0.0), colour(Colormap::Cyclic, 0.5)), 150);
}

TEST(Colormap, SequentialRunsDarkToBrightMonotonically) {
  double previous = -1.0;
  for (int i = 0; i <= 64; ++i) {
    const double y = luminance(colour(Colormap::Sequential, i / 64.0));
    EXPECT_GT(y, previous) << "at t = " << i / 64.0;
    previous = y;
  }
  EXPECT_LT(luminance(colour(Colormap::Sequential, 0.0)), 0.03);
  EXPECT_GT(luminance(colour(Colormap::Sequential, 1.0)), 0.75);
}

TEST(Colormap, OutOfRangeIsClampedAndGrayIsGray) {
  EXPECT_EQ(colour(Colormap::Sequential, -3.0), colour(Colormap::Sequential, 0.0));
  EXPECT_EQ(colour(Colormap::Sequential, 7.0), colour(Colormap::Sequential, 1.0));
  EXPECT_EQ(colour(Colormap::Gray, 0.0), (Rgb{0, 0, 0}));
  EXPECT_EQ(colour(Colormap::Gray, 1.0), (Rgb{255, 255, 255}));
  EXPECT_EQ(colour(Colormap::Sequential, std::nan("")), colour(Colormap::Sequential, 0.0));
}

TEST(RenderComplex, RampEndsHaveMapEndColoursAndColourBarIsPresent) {
  ImageRenderOptions options;
  options.title = "Ramp";
  const Image<Rgb> out = renderComplex(rampImage(32, 64), options);
  ASSERT_GE(std::min(out.rows(), out.cols()), 256U);

  const Rgb low = colour(Colormap::Sequential, 0.0);
  const Rgb high = colour(Colormap::Sequential, 1.0);
  // Along a row through the middle: the low colour comes first, the high colour later.
  const std::size_t midRow = out.rows() / 2;
  int firstLow = -1;
  int firstHigh = -1;
  for (std::size_t x = 0; x < out.cols(); ++x) {
    if (firstLow < 0 && out(midRow, x) == low) firstLow = static_cast<int>(x);
    if (firstHigh < 0 && out(midRow, x) == high) firstHigh = static_cast<int>(x);
  }
  ASSERT_GE(firstLow, 0);
  ASSERT_GE(firstHigh, 0);
  EXPECT_LT(firstLow, firstHigh);
  // The image region is magnified: the lowest column covers several device pixels (256/32 = 8).
  for (int k = 0; k < 8; ++k) EXPECT_EQ(out(midRow, static_cast<std::size_t>(firstLow + k)), low);

  // Right of the image, a column runs from the high colour at its top to the low one at its
  // bottom through intermediate colours: the colour bar.
  bool foundBar = false;
  for (std::size_t x = static_cast<std::size_t>(firstHigh) + 1; x < out.cols() && !foundBar; ++x) {
    int top = -1;
    int bottom = -1;
    int distinct = 0;
    Rgb last{};
    for (std::size_t y = 0; y < out.rows(); ++y) {
      if (out(y, x) == high && top < 0) top = static_cast<int>(y);
      if (out(y, x) == low) bottom = static_cast<int>(y);
      if (top >= 0 && bottom < 0 && !(out(y, x) == last)) ++distinct;
      last = out(y, x);
    }
    foundBar = top >= 0 && bottom > top + 100 && distinct > 50;
  }
  EXPECT_TRUE(foundBar);
}

TEST(RenderComplex, ScaleOptionOverridesAutomaticMagnification) {
  ImageRenderOptions options;
  options.scale = 1;
  const Image<Rgb> small = renderComplex(rampImage(32, 64), options);
  options.scale = 0;
  const Image<Rgb> automatic = renderComplex(rampImage(32, 64), options);
  EXPECT_LT(small.rows(), automatic.rows());
  EXPECT_LT(small.cols(), automatic.cols());
}

TEST(RenderComplex, PhaseNearMinusPiAndPlusPiLooksTheSame) {
  // Left half just above -pi, right half just below +pi, a middle column at phase 0.
  Image<cfloat> field(16, 33);
  for (std::size_t r = 0; r < field.rows(); ++r) {
    for (std::size_t c = 0; c < field.cols(); ++c) {
      const double phase = c < 16 ? -kPi + 1e-4 : (c == 16 ? 0.0 : kPi - 1e-4);
      field(r, c) = {static_cast<float>(std::cos(phase)), static_cast<float>(std::sin(phase))};
    }
  }
  ImageRenderOptions options;
  options.part = ComplexPart::Phase;
  options.colormap = Colormap::Cyclic;
  options.scale = 8;
  const Image<Rgb> out = renderComplex(field, options);
  const std::size_t row = out.rows() / 2;
  const Rgb wrap = colour(Colormap::Cyclic, 0.0);
  const Rgb zero = colour(Colormap::Cyclic, 0.5);
  std::vector<std::size_t> wrapCols;
  std::vector<std::size_t> zeroCols;
  for (std::size_t x = 0; x < out.cols(); ++x) {
    if (colourDistance(out(row, x), wrap) <= 3) wrapCols.push_back(x);
    if (out(row, x) == zero) zeroCols.push_back(x);
  }
  // All 32 outer columns (8 px each) look the same; phase 0 sits between them as one column.
  ASSERT_GE(wrapCols.size(), 32U * 8U);
  ASSERT_EQ(zeroCols.size(), 8U);
  EXPECT_LT(wrapCols.front(), zeroCols.front());
  EXPECT_GT(wrapCols[32 * 8 - 1], zeroCols.back());
}

TEST(RenderComplex, HotPixelsDoNotWashOutTheImage) {
  Image<cfloat> image = rampImage(64, 64);
  image(3, 3) = {1e6F, 0.0F};  // one hot pixel
  ImageRenderOptions options;
  options.scale = 4;
  const Image<Rgb> out = renderComplex(image, options);
  // The brightest ordinary column still reaches the top of the map.
  int high = 0;
  for (const Rgb& p : out.span()) high += p == colour(Colormap::Sequential, 1.0) ? 1 : 0;
  EXPECT_GT(high, 64 * 4 * 4);
}

TEST(RenderComplex, EmptyAndNonFiniteImagesStillRender) {
  EXPECT_FALSE(renderComplex(Image<cfloat>(), {}).empty());
  Image<cfloat> image(8, 8, cfloat{std::nanf(""), 0.0F});
  EXPECT_FALSE(renderComplex(image, {}).empty());
}

TEST(RenderErrorCurves, DecreasingHistoryIsHigherOnTheLeft) {
  const Image<Rgb> out = renderErrorCurves(decreasingHistory(100), "Errors");
  ASSERT_GE(out.cols(), 500U);
  ASSERT_GE(out.rows(), 300U);
  // The legend sits above the plot, so the lowest pixel of a curve's colour in a column is on
  // the curve itself.
  for (const Rgb curve : {kFourierColour, kOverlapColour}) {
    const std::size_t left = out.cols() * 25 / 100;
    const std::size_t right = out.cols() * 85 / 100;
    const int leftRow = lowestRowOf(out, left, curve);
    const int rightRow = lowestRowOf(out, right, curve);
    ASSERT_GE(leftRow, 0);
    ASSERT_GE(rightRow, 0);
    EXPECT_LT(leftRow, rightRow) << "decreasing error must fall from left to right";
  }
}

TEST(RenderErrorCurves, ParameterChangeDrawsAMarker) {
  const auto tallestMarkerRun = [&](const Image<Rgb>& image) {
    std::size_t best = 0;
    for (std::size_t x = 0; x < image.cols(); ++x) {
      std::size_t count = 0;
      for (std::size_t y = 0; y < image.rows(); ++y) count += image(y, x) == kMarkerColour ? 1 : 0;
      best = std::max(best, count);
    }
    return best;
  };
  std::vector<IterationMetrics> history = decreasingHistory(60);
  EXPECT_LT(tallestMarkerRun(renderErrorCurves(history, "")), 20U);
  history[30].parametersChanged = true;
  EXPECT_GT(tallestMarkerRun(renderErrorCurves(history, "")), 100U);
}

TEST(RenderErrorCurves, ObjectErrorAppearsOnlyWhenKnown) {
  const auto count = [&](const Image<Rgb>& image) {
    int n = 0;
    for (const Rgb& p : image.span()) n += p == kObjectColour ? 1 : 0;
    return n;
  };
  std::vector<IterationMetrics> history = decreasingHistory(50);
  EXPECT_EQ(count(renderErrorCurves(history, "")), 0);
  for (IterationMetrics& m : history) m.objectError = 0.2 * std::pow(0.9, m.iteration);
  EXPECT_GT(count(renderErrorCurves(history, "")), 100);
}

TEST(RenderErrorCurves, DegenerateHistoriesRender) {
  EXPECT_GE(renderErrorCurves({}, "empty").cols(), 600U);
  std::vector<IterationMetrics> one(1);
  one[0].iteration = 1;
  one[0].fourierError = 0.1;
  one[0].overlapError = 0.01;
  EXPECT_FALSE(renderErrorCurves(one, "one").empty());
  std::vector<IterationMetrics> odd = decreasingHistory(20);
  odd[3].fourierError = 0.0;
  odd[4].fourierError = std::nan("");
  odd[5].overlapError = -1.0;
  odd[6].fourierError = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(renderErrorCurves(odd, "odd").empty());
  std::vector<IterationMetrics> zeros(5);
  for (int i = 0; i < 5; ++i) zeros[static_cast<std::size_t>(i)].iteration = i + 1;
  EXPECT_FALSE(renderErrorCurves(zeros, "zeros").empty());
}

TEST(RenderResultPngs, WritesFiveReadableFiguresIntoNewDirectory) {
  Reconstruction result;
  result.object = rampImage(40, 48);
  result.probe = rampImage(16, 16);
  result.objectPixelSize_m = 12e-9;
  result.history = decreasingHistory(25);
  fs::remove_all("figures");  // the scratch directory outlives a run
  renderResultPngs(result, "figures/run1");
  for (const char* name : {"object_amplitude.png", "object_phase.png", "probe_amplitude.png",
                           "probe_phase.png", "errors.png"}) {
    const std::string path = std::string("figures/run1/") + name;
    ASSERT_TRUE(fs::exists(path)) << path;
    const Image<Rgb> image = readPng(path);
    EXPECT_GE(image.rows(), 256U) << path;
  }
  // Only the five figures: no temporary files left beside them.
  EXPECT_EQ(std::distance(fs::directory_iterator("figures/run1"), fs::directory_iterator{}), 5);
}

}  // namespace
}  // namespace ptyx
