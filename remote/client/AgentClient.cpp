#include "AgentClient.hpp"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSaveFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QThread>
#include <QTimer>

#include <memory>

namespace ptyx::client {

namespace {

constexpr int kTransferTimeoutMs = 120'000;   // no byte for this long: the agent is gone
constexpr qint64 kMaxSmallAnswer = 16 << 20;  // JSON answers and logs are far smaller
constexpr int kUploadAttempts = 5;            // a broken upload is resumed this often
constexpr int kUploadRetryMs = 1000;          // times the attempt number

QJsonObject parseObject(const QByteArray& body) {
  const QJsonDocument doc = QJsonDocument::fromJson(body);
  return doc.isObject() ? doc.object() : QJsonObject();
}

/// Per-call state shared by the reply's handlers.
struct Call {
  AgentCallback done;
  QPointer<QObject> context;
  bool hasContext = false;
  bool pinFailed = false;
  bool delivered = false;
  void deliver(const AgentResult& r) {
    if (delivered || (hasContext && !context)) return;
    delivered = true;
    if (done) done(r);
  }
};

}  // namespace

QByteArray fileSha256Hex(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QCryptographicHash hash(QCryptographicHash::Sha256);
  if (!hash.addData(&f)) return {};
  return hash.result().toHex();
}

QJsonObject JobControl::toJson() const {
  QJsonObject o;
  if (!command.isEmpty()) o.insert(QStringLiteral("command"), command);
  if (!set.isEmpty()) o.insert(QStringLiteral("set"), set);
  return o;
}

AgentClient::AgentClient(AgentEndpoint endpoint, QString name, QObject* parent)
    : QObject(parent), endpoint_(std::move(endpoint)), name_(std::move(name)) {
  // One request per connection on the agent's side; keep-alive would only be refused.
  network_.setAutoDeleteReplies(false);
}

AgentClient::~AgentClient() {
  // Hashing threads of uploads still in progress: wait for them (they only read a file).
  for (QThread* t : findChildren<QThread*>(QString(), Qt::FindDirectChildrenOnly)) t->wait();
}

QNetworkRequest AgentClient::request(const AgentEndpoint& endpoint, const QString& path) {
  QUrl base = endpoint.url;
  if (!base.path().endsWith(QLatin1Char('/'))) base.setPath(base.path() + QLatin1Char('/'));
  const QString relative = path.startsWith(QLatin1Char('/')) ? path.mid(1) : path;
  QNetworkRequest r(base.resolved(QUrl(relative)));
  r.setRawHeader("Authorization", "Bearer " + endpoint.token);
  r.setTransferTimeout(kTransferTimeoutMs);
  r.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
  if (endpoint.url.scheme() == QLatin1String("https")) {
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (!endpoint.caFile.isEmpty()) {
      tls.setCaCertificates(QSslCertificate::fromPath(endpoint.caFile, QSsl::Pem));
    }
    // A pinned certificate replaces the chain check: the handshake completes (QueryPeer), and
    // encrypted() compares the peer's certificate with the pin before any byte is sent.
    if (!endpoint.pinnedCertSha256.isEmpty()) tls.setPeerVerifyMode(QSslSocket::QueryPeer);
    r.setSslConfiguration(tls);
  }
  return r;
}

bool AgentClient::pinMatches(const AgentEndpoint& endpoint, const QNetworkReply* reply) {
  if (endpoint.pinnedCertSha256.isEmpty()) return true;
  const QSslCertificate peer = reply->sslConfiguration().peerCertificate();
  if (peer.isNull()) return false;
  const QByteArray digest =
      QCryptographicHash::hash(peer.toDer(), QCryptographicHash::Sha256).toHex();
  QByteArray pin = endpoint.pinnedCertSha256.toLower();
  pin.replace(':', QByteArray());
  return digest == pin;
}

void AgentClient::applyPin(const AgentEndpoint& endpoint, QNetworkReply* reply,
                           const QList<QSslError>& errors) {
  if (!endpoint.pinnedCertSha256.isEmpty() && pinMatches(endpoint, reply))
    reply->ignoreSslErrors(errors);
}

QString AgentClient::describe(int status, const QByteArray& body, const QString& fallback) const {
  QString message = parseObject(body).value(QStringLiteral("error")).toString();
  if (message.isEmpty()) message = QString::fromUtf8(body.left(300)).trimmed();
  if (message.isEmpty()) message = fallback;
  if (status == 0) return tr("agent '%1' (%2): %3").arg(name_, endpoint_.url.toString(), message);
  return tr("agent '%1': HTTP %2: %3").arg(name_).arg(status).arg(message);
}

void AgentClient::send(QNetworkReply* reply, AgentCallback done, QObject* context, Finisher finish,
                       bool bodyIsFile) {
  auto call = std::make_shared<Call>();
  call->done = std::move(done);
  call->context = context;
  call->hasContext = context != nullptr;
  if (context) connect(context, &QObject::destroyed, reply, &QNetworkReply::abort);
  connect(reply, &QNetworkReply::sslErrors, reply,
          [this, reply](const QList<QSslError>& errors) { applyPin(endpoint_, reply, errors); });
  connect(reply, &QNetworkReply::encrypted, reply, [this, reply, call] {
    if (!pinMatches(endpoint_, reply)) {
      call->pinFailed = true;
      reply->abort();
    }
  });
  connect(reply, &QNetworkReply::finished, this, [this, reply, call, finish, bodyIsFile] {
    reply->deleteLater();
    AgentResult r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const bool success = r.status >= 200 && r.status < 300 && !call->pinFailed &&
                         reply->error() == QNetworkReply::NoError;
    // A download's successful body went to its file as it arrived (finish takes the rest).
    if (!(success && bodyIsFile)) r.body = reply->read(kMaxSmallAnswer);
    r.json = parseObject(r.body);
    if (call->pinFailed) {
      r.status = 0;
      r.error = describe(0, {}, tr("the server's certificate does not match the pinned SHA-256"));
    } else if (r.status == 0) {
      r.error = describe(0, {}, reply->errorString());
    } else if (r.status < 200 || r.status >= 300) {
      r.error = describe(r.status, r.body, reply->errorString());
    } else if (!success) {
      r.error = describe(0, {}, reply->errorString());  // cut off mid-answer
    } else {
      r.ok = true;
    }
    if (finish) finish(reply, r);
    call->deliver(r);
  });
}

void AgentClient::health(AgentCallback done, QObject* context) {
  send(network_.get(request(endpoint_, QStringLiteral("health"))), std::move(done), context);
}

void AgentClient::listJobs(AgentCallback done, QObject* context) {
  send(network_.get(request(endpoint_, QStringLiteral("jobs"))), std::move(done), context);
}

void AgentClient::job(qint64 id, AgentCallback done, QObject* context) {
  send(network_.get(request(endpoint_, QStringLiteral("jobs/%1").arg(id))), std::move(done),
       context);
}

void AgentClient::log(qint64 id, AgentCallback done, QObject* context) {
  send(network_.get(request(endpoint_, QStringLiteral("jobs/%1/log").arg(id))), std::move(done),
       context);
}

void AgentClient::submit(const QJsonObject& spec, AgentCallback done, QObject* context) {
  QNetworkRequest r = request(endpoint_, QStringLiteral("jobs"));
  r.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  send(network_.post(r, QJsonDocument(spec).toJson(QJsonDocument::Compact)), std::move(done),
       context);
}

void AgentClient::control(qint64 id, const JobControl& command, AgentCallback done,
                          QObject* context) {
  QNetworkRequest r = request(endpoint_, QStringLiteral("jobs/%1/control").arg(id));
  r.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  send(network_.post(r, QJsonDocument(command.toJson()).toJson(QJsonDocument::Compact)),
       std::move(done), context);
}

void AgentClient::cancel(qint64 id, AgentCallback done, QObject* context) {
  // POST /jobs/ID/cancel; an agent that predates it (404/405 for the path) cancels on DELETE,
  // which newer agents also accept for a live job.
  QNetworkRequest r = request(endpoint_, QStringLiteral("jobs/%1/cancel").arg(id));
  r.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  QPointer<QObject> ctx = context;
  const bool hasContext = context != nullptr;
  send(
      network_.post(r, QByteArray("{}")),
      [this, id, done, ctx, hasContext](const AgentResult& res) {
        const bool olderAgent =
            (res.status == 404 && res.json.value(QStringLiteral("error")).toString() ==
                                      QLatin1String("no such endpoint")) ||
            res.status == 405;
        if (!olderAgent) {
          if (done) done(res);
          return;
        }
        if (hasContext && !ctx) return;
        send(network_.deleteResource(request(endpoint_, QStringLiteral("jobs/%1").arg(id))), done,
             ctx);
      },
      context);
}

void AgentClient::upload(const QString& filePath, const QString& name, AgentCallback done,
                         QObject* context) {
  // Hashing a scan of gigabytes takes seconds: on a helper thread (a child of this client, so
  // that the destructor can wait for it), then the upload starts back on this thread.
  QPointer<QObject> ctx = context;
  const bool hasContext = context != nullptr;
  auto* hashing = QThread::create([this, filePath, name, done, ctx, hasContext] {
    const QByteArray sha = fileSha256Hex(filePath);
    QMetaObject::invokeMethod(
        this,
        [this, filePath, name, done, ctx, hasContext, sha] {
          if (hasContext && !ctx) return;
          if (sha.isEmpty()) {
            AgentResult r;
            r.error = tr("cannot read %1 to upload it to agent '%2'").arg(filePath, name_);
            if (done) done(r);
            return;
          }
          startUpload(filePath, name, sha, done, ctx, 1);
        },
        Qt::QueuedConnection);
  });
  hashing->setParent(this);
  connect(hashing, &QThread::finished, hashing, &QObject::deleteLater);
  hashing->start();
}

void AgentClient::startUpload(const QString& filePath, const QString& name,
                              const QByteArray& sha256, AgentCallback done, QObject* context,
                              int attempt) {
  // What the agent already has of this name decides where to start: nothing to send when the
  // same file is stored, the rest when a broken upload of it was kept, else everything. Agents
  // without the status endpoint answer 404: everything.
  const qint64 size = QFileInfo(filePath).size();
  QPointer<QObject> ctx = context;
  const bool hasContext = context != nullptr;
  send(
      network_.get(request(endpoint_, QStringLiteral("uploads/%1/status").arg(name))),
      [this, filePath, name, sha256, done, ctx, hasContext, attempt, size](const AgentResult& st) {
        if (hasContext && !ctx) return;
        const QJsonObject& j = st.json;
        const bool sameFile =
            j.value(QStringLiteral("sha256")).toString().toLatin1().toLower() == sha256 &&
            j.value(QStringLiteral("total")).toInteger(-1) == size;
        if (st.ok && sameFile && j.value(QStringLiteral("complete")).toBool()) {
          AgentResult r = st;  // 200, not 201: nothing was sent
          r.sha256 = sha256;
          emit uploadProgress(name, size, size);
          if (done) done(r);
          return;
        }
        const qint64 received = j.value(QStringLiteral("received")).toInteger(0);
        const bool resume = st.ok && sameFile && !j.value(QStringLiteral("receiving")).toBool() &&
                            received > 0 && received < size;
        putUpload(filePath, name, sha256, resume ? received : 0, done, ctx, attempt);
      },
      context);
}

void AgentClient::putUpload(const QString& filePath, const QString& name, const QByteArray& sha256,
                            qint64 offset, AgentCallback done, QObject* context, int attempt) {
  auto file = std::make_unique<QFile>(filePath);
  if (!file->open(QIODevice::ReadOnly) || !file->seek(offset)) {
    AgentResult r;
    r.error = tr("cannot read %1 to upload it to agent '%2': %3")
                  .arg(filePath, name_, file->errorString());
    if (done) done(r);
    return;
  }
  const qint64 size = file->size();
  QNetworkRequest r = request(endpoint_, QStringLiteral("uploads/%1").arg(name));
  r.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/octet-stream"));
  r.setHeader(QNetworkRequest::ContentLengthHeader, size - offset);
  r.setRawHeader("X-Ptyx-SHA256", sha256);
  if (offset > 0) {
    r.setRawHeader("Content-Range",
                   QStringLiteral("bytes %1-%2/%3").arg(offset).arg(size - 1).arg(size).toLatin1());
  }
  QNetworkReply* reply = network_.put(r, file.get());  // sends from the file's position
  file.release()->setParent(reply);                    // the body is read while the reply lives
  connect(reply, &QNetworkReply::uploadProgress, this,
          [this, name, offset, size](qint64 sent, qint64) {
            if (sent > 0) emit uploadProgress(name, offset + sent, size);
          });
  QPointer<QObject> ctx = context;
  const bool hasContext = context != nullptr;
  send(
      reply,
      [this, filePath, name, sha256, done, ctx, hasContext, attempt,
       offset](const AgentResult& res) {
        if (hasContext && !ctx) return;
        // A broken connection, a busy agent (503) or a stale range (416, 409): ask again what
        // arrived and go on from there, a few times, waiting longer each time.
        const bool retry =
            res.status == 0 || res.status == 503 || res.status == 416 || res.status == 409;
        if (res.ok || !retry || attempt >= kUploadAttempts) {
          AgentResult out = res;
          out.sha256 = sha256;
          out.resumedAt = offset;
          if (done) done(out);
          return;
        }
        QTimer::singleShot(kUploadRetryMs * attempt, this,
                           [this, filePath, name, sha256, done, ctx, hasContext, attempt] {
                             if (hasContext && !ctx) return;
                             startUpload(filePath, name, sha256, done, ctx, attempt + 1);
                           });
      },
      context);
}

void AgentClient::fetchResult(qint64 id, const QString& targetPath, AgentCallback done,
                              QObject* context) {
  download(id, QStringLiteral("result"), targetPath, std::move(done), context);
}

void AgentClient::fetchSnapshot(qint64 id, const QString& targetPath, AgentCallback done,
                                QObject* context) {
  download(id, QStringLiteral("snapshot"), targetPath, std::move(done), context);
}

void AgentClient::download(qint64 id, const QString& what, const QString& targetPath,
                           AgentCallback done, QObject* context) {
  // QSaveFile writes a temporary file beside the target and renames it only on commit(), which
  // happens only when the bytes' SHA-256 equals the agent's X-Ptyx-SHA256.
  auto out = std::make_shared<QSaveFile>(targetPath);
  auto hash = std::make_shared<QCryptographicHash>(QCryptographicHash::Sha256);
  auto writeError = std::make_shared<QString>();
  if (!out->open(QIODevice::WriteOnly)) {
    AgentResult r;
    r.error = tr("cannot write %1: %2").arg(targetPath, out->errorString());
    if (done) done(r);
    return;
  }
  QNetworkReply* reply =
      network_.get(request(endpoint_, QStringLiteral("jobs/%1/%2").arg(id).arg(what)));
  connect(reply, &QNetworkReply::readyRead, reply, [reply, out, hash, writeError] {
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200) return;  // an error answer is read whole at the end
    const QByteArray chunk = reply->readAll();
    hash->addData(chunk);
    if (writeError->isEmpty() && out->write(chunk) != chunk.size())
      *writeError = out->errorString();
  });
  connect(reply, &QNetworkReply::downloadProgress, this, [this, id](qint64 received, qint64 total) {
    emit downloadProgress(id, received, total);
  });
  send(
      reply, std::move(done), context,
      [this, out, hash, writeError, targetPath](QNetworkReply* answer, AgentResult& r) {
        if (!r.ok) {
          out->cancelWriting();
          return;
        }
        const QByteArray rest = answer->readAll();
        hash->addData(rest);
        if (writeError->isEmpty() && out->write(rest) != rest.size())
          *writeError = out->errorString();
        r.sha256 = hash->result().toHex();
        r.iteration = answer->hasRawHeader("X-Ptyx-Iteration")
                          ? answer->rawHeader("X-Ptyx-Iteration").toLongLong()
                          : -1;
        const QByteArray expected = answer->rawHeader("X-Ptyx-SHA256").toLower();
        r.ok = false;
        if (!writeError->isEmpty()) {
          out->cancelWriting();
          r.error = tr("cannot write %1: %2").arg(targetPath, *writeError);
        } else if (expected.isEmpty() || expected != r.sha256) {
          out->cancelWriting();
          r.error = tr("agent '%1': the download of %2 is damaged (SHA-256 %3, the agent says %4); "
                       "nothing was written")
                        .arg(name_, QFileInfo(targetPath).fileName(), QString::fromLatin1(r.sha256),
                             expected.isEmpty() ? tr("nothing") : QString::fromLatin1(expected));
        } else if (!out->commit()) {
          r.error = tr("cannot write %1: %2").arg(targetPath, out->errorString());
        } else {
          r.ok = true;
          r.path = targetPath;
        }
      },
      true);
}

}  // namespace ptyx::client
