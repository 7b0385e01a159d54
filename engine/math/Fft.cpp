#include "math/Fft.hpp"

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <string>

#include "core/Error.hpp"

namespace ptyx {

std::mutex& fftwPlannerMutex() {
  static std::mutex mutex;
  return mutex;
}

namespace {
// Rows or columns per block of a split transform: enough for FFTW to vectorise across them.
constexpr std::size_t kBlock = 8;
}  // namespace

struct Fft2::Plans {
  // Single: the whole transform, [0] forward and [1] inverse. Team: blocks of kBlock rows, the
  // last rows, blocks of kBlock columns, the last columns (null where there are none).
  fftwf_plan whole[2] = {nullptr, nullptr};
  fftwf_plan rows[2] = {nullptr, nullptr};
  fftwf_plan lastRows[2] = {nullptr, nullptr};
  fftwf_plan cols[2] = {nullptr, nullptr};
  fftwf_plan lastCols[2] = {nullptr, nullptr};

  void destroy() {
    for (auto* set : {&whole, &rows, &lastRows, &cols, &lastCols}) {
      for (fftwf_plan& p : *set) {
        if (p != nullptr) fftwf_destroy_plan(p);
        p = nullptr;
      }
    }
  }
};

Fft2::Fft2(std::size_t rows, std::size_t cols, FftThreading threading, int threads)
    : rows_(rows),
      cols_(cols),
      threading_(threading),
      threads_(threads > 0 ? threads : omp_get_num_procs()),
      plans_(std::make_unique<Plans>()) {
  // Plan on a scratch buffer with ESTIMATE (which never touches it) and run with the new-array
  // interface, so one plan serves any image of this shape (UNALIGNED: blocks start anywhere).
  auto* scratch = fftwf_alloc_complex(checkedProduct(rows, cols, "FFT"));
  if (scratch == nullptr) {
    throw Error("FFT: cannot allocate " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  bool planned = true;
  {
    const std::lock_guard lock(fftwPlannerMutex());
    const int r = static_cast<int>(rows);
    const int c = static_cast<int>(cols);
    const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
    const int signs[2] = {FFTW_FORWARD, FFTW_BACKWARD};
    // `count` transforms of length n, `stride` apart within one, `dist` apart from each other.
    auto many = [&](int n, int count, int stride, int dist, int sign) -> fftwf_plan {
      if (count == 0) return nullptr;
      fftwf_plan p = fftwf_plan_many_dft(1, &n, count, scratch, nullptr, stride, dist, scratch,
                                         nullptr, stride, dist, sign, flags);
      planned = planned && p != nullptr;
      return p;
    };
    for (int k = 0; k < 2; ++k) {
      if (threading == FftThreading::Single) {
        plans_->whole[k] = fftwf_plan_dft_2d(r, c, scratch, scratch, signs[k], flags);
        planned = planned && plans_->whole[k] != nullptr;
        continue;
      }
      const int block = static_cast<int>(kBlock);
      plans_->rows[k] = many(c, std::min(block, r), 1, c, signs[k]);
      plans_->lastRows[k] = many(c, r % block, 1, c, signs[k]);
      plans_->cols[k] = many(r, std::min(block, c), c, 1, signs[k]);
      plans_->lastCols[k] = many(r, c % block, c, 1, signs[k]);
    }
  }
  fftwf_free(scratch);
  if (!planned) {
    const std::lock_guard lock(fftwPlannerMutex());
    plans_->destroy();
    throw Error("FFT: FFTW could not plan a " + std::to_string(rows) + "x" + std::to_string(cols) +
                " transform");
  }
}

Fft2::~Fft2() {
  const std::lock_guard lock(fftwPlannerMutex());
  plans_->destroy();
}

namespace {
fftwf_complex* asFftw(cfloat* p) {
  return reinterpret_cast<fftwf_complex*>(p);  // NOLINT: layout-compatible by design
}
}  // namespace

void Fft2::run(bool forward, Image<cfloat>& image) const {
  const int k = forward ? 0 : 1;
  cfloat* data = image.data();
  if (threading_ == FftThreading::Single) {
    fftwf_execute_dft(plans_->whole[k], asFftw(data), asFftw(data));
    return;
  }
  // `count` lines in blocks of kBlock, block b starting at data + b * step; the last block may
  // be shorter and has its own plan.
  auto blocks = [&](std::size_t count, std::size_t step, fftwf_plan full, fftwf_plan last) {
    const std::size_t n = (count + kBlock - 1) / kBlock;
    const bool partial = count % kBlock != 0;
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (std::size_t b = 0; b < n; ++b) {
      cfloat* p = data + b * step;
      fftwf_execute_dft(partial && b + 1 == n ? last : full, asFftw(p), asFftw(p));
    }
  };
  blocks(rows_, kBlock * cols_, plans_->rows[k], plans_->lastRows[k]);
  blocks(cols_, kBlock, plans_->cols[k], plans_->lastCols[k]);
}

void Fft2::forward(Image<cfloat>& image) const {
  if (image.rows() != rows_ || image.cols() != cols_) throw Error("Fft2::forward: shape mismatch");
  run(true, image);
}

void Fft2::inverse(Image<cfloat>& image) const {
  if (image.rows() != rows_ || image.cols() != cols_) throw Error("Fft2::inverse: shape mismatch");
  run(false, image);
}

}  // namespace ptyx
