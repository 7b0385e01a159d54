#include "SessionTimeline.hpp"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>
#include <exception>
#include <limits>

#include "backend/Devices.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"
#include "session/Replayer.hpp"

namespace ptyx::app {
namespace {

constexpr double kTolerance = 1e-6;  // as `ptyx replay`'s default

QString clockText(double seconds) {
  const auto s = static_cast<long long>(std::floor(seconds));
  return QStringLiteral("%1:%2.%3")
      .arg(s / 60)
      .arg(s % 60, 2, 10, QLatin1Char('0'))
      .arg(static_cast<int>((seconds - std::floor(seconds)) * 10.0));
}

bool isParameterEdit(const std::string& command) {
  return command == "set_parameter" || command == "apply_preset" || command == "undo" ||
         command == "redo";
}

QJsonObject arguments(const session::Action& a) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(a.arguments)).object();
}

QString describe(const session::Action& a) {
  QJsonObject args = arguments(a);
  QString text = QString::fromStdString(a.command);
  if (a.command == "set_parameter") {
    text += QLatin1Char(' ') + args.value(QStringLiteral("name")).toString() + QLatin1Char('=') +
            args.value(QStringLiteral("value")).toString();
    args = {};
  }
  for (auto it = args.begin(); it != args.end(); ++it) {
    const bool where = it.key() == QLatin1String("backend") && a.command != "set_backend";
    text += (where ? QStringLiteral(" on ") : QStringLiteral(" ")) +
            (it.value().isString()
                 ? QFileInfo(it.value().toString()).fileName()
                 : QString::fromUtf8(QJsonDocument(QJsonObject{{it.key(), it.value()}})
                                         .toJson(QJsonDocument::Compact)));
  }
  if (a.effect == session::Action::Effect::At)
    text += QStringLiteral("  @ iteration %1").arg(a.effectIteration);
  return text;
}

// Actions that reached the live run at a recorded iteration, and so wait for it.
bool anchored(const session::Action& a) {
  if (a.effect != session::Action::Effect::At) return false;
  return a.command == "pause" || a.command == "stop" || a.command == "set_parameter" ||
         a.command == "apply_preset" || a.command == "undo" || a.command == "redo";
}

}  // namespace

SessionTimeline::SessionTimeline(CommandBus& bus, QWidget* parent) : QWidget(parent), bus_(bus) {
  setObjectName(QStringLiteral("sessionTimeline"));
  ask_ = !qEnvironmentVariableIsSet("PTYX_GUI_NO_DIALOGS");
  list_ = new QListWidget(this);
  list_->setObjectName(QStringLiteral("sessionTimelineList"));
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  playButton_ = new QPushButton(tr("Play"), this);
  playButton_->setObjectName(QStringLiteral("sessionPlayButton"));
  playButton_->setEnabled(false);
  connect(playButton_, &QPushButton::clicked, this, [this] { playing_ ? pause() : play(); });
  speed_ = new QComboBox(this);
  speed_->setObjectName(QStringLiteral("sessionSpeedCombo"));
  speed_->addItem(tr("As fast as possible"), 0.0);
  for (const double x : {0.5, 1.0, 2.0, 5.0, 10.0})
    speed_->addItem(QStringLiteral("%1×").arg(x), x);
  connect(speed_, &QComboBox::currentIndexChanged, this,
          [this](int index) { setSpeed(speed_->itemData(index).toDouble()); });
  status_ = new QLabel(tr("Open a session (Session ▸ Open session for replay)."), this);
  status_->setObjectName(QStringLiteral("sessionStatusLabel"));
  status_->setWordWrap(true);
  auto* controls = new QHBoxLayout;
  controls->addWidget(playButton_);
  controls->addWidget(speed_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(list_, 1);
  layout->addWidget(status_);

  timer_ = new QTimer(this);
  timer_->setSingleShot(true);
  connect(timer_, &QTimer::timeout, this, [this] {
    if (wait_ == Wait::Time) wait_ = Wait::Nothing;
    advance();
  });

  Workbench& wb = bus_.workbench();
  connect(&wb, &Workbench::iterated, this, &SessionTimeline::onIterated);
  connect(&wb, &Workbench::runReturned, this, &SessionTimeline::onRunReturned);
  connect(&wb, &Workbench::runStarted, this, [this] {
    if (!playing_) return;
    ++run_;
    metrics_.clear();
    // Before the first iteration is queued: the run stops exactly where the recording acted.
    bus_.workbench().holdAt(nextAnchor(next_));
  });
  auto loaded = [this] {
    if (wait_ != Wait::ScanLoaded) return;
    wait_ = Wait::Nothing;
    QTimer::singleShot(0, this, &SessionTimeline::advance);
  };
  connect(&wb, &Workbench::scanLoaded, this, loaded);
  connect(&wb, &Workbench::loadFailed, this,
          [this, loaded](const QString& path, const QString& message) {
            mark(waitingEntry_, false, tr("cannot open %1: %2").arg(path, message));
            loaded();
          });
}

bool SessionTimeline::load(const QString& path, QString* why) {
  try {
    session_ = session::readSession(path.toStdString());
  } catch (const std::exception& e) {
    if (why) *why = QString::fromStdString(e.what());
    return false;
  }
  pause();
  entries_ = session_.entries;
  rows_.assign(entries_.size(), -1);
  list_->clear();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    QString text;
    if (const auto* a = std::get_if<session::Action>(&entries_[i])) {
      text = clockText(a->offset_s) + QStringLiteral("  ") + describe(*a);
    } else if (const auto* c = std::get_if<session::Checkpoint>(&entries_[i])) {
      text = QStringLiteral("          checkpoint run %1, iteration %2: Fourier error %3")
                 .arg(c->run)
                 .arg(c->iteration)
                 .arg(c->fourierError, 0, 'g', 6);
    } else if (const auto* e = std::get_if<session::RunEnd>(&entries_[i])) {
      text = QStringLiteral("          run %1 %2 at iteration %3")
                 .arg(e->run)
                 .arg(QString::fromStdString(e->reason))
                 .arg(e->iteration);
    }
    rows_[i] = list_->count();
    list_->addItem(text);
  }
  next_ = 0;
  run_ = 0;
  matched_ = mismatched_ = 0;
  wait_ = Wait::Nothing;
  pendingCheckpoints_.clear();
  metrics_.clear();
  playButton_->setEnabled(!entries_.empty());
  const auto& h = session_.header;
  status_->setText(tr("%1: recorded %2 on %3, %4 entries.")
                       .arg(QFileInfo(path).fileName(), QString::fromStdString(h.started),
                            QString::fromStdString(h.host))
                       .arg(entries_.size()));
  return true;
}

void SessionTimeline::setSubstitute(const QString& recorded, const QString& substitute) {
  substitutes_[recorded] = substitute;
}

void SessionTimeline::setSpeed(double speed) {
  // Keep the place in the recording: restart the clock from the next entry's recorded time.
  clockOffset_s_ = 0.0;
  if (next_ < entries_.size()) {
    if (const auto* a = std::get_if<session::Action>(&entries_[next_]))
      clockOffset_s_ = a->offset_s;
  }
  clock_.restart();
  speedFactor_ = speed;
  const int index = speed_->findData(speed);
  if (index >= 0 && index != speed_->currentIndex()) speed_->setCurrentIndex(index);
}

void SessionTimeline::play() {
  if (entries_.empty() || isFinished()) return;
  if (next_ == 0 && !applyStartingParameters()) return;
  playing_ = true;
  playButton_->setText(tr("Pause"));
  setSpeed(speedFactor_);
  advance();
}

bool SessionTimeline::applyStartingParameters() {
  // The form as it stood when recording began (headless replay starts there too), set through
  // the command path like any edit, so that it is undoable and recorded.
  if (session_.header.parameters.empty()) return true;  // recorded before session 9
  ReconParams start;
  try {
    start = paramsFromJson(session_.header.parameters, session_.path + " line 1");
  } catch (const std::exception& e) {
    stopReplay(QString::fromStdString(e.what()));
    return false;
  }
  const ReconParams current = bus_.workbench().parameters();
  for (const auto& spec : reconParameterSchema()) {
    const std::string value = spec.get(start);
    if (value == spec.get(current)) continue;
    if (!bus_.setParameter(QString::fromStdString(spec.name), QString::fromStdString(value))) {
      stopReplay(tr("cannot set %1 to %2 as the recording began")
                     .arg(QString::fromStdString(spec.name), QString::fromStdString(value)));
      return false;
    }
  }
  return true;
}

void SessionTimeline::pause() {
  playing_ = false;
  timer_->stop();
  if (wait_ == Wait::Time) wait_ = Wait::Nothing;
  playButton_->setText(tr("Play"));
}

int SessionTimeline::currentRow() const {
  return list_->currentRow();
}

QString SessionTimeline::verdict(int row) const {
  const auto* item = list_->item(row);
  return item ? item->toolTip() : QString();
}

void SessionTimeline::mark(std::size_t entry, bool ok, const QString& text) {
  if (entry >= rows_.size()) return;
  auto* item = list_->item(rows_[entry]);
  (ok ? matched_ : mismatched_)++;
  item->setForeground(ok ? QColor(0, 128, 0) : QColor(200, 0, 0));
  item->setToolTip((ok ? QStringLiteral("match: ") : QStringLiteral("DIFFERS: ")) + text);
  item->setText(
      item->text().section(QStringLiteral("   ✔"), 0, 0).section(QStringLiteral("   ✘"), 0, 0) +
      (ok ? QStringLiteral("   ✔") : QStringLiteral("   ✘")));
}

void SessionTimeline::note(std::size_t entry, const QString& text) {
  if (entry < rows_.size()) list_->item(rows_[entry])->setToolTip(text);
}

void SessionTimeline::stopReplay(const QString& why) {
  pause();
  status_->setText(why);
  emit stopped(why);
}

QString SessionTimeline::resolveInput(const session::FileRef& ref, QString* problem) {
  const QString recorded = QString::fromStdString(ref.path);
  QString path = substitutes_.value(recorded, recorded);
  const bool substituted = path != recorded;
  auto changed = [&](const QString& p) {
    try {
      return QString::fromStdString(fileSha256(p.toStdString())) !=
             QString::fromStdString(ref.sha256);
    } catch (const std::exception&) {
      return true;
    }
  };
  if (!substituted && (!QFileInfo::exists(path) || changed(path))) {
    const QString what = QFileInfo::exists(path) ? tr("changed since recording") : tr("missing");
    if (!ask_) {
      *problem = tr("Input file %1: %2. Point to a substitute to continue.").arg(recorded, what);
      return {};
    }
    path = QFileDialog::getOpenFileName(
        this, tr("%1 is %2: choose a substitute").arg(QFileInfo(recorded).fileName(), what),
        QFileInfo(recorded).absolutePath());
    if (path.isEmpty()) {
      *problem = tr("Input file %1: %2; no substitute chosen.").arg(recorded, what);
      return {};
    }
    substitutes_[recorded] = path;
  }
  if (!QFileInfo::exists(path)) {
    *problem = tr("Substitute %1 for %2 is missing.").arg(path, recorded);
    return {};
  }
  return path;
}

int SessionTimeline::nextAnchor(std::size_t from) const {
  for (std::size_t i = from; i < entries_.size(); ++i) {
    if (const auto* a = std::get_if<session::Action>(&entries_[i]); a && anchored(*a))
      return a->effectIteration;
  }
  return -1;
}

void SessionTimeline::advance() {
  Workbench& wb = bus_.workbench();
  while (playing_ && wait_ == Wait::Nothing && next_ < entries_.size()) {
    const std::size_t i = next_;
    list_->setCurrentRow(rows_[i]);
    if (const auto* a = std::get_if<session::Action>(&entries_[i])) {
      if (speedFactor_ > 0.0) {
        const double due_s = (a->offset_s - clockOffset_s_) / speedFactor_;
        const double now_s = static_cast<double>(clock_.elapsed()) / 1000.0;
        if (now_s < due_s) {
          wait_ = Wait::Time;
          timer_->start(static_cast<int>(std::ceil((due_s - now_s) * 1000.0)));
          return;
        }
      }
      if (anchored(*a) && wb.state() == Workbench::State::Running &&
          wb.iteration() < a->effectIteration) {
        // The run holds at the recorded iteration (set when it started or was released).
        wb.holdAt(a->effectIteration);
        wait_ = Wait::RunHeld;
        waitTarget_ = a->effectIteration;
        waitingEntry_ = i;
        return;
      }
      if (a->effect == session::Action::Effect::None && isParameterEdit(a->command) &&
          wb.state() == Workbench::State::Running) {
        // An edit that never reached the recorded run: the run stopped or ended before its next
        // iteration took it. Here the run may be far behind the recording's, so the edit waits
        // until the run stands where the recording's next action found it (or has ended).
        const int hold = nextAnchor(i + 1);
        if (hold < 0 || wb.iteration() < hold) {
          if (hold >= 0) wb.holdAt(hold);
          wait_ = hold >= 0 ? Wait::RunHeld : Wait::RunReturned;
          waitTarget_ = hold >= 0 ? hold : std::numeric_limits<int>::max();
          waitingEntry_ = i;
          return;
        }
      }
      ++next_;
      execute(*a);
    } else if (std::get_if<session::Checkpoint>(&entries_[i]) != nullptr) {
      ++next_;
      pendingCheckpoints_.push_back(i);
      compareCheckpoints();
    } else if (const auto* e = std::get_if<session::RunEnd>(&entries_[i])) {
      if (wb.state() == Workbench::State::Running) {
        wait_ = Wait::RunReturned;  // the run ends by itself
        waitTarget_ = std::numeric_limits<int>::max();
        waitingEntry_ = i;
        return;
      }
      ++next_;
      const bool ok = wb.iteration() == e->iteration;
      mark(i, ok,
           tr("the run ended at iteration %1, recorded %2").arg(wb.iteration()).arg(e->iteration));
    }
  }
  if (playing_ && wait_ == Wait::Nothing && next_ >= entries_.size()) {
    compareCheckpoints();
    for (const std::size_t c : pendingCheckpoints_)
      mark(c, false, tr("never reached in the replay"));
    pendingCheckpoints_.clear();
    pause();
    status_->setText(mismatched_ == 0
                         ? tr("Replay finished: everything matches (%1 checks).").arg(matched_)
                         : tr("Replay finished: %1 of %2 checks differ.")
                               .arg(mismatched_)
                               .arg(matched_ + mismatched_));
    emit finished(matched_, mismatched_);
  }
}

void SessionTimeline::execute(const session::Action& a) {
  Workbench& wb = bus_.workbench();
  const std::size_t entry = next_ - 1;
  QJsonObject args = arguments(a);
  const QString command = QString::fromStdString(a.command);
  if (command == QLatin1String("submit_job") || command == QLatin1String("job_control")) {
    note(entry, tr("not re-executed (remote job)"));
    return;
  }
  if (command == QLatin1String("open_scan")) {
    if (a.effect == session::Action::Effect::None)
      return note(entry, tr("did not open in the recording"));
    for (const auto& ref : a.files) {
      if (ref.argument != "path") continue;
      QString problem;
      const QString path = resolveInput(ref, &problem);
      if (path.isEmpty()) {
        note(entry, problem);
        next_ = entry;  // Play again retries here (with a substitute set by then)
        return stopReplay(problem);
      }
      if (path != QString::fromStdString(ref.path)) {
        status_->setText(tr("Substituted %1 for %2.").arg(path, QString::fromStdString(ref.path)));
      }
      mark(entry, true, tr("read %1").arg(path));
      args[QStringLiteral("path")] = path;
    }
    wait_ = Wait::ScanLoaded;
    waitingEntry_ = entry;
    bus_.execute(command, args);
    return;
  }
  if (command == QLatin1String("set_backend")) {
    // A GPU recording replayed where there is none: computing on the CPU beats refusing to run
    // (the checkpoints then say how far the two agree).
    const QString wanted = args.value(QStringLiteral("backend")).toString();
    try {
      (void)resolveBackend(wanted.toStdString(), detectDevices());
    } catch (const std::exception& e) {
      return note(entry, tr("not re-executed: %1").arg(QString::fromStdString(e.what())));
    }
    bus_.execute(command, args);
    return;
  }
  if (command == QLatin1String("save_result")) {
    // The real window saves nothing over the recorded result: compare what it would write.
    const auto result = wb.result();
    if (!a.result) return note(entry, tr("no hashes recorded"));
    if (!result) return mark(entry, false, tr("no result at this point of the replay"));
    const auto mine = session::resultHashes(*result, run_);
    const bool ok =
        mine.objectSha256 == a.result->objectSha256 && mine.probeSha256 == a.result->probeSha256;
    mark(entry, ok,
         ok ? tr("object and probe hashes match (iteration %1)").arg(mine.iteration)
            : tr("result of iteration %1 hashes differently (recorded iteration %2)")
                  .arg(mine.iteration)
                  .arg(a.result->iteration));
    return;
  }
  const bool held = wb.state() == Workbench::State::Running && anchored(a);
  if (command == QLatin1String("resume") ||
      (command == QLatin1String("run") && wb.state() == Workbench::State::Paused)) {
    // The run is idle: its next hold is set before it is woken.
    wb.holdAt(nextAnchor(next_));
  }
  if (!bus_.execute(command, args)) {
    note(entry, tr("not re-executed (refused or unknown)"));
  }
  if (command == QLatin1String("step") || (command == QLatin1String("stop") && held)) {
    wait_ = Wait::RunReturned;  // the result of the step or stop comes back asynchronously
    waitTarget_ =
        command == QLatin1String("step") ? wb.iteration() + 1 : std::numeric_limits<int>::max();
    waitingEntry_ = entry;
  }
  if (held) {
    const bool exact = wb.iteration() == a.effectIteration;
    mark(entry, exact,
         exact ? tr("took effect at iteration %1, as recorded").arg(a.effectIteration)
               : tr("took effect at iteration %1, recorded %2")
                     .arg(wb.iteration())
                     .arg(a.effectIteration));
    if (command == QLatin1String("pause")) {
      wb.holdAt(-1);
    } else if (command != QLatin1String("stop")) {
      afterHold();  // a parameter change: the run goes on to the next anchor
    }
  }
}

void SessionTimeline::afterHold() {
  Workbench& wb = bus_.workbench();
  // Edits that follow and never reached the recorded run came quicker than an iteration: the run
  // took only their net result at its next boundary (undo then redo: none). Made now, while the
  // run is still held, they reach it the same way here, whatever the pace of this machine.
  while (next_ < entries_.size()) {
    const auto* n = std::get_if<session::Action>(&entries_[next_]);
    if (n == nullptr || n->effect != session::Action::Effect::None || !isParameterEdit(n->command))
      break;
    list_->setCurrentRow(rows_[next_]);
    ++next_;
    if (!bus_.execute(QString::fromStdString(n->command), arguments(*n)))
      note(next_ - 1, tr("not re-executed (refused or unknown)"));
  }
  const int hold = nextAnchor(next_);
  if (hold == wb.iteration()) return;  // the next action lands at this same iteration
  wb.releaseHold(hold);
}

void SessionTimeline::compareCheckpoints() {
  std::vector<std::size_t> waiting;
  for (const std::size_t i : pendingCheckpoints_) {
    const auto& c = std::get<session::Checkpoint>(entries_[i]);
    if (c.run < run_) {
      mark(i, false, tr("never reached in the replay"));
      continue;
    }
    const auto it = metrics_.find(c.iteration);
    if (c.run != run_ || it == metrics_.end()) {
      waiting.push_back(i);
      continue;
    }
    const auto& m = it->second;
    const bool ok = session::metricsAgree(c.fourierError, m.fourierError, kTolerance) &&
                    session::metricsAgree(c.overlapError, m.overlapError, kTolerance) &&
                    (std::isnan(c.objectError) ||
                     session::metricsAgree(c.objectError, m.objectError, kTolerance));
    mark(i, ok,
         tr("Fourier error %1 (recorded %2), overlap error %3 (recorded %4)")
             .arg(m.fourierError, 0, 'g', 8)
             .arg(c.fourierError, 0, 'g', 8)
             .arg(m.overlapError, 0, 'g', 8)
             .arg(c.overlapError, 0, 'g', 8));
  }
  pendingCheckpoints_ = std::move(waiting);
}

void SessionTimeline::onIterated(const IterationMetrics& metrics) {
  if (!playing_ && pendingCheckpoints_.empty()) return;
  metrics_[metrics.iteration] = metrics;
  compareCheckpoints();
}

void SessionTimeline::onRunReturned(RunEnd end, int iteration) {
  if (const auto result = bus_.workbench().result()) {
    for (const auto& m : result->history) metrics_.try_emplace(m.iteration, m);
  }
  compareCheckpoints();
  if (wait_ == Wait::RunHeld) {
    if (end == RunEnd::Paused && iteration < waitTarget_) {
      // A late second return from an earlier hold (a release can queue one behind a loop that
      // was still running): make sure the run goes on to this hold.
      bus_.workbench().releaseHold(waitTarget_);
      return;
    }
    const auto& a = std::get<session::Action>(entries_[waitingEntry_]);
    if (anchored(a) && (end != RunEnd::Paused || iteration != a.effectIteration)) {
      // The run ended before the recorded iteration: the action lands where it can.
      mark(waitingEntry_, false,
           tr("the run returned at iteration %1, recorded %2")
               .arg(iteration)
               .arg(a.effectIteration));
    }
    wait_ = Wait::Nothing;
    QTimer::singleShot(0, this, &SessionTimeline::advance);
  } else if (wait_ == Wait::RunReturned && (end != RunEnd::Paused || iteration >= waitTarget_)) {
    // A step came back (at its iteration, not an earlier hold's late return), or a stop or the
    // run's own end did (those are never a pause).
    if (const auto* a = std::get_if<session::Action>(&entries_[waitingEntry_]);
        a && a->command == "step" && a->effect == session::Action::Effect::At) {
      mark(waitingEntry_, iteration == a->effectIteration,
           tr("paused at iteration %1, recorded %2").arg(iteration).arg(a->effectIteration));
    }
    wait_ = Wait::Nothing;
    QTimer::singleShot(0, this, &SessionTimeline::advance);
  }
}

}  // namespace ptyx::app
