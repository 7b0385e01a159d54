#include "LiveJob.hpp"

#include <QCoreApplication>
#include <QFile>
#include <QThread>

#include <cmath>
#include <exception>
#include <limits>
#include <mutex>

#include "RemoteJobs.hpp"
#include "Workbench.hpp"
#include "io/Formats.hpp"

namespace ptyx::app {

LiveJob::LiveJob(RemoteJobs& jobs, Workbench& workbench, QObject* parent)
    : QObject(parent), jobs_(jobs), workbench_(workbench) {}

Reconstruction readResultFile(const QString& path) {
  // One CXI read at a time from the helper threads of the remote views: HDF5's thread-safe
  // build serialises its own calls, this keeps the engine's reader code to one thread at once.
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  return readResult(path.toStdString());
}

IterationMetrics LiveJob::metricsFrom(const QJsonObject& line) {
  IterationMetrics m;
  m.iteration = line.value(QStringLiteral("iteration")).toInt();
  m.fourierError = line.value(QStringLiteral("fourier_error")).toDouble();
  m.overlapError = line.value(QStringLiteral("overlap_error")).toDouble();
  const QJsonValue object = line.value(QStringLiteral("object_error"));
  m.objectError = object.isDouble() ? object.toDouble() : std::numeric_limits<double>::quiet_NaN();
  m.seconds = line.value(QStringLiteral("seconds")).toDouble();
  m.parametersChanged = line.value(QStringLiteral("parameters_changed")).toBool();
  return m;
}

void LiveJob::stopFollowing() {
  ++generation_;
  if (feed_) {
    feed_->close();
    feed_->deleteLater();
  }
  if (job_ > 0) workbench_.endRemoteView();
  job_ = 0;
  agent_.clear();
  fetching_ = snapshotPending_ = false;
}

void LiveJob::follow(const QString& agent, qint64 job) {
  stopFollowing();
  auto* c = jobs_.client(agent);
  if (!c) {
    emit message(tr("There is no agent profile named '%1'.").arg(agent));
    return;
  }
  agent_ = agent;
  job_ = job;
  lines_ = snapshots_ = snapshotsFetched_ = 0;
  shownIteration_ = -1;
  scratch_ = std::make_unique<QTemporaryDir>();
  const quint64 generation = generation_;
  // The job's own iteration count sets the status bar's total and ETA.
  c->job(
      job,
      [this, c, generation](const client::AgentResult& r) {
        if (generation != generation_) return;
        if (!r.ok) {
          emit message(r.error);
          stopFollowing();
          return;
        }
        const QJsonObject spec = r.json.value(QStringLiteral("spec")).toObject();
        const int iterations = spec.value(QStringLiteral("parameters"))
                                   .toObject()
                                   .value(QStringLiteral("iterations"))
                                   .toInt(300);
        workbench_.beginRemoteView(iterations);
        feed_ = new JobFeed(c->endpoint(), job_, this);
        connect(feed_, &JobFeed::progressLine, this, &LiveJob::onLine);
        connect(feed_, &JobFeed::ended, this, &LiveJob::onEnded);
        connect(feed_, &JobFeed::errorOccurred, this, &LiveJob::message);
        feed_->start(0);
        emit followed(agent_, job_);
        emit message(tr("Following job %1 on %2").arg(job_).arg(agent_));
      },
      this);
}

void LiveJob::onLine(qint64, const QJsonObject& line) {
  ++lines_;
  emit progressLine(agent_, job_, line);
  const QString event = line.value(QStringLiteral("event")).toString();
  if (event == QLatin1String("iteration")) {
    workbench_.showRemoteIteration(metricsFrom(line));
  } else if (event == QLatin1String("snapshot")) {
    fetchSnapshot();
  }
}

void LiveJob::fetchSnapshot() {
  // Snapshots are the latest state, not a queue: one download at a time, and one more after it
  // when lines asked for it meanwhile.
  if (fetching_) {
    snapshotPending_ = true;
    return;
  }
  auto* c = jobs_.client(agent_);
  if (!c || !scratch_) return;
  fetching_ = true;
  const quint64 generation = generation_;
  // A name per download: a reader still busy with the previous file keeps it.
  const QString path = scratch_->filePath(QStringLiteral("snapshot-%1.cxi").arg(++fetched_));
  c->fetchSnapshot(
      job_, path,
      [this, generation](const client::AgentResult& r) {
        if (generation != generation_) return;
        fetching_ = false;
        if (r.ok) {
          ++snapshotsFetched_;
          showFile(r.path, r.iteration, false);
        } else {
          emit message(r.error);
        }
        if (snapshotPending_) {
          snapshotPending_ = false;
          fetchSnapshot();
        }
      },
      this);
}

void LiveJob::showFile(const QString& path, qint64 iteration, bool final) {
  // Reading a CXI file of a large object takes a moment: on a helper thread (HDF5's C API in
  // its thread-safe build), back to the views through a queued call that is dropped if this
  // object or the followed job changed meanwhile.
  const quint64 generation = generation_;
  QPointer<LiveJob> self = this;
  auto* reader = QThread::create([self, path, iteration, generation, final] {
    std::shared_ptr<const ViewSnapshot> snapshot;
    try {
      Reconstruction result = readResultFile(path);
      Snapshot state;
      state.object = std::move(result.object);
      state.probe = std::move(result.probe);
      if (!result.history.empty()) state.metrics = result.history.back();
      state.iteration = iteration >= 0 ? static_cast<int>(iteration) : state.metrics.iteration;
      snapshot = ViewSnapshot::prepare(state);  // on this reader thread
    } catch (const std::exception&) {
      snapshot.reset();
    }
    QFile::remove(path);
    QMetaObject::invokeMethod(
        qApp,
        [self, snapshot, generation, final] {
          if (!self || generation != self->generation_) return;
          // A slow read of an older snapshot does not replace a newer one; the final state
          // always ends the view, even when its file could not be read.
          if (snapshot && (final || snapshot->state->iteration >= self->shownIteration_)) {
            ++self->snapshots_;
            self->shownIteration_ = snapshot->state->iteration;
            self->workbench_.showRemoteSnapshot(snapshot);
            emit self->snapshotShown(snapshot->state->iteration);
          } else if (!snapshot) {
            emit self->message(
                tr("Cannot read the job's %1").arg(final ? tr("result") : tr("snapshot")));
          }
          if (final) self->stopFollowing();
        },
        Qt::QueuedConnection);
  });
  connect(reader, &QThread::finished, reader, &QObject::deleteLater);
  reader->start();
}

void LiveJob::onEnded(const QString& state) {
  const QString agent = agent_;
  const qint64 job = job_;
  emit ended(agent, job, state);
  emit message(tr("Job %1 on %2: %3").arg(job).arg(agent, state));
  auto* c = jobs_.client(agent_);
  if (!c || !scratch_ ||
      (state != QLatin1String("finished") && state != QLatin1String("stopped"))) {
    stopFollowing();
    return;
  }
  // The final state: the result, shown like a last snapshot.
  const quint64 generation = generation_;
  c->fetchResult(
      job_, scratch_->filePath(QStringLiteral("final.cxi")),
      [this, generation](const client::AgentResult& r) {
        if (generation != generation_) return;
        if (!r.ok) {
          emit message(r.error);
          stopFollowing();
          return;
        }
        showFile(r.path, -1, true);
      },
      this);
}

}  // namespace ptyx::app
