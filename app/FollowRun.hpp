#pragma once
// The workbench side of following a growing scan (docs/STREAMING.md): File ▸ Follow growing
// scan… reconstructs while frames arrive. A FollowRun rides inside the RunWorker, on its thread:
// it waits for the start rule, builds the Reconstructor on the frames so far, and before each
// iteration adds the frames that arrived. The Workbench then shows the scan so far, the status
// bar the frames received, and the complete scan at the end; the views update as in any run.
#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

#include "comm/Communicator.hpp"
#include "recon/Reconstructor.hpp"
#include "recon/ScanFollower.hpp"

class QAction;
class QMainWindow;
class QMenu;

namespace ptyx::app {

class CommandBus;

class FollowRun : public QObject {
  Q_OBJECT
 public:
  explicit FollowRun(const QString& path, const FollowOptions& options = {});
  ~FollowRun() override;
  FollowRun(const FollowRun&) = delete;
  FollowRun& operator=(const FollowRun&) = delete;

  [[nodiscard]] QString path() const { return QString::fromStdString(follower_.path()); }

  /// On the worker thread: waits for the start rule (looking at `stop` between looks; Error when
  /// it is set or the wait times out), then builds the Reconstructor on the frames so far and
  /// emits started.
  std::unique_ptr<Reconstructor> start(const ReconParams& params, Backend& backend,
                                       Communicator& communicator, const std::atomic<bool>& stop);
  /// Before each iteration: adds the frames that arrived, sets the run length (`afterScan`
  /// iterations once the scan is complete: --iterations as in `ptyx recon --follow`) and
  /// reports the frames received.
  void beforeIteration(Reconstructor& reconstructor, int afterScan);

 signals:
  void started(std::shared_ptr<const ptyx::Scan> scanSoFar);
  void framesReceived(int received, int planned);
  /// The scan is complete (or stalled): every frame received, for the views.
  void completed(std::shared_ptr<const ptyx::Scan> scan);

 private:
  ScanFollower follower_;
  bool done_ = false;
  int reported_ = -1;
};

/// Installs File ▸ Follow growing scan… (after `before` in `fileMenu`) and the frames-received
/// label in the status bar. `refreshScanViews` re-shows the scan summary and data once the scan
/// has grown complete.
void installFollowUi(QMainWindow& window, QMenu& fileMenu, QAction* before, CommandBus& bus,
                     const std::function<void()>& refreshScanViews);

}  // namespace ptyx::app
