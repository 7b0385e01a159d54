#pragma once
// The application model and run presenter: the open scan, the parameters, the live run on its
// worker thread, the latest result. Holds no widgets; the main window shows what it says, and
// every change to it arrives through the CommandBus (the one command path of DESIGN.md §6).
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <memory>
#include <optional>
#include <vector>

#include "Preflight.hpp"
#include "RunWorker.hpp"
#include "recon/MemoryPlanner.hpp"

namespace ptyx::app {

class Workbench : public QObject {
  Q_OBJECT
 public:
  enum class State { Empty, Loading, Ready, Running, Paused, Finished };
  Q_ENUM(State)

  explicit Workbench(QObject* parent = nullptr);
  ~Workbench() override;
  Workbench(const Workbench&) = delete;
  Workbench& operator=(const Workbench&) = delete;

  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] std::shared_ptr<const Scan> scan() const { return scan_; }
  [[nodiscard]] QString scanPath() const { return scanPath_; }
  [[nodiscard]] const ReconParams& parameters() const { return params_; }
  /// What the form starts with: the engine's defaults, except that the views are fed up to
  /// 20 times a second (the engine's default of 0.5 s suits jobs, whose snapshots are files).
  [[nodiscard]] static ReconParams defaultParameters();
  /// The initial probe for the current scan and parameters (empty when it cannot be made).
  [[nodiscard]] const Image<cfloat>& initialProbePreview() const { return probePreview_; }
  [[nodiscard]] const Image<cfloat>& initialObjectPreview() const { return objectPreview_; }
  [[nodiscard]] const std::vector<Finding>& findings() const { return findings_; }
  /// The result when the run last returned control (paused, finished, stopped); may be null.
  [[nodiscard]] std::shared_ptr<const Reconstruction> result() const { return result_; }
  /// Iterations completed in the current run.
  [[nodiscard]] int iteration() const { return iteration_; }

  // Actions. Call them through the CommandBus so that undo and the recorder see them.
  /// Reads the scan on a helper thread; scanLoaded or loadFailed follows. A growing scan that is
  /// still being written is followed instead (followScan).
  void openScan(const QString& path);
  /// Takes effect at once when idle, at the next iteration while a run is live.
  void setParameters(const ReconParams& params);
  /// False (and `why`) when the checks found errors or nothing is open.
  bool run(QString* why = nullptr);
  void pause();
  void resume();
  bool step(QString* why = nullptr);
  void stop();
  /// Session replay: the live run returns control (runReturned Paused, the state stays Running)
  /// once `iteration` iterations are complete, so that a recorded action lands exactly there.
  void holdAt(int iteration);
  /// Lets a held run go on, to be held again at `nextHold` iterations (-1: not again).
  void releaseHold(int nextHold = -1);
  /// Reconstructs a scan file that is still growing (docs/STREAMING.md): waits for the start
  /// rule on the worker thread, then runs while frames arrive; params.iterations count after
  /// the last frame. False (and `why`) when a scan is being opened.
  bool followScan(const QString& path, QString* why = nullptr);
  /// The current scan is followed while it grows (followScan), not opened.
  [[nodiscard]] bool following() const { return following_; }

  // A job that runs elsewhere (an agent's, issue 6) shown in the live views as if it ran here:
  // its metrics and snapshots leave through iterated and snapshotReady, so every view that
  // follows a local run follows it. Local run control is untouched.
  /// Starts following a job of `iterations` iterations; remoteViewStarted clears the views.
  void beginRemoteView(int iterations);
  void showRemoteIteration(const IterationMetrics& metrics);
  void showRemoteSnapshot(std::shared_ptr<const ViewSnapshot> snapshot);
  /// The followed job ended (or another is followed): no longer live.
  void endRemoteView();
  [[nodiscard]] bool remoteLive() const { return remoteLive_; }
  /// The iterations the live run aims at: the followed job's, else the parameters'.
  [[nodiscard]] int totalIterations() const {
    return remoteIterations_ > 0 ? remoteIterations_ : params_.iterations;
  }
  /// The compute backend of runs started here: "auto" (CUDA when a device is present, else the
  /// CPU), "cpu" or "cuda". Takes effect at the next run; the bus validates the name.
  void setBackend(const QString& name);
  [[nodiscard]] QString backend() const { return backend_; }
  /// What the current or last run computes on, "cpu" or "cuda" (empty before the first run),
  /// and why auto chose the CPU (empty otherwise).
  [[nodiscard]] QString runBackend() const { return runBackend_; }
  [[nodiscard]] QString runBackendNote() const { return runBackendNote_; }

  /// What the next run needs, on the RAM or the GPU it will compute on (setBackend); nullopt
  /// with no scan open.
  [[nodiscard]] std::optional<RankMemory> runMemory() const;
  /// The open scan with the current parameters as the memory planner sees a run of `ranks`
  /// ranks (as submitted: several ranks without a thread count get one thread each). Needs a scan.
  [[nodiscard]] MemoryCase memoryCase(MemoryTarget target, int ranks = 1) const;

  /// A result fetched from an agent becomes the workbench's result (save, export, views).
  /// False while a local run is live (its own result would replace it).
  bool adoptResult(std::shared_ptr<const Reconstruction> result);

 signals:
  void stateChanged(ptyx::app::Workbench::State state);
  void scanLoaded(const QString& path);
  void loadFailed(const QString& path, const QString& message);
  void parametersChanged(const ptyx::ReconParams& params);
  /// The initial probe/object preview and the findings were recomputed.
  void previewChanged();
  void iterated(const ptyx::IterationMetrics& metrics);
  void snapshotReady(std::shared_ptr<const ptyx::app::ViewSnapshot> snapshot);
  void resultChanged();
  void runFailed(const QString& message);
  void remoteViewStarted();
  void remoteViewEnded();
  /// A run was started (run, or step when none is live): a new Reconstructor from the parameters.
  void runStarted();
  void backendChanged(const QString& name);
  /// The run returned control (paused, finished, stopped, failed) with `iteration` iterations
  /// complete; emitted after the result and the state are updated.
  void runReturned(ptyx::app::RunEnd end, int iteration);
  /// Parameter changes reached the live run with `iteration` iterations complete.
  void parametersApplied(int iteration, const ptyx::ReconParams& params);
  /// Following a growing scan: waiting for its frames; then how many have arrived; then the
  /// scan (scan()) has grown complete.
  void followStarted(const QString& path);
  void framesReceived(int received, int planned);
  void scanGrew();

 private:
  void setState(State state);
  void finishOpen(std::shared_ptr<const Scan> scan, const QString& path,
                  std::vector<Finding> scanFindings);
  void updatePreview();
  void prepareEngineMemory();
  bool startWorker(QString* why);
  bool chooseRunBackend(QString* why);
  [[nodiscard]] bool runsOnCpu() const;
  bool checkRunMemory(QString* why) const;
  void launch(RunWorker* worker);
  void stopWorker();
  void onSnapshot(std::shared_ptr<const ViewSnapshot> snapshot);
  void onRunEnded(RunEnd end, std::shared_ptr<const Reconstruction> result, const QString& message);

  State state_ = State::Empty;
  std::shared_ptr<const Scan> scan_;
  QString scanPath_;
  ReconParams params_ = defaultParameters();
  Image<cfloat> probePreview_;
  Image<cfloat> objectPreview_;
  std::vector<Finding> scanFindings_;
  std::vector<Finding> findings_;
  ReconParams previewParams_;  // the parameters the preview and findings were computed for
  std::shared_ptr<const Reconstruction> result_;
  int iteration_ = 0;
  bool following_ = false;
  QThread* loader_ = nullptr;  // reading a scan; joined before destruction
  QThread* thread_ = nullptr;  // the run's worker thread
  QPointer<RunWorker> worker_;
  bool remoteLive_ = false;
  int remoteIterations_ = 0;  // > 0 while a followed job's figures are shown
  QString backend_ = QStringLiteral("auto");
  QString runBackend_;
  QString runBackendNote_;
  int holdAt_ = -1;    // session replay's hold (holdAt), -1 when none
  bool held_ = false;  // the run returned control at that hold and waits, still Running
};

}  // namespace ptyx::app

Q_DECLARE_METATYPE(ptyx::ReconParams)
