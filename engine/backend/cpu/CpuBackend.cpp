#include "backend/cpu/CpuBackend.hpp"

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <string>

#include "core/Error.hpp"
#include "math/Fft.hpp"
#include "math/Kernels.hpp"

namespace ptyx {
namespace {

struct FftwFree {
  void operator()(void* p) const { fftwf_free(p); }
};
template <class T>
using FftwArray = std::unique_ptr<T[], FftwFree>;

template <class T>
FftwArray<T> allocate(std::size_t count, const char* what) {
  auto* p = static_cast<T*>(fftwf_malloc(sizeof(T) * std::max<std::size_t>(count, 1)));
  if (p == nullptr) {
    throw Error(std::string("cpu backend: cannot allocate ") + what + " (" +
                std::to_string(sizeof(T) * count >> 20) + " MiB)");
  }
  return FftwArray<T>(p);
}

fftwf_complex* fftw(cfloat* p) { return reinterpret_cast<fftwf_complex*>(p); }  // NOLINT

// Frames are kept with the zero frequency at (0, 0), the FFT's own order, so that no shift is
// needed per iteration.
void ifftshiftInto(const float* in, float* out, std::size_t m) {
  const std::size_t h = m - m / 2;
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) out[((r + h) % m) * m + (c + h) % m] = in[r * m + c];
  }
}

}  // namespace

struct CpuBackend::Buffers {
  FftwArray<float> magnitudes;          // n x M x M, FFT order
  FftwArray<float> valid;               // M x M, 1 = constrained pixel, FFT order
  FftwArray<cfloat> exitWaves;          // n x M x M
  FftwArray<cfloat> auxiliary;          // n x M x M, general difference map only
  std::vector<FftwArray<cfloat>> scratch;  // one frame per thread
  fftwf_plan forward = nullptr;
  fftwf_plan inverse = nullptr;

  ~Buffers() {
    const std::lock_guard lock(fftwPlannerMutex());
    if (forward != nullptr) fftwf_destroy_plan(forward);
    if (inverse != nullptr) fftwf_destroy_plan(inverse);
  }
};

CpuBackend::CpuBackend(const BackendOptions& options)
    : threads_(options.threads > 0 ? options.threads : omp_get_num_procs()) {}

CpuBackend::~CpuBackend() = default;

void CpuBackend::load(const FrameSet& frames) {
  const std::size_t m = frames.frameSize;
  if (m == 0) throw Error("cpu backend: frame size is zero");
  const std::size_t pixels = m * m;
  const std::size_t n = frames.windows.size();
  if (frames.magnitudes.size() != n * pixels) {
    throw Error("cpu backend: " + std::to_string(frames.magnitudes.size()) +
                " magnitudes do not make " + std::to_string(n) + " frames of " +
                std::to_string(m) + "x" + std::to_string(m));
  }
  if (!frames.mask.empty() && frames.mask.size() != pixels) {
    throw Error("cpu backend: mask is not " + std::to_string(m) + "x" + std::to_string(m));
  }
  for (const auto& w : frames.windows) {
    if (w.row < 0 || w.col < 0 || static_cast<std::size_t>(w.row) + m > frames.objectRows ||
        static_cast<std::size_t>(w.col) + m > frames.objectCols) {
      throw Error("cpu backend: a probe window lies outside the object array");
    }
  }

  auto b = std::make_unique<Buffers>();
  b->magnitudes = allocate<float>(n * pixels, "frames");
  b->exitWaves = allocate<cfloat>(n * pixels, "exit waves");
  b->valid = allocate<float>(pixels, "mask");
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < n; ++j) {
    ifftshiftInto(frames.magnitudes.data() + j * pixels, b->magnitudes.get() + j * pixels, m);
  }
  std::vector<float> valid(pixels, 1.0F);
  for (std::size_t i = 0; i < frames.mask.size(); ++i) valid[i] = frames.mask[i] != 0 ? 0.0F : 1.0F;
  ifftshiftInto(valid.data(), b->valid.get(), m);

  for (int t = 0; t < threads_; ++t) b->scratch.push_back(allocate<cfloat>(pixels, "FFT scratch"));
  {
    // ESTIMATE plans are deterministic (MEASURE may pick a different algorithm per run and so
    // change the last bits), and planning never touches the arrays.
    const std::lock_guard lock(fftwPlannerMutex());
    const int mi = static_cast<int>(m);
    cfloat* s = b->scratch.front().get();
    b->forward = fftwf_plan_dft_2d(mi, mi, fftw(s), fftw(s), FFTW_FORWARD, FFTW_ESTIMATE);
    b->inverse = fftwf_plan_dft_2d(mi, mi, fftw(s), fftw(s), FFTW_BACKWARD, FFTW_ESTIMATE);
  }
  if (b->forward == nullptr || b->inverse == nullptr) {
    throw Error("cpu backend: FFTW could not plan " + std::to_string(m) + "x" + std::to_string(m));
  }

  frameSize_ = m;
  pixels_ = pixels;
  count_ = n;
  objectRows_ = frames.objectRows;
  objectCols_ = frames.objectCols;
  windows_.assign(frames.windows.begin(), frames.windows.end());
  buffers_ = std::move(b);
}

void CpuBackend::checkModel(const ModelView& model) const {
  if (model.object.size() != objectRows_ * objectCols_ || model.probe.size() != pixels_) {
    throw Error("cpu backend: object or probe does not match the loaded frames");
  }
}

const cfloat* CpuBackend::waves(Waves which) const {
  if (which == Waves::Auxiliary) {
    if (!buffers_->auxiliary) throw Error("cpu backend: no auxiliary waves (reflectModulus first)");
    return buffers_->auxiliary.get();
  }
  return buffers_->exitWaves.get();
}

void CpuBackend::formExitWaves(const ModelView& model) {
  checkModel(model);
  const std::size_t m = frameSize_;
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < count_; ++j) {
    cfloat* psi = buffers_->exitWaves.get() + j * pixels_;
    const auto [wr, wc] = windows_[j];
    for (std::size_t r = 0; r < m; ++r) {
      const cfloat* o = model.object.data() + (wr + r) * objectCols_ + wc;
      const cfloat* p = model.probe.data() + r * m;
      for (std::size_t c = 0; c < m; ++c) psi[r * m + c] = kernels::modelWave(p[c], o[c]);
    }
  }
}

void CpuBackend::readExitWaves(std::span<cfloat> out) const {
  if (out.size() != count_ * pixels_) throw Error("cpu backend: exit-wave buffer size mismatch");
  std::copy_n(buffers_->exitWaves.get(), out.size(), out.data());
}

void CpuBackend::writeExitWaves(std::span<const cfloat> in) {
  if (in.size() != count_ * pixels_) throw Error("cpu backend: exit-wave buffer size mismatch");
  std::copy(in.begin(), in.end(), buffers_->exitWaves.get());
}

void CpuBackend::accumulateObject(Waves which, std::span<const cfloat> probe,
                                  std::span<cfloat> numerator, std::span<float> denominator) {
  if (probe.size() != pixels_ || numerator.size() != objectRows_ * objectCols_ ||
      denominator.size() != numerator.size()) {
    throw Error("cpu backend: accumulateObject size mismatch");
  }
  const cfloat* w = waves(which);
  const std::size_t m = frameSize_;
  // Each object row gathers its frames in frame order: no races, thread-count independent.
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4)
  for (std::size_t row = 0; row < objectRows_; ++row) {
    cfloat* num = numerator.data() + row * objectCols_;
    float* den = denominator.data() + row * objectCols_;
    for (std::size_t j = 0; j < count_; ++j) {
      const auto [wr, wc] = windows_[j];
      if (row < static_cast<std::size_t>(wr) || row >= wr + m) continue;
      const std::size_t pr = row - wr;
      const cfloat* p = probe.data() + pr * m;
      const cfloat* psi = w + j * pixels_ + pr * m;
#pragma omp simd
      for (std::size_t c = 0; c < m; ++c) {
        kernels::accumulateOverlap(p[c], psi[c], num[wc + c], den[wc + c]);
      }
    }
  }
}

void CpuBackend::accumulateProbe(Waves which, std::span<const cfloat> object,
                                 std::span<cfloat> numerator, std::span<float> denominator) {
  if (object.size() != objectRows_ * objectCols_ || numerator.size() != pixels_ ||
      denominator.size() != pixels_) {
    throw Error("cpu backend: accumulateProbe size mismatch");
  }
  const cfloat* w = waves(which);
  const std::size_t m = frameSize_;
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t pr = 0; pr < m; ++pr) {
    cfloat* num = numerator.data() + pr * m;
    float* den = denominator.data() + pr * m;
    for (std::size_t j = 0; j < count_; ++j) {
      const auto [wr, wc] = windows_[j];
      const cfloat* o = object.data() + (wr + pr) * objectCols_ + wc;
      const cfloat* psi = w + j * pixels_ + pr * m;
#pragma omp simd
      for (std::size_t c = 0; c < m; ++c) kernels::accumulateOverlap(o[c], psi[c], num[c], den[c]);
    }
  }
}

StepSums CpuBackend::relaxedStep(const RelaxedStep& step, const ModelView& model,
                                 const ModelView& updateModel) {
  checkModel(model);
  checkModel(updateModel);
  const bool sameModel = model.object.data() == updateModel.object.data() &&
                         model.probe.data() == updateModel.probe.data();
  const std::size_t m = frameSize_;
  const float scale = 1.0F / static_cast<float>(pixels_);
  std::vector<StepSums> perFrame(count_);
  Buffers& b = *buffers_;

#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < count_; ++j) {
    cfloat* z = b.scratch[static_cast<std::size_t>(omp_get_thread_num())].get();
    cfloat* psi = b.exitWaves.get() + j * pixels_;
    const float* mag = b.magnitudes.get() + j * pixels_;
    const auto [wr, wc] = windows_[j];
    StepSums& sums = perFrame[j];

    // z_in = p phi + q psi, and the overlap error of psi against phi.
    for (std::size_t r = 0; r < m; ++r) {
      const cfloat* o = model.object.data() + (wr + r) * objectCols_ + wc;
      const cfloat* p = model.probe.data() + r * m;
      float residual = 0.0F;
      float norm = 0.0F;
#pragma omp simd reduction(+ : residual, norm)
      for (std::size_t c = 0; c < m; ++c) {
        const std::size_t i = r * m + c;
        const cfloat phi = kernels::modelWave(p[c], o[c]);
        residual += norm2(psi[i] - phi);
        norm += norm2(psi[i]);
        z[i] = kernels::relaxedInput(phi, psi[i], step.p, step.q);
      }
      sums.overlapResidual += residual;
      sums.exitWaveNorm += norm;
    }

    fftwf_execute_dft(b.forward, fftw(z), fftw(z));
    for (std::size_t r = 0; r < m; ++r) {
      float residual = 0.0F;
      float norm = 0.0F;
#pragma omp simd reduction(+ : residual, norm)
      for (std::size_t c = 0; c < m; ++c) {
        const std::size_t i = r * m + c;
        z[i] = kernels::modulusProject(z[i], mag[i], b.valid[i], scale, residual, norm);
      }
      sums.fourierResidual += residual;
      sums.magnitudeNorm += norm;
    }
    fftwf_execute_dft(b.inverse, fftw(z), fftw(z));

    const ModelView& up = sameModel ? model : updateModel;
    for (std::size_t r = 0; r < m; ++r) {
      const cfloat* o = up.object.data() + (wr + r) * objectCols_ + wc;
      const cfloat* p = up.probe.data() + r * m;
#pragma omp simd
      for (std::size_t c = 0; c < m; ++c) {
        const std::size_t i = r * m + c;
        const cfloat w = kernels::modelWave(p[c], o[c]);
        psi[i] = kernels::relaxedUpdate(psi[i], w, z[i], step.a, step.b, step.c);
      }
    }
  }

  StepSums total;  // summed in frame order: deterministic
  for (const auto& s : perFrame) {
    total.fourierResidual += s.fourierResidual;
    total.magnitudeNorm += s.magnitudeNorm;
    total.overlapResidual += s.overlapResidual;
    total.exitWaveNorm += s.exitWaveNorm;
  }
  return total;
}

void CpuBackend::reflectModulus(float gammaA) {
  Buffers& b = *buffers_;
  if (!b.auxiliary) b.auxiliary = allocate<cfloat>(count_ * pixels_, "auxiliary waves");
  const float scale = 1.0F / static_cast<float>(pixels_);
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < count_; ++j) {
    cfloat* z = b.scratch[static_cast<std::size_t>(omp_get_thread_num())].get();
    const cfloat* psi = b.exitWaves.get() + j * pixels_;
    cfloat* out = b.auxiliary.get() + j * pixels_;
    const float* mag = b.magnitudes.get() + j * pixels_;
    std::copy_n(psi, pixels_, z);
    fftwf_execute_dft(b.forward, fftw(z), fftw(z));
    float residual = 0.0F;
    float norm = 0.0F;
#pragma omp simd reduction(+ : residual, norm)
    for (std::size_t i = 0; i < pixels_; ++i) {
      z[i] = kernels::modulusProject(z[i], mag[i], b.valid[i], scale, residual, norm);
    }
    fftwf_execute_dft(b.inverse, fftw(z), fftw(z));
    for (std::size_t i = 0; i < pixels_; ++i) out[i] = kernels::reflect(z[i], psi[i], gammaA);
  }
}

std::size_t CpuBackend::residentBytes() const {
  if (!buffers_) return 0;
  const std::size_t frames = count_ * pixels_;
  std::size_t bytes = frames * (sizeof(float) + sizeof(cfloat)) + pixels_ * sizeof(float);
  if (buffers_->auxiliary) bytes += frames * sizeof(cfloat);
  bytes += buffers_->scratch.size() * pixels_ * sizeof(cfloat);
  return bytes;
}

}  // namespace ptyx
