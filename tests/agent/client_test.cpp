// The workbench's agent client (remote/client/AgentClient) against a real ptyx-agent on
// 127.0.0.1: upload, submit a 2-rank job, list, fetch the result (equal bit for bit to a direct
// `mpirun -np 2 ptyx recon`), control, cancel, and the error messages a user would read. The
// agent profiles' file keeps tokens user-only (0600) and out of QSettings.
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSettings>
#include <QSslCertificate>
#include <QTimer>

#include <sys/stat.h>

#include "AgentClient.hpp"
#include "AgentFixture.hpp"
#ifdef PTYX_TEST_PROFILES
#include "remote/AgentProfiles.hpp"
#endif

using namespace ptyx;
using namespace ptyx::agenttest;
using ptyx::client::AgentClient;
using ptyx::client::AgentResult;

namespace {

QCoreApplication& app() {
  static int argc = 1;
  static char name[] = "test_agent_client";
  static char* argv[] = {name, nullptr};
  static QCoreApplication application(argc, argv);
  return application;
}

/// Runs the event loop until the call delivers its result (or 120 s pass).
AgentResult await(const std::function<void(ptyx::client::AgentCallback)>& call) {
  app();
  AgentResult out;
  out.error = QStringLiteral("no answer within 120 s");
  QEventLoop loop;
  bool done = false;
  call([&](const AgentResult& r) {
    out = r;
    done = true;
    loop.quit();
  });
  if (!done) {
    QTimer::singleShot(120'000, &loop, &QEventLoop::quit);
    loop.exec();
  }
  return out;
}

void spin(int ms) {
  QEventLoop loop;
  QTimer::singleShot(ms, &loop, &QEventLoop::quit);
  loop.exec();
}

class AgentClientTest : public AgentTest {
 protected:
  void SetUp() override {
    app();
    simulateScan();
    startAgent();
    if (HasFatalFailure()) return;
    client_ = std::make_unique<AgentClient>(endpoint(token_), QStringLiteral("test-agent"));
  }
  ptyx::client::AgentEndpoint endpoint(const std::string& token) const {
    return {QUrl(QStringLiteral("http://127.0.0.1:%1").arg(agent_->port())),
            QByteArray::fromStdString(token),
            {},
            {}};
  }
  QString uploadScan() {
    const AgentResult up = await([&](auto done) {
      client_->upload(QString::fromStdString(absolute("sim.cxi")), QStringLiteral("sim.cxi"), done);
    });
    EXPECT_TRUE(up.ok) << up.error.toStdString();
    return QStringLiteral("sim.cxi");
  }
  qint64 submit(const QJsonObject& parameters, int ranks) {
    const QJsonObject spec{{"version", 1},   {"name", "client"},    {"scan", "sim.cxi"},
                           {"ranks", ranks}, {"launcher", "local"}, {"parameters", parameters}};
    const AgentResult r = await([&](auto done) { client_->submit(spec, done); });
    EXPECT_TRUE(r.ok) << r.error.toStdString();
    EXPECT_EQ(r.status, 201);
    return r.json.value(QStringLiteral("id")).toInteger(-1);
  }
  /// Polls the job through the client until its state (or the run's, with `run`) is in `states`.
  QJsonObject waitFor(qint64 id, const QStringList& states, bool run = false, int seconds = 120) {
    QJsonObject last;
    for (int i = 0; i < seconds * 5; ++i) {
      last = await([&](auto done) { client_->job(id, done); }).json;
      const QString s = run ? last.value(QStringLiteral("status"))
                                  .toObject()
                                  .value(QStringLiteral("state"))
                                  .toString()
                            : last.value(QStringLiteral("state")).toString();
      if (states.contains(s)) break;
      spin(200);
    }
    return last;
  }

  std::unique_ptr<AgentClient> client_;
};

TEST_F(AgentClientTest, UploadSubmitListAndFetchAResultEqualToADirectRun) {
  const AgentResult health = await([&](auto done) { client_->health(done); });
  ASSERT_TRUE(health.ok) << health.error.toStdString();
  EXPECT_EQ(health.json.value(QStringLiteral("version")).toString().toStdString(), PTYX_VERSION);

  qint64 mostSent = 0;
  QObject::connect(
      client_.get(), &AgentClient::uploadProgress,
      [&](const QString&, qint64 sent, qint64) { mostSent = std::max(mostSent, sent); });
  const AgentResult up = await([&](auto done) {
    client_->upload(QString::fromStdString(absolute("sim.cxi")), QStringLiteral("sim.cxi"), done);
  });
  ASSERT_TRUE(up.ok) << up.error.toStdString();
  EXPECT_EQ(up.sha256.toStdString(), fileSha256("sim.cxi"));
  EXPECT_EQ(up.json.value(QStringLiteral("sha256")).toString().toStdString(),
            fileSha256("sim.cxi"));
  EXPECT_EQ(mostSent, static_cast<qint64>(fs::file_size("sim.cxi")))
      << "upload progress reached the end";

  const qint64 id =
      submit({{"iterations", 10}, {"threads", 1}, {"algorithm", "raar"}, {"beta", 0.75}}, 2);
  ASSERT_GT(id, 0);
  const AgentResult list = await([&](auto done) { client_->listJobs(done); });
  ASSERT_TRUE(list.ok) << list.error.toStdString();
  const QJsonArray jobs = list.json.value(QStringLiteral("jobs")).toArray();
  ASSERT_EQ(jobs.size(), 1);
  EXPECT_EQ(jobs[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("client"));

  const QJsonObject done = waitFor(id, {"finished", "failed"});
  ASSERT_EQ(done.value(QStringLiteral("state")).toString(), QStringLiteral("finished"))
      << QJsonDocument(done).toJson().toStdString();

  const QString target = QString::fromStdString(absolute("fetched.cxi"));
  const AgentResult fetched = await([&](auto cb) { client_->fetchResult(id, target, cb); });
  ASSERT_TRUE(fetched.ok) << fetched.error.toStdString();
  EXPECT_EQ(fetched.path, target);
  EXPECT_EQ(fetched.sha256.toStdString(), fileSha256("fetched.cxi"));

  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const Outcome direct =
      run(2, "recon sim.cxi --iterations=10 --threads=1 --algorithm=raar --beta=0.75 -o direct.cxi",
          "direct.log");
  ASSERT_EQ(direct.code, 0) << direct.log;
  EXPECT_TRUE(bitIdentical(readResult("fetched.cxi"), readResult("direct.cxi")));
}

TEST_F(AgentClientTest, ABrokenUploadIsResumedAndAStoredFileIsNotSentAgain) {
  // Half of the scan, then the connection drops (a raw socket closed mid-body).
  const std::string bytes = slurp("sim.cxi");
  const std::string sha = fileSha256("sim.cxi");
  {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(agent_->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string head =
        "PUT /uploads/big.cxi HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token_ +
        "\r\nX-Ptyx-SHA256: " + sha + "\r\nContent-Length: " + std::to_string(bytes.size()) +
        "\r\n\r\n" + bytes.substr(0, bytes.size() / 2);
    ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
    close(fd);
  }
  json status;
  ASSERT_TRUE(waitUntil(
      [&] {
        status = request(agent_->port(), "GET", "/uploads/big.cxi/status", bearer(token_)).js();
        return status.is_object() && !status.value("receiving", true) &&
               status.value("received", 0) > 0;
      },
      std::chrono::seconds(60)))
      << status.dump();
  const qint64 kept = status.value("received", 0LL);
  ASSERT_LT(kept, static_cast<qint64>(bytes.size()));

  qint64 firstProgress = -1;
  QObject::connect(client_.get(), &AgentClient::uploadProgress,
                   [&](const QString&, qint64 sent, qint64) {
                     if (firstProgress < 0) firstProgress = sent;
                   });
  const QString path = QString::fromStdString(absolute("sim.cxi"));
  const AgentResult resumed =
      await([&](auto done) { client_->upload(path, QStringLiteral("big.cxi"), done); });
  ASSERT_TRUE(resumed.ok) << resumed.error.toStdString();
  EXPECT_EQ(resumed.status, 201);
  EXPECT_EQ(resumed.resumedAt, kept) << "continued where the broken upload stopped";
  EXPECT_GT(firstProgress, kept - 1);
  EXPECT_EQ(fileSha256(agent_->data() + "/uploads/big.cxi"), sha);

  const AgentResult again =
      await([&](auto done) { client_->upload(path, QStringLiteral("big.cxi"), done); });
  ASSERT_TRUE(again.ok) << again.error.toStdString();
  EXPECT_EQ(again.status, 200) << "the agent already stores this file: nothing is sent";
}

TEST_F(AgentClientTest, ControlPausesRetunesAndCancelEndsTheJob) {
  uploadScan();
  const qint64 id = submit({{"iterations", 1000000}, {"threads", 1}}, 2);
  ASSERT_GT(id, 0);
  waitFor(id, {"running"}, true, 60);

  const AgentResult bad = await([&](auto done) {
    client_->control(id, {QString(), QJsonObject{{"beta", 7}}}, done);
  });
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.error.contains(QStringLiteral("test-agent")) &&
              bad.error.contains(QStringLiteral("400")) &&
              bad.error.contains(QStringLiteral("beta")))
      << bad.error.toStdString();

  const AgentResult paused = await([&](auto done) {
    client_->control(id, {QStringLiteral("pause"), {}}, done);
  });
  ASSERT_TRUE(paused.ok) << paused.error.toStdString();
  EXPECT_EQ(waitFor(id, {"paused"}, true, 30)
                .value(QStringLiteral("status"))
                .toObject()
                .value(QStringLiteral("state")),
            QStringLiteral("paused"));

  const AgentResult cancel = await([&](auto done) { client_->cancel(id, done); });
  ASSERT_TRUE(cancel.ok) << cancel.error.toStdString();
  EXPECT_EQ(
      waitFor(id, {"cancelled", "finished", "failed"}).value(QStringLiteral("state")).toString(),
      QStringLiteral("cancelled"));
  const AgentResult again = await([&](auto done) { client_->cancel(id, done); });
  EXPECT_EQ(again.status, 409) << "a job that has ended cannot be cancelled";
}

TEST_F(AgentClientTest, ErrorsNameTheAgentAndNothingIsWrittenWithoutAResult) {
  AgentClient wrong(endpoint("ptyx_wrong"), QStringLiteral("beamline"));
  const AgentResult denied = await([&](auto done) { wrong.health(done); });
  EXPECT_FALSE(denied.ok);
  EXPECT_EQ(denied.status, 401);
  EXPECT_TRUE(denied.error.contains(QStringLiteral("beamline")) &&
              denied.error.contains(QStringLiteral("401")))
      << denied.error.toStdString();

  AgentClient nobody({QUrl(QStringLiteral("http://127.0.0.1:%1").arg(freePort())), "x", {}, {}},
                     QStringLiteral("gone"));
  const AgentResult refused = await([&](auto done) { nobody.health(done); });
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.status, 0);
  EXPECT_TRUE(refused.error.contains(QStringLiteral("gone"))) << refused.error.toStdString();

  uploadScan();
  const qint64 id = submit({{"iterations", 1000000}, {"threads", 1}}, 1);
  const QString target = QString::fromStdString(absolute("none.cxi"));
  const AgentResult missing = await([&](auto done) { client_->fetchResult(id, target, done); });
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.status, 404);
  EXPECT_FALSE(QFile::exists(target)) << "no file appears when there is no result";
  await([&](auto done) { client_->cancel(id, done); });
  waitFor(id, {"cancelled", "finished", "failed"});
}

TEST(AgentClientTls, PinnedOrCaTrustedAndAWrongPinOrAnUnknownCertificateRefused) {
  app();
  if (std::system("openssl version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no openssl command to make a certificate";
  ASSERT_EQ(
      std::system(
          "openssl req -x509 -newkey rsa:2048 -nodes -keyout client-tls.key -out client-tls.pem "
          "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1"),
      0);
  QFile pem(QStringLiteral("client-tls.pem"));
  ASSERT_TRUE(pem.open(QIODevice::ReadOnly));
  const QByteArray pin = QCryptographicHash::hash(QSslCertificate(pem.readAll(), QSsl::Pem).toDer(),
                                                  QCryptographicHash::Sha256)
                             .toHex();
  fs::remove_all("data-tls");
  Agent agent(absolute("data-tls"), freePort(),
              {"--tls-cert", absolute("client-tls.pem"), "--tls-key", absolute("client-tls.key")});
  const std::string token = agent.addToken();
  agent.start();
  const QUrl url(QStringLiteral("https://127.0.0.1:%1").arg(agent.port()));
  auto health = [&](ptyx::client::AgentEndpoint e) {
    AgentClient c(std::move(e), QStringLiteral("tls-agent"));
    return await([&](auto done) { c.health(done); });
  };
  // The agent takes a moment to listen: ask with the pin until it answers.
  AgentResult pinned;
  for (int i = 0; i < 100 && pinned.status == 0; ++i) {
    pinned = health({url, QByteArray::fromStdString(token), pin, {}});
    if (pinned.status == 0) spin(200);
  }
  EXPECT_TRUE(pinned.ok) << pinned.error.toStdString();
  const AgentResult ca =
      health({url, QByteArray::fromStdString(token), {}, QStringLiteral("client-tls.pem")});
  EXPECT_TRUE(ca.ok) << ca.error.toStdString();
  const AgentResult wrongPin =
      health({url, QByteArray::fromStdString(token), QByteArray(64, 'a'), {}});
  EXPECT_FALSE(wrongPin.ok);
  EXPECT_TRUE(wrongPin.error.contains(QStringLiteral("pinned"))) << wrongPin.error.toStdString();
  const AgentResult untrusted = health({url, QByteArray::fromStdString(token), {}, {}});
  EXPECT_FALSE(untrusted.ok) << "a self-signed certificate is not trusted without a pin or CA";
  EXPECT_TRUE(untrusted.error.contains(QStringLiteral("tls-agent")))
      << untrusted.error.toStdString();
}

#ifdef PTYX_TEST_PROFILES
TEST(AgentProfilesFile, IsUserOnlyAndTokensStayOutOfQSettings) {
  app();
  const QString dir = QString::fromStdString(absolute("profiles-config"));
  fs::remove_all(dir.toStdString());
  qputenv("XDG_CONFIG_HOME", dir.toLocal8Bit());
  QCoreApplication::setOrganizationName(QStringLiteral("PtyxTest"));
  QCoreApplication::setApplicationName(QStringLiteral("ptyx-gui-test"));
  QSettings().setValue(QStringLiteral("something"), 1);  // the application's own settings exist

  ptyx::app::AgentProfiles profiles;
  ptyx::app::AgentProfile p;
  p.name = QStringLiteral("cluster");
  p.url = QUrl(QStringLiteral("https://head.example.org:8470"));
  p.token = "ptyx_secret-token-value";
  p.pinnedCertSha256 = QByteArray(64, 'a');
  profiles.upsert(p);
  QString error;
  ASSERT_TRUE(profiles.save(&error)) << error.toStdString();
  const QString file = ptyx::app::AgentProfiles::defaultPath();
  ASSERT_TRUE(QFile::exists(file)) << file.toStdString();
  struct stat st {};
  ASSERT_EQ(stat(QFile::encodeName(file).constData(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A file someone made world-readable is tightened on load.
  chmod(QFile::encodeName(file).constData(), 0644);
  ptyx::app::AgentProfiles loaded;
  ASSERT_TRUE(loaded.load(&error)) << error.toStdString();
  ASSERT_EQ(stat(QFile::encodeName(file).constData(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(loaded.profiles().size(), 1);
  EXPECT_EQ(loaded.profiles()[0].token, p.token);
  EXPECT_EQ(loaded.profiles()[0].pinnedCertSha256, p.pinnedCertSha256);

  QSettings().sync();
  const QString settingsFile = QSettings().fileName();
  QFile s(settingsFile);
  ASSERT_TRUE(s.open(QIODevice::ReadOnly)) << settingsFile.toStdString();
  EXPECT_FALSE(s.readAll().contains("ptyx_secret-token-value")) << "the token is not in QSettings";
}
#endif

}  // namespace
