// Steering a running 2-rank job from outside through its job directory, as the agent and the
// GUI do: a parameter change reaches every rank and shows in the history; pause holds the run
// and resume continues it; stop saves a checkpoint and the result.
#include <nlohmann/json.hpp>

#include "MpiRuns.hpp"

namespace ptyx::mpitest {
namespace {

constexpr const char* kJob = "recon sim.cxi --threads 1 --progress none --iterations 1000000 ";

int lastIteration(const std::string& dir) {
  std::istringstream lines(slurp(dir + "/progress.jsonl"));
  std::string line;
  int last = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j["event"] == "iteration") last = j["iteration"].get<int>();
  }
  return last;
}

std::string state(const std::string& dir) {
  try {
    return nlohmann::json::parse(slurp(dir + "/status.json"))["state"].get<std::string>();
  } catch (const std::exception&) {
    return "";
  }
}

class JobControl : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { simulateScan(); }
};

TEST_F(JobControl, BetaChangedThroughTheControlFileTakesEffectOnAllRanks) {
  fs::remove_all("beta-job");
  const pid_t job =
      spawn(2, kJob + std::string("--algorithm raar --beta 0.9 --job-dir beta-job -o beta.cxi"),
            "beta.log");
  ASSERT_TRUE(waitUntil([] { return lastIteration("beta-job") >= 5; }, std::chrono::seconds(30)));
  control("beta-job", R"({"set": {"beta": 0.7}})");
  ASSERT_TRUE(waitUntil([] { return countEvents("beta-job", "\"parameters_changed\":true") > 0; },
                        std::chrono::seconds(30)));
  const int changedAt = lastIteration("beta-job");
  ASSERT_TRUE(waitUntil([&] { return lastIteration("beta-job") >= changedAt + 5; },
                        std::chrono::seconds(30)));
  control("beta-job", R"({"command": "stop"})");
  EXPECT_EQ(waitExit(job, std::chrono::seconds(30)), 0) << slurp("beta.log");

  const Reconstruction r = readResult("beta.cxi");
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.parametersJson)["beta"].get<double>(), 0.7);
  int changes = 0;
  for (const auto& m : r.history) changes += m.parametersChanged ? 1 : 0;
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(countEvents("beta-job", R"("status":"applied")"), 2);
  EXPECT_EQ(countEvents("beta-job", R"("event":"checkpoint")"), 1) << "stop saves a checkpoint";
  EXPECT_TRUE(fs::exists("beta-job/checkpoint.h5"));
  EXPECT_TRUE(fs::exists("beta-job/snapshot.cxi"));
  EXPECT_EQ(state("beta-job"), "stopped");

  // A bad command is refused with a reason and the run goes on.
  fs::remove_all("bad-job");
  const pid_t bad = spawn(2, kJob + std::string("--job-dir bad-job -o bad.cxi"), "bad.log");
  ASSERT_TRUE(waitUntil([] { return lastIteration("bad-job") >= 2; }, std::chrono::seconds(30)));
  control("bad-job", R"({"set": {"beta": 7}})");
  ASSERT_TRUE(waitUntil([] { return countEvents("bad-job", R"("status":"rejected")") > 0; },
                        std::chrono::seconds(30)));
  control("bad-job", R"({"set": {"threads": 2}})");
  ASSERT_TRUE(waitUntil([] { return countEvents("bad-job", R"("status":"rejected")") > 1; },
                        std::chrono::seconds(30)));
  control("bad-job", R"({"command": "stop"})");
  EXPECT_EQ(waitExit(bad, std::chrono::seconds(30)), 0) << slurp("bad.log");
  const std::string progress = slurp("bad-job/progress.jsonl");
  EXPECT_NE(progress.find("beta"), std::string::npos);
  EXPECT_NE(progress.find("cannot change while the run is going"), std::string::npos) << progress;
}

TEST_F(JobControl, PauseHoldsEveryRankAndResumeContinues) {
  fs::remove_all("pause-job");
  const pid_t job = spawn(2, kJob + std::string("--job-dir pause-job -o pause.cxi"), "pause.log");
  ASSERT_TRUE(waitUntil([] { return lastIteration("pause-job") >= 3; }, std::chrono::seconds(30)));
  control("pause-job", R"({"command": "pause"})");
  ASSERT_TRUE(waitUntil([] { return state("pause-job") == "paused"; }, std::chrono::seconds(30)));
  const int held = lastIteration("pause-job");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(lastIteration("pause-job"), held) << "iterations ran while paused";
  control("pause-job", R"({"command": "resume"})");
  ASSERT_TRUE(
      waitUntil([&] { return lastIteration("pause-job") >= held + 5; }, std::chrono::seconds(30)));
  EXPECT_EQ(state("pause-job"), "running");
  kill(job, SIGTERM);  // a signal also stops and saves
  EXPECT_NE(waitExit(job, std::chrono::seconds(30)), -1);
  const Reconstruction r = readResult("pause.cxi");
  EXPECT_GE(r.history.size(), static_cast<std::size_t>(held + 5));
  EXPECT_TRUE(fs::exists("pause-job/checkpoint.h5"));
}

}  // namespace
}  // namespace ptyx::mpitest
