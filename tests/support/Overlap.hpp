#pragma once
// |<a, b>| / (|a| |b|): 1 for the same field up to a complex scale, less the more they differ.
#include <cmath>
#include <complex>

#include "core/Array.hpp"
#include "core/Complex.hpp"

namespace ptyx::testing {

inline double normalisedOverlap(const Image<cfloat>& a, const Image<cfloat>& b) {
  std::complex<double> inner{0.0, 0.0};
  double na = 0.0;
  double nb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::complex<double> x(a.data()[i].re, a.data()[i].im);
    const std::complex<double> y(b.data()[i].re, b.data()[i].im);
    inner += std::conj(y) * x;
    na += std::norm(x);
    nb += std::norm(y);
  }
  return std::abs(inner) / std::sqrt(na * nb);
}

}  // namespace ptyx::testing
