#pragma once
// `slurm`: fills the site's batch template for a job, submits it with `sbatch --parsable`,
// follows it with `squeue` (and `sacct` for the final state and exit code), cancels with
// `scancel`. Every Slurm command is a QProcess with an argument vector, never a shell. After an
// agent restart a job is followed again by its stored Slurm job id.
#include <QObject>
#include <QProcess>
#include <QTimer>

#include <map>
#include <set>

#include "BatchTemplate.hpp"
#include "Launcher.hpp"

namespace ptyx::agent {

class SlurmLauncher : public QObject, public Launcher {
  Q_OBJECT
 public:
  /// Loads the template; throws std::runtime_error naming its file and line when invalid.
  SlurmLauncher(LaunchSettings settings, QObject* parent = nullptr);
  [[nodiscard]] QString name() const override { return "slurm"; }
  Launched start(const LaunchJob& job) override;
  bool reattach(const LaunchJob& job, const QString& handle, const QString& gpus) override;
  void cancel(std::int64_t id) override;
  [[nodiscard]] bool watching(std::int64_t id) const override { return jobs_.count(id) != 0; }
  [[nodiscard]] QString detail(std::int64_t id) const override;

  /// The script for a job (also what start() submits).
  [[nodiscard]] std::string script(const LaunchJob& job) const;

 private:
  struct Job {
    QString slurmId;
    QString state;  ///< as squeue last said
  };
  void poll();
  void polled(const QString& output);
  void finish(std::int64_t id, const Job& job);

  LaunchSettings settings_;
  BatchTemplate template_;
  std::map<std::int64_t, Job> jobs_;
  QTimer poll_;
  QProcess* squeue_ = nullptr;    ///< the poll in flight (the API does not wait for it)
  std::set<std::int64_t> asked_;  ///< the jobs known when it started
};

}  // namespace ptyx::agent
