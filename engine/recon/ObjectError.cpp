#include "recon/ObjectError.hpp"

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

// Location of the largest |value|, refined by a parabola through the neighbours on each axis,
// as signed offsets (wrapping indices above N/2 to negative).
Peak findPeak(const Image<cfloat>& a) {
  std::size_t best = 0;
  float bestValue = -1.0F;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float v = norm2(a.data()[i]);
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  const std::size_t rows = a.rows();
  const std::size_t cols = a.cols();
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

// The smallest n' >= n whose only prime factors are 2, 3, 5 and 7: FFTW is several times faster
// on such sizes than on, say, 615 = 3 x 5 x 41. The arrays are zero-padded to it.
std::size_t fastFftSize(std::size_t n) {
  for (std::size_t m = std::max<std::size_t>(n, 1);; ++m) {
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

// exp(i phase(k)) for k < n. A linear phase over the image is separable, exp(i(a_r + b_c)) =
// exp(i a_r) exp(i b_c): two short tables instead of a sine and cosine per pixel.
template <class Phase>
std::vector<Z> phaseRamp(std::size_t n, Phase phase) {
  std::vector<Z> out(n);
  for (std::size_t k = 0; k < n; ++k) out[k] = std::polar(1.0, phase(k));
  return out;
}

// a(r, c) times exp(-i (perRow r + perCol c)), over the top-left rows x cols of `a`.
void removeRamp(Image<cfloat>& a, std::size_t rows, std::size_t cols, double perRow,
                double perCol) {
  const std::vector<Z> rowRamp =
      phaseRamp(rows, [&](std::size_t r) { return -perRow * static_cast<double>(r); });
  const std::vector<Z> colRamp =
      phaseRamp(cols, [&](std::size_t c) { return -perCol * static_cast<double>(c); });
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const Z v = toZ(a(r, c)) * (rowRamp[r] * colRamp[c]);
      a(r, c) = {static_cast<float>(v.real()), static_cast<float>(v.imag())};
    }
  }
}

// 1 - |<t, o>|^2 / (||o||^2 ||t||^2): the error after the best complex scale.
double scaledError(const Image<cfloat>& o, const Image<cfloat>& t,
                   const Image<std::uint8_t>& region) {
  Z inner{0.0, 0.0};
  double no = 0.0;
  double nt = 0.0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    if (region.data()[i] == 0) continue;
    const Z a(o.data()[i].re, o.data()[i].im);
    const Z b(t.data()[i].re, t.data()[i].im);
    inner += std::conj(b) * a;
    no += std::norm(a);
    nt += std::norm(b);
  }
  if (no <= 0.0 || nt <= 0.0) return 1.0;
  return std::max(0.0, 1.0 - std::norm(inner) / (no * nt));
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
      truth_(rows, cols),
      covered_(rows, cols),
      fft_(std::make_unique<Fft2>(paddedRows_, paddedCols_, FftThreading::Team, threads)),
      region_(rows, cols),
      a_(paddedRows_, paddedCols_),
      b_(paddedRows_, paddedCols_),
      aligned_(rows, cols) {
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
  const Image<cfloat>& t = truth_;
  Image<std::uint8_t>& region = region_;
  for (std::size_t i = 0; i < region.size(); ++i) {
    region.data()[i] = regionIn.data()[i] != 0 && covered_.data()[i] != 0 ? 1 : 0;
  }

  ObjectErrorResult result;
  result.error = scaledError(object, t, region);

  // `out`, zero-padded, from the object-sized `a` (masked by the region if asked).
  auto pad = [&](const Image<cfloat>& a, bool maskIt, Image<cfloat>& out) {
    std::fill(out.data(), out.data() + out.size(), cfloat{});
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        if (!maskIt || region(r, c) != 0) out(r, c) = a(r, c);
      }
    }
  };

  // 1. Common shift: peak of the cross-correlation of object and truth.
  Image<cfloat>& fo = a_;
  Image<cfloat>& ft = b_;
  pad(object, true, fo);
  pad(t, true, ft);
  fft_->forward(fo);
  fft_->forward(ft);
  for (std::size_t i = 0; i < fo.size(); ++i) fo.data()[i] = conjMul(ft.data()[i], fo.data()[i]);
  fft_->inverse(fo);
  const Peak shift = findPeak(fo);

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
    for (std::size_t r = 0; r < prows; ++r) {
      const Z rowFactor = norm * rowRamp[r];
      for (std::size_t c = 0; c < pcols; ++c) {
        const Z v = Z(f(r, c).re, f(r, c).im) * (rowFactor * colRamp[c]);
        f(r, c) = {static_cast<float>(v.real()), static_cast<float>(v.imag())};
      }
    }
    fft_->inverse(f);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) aligned(r, c) = f(r, c);
    }
  } else {
    std::copy(object.data(), object.data() + object.size(), aligned.data());
  }

  // 2. Linear phase ramp: peak of the spectrum of O conj(T), in cycles per padded width.
  Image<cfloat>& q = a_;
  std::fill(q.data(), q.data() + q.size(), cfloat{});
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      if (region(r, c) != 0) q(r, c) = conjMul(t(r, c), aligned(r, c));
    }
  }
  fft_->forward(q);
  const Peak ramp = findPeak(q);
  if (std::abs(ramp.row) > 0.02 || std::abs(ramp.col) > 0.02) {
    const double twoPi = 2.0 * std::numbers::pi;
    removeRamp(aligned, rows, cols, twoPi * ramp.row / static_cast<double>(prows),
               twoPi * ramp.col / static_cast<double>(pcols));
  }

  // 3. What is left of the ramp is below one frequency bin, where the spectrum's peak cannot
  // place it: the mean phase step of O conj(T) between neighbouring pixels does (exact for a
  // pure ramp, weighted by the intensities). Kept only where it helps: with a ramp of a cycle or
  // more the shift of step 1 is off, and the step can then make things worse.
  const double coarse = scaledError(aligned, t, region);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      q(r, c) = region(r, c) != 0 ? conjMul(t(r, c), aligned(r, c)) : cfloat{};
    }
  }
  Z alongRows{0.0, 0.0};  // q is zero outside the region: pairs leaving it add nothing
  Z alongCols{0.0, 0.0};
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const Z p = std::conj(toZ(q(r, c)));
      if (r + 1 < rows) alongRows += toZ(q(r + 1, c)) * p;
      if (c + 1 < cols) alongCols += toZ(q(r, c + 1)) * p;
    }
  }
  const double stepRows = std::abs(alongRows) > 0.0 ? std::arg(alongRows) : 0.0;
  const double stepCols = std::abs(alongCols) > 0.0 ? std::arg(alongCols) : 0.0;
  if (stepRows != 0.0 || stepCols != 0.0) removeRamp(aligned, rows, cols, stepRows, stepCols);

  const double registered = std::min(coarse, scaledError(aligned, t, region));
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
