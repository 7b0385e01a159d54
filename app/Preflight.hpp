#pragma once
// Consistency checks before a run (issue 5): what a user should know before spending an hour on
// a reconstruction that cannot work. Plain C++ on the engine's types, no Qt, so that the agent or
// the CLI could show the same findings. Each check is cheap (one pass over the frames at most).
#include <string>
#include <vector>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Scan.hpp"
#include "params/Parameters.hpp"

namespace ptyx::app {

struct Finding {
  enum class Severity { Info, Warning, Error };
  Severity severity = Severity::Info;
  std::string check;    ///< short name: "mask", "frames", "probe", "positions", "object"
  std::string message;  ///< one sentence for the user
};

/// Checks that depend only on the scan: empty and saturated frames, non-finite values, mask
/// coverage (including a masked centre), positions that do not move.
std::vector<Finding> checkScan(const Scan& scan);

/// Checks that depend on the parameters too: the initial probe against the frame (a probe wider
/// than half the frame breaks the oversampling the modulus constraint needs), the overlap of
/// neighbouring positions for that probe, and an object from file against the scanned extent.
/// `probe` is the initial probe (empty when it could not be made; `probeError` says why).
std::vector<Finding> checkRun(const Scan& scan, const ReconParams& params,
                              const Image<cfloat>& probe, const std::string& probeError);

[[nodiscard]] bool hasErrors(const std::vector<Finding>& findings);

}  // namespace ptyx::app
