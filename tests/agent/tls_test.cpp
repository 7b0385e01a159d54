// TLS: a self-signed certificate made with the `openssl` command at test time, an agent started
// with --tls-cert/--tls-key, and requests through Qt's QSslSocket trusting exactly that
// certificate. A client that does not trust it fails the handshake; plain HTTP to the TLS port
// gets no HTTP answer.
#include "AgentFixture.hpp"

#include <QCoreApplication>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

struct TlsReply {
  bool encrypted = false;
  int status = 0;
  std::string body;
};

/// One request over TLS; `trusted` empty: the system's CAs (which do not know our certificate).
TlsReply httpsRequest(int port, const std::string& method, const std::string& target,
                      const std::string& token, const QList<QSslCertificate>& trusted,
                      const std::string& body = "", const std::string& extra = "") {
  QSslSocket socket;
  QSslConfiguration config = QSslConfiguration::defaultConfiguration();
  if (!trusted.isEmpty()) config.setCaCertificates(trusted);
  config.setPeerVerifyMode(QSslSocket::VerifyPeer);
  socket.setSslConfiguration(config);
  socket.connectToHostEncrypted("127.0.0.1", static_cast<quint16>(port));
  TlsReply reply;
  reply.encrypted = socket.waitForEncrypted(20'000);
  if (!reply.encrypted) return reply;
  std::string head = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) head += "Authorization: Bearer " + token + "\r\n";
  head += extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  socket.write(head.data(), static_cast<qint64>(head.size()));
  QByteArray in;
  while (socket.state() == QAbstractSocket::ConnectedState || socket.bytesAvailable() > 0) {
    if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(20'000)) break;
    in += socket.readAll();
  }
  in += socket.readAll();
  const qsizetype end = in.indexOf("\r\n\r\n");
  if (end > 0 && in.startsWith("HTTP/1.1 ")) {
    reply.status = in.mid(9, 3).toInt();
    reply.body = in.mid(end + 4).toStdString();
  }
  return reply;
}

class AgentTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static int argc = 1;
    static char name[] = "test_agent_tls";
    static char* argv[] = {name, nullptr};
    if (QCoreApplication::instance() == nullptr) new QCoreApplication(argc, argv);
  }
  void SetUp() override {
    if (std::system("openssl version >/dev/null 2>&1") != 0) {
      GTEST_SKIP()
          << "the openssl command is not installed (packaging/install-deps.sh installs it)";
    }
    if (!QSslSocket::supportsSsl()) GTEST_SKIP() << "Qt has no TLS backend here";
    fs::remove("cert.pem");
    fs::remove("key.pem");
    ASSERT_EQ(std::system(
                  "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 "
                  "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >openssl.log 2>&1"),
              0)
        << slurp("openssl.log");
    trusted_ = QSslCertificate::fromPath("cert.pem");
    ASSERT_EQ(trusted_.size(), 1);
    fs::remove_all("data");
    port_ = freePort();
    agent_ = std::make_unique<Agent>(absolute("data"), port_,
                                     std::vector<std::string>{"--tls-cert", absolute("cert.pem"),
                                                              "--tls-key", absolute("key.pem")});
    token_ = agent_->addToken();
    agent_->start();
    ASSERT_TRUE(waitUntil(
        [&] { return httpsRequest(port_, "GET", "/health", token_, trusted_).status == 200; },
        std::chrono::seconds(30)))
        << agent_->log();
  }
  int port_ = 0;
  QList<QSslCertificate> trusted_;
  std::unique_ptr<Agent> agent_;
  std::string token_;
};

TEST_F(AgentTls, ServesTheApiOverTlsWithTheConfiguredCertificate) {
  const TlsReply health = httpsRequest(port_, "GET", "/health", token_, trusted_);
  ASSERT_TRUE(health.encrypted);
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find(PTYX_VERSION), std::string::npos) << health.body;
  EXPECT_EQ(httpsRequest(port_, "GET", "/jobs", token_, trusted_).status, 200);
  EXPECT_EQ(httpsRequest(port_, "GET", "/jobs", "", trusted_).status, 401)
      << "TLS does not replace the token";
  EXPECT_EQ(httpsRequest(port_, "GET", "/jobs", "ptyx_wrong", trusted_).status, 401);

  // An upload travels encrypted and is checksummed like any other.
  const std::string bytes = "not really a scan, but bytes all the same";
  std::ofstream("small.bin", std::ios::binary) << bytes;
  const TlsReply put = httpsRequest(port_, "PUT", "/uploads/small.bin", token_, trusted_, bytes,
                                    "X-Ptyx-SHA256: " + fileSha256("small.bin") + "\r\n");
  EXPECT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(fileSha256("data/uploads/small.bin"), fileSha256("small.bin"));
}

TEST_F(AgentTls, AnUntrustedCertificateOrPlainHttpGetsNoAnswer) {
  // The client verifies the peer: without our certificate among its CAs the handshake fails.
  const TlsReply untrusted = httpsRequest(port_, "GET", "/health", token_, {});
  EXPECT_FALSE(untrusted.encrypted);
  EXPECT_EQ(untrusted.status, 0);
  // Plain HTTP on the TLS port: no HTTP answer.
  const Reply plain = request(port_, "GET", "/health", bearer(token_));
  EXPECT_EQ(plain.status, 0) << plain.body;
  // The agent still serves TLS clients afterwards.
  EXPECT_EQ(httpsRequest(port_, "GET", "/health", token_, trusted_).status, 200);
}

}  // namespace
