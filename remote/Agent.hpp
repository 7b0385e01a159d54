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
#include <memory>
#include <set>
#include <vector>

#include "HttpServer.hpp"
#include "Store.hpp"
#include "launch/Launcher.hpp"

namespace ptyx::agent {

struct AgentOptions {
  QString dataDir;
  QString ptyx;    ///< the ptyx binary
  QString mpirun;  ///< the MPI launcher
  qint64 maxUploadBytes = 1024LL << 20;
  int maxRunning = 4;
  QString slurmTemplate;  ///< the slurm launcher's batch template
  std::vector<int> gpus;  ///< the local launcher's GPU pool (device ids)
  int maxUploads = 4;     ///< uploads receiving at once; more get 503 + Retry-After
  qint64 partialUploadSeconds = 24 * 3600;  ///< a partial upload untouched this long is removed
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
  void abandoned(const HttpRequest& request) override;

 private:
  bool authorised(const HttpRequest& request);
  HttpResponse health();
  HttpResponse upload(const HttpRequest& request);
  HttpResponse submit(const HttpRequest& request);
  HttpResponse list();
  HttpResponse show(std::int64_t id);
  HttpResponse control(std::int64_t id, const HttpRequest& request);
  HttpResponse cancel(std::int64_t id);
  HttpResponse remove(std::int64_t id);
  std::optional<HttpResponse> beginUpload(const HttpRequest& request, BodyPlan& plan);
  HttpResponse uploadStatus(const QString& name);
  void releaseUpload(const QString& name);
  void expirePartialUploads();
  HttpResponse result(std::int64_t id);
  HttpResponse log(std::int64_t id);
  HttpResponse snapshot(std::int64_t id);  ///< JobStreamRoutes.cpp

  void schedule();
  void launch(const JobRecord& job, Launcher& launcher, const JobSpec& spec);
  void settle(std::int64_t id, std::optional<int> exitCode, const QString& how);
  /// The job's launcher (by its stored spec), or null.
  [[nodiscard]] Launcher* launcherOf(const JobRecord& job) const;
  [[nodiscard]] LaunchJob launchJob(const JobRecord& job, const JobSpec& spec) const;

  [[nodiscard]] QString jobDir(std::int64_t id) const;
  [[nodiscard]] QString uploadDir() const;
  [[nodiscard]] QString partialDir() const;
  [[nodiscard]] QString partialMeta(const QString& name) const;

  AgentOptions options_;
  Store store_;
  std::map<QString, std::unique_ptr<Launcher>> launchers_;
  std::set<QString> uploading_;  ///< names with a request receiving their bytes now
  bool recovering_ = false;      ///< no job starts before every running one is re-attached
  QTimer expiry_;
};

}  // namespace ptyx::agent
