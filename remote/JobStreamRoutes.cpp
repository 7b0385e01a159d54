// The agent's live endpoints (docs/AGENT.md): GET /jobs/{id}/stream (a WebSocket per client and
// job, JobStreamSession) and GET /jobs/{id}/snapshot (the run's latest snapshot.cxi).
#include <QCryptographicHash>
#include <QFile>
#include <QTcpSocket>
#include <QUrlQuery>

#include <nlohmann/json.hpp>

#include "Agent.hpp"
#include "JobStreamSession.hpp"
#include "WebSocketConnection.hpp"

namespace ptyx::agent {

using nlohmann::json;

namespace {

constexpr qint64 kMaxSnapshotBytes = 2LL << 30;

bool parseCount(const QString& text, qint64& value) {
  if (text.isEmpty() || text.size() > 18) return false;
  for (QChar c : text) {
    if (!c.isDigit()) return false;
  }
  value = text.toLongLong();
  return true;
}

/// The iteration of the newest "snapshot" line in progress.jsonl (-1: none), from the file's end.
qint64 lastSnapshotIteration(const QString& progressFile) {
  QFile f(progressFile);
  if (!f.open(QIODevice::ReadOnly)) return -1;
  // Snapshots are written every few seconds at most; the last MiB holds the newest one.
  const qint64 tail = std::min<qint64>(f.size(), 1 << 20);
  f.seek(f.size() - tail);
  const QList<QByteArray> lines = f.read(tail).split('\n');
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!it->contains("\"snapshot\"")) continue;
    const json j = json::parse(it->constData(), it->constData() + it->size(), nullptr, false);
    if (j.is_object() && j.value("event", "") == "snapshot" && j.contains("iteration") &&
        j["iteration"].is_number_integer()) {
      return j["iteration"].get<qint64>();
    }
  }
  return -1;
}

}  // namespace

std::optional<HttpResponse> Agent::upgrade(const HttpRequest& request, QTcpSocket* socket,
                                           const QByteArray& pending) {
  const QStringList& s = request.segments;
  qint64 id = 0;
  if (s.size() != 3 || s[0] != "jobs" || s[2] != "stream" || !parseCount(s[1], id)) {
    return jsonError(404, "no WebSocket endpoint here");
  }
  if (!store_.job(id)) return jsonError(404, "no such job");
  qint64 after = 0;
  const qsizetype q = request.target.indexOf('?');
  if (q >= 0) {
    const QUrlQuery query(QString::fromUtf8(request.target.mid(q + 1)));
    if (query.hasQueryItem("after") && !parseCount(query.queryItemValue("after"), after)) {
      return jsonError(400, "'after' must be a whole number >= 0 (the last seq received)");
    }
  }
  if (auto refused = checkWebSocketUpgrade(request)) return refused;
  if (JobStreamSession::count() >= JobStreamSession::kMaxSessions) {
    return jsonError(503, QStringLiteral("too many streams open (%1); try again later")
                              .arg(JobStreamSession::kMaxSessions));
  }
  auto* connection =
      new WebSocketConnection(socket, request.headers.value("sec-websocket-key"), pending);
  new JobStreamSession(
      connection, id, jobDir(id) + "/run/progress.jsonl", after,
      [this, id] { return store_.job(id); }, this);
  return std::nullopt;
}

HttpResponse Agent::snapshot(std::int64_t id) {
  if (!store_.job(id)) return jsonError(404, "no such job");
  const QString run = jobDir(id) + "/run";
  // ptyx renames a complete snapshot.cxi into place, then appends its "snapshot" line. The line
  // read before and after the bytes must agree, or a newer snapshot arrived meanwhile: again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const qint64 before = lastSnapshotIteration(run + "/progress.jsonl");
    QFile f(run + "/snapshot.cxi");
    if (before < 0 || !f.open(QIODevice::ReadOnly))
      return jsonError(404, "the job has no snapshot (yet)");
    if (f.size() > kMaxSnapshotBytes) return jsonError(500, "the snapshot is too large to send");
    HttpResponse r;
    r.body = f.readAll();
    if (lastSnapshotIteration(run + "/progress.jsonl") != before) continue;
    r.contentType = "application/x-hdf5";
    r.headers.append(
        {"X-Ptyx-SHA256", QCryptographicHash::hash(r.body, QCryptographicHash::Sha256).toHex()});
    r.headers.append({"X-Ptyx-Iteration", QByteArray::number(before)});
    return r;
  }
  return jsonError(503, "the snapshot keeps changing; try again");
}

}  // namespace ptyx::agent
