#pragma once
// A job's progress by polling GET /jobs/ID (the last progress line and the state), with the
// signals of JobStream. A stand-in where the agent's WebSocket stream is not available: it sees
// only the newest line at each poll, so it may skip lines (the stream does not).
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>

#include "AgentEndpoint.hpp"

namespace ptyx::client {

class AgentClient;

class JobPoller : public QObject {
  Q_OBJECT
 public:
  JobPoller(AgentEndpoint endpoint, qint64 jobId, QObject* parent = nullptr);
  void start(qint64 afterSeq = 0);
  void close();
  [[nodiscard]] qint64 lastSeq() const { return lastSeq_; }
  [[nodiscard]] bool isConnected() const { return connected_; }

 signals:
  void progressLine(qint64 seq, const QJsonObject& line);
  void jobState(const QString& state, const QString& message);
  void ended(const QString& state);
  void connectionChanged(bool connected);
  void errorOccurred(const QString& message);

 private:
  void poll();

  AgentClient* client_;
  qint64 jobId_;
  QTimer timer_;
  qint64 lastSeq_ = 0;
  QJsonObject lastLine_;
  QString lastState_;
  bool connected_ = false;
  bool inFlight_ = false;
  bool ended_ = false;
};

}  // namespace ptyx::client
