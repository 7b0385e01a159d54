#pragma once
// The reconstruction's side of the live run (DESIGN.md §3, STYLE.md principle 10). A RunWorker
// lives on its own QThread, owns the backend and the Reconstructor, and calls step(1) in a loop,
// looking at pause, stop and parameter requests between iterations. The engine knows nothing of
// Qt: an observer adapter turns its callbacks into signals emitted on the worker thread, which
// reach the GUI through queued connections. Nothing here ever blocks the GUI thread.
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ViewSnapshot.hpp"
#include "core/Reconstruction.hpp"
#include "core/Scan.hpp"
#include "params/Parameters.hpp"
#include "recon/Reconstructor.hpp"

namespace ptyx::app {

class FollowRun;

/// Why a run loop returned control.
enum class RunEnd { Paused, Finished, Stopped, Failed };

class RunWorker : public QObject {
  Q_OBJECT
 public:
  /// `backend` is "cpu" or "cuda" (resolved before the run: Workbench::setBackend).
  RunWorker(std::shared_ptr<const Scan> scan, const ReconParams& params,
            std::string backend = "cpu");
  ~RunWorker() override;
  RunWorker(const RunWorker&) = delete;
  RunWorker& operator=(const RunWorker&) = delete;

  // Thread-safe; called from the GUI thread, seen before the next iteration.
  void requestPause(bool paused);
  void requestStop();
  void requestParameters(const ReconParams& params);
  /// Return control (as a pause does) once `iteration` iterations are complete; -1 clears.
  /// Session replay holds the run where the recorded action took effect.
  void requestHoldAt(int iteration) { holdAt_.store(iteration); }
  /// Follow a growing scan instead of running on `scan` (FollowRun.hpp); takes `follow` as a
  /// child, before the worker moves to its thread.
  void setFollow(FollowRun* follow);
  /// The GUI has drawn the last snapshot; the next one may be sent.
  void snapshotConsumed() { snapshotInFlight_.store(false); }

 public slots:
  /// Runs up to `count` iterations (-1: until params.iterations are complete), returning early
  /// on pause or stop, then emits runEnded with the result so far. Builds the Reconstructor on
  /// the first call, so that loading the frames also happens on this thread.
  void runIterations(int count);

 signals:
  void iterated(const ptyx::IterationMetrics& metrics);
  /// At the engine's throttled rate, and never while the GUI still holds an undrawn snapshot;
  /// right after the iteration's `iterated`, so that the GUI draws both in one repaint.
  void snapshotReady(std::shared_ptr<const ptyx::app::ViewSnapshot> snapshot);
  void runEnded(ptyx::app::RunEnd end, std::shared_ptr<const ptyx::Reconstruction> result,
                const QString& message);
  /// Requested parameters were handed to the reconstruction with `iteration` iterations
  /// complete: they hold from the next one (the session recorder anchors replay on it).
  void parametersApplied(int iteration, const ptyx::ReconParams& params);

 private:
  class ObserverAdapter;
  void build();
  [[nodiscard]] std::shared_ptr<const Reconstruction> currentResult() const;

  std::shared_ptr<const Scan> scan_;
  ReconParams params_;  // the worker's view of the parameters (targets, iterations)
  std::string backendName_;
  std::unique_ptr<Backend> backend_;
  SerialCommunicator communicator_;
  std::unique_ptr<Reconstructor> reconstructor_;
  std::unique_ptr<ObserverAdapter> observer_;
  FollowRun* follow_ = nullptr;  // a child, when following a growing scan

  std::mutex requestMutex_;
  std::optional<ReconParams> pending_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> snapshotInFlight_{false};
  std::atomic<int> holdAt_{-1};
};

}  // namespace ptyx::app

Q_DECLARE_METATYPE(ptyx::IterationMetrics)
Q_DECLARE_METATYPE(std::shared_ptr<const ptyx::app::ViewSnapshot>)
Q_DECLARE_METATYPE(std::shared_ptr<const ptyx::Reconstruction>)
Q_DECLARE_METATYPE(ptyx::app::RunEnd)
