// The promise of the engine, on a noise-free simulated Fermat-spiral scan (256 frames of 64x64,
// ~70 % overlap) started from a perturbed probe: object error below 2 % within 300 iterations
// for DM and for RAAR. And with Poisson noise at 1e6 photons per frame, a result that is right
// to a few per cent, with its error reported.
#include <gtest/gtest.h>

#include <cstdio>

#include "backend/Backend.hpp"
#include "comm/Communicator.hpp"
#include "recon/Reconstructor.hpp"
#include "support/PerturbedProbe.hpp"
#include "support/TinyScans.hpp"

namespace ptyx {
namespace {

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

using Convergence = testing::PerturbedProbeSuite;

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

// What `ptyx simulate --initial-probe nominal` then a plain `ptyx recon` do: the default
// probe_init (auto) starts from the probe the scan carries, the optics with the defocus 17 % off.
TEST(ConvergenceFromTheFile, DefaultParametersStartFromTheScansProbe) {
  SimulationOptions o;
  o.nominalProbe = true;
  const Scan scan = simulate(o);
  ReconParams p;
  applyPreset(p, Algorithm::RAAR);
  p.iterations = 300;
  p.threads = 2;
  ASSERT_EQ(p.probeInit, ProbeInit::Auto);
  auto backend = makeBackend("cpu", {2});
  SerialCommunicator comm;
  Reconstructor r(scan, p, *backend, comm);
  r.run();
  std::printf("raar from the scan's own probe: object error %.5f\n",
              r.history().back().objectError);
  EXPECT_LT(r.history().back().objectError, 2e-3);
}

}  // namespace
}  // namespace ptyx
