#pragma once
// A starting probe that is wrong the way a real one is: what the convergence tests (CPU and
// CUDA) start from, so that "converges" means recovering from a realistic initial guess.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "core/Scan.hpp"
#include "io/Formats.hpp"
#include "support/TinyScans.hpp"

namespace ptyx::testing {

// The true probe with a smooth random phase error (up to ~1 rad) and a 20 % amplitude error,
// written where probe_init = file can read it.
inline std::string perturbedProbeFile(const Scan& scan, const std::string& path) {
  const Image<cfloat>& truth = scan.truth->probe;
  const std::size_t m = truth.rows();
  const auto md = static_cast<double>(m);
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const double a1 = u(rng), a2 = u(rng), a3 = u(rng);
  Image<cfloat> p(m, m);
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) {
      const double x = (static_cast<double>(c) - md / 2.0) / md;
      const double y = (static_cast<double>(r) - md / 2.0) / md;
      const double phase = 1.0 * (a1 * x * y * 8 + a2 * (x * x - y * y) * 8 + a3 * std::sin(6 * x));
      const double amp = 1.0 + 0.2 * std::cos(5 * y + 3 * x);
      const cfloat rot{static_cast<float>(amp * std::cos(phase)),
                       static_cast<float>(amp * std::sin(phase))};
      p(r, c) = truth(r, c) * rot;
    }
  }
  Scan carrier = scan;
  carrier.probe = p;
  writeScan(carrier, path);
  return path;
}

/// A suite on the convergence scan (256 frames of 64x64, noise-free, seed 7, ~70 % overlap) and
/// its perturbed starting probe, made once per suite: the CPU's convergence promise and the
/// CUDA backend's comparison with it start from the same place.
class PerturbedProbeSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scan_ = new Scan(smallScan(256, 64, 0.0, 7));  // NOLINT: suite-lifetime fixture
    probeFile_ = perturbedProbeFile(*scan_, "perturbed-probe.cxi");
  }
  static void TearDownTestSuite() {
    delete scan_;  // NOLINT
    scan_ = nullptr;
  }
  inline static Scan* scan_ = nullptr;
  inline static std::string probeFile_;
};

}  // namespace ptyx::testing
