#pragma once
// `local`: mpirun on the agent's host, each job in its own process group, output to its log
// file (not a pipe, so a job outlives the agent). A pool of GPU device ids: a job asking for N
// GPUs gets N free ones through CUDA_VISIBLE_DEVICES and waits queued while too few are free.
#include <QObject>
#include <QProcess>
#include <QTimer>

#include <map>
#include <set>

#include "Launcher.hpp"

namespace ptyx::agent {

class LocalLauncher : public QObject, public Launcher {
  Q_OBJECT
 public:
  LocalLauncher(LaunchSettings settings, int maxRunning, QObject* parent = nullptr);
  [[nodiscard]] QString name() const override { return "local"; }
  [[nodiscard]] bool canStart(const JobSpec& spec) const override;
  Launched start(const LaunchJob& job) override;
  bool reattach(const LaunchJob& job, const QString& handle, const QString& gpus) override;
  void cancel(std::int64_t id) override;
  [[nodiscard]] bool watching(std::int64_t id) const override { return jobs_.count(id) != 0; }
  void check(const JobSpec& spec) const override;

 private:
  struct Job {
    QProcess* process = nullptr;  ///< null for a job re-attached after a restart
    qint64 pid = 0;
    QString runDir;
    std::vector<int> gpus;
  };
  void processEnded(std::int64_t id, int exitCode, QProcess::ExitStatus status);
  void pollReattached();
  void release(std::int64_t id);
  [[nodiscard]] std::vector<int> freeGpus() const;

  LaunchSettings settings_;
  int maxRunning_;
  std::map<std::int64_t, Job> jobs_;
  std::set<int> busy_;  ///< devices held by running jobs
  QTimer poll_;
};

/// True when `pid` is alive and its command line names `runDir` (so a reused pid is never
/// taken for the job's process). A zombie has an empty command line.
bool processRuns(qint64 pid, const QString& runDir);

}  // namespace ptyx::agent
