#pragma once
// Single 2-D FFTs for set-up work (simulation, probe initialisation, image registration), not
// for the iteration hot path, which the Backend plans in batches. Unnormalised in both
// directions, like FFTW: inverse(forward(x)) = rows * cols * x.
#include <cstddef>
#include <memory>
#include <mutex>

#include "core/Array.hpp"
#include "core/Complex.hpp"

namespace ptyx {

/// FFTW's planner is not thread-safe; every plan creation and destruction takes this lock.
std::mutex& fftwPlannerMutex();

/// How a Fft2 runs: in one plan on the calling thread, or split into blocks of rows and then
/// blocks of columns shared by the calling thread's OpenMP team. The split gives the same bits
/// whatever the team's size (every block has its plan whichever thread runs it).
enum class FftThreading { Single, Team };

class Fft2 {
 public:
  /// `threads`: the team's size for FftThreading::Team (0: one per core, as the CPU backend).
  Fft2(std::size_t rows, std::size_t cols, FftThreading threading = FftThreading::Single,
       int threads = 0);
  ~Fft2();
  Fft2(const Fft2&) = delete;
  Fft2& operator=(const Fft2&) = delete;

  void forward(Image<cfloat>& image) const;  ///< in place; image must be rows x cols
  void inverse(Image<cfloat>& image) const;  ///< in place, unnormalised

 private:
  struct Plans;
  void run(bool forward, Image<cfloat>& image) const;

  std::size_t rows_;
  std::size_t cols_;
  FftThreading threading_;
  int threads_;
  std::unique_ptr<Plans> plans_;
};

/// Moves the zero frequency from (0, 0) to (rows/2, cols/2); ifftshift undoes it (odd sizes too).
template <class T>
Image<T> fftshift(const Image<T>& in) {
  Image<T> out(in.rows(), in.cols());
  const std::size_t dr = in.rows() / 2;
  const std::size_t dc = in.cols() / 2;
  for (std::size_t r = 0; r < in.rows(); ++r) {
    for (std::size_t c = 0; c < in.cols(); ++c) {
      out((r + dr) % in.rows(), (c + dc) % in.cols()) = in(r, c);
    }
  }
  return out;
}

template <class T>
Image<T> ifftshift(const Image<T>& in) {
  Image<T> out(in.rows(), in.cols());
  const std::size_t dr = in.rows() - in.rows() / 2;
  const std::size_t dc = in.cols() - in.cols() / 2;
  for (std::size_t r = 0; r < in.rows(); ++r) {
    for (std::size_t c = 0; c < in.cols(); ++c) {
      out((r + dr) % in.rows(), (c + dc) % in.cols()) = in(r, c);
    }
  }
  return out;
}

}  // namespace ptyx
