#pragma once
// A job's live stream from ptyx-agent (GET /jobs/{id}/stream, docs/AGENT.md): its state, every
// progress line in order, and the end. Reconnects by itself after a dropped connection and asks
// for the lines after the last one received, so a consumer sees each line exactly once.
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include "AgentEndpoint.hpp"

class QWebSocket;

namespace ptyx::client {

class JobStream : public QObject {
  Q_OBJECT
 public:
  JobStream(AgentEndpoint endpoint, qint64 jobId, QObject* parent = nullptr);
  ~JobStream() override;
  /// Connects and reconnects on its own (back-off 0.2 s doubling to 5 s) after a dropped
  /// connection, asking for lines after the last seq received, so no line is lost or repeated.
  void start(qint64 afterSeq = 0);
  void close();
  [[nodiscard]] qint64 lastSeq() const;
  [[nodiscard]] bool isConnected() const;

 signals:
  void progressLine(qint64 seq, const QJsonObject& line);
  void jobState(const QString& state, const QString& message);
  void ended(const QString& state);
  void connectionChanged(bool connected);
  void errorOccurred(const QString& message);  // e.g. 401, 404: no reconnect for those

 private:
  void open();
  void onConnected();
  void onDisconnected();
  void onMessage(const QString& text);
  void scheduleReconnect();
  void stop(bool closeNormally);
  void setConnected(bool connected);
  void fail(const QString& message);
  [[nodiscard]] QUrl streamUrl() const;

  AgentEndpoint endpoint_;
  qint64 jobId_;
  qint64 lastSeq_ = 0;
  QPointer<QWebSocket> socket_;
  QTimer retry_;
  int backoffMs_ = 200;
  bool running_ = false;  ///< started and not closed, ended or failed for good
  bool connected_ = false;
  bool fatal_ = false;  ///< the agent refused (401, 404, TLS): no reconnect
};

}  // namespace ptyx::client
