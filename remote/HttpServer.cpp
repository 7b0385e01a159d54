#include "HttpServer.hpp"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpSocket>
#include <QUrl>

#include <unistd.h>

#include <stdexcept>

namespace ptyx::agent {

namespace {

constexpr qsizetype kMaxHead = 16 * 1024;
constexpr int kIdleMs = 60'000;
constexpr qint64 kSendChunk = 256 * 1024;

QByteArray reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

HttpResponse jsonError(int status, const QString& message) {
  HttpResponse r;
  r.status = status;
  r.body = QJsonDocument(QJsonObject{{"error", message}}).toJson(QJsonDocument::Compact) + "\n";
  return r;
}

std::optional<HttpResponse> HttpHandler::upgrade(const HttpRequest& /*request*/,
                                                 QTcpSocket* /*socket*/,
                                                 const QByteArray& /*pending*/) {
  return jsonError(404, "no WebSocket endpoint here");
}

HttpServer::HttpServer(HttpHandler& handler, QObject* parent)
    : QObject(parent), handler_(handler) {}

void HttpServer::listen(const QString& host, quint16 port, const QString& certFile,
                        const QString& keyFile) {
  if (!certFile.isEmpty() || !keyFile.isEmpty()) {
    if (certFile.isEmpty() || keyFile.isEmpty()) {
      throw std::runtime_error("--tls-cert and --tls-key go together");
    }
    QFile certIn(certFile);
    QFile keyIn(keyFile);
    if (!certIn.open(QIODevice::ReadOnly) || !keyIn.open(QIODevice::ReadOnly)) {
      throw std::runtime_error("cannot read the TLS certificate or key");
    }
    const auto chain = QSslCertificate::fromData(certIn.readAll(), QSsl::Pem);
    const QByteArray keyPem = keyIn.readAll();
    QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
    if (key.isNull()) key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
    if (chain.isEmpty() || key.isNull())
      throw std::runtime_error("the TLS certificate or key is not valid PEM");
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setLocalCertificateChain(chain);
    config.setPrivateKey(key);
    config.setPeerVerifyMode(QSslSocket::VerifyNone);  // clients authenticate with tokens
    auto ssl = std::make_unique<QSslServer>();
    ssl->setSslConfiguration(config);
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<QTcpServer>();
  }
  connect(server_.get(), &QTcpServer::pendingConnectionAvailable, this, &HttpServer::accept);
  if (!server_->listen(QHostAddress(host), port)) {
    throw std::runtime_error("cannot listen on " + host.toStdString() + ":" + std::to_string(port) +
                             ": " + server_->errorString().toStdString());
  }
}

quint16 HttpServer::port() const {
  return server_ ? server_->serverPort() : 0;
}

void HttpServer::accept() {
  while (QTcpSocket* socket = server_->nextPendingConnection()) {
    new HttpConnection(socket, handler_);  // deletes itself with its socket
  }
}

HttpConnection::HttpConnection(QTcpSocket* socket, HttpHandler& handler)
    : QObject(socket), socket_(socket), handler_(handler) {
  connect(socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
  connect(socket, &QTcpSocket::disconnected, this, [this] {
    if (stage_ == Stage::Body) {
      // Bytes that arrived together with the disconnect are still to be written.
      if (socket_ && socket_->bytesAvailable() > 0) buffer_.append(socket_->readAll());
      if (!buffer_.isEmpty()) consumeBody();
      if (stage_ == Stage::Body) abandonBody();
    }
    stage_ = Stage::Answering;
    if (socket_) socket_->deleteLater();
  });
  connect(socket, &QTcpSocket::bytesWritten, this, &HttpConnection::sendMoreFile);
  idle_.setSingleShot(true);
  connect(&idle_, &QTimer::timeout, this, [this] {
    if (stage_ == Stage::Answering) {
      socket_->abort();
    } else {
      if (stage_ == Stage::Body) abandonBody();
      respond(jsonError(408, "request timed out"));
    }
  });
  idle_.start(kIdleMs);
  if (socket->bytesAvailable() > 0) QTimer::singleShot(0, this, &HttpConnection::onReadyRead);
}

void HttpConnection::onReadyRead() {
  if (!socket_) return;
  idle_.start(kIdleMs);
  if (stage_ == Stage::Answering) {
    socket_->readAll();  // ignore anything after the request
    return;
  }
  buffer_.append(socket_->readAll());
  if (stage_ == Stage::Head) {
    const qsizetype end = buffer_.indexOf("\r\n\r\n");
    if (end < 0) {
      if (buffer_.size() > kMaxHead) respond(jsonError(431, "request head too large"));
      return;
    }
    if (end > kMaxHead) {
      respond(jsonError(431, "request head too large"));
      return;
    }
    if (!parseHead(end)) return;
  }
  if (stage_ == Stage::Body) consumeBody();
}

bool HttpConnection::parseHead(qsizetype end) {
  const QByteArray head = buffer_.left(end);
  buffer_.remove(0, end + 4);
  const QList<QByteArray> lines = head.split('\n');
  const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
  if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1.")) {
    respond(jsonError(400, "malformed request line"));
    return false;
  }
  request_.method = requestLine[0];
  request_.target = requestLine[1];
  for (qsizetype i = 1; i < lines.size(); ++i) {
    const QByteArray line = lines[i].endsWith('\r') ? lines[i].chopped(1) : lines[i];
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0) {
      respond(jsonError(400, "malformed header line"));
      return false;
    }
    const QByteArray name = line.left(colon).trimmed().toLower();
    if (request_.headers.contains(name) && (name == "content-length" || name == "authorization")) {
      respond(jsonError(400, "repeated " + QString::fromLatin1(name) + " header"));
      return false;
    }
    request_.headers.insert(name, line.mid(colon + 1).trimmed());
  }
  if (!request_.target.startsWith('/')) {
    respond(jsonError(400, "the target must be an absolute path"));
    return false;
  }
  QByteArray path = request_.target;
  if (const qsizetype q = path.indexOf('?'); q >= 0) path.truncate(q);
  for (const QByteArray& part : path.mid(1).split('/')) {
    request_.segments << QUrl::fromPercentEncoding(part);
  }
  if (request_.headers.contains("transfer-encoding")) {
    respond(jsonError(411, "chunked bodies are not accepted; send Content-Length"));
    return false;
  }
  if (request_.headers.contains("content-length")) {
    bool ok = false;
    const QByteArray text = request_.headers.value("content-length");
    request_.contentLength = text.toLongLong(&ok);
    bool digits = !text.isEmpty() && text.size() <= 18;
    for (char c : text) digits = digits && c >= '0' && c <= '9';
    if (!ok || !digits) {
      respond(jsonError(400, "bad Content-Length"));
      return false;
    }
  }
  if (auto early = handler_.begin(request_, plan_)) {
    respond(*early);
    return false;
  }
  if (request_.headers.value("upgrade").toLower() == "websocket") {
    if (auto refused = handler_.upgrade(request_, socket_, buffer_)) {
      respond(*refused);
      return false;
    }
    // The handler owns the socket now: let go of it.
    idle_.stop();
    socket_->disconnect(this);
    socket_ = nullptr;
    stage_ = Stage::Answering;
    deleteLater();
    return false;
  }
  if (request_.contentLength > plan_.limit) {
    respond(jsonError(
        413, QStringLiteral("the body is larger than the limit of %1 bytes").arg(plan_.limit)));
    return false;
  }
  if (!plan_.file.isEmpty()) {
    bodyFile_ = std::make_unique<QFile>(plan_.file);
    const auto mode = plan_.append ? QIODevice::WriteOnly | QIODevice::Append
                                   : QIODevice::WriteOnly | QIODevice::NewOnly;
    if (!bodyFile_->open(mode)) {
      bodyFile_.reset();
      handler_.abandoned(request_);  // begin() may hold something for this request
      respond(jsonError(500, "cannot store the upload"));
      return false;
    }
    hash_ = std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256);
  }
  stage_ = Stage::Body;
  return true;
}

void HttpConnection::consumeBody() {
  const qint64 wanted = request_.contentLength - received_;
  const QByteArray part =
      buffer_.left(static_cast<qsizetype>(std::min<qint64>(wanted, buffer_.size())));
  buffer_.remove(0, part.size());
  received_ += part.size();
  if (bodyFile_) {
    hash_->addData(part);
    if (bodyFile_->write(part) != part.size()) {
      abandonBody();
      respond(jsonError(500, "cannot store the upload"));
      return;
    }
  } else {
    request_.body.append(part);
  }
  if (received_ == request_.contentLength) finishBody();
}

void HttpConnection::abandonBody() {
  if (bodyFile_) {
    if (plan_.append) {
      bodyFile_->flush();
      if (bodyFile_->handle() >= 0) ::fsync(bodyFile_->handle());
      bodyFile_->close();
    } else {
      bodyFile_->remove();
    }
    bodyFile_.reset();
  }
  stage_ = Stage::Answering;
  handler_.abandoned(request_);
}

void HttpConnection::finishBody() {
  if (bodyFile_) {
    if (!bodyFile_->flush() || bodyFile_->handle() < 0 || ::fsync(bodyFile_->handle()) != 0) {
      abandonBody();
      respond(jsonError(500, "cannot store the upload"));
      return;
    }
    bodyFile_->close();
    request_.bodyFile = bodyFile_->fileName();
    request_.bodySha256 = hash_->result().toHex();
    bodyFile_.reset();
  }
  stage_ = Stage::Answering;
  respond(handler_.handle(request_));
}

void HttpConnection::respond(const HttpResponse& response) {
  stage_ = Stage::Answering;
  if (!socket_) return;
  qint64 length = response.body.size();
  if (!response.file.isEmpty()) {
    sendFile_ = std::make_unique<QFile>(response.file);
    if (!sendFile_->open(QIODevice::ReadOnly)) {
      sendFile_.reset();
      respond(jsonError(500, "cannot read the file"));
      return;
    }
    length = sendFile_->size();
  }
  QByteArray head =
      "HTTP/1.1 " + QByteArray::number(response.status) + " " + reason(response.status) + "\r\n";
  if (response.status != 204) {  // 204 has neither a body nor its headers
    head += "Content-Type: " + response.contentType +
            "\r\nContent-Length: " + QByteArray::number(length) + "\r\n";
  }
  head += "Connection: close\r\n";
  if (response.status == 401) head += "WWW-Authenticate: Bearer realm=\"ptyx-agent\"\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  socket_->write(head);
  if (sendFile_) {
    sendMoreFile();
  } else {
    socket_->write(response.body);
    close();
  }
}

void HttpConnection::sendMoreFile() {
  if (!sendFile_ || !socket_) return;
  while (socket_->bytesToWrite() < kSendChunk && !sendFile_->atEnd()) {
    const QByteArray chunk = sendFile_->read(kSendChunk);
    if (chunk.isEmpty()) break;
    socket_->write(chunk);
  }
  if (sendFile_->atEnd()) {
    sendFile_.reset();
    close();
  }
}

void HttpConnection::close() {
  if (socket_) socket_->disconnectFromHost();  // after the pending bytes are written
}

}  // namespace ptyx::agent
