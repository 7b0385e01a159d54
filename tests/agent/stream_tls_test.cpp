// The live stream over TLS (wss://, an agent started with --tls-cert/--tls-key and a self-signed
// certificate made here with the openssl command): JobStream trusts it through the pinned
// certificate digest or a CA file, and refuses a wrong pin without retrying.
#include <QCryptographicHash>
#include <QFile>
#include <QSslCertificate>

#include "stream_support.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

bool portOpen(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

TEST(AgentStreamTls, PinnedOrCaTrustedStreamsAndAWrongPinIsRefused) {
  qtApp();
  simulateScan();
  if (std::system("openssl version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no openssl command to make a certificate";
  ASSERT_EQ(
      std::system("openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.pem -days 2 "
                  "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1"),
      0);
  QFile pem("tls.pem");
  ASSERT_TRUE(pem.open(QIODevice::ReadOnly));
  const QSslCertificate cert(pem.readAll(), QSsl::Pem);
  const QByteArray pin = QCryptographicHash::hash(cert.toDer(), QCryptographicHash::Sha256).toHex();

  // A job started through a plain agent; a TLS agent on the same directory takes it over.
  fs::remove_all("data-tls");
  const int port = freePort();
  auto agent = std::make_unique<Agent>(absolute("data-tls"), port);
  const JobReaper reaper{absolute("data-tls")};  // declared after the agent: runs before its end
  const std::string token = agent->addToken();
  agent->start();
  ASSERT_TRUE(agent->ready()) << agent->log();
  ASSERT_EQ(upload(port, token, "sim.cxi", "sim.cxi").status, 201);
  const Reply r = request(
      port, "POST", "/jobs", bearer(token),
      json{{"version", 1},
           {"scan", "sim.cxi"},
           {"parameters", {{"iterations", 1000000}, {"threads", 1}, {"snapshot_interval", 1}}}}
          .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const long long id = r.js().value("id", -1LL);
  const std::string run = agent->data() + "/jobs/" + std::to_string(id) + "/run";
  ASSERT_TRUE(waitUntil([&] { return countEvents(run, "\"event\":\"iteration\"") > 10; },
                        std::chrono::seconds(60)));
  agent->kill(SIGKILL);
  agent = std::make_unique<Agent>(absolute("data-tls"), port,
                                  std::vector<std::string>{"--tls-cert", absolute("tls.pem"),
                                                           "--tls-key", absolute("tls.key")});
  agent->start();
  ASSERT_TRUE(waitUntil([&] { return portOpen(port); }, std::chrono::seconds(20))) << agent->log();

  client::AgentEndpoint endpoint = endpointFor(port, token);
  endpoint.url.setScheme("https");

  // A wrong pin: refused, reported once, never connected.
  {
    client::AgentEndpoint wrong = endpoint;
    wrong.pinnedCertSha256 = QByteArray(64, 'a');
    Recording rec;
    client::JobStream stream(wrong, id);
    rec.attach(stream);
    stream.start();
    ASSERT_TRUE(spinUntil([&] { return !rec.errors.empty(); }, std::chrono::seconds(30)));
    spinUntil([] { return false; }, std::chrono::milliseconds(1500));
    EXPECT_EQ(rec.errors.size(), 1u);
    EXPECT_NE(rec.errors.front().find("TLS"), std::string::npos) << rec.errors.front();
    EXPECT_EQ(rec.connects, 0);
  }
  // No pin and no CA file: the system CAs do not know a self-signed certificate.
  {
    Recording rec;
    client::JobStream stream(endpoint, id);
    rec.attach(stream);
    stream.start();
    ASSERT_TRUE(spinUntil([&] { return !rec.errors.empty(); }, std::chrono::seconds(30)));
    EXPECT_EQ(rec.connects, 0);
  }
  // The certificate as the CA file: live lines arrive.
  {
    client::AgentEndpoint ca = endpoint;
    ca.caFile = QString::fromStdString(absolute("tls.pem"));
    Recording rec;
    client::JobStream stream(ca, id);
    rec.attach(stream);
    stream.start(5);
    ASSERT_TRUE(spinUntil([&] { return rec.seqs.size() > 20 || !rec.errors.empty(); },
                          std::chrono::seconds(60)))
        << "no lines";
    ASSERT_TRUE(rec.errors.empty()) << rec.errors.front();
    EXPECT_EQ(rec.seqs.front(), 6);
  }
  // The pinned certificate: the whole stream to the end.
  client::AgentEndpoint pinned = endpoint;
  pinned.pinnedCertSha256 = pin;
  Recording rec;
  client::JobStream stream(pinned, id);
  rec.attach(stream);
  stream.start();
  ASSERT_TRUE(spinUntil([&] { return rec.seqs.size() > 20 || !rec.errors.empty(); },
                        std::chrono::seconds(60)));
  ASSERT_TRUE(rec.errors.empty()) << rec.errors.front();
  control(run, R"({"command":"stop"})");
  ASSERT_TRUE(spinUntil([&] { return rec.ended; }, std::chrono::seconds(120)));
  EXPECT_EQ(rec.endState, "stopped");
  const std::vector<json> file = progressLines(run + "/progress.jsonl");
  EXPECT_TRUE(consecutive<long long>(rec.seqs, 1, file.size()));
  EXPECT_TRUE(matchesFile(rec, file, 1));
}

}  // namespace
