// Resumable uploads: a connection broken mid-body keeps what arrived (GET /uploads/NAME/status
// says how much), a PUT with Content-Range continues it, the SHA-256 is checked over the whole
// file at the end, partial uploads survive an agent restart and expire; concurrent uploads are
// limited (503 with Retry-After).
#include "AgentFixture.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

/// Opens a connection and sends a PUT head announcing `total` bytes and the first `part` of the
/// body; the caller closes it (a broken upload) or keeps it open (one in progress).
int startUpload(int port, const std::string& token, const std::string& name,
                const std::string& body, std::size_t part, const std::string& sha) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  const std::string out =
      "PUT /uploads/" + name + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
      "\r\nX-Ptyx-SHA256: " + sha + "\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body.substr(0, part);
  for (std::size_t sent = 0; sent < out.size();) {
    const ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  return fd;
}

class AgentUploads : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& extra = {}) {
    if (agent_) agent_->kill(SIGKILL);
    agent_ = std::make_unique<Agent>(absolute("data"), port_, extra);
    if (token_.empty()) token_ = agent_->addToken();
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
  }
  void SetUp() override {
    simulateScan();
    fs::remove_all("data");
    port_ = freePort();
    file_ = slurp("sim.cxi");
    sha_ = fileSha256("sim.cxi");
    ASSERT_GT(file_.size(), 10000u);
  }
  json status(const std::string& name) {
    const Reply r = request(port_, "GET", "/uploads/" + name + "/status", bearer(token_));
    json j = r.js();
    if (j.is_object()) j["http"] = r.status;
    return j;
  }
  Reply putRange(const std::string& name, std::size_t from, std::size_t to, const std::string& sha,
                 const std::string& bytes) {
    return request(
        port_, "PUT", "/uploads/" + name, bearer(token_), bytes.substr(from, to - from),
        {"X-Ptyx-SHA256: " + sha, "Content-Range: bytes " + std::to_string(from) + "-" +
                                      std::to_string(to - 1) + "/" + std::to_string(bytes.size())});
  }
  int port_ = 0;
  std::unique_ptr<Agent> agent_;
  std::string token_;
  std::string file_;
  std::string sha_;
};

TEST_F(AgentUploads, ABrokenUploadResumesAfterARestartAndIsChecksummedWhole) {
  start();
  const std::size_t half = file_.size() / 2;
  close(startUpload(port_, token_, "scan.cxi", file_, half, sha_));  // the connection breaks
  json s;
  ASSERT_TRUE(waitUntil(
      [&] {
        s = status("scan.cxi");
        return s.value("received", 0ULL) == half && !s.value("receiving", true);
      },
      std::chrono::seconds(20)))
      << s.dump();
  EXPECT_EQ(s["total"], file_.size());
  EXPECT_FALSE(s["complete"].get<bool>());
  EXPECT_FALSE(fs::exists("data/uploads/scan.cxi"))
      << "nothing is stored under the name before the end";

  start();  // a killed and restarted agent keeps the partial upload
  EXPECT_EQ(status("scan.cxi").value("received", 0ULL), half);

  const Reply wrongOffset = putRange("scan.cxi", 10, file_.size(), sha_, file_);
  EXPECT_EQ(wrongOffset.status, 416) << wrongOffset.body;
  EXPECT_EQ(wrongOffset.js().value("received", 0ULL), half);
  const Reply otherFile = putRange("scan.cxi", half, file_.size(), std::string(64, 'b'), file_);
  EXPECT_EQ(otherFile.status, 409) << "a different checksum is not this upload: " << otherFile.body;

  const Reply rest = putRange("scan.cxi", half, file_.size(), sha_, file_);
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(rest.js()["sha256"], sha_);
  EXPECT_EQ(fileSha256("data/uploads/scan.cxi"), sha_);
  const json done = status("scan.cxi");
  EXPECT_TRUE(done.value("complete", false)) << done.dump();
  EXPECT_EQ(done["received"], file_.size());
  EXPECT_TRUE(fs::is_empty("data/uploads.partial"));

  // The resumed file is a scan like any other: a job accepts it.
  EXPECT_EQ(request(port_, "POST", "/jobs", bearer(token_),
                    R"({"version":1,"scan":"scan.cxi","parameters":{"iterations":1,"threads":1}})")
                .status,
            201);
}

TEST_F(AgentUploads, RangesInSeveralRequestsAndACorruptedPieceIsRefusedWhole) {
  start();
  const std::size_t third = file_.size() / 3;
  const Reply first = putRange("a.cxi", 0, third, sha_, file_);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.js().value("received", 0ULL), third);
  EXPECT_FALSE(first.js().value("complete", true));
  ASSERT_EQ(putRange("a.cxi", third, 2 * third, sha_, file_).status, 200);
  ASSERT_EQ(putRange("a.cxi", 2 * third, file_.size(), sha_, file_).status, 201);
  EXPECT_EQ(fileSha256("data/uploads/a.cxi"), sha_);

  // A name that looks like a record file is an upload like any other.
  ASSERT_EQ(putRange("run.json", 0, third, sha_, file_).status, 200);
  EXPECT_EQ(status("run.json").value("received", 0ULL), third);
  ASSERT_EQ(putRange("run.json", third, file_.size(), sha_, file_).status, 201);
  EXPECT_EQ(fileSha256("data/uploads/run.json"), sha_);

  // One flipped byte in the middle piece: the whole-file checksum fails, nothing is kept.
  std::string corrupted = file_;
  corrupted[third + 5] = static_cast<char>(corrupted[third + 5] ^ 0x5a);
  ASSERT_EQ(putRange("b.cxi", 0, third, sha_, file_).status, 200);
  ASSERT_EQ(putRange("b.cxi", third, 2 * third, sha_, corrupted).status, 200);
  const Reply last = putRange("b.cxi", 2 * third, file_.size(), sha_, file_);
  EXPECT_EQ(last.status, 400) << last.body;
  EXPECT_FALSE(fs::exists("data/uploads/b.cxi"));
  EXPECT_EQ(status("b.cxi").value("http", 0), 404);

  // Malformed ranges are 400; a total over the limit 413 before any byte.
  EXPECT_EQ(request(port_, "PUT", "/uploads/c.cxi", bearer(token_), "abc",
                    {"X-Ptyx-SHA256: " + sha_, "Content-Range: bytes 0-9/100"})
                .status,
            400);
  EXPECT_EQ(request(port_, "PUT", "/uploads/c.cxi", bearer(token_), "abc",
                    {"X-Ptyx-SHA256: " + sha_, "Content-Range: bytes 5-7/3"})
                .status,
            400);
  EXPECT_EQ(request(port_, "PUT", "/uploads/c.cxi", bearer(token_), "abc",
                    {"X-Ptyx-SHA256: " + sha_, "Content-Range: items 0-2/3"})
                .status,
            400);
  EXPECT_EQ(
      request(port_, "PUT", "/uploads/c.cxi", bearer(token_), "abc",
              {"X-Ptyx-SHA256: " + sha_, "Content-Range: bytes 0-2/" + std::to_string(2LL << 30)})
          .status,
      413);
  EXPECT_EQ(status("..").value("http", 0), 400);
}

TEST_F(AgentUploads, ConcurrentUploadsAreLimited) {
  start({"--max-uploads", "2"});
  const int one = startUpload(port_, token_, "one.cxi", file_, 100, sha_);
  const int two = startUpload(port_, token_, "two.cxi", file_, 100, sha_);
  ASSERT_TRUE(waitUntil(
      [&] {
        return status("one.cxi").value("receiving", false) &&
               status("two.cxi").value("receiving", false);
      },
      std::chrono::seconds(20)));
  const Reply busy = request(port_, "PUT", "/uploads/three.cxi", bearer(token_), file_,
                             {"X-Ptyx-SHA256: " + sha_});
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(busy.headers.count("retry-after"), 1u);
  const Reply same =
      request(port_, "PUT", "/uploads/one.cxi", bearer(token_), file_, {"X-Ptyx-SHA256: " + sha_});
  EXPECT_TRUE(same.status == 409 || same.status == 503)
      << "one.cxi is being received: " << same.status;

  close(one);  // a slot frees when a connection ends
  ASSERT_TRUE(waitUntil([&] { return !status("one.cxi").value("receiving", true); },
                        std::chrono::seconds(20)));
  EXPECT_EQ(upload(port_, token_, "three.cxi", "sim.cxi").status, 201);
  close(two);
}

TEST_F(AgentUploads, PartialUploadsExpire) {
  start({"--partial-upload-hours", "0.0005"});  // 1.8 s
  close(startUpload(port_, token_, "old.cxi", file_, 1000, sha_));
  ASSERT_TRUE(waitUntil([&] { return status("old.cxi").value("received", 0) == 1000; },
                        std::chrono::seconds(20)));
  EXPECT_TRUE(waitUntil([&] { return status("old.cxi").value("http", 0) == 404; },
                        std::chrono::seconds(30)));
  EXPECT_TRUE(fs::is_empty("data/uploads.partial"));
}

}  // namespace
