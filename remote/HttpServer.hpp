#pragma once
// A small HTTP/1.1 server on QTcpServer (QSslServer with a certificate): one request per
// connection (the answer carries "Connection: close"), Content-Length bodies only, limits on
// the head, the body and idle time. Why not QHttpServer: Qt 6.4's reads every body into memory
// before the handler runs, so neither a 413 before the upload nor streaming to disk is possible.
#include <QByteArray>
#include <QCryptographicHash>
#include <QFile>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTcpServer>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

class QTcpSocket;

namespace ptyx::agent {

struct HttpRequest {
  QByteArray method;
  QByteArray target;                      ///< as sent
  QStringList segments;                   ///< path split at '/', each percent-decoded
  QHash<QByteArray, QByteArray> headers;  ///< lower-case names
  QByteArray body;                        ///< when read into memory
  QString bodyFile;                       ///< when streamed to a file (BodyPlan::file)
  QByteArray bodySha256;                  ///< hex SHA-256 of the streamed body
  qint64 contentLength = 0;
};

struct HttpResponse {
  int status = 200;
  QByteArray contentType = "application/json";
  QByteArray body;
  QString file;  ///< when set, the file's bytes are the body (sent in chunks)
  QList<QPair<QByteArray, QByteArray>> headers;
};

/// Where a request's body goes: memory (file empty) or a file, at most `limit` bytes.
struct BodyPlan {
  qint64 limit = 1 << 20;
  QString file;
  /// Append to `file` (which exists) and keep what arrived when the connection breaks, for
  /// resumable uploads; otherwise the file is created new and removed on a broken connection.
  bool append = false;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  /// With the head read, before any body: an answer now (the body is never read), or none and
  /// the plan for the body.
  virtual std::optional<HttpResponse> begin(const HttpRequest& request, BodyPlan& plan) = 0;
  /// With the body read.
  virtual HttpResponse handle(const HttpRequest& request) = 0;
  /// The request ended before its body was complete (the streamed file is already removed, or
  /// with BodyPlan::append closed with what arrived).
  virtual void abandoned(const HttpRequest& /*request*/) {}
  /// A request with "Upgrade: websocket" that begin() let through: the answer refusing it, or
  /// none when the handler has taken over the socket (and `pending`, bytes read past the head).
  virtual std::optional<HttpResponse> upgrade(const HttpRequest& request, QTcpSocket* socket,
                                              const QByteArray& pending);
};

HttpResponse jsonError(int status, const QString& message);

class HttpServer : public QObject {
  Q_OBJECT
 public:
  HttpServer(HttpHandler& handler, QObject* parent = nullptr);
  /// Listens on host:port, with TLS when cert and key are given; throws std::runtime_error.
  void listen(const QString& host, quint16 port, const QString& certFile, const QString& keyFile);
  [[nodiscard]] quint16 port() const;

 private:
  void accept();
  HttpHandler& handler_;
  std::unique_ptr<QTcpServer> server_;
};

/// One connection: reads one request, answers, closes.
class HttpConnection : public QObject {
  Q_OBJECT
 public:
  HttpConnection(QTcpSocket* socket, HttpHandler& handler);

 private:
  void onReadyRead();
  bool parseHead(qsizetype end);
  void consumeBody();
  void abandonBody();
  void finishBody();
  void respond(const HttpResponse& response);
  void sendMoreFile();
  void close();

  enum class Stage { Head, Body, Answering };
  QPointer<QTcpSocket> socket_;
  HttpHandler& handler_;
  Stage stage_ = Stage::Head;
  QByteArray buffer_;
  HttpRequest request_;
  BodyPlan plan_;
  qint64 received_ = 0;
  std::unique_ptr<QFile> bodyFile_;
  std::unique_ptr<QCryptographicHash> hash_;
  std::unique_ptr<QFile> sendFile_;
  QTimer idle_;
};

}  // namespace ptyx::agent
