// initialProbe / initialObject: the dispatch on the user's choice of initialisation.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "core/Error.hpp"
#include "init/FileInit.hpp"
#include "init/Initialisation.hpp"
#include "init/ProbeModels.hpp"

namespace ptyx {

namespace {

/// Uniform double in [0, 1) from the top 53 bits: the same numbers with every standard library,
/// unlike std::uniform_real_distribution.
double unitUniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11U) * 0x1.0p-53;
}

}  // namespace

Image<cfloat> initialProbe(const ReconParams& params, const Scan& scan) {
  const std::size_t m = scan.frameSize();
  if (scan.frameCount() == 0 || m == 0) {
    throw InputError("scan", "frames", "an initial probe needs at least one frame");
  }
  // Diameter 0 means "half the probe window", the usual first guess.
  const auto diameter = [&] {
    return params.apertureDiameter_m > 0.0
               ? params.apertureDiameter_m
               : static_cast<double>(m / 2) * objectPixelSizeX(scan.geometry, m);
  };

  Image<cfloat> probe;
  switch (params.probeInit) {
    case ProbeInit::Gaussian:
      if (!(params.probeSigmaPixels > 0.0)) {
        throw InputError("parameters", "probe_sigma", "must be positive for a Gaussian probe");
      }
      probe = gaussianProbe(m, params.probeSigmaPixels);
      break;
    case ProbeInit::Aperture:
      probe = apertureProbe(m, scan.geometry, diameter(), params.defocus_m);
      break;
    case ProbeInit::ZonePlate: {
      const double d = diameter();
      // Focal distance 0: the lens whose bright-field disc fills half the detector's width.
      const double f = params.focalDistance_m > 0.0
                           ? params.focalDistance_m
                           : d / (2.0 * defaultNumericalAperture(scan.geometry, m));
      probe = zonePlateProbe(m, scan.geometry, d, f, params.defocus_m);
      break;
    }
    case ProbeInit::DataMean:
      probe = probeFromMeanDiffraction(scan);
      break;
    case ProbeInit::Auto:
      // The reader has checked its shape against the frames.
      probe = scan.probe && !scan.probe->empty() ? *scan.probe : probeFromMeanDiffraction(scan);
      break;
    case ProbeInit::File:
      probe = probeFromFile(params.probeFile, scan);
      break;
  }
  normaliseProbe(probe, scan);
  return probe;
}

Image<cfloat> initialObject(const ReconParams& params, std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0) {
    throw InputError("initial object", "shape", "must be at least 1 x 1");
  }
  if (!std::isfinite(params.objectAmplitude) || params.objectAmplitude <= 0.0) {
    throw InputError("parameters", "object_amplitude", "must be positive");
  }
  const auto amplitude = static_cast<float>(params.objectAmplitude);
  switch (params.objectInit) {
    case ObjectInit::Constant:
      return Image<cfloat>(rows, cols, cfloat{amplitude, 0.0F});
    case ObjectInit::Random: {
      // 10 % amplitude noise and +-0.1 rad of phase: enough to break the symmetries a flat
      // start shares with the data (twin image, inversion), small enough not to matter later.
      std::mt19937_64 rng(params.seed);
      Image<cfloat> object(rows, cols);
      for (cfloat& v : object.span()) {
        const double a = params.objectAmplitude * (1.0 + 0.1 * (2.0 * unitUniform(rng) - 1.0));
        const double phase = 0.1 * (2.0 * unitUniform(rng) - 1.0);
        v = {static_cast<float>(a * std::cos(phase)), static_cast<float>(a * std::sin(phase))};
      }
      return object;
    }
    case ObjectInit::File:
      return objectFromFile(params.objectFile, rows, cols);
  }
  throw Error("initialObject: unknown object initialisation");
}

}  // namespace ptyx
