// The simulator: object, probe and trajectory, then the far-field intensities of every exit
// wave, with Poisson noise and bad pixels on request (DESIGN.md §1 forward model).
#include "sim/Simulator.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <system_error>

#include "core/Error.hpp"
#include "init/Initialisation.hpp"
#include "init/ProbeModels.hpp"
#include "math/Fft.hpp"
#include "sim/ObjectMaps.hpp"
#include "sim/Random.hpp"
#include "sim/ScanPatterns.hpp"

namespace ptyx {

namespace {

constexpr const char* kWhere = "simulation";
constexpr std::size_t kObjectMargin = 4;  // object pixels beyond the outermost window
constexpr double kMaxSamples = 4.0e9;     // frames x M^2: 16 GB of magnitudes
constexpr double kMaxProbeFill = 0.8;     // probe diameter / window beyond which it wraps
constexpr double kDefaultZonePlate_m = 100e-6;

[[noreturn]] void reject(const std::string& field, const std::string& what) {
  throw InputError(kWhere, field, what);
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

void validate(const SimulationOptions& o) {
  // Written as !(in range) so that NaN is rejected too.
  if (o.frames < 1 || o.frames > 1'000'000) reject("frames", "must be 1 .. 1000000");
  if (o.frameSize < 16 || o.frameSize % 2 != 0 || o.frameSize > 4096) {
    reject("frame_size", "must be even and 16 .. 4096 (got " + std::to_string(o.frameSize) + ")");
  }
  const double samples = static_cast<double>(o.frames) * static_cast<double>(o.frameSize) *
                         static_cast<double>(o.frameSize);
  if (samples > kMaxSamples) {
    reject("frames", std::to_string(o.frames) + " frames of " + std::to_string(o.frameSize) +
                         " x " + std::to_string(o.frameSize) + " are too many to hold in memory");
  }
  if (!(o.photons >= 0.0 && o.photons <= 1e15))
    reject("photons", "must be 0 .. 1e15 (0 = no noise)");
  if (!(o.overlap >= 0.0 && o.overlap < 0.95)) reject("overlap", "must be in [0, 0.95)");
  if (!(o.jitter >= 0.0 && o.jitter < 1.0)) reject("jitter", "must be in [0, 1)");
  if (!(o.maxPhase >= 0.0 && o.maxPhase <= 1e3)) reject("max_phase", "must be 0 .. 1000 rad");
  if (!(o.minAmplitude >= 0.0 && o.minAmplitude <= 1.0))
    reject("min_amplitude", "must be in [0, 1]");
  if (!(o.probeDiameter_m >= 0.0 && std::isfinite(o.probeDiameter_m))) {
    reject("probe_diameter", "must be >= 0 (0 = default)");
  }
  if (!(o.focalDistance_m >= 0.0 && std::isfinite(o.focalDistance_m))) {
    reject("focal_distance", "must be >= 0 (0 = default)");
  }
  if (!std::isfinite(o.defocus_m)) reject("defocus", "must be finite");
  if (!(o.energy_eV > 0.0 && std::isfinite(o.energy_eV))) reject("energy", "must be positive (eV)");
  if (!(o.distance_m > 0.0 && std::isfinite(o.distance_m)))
    reject("distance", "must be positive (m)");
  if (!(o.detectorPixel_m > 0.0 && std::isfinite(o.detectorPixel_m))) {
    reject("detector_pixel", "must be positive (m)");
  }
  if (o.badPixels >= o.frameSize * o.frameSize) {
    reject("bad_pixels", "must leave some detector pixels good (at most M^2 - 1)");
  }
  if (o.object.empty()) {
    reject("object", "empty; give a built-in pattern (" + joined(builtinObjects()) +
                         ") or an image file (PGM/PNG)");
  }
}

bool isBuiltin(const std::string& name) {
  const auto names = builtinObjects();
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// Luminance of a user image, resampled to the object and stretched to [0, 1].
Image<double> imageMap(const std::string& path, const std::string& field, std::size_t rows,
                       std::size_t cols, double flatValue) {
  Image<double> map;
  try {
    map = sim::resample(sim::readGreyImage(path), rows, cols);
  } catch (const InputError& e) {
    // Keep the file's own message, and say which option pointed at it.
    throw InputError(kWhere, field, e.what());
  }
  sim::stretchToUnit(map, flatValue);
  return map;
}

Image<cfloat> makeObject(const SimulationOptions& o, std::size_t rows, std::size_t cols) {
  Image<double> transmission;  // 0 .. 1, scaled to [minAmplitude, 1] below
  Image<double> phase;         // 0 .. 1, scaled to [0, maxPhase]
  if (o.object == "siemens") {
    transmission = sim::siemensTransmission(rows, cols);
    phase = sim::smoothPhase(rows, cols);
  } else if (o.object == "cells") {
    sim::CellMaps maps = sim::cells(rows, cols);
    transmission = std::move(maps.absorption);
    for (double& v : transmission.span()) v = 1.0 - v;
    phase = std::move(maps.phase);
  } else {
    transmission = imageMap(o.object, "object", rows, cols, 1.0);
    phase = sim::smoothPhase(rows, cols);
  }
  if (!o.objectPhase.empty()) phase = imageMap(o.objectPhase, "object_phase", rows, cols, 0.0);

  Image<cfloat> object(rows, cols);
  for (std::size_t i = 0; i < object.size(); ++i) {
    const double a = o.minAmplitude + (1.0 - o.minAmplitude) * transmission.span()[i];
    const std::complex<double> v = std::polar(a, o.maxPhase * phase.span()[i]);
    object.span()[i] = {static_cast<float>(v.real()), static_cast<float>(v.imag())};
  }
  return object;
}

/// The probe at the sample, with the defaults documented in Simulator.hpp; `defocusScale`
/// scales the (resolved) defocus, for the nominal starting probe.
Image<cfloat> makeProbe(const SimulationOptions& o, const DetectorGeometry& geometry,
                        double defocusScale = 1.0) {
  const std::size_t m = o.frameSize;
  const double dx = objectPixelSize(geometry, m, o.detectorPixel_m);
  const double lambda = geometry.wavelength_m;
  const double third = static_cast<double>(m) / 3.0 * dx;  // target width at the sample
  switch (o.probe) {
    case ProbeShape::ZonePlate: {
      const double na0 = defaultNumericalAperture(geometry, m);
      const double d = o.probeDiameter_m > 0.0   ? o.probeDiameter_m
                       : o.focalDistance_m > 0.0 ? 2.0 * o.focalDistance_m * na0
                                                 : kDefaultZonePlate_m;
      const double f = o.focalDistance_m > 0.0 ? o.focalDistance_m : d / (2.0 * na0);
      const double na = d / (2.0 * f);
      // The probe's far field is the lens pupil: its bright-field disc must fit the detector.
      const double discRadius = na * o.distance_m / o.detectorPixel_m;
      if (discRadius > static_cast<double>(m) / 2.0) {
        reject("probe_diameter", "the zone plate's NA D/(2f) = " + std::to_string(na) +
                                     " lights a disc of radius " + std::to_string(discRadius) +
                                     " detector pixels, beyond the " + std::to_string(m / 2) +
                                     " the detector holds (reduce probe_diameter or "
                                     "increase focal_distance)");
      }
      // Defocus 0: move the sample out of focus until the cone is M/3 pixels wide.
      const double defocus = o.defocus_m != 0.0 ? o.defocus_m : third / (2.0 * na);
      return zonePlateProbe(m, geometry, d, f, defocus * defocusScale);
    }
    case ProbeShape::Aperture: {
      const double d =
          o.probeDiameter_m > 0.0 ? o.probeDiameter_m : 0.3 * static_cast<double>(m) * dx;
      // Defocus 0: Fresnel number 2, near-field fringes without much spreading.
      const double defocus =
          o.defocus_m != 0.0 ? o.defocus_m : (d / 2.0) * (d / 2.0) / (2.0 * lambda);
      return apertureProbe(m, geometry, d, defocus * defocusScale);
    }
    case ProbeShape::Gaussian: {
      const double d = o.probeDiameter_m > 0.0 ? o.probeDiameter_m : third;
      // |P|^2 = exp(-r^2 / sigma^2) holds 90 % within r = sigma sqrt(ln 10).
      const double sigma = d / dx / (2.0 * std::sqrt(std::log(10.0)));
      Image<cfloat> probe = gaussianProbe(m, sigma);
      return o.defocus_m != 0.0 ? fresnelPropagate(probe, dx, lambda, o.defocus_m) : probe;
    }
  }
  throw Error("simulate: unknown probe shape");
}

}  // namespace

std::vector<std::string> builtinObjects() {
  return {"siemens", "cells"};
}

double probeDiameterPixels(const Image<cfloat>& probe, double energyFraction) {
  if (probe.empty()) throw Error("probeDiameterPixels: empty probe");
  if (!(energyFraction > 0.0 && energyFraction <= 1.0)) {
    throw Error("probeDiameterPixels: the energy fraction must be in (0, 1]");
  }
  double total = 0.0;
  double sumRow = 0.0;
  double sumCol = 0.0;
  for (std::size_t r = 0; r < probe.rows(); ++r) {
    for (std::size_t c = 0; c < probe.cols(); ++c) {
      const double w = norm2(probe(r, c));
      total += w;
      sumRow += w * static_cast<double>(r);
      sumCol += w * static_cast<double>(c);
    }
  }
  if (!(total > 0.0)) throw Error("probeDiameterPixels: the probe is zero");
  const double cr = sumRow / total;
  const double cc = sumCol / total;
  struct Ring {
    double radius;
    double weight;
  };
  std::vector<Ring> rings;
  rings.reserve(probe.size());
  for (std::size_t r = 0; r < probe.rows(); ++r) {
    for (std::size_t c = 0; c < probe.cols(); ++c) {
      rings.push_back({std::hypot(static_cast<double>(r) - cr, static_cast<double>(c) - cc),
                       norm2(probe(r, c))});
    }
  }
  std::sort(rings.begin(), rings.end(),
            [](const Ring& a, const Ring& b) { return a.radius < b.radius; });
  const double wanted = energyFraction * total;
  double held = 0.0;
  double previous = 0.0;
  for (const Ring& ring : rings) {
    if (held + ring.weight >= wanted && ring.weight > 0.0) {
      // Interpolate within this pixel's radius step for a smooth, sub-pixel answer.
      const double t = (wanted - held) / ring.weight;
      return 2.0 * (previous + t * (ring.radius - previous));
    }
    held += ring.weight;
    previous = ring.radius;
  }
  return 2.0 * previous;
}

Scan simulate(const SimulationOptions& options) {
  validate(options);
  const SimulationOptions& o = options;
  const std::size_t m = o.frameSize;
  const std::size_t n = o.frames;
  std::error_code missing;
  if (!isBuiltin(o.object) && o.object.find_first_of("./\\") == std::string::npos &&
      !std::filesystem::exists(o.object, missing)) {
    // A bare word that is no built-in name was most likely a misspelt pattern.
    reject("object", "unknown built-in object '" + o.object + "'; built-in objects are " +
                         joined(builtinObjects()) + ", or give an image file (PGM/PNG)");
  }

  Scan scan;
  scan.sourcePath = "simulated";
  scan.geometry.distance_m = o.distance_m;
  scan.geometry.pixelSizeX_m = o.detectorPixel_m;
  scan.geometry.pixelSizeY_m = o.detectorPixel_m;
  scan.geometry.wavelength_m = wavelengthFromEnergy(o.energy_eV);

  Image<cfloat> probe = makeProbe(o, scan.geometry);
  if (o.nominalProbe) {
    if (o.probe == ProbeShape::Gaussian) {
      reject("initial_probe", "a nominal starting probe needs a zone-plate or aperture probe");
    }
    scan.probe = makeProbe(o, scan.geometry, 1.0 - kNominalDefocusError);
  }
  const double diameter = probeDiameterPixels(probe);
  if (diameter > kMaxProbeFill * static_cast<double>(m)) {
    reject("defocus", "the probe is " + std::to_string(diameter) +
                          " pixels wide, too wide for the " + std::to_string(m) +
                          "-pixel window (it would wrap around)");
  }

  scan.positions = sim::scanPositions(o.pattern, n, (1.0 - o.overlap) * diameter, o.jitter, o.seed);

  // Object just large enough for every window plus a margin; the origin puts the lowest
  // position's window at the margin.
  double rowLo = 0.0;
  double rowHi = 0.0;
  double colLo = 0.0;
  double colHi = 0.0;
  for (const Position& p : scan.positions) {
    rowLo = std::min(rowLo, p.row);
    rowHi = std::max(rowHi, p.row);
    colLo = std::min(colLo, p.col);
    colHi = std::max(colHi, p.col);
  }
  const auto span = [](double lo, double hi) { return static_cast<std::size_t>(hi - lo); };
  const std::size_t rows = span(rowLo, rowHi) + m + 2 * kObjectMargin;
  const std::size_t cols = span(colLo, colHi) + m + 2 * kObjectMargin;
  const Position origin{static_cast<double>(kObjectMargin + m / 2) - rowLo,
                        static_cast<double>(kObjectMargin + m / 2) - colLo};
  const Image<cfloat> object = makeObject(o, rows, cols);

  const auto windowCorner = [&](std::size_t j) {
    const Position& p = scan.positions[j];
    return std::pair{static_cast<std::size_t>(origin.row + p.row) - m / 2,
                     static_cast<std::size_t>(origin.col + p.col) - m / 2};
  };

  // With noise, scale the probe so that the mean total count per frame is `photons`. Parseval
  // gives the far-field energy from the exit waves: sum_q |F psi|^2 = M^2 sum_r |psi|^2.
  if (o.photons > 0.0) {
    double energy = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      const auto [r0, c0] = windowCorner(j);
      for (std::size_t r = 0; r < m; ++r) {
        for (std::size_t c = 0; c < m; ++c) energy += norm2(probe(r, c) * object(r0 + r, c0 + c));
      }
    }
    const double meanCounts = energy * static_cast<double>(m * m) / static_cast<double>(n);
    if (!(meanCounts > 0.0)) reject("object", "the simulated exit waves are all zero");
    const auto scale = static_cast<float>(std::sqrt(o.photons / meanCounts));
    for (cfloat& v : probe.span()) v = scale * v;
  }

  scan.magnitudes = Stack<float>(n, m, m);
  const Fft2 fft(m, m);
  const std::size_t half = m / 2;
#pragma omp parallel
  {
    Image<cfloat> wave(m, m);
#pragma omp for schedule(static)
    for (std::size_t j = 0; j < n; ++j) {
      const auto [r0, c0] = windowCorner(j);
      for (std::size_t r = 0; r < m; ++r) {
        for (std::size_t c = 0; c < m; ++c) wave(r, c) = probe(r, c) * object(r0 + r, c0 + c);
      }
      fft.forward(wave);
      const std::span<float> frame = scan.magnitudes.frame(j);
      // Each frame has its own noise stream: the result does not depend on the thread count.
      std::mt19937_64 rng = sim::randomStream(o.seed, sim::Stream::Noise, j);
      for (std::size_t r = 0; r < m; ++r) {
        for (std::size_t c = 0; c < m; ++c) {
          double intensity = norm2(wave(r, c));
          if (o.photons > 0.0) {
            intensity =
                intensity > 0.0
                    ? static_cast<double>(std::poisson_distribution<std::int64_t>(intensity)(rng))
                    : 0.0;
          }
          // fftshift: zero frequency to (M/2, M/2).
          frame[((r + half) % m) * m + (c + half) % m] = static_cast<float>(std::sqrt(intensity));
        }
      }
    }
  }

  if (o.badPixels > 0) {
    scan.mask = Image<std::uint8_t>(m, m, 0);
    // Partial Fisher-Yates shuffle: badPixels distinct pixels.
    std::vector<std::size_t> pixels(m * m);
    std::iota(pixels.begin(), pixels.end(), std::size_t{0});
    std::mt19937_64 rng = sim::randomStream(o.seed, sim::Stream::BadPixels);
    for (std::size_t k = 0; k < o.badPixels; ++k) {
      const std::size_t pick = k + static_cast<std::size_t>(rng() % (pixels.size() - k));
      std::swap(pixels[k], pixels[pick]);
      scan.mask.span()[pixels[k]] = 1;
    }
    for (std::size_t j = 0; j < n; ++j) {
      const std::span<float> frame = scan.magnitudes.frame(j);
      for (std::size_t k = 0; k < o.badPixels; ++k) frame[pixels[k]] = 0.0F;
    }
  }

  GroundTruth truth;
  truth.object = object;
  truth.probe = std::move(probe);
  truth.objectPixelSize_m = objectPixelSize(scan.geometry, m, o.detectorPixel_m);
  truth.translationOrigin = origin;
  scan.truth = std::move(truth);
  return scan;
}

}  // namespace ptyx
