// Backend::appendFrames on the CUDA backend (issue 7): frames appended one by one act exactly as
// the whole set loaded at once, and as the CPU backend's appended frames within the CUDA tests'
// tolerances. Needs a usable GPU: without one, main() prints why and returns 77 (CTest's
// SKIP_RETURN_CODE for this test), so the run shows "Skipped", never a pass.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <vector>

#include "backend/Backend.hpp"
#include "backend/Devices.hpp"
#include "recon/Layout.hpp"
#include "support/TinyScans.hpp"

namespace ptyx {
namespace {

constexpr int kSkip = 77;

struct Grown {
  std::unique_ptr<Backend> backend;
  std::vector<cfloat> waves;
};

TEST(CudaAppendFrames, AppendedFramesActAsTheWholeSetAndAsTheCpuBackend) {
  const Scan scan = testing::smallScan(48, 32);
  const ObjectLayout layout = layoutFor(scan);
  const std::size_t m = scan.frameSize();
  const std::size_t n = scan.frameCount();
  FrameSet all;
  all.frameSize = m;
  all.objectRows = layout.rows;
  all.objectCols = layout.cols;
  all.magnitudes = scan.magnitudes.span();
  all.mask = scan.mask.span();
  all.windows = layout.windows;
  Image<cfloat> object(layout.rows, layout.cols);
  for (std::size_t i = 0; i < object.size(); ++i) {
    object.data()[i] =
        cfloat{1.0F + 0.001F * static_cast<float>(i % 97), 0.01F * static_cast<float>(i % 13)};
  }
  const Image<cfloat> probe = scan.truth->probe;
  const ModelView model{object.span(), probe.span()};

  auto grow = [&](const std::string& name) {
    auto backend = makeBackend(name, {2});
    FrameSet part = all;
    part.magnitudes = all.magnitudes.subspan(0, 10 * m * m);
    part.windows = all.windows.subspan(0, 10);
    backend->load(part);
    backend->formExitWaves(model);
    for (std::size_t j = 10; j < n; j += 7) {
      const std::size_t k = std::min<std::size_t>(7, n - j);
      FrameSet more = all;
      more.magnitudes = all.magnitudes.subspan(j * m * m, k * m * m);
      more.windows = all.windows.subspan(j, k);
      backend->appendFrames(more, model);
    }
    return backend;
  };
  auto whole = makeBackend("cuda", {2});
  whole->load(all);
  whole->formExitWaves(model);
  auto grownGpu = grow("cuda");
  auto grownCpu = grow("cpu");
  ASSERT_EQ(grownGpu->frameCount(), n);

  std::vector<cfloat> a(n * m * m);
  std::vector<cfloat> b(n * m * m);
  std::vector<cfloat> c(n * m * m);
  whole->readExitWaves(a);
  grownGpu->readExitWaves(b);
  grownCpu->readExitWaves(c);
  EXPECT_EQ(a, b) << "appended frames' exit waves differ from those formed at once";
  double diff = 0.0;
  double peak = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::sqrt(static_cast<double>(norm2(c[i] - b[i]))));
    peak = std::max(peak, std::sqrt(static_cast<double>(norm2(c[i]))));
  }
  EXPECT_LE(diff, 1e-6 * peak);

  const RelaxedStep step{2.0F, -1.0F, 0.8F, -0.6F, 0.8F};
  const StepSums sa = whole->relaxedStep(step, model, model);
  const StepSums sb = grownGpu->relaxedStep(step, model, model);
  const StepSums sc = grownCpu->relaxedStep(step, model, model);
  EXPECT_EQ(sa.fourierResidual, sb.fourierResidual);
  EXPECT_EQ(sa.overlapResidual, sb.overlapResidual);
  EXPECT_LE(std::fabs(sb.fourierResidual - sc.fourierResidual), 1e-4 * sc.fourierResidual);
}

}  // namespace
}  // namespace ptyx

int main(int argc, char** argv) {
  const ptyx::DeviceStatus status = ptyx::queryDevices();
  if (!status.usable) {
    std::cout << "SKIP: the cuda tests need a usable CUDA device: " << status.reason << "\n";
    return ptyx::kSkip;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
