// Frames added to a running reconstruction (Reconstructor::addFrames, Backend::appendFrames): a
// reconstruction that receives its frames in pieces before the first iteration is exactly the
// one that had them all, and frames added mid-run are used from the next iteration.
#include <gtest/gtest.h>

#include "backend/Backend.hpp"
#include "comm/Communicator.hpp"
#include "core/Error.hpp"
#include "recon/Layout.hpp"
#include "recon/Reconstructor.hpp"
#include "recon/ScanFollower.hpp"
#include "support/TinyScans.hpp"

namespace ptyx {
namespace {

const Scan& wholeScan() {
  static const Scan s = testing::smallScan(64, 32);
  return s;
}

/// The first `count` frames of the whole scan, as a follower holds them.
Scan firstFrames(std::size_t count) {
  const Scan& all = wholeScan();
  Scan part;
  part.geometry = all.geometry;
  part.mask = all.mask;
  part.probe = all.probe;
  part.truth = all.truth;
  part.sourcePath = "growing.cxi";
  const std::size_t m = all.frameSize();
  part.magnitudes = Stack<float>(count, m, m);
  std::copy_n(all.magnitudes.span().begin(), count * m * m, part.magnitudes.span().begin());
  part.positions.assign(all.positions.begin(),
                        all.positions.begin() + static_cast<std::ptrdiff_t>(count));
  return part;
}

std::span<const float> framesOf(std::size_t first, std::size_t count) {
  const std::size_t pixels = wholeScan().frameSize() * wholeScan().frameSize();
  return wholeScan().magnitudes.span().subspan(first * pixels, count * pixels);
}

std::span<const Position> positionsOf(std::size_t first, std::size_t count) {
  return std::span<const Position>(wholeScan().positions).subspan(first, count);
}

ReconParams params(Algorithm a) {
  ReconParams p;
  applyPreset(p, a);
  p.iterations = 8;
  p.probeUpdateStart = 3;
  p.threads = 2;
  return p;
}

// The backend alone: frames appended one at a time (so that the arrays grow several times) hold
// the same exit waves and give the same step, overlap sums and per-frame errors, bit for bit, as
// the whole set loaded at once, for the same model.
class AppendFrames : public ::testing::TestWithParam<Algorithm> {};

TEST_P(AppendFrames, FramesAppendedOneByOneActExactlyAsTheWholeSetLoadedAtOnce) {
  const Scan& scan = wholeScan();
  const std::size_t m = scan.frameSize();
  const std::size_t n = scan.frameCount();
  const ObjectLayout layout = layoutFor(scan);
  FrameSet all;
  all.frameSize = m;
  all.objectRows = layout.rows;
  all.objectCols = layout.cols;
  all.magnitudes = scan.magnitudes.span();
  all.mask = scan.mask.span();
  all.windows = layout.windows;

  // Some model that is not trivial: the truth's probe over a textured object.
  Image<cfloat> object(layout.rows, layout.cols);
  for (std::size_t i = 0; i < object.size(); ++i) {
    object.data()[i] =
        cfloat{1.0F + 0.001F * static_cast<float>(i % 97), 0.01F * static_cast<float>(i % 13)};
  }
  const Image<cfloat> probe = scan.truth->probe;
  const ModelView model{object.span(), probe.span()};

  auto whole = makeBackend("cpu", {2});
  whole->load(all);
  whole->formExitWaves(model);

  auto grown = makeBackend("cpu", {2});
  FrameSet part = all;
  part.magnitudes = all.magnitudes.subspan(0, 10 * m * m);
  part.windows = all.windows.subspan(0, 10);
  grown->load(part);
  grown->formExitWaves(model);
  for (std::size_t j = 10; j < n; ++j) {
    FrameSet one = all;
    one.magnitudes = all.magnitudes.subspan(j * m * m, m * m);
    one.windows = all.windows.subspan(j, 1);
    grown->appendFrames(one, model);
  }
  ASSERT_EQ(grown->frameCount(), n);

  std::vector<cfloat> a(n * m * m);
  std::vector<cfloat> b(n * m * m);
  whole->readExitWaves(a);
  grown->readExitWaves(b);
  ASSERT_EQ(a, b) << "exit waves of appended frames differ from those formed at once";

  ReconParams p;
  applyPreset(p, GetParam());
  const float beta = static_cast<float>(p.beta);
  const RelaxedStep step{2.0F, -1.0F, beta, 1.0F - 2.0F * beta, beta};
  if (GetParam() == Algorithm::HIO) {
    whole->reflectModulus(1.0F / beta);
    grown->reflectModulus(1.0F / beta);
  }
  const StepSums sa = whole->relaxedStep(step, model, model);
  const StepSums sb = grown->relaxedStep(step, model, model);
  EXPECT_EQ(sa.fourierResidual, sb.fourierResidual);
  EXPECT_EQ(sa.overlapResidual, sb.overlapResidual);
  std::vector<cfloat> numA(object.size());
  std::vector<cfloat> numB(object.size());
  std::vector<float> denA(object.size());
  std::vector<float> denB(object.size());
  const Waves waves = GetParam() == Algorithm::HIO ? Waves::Auxiliary : Waves::Exit;
  whole->accumulateObject(waves, probe.span(), numA, denA);
  grown->accumulateObject(waves, probe.span(), numB, denB);
  EXPECT_EQ(numA, numB);
  EXPECT_EQ(denA, denB);
  std::vector<double> errorsA(n);
  std::vector<double> errorsB(n);
  whole->frameFourierErrors(errorsA);
  grown->frameFourierErrors(errorsB);
  EXPECT_EQ(errorsA, errorsB);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, AppendFrames,
                         ::testing::Values(Algorithm::RAAR, Algorithm::HIO));

TEST(AppendFramesMidRun, NewFramesAreUsedFromTheNextIteration) {
  SerialCommunicator comm;
  const Scan arrived = firstFrames(20);
  auto backend = makeBackend("cpu", {2});
  Reconstructor r(arrived, wholeScan().positions, params(Algorithm::RAAR), *backend, comm);
  EXPECT_TRUE(r.following());
  r.step(3);
  r.addFrames(framesOf(20, 44), positionsOf(20, 44));
  r.step(1);
  ASSERT_EQ(r.history().size(), 4U);
  EXPECT_EQ(r.history()[2].framesReceived, 20);
  EXPECT_EQ(r.history()[3].framesReceived, 64);
  EXPECT_EQ(r.frameFourierErrors().size(), 64U);
  EXPECT_GT(r.frameFourierErrors().back(), 0.0) << "the last frame took part in the iteration";

  r.setIterationTarget(12);
  EXPECT_EQ(r.parameters().iterations, 12);
  EXPECT_EQ(r.run(), 8);
  EXPECT_FALSE(r.history().back().parametersChanged) << "a new target is not a parameter change";
}

TEST(AppendFramesMidRun, AFrameOutsideThePlannedScanIsRefusedByName) {
  SerialCommunicator comm;
  const Scan arrived = firstFrames(20);
  auto backend = makeBackend("cpu", {2});
  Reconstructor r(arrived, wholeScan().positions, params(Algorithm::RAAR), *backend, comm);
  const Position far{1000.0, 0.0};
  try {
    r.addFrames(framesOf(20, 1), std::span<const Position>(&far, 1));
    FAIL() << "a frame far outside the planned scan was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "translation");
    EXPECT_NE(std::string(e.what()).find("frame 20"), std::string::npos) << e.what();
  }
  EXPECT_EQ(r.frames().count(), 20U);
}

TEST(AppendFramesMidRun, AnOrdinaryReconstructionRefusesToGrow) {
  SerialCommunicator comm;
  auto backend = makeBackend("cpu", {2});
  Reconstructor r(wholeScan(), params(Algorithm::RAAR), *backend, comm);
  EXPECT_THROW(r.addFrames(framesOf(0, 1), positionsOf(0, 1)), Error);
}

// Coverage counts the discs of diameter M/2 about the frame centres.
TEST(Coverage, GrowsFromNothingToAllWithTheFrames) {
  const auto& planned = wholeScan().positions;
  Coverage c(planned, 32);
  EXPECT_EQ(c.fraction(), 0.0);
  c.add(std::span<const Position>(planned).subspan(0, 16));
  const double part = c.fraction();
  EXPECT_GT(part, 0.05);
  EXPECT_LT(part, 0.95);
  c.add(planned);
  EXPECT_DOUBLE_EQ(c.fraction(), 1.0);
}

TEST(Latency, SummaryGivesMedianP95AndMax) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  const LatencySummary s = summarise(v);
  EXPECT_EQ(s.count, 100U);
  EXPECT_EQ(s.median, 50.0);
  EXPECT_EQ(s.p95, 95.0);
  EXPECT_EQ(s.max, 100.0);
  EXPECT_EQ(summarise({}).count, 0U);
}

}  // namespace
}  // namespace ptyx
