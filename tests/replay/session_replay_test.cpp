// Headless record -> replay round trip (docs/SESSIONS.md): a session recorded while driving a
// Reconstructor the way the workbench does (open, tune, run, pause, change β while paused and
// while running, stop, save) replays with `ptyx replay` to the same metrics and the same result
// bits; a session whose recorded iteration of a parameter change is moved replays to different
// results, and the report says where.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "backend/Devices.hpp"
#include "io/Formats.hpp"
#include "session/Replayer.hpp"
#include "session/Session.hpp"
#include "session_test_support.hpp"
#include "support/RunPtyx.hpp"
#include "support/TinyScans.hpp"

namespace fs = std::filesystem;
using ptyx::testing::runPtyx;

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Records the standard scripted session into `session`, reading `scan`.
void recordSession(const std::string& session, const std::string& scan) {
  fs::remove(session);
  ptyx::testing::ScriptedSession s(session);
  s.openScan(scan);
  s.setParameter("iterations", "60");
  s.setParameter("probe_update_start", "3");
  s.run();
  s.pauseAt(7);
  s.setParameter("beta", "0.8");  // while paused: reaches the run when it resumes
  s.resume();
  s.iterateTo(13);
  s.setParameter("beta", "0.7");  // while running: before iteration 14
  s.command("submit_job", R"({"agent": "local", "ranks": 2})");
  s.stopAt(25);
  s.save(fs::absolute("recorded-result.cxi").string());
}

class SessionReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    scan_ = fs::absolute("demo.cxi").string();
    ptyx::writeScan(ptyx::testing::smallScan(32, 32), scan_);
    session_ = fs::absolute("demo.ptyx-session").string();
    recordSession(session_, scan_);
  }
  std::string scan_;
  std::string session_;
};

}  // namespace

TEST_F(SessionReplay, ReplayMatchesMetricsAndResultBits) {
  const auto session = ptyx::session::readSession(session_);
  std::vector<ptyx::session::ReplayStep> steps;
  ptyx::session::ReplayOptions options;
  options.threads = 2;  // recorded with one thread: the CPU backend's bits do not depend on it
  options.outputDirectory = "replayed";
  const auto summary =
      ptyx::session::replay(session, options, [&](const auto& s) { steps.push_back(s); });
  std::string report;
  for (const auto& s : steps)
    report += std::to_string(s.line) + " " + s.what + ": " + s.detail + "\n";
  EXPECT_TRUE(summary.allMatch()) << report;
  EXPECT_EQ(summary.differed, 0) << report;
  EXPECT_EQ(summary.skipped, 1) << report;  // the remote job
  EXPECT_GE(summary.checkpoints, 4);        // every 10, pause, stop
  // The saved result was written again, and its arrays are the recorded ones.
  const auto replayed = ptyx::readResult("replayed/recorded-result.cxi");
  const auto recorded = ptyx::readResult("recorded-result.cxi");
  EXPECT_EQ(ptyx::session::arraySha256(replayed.object),
            ptyx::session::arraySha256(recorded.object));
  EXPECT_EQ(replayed.history.size(), 25U);
}

TEST_F(SessionReplay, CommandLineReportsEachStepAndExitsZero) {
  const auto o = runPtyx("replay " + session_);
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("open_scan " + scan_), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("set_parameter beta=0.7"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("checkpoint run 1 iteration 20"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("paused at iteration 7"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("stopped at iteration 25"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("object and probe hashes match"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("not re-executed (remote job)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("the replay matches the recording"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("DIFFERS"), std::string::npos) << o.out;

  // With the recorded timing (50 times faster): the same verdict.
  const auto paced = runPtyx("replay --speed 50 " + session_);
  EXPECT_EQ(paced.code, 0) << paced.out << paced.err;
}

TEST_F(SessionReplay, AMovedParameterChangeIsReportedWhereResultsDiffer) {
  // Claim the second β change reached the run one iteration later than it did.
  std::string text = readText(session_);
  const std::string effect = R"("iteration":13})";
  // (The action's own text: a bare "0.7" can also occur earlier, in an offset_s or a time.)
  const auto at = text.find(R"({"type":"effect")", text.find(R"("value":"0.7")"));
  ASSERT_NE(at, std::string::npos);
  const auto pos = text.find(effect, at);
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, effect.size(), R"("iteration":14})");
  const std::string moved = fs::absolute("moved.ptyx-session").string();
  writeText(moved, text);

  const auto o = runPtyx("replay " + moved);
  EXPECT_EQ(o.code, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("DIFFERS  checkpoint run 1 iteration 20"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("object sha256"), std::string::npos) << o.out;
  // Everything before the change still matches.
  EXPECT_NE(o.out.find("match    checkpoint run 1 iteration 10"), std::string::npos) << o.out;
}

TEST_F(SessionReplay, ARunRecordedOnTheGpuIsReplayedOnTheCpuAndSaysSo) {
  std::string text = readText(session_);
  const std::string onCpu = R"("command":"run","arguments":{"backend":"cpu"})";
  const auto pos = text.find(onCpu);
  ASSERT_NE(pos, std::string::npos) << text;
  text.replace(pos, onCpu.size(), R"("command":"run","arguments":{"backend":"cuda"})");
  const std::string gpu = fs::absolute("gpu.ptyx-session").string();
  writeText(gpu, text);

  const ptyx::DeviceStatus devices = ptyx::detectDevices();
  if (!devices.usable) {  // by default each run on its recorded backend, where there is one
    const auto o = runPtyx("replay " + gpu);
    EXPECT_EQ(o.code, 0) << o.out << o.err;  // these bits came from the CPU after all
    EXPECT_NE(o.out.find("recorded on the cuda backend, replayed on cpu (no usable CUDA device (" +
                         devices.reason +
                         ")): checkpoints agree only within rounding "
                         "(--tolerance)"),
              std::string::npos)
        << o.out;

    const auto cuda = runPtyx("replay --backend cuda " + session_);
    EXPECT_EQ(cuda.code, 2) << cuda.out << cuda.err;
    EXPECT_NE(cuda.err.find("backend: cuda: not available: no usable CUDA device"),
              std::string::npos)
        << cuda.err;
  }
  const auto cpu = runPtyx("replay --backend cpu " + gpu);
  EXPECT_EQ(cpu.code, 0) << cpu.out << cpu.err;
  EXPECT_NE(cpu.out.find("recorded on the cuda backend, replayed on cpu: checkpoints agree only "
                         "within rounding (--tolerance)"),
            std::string::npos)
      << cpu.out;

  const auto same = runPtyx("replay " + session_);
  EXPECT_NE(same.out.find("run 1 started, 60 iterations, seed 0, on the cpu backend"),
            std::string::npos)
      << same.out;
  EXPECT_EQ(same.out.find("replayed on"), std::string::npos) << same.out;
  const auto bad = runPtyx("replay --backend gpu " + session_);
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
}

TEST_F(SessionReplay, ReplayStartsFromTheFormTheRecordingStartedWith) {
  // The workbench's form does not start at the engine's defaults (snapshot_interval 0.05 s),
  // and recording can be switched on after changes: the header carries the starting form.
  ptyx::ReconParams start;
  start.snapshotInterval_s = 0.05;
  start.beta = 0.75;
  start.iterations = 12;
  const std::string path = fs::absolute("started.ptyx-session").string();
  fs::remove(path);
  {
    ptyx::testing::ScriptedSession s(path, start);
    s.openScan(scan_);
    s.run();
    s.finish();
  }
  const auto o = runPtyx("replay " + path);
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("the replay matches the recording"), std::string::npos) << o.out;

  // Without the header's parameters (a file from before session 9) replay starts from the
  // defaults and says which parameters differ from those recorded.
  std::string text = readText(path);
  const auto from = text.find(R"(,"parameters":)");
  ASSERT_NE(from, std::string::npos);
  ASSERT_LT(from, text.find('\n'));
  text.erase(from, text.find('\n') - 1 - from);
  writeText("unstarted.ptyx-session", text);
  const auto old = runPtyx("replay unstarted.ptyx-session");
  EXPECT_EQ(old.code, 1) << old.out << old.err;
  EXPECT_NE(old.out.find("(recorded 0.75)"), std::string::npos) << old.out;
  EXPECT_NE(old.out.find("snapshot_interval 0.5 (recorded 0.05)"), std::string::npos) << old.out;
}

TEST_F(SessionReplay, BadSessionOrOptionsExitTwo) {
  writeText("broken.ptyx-session", readText(session_).substr(0, 40) + "\n{}\n");
  const auto broken = runPtyx("replay broken.ptyx-session");
  EXPECT_EQ(broken.code, 2) << broken.out << broken.err;
  EXPECT_NE(broken.err.find("broken.ptyx-session"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("line 1"), std::string::npos) << broken.err;

  EXPECT_EQ(runPtyx("replay no-such.ptyx-session").code, 2);
  EXPECT_EQ(runPtyx("replay --substitute nonsense " + session_).code, 2);
  EXPECT_EQ(runPtyx("replay --speed 2 --fast " + session_).code, 2);
}

TEST(SessionReplayRuns, StepStartedRunsNaturalEndsAndASecondRunReplay) {
  const std::string scan = fs::absolute("runs.cxi").string();
  ptyx::writeScan(ptyx::testing::smallScan(24, 32), scan);
  const std::string path = fs::absolute("runs.ptyx-session").string();
  fs::remove(path);
  {
    ptyx::testing::ScriptedSession s(path);
    s.openScan(scan);
    s.setParameter("iterations", "16");
    s.step();  // starts run 1, paused after one iteration
    s.step();
    s.setParameter("beta", "0.9");  // while paused
    s.resume();
    s.finish();  // run 1 completes its 16 iterations
    s.setParameter("algorithm", "er");
    s.run();  // run 2 from the start, with ER
    s.stopAt(9);
    s.save(fs::absolute("runs-result.cxi").string());
  }
  const auto o = runPtyx("replay " + path);
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("step: paused at iteration 1"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("step: paused at iteration 2"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("run 1 finished: at iteration 16"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("run: run 2 started"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("checkpoint run 2 iteration 9 (stop)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("object and probe hashes match (iteration 9)"), std::string::npos) << o.out;
}
