// The Reconstructor as the GUI and the job runner drive it: step(n), observers, pause, stop,
// parameter changes between iterations, and determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "backend/Backend.hpp"
#include "backend/cpu/CpuBackend.hpp"
#include "comm/Communicator.hpp"
#include "core/Error.hpp"
#include "recon/Reconstructor.hpp"
#include "support/TinyScans.hpp"

namespace ptyx {
namespace {

struct Recorder : ReconstructionObserver {
  std::vector<IterationMetrics> metrics;
  std::vector<int> snapshots;
  void onIteration(const IterationMetrics& m) override { metrics.push_back(m); }
  void onSnapshot(const Snapshot& s) override {
    snapshots.push_back(s.iteration);
    EXPECT_FALSE(s.object.empty());
    EXPECT_FALSE(s.probe.empty());
  }
};

class ReconstructorTest : public ::testing::Test {
 protected:
  static const Scan& scan() {
    static const Scan s = testing::smallScan();
    return s;
  }
  ReconParams params(Algorithm a = Algorithm::DM) {
    ReconParams p;
    applyPreset(p, a);
    p.iterations = 30;
    p.probeUpdateStart = 5;
    p.threads = 2;
    return p;
  }
  SerialCommunicator comm;
};

TEST_F(ReconstructorTest, StepRunsExactlyTheRequestedIterations) {
  auto backend = makeBackend("cpu", {2});
  Reconstructor r(scan(), params(), *backend, comm);
  Recorder rec;
  r.addObserver(&rec);
  EXPECT_EQ(r.step(1), 1);
  EXPECT_EQ(r.step(29), 29);
  EXPECT_EQ(r.iteration(), 30);
  ASSERT_EQ(r.history().size(), 30U);
  ASSERT_EQ(rec.metrics.size(), 30U);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(rec.metrics[static_cast<std::size_t>(i)].iteration, i + 1);
  EXPECT_TRUE(std::isfinite(r.history().back().objectError)) << "the simulated scan has a truth";
  EXPECT_TRUE(std::isnan(IterationMetrics{}.objectError)) << "no truth, no object error";
  // Scored every iteration up to 20, then every 10th: iteration 25 is not, 30 is.
  EXPECT_TRUE(std::isfinite(r.history()[19].objectError));
  EXPECT_TRUE(std::isnan(r.history()[24].objectError));
}

// The Fourier error is measured on the modulus projection's input (DESIGN.md §1), which for DM
// and RAAR is a reflection, not the estimate: the object error is what a user judges by.
TEST_F(ReconstructorTest, DifferenceMapAndRaarRecoverTheObject) {
  for (const Algorithm a : {Algorithm::DM, Algorithm::RAAR}) {
    auto backend = makeBackend("cpu", {2});
    ReconParams p = params(a);
    p.iterations = 150;
    if (a == Algorithm::RAAR) p.beta = 0.95;
    Reconstructor r(scan(), p, *backend, comm);
    r.run();
    EXPECT_LT(r.history().back().objectError, 0.01) << toString(a);
  }
}

// The general difference map (gamma_a != -1, a second overlap projection per iteration), HIO and
// ER run stably: finite metrics, no blow-up; ER's Fourier error (of the estimate) falls.
TEST_F(ReconstructorTest, GeneralDifferenceMapHioAndErRunStably) {
  for (const Algorithm a : {Algorithm::DM, Algorithm::HIO, Algorithm::ER}) {
    auto backend = makeBackend("cpu", {2});
    ReconParams p = params(a);
    p.iterations = 60;
    if (a == Algorithm::DM) p.gammaA = -0.8;
    Reconstructor r(scan(), p, *backend, comm);
    r.run();
    const std::string name = toString(a);
    ASSERT_EQ(r.history().size(), 60U) << name;
    for (const auto& m : r.history()) {
      ASSERT_TRUE(std::isfinite(m.fourierError) && m.fourierError < 2.0) << name;
      if (!std::isnan(m.objectError)) {
        ASSERT_LT(m.objectError, 0.25) << name;
      }
    }
    if (a == Algorithm::ER) {
      EXPECT_LT(r.history().back().fourierError, 0.6 * r.history().front().fourierError) << name;
    }
  }
}

TEST_F(ReconstructorTest, RunsAreBitIdenticalForASeedWhateverTheThreadCount) {
  ReconParams p = params();
  p.objectInit = ObjectInit::Random;
  p.seed = 11;
  p.iterations = 10;
  auto b1 = makeBackend("cpu", {1});
  auto b2 = makeBackend("cpu", {2});
  auto b3 = makeBackend("cpu", {2});
  Reconstructor r1(scan(), p, *b1, comm);
  Reconstructor r2(scan(), p, *b2, comm);
  r1.run();
  r2.run();
  EXPECT_EQ(r1.object(), r2.object());
  EXPECT_EQ(r1.probe(), r2.probe());
  p.seed = 12;
  Reconstructor r3(scan(), p, *b3, comm);
  r3.run();
  EXPECT_NE(r1.object(), r3.object()) << "the seed must matter for a random start";
}

// The workbench faults in the engine's large arrays while a scan is shown; the run that follows
// takes them (starting sooner) and its results are those of a run without them.
TEST_F(ReconstructorTest, MemoryPreparedBeforeARunIsTakenByItWithTheSameResult) {
  ReconParams p = params();
  p.iterations = 10;
  auto plain = makeBackend("cpu", {2});
  Reconstructor reference(scan(), p, *plain, comm);
  reference.run();

  const std::size_t n = scan().frameCount();
  const std::size_t m = scan().frameSize();
  CpuBackend::prepareMemory(n, m);
  EXPECT_EQ(CpuBackend::preparedBytes(), n * m * m * (sizeof(float) + sizeof(cfloat)));
  auto backend = makeBackend("cpu", {2});
  Reconstructor prepared(scan(), p, *backend, comm);
  EXPECT_EQ(CpuBackend::preparedBytes(), 0U) << "the run took both arrays";
  prepared.run();
  EXPECT_EQ(prepared.object(), reference.object());
  EXPECT_EQ(prepared.probe(), reference.probe());

  // Prepared for another scan: freed by the next run, not held beside its own arrays.
  CpuBackend::prepareMemory(n + 1, m);
  EXPECT_GT(CpuBackend::preparedBytes(), 0U);
  auto other = makeBackend("cpu", {1});
  Reconstructor unrelated(scan(), p, *other, comm);
  EXPECT_EQ(CpuBackend::preparedBytes(), 0U);
}

// The same with the Reconstructor's own update (division and maxima over the object) run by a
// team: an object above 2^16 pixels, and one, three and four threads.
TEST_F(ReconstructorTest, ALargeObjectsUpdateIsBitIdenticalWhateverTheThreadCount) {
  static const Scan large = testing::smallScan(640, 64);
  std::vector<Image<cfloat>> objects;
  std::vector<Image<cfloat>> probes;
  for (const int threads : {1, 3, 4}) {
    ReconParams p = params(Algorithm::RAAR);
    p.iterations = 8;
    p.probeUpdateStart = 2;
    p.threads = threads;
    auto backend = makeBackend("cpu", {threads});
    Reconstructor r(large, p, *backend, comm);
    ASSERT_GT(r.object().size(), std::size_t{1} << 16) << "large enough to be updated by a team";
    r.run();
    objects.push_back(r.object());
    probes.push_back(r.probe());
  }
  for (std::size_t k = 1; k < objects.size(); ++k) {
    EXPECT_EQ(objects[k], objects[0]);
    EXPECT_EQ(probes[k], probes[0]);
  }
}

TEST_F(ReconstructorTest, PerFrameFourierErrorsAverageToTheScanError) {
  auto backend = makeBackend("cpu", {2});
  ReconParams p = params(Algorithm::ER);
  Reconstructor r(scan(), p, *backend, comm);
  r.step(3);
  const std::vector<double> errors = r.frameFourierErrors();
  ASSERT_EQ(errors.size(), scan().frameCount());
  double lo = errors.front();
  double hi = errors.front();
  for (double e : errors) {
    EXPECT_TRUE(std::isfinite(e) && e >= 0.0);
    lo = std::min(lo, e);
    hi = std::max(hi, e);
  }
  // The scan error is the norm-weighted mean of the frame errors, so it lies between them.
  EXPECT_GE(r.history().back().fourierError, lo * 0.999);
  EXPECT_LE(r.history().back().fourierError, hi * 1.001);
  EXPECT_GT(hi, lo) << "frames differ in how well they are explained";
}

TEST_F(ReconstructorTest, PauseHoldsAndResumeContinues) {
  auto backend = makeBackend("cpu", {2});
  Reconstructor r(scan(), params(), *backend, comm);
  r.step(3);
  r.requestPause(true);
  EXPECT_EQ(r.step(5), 0);
  EXPECT_EQ(r.iteration(), 3);
  r.requestPause(false);
  EXPECT_EQ(r.step(5), 5);
  EXPECT_EQ(r.iteration(), 8);
}

TEST_F(ReconstructorTest, StopFromAnotherThreadEndsTheRunBetweenIterations) {
  auto backend = makeBackend("cpu", {2});
  ReconParams p = params();
  p.iterations = 100000;
  Reconstructor r(scan(), p, *backend, comm);
  std::thread stopper([&] {
    while (r.iteration() < 3) std::this_thread::yield();
    r.requestStop();
  });
  const int ran = r.run();
  stopper.join();
  EXPECT_GE(ran, 3);
  EXPECT_LT(ran, 100000);
  EXPECT_EQ(r.history().size(), static_cast<std::size_t>(ran)) << "no half iteration";
  EXPECT_EQ(r.step(1), 0);
}

TEST_F(ReconstructorTest, ParameterChangeAppliesAtTheNextIterationAndIsMarked) {
  auto backend = makeBackend("cpu", {2});
  Reconstructor r(scan(), params(), *backend, comm);
  r.step(4);
  ReconParams changed = r.parameters();
  changed.beta = 0.7;
  r.requestParameters(changed);
  EXPECT_DOUBLE_EQ(r.parameters().beta, 1.0) << "not before the next iteration";
  r.step(2);
  EXPECT_DOUBLE_EQ(r.parameters().beta, 0.7);
  ASSERT_EQ(r.history().size(), 6U);
  EXPECT_FALSE(r.history()[3].parametersChanged);
  EXPECT_TRUE(r.history()[4].parametersChanged);
  EXPECT_FALSE(r.history()[5].parametersChanged);

  ReconParams bad = r.parameters();
  bad.beta = -3.0;
  EXPECT_THROW(r.requestParameters(bad), InputError);
}

TEST_F(ReconstructorTest, SnapshotsAreThrottledButTheLastIterationAlwaysGetsOne) {
  auto backend = makeBackend("cpu", {2});
  ReconParams p = params();
  p.iterations = 6;
  p.snapshotInterval_s = 3600.0;
  Reconstructor r(scan(), p, *backend, comm);
  Recorder rec;
  r.addObserver(&rec);
  r.run();
  ASSERT_FALSE(rec.snapshots.empty());
  EXPECT_EQ(rec.snapshots.back(), 6);
  EXPECT_LE(rec.snapshots.size(), 2U);

  auto backend2 = makeBackend("cpu", {2});
  p.snapshotInterval_s = 0.0;
  Reconstructor r2(scan(), p, *backend2, comm);
  Recorder every;
  r2.addObserver(&every);
  r2.run();
  EXPECT_EQ(every.snapshots.size(), 6U);
}

TEST_F(ReconstructorTest, ResultRemovesTheGlobalPhaseAndKeepsTheProduct) {
  auto backend = makeBackend("cpu", {2});
  Reconstructor r(scan(), params(), *backend, comm);
  r.step(10);
  const Reconstruction result = r.result();
  const auto region = r.wellIlluminated();
  double re = 0.0, im = 0.0;
  for (std::size_t i = 0; i < region.size(); ++i) {
    if (region.data()[i] == 0) continue;
    re += result.object.data()[i].re;
    im += result.object.data()[i].im;
  }
  EXPECT_NEAR(std::atan2(im, re), 0.0, 1e-4);
  const cfloat before = r.probe()(16, 16) * r.object()(40, 40);
  const cfloat after = result.probe(16, 16) * result.object(40, 40);
  EXPECT_NEAR(before.re, after.re, 1e-3 * std::abs(before.re) + 1e-6);
  EXPECT_NEAR(before.im, after.im, 1e-3 * std::abs(before.im) + 1e-6);
  EXPECT_EQ(result.history.size(), 10U);
  EXPECT_EQ(result.positions.size(), scan().frameCount());
  EXPECT_GT(result.objectPixelSize_m, 0.0);
}

TEST_F(ReconstructorTest, InconsistentScansAreRejectedWithTheField) {
  Scan broken = testing::smallScan(8, 32);
  broken.positions.pop_back();
  auto backend = makeBackend("cpu", {1});
  try {
    Reconstructor r(broken, params(), *backend, comm);
    FAIL() << "accepted 7 positions for 8 frames";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "positions");
  }
}

}  // namespace
}  // namespace ptyx
