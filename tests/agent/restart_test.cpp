// A killed agent loses no job: SIGKILL while a 2-rank job runs (held paused, so the timing is
// not a race), start a new agent on the same data directory; it still lists the job, controls
// it (resume), and records its end.
#include "AgentFixture.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

TEST(AgentRestart, AKilledAgentReattachesToItsRunningJob) {
  simulateScan();
  fs::remove_all("data");
  const int port = freePort();
  auto agent = std::make_unique<Agent>(absolute("data"), port);
  const std::string token = agent->addToken();
  agent->start();
  ASSERT_TRUE(agent->ready()) << agent->log();
  ASSERT_EQ(upload(port, token, "sim.cxi", "sim.cxi").status, 201);

  const Reply submitted = request(port, "POST", "/jobs", bearer(token),
                                  json({{"version", 1},
                                        {"name", "survivor"},
                                        {"scan", "sim.cxi"},
                                        {"ranks", 2},
                                        {"parameters", {{"iterations", 300}, {"threads", 1}}}})
                                      .dump());
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  const std::string job = "/jobs/" + std::to_string(submitted.js()["id"].get<long long>());
  ASSERT_TRUE(
      waitUntil([&] { return runState(port, token, job) == "running"; }, std::chrono::seconds(60)));
  ASSERT_EQ(request(port, "POST", job + "/control", bearer(token), R"({"command":"pause"})").status,
            202);
  ASSERT_TRUE(
      waitUntil([&] { return runState(port, token, job) == "paused"; }, std::chrono::seconds(30)));

  agent->kill(SIGKILL);
  EXPECT_EQ(request(port, "GET", "/health", bearer(token)).status, 0) << "the agent is gone";

  auto second = std::make_unique<Agent>(absolute("data"), port);
  second->start();
  ASSERT_TRUE(second->ready()) << second->log();
  const json listed = request(port, "GET", "/jobs", bearer(token)).js();
  ASSERT_EQ(listed["jobs"].size(), 1u) << listed.dump(2);
  EXPECT_EQ(listed["jobs"][0]["name"], "survivor");
  EXPECT_EQ(listed["jobs"][0]["state"], "running");

  ASSERT_EQ(
      request(port, "POST", job + "/control", bearer(token), R"({"command":"resume"})").status,
      202);
  const long long id = submitted.js()["id"].get<long long>();
  const json done =
      waitForState(port, token, id, {"finished", "failed"}, std::chrono::seconds(120));
  EXPECT_EQ(done.value("state", ""), "finished") << done.dump(2) << second->log();
  EXPECT_TRUE(done["exit_code"].is_null()) << "not our child any more: the code is unknown";
  EXPECT_EQ(done["status"].value("iteration", -1), 300);
  const Reply result = request(port, "GET", job + "/result", bearer(token));
  EXPECT_EQ(result.status, 200);
  EXPECT_GT(result.body.size(), 1000u);
}
