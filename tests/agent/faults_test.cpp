// Faults: an agent SIGKILLed while two jobs run loses neither (a restarted agent reports both
// finished, whether a job ended while no agent watched or after the restart); a job whose rank
// processes are killed is marked failed with the end of its log in the message.
#include "AgentFixture.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

class AgentFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    simulateScan();
    fs::remove_all("data");
    port_ = freePort();
    agent_ = std::make_unique<Agent>(absolute("data"), port_);
    token_ = agent_->addToken();
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
    ASSERT_EQ(upload(port_, token_, "sim.cxi", "sim.cxi").status, 201);
  }
  long long submit(int iterations, const std::string& name) {
    const Reply r = request(port_, "POST", "/jobs", bearer(token_),
                            json({{"version", 1},
                                  {"name", name},
                                  {"scan", "sim.cxi"},
                                  {"ranks", 2},
                                  {"parameters", {{"iterations", iterations}, {"threads", 1}}}})
                                .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.js().value("id", -1LL);
  }
  static std::string path(long long id) { return "/jobs/" + std::to_string(id); }
  int port_ = 0;
  std::unique_ptr<Agent> agent_;
  std::string token_;
};

TEST_F(AgentFaults, TwoJobsRunThroughAKilledAgent) {
  // One job is held paused, so it surely outlives the agent and is re-attached; the other runs
  // freely and may end while no agent watches (then the new agent settles it from its files).
  // The held job's length is set when it resumes (so no machine is fast enough to finish it
  // before the pause lands).
  const long long held = submit(1000000, "held");
  const long long free = submit(40, "free");
  for (long long id : {held, free}) {
    ASSERT_TRUE(waitUntil([&] { return runState(port_, token_, path(id)) == "running"; },
                          std::chrono::seconds(60)));
  }
  ASSERT_EQ(
      request(port_, "POST", path(held) + "/control", bearer(token_), R"({"command":"pause"})")
          .status,
      202);
  ASSERT_TRUE(waitUntil([&] { return runState(port_, token_, path(held)) == "paused"; },
                        std::chrono::seconds(30)));

  agent_->kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  agent_ = std::make_unique<Agent>(absolute("data"), port_);
  agent_->start();
  ASSERT_TRUE(agent_->ready()) << agent_->log();
  const json reattached = request(port_, "GET", path(held), bearer(token_)).js();
  EXPECT_EQ(reattached.value("state", ""), "running");
  const int length = reattached["status"].value("iteration", 0) + 20;
  ASSERT_EQ(request(port_, "POST", path(held) + "/control", bearer(token_),
                    json({{"command", "resume"}, {"set", {{"iterations", length}}}}).dump())
                .status,
            202);

  for (long long id : {held, free}) {
    const json done = waitForState(port_, token_, id, {"finished", "failed", "cancelled"},
                                   std::chrono::seconds(120));
    EXPECT_EQ(done.value("state", ""), "finished") << done.dump(2) << agent_->log();
    EXPECT_EQ(done["status"].value("iteration", -1), id == held ? length : 40);
    EXPECT_EQ(request(port_, "GET", path(id) + "/result", bearer(token_)).status, 200);
  }
  const json list = request(port_, "GET", "/jobs", bearer(token_)).js();
  EXPECT_EQ(list["jobs"].size(), 2u) << "none lost, none duplicated";
}

TEST_F(AgentFaults, AJobWhoseRanksAreKilledFailsWithItsLog) {
  const long long id = submit(1000000, "doomed");
  ASSERT_TRUE(waitUntil([&] { return runState(port_, token_, path(id)) == "running"; },
                        std::chrono::seconds(60)));
  // The ranks: processes running `ptyx recon` for this job (not mpirun itself).
  const std::string runDir = agent_->data() + "/jobs/" + std::to_string(id) + "/run";
  const std::string mpirunPid =
      request(port_, "GET", path(id), bearer(token_)).js().value("launcher_id", "");
  int killed = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string cmdline = slurp((e.path() / "cmdline").string());
    if (cmdline.find(runDir) == std::string::npos || e.path().filename() == mpirunPid) continue;
    if (cmdline.find("recon") == std::string::npos) continue;
    if (::kill(std::stoi(e.path().filename().string()), SIGKILL) == 0) ++killed;
  }
  ASSERT_EQ(killed, 2) << "two ranks";
  const json done = waitForState(port_, token_, id, {"finished", "failed", "cancelled"},
                                 std::chrono::seconds(60));
  EXPECT_EQ(done.value("state", ""), "failed") << done.dump(2);
  const std::string message = done.value("message", "");
  EXPECT_NE(message.find("end of the log"), std::string::npos) << message;
  const Reply log = request(port_, "GET", path(id) + "/log", bearer(token_));
  EXPECT_EQ(log.status, 200);
  // mpirun's report of the killed rank is in the log, and its end in the message.
  EXPECT_NE(log.body.find("signal 9"), std::string::npos) << log.body;
  EXPECT_NE(message.find("signal 9"), std::string::npos) << message;
}

}  // namespace
