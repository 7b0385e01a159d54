#include "JobStreamSession.hpp"

#include <nlohmann/json.hpp>

#include "WebSocketConnection.hpp"

namespace ptyx::agent {

using nlohmann::json;

namespace {

constexpr int kPollMs = 100;
constexpr int kPingMs = 15'000;
constexpr qint64 kSilentLimitMs = 45'000;  // three unanswered pings
constexpr qint64 kLowWater = 1LL << 20;    // read more of the file only below this backlog
constexpr qint64 kReadChunk = 256 * 1024;

// A line that is not valid UTF-8 is sent with U+FFFD in place of the bad bytes.
QByteArray compact(const json& j) {
  return QByteArray::fromStdString(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

JobStreamSession::JobStreamSession(WebSocketConnection* connection, std::int64_t id,
                                   QString progressFile, qint64 after, JobLookup lookup,
                                   QObject* parent)
    : QObject(parent),
      connection_(connection),
      id_(id),
      path_(std::move(progressFile)),
      file_(path_),
      after_(after),
      lookup_(std::move(lookup)) {
  ++count_;
  connection_->setParent(this);
  connect(connection_, &WebSocketConnection::disconnected, this, [this] {
    poll_.stop();
    ping_.stop();
    deleteLater();
  });
  // A slow client: more lines as soon as it has taken some.
  connect(connection_, &WebSocketConnection::bytesWritten, this, [this] {
    if (!ending_ && connection_->pendingBytes() < kLowWater) sendLines();
  });
  poll_.setInterval(kPollMs);
  connect(&poll_, &QTimer::timeout, this, &JobStreamSession::tick);
  ping_.setInterval(kPingMs);
  connect(&ping_, &QTimer::timeout, this, [this] { connection_->sendPing(); });
  poll_.start();
  ping_.start();
  tick();
}

JobStreamSession::~JobStreamSession() {
  --count_;
}

void JobStreamSession::tick() {
  if (ending_ || !connection_->isOpen()) return;
  if (connection_->pendingBytes() > kMaxPending || connection_->silentMs() > kSilentLimitMs) {
    connection_->abort();  // a client that does not read, or answers no ping: gone
    return;
  }
  // The state first, the lines second: once a job is seen ended its process is gone, so the
  // file read after that is complete.
  const std::optional<JobRecord> job = lookup_();
  if (!job) {
    finish("deleted");
    return;
  }
  if (job->state != lastState_) sendJob(*job);
  const bool atEnd = sendLines();
  if (isTerminal(job->state) && atEnd) finish(job->state);
}

void JobStreamSession::sendJob(const JobRecord& job) {
  lastState_ = job.state;
  connection_->sendText(
      compact({{"type", "job"}, {"id", id_}, {"state", job.state}, {"message", job.message}}));
}

bool JobStreamSession::sendLines() {
  if (!file_.isOpen()) {
    if (!file_.exists() || !file_.open(QIODevice::ReadOnly)) return true;  // nothing written yet
  }
  while (connection_->isOpen() && connection_->pendingBytes() < kLowWater) {
    if (!file_.seek(offset_)) return true;
    const QByteArray chunk = file_.read(kReadChunk);
    if (chunk.isEmpty()) return true;
    const qsizetype lastNewline = chunk.lastIndexOf('\n');
    if (lastNewline < 0) {
      // Only the start of a line: it is being written (or the process died in the middle of it).
      return chunk.size() < kReadChunk;
    }
    qsizetype start = 0;
    while (start <= lastNewline) {
      const qsizetype end = chunk.indexOf('\n', start);
      const QByteArray text = chunk.mid(start, end - start);
      start = end + 1;
      ++lines_;
      if (lines_ <= after_) continue;
      json line = json::parse(text.constData(), text.constData() + text.size(), nullptr, false);
      if (!line.is_object()) line = json{{"event", "unreadable"}, {"text", text.toStdString()}};
      connection_->sendText(compact({{"type", "progress"}, {"seq", lines_}, {"line", line}}));
    }
    offset_ += lastNewline + 1;
    if (chunk.size() < kReadChunk) return true;
  }
  return false;  // the client has not taken the earlier lines yet
}

void JobStreamSession::finish(const std::string& state) {
  ending_ = true;
  poll_.stop();
  connection_->sendText(compact({{"type", "end"}, {"state", state}}));
  connection_->close(1000, "the job has ended");
}

}  // namespace ptyx::agent
