// Faults on the live stream: the client's connection is cut mid-stream (a loopback proxy in the
// test that drops every connection, and for a while refuses new ones), and the agent itself is
// killed and restarted. JobStream reconnects by itself, asks for the lines after the last one it
// has, and the consumer sees seq 1..N and iterations 1..K with no gap and no repeat.
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include "stream_support.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

/// A loopback TCP proxy to the agent that can be cut (every connection dropped at once) and held
/// down (new connections dropped as soon as they are accepted).
class CuttableProxy {
 public:
  explicit CuttableProxy(int target) : target_(static_cast<quint16>(target)) {
    server_.listen(QHostAddress::LocalHost, 0);
    QObject::connect(&server_, &QTcpServer::newConnection, [this] { accept(); });
  }
  ~CuttableProxy() { cut(); }
  [[nodiscard]] int port() const { return server_.serverPort(); }
  void setDown(bool down) { down_ = down; }
  void cut() {
    for (auto& [in, out] : pairs_) {
      if (in) in->abort();
      if (out) out->abort();
      if (in) in->deleteLater();  // out is its child
    }
    pairs_.clear();
  }

 private:
  void accept() {
    while (QTcpSocket* in = server_.nextPendingConnection()) {
      if (down_) {
        in->abort();
        in->deleteLater();
        continue;
      }
      auto* out = new QTcpSocket(in);
      const auto forward = [in, out] {
        if (out->state() == QAbstractSocket::ConnectedState) out->write(in->readAll());
      };
      QObject::connect(in, &QTcpSocket::readyRead, out, forward);
      QObject::connect(out, &QTcpSocket::connected, in, forward);
      QObject::connect(out, &QTcpSocket::readyRead, in, [in, out] { in->write(out->readAll()); });
      QObject::connect(in, &QTcpSocket::disconnected, out, [out] { out->disconnectFromHost(); });
      QObject::connect(out, &QTcpSocket::disconnected, in, [in] { in->disconnectFromHost(); });
      out->connectToHost(QHostAddress::LocalHost, target_);
      pairs_.emplace_back(in, out);
    }
  }

  quint16 target_;
  QTcpServer server_;
  bool down_ = false;
  std::vector<std::pair<QPointer<QTcpSocket>, QPointer<QTcpSocket>>> pairs_;
};

class AgentStreamFault : public AgentTest {
 protected:
  void SetUp() override {
    qtApp();
    simulateScan();
    startAgent();
    if (HasFatalFailure()) return;
    ASSERT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  }
  void TearDown() override {
    if (agent_) killJobsUnder(agent_->data());
  }
  /// A job that runs until it is told to stop.
  long long submitLongJob() {
    const Reply r = request(
        port(), "POST", "/jobs", bearer(token_),
        json{{"version", 1},
             {"scan", "sim.cxi"},
             {"ranks", 1},
             {"parameters", {{"iterations", 1000000}, {"threads", 1}, {"snapshot_interval", 1}}}}
            .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.js().value("id", -1LL);
  }
  void stopJob(long long id) {
    const std::string job = "/jobs/" + std::to_string(id);
    EXPECT_TRUE(waitUntil(
        [&] {
          return request(port(), "POST", job + "/control", bearer(token_), R"({"command":"stop"})")
                     .status == 202;
        },
        std::chrono::seconds(30)));
  }
  /// Runs the event loop until `n` more lines have arrived.
  static bool moreLines(const Recording& r, std::size_t n) {
    const std::size_t target = r.seqs.size() + n;
    return spinUntil([&] { return r.seqs.size() >= target || r.ended; }, std::chrono::seconds(60));
  }
  void expectComplete(const Recording& r, long long id) {
    ASSERT_TRUE(r.ended) << (r.errors.empty() ? "" : r.errors.back());
    EXPECT_EQ(r.endState, "stopped");
    const std::vector<json> file =
        progressLines(agent_->data() + "/jobs/" + std::to_string(id) + "/run/progress.jsonl");
    EXPECT_TRUE(consecutive<long long>(r.seqs, 1, file.size()));
    EXPECT_TRUE(matchesFile(r, file, 1));
    const std::vector<int> iterations = r.iterations();
    ASSERT_FALSE(iterations.empty());
    std::cout << r.seqs.size() << " lines, iterations 1.." << iterations.back() << ", "
              << r.connects << " connections\n";
    EXPECT_TRUE(consecutive<int>(iterations, 1, iterations.size()));
  }
};

TEST_F(AgentStreamFault, CutConnectionsResumeWithoutGapsOrRepeats) {
  const long long id = submitLongJob();
  CuttableProxy proxy(port());
  Recording r;
  client::JobStream stream(endpointFor(proxy.port(), token_), id);
  r.attach(stream);
  stream.start();

  ASSERT_TRUE(moreLines(r, 30));
  proxy.cut();  // 1: dropped mid-stream, the agent is reachable again at once
  ASSERT_TRUE(spinUntil([&] { return r.connects >= 2; }, std::chrono::seconds(30)));
  ASSERT_TRUE(moreLines(r, 30));

  proxy.setDown(true);  // 2: dropped, and every new connection too for 2 s (back-off retries)
  proxy.cut();
  spinUntil([] { return false; }, std::chrono::seconds(2));
  EXPECT_FALSE(stream.isConnected());
  const std::size_t before = r.seqs.size();
  proxy.setDown(false);
  ASSERT_TRUE(spinUntil([&] { return r.connects >= 3; }, std::chrono::seconds(30)));
  ASSERT_TRUE(moreLines(r, 30));
  EXPECT_GT(r.seqs.size(), before);

  proxy.cut();  // 3: once more, then the job is stopped while the client is away
  stopJob(id);
  ASSERT_TRUE(spinUntil([&] { return r.ended; }, std::chrono::seconds(120)));
  EXPECT_GE(r.connects, 4);
  expectComplete(r, id);
  EXPECT_EQ(r.states.back(), "stopped");
}

TEST_F(AgentStreamFault, StreamResumesAcrossAnAgentRestart) {
  const long long id = submitLongJob();
  Recording r;
  client::JobStream stream(endpointFor(port(), token_), id);
  r.attach(stream);
  stream.start();
  ASSERT_TRUE(moreLines(r, 30));

  agent_->kill(SIGKILL);  // the job runs on without an agent
  spinUntil([] { return false; }, std::chrono::seconds(1));
  EXPECT_FALSE(stream.isConnected());
  agent_ = std::make_unique<Agent>(agent_->data(), port());
  agent_->start();
  ASSERT_TRUE(agent_->ready()) << agent_->log();
  ASSERT_TRUE(spinUntil([&] { return r.connects >= 2; }, std::chrono::seconds(30)));
  ASSERT_TRUE(moreLines(r, 30));

  stopJob(id);
  ASSERT_TRUE(spinUntil([&] { return r.ended; }, std::chrono::seconds(120)));
  expectComplete(r, id);
}

TEST_F(AgentStreamFault, AClientThatDoesNotReadStallsNoOneAndIsDropped) {
  const Reply r = request(
      port(), "POST", "/jobs", bearer(token_),
      json{{"version", 1}, {"scan", "sim.cxi"}, {"parameters", {{"iterations", 3}, {"threads", 1}}}}
          .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const long long id = r.js().value("id", -1LL);
  ASSERT_EQ(waitForState(port(), token_, id, {"finished", "failed"}, std::chrono::seconds(60))
                .value("state", ""),
            "finished");
  // A backlog far larger than what the kernel and the agent buffer for one client: 20 000 lines
  // of 1 KB appended to the run's progress file (readers ignore events they do not know).
  const std::string file = agent_->data() + "/jobs/" + std::to_string(id) + "/run/progress.jsonl";
  {
    std::ofstream out(file, std::ios::app);
    for (int i = 0; i < 20000; ++i) {
      const std::size_t size = i == 7 ? 100'000 : 1000;  // one line in a frame with a 64-bit length
      out << json{{"event", "padding"}, {"n", i}, {"text", std::string(size, 'x')}}.dump() << '\n';
    }
  }
  const auto fileBytes = static_cast<long long>(fs::file_size(file));

  // The client that never reads (a tiny receive buffer, so the agent's side fills quickly).
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const auto connected = std::chrono::steady_clock::now();
  const std::string upgrade =
      "GET /jobs/" + std::to_string(id) +
      "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: " +
      bearer(token_) +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_EQ(send(fd, upgrade.data(), upgrade.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(upgrade.size()));
  std::this_thread::sleep_for(std::chrono::seconds(1));

  // Others are served meanwhile: the agent answers, and a reading client gets the whole stream.
  EXPECT_EQ(request(port(), "GET", "/health", bearer(token_)).status, 200);
  Recording rec;
  client::JobStream stream(endpointFor(port(), token_), id);
  rec.attach(stream);
  const auto backlogStart = std::chrono::steady_clock::now();
  stream.start();
  ASSERT_TRUE(spinUntil([&] { return rec.ended; }, std::chrono::seconds(120)));
  std::cout
      << "backlog of " << rec.seqs.size() << " lines (" << static_cast<double>(fileBytes) / 1e6
      << " MB) in "
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - backlogStart).count()
      << " s\n";
  EXPECT_EQ(rec.endState, "finished");
  EXPECT_TRUE(consecutive<long long>(rec.seqs, 1, progressLines(file).size()));
  EXPECT_TRUE(matchesFile(rec, progressLines(file), 1));
  const auto big = std::find_if(rec.lines.begin(), rec.lines.end(),
                                [](const json& l) { return l.value("n", -1) == 7; });
  ASSERT_NE(big, rec.lines.end());
  EXPECT_EQ(big->value("text", "").size(), 100'000u);

  // Meanwhile a client that answers the agent's pings (every 15 s) keeps its stream of a paused
  // job open past the 45 s silence limit.
  const long long held = submitLongJob();
  const std::string heldJob = "/jobs/" + std::to_string(held);
  ASSERT_TRUE(waitUntil([&] { return runState(port(), token_, heldJob) == "running"; },
                        std::chrono::seconds(60)));
  ASSERT_EQ(request(port(), "POST", heldJob + "/control", bearer(token_), R"({"command":"pause"})")
                .status,
            202);
  ASSERT_TRUE(waitUntil([&] { return runState(port(), token_, heldJob) == "paused"; },
                        std::chrono::seconds(30)));
  Recording keeper;
  client::JobStream keep(endpointFor(port(), token_), held);
  keeper.attach(keep);
  keep.start();
  const auto keptSince = std::chrono::steady_clock::now();
  ASSERT_TRUE(spinUntil([&] { return keep.isConnected(); }, std::chrono::seconds(30)));
  spinUntil([] { return false; },
            std::chrono::seconds(50) - (std::chrono::steady_clock::now() - keptSince));
  EXPECT_TRUE(keep.isConnected());
  EXPECT_EQ(keeper.connects, 1) << "the agent dropped a client that answers pings";
  EXPECT_TRUE(keeper.errors.empty()) << keeper.errors.front();
  EXPECT_FALSE(keeper.seqs.empty());
  keep.close();
  EXPECT_EQ(request(port(), "DELETE", heldJob, bearer(token_)).status, 202);

  // After 45 s without a pong the agent has dropped the silent client: reading now finds the end
  // of the connection long before the whole stream.
  std::this_thread::sleep_until(connected + std::chrono::seconds(50));
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  long long received = 0;
  bool closed = false;
  char buffer[65536];
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      received += n;
      continue;
    }
    closed = n == 0 || errno == ECONNRESET;
    break;
  }
  close(fd);
  std::cout << "the silent client got " << received << " of the stream's " << fileBytes
            << "+ bytes\n";
  EXPECT_TRUE(closed) << "the agent still holds the connection after " << received << " bytes";
  EXPECT_LT(received, fileBytes / 2)
      << "the agent should have dropped the client, not sent it everything";
}

}  // namespace
