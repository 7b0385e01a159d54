#include "RemoteUi.hpp"

#include <QAction>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "AgentProfilesDialog.hpp"
#include "JobMonitor.hpp"
#include "LiveJob.hpp"
#include "MainWindow.hpp"
#include "RemoteJobs.hpp"
#include "SubmitJobDialog.hpp"

namespace ptyx::app {

namespace {
/// A top-level menu of the window by its title ("&Run"), made when missing.
QMenu* menu(MainWindow& window, const QString& title) {
  for (QAction* a : window.menuBar()->actions()) {
    if (a->menu() && a->text() == title) return a->menu();
  }
  return window.menuBar()->addMenu(title);
}
}  // namespace

RemoteUi::RemoteUi(MainWindow& window) : QObject(&window), window_(window) {
  jobs_ = new RemoteJobs(window.bus(), this);
  live_ = new LiveJob(*jobs_, window.workbench(), this);
  monitor_ = new JobMonitor(*jobs_, window.bus(), *live_, &window);
  dock_ = new QDockWidget(tr("Jobs"), &window);
  dock_->setObjectName(QStringLiteral("jobsDock"));
  dock_->setWidget(monitor_);
  window.addDockWidget(Qt::BottomDockWidgetArea, dock_);
  if (auto* data = window.findChild<QDockWidget*>(QStringLiteral("dataDock"))) {
    window.tabifyDockWidget(data, dock_);
    data->raise();  // the open scan's frames and positions in front; Jobs comes forward on submit
  }
  menu(window, tr("&View"))->addAction(dock_->toggleViewAction());

  const bool quiet = qEnvironmentVariableIsSet("PTYX_GUI_NO_DIALOGS");
  auto status = [this](const QString& text) { window_.statusBar()->showMessage(text, 8000); };
  connect(jobs_, &RemoteJobs::message, this, status);
  connect(live_, &LiveJob::message, this, status);
  connect(monitor_, &JobMonitor::message, this, status);
  connect(jobs_, &RemoteJobs::failed, this,
          [this, quiet](const QString& title, const QString& message) {
            window_.statusBar()->showMessage(title + QStringLiteral(": ") + message, 10000);
            if (!quiet) QMessageBox::warning(&window_, title, message);
          });
  connect(jobs_, &RemoteJobs::uploadProgress, this,
          [this](const QString& agent, qint64 sent, qint64 total) {
            if (total > 0) {
              window_.statusBar()->showMessage(
                  tr("Uploading to %1: %2 %").arg(agent).arg(100 * sent / total), 2000);
            }
          });
  connect(jobs_, &RemoteJobs::jobSubmitted, this,
          [this](const QString& agent, const QJsonObject& job) {
            dock_->show();
            dock_->raise();
            const qint64 id = job.value(QStringLiteral("id")).toInteger();
            if (followNext_) live_->follow(agent, id);
            followNext_ = false;
          });

  auto* run = menu(window, tr("&Run"));
  run->addSeparator();
  auto* local = run->addAction(tr("Run &locally with N ranks…"), this, [this] { runLocally(); });
  local->setObjectName(QStringLiteral("actionRunLocally"));
  local->setToolTip(tr("Submit the scan to a local agent on this machine, as to a cluster"));

  auto* remote = menu(window, tr("Re&mote"));
  auto* agents = remote->addAction(tr("&Agents…"), this, [this] { openProfilesDialog(); });
  agents->setObjectName(QStringLiteral("actionAgents"));
  auto* submit = remote->addAction(tr("&Submit job…"), this, [this] { openSubmitDialog(); });
  submit->setObjectName(QStringLiteral("actionSubmitJob"));
  remote->addAction(dock_->toggleViewAction());
}

SubmitJobDialog* RemoteUi::openSubmitDialog() {
  if (!submit_) {
    submit_ = new SubmitJobDialog(*jobs_, window_.bus(), &window_);
    connect(submit_, &QDialog::accepted, this, [this] { followNext_ = submit_->watchLive(); });
  }
  submit_->refresh();
  submit_->open();
  return submit_;
}

SubmitJobDialog* RemoteUi::runLocally(int ranks) {
  auto* dialog = openSubmitDialog();
  dialog->setAgent(QString::fromLatin1(AgentProfiles::kLocalName));
  dialog->setRanks(ranks);
  return dialog;
}

AgentProfilesDialog* RemoteUi::openProfilesDialog() {
  auto* dialog = new AgentProfilesDialog(*jobs_, &window_);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->open();
  return dialog;
}

}  // namespace ptyx::app
