#pragma once
// Opens an agent's job in the live views "as if it ran locally" (issue 6): its progress lines
// become IterationMetrics for the error plot (parameter changes marked), each snapshot line
// fetches the job's snapshot.cxi and shows object and probe, and the status bar follows the
// iteration, rate and ETA, all through the Workbench's remote entry points. When the job ends,
// its result is fetched and shown as the final state.
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTemporaryDir>

#include <memory>

#include "JobFeed.hpp"
#include "core/Reconstruction.hpp"

namespace ptyx::app {

class RemoteJobs;
class Workbench;

class LiveJob : public QObject {
  Q_OBJECT
 public:
  LiveJob(RemoteJobs& jobs, Workbench& workbench, QObject* parent = nullptr);

  /// Follows the job (replacing any followed one).
  void follow(const QString& agent, qint64 job);
  void stopFollowing();
  [[nodiscard]] QString agent() const { return agent_; }
  [[nodiscard]] qint64 job() const { return job_; }
  [[nodiscard]] int linesSeen() const { return lines_; }
  [[nodiscard]] int snapshotsShown() const { return snapshots_; }
  /// Snapshots downloaded in answer to the job's snapshot lines.
  [[nodiscard]] int snapshotsFetched() const { return snapshotsFetched_; }

  /// An iteration progress line as the engine's metrics (NaN object error where absent).
  [[nodiscard]] static IterationMetrics metricsFrom(const QJsonObject& line);

 signals:
  void followed(const QString& agent, qint64 job);
  void ended(const QString& agent, qint64 job, const QString& state);
  void snapshotShown(qint64 iteration);
  /// Every progress line of the followed job, as it arrives.
  void progressLine(const QString& agent, qint64 job, const QJsonObject& line);
  void message(const QString& text);

 private:
  void onLine(qint64 seq, const QJsonObject& line);
  void fetchSnapshot();
  void showFile(const QString& path, qint64 iteration, bool final);
  void onEnded(const QString& state);

  RemoteJobs& jobs_;
  Workbench& workbench_;
  QString agent_;
  qint64 job_ = 0;
  quint64 generation_ = 0;  // answers for an earlier followed job are dropped
  QPointer<JobFeed> feed_;
  std::unique_ptr<QTemporaryDir> scratch_;
  bool fetching_ = false;
  bool snapshotPending_ = false;
  int lines_ = 0;
  int snapshots_ = 0;
  int snapshotsFetched_ = 0;
  int fetched_ = 0;          // names the downloads
  int shownIteration_ = -1;  // of the snapshot on show
};

/// readResult for the remote views' helper threads, one at a time.
Reconstruction readResultFile(const QString& path);

}  // namespace ptyx::app
