#pragma once
// The seam between the agent and whatever runs a job's processes (docs/AGENT.md §Launchers).
// A launcher starts a job from its spec and directory, watches it, cancels it, takes it over
// again after an agent restart (from the handle the agent stored), and reports its end through
// the `ended` callback; the agent turns that into the job's final state. Registered by name:
// `local` (mpirun on this host, with a GPU pool) and `slurm` (a batch template and sbatch).
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "../JobSpec.hpp"

namespace ptyx::agent {

/// A job could not be started; the message becomes the failed job's message.
class LaunchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What every launcher needs to know about the agent's host.
struct LaunchSettings {
  QString ptyx;           ///< the ptyx binary
  QString mpirun;         ///< the MPI launcher
  QString slurmTemplate;  ///< the batch template file (slurm)
  std::vector<int> gpus;  ///< the local launcher's device pool
};

/// One job to start: its id, validated spec and directory (DIR/jobs/ID).
struct LaunchJob {
  std::int64_t id = 0;
  JobSpec spec;
  QString dir;
  [[nodiscard]] QString runDir() const { return dir + "/run"; }
  [[nodiscard]] QString logFile() const { return dir + "/output.log"; }
  /// `ptyx recon …` for this job: the program and its arguments, never a shell string.
  [[nodiscard]] QStringList reconCommand(const QString& ptyx) const;
};

/// What the agent stores for a started job so that a later agent can take it over.
struct Launched {
  QString handle;             ///< pid (local) or Slurm job id
  std::optional<qint64> pid;  ///< when the job is a process of this host
  QString gpus;               ///< devices held, "0,1"
};

class Launcher {
 public:
  /// id, exit code when known, a sentence saying how it ended.
  using Ended = std::function<void(std::int64_t, std::optional<int>, const QString&)>;
  virtual ~Launcher() = default;
  [[nodiscard]] virtual QString name() const = 0;
  /// False while the job must wait (the local launcher's GPUs and --max-running).
  [[nodiscard]] virtual bool canStart(const JobSpec& /*spec*/) const { return true; }
  /// Throws LaunchError (before anything runs) or SpecError (the spec does not fit this host).
  virtual Launched start(const LaunchJob& job) = 0;
  /// Watches a job started by an earlier agent again; false when it is gone (the agent then
  /// settles it at once).
  virtual bool reattach(const LaunchJob& job, const QString& handle, const QString& gpus) = 0;
  /// Asks the job to stop (it saves and exits); `ended` follows.
  virtual void cancel(std::int64_t id) = 0;
  [[nodiscard]] virtual bool watching(std::int64_t id) const = 0;
  /// What the launcher last saw of a job, for GET /jobs/{id} (Slurm: PENDING, RUNNING, …).
  [[nodiscard]] virtual QString detail(std::int64_t /*id*/) const { return {}; }
  /// Refuses at submission what this launcher can never run (SpecError).
  virtual void check(const JobSpec& /*spec*/) const {}

  void onEnded(Ended callback) { ended_ = std::move(callback); }

 protected:
  void report(std::int64_t id, std::optional<int> exitCode, const QString& how) {
    if (ended_) ended_(id, exitCode, how);
  }

 private:
  Ended ended_;
};

/// The registry: one launcher per name of launcherNames(). Throws std::runtime_error when one
/// cannot be set up (an invalid Slurm template names its file and line).
std::map<QString, std::unique_ptr<Launcher>> makeLaunchers(const LaunchSettings& settings,
                                                           int maxRunning);

/// Open MPI refuses root unless told; the agent's jobs get these when it runs as root.
void allowMpiAsRoot(QProcessEnvironment& env);

/// The last `bytes` of a file as text (a job's log for a failure message).
QString fileTail(const QString& path, qint64 bytes);

}  // namespace ptyx::agent
