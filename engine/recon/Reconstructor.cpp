#include "recon/Reconstructor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>

#include <omp.h>

#include "core/Error.hpp"
#include "init/Initialisation.hpp"
#include "math/Kernels.hpp"
#include "params/ParameterSchema.hpp"
#include "recon/ObjectError.hpp"

namespace ptyx {
namespace {

// The model's host-side update, on the engine's threads. Element-wise division and a maximum
// give the same bits for any thread count. Below this many pixels a team costs more than it saves.
constexpr std::size_t kParallelPixels = 1 << 16;

void divide(std::span<cfloat> out, std::span<const cfloat> numerator,
            std::span<const float> denominator, float eps, int threads) {
  const bool team = out.size() >= kParallelPixels;
  const auto n = static_cast<std::ptrdiff_t>(out.size());
#pragma omp parallel for num_threads(threads) schedule(static) if (team)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    out[i] = kernels::regularisedDivide(numerator[i], denominator[i], eps);
  }
}

float maximum(std::span<const float> values, int threads) {
  const bool team = values.size() >= kParallelPixels;
  float m = values.empty() ? 0.0F : values[0];
  const auto n = static_cast<std::ptrdiff_t>(values.size());
#pragma omp parallel for num_threads(threads) reduction(max : m) if (team)
  for (std::ptrdiff_t i = 0; i < n; ++i) m = std::max(m, values[i]);
  return m;
}

struct Plan {
  RelaxedStep step;
  bool general = false;  // needs pi_o(f_a(psi)): the general difference map and HIO
  float gammaA = -1.0F;
};

// Each algorithm as coefficients of the one relaxed step (see RelaxedStep and DESIGN.md §1).
Plan planFor(const ReconParams& p) {
  const auto beta = static_cast<float>(p.beta);
  Plan plan;
  switch (p.algorithm) {
    case Algorithm::DM: {
      const auto go = static_cast<float>(p.gammaO);
      plan.step = {1.0F + go, -go, 1.0F, -beta, beta};
      plan.gammaA = static_cast<float>(p.gammaA);
      plan.general = p.gammaA != -1.0;
      break;
    }
    case Algorithm::HIO:
      // Elser: HIO is the difference map with gamma_o = -1, gamma_a = 1/beta and -beta.
      plan.step = {0.0F, 1.0F, 1.0F, beta, -beta};
      plan.gammaA = 1.0F / beta;
      plan.general = true;
      break;
    case Algorithm::RAAR:
      plan.step = {2.0F, -1.0F, beta, 1.0F - 2.0F * beta, beta};
      break;
    case Algorithm::ER:
      plan.step = {1.0F, 0.0F, 0.0F, 0.0F, 1.0F};
      break;
  }
  return plan;
}

std::span<cfloat> asComplex(std::span<float> floats) {
  return {reinterpret_cast<cfloat*>(floats.data()), floats.size() / 2};  // NOLINT: float pairs
}

}  // namespace

FrameRange frameBlock(std::size_t frames, int rank, int ranks) {
  const auto r = static_cast<std::size_t>(rank);
  const auto p = static_cast<std::size_t>(ranks);
  return {r * frames / p, (r + 1) * frames / p};
}

Reconstructor::Reconstructor(const Scan& scan, const ReconParams& params, Backend& backend,
                             Communicator& communicator)
    : scan_(scan), params_(params), backend_(backend), comm_(communicator) {
  validate(params_);
  const std::size_t n = scan.frameCount();
  if (n == 0) throw InputError(scan.sourcePath, "frames", "the scan has no frames");
  if (scan.positions.size() != n) {
    throw InputError(
        scan.sourcePath, "positions",
        std::to_string(scan.positions.size()) + " positions for " + std::to_string(n) + " frames");
  }
  layout_ = layoutFor(scan);
  positions_ = scan.positions;

  // This rank's contiguous block of frames; blocks differ by at most one frame.
  frames_ = frameBlock(n, comm_.rank(), comm_.size());
  start(std::span<const FrameWindow>(layout_.windows).subspan(frames_.first, frames_.count()));
}

Reconstructor::Reconstructor(const Scan& arrived, std::span<const Position> planned,
                             const ReconParams& params, Backend& backend,
                             Communicator& communicator)
    : scan_(arrived), params_(params), backend_(backend), comm_(communicator), following_(true) {
  validate(params_);
  if (comm_.size() != 1) {
    throw Error("following a growing scan runs on one rank, not " + std::to_string(comm_.size()) +
                ": start it without mpirun");
  }
  const std::size_t n = arrived.frameCount();
  if (n == 0) throw InputError(arrived.sourcePath, "frames", "no frames have arrived yet");
  if (arrived.positions.size() != n) {
    throw InputError(arrived.sourcePath, "positions",
                     std::to_string(arrived.positions.size()) + " positions for " +
                         std::to_string(n) + " frames");
  }
  layout_ = layoutFor(planned, arrived.frameSize(), arrived.sourcePath);
  layout_.windows = checkedWindows(arrived.positions, 0);
  positions_ = arrived.positions;
  frames_ = {0, n};
  start(layout_.windows);
}

std::vector<FrameWindow> Reconstructor::checkedWindows(std::span<const Position> positions,
                                                       std::size_t firstFrame) const {
  const std::size_t m = probe_.empty() ? scan_.frameSize() : probe_.rows();
  std::vector<FrameWindow> windows;
  windows.reserve(positions.size());
  for (std::size_t j = 0; j < positions.size(); ++j) {
    const FrameWindow w = windowFor(layout_, positions[j], m);
    if (w.row < 0 || w.col < 0 || static_cast<std::size_t>(w.row) + m > layout_.rows ||
        static_cast<std::size_t>(w.col) + m > layout_.cols) {
      throw InputError(scan_.sourcePath, "translation",
                       "frame " + std::to_string(firstFrame + j) + " at (" +
                           std::to_string(positions[j].row) + ", " +
                           std::to_string(positions[j].col) +
                           ") object pixels lies outside the planned scan");
    }
    windows.push_back(w);
  }
  return windows;
}

// Hands this rank's frames (scan_'s frames_ block, at `windows`) to the backend and initialises
// probe, object and exit waves.
void Reconstructor::start(std::span<const FrameWindow> windows) {
  const std::size_t m = scan_.frameSize();
  const std::size_t pixels = m * m;
  FrameSet frames;
  frames.frameSize = m;
  frames.objectRows = layout_.rows;
  frames.objectCols = layout_.cols;
  frames.magnitudes =
      scan_.magnitudes.span().subspan(frames_.first * pixels, frames_.count() * pixels);
  frames.mask = scan_.mask.span();
  frames.windows = windows;
  // Every rank transforms its frames as rank 0 settled, so no frame's result depends on which
  // rank holds it (measured FFT plans differ between machines and between measurements).
  std::string settled = comm_.rank() == 0 ? backend_.settleTransforms(m) : std::string();
  broadcastString(comm_, settled, 0);
  if (comm_.rank() != 0) backend_.adoptTransforms(settled);
  backend_.load(frames);

  probe_ = initialProbe(params_, scan_);
  object_ = initialObject(params_, layout_.rows, layout_.cols);
  const std::size_t objectPixels = layout_.rows * layout_.cols;
  sums_.assign(3 * objectPixels + 3 * pixels, 0.0F);
  illumination_.assign(objectPixels, 0.0F);
  backend_.formExitWaves({object_.span(), probe_.span()});
}

void Reconstructor::addFrames(std::span<const float> magnitudes,
                              std::span<const Position> positions) {
  if (!following_) throw Error("addFrames: this reconstruction does not follow a growing scan");
  const std::size_t m = probe_.rows();
  if (magnitudes.size() != positions.size() * m * m) {
    throw Error("addFrames: " + std::to_string(magnitudes.size()) + " values for " +
                std::to_string(positions.size()) + " frames of " + std::to_string(m) + " x " +
                std::to_string(m));
  }
  if (positions.empty()) return;
  const auto windows = checkedWindows(positions, frames_.last);
  FrameSet added;
  added.frameSize = m;
  added.objectRows = layout_.rows;
  added.objectCols = layout_.cols;
  added.magnitudes = magnitudes;
  added.mask = scan_.mask.span();
  added.windows = windows;
  backend_.appendFrames(added, {object_.span(), probe_.span()});
  layout_.windows.insert(layout_.windows.end(), windows.begin(), windows.end());
  positions_.insert(positions_.end(), positions.begin(), positions.end());
  frames_.last += positions.size();
}

void Reconstructor::setIterationTarget(int iterations) {
  const std::lock_guard lock(requestMutex_);
  params_.iterations = iterations;
  if (pending_) pending_->iterations = iterations;
}

void Reconstructor::addObserver(ReconstructionObserver* observer) {
  observers_.push_back(observer);
}

void Reconstructor::requestParameters(const ReconParams& params) {
  validate(params);
  const std::lock_guard lock(requestMutex_);
  pending_ = params;
}

void Reconstructor::requestPause(bool paused) {
  paused_.store(paused);
}
void Reconstructor::requestStop() {
  stopped_.store(true);
}

int Reconstructor::step(int n) {
  int done = 0;
  while (done < n && !paused_.load() && !stopped_.load()) {
    iterate();
    ++done;
  }
  return done;
}

int Reconstructor::run() {
  return step(std::max(0, params_.iterations - iteration_));
}

void Reconstructor::overlapProjection(Waves waves, bool updateProbe) {
  const std::size_t objectPixels = object_.size();
  const std::size_t probePixels = probe_.size();
  std::span<float> all(sums_);
  auto numO = asComplex(all.subspan(0, 2 * objectPixels));
  auto denO = all.subspan(2 * objectPixels, objectPixels);
  auto numP = asComplex(all.subspan(3 * objectPixels, 2 * probePixels));
  auto denP = all.subspan(3 * objectPixels + 2 * probePixels, probePixels);

  const int threads = params_.threads > 0 ? params_.threads : omp_get_num_procs();
  for (int k = 0; k < params_.overlapInner; ++k) {
    backend_.accumulateObject(waves, probe_.span(), numO, denO);  // writes this rank's sums
    comm_.allReduceSum(all.subspan(0, 3 * objectPixels));
    const auto epsO =
        static_cast<float>(params_.objectRegularisation) * maximum(denO, threads) + 1e-30F;
    divide(object_.span(), numO, denO, epsO, threads);
    if (updateProbe) {
      backend_.accumulateProbe(waves, object_.span(), numP, denP);
      comm_.allReduceSum(all.subspan(3 * objectPixels));
      const auto epsP =
          static_cast<float>(params_.probeRegularisation) * maximum(denP, threads) + 1e-30F;
      divide(probe_.span(), numP, denP, epsP, threads);
    }
  }
  std::copy(denO.begin(), denO.end(), illumination_.begin());
}

void Reconstructor::iterate() {
  const auto start = std::chrono::steady_clock::now();
  bool changed = false;
  {
    const std::lock_guard lock(requestMutex_);
    if (pending_) {
      changed = !(*pending_ == params_);
      params_ = *pending_;
      pending_.reset();
    }
  }

  const Plan plan = planFor(params_);
  const bool updateProbe = iteration_ >= params_.probeUpdateStart;
  StepSums local;
  if (plan.general) {
    // z = pi_a(f_o(psi)) needs phi = pi_o(psi) unless gamma_o = -1 (then f_o(psi) = psi);
    // w = pi_o(f_a(psi)) is a second overlap projection, of the reflected waves.
    if (plan.step.p != 0.0F) overlapProjection(Waves::Exit, updateProbe);
    phiObject_ = object_;  // into the storage of the last iteration: no fresh pages to fault in
    phiProbe_ = probe_;
    backend_.reflectModulus(plan.gammaA);
    overlapProjection(Waves::Auxiliary, updateProbe);
    local = backend_.relaxedStep(plan.step, {phiObject_.span(), phiProbe_.span()},
                                 {object_.span(), probe_.span()});
  } else {
    overlapProjection(Waves::Exit, updateProbe);
    const ModelView model{object_.span(), probe_.span()};
    local = backend_.relaxedStep(plan.step, model, model);
  }
  std::array<double, 4> sums{local.fourierResidual, local.magnitudeNorm, local.overlapResidual,
                             local.exitWaveNorm};
  comm_.allReduceSum(std::span<double>(sums));

  ++iteration_;
  IterationMetrics metrics;
  metrics.iteration = iteration_;
  metrics.fourierError = sums[1] > 0.0 ? sums[0] / sums[1] : 0.0;
  metrics.overlapError = sums[3] > 0.0 ? sums[2] / sums[3] : 0.0;
  metrics.parametersChanged = changed;
  if (following_) metrics.framesReceived = static_cast<int>(frames_.count());
  // Scoring against the truth costs a few object-sized FFTs (tens of ms for a 600^2 object), so
  // only rank 0, which reports, pays it, and after the first 20 iterations only every 10th and at
  // the last: a rule on the iteration number alone, so that resumed runs score the same ones.
  const bool score = iteration_ <= 20 || iteration_ % 10 == 0 || iteration_ == params_.iterations;
  if (scan_.truth && comm_.rank() == 0 && score) {
    if (!scorer_ || !scorer_->scores(layout_.rows, layout_.cols, layout_.originPixel)) {
      scorer_ = std::make_unique<ObjectScorer>(*scan_.truth, layout_.rows, layout_.cols,
                                               layout_.originPixel, params_.threads);
    }
    metrics.objectError = scorer_->score(object_, wellIlluminated()).error;
  }
  metrics.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  history_.push_back(metrics);
  notify(metrics);
}

void Reconstructor::notify(const IterationMetrics& metrics) {
  for (auto* o : observers_) o->onIteration(metrics);
  const auto now = std::chrono::steady_clock::now();
  const bool last = iteration_ >= params_.iterations;
  if (observers_.empty() || (!last && std::chrono::duration<double>(now - lastSnapshot_).count() <
                                          params_.snapshotInterval_s)) {
    return;
  }
  lastSnapshot_ = now;
  const Snapshot snapshot{iteration_, object_, probe_, metrics, frameFourierErrors()};
  for (auto* o : observers_) o->onSnapshot(snapshot);
}

SolverState Reconstructor::state() const {
  return {iteration_, params_, object_, probe_, illumination_, history_};
}

void Reconstructor::readExitWaves(std::span<cfloat> out) const {
  backend_.readExitWaves(out);
}

void Reconstructor::restore(const SolverState& state, std::span<const cfloat> exitWaves) {
  const std::string where = "saved state";
  auto require = [&](bool ok, const std::string& field, const std::string& what) {
    if (!ok) throw InputError(where, field, what);
  };
  require(state.object.rows() == layout_.rows && state.object.cols() == layout_.cols, "object",
          "is " + std::to_string(state.object.rows()) + " x " +
              std::to_string(state.object.cols()) + ", the scan lays out " +
              std::to_string(layout_.rows) + " x " + std::to_string(layout_.cols));
  require(state.probe.rows() == probe_.rows() && state.probe.cols() == probe_.cols(), "probe",
          "does not match the scan's frame size");
  require(state.illumination.size() == illumination_.size(), "illumination",
          "does not match the object");
  require(exitWaves.size() == frames_.count() * probe_.size(), "exit_waves",
          "do not match this rank's frames");
  require(state.iteration >= 0 && static_cast<std::size_t>(state.iteration) == state.history.size(),
          "iteration", "does not match the metric history");
  validate(state.params);
  {
    const std::lock_guard lock(requestMutex_);
    pending_.reset();
  }
  iteration_ = state.iteration;
  params_ = state.params;
  object_ = state.object;
  probe_ = state.probe;
  illumination_ = state.illumination;
  history_ = state.history;
  backend_.writeExitWaves(exitWaves);
}

std::vector<double> Reconstructor::frameFourierErrors() const {
  std::vector<double> errors(backend_.frameCount());
  backend_.frameFourierErrors(errors);
  return errors;
}

Image<std::uint8_t> Reconstructor::wellIlluminated() const {
  Image<std::uint8_t> region(layout_.rows, layout_.cols);
  const float maxIllumination = *std::max_element(illumination_.begin(), illumination_.end());
  const float threshold = kWellIlluminated * maxIllumination;
  for (std::size_t i = 0; i < region.size(); ++i) {
    region.data()[i] = maxIllumination > 0.0F && illumination_[i] >= threshold ? 1 : 0;
  }
  return region;
}

Reconstruction Reconstructor::result() const {
  Reconstruction r;
  r.object = object_;
  r.probe = probe_;
  // Far-field data cannot fix the global phase: put the object's mean phase at zero where it is
  // well lit, and give the probe the opposite phase so that P O is unchanged.
  const auto region = wellIlluminated();
  std::complex<double> sum{0.0, 0.0};
  for (std::size_t i = 0; i < object_.size(); ++i) {
    if (region.data()[i] != 0)
      sum += std::complex<double>(object_.data()[i].re, object_.data()[i].im);
  }
  if (std::abs(sum) > 0.0) {
    const std::complex<double> u = std::conj(sum) / std::abs(sum);
    const cfloat rotate{static_cast<float>(u.real()), static_cast<float>(u.imag())};
    for (auto& v : r.object.span()) v = v * rotate;
    for (auto& v : r.probe.span()) v = v * conj(rotate);
  }
  const auto& g = scan_.geometry;
  if (g.wavelength_m > 0.0 && g.pixelSizeX_m > 0.0) {
    r.objectPixelSize_m = objectPixelSize(g, probe_.rows(), g.pixelSizeX_m);
  }
  r.positions = positions_;
  r.originPixel = layout_.originPixel;
  r.illuminated = region;
  r.history = history_;
  r.parametersJson = toJson(params_);
  return r;
}

}  // namespace ptyx
