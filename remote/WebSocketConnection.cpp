#include "WebSocketConnection.hpp"

#include <QCryptographicHash>
#include <QDateTime>
#include <QTcpSocket>

namespace ptyx::agent {

namespace {

constexpr qint64 kMaxClientPayload = 64 * 1024;  // clients send only control frames
constexpr int kCloseWaitMs = 5'000;

enum Opcode : quint8 {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA
};

qint64 nowMs() {
  return QDateTime::currentMSecsSinceEpoch();
}

bool hasToken(const QByteArray& header, const QByteArray& token) {
  for (const QByteArray& part : header.split(',')) {
    if (part.trimmed().toLower() == token) return true;
  }
  return false;
}

}  // namespace

std::optional<HttpResponse> checkWebSocketUpgrade(const HttpRequest& request) {
  if (request.method != "GET") return jsonError(405, "a WebSocket upgrade must be a GET");
  if (!hasToken(request.headers.value("connection"), "upgrade")) {
    return jsonError(400, "a WebSocket upgrade needs 'Connection: Upgrade'");
  }
  if (request.headers.value("sec-websocket-version") != "13") {
    HttpResponse r = jsonError(426, "WebSocket version 13 is required");
    r.headers.append({"Sec-WebSocket-Version", QByteArray("13")});
    return r;
  }
  if (QByteArray::fromBase64(request.headers.value("sec-websocket-key")).size() != 16) {
    return jsonError(400, "Sec-WebSocket-Key must be 16 bytes in base64");
  }
  if (request.contentLength != 0) return jsonError(400, "a WebSocket upgrade has no body");
  return std::nullopt;
}

QByteArray webSocketAccept(const QByteArray& key) {
  return QCryptographicHash::hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                                  QCryptographicHash::Sha1)
      .toBase64();
}

WebSocketConnection::WebSocketConnection(QTcpSocket* socket, const QByteArray& key,
                                         const QByteArray& pending, QObject* parent)
    : QObject(parent), socket_(socket), buffer_(pending), lastHeard_(nowMs()) {
  socket->setParent(this);
  connect(socket, &QTcpSocket::readyRead, this, &WebSocketConnection::onReadyRead);
  connect(socket, &QTcpSocket::bytesWritten, this, &WebSocketConnection::bytesWritten);
  connect(socket, &QTcpSocket::disconnected, this, [this] {
    if (!open_) return;
    open_ = false;
    emit disconnected();
  });
  closeTimer_.setSingleShot(true);
  connect(&closeTimer_, &QTimer::timeout, this, &WebSocketConnection::abort);
  socket->write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      webSocketAccept(key) + "\r\n\r\n");
  if (!buffer_.isEmpty() || socket->bytesAvailable() > 0) {
    QTimer::singleShot(0, this, &WebSocketConnection::onReadyRead);
  }
}

qint64 WebSocketConnection::pendingBytes() const {
  return socket_ ? socket_->bytesToWrite() : 0;
}

qint64 WebSocketConnection::silentMs() const {
  return nowMs() - lastHeard_;
}

void WebSocketConnection::sendText(const QByteArray& utf8) {
  sendFrame(Text, utf8);
}

void WebSocketConnection::sendPing() {
  sendFrame(Ping, QByteArray::number(nowMs()));
}

void WebSocketConnection::close(quint16 code, const QByteArray& reason) {
  if (!open_ || closeSent_) return;
  QByteArray payload;
  payload.append(static_cast<char>(code >> 8));
  payload.append(static_cast<char>(code & 0xff));
  payload.append(reason.left(120));
  sendFrame(Close, payload);
  closeSent_ = true;
  closeTimer_.start(kCloseWaitMs);
}

void WebSocketConnection::abort() {
  if (socket_) socket_->abort();
  if (open_) {
    open_ = false;
    emit disconnected();
  }
}

void WebSocketConnection::sendFrame(quint8 opcode, const QByteArray& payload) {
  if (!open_ || closeSent_ || !socket_) return;
  QByteArray frame;
  frame.append(static_cast<char>(0x80 | opcode));  // FIN: never fragmented
  const qint64 n = payload.size();
  if (n < 126) {
    frame.append(static_cast<char>(n));
  } else if (n <= 0xffff) {
    frame.append(static_cast<char>(126));
    frame.append(static_cast<char>(n >> 8));
    frame.append(static_cast<char>(n & 0xff));
  } else {
    frame.append(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      frame.append(static_cast<char>((n >> shift) & 0xff));
  }
  frame.append(payload);
  socket_->write(frame);
}

void WebSocketConnection::onReadyRead() {
  if (!socket_) return;
  buffer_.append(socket_->readAll());
  processFrames();
}

void WebSocketConnection::processFrames() {
  while (open_ && buffer_.size() >= 2) {
    const auto b0 = static_cast<quint8>(buffer_[0]);
    const auto b1 = static_cast<quint8>(buffer_[1]);
    const bool fin = (b0 & 0x80) != 0;
    const quint8 opcode = b0 & 0x0f;
    const bool masked = (b1 & 0x80) != 0;
    qint64 length = b1 & 0x7f;
    qsizetype at = 2;
    if (length == 126) {
      if (buffer_.size() < 4) return;
      length = (static_cast<quint8>(buffer_[2]) << 8) | static_cast<quint8>(buffer_[3]);
      at = 4;
    } else if (length == 127) {
      if (buffer_.size() < 10) return;
      length = 0;
      for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<quint8>(buffer_[i]);
      at = 10;
    }
    if ((b0 & 0x70) != 0 || !masked) {  // no extensions were agreed; clients must mask
      close(1002, "protocol error");
      return;
    }
    if ((opcode & 0x08) != 0 && (!fin || length > 125)) {
      close(1002, "bad control frame");
      return;
    }
    if (length > kMaxClientPayload || length < 0) {
      close(1009, "message too big");
      return;
    }
    if (buffer_.size() < at + 4 + length) return;
    const QByteArray mask = buffer_.mid(at, 4);
    QByteArray payload = buffer_.mid(at + 4, static_cast<qsizetype>(length));
    buffer_.remove(0, at + 4 + static_cast<qsizetype>(length));
    for (qsizetype i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    lastHeard_ = nowMs();
    switch (opcode) {
      case Ping:
        sendFrame(Pong, payload);
        break;
      case Close:
        if (!closeSent_) {
          sendFrame(Close, payload.left(2));
          closeSent_ = true;
        }
        closeTimer_.stop();
        if (socket_) socket_->disconnectFromHost();  // after the close frame is written
        return;
      case Pong:
      case Text:
      case Binary:
      case Continuation:
        break;  // the stream is one-way; what a client says is ignored
      default:
        close(1002, "unknown opcode");
        return;
    }
  }
}

}  // namespace ptyx::agent
