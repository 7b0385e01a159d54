// The promise of the engine, on a noise-free simulated Fermat-spiral scan (256 frames of 64x64,
// ~70 % overlap) started from a perturbed probe: object error below 2 % within 300 iterations
// for DM and for RAAR. And with Poisson noise at 1e6 photons per frame, a result that is right
// to a few per cent, with its error reported.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "backend/Backend.hpp"
#include "comm/Communicator.hpp"
#include "io/Formats.hpp"
#include "recon/Reconstructor.hpp"
#include "support/TinyScans.hpp"

namespace ptyx {
namespace {

// The true probe with a smooth random phase error (up to ~1 rad) and a 20 % amplitude error,
// written where probe_init = file can read it.
std::string perturbedProbeFile(const Scan& scan, const std::string& path) {
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

double reconstruct(const Scan& scan, Algorithm algorithm, const std::string& probeFile) {
  ReconParams p;
  applyPreset(p, algorithm);
  p.iterations = 300;
  p.threads = 2;
  p.probeInit = ProbeInit::File;
  p.probeFile = probeFile;
  auto backend = makeBackend("cpu", {2});
  SerialCommunicator comm;
  Reconstructor r(scan, p, *backend, comm);
  r.run();
  const auto& h = r.history();
  std::printf("%s: object error %.4f after %zu iterations (fourier %.2e); at 100: %.4f\n",
              toString(algorithm).c_str(), h.back().objectError, h.size(), h.back().fourierError,
              h[99].objectError);
  return h.back().objectError;
}

class Convergence : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scan_ = new Scan(testing::smallScan(256, 64, 0.0, 7));  // NOLINT: suite-lifetime fixture
    probeFile_ = perturbedProbeFile(*scan_, "perturbed-probe.cxi");
  }
  static void TearDownTestSuite() { delete scan_; }  // NOLINT
  static Scan* scan_;
  static std::string probeFile_;
};
Scan* Convergence::scan_ = nullptr;
std::string Convergence::probeFile_;

TEST_F(Convergence, DifferenceMapReachesTwoPercent) {
  EXPECT_LT(reconstruct(*scan_, Algorithm::DM, probeFile_), 0.02);
}

TEST_F(Convergence, RaarReachesTwoPercent) {
  EXPECT_LT(reconstruct(*scan_, Algorithm::RAAR, probeFile_), 0.02);
}

TEST_F(Convergence, PoissonNoiseAtAMillionPhotonsStillGivesTheObject) {
  const Scan noisy = testing::smallScan(256, 64, 1e6, 7);
  const double error = reconstruct(noisy, Algorithm::RAAR, probeFile_);
  RecordProperty("object_error", std::to_string(error));
  EXPECT_LT(error, 0.01);
}

}  // namespace
}  // namespace ptyx
