#pragma once
// Headless replay of a session (docs/SESSIONS.md): re-executes the recorded actions on a
// Reconstructor in this thread, the way the workbench did, with each asynchronous action
// (pause, step, stop, a parameter change during a run) applied at the iteration at which it
// took effect in the recording. Each backend is bit-deterministic for a given parameter
// sequence (the CUDA one on the same device model), so a run replayed on the backend it was
// recorded on agrees to rounding and its saved results hash the same.
#include <functional>
#include <map>
#include <string>

#include "session/Session.hpp"

namespace ptyx::session {

struct ReplayOptions {
  /// 0: as fast as possible; X > 0: the recorded pauses between actions divided by X (1 is the
  /// original pace, 2 twice as fast).
  double speed = 0.0;
  /// Recorded input path -> file to read instead.
  std::map<std::string, std::string> substitutes;
  /// Relative tolerance for metric checkpoints: |a - b| <= T max(|a|, |b|).
  double tolerance = 1e-6;
  /// Where saves write their result (the recorded file name); "" writes nothing, only hashes.
  std::string outputDirectory;
  int threads = 0;  ///< CPU threads (0: all cores); results do not depend on it
  /// Where runs compute: "recorded" (each run on the backend its session line names, when this
  /// machine has it, else the CPU, said in the report), "cpu" or "cuda" (every run there).
  std::string backend = "recorded";
};

/// One line of the report.
struct ReplayStep {
  enum class Verdict {
    Match,    ///< re-executed and agrees with the recording
    Differs,  ///< re-executed and disagrees: says what and where
    Done,     ///< re-executed; nothing recorded to compare with
    Skipped,  ///< not re-executed (remote job, unknown command, nothing to act on)
    Stopped,  ///< replay cannot go on past this point (missing or changed input)
  };
  int line = 0;           ///< line in the session file
  double offset_s = 0.0;  ///< recorded time since the start
  std::string what;       ///< "open_scan /data/scan.cxi", "checkpoint run 1 iteration 20"
  Verdict verdict = Verdict::Done;
  std::string detail;
};

struct ReplaySummary {
  int actions = 0;
  int checkpoints = 0;
  int matched = 0;
  int differed = 0;
  int skipped = 0;
  bool stopped = false;  ///< gave up at a missing or changed input
  [[nodiscard]] bool allMatch() const { return differed == 0 && !stopped; }
};

/// Replays `session`, calling `report` for each action and checkpoint as it is dealt with.
/// Throws InputError only for a session that cannot be replayed at all (bad options).
ReplaySummary replay(const Session& session, const ReplayOptions& options,
                     const std::function<void(const ReplayStep&)>& report);

/// Whether two metric values agree within a relative tolerance (two NaNs agree).
bool metricsAgree(double recorded, double replayed, double tolerance);

}  // namespace ptyx::session
