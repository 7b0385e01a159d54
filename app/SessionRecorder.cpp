#include "SessionRecorder.hpp"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>

#include <exception>

#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"

namespace ptyx::app {
namespace {

bool changesParameters(const QString& name) {
  return name == QLatin1String("set_parameter") || name == QLatin1String("apply_preset") ||
         name == QLatin1String("undo") || name == QLatin1String("redo");
}

}  // namespace

SessionRecorder::SessionRecorder(CommandBus& bus, Workbench& workbench, QObject* parent)
    : QObject(parent), bus_(bus), workbench_(workbench) {
  clock_.start();
  started_ = QString::fromStdString(session::isoNowMillis());
  lastParams_ = workbench_.parameters();
  startParams_ = lastParams_;
  current_ = workbench_.state();
  connect(&bus_, &CommandBus::commandExecuted, this, &SessionRecorder::onCommand);
  connect(&workbench_, &Workbench::stateChanged, this, &SessionRecorder::onStateChanged);
  connect(&workbench_, &Workbench::scanLoaded, this,
          [this](const QString& path) { onScanLoaded(path, true); });
  connect(&workbench_, &Workbench::loadFailed, this,
          [this](const QString& path, const QString&) { onScanLoaded(path, false); });
  connect(&workbench_, &Workbench::runStarted, this, [this] { runStarted_ = true; });
  connect(&workbench_, &Workbench::runReturned, this, &SessionRecorder::onRunReturned);
  connect(&workbench_, &Workbench::parametersApplied, this, &SessionRecorder::onParametersApplied);
  connect(&workbench_, &Workbench::iterated, this, &SessionRecorder::onIterated);
}

SessionRecorder::~SessionRecorder() {
  // Opens still waiting for their scan: write them without a hash rather than lose what follows.
  for (auto& q : queue_) q.waiting = false;
  flushQueue();
}

QString SessionRecorder::defaultDirectory() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
         QStringLiteral("/sessions");
}

QString SessionRecorder::path() const {
  return writer_ ? QString::fromStdString(writer_->path()) : QString();
}

void SessionRecorder::setRecording(bool on) {
  if (on == recording_) return;
  recording_ = on;
  if (!on) {
    for (auto& q : queue_) q.waiting = false;
    flushQueue();
    writer_.reset();
    requestedPath_.clear();
    pendingParameters_.clear();
    pendingReturns_.clear();
    pendingStop_.reset();
  }
  emit recordingChanged(on);
}

void SessionRecorder::setName(const QString& name) {
  name_ = name;
  if (writer_) guarded([this] { writer_->writeName(name_.toStdString()); });
}

bool SessionRecorder::saveCopy(const QString& path, QString* why) {
  if (!writer_) {
    if (why) *why = tr("Nothing has been recorded yet.");
    return false;
  }
  QFile::remove(path);
  if (!QFile::copy(this->path(), path)) {
    if (why) *why = tr("Cannot copy the session to %1.").arg(path);
    return false;
  }
  return true;
}

bool SessionRecorder::ensureFile() {
  if (writer_) return true;
  QString target = requestedPath_;
  if (target.isEmpty()) {
    const QString dir = defaultDirectory();
    QDir().mkpath(dir);
    const QString stem = QStringLiteral("session-") + QDateTime::currentDateTime().toString(
                                                          QStringLiteral("yyyy-MM-dd_HH-mm-ss"));
    target = dir + QLatin1Char('/') + stem + QStringLiteral(".ptyx-session");
    for (int n = 2; QFileInfo::exists(target); ++n) {
      target = dir + QLatin1Char('/') + stem + QStringLiteral("-%1.ptyx-session").arg(n);
    }
  } else {
    QDir().mkpath(QFileInfo(target).absolutePath());
  }
  session::Header header;
  header.program = "ptyx-gui";
  header.programVersion = PTYX_VERSION;
  header.host = session::hostName();
  header.started = started_.toStdString();
  header.name = name_.toStdString();
  header.parameters = toJson(startParams_);
  try {
    writer_ = std::make_unique<session::SessionWriter>(target.toStdString(), header);
  } catch (const std::exception& e) {
    recording_ = false;
    emit failed(QString::fromStdString(e.what()));
    emit recordingChanged(false);
    return false;
  }
  return true;
}

void SessionRecorder::guarded(const std::function<void()>& line) {
  if (!writer_) return;
  try {
    line();
  } catch (const std::exception& e) {
    writer_.reset();
    recording_ = false;
    emit failed(QString::fromStdString(e.what()));
    emit recordingChanged(false);
  }
}

void SessionRecorder::write(std::function<void()> line) {
  if (!recording_ || !ensureFile()) return;
  queue_.push_back({std::move(line), false, {}, {}});
  flushQueue();
}

void SessionRecorder::flushQueue() {
  while (!queue_.empty() && !queue_.front().waiting) {
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    if (q.write) {
      guarded(q.write);
    } else {
      guarded([this, &q] { writer_->write(q.open); });  // an open resolved without a hash
    }
  }
}

void SessionRecorder::abandonPending() {
  std::vector<int> never;
  for (const auto& [seq, params] : pendingParameters_) never.push_back(seq);
  never.insert(never.end(), pendingReturns_.begin(), pendingReturns_.end());
  if (pendingStop_) never.push_back(*pendingStop_);
  pendingParameters_.clear();
  pendingReturns_.clear();
  pendingStop_.reset();
  for (const int seq : never) write([this, seq] { writer_->writeEffect(seq, std::nullopt); });
}

void SessionRecorder::onStateChanged(Workbench::State state) {
  if (changes_ == 0) before_ = current_;
  current_ = state;
  ++changes_;
}

void SessionRecorder::resetStateBaseline() {
  changes_ = 0;
}

void SessionRecorder::onCommand(const QString& name, const QJsonObject& arguments) {
  const bool changed = changes_ > 0;
  const Workbench::State before = changed ? before_ : current_;
  const bool startedRun = runStarted_;
  resetStateBaseline();
  runStarted_ = false;
  const ReconParams params = workbench_.parameters();
  if (!writer_) startParams_ = lastParams_;  // a file begun by this command starts before it
  const bool paramsChanged = !(params == lastParams_);
  lastParams_ = params;
  if (!recording_) return;

  session::Action a;
  a.seq = ++seq_;
  a.time = session::isoNowMillis();
  a.offset_s = static_cast<double>(clock_.nsecsElapsed()) * 1e-9;
  a.command = name.toStdString();
  a.arguments = QJsonDocument(arguments).toJson(QJsonDocument::Compact).toStdString();
  a.iteration = workbench_.iteration();
  using S = Workbench::State;
  const bool live = current_ == S::Running || current_ == S::Paused;

  if (changesParameters(name)) {
    a.parameters = toJson(params);
    const QString parameter = arguments.value(QStringLiteral("name")).toString();
    const QString value = arguments.value(QStringLiteral("value")).toString();
    if ((parameter == QLatin1String("probe_file") || parameter == QLatin1String("object_file")) &&
        !value.isEmpty()) {
      try {
        a.files.push_back(
            {parameter.toStdString(), value.toStdString(), fileSha256(value.toStdString())});
      } catch (const std::exception&) {
        // Unreadable: the run's checks will say so; replay reports the file as missing.
      }
    }
    if (paramsChanged && live) pendingParameters_.emplace_back(a.seq, params);
  } else if (name == QLatin1String("run") || name == QLatin1String("step")) {
    if (startedRun) {
      abandonPending();  // the previous run is gone
      a.startsRun = ++run_;
      runEnded_ = false;
      a.parameters = toJson(params);
      // What it computes on: a replay on another backend matches only within rounding.
      QJsonObject withBackend = arguments;
      withBackend.insert(QStringLiteral("backend"), workbench_.runBackend());
      a.arguments = QJsonDocument(withBackend).toJson(QJsonDocument::Compact).toStdString();
    }
    if (name == QLatin1String("step")) pendingReturns_.push_back(a.seq);
  } else if (name == QLatin1String("pause")) {
    if (changed && before == S::Running && current_ == S::Paused) pendingReturns_.push_back(a.seq);
  } else if (name == QLatin1String("stop")) {
    if (changed && current_ == S::Finished && (before == S::Running || before == S::Paused)) {
      pendingStop_ = a.seq;
    }
  } else if (name == QLatin1String("save_result")) {
    if (const auto result = workbench_.result()) a.result = session::resultHashes(*result, run_);
  } else if (name == QLatin1String("open_scan")) {
    abandonPending();
    runEnded_ = true;
    if (!ensureFile()) return;
    queue_.push_back({{}, true, a, arguments.value(QStringLiteral("path")).toString()});
    return;
  }
  write([this, a] { writer_->write(a); });
}

void SessionRecorder::onScanLoaded(const QString& path, bool loaded) {
  resetStateBaseline();
  for (auto& q : queue_) {
    if (!q.waiting) continue;
    q.waiting = false;
    if (q.openPath != path) {
      // Asked for while another scan was still being read: the workbench ignored it.
      const int seq = q.open.seq;
      q.write = [this, open = q.open, seq] {
        writer_->write(open);
        writer_->writeEffect(seq, std::nullopt);
      };
      continue;
    }
    session::Action open = q.open;
    const auto scan = workbench_.scan();
    if (loaded && scan && !scan->sourceHash.empty()) {
      open.files.push_back({"path", path.toStdString(), scan->sourceHash});
    }
    q.write = [this, open, loaded] {
      writer_->write(open);
      if (!loaded) writer_->writeEffect(open.seq, std::nullopt);
    };
    break;
  }
  flushQueue();
}

void SessionRecorder::onParametersApplied(int iteration, const ReconParams& params) {
  if (pendingParameters_.empty()) return;
  // The run picked up the latest request it had: everything asked for up to the first pending
  // change that carries these parameters reached it together (a request replaces earlier ones
  // not yet picked up). The first match, not the last: a redo asks for parameters an earlier
  // change already did, after the run may have picked that one up. Where requests made after
  // the pick-up repeat these parameters, they stay pending and are written as never taking
  // effect, which replays to the same run.
  std::size_t last = pendingParameters_.size() - 1;
  for (std::size_t i = 0; i < pendingParameters_.size(); ++i) {
    if (pendingParameters_[i].second == params) {
      last = i;
      break;
    }
  }
  for (std::size_t i = 0; i <= last; ++i) {
    const int seq = pendingParameters_[i].first;
    write([this, seq, iteration] { writer_->writeEffect(seq, iteration); });
  }
  pendingParameters_.erase(pendingParameters_.begin(),
                           pendingParameters_.begin() + static_cast<std::ptrdiff_t>(last + 1));
}

void SessionRecorder::checkpoint(int iteration, const IterationMetrics& m, const char* reason) {
  if (iteration <= 0 || !checkpointed_.insert({run_, iteration}).second) return;
  const session::Checkpoint c{run_,   iteration, m.fourierError, m.overlapError, m.objectError,
                              reason, 0};
  write([this, c] { writer_->write(c); });
}

void SessionRecorder::onIterated(const IterationMetrics& metrics) {
  if (metrics.iteration % 10 == 0) checkpoint(metrics.iteration, metrics, "every");
}

void SessionRecorder::onRunReturned(RunEnd end, int iteration) {
  resetStateBaseline();
  const auto result = workbench_.result();
  auto metricsAt = [&]() -> std::optional<IterationMetrics> {
    if (!result || result->history.size() != static_cast<std::size_t>(iteration) ||
        iteration == 0) {
      return std::nullopt;
    }
    return result->history.back();
  };
  switch (end) {
    case RunEnd::Paused:
      if (!pendingReturns_.empty()) {
        const int seq = pendingReturns_.front();
        pendingReturns_.pop_front();
        write([this, seq, iteration] { writer_->writeEffect(seq, iteration); });
      }
      if (const auto m = metricsAt()) checkpoint(iteration, *m, "pause");
      break;
    case RunEnd::Stopped:
      if (pendingStop_) {
        const int seq = *pendingStop_;
        pendingStop_.reset();
        write([this, seq, iteration] { writer_->writeEffect(seq, iteration); });
      }
      if (const auto m = metricsAt(); m && !runEnded_) checkpoint(iteration, *m, "stop");
      runEnded_ = true;
      abandonPending();
      break;
    case RunEnd::Finished:
    case RunEnd::Failed:
      if (runEnded_) break;  // a second return of the same run (a stop queued behind the end)
      runEnded_ = true;
      if (const auto m = metricsAt())
        checkpoint(iteration, *m, end == RunEnd::Finished ? "finished" : "failed");
      {
        const session::RunEnd e{run_, iteration, end == RunEnd::Finished ? "finished" : "failed",
                                0};
        write([this, e] { writer_->write(e); });
      }
      abandonPending();
      break;
  }
}

}  // namespace ptyx::app
