// Oracles for the data-driven probe start and the probe scale: the far field of the probe from
// the mean diffraction is the measured mean magnitude, and normaliseProbe obeys Parseval.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "init/Initialisation.hpp"
#include "math/Fft.hpp"

namespace ptyx {
namespace {

/// A scan of `frames` smooth, asymmetric, frame-dependent patterns (no physics needed here).
Scan patternScan(std::size_t m, std::size_t frames) {
  Scan scan;
  scan.magnitudes = Stack<float>(frames, m, m);
  for (std::size_t j = 0; j < frames; ++j) {
    auto frame = scan.magnitudes.frame(j);
    for (std::size_t r = 0; r < m; ++r) {
      for (std::size_t c = 0; c < m; ++c) {
        const double y = static_cast<double>(r) - static_cast<double>(m / 2) - 1.5;
        const double x =
            static_cast<double>(c) - static_cast<double>(m / 2) + 0.5 * static_cast<double>(j);
        frame[r * m + c] =
            static_cast<float>(100.0 * std::exp(-(x * x + 2.0 * y * y) / 40.0) + 1.0 +
                               0.5 * static_cast<double>((r * 7 + c * 3 + j) % 5));
      }
    }
  }
  return scan;
}

double probeEnergy(const Image<cfloat>& p) {
  double e = 0.0;
  for (const cfloat v : p.span()) e += norm2(v);
  return e;
}

TEST(ProbeFromMeanDiffraction, FarFieldIsTheRootMeanIntensity) {
  const std::size_t m = 32;
  const Scan scan = patternScan(m, 5);
  const Image<cfloat> probe = probeFromMeanDiffraction(scan);
  ASSERT_EQ(probe.rows(), m);
  ASSERT_EQ(probe.cols(), m);

  Image<cfloat> farField = ifftshift(probe);
  Fft2(m, m).forward(farField);
  farField = fftshift(farField);
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) {
      double mean = 0.0;
      for (std::size_t j = 0; j < scan.frameCount(); ++j) {
        const float a = scan.magnitudes.frame(j)[r * m + c];
        mean += static_cast<double>(a) * a;
      }
      const double expected = std::sqrt(mean / static_cast<double>(scan.frameCount()));
      ASSERT_NEAR(std::sqrt(static_cast<double>(norm2(farField(r, c)))), expected, 1e-4 * 101.0)
          << r << ", " << c;
    }
  }
  // A flat far-field phase puts the probe's brightest point at the centre.
  std::size_t peakAt = 0;
  for (std::size_t i = 1; i < probe.size(); ++i) {
    if (norm2(probe.span()[i]) > norm2(probe.span()[peakAt])) peakAt = i;
  }
  EXPECT_EQ(peakAt, (m / 2) * m + m / 2);
}

TEST(ProbeFromMeanDiffraction, BadPixelsAreFilledFromTheirNeighbours) {
  const std::size_t m = 32;
  Scan scan = patternScan(m, 3);
  scan.mask = Image<std::uint8_t>(m, m, 0);
  scan.mask(16, 16) = 1;  // a dead pixel in the bright field
  for (std::size_t j = 0; j < 3; ++j) scan.magnitudes.frame(j)[16 * m + 16] = 0.0F;
  Image<cfloat> farField = ifftshift(probeFromMeanDiffraction(scan));
  Fft2(m, m).forward(farField);
  farField = fftshift(farField);
  const double centre = std::sqrt(static_cast<double>(norm2(farField(16, 16))));
  const double beside = std::sqrt(static_cast<double>(norm2(farField(16, 17))));
  EXPECT_GT(centre, 0.5 * beside) << "the dead pixel must not leave a hole";
}

TEST(NormaliseProbe, ParsevalMatchesTheMeanFrameEnergy) {
  const std::size_t m = 32;
  const Scan scan = patternScan(m, 4);
  double mean = 0.0;
  for (const float a : scan.magnitudes.span()) mean += static_cast<double>(a) * a;
  mean /= 4.0;
  Image<cfloat> probe = gaussianProbe(m, 4.0);
  normaliseProbe(probe, scan);
  // sum_q |F P|^2 = M^2 sum_r |P|^2 = the mean frame's energy.
  EXPECT_NEAR(probeEnergy(probe), mean / static_cast<double>(m * m), 1e-5 * mean / (m * m));

  // The shape is kept: only a scale changes.
  const Image<cfloat> shape = gaussianProbe(m, 4.0);
  const double ratio = probe(16, 16).re / shape(16, 16).re;
  EXPECT_NEAR(probe(16, 20).re, ratio * shape(16, 20).re, 1e-5 * ratio);
}

TEST(NormaliseProbe, MaskedPixelsDoNotLowerTheEnergy) {
  const std::size_t m = 32;
  const Scan full = patternScan(m, 2);
  Scan masked = full;
  masked.mask = Image<std::uint8_t>(m, m, 0);
  for (std::size_t c = 0; c < m; ++c) masked.mask(0, c) = 1;  // a dead row at the edge
  for (std::size_t j = 0; j < 2; ++j) {
    for (std::size_t c = 0; c < m; ++c) masked.magnitudes.frame(j)[c] = 0.0F;
  }
  Image<cfloat> a = gaussianProbe(m, 4.0);
  Image<cfloat> b = gaussianProbe(m, 4.0);
  normaliseProbe(a, full);
  normaliseProbe(b, masked);
  // The edge row is dim, so the extrapolated energy is within a couple of per cent.
  EXPECT_NEAR(probeEnergy(b), probeEnergy(a), 0.03 * probeEnergy(a));
}

TEST(NormaliseProbe, RejectsAnEmptyOrDarkScan) {
  Image<cfloat> probe = gaussianProbe(16, 3.0);
  EXPECT_THROW(normaliseProbe(probe, Scan{}), InputError);
  Scan dark;
  dark.magnitudes = Stack<float>(2, 16, 16, 0.0F);
  EXPECT_THROW(normaliseProbe(probe, dark), InputError);
}

}  // namespace
}  // namespace ptyx
