#pragma once
// The workbench's own agent on loopback, for "Run locally with N ranks" (issue 6): started on
// demand as `ptyx-agent serve --listen 127.0.0.1:0 --data <user data dir>/agent`, with a token
// made by `ptyx-agent token add` in that directory. Jobs then take exactly the path a remote
// agent's would. The agent is stopped when the workbench closes; its jobs run on (a later agent
// on the same directory takes them over).
#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QUrl>

namespace ptyx::app {

class LocalAgent : public QObject {
  Q_OBJECT
 public:
  explicit LocalAgent(QObject* parent = nullptr);
  ~LocalAgent() override;
  LocalAgent(const LocalAgent&) = delete;
  LocalAgent& operator=(const LocalAgent&) = delete;

  /// ptyx-agent next to ptyx-gui, else $PTYX_AGENT_BIN, else the build tree's; empty if none.
  [[nodiscard]] static QString agentBinary();
  /// <user data dir>/agent (QStandardPaths::AppDataLocation).
  [[nodiscard]] static QString dataDirectory();

  [[nodiscard]] bool isRunning() const { return url_.isValid(); }
  [[nodiscard]] bool isStarting() const { return process_ && !url_.isValid(); }
  [[nodiscard]] QUrl url() const { return url_; }
  /// Starts the agent (ready or failed follows); nothing when it runs or is starting.
  void start();
  /// `ptyx-agent token add` in the data directory: the new token, empty and `why` on failure.
  [[nodiscard]] QByteArray addToken(QString* why) const;

 signals:
  void ready(const QUrl& url);
  void failed(const QString& message);

 private:
  void onOutput();

  QProcess* process_ = nullptr;
  QByteArray output_;
  QUrl url_;
};

}  // namespace ptyx::app
