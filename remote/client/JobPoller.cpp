#include "JobPoller.hpp"

#include "AgentClient.hpp"

namespace ptyx::client {

namespace {
bool terminal(const QString& state) {
  return state == QLatin1String("finished") || state == QLatin1String("stopped") ||
         state == QLatin1String("failed") || state == QLatin1String("cancelled");
}
}  // namespace

JobPoller::JobPoller(AgentEndpoint endpoint, qint64 jobId, QObject* parent)
    : QObject(parent),
      client_(new AgentClient(std::move(endpoint), QString(), this)),
      jobId_(jobId) {
  timer_.setInterval(300);
  connect(&timer_, &QTimer::timeout, this, &JobPoller::poll);
}

void JobPoller::start(qint64 afterSeq) {
  lastSeq_ = afterSeq;
  ended_ = false;
  timer_.start();
  poll();
}

void JobPoller::close() {
  timer_.stop();
}

void JobPoller::poll() {
  if (inFlight_ || ended_) return;
  inFlight_ = true;
  client_->job(
      jobId_,
      [this](const AgentResult& r) {
        inFlight_ = false;
        if (r.ok != connected_) {
          connected_ = r.ok;
          emit connectionChanged(connected_);
        }
        if (!r.ok) {
          emit errorOccurred(r.error);
          return;
        }
        const QString state = r.json.value(QStringLiteral("state")).toString();
        const QJsonObject line = r.json.value(QStringLiteral("progress")).toObject();
        if (!line.isEmpty() && line != lastLine_) {
          lastLine_ = line;
          emit progressLine(++lastSeq_, line);
        }
        if (state != lastState_) {
          lastState_ = state;
          emit jobState(state, r.json.value(QStringLiteral("message")).toString());
        }
        if (terminal(state)) {
          ended_ = true;
          timer_.stop();
          emit ended(state);
        }
      },
      this);
}

}  // namespace ptyx::client
