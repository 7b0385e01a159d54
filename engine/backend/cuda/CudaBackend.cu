// The CUDA backend: frames, mask and exit waves resident on one GPU; batched cuFFT plans made
// once per load with their work area allocated here (and counted in residentBytes); element-wise
// kernels that call the shared maths of math/Kernels.hpp (no second copy of it); overlap sums as
// order-fixed gathers, so results are reproducible run to run. The Reconstructor keeps object and
// probe on the host and all-reduces host arrays; each overlap sum copies its model in and its
// numerator/denominator out (docs/CUDA.md: where a CUDA-aware MPI could take device buffers).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "backend/cuda/CudaCheck.hpp"
#include "backend/cuda/CudaRuntime.hpp"
#include "math/Kernels.hpp"
#include "recon/MemoryPlanner.hpp"

namespace ptyx::cuda {
namespace {

constexpr int kThreads = 256;  // per block; the block reductions assume this exact size

// ---- device memory and plans (RAII) -----------------------------------------------------------

template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(std::size_t count, const char* what) : count_(count) {
    if (count == 0) return;
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, count * sizeof(T));
    if (e != cudaSuccess) {
      throw Error(std::string("cuda backend: cudaMalloc of ") +
                  std::to_string((count * sizeof(T)) >> 20) + " MiB for " + what +
                  " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
    }
    ptr_ = static_cast<T*>(p);
  }
  ~DeviceArray() {
    if (ptr_ != nullptr) (void)cudaFree(ptr_);  // a destructor cannot report; nothing to recover
  }
  DeviceArray(DeviceArray&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      if (ptr_ != nullptr) (void)cudaFree(ptr_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  [[nodiscard]] T* get() const { return ptr_; }
  [[nodiscard]] std::size_t size() const { return count_; }
  [[nodiscard]] std::size_t bytes() const { return count_ * sizeof(T); }
  [[nodiscard]] explicit operator bool() const { return ptr_ != nullptr; }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

template <class T>
void upload(const DeviceArray<T>& to, const T* from, std::size_t count, std::size_t offset = 0) {
  if (count == 0) return;
  PTYX_CUDA_CHECK(cudaMemcpy(to.get() + offset, from, count * sizeof(T), cudaMemcpyHostToDevice));
}
template <class T>
void download(T* to, const T* from, std::size_t count) {
  if (count == 0) return;
  PTYX_CUDA_CHECK(cudaMemcpy(to, from, count * sizeof(T), cudaMemcpyDeviceToHost));
}

class FftPlan {
 public:
  FftPlan() = default;
  ~FftPlan() {
    if (handle_ != 0) (void)cufftDestroy(handle_);
  }
  FftPlan(const FftPlan&) = delete;
  FftPlan& operator=(const FftPlan&) = delete;

  /// A batched 2-D C2C plan over `batch` contiguous M x M frames, without its own work area;
  /// returns the work area it needs.
  std::size_t make(int m, int batch) {
    PTYX_CUFFT_CHECK(cufftCreate(&handle_));
    PTYX_CUFFT_CHECK(cufftSetAutoAllocation(handle_, 0));
    int dims[2] = {m, m};
    std::size_t work = 0;
    PTYX_CUFFT_CHECK(cufftMakePlanMany(handle_, 2, dims, nullptr, 1, m * m, nullptr, 1, m * m,
                                       CUFFT_C2C, batch, &work));
    return work;
  }
  void setWorkArea(void* area) { PTYX_CUFFT_CHECK(cufftSetWorkArea(handle_, area)); }
  void execute(cfloat* data, int direction) const {
    auto* d = reinterpret_cast<cufftComplex*>(data);  // NOLINT: cfloat packs like cufftComplex
    PTYX_CUFFT_CHECK(cufftExecC2C(handle_, d, d, direction));
  }
  [[nodiscard]] bool valid() const { return handle_ != 0; }
  void reset() {
    if (handle_ != 0) PTYX_CUFFT_CHECK(cufftDestroy(std::exchange(handle_, 0)));
  }

 private:
  cufftHandle handle_ = 0;
};

// ---- kernels: one block of kThreads per frame unless said otherwise ---------------------------

// Sums two per-thread partials over the block in a fixed tree order: deterministic.
__device__ void blockSum2(float a, float b, double* outA, double* outB) {
  __shared__ double sa[kThreads];
  __shared__ double sb[kThreads];
  const unsigned t = threadIdx.x;
  sa[t] = a;
  sb[t] = b;
  __syncthreads();
  for (unsigned s = kThreads / 2; s > 0; s >>= 1) {
    if (t < s) {
      sa[t] += sa[t + s];
      sb[t] += sb[t + s];
    }
    __syncthreads();
  }
  if (t == 0) {
    *outA = sa[0];
    *outB = sb[0];
  }
}

// psi_j = P O over frame j's window.
__global__ void formWavesKernel(cfloat* psi, const cfloat* probe, const cfloat* object,
                                const FrameWindow* windows, int m, int objectCols) {
  const unsigned pixels = static_cast<unsigned>(m * m);
  const FrameWindow w = windows[blockIdx.x];
  cfloat* out = psi + static_cast<std::size_t>(blockIdx.x) * pixels;
  for (unsigned i = threadIdx.x; i < pixels; i += kThreads) {
    const int r = static_cast<int>(i) / m;
    const int c = static_cast<int>(i) % m;
    out[i] = kernels::modelWave(
        probe[i], object[static_cast<std::size_t>(w.row + r) * objectCols + w.col + c]);
  }
}

// z = p phi + q psi with phi = P O, and the overlap-error sums of psi against phi (sums[2], [3]).
__global__ void relaxedInputKernel(const cfloat* psi, cfloat* z, const cfloat* probe,
                                   const cfloat* object, const FrameWindow* windows, int m,
                                   int objectCols, float p, float q, double* sums) {
  const unsigned pixels = static_cast<unsigned>(m * m);
  const std::size_t base = static_cast<std::size_t>(blockIdx.x) * pixels;
  const FrameWindow w = windows[blockIdx.x];
  float residual = 0.0F;
  float norm = 0.0F;
  for (unsigned i = threadIdx.x; i < pixels; i += kThreads) {
    const int r = static_cast<int>(i) / m;
    const int c = static_cast<int>(i) % m;
    const cfloat phi = kernels::modelWave(
        probe[i], object[static_cast<std::size_t>(w.row + r) * objectCols + w.col + c]);
    const cfloat s = psi[base + i];
    residual += norm2(s - phi);
    norm += norm2(s);
    z[base + i] = kernels::relaxedInput(phi, s, p, q);
  }
  blockSum2(residual, norm, sums + 4 * blockIdx.x + 2, sums + 4 * blockIdx.x + 3);
}

// z <- pi_a(z) in Fourier space, with the Fourier-error sums (sums[0], [1]) unless sums is null.
__global__ void modulusKernel(cfloat* z, const float* magnitudes, const float* valid,
                              unsigned pixels, float scale, double* sums) {
  const std::size_t base = static_cast<std::size_t>(blockIdx.x) * pixels;
  float residual = 0.0F;
  float norm = 0.0F;
  for (unsigned i = threadIdx.x; i < pixels; i += kThreads) {
    z[base + i] =
        kernels::modulusProject(z[base + i], magnitudes[base + i], valid[i], scale, residual, norm);
  }
  if (sums != nullptr) blockSum2(residual, norm, sums + 4 * blockIdx.x, sums + 4 * blockIdx.x + 1);
}

// psi <- a psi + b w + c z with w = P' O' of the update model.
__global__ void relaxedUpdateKernel(cfloat* psi, const cfloat* z, const cfloat* probe,
                                    const cfloat* object, const FrameWindow* windows, int m,
                                    int objectCols, float a, float b, float c) {
  const unsigned pixels = static_cast<unsigned>(m * m);
  const std::size_t base = static_cast<std::size_t>(blockIdx.x) * pixels;
  const FrameWindow w = windows[blockIdx.x];
  for (unsigned i = threadIdx.x; i < pixels; i += kThreads) {
    const int r = static_cast<int>(i) / m;
    const int col = static_cast<int>(i) % m;
    const cfloat wave = kernels::modelWave(
        probe[i], object[static_cast<std::size_t>(w.row + r) * objectCols + w.col + col]);
    psi[base + i] = kernels::relaxedUpdate(psi[base + i], wave, z[base + i], a, b, c);
  }
}

// T = (1 + gamma) pi_a(psi) - gamma psi.
__global__ void reflectKernel(cfloat* out, const cfloat* projected, const cfloat* psi,
                              unsigned pixels, float gamma) {
  const std::size_t base = static_cast<std::size_t>(blockIdx.x) * pixels;
  for (unsigned i = threadIdx.x; i < pixels; i += kThreads) {
    out[base + i] = kernels::reflect(projected[base + i], psi[base + i], gamma);
  }
}

// One thread per object pixel: the frames covering its row, in frame order (an order-fixed
// gather: no atomics, the same sum every run).
__global__ void gatherObjectKernel(const cfloat* waves, const cfloat* probe,
                                   const FrameWindow* windows, const int* rowOffsets,
                                   const int* rowFrames, int m, int objectRows, int objectCols,
                                   cfloat* numerator, float* denominator) {
  const std::size_t idx = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (idx >= static_cast<std::size_t>(objectRows) * objectCols) return;
  const int row = static_cast<int>(idx / objectCols);
  const int col = static_cast<int>(idx % objectCols);
  const std::size_t pixels = static_cast<std::size_t>(m) * m;
  cfloat num{};
  float den = 0.0F;
  for (int k = rowOffsets[row]; k < rowOffsets[row + 1]; ++k) {
    const int j = rowFrames[k];
    const FrameWindow w = windows[j];
    const int pc = col - w.col;
    if (pc < 0 || pc >= m) continue;
    const std::size_t pi = static_cast<std::size_t>(row - w.row) * m + pc;
    kernels::accumulateOverlap(probe[pi], waves[j * pixels + pi], num, den);
  }
  numerator[idx] = num;
  denominator[idx] = den;
}

// The probe gather in two fixed-order passes, so that it has threads enough for a large GPU
// (one per probe pixel alone is 16 384 for 128 x 128 frames): first one thread per probe pixel
// and chunk of kCudaProbeChunkFrames frames, in frame order (blockIdx.y is the chunk) ...
__global__ void gatherProbeChunksKernel(const cfloat* waves, const cfloat* object,
                                        const FrameWindow* windows, int frames, int m,
                                        int objectCols, cfloat* chunkNumerators,
                                        float* chunkDenominators) {
  const unsigned pixels = static_cast<unsigned>(m * m);
  const unsigned i = blockIdx.x * kThreads + threadIdx.x;
  if (i >= pixels) return;
  const int pr = static_cast<int>(i) / m;
  const int pc = static_cast<int>(i) % m;
  const int first = static_cast<int>(blockIdx.y * kCudaProbeChunkFrames);
  const int last = min(frames, first + static_cast<int>(kCudaProbeChunkFrames));
  cfloat num{};
  float den = 0.0F;
  for (int j = first; j < last; ++j) {
    const FrameWindow w = windows[j];
    kernels::accumulateOverlap(
        object[static_cast<std::size_t>(w.row + pr) * objectCols + w.col + pc],
        waves[static_cast<std::size_t>(j) * pixels + i], num, den);
  }
  chunkNumerators[static_cast<std::size_t>(blockIdx.y) * pixels + i] = num;
  chunkDenominators[static_cast<std::size_t>(blockIdx.y) * pixels + i] = den;
}

// ... then one thread per probe pixel adds its chunks in chunk order.
__global__ void sumProbeChunksKernel(const cfloat* chunkNumerators, const float* chunkDenominators,
                                     int chunks, unsigned pixels, cfloat* numerator,
                                     float* denominator) {
  const unsigned i = blockIdx.x * kThreads + threadIdx.x;
  if (i >= pixels) return;
  cfloat num{};
  float den = 0.0F;
  for (int k = 0; k < chunks; ++k) {
    num += chunkNumerators[static_cast<std::size_t>(k) * pixels + i];
    den += chunkDenominators[static_cast<std::size_t>(k) * pixels + i];
  }
  numerator[i] = num;
  denominator[i] = den;
}

unsigned blocksFor(std::size_t threads) {
  return static_cast<unsigned>((threads + kThreads - 1) / kThreads);
}

// Frames are kept with the zero frequency at (0, 0), the FFT's own order (as the CPU backend).
void ifftshiftInto(const float* in, float* out, std::size_t m) {
  const std::size_t h = m - m / 2;
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) out[((r + h) % m) * m + (c + h) % m] = in[r * m + c];
  }
}

// The inverse of ifftshiftInto: FFT order back to the detector's centred order.
void fftshiftInto(const float* in, float* out, std::size_t m) {
  const std::size_t h = m - m / 2;
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) out[r * m + c] = in[((r + h) % m) * m + (c + h) % m];
  }
}

// ---- the backend ----------------------------------------------------------------------------

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    PTYX_CUDA_CHECK(cudaSetDevice(device_));
    PTYX_CUDA_CHECK(cudaFree(nullptr));  // creates the context now: "usable" means this worked
  }

  [[nodiscard]] std::string name() const override { return "cuda"; }
  [[nodiscard]] std::size_t frameCount() const override { return count_; }
  void load(const FrameSet& frames) override;
  void appendFrames(const FrameSet& added, const ModelView& model) override;
  void formExitWaves(const ModelView& model) override;
  void readExitWaves(std::span<cfloat> out) const override;
  void writeExitWaves(std::span<const cfloat> in) override;
  void accumulateObject(Waves waves, std::span<const cfloat> probe, std::span<cfloat> numerator,
                        std::span<float> denominator) override;
  void accumulateProbe(Waves waves, std::span<const cfloat> object, std::span<cfloat> numerator,
                       std::span<float> denominator) override;
  StepSums relaxedStep(const RelaxedStep& step, const ModelView& model,
                       const ModelView& updateModel) override;
  void reflectModulus(float gammaA) override;
  void frameFourierErrors(std::span<double> out) const override;
  [[nodiscard]] std::size_t residentBytes() const override;

 private:
  // The runtime's current device is per host thread (the GUI runs the loop on a worker).
  void activate() const { PTYX_CUDA_CHECK(cudaSetDevice(device_)); }
  void requireLoaded() const {
    if (!magnitudes_) throw Error("cuda backend: no frames loaded");
  }
  void checkModel(const ModelView& model) const {
    if (model.object.size() != objectRows_ * objectCols_ || model.probe.size() != pixels_) {
      throw Error("cuda backend: object or probe does not match the loaded frames");
    }
  }
  [[nodiscard]] const cfloat* waves(Waves which) const {
    if (which == Waves::Auxiliary) {
      if (!auxiliary_) throw Error("cuda backend: no auxiliary waves (reflectModulus first)");
      return auxiliary_.get();
    }
    return exitWaves_.get();
  }
  void release() {
    fullPlan_.reset();
    restPlan_.reset();
    for (auto* a : {&exitWaves_, &auxiliary_, &batchScratch_, &object_, &probe_, &updateObject_,
                    &updateProbe_, &objectNumerator_, &probeNumerator_}) {
      *a = {};
    }
    magnitudes_ = {};
    valid_ = {};
    fftWork_ = {};
    objectDenominator_ = {};
    probeDenominator_ = {};
    probeChunkNumerators_ = {};
    probeChunkDenominators_ = {};
    windows_ = {};
    rowOffsets_ = {};
    rowFrames_ = {};
    frameSums_ = {};
    workBytes_ = 0;
    count_ = 0;
  }
  // Runs fn(first, count, plan) over the resident frames in batches of batch_.
  template <class Fn>
  void forEachBatch(Fn&& fn) const {
    for (std::size_t first = 0; first < count_; first += batch_) {
      const std::size_t n = std::min(batch_, count_ - first);
      fn(first, n, n == batch_ ? fullPlan_ : restPlan_);
    }
  }

  int device_;
  std::size_t frameSize_ = 0;
  std::size_t pixels_ = 0;
  std::size_t count_ = 0;
  std::size_t objectRows_ = 0;
  std::size_t objectCols_ = 0;
  std::size_t batch_ = 1;
  std::size_t workBytes_ = 0;

  DeviceArray<float> magnitudes_;     // n x M x M, FFT order
  DeviceArray<float> valid_;          // M x M, 1 = constrained pixel, FFT order
  DeviceArray<cfloat> exitWaves_;     // n x M x M
  DeviceArray<cfloat> auxiliary_;     // n x M x M, general difference map only (on first use)
  DeviceArray<cfloat> batchScratch_;  // batch x M x M: z, then pi_a(z)
  DeviceArray<char> fftWork_;         // the plans' shared work area
  DeviceArray<cfloat> object_;        // the model of the current call
  DeviceArray<cfloat> probe_;
  DeviceArray<cfloat> updateObject_;  // the update model of relaxedStep (general DM)
  DeviceArray<cfloat> updateProbe_;
  DeviceArray<cfloat> objectNumerator_;
  DeviceArray<float> objectDenominator_;
  DeviceArray<cfloat> probeNumerator_;
  DeviceArray<float> probeDenominator_;
  DeviceArray<cfloat> probeChunkNumerators_;  // chunks x M x M, see gatherProbeChunksKernel
  DeviceArray<float> probeChunkDenominators_;
  DeviceArray<FrameWindow> windows_;
  DeviceArray<int> rowOffsets_;    // objectRows + 1: rowFrames_[rowOffsets_[r] .. [r + 1])
  DeviceArray<int> rowFrames_;     // per object row, the frames covering it, in frame order
  DeviceArray<double> frameSums_;  // n x 4 per-frame partials, summed on the host in frame order
  std::vector<double> lastFrameSums_;  // the same, on the host, from the last relaxedStep
  FftPlan fullPlan_;
  FftPlan restPlan_;
};

void CudaBackend::load(const FrameSet& frames) {
  const std::size_t m = frames.frameSize;
  if (m == 0) throw Error("cuda backend: frame size is zero");
  const std::size_t pixels = m * m;
  const std::size_t n = frames.windows.size();
  if (frames.magnitudes.size() != n * pixels) {
    throw Error("cuda backend: " + std::to_string(frames.magnitudes.size()) +
                " magnitudes do not make " + std::to_string(n) + " frames of " + std::to_string(m) +
                "x" + std::to_string(m));
  }
  if (!frames.mask.empty() && frames.mask.size() != pixels) {
    throw Error("cuda backend: mask is not " + std::to_string(m) + "x" + std::to_string(m));
  }
  for (const auto& w : frames.windows) {
    if (w.row < 0 || w.col < 0 || static_cast<std::size_t>(w.row) + m > frames.objectRows ||
        static_cast<std::size_t>(w.col) + m > frames.objectCols) {
      throw Error("cuda backend: a probe window lies outside the object array");
    }
  }
  if (n * m > 0x7fffffffU || m > 46340)
    throw Error("cuda backend: scan too large for 32-bit frame lists");
  activate();

  // A reload must not hold two frame sets at once.
  release();
  const std::size_t rows = frames.objectRows;
  const std::size_t objectPixels = rows * frames.objectCols;
  frameSize_ = m;
  pixels_ = pixels;
  count_ = n;
  objectRows_ = rows;
  objectCols_ = frames.objectCols;
  batch_ = cudaBatchFrames(n, pixels);

  magnitudes_ = DeviceArray<float>(n * pixels, "frames");
  valid_ = DeviceArray<float>(pixels, "mask");
  exitWaves_ = DeviceArray<cfloat>(n * pixels, "exit waves");
  batchScratch_ = DeviceArray<cfloat>(batch_ * pixels, "FFT batch");
  object_ = DeviceArray<cfloat>(objectPixels, "object");
  probe_ = DeviceArray<cfloat>(pixels, "probe");
  updateObject_ = DeviceArray<cfloat>(objectPixels, "update object");
  updateProbe_ = DeviceArray<cfloat>(pixels, "update probe");
  objectNumerator_ = DeviceArray<cfloat>(objectPixels, "object numerator");
  objectDenominator_ = DeviceArray<float>(objectPixels, "object denominator");
  probeNumerator_ = DeviceArray<cfloat>(pixels, "probe numerator");
  probeDenominator_ = DeviceArray<float>(pixels, "probe denominator");
  probeChunkNumerators_ = DeviceArray<cfloat>(cudaProbeChunks(n) * pixels, "probe chunk sums");
  probeChunkDenominators_ = DeviceArray<float>(cudaProbeChunks(n) * pixels, "probe chunk sums");
  windows_ = DeviceArray<FrameWindow>(n, "windows");
  rowOffsets_ = DeviceArray<int>(rows + 1, "frame lists");
  rowFrames_ = DeviceArray<int>(n * m, "frame lists");
  frameSums_ = DeviceArray<double>(n * 4, "step sums");

  // Magnitudes: shifted on the host one batch at a time, so the staging copy stays small.
  std::vector<float> staging(batch_ * pixels);
  for (std::size_t first = 0; first < n; first += batch_) {
    const std::size_t k = std::min(batch_, n - first);
    for (std::size_t j = 0; j < k; ++j) {
      ifftshiftInto(frames.magnitudes.data() + (first + j) * pixels, staging.data() + j * pixels,
                    m);
    }
    upload(magnitudes_, staging.data(), k * pixels, first * pixels);
  }
  std::vector<float> valid(pixels, 1.0F);
  for (std::size_t i = 0; i < frames.mask.size(); ++i) valid[i] = frames.mask[i] != 0 ? 0.0F : 1.0F;
  std::vector<float> validShifted(pixels);
  ifftshiftInto(valid.data(), validShifted.data(), m);
  upload(valid_, validShifted.data(), pixels);
  upload(windows_, frames.windows.data(), n);

  // Per object row, the frames covering it in frame order (counting sort by row).
  std::vector<int> offsets(rows + 1, 0);
  for (const auto& w : frames.windows) {
    for (std::size_t r = 0; r < m; ++r) ++offsets[static_cast<std::size_t>(w.row) + r + 1];
  }
  for (std::size_t r = 0; r < rows; ++r) offsets[r + 1] += offsets[r];
  std::vector<int> fill(offsets.begin(), offsets.end() - 1);
  std::vector<int> list(n * m);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t r = 0; r < m; ++r) {
      list[static_cast<std::size_t>(fill[static_cast<std::size_t>(frames.windows[j].row) + r]++)] =
          static_cast<int>(j);
    }
  }
  upload(rowOffsets_, offsets.data(), rows + 1);
  upload(rowFrames_, list.data(), n * m);

  // Plans once per load; their work area is ours, shared by both, and counted.
  if (n > 0) {
    const int mi = static_cast<int>(m);
    std::size_t work = fullPlan_.make(mi, static_cast<int>(batch_));
    if (n % batch_ != 0) work = std::max(work, restPlan_.make(mi, static_cast<int>(n % batch_)));
    fftWork_ = DeviceArray<char>(work, "cuFFT work area");
    workBytes_ = work;
    fullPlan_.setWorkArea(fftWork_.get());
    if (restPlan_.valid()) restPlan_.setWorkArea(fftWork_.get());
  }
}

// Simple rather than fast: the resident set comes back to the host and is loaded again with the
// new frames, because the batched plans and the per-row frame lists depend on the frame count.
// One host round trip of the frames per call; the follower adds frames at most once per
// iteration (docs/STREAMING.md). The new waves are formed on the device by the shared kernel.
void CudaBackend::appendFrames(const FrameSet& added, const ModelView& model) {
  requireLoaded();
  checkModel(model);
  if (added.frameSize != frameSize_ || added.objectRows != objectRows_ ||
      added.objectCols != objectCols_) {
    throw Error("cuda backend: added frames do not match the loaded frame size or object");
  }
  const std::size_t k = added.windows.size();
  if (added.magnitudes.size() != k * pixels_) {
    throw Error("cuda backend: " + std::to_string(added.magnitudes.size()) +
                " magnitudes do not make " + std::to_string(k) + " frames");
  }
  if (k == 0) return;
  activate();
  const std::size_t n = count_;
  const std::size_t m = frameSize_;
  const std::size_t pixels = pixels_;
  std::vector<float> shifted(n * pixels);
  download(shifted.data(), magnitudes_.get(), shifted.size());
  std::vector<float> magnitudes((n + k) * pixels);
  for (std::size_t j = 0; j < n; ++j)
    fftshiftInto(shifted.data() + j * pixels, magnitudes.data() + j * pixels, m);
  std::copy(added.magnitudes.begin(), added.magnitudes.end(),
            magnitudes.begin() + static_cast<std::ptrdiff_t>(n * pixels));
  shifted = {};
  std::vector<cfloat> waves(n * pixels);
  download(waves.data(), exitWaves_.get(), waves.size());
  std::vector<FrameWindow> windows(n + k);
  download(windows.data(), windows_.get(), n);
  std::copy(added.windows.begin(), added.windows.end(),
            windows.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<float> validShifted(pixels);
  std::vector<float> valid(pixels);
  download(validShifted.data(), valid_.get(), pixels);
  fftshiftInto(validShifted.data(), valid.data(), m);
  std::vector<std::uint8_t> mask(pixels);
  for (std::size_t i = 0; i < pixels; ++i) mask[i] = valid[i] == 0.0F ? 1 : 0;

  FrameSet all;
  all.frameSize = m;
  all.objectRows = objectRows_;
  all.objectCols = objectCols_;
  all.magnitudes = magnitudes;
  all.mask = mask;
  all.windows = windows;
  load(all);
  upload(exitWaves_, waves.data(), waves.size());
  upload(object_, model.object.data(), model.object.size());
  upload(probe_, model.probe.data(), model.probe.size());
  formWavesKernel<<<static_cast<unsigned>(k), kThreads>>>(
      exitWaves_.get() + n * pixels, probe_.get(), object_.get(), windows_.get() + n,
      static_cast<int>(m), static_cast<int>(objectCols_));
  PTYX_CUDA_CHECK_LAUNCH("formWavesKernel");
}

void CudaBackend::formExitWaves(const ModelView& model) {
  requireLoaded();
  checkModel(model);
  activate();
  upload(object_, model.object.data(), model.object.size());
  upload(probe_, model.probe.data(), model.probe.size());
  if (count_ == 0) return;
  formWavesKernel<<<static_cast<unsigned>(count_), kThreads>>>(
      exitWaves_.get(), probe_.get(), object_.get(), windows_.get(), static_cast<int>(frameSize_),
      static_cast<int>(objectCols_));
  PTYX_CUDA_CHECK_LAUNCH("formWavesKernel");
}

void CudaBackend::readExitWaves(std::span<cfloat> out) const {
  requireLoaded();
  if (out.size() != count_ * pixels_) throw Error("cuda backend: exit-wave buffer size mismatch");
  activate();
  download(out.data(), exitWaves_.get(), out.size());
}

void CudaBackend::writeExitWaves(std::span<const cfloat> in) {
  requireLoaded();
  if (in.size() != count_ * pixels_) throw Error("cuda backend: exit-wave buffer size mismatch");
  activate();
  upload(exitWaves_, in.data(), in.size());
}

void CudaBackend::accumulateObject(Waves which, std::span<const cfloat> probe,
                                   std::span<cfloat> numerator, std::span<float> denominator) {
  requireLoaded();
  if (probe.size() != pixels_ || numerator.size() != objectRows_ * objectCols_ ||
      denominator.size() != numerator.size()) {
    throw Error("cuda backend: accumulateObject size mismatch");
  }
  activate();
  const cfloat* w = waves(which);
  upload(probe_, probe.data(), pixels_);  // the sums overwrite: nothing of the caller's goes up
  if (!numerator.empty()) {
    gatherObjectKernel<<<blocksFor(numerator.size()), kThreads>>>(
        w, probe_.get(), windows_.get(), rowOffsets_.get(), rowFrames_.get(),
        static_cast<int>(frameSize_), static_cast<int>(objectRows_), static_cast<int>(objectCols_),
        objectNumerator_.get(), objectDenominator_.get());
    PTYX_CUDA_CHECK_LAUNCH("gatherObjectKernel");
  }
  // Host-staged: the Reconstructor all-reduces these host arrays through the Communicator.
  download(numerator.data(), objectNumerator_.get(), numerator.size());
  download(denominator.data(), objectDenominator_.get(), denominator.size());
}

void CudaBackend::accumulateProbe(Waves which, std::span<const cfloat> object,
                                  std::span<cfloat> numerator, std::span<float> denominator) {
  requireLoaded();
  if (object.size() != objectRows_ * objectCols_ || numerator.size() != pixels_ ||
      denominator.size() != pixels_) {
    throw Error("cuda backend: accumulateProbe size mismatch");
  }
  activate();
  const cfloat* w = waves(which);
  upload(object_, object.data(), object.size());
  const std::size_t chunks = cudaProbeChunks(count_);
  if (chunks > 0) {
    const dim3 grid(blocksFor(pixels_), static_cast<unsigned>(chunks));
    gatherProbeChunksKernel<<<grid, kThreads>>>(
        w, object_.get(), windows_.get(), static_cast<int>(count_), static_cast<int>(frameSize_),
        static_cast<int>(objectCols_), probeChunkNumerators_.get(), probeChunkDenominators_.get());
    PTYX_CUDA_CHECK_LAUNCH("gatherProbeChunksKernel");
  }
  sumProbeChunksKernel<<<blocksFor(pixels_), kThreads>>>(
      probeChunkNumerators_.get(), probeChunkDenominators_.get(), static_cast<int>(chunks),
      static_cast<unsigned>(pixels_), probeNumerator_.get(), probeDenominator_.get());
  PTYX_CUDA_CHECK_LAUNCH("sumProbeChunksKernel");
  download(numerator.data(), probeNumerator_.get(), pixels_);
  download(denominator.data(), probeDenominator_.get(), pixels_);
}

StepSums CudaBackend::relaxedStep(const RelaxedStep& step, const ModelView& model,
                                  const ModelView& updateModel) {
  requireLoaded();
  checkModel(model);
  checkModel(updateModel);
  activate();
  const bool sameModel = model.object.data() == updateModel.object.data() &&
                         model.probe.data() == updateModel.probe.data();
  upload(object_, model.object.data(), model.object.size());
  upload(probe_, model.probe.data(), model.probe.size());
  const cfloat* wObject = object_.get();
  const cfloat* wProbe = probe_.get();
  if (!sameModel) {
    upload(updateObject_, updateModel.object.data(), updateModel.object.size());
    upload(updateProbe_, updateModel.probe.data(), updateModel.probe.size());
    wObject = updateObject_.get();
    wProbe = updateProbe_.get();
  }
  const int m = static_cast<int>(frameSize_);
  const int cols = static_cast<int>(objectCols_);
  const auto pixels = static_cast<unsigned>(pixels_);
  const float scale = 1.0F / static_cast<float>(pixels_);
  cfloat* z = batchScratch_.get();

  forEachBatch([&](std::size_t first, std::size_t n, const FftPlan& plan) {
    const auto blocks = static_cast<unsigned>(n);
    cfloat* psi = exitWaves_.get() + first * pixels_;
    const FrameWindow* windows = windows_.get() + first;
    double* sums = frameSums_.get() + 4 * first;
    relaxedInputKernel<<<blocks, kThreads>>>(psi, z, probe_.get(), object_.get(), windows, m, cols,
                                             step.p, step.q, sums);
    PTYX_CUDA_CHECK_LAUNCH("relaxedInputKernel");
    plan.execute(z, CUFFT_FORWARD);
    modulusKernel<<<blocks, kThreads>>>(z, magnitudes_.get() + first * pixels_, valid_.get(),
                                        pixels, scale, sums);
    PTYX_CUDA_CHECK_LAUNCH("modulusKernel");
    plan.execute(z, CUFFT_INVERSE);
    relaxedUpdateKernel<<<blocks, kThreads>>>(psi, z, wProbe, wObject, windows, m, cols, step.a,
                                              step.b, step.c);
    PTYX_CUDA_CHECK_LAUNCH("relaxedUpdateKernel");
  });

  std::vector<double>& partial = lastFrameSums_;
  partial.resize(4 * count_);
  download(partial.data(), frameSums_.get(), partial.size());
  StepSums total;  // summed in frame order, as the CPU backend does: deterministic
  for (std::size_t j = 0; j < count_; ++j) {
    total.fourierResidual += partial[4 * j];
    total.magnitudeNorm += partial[4 * j + 1];
    total.overlapResidual += partial[4 * j + 2];
    total.exitWaveNorm += partial[4 * j + 3];
  }
  return total;
}

void CudaBackend::frameFourierErrors(std::span<double> out) const {
  if (out.size() != count_)
    throw Error("cuda backend: frameFourierErrors needs one value per frame");
  for (std::size_t j = 0; j < count_; ++j) {
    const bool known = lastFrameSums_.size() == 4 * count_ && lastFrameSums_[4 * j + 1] > 0.0;
    out[j] = known ? lastFrameSums_[4 * j] / lastFrameSums_[4 * j + 1] : 0.0;
  }
}

void CudaBackend::reflectModulus(float gammaA) {
  requireLoaded();
  activate();
  if (!auxiliary_) auxiliary_ = DeviceArray<cfloat>(count_ * pixels_, "auxiliary waves");
  const auto pixels = static_cast<unsigned>(pixels_);
  const float scale = 1.0F / static_cast<float>(pixels_);
  cfloat* z = batchScratch_.get();
  forEachBatch([&](std::size_t first, std::size_t n, const FftPlan& plan) {
    const auto blocks = static_cast<unsigned>(n);
    const cfloat* psi = exitWaves_.get() + first * pixels_;
    PTYX_CUDA_CHECK(cudaMemcpy(z, psi, n * pixels_ * sizeof(cfloat), cudaMemcpyDeviceToDevice));
    plan.execute(z, CUFFT_FORWARD);
    modulusKernel<<<blocks, kThreads>>>(z, magnitudes_.get() + first * pixels_, valid_.get(),
                                        pixels, scale,
                                        nullptr);  // the metrics come from relaxedStep
    PTYX_CUDA_CHECK_LAUNCH("modulusKernel");
    plan.execute(z, CUFFT_INVERSE);
    reflectKernel<<<blocks, kThreads>>>(auxiliary_.get() + first * pixels_, z, psi, pixels, gammaA);
    PTYX_CUDA_CHECK_LAUNCH("reflectKernel");
  });
}

std::size_t CudaBackend::residentBytes() const {
  return magnitudes_.bytes() + valid_.bytes() + exitWaves_.bytes() + auxiliary_.bytes() +
         batchScratch_.bytes() + workBytes_ + object_.bytes() + probe_.bytes() +
         updateObject_.bytes() + updateProbe_.bytes() + objectNumerator_.bytes() +
         objectDenominator_.bytes() + probeNumerator_.bytes() + probeDenominator_.bytes() +
         probeChunkNumerators_.bytes() + probeChunkDenominators_.bytes() + windows_.bytes() +
         rowOffsets_.bytes() + rowFrames_.bytes() + frameSums_.bytes();
}

}  // namespace

std::unique_ptr<Backend> makeBackend(const BackendOptions& /*options*/, int device) {
  return std::make_unique<CudaBackend>(device);
}

}  // namespace ptyx::cuda
