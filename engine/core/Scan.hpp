#pragma once
// The measured data a reconstruction starts from, as the readers deliver it and the simulator
// produces it. Frames are stored as magnitudes a_j = sqrt(I_j), centred (zero frequency at
// (M/2, M/2)), exactly as on the detector.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/Array.hpp"
#include "core/Complex.hpp"

namespace ptyx {

/// A probe position in object pixels (row, col) relative to the translation origin: the object
/// pixel under the probe centre for frame j is origin + position_j. Not necessarily integral.
struct Position {
  double row = 0.0;
  double col = 0.0;
  bool operator==(const Position&) const = default;
};

struct DetectorGeometry {
  double distance_m = 0.0;    ///< sample to detector
  double pixelSizeY_m = 0.0;  ///< detector pixel pitch along rows
  double pixelSizeX_m = 0.0;  ///< detector pixel pitch along columns
  double wavelength_m = 0.0;  ///< photon wavelength
  bool operator==(const DetectorGeometry&) const = default;
};

/// Object pixel size in metres along one axis: lambda z / (M p).
inline double objectPixelSize(const DetectorGeometry& g, std::size_t frameSize, double pixel_m) {
  return g.wavelength_m * g.distance_m / (static_cast<double>(frameSize) * pixel_m);
}

/// What a simulated scan knows to be true, stored in /entry_1/ground_truth/.
struct GroundTruth {
  Image<cfloat> object;
  Image<cfloat> probe;
  double objectPixelSize_m = 0.0;
  Position translationOrigin;  ///< object pixel (row, col) under the probe centre at translation 0
};

struct Scan {
  Stack<float> magnitudes;          ///< N x M x M, sqrt of counts, centred
  std::vector<Position> positions;  ///< N positions, object pixels
  Image<std::uint8_t> mask;         ///< M x M, non-zero = bad pixel (no constraint); may be empty
  DetectorGeometry geometry;
  std::optional<Image<cfloat>> probe;  ///< initial probe from the file, if any
  std::optional<GroundTruth> truth;    ///< simulated scans only
  std::string sourcePath;              ///< file it came from (for messages and provenance)
  std::string sourceHash;              ///< content hash of that file (provenance, replay)

  [[nodiscard]] std::size_t frameCount() const { return magnitudes.count(); }
  [[nodiscard]] std::size_t frameSize() const { return magnitudes.rows(); }
};

}  // namespace ptyx
