// The CUDA backend against the CPU backend, operation by operation and over a full 20-iteration
// reconstruction. Needs a usable GPU: without one, main() prints why and returns 77 (CTest's
// SKIP_RETURN_CODE for this test), so the run shows "Skipped", never a pass.
//
// Tolerances (both backends single precision; they differ by FFT algorithm, FMA contraction and
// summation order only):
//   formExitWaves             max |diff| <= 1e-6 * max |psi|     (one complex product)
//   accumulateObject/Probe    max |diff| <= 1e-5 * max |sum|     (same order, FMA only)
//   relaxedStep, reflect      relative L2 of the waves <= 1e-4, step sums relative <= 1e-4
//   20 iterations of DM       relative L2 of the object <= 1e-3, Fourier error within 1 %
//   CUDA run twice            bit-identical object (order-fixed gathers and reductions)
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>
#include <vector>

#include "backend/Backend.hpp"
#include "backend/Devices.hpp"
#include "comm/Communicator.hpp"
#include "params/Parameters.hpp"
#include "recon/Layout.hpp"
#include "recon/Reconstructor.hpp"
#include "support/TinyScans.hpp"

namespace ptyx {
namespace {

constexpr int kSkip = 77;

double maxAbs(std::span<const cfloat> a) {
  double m = 0.0;
  for (const auto& v : a) m = std::max(m, std::sqrt(static_cast<double>(norm2(v))));
  return m;
}
double maxDiff(std::span<const cfloat> a, std::span<const cfloat> b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::sqrt(static_cast<double>(norm2(a[i] - b[i]))));
  return m;
}
double maxDiff(std::span<const float> a, std::span<const float> b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i] - b[i])));
  return m;
}
double relativeL2(std::span<const cfloat> a, std::span<const cfloat> ref) {
  double num = 0.0;
  double den = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += norm2(a[i] - ref[i]);
    den += norm2(ref[i]);
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}
double relative(double a, double ref) {
  return std::fabs(a - ref) / std::max(std::fabs(ref), 1e-30);
}

std::vector<cfloat> randomField(std::size_t n, unsigned seed, float mean) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.5F, 0.5F);
  std::vector<cfloat> v(n);
  for (auto& x : v) x = {mean + u(rng), u(rng)};
  return v;
}

class CudaVsCpu : public ::testing::Test {
 protected:
  void SetUp() override {
    scan_ = testing::smallScan(48, 32);
    layout_ = layoutFor(scan_);
    frames_.frameSize = scan_.frameSize();
    frames_.objectRows = layout_.rows;
    frames_.objectCols = layout_.cols;
    frames_.magnitudes = scan_.magnitudes.span();
    frames_.mask = scan_.mask.span();
    frames_.windows = layout_.windows;
    cpu_ = makeBackend("cpu", {2});
    gpu_ = makeBackend("cuda", {2});
    ASSERT_EQ(gpu_->name(), "cuda");
    cpu_->load(frames_);
    gpu_->load(frames_);
    object_ = randomField(layout_.rows * layout_.cols, 1, 1.0F);
    probe_ = randomField(scan_.frameSize() * scan_.frameSize(), 2, 0.5F);
    object2_ = randomField(object_.size(), 3, 1.0F);
    probe2_ = randomField(probe_.size(), 4, 0.5F);
    const ModelView model{object_, probe_};
    cpu_->formExitWaves(model);
    gpu_->formExitWaves(model);
  }
  [[nodiscard]] std::size_t waveCount() const { return cpu_->frameCount() * probe_.size(); }
  void expectSameWaves(double tolerance) {
    std::vector<cfloat> a(waveCount());
    std::vector<cfloat> b(waveCount());
    cpu_->readExitWaves(a);
    gpu_->readExitWaves(b);
    EXPECT_LE(relativeL2(b, a), tolerance);
  }
  void expectSameObjectSums(Waves waves) {
    std::vector<cfloat> na(object_.size()), nb(object_.size());
    std::vector<float> da(object_.size()), db(object_.size());
    cpu_->accumulateObject(waves, probe_, na, da);
    gpu_->accumulateObject(waves, probe_, nb, db);
    EXPECT_LE(maxDiff(na, nb), 1e-5 * maxAbs(na));
    EXPECT_LE(maxDiff(da, db), 1e-5 * static_cast<double>(*std::max_element(da.begin(), da.end())));
  }

  Scan scan_;
  ObjectLayout layout_;
  FrameSet frames_;
  std::unique_ptr<Backend> cpu_;
  std::unique_ptr<Backend> gpu_;
  std::vector<cfloat> object_, probe_, object2_, probe2_;
};

TEST_F(CudaVsCpu, FormExitWaves) {
  std::vector<cfloat> a(waveCount());
  std::vector<cfloat> b(waveCount());
  cpu_->readExitWaves(a);
  gpu_->readExitWaves(b);
  EXPECT_LE(maxDiff(a, b), 1e-6 * maxAbs(a));
  std::vector<cfloat> c(waveCount());
  gpu_->writeExitWaves(a);
  gpu_->readExitWaves(c);
  EXPECT_EQ(maxDiff(a, c), 0.0) << "write then read is a copy";
}

TEST_F(CudaVsCpu, AccumulateObjectAndProbe) {
  expectSameObjectSums(Waves::Exit);
  std::vector<cfloat> na(probe_.size(), cfloat{0.25F, 0.0F}),
      nb(probe_.size(), cfloat{0.25F, 0.0F});
  std::vector<float> da(probe_.size(), 1.0F), db(probe_.size(), 1.0F);  // sums add to what is given
  cpu_->accumulateProbe(Waves::Exit, object_, na, da);
  gpu_->accumulateProbe(Waves::Exit, object_, nb, db);
  EXPECT_LE(maxDiff(na, nb), 1e-5 * maxAbs(na));
  EXPECT_LE(maxDiff(da, db), 1e-5 * static_cast<double>(*std::max_element(da.begin(), da.end())));
}

// Each algorithm's coefficients (as Reconstructor.cpp's planFor with the presets).
struct Case {
  const char* name;
  RelaxedStep step;
  bool general;
};
const Case kCases[] = {
    {"DM", {2.0F, -1.0F, 1.0F, -1.0F, 1.0F}, false},
    {"RAAR", {2.0F, -1.0F, 0.75F, -0.5F, 0.75F}, false},
    {"HIO", {0.0F, 1.0F, 1.0F, 0.9F, -0.9F}, true},
    {"ER", {1.0F, 0.0F, 0.0F, 0.0F, 1.0F}, false},
};

TEST_F(CudaVsCpu, RelaxedStepForEachAlgorithm) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    SetUp();
    const ModelView model{object_, probe_};
    const ModelView update = c.general ? ModelView{object2_, probe2_} : model;
    const StepSums a = cpu_->relaxedStep(c.step, model, update);
    const StepSums b = gpu_->relaxedStep(c.step, model, update);
    EXPECT_LE(relative(b.fourierResidual, a.fourierResidual), 1e-4);
    EXPECT_LE(relative(b.magnitudeNorm, a.magnitudeNorm), 1e-4);
    EXPECT_LE(relative(b.overlapResidual, a.overlapResidual), 1e-4);
    EXPECT_LE(relative(b.exitWaveNorm, a.exitWaveNorm), 1e-4);
    expectSameWaves(1e-4);
  }
}

TEST_F(CudaVsCpu, ReflectModulus) {
  cpu_->reflectModulus(1.0F / 0.9F);
  gpu_->reflectModulus(1.0F / 0.9F);
  expectSameObjectSums(Waves::Auxiliary);  // the auxiliary waves are read through their sums
  EXPECT_GE(gpu_->residentBytes(), cpu_->frameCount() * probe_.size() * 8 * 2);
}

std::vector<cfloat> reconstruct(const Scan& scan, const std::string& backendName,
                                double& fourierError) {
  ReconParams p;
  applyPreset(p, Algorithm::DM);
  p.iterations = 20;
  p.probeUpdateStart = 5;
  p.threads = 2;
  SerialCommunicator comm;
  auto backend = makeBackend(backendName, {2});
  Reconstructor r(scan, p, *backend, comm);
  r.step(20);
  fourierError = r.history().back().fourierError;
  const auto o = r.object().span();
  return {o.begin(), o.end()};
}

TEST(CudaReconstruction, TwentyIterationsMatchTheCpu) {
  const Scan scan = testing::smallScan(64, 32);
  double errCpu = 0.0;
  double errGpu = 0.0;
  double errGpu2 = 0.0;
  const auto cpu = reconstruct(scan, "cpu", errCpu);
  const auto gpu = reconstruct(scan, "cuda", errGpu);
  const auto gpu2 = reconstruct(scan, "cuda", errGpu2);
  EXPECT_LE(relativeL2(gpu, cpu), 1e-3);
  EXPECT_LE(relative(errGpu, errCpu), 1e-2);
  EXPECT_EQ(maxDiff(gpu, gpu2), 0.0) << "CUDA runs are reproducible";
  EXPECT_EQ(errGpu, errGpu2);
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
