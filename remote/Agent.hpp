#pragma once
// The agent's API and its local launcher. Job state lives in the Store (SQLite) and in each
// job's directory, so a restarted agent picks up where the killed one stopped (docs/AGENT.md).
#include <QObject>
#include <QProcess>
#include <QString>
#include <QTimer>

#include <array>
#include <cstdint>
#include <map>

#include "HttpServer.hpp"
#include "Store.hpp"

namespace ptyx::agent {

struct AgentOptions {
  QString dataDir;
  QString ptyx;     ///< the ptyx binary
  QString mpirun;   ///< the MPI launcher
  qint64 maxUploadBytes = 1024LL << 20;
  int maxRunning = 4;
};

std::array<unsigned char, 32> sha256(const QByteArray& bytes);

class Agent : public QObject, public HttpHandler {
  Q_OBJECT
 public:
  Agent(AgentOptions options, QObject* parent = nullptr);
  /// Re-attaches to jobs still running, settles those that ended while no agent watched, and
  /// starts queued ones.
  void recover();

  std::optional<HttpResponse> begin(const HttpRequest& request, BodyPlan& plan) override;
  HttpResponse handle(const HttpRequest& request) override;
  /// GET /jobs/{id}/stream (JobStreamRoutes.cpp).
  std::optional<HttpResponse> upgrade(const HttpRequest& request, QTcpSocket* socket,
                                      const QByteArray& pending) override;

 private:
  struct Running {
    QProcess* process = nullptr;  ///< null for a job re-attached after a restart
    qint64 pid = 0;
    bool cancelRequested = false;
  };

  bool authorised(const HttpRequest& request);
  HttpResponse health();
  HttpResponse upload(const HttpRequest& request);
  HttpResponse submit(const HttpRequest& request);
  HttpResponse list();
  HttpResponse show(std::int64_t id);
  HttpResponse control(std::int64_t id, const HttpRequest& request);
  HttpResponse cancel(std::int64_t id);
  HttpResponse result(std::int64_t id);
  HttpResponse log(std::int64_t id);
  HttpResponse snapshot(std::int64_t id);  ///< JobStreamRoutes.cpp

  void schedule();
  void launch(const JobRecord& job);
  void processEnded(std::int64_t id, int exitCode, QProcess::ExitStatus status);
  void pollReattached();
  void settle(std::int64_t id, std::optional<int> exitCode, const QString& how);
  [[nodiscard]] bool alive(std::int64_t id, qint64 pid) const;

  [[nodiscard]] QString jobDir(std::int64_t id) const;
  [[nodiscard]] QString uploadDir() const;

  AgentOptions options_;
  Store store_;
  std::map<std::int64_t, Running> running_;
  QTimer poll_;
};

}  // namespace ptyx::agent
