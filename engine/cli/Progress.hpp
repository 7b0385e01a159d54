#pragma once
// Progress reporting for long runs: a live line with rate and ETA on a terminal, periodic lines
// in a log, or JSON lines (--progress json) for programs that drive ptyx.
#include <chrono>
#include <iosfwd>
#include <string>

#include "recon/Reconstructor.hpp"

namespace ptyx::cli {

enum class ProgressStyle { Auto, Text, Json, None };

class ProgressReporter final : public ReconstructionObserver {
 public:
  ProgressReporter(ProgressStyle style, int totalIterations, std::ostream& text,
                   std::ostream& json);
  void onIteration(const IterationMetrics& metrics) override;
  void finish();
  /// The run length changed (a followed scan completed: docs/STREAMING.md).
  void setTotal(int totalIterations) { total_ = totalIterations; }

 private:
  ProgressStyle style_;
  bool terminal_ = false;
  int total_;
  std::ostream& text_;
  std::ostream& json_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point lastPrint_;
  bool printedLive_ = false;
};

}  // namespace ptyx::cli
