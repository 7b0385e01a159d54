#include "FollowRun.hpp"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QSettings>
#include <QStatusBar>

#include <algorithm>

#include "CommandBus.hpp"
#include "core/Error.hpp"

namespace ptyx::app {

FollowRun::FollowRun(const QString& path, const FollowOptions& options)
    : follower_(path.toStdString(), {}, options) {}

FollowRun::~FollowRun() = default;

std::unique_ptr<Reconstructor> FollowRun::start(const ReconParams& params, Backend& backend,
                                                Communicator& communicator,
                                                const std::atomic<bool>& stop) {
  const Scan& scan = follower_.waitForStart([&stop] { return stop.load(); });
  auto reconstructor = std::make_unique<Reconstructor>(scan, follower_.plannedPositions(), params,
                                                       backend, communicator);
  emit started(std::make_shared<const Scan>(scan));
  return reconstructor;
}

void FollowRun::beforeIteration(Reconstructor& reconstructor, int afterScan) {
  if (!done_) {
    follower_.addArrived(reconstructor);
    done_ = follower_.complete() || follower_.stalled();
    reconstructor.setIterationTarget(reconstructor.iteration() +
                                     std::max(done_ ? 0 : 1, afterScan));
    if (done_) emit completed(std::make_shared<const Scan>(follower_.scanSoFar()));
  }
  follower_.iterationStarting();
  const auto received = static_cast<int>(follower_.framesReceived());
  if (received != reported_) {
    reported_ = received;
    emit framesReceived(received, static_cast<int>(follower_.framesPlanned()));
  }
}

void installFollowUi(QMainWindow& window, QMenu& fileMenu, QAction* before, CommandBus& bus,
                     const std::function<void()>& refreshScanViews) {
  auto* action = new QAction(QObject::tr("&Follow growing scan…"), &window);
  action->setObjectName(QStringLiteral("actionFollowScan"));
  action->setToolTip(
      QObject::tr("Reconstruct a scan file that is still being written (SWMR), "
                  "adding frames as they arrive"));
  fileMenu.insertAction(before, action);
  QObject::connect(action, &QAction::triggered, &window, [&window, &bus] {
    QSettings settings;
    const QString start =
        settings.value(QStringLiteral("lastDirectory"), QDir::homePath()).toString();
    const QString path =
        QFileDialog::getOpenFileName(&window, QObject::tr("Follow growing scan"), start,
                                     QObject::tr("CXI scans (*.cxi *.h5 *.hdf5);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(QStringLiteral("lastDirectory"), QFileInfo(path).absolutePath());
    bus.followScan(path);
  });

  auto* frames = new QLabel(&window);
  frames->setObjectName(QStringLiteral("framesLabel"));
  frames->hide();
  window.statusBar()->addPermanentWidget(frames);
  Workbench& workbench = bus.workbench();
  QObject::connect(&workbench, &Workbench::followStarted, frames, [frames](const QString& path) {
    frames->setText(QObject::tr("Waiting for frames of %1").arg(QFileInfo(path).fileName()));
    frames->show();
  });
  QObject::connect(&workbench, &Workbench::framesReceived, frames,
                   [frames](int received, int planned) {
                     frames->setText(QObject::tr("Frames %1 / %2").arg(received).arg(planned));
                     frames->show();
                   });
  QObject::connect(&workbench, &Workbench::scanLoaded, frames, [frames, &workbench] {
    if (!workbench.following()) frames->hide();  // an ordinary scan was opened
  });
  QObject::connect(&workbench, &Workbench::scanGrew, &window,
                   [refreshScanViews] { refreshScanViews(); });
}

}  // namespace ptyx::app
