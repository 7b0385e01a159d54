#pragma once
// What a reconstruction produces and the result writers store: object, probe, where the frames
// sat, how the metrics evolved, and where it all came from.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Scan.hpp"

namespace ptyx {

struct IterationMetrics {
  int iteration = 0;          ///< 1-based count of completed iterations
  double fourierError = 0.0;  ///< sum (|F psi| - a)^2 / sum a^2, unmasked pixels
  double overlapError = 0.0;  ///< ||psi - phi||^2 / ||psi||^2
  double objectError = std::numeric_limits<double>::quiet_NaN();  ///< vs ground truth, if known
  double seconds = 0.0;                                           ///< wall time of this iteration
  bool parametersChanged = false;  ///< parameters were changed just before this iteration
  int framesReceived = 0;          ///< frames in use when following a growing scan; 0 otherwise
};

struct Provenance {
  std::string program = "ptyx";
  std::string version;
  std::string date;  ///< ISO 8601, UTC
  std::string commandLine;
  std::string inputPath;
  std::string inputHash;
};

struct Reconstruction {
  Image<cfloat> object;
  Image<cfloat> probe;
  double objectPixelSize_m = 0.0;
  std::vector<Position> positions;  ///< as in the scan (object pixels from the origin)
  Position originPixel;             ///< object-array pixel under the probe centre at translation 0
  Image<std::uint8_t> illuminated;  ///< object pixels lit well enough to trust (may be empty)
  std::vector<IterationMetrics> history;
  std::string parametersJson;  ///< toJson(ReconParams) of the final parameters
  Provenance provenance;
};

}  // namespace ptyx
