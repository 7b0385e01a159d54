#pragma once
// The remote-job parts of the main window (issue 6): a Remote menu (Agents…, Submit job…),
// Run ▸ Run locally with N ranks…, the Jobs dock, and the live view of a job. The window only
// creates this; everything it shows goes through the CommandBus and the Workbench's remote
// entry points.
#include <QObject>
#include <QPointer>

#include "SubmitJobDialog.hpp"

class QAction;
class QDockWidget;

namespace ptyx::app {

class AgentProfilesDialog;
class JobMonitor;
class LiveJob;
class MainWindow;
class RemoteJobs;

class RemoteUi : public QObject {
  Q_OBJECT
 public:
  explicit RemoteUi(MainWindow& window);

  [[nodiscard]] RemoteJobs& jobs() { return *jobs_; }
  [[nodiscard]] LiveJob& live() { return *live_; }
  [[nodiscard]] JobMonitor* monitor() const { return monitor_; }
  /// Remote ▸ Submit job…: the dialog (opened, not blocking); null until first opened.
  SubmitJobDialog* openSubmitDialog();
  /// Run ▸ Run locally with N ranks…: the submission dialog with the Local agent and N ranks.
  SubmitJobDialog* runLocally(int ranks = 2);
  AgentProfilesDialog* openProfilesDialog();
  [[nodiscard]] SubmitJobDialog* submitDialog() const { return submit_; }

 private:
  MainWindow& window_;
  RemoteJobs* jobs_ = nullptr;
  LiveJob* live_ = nullptr;
  JobMonitor* monitor_ = nullptr;
  QDockWidget* dock_ = nullptr;
  QPointer<SubmitJobDialog> submit_;
  bool followNext_ = false;  // the dialog asked to open the next submitted job live
};

}  // namespace ptyx::app
