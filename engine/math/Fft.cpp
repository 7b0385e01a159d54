#include "math/Fft.hpp"

#include <fftw3.h>

#include <string>

#include "core/Error.hpp"

namespace ptyx {

std::mutex& fftwPlannerMutex() {
  static std::mutex mutex;
  return mutex;
}

struct Fft2::Plans {
  fftwf_plan forward = nullptr;
  fftwf_plan inverse = nullptr;
};

Fft2::Fft2(std::size_t rows, std::size_t cols)
    : rows_(rows), cols_(cols), plans_(std::make_unique<Plans>()) {
  // Plan on a scratch buffer with ESTIMATE (which never touches it) and run with the new-array
  // interface, so one plan serves any image of this shape.
  auto* scratch = fftwf_alloc_complex(checkedProduct(rows, cols, "FFT"));
  if (scratch == nullptr) {
    throw Error("FFT: cannot allocate " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  {
    const std::lock_guard lock(fftwPlannerMutex());
    const int r = static_cast<int>(rows);
    const int c = static_cast<int>(cols);
    const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
    plans_->forward = fftwf_plan_dft_2d(r, c, scratch, scratch, FFTW_FORWARD, flags);
    plans_->inverse = fftwf_plan_dft_2d(r, c, scratch, scratch, FFTW_BACKWARD, flags);
  }
  fftwf_free(scratch);
  if (plans_->forward == nullptr || plans_->inverse == nullptr) {
    throw Error("FFT: FFTW could not plan a " + std::to_string(rows) + "x" + std::to_string(cols) +
                " transform");
  }
}

Fft2::~Fft2() {
  const std::lock_guard lock(fftwPlannerMutex());
  fftwf_destroy_plan(plans_->forward);
  fftwf_destroy_plan(plans_->inverse);
}

namespace {
fftwf_complex* asFftw(Image<cfloat>& image) {
  return reinterpret_cast<fftwf_complex*>(image.data());  // NOLINT: layout-compatible by design
}
}  // namespace

void Fft2::forward(Image<cfloat>& image) const {
  if (image.rows() != rows_ || image.cols() != cols_) throw Error("Fft2::forward: shape mismatch");
  fftwf_execute_dft(plans_->forward, asFftw(image), asFftw(image));
}

void Fft2::inverse(Image<cfloat>& image) const {
  if (image.rows() != rows_ || image.cols() != cols_) throw Error("Fft2::inverse: shape mismatch");
  fftwf_execute_dft(plans_->inverse, asFftw(image), asFftw(image));
}

}  // namespace ptyx
