// The per-pixel loops rely on -fno-math-errno -fno-trapping-math (engine/CMakeLists.txt): with
// GCC's default trapping math the selects of the modulus projection stay scalar.
#include "backend/cpu/CpuBackend.hpp"

#include <fftw3.h>
#include <omp.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/Error.hpp"
#include "math/Fft.hpp"
#include "math/FftWisdom.hpp"
#include "math/Kernels.hpp"

// The per-pixel loops are compiled twice, for x86-64-v3 (AVX2, FMA) and for the baseline, and the
// loader picks one per machine when the program starts: the binary runs anywhere, and on a given
// machine always takes the same path (so runs stay bit-identical). The clones may differ from
// each other in the last bits (FMA contraction, vector width of the row reductions). OpenMP's
// outlined regions do not inherit target attributes, so these functions are called from inside
// the parallel loops, one call per frame or per row block.
// Define PTYX_CPU_CLONES empty to build the baseline path only (e.g. to test it on an AVX2 host).
#if !defined(PTYX_CPU_CLONES)
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PTYX_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PTYX_CPU_CLONES
#endif
#endif

namespace ptyx {
namespace {

struct FftwFree {
  void operator()(void* p) const { fftwf_free(p); }
};
template <class T>
using FftwArray = std::unique_ptr<T[], FftwFree>;

// Frames and waves are touched page by page on first use: 32768 faults for 128 MiB of 4 KiB
// pages, a third of a second before the first iteration on the reference VM (kernel time in
// perf). Asking for transparent huge pages, where the kernel grants them only on request (the
// "madvise" setting), halves that and spares TLB misses later. Advice only: refused, nothing
// changes.
void preferHugePages(void* p, std::size_t bytes) {
  constexpr std::size_t kWorthIt = std::size_t{4} << 20;
  if (bytes < kWorthIt) return;
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t skip = ((start + page - 1) & ~(page - 1)) - start;  // to a page boundary
  if (bytes <= skip + page) return;
  const std::size_t length = (bytes - skip) & ~(page - 1);
  madvise(static_cast<char*>(p) + skip, length, MADV_HUGEPAGE);
}

// Large arrays faulted in before a run asked for them (CpuBackend::prepareMemory). The lock is
// held while they are faulted in, so a run that starts meanwhile waits for them rather than
// faulting in arrays of its own.
struct PreparedArray {
  std::size_t bytes = 0;
  FftwArray<std::byte> memory;
};
std::mutex preparedMutex;
std::vector<PreparedArray> prepared;  // guarded by preparedMutex

void* takePrepared(std::size_t bytes) {
  const std::lock_guard lock(preparedMutex);
  const auto it = std::find_if(prepared.begin(), prepared.end(),
                               [bytes](const PreparedArray& a) { return a.bytes == bytes; });
  if (it == prepared.end()) return nullptr;
  void* p = it->memory.release();
  prepared.erase(it);
  return p;
}

template <class T>
FftwArray<T> allocate(std::size_t count, const char* what) {
  const std::size_t bytes = sizeof(T) * std::max<std::size_t>(count, 1);
  if (void* ready = takePrepared(bytes)) return FftwArray<T>(static_cast<T*>(ready));
  auto* p = static_cast<T*>(fftwf_malloc(bytes));
  if (p == nullptr) {
    throw Error(std::string("cpu backend: cannot allocate ") + what + " (" +
                std::to_string(sizeof(T) * count >> 20) + " MiB)");
  }
  preferHugePages(p, sizeof(T) * count);
  return FftwArray<T>(p);
}

fftwf_complex* fftw(cfloat* p) {
  return reinterpret_cast<fftwf_complex*>(p);
}  // NOLINT

// Frames are kept with the zero frequency at (0, 0), the FFT's own order, so that no shift is
// needed per iteration.
void ifftshiftInto(const float* in, float* out, std::size_t m) {
  const std::size_t h = m - m / 2;
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) out[((r + h) % m) * m + (c + h) % m] = in[r * m + c];
  }
}

// Object rows (or probe rows) gathered together by one task of the overlap sums: the rows of a
// block are contiguous in each exit wave and read as one stream, so taller blocks read the waves
// in fewer, longer pieces (32 rows: 10-20 % less time per gather than 8 on the reference machine,
// docs/PERFORMANCE.md), as long as every thread still gets a few blocks to balance the load.
// Each pixel sums its frames in frame order whatever the block, so the height never changes a bit.
constexpr std::size_t kMaxRowBlock = 32;
constexpr std::size_t kMinRowBlock = 4;
constexpr std::size_t kBlocksPerThread = 4;
std::size_t rowBlock(std::size_t rows, int threads) {
  const std::size_t share = rows / (kBlocksPerThread * static_cast<std::size_t>(threads));
  return std::clamp(share, kMinRowBlock, kMaxRowBlock);
}

// A frame's exit wave and magnitudes stream from memory once per pass, and one core alone does
// not keep enough misses in flight to reach the memory bandwidth: the loops ask for the next
// frame's data ahead (into L2) while the current one computes.
constexpr std::size_t kCacheLine = 64;
inline void prefetchBytes(const void* p, std::size_t bytes) {
  const auto* c = static_cast<const char*>(p);
  for (std::size_t i = 0; i < bytes; i += kCacheLine) __builtin_prefetch(c + i, 0, 2);
}

// Overlap sums: how many frames ahead the gathers ask for their rows, a row's worth per row
// computed. Asking for a whole piece at once stalls the core on its full miss queue: the probe's
// gather took 35 % longer that way, the object's 12 % (docs/PERFORMANCE.md).
constexpr std::size_t kGatherLookahead = 2;

// ---- per-frame and per-row loops (see PTYX_CPU_CLONES) -------------------------------------

// psi = P O over one frame's window.
PTYX_CPU_CLONES void formModelWave(const cfloat* __restrict probe, const cfloat* __restrict object,
                                   std::size_t objectCols, cfloat* __restrict psi, std::size_t m) {
  for (std::size_t r = 0; r < m; ++r) {
    const cfloat* __restrict o = object + r * objectCols;
    const cfloat* __restrict p = probe + r * m;
    cfloat* __restrict out = psi + r * m;
#pragma omp simd
    for (std::size_t c = 0; c < m; ++c) out[c] = kernels::modelWave(p[c], o[c]);
  }
}

// phi = P O, z = p phi + q psi, and the overlap-error sums of psi against phi. Row sums in float,
// added to the frame's double sums row by row (a fixed order). phi is stored, then read back:
// kept in a local instead, GCC 12 leaves this loop scalar. The update reuses the stored phi.
PTYX_CPU_CLONES void formRelaxedInput(const cfloat* __restrict probe,
                                      const cfloat* __restrict object, std::size_t objectCols,
                                      const cfloat* __restrict psi, cfloat* __restrict phi,
                                      cfloat* __restrict z, std::size_t m, float p, float q,
                                      StepSums& sums) {
  for (std::size_t r = 0; r < m; ++r) {
    const cfloat* __restrict o = object + r * objectCols;
    const cfloat* __restrict pr = probe + r * m;
    const cfloat* __restrict s = psi + r * m;
    cfloat* __restrict f = phi + r * m;
    cfloat* __restrict zr = z + r * m;
    float residual = 0.0F;
    float norm = 0.0F;
#pragma omp simd reduction(+ : residual, norm)
    for (std::size_t c = 0; c < m; ++c) {
      f[c] = kernels::modelWave(pr[c], o[c]);
      residual += norm2(s[c] - f[c]);
      norm += norm2(s[c]);
      zr[c] = kernels::relaxedInput(f[c], s[c], p, q);
    }
    sums.overlapResidual += residual;
    sums.exitWaveNorm += norm;
  }
}

// z <- pi_a(z) in Fourier space (scale folds in the inverse FFT's 1/M^2), with the Fourier-error
// sums, row by row. Between the two FFTs is the one moment with memory bandwidth to spare: it
// asks for the next frame's exit wave and magnitudes (may be null), a row's worth per row.
PTYX_CPU_CLONES void projectModulus(cfloat* __restrict z, const float* __restrict magnitudes,
                                    const float* __restrict valid, std::size_t m, float scale,
                                    double& fourierResidual, double& magnitudeNorm,
                                    const cfloat* nextWave, const float* nextMagnitudes) {
  for (std::size_t r = 0; r < m; ++r) {
    if (nextWave != nullptr) {
      prefetchBytes(nextWave + r * m, m * sizeof(cfloat));
      prefetchBytes(nextMagnitudes + r * m, m * sizeof(float));
    }
    cfloat* __restrict zr = z + r * m;
    const float* __restrict a = magnitudes + r * m;
    const float* __restrict v = valid + r * m;
    float residual = 0.0F;
    float norm = 0.0F;
#pragma omp simd reduction(+ : residual, norm)
    for (std::size_t c = 0; c < m; ++c) {
      zr[c] = kernels::modulusProject(zr[c], a[c], v[c], scale, residual, norm);
    }
    fourierResidual += residual;
    magnitudeNorm += norm;
  }
}

// psi <- a psi + b w + c z with w given (the phi kept from formRelaxedInput).
PTYX_CPU_CLONES void updateWithWave(cfloat* __restrict psi, const cfloat* __restrict w,
                                    const cfloat* __restrict z, std::size_t pixels, float a,
                                    float b, float c) {
#pragma omp simd
  for (std::size_t i = 0; i < pixels; ++i)
    psi[i] = kernels::relaxedUpdate(psi[i], w[i], z[i], a, b, c);
}

// psi <- a psi + b w + c z with w = P' O' of another model (general difference map).
PTYX_CPU_CLONES void updateWithModel(cfloat* __restrict psi, const cfloat* __restrict probe,
                                     const cfloat* __restrict object, std::size_t objectCols,
                                     const cfloat* __restrict z, std::size_t m, float a, float b,
                                     float c) {
  for (std::size_t r = 0; r < m; ++r) {
    const cfloat* __restrict o = object + r * objectCols;
    const cfloat* __restrict p = probe + r * m;
    cfloat* __restrict s = psi + r * m;
    const cfloat* __restrict zr = z + r * m;
#pragma omp simd
    for (std::size_t col = 0; col < m; ++col) {
      s[col] = kernels::relaxedUpdate(s[col], kernels::modelWave(p[col], o[col]), zr[col], a, b, c);
    }
  }
}

PTYX_CPU_CLONES void reflectInto(cfloat* __restrict out, const cfloat* __restrict projected,
                                 const cfloat* __restrict psi, std::size_t pixels, float gamma) {
#pragma omp simd
  for (std::size_t i = 0; i < pixels; ++i) out[i] = kernels::reflect(projected[i], psi[i], gamma);
}

// One row segment of an overlap sum: num += other* psi, den += |other|^2.
inline void accumulateSegment(const cfloat* __restrict other, const cfloat* __restrict psi,
                              cfloat* __restrict num, float* __restrict den, std::size_t n) {
#pragma omp simd
  for (std::size_t c = 0; c < n; ++c) kernels::accumulateOverlap(other[c], psi[c], num[c], den[c]);
}

// Object rows [first, last), cleared, then every frame whose window covers one of them, in frame
// order.
PTYX_CPU_CLONES void gatherObjectRows(std::size_t first, std::size_t last,
                                      const FrameWindow* windows, std::size_t count,
                                      const cfloat* probe, const cfloat* waves, std::size_t m,
                                      std::size_t objectCols, cfloat* numerator,
                                      float* denominator) {
  const std::size_t pixels = m * m;
  std::fill(numerator + first * objectCols, numerator + last * objectCols, cfloat{});
  std::fill(denominator + first * objectCols, denominator + last * objectCols, 0.0F);
  // The frames over these rows, and the rows each covers: the piece of its wave to read.
  struct Piece {
    std::size_t frame, begin, end;
  };
  std::vector<Piece> pieces;
  for (std::size_t j = 0; j < count; ++j) {
    const auto wr = static_cast<std::size_t>(windows[j].row);
    const std::size_t begin = std::max(first, wr);
    const std::size_t end = std::min(last, wr + m);
    if (begin < end) pieces.push_back({j, begin, end});
  }
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto [j, begin, end] = pieces[i];
    const auto wr = static_cast<std::size_t>(windows[j].row);
    const auto wc = static_cast<std::size_t>(windows[j].col);
    const cfloat* ahead = nullptr;  // the piece kGatherLookahead ahead, row by row
    std::size_t aheadRows = 0;
    if (i + kGatherLookahead < pieces.size()) {
      const Piece& next = pieces[i + kGatherLookahead];
      ahead = waves + next.frame * pixels +
              (next.begin - static_cast<std::size_t>(windows[next.frame].row)) * m;
      aheadRows = next.end - next.begin;
    }
    for (std::size_t row = begin; row < end; ++row) {
      if (row - begin < aheadRows) prefetchBytes(ahead + (row - begin) * m, m * sizeof(cfloat));
      const std::size_t pr = row - wr;
      accumulateSegment(probe + pr * m, waves + j * pixels + pr * m,
                        numerator + row * objectCols + wc, denominator + row * objectCols + wc, m);
    }
    if (aheadRows > end - begin) {
      prefetchBytes(ahead + (end - begin) * m, (aheadRows - (end - begin)) * m * sizeof(cfloat));
    }
  }
}

// Probe rows [first, last), cleared, then every frame, in frame order.
PTYX_CPU_CLONES void gatherProbeRows(std::size_t first, std::size_t last,
                                     const FrameWindow* windows, std::size_t count,
                                     const cfloat* object, std::size_t objectCols,
                                     const cfloat* waves, std::size_t m, cfloat* numerator,
                                     float* denominator) {
  const std::size_t pixels = m * m;
  std::fill(numerator + first * m, numerator + last * m, cfloat{});
  std::fill(denominator + first * m, denominator + last * m, 0.0F);
  for (std::size_t j = 0; j < count; ++j) {
    const std::size_t k = j + kGatherLookahead;
    const cfloat* ahead = k < count ? waves + k * pixels : nullptr;
    const auto wr = static_cast<std::size_t>(windows[j].row);
    const auto wc = static_cast<std::size_t>(windows[j].col);
    for (std::size_t pr = first; pr < last; ++pr) {
      if (ahead != nullptr) prefetchBytes(ahead + pr * m, m * sizeof(cfloat));
      accumulateSegment(object + (wr + pr) * objectCols + wc, waves + j * pixels + pr * m,
                        numerator + pr * m, denominator + pr * m, m);
    }
  }
}

}  // namespace

struct CpuBackend::Buffers {
  FftwArray<float> magnitudes;              // n x M x M, FFT order
  FftwArray<float> valid;                   // M x M, 1 = constrained pixel, FFT order
  FftwArray<cfloat> exitWaves;              // n x M x M
  FftwArray<cfloat> auxiliary;              // n x M x M, general difference map only
  std::vector<FftwArray<cfloat>> scratch;   // one frame per thread: z, then pi_a(z)
  std::vector<FftwArray<cfloat>> spectrum;  // one frame per thread: FFT(z), projected
  std::vector<FftwArray<cfloat>> model;     // one frame per thread: phi = P O of the frame
  std::vector<StepSums> frameSums;          // per frame, summed in frame order
  // formExitWaves records the model here and the waves are formed on first use, so that a
  // caller that drops its own copy of the frames right after load() never holds both that copy
  // and the touched exit waves (the peak of a run).
  std::vector<cfloat> pendingObject;
  std::vector<cfloat> pendingProbe;
  bool wavesPending = false;
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

std::string CpuBackend::settleTransforms(std::size_t frameSize) {
  return fftwisdom::settle(frameSize);
}

void CpuBackend::adoptTransforms(const std::string& settled) {
  fftwisdom::adopt(settled);
}

void CpuBackend::load(const FrameSet& frames) {
  const std::size_t m = frames.frameSize;
  if (m == 0) throw Error("cpu backend: frame size is zero");
  const std::size_t pixels = m * m;
  const std::size_t n = frames.windows.size();
  if (frames.magnitudes.size() != n * pixels) {
    throw Error("cpu backend: " + std::to_string(frames.magnitudes.size()) +
                " magnitudes do not make " + std::to_string(n) + " frames of " + std::to_string(m) +
                "x" + std::to_string(m));
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
  b->exitWaves = allocate<cfloat>(n * pixels, "exit waves");  // touched when first formed
  b->valid = allocate<float>(pixels, "mask");
  releasePreparedMemory();  // prepared for another scan or frame count: not held any longer
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < n; ++j) {
    ifftshiftInto(frames.magnitudes.data() + j * pixels, b->magnitudes.get() + j * pixels, m);
  }
  std::vector<float> valid(pixels, 1.0F);
  for (std::size_t i = 0; i < frames.mask.size(); ++i) valid[i] = frames.mask[i] != 0 ? 0.0F : 1.0F;
  ifftshiftInto(valid.data(), b->valid.get(), m);

  for (int t = 0; t < threads_; ++t) {
    b->scratch.push_back(allocate<cfloat>(pixels, "FFT scratch"));
    b->spectrum.push_back(allocate<cfloat>(pixels, "FFT scratch"));
    b->model.push_back(allocate<cfloat>(pixels, "model scratch"));
  }
  b->frameSums.resize(n);
  // Measured once per machine and frame size, then the same plans in every run (FftWisdom.hpp).
  const fftwisdom::FramePlans plans =
      fftwisdom::planFrames(m, fftw(b->scratch.front().get()), fftw(b->spectrum.front().get()));
  b->forward = plans.forward;
  b->inverse = plans.inverse;
  if (b->forward == nullptr) {
    throw Error("cpu backend: FFTW could not plan " + std::to_string(m) + "x" + std::to_string(m));
  }

  frameSize_ = m;
  pixels_ = pixels;
  count_ = n;
  capacity_ = n;
  objectRows_ = frames.objectRows;
  objectCols_ = frames.objectCols;
  windows_.assign(frames.windows.begin(), frames.windows.end());
  buffers_ = std::move(b);
}

void CpuBackend::prepareMemory(std::size_t frames, std::size_t frameSize) {
  const std::lock_guard lock(preparedMutex);
  prepared.clear();
  const std::size_t values = frames * frameSize * frameSize;
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  for (const std::size_t bytes : {values * sizeof(float), values * sizeof(cfloat)}) {
    if (bytes == 0) continue;
    auto* p = static_cast<std::byte*>(fftwf_malloc(bytes));
    if (p == nullptr) return;  // the run will say so when it asks
    preferHugePages(p, bytes);
    for (std::size_t i = 0; i < bytes; i += page) p[i] = std::byte{0};  // one fault per page
    prepared.push_back({bytes, FftwArray<std::byte>(p)});
  }
}

std::size_t CpuBackend::preparedBytesFor(std::size_t frames, std::size_t frameSize) {
  return frames * frameSize * frameSize * (sizeof(float) + sizeof(cfloat));
}

std::size_t CpuBackend::preparedBytes() {
  const std::lock_guard lock(preparedMutex);
  std::size_t total = 0;
  for (const auto& a : prepared) total += a.bytes;
  return total;
}

void CpuBackend::releasePreparedMemory() {
  const std::lock_guard lock(preparedMutex);
  prepared.clear();
}

void CpuBackend::appendFrames(const FrameSet& added, const ModelView& model) {
  if (!buffers_) throw Error("cpu backend: no frames loaded");
  checkModel(model);
  if (added.frameSize != frameSize_ || added.objectRows != objectRows_ ||
      added.objectCols != objectCols_) {
    throw Error("cpu backend: added frames do not match the loaded frame size or object");
  }
  const std::size_t k = added.windows.size();
  if (added.magnitudes.size() != k * pixels_) {
    throw Error("cpu backend: " + std::to_string(added.magnitudes.size()) +
                " magnitudes do not make " + std::to_string(k) + " frames");
  }
  const std::size_t m = frameSize_;
  for (const auto& w : added.windows) {
    if (w.row < 0 || w.col < 0 || static_cast<std::size_t>(w.row) + m > objectRows_ ||
        static_cast<std::size_t>(w.col) + m > objectCols_) {
      throw Error("cpu backend: a probe window lies outside the object array");
    }
  }
  if (k == 0) return;
  formPendingWaves();
  Buffers& b = *buffers_;
  const std::size_t n = count_ + k;
  if (n > capacity_) {
    // Grown by half at a time, so a scan arriving frame by frame is copied O(log N) times.
    const std::size_t capacity = std::max(n, capacity_ + capacity_ / 2);
    auto magnitudes = allocate<float>(capacity * pixels_, "frames");
    auto waves = allocate<cfloat>(capacity * pixels_, "exit waves");
    std::copy_n(b.magnitudes.get(), count_ * pixels_, magnitudes.get());
    std::copy_n(b.exitWaves.get(), count_ * pixels_, waves.get());
    b.magnitudes = std::move(magnitudes);
    b.exitWaves = std::move(waves);
    capacity_ = capacity;
  }
  b.auxiliary.reset();  // sized for the old count; refilled by the next reflectModulus
  const std::size_t first = count_;
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < k; ++j) {
    ifftshiftInto(added.magnitudes.data() + j * pixels_, b.magnitudes.get() + (first + j) * pixels_,
                  m);
    const auto [wr, wc] = added.windows[j];
    formModelWave(model.probe.data(),
                  model.object.data() + static_cast<std::size_t>(wr) * objectCols_ + wc,
                  objectCols_, b.exitWaves.get() + (first + j) * pixels_, m);
  }
  windows_.insert(windows_.end(), added.windows.begin(), added.windows.end());
  b.frameSums.resize(n);
  count_ = n;
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

void CpuBackend::formInto(const cfloat* object, const cfloat* probe, cfloat* out) const {
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < count_; ++j) {
    const auto [wr, wc] = windows_[j];
    formModelWave(probe, object + static_cast<std::size_t>(wr) * objectCols_ + wc, objectCols_,
                  out + j * pixels_, frameSize_);
  }
}

void CpuBackend::formPendingWaves() {
  Buffers& b = *buffers_;
  if (!b.wavesPending) return;
  formInto(b.pendingObject.data(), b.pendingProbe.data(), b.exitWaves.get());
  b.wavesPending = false;
  b.pendingObject = {};
  b.pendingProbe = {};
}

void CpuBackend::formExitWaves(const ModelView& model) {
  checkModel(model);
  if (!buffers_) throw Error("cpu backend: no frames loaded");
  Buffers& b = *buffers_;
  b.pendingObject.assign(model.object.begin(), model.object.end());
  b.pendingProbe.assign(model.probe.begin(), model.probe.end());
  b.wavesPending = true;
}

void CpuBackend::readExitWaves(std::span<cfloat> out) const {
  if (out.size() != count_ * pixels_) throw Error("cpu backend: exit-wave buffer size mismatch");
  const Buffers& b = *buffers_;
  if (b.wavesPending) {
    formInto(b.pendingObject.data(), b.pendingProbe.data(), out.data());
  } else {
    std::copy_n(b.exitWaves.get(), out.size(), out.data());
  }
}

void CpuBackend::writeExitWaves(std::span<const cfloat> in) {
  if (in.size() != count_ * pixels_) throw Error("cpu backend: exit-wave buffer size mismatch");
  Buffers& b = *buffers_;
  b.wavesPending = false;
  b.pendingObject = {};
  b.pendingProbe = {};
  std::copy(in.begin(), in.end(), b.exitWaves.get());
}

void CpuBackend::accumulateObject(Waves which, std::span<const cfloat> probe,
                                  std::span<cfloat> numerator, std::span<float> denominator) {
  if (probe.size() != pixels_ || numerator.size() != objectRows_ * objectCols_ ||
      denominator.size() != numerator.size()) {
    throw Error("cpu backend: accumulateObject size mismatch");
  }
  formPendingWaves();
  const cfloat* w = waves(which);
  const std::size_t height = rowBlock(objectRows_, threads_);
  const std::size_t blocks = (objectRows_ + height - 1) / height;
  // Each block of object rows gathers its frames in frame order: no races, and every pixel sums
  // its frames in the same order whatever the thread count.
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
  for (std::size_t block = 0; block < blocks; ++block) {
    const std::size_t first = block * height;
    gatherObjectRows(first, std::min(first + height, objectRows_), windows_.data(), count_,
                     probe.data(), w, frameSize_, objectCols_, numerator.data(),
                     denominator.data());
  }
}

void CpuBackend::accumulateProbe(Waves which, std::span<const cfloat> object,
                                 std::span<cfloat> numerator, std::span<float> denominator) {
  if (object.size() != objectRows_ * objectCols_ || numerator.size() != pixels_ ||
      denominator.size() != pixels_) {
    throw Error("cpu backend: accumulateProbe size mismatch");
  }
  formPendingWaves();
  const cfloat* w = waves(which);
  const std::size_t m = frameSize_;
  const std::size_t height = rowBlock(m, threads_);
  const std::size_t blocks = (m + height - 1) / height;
  // Static: each thread's blocks are adjacent rows (interleaved blocks were 20-40 % slower here).
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t block = 0; block < blocks; ++block) {
    const std::size_t first = block * height;
    gatherProbeRows(first, std::min(first + height, m), windows_.data(), count_, object.data(),
                    objectCols_, w, m, numerator.data(), denominator.data());
  }
}

StepSums CpuBackend::relaxedStep(const RelaxedStep& step, const ModelView& model,
                                 const ModelView& updateModel) {
  checkModel(model);
  checkModel(updateModel);
  formPendingWaves();
  const bool sameModel = model.object.data() == updateModel.object.data() &&
                         model.probe.data() == updateModel.probe.data();
  const std::size_t m = frameSize_;
  const float scale = 1.0F / static_cast<float>(pixels_);
  Buffers& b = *buffers_;
  std::fill(b.frameSums.begin(), b.frameSums.end(), StepSums{});

  // Frames are handed out a few at a time: a thread the desktop pre-empts (the window drawing a
  // snapshot) leaves its frames to the others instead of holding the step at its end. Each
  // frame's result and sums are its own, so the schedule never changes a bit.
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4)
  for (std::size_t j = 0; j < count_; ++j) {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    cfloat* z = b.scratch[t].get();
    cfloat* phi = b.model[t].get();
    cfloat* psi = b.exitWaves.get() + j * pixels_;
    const auto [wr, wc] = windows_[j];
    const std::size_t window = static_cast<std::size_t>(wr) * objectCols_ + wc;
    StepSums& sums = b.frameSums[j];

    formRelaxedInput(model.probe.data(), model.object.data() + window, objectCols_, psi, phi, z, m,
                     step.p, step.q, sums);
    cfloat* spectrum = b.spectrum[t].get();
    fftwf_execute_dft(b.forward, fftw(z), fftw(spectrum));
    const bool more = j + 1 < count_;
    projectModulus(spectrum, b.magnitudes.get() + j * pixels_, b.valid.get(), m, scale,
                   sums.fourierResidual, sums.magnitudeNorm, more ? psi + pixels_ : nullptr,
                   more ? b.magnitudes.get() + (j + 1) * pixels_ : nullptr);
    fftwf_execute_dft(b.inverse, fftw(spectrum), fftw(z));
    if (sameModel) {
      updateWithWave(psi, phi, z, pixels_, step.a, step.b, step.c);
    } else {
      updateWithModel(psi, updateModel.probe.data(), updateModel.object.data() + window,
                      objectCols_, z, m, step.a, step.b, step.c);
    }
  }

  StepSums total;  // summed in frame order: deterministic
  for (const auto& s : b.frameSums) {
    total.fourierResidual += s.fourierResidual;
    total.magnitudeNorm += s.magnitudeNorm;
    total.overlapResidual += s.overlapResidual;
    total.exitWaveNorm += s.exitWaveNorm;
  }
  return total;
}

void CpuBackend::reflectModulus(float gammaA) {
  formPendingWaves();
  Buffers& b = *buffers_;
  if (!b.auxiliary) b.auxiliary = allocate<cfloat>(count_ * pixels_, "auxiliary waves");
  const float scale = 1.0F / static_cast<float>(pixels_);
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::size_t j = 0; j < count_; ++j) {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    cfloat* z = b.scratch[t].get();
    cfloat* spectrum = b.spectrum[t].get();
    const cfloat* psi = b.exitWaves.get() + j * pixels_;
    std::copy_n(psi, pixels_, z);  // the forward transform may overwrite its input
    fftwf_execute_dft(b.forward, fftw(z), fftw(spectrum));
    double residual = 0.0;  // the metrics come from relaxedStep; these sums are not used
    double norm = 0.0;
    const bool more = j + 1 < count_;
    projectModulus(spectrum, b.magnitudes.get() + j * pixels_, b.valid.get(), frameSize_, scale,
                   residual, norm, more ? psi + pixels_ : nullptr,
                   more ? b.magnitudes.get() + (j + 1) * pixels_ : nullptr);
    fftwf_execute_dft(b.inverse, fftw(spectrum), fftw(z));
    reflectInto(b.auxiliary.get() + j * pixels_, z, psi, pixels_, gammaA);
  }
}

std::size_t CpuBackend::residentBytes() const {
  if (!buffers_) return 0;
  const std::size_t frames = count_ * pixels_;
  std::size_t bytes = frames * (sizeof(float) + sizeof(cfloat)) + pixels_ * sizeof(float);
  if (buffers_->auxiliary) bytes += frames * sizeof(cfloat);
  bytes += (buffers_->scratch.size() + buffers_->spectrum.size() + buffers_->model.size()) *
           pixels_ * sizeof(cfloat);
  return bytes;
}

void CpuBackend::frameFourierErrors(std::span<double> out) const {
  if (out.size() != count_)
    throw Error("cpu backend: frameFourierErrors needs one value per frame");
  for (std::size_t j = 0; j < count_; ++j) {
    const StepSums& s = buffers_->frameSums[j];
    out[j] = s.magnitudeNorm > 0.0 ? s.fourierResidual / s.magnitudeNorm : 0.0;
  }
}

}  // namespace ptyx
