#include "Workbench.hpp"

#include <exception>
#include <utility>

#include <QThreadPool>

#include "FollowRun.hpp"
#include "backend/Devices.hpp"
#include "backend/cpu/CpuBackend.hpp"
#include "core/Error.hpp"
#include "init/Initialisation.hpp"
#include "io/Formats.hpp"
#include "io/SwmrScan.hpp"
#include "recon/Layout.hpp"
#include "recon/MemoryPlanner.hpp"

namespace ptyx::app {

Workbench::Workbench(QObject* parent) : QObject(parent) {
  qRegisterMetaType<ptyx::IterationMetrics>();
  qRegisterMetaType<std::shared_ptr<const ptyx::app::ViewSnapshot>>();
  qRegisterMetaType<std::shared_ptr<const ptyx::Reconstruction>>();
  qRegisterMetaType<ptyx::app::RunEnd>();
  qRegisterMetaType<ptyx::ReconParams>();
}

ReconParams Workbench::defaultParameters() {
  ReconParams params;
  params.snapshotInterval_s = 0.05;
  return params;
}

Workbench::~Workbench() {
  stopWorker();
  if (loader_) loader_->wait();
}

namespace {

// Whether two parameter sets start a run differently: the initial probe and object, and what the
// checks before a run look at.
bool initialisationDiffers(const ReconParams& a, const ReconParams& b) {
  return a.probeInit != b.probeInit || a.probeSigmaPixels != b.probeSigmaPixels ||
         a.apertureDiameter_m != b.apertureDiameter_m || a.focalDistance_m != b.focalDistance_m ||
         a.defocus_m != b.defocus_m || a.probeFile != b.probeFile || a.objectInit != b.objectInit ||
         a.objectAmplitude != b.objectAmplitude || a.objectFile != b.objectFile ||
         a.seed != b.seed || a.iterations != b.iterations ||
         a.probeUpdateStart != b.probeUpdateStart;
}

}  // namespace

void Workbench::setState(State state) {
  if (state_ == state) return;
  state_ = state;
  emit stateChanged(state);
}

void Workbench::openScan(const QString& path) {
  if (loader_) return;  // one read at a time
  stopWorker();
  setState(State::Loading);
  // Reading and hashing a large scan takes seconds: not on the GUI thread. The result comes back
  // as a queued call on this object (dropped if it is gone; the destructor joins the thread).
  loader_ = QThread::create([this, path] {
    std::shared_ptr<const Scan> scan;
    std::vector<Finding> findings;
    QString error;
    bool growing = false;  // a scan still being written: followed instead (docs/STREAMING.md)
    try {
      scan = std::make_shared<const Scan>(readScan(path.toStdString()));
      findings = checkScan(*scan);
    } catch (const InputError& e) {
      error = QString::fromStdString(e.what());
      growing = e.field() == swmr::kGroup;
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(
        this,
        [this, scan, path, error, findings, growing]() mutable {
          if (loader_) {
            loader_->wait();
            loader_->deleteLater();
            loader_ = nullptr;
          }
          if (!scan && growing) {
            setState(scan_ ? State::Ready : State::Empty);
            followScan(path);
            return;
          }
          if (!scan) {
            setState(scan_ ? State::Ready : State::Empty);
            emit loadFailed(path, error);
            return;
          }
          finishOpen(std::move(scan), path, std::move(findings));
        },
        Qt::QueuedConnection);
  });
  loader_->start();
}

void Workbench::finishOpen(std::shared_ptr<const Scan> scan, const QString& path,
                           std::vector<Finding> scanFindings) {
  scan_ = std::move(scan);
  scanPath_ = path;
  scanFindings_ = std::move(scanFindings);
  following_ = false;
  result_.reset();
  iteration_ = 0;
  updatePreview();
  setState(State::Ready);
  emit scanLoaded(path);
  emit resultChanged();
  prepareEngineMemory();
}

void Workbench::prepareEngineMemory() {
  // The engine's large arrays are faulted in while the user looks at the opened scan, so that
  // Run starts iterating at once (0.3 s sooner for 1024 × 128² here). Only where they take a
  // small share of the free memory: a user who only browses a large scan should not pay for it.
  const std::size_t frames = scan_->frameCount();
  const std::size_t m = scan_->frameSize();
  if (!runsOnCpu() || CpuBackend::preparedBytesFor(frames, m) > availableHostBytes() / 4) {
    CpuBackend::releasePreparedMemory();
    return;
  }
  QThreadPool::globalInstance()->start([frames, m] { CpuBackend::prepareMemory(frames, m); });
}

void Workbench::updatePreview() {
  if (!scan_) return;
  previewParams_ = params_;
  std::string probeError;
  try {
    probePreview_ = initialProbe(params_, *scan_);
  } catch (const std::exception& e) {
    probePreview_ = {};
    probeError = e.what();
  }
  try {
    const auto layout = layoutFor(*scan_);
    objectPreview_ = initialObject(params_, layout.rows, layout.cols);
  } catch (const std::exception&) {
    objectPreview_ = {};  // checkRun names the problem
  }
  findings_ = scanFindings_;
  const auto runFindings = checkRun(*scan_, params_, probePreview_, probeError);
  findings_.insert(findings_.end(), runFindings.begin(), runFindings.end());
  emit previewChanged();
}

void Workbench::setParameters(const ReconParams& params) {
  if (params == params_) return;
  const ReconParams before = params_;
  params_ = params;
  if (worker_ && (state_ == State::Running || state_ == State::Paused)) {
    worker_->requestParameters(params_);
  }
  // The preview shows the start of a run: only worth recomputing before one.
  if (state_ == State::Ready || state_ == State::Finished) {
    const bool initChanged = initialisationDiffers(before, params);
    if (initChanged) updatePreview();
  }
  emit parametersChanged(params_);
}

bool Workbench::startWorker(QString* why) {
  if (!scan_ || state_ == State::Loading) {
    if (why) *why = tr("No scan is open.");
    return false;
  }
  // The preview (initial probe, checks) is kept current while the form is edited; recomputing
  // it here would cost the GUI thread a pass over every frame just as the run starts.
  if (initialisationDiffers(previewParams_, params_)) updatePreview();
  if (hasErrors(findings_)) {
    if (why) *why = tr("The checks before a run found errors (see the Checks panel).");
    return false;
  }
  if (!chooseRunBackend(why) || !checkRunMemory(why)) return false;
  stopWorker();
  iteration_ = 0;
  remoteIterations_ = 0;
  remoteLive_ = false;
  result_.reset();
  held_ = false;
  holdAt_ = -1;
  launch(new RunWorker(scan_, params_, runBackend_.toStdString()));
  emit runStarted();
  return true;
}

bool Workbench::runsOnCpu() const {
  try {
    return resolveBackend(backend_.toStdString(), detectDevices()).backend == "cpu";
  } catch (const std::exception&) {
    return false;  // CUDA asked for but absent: Run will say so
  }
}

MemoryCase Workbench::memoryCase(MemoryTarget target, int ranks) const {
  const auto layout = layoutFor(*scan_);
  MemoryCase c;
  c.frames = scan_->frameCount();
  c.frameSize = scan_->frameSize();
  c.objectRows = layout.rows;
  c.objectCols = layout.cols;
  c.threads = static_cast<std::size_t>(
      params_.threads > 0 ? params_.threads : (ranks > 1 ? 1 : QThread::idealThreadCount()));
  c.auxiliaryWaves = needsAuxiliaryWaves(params_);
  c.target = target;
  return c;
}

std::optional<RankMemory> Workbench::runMemory() const {
  if (!scan_) return std::nullopt;
  return planRank(memoryCase(runsOnCpu() ? MemoryTarget::CpuRam : MemoryTarget::CudaDevice), 1);
}

bool Workbench::checkRunMemory(QString* why) const {
  // Refused before anything is allocated, rather than failing (or swapping) part-way in.
  const bool gpu = runBackend_ == QLatin1String("cuda");
  const MemoryCase c = memoryCase(gpu ? MemoryTarget::CudaDevice : MemoryTarget::CpuRam);
  std::size_t capacity = 0;
  try {
    capacity = capacityPerRank(c.target, gpu ? 0 : CpuBackend::preparedBytes());
  } catch (const std::exception& e) {  // PTYX_DEVICE names no device of this machine
    if (why) *why = QString::fromStdString(e.what());
    return false;
  }
  if (capacity == 0) return true;  // unknown: nothing to check against
  const PlanVerdict verdict = checkPlan(c, 1, capacity);
  if (verdict.fits) return true;
  if (why) {
    *why = tr("The run would not fit in this machine's memory (%1). Spread it over several GPUs "
              "or nodes as a job: Remote ▸ Submit job…")
               .arg(QString::fromStdString(verdict.message));
  }
  return false;
}

void Workbench::setBackend(const QString& name) {
  if (name == backend_) return;
  const bool wasOnCpu = runsOnCpu();
  backend_ = name;
  // An opened scan not yet run holds the CPU's arrays only while a run would use them.
  if (scan_ && state_ == State::Ready && !following_ && runsOnCpu() != wasOnCpu) {
    prepareEngineMemory();
  }
  emit backendChanged(backend_);
}

bool Workbench::chooseRunBackend(QString* why) {
  // Resolved here, not inside the run, so that the session records what the run computes on.
  try {
    const BackendChoice choice = resolveBackend(backend_.toStdString(), detectDevices());
    runBackend_ = QString::fromStdString(choice.backend);
    runBackendNote_ = QString::fromStdString(choice.note);
  } catch (const std::exception& e) {
    if (why) {
      *why = tr("%1. Choose Auto or CPU in Run ▸ Compute backend.")
                 .arg(QString::fromStdString(e.what()));
    }
    return false;
  }
  if (runBackend_ != QLatin1String("cpu")) CpuBackend::releasePreparedMemory();
  return true;
}

void Workbench::launch(RunWorker* worker) {
  thread_ = new QThread(this);
  thread_->setObjectName(QStringLiteral("ptyx-reconstruction"));
  worker->moveToThread(thread_);
  worker_ = worker;
  connect(thread_, &QThread::finished, worker, &QObject::deleteLater);
  connect(
      worker, &RunWorker::iterated, this,
      [this](const IterationMetrics& m) {
        iteration_ = m.iteration;
        emit iterated(m);
      },
      Qt::QueuedConnection);
  connect(worker, &RunWorker::snapshotReady, this, &Workbench::onSnapshot, Qt::QueuedConnection);
  connect(worker, &RunWorker::runEnded, this, &Workbench::onRunEnded, Qt::QueuedConnection);
  connect(worker, &RunWorker::parametersApplied, this, &Workbench::parametersApplied,
          Qt::QueuedConnection);
  thread_->start();
}

bool Workbench::followScan(const QString& path, QString* why) {
  if (loader_ || state_ == State::Loading) {
    if (why) *why = tr("A scan is being opened.");
    return false;
  }
  if (!chooseRunBackend(why)) return false;
  stopWorker();
  scan_.reset();
  scanPath_ = path;
  scanFindings_.clear();
  findings_.clear();
  result_.reset();
  iteration_ = 0;
  following_ = true;
  held_ = false;
  holdAt_ = -1;
  auto* worker = new RunWorker(nullptr, params_, runBackend_.toStdString());
  auto* follow = new FollowRun(path);
  worker->setFollow(follow);  // a child: it moves to the worker thread and dies with the worker
  connect(
      follow, &FollowRun::started, this,
      [this](std::shared_ptr<const Scan> scan) {
        scan_ = std::move(scan);
        emit scanLoaded(scanPath_);
      },
      Qt::QueuedConnection);
  connect(follow, &FollowRun::framesReceived, this, &Workbench::framesReceived,
          Qt::QueuedConnection);
  connect(
      follow, &FollowRun::completed, this,
      [this](std::shared_ptr<const Scan> scan) {
        scan_ = std::move(scan);
        emit scanGrew();
      },
      Qt::QueuedConnection);
  launch(worker);
  emit followStarted(path);
  setState(State::Running);
  QMetaObject::invokeMethod(worker_, "runIterations", Qt::QueuedConnection, Q_ARG(int, -1));
  return true;
}

void Workbench::stopWorker() {
  if (!thread_) return;
  if (worker_) {
    worker_->requestStop();
    worker_->requestPause(true);
  }
  // Called when a run is replaced or the window closes: waits for at most the iteration in
  // flight, since the loop looks at the stop flag between iterations.
  thread_->quit();
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
}

bool Workbench::run(QString* why) {
  if (state_ == State::Paused) {
    resume();
    return true;
  }
  if (state_ == State::Running) return true;
  if (!startWorker(why)) return false;
  setState(State::Running);
  QMetaObject::invokeMethod(worker_, "runIterations", Qt::QueuedConnection, Q_ARG(int, -1));
  return true;
}

void Workbench::pause() {
  if (state_ != State::Running || !worker_) return;
  worker_->requestPause(true);
  setState(State::Paused);
  if (held_) {
    // The worker is idle at a hold: let it see the pause and return as a pausing run does.
    held_ = false;
    QMetaObject::invokeMethod(worker_, "runIterations", Qt::QueuedConnection, Q_ARG(int, -1));
  }
}

void Workbench::resume() {
  if (state_ != State::Paused || !worker_) return;
  worker_->requestPause(false);
  setState(State::Running);
  QMetaObject::invokeMethod(worker_, "runIterations", Qt::QueuedConnection, Q_ARG(int, -1));
}

bool Workbench::step(QString* why) {
  if (state_ == State::Running) return false;
  if (state_ != State::Paused) {
    if (!startWorker(why)) return false;
    worker_->requestPause(true);
    setState(State::Paused);
  }
  QMetaObject::invokeMethod(worker_, "runIterations", Qt::QueuedConnection, Q_ARG(int, 1));
  return true;
}

void Workbench::stop() {
  if ((state_ != State::Running && state_ != State::Paused) || !worker_) return;
  worker_->requestStop();
  // A paused worker is idle: wake it so that it returns the final result.
  QMetaObject::invokeMethod(worker_, "runIterations", Qt::QueuedConnection, Q_ARG(int, 0));
  setState(State::Finished);
}

void Workbench::holdAt(int iteration) {
  holdAt_ = iteration;
  if (worker_) worker_->requestHoldAt(iteration);
}

void Workbench::releaseHold(int nextHold) {
  if (!worker_) return;
  held_ = false;
  holdAt_ = nextHold;
  worker_->requestHoldAt(nextHold);
  if (state_ == State::Running) {
    QMetaObject::invokeMethod(worker_, "runIterations", Qt::QueuedConnection, Q_ARG(int, -1));
  }
}

void Workbench::onSnapshot(std::shared_ptr<const ViewSnapshot> snapshot) {
  emit snapshotReady(std::move(snapshot));
  if (worker_) worker_->snapshotConsumed();
}

void Workbench::onRunEnded(RunEnd end, std::shared_ptr<const Reconstruction> result,
                           const QString& message) {
  // The state is settled before resultChanged, so that views see a run that has returned and
  // show exactly the state it left (the last throttled snapshot may have been skipped).
  const bool newResult = result != nullptr;
  if (newResult) result_ = std::move(result);
  switch (end) {
    case RunEnd::Paused:  // the state already says so (or a resume is queued)
      // While Running, this is a hold (session replay) or a pause that a resume has overtaken.
      held_ = state_ == State::Running && holdAt_ >= 0 && result_ &&
              static_cast<int>(result_->history.size()) >= holdAt_;
      break;
    case RunEnd::Finished:
    case RunEnd::Stopped:
      setState(State::Finished);
      break;
    case RunEnd::Failed:
      setState(State::Finished);
      emit runFailed(message);
      break;
  }
  if (newResult) emit resultChanged();
  emit runReturned(end, result_ ? static_cast<int>(result_->history.size()) : iteration_);
}

void Workbench::beginRemoteView(int iterations) {
  iteration_ = 0;
  remoteIterations_ = iterations > 0 ? iterations : params_.iterations;
  remoteLive_ = true;
  emit remoteViewStarted();
}

void Workbench::showRemoteIteration(const IterationMetrics& metrics) {
  iteration_ = metrics.iteration;
  emit iterated(metrics);
}

void Workbench::showRemoteSnapshot(std::shared_ptr<const ViewSnapshot> snapshot) {
  emit snapshotReady(std::move(snapshot));
}

void Workbench::endRemoteView() {
  if (!remoteLive_) return;
  remoteLive_ = false;
  emit remoteViewEnded();
}

bool Workbench::adoptResult(std::shared_ptr<const Reconstruction> result) {
  if (!result || state_ == State::Running || state_ == State::Paused) return false;
  result_ = std::move(result);
  if (state_ == State::Ready) setState(State::Finished);
  emit resultChanged();
  return true;
}

}  // namespace ptyx::app
