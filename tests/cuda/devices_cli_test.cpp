// `ptyx devices` and `--backend` as a user meets them on a machine with or without a GPU:
// without one, devices says why and exits 0, cuda is refused with the reason (exit 2), auto
// falls back to cpu and says so once. With a usable GPU the same commands must succeed on it.
#include <gtest/gtest.h>

#include <string>

#include "backend/Devices.hpp"
#include "support/RunPtyx.hpp"

namespace {

using ptyx::testing::Outcome;

Outcome ptyx(const std::string& args) {
  return ptyx::testing::runPtyx(args);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

class DevicesCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Outcome o = ptyx("simulate --frames 16 --size 32 --photons 0 --seed 3 -o sim.cxi");
    ASSERT_EQ(o.code, 0) << o.err;
  }
  const ptyx::DeviceStatus status_ = ptyx::queryDevices();
};

TEST_F(DevicesCli, DevicesListsOrSaysWhyNotAndExitsZero) {
  const Outcome o = ptyx("devices");
  EXPECT_EQ(o.code, 0) << o.err;
  if (!status_.compiled) {
    EXPECT_NE(o.out.find("compiled without CUDA"), std::string::npos) << o.out;
  } else if (!status_.usable) {
    EXPECT_NE(o.out.find("no CUDA device: "), std::string::npos) << o.out;
  } else {
    EXPECT_NE(o.out.find("device 0: "), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("MiB free"), std::string::npos) << o.out;
  }
}

TEST_F(DevicesCli, BackendCudaWithoutADeviceIsAClearError) {
  const Outcome o = ptyx("recon sim.cxi --backend cuda --iterations 1 --progress none -o cuda.cxi");
  if (status_.usable) {
    EXPECT_EQ(o.code, 0) << o.err;
    return;
  }
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("backend: cuda: not available: "), std::string::npos) << o.err;
  EXPECT_NE(o.err.find(status_.compiled ? "CUDA" : "compiled without CUDA"), std::string::npos)
      << o.err;
}

TEST_F(DevicesCli, BackendAutoFallsBackToCpuAndSaysSoOnce) {
  const Outcome o = ptyx("recon sim.cxi --backend auto --iterations 2 --progress none -o auto.cxi");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(occurrences(o.err, "using cpu"), status_.usable ? 0U : 1U) << o.err;
}

TEST_F(DevicesCli, BenchOnTheGpuRunsOrSaysWhyNot) {
  const Outcome o = ptyx("bench --backend cuda --frames 64 --size 32 --threads 1 --iterations 2");
  if (status_.usable) {
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_NE(o.out.find("cuFFT batch s"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("GPU MiB"), std::string::npos) << o.out;
    return;
  }
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("backend: cuda: not available: "), std::string::npos) << o.err;
  EXPECT_EQ(o.out.find("simulating"), std::string::npos) << "refused before any work: " << o.out;
}

TEST_F(DevicesCli, UnknownBackendIsAUsageError) {
  const Outcome o = ptyx("recon sim.cxi --backend opencl --iterations 1 -o x.cxi");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--backend"), std::string::npos) << o.err;
}

}  // namespace
