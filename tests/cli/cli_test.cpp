// The `ptyx` command as a user runs it: the spellings the issue names, the files it writes, and
// bad input giving one clear message, exit code 2 and no output file.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include <hdf5.h>
#include <nlohmann/json.hpp>

#include "io/Formats.hpp"
#include "support/RunPtyx.hpp"
#include "support/TinyScans.hpp"

namespace fs = std::filesystem;

namespace ptyx {
namespace {

using testing::Outcome;
using testing::ptyxBin;
using testing::slurp;

Outcome ptyx(const std::string& args) {
  return testing::runPtyx(args);
}

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Outcome o = ptyx("simulate --frames 64 --size 32 --photons 0 --seed 7 -o sim.cxi");
    ASSERT_EQ(o.code, 0) << o.err;
  }
  // The bad file is given; the output must not appear.
  static void expectRejected(const std::string& args, const std::vector<std::string>& mentions) {
    fs::remove("out.cxi");
    const Outcome o = ptyx(args + " -o out.cxi --iterations 2");
    EXPECT_EQ(o.code, 2) << args << "\n" << o.err;
    for (const auto& m : mentions)
      EXPECT_NE(o.err.find(m), std::string::npos) << "missing '" << m << "' in: " << o.err;
    EXPECT_FALSE(fs::exists("out.cxi")) << args;
    for (const auto& entry : fs::directory_iterator(".")) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos)
          << "temporary file left behind: " << entry.path();
    }
  }
};

TEST_F(Cli, VersionAndHelpListTheSubcommandsAndSchemaFlags) {
  const Outcome v = ptyx("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("ptyx 0."), std::string::npos) << v.out;
  const Outcome h = ptyx("recon --help");
  EXPECT_EQ(h.code, 0);
  for (const char* flag : {"--algorithm", "--beta", "--gamma-a", "--iterations", "--threads",
                           "--probe-init", "--png", "--progress", "--probe-update-start"}) {
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(h.out.find("dm"), std::string::npos);
  EXPECT_EQ(ptyx("").code, 2) << "a subcommand is required";
}

TEST_F(Cli, InfoSummarisesTheScan) {
  const Outcome o = ptyx("info sim.cxi");
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("64 of 32 x 32"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("ground truth:      yes"), std::string::npos) << o.out;
}

TEST_F(Cli, ReconWritesTheResultAndPictures) {
  fs::remove_all("pictures");
  const Outcome o = ptyx(
      "recon sim.cxi --algorithm raar --beta 0.8 --iterations 20 --threads 2 "
      "-o result.cxi --png pictures");
  ASSERT_EQ(o.code, 0) << o.err;
  const Reconstruction r = readResult("result.cxi");
  EXPECT_EQ(r.history.size(), 20U);
  for (const auto& m : r.history)
    EXPECT_TRUE(std::isfinite(m.fourierError) && std::isfinite(m.objectError));
  const auto params = nlohmann::json::parse(r.parametersJson);
  EXPECT_EQ(params["algorithm"], "raar");
  EXPECT_DOUBLE_EQ(params["beta"].get<double>(), 0.8);
  EXPECT_NE(r.provenance.commandLine.find("--beta 0.8"), std::string::npos);
  EXPECT_EQ(r.provenance.inputHash.size(), 64U);
  for (const char* png : {"object_amplitude.png", "object_phase.png", "probe_amplitude.png",
                          "probe_phase.png", "errors.png"}) {
    EXPECT_TRUE(fs::exists(fs::path("pictures") / png)) << png;
  }
}

TEST_F(Cli, JsonProgressGivesOneParsableLinePerIteration) {
  const Outcome o = ptyx("recon sim.cxi --iterations 5 --progress json -o json-result.cxi");
  ASSERT_EQ(o.code, 0) << o.err;
  std::istringstream lines(o.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["iteration"].get<int>(), ++n);
    EXPECT_TRUE(j.contains("fourier_error"));
    EXPECT_TRUE(j.contains("rate"));
    EXPECT_TRUE(j.contains("eta_s"));
  }
  EXPECT_EQ(n, 5);
}

TEST_F(Cli, InterruptStopsAndStillSavesTheResult) {
  fs::remove("interrupted.cxi");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen("interrupt.log", "w", stderr);
    execl(ptyxBin().c_str(), "ptyx", "recon", "sim.cxi", "--iterations", "1000000", "--progress",
          "none", "-o", "interrupted.cxi", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp("interrupt.log");
  const Reconstruction r = readResult("interrupted.cxi");
  EXPECT_GT(r.history.size(), 0U);
  EXPECT_LT(r.history.size(), 1000000U);
}

TEST_F(Cli, MissingFileIsNamed) {
  expectRejected("recon no-such-scan.cxi", {"no-such-scan.cxi"});
}

TEST_F(Cli, TruncatedFileIsNamed) {
  fs::copy_file("sim.cxi", "truncated.cxi", fs::copy_options::overwrite_existing);
  fs::resize_file("truncated.cxi", fs::file_size("truncated.cxi") / 2);
  expectRejected("recon truncated.cxi", {"truncated.cxi"});
}

TEST_F(Cli, NonFiniteIntensitiesAreNamed) {
  Scan scan = readScan("sim.cxi");
  scan.magnitudes.frame(3)[10] = std::numeric_limits<float>::quiet_NaN();
  writeScan(scan, "nan.cxi");
  expectRejected("recon nan.cxi", {"nan.cxi", "data"});
}

TEST_F(Cli, FrameAndPositionCountsMustAgree) {
  // A file with one translation fewer than frames, made with the HDF5 C API as another tool would.
  fs::copy_file("sim.cxi", "mismatch.cxi", fs::copy_options::overwrite_existing);
  const hid_t file = H5Fopen("mismatch.cxi", H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const char* path = "/entry_1/sample_1/geometry_1/translation";
  ASSERT_GE(H5Ldelete(file, path, H5P_DEFAULT), 0);
  const hsize_t dims[2] = {63, 3};
  std::vector<double> zeros(63 * 3, 0.0);
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t set =
      H5Dcreate2(file, path, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(set, 0);
  H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
  H5Dclose(set);
  H5Sclose(space);
  H5Fclose(file);
  expectRejected("recon mismatch.cxi", {"mismatch.cxi", "translation"});
}

TEST_F(Cli, PositionsInWrongUnitsAreRejected) {
  Scan scan = readScan("sim.cxi");
  for (auto& p : scan.positions) p = {p.row * 1e6, p.col * 1e6};
  writeScan(scan, "microns.cxi");
  expectRejected("recon microns.cxi", {"microns.cxi", "translation"});
}

TEST_F(Cli, BadParametersAreNamed) {
  expectRejected("recon sim.cxi --beta 7", {"beta"});
  expectRejected("recon sim.cxi --algorithm magic", {"algorithm"});
  expectRejected("recon sim.cxi --probe-init file", {"probe_file"});
  expectRejected("recon sim.cxi --probe-init file --probe-file nowhere.cxi", {"nowhere.cxi"});
}

TEST_F(Cli, APlanThatCannotFitIsRefusedWithTheRanksItNeeds) {
  fs::remove("out.cxi");
  const Outcome o = ptyx("recon sim.cxi --iterations 2 -o out.cxi");
  ASSERT_EQ(o.code, 0) << o.err;
  fs::remove("out.cxi");
  // The same run under a 0.1 MiB cap per rank (PTYX_MEMORY_LIMIT_MIB, as a site would set it).
  const Outcome refused =
      testing::runPtyx("recon sim.cxi --iterations 2 -o out.cxi", "PTYX_MEMORY_LIMIT_MIB=0.1");
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_NE(refused.err.find("memory plan"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("rank"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists("out.cxi"));
}

TEST_F(Cli, SimulateRejectsBadOptionsWithoutWriting) {
  fs::remove("bad-sim.cxi");
  const Outcome o = ptyx("simulate --frames 0 -o bad-sim.cxi");
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("frames"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists("bad-sim.cxi"));
  // A scan larger than the machine: refused up front, not killed half-way.
  const Outcome huge = ptyx("simulate --frames 100000000 --size 1024 -o bad-sim.cxi");
  EXPECT_EQ(huge.code, 2) << huge.err;
  EXPECT_NE(huge.err.find("available"), std::string::npos) << huge.err;
  EXPECT_FALSE(fs::exists("bad-sim.cxi"));
}

}  // namespace
}  // namespace ptyx
