// The memory planner against what the CPU backend actually allocates, its refusal message, and
// the device placement rule (none of which needs a GPU).
#include <gtest/gtest.h>

#include <string>

#include "backend/Backend.hpp"
#include "backend/Devices.hpp"
#include "core/Error.hpp"
#include "params/Parameters.hpp"
#include "recon/Layout.hpp"
#include "recon/MemoryPlanner.hpp"
#include "recon/Reconstructor.hpp"
#include "support/TinyScans.hpp"

namespace ptyx {
namespace {

// The planner must agree with CpuBackend::residentBytes() within this fraction (it mirrors the
// allocations array by array; the margin leaves room for small internal changes).
constexpr double kMargin = 0.02;

struct Loaded {
  std::size_t resident = 0;
  MemoryCase memoryCase;
};

// Loads the largest rank's block of `ranks` into a CPU backend and reports its residentBytes().
Loaded loadCpu(const Scan& scan, int threads, bool auxiliary, int ranks) {
  const ObjectLayout layout = layoutFor(scan);
  const std::size_t m = scan.frameSize();
  const std::size_t pixels = m * m;
  FrameRange block = frameBlock(scan.frameCount(), 0, ranks);
  for (int r = 1; r < ranks; ++r) {
    const FrameRange b = frameBlock(scan.frameCount(), r, ranks);
    if (b.count() > block.count()) block = b;
  }
  FrameSet set;
  set.frameSize = m;
  set.objectRows = layout.rows;
  set.objectCols = layout.cols;
  set.magnitudes = scan.magnitudes.span().subspan(block.first * pixels, block.count() * pixels);
  set.mask = scan.mask.span();
  set.windows = std::span(layout.windows).subspan(block.first, block.count());
  auto backend = makeBackend("cpu", {threads});
  backend->load(set);
  if (auxiliary) {
    const std::vector<cfloat> object(layout.rows * layout.cols, cfloat{1.0F, 0.0F});
    const std::vector<cfloat> probe(pixels, cfloat{1.0F, 0.0F});
    backend->formExitWaves({object, probe});
    backend->reflectModulus(1.0F);
  }
  Loaded l;
  l.resident = backend->residentBytes();
  l.memoryCase = {scan.frameCount(),
                  m,
                  layout.rows,
                  layout.cols,
                  static_cast<std::size_t>(threads),
                  auxiliary,
                  MemoryTarget::CpuRam};
  return l;
}

TEST(MemoryPlanner, MatchesTheCpuBackendsAllocations) {
  const Scan scan = testing::smallScan(40, 32);
  for (const int threads : {1, 2, 3}) {
    for (const bool auxiliary : {false, true}) {
      for (const int ranks : {1, 3}) {
        SCOPED_TRACE("threads " + std::to_string(threads) + (auxiliary ? ", auxiliary" : "") +
                     ", ranks " + std::to_string(ranks));
        const Loaded l = loadCpu(scan, threads, auxiliary, ranks);
        const RankMemory plan = planRank(l.memoryCase, ranks);
        EXPECT_EQ(plan.framesPerRank, (scan.frameCount() + static_cast<std::size_t>(ranks) - 1) /
                                          static_cast<std::size_t>(ranks));
        const double diff =
            std::fabs(static_cast<double>(plan.backendBytes) - static_cast<double>(l.resident));
        EXPECT_LE(diff, kMargin * static_cast<double>(l.resident))
            << "planner " << plan.backendBytes << " B, CpuBackend " << l.resident << " B";
        EXPECT_GT(plan.perRank(), plan.backendBytes) << "RAM also holds the model arrays";
      }
    }
  }
}

TEST(MemoryPlanner, GpuPlanCountsWavesScratchAndContext) {
  // 1024 frames of 128 x 128 on a 1000 x 1000 object (docs/CUDA.md quotes these figures).
  MemoryCase c{1024, 128, 1000, 1000, 1, false, MemoryTarget::CudaDevice};
  const RankMemory one = planRank(c, 1);
  const std::size_t frames = std::size_t{1024} * 128 * 128;
  EXPECT_GE(one.backendBytes, frames * (4 + 8));  // magnitudes + waves
  EXPECT_EQ(one.perRank(), one.backendBytes + kCudaContextReserve);
  c.auxiliaryWaves = true;
  EXPECT_EQ(planRank(c, 1).backendBytes - one.backendBytes, frames * 8);  // one more wave stack
  EXPECT_LT(planRank(c, 4).perRank(), one.perRank());
}

TEST(MemoryPlanner, RefusesAPlanThatCannotFitAndSaysHowManyRanks) {
  const MemoryCase c{1024, 128, 1000, 1000, 1, false, MemoryTarget::CudaDevice};
  const std::size_t capacity = planRank(c, 3).perRank();  // fits on 3, not on 2
  ASSERT_GT(planRank(c, 2).perRank(), capacity);
  const PlanVerdict v = checkPlan(c, 1, capacity);
  EXPECT_FALSE(v.fits);
  EXPECT_EQ(v.ranksNeeded, 3);
  EXPECT_NE(v.message.find("it would take 3 GPUs (ranks)"), std::string::npos) << v.message;
  EXPECT_TRUE(checkPlan(c, 3, capacity).fits);
  try {
    requirePlan(c, 2, capacity);
    FAIL() << "a plan that does not fit must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 GPUs"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(requirePlan(c, 4, capacity));

  MemoryCase cpu = c;
  cpu.target = MemoryTarget::CpuRam;
  const PlanVerdict r = checkPlan(cpu, 1, planRank(cpu, 2).perRank());
  EXPECT_EQ(r.ranksNeeded, 2);
  EXPECT_NE(r.message.find("it would take 2 ranks"), std::string::npos) << r.message;

  const PlanVerdict none =
      checkPlan(c, 1, std::size_t{1} << 20);  // 1 MiB: the object alone is more
  EXPECT_FALSE(none.fits);
  EXPECT_EQ(none.ranksNeeded, 0);
  EXPECT_NE(none.message.find("any number"), std::string::npos) << none.message;
}

TEST(MemoryPlanner, AuxiliaryWavesFollowTheAlgorithm) {
  ReconParams p;
  for (const auto& [a, aux] : {std::pair{Algorithm::DM, false}, std::pair{Algorithm::RAAR, false},
                               std::pair{Algorithm::ER, false}, std::pair{Algorithm::HIO, true}}) {
    applyPreset(p, a);
    EXPECT_EQ(needsAuxiliaryWaves(p), aux) << toString(a);
  }
  applyPreset(p, Algorithm::DM);
  p.gammaA = 0.5;
  EXPECT_TRUE(needsAuxiliaryWaves(p)) << "general difference map";
}

TEST(DevicePlacement, OneRankPerGpuOverridable) {
  EXPECT_EQ(chooseDevice(-1, nullptr, 5, 4), 1) << "local rank modulo device count";
  EXPECT_EQ(chooseDevice(-1, nullptr, -1, 4), 0);
  EXPECT_EQ(chooseDevice(-1, "2", 1, 4), 2) << "PTYX_DEVICE over the local rank";
  EXPECT_EQ(chooseDevice(3, "2", 1, 4), 3) << "the option over PTYX_DEVICE";
  EXPECT_THROW((void)chooseDevice(4, nullptr, 0, 4), InputError);
  EXPECT_THROW((void)chooseDevice(-1, "x", 0, 4), InputError);
  EXPECT_THROW((void)chooseDevice(-1, nullptr, 0, 0), Error);
}

TEST(DevicePlacement, BackendNamesResolveAgainstTheDevices) {
  DeviceStatus none;
  none.compiled = true;
  none.reason = "no CUDA driver";
  DeviceStatus one = none;
  one.usable = true;
  one.reason.clear();
  one.devices.push_back({0, "GPU", 80ULL << 30, 79ULL << 30, 9, 0});

  EXPECT_EQ(resolveBackend("cpu", one).backend, "cpu") << "cpu is asked for, not a GPU";
  EXPECT_EQ(resolveBackend("auto", one).backend, "cuda");
  EXPECT_TRUE(resolveBackend("auto", one).note.empty());
  EXPECT_EQ(resolveBackend("cuda", one).backend, "cuda");

  const BackendChoice fallback = resolveBackend("auto", none);
  EXPECT_EQ(fallback.backend, "cpu");
  EXPECT_EQ(fallback.note, "no usable CUDA device (no CUDA driver)");
  try {
    (void)resolveBackend("cuda", none);
    ADD_FAILURE() << "cuda without a device must be refused";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "backend: cuda: not available: no usable CUDA device (no CUDA driver)");
  }
  EXPECT_THROW((void)resolveBackend("gpu", one), InputError);
}

TEST(DevicePlacement, CompiledAndUsableAreSeparateAnswers) {
  const DeviceStatus s = queryDevices();
  EXPECT_EQ(s.compiled, compiledWithCuda());
  if (!s.usable) {
    EXPECT_FALSE(s.reason.empty()) << "no device must come with a reason";
  }
  if (!s.compiled) {
    EXPECT_EQ(s.reason, "compiled without CUDA");
  }
  // The cheap question a backend choice asks gives the same answers.
  const DeviceStatus d = detectDevices();
  EXPECT_EQ(d.compiled, s.compiled);
  EXPECT_EQ(d.usable, !s.devices.empty());
  if (!d.usable) {
    EXPECT_EQ(d.reason, s.reason);
  }
  // A GPU run's memory plan is checked against the free memory of its own device.
  EXPECT_EQ(chosenDeviceFreeBytes() > 0, d.usable);
}

}  // namespace
}  // namespace ptyx
