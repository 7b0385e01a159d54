#pragma once
// The Ptyx workbench window: scan summary and checks, the scan's data (diffraction frames and
// probe positions, selection linked), the parameter form with presets, run control, object
// (amplitude, phase; linked pan/zoom), probe and error views, and a status bar with iteration,
// rate and ETA. It turns user gestures into CommandBus calls and shows what the
// Workbench reports; it holds no reconstruction state of its own.
#include <QElapsedTimer>
#include <QMainWindow>
#include <QStringList>

#include <deque>
#include <memory>

#include "CommandBus.hpp"
#include "Workbench.hpp"

class QAction;
class QActionGroup;
class QComboBox;
class QLabel;
class QListWidget;
class QMenu;

namespace ptyx::widgets {
class CameraLink;
class ComplexImageView;
class DiffractionView;
class ErrorPlotView;
class FramePacer;
class ScanPositionPlot;
}  // namespace ptyx::widgets

namespace ptyx::app {

class ParameterForm;
class RemoteUi;
class SessionRecorder;
class SessionTimeline;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;
  MainWindow(const MainWindow&) = delete;
  MainWindow& operator=(const MainWindow&) = delete;

  [[nodiscard]] CommandBus& bus() { return bus_; }
  [[nodiscard]] Workbench& workbench() { return workbench_; }
  [[nodiscard]] ParameterForm* parameterForm() const { return form_; }
  [[nodiscard]] widgets::ComplexImageView* objectAmplitudeView() const { return objectAmplitude_; }
  [[nodiscard]] widgets::ComplexImageView* objectPhaseView() const { return objectPhase_; }
  [[nodiscard]] widgets::ComplexImageView* probeView() const { return probe_; }
  [[nodiscard]] widgets::ErrorPlotView* errorPlot() const { return errors_; }
  /// The "Data" dock: the open scan's diffraction frames and its probe positions; selecting a
  /// frame in either selects it in the other.
  [[nodiscard]] widgets::DiffractionView* diffractionView() const { return diffraction_; }
  [[nodiscard]] widgets::ScanPositionPlot* scanPositionPlot() const { return scanPlot_; }
  [[nodiscard]] QListWidget* checksList() const { return checks_; }
  /// The text of a scan-summary row ("frames", "frame_size", "energy", "distance",
  /// "detector_pixel", "object_pixel", "object_size", "memory").
  [[nodiscard]] QString summary(const QString& key) const;
  [[nodiscard]] QString statusText() const;
  /// Agents, remote jobs and their live view (app/remote, issue 6).
  [[nodiscard]] RemoteUi* remote() const { return remote_; }

  /// File ▸ Save result without the dialog; false and a message box on failure.
  bool saveResult(const QString& path);
  /// File ▸ Export PNGs without the dialog.
  bool exportPngs(const QString& directory);
  [[nodiscard]] QStringList recentFiles() const;
  /// Records this launch's session (on by default; Session menu).
  [[nodiscard]] SessionRecorder* sessionRecorder() const { return recorder_; }
  /// Errors go to the status bar only, never a modal box (scripted runs, tests).
  void setQuietErrors(bool quiet) { quietErrors_ = quiet; }
  /// Session ▸ Open session: shows the timeline dock with `path` loaded, ready to replay;
  /// false and a message when the file cannot be read.
  bool openSession(const QString& path);
  [[nodiscard]] SessionTimeline* sessionTimeline() const { return timeline_; }

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildActions();
  void buildMenus();
  void buildDocks();
  void updateActions();
  void updateRecentMenu();
  void addRecentFile(const QString& path);
  void showSummary();
  void showFindings();
  void showPreview();
  void showScanData();
  void updateProbeFootprint();
  void onIterated(const IterationMetrics& metrics);
  void onSnapshot(const std::shared_ptr<const ViewSnapshot>& snapshot);
  void showObject(const Image<cfloat>& object);
  void onStateChanged(Workbench::State state);
  void updateStatus();
  void openDialog();
  void saveDialog();
  void exportDialog();
  void showError(const QString& title, const QString& message);
  void buildSessionMenu();
  void buildBackendMenu(QMenu* menu);

  Workbench workbench_;
  CommandBus bus_;

  ParameterForm* form_ = nullptr;
  QComboBox* preset_ = nullptr;
  widgets::ComplexImageView* objectAmplitude_ = nullptr;
  widgets::ComplexImageView* objectPhase_ = nullptr;
  widgets::ComplexImageView* probe_ = nullptr;
  widgets::ErrorPlotView* errors_ = nullptr;
  widgets::CameraLink* link_ = nullptr;
  widgets::DiffractionView* diffraction_ = nullptr;
  widgets::ScanPositionPlot* scanPlot_ = nullptr;
  widgets::FramePacer* pacer_ = nullptr;
  QElapsedTimer frameErrorsShown_;  // when the scan plot last took a snapshot's frame errors
  QAction* colourByErrorAction_ = nullptr;
  QListWidget* checks_ = nullptr;
  QWidget* summaryPanel_ = nullptr;
  QLabel* iterationLabel_ = nullptr;
  QLabel* rateLabel_ = nullptr;
  QLabel* etaLabel_ = nullptr;
  QLabel* backendLabel_ = nullptr;  // what the current or last run computes on
  QActionGroup* backendGroup_ = nullptr;
  QMenu* recentMenu_ = nullptr;

  QAction* openAction_ = nullptr;
  QAction* saveAction_ = nullptr;
  QAction* exportAction_ = nullptr;
  QAction* runAction_ = nullptr;
  QAction* pauseAction_ = nullptr;
  QAction* stepAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QAction* undoAction_ = nullptr;
  QAction* redoAction_ = nullptr;

  std::deque<double> recentSeconds_;  // wall time of the last iterations, for rate and ETA
  bool quietErrors_ = false;          // no modal boxes (tests set PTYX_GUI_NO_DIALOGS)
  RemoteUi* remote_ = nullptr;

  SessionRecorder* recorder_ = nullptr;  // owned by this window (QObject parent)
  SessionTimeline* timeline_ = nullptr;
};

}  // namespace ptyx::app
