// Hostile clients: every endpoint refuses missing, wrong and revoked tokens (401); uploads
// cannot leave the upload directory (400), are size-limited (413) and checksummed; names and
// values with shell metacharacters are rejected and no command runs.
#include "AgentFixture.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

struct Endpoint {
  std::string method, target, body;
};

class AgentSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    simulateScan();
    fs::remove_all("data");
    agent_ = std::make_unique<Agent>(absolute("data"), freePort(),
                                     std::vector<std::string>{"--max-upload-mib", "1"});
    token_ = agent_->addToken("good");
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
  }
  int port() const { return agent_->port(); }
  int jobCount() {
    return static_cast<int>(request(port(), "GET", "/jobs", bearer(token_)).js()["jobs"].size());
  }
  std::unique_ptr<Agent> agent_;
  std::string token_;
};

TEST_F(AgentSecurity, EveryEndpointNeedsAValidToken) {
  const std::string revoked = agent_->addToken("soon-revoked");
  ASSERT_EQ(request(port(), "GET", "/health", bearer(revoked)).status, 200)
      << "valid before revoking";
  ASSERT_EQ(agent_->tokenCommand("revoke 2"), 0);
  ASSERT_NE(agent_->tokenCommand("revoke 2"), 0) << "revoking twice is an error";

  const std::string spec = R"({"version":1,"scan":"sim.cxi","parameters":{"iterations":1}})";
  const std::vector<Endpoint> endpoints{{"GET", "/health", ""},
                                        {"GET", "/jobs", ""},
                                        {"POST", "/jobs", spec},
                                        {"GET", "/jobs/1", ""},
                                        {"POST", "/jobs/1/control", R"({"command":"stop"})"},
                                        {"DELETE", "/jobs/1", ""},
                                        {"GET", "/jobs/1/result", ""},
                                        {"GET", "/jobs/1/log", ""},
                                        {"PUT", "/uploads/sim.cxi", "data"},
                                        {"POST", "/jobs/1/cancel", ""},
                                        {"GET", "/uploads/sim.cxi/status", ""},
                                        {"GET", "/jobs/1/stream", ""},
                                        {"GET", "/jobs/1/snapshot", ""},
                                        {"GET", "/no/such/endpoint", ""}};
  const std::vector<std::string> badAuth{
      "",                                           // none
      bearer("ptyx_wrong"),                         // wrong
      bearer(revoked),                              // revoked
      bearer(token_ + "x"),                         // a longer one
      bearer(token_.substr(0, token_.size() - 1)),  // a prefix
      "Basic " + token_,                            // another scheme
      "Bearer ",                                    // empty
  };
  for (const auto& e : endpoints) {
    for (const auto& auth : badAuth) {
      const Reply r =
          request(port(), e.method, e.target, auth, e.body,
                  {"X-Ptyx-SHA256: " + std::string(64, '0'), "Content-Range: bytes 0-3/4"});
      EXPECT_EQ(r.status, 401) << e.method << " " << e.target << " with '" << auth << "'";
      EXPECT_EQ(r.headers.count("www-authenticate"), 1u);
    }
  }
  EXPECT_FALSE(fs::exists("data/uploads/sim.cxi"));
  EXPECT_TRUE(fs::is_empty("data/uploads.partial")) << "no partial upload either";
  EXPECT_EQ(jobCount(), 0);
  EXPECT_EQ(request(port(), "GET", "/health", bearer(token_)).status, 200);
}

TEST_F(AgentSecurity, UploadsStayInsideTheUploadDirectory) {
  const std::string abs = "/tmp/ptyx-agent-abs-" + std::to_string(getpid());
  const std::vector<std::string> names{"..",
                                       ".",
                                       "../escape.cxi",
                                       "..%2Fescape.cxi",
                                       "..%2F..%2Fescape.cxi",
                                       "%2E%2E",
                                       "%2Ftmp%2Fptyx-agent-abs-" + std::to_string(getpid()),
                                       "a%2Fb",
                                       ".hidden",
                                       "sub/x.cxi",
                                       "",
                                       "a%00b",
                                       "x%20y",
                                       "x;y"};
  for (const auto& name : names) {
    const Reply r = request(port(), "PUT", "/uploads/" + name, bearer(token_), "bytes",
                            {"X-Ptyx-SHA256: " + std::string(64, 'a')});
    EXPECT_EQ(r.status, 400) << name << ": " << r.body;
  }
  EXPECT_FALSE(fs::exists("data/escape.cxi"));
  EXPECT_FALSE(fs::exists("escape.cxi"));
  EXPECT_FALSE(fs::exists(abs));
  EXPECT_TRUE(fs::is_empty("data/uploads"));
}

TEST_F(AgentSecurity, OversizedAndCorruptedUploadsAreRefused) {
  // The limit (1 MiB here) is checked against Content-Length before any body byte is read.
  const Reply big =
      request(port(), "PUT", "/uploads/big.cxi", bearer(token_), "",
              {"X-Ptyx-SHA256: " + std::string(64, 'a')}, false, std::to_string((1 << 20) + 1));
  EXPECT_EQ(big.status, 413) << big.body;
  // A checksum that does not match the body: refused, nothing kept.
  const Reply bad = request(port(), "PUT", "/uploads/sim.cxi", bearer(token_), slurp("sim.cxi"),
                            {"X-Ptyx-SHA256: " + std::string(64, 'a')});
  EXPECT_EQ(bad.status, 400) << bad.body;
  const Reply none = request(port(), "PUT", "/uploads/sim.cxi", bearer(token_), slurp("sim.cxi"));
  EXPECT_EQ(none.status, 400) << "no checksum header";
  EXPECT_TRUE(fs::is_empty("data/uploads"));
  const Reply job =
      request(port(), "POST", "/jobs", bearer(token_), R"({"version":1,"scan":"sim.cxi"})");
  EXPECT_EQ(job.status, 400) << "the scan was never stored";
  // The right checksum is accepted.
  EXPECT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  EXPECT_EQ(fileSha256("data/uploads/sim.cxi"), fileSha256("sim.cxi"));
}

TEST_F(AgentSecurity, ShellMetacharactersAreRejectedAndNothingRuns) {
  ASSERT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  const std::string marker = absolute("pwned");
  const std::vector<std::string> hostile{"x; touch " + marker,
                                         "x$(touch " + marker + ")",
                                         "x`touch " + marker + "`",
                                         "x'y",
                                         "x\"y",
                                         "x\ny",
                                         "x | touch " + marker,
                                         "x && touch " + marker,
                                         "../x",
                                         "x y",
                                         "-rf",
                                         "--job-dir=/"};
  auto post = [&](const json& spec) {
    return request(port(), "POST", "/jobs", bearer(token_), spec.dump());
  };
  for (const auto& h : hostile) {
    json base = {{"version", 1}, {"scan", "sim.cxi"}, {"parameters", {{"iterations", 1}}}};
    json named = base;
    named["name"] = h;
    EXPECT_EQ(post(named).status, 400) << "name " << h;
    json scanned = base;
    scanned["scan"] = h;
    EXPECT_EQ(post(scanned).status, 400) << "scan " << h;
    for (const char* key : {"algorithm", "probe_file", "probe_init", "beta"}) {
      json p = base;
      p["parameters"][key] = h;
      EXPECT_EQ(post(p).status, 400) << key << " " << h;
    }
  }
  // Other malformed specs.
  for (const std::string& body :
       {std::string(R"({"version":2,"scan":"sim.cxi"})"), std::string(R"({"scan":"sim.cxi"})"),
        std::string(R"({"version":1,"scan":"sim.cxi","ranks":0})"),
        std::string(R"({"version":1,"scan":"sim.cxi","ranks":65})"),
        std::string(R"({"version":1,"scan":"sim.cxi","ranks":"2"})"),
        std::string(R"({"version":1,"scan":"sim.cxi","ranks":2.5})"),
        std::string(R"({"version":1,"scan":"sim.cxi","launcher":"pbs"})"),
        std::string(R"({"version":1,"scan":"sim.cxi","shell":"touch x"})"),
        std::string(R"({"version":1,"scan":"sim.cxi","parameters":{"no_such":1}})"),
        std::string(R"({"version":1,"scan":"sim.cxi","parameters":{"iterations":[1]}})"),
        std::string(R"({"version":1,"scan":"sim.cxi","parameters":{"algorithm":3}})"),
        std::string("not json"), std::string("[]")}) {
    EXPECT_EQ(request(port(), "POST", "/jobs", bearer(token_), body).status, 400) << body;
  }
  EXPECT_EQ(jobCount(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(fs::exists(marker)) << "a command ran";
  // Malformed HTTP gets a clean 4xx, and the agent keeps serving.
  EXPECT_EQ(request(port(), "GET", "/jobs", bearer(token_), "", {}, true, "12x").status, 400);
  EXPECT_EQ(request(port(), "POST", "/jobs", bearer(token_), "", {}, false, std::to_string(2 << 20))
                .status,
            413);
  EXPECT_EQ(request(port(), "GET", "/health", bearer(token_)).status, 200);
}

TEST_F(AgentSecurity, SlurmOptionsWithShellMetacharactersAreRejected) {
  ASSERT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  const std::string marker = absolute("pwned-slurm");
  const std::vector<std::string> hostile{"x; touch " + marker,
                                         "x$(touch " + marker + ")",
                                         "x`touch " + marker + "`",
                                         "x'y",
                                         "x\"y",
                                         "x\ny",
                                         "x\n#SBATCH --wrap=touch " + marker,
                                         "x | touch " + marker,
                                         "x && touch " + marker,
                                         "x y",
                                         "-x",
                                         "--wrap=touch",
                                         "",
                                         std::string(101, 'a'),
                                         "x\ty",
                                         "x\\y",
                                         "x=y",
                                         "x,y"};
  auto post = [&](const json& spec) {
    return request(port(), "POST", "/jobs", bearer(token_), spec.dump());
  };
  const json base = {{"version", 1},
                     {"scan", "sim.cxi"},
                     {"launcher", "slurm"},
                     {"parameters", {{"iterations", 1}}}};
  for (const auto& h : hostile) {
    for (const char* key : {"partition", "account", "qos", "wall_time", "nodes"}) {
      json spec = base;
      spec["launcher_options"][key] = h;
      EXPECT_EQ(post(spec).status, 400) << key << " " << h;
    }
    json named = base;
    named["name"] = h;
    EXPECT_EQ(post(named).status, 400) << "name " << h;
  }
  // Wall times: HH:MM:SS or minutes, nothing else; nodes a small whole number; no unknown option.
  for (const json& bad : {json("1:2:3"), json("10:61:00"), json("00:00:00"), json(0), json(-5),
                          json(1.5), json("10m"), json("1-00:00:00"), json(true)}) {
    json spec = base;
    spec["launcher_options"]["wall_time"] = bad;
    EXPECT_EQ(post(spec).status, 400) << "wall_time " << bad.dump();
  }
  for (const json& bad : {json(0), json(2000), json("2"), json(1.5)}) {
    json spec = base;
    spec["launcher_options"]["nodes"] = bad;
    EXPECT_EQ(post(spec).status, 400) << "nodes " << bad.dump();
  }
  json unknown = base;
  unknown["launcher_options"]["wrap"] = "touch " + marker;
  EXPECT_EQ(post(unknown).status, 400);
  json localWithOptions = base;
  localWithOptions["launcher"] = "local";
  localWithOptions["launcher_options"]["partition"] = "debug";
  EXPECT_EQ(post(localWithOptions).status, 400) << "the local launcher takes no options";
  EXPECT_EQ(jobCount(), 0);

  // What passes the character classes is inert: a placeholder's spelling in a value is not
  // expanded again (the template is filled in one pass), and the script keeps one command line.
  // (No Slurm runs here, so sbatch fails after the script is written.)
  json inert = base;
  inert["name"] = "XXXcommandXXX";
  inert["launcher_options"] = {{"partition", "XXXcommandXXX"}, {"account", "XXXmpirunXXX"}};
  const Reply accepted = post(inert);
  ASSERT_EQ(accepted.status, 201) << accepted.body;
  const std::string script =
      slurp("data/jobs/" + std::to_string(accepted.js()["id"].get<long long>()) + "/job.sbatch");
  EXPECT_NE(script.find("#SBATCH --job-name=XXXcommandXXX\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --partition=XXXcommandXXX\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --account=XXXmpirunXXX\n"), std::string::npos) << script;
  ASSERT_NE(script.find("'recon'"), std::string::npos) << script;
  EXPECT_EQ(script.find("'recon'"), script.rfind("'recon'")) << "one command: " << script;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(fs::exists(marker)) << "a command ran";
}

}  // namespace
