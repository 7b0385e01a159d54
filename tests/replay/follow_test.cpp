// Reconstruction while a scan arrives, as a commissioning user runs it: `ptyx stream-replay`
// plays a recorded scan at a fixed rate into a growing file while `ptyx recon --follow`
// reconstructs from it, both real processes. The follow run must start before the scan is
// complete, end up using every frame, and reach the quality of an offline reconstruction.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/Formats.hpp"
#include "support/RunPtyx.hpp"

namespace fs = std::filesystem;

namespace ptyx {
namespace {

using testing::ptyxBin;
using testing::slurp;

std::vector<nlohmann::json> jsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

int exitCodeIn(const std::string& path) {
  return std::atoi(slurp(path).c_str());
}

constexpr int kFrames = 128;
// Reconstruction settings shared by the follow run and the offline one.
const std::string kSettings = "--algorithm raar --iterations 150 --threads 2 --seed 3";

class Follow : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto o = testing::runPtyx("simulate --frames " + std::to_string(kFrames) +
                                    " --size 32 --photons 0 --seed 7 -o recorded.cxi");
    ASSERT_EQ(o.code, 0) << o.err;
  }
};

TEST_F(Follow, ReconstructsWhileFramesArriveAndMatchesTheOfflineResult) {
  // A previous run's file must not be mistaken for this acquisition.
  fs::remove("growing.cxi");
  fs::remove_all("followjob");
  const std::string bin = ptyxBin();
  // 50 frames/s: the scan takes about 2.6 s to arrive and the follower starts at about half of
  // it, leaving a second of margin on a busy machine. The follower is started first and waits
  // for the file, as it would for an acquisition about to begin.
  const std::string cmd =
      "(" + bin + " recon growing.cxi --follow " + kSettings +
      " --follow-timeout 60 --progress json --job-dir followjob -o followed.cxi"
      " >follow.jsonl 2>follow.err;"
      " echo $? >follow.rc) & sleep 0.2; " +
      bin +
      " stream-replay recorded.cxi --rate 50 -o growing.cxi 2>replay.err; echo $? >replay.rc; "
      "wait";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_EQ(exitCodeIn("replay.rc"), 0) << slurp("replay.err");
  ASSERT_EQ(exitCodeIn("follow.rc"), 0) << slurp("follow.err");

  const auto lines = jsonLines(slurp("follow.jsonl"));
  ASSERT_FALSE(lines.empty());
  const int firstFrames = lines.front().at("frames_received").get<int>();
  EXPECT_LT(firstFrames, kFrames) << "the reconstruction started only once the scan was complete";
  EXPECT_GE(firstFrames, 1);
  int previous = 0;
  for (const auto& line : lines) {
    const int frames = line.at("frames_received").get<int>();
    EXPECT_GE(frames, previous) << "frames_received went down";
    previous = frames;
  }
  EXPECT_EQ(lines.back().at("frames_received").get<int>(), kFrames);
  // --iterations counts the iterations on the complete scan: at least 150 after the last frame.
  int lastArrival = 0;
  for (const auto& line : lines) {
    if (line.at("frames_received").get<int>() < kFrames)
      lastArrival = line.at("iteration").get<int>();
  }
  EXPECT_GE(lines.back().at("iteration").get<int>(), lastArrival + 150);
  EXPECT_EQ(lines.back().at("iteration"), lines.back().at("iterations"));
  // The job directory's progress lines carry the count too.
  int jobLines = 0;
  for (const auto& line : jsonLines(slurp("followjob/progress.jsonl"))) {
    if (line.value("event", "") != "iteration") continue;
    ++jobLines;
    EXPECT_TRUE(line.contains("frames_received")) << line.dump();
  }
  EXPECT_EQ(jobLines, static_cast<int>(lines.size()));
  const std::string err = slurp("follow.err");
  EXPECT_NE(err.find("followed: 128 of 128 planned frames"), std::string::npos) << err;

  const auto offline =
      testing::runPtyx("recon recorded.cxi " + kSettings + " --progress json -o offline.cxi");
  ASSERT_EQ(offline.code, 0) << offline.err;
  const auto offlineLines = jsonLines(offline.out);
  ASSERT_FALSE(offlineLines.empty());
  const double offlineError = offlineLines.back().at("object_error").get<double>();
  const double followError = lines.back().at("object_error").get<double>();
  // The follow run ends with the same iterations on the full scan as the offline run, from a
  // warm start: it must be as good, within 20 % (or 0.01 absolute when both are tiny).
  EXPECT_LE(followError, std::max(1.2 * offlineError, offlineError + 0.01))
      << "followed " << followError << " vs offline " << offlineError;

  // The result is a complete reconstruction of the whole scan.
  EXPECT_TRUE(fs::exists("followed.cxi"));
  const Scan finished = readScan("growing.cxi");
  EXPECT_EQ(finished.frameCount(), static_cast<std::size_t>(kFrames));
}

TEST_F(Follow, AnOrdinaryScanIsRefusedNamingTheMissingStreamingGroup) {
  const auto o = testing::runPtyx("recon recorded.cxi --follow --follow-timeout 5 -o x.cxi");
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("/entry_1/ptyx_stream"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("without --follow"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists("x.cxi"));
}

TEST_F(Follow, GivesUpClearlyWhenNoScanArrives) {
  const auto o = testing::runPtyx("recon never.cxi --follow --follow-timeout 1 -o y.cxi");
  EXPECT_EQ(o.code, 1) << o.err;
  EXPECT_NE(o.err.find("gave up after 1 s waiting for the growing scan file"), std::string::npos)
      << o.err;
  EXPECT_FALSE(fs::exists("y.cxi"));
}

TEST_F(Follow, FollowOptionsNeedFollowAndCheckpointsAreRefused) {
  auto o = testing::runPtyx("recon recorded.cxi --min-frames 10 -o z.cxi");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--follow"), std::string::npos) << o.err;
  o = testing::runPtyx("recon recorded.cxi --follow --checkpoint ck.h5 -o z.cxi");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--checkpoint"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists("z.cxi"));
}

}  // namespace
}  // namespace ptyx
