#include "recon/ObjectError.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "core/Error.hpp"
#include "math/Fft.hpp"

namespace ptyx {
namespace {

using Z = std::complex<double>;

struct Peak {
  double row = 0.0;
  double col = 0.0;
};

// The loops below run over rows on the caller's `threads`. Sums are formed per row and added in
// row order, so a score has the same bits for any number of threads.
template <class RowSum>
auto sumOverRows(std::size_t rows, int threads, RowSum rowSum) {
  std::vector<decltype(rowSum(std::size_t{0}))> perRow(rows);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t r = 0; r < rows; ++r) perRow[r] = rowSum(r);
  decltype(rowSum(std::size_t{0})) total{};
  for (const auto& v : perRow) total += v;
  return total;
}

// Location of the largest |value| (the first of equals), refined by a parabola through the
// neighbours on each axis, as signed offsets (wrapping indices above N/2 to negative).
Peak findPeak(const Image<cfloat>& a, int threads) {
  const std::size_t rows = a.rows();
  const std::size_t cols = a.cols();
  std::vector<std::size_t> rowBest(rows);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t best = 0;
    float bestValue = -1.0F;
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = norm2(a(r, c));
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    rowBest[r] = r * cols + best;
  }
  std::size_t best = 0;
  float bestValue = -1.0F;
  for (const std::size_t i : rowBest) {
    if (const float v = norm2(a.data()[i]); v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  const std::size_t r = best / cols;
  const std::size_t c = best % cols;
  auto mag = [&](std::size_t rr, std::size_t cc) {
    return std::sqrt(static_cast<double>(norm2(a((rr + rows) % rows, (cc + cols) % cols))));
  };
  auto refine = [](double minus, double centre, double plus) {
    const double denom = minus - 2.0 * centre + plus;
    return denom < 0.0 ? 0.5 * (minus - plus) / denom : 0.0;
  };
  Peak p;
  p.row = static_cast<double>(r) + refine(mag(r + rows - 1, c), mag(r, c), mag(r + 1, c));
  p.col = static_cast<double>(c) + refine(mag(r, c + cols - 1), mag(r, c), mag(r, c + 1));
  if (p.row > static_cast<double>(rows) / 2) p.row -= static_cast<double>(rows);
  if (p.col > static_cast<double>(cols) / 2) p.col -= static_cast<double>(cols);
  return p;
}

// The smallest multiple of 32 at or above n whose only prime factors are 2, 3, 5 and 7: FFTW is
// several times faster on such sizes than on, say, 615 = 3 x 5 x 41, and a large power of two
// helps most (a 640^2 transform took 1.4 ms here, 625^2 = 5^8 pixels 3.2 ms). The arrays are
// zero-padded to it.
std::size_t fastFftSize(std::size_t n) {
  constexpr std::size_t kMultiple = 32;
  for (std::size_t m = std::max<std::size_t>((n + kMultiple - 1) / kMultiple, 1) * kMultiple;;
       m += kMultiple) {
    std::size_t r = m;
    for (std::size_t p : {2U, 3U, 5U, 7U}) {
      while (r % p == 0) r /= p;
    }
    if (r == 1) return m;
  }
}

double signedFrequency(std::size_t k, std::size_t n) {
  return k < (n + 1) / 2 ? static_cast<double>(k) : static_cast<double>(k) - static_cast<double>(n);
}

Z toZ(cfloat a) {
  return {a.re, a.im};
}

// Complex products written out: std::complex's operator* calls a NaN-careful library routine
// per pixel, which these finite images do not need.
Z times(Z a, Z b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
Z conjTimes(Z a, Z b) {  // conj(a) b
  return {a.real() * b.real() + a.imag() * b.imag(), a.real() * b.imag() - a.imag() * b.real()};
}

// exp(i phase(k)) for k < n. A linear phase over the image is separable, exp(i(a_r + b_c)) =
// exp(i a_r) exp(i b_c): two short tables instead of a sine and cosine per pixel.
template <class Phase>
std::vector<Z> phaseRamp(std::size_t n, Phase phase) {
  std::vector<Z> out(n);
  for (std::size_t k = 0; k < n; ++k) out[k] = std::polar(1.0, phase(k));
  return out;
}

// a(r, c) times exp(-i (perRow r + perCol c)), over the top-left rows x cols of `a`.
void removeRamp(Image<cfloat>& a, std::size_t rows, std::size_t cols, double perRow, double perCol,
                int threads) {
  const std::vector<Z> rowRamp =
      phaseRamp(rows, [&](std::size_t r) { return -perRow * static_cast<double>(r); });
  const std::vector<Z> colRamp =
      phaseRamp(cols, [&](std::size_t c) { return -perCol * static_cast<double>(c); });
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const Z v = times(toZ(a(r, c)), times(rowRamp[r], colRamp[c]));
      a(r, c) = {static_cast<float>(v.real()), static_cast<float>(v.imag())};
    }
  }
}

struct ErrorSums {
  Z inner{0.0, 0.0};  // <t, o>
  double no = 0.0;    // ||o||^2
  double nt = 0.0;    // ||t||^2
  ErrorSums& operator+=(const ErrorSums& s) {
    inner += s.inner;
    no += s.no;
    nt += s.nt;
    return *this;
  }
};

// 1 - |<t, o>|^2 / (||o||^2 ||t||^2): the error after the best complex scale.
double scaledError(const Image<cfloat>& o, const Image<cfloat>& t,
                   const Image<std::uint8_t>& region, int threads) {
  const ErrorSums sums = sumOverRows(o.rows(), threads, [&](std::size_t r) {
    ErrorSums row;
    for (std::size_t c = 0; c < o.cols(); ++c) {
      if (region(r, c) == 0) continue;
      const Z a = toZ(o(r, c));
      const Z b = toZ(t(r, c));
      row.inner += conjTimes(b, a);
      row.no += std::norm(a);
      row.nt += std::norm(b);
    }
    return row;
  });
  if (sums.no <= 0.0 || sums.nt <= 0.0) return 1.0;
  return std::max(0.0, 1.0 - std::norm(sums.inner) / (sums.no * sums.nt));
}

}  // namespace

ObjectScorer::ObjectScorer(const GroundTruth& truth, std::size_t rows, std::size_t cols,
                           const Position& originPixel, int threads)
    : rows_(rows),
      cols_(cols),
      origin_(originPixel),
      // Registration works on zero-padded copies of FFT-friendly size; padding also keeps the
      // cross-correlation from wrapping around.
      paddedRows_(fastFftSize(rows)),
      paddedCols_(fastFftSize(cols)),
      threads_(threads > 0 ? threads : omp_get_num_procs()),
      truth_(rows, cols),
      covered_(rows, cols),
      fft_(std::make_unique<Fft2>(paddedRows_, paddedCols_, FftThreading::Team, threads_)),
      region_(rows, cols),
      a_(paddedRows_, paddedCols_),
      b_(paddedRows_, paddedCols_),
      aligned_(rows, cols),
      truthSpectrum_(paddedRows_, paddedCols_) {
  // The truth on the reconstruction's grid; pixels it does not cover never count.
  const auto dr = static_cast<long>(std::lround(truth.translationOrigin.row - originPixel.row));
  const auto dc = static_cast<long>(std::lround(truth.translationOrigin.col - originPixel.col));
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const long tr = static_cast<long>(r) + dr;
      const long tc = static_cast<long>(c) + dc;
      if (tr < 0 || tc < 0 || tr >= static_cast<long>(truth.object.rows()) ||
          tc >= static_cast<long>(truth.object.cols())) {
        continue;
      }
      truth_(r, c) = truth.object(static_cast<std::size_t>(tr), static_cast<std::size_t>(tc));
      covered_(r, c) = 1;
    }
  }
}

ObjectScorer::~ObjectScorer() = default;

ObjectErrorResult ObjectScorer::score(const Image<cfloat>& object,
                                      const Image<std::uint8_t>& regionIn) {
  if (object.rows() != rows_ || object.cols() != cols_ || regionIn.rows() != rows_ ||
      regionIn.cols() != cols_) {
    throw Error("object error: the object or region is not the scorer's grid");
  }
  const std::size_t rows = rows_;
  const std::size_t cols = cols_;
  const std::size_t prows = paddedRows_;
  const std::size_t pcols = paddedCols_;
  const int threads = threads_;
  const Image<cfloat>& t = truth_;
  Image<std::uint8_t>& region = region_;
  for (std::size_t i = 0; i < region.size(); ++i) {
    region.data()[i] = regionIn.data()[i] != 0 && covered_.data()[i] != 0 ? 1 : 0;
  }

  ObjectErrorResult result;
  result.error = scaledError(object, t, region, threads);

  // out(r, c) = f(r, c) over all of `out`, by rows on the threads.
  auto fill = [&](Image<cfloat>& out, auto f) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t r = 0; r < out.rows(); ++r) {
      for (std::size_t c = 0; c < out.cols(); ++c) out(r, c) = f(r, c);
    }
  };
  auto inside = [&](std::size_t r, std::size_t c) { return r < rows && c < cols; };
  // `out`, zero-padded, from the object-sized `a` (masked by the region if asked).
  auto pad = [&](const Image<cfloat>& a, bool maskIt, Image<cfloat>& out) {
    fill(out, [&](std::size_t r, std::size_t c) {
      return inside(r, c) && (!maskIt || region(r, c) != 0) ? a(r, c) : cfloat{};
    });
  };
  // O conj(T) over the region, zero elsewhere (padded).
  auto productWithTruth = [&](std::size_t r, std::size_t c) {
    return inside(r, c) && region(r, c) != 0 ? conjMul(t(r, c), aligned_(r, c)) : cfloat{};
  };

  // 1. Common shift: peak of the cross-correlation of object and truth.
  // The truth's spectrum depends on the region only, which settles early in a run: kept.
  Image<cfloat>& fo = a_;
  const Image<cfloat>& ft = truthSpectrum_;
  if (!(spectrumRegion_ == region)) {
    pad(t, true, truthSpectrum_);
    fft_->forward(truthSpectrum_);
    spectrumRegion_ = region;
  }
  pad(object, true, fo);
  fft_->forward(fo);
  fill(fo, [&](std::size_t r, std::size_t c) { return conjMul(ft(r, c), fo(r, c)); });
  fft_->inverse(fo);
  const Peak shift = findPeak(fo, threads);

  Image<cfloat>& aligned = aligned_;
  if (std::abs(shift.row) > 0.02 || std::abs(shift.col) > 0.02) {
    // O(r + s) by a Fourier phase ramp on the whole (padded) object.
    Image<cfloat>& f = b_;
    pad(object, false, f);
    fft_->forward(f);
    const double twoPi = 2.0 * std::numbers::pi;
    const double norm = 1.0 / static_cast<double>(prows * pcols);
    const std::vector<Z> rowRamp = phaseRamp(prows, [&](std::size_t r) {
      return twoPi * signedFrequency(r, prows) * shift.row / static_cast<double>(prows);
    });
    const std::vector<Z> colRamp = phaseRamp(pcols, [&](std::size_t c) {
      return twoPi * signedFrequency(c, pcols) * shift.col / static_cast<double>(pcols);
    });
    fill(f, [&](std::size_t r, std::size_t c) {
      const Z v = times(toZ(f(r, c)), times(norm * rowRamp[r], colRamp[c]));
      return cfloat{static_cast<float>(v.real()), static_cast<float>(v.imag())};
    });
    fft_->inverse(f);
    fill(aligned, [&](std::size_t r, std::size_t c) { return f(r, c); });
  } else {
    std::copy(object.data(), object.data() + object.size(), aligned.data());
  }

  // 2. Linear phase ramp: peak of the spectrum of O conj(T), in cycles per padded width.
  Image<cfloat>& q = a_;
  fill(q, productWithTruth);
  fft_->forward(q);
  const Peak ramp = findPeak(q, threads);
  if (std::abs(ramp.row) > 0.02 || std::abs(ramp.col) > 0.02) {
    const double twoPi = 2.0 * std::numbers::pi;
    removeRamp(aligned, rows, cols, twoPi * ramp.row / static_cast<double>(prows),
               twoPi * ramp.col / static_cast<double>(pcols), threads);
  }

  // 3. What is left of the ramp is below one frequency bin, where the spectrum's peak cannot
  // place it: the mean phase step of O conj(T) between neighbouring pixels does (exact for a
  // pure ramp, weighted by the intensities). Kept only where it helps: with a ramp of a cycle or
  // more the shift of step 1 is off, and the step can then make things worse.
  const double coarse = scaledError(aligned, t, region, threads);
  fill(q, productWithTruth);
  struct Steps {
    Z alongRows{0.0, 0.0};  // q is zero outside the region: pairs leaving it add nothing
    Z alongCols{0.0, 0.0};
    Steps& operator+=(const Steps& s) {
      alongRows += s.alongRows;
      alongCols += s.alongCols;
      return *this;
    }
  };
  const Steps steps = sumOverRows(rows, threads, [&](std::size_t r) {
    Steps row;
    for (std::size_t c = 0; c < cols; ++c) {
      const Z p = toZ(q(r, c));
      if (r + 1 < rows) row.alongRows += conjTimes(p, toZ(q(r + 1, c)));
      if (c + 1 < cols) row.alongCols += conjTimes(p, toZ(q(r, c + 1)));
    }
    return row;
  });
  const double stepRows = std::abs(steps.alongRows) > 0.0 ? std::arg(steps.alongRows) : 0.0;
  const double stepCols = std::abs(steps.alongCols) > 0.0 ? std::arg(steps.alongCols) : 0.0;
  if (stepRows != 0.0 || stepCols != 0.0) {
    removeRamp(aligned, rows, cols, stepRows, stepCols, threads);
  }

  const double registered = std::min(coarse, scaledError(aligned, t, region, threads));
  if (registered < result.error) {
    result.error = registered;
    result.shiftRows = shift.row;
    result.shiftCols = shift.col;
  }
  return result;
}

ObjectErrorResult objectError(const Image<cfloat>& object, const Position& originPixel,
                              const GroundTruth& truth, const Image<std::uint8_t>& region) {
  return ObjectScorer(truth, object.rows(), object.cols(), originPixel).score(object, region);
}

}  // namespace ptyx
