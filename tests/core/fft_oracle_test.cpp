// Oracle: the FFT wrapper against a direct DFT on small arrays, including odd sizes, in one plan
// and split into blocks of rows and columns for an OpenMP team.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>
#include <random>

#include "math/Fft.hpp"

namespace ptyx {
namespace {

Image<std::complex<double>> directDft(const Image<cfloat>& in, int sign) {
  const std::size_t rows = in.rows();
  const std::size_t cols = in.cols();
  Image<std::complex<double>> out(rows, cols);
  for (std::size_t u = 0; u < rows; ++u) {
    for (std::size_t v = 0; v < cols; ++v) {
      std::complex<double> sum = 0.0;
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
          const double phase = sign * 2.0 * std::numbers::pi *
                               (static_cast<double>(u * r) / static_cast<double>(rows) +
                                static_cast<double>(v * c) / static_cast<double>(cols));
          sum += std::complex<double>(in(r, c).re, in(r, c).im) * std::polar(1.0, phase);
        }
      }
      out(u, v) = sum;
    }
  }
  return out;
}

Image<cfloat> randomImage(std::size_t rows, std::size_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0F, 1.0F);
  Image<cfloat> a(rows, cols);
  for (auto& v : a.span()) v = {d(rng), d(rng)};
  return a;
}

class FftOracle : public ::testing::TestWithParam<std::tuple<std::pair<int, int>, FftThreading>> {};

TEST_P(FftOracle, ForwardAndInverseMatchTheDirectSum) {
  const auto [size, threading] = GetParam();
  const auto [rows, cols] = size;
  const auto a = randomImage(static_cast<std::size_t>(rows), static_cast<std::size_t>(cols), 3);
  const Fft2 fft(a.rows(), a.cols(), threading, 3);
  for (int sign : {-1, +1}) {
    Image<cfloat> b = a;
    if (sign < 0)
      fft.forward(b);
    else
      fft.inverse(b);
    const auto expected = directDft(a, sign);
    for (std::size_t i = 0; i < b.size(); ++i) {
      EXPECT_NEAR(b.data()[i].re, expected.data()[i].real(), 2e-5 * rows * cols);
      EXPECT_NEAR(b.data()[i].im, expected.data()[i].imag(), 2e-5 * rows * cols);
    }
  }
}

// 12 x 10 and 17 x 9: full blocks of 8 rows or columns and a shorter last one.
INSTANTIATE_TEST_SUITE_P(
    Sizes, FftOracle,
    ::testing::Combine(::testing::Values(std::pair{4, 4}, std::pair{8, 8}, std::pair{5, 6},
                                         std::pair{7, 3}, std::pair{12, 10}, std::pair{17, 9}),
                       ::testing::Values(FftThreading::Single, FftThreading::Team)));

// The object error is scored with the split transform: a run must score the same whatever the
// number of threads, so every block must come out the same whichever thread runs it.
TEST(FftTeam, SameBitsForAnyTeamSize) {
  const auto a = randomImage(37, 29, 5);
  Image<cfloat> one = a;
  Fft2(a.rows(), a.cols(), FftThreading::Team, 1).forward(one);
  for (int threads : {2, 3, 4}) {
    Image<cfloat> many = a;
    Fft2(a.rows(), a.cols(), FftThreading::Team, threads).forward(many);
    EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(cfloat)), 0)
        << threads << " threads";
  }
}

TEST(FftShift, ZeroFrequencyMovesToTheCentreAndBack) {
  for (std::size_t n : {4U, 5U}) {
    Image<float> a(n, n);
    a(0, 0) = 1.0F;
    const auto s = fftshift(a);
    EXPECT_EQ(s(n / 2, n / 2), 1.0F);
    EXPECT_EQ(ifftshift(s), a);
  }
}

}  // namespace
}  // namespace ptyx
