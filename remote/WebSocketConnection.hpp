#pragma once
// The server side of RFC 6455 (WebSocket, version 13) on a socket whose HTTP upgrade request
// HttpServer has already read: the 101 answer, unmasked text frames out, masked client frames in
// (ping → pong, close → close, anything else ignored). Own code rather than QWebSocketServer,
// whose handleConnection() wants the socket with the request still unread.
#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <optional>

#include "HttpServer.hpp"

class QTcpSocket;

namespace ptyx::agent {

/// Checks an upgrade request's WebSocket headers: none (acceptable) or the 4xx answer.
std::optional<HttpResponse> checkWebSocketUpgrade(const HttpRequest& request);

/// base64(SHA-1(key + the RFC 6455 GUID)): the Sec-WebSocket-Accept value for a key.
QByteArray webSocketAccept(const QByteArray& key);

class WebSocketConnection : public QObject {
  Q_OBJECT
 public:
  /// Takes the socket over (it becomes this object's child) and answers 101 Switching Protocols.
  /// `pending`: bytes already read past the request head.
  WebSocketConnection(QTcpSocket* socket, const QByteArray& key, const QByteArray& pending,
                      QObject* parent = nullptr);

  void sendText(const QByteArray& utf8);
  void sendPing();
  /// Sends a close frame and ends the connection once the client answers (or after 5 s).
  void close(quint16 code, const QByteArray& reason = {});
  /// Drops the connection without a closing handshake.
  void abort();
  /// Bytes handed to the socket and not yet written to the network.
  [[nodiscard]] qint64 pendingBytes() const;
  [[nodiscard]] bool isOpen() const { return open_; }
  /// Milliseconds since the client last sent anything (a pong, a frame).
  [[nodiscard]] qint64 silentMs() const;

 signals:
  void disconnected();
  void bytesWritten();

 private:
  void onReadyRead();
  void processFrames();
  void sendFrame(quint8 opcode, const QByteArray& payload);

  QPointer<QTcpSocket> socket_;
  QByteArray buffer_;
  bool open_ = true;
  bool closeSent_ = false;
  qint64 lastHeard_ = 0;
  QTimer closeTimer_;
};

}  // namespace ptyx::agent
