// The live stream of a job (GET /jobs/{id}/stream) through the client class the workbench uses:
// every progress line in order, seq 1..N with no gap or repeat, then the end; the backlog after
// the job ended; `after=K`; refusals (401, 404, 400, 426); and the snapshot endpoint.
#include "stream_support.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

constexpr int kIterations = 40;

class AgentStream : public AgentTest {
 protected:
  void SetUp() override {
    qtApp();
    simulateScan();
    startAgent();
    if (HasFatalFailure()) return;
    ASSERT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  }
  long long submit(const json& parameters) {
    const Reply r = request(
        port(), "POST", "/jobs", bearer(token_),
        json{{"version", 1}, {"scan", "sim.cxi"}, {"ranks", 1}, {"parameters", parameters}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.js().value("id", -1LL);
  }
  std::string progressFile(long long id) const {
    return agent_->data() + "/jobs/" + std::to_string(id) + "/run/progress.jsonl";
  }
  /// Streams job `id` from `after` to its end.
  Recording streamToEnd(long long id, long long after = 0, const std::string& token = "") {
    Recording r;
    client::JobStream stream(endpointFor(port(), token.empty() ? token_ : token), id);
    r.attach(stream);
    stream.start(after);
    EXPECT_TRUE(spinUntil([&] { return r.ended || !r.errors.empty(); }, std::chrono::seconds(120)))
        << "the stream did not end";
    EXPECT_FALSE(stream.isConnected());
    return r;
  }
  /// An upgrade request on a raw socket (to see the agent's answer itself).
  Reply rawUpgrade(const std::string& target, const std::string& authorization,
                   const std::string& version = "13") {
    return request(
        port(), "GET", target, authorization, "",
        {"Upgrade: websocket", "Connection: Upgrade",
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: " + version});
  }
};

TEST_F(AgentStream, DeliversEveryLineInOrderThenTheEnd) {
  const long long id =
      submit({{"iterations", kIterations}, {"threads", 1}, {"snapshot_interval", 0}});
  const Recording live = streamToEnd(id);
  ASSERT_TRUE(live.ended) << (live.errors.empty() ? "" : live.errors.front());
  EXPECT_EQ(live.endState, "finished");
  EXPECT_EQ(live.firstSignal, "job") << "the job's state comes first";
  ASSERT_FALSE(live.states.empty());
  EXPECT_EQ(live.states.back(), "finished");
  EXPECT_TRUE(live.errors.empty()) << live.errors.front();

  const std::vector<json> file = progressLines(progressFile(id));
  ASSERT_GT(file.size(), static_cast<std::size_t>(2 * kIterations))
      << "iteration and snapshot lines";
  EXPECT_TRUE(consecutive<long long>(live.seqs, 1, file.size()));
  EXPECT_TRUE(matchesFile(live, file, 1));
  EXPECT_TRUE(consecutive<int>(live.iterations(), 1, kIterations));
  EXPECT_EQ(live.lines.front().value("event", ""), "start");
  EXPECT_EQ(live.lines.back().value("state", ""), "finished");

  // The backlog: a client that connects after the end gets everything, then the end.
  const Recording late = streamToEnd(id);
  ASSERT_TRUE(late.ended);
  EXPECT_EQ(late.endState, "finished");
  EXPECT_EQ(late.states, std::vector<std::string>{"finished"});
  EXPECT_TRUE(consecutive<long long>(late.seqs, 1, file.size()));
  EXPECT_TRUE(matchesFile(late, file, 1));

  // after=K starts at K+1; after the last line only the end comes.
  const long long k = 17;
  const Recording resumed = streamToEnd(id, k);
  ASSERT_TRUE(resumed.ended);
  EXPECT_TRUE(consecutive<long long>(resumed.seqs, k + 1, file.size() - k));
  EXPECT_TRUE(matchesFile(resumed, file, k + 1));
  const Recording none = streamToEnd(id, static_cast<long long>(file.size()) + 5);
  ASSERT_TRUE(none.ended);
  EXPECT_TRUE(none.seqs.empty());
  EXPECT_EQ(none.endState, "finished");
}

TEST_F(AgentStream, SnapshotIsTheRunsLatestCxi) {
  const long long id = submit({{"iterations", 12}, {"threads", 1}, {"snapshot_interval", 0}});
  const std::string target = "/jobs/" + std::to_string(id) + "/snapshot";
  ASSERT_TRUE(streamToEnd(id).ended);
  const Reply snap = request(port(), "GET", target, bearer(token_));
  ASSERT_EQ(snap.status, 200) << snap.body;
  EXPECT_EQ(snap.headers.at("content-type"), "application/x-hdf5");
  EXPECT_EQ(snap.headers.at("x-ptyx-iteration"), "12") << "the final snapshot";
  {
    std::ofstream f("snapshot.cxi", std::ios::binary);
    f << snap.body;
  }
  EXPECT_EQ(snap.headers.at("x-ptyx-sha256"), fileSha256("snapshot.cxi"));
  const Reconstruction r = readResult("snapshot.cxi");
  EXPECT_EQ(r.history.size(), 12u);
  EXPECT_FALSE(r.object.empty());

  EXPECT_EQ(request(port(), "GET", "/jobs/999/snapshot", bearer(token_)).status, 404);
  EXPECT_EQ(
      request(port(), "POST", "/jobs/" + std::to_string(id) + "/snapshot", bearer(token_)).status,
      405);
}

TEST_F(AgentStream, RefusalsComeBeforeTheUpgrade) {
  const long long id = submit({{"iterations", 3}, {"threads", 1}});
  const std::string stream = "/jobs/" + std::to_string(id) + "/stream";
  for (const std::string& auth : {std::string(), bearer("ptyx_wrong"), "Basic " + token_}) {
    const Reply r = rawUpgrade(stream, auth);
    EXPECT_EQ(r.status, 401) << "'" << auth << "'";
    EXPECT_EQ(r.headers.count("www-authenticate"), 1u);
    EXPECT_EQ(request(port(), "GET", "/jobs/" + std::to_string(id) + "/snapshot", auth).status,
              401);
  }
  EXPECT_EQ(rawUpgrade("/jobs/999/stream", bearer(token_)).status, 404);
  EXPECT_EQ(rawUpgrade(stream + "?after=-1", bearer(token_)).status, 400);
  EXPECT_EQ(rawUpgrade(stream + "?after=x", bearer(token_)).status, 400);
  EXPECT_EQ(rawUpgrade(stream + "?after=", bearer(token_)).status, 400);
  Reply version = rawUpgrade(stream, bearer(token_), "8");
  EXPECT_EQ(version.status, 426);
  EXPECT_EQ(version.headers["sec-websocket-version"], "13");
  EXPECT_EQ(request(port(), "GET", stream, bearer(token_)).status, 426) << "a plain GET";
  Reply accepted = rawUpgrade(stream, bearer(token_));  // read until the agent closes it
  EXPECT_EQ(accepted.status, 101);
  EXPECT_EQ(accepted.headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
      << "RFC 6455's example";

  // The client class reports the refusal and does not retry.
  for (const std::string& token : {std::string("ptyx_wrong"), token_}) {
    Recording r;
    client::JobStream js(endpointFor(port(), token), token == token_ ? 999 : id);
    r.attach(js);
    js.start();
    ASSERT_TRUE(spinUntil([&] { return !r.errors.empty(); }, std::chrono::seconds(30)));
    spinUntil([] { return false; },
              std::chrono::milliseconds(1500));  // time for retries that must not come
    EXPECT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors.front().find(token == token_ ? "404" : "401"), std::string::npos)
        << r.errors.front();
    EXPECT_EQ(r.connects, 0);
    EXPECT_FALSE(r.ended);
  }
}

}  // namespace
