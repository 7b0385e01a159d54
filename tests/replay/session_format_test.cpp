// The session file format (docs/SESSIONS.md): what the recorder writes reads back the same; a
// newer format version, a malformed line or a missing header is refused with the file and the
// line named; a last line cut short by a crash costs only that line, and a process killed while
// recording leaves every line it wrote.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/Error.hpp"
#include "session/Session.hpp"

namespace fs = std::filesystem;
using namespace ptyx::session;

namespace {

std::string fresh(const std::string& name) {
  fs::remove(name);
  return name;
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const char* kHeader =
    R"({"type":"header","format":"ptyx-session","version":1,"program":"ptyx-gui","program_version":"0.1.0","host":"h","started":"2026-01-01T00:00:00.000Z","name":""})";

// The message of the InputError that reading `path` throws ("" when none).
std::string readError(const std::string& path) {
  try {
    (void)readSession(path);
  } catch (const ptyx::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SessionFormat, EveryLineTypeRoundTrips) {
  const std::string path = fresh("roundtrip.ptyx-session");
  {
    SessionWriter w(
        path, Header{kFormatVersion, "ptyx-gui", "0.1.0", "beamline-ws", "2026-11-22T01:02:03.456Z",
                     "", R"({"algorithm":"raar","snapshot_interval":0.05})"});
    Action open;
    open.seq = 1;
    open.time = "2026-11-22T01:02:04.000Z";
    open.offset_s = 0.5;
    open.command = "open_scan";
    open.arguments = R"({"path":"/data/scan 1.cxi"})";
    open.files.push_back({"path", "/data/scan 1.cxi", std::string(64, 'a')});
    w.write(open);
    Action beta;
    beta.seq = 2;
    beta.time = "2026-11-22T01:02:05.000Z";
    beta.offset_s = 1.25;
    beta.command = "set_parameter";
    beta.arguments = R"({"name":"beta","value":"0.9"})";
    beta.parameters = R"({"algorithm":"dm","beta":0.9})";
    beta.iteration = 12;
    w.write(beta);
    w.writeEffect(2, 14);
    Action run;
    run.seq = 3;
    run.time = "t";
    run.offset_s = 2.0;
    run.command = "run";
    run.startsRun = 1;
    w.write(run);
    w.writeEffect(3, std::nullopt);
    w.write(Checkpoint{1, 10, 0.25, 0.125, std::nan(""), "every", 0});
    w.write(Checkpoint{1, 20, 0.2, 0.1, 0.05, "pause", 0});
    w.write(RunEnd{1, 30, "finished", 0});
    Action save;
    save.seq = 4;
    save.time = "t";
    save.offset_s = 3.0;
    save.command = "save_result";
    save.arguments = R"({"path":"/data/r.cxi"})";
    save.result = ResultHashes{1, 30, std::string(64, 'b'), std::string(64, 'c')};
    w.write(save);
    Action job;
    job.seq = 5;
    job.time = "t";
    job.offset_s = 4.0;
    job.command = "submit_job";
    job.arguments = R"({"agent":"local","ranks":4})";
    w.write(job);
    w.writeName("commissioning shift 3");
  }
  const Session s = readSession(path);
  EXPECT_EQ(s.header.version, kFormatVersion);
  EXPECT_EQ(s.header.program, "ptyx-gui");
  EXPECT_EQ(s.header.host, "beamline-ws");
  EXPECT_EQ(s.header.started, "2026-11-22T01:02:03.456Z");
  EXPECT_EQ(s.header.name, "commissioning shift 3");  // the later name line wins
  EXPECT_EQ(s.header.parameters, R"({"algorithm":"raar","snapshot_interval":0.05})");
  EXPECT_TRUE(s.warnings.empty());
  ASSERT_EQ(s.entries.size(), 8U);

  const auto& open = std::get<Action>(s.entries[0]);
  EXPECT_EQ(open.command, "open_scan");
  EXPECT_EQ(open.arguments, R"({"path":"/data/scan 1.cxi"})");
  ASSERT_EQ(open.files.size(), 1U);
  EXPECT_EQ(open.files[0].path, "/data/scan 1.cxi");
  EXPECT_EQ(open.files[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(open.line, 2);
  EXPECT_EQ(open.effect, Action::Effect::Pending);

  const auto& beta = std::get<Action>(s.entries[1]);
  EXPECT_DOUBLE_EQ(beta.offset_s, 1.25);
  EXPECT_EQ(beta.iteration, 12);
  EXPECT_EQ(beta.effect, Action::Effect::At);  // merged from the effect line
  EXPECT_EQ(beta.effectIteration, 14);
  EXPECT_EQ(beta.parameters, R"({"algorithm":"dm","beta":0.9})");

  const auto& run = std::get<Action>(s.entries[2]);
  EXPECT_EQ(run.startsRun, 1);
  EXPECT_EQ(run.effect, Action::Effect::None);

  const auto& c10 = std::get<Checkpoint>(s.entries[3]);
  EXPECT_EQ(c10.iteration, 10);
  EXPECT_DOUBLE_EQ(c10.fourierError, 0.25);
  EXPECT_TRUE(std::isnan(c10.objectError));  // written as null
  const auto& c20 = std::get<Checkpoint>(s.entries[4]);
  EXPECT_DOUBLE_EQ(c20.objectError, 0.05);
  EXPECT_EQ(c20.reason, "pause");
  EXPECT_EQ(std::get<RunEnd>(s.entries[5]).reason, "finished");

  const auto& save = std::get<Action>(s.entries[6]);
  ASSERT_TRUE(save.result.has_value());
  EXPECT_EQ(save.result->iteration, 30);
  EXPECT_EQ(save.result->probeSha256, std::string(64, 'c'));
  EXPECT_EQ(std::get<Action>(s.entries[7]).command, "submit_job");  // any command is kept

  // Every line is a complete JSON object ending in a newline.
  const std::string text = readText(path);
  EXPECT_EQ(text.back(), '\n');
}

TEST(SessionFormat, WriterNeverOverwritesASession) {
  const std::string path = fresh("exists.ptyx-session");
  { SessionWriter w(path, Header{}); }
  EXPECT_THROW(SessionWriter(path, Header{}), ptyx::Error);
}

TEST(SessionFormat, NewerVersionIsRefusedNamingFileAndLine) {
  const std::string path = fresh("newer.ptyx-session");
  std::string header = kHeader;
  header.replace(header.find("\"version\":1"), 11, "\"version\":2");
  writeText(path, header + "\n");
  const std::string error = readError(path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST(SessionFormat, MalformedLineIsAnErrorWithFileAndLineNumber) {
  const std::string path = fresh("malformed.ptyx-session");
  writeText(path,
            std::string(kHeader) + "\n" +
                R"({"type":"action","seq":1,"time":"t","offset_s":0,"command":"run"})" + "\n" +
                R"({"type":"action","seq":2,"time":"t","offset_s":1,"command":"pause")" + "\n" +
                R"({"type":"action","seq":3,"time":"t","offset_s":2,"command":"stop"})" + "\n");
  const std::string error = readError(path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;

  // A well-formed line that lacks a field names the field.
  writeText(path, std::string(kHeader) + "\n" +
                      R"({"type":"action","seq":1,"time":"t","offset_s":0})" + "\n");
  const std::string missing = readError(path);
  EXPECT_NE(missing.find("line 2"), std::string::npos) << missing;
  EXPECT_NE(missing.find("\"command\""), std::string::npos) << missing;

  // An effect for an action that never came.
  writeText(path,
            std::string(kHeader) + "\n" + R"({"type":"effect","seq":9,"iteration":3})" + "\n");
  EXPECT_NE(readError(path).find("line 2"), std::string::npos);
}

TEST(SessionFormat, NotASessionFileIsRefused) {
  const std::string path = fresh("not-a-session.ptyx-session");
  writeText(path, "{\"hello\": 1}\n");
  const std::string error = readError(path);
  EXPECT_NE(error.find("not a session file"), std::string::npos) << error;
  writeText(path, "");
  EXPECT_NE(readError(path).find("empty"), std::string::npos);
  EXPECT_NE(readError("no-such-file.ptyx-session").find("no-such-file.ptyx-session"),
            std::string::npos);
}

TEST(SessionFormat, LastLineCutShortByACrashIsDroppedWithAWarning) {
  const std::string path = fresh("crashed.ptyx-session");
  writeText(path, std::string(kHeader) + "\n" +
                      R"({"type":"action","seq":1,"time":"t","offset_s":0,"command":"run"})" +
                      "\n" + R"({"type":"checkpoint","run":1,"iter)");
  const Session s = readSession(path);
  ASSERT_EQ(s.entries.size(), 1U);
  ASSERT_EQ(s.warnings.size(), 1U);
  EXPECT_NE(s.warnings[0].find("line 3"), std::string::npos);
}

TEST(SessionFormat, ArrayHashIsTheHashOfTheValues) {
  ptyx::Image<ptyx::cfloat> a(2, 3);
  ptyx::Image<ptyx::cfloat> b(2, 3);
  EXPECT_EQ(arraySha256(a), arraySha256(b));
  EXPECT_EQ(arraySha256(a).size(), 64U);
  b.span()[4] = ptyx::cfloat{0.0F, 1e-30F};
  EXPECT_NE(arraySha256(a), arraySha256(b));
}

TEST(SessionFormat, EveryLineWrittenSurvivesAProcessThatDiesWithoutClosing) {
  const std::string path = fresh("killed.ptyx-session");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The recorder's process dies abruptly: no destructor, no fclose, no exit handlers.
    SessionWriter w(path, Header{kFormatVersion, "ptyx-gui", "0.1.0", "h", "t", "", ""});
    for (int seq = 1; seq <= 3; ++seq) {
      Action a;
      a.seq = seq;
      a.time = "t";
      a.command = "set_parameter";
      a.arguments = R"({"name":"beta","value":"0.5"})";
      w.write(a);
    }
    w.write(Checkpoint{1, 10, 0.1, 0.2, 0.3, "every", 0});
    ::kill(::getpid(), SIGKILL);  // as a crash or the OOM killer would
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  const Session s = readSession(path);
  EXPECT_TRUE(s.warnings.empty());
  ASSERT_EQ(s.entries.size(), 4U);
  EXPECT_EQ(std::get<Action>(s.entries[2]).seq, 3);
  EXPECT_EQ(std::get<Checkpoint>(s.entries[3]).iteration, 10);
}
