#include "RunWorker.hpp"

#include <QDateTime>

#include <sys/resource.h>
#include <unistd.h>

#include <exception>

#include "FollowRun.hpp"
#include "backend/Backend.hpp"

namespace ptyx::app {

// Engine observer -> Qt signals. Collects an iteration's metrics and snapshot on the worker
// thread (inside step()), preparing the snapshot for drawing there; deliver() then sends both
// back to back, so that they reach the GUI thread in one pass of its event loop and cost one
// repaint of the window, not two.
class RunWorker::ObserverAdapter final : public ReconstructionObserver {
 public:
  explicit ObserverAdapter(RunWorker& worker) : worker_(worker) {}
  void onIteration(const IterationMetrics& metrics) override { metrics_ = metrics; }
  void onSnapshot(const Snapshot& snapshot) override {
    // A GUI that is still drawing the previous snapshot gets no new one: snapshots are the
    // latest state, not a queue, so dropping one loses nothing.
    if (worker_.snapshotInFlight_.exchange(true)) return;
    snapshot_ = ViewSnapshot::prepare(snapshot);
  }
  void deliver() {
    if (metrics_) emit worker_.iterated(*metrics_);
    if (snapshot_) emit worker_.snapshotReady(std::move(snapshot_));
    metrics_.reset();
    snapshot_.reset();
  }

 private:
  RunWorker& worker_;
  std::optional<IterationMetrics> metrics_;
  std::shared_ptr<const ViewSnapshot> snapshot_;
};

RunWorker::RunWorker(std::shared_ptr<const Scan> scan, const ReconParams& params,
                     std::string backend)
    : scan_(std::move(scan)), params_(params), backendName_(std::move(backend)) {}

RunWorker::~RunWorker() = default;

void RunWorker::requestPause(bool paused) {
  paused_.store(paused);
}

void RunWorker::requestStop() {
  stop_.store(true);
}

void RunWorker::requestParameters(const ReconParams& params) {
  const std::lock_guard lock(requestMutex_);
  pending_ = params;
}

namespace {

// The engine's threads yield the cores to the GUI thread and the GL rasteriser's threads: with a
// lower priority they still take every cycle the GUI leaves idle (most of them), but the event
// loop never queues behind an iteration for a core. Thread pools the backend starts later inherit
// the value from this thread. Failure is harmless (the run is just less polite), so it is ignored.
void yieldToInteractiveThreads() {
  constexpr int kEngineNice = 10;
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kEngineNice);
}

}  // namespace

void RunWorker::setFollow(FollowRun* follow) {
  follow->setParent(this);
  follow_ = follow;
}

void RunWorker::build() {
  yieldToInteractiveThreads();
  backend_ = makeBackend(backendName_, {params_.threads});
  reconstructor_ = follow_
                       ? follow_->start(params_, *backend_, communicator_, stop_)
                       : std::make_unique<Reconstructor>(*scan_, params_, *backend_, communicator_);
  observer_ = std::make_unique<ObserverAdapter>(*this);
  reconstructor_->addObserver(observer_.get());
}

std::shared_ptr<const Reconstruction> RunWorker::currentResult() const {
  auto result = std::make_shared<Reconstruction>(reconstructor_->result());
  result->provenance.program = "ptyx-gui";
  result->provenance.version = PTYX_VERSION;
  result->provenance.date = QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString();
  result->provenance.commandLine = "ptyx-gui";
  result->provenance.inputPath = scan_ ? scan_->sourcePath : follow_->path().toStdString();
  result->provenance.inputHash = scan_ ? scan_->sourceHash : std::string();
  return result;
}

void RunWorker::runIterations(int count) {
  RunEnd end = RunEnd::Paused;
  try {
    if (!reconstructor_) build();
    int done = 0;
    while (true) {
      if (stop_.load()) {
        end = RunEnd::Stopped;
        break;
      }
      if (count < 0 && paused_.load()) break;
      if (count < 0 && holdAt_.load() >= 0 && reconstructor_->iteration() >= holdAt_.load()) break;
      if (count >= 0 && done >= count) break;
      {
        const std::lock_guard lock(requestMutex_);
        if (pending_) {
          params_ = *pending_;
          reconstructor_->requestParameters(*pending_);  // applied before the next iteration
          pending_.reset();
          emit parametersApplied(reconstructor_->iteration(), params_);
        }
      }
      if (follow_) follow_->beforeIteration(*reconstructor_, params_.iterations);
      const int target = follow_ ? reconstructor_->parameters().iterations : params_.iterations;
      if (count < 0 && reconstructor_->iteration() >= target) {
        end = RunEnd::Finished;
        break;
      }
      done += reconstructor_->step(1);
      observer_->deliver();
    }
  } catch (const std::exception& e) {
    if (observer_) observer_->deliver();
    if (!reconstructor_ && stop_.load()) {  // stopped while waiting for a growing scan's frames
      emit runEnded(RunEnd::Stopped, nullptr, {});
      return;
    }
    emit runEnded(RunEnd::Failed, reconstructor_ ? currentResult() : nullptr,
                  QString::fromStdString(e.what()));
    return;
  }
  emit runEnded(end, currentResult(), {});
}

}  // namespace ptyx::app
