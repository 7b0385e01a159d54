#include "SlurmLauncher.hpp"

#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>
#include <QSet>

#include <unistd.h>

#include "LauncherOptions.hpp"

namespace ptyx::agent {

namespace {

constexpr int kCommandTimeoutMs = 30'000;

struct Result {
  int code = -1;
  QString out;
  QString err;
};

/// A Slurm command from an argument vector (no shell), with the agent's environment.
Result runCommand(const QString& program, const QStringList& args, const QString& workDir = {}) {
  QProcess p;
  p.setProgram(program);
  p.setArguments(args);
  if (!workDir.isEmpty()) p.setWorkingDirectory(workDir);
  p.setStandardInputFile(QProcess::nullDevice());
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  allowMpiAsRoot(env);  // sbatch passes the environment on to the batch script
  p.setProcessEnvironment(env);
  p.start();
  if (!p.waitForStarted(kCommandTimeoutMs)) return {-1, {}, program + ": " + p.errorString()};
  if (!p.waitForFinished(kCommandTimeoutMs)) {
    p.kill();
    p.waitForFinished(1000);
    return {-1, {}, program + " did not answer in time"};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
          QString::fromLocal8Bit(p.readAllStandardOutput()),
          QString::fromLocal8Bit(p.readAllStandardError()).trimmed()};
}

bool activeState(const QString& state) {
  static const QSet<QString> active{"PENDING",     "RUNNING",      "SUSPENDED",   "COMPLETING",
                                    "CONFIGURING", "REQUEUED",     "RESIZING",    "SIGNALING",
                                    "STAGE_OUT",   "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
                                    "STOPPED",     "SPECIAL_EXIT"};
  return active.contains(state);
}

bool validSlurmId(const QString& id) {
  if (id.isEmpty() || id.size() > 20) return false;
  for (QChar c : id) {
    if (!c.isDigit()) return false;
  }
  return true;
}

}  // namespace

SlurmLauncher::SlurmLauncher(LaunchSettings settings, QObject* parent)
    : QObject(parent),
      settings_(std::move(settings)),
      template_(BatchTemplate::load(settings_.slurmTemplate.toStdString())) {
  poll_.setInterval(1000);
  connect(&poll_, &QTimer::timeout, this, &SlurmLauncher::poll);
  poll_.start();
}

std::string SlurmLauncher::script(const LaunchJob& job) const {
  const SlurmOptions o = parseSlurmOptions(job.spec.launcherOptions);
  std::string command;
  for (const QString& word : job.reconCommand(settings_.ptyx)) {
    if (!command.empty()) command += ' ';
    command += shellQuote(word.toStdString());
  }
  // Names and numbers are validated (JobSpec, LauncherOptions); paths and the command quoted.
  const std::map<std::string, std::string> values{
      {"job_name", job.spec.name},
      {"job_id", std::to_string(job.id)},
      {"ranks", std::to_string(job.spec.ranks)},
      {"nodes", o.nodes > 0 ? std::to_string(o.nodes) : ""},
      {"gpus", job.spec.gpus > 0 ? std::to_string(job.spec.gpus) : ""},
      {"partition", o.partition},
      {"wall_time", o.wallTime},
      {"account", o.account},
      {"qos", o.qos},
      {"job_dir", shellQuote(job.dir.toStdString())},
      {"log", shellQuote(job.logFile().toStdString())},
      {"mpirun", shellQuote(settings_.mpirun.toStdString())},
      {"command", command}};
  return template_.fill(values);
}

Launched SlurmLauncher::start(const LaunchJob& job) {
  const QString path = job.dir + "/job.sbatch";
  {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
      throw LaunchError("cannot write " + path.toStdString());
    }
    f.write(QByteArray::fromStdString(script(job)));
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
  }
  // The log where the agent reads it, whatever the template says.
  const Result r = runCommand(
      "sbatch",
      {"--parsable", "--output=" + job.logFile(), "--open-mode=append", "--chdir=" + job.dir, path},
      job.dir);
  const QString id = r.out.trimmed().section(';', 0, 0);  // "ID" or "ID;cluster"
  if (r.code != 0 || !validSlurmId(id)) {
    throw LaunchError("sbatch failed (exit " + std::to_string(r.code) +
                      "): " + (r.err.isEmpty() ? r.out : r.err).toStdString());
  }
  jobs_[job.id] = Job{id, "PENDING"};
  return {id, std::nullopt, {}};
}

bool SlurmLauncher::reattach(const LaunchJob& job, const QString& handle, const QString& /*gpus*/) {
  if (!validSlurmId(handle)) return false;
  jobs_[job.id] = Job{handle, {}};  // the next poll says whether it still runs
  return true;
}

void SlurmLauncher::cancel(std::int64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  // Slurm sends SIGTERM to the batch script, mpirun and the ranks (which save and stop), and
  // SIGKILL after its KillWait.
  const Result r = runCommand("scancel", {it->second.slurmId});
  if (r.code != 0)
    qWarning("ptyx-agent: scancel %s: %s", qPrintable(it->second.slurmId), qPrintable(r.err));
}

QString SlurmLauncher::detail(std::int64_t id) const {
  const auto it = jobs_.find(id);
  return it == jobs_.end() ? QString() : it->second.state;
}

void SlurmLauncher::poll() {
  if (jobs_.empty() || squeue_ != nullptr) return;
  // All of this user's jobs in one call, recently ended ones included (`-t all`): a job that is
  // missing has ended longer ago than Slurm keeps it. Asynchronous, so a slow slurmctld never
  // stalls the API; only jobs known before the call are judged by its answer.
  asked_.clear();
  for (const auto& [id, job] : jobs_) asked_.insert(id);
  squeue_ = new QProcess(this);
  squeue_->setProgram("squeue");
  squeue_->setArguments({"-h", "-t", "all", "-u", QString::number(::getuid()), "-o", "%i|%T"});
  squeue_->setStandardInputFile(QProcess::nullDevice());
  QProcess* p = squeue_;
  QTimer::singleShot(kCommandTimeoutMs, p, [p] { p->kill(); });
  connect(p, &QProcess::errorOccurred, this, [this, p](QProcess::ProcessError error) {
    if (error != QProcess::FailedToStart) return;  // otherwise `finished` follows
    p->deleteLater();
    squeue_ = nullptr;
  });
  connect(p, &QProcess::finished, this, [this, p](int code, QProcess::ExitStatus status) {
    p->deleteLater();
    squeue_ = nullptr;
    // slurmctld unreachable for now: decide nothing.
    if (status == QProcess::NormalExit && code == 0)
      polled(QString::fromLocal8Bit(p->readAllStandardOutput()));
  });
  p->start();
}

void SlurmLauncher::polled(const QString& output) {
  std::map<QString, QString> states;
  for (const QString& line : output.split('\n', Qt::SkipEmptyParts)) {
    const QStringList parts = line.trimmed().split('|');
    if (parts.size() == 2) states[parts[0]] = parts[1];
  }
  std::vector<std::int64_t> ended;
  for (auto& [id, job] : jobs_) {
    if (asked_.count(id) == 0) continue;
    const auto found = states.find(job.slurmId);
    if (found != states.end()) job.state = found->second;
    if (found == states.end() || !activeState(found->second)) ended.push_back(id);
  }
  for (const std::int64_t id : ended) {
    const Job job = jobs_.at(id);
    jobs_.erase(id);
    finish(id, job);
  }
}

void SlurmLauncher::finish(std::int64_t id, const Job& job) {
  // sacct has the final state and exit code: from the job completion log (-c, which works
  // without an accounting database), else from the accounting database; what squeue said last
  // is the fallback.
  QString state = job.state;
  std::optional<int> exitCode;
  QString exitText;
  for (const QStringList& source : {QStringList{"-c"}, QStringList{"-X"}}) {
    const Result r = runCommand(
        "sacct", source + QStringList{"-n", "-P", "-j", job.slurmId, "-o", "JobID,State,ExitCode"});
    if (r.code != 0) continue;
    for (const QString& line : r.out.split('\n', Qt::SkipEmptyParts)) {
      const QStringList f = line.trimmed().split('|');
      if (f.size() == 3 && f[0] == job.slurmId) {
        state = f[1].section(' ', 0, 0);
        exitText = f[2];
      }
    }
    if (!exitText.isEmpty()) break;
  }
  if (!exitText.isEmpty()) {
    // "CODE:SIGNAL": a code only when no signal ended it.
    const QStringList parts = exitText.split(':');
    bool ok = false;
    const int code = parts.value(0).toInt(&ok);
    if (ok && parts.value(1, "0") == "0") exitCode = code;
  }
  QString how = "Slurm job " + job.slurmId + " ended " +
                (state.isEmpty() ? QString("(state unknown)") : state);
  if (!exitText.isEmpty()) how += ", exit code " + exitText;
  if (state == "COMPLETED" && !exitCode) exitCode = 0;
  if (state != "COMPLETED" && exitCode && *exitCode == 0) exitCode.reset();  // cancelled, timed out
  report(id, exitCode, how);
}

}  // namespace ptyx::agent
