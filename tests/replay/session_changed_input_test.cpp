// A session whose input file changed after recording (issue 7): `ptyx replay` names the file and
// stops (exit 1) rather than compare results of different data; with --substitute it goes on
// with the given file and says so; a substitute with other content is reported as such and the
// results then differ; a missing file is named too. Headless, so it runs without a display.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/Formats.hpp"
#include "session_test_support.hpp"
#include "support/RunPtyx.hpp"
#include "support/TinyScans.hpp"

namespace fs = std::filesystem;
using ptyx::testing::runPtyx;

namespace {

class ChangedInput : public ::testing::Test {
 protected:
  void SetUp() override {
    scan_ = fs::absolute("scan.cxi").string();
    original_ = fs::absolute("scan-as-recorded.cxi").string();
    session_ = fs::absolute("changed.ptyx-session").string();
    ptyx::writeScan(ptyx::testing::smallScan(32, 32, 0.0, 7), scan_);
    fs::remove(session_);
    {
      ptyx::testing::ScriptedSession s(session_);
      s.openScan(scan_);
      s.setParameter("iterations", "20");
      s.run();
      s.stopAt(12);
      s.save(fs::absolute("result.cxi").string());
    }
    fs::copy_file(scan_, original_, fs::copy_options::overwrite_existing);
    // The file is rewritten after the session: same name, other frames.
    ptyx::writeScan(ptyx::testing::smallScan(32, 32, 1e6, 8), scan_);
  }
  std::string scan_;
  std::string original_;
  std::string session_;
};

}  // namespace

TEST_F(ChangedInput, ReplayNamesTheChangedFileAndStops) {
  const auto o = runPtyx("replay " + session_);
  EXPECT_EQ(o.code, 1) << o.out << o.err;
  EXPECT_NE(
      o.out.find("STOPPED  open_scan " + scan_ + ": input file changed since recording: " + scan_),
      std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("--substitute " + scan_ + "=NEW_PATH"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("replay stopped at a missing or changed input file"), std::string::npos)
      << o.out;
  // Nothing after the input was replayed.
  EXPECT_EQ(o.out.find("save_result"), std::string::npos) << o.out;
}

TEST_F(ChangedInput, SubstituteWithTheRecordedContentMatches) {
  const auto o = runPtyx("replay --substitute " + scan_ + "=" + original_ + " " + session_);
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("substituted " + original_ + " for " + scan_ + " (same sha256 as recorded)"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("object and probe hashes match"), std::string::npos) << o.out;
}

TEST_F(ChangedInput, SubstituteWithOtherContentContinuesAndReportsTheDifferences) {
  const std::string other = fs::absolute("other.cxi").string();
  fs::copy_file(scan_, other, fs::copy_options::overwrite_existing);
  const auto o = runPtyx("replay --substitute " + scan_ + "=" + other + " " + session_);
  EXPECT_EQ(o.code, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("differs from the recorded"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("DIFFERS  save_result"), std::string::npos)
      << o.out;  // it went on to the end
}

TEST_F(ChangedInput, MissingFileIsNamed) {
  fs::remove(scan_);
  const auto o = runPtyx("replay " + session_);
  EXPECT_EQ(o.code, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("input file missing: " + scan_), std::string::npos) << o.out;
}
