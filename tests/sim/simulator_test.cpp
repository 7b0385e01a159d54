// The simulator as a user sees it: frames that are the far field of probe x object, noise at the
// requested dose, positions at the requested overlap, reproducible from the seed.
#include "sim/Simulator.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "render/Render.hpp"
#include "support/Overlap.hpp"

namespace ptyx {
namespace {

using Cd = std::complex<double>;

SimulationOptions small() {
  SimulationOptions o;
  o.frames = 20;
  o.frameSize = 32;
  o.photons = 0.0;
  return o;
}

/// The intensity of frame j recomputed from the ground truth with a direct DFT in double,
/// fftshift-ed: I(u, v) at ((u + M/2) mod M, (v + M/2) mod M).
std::vector<double> expectedFrame(const Scan& scan, std::size_t j) {
  const GroundTruth& truth = *scan.truth;
  const std::size_t m = truth.probe.rows();
  const auto r0 =
      static_cast<std::size_t>(truth.translationOrigin.row + scan.positions[j].row) - m / 2;
  const auto c0 =
      static_cast<std::size_t>(truth.translationOrigin.col + scan.positions[j].col) - m / 2;
  std::vector<Cd> wave(m * m);
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) {
      const cfloat p = truth.probe(r, c);
      const cfloat o = truth.object(r0 + r, c0 + c);
      wave[r * m + c] = Cd(p.re, p.im) * Cd(o.re, o.im);
    }
  }
  // Separable DFT, exp(-2 pi i k n / M) like numpy.fft.fft2.
  std::vector<Cd> twiddle(m);
  for (std::size_t k = 0; k < m; ++k) {
    twiddle[k] =
        std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(m));
  }
  std::vector<Cd> rowsDone(m * m);
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t v = 0; v < m; ++v) {
      Cd sum = 0.0;
      for (std::size_t c = 0; c < m; ++c) sum += wave[r * m + c] * twiddle[(v * c) % m];
      rowsDone[r * m + v] = sum;
    }
  }
  std::vector<double> intensity(m * m);
  for (std::size_t u = 0; u < m; ++u) {
    for (std::size_t v = 0; v < m; ++v) {
      Cd sum = 0.0;
      for (std::size_t r = 0; r < m; ++r) sum += rowsDone[r * m + v] * twiddle[(u * r) % m];
      intensity[((u + m / 2) % m) * m + (v + m / 2) % m] = std::norm(sum);
    }
  }
  return intensity;
}

double bruteMeanNearestNeighbour(const std::vector<Position>& p) {
  double total = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < p.size(); ++j) {
      if (i != j) best = std::min(best, std::hypot(p[i].row - p[j].row, p[i].col - p[j].col));
    }
    total += best;
  }
  return total / static_cast<double>(p.size());
}

void expectWindowsInside(const Scan& scan) {
  const GroundTruth& truth = *scan.truth;
  const auto m = static_cast<double>(scan.frameSize());
  for (const Position& p : scan.positions) {
    EXPECT_EQ(p.row, std::round(p.row));
    EXPECT_EQ(p.col, std::round(p.col));
    const double top = truth.translationOrigin.row + p.row - m / 2;
    const double left = truth.translationOrigin.col + p.col - m / 2;
    EXPECT_GE(top, 1.0);
    EXPECT_GE(left, 1.0);
    EXPECT_LE(top + m, static_cast<double>(truth.object.rows()) - 1.0);
    EXPECT_LE(left + m, static_cast<double>(truth.object.cols()) - 1.0);
  }
}

TEST(Simulator, NoiseFreeFramesAreTheFarFieldOfProbeTimesObject) {
  for (const ProbeShape shape :
       {ProbeShape::ZonePlate, ProbeShape::Aperture, ProbeShape::Gaussian}) {
    for (const std::string& object : builtinObjects()) {
      SimulationOptions o = small();
      o.frames = 6;
      o.probe = shape;
      o.object = object;
      const Scan scan = simulate(o);
      ASSERT_EQ(scan.frameCount(), o.frames);
      ASSERT_EQ(scan.frameSize(), o.frameSize);
      for (std::size_t j = 0; j < scan.frameCount(); ++j) {
        const std::vector<double> expected = expectedFrame(scan, j);
        const double peak = *std::max_element(expected.begin(), expected.end());
        const auto frame = scan.magnitudes.frame(j);
        for (std::size_t i = 0; i < expected.size(); ++i) {
          const double measured = static_cast<double>(frame[i]) * frame[i];
          ASSERT_NEAR(measured, expected[i], 1e-5 * peak)
              << "object " << object << ", frame " << j << ", pixel " << i;
        }
      }
    }
  }
}

TEST(Simulator, ScanCarriesGeometryAndGroundTruth) {
  SimulationOptions o = small();
  o.energy_eV = 8000.0;
  o.distance_m = 5.0;
  o.detectorPixel_m = 75e-6;
  const Scan scan = simulate(o);
  EXPECT_EQ(scan.sourcePath, "simulated");
  EXPECT_FALSE(scan.probe.has_value());
  ASSERT_TRUE(scan.truth.has_value());
  EXPECT_NEAR(scan.geometry.wavelength_m, 1.5498e-10, 1e-14);  // 12.398 keV A / 8 keV
  EXPECT_DOUBLE_EQ(scan.geometry.distance_m, 5.0);
  EXPECT_DOUBLE_EQ(scan.geometry.pixelSizeX_m, 75e-6);
  EXPECT_DOUBLE_EQ(scan.geometry.pixelSizeY_m, 75e-6);
  EXPECT_NEAR(scan.truth->objectPixelSize_m, scan.geometry.wavelength_m * 5.0 / (32 * 75e-6),
              1e-18);
  EXPECT_EQ(scan.truth->probe.rows(), 32U);
  EXPECT_EQ(scan.truth->probe.cols(), 32U);
  EXPECT_EQ(scan.positions.size(), o.frames);
  EXPECT_TRUE(scan.mask.empty());
}

TEST(Simulator, DiffractionIsCentredOnTheDetector) {
  const Scan scan = simulate(small());
  double total = 0.0;
  double row = 0.0;
  double col = 0.0;
  for (std::size_t j = 0; j < scan.frameCount(); ++j) {
    const auto frame = scan.magnitudes.frame(j);
    for (std::size_t i = 0; i < frame.size(); ++i) {
      const double w = static_cast<double>(frame[i]) * frame[i];
      total += w;
      row += w * static_cast<double>(i / 32);
      col += w * static_cast<double>(i % 32);
    }
  }
  EXPECT_NEAR(row / total, 16.0, 0.5);
  EXPECT_NEAR(col / total, 16.0, 0.5);
}

TEST(Simulator, SameSeedGivesIdenticalScanOtherSeedOtherNoise) {
  SimulationOptions o = small();
  o.photons = 1e4;
  o.badPixels = 5;
  o.pattern = ScanPattern::JitteredRaster;
  const Scan a = simulate(o);
  const Scan b = simulate(o);
  EXPECT_EQ(a.magnitudes, b.magnitudes);
  EXPECT_EQ(a.positions, b.positions);
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(a.truth->object, b.truth->object);
  EXPECT_EQ(a.truth->probe, b.truth->probe);

  o.seed += 1;
  const Scan c = simulate(o);
  EXPECT_NE(a.magnitudes, c.magnitudes);
  EXPECT_NE(a.positions, c.positions);  // the jitter is seeded too
  EXPECT_NE(a.mask, c.mask);
}

TEST(Simulator, NoiseDoesNotDependOnTheThreadCount) {
  SimulationOptions o = small();
  o.photons = 1e4;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Scan serial = simulate(o);
  omp_set_num_threads(3);
  const Scan parallel = simulate(o);
  omp_set_num_threads(threads);
  EXPECT_EQ(serial.magnitudes, parallel.magnitudes);
}

TEST(Simulator, PoissonFramesHoldTheRequestedMeanCount) {
  SimulationOptions o = small();
  o.frames = 40;
  o.photons = 1e5;
  const Scan scan = simulate(o);
  double counts = 0.0;
  for (std::size_t j = 0; j < scan.frameCount(); ++j) {
    for (const float a : scan.magnitudes.frame(j)) {
      const double c = static_cast<double>(a) * a;
      ASSERT_NEAR(c, std::round(c), 1e-6 * c + 1e-3) << "counts are whole photons";
      counts += std::round(c);
    }
  }
  // Poisson: the mean over 40 frames has a relative spread of about 1/sqrt(4e6).
  EXPECT_NEAR(counts / static_cast<double>(o.frames), o.photons, 0.01 * o.photons);

  // The ground truth explains the data: its expected counts are the dose exactly.
  double expected = 0.0;
  for (std::size_t j = 0; j < scan.frameCount(); ++j) {
    for (const double v : expectedFrame(scan, j)) expected += v;
  }
  EXPECT_NEAR(expected / static_cast<double>(o.frames), o.photons, 1e-4 * o.photons);
}

TEST(Simulator, NoiseFreeDataKeepTheExactIntensity) {
  SimulationOptions o = small();
  o.photons = 0.0;
  const Scan scan = simulate(o);
  bool fractional = false;
  for (const float a : scan.magnitudes.frame(0)) {
    const double c = static_cast<double>(a) * a;
    fractional = fractional || std::abs(c - std::round(c)) > 0.01;
  }
  EXPECT_TRUE(fractional) << "noise-free frames should not be rounded to counts";
}

TEST(Simulator, ProbeDiameterHoldsNinetyPercentOfTheIntensity) {
  const Scan scan = simulate(small());
  const Image<cfloat>& probe = scan.truth->probe;
  const double diameter = probeDiameterPixels(probe);
  double total = 0.0;
  double inside = 0.0;
  double cr = 0.0;
  double cc = 0.0;
  for (std::size_t r = 0; r < probe.rows(); ++r) {
    for (std::size_t c = 0; c < probe.cols(); ++c) {
      const double w = norm2(probe(r, c));
      total += w;
      cr += w * static_cast<double>(r);
      cc += w * static_cast<double>(c);
    }
  }
  cr /= total;
  cc /= total;
  for (std::size_t r = 0; r < probe.rows(); ++r) {
    for (std::size_t c = 0; c < probe.cols(); ++c) {
      if (std::hypot(static_cast<double>(r) - cr, static_cast<double>(c) - cc) <= diameter / 2.0) {
        inside += norm2(probe(r, c));
      }
    }
  }
  EXPECT_NEAR(inside / total, 0.9, 0.03);
}

TEST(Simulator, FermatSpiralStepsByTheRequestedOverlap) {
  for (const double overlap : {0.5, 0.7, 0.85}) {
    SimulationOptions o = small();
    o.frameSize = 64;
    o.frames = 80;
    o.overlap = overlap;
    const Scan scan = simulate(o);
    const double diameter = probeDiameterPixels(scan.truth->probe);
    const double wanted = (1.0 - overlap) * diameter;
    EXPECT_NEAR(bruteMeanNearestNeighbour(scan.positions), wanted, 0.04 * wanted)
        << "overlap " << overlap << ", probe diameter " << diameter;
    expectWindowsInside(scan);
  }
}

TEST(Simulator, RasterIsARegularGridOfWholePixelSteps) {
  SimulationOptions o = small();
  o.pattern = ScanPattern::Raster;
  o.frames = 12;
  o.overlap = 0.6;
  const Scan scan = simulate(o);
  const double step =
      std::max(1.0, std::round((1.0 - o.overlap) * probeDiameterPixels(scan.truth->probe)));
  std::set<double> rows;
  std::set<double> cols;
  for (const Position& p : scan.positions) {
    rows.insert(p.row);
    cols.insert(p.col);
  }
  EXPECT_EQ(rows.size(), 3U);  // 12 frames: 4 columns x 3 rows
  EXPECT_EQ(cols.size(), 4U);
  for (auto it = std::next(rows.begin()); it != rows.end(); ++it)
    EXPECT_EQ(*it - *std::prev(it), step);
  for (auto it = std::next(cols.begin()); it != cols.end(); ++it)
    EXPECT_EQ(*it - *std::prev(it), step);
  EXPECT_DOUBLE_EQ(bruteMeanNearestNeighbour(scan.positions), step);
  expectWindowsInside(scan);
}

TEST(Simulator, JitteredRasterBreaksTheGridButKeepsTheStep) {
  SimulationOptions o = small();
  o.frameSize = 64;
  o.pattern = ScanPattern::JitteredRaster;
  o.frames = 49;
  o.jitter = 0.2;
  const Scan scan = simulate(o);
  std::set<double> rows;
  for (const Position& p : scan.positions) rows.insert(p.row);
  EXPECT_GT(rows.size(), 7U) << "jitter should move rows off the 7 grid lines";
  const double wanted = (1.0 - o.overlap) * probeDiameterPixels(scan.truth->probe);
  EXPECT_NEAR(bruteMeanNearestNeighbour(scan.positions), wanted, 0.05 * wanted);
  expectWindowsInside(scan);

  // Zero jitter is the plain raster up to the calibrated step.
  o.jitter = 0.0;
  const Scan plain = simulate(o);
  rows.clear();
  for (const Position& p : plain.positions) rows.insert(p.row);
  EXPECT_EQ(rows.size(), 7U);
}

TEST(Simulator, BadPixelsAreMaskedAndTheirDataZeroed) {
  SimulationOptions o = small();
  o.badPixels = 7;
  const Scan scan = simulate(o);
  ASSERT_EQ(scan.mask.rows(), 32U);
  ASSERT_EQ(scan.mask.cols(), 32U);
  const auto bad = static_cast<std::size_t>(std::count_if(
      scan.mask.span().begin(), scan.mask.span().end(), [](std::uint8_t v) { return v != 0; }));
  EXPECT_EQ(bad, 7U);
  std::size_t zeroGood = 0;
  for (std::size_t j = 0; j < scan.frameCount(); ++j) {
    const auto frame = scan.magnitudes.frame(j);
    for (std::size_t i = 0; i < frame.size(); ++i) {
      if (scan.mask.span()[i] != 0) {
        EXPECT_EQ(frame[i], 0.0F);
      } else if (frame[i] == 0.0F) {
        ++zeroGood;
      }
    }
  }
  EXPECT_LT(zeroGood, scan.frameCount() * 4);  // good pixels keep their (noise-free) data
}

TEST(Simulator, BuiltinObjectsSpanTheRequestedAmplitudeAndPhase) {
  for (const std::string& name : builtinObjects()) {
    SimulationOptions o = small();
    o.object = name;
    o.minAmplitude = 0.4;
    o.maxPhase = 1.5;
    const Scan scan = simulate(o);
    double aLo = 1e9;
    double aHi = -1e9;
    double pLo = 1e9;
    double pHi = -1e9;
    for (const cfloat v : scan.truth->object.span()) {
      const double a = std::hypot(v.re, v.im);
      const double p = std::atan2(v.im, v.re);
      aLo = std::min(aLo, a);
      aHi = std::max(aHi, a);
      pLo = std::min(pLo, p);
      pHi = std::max(pHi, p);
    }
    EXPECT_NEAR(aLo, 0.4, 0.02) << name;
    EXPECT_NEAR(aHi, 1.0, 1e-5) << name;
    EXPECT_NEAR(pHi - pLo, 1.5, 0.02) << name;
  }
}

void writePgm(const std::string& path, std::size_t rows, std::size_t cols,
              const std::function<int(std::size_t, std::size_t)>& value, int maxval) {
  std::ofstream out(path, std::ios::binary);
  out << "P5\n# written by the test\n" << cols << " " << rows << "\n" << maxval << "\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const int v = value(r, c);
      if (maxval > 255) out.put(static_cast<char>(v >> 8));
      out.put(static_cast<char>(v & 0xFF));
    }
  }
}

TEST(Simulator, ImageFilesGiveAmplitudeAndPhaseTheRightWayUp) {
  // Amplitude: bright left half. Phase (16-bit): high in the bottom half.
  writePgm(
      "amplitude.pgm", 30, 40, [](std::size_t, std::size_t c) { return c < 20 ? 200 : 50; }, 255);
  writePgm(
      "phase.pgm", 30, 40, [](std::size_t r, std::size_t) { return r < 15 ? 1000 : 60000; }, 65535);
  SimulationOptions o = small();
  o.object = "amplitude.pgm";
  o.objectPhase = "phase.pgm";
  o.minAmplitude = 0.5;
  o.maxPhase = 1.0;
  const Scan scan = simulate(o);
  const Image<cfloat>& obj = scan.truth->object;
  const std::size_t rows = obj.rows();
  const std::size_t cols = obj.cols();
  const auto amplitude = [&](std::size_t r, std::size_t c) {
    return std::hypot(obj(r, c).re, obj(r, c).im);
  };
  const auto phase = [&](std::size_t r, std::size_t c) {
    return std::atan2(obj(r, c).im, obj(r, c).re);
  };
  EXPECT_NEAR(amplitude(rows / 4, cols / 8), 1.0, 1e-5);
  EXPECT_NEAR(amplitude(rows / 4, cols - cols / 8), 0.5, 1e-5);
  EXPECT_NEAR(phase(rows / 8, cols / 2), 0.0, 1e-5);
  EXPECT_NEAR(phase(rows - rows / 8, cols / 2), 1.0, 1e-5);
}

TEST(Simulator, PngImagesGiveTheirLuminanceAsAmplitude) {
  // Dark red on the left, white on the right: amplitude follows the brightness a person sees.
  Image<Rgb> picture(20, 20, Rgb{255, 255, 255});
  for (std::size_t r = 0; r < 20; ++r) {
    for (std::size_t c = 0; c < 10; ++c) picture(r, c) = Rgb{255, 0, 0};
  }
  writePng(picture, "object.png");
  SimulationOptions o = small();
  o.object = "object.png";
  o.minAmplitude = 0.3;
  const Scan scan = simulate(o);
  const Image<cfloat>& obj = scan.truth->object;
  const auto amplitude = [&](std::size_t r, std::size_t c) {
    return std::hypot(obj(r, c).re, obj(r, c).im);
  };
  EXPECT_NEAR(amplitude(obj.rows() / 2, obj.cols() / 8), 0.3, 1e-5);
  EXPECT_NEAR(amplitude(obj.rows() / 2, obj.cols() - obj.cols() / 8), 1.0, 1e-5);
}

TEST(Simulator, DefaultDemoProbeIsAStructuredThirdOfTheWindow) {
  SimulationOptions o;  // the demo: 256 frames of 64 x 64, zone plate, Fermat spiral
  o.frames = 32;        // the probe and the step do not depend on the frame count
  const Scan scan = simulate(o);
  const Image<cfloat>& probe = scan.truth->probe;
  const double diameter = probeDiameterPixels(probe);
  EXPECT_GE(diameter, 64.0 / 4.0);
  EXPECT_LE(diameter, 64.0 / 3.0 * 1.15);
  // Out of focus: curved phase across the bright region, not a flat Gaussian.
  double phaseLo = 1e9;
  double phaseHi = -1e9;
  float peak = 0.0F;
  for (const cfloat v : probe.span()) peak = std::max(peak, norm2(v));
  for (std::size_t r = 0; r < 64; ++r) {
    const cfloat v = probe(r, 32);
    if (norm2(v) > 0.2F * peak) {
      const double p = std::atan2(v.im, v.re);
      phaseLo = std::min(phaseLo, p);
      phaseHi = std::max(phaseHi, p);
    }
  }
  EXPECT_GT(phaseHi - phaseLo, 1.0);
  // Fresnel fringes: the intensity along the centre row is not monotonic from the middle out.
  int turns = 0;
  for (std::size_t c = 33; c + 1 < 64; ++c) {
    const float a = norm2(probe(32, c - 1));
    const float b = norm2(probe(32, c));
    const float d = norm2(probe(32, c + 1));
    if (b > a && b > d && b > 0.05F * peak) ++turns;
  }
  EXPECT_GE(turns, 1);
}

// --initial-probe nominal: the starting guess a beamline would have, stored where a CXI file keeps
// its illumination. It must be a real guess: close to the truth, but not the truth.
TEST(Simulator, NominalProbeIsTheOpticsWithTheDefocusOff) {
  SimulationOptions o;
  o.frames = 32;
  EXPECT_FALSE(simulate(o).probe.has_value()) << "none unless asked for";
  o.nominalProbe = true;
  const Scan scan = simulate(o);
  ASSERT_TRUE(scan.probe.has_value());
  const Image<cfloat>& guess = *scan.probe;
  const Image<cfloat>& truth = scan.truth->probe;
  ASSERT_EQ(guess.rows(), truth.rows());
  const double overlap = testing::normalisedOverlap(guess, truth);
  EXPECT_GT(overlap, 0.3) << "a guess of the same optics";
  EXPECT_LT(overlap, 0.99) << "not the truth";
  // Stored and read back with the scan.
  writeScan(scan, "nominal.cxi");
  const Scan back = readScan("nominal.cxi");
  ASSERT_TRUE(back.probe.has_value());
  EXPECT_EQ(*back.probe, guess);

  o.probe = ProbeShape::Gaussian;
  try {
    (void)simulate(o);
    ADD_FAILURE() << "a nominal guess of a Gaussian probe";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("initial_probe"), std::string::npos) << e.what();
  }
}

void expectRejected(const std::function<void(SimulationOptions&)>& change,
                    const std::string& field) {
  SimulationOptions o = small();
  change(o);
  try {
    (void)simulate(o);
    ADD_FAILURE() << "accepted a bad " << field;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(Simulator, RejectsBadOptionsNamingTheOption) {
  expectRejected([](SimulationOptions& o) { o.frames = 0; }, "frames");
  expectRejected([](SimulationOptions& o) { o.frames = 2'000'000; }, "frames");
  expectRejected([](SimulationOptions& o) { o.frameSize = 15; }, "frame_size");
  expectRejected([](SimulationOptions& o) { o.frameSize = 8; }, "frame_size");
  expectRejected([](SimulationOptions& o) { o.overlap = 0.95; }, "overlap");
  expectRejected([](SimulationOptions& o) { o.overlap = -0.1; }, "overlap");
  expectRejected([](SimulationOptions& o) { o.overlap = std::nan(""); }, "overlap");
  expectRejected([](SimulationOptions& o) { o.photons = -1.0; }, "photons");
  expectRejected([](SimulationOptions& o) { o.energy_eV = 0.0; }, "energy");
  expectRejected([](SimulationOptions& o) { o.distance_m = -5.0; }, "distance");
  expectRejected([](SimulationOptions& o) { o.detectorPixel_m = 0.0; }, "detector_pixel");
  expectRejected([](SimulationOptions& o) { o.minAmplitude = 1.5; }, "min_amplitude");
  expectRejected([](SimulationOptions& o) { o.jitter = 1.0; }, "jitter");
  expectRejected([](SimulationOptions& o) { o.badPixels = 32 * 32; }, "bad_pixels");
  expectRejected(
      [](SimulationOptions& o) {
        o.probeDiameter_m = 1e-3;
        o.focalDistance_m = 1e-3;
      },
      "probe_diameter");
  expectRejected([](SimulationOptions& o) { o.defocus_m = 1.0; }, "defocus");
  // An unknown name lists the built-in ones; a missing file is named.
  expectRejected([](SimulationOptions& o) { o.object = "siemen"; }, "siemens, cells");
  expectRejected([](SimulationOptions& o) { o.object = "no_such_image.png"; }, "no_such_image.png");
  expectRejected([](SimulationOptions& o) { o.objectPhase = "missing_phase.pgm"; },
                 "missing_phase.pgm");
  std::ofstream("not_an_image.pgm") << "hello";
  expectRejected([](SimulationOptions& o) { o.object = "not_an_image.pgm"; }, "not_an_image.pgm");
}

}  // namespace
}  // namespace ptyx
