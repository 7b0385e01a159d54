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

class AgentStreamFault : public ::testing::Test {
 protected:
  void SetUp() override {
    qtApp();
    simulateScan();
    fs::remove_all("data-" + name());
    agent_ = std::make_unique<Agent>(absolute("data-" + name()), freePort());
    token_ = agent_->addToken();
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
    ASSERT_EQ(upload(port(), token_, "sim.cxi", "sim.cxi").status, 201);
  }
  static std::string name() {
    return ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  int port() const { return agent_->port(); }
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
    std::cout << r.seqs.size() << " lines, iterations 1.." << iterations.back() << ", " << r.connects
              << " connections\n";
    EXPECT_TRUE(consecutive<int>(iterations, 1, iterations.size()));
  }
  std::unique_ptr<Agent> agent_;
  std::string token_;
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

}  // namespace
