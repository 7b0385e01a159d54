#pragma once
// The job directory (docs/JOBS.md): how a run that was started elsewhere (by the agent, under
// mpirun or srun) is watched and steered. Rank 0 appends progress as JSON lines to
// DIR/progress.jsonl, keeps DIR/status.json and a throttled DIR/snapshot.cxi up to date (both
// written atomically), and claims DIR/control when it appears. Other ranks never touch DIR.
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "comm/TimedCommunicator.hpp"
#include "recon/Reconstructor.hpp"

namespace ptyx::job {

/// One validated control-file command.
struct ControlCommand {
  enum class Action { None, Pause, Resume, Stop };
  Action action = Action::None;
  std::vector<std::pair<std::string, std::string>> set;  ///< parameter name, value as text
};

/// Parses the JSON of a control file: {"command": "pause" | "resume" | "stop"} and/or
/// {"set": {"name": value, ...}}. InputError naming the problem.
ControlCommand parseControl(const std::string& json);

/// `params` with the command's settings applied (an algorithm's preset first, as on the command
/// line). InputError when a name is unknown, cannot change while running (initialisation and
/// threads), or a value is out of range.
ReconParams applySettings(const ReconParams& params, const ControlCommand& command);

class JobDirectory final : public ReconstructionObserver {
 public:
  /// Creates DIR if needed and opens DIR/progress.jsonl for appending (a resumed job continues
  /// the same file). `timing` (may be null) supplies the all-reduce seconds of each iteration.
  JobDirectory(std::string dir, const Reconstructor& reconstructor, TimedCommunicator* timing,
               std::string provenanceCommandLine, std::string inputHash);

  [[nodiscard]] const std::string& dir() const { return dir_; }

  /// Claims DIR/control (renamed to DIR/control.applied) and returns its text, if present.
  std::optional<std::string> takeControl();

  void started(int ranks, int threads, std::size_t frames, const std::string& resumedFrom);
  void controlApplied(const std::string& text);
  void controlRejected(const std::string& text, const std::string& reason);
  /// "running", "paused", "stopping", "finished", "stopped", "failed"; also rewrites status.json.
  void state(const std::string& state, const std::string& message = "");
  void checkpointWritten(const std::string& path, int iteration, double seconds);

  void onIteration(const IterationMetrics& metrics) override;
  void onSnapshot(const Snapshot& snapshot) override;

 private:
  void line(const std::string& json);
  void writeStatus();

  std::string dir_;
  const Reconstructor& reconstructor_;
  TimedCommunicator* timing_;
  std::string commandLine_;
  std::string inputHash_;
  std::ofstream progress_;
  std::chrono::steady_clock::time_point start_;
  int firstIteration_ = -1;
  std::string state_ = "starting";
  std::string message_;
  IterationMetrics last_;
};

}  // namespace ptyx::job
