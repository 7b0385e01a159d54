// The local launcher's GPU pool, with fake device ids (no GPU here: the jobs name the cpu
// backend and run anyway). What each job saw is read from its processes' environment
// (/proc/PID/environ of mpirun and of every rank): two jobs hold the two devices, a third waits
// queued and gets the device the first frees; a restarted agent rebuilds the pool from the jobs
// still running.
#include "AgentFixture.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

/// CUDA_VISIBLE_DEVICES of every process whose command line names `runDir` ("<unset>" when a
/// process has none).
std::vector<std::string> devicesSeen(const std::string& runDir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    if (slurp((e.path() / "cmdline").string()).find(runDir) == std::string::npos) continue;
    const std::string environ = slurp((e.path() / "environ").string());
    std::string value = "<unset>";
    std::size_t at = 0;
    while (at < environ.size()) {
      const std::size_t end = environ.find('\0', at);
      const std::string entry =
          environ.substr(at, end == std::string::npos ? std::string::npos : end - at);
      if (entry.rfind("CUDA_VISIBLE_DEVICES=", 0) == 0) value = entry.substr(21);
      if (end == std::string::npos) break;
      at = end + 1;
    }
    out.push_back(value);
  }
  return out;
}

class AgentGpus : public ::testing::Test {
 protected:
  void SetUp() override {
    simulateScan();
    fs::remove_all("data");
    port_ = freePort();
    agent_ =
        std::make_unique<Agent>(absolute("data"), port_, std::vector<std::string>{"--gpus", "7,9"});
    token_ = agent_->addToken();
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
    ASSERT_EQ(upload(port_, token_, "sim.cxi", "sim.cxi").status, 201);
  }
  void TearDown() override {
    for (long long id : ids_)
      request(port_, "POST", "/jobs/" + std::to_string(id) + "/cancel", bearer(token_));
    for (long long id : ids_)
      waitForState(port_, token_, id, {"cancelled", "finished", "failed"},
                   std::chrono::seconds(60));
  }
  long long submitGpuJob() {
    const Reply r = request(port_, "POST", "/jobs", bearer(token_),
                            json({{"version", 1},
                                  {"scan", "sim.cxi"},
                                  {"ranks", 2},
                                  {"gpus", 1},
                                  {"backend", "cpu"},
                                  {"parameters", {{"iterations", 1000000}, {"threads", 1}}}})
                                .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    ids_.push_back(r.js().value("id", -1LL));
    return ids_.back();
  }
  json job(long long id) {
    return request(port_, "GET", "/jobs/" + std::to_string(id), bearer(token_)).js();
  }
  std::string runDir(long long id) {
    return agent_->data() + "/jobs/" + std::to_string(id) + "/run";
  }
  /// Waits until the job's run reports "running"; then the devices its processes saw, all equal.
  std::string devicesOf(long long id) {
    const std::string path = "/jobs/" + std::to_string(id);
    EXPECT_TRUE(waitUntil([&] { return runState(port_, token_, path) == "running"; },
                          std::chrono::seconds(60)))
        << job(id).dump(2);
    const auto seen = devicesSeen(runDir(id));
    EXPECT_GE(seen.size(), 3u) << "mpirun and two ranks";
    for (const auto& s : seen)
      EXPECT_EQ(s, seen.front()) << "every process of the job sees the same devices";
    return seen.empty() ? "" : seen.front();
  }

  int port_ = 0;
  std::unique_ptr<Agent> agent_;
  std::string token_;
  std::vector<long long> ids_;
};

TEST_F(AgentGpus, JobsArePinnedToFreeDevicesAndQueueWhenNoneIsFree) {
  const Reply health = request(port_, "GET", "/health", bearer(token_));
  EXPECT_EQ(health.js()["gpus"], json({7, 9}));
  const Reply tooMany = request(port_, "POST", "/jobs", bearer(token_),
                                json({{"version", 1}, {"scan", "sim.cxi"}, {"gpus", 3}}).dump());
  EXPECT_EQ(tooMany.status, 400) << "the pool has two devices: " << tooMany.body;

  const long long a = submitGpuJob();
  const long long b = submitGpuJob();
  const long long c = submitGpuJob();
  const std::string da = devicesOf(a);
  const std::string db = devicesOf(b);
  EXPECT_EQ(std::set<std::string>({da, db}), std::set<std::string>({"7", "9"}));
  EXPECT_EQ(job(a)["devices"], json({std::stoi(da)})) << "the agent records the assignment";
  EXPECT_NE(slurp("/proc/" + job(a).value("launcher_id", "0") + "/cmdline")
                .find(std::string("--backend=cpu")),
            std::string::npos);
  // Both devices taken: the third job waits, though --max-running (4) would let it start.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(job(c).value("state", ""), "queued");
  EXPECT_TRUE(devicesSeen(runDir(c)).empty());

  ASSERT_EQ(request(port_, "POST", "/jobs/" + std::to_string(a) + "/cancel", bearer(token_)).status,
            202);
  EXPECT_EQ(
      waitForState(port_, token_, a, {"cancelled"}, std::chrono::seconds(60)).value("state", ""),
      "cancelled");
  EXPECT_EQ(devicesOf(c), da) << "the third job gets the device the first gave back";
  EXPECT_EQ(job(c)["devices"], json({std::stoi(da)}));

  // A restarted agent takes the devices of the jobs still running: a fourth job waits.
  agent_->kill(SIGKILL);
  agent_ =
      std::make_unique<Agent>(absolute("data"), port_, std::vector<std::string>{"--gpus", "7,9"});
  agent_->start();
  ASSERT_TRUE(agent_->ready()) << agent_->log();
  const long long d = submitGpuJob();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(job(d).value("state", ""), "queued") << job(d).dump(2);
  ASSERT_EQ(request(port_, "POST", "/jobs/" + std::to_string(b) + "/cancel", bearer(token_)).status,
            202);
  EXPECT_EQ(devicesOf(d), db) << "b's device went back to the rebuilt pool";
}

}  // namespace
