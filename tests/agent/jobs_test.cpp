// A real agent runs a real 2-rank job end to end: upload, submit, poll, download; the result
// equals a direct `mpirun -np 2 ptyx recon` with the same parameters bit for bit (same rank
// count → same bits, docs/JOBS.md). Also cancel, control, and a job that fails.
#include "AgentFixture.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

class AgentJobs : public ::testing::Test {
 protected:
  void SetUp() override {
    simulateScan();
    fs::remove_all("data-" + name());
    agent_ = std::make_unique<Agent>(absolute("data-" + name()), freePort());
    token_ = agent_->addToken();
    ASSERT_EQ(token_.size(), 48u) << "ptyx_ + 43 characters of base64url";
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
    ASSERT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  }
  static std::string name() {
    return ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  int port() const { return agent_->port(); }
  long long submit(const json& spec) {
    const Reply r = request(port(), "POST", "/jobs", bearer(token_), spec.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.js().value("id", -1LL);
  }
  std::unique_ptr<Agent> agent_;
  std::string token_;
};

TEST_F(AgentJobs, TwoRankJobMatchesADirectRunBitForBit) {
  const Reply health = request(port(), "GET", "/health", bearer(token_));
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.js()["version"], PTYX_VERSION);

  const long long id =
      submit({{"version", 1},
              {"name", "e2e"},
              {"scan", "sim.cxi"},
              {"ranks", 2},
              {"launcher", "local"},
              {"parameters",
               {{"iterations", 10}, {"threads", 1}, {"algorithm", "raar"}, {"beta", 0.75}}}});
  const json done =
      waitForState(port(), token_, id, {"finished", "failed"}, std::chrono::seconds(120));
  ASSERT_EQ(done.value("state", ""), "finished") << done.dump(2);
  EXPECT_EQ(done["exit_code"], 0);
  EXPECT_EQ(done["progress"].value("event", ""), "state") << "the last progress line";
  EXPECT_EQ(done["status"].value("iteration", -1), 10);

  const Reply list = request(port(), "GET", "/jobs", bearer(token_));
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.js()["jobs"].size(), 1u);
  EXPECT_EQ(list.js()["jobs"][0]["name"], "e2e");

  const Reply result =
      request(port(), "GET", "/jobs/" + std::to_string(id) + "/result", bearer(token_));
  ASSERT_EQ(result.status, 200);
  {
    std::ofstream f("agent-result.cxi", std::ios::binary);
    f << result.body;
  }
  EXPECT_EQ(result.headers.at("x-ptyx-sha256"), fileSha256("agent-result.cxi"));

  // The agent sets Open MPI's root permission itself (this test's environment lacks it); the
  // direct run needs it set here.
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const Outcome direct =
      run(2, "recon sim.cxi --iterations=10 --threads=1 --algorithm=raar --beta=0.75 -o direct.cxi",
          "direct.log");
  ASSERT_EQ(direct.code, 0) << direct.log;
  EXPECT_TRUE(bitIdentical(readResult("agent-result.cxi"), readResult("direct.cxi")));
}

TEST_F(AgentJobs, ControlPausesAndCancelTerminatesTheProcessGroup) {
  const long long id = submit({{"version", 1},
                               {"scan", "sim.cxi"},
                               {"ranks", 2},
                               {"parameters", {{"iterations", 1000000}, {"threads", 1}}}});
  const std::string job = "/jobs/" + std::to_string(id);
  ASSERT_TRUE(waitUntil([&] { return runState(port(), token_, job) == "running"; },
                        std::chrono::seconds(60)));
  EXPECT_EQ(
      request(port(), "POST", job + "/control", bearer(token_), R"({"command":"bogus"})").status,
      400);
  EXPECT_EQ(
      request(port(), "POST", job + "/control", bearer(token_), R"({"set":{"beta":7}})").status,
      400);
  ASSERT_EQ(
      request(port(), "POST", job + "/control", bearer(token_), R"({"command":"pause"})").status,
      202);
  EXPECT_TRUE(waitUntil([&] { return runState(port(), token_, job) == "paused"; },
                        std::chrono::seconds(30)));

  const Reply cancel = request(port(), "DELETE", job, bearer(token_));
  ASSERT_EQ(cancel.status, 202) << cancel.body;
  const json done = waitForState(port(), token_, id, {"cancelled", "finished", "failed"},
                                 std::chrono::seconds(60));
  EXPECT_EQ(done.value("state", ""), "cancelled") << done.dump(2);
  // No process of the job is left (mpirun nor ranks: their command lines name the job dir).
  const std::string dir = agent_->data() + "/jobs/" + std::to_string(id) + "/run";
  int left = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    if (slurp((e.path() / "cmdline").string()).find(dir) != std::string::npos) ++left;
  }
  EXPECT_EQ(left, 0);
  EXPECT_EQ(request(port(), "POST", job + "/cancel", bearer(token_)).status, 409)
      << "already ended";
  // DELETE on an ended job removes it and its directory.
  const std::string jobDir = agent_->data() + "/jobs/" + std::to_string(id);
  ASSERT_TRUE(fs::exists(jobDir));
  EXPECT_EQ(request(port(), "DELETE", job, bearer(token_)).status, 204);
  EXPECT_FALSE(fs::exists(jobDir));
  EXPECT_EQ(request(port(), "GET", job, bearer(token_)).status, 404);
  EXPECT_EQ(request(port(), "DELETE", job, bearer(token_)).status, 404);
}

TEST_F(AgentJobs, PostCancelStopsARunningJob) {
  // POST /jobs/{id}/cancel is the explicit cancel (DELETE cancels too, but deletes an ended job).
  const json longRun = {{"version", 1},
                        {"scan", "sim.cxi"},
                        {"ranks", 1},
                        {"parameters", {{"iterations", 1000000}, {"threads", 1}}}};
  const long long first = submit(longRun);
  const std::string job = "/jobs/" + std::to_string(first);
  ASSERT_TRUE(waitUntil([&] { return runState(port(), token_, job) == "running"; },
                        std::chrono::seconds(60)));
  const Reply c = request(port(), "POST", job + "/cancel", bearer(token_));
  EXPECT_EQ(c.status, 202) << c.body;
  const json done = waitForState(port(), token_, first, {"cancelled", "finished", "failed"},
                                 std::chrono::seconds(60));
  EXPECT_EQ(done.value("state", ""), "cancelled") << done.dump(2);
  EXPECT_TRUE(fs::exists(agent_->data() + "/jobs/" + std::to_string(first) + "/cancel-requested"));
}

TEST_F(AgentJobs, AJobWhoseProcessFailsIsMarkedFailedWithItsLog) {
  // A probe file that is not a CXI result: ptyx refuses it, mpirun exits non-zero.
  std::ofstream("junk.bin") << "not hdf5";
  ASSERT_EQ(upload(port(), token_, "junk.bin", "junk.bin").status, 201);
  const long long id = submit(
      {{"version", 1},
       {"scan", "sim.cxi"},
       {"ranks", 2},
       {"parameters", {{"iterations", 5}, {"probe_init", "file"}, {"probe_file", "junk.bin"}}}});
  const json done =
      waitForState(port(), token_, id, {"finished", "failed"}, std::chrono::seconds(60));
  EXPECT_EQ(done.value("state", ""), "failed") << done.dump(2);
  EXPECT_NE(done["exit_code"], 0);
  EXPECT_NE(done.value("message", "").find("junk.bin"), std::string::npos) << done.dump(2);
  const Reply log = request(port(), "GET", "/jobs/" + std::to_string(id) + "/log", bearer(token_));
  EXPECT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("junk.bin"), std::string::npos) << log.body;
  EXPECT_EQ(
      request(port(), "GET", "/jobs/" + std::to_string(id) + "/result", bearer(token_)).status,
      404);
}

}  // namespace
