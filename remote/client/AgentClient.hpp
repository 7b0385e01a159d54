#pragma once
// The workbench's side of the agent's HTTP API (docs/AGENT.md, docs/agent-openapi.yaml): one
// object per agent, every call asynchronous (QNetworkAccessManager on the caller's thread), each
// answer delivered once to a callback. Qt Core + Network only, so scripts and tests use it
// without widgets. Errors name the agent, the HTTP status and the agent's own message, because
// that is what a user has to act on ("agent 'cluster': 401 a valid bearer token is required").
#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QSslError>
#include <QString>

#include <functional>

#include "AgentEndpoint.hpp"

class QNetworkReply;
class QNetworkRequest;

namespace ptyx::client {

/// The outcome of one call.
struct AgentResult {
  bool ok = false;
  int status = 0;         ///< HTTP status; 0 when no answer came (connection, TLS, local file)
  QJsonObject json;       ///< the answer's JSON object (empty for downloads)
  QByteArray body;        ///< the raw answer (small answers only; downloads go to a file)
  QString error;          ///< for a user: names the agent, the status and the agent's message
  QString path;           ///< downloads: where the file now is
  QByteArray sha256;      ///< uploads and downloads: the file's SHA-256 (hex)
  qint64 iteration = -1;  ///< snapshots: X-Ptyx-Iteration
  qint64 resumedAt = 0;   ///< uploads: the byte the last request started at (> 0: resumed)
};

using AgentCallback = std::function<void(const AgentResult&)>;

/// A control command for a running job (docs/JOBS.md, the control file).
struct JobControl {
  QString command;  ///< "pause", "resume", "stop" or empty (with `set`)
  QJsonObject set;  ///< parameter changes (names of `ptyx recon --help` with '_')
  [[nodiscard]] QJsonObject toJson() const;
};

class AgentClient : public QObject {
  Q_OBJECT
 public:
  /// `name` is how errors refer to the agent (the profile's name).
  AgentClient(AgentEndpoint endpoint, QString name, QObject* parent = nullptr);
  ~AgentClient() override;
  AgentClient(const AgentClient&) = delete;
  AgentClient& operator=(const AgentClient&) = delete;

  [[nodiscard]] const AgentEndpoint& endpoint() const { return endpoint_; }
  [[nodiscard]] const QString& name() const { return name_; }

  // Every call delivers exactly one result to `done`, on this object's thread, unless this
  // client is destroyed first. `context` (optional) ends the call when it is destroyed.
  void health(AgentCallback done, QObject* context = nullptr);
  /// PUT /uploads/NAME, streamed from the file; its SHA-256 is computed first (off this
  /// thread) and sent as X-Ptyx-SHA256. uploadProgress follows the bytes the agent has. The
  /// agent's GET /uploads/NAME/status decides where to start: a file it already stores is not
  /// sent again (status 200 instead of 201), a broken upload of it is continued with
  /// Content-Range; a connection that breaks, or a busy agent (503), is retried and resumed a
  /// few times.
  void upload(const QString& filePath, const QString& name, AgentCallback done,
              QObject* context = nullptr);
  /// POST /jobs with a JobSpec v1 object; the result's json is the job.
  void submit(const QJsonObject& spec, AgentCallback done, QObject* context = nullptr);
  /// GET /jobs: json["jobs"] is the list.
  void listJobs(AgentCallback done, QObject* context = nullptr);
  void job(qint64 id, AgentCallback done, QObject* context = nullptr);
  void control(qint64 id, const JobControl& command, AgentCallback done,
               QObject* context = nullptr);
  /// POST /jobs/ID/cancel (DELETE /jobs/ID on agents without it).
  void cancel(qint64 id, AgentCallback done, QObject* context = nullptr);
  /// GET /jobs/ID/result into `targetPath`: written to a temporary file beside it, checked
  /// against X-Ptyx-SHA256 and only then renamed; nothing appears at the target otherwise.
  void fetchResult(qint64 id, const QString& targetPath, AgentCallback done,
                   QObject* context = nullptr);
  /// GET /jobs/ID/snapshot into `targetPath` (as fetchResult); result.iteration from the header.
  void fetchSnapshot(qint64 id, const QString& targetPath, AgentCallback done,
                     QObject* context = nullptr);
  void log(qint64 id, AgentCallback done, QObject* context = nullptr);

  /// A request for PATH (relative to the endpoint's URL) with the bearer token and the TLS
  /// trust of the endpoint; JobStream and others build theirs with it.
  [[nodiscard]] static QNetworkRequest request(const AgentEndpoint& endpoint, const QString& path);
  /// Checks a TLS reply against the endpoint's pin (SHA-256 of the peer's DER certificate):
  /// ignores chain errors when the pin matches. Call from QNetworkReply::sslErrors.
  static void applyPin(const AgentEndpoint& endpoint, QNetworkReply* reply,
                       const QList<QSslError>& errors);
  /// Whether the reply's peer certificate matches the pin (true when nothing is pinned).
  [[nodiscard]] static bool pinMatches(const AgentEndpoint& endpoint, const QNetworkReply* reply);

 signals:
  void uploadProgress(const QString& name, qint64 sent, qint64 total);
  void downloadProgress(qint64 id, qint64 received, qint64 total);

 private:
  using Finisher = std::function<void(QNetworkReply*, AgentResult&)>;
  void send(QNetworkReply* reply, AgentCallback done, QObject* context, Finisher finish = {},
            bool bodyIsFile = false);
  void download(qint64 id, const QString& what, const QString& targetPath, AgentCallback done,
                QObject* context);
  void startUpload(const QString& filePath, const QString& name, const QByteArray& sha256,
                   AgentCallback done, QObject* context, int attempt);
  void putUpload(const QString& filePath, const QString& name, const QByteArray& sha256,
                 qint64 offset, AgentCallback done, QObject* context, int attempt);
  [[nodiscard]] QString describe(int status, const QByteArray& body, const QString& fallback) const;

  AgentEndpoint endpoint_;
  QString name_;
  QNetworkAccessManager network_;
};

/// SHA-256 of a file's bytes, hex; empty when it cannot be read.
QByteArray fileSha256Hex(const QString& path);

}  // namespace ptyx::client
