// Oracles for the two projections, through the CPU backend the algorithm really uses:
//  * the overlap sums, divided as the Reconstructor divides them, against a brute-force
//    least-squares solve (Eigen) of min sum_j ||psi_j - P(r - r_j) O(r)||^2;
//  * the modulus projection against a direct DFT: it imposes the measured magnitudes on
//    unmasked pixels, leaves masked pixels alone, and is idempotent.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <complex>
#include <memory>
#include <numbers>
#include <random>

#include "backend/cpu/CpuBackend.hpp"
#include "core/Array.hpp"
#include "math/Kernels.hpp"

namespace ptyx {
namespace {

using Zd = std::complex<double>;

struct TinyCase {
  std::size_t m = 4;
  std::size_t rows = 9;
  std::size_t cols = 10;
  std::vector<FrameWindow> windows{{0, 0}, {0, 5}, {3, 2}, {5, 6}, {2, 4}, {5, 0}};
  std::vector<float> magnitudes;
  std::vector<std::uint8_t> mask;
  Image<cfloat> object;
  Image<cfloat> probe;
  std::vector<cfloat> waves;  // arbitrary exit waves, not consistent with any P O

  explicit TinyCase(unsigned seed) : object(rows, cols), probe(m, m) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1.0F, 1.0F);
    for (auto& v : object.span()) v = {1.0F + 0.3F * d(rng), 0.3F * d(rng)};
    for (auto& v : probe.span()) v = {1.0F + 0.5F * d(rng), 0.5F * d(rng)};
    waves.resize(windows.size() * m * m);
    for (auto& v : waves) v = {d(rng), d(rng)};
    magnitudes.resize(windows.size() * m * m);
    for (auto& v : magnitudes) v = 2.0F + d(rng);
    mask.assign(m * m, 0);
    mask[5] = 1;  // one bad pixel (centred detector coordinates)
  }

  std::unique_ptr<CpuBackend> backend(int threads = 2) const {
    auto b = std::make_unique<CpuBackend>(BackendOptions{threads});
    FrameSet f;
    f.frameSize = m;
    f.objectRows = rows;
    f.objectCols = cols;
    f.magnitudes = magnitudes;
    f.mask = mask;
    f.windows = windows;
    b->load(f);
    b->writeExitWaves(waves);
    return b;
  }
};

// Least squares for the object with the probe fixed: rows of A are (frame, pixel), columns are
// the object pixels; O = argmin ||A o - psi||.
TEST(OverlapOracle, ObjectUpdateIsTheLeastSquaresSolution) {
  const TinyCase t(1);
  auto backend = t.backend();
  std::vector<cfloat> num(t.rows * t.cols);
  std::vector<float> den(t.rows * t.cols);
  backend->accumulateObject(Waves::Exit, t.probe.span(), num, den);

  const std::size_t pixels = t.m * t.m;
  Eigen::MatrixXcd a = Eigen::MatrixXcd::Zero(static_cast<Eigen::Index>(t.windows.size() * pixels),
                                              static_cast<Eigen::Index>(t.rows * t.cols));
  Eigen::VectorXcd b(a.rows());
  for (std::size_t j = 0; j < t.windows.size(); ++j) {
    for (std::size_t r = 0; r < t.m; ++r) {
      for (std::size_t c = 0; c < t.m; ++c) {
        const auto row = static_cast<Eigen::Index>(j * pixels + r * t.m + c);
        const std::size_t objectPixel = (t.windows[j].row + r) * t.cols + t.windows[j].col + c;
        a(row, static_cast<Eigen::Index>(objectPixel)) = Zd(t.probe(r, c).re, t.probe(r, c).im);
        b(row) = Zd(t.waves[j * pixels + r * t.m + c].re, t.waves[j * pixels + r * t.m + c].im);
      }
    }
  }
  const Eigen::VectorXcd o = a.completeOrthogonalDecomposition().solve(b);
  int covered = 0;
  for (std::size_t i = 0; i < num.size(); ++i) {
    if (den[i] == 0.0F) {
      EXPECT_NEAR(std::abs(o(static_cast<Eigen::Index>(i))), 0.0, 1e-9) << "unlit pixel " << i;
      continue;
    }
    ++covered;
    const cfloat ours = kernels::regularisedDivide(num[i], den[i], 0.0F);
    EXPECT_NEAR(ours.re, o(static_cast<Eigen::Index>(i)).real(), 1e-4) << "pixel " << i;
    EXPECT_NEAR(ours.im, o(static_cast<Eigen::Index>(i)).imag(), 1e-4) << "pixel " << i;
  }
  EXPECT_GT(covered, 60);
}

TEST(OverlapOracle, ProbeUpdateIsTheLeastSquaresSolution) {
  const TinyCase t(2);
  auto backend = t.backend();
  const std::size_t pixels = t.m * t.m;
  std::vector<cfloat> num(pixels);
  std::vector<float> den(pixels);
  backend->accumulateProbe(Waves::Exit, t.object.span(), num, den);

  Eigen::MatrixXcd a = Eigen::MatrixXcd::Zero(static_cast<Eigen::Index>(t.windows.size() * pixels),
                                              static_cast<Eigen::Index>(pixels));
  Eigen::VectorXcd b(a.rows());
  for (std::size_t j = 0; j < t.windows.size(); ++j) {
    for (std::size_t r = 0; r < t.m; ++r) {
      for (std::size_t c = 0; c < t.m; ++c) {
        const auto row = static_cast<Eigen::Index>(j * pixels + r * t.m + c);
        const cfloat o = t.object(t.windows[j].row + r, t.windows[j].col + c);
        a(row, static_cast<Eigen::Index>(r * t.m + c)) = Zd(o.re, o.im);
        b(row) = Zd(t.waves[j * pixels + r * t.m + c].re, t.waves[j * pixels + r * t.m + c].im);
      }
    }
  }
  const Eigen::VectorXcd p = a.colPivHouseholderQr().solve(b);
  for (std::size_t i = 0; i < pixels; ++i) {
    const cfloat ours = kernels::regularisedDivide(num[i], den[i], 0.0F);
    EXPECT_NEAR(ours.re, p(static_cast<Eigen::Index>(i)).real(), 1e-4);
    EXPECT_NEAR(ours.im, p(static_cast<Eigen::Index>(i)).imag(), 1e-4);
  }
}

TEST(OverlapOracle, SumsDoNotDependOnTheThreadCount) {
  const TinyCase t(3);
  std::vector<cfloat> num1(t.rows * t.cols), num3(t.rows * t.cols);
  std::vector<float> den1(t.rows * t.cols), den3(t.rows * t.cols);
  t.backend(1)->accumulateObject(Waves::Exit, t.probe.span(), num1, den1);
  t.backend(3)->accumulateObject(Waves::Exit, t.probe.span(), num3, den3);
  EXPECT_EQ(num1, num3);
  EXPECT_EQ(den1, den3);
}

std::vector<Zd> dft(std::span<const cfloat> frame, std::size_t m) {
  std::vector<Zd> out(m * m);
  for (std::size_t u = 0; u < m; ++u)
    for (std::size_t v = 0; v < m; ++v)
      for (std::size_t r = 0; r < m; ++r)
        for (std::size_t c = 0; c < m; ++c)
          out[u * m + v] +=
              Zd(frame[r * m + c].re, frame[r * m + c].im) *
              std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(u * r + v * c) /
                                  static_cast<double>(m));
  return out;
}

// psi <- pi_a(psi): the relaxed step with p = 0, q = 1, a = b = 0, c = 1.
constexpr RelaxedStep kModulusOnly{0.0F, 1.0F, 0.0F, 0.0F, 1.0F};

TEST(ModulusOracle, ImposesMagnitudesHonoursTheMaskAndIsIdempotent) {
  const TinyCase t(4);
  auto backend = t.backend();
  const ModelView model{t.object.span(), t.probe.span()};
  const std::size_t m = t.m;
  const std::size_t pixels = m * m;

  const StepSums first = backend->relaxedStep(kModulusOnly, model, model);
  std::vector<cfloat> once(t.waves.size());
  backend->readExitWaves(once);

  for (std::size_t j = 0; j < t.windows.size(); ++j) {
    const auto before = dft(std::span(t.waves).subspan(j * pixels, pixels), m);
    const auto after = dft(std::span<const cfloat>(once).subspan(j * pixels, pixels), m);
    for (std::size_t u = 0; u < m; ++u) {
      for (std::size_t v = 0; v < m; ++v) {
        // Measured frames are centred: detector pixel (u + m/2, v + m/2) mod m is frequency (u, v).
        const std::size_t detector = ((u + m / 2) % m) * m + (v + m / 2) % m;
        const std::size_t k = u * m + v;
        if (t.mask[detector] != 0) {
          EXPECT_NEAR(std::abs(after[k] - before[k]), 0.0, 1e-4) << "masked pixel changed";
        } else {
          EXPECT_NEAR(std::abs(after[k]), t.magnitudes[j * pixels + detector], 1e-4);
          EXPECT_NEAR(std::arg(after[k] * std::conj(before[k])), 0.0, 1e-4) << "phase changed";
        }
      }
    }
  }
  EXPECT_GT(first.fourierResidual, 0.0);

  const StepSums second = backend->relaxedStep(kModulusOnly, model, model);
  std::vector<cfloat> twice(t.waves.size());
  backend->readExitWaves(twice);
  for (std::size_t i = 0; i < once.size(); ++i) {
    EXPECT_NEAR(twice[i].re, once[i].re, 1e-5);
    EXPECT_NEAR(twice[i].im, once[i].im, 1e-5);
  }
  EXPECT_LT(second.fourierResidual, 1e-8 * second.magnitudeNorm)
      << "a projection must be idempotent";
}

TEST(ModulusOracle, ZeroAmplitudeGetsTheMeasuredMagnitudeWithASafePhase) {
  float residual = 0.0F;
  float norm = 0.0F;
  const cfloat z = kernels::modulusProject({0.0F, 0.0F}, 3.0F, 1.0F, 1.0F, residual, norm);
  EXPECT_FLOAT_EQ(z.re, 3.0F);
  EXPECT_FLOAT_EQ(z.im, 0.0F);
  EXPECT_FLOAT_EQ(residual, 9.0F);
  EXPECT_FLOAT_EQ(norm, 9.0F);
}

}  // namespace
}  // namespace ptyx
