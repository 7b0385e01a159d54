#include "JobStream.hpp"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QUrlQuery>
#include <QWebSocket>

namespace ptyx::client {

namespace {

constexpr int kFirstBackoffMs = 200;
constexpr int kMaxBackoffMs = 5'000;

QByteArray certificateSha256(const QSslCertificate& certificate) {
  return QCryptographicHash::hash(certificate.toDer(), QCryptographicHash::Sha256).toHex();
}

/// A pin as hex, lower case, without the colons some tools print between bytes.
QByteArray normalisedPin(QByteArray pin) {
  return pin.replace(':', QByteArray()).trimmed().toLower();
}

/// The HTTP status of a refused handshake, from Qt's message ("… status code: 401 …"); 0: none.
int refusedStatus(const QString& message) {
  static const QRegularExpression re(QStringLiteral("status code: (\\d{3})"));
  const auto m = re.match(message);
  return m.hasMatch() ? m.captured(1).toInt() : 0;
}

}  // namespace

JobStream::JobStream(AgentEndpoint endpoint, qint64 jobId, QObject* parent)
    : QObject(parent), endpoint_(std::move(endpoint)), jobId_(jobId) {
  retry_.setSingleShot(true);
  connect(&retry_, &QTimer::timeout, this, &JobStream::open);
}

JobStream::~JobStream() {
  if (socket_) {
    socket_->disconnect(this);
    socket_->abort();
  }
}

void JobStream::start(qint64 afterSeq) {
  stop(false);
  lastSeq_ = afterSeq;
  running_ = true;
  fatal_ = false;
  backoffMs_ = kFirstBackoffMs;
  open();
}

void JobStream::close() {
  running_ = false;
  stop(true);
}

qint64 JobStream::lastSeq() const {
  return lastSeq_;
}

bool JobStream::isConnected() const {
  return connected_;
}

QUrl JobStream::streamUrl() const {
  QUrl url = endpoint_.url;
  url.setScheme(url.scheme() == QLatin1String("https") ? QStringLiteral("wss")
                                                       : QStringLiteral("ws"));
  QString path = url.path();
  while (path.endsWith(QLatin1Char('/'))) path.chop(1);
  url.setPath(path + QStringLiteral("/jobs/%1/stream").arg(jobId_));
  url.setQuery(QStringLiteral("after=%1").arg(lastSeq_));
  return url;
}

void JobStream::open() {
  if (!running_) return;
  auto* socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
  socket_ = socket;
  connect(socket, &QWebSocket::connected, this, &JobStream::onConnected);
  connect(socket, &QWebSocket::disconnected, this, &JobStream::onDisconnected);
  connect(socket, &QWebSocket::textMessageReceived, this, &JobStream::onMessage);
  connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
          [this, socket](QAbstractSocket::SocketError) {
            if (socket != socket_) return;
            const QString message = socket->errorString();
            const int status = refusedStatus(message);
            if (status == 400 || status == 401 || status == 403 || status == 404 || status == 405 ||
                status == 426) {
              fail(QStringLiteral("the agent refused the stream of job %1 (HTTP %2): %3")
                       .arg(jobId_)
                       .arg(status)
                       .arg(message));
              return;
            }
            if (fatal_) return;
            const QString retrying =
                QStringLiteral("%1; reconnecting in %2 s").arg(message).arg(backoffMs_ / 1000.0);
            scheduleReconnect();
            emit errorOccurred(retrying);
          });
  connect(socket, &QWebSocket::sslErrors, this, [this, socket](const QList<QSslError>& errors) {
    if (socket != socket_) return;
    const QSslCertificate peer = socket->sslConfiguration().peerCertificate();
    if (!endpoint_.pinnedCertSha256.isEmpty() && !peer.isNull() &&
        certificateSha256(peer) == normalisedPin(endpoint_.pinnedCertSha256)) {
      socket->ignoreSslErrors();  // the pinned certificate itself: trusted, even self-signed
      return;
    }
    QStringList what;
    for (const QSslError& e : errors) what << e.errorString();
    fail(QStringLiteral("TLS: the agent's certificate is not trusted: %1")
             .arg(what.join(QStringLiteral("; "))));
  });

  QNetworkRequest request(streamUrl());
  request.setRawHeader("Authorization", "Bearer " + endpoint_.token);
  if (endpoint_.url.scheme() == QLatin1String("https")) {
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    if (!endpoint_.caFile.isEmpty()) {
      const QList<QSslCertificate> cas = QSslCertificate::fromPath(endpoint_.caFile);
      if (cas.isEmpty()) {
        fail(QStringLiteral("cannot read CA certificates from %1").arg(endpoint_.caFile));
        return;
      }
      config.setCaCertificates(cas);
    }
    socket->setSslConfiguration(config);
  }
  socket->open(request);
}

void JobStream::onConnected() {
  // A chain the system trusts is not enough when a certificate is pinned: it must be that one.
  if (!endpoint_.pinnedCertSha256.isEmpty() && socket_ &&
      endpoint_.url.scheme() == QLatin1String("https") &&
      certificateSha256(socket_->sslConfiguration().peerCertificate()) !=
          normalisedPin(endpoint_.pinnedCertSha256)) {
    fail(QStringLiteral("TLS: the agent's certificate does not match the pinned one"));
    return;
  }
  setConnected(true);
}

void JobStream::onDisconnected() {
  setConnected(false);
  if (running_ && !fatal_) scheduleReconnect();
}

void JobStream::onMessage(const QString& text) {
  if (!running_) return;
  const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
  const QString type = message.value(QStringLiteral("type")).toString();
  backoffMs_ = kFirstBackoffMs;  // the agent answers: the next drop retries quickly again
  if (type == QLatin1String("progress")) {
    const auto seq = static_cast<qint64>(message.value(QStringLiteral("seq")).toDouble());
    if (seq <= lastSeq_) return;  // already delivered
    if (seq != lastSeq_ + 1) {
      // A gap cannot come from the agent; start over from the last line we have.
      scheduleReconnect();
      emit errorOccurred(
          QStringLiteral("stream gap: got line %1 after %2; reconnecting").arg(seq).arg(lastSeq_));
      return;
    }
    lastSeq_ = seq;
    emit progressLine(seq, message.value(QStringLiteral("line")).toObject());
  } else if (type == QLatin1String("job")) {
    emit jobState(message.value(QStringLiteral("state")).toString(),
                  message.value(QStringLiteral("message")).toString());
  } else if (type == QLatin1String("end")) {
    running_ = false;
    stop(true);
    emit ended(message.value(QStringLiteral("state")).toString());
  }
}

void JobStream::scheduleReconnect() {
  stop(false);
  if (!running_ || fatal_) return;
  retry_.start(backoffMs_);
  backoffMs_ = std::min(backoffMs_ * 2, kMaxBackoffMs);
}

void JobStream::stop(bool closeNormally) {
  retry_.stop();
  if (socket_) {
    QWebSocket* socket = socket_;
    socket_ = nullptr;
    socket->disconnect(this);
    if (closeNormally) {
      socket->close(QWebSocketProtocol::CloseCodeNormal);
    } else {
      socket->abort();
    }
    socket->deleteLater();
  }
  setConnected(false);
}

void JobStream::setConnected(bool connected) {
  if (connected == connected_) return;
  connected_ = connected;
  emit connectionChanged(connected);
}

void JobStream::fail(const QString& message) {
  fatal_ = true;
  running_ = false;
  stop(false);
  emit errorOccurred(message);
}

}  // namespace ptyx::client
