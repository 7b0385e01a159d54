#include "JobMonitor.hpp"

#include <QComboBox>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonArray>
#include <QLabel>
#include <QPointer>
#include <QStandardPaths>
#include <QTableWidget>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <exception>

#include "CommandBus.hpp"
#include "LiveJob.hpp"
#include "RemoteJobs.hpp"
#include "TextFormat.hpp"
#include "io/Formats.hpp"

namespace ptyx::app {

namespace {

constexpr qint64 kListingPatienceMs = 30'000;

QString key(const QString& agent, qint64 id) {
  return agent + QLatin1Char('/') + QString::number(id);
}

bool running(const QString& state) {
  return state == QLatin1String("running");
}

bool live(const QString& state) {
  return state == QLatin1String("queued") || state == QLatin1String("running");
}

}  // namespace

JobMonitor::JobMonitor(RemoteJobs& jobs, CommandBus& bus, LiveJob& live, QWidget* parent)
    : QWidget(parent), jobs_(jobs), bus_(bus), live_(live) {
  setObjectName(QStringLiteral("jobMonitor"));
  filter_ = new QComboBox(this);
  filter_->setObjectName(QStringLiteral("agentFilter"));
  table_ = new QTableWidget(0, Columns, this);
  table_->setObjectName(QStringLiteral("jobTable"));
  table_->setHorizontalHeaderLabels(
      {tr("Agent"), tr("Job"), tr("Name"), tr("State"), tr("Iteration"), tr("Rate"), tr("ETA")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Agent"), this));
  bar->addWidget(filter_, 1);
  auto button = [this, bar](const char* name, const QString& text, const QString& tip, auto slot) {
    auto* b = new QToolButton(this);
    b->setObjectName(QString::fromLatin1(name));
    b->setText(text);
    b->setToolTip(tip);
    connect(b, &QToolButton::clicked, this, slot);
    bar->addWidget(b);
  };
  button("openLiveButton", tr("Live"), tr("Open the job in the live views"),
         [this] { openLive(); });
  button("pauseJobButton", tr("Pause"), tr("Pause the job"),
         [this] { control(QStringLiteral("pause")); });
  button("resumeJobButton", tr("Resume"), tr("Resume the job"),
         [this] { control(QStringLiteral("resume")); });
  button("stopJobButton", tr("Stop"), tr("Stop after this iteration and save the result"),
         [this] { control(QStringLiteral("stop")); });
  button("retuneJobButton", tr("Retune…"), tr("Change parameters of the running job"),
         [this] { retune(); });
  button("cancelJobButton", tr("Cancel"), tr("Cancel the job (no result)"),
         [this] { control(QStringLiteral("cancel")); });
  button("fetchResultButton", tr("Fetch"), tr("Fetch the result into the workbench"),
         [this] { fetchResult(); });
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(bar);
  layout->addWidget(table_, 1);

  connect(filter_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  connect(&jobs_, &RemoteJobs::profilesChanged, this, &JobMonitor::refreshAgents);
  connect(&jobs_, &RemoteJobs::jobSubmitted, this, [this] { refresh(); });
  connect(&jobs_, &RemoteJobs::jobControlled, this, [this] { refresh(); });
  // The followed job's lines arrive as they are written: its row needs no polling to be current.
  connect(
      &live_, &LiveJob::progressLine, this,
      [this](const QString& agent, qint64 job, const QJsonObject& line) {
        if (line.value(QStringLiteral("event")).toString() != QLatin1String("iteration")) return;
        const int row = rowOf(agent, job);
        if (row < 0) return;
        table_->item(row, ProgressColumn)
            ->setText(QStringLiteral("%1 / %2")
                          .arg(line.value(QStringLiteral("iteration")).toInt())
                          .arg(line.value(QStringLiteral("iterations")).toInt()));
        table_->item(row, RateColumn)
            ->setText(tr("%1 it/s").arg(line.value(QStringLiteral("rate")).toDouble(), 0, 'g', 3));
        table_->item(row, EtaColumn)
            ->setText(duration(line.value(QStringLiteral("eta_s")).toDouble()));
      });
  timer_.setInterval(1000);
  connect(&timer_, &QTimer::timeout, this, &JobMonitor::refresh);
  timer_.start();
  refreshAgents();
}

void JobMonitor::refreshAgents() {
  const QString current = filter_->currentData().toString();
  QSignalBlocker block(filter_);
  filter_->clear();
  filter_->addItem(tr("All agents"), QString());
  for (const auto& p : jobs_.profiles().profiles()) filter_->addItem(p.name, p.name);
  const int i = filter_->findData(current);
  filter_->setCurrentIndex(i >= 0 ? i : 0);
}

void JobMonitor::setAgentFilter(const QString& agent) {
  const int i = filter_->findData(agent);
  filter_->setCurrentIndex(i >= 0 ? i : 0);
}

int JobMonitor::rowOf(const QString& agent, qint64 job) const {
  for (int r = 0; r < table_->rowCount(); ++r) {
    const auto* item = table_->item(r, AgentColumn);
    if (item && item->data(Qt::UserRole).toString() == key(agent, job)) return r;
  }
  return -1;
}

QString JobMonitor::text(const QString& agent, qint64 job, Column column) const {
  const int r = rowOf(agent, job);
  const auto* item = r >= 0 ? table_->item(r, column) : nullptr;
  return item ? item->text() : QString();
}

void JobMonitor::refresh() {
  const QString only = filter_->currentData().toString();
  for (const auto& profile : jobs_.profiles().profiles()) {
    if (!only.isEmpty() && profile.name != only) continue;
    // The loopback agent is started on demand, not by looking at the list.
    if (profile.local && !jobs_.localAgent().isRunning()) continue;
    const QString agent = profile.name;
    // One listing per agent at a time; one that never answered (its client was replaced when the
    // profile changed) no longer counts after a while.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - inFlight_.value(agent, 0) < kListingPatienceMs) continue;
    auto* c = jobs_.client(agent);
    if (!c) continue;
    inFlight_[agent] = now;
    c->listJobs(
        [this, agent, c](const client::AgentResult& r) {
          inFlight_[agent] = 0;
          if (!r.ok) {
            if (lastError_.value(agent) != r.error) emit message(r.error);
            lastError_[agent] = r.error;
            return;
          }
          lastError_.remove(agent);
          for (const QJsonValue& v : r.json.value(QStringLiteral("jobs")).toArray()) {
            const QJsonObject summary = v.toObject();
            const qint64 id = summary.value(QStringLiteral("id")).toInteger();
            Entry& e = entries_[key(agent, id)];
            const bool wasLive = live(e.summary.value(QStringLiteral("state")).toString());
            e.agent = agent;
            e.id = id;
            e.summary = summary;
            updateRow(e);
            // Live jobs (and one last look at a job that just ended) get their progress line.
            if (live(summary.value(QStringLiteral("state")).toString()) || wasLive ||
                e.detail.isEmpty()) {
              c->job(
                  id,
                  [this, k = key(agent, id)](const client::AgentResult& d) {
                    if (!d.ok || !entries_.contains(k)) return;
                    Entry& entry = entries_[k];
                    entry.detail = d.json;
                    updateRow(entry);
                  },
                  this);
            }
          }
        },
        this);
  }
}

void JobMonitor::updateRow(const Entry& e) {
  int row = rowOf(e.agent, e.id);
  if (row < 0) {
    row = table_->rowCount();
    table_->insertRow(row);
    for (int c = 0; c < Columns; ++c) table_->setItem(row, c, new QTableWidgetItem);
    table_->item(row, AgentColumn)->setData(Qt::UserRole, key(e.agent, e.id));
  }
  const QJsonObject& s = e.summary;
  const QJsonObject status = e.detail.value(QStringLiteral("status")).toObject();
  const QJsonObject progress = e.detail.value(QStringLiteral("progress")).toObject();
  const QString state = s.value(QStringLiteral("state")).toString();
  // The run's own state says more while it runs ("paused", "stopping").
  const QString runState = status.value(QStringLiteral("state")).toString();
  table_->item(row, AgentColumn)->setText(e.agent);
  table_->item(row, IdColumn)->setText(QString::number(e.id));
  table_->item(row, NameColumn)->setText(s.value(QStringLiteral("name")).toString());
  table_->item(row, StateColumn)
      ->setText(state == QLatin1String("running") && !runState.isEmpty() ? runState : state);
  table_->item(row, StateColumn)->setToolTip(s.value(QStringLiteral("message")).toString());
  // The followed job's row is kept current by its stream (above); the poll is behind it.
  const bool streamed = running(state) && live_.agent() == e.agent && live_.job() == e.id;
  if (streamed) return;
  // The newest progress line is ahead of status.json (written on state changes and snapshots).
  const QJsonObject& at = progress.contains(QStringLiteral("iterations")) ? progress : status;
  if (!at.isEmpty()) {
    table_->item(row, ProgressColumn)
        ->setText(QStringLiteral("%1 / %2")
                      .arg(at.value(QStringLiteral("iteration")).toInt())
                      .arg(at.value(QStringLiteral("iterations")).toInt()));
  }
  if (progress.contains(QStringLiteral("rate"))) {
    table_->item(row, RateColumn)
        ->setText(tr("%1 it/s").arg(progress.value(QStringLiteral("rate")).toDouble(), 0, 'g', 3));
  }
  const bool running = state == QLatin1String("running");
  table_->item(row, EtaColumn)
      ->setText(running && progress.contains(QStringLiteral("eta_s"))
                    ? duration(progress.value(QStringLiteral("eta_s")).toDouble())
                    : QStringLiteral("—"));
}

void JobMonitor::selectJob(const QString& agent, qint64 job) {
  const int row = rowOf(agent, job);
  if (row >= 0) table_->selectRow(row);
}

const JobMonitor::Entry* JobMonitor::selected() const {
  const auto rows = table_->selectionModel()->selectedRows();
  if (rows.isEmpty()) return nullptr;
  const auto* item = table_->item(rows.first().row(), AgentColumn);
  const auto it = entries_.constFind(item ? item->data(Qt::UserRole).toString() : QString());
  return it == entries_.constEnd() ? nullptr : &it.value();
}

void JobMonitor::openLive() {
  if (const Entry* e = selected()) live_.follow(e->agent, e->id);
}

void JobMonitor::control(const QString& command, const QJsonObject& set) {
  const Entry* e = selected();
  if (!e) {
    emit message(tr("Select a job first."));
    return;
  }
  QJsonObject a{{"agent", e->agent}, {"job", e->id}, {"command", command}};
  if (!set.isEmpty()) a.insert(QStringLiteral("set"), set);
  bus_.controlJob(a);
}

void JobMonitor::retune() {
  if (!selected()) return;
  bool ok = false;
  const QString text = QInputDialog::getText(
      this, tr("Retune the job"),
      tr("Parameter changes (name=value, separated by spaces), e.g. beta=0.7"), QLineEdit::Normal,
      QString(), &ok);
  if (!ok || text.trimmed().isEmpty()) return;
  QJsonObject set;
  for (const QString& part : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
    const qsizetype eq = part.indexOf(QLatin1Char('='));
    if (eq <= 0) {
      emit message(tr("'%1' is not name=value").arg(part));
      return;
    }
    bool isNumber = false;
    const double number = part.mid(eq + 1).toDouble(&isNumber);
    set.insert(part.left(eq), isNumber ? QJsonValue(number) : QJsonValue(part.mid(eq + 1)));
  }
  control(QStringLiteral("set"), set);
}

void JobMonitor::fetchResult() {
  const Entry* e = selected();
  if (!e) return;
  auto* c = jobs_.client(e->agent);
  if (!c) return;
  const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                      QStringLiteral("/results");
  QDir().mkpath(dir);
  const QString path =
      QStringLiteral("%1/%2-job%3-%4.cxi")
          .arg(dir, RemoteJobs::agentName(e->agent))
          .arg(e->id)
          .arg(RemoteJobs::agentName(e->summary.value(QStringLiteral("name")).toString()));
  const QString agent = e->agent;
  const qint64 id = e->id;
  emit message(tr("Fetching the result of job %1 from %2…").arg(id).arg(agent));
  c->fetchResult(
      id, path,
      [this, agent, id](const client::AgentResult& r) {
        if (!r.ok) {
          emit message(r.error);
          return;
        }
        // Read on a helper thread; the workbench takes it on the GUI thread.
        QPointer<JobMonitor> self = this;
        const QString file = r.path;
        auto* reader = QThread::create([self, file, agent, id] {
          std::shared_ptr<const Reconstruction> result;
          QString error;
          try {
            result = std::make_shared<const Reconstruction>(readResultFile(file));
          } catch (const std::exception& ex) {
            error = QString::fromStdString(ex.what());
          }
          QMetaObject::invokeMethod(
              qApp,
              [self, result, error, file, agent, id] {
                if (!self) return;
                if (!result) {
                  emit self->message(error);
                } else if (!self->bus_.workbench().adoptResult(result)) {
                  emit self->message(
                      tr("Stop the local run before fetching a job's result into the workbench."));
                } else {
                  emit self->message(tr("Result of job %1 from %2: %3").arg(id).arg(agent, file));
                  emit self->resultFetched(agent, id, file);
                }
              },
              Qt::QueuedConnection);
        });
        connect(reader, &QThread::finished, reader, &QObject::deleteLater);
        reader->start();
      },
      this);
}

}  // namespace ptyx::app
