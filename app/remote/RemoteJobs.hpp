#pragma once
// The workbench's side of the agents (issue 6): the profiles, one AgentClient per profile, and
// the two command handlers the CommandBus calls for "submit_job" and "job_control". Submitting
// uploads the scan (and any probe/object file the parameters name), then posts a JobSpec v1;
// a "Local" profile starts the loopback agent first. No widgets.
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include "AgentClient.hpp"
#include "AgentProfiles.hpp"
#include "LocalAgent.hpp"

namespace ptyx::app {

class CommandBus;

/// What the submission dialog asks for besides the scan and parameters.
struct JobOptions {
  QString name;
  QString launcher = QStringLiteral("local");
  int ranks = 1;
  int gpus = 0;
  QString partition;
  QString wallTime;  ///< HH:MM:SS (slurm)
  /// The job's snapshot_interval: each snapshot is a file written and streamed, so jobs get
  /// their own (the window's 0.05 s would be too often); negative: the form's.
  double snapshotInterval_s = -1.0;
};

class RemoteJobs : public QObject {
  Q_OBJECT
 public:
  explicit RemoteJobs(CommandBus& bus, QObject* parent = nullptr);

  [[nodiscard]] AgentProfiles& profiles() { return profiles_; }
  /// Saves the profiles and rebuilds the clients; false and `why` when the file cannot be written.
  bool saveProfiles(QString* why = nullptr);
  /// The client of a profile; null when there is no such profile.
  [[nodiscard]] client::AgentClient* client(const QString& agent);
  [[nodiscard]] LocalAgent& localAgent() { return local_; }
  /// The "Local" profile exists and its agent answers (starting it when needed); `then` runs
  /// with an empty string on success or the reason.
  void ensureLocal(std::function<void(const QString& error)> then);

  /// The arguments of a submit_job command for the workbench's scan and parameters.
  [[nodiscard]] QJsonObject submitArguments(const QString& agent, const JobOptions& options) const;
  /// A name an agent accepts ([A-Za-z0-9][A-Za-z0-9._-]{0,99}) made from a file or job name.
  [[nodiscard]] static QString agentName(const QString& text);

  // CommandBus handlers.
  bool submit(const QJsonObject& arguments, QString* why);
  bool control(const QJsonObject& arguments, QString* why);

 signals:
  void message(const QString& text);
  void failed(const QString& title, const QString& message);
  void uploadProgress(const QString& agent, qint64 sent, qint64 total);
  void jobSubmitted(const QString& agent, const QJsonObject& job);
  void jobControlled(const QString& agent, qint64 job, const QString& command);
  void profilesChanged();

 private:
  struct Upload {
    QString path;
    QString name;
  };
  void continueSubmit(const QString& agent, QList<Upload> uploads, QJsonObject spec);

  CommandBus& bus_;
  AgentProfiles profiles_;
  QHash<QString, client::AgentClient*> clients_;
  LocalAgent local_;
};

}  // namespace ptyx::app
