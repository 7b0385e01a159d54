#pragma once
// Remote-job submission (issue 6): the agent, the launcher and its options (ranks, GPUs,
// partition, wall time), a job name, and the memory planner's estimate for the current scan
// before anything is sent. Submit hands a submit_job command to the CommandBus, which records
// it; RemoteJobs then uploads the scan and posts the JobSpec.
#include <QDialog>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace ptyx::app {

class CommandBus;
class RemoteJobs;

class SubmitJobDialog : public QDialog {
  Q_OBJECT
 public:
  SubmitJobDialog(RemoteJobs& jobs, CommandBus& bus, QWidget* parent = nullptr);

  /// Refills the agent list from the profiles and the estimate from the workbench.
  void refresh();
  void setAgent(const QString& name);
  void setRanks(int ranks);
  [[nodiscard]] QString agent() const;
  /// The estimate shown: "per rank …, fits"/"does not fit …".
  [[nodiscard]] QString estimate() const;
  [[nodiscard]] bool estimateFits() const { return fits_; }
  [[nodiscard]] bool watchLive() const;
  /// Sends the submit_job command; false (and the reason shown in the dialog) when refused.
  bool submit();

 private:
  void updateEstimate();
  void updateLauncher();
  /// Asks the agent (GET /health) which launchers and GPUs it has.
  void askAgent();

  RemoteJobs& jobs_;
  CommandBus& bus_;
  QComboBox* agent_ = nullptr;
  QComboBox* launcher_ = nullptr;
  QSpinBox* ranks_ = nullptr;
  QSpinBox* gpus_ = nullptr;
  QDoubleSpinBox* snapshotInterval_ = nullptr;
  QLineEdit* partition_ = nullptr;
  QLineEdit* wallTime_ = nullptr;
  QLineEdit* name_ = nullptr;
  QDoubleSpinBox* capacity_ = nullptr;
  QLabel* estimate_ = nullptr;
  QLabel* agentInfo_ = nullptr;
  QLabel* problem_ = nullptr;
  QCheckBox* watch_ = nullptr;
  QPushButton* submit_ = nullptr;
  bool fits_ = false;
  int asked_ = 0;  // answers to an earlier question are dropped
};

}  // namespace ptyx::app
