#include "LocalLauncher.hpp"

#include <QFile>
#include <QProcessEnvironment>
#include <QThread>

#include <unistd.h>
#include <csignal>

namespace ptyx::agent {

namespace {

constexpr int kCancelGraceMs = 10'000;

QString joinIds(const std::vector<int>& ids) {
  QStringList parts;
  for (int id : ids) parts << QString::number(id);
  return parts.join(',');
}

}  // namespace

bool processRuns(qint64 pid, const QString& runDir) {
  QFile f("/proc/" + QString::number(pid) + "/cmdline");
  if (!f.open(QIODevice::ReadOnly)) return false;
  return f.read(1 << 16).contains(QFile::encodeName(runDir));
}

LocalLauncher::LocalLauncher(LaunchSettings settings, int maxRunning, QObject* parent)
    : QObject(parent), settings_(std::move(settings)), maxRunning_(maxRunning) {
  poll_.setInterval(300);
  connect(&poll_, &QTimer::timeout, this, &LocalLauncher::pollReattached);
  poll_.start();
}

std::vector<int> LocalLauncher::freeGpus() const {
  std::vector<int> out;
  for (int d : settings_.gpus) {
    if (busy_.count(d) == 0) out.push_back(d);
  }
  return out;
}

void LocalLauncher::check(const JobSpec& spec) const {
  if (spec.gpus > static_cast<int>(settings_.gpus.size())) {
    throw SpecError("gpus: the job asks for " + std::to_string(spec.gpus) +
                    " GPUs; this agent's pool has " + std::to_string(settings_.gpus.size()) +
                    " (ptyx-agent serve --gpus)");
  }
}

bool LocalLauncher::canStart(const JobSpec& spec) const {
  return static_cast<int>(jobs_.size()) < maxRunning_ &&
         static_cast<int>(freeGpus().size()) >= spec.gpus;
}

Launched LocalLauncher::start(const LaunchJob& job) {
  check(job.spec);
  std::vector<int> gpus = freeGpus();
  if (static_cast<int>(gpus.size()) < job.spec.gpus) throw LaunchError("not enough free GPUs");
  gpus.resize(static_cast<std::size_t>(job.spec.gpus));

  QStringList args{"-np", QString::number(job.spec.ranks)};
  if (job.spec.ranks > QThread::idealThreadCount()) args << "--oversubscribe";
  args << job.reconCommand(settings_.ptyx);

  auto* process = new QProcess(this);
  process->setProgram(settings_.mpirun);
  process->setArguments(args);  // an argument vector: no shell ever sees these values
  process->setWorkingDirectory(job.dir);
  process->setStandardInputFile(QProcess::nullDevice());
  // Output to a file, not a pipe: the job outlives a killed agent without SIGPIPE.
  process->setStandardOutputFile(job.logFile(), QIODevice::Append);
  process->setStandardErrorFile(job.logFile(), QIODevice::Append);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  allowMpiAsRoot(env);
  // The pool decides the devices; without GPUs the job sees none rather than all of them.
  if (!settings_.gpus.empty() || env.contains("CUDA_VISIBLE_DEVICES")) {
    env.insert("CUDA_VISIBLE_DEVICES", joinIds(gpus));
  }
  process->setProcessEnvironment(env);
  // Its own process group: cancel signals mpirun and every rank, and a Ctrl-C meant for the
  // agent does not reach the job.
  process->setChildProcessModifier([] { ::setpgid(0, 0); });
  const std::int64_t id = job.id;
  connect(process, &QProcess::finished, this,
          [this, id](int code, QProcess::ExitStatus status) { processEnded(id, code, status); });
  process->start();
  if (!process->waitForStarted(30'000)) {
    const QString why = process->errorString();
    process->deleteLater();
    throw LaunchError("cannot start " + settings_.mpirun.toStdString() + ": " + why.toStdString());
  }
  jobs_[id] = Job{process, process->processId(), job.runDir(), gpus};
  busy_.insert(gpus.begin(), gpus.end());
  return {QString::number(process->processId()), process->processId(), joinIds(gpus)};
}

bool LocalLauncher::reattach(const LaunchJob& job, const QString& handle, const QString& gpus) {
  bool ok = false;
  const qint64 pid = handle.toLongLong(&ok);
  if (!ok || pid <= 0 || !processRuns(pid, job.runDir())) return false;
  std::vector<int> held;
  for (const QString& d : gpus.split(',', Qt::SkipEmptyParts)) held.push_back(d.toInt());
  // Devices of a job that outlived the agent stay taken, even if the new pool lacks them.
  busy_.insert(held.begin(), held.end());
  jobs_[job.id] = Job{nullptr, pid, job.runDir(), held};
  return true;
}

void LocalLauncher::cancel(std::int64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  const qint64 pid = it->second.pid;
  const QString runDir = it->second.runDir;
  // SIGTERM to the process group (mpirun and its ranks): the ranks save and stop at the next
  // iteration; whatever is left after the grace period gets SIGKILL.
  ::kill(static_cast<pid_t>(-pid), SIGTERM);
  QTimer::singleShot(kCancelGraceMs, this, [this, id, pid, runDir] {
    if (jobs_.count(id) != 0 && processRuns(pid, runDir)) ::kill(static_cast<pid_t>(-pid), SIGKILL);
  });
}

void LocalLauncher::release(std::int64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  for (int d : it->second.gpus) busy_.erase(d);
  if (it->second.process != nullptr) it->second.process->deleteLater();
  jobs_.erase(it);
}

void LocalLauncher::processEnded(std::int64_t id, int exitCode, QProcess::ExitStatus status) {
  if (jobs_.count(id) == 0) return;
  release(id);
  if (status == QProcess::CrashExit) {
    report(id, std::nullopt, "mpirun was killed by a signal");
  } else {
    report(id, exitCode, "mpirun exited with code " + QString::number(exitCode));
  }
}

void LocalLauncher::pollReattached() {
  std::vector<std::int64_t> ended;
  for (const auto& [id, job] : jobs_) {
    if (job.process == nullptr && !processRuns(job.pid, job.runDir)) ended.push_back(id);
  }
  for (const std::int64_t id : ended) {
    release(id);
    report(id, std::nullopt, "the process ended while the agent was restarting; exit code unknown");
  }
}

}  // namespace ptyx::agent
