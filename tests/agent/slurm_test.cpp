// The slurm launcher against real Slurm daemons on this machine: tests/agent/slurm/slurm-up.sh
// starts a private one-node cluster (munged, slurmctld, slurmd) in a scratch directory with its
// own ports and munge socket, SLURM_CONF points the agent's sbatch/squeue/sacct/scancel at it,
// and slurm-down.sh stops exactly those daemons. A 2-rank job runs end to end and matches a
// direct `ptyx recon` bit for bit; a running job is cancelled through scancel.
#include "AgentFixture.hpp"

#include <cstdlib>

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

std::string scripts() {
  return env("PTYX_SLURM_SCRIPTS", ".");
}

class AgentSlurm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skip_ =
          "the Slurm daemons of this test run as root (slurmd starts jobs as their user); not root";
      return;
    }
    char dir[] = "/tmp/ptyx-slurm-XXXXXX";
    if (mkdtemp(dir) == nullptr) {
      skip_ = "cannot make a scratch directory";
      return;
    }
    scratch_ = dir;
    const std::string up = scripts() + "/slurm-up.sh " + scratch_ + " " +
                           std::to_string(freePort()) + " " + std::to_string(freePort()) + " >" +
                           scratch_ + "/up.log 2>&1";
    const int status = std::system(up.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 77) {
      skip_ = "Slurm cannot run here: " + slurp(scratch_ + "/up.log");
      return;
    }
    if (code != 0) {
      failed_ = "slurm-up.sh failed (" + std::to_string(code) + "): " + slurp(scratch_ + "/up.log");
      return;
    }
    // The agent (and so sbatch, squeue, sacct, scancel) and this test's own Slurm calls use it.
    setenv("SLURM_CONF", (scratch_ + "/slurm.conf").c_str(), 1);
  }
  static void TearDownTestSuite() {
    if (!scratch_.empty()) {
      std::system((scripts() + "/slurm-down.sh " + scratch_ + " >/dev/null 2>&1").c_str());
      if (failed_.empty() && !::testing::Test::HasFailure()) fs::remove_all(scratch_);
    }
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(failed_.empty()) << failed_;
    simulateScan();
    // Spaces, quotes and a command substitution in the data directory's path: they reach the
    // batch script (job_dir, log, command) and must stay inert there.
    // The marker's path comes from the environment (which the job inherits through sbatch), so
    // the directory's name holds no '/'.
    marker_ = absolute("pwned-slurm");
    fs::remove(marker_);
    setenv("PTYX_TEST_MARKER", marker_.c_str(), 1);
    data_ = absolute("data-" +
                     std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                     " $(touch $PTYX_TEST_MARKER) `touch $PTYX_TEST_MARKER` 'q\"");
    fs::remove_all(data_);
    agent_ = std::make_unique<Agent>(data_, freePort());
    token_ = agent_->addToken();
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
    ASSERT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  }
  int port() const { return agent_->port(); }
  long long submit(const json& spec) {
    const Reply r = request(port(), "POST", "/jobs", bearer(token_), spec.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.js().value("id", -1LL);
  }
  /// Output of a Slurm client command (sacct, squeue) run here.
  static std::string slurm(const std::string& args) {
    FILE* p = popen((args + " 2>&1").c_str(), "r");
    std::string out;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, p) != nullptr) out += buffer;
    pclose(p);
    return out;
  }

  static inline std::string skip_;
  static inline std::string failed_;
  static inline std::string scratch_;
  void TearDown() override {
    if (!marker_.empty()) {
      EXPECT_FALSE(fs::exists(marker_)) << "a command in the data directory's name ran";
    }
  }

  std::string marker_;
  std::string data_;
  std::unique_ptr<Agent> agent_;
  std::string token_;
};

TEST_F(AgentSlurm, TwoRankJobThroughSbatchMatchesADirectRun) {
  const long long id =
      submit({{"version", 1},
              {"name", "slurm-e2e"},
              {"scan", "sim.cxi"},
              {"ranks", 2},
              {"launcher", "slurm"},
              {"launcher_options", {{"partition", "debug"}, {"wall_time", 10}}},
              {"parameters",
               {{"iterations", 10}, {"threads", 1}, {"algorithm", "raar"}, {"beta", 0.75}}}});
  const json done = waitForState(port(), token_, id, {"finished", "failed", "cancelled"},
                                 std::chrono::seconds(180));
  ASSERT_EQ(done.value("state", ""), "finished") << done.dump(2) << agent_->log();
  EXPECT_EQ(done["exit_code"], 0);
  EXPECT_EQ(done["launcher"], "slurm");
  EXPECT_EQ(done["status"].value("iteration", -1), 10);
  const std::string slurmId = done.value("launcher_id", "");
  ASSERT_FALSE(slurmId.empty()) << done.dump(2);
  EXPECT_NE(done.value("message", "").find("Slurm job " + slurmId + " ended COMPLETED"),
            std::string::npos)
      << done.dump(2);
  // Slurm itself ran it: its accounting (the completion log) has the job, completed.
  const std::string sacct = slurm("sacct -c -n -P -j " + slurmId + " -o JobID,State");
  EXPECT_NE(sacct.find(slurmId + "|COMPLETED"), std::string::npos) << sacct;

  // The script the template made: given options as directives, absent ones left out.
  const std::string script = slurp(data_ + "/jobs/" + std::to_string(id) + "/job.sbatch");
  EXPECT_NE(script.find("#SBATCH --partition=debug\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --time=00:10:00\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --ntasks=2\n"), std::string::npos) << script;
  EXPECT_EQ(script.find("--account"), std::string::npos) << script;
  EXPECT_EQ(script.find("XXX"), std::string::npos) << script;

  const Reply result =
      request(port(), "GET", "/jobs/" + std::to_string(id) + "/result", bearer(token_));
  ASSERT_EQ(result.status, 200);
  {
    std::ofstream f("slurm-result.cxi", std::ios::binary);
    f << result.body;
  }
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const Outcome direct = run(
      2,
      "recon sim.cxi --iterations=10 --threads=1 --algorithm=raar --beta=0.75 -o slurm-direct.cxi",
      "slurm-direct.log");
  ASSERT_EQ(direct.code, 0) << direct.log;
  EXPECT_TRUE(bitIdentical(readResult("slurm-result.cxi"), readResult("slurm-direct.cxi")));
}

TEST_F(AgentSlurm, CancelRunsScancelAndNoProcessIsLeft) {
  const long long id = submit({{"version", 1},
                               {"scan", "sim.cxi"},
                               {"ranks", 2},
                               {"launcher", "slurm"},
                               {"parameters", {{"iterations", 1000000}, {"threads", 1}}}});
  const std::string job = "/jobs/" + std::to_string(id);
  ASSERT_TRUE(waitUntil([&] { return runState(port(), token_, job) == "running"; },
                        std::chrono::seconds(120)))
      << request(port(), "GET", job, bearer(token_)).body
      << slurp(data_ + "/jobs/" + std::to_string(id) + "/output.log");
  json before;
  EXPECT_TRUE(waitUntil(
      [&] {  // the agent asks squeue once a second
        before = request(port(), "GET", job, bearer(token_)).js();
        return before.value("launcher_state", "") == "RUNNING";
      },
      std::chrono::seconds(30)))
      << before.dump(2);
  const std::string slurmId = before.value("launcher_id", "");

  const Reply cancel = request(port(), "POST", job + "/cancel", bearer(token_));
  ASSERT_EQ(cancel.status, 202) << cancel.body;
  const json done = waitForState(port(), token_, id, {"cancelled", "finished", "failed"},
                                 std::chrono::seconds(120));
  EXPECT_EQ(done.value("state", ""), "cancelled") << done.dump(2);
  // scancel ran: Slurm records the job as cancelled.
  const std::string sacct = slurm("sacct -c -n -P -j " + slurmId + " -o JobID,State");
  EXPECT_NE(sacct.find(slurmId + "|CANCELLED"), std::string::npos) << sacct;
  // No process of the job is left (batch script, mpirun, ranks: their command lines name the job
  // dir).
  const std::string dir = data_ + "/jobs/" + std::to_string(id);
  int left = 0;
  EXPECT_TRUE(waitUntil(
      [&] {
        left = 0;
        for (const auto& e : fs::directory_iterator("/proc")) {
          if (slurp((e.path() / "cmdline").string()).find(dir) != std::string::npos) ++left;
        }
        return left == 0;
      },
      std::chrono::seconds(30)))
      << left << " processes left";
}

TEST_F(AgentSlurm, AFailingSlurmJobIsFailedWithExitCodeAndLog) {
  // A probe file that is not a CXI result: ptyx refuses it, mpirun and the batch script exit 1.
  std::ofstream("junk.bin") << "not hdf5";
  ASSERT_EQ(upload(port(), token_, "junk.bin", "junk.bin").status, 201);
  const long long id = submit(
      {{"version", 1},
       {"scan", "sim.cxi"},
       {"ranks", 2},
       {"launcher", "slurm"},
       {"parameters", {{"iterations", 5}, {"probe_init", "file"}, {"probe_file", "junk.bin"}}}});
  const json done = waitForState(port(), token_, id, {"finished", "failed", "cancelled"},
                                 std::chrono::seconds(120));
  EXPECT_EQ(done.value("state", ""), "failed") << done.dump(2);
  EXPECT_TRUE(done["exit_code"].is_number_integer() && done["exit_code"] != 0) << done.dump(2);
  const std::string message = done.value("message", "");
  EXPECT_NE(message.find("ended FAILED"), std::string::npos) << message;
  EXPECT_NE(message.find("junk.bin"), std::string::npos) << "the end of the log: " << message;
  const Reply log = request(port(), "GET", "/jobs/" + std::to_string(id) + "/log", bearer(token_));
  EXPECT_NE(log.body.find("junk.bin"), std::string::npos) << log.body;
}

TEST_F(AgentSlurm, ARestartedAgentFollowsItsSlurmJobByItsId) {
  const long long id = submit({{"version", 1},
                               {"scan", "sim.cxi"},
                               {"ranks", 2},
                               {"launcher", "slurm"},
                               {"parameters", {{"iterations", 1000000}, {"threads", 1}}}});
  const std::string job = "/jobs/" + std::to_string(id);
  ASSERT_TRUE(waitUntil([&] { return runState(port(), token_, job) == "running"; },
                        std::chrono::seconds(120)));
  ASSERT_EQ(
      request(port(), "POST", job + "/control", bearer(token_), R"({"command":"pause"})").status,
      202);
  ASSERT_TRUE(waitUntil([&] { return runState(port(), token_, job) == "paused"; },
                        std::chrono::seconds(30)));
  const std::string slurmId =
      request(port(), "GET", job, bearer(token_)).js().value("launcher_id", "");

  agent_->kill(SIGKILL);
  agent_ = std::make_unique<Agent>(data_, port());
  agent_->start();
  ASSERT_TRUE(agent_->ready()) << agent_->log();
  json again;
  EXPECT_TRUE(waitUntil(
      [&] {
        again = request(port(), "GET", job, bearer(token_)).js();
        return again.value("launcher_state", "") == "RUNNING";
      },
      std::chrono::seconds(30)))
      << again.dump(2);
  EXPECT_EQ(again.value("state", ""), "running");
  EXPECT_EQ(again.value("launcher_id", ""), slurmId);
  // Resumed with a length of 20 more iterations (long enough that the pause surely landed).
  const int length = again["status"].value("iteration", 0) + 20;
  ASSERT_EQ(request(port(), "POST", job + "/control", bearer(token_),
                    json({{"command", "resume"}, {"set", {{"iterations", length}}}}).dump())
                .status,
            202);
  const json done = waitForState(port(), token_, id, {"finished", "failed", "cancelled"},
                                 std::chrono::seconds(120));
  EXPECT_EQ(done.value("state", ""), "finished") << done.dump(2);
  EXPECT_EQ(done["exit_code"], 0) << "from sacct, though the job is no child of this agent";
  EXPECT_EQ(done["status"].value("iteration", -1), length);
}

// Needs no Slurm daemons (and no root): the template is checked when the agent starts.
TEST(AgentSlurmTemplate, AnUnknownPlaceholderStopsTheAgentNamingFileAndLine) {
  simulateScan();
  const std::string bad = absolute("bad.sbatch");
  std::ofstream(bad)
      << "#!/bin/bash\n#SBATCH --ntasks=XXXranksXXX\n#SBATCH --mem=XXXmemoryXXX\nXXXcommandXXX\n";
  Agent broken(absolute("data-bad-template"), freePort(), {"--slurm-template", bad});
  broken.start();
  EXPECT_FALSE(waitUntil([&] { return request(broken.port(), "GET", "/health", "").status != 0; },
                         std::chrono::seconds(3)));
  EXPECT_NE(broken.log().find(bad + ":3: unknown placeholder XXXmemoryXXX"), std::string::npos)
      << broken.log();
  std::ofstream(bad) << "#!/bin/bash\nmpirun -np XXXranksXXX ptyx\n";
  Agent noCommand(absolute("data-no-command"), freePort(), {"--slurm-template", bad});
  noCommand.start();
  EXPECT_TRUE(waitUntil(
      [&] { return noCommand.log().find("no XXXcommandXXX placeholder") != std::string::npos; },
      std::chrono::seconds(10)))
      << noCommand.log();
  EXPECT_EQ(request(noCommand.port(), "GET", "/health", "").status, 0);
}

}  // namespace
