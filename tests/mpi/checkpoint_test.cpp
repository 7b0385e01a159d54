// Checkpoints as a user of long jobs meets them: a run interrupted (by its iteration count, by
// SIGTERM, by a rank dying) and resumed ends exactly where an uninterrupted run ends; a damaged
// newest checkpoint falls back to the previous one and says so.
#include <sys/stat.h>

#include "MpiRuns.hpp"

namespace ptyx::mpitest {
namespace {

constexpr const char* kScan = "recon sim.cxi --threads 1 --progress none ";

class Checkpoints : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { simulateScan(); }

  static Reconstruction straight(int ranks, int iterations, const std::string& extra = "") {
    std::ostringstream out;
    out << "straight-" << ranks << '-' << iterations << ".cxi";
    const Outcome o = run(
        ranks, kScan + extra + " --iterations " + std::to_string(iterations) + " -o " + out.str());
    EXPECT_EQ(o.code, 0) << o.log;
    return readResult(out.str());
  }
};

TEST_F(Checkpoints, ResumedRunEqualsUninterruptedRunBitForBit) {
  // Difference map on 2 ranks; HIO (whose update reads the previous iteration's object) on one.
  for (const auto& [ranks, algorithm] : {std::pair{2, "dm"}, std::pair{0, "hio"}}) {
    SCOPED_TRACE(algorithm);
    const std::string a = std::string(" --algorithm ") + algorithm;
    fs::remove("half.h5");
    const Outcome half =
        run(ranks, kScan + a + " --iterations 20 --checkpoint half.h5 -o half.cxi");
    ASSERT_EQ(half.code, 0) << half.log;
    const Outcome resumed =
        run(ranks, kScan + std::string(" --resume half.h5 --iterations 40 -o resumed.cxi"));
    ASSERT_EQ(resumed.code, 0) << resumed.log;
    const Reconstruction r = readResult("resumed.cxi");
    EXPECT_EQ(r.history.size(), 40U);
    EXPECT_TRUE(bitIdentical(straight(ranks, 40, a), r));
    for (const auto& m : r.history) EXPECT_FALSE(m.parametersChanged) << m.iteration;
  }
}

TEST_F(Checkpoints, ResumesOnAnotherRankCountWithinFloatTolerance) {
  fs::remove("two.h5");
  ASSERT_EQ(
      run(2,
          kScan + std::string(
                      "--algorithm raar --beta 0.8 --iterations 15 --checkpoint two.h5 -o two.cxi"))
          .code,
      0);
  const Outcome four = run(4, kScan + std::string("--resume two.h5 --iterations 30 -o four.cxi"));
  ASSERT_EQ(four.code, 0) << four.log;
  const Reconstruction a = straight(2, 30, "--algorithm raar --beta 0.8");
  const Reconstruction b = readResult("four.cxi");
  EXPECT_LT(relativeDifference(a.object, b.object, 0.25), 2e-2);
  EXPECT_LT(relativeDifference(a.probe, b.probe), 1e-2);
  EXPECT_NEAR(b.history.back().fourierError, a.history.back().fourierError,
              1e-3 * a.history.back().fourierError);
  // The first 15 iterations come from the checkpoint unchanged.
  for (std::size_t k = 0; k < 15; ++k)
    EXPECT_EQ(a.history[k].fourierError, b.history[k].fourierError);
}

TEST_F(Checkpoints, SigtermStopsAllRanksWithACheckpointThatResumesExactly) {
  fs::remove("term.h5");
  const pid_t job = spawn(
      2, kScan + std::string("--iterations 1000000 --checkpoint term.h5 -o term.cxi"), "term.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(job, SIGTERM);  // mpirun passes it on to every rank
  double seconds = 0.0;
  waitExit(job, std::chrono::seconds(20), &seconds);
  EXPECT_LT(seconds, 5.0);
  const std::string log = slurp("term.log");
  EXPECT_NE(log.find("stopped early by a signal"), std::string::npos) << log;
  ASSERT_TRUE(fs::exists("term.h5")) << log;
  const int k = checkpointIteration("term.h5");
  ASSERT_GT(k, 0);
  EXPECT_EQ(readResult("term.cxi").history.size(), static_cast<std::size_t>(k));

  const Outcome resumed = run(2, kScan + std::string("--resume term.h5 --iterations ") +
                                     std::to_string(k + 10) + " -o term-resumed.cxi");
  ASSERT_EQ(resumed.code, 0) << resumed.log;
  EXPECT_TRUE(bitIdentical(straight(2, k + 10), readResult("term-resumed.cxi")));
}

TEST_F(Checkpoints, DamagedNewestCheckpointFallsBackToThePreviousWithAMessage) {
  const Reconstruction reference = straight(2, 25);
  for (const std::string damage : {"flip", "truncate"}) {
    SCOPED_TRACE(damage);
    fs::remove("cc.h5");
    fs::remove("cc.h5.prev");
    ASSERT_EQ(
        run(2, kScan +
                   std::string("--iterations 20 --checkpoint cc.h5 --checkpoint-every 5 -o cc.cxi"))
            .code,
        0);
    ASSERT_EQ(checkpointIteration("cc.h5"), 20);
    ASSERT_EQ(checkpointIteration("cc.h5.prev"), 15);
    const auto size = fs::file_size("cc.h5");
    if (damage == "flip") {
      std::fstream f("cc.h5", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(size / 2));
      const char junk[8] = {'d', 'a', 'm', 'a', 'g', 'e', 'd', '!'};
      f.write(junk, sizeof junk);
    } else {
      fs::resize_file("cc.h5", size / 2);
    }
    const Outcome resumed =
        run(2, kScan + std::string("--resume cc.h5 --iterations 25 -o cc-resumed.cxi"));
    ASSERT_EQ(resumed.code, 0) << resumed.log;
    EXPECT_NE(resumed.log.find("cc.h5 is unusable"), std::string::npos) << resumed.log;
    EXPECT_NE(resumed.log.find("resuming from the previous one, cc.h5.prev"), std::string::npos)
        << resumed.log;
    if (damage == "flip") {
      EXPECT_NE(resumed.log.find("checksum mismatch"), std::string::npos) << resumed.log;
    }
    EXPECT_TRUE(bitIdentical(reference, readResult("cc-resumed.cxi")));
  }
  // Both damaged: a clear refusal, no result.
  fs::resize_file("cc.h5.prev", 100);
  fs::remove("none.cxi");
  const Outcome none = run(2, kScan + std::string("--resume cc.h5 --iterations 25 -o none.cxi"));
  EXPECT_NE(none.code, 0);
  EXPECT_NE(none.log.find("no usable checkpoint"), std::string::npos) << none.log;
  EXPECT_FALSE(fs::exists("none.cxi"));
}

// A rank dying (SIGKILL: no chance to clean up) must end the job within seconds with a message
// naming the rank, leave the last checkpoint intact, and a resume must finish the run exactly as
// an uninterrupted one would have.
TEST_F(Checkpoints, KilledRankEndsTheJobAndResumeCompletesTheRun) {
  fs::remove("fault.h5");
  fs::remove("fault.h5.prev");
  const pid_t job = spawn(
      2,
      kScan + std::string(
                  "--iterations 1000000 --checkpoint fault.h5 --checkpoint-every 10 -o fault.cxi"),
      "fault.log");
  ASSERT_TRUE(waitUntil([] { return fs::exists("fault.h5.prev"); }, std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pid_t victim = 0;
  for (const auto& [pid, rank] : ranksOf(job)) {
    if (rank == 1) victim = pid;
  }
  ASSERT_GT(victim, 0) << "rank 1 not found among mpirun's children";
  kill(victim, SIGKILL);
  double seconds = 0.0;
  const int code = waitExit(job, std::chrono::seconds(30), &seconds);
  EXPECT_NE(code, -1) << "mpirun hung after a rank died";
  EXPECT_NE(code, 0);
  EXPECT_LT(seconds, 10.0);
  const std::string log = slurp("fault.log");
  EXPECT_NE(log.find("rank 1"), std::string::npos) << log;
  EXPECT_NE(log.find("signal 9"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists("fault.cxi"));
  std::cout << "mpirun ended " << seconds << " s after rank 1 was killed\n";

  const int k =
      checkpointIteration("fault.h5");  // readable and whole: the checksum is checked below
  ASSERT_GE(k, 10);
  const Outcome finished = run(2, kScan + std::string("--resume fault.h5 --iterations ") +
                                      std::to_string(k + 10) + " -o fault-finished.cxi");
  ASSERT_EQ(finished.code, 0) << finished.log;
  EXPECT_TRUE(bitIdentical(straight(2, k + 10), readResult("fault-finished.cxi")));
}

}  // namespace
}  // namespace ptyx::mpitest
