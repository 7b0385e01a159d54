#pragma once
// One client's live stream of one job (GET /jobs/{id}/stream, docs/AGENT.md): the job's state,
// every complete line of run/progress.jsonl after the client's `after`, then "end" and a normal
// close once the job has ended and every line has gone out. The file is polled every 100 ms
// (it is appended by another process, possibly on a shared file system where inotify is blind).
#include <QFile>
#include <QObject>
#include <QString>
#include <QTimer>

#include <cstdint>
#include <functional>
#include <optional>

#include "Store.hpp"

namespace ptyx::agent {

class WebSocketConnection;

class JobStreamSession : public QObject {
  Q_OBJECT
 public:
  /// The job's current record (its state and message), or none when it was deleted.
  using JobLookup = std::function<std::optional<JobRecord>()>;

  /// Starts streaming at once on an open connection (which becomes this object's child).
  /// `progressFile`: the job's run/progress.jsonl (it need not exist yet).
  JobStreamSession(WebSocketConnection* connection, std::int64_t id, QString progressFile,
                   qint64 after, JobLookup lookup, QObject* parent = nullptr);

  ~JobStreamSession() override;

  /// Pending bytes above which a client that does not read is dropped.
  static constexpr qint64 kMaxPending = 8LL << 20;
  /// Streams open at once (each holds a socket and a file): more are refused with 503.
  static constexpr int kMaxSessions = 256;
  [[nodiscard]] static int count() { return count_; }

 private:
  void tick();
  /// Sends the complete lines not sent yet, as far as the client keeps up; true when the end of
  /// the file was reached.
  bool sendLines();
  void sendJob(const JobRecord& job);
  void finish(const std::string& state);

  WebSocketConnection* connection_;
  std::int64_t id_;
  QString path_;
  QFile file_;
  qint64 offset_ = 0;  ///< file position after the last complete line read
  qint64 lines_ = 0;   ///< complete lines read (the seq of the last one)
  qint64 after_;
  JobLookup lookup_;
  std::string lastState_;
  bool ending_ = false;
  QTimer poll_;
  QTimer ping_;
  static inline int count_ = 0;  ///< all on the agent's one thread
};

}  // namespace ptyx::agent
