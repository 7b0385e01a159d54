#include "Agent.hpp"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QThread>

#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "JobSpec.hpp"

namespace ptyx::agent {

using nlohmann::json;

namespace {

constexpr qint64 kMaxJsonBody = 1 << 20;
constexpr int kCancelGraceMs = 10'000;

HttpResponse jsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = QByteArray::fromStdString(body.dump()) + "\n";
  return r;
}

std::string slurp(const QString& path, qint64 maxBytes = 1 << 20) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  if (f.size() > maxBytes) f.seek(f.size() - maxBytes);
  return f.read(maxBytes).toStdString();
}

json parseOrNull(const std::string& text) {
  try {
    return text.empty() ? json() : json::parse(text);
  } catch (const json::exception&) {
    return json();
  }
}

/// The last complete line of progress.jsonl (read from the file's tail), parsed.
json lastProgressLine(const QString& path) {
  std::string tail = slurp(path, 64 * 1024);
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  const auto at = tail.rfind('\n');
  return parseOrNull(at == std::string::npos ? tail : tail.substr(at + 1));
}

QString randomHex(int bytes) {
  QByteArray raw(bytes, '\0');
  for (auto& c : raw) c = static_cast<char>(QRandomGenerator::system()->bounded(256));
  return QString::fromLatin1(raw.toHex());
}

bool isHex64(const QByteArray& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

bool parseId(const QString& text, std::int64_t& id) {
  if (text.isEmpty() || text.size() > 18) return false;
  for (QChar c : text) {
    if (!c.isDigit()) return false;
  }
  id = text.toLongLong();
  return true;
}

QByteArray fileSha256Hex(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QCryptographicHash hash(QCryptographicHash::Sha256);
  hash.addData(&f);
  return hash.result().toHex();
}

}  // namespace

std::array<unsigned char, 32> sha256(const QByteArray& bytes) {
  const QByteArray digest = QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
  std::array<unsigned char, 32> out{};
  std::copy(digest.begin(), digest.end(), out.begin());
  return out;
}

Agent::Agent(AgentOptions options, QObject* parent)
    : QObject(parent),
      options_(std::move(options)),
      store_((options_.dataDir + "/agent.db").toStdString()) {
  QDir().mkpath(options_.dataDir + "/jobs");
  QDir().mkpath(uploadDir());
  // Uploads a killed agent left half-written.
  for (const QString& name : QDir(uploadDir()).entryList({".upload-*"}, QDir::Files | QDir::Hidden)) {
    QFile::remove(uploadDir() + "/" + name);
  }
  poll_.setInterval(300);
  connect(&poll_, &QTimer::timeout, this, &Agent::pollReattached);
}

QString Agent::jobDir(std::int64_t id) const {
  return options_.dataDir + "/jobs/" + QString::number(id);
}
QString Agent::uploadDir() const { return options_.dataDir + "/uploads"; }

void Agent::recover() {
  for (const JobRecord& job : store_.jobs("running")) {
    if (job.pid && alive(job.id, *job.pid)) {
      running_[job.id] = Running{nullptr, *job.pid, false};
    } else {
      settle(job.id, std::nullopt, "the process ended while no agent was watching");
    }
  }
  poll_.start();
  schedule();
}

// ---------------------------------------------------------------------------------------------
// HTTP

bool Agent::authorised(const HttpRequest& request) {
  const QByteArray header = request.headers.value("authorization");
  if (header.size() < 8 || header.left(7).toLower() != "bearer ") return false;
  const QByteArray token = header.mid(7).trimmed();
  if (token.isEmpty() || token.size() > 512) return false;
  return store_.tokenValid(sha256(token));
}

std::optional<HttpResponse> Agent::begin(const HttpRequest& request, BodyPlan& plan) {
  if (!authorised(request)) return jsonError(401, "a valid bearer token is required");
  for (const QString& segment : request.segments) {
    if (segment == "." || segment == ".." || segment.contains('/') || segment.contains('\0')) {
      return jsonError(400, "path segments '.', '..' and encoded '/' are not allowed");
    }
  }
  plan.limit = kMaxJsonBody;
  if (request.method == "PUT" && !request.segments.isEmpty() && request.segments[0] == "uploads") {
    if (request.segments.size() != 2 || !validName(request.segments[1].toStdString())) {
      return jsonError(400, "an upload name must match [A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    }
    if (!request.headers.contains("content-length")) return jsonError(411, "Content-Length is required");
    if (!isHex64(request.headers.value("x-ptyx-sha256"))) {
      return jsonError(400, "X-Ptyx-SHA256 (the body's SHA-256, 64 hex digits) is required");
    }
    plan.limit = options_.maxUploadBytes;
    plan.file = uploadDir() + "/.upload-" + randomHex(12);
  }
  return std::nullopt;
}

HttpResponse Agent::handle(const HttpRequest& request) {
  try {
    const QStringList& s = request.segments;
    const QByteArray& m = request.method;
    const auto wrong = [] { return jsonError(405, "method not allowed here"); };
    if (s.size() == 1 && s[0] == "health") return m == "GET" ? health() : wrong();
    if (s.size() == 2 && s[0] == "uploads") return m == "PUT" ? upload(request) : wrong();
    if (s.size() == 1 && s[0] == "jobs") {
      if (m == "GET") return list();
      if (m == "POST") return submit(request);
      return wrong();
    }
    std::int64_t id = 0;
    if (s.size() >= 2 && s[0] == "jobs" && parseId(s[1], id)) {
      if (s.size() == 2) {
        if (m == "GET") return show(id);
        if (m == "DELETE") return cancel(id);
        return wrong();
      }
      if (s.size() == 3 && s[2] == "control") return m == "POST" ? control(id, request) : wrong();
      if (s.size() == 3 && s[2] == "result") return m == "GET" ? result(id) : wrong();
      if (s.size() == 3 && s[2] == "log") return m == "GET" ? log(id) : wrong();
      if (s.size() == 3 && s[2] == "snapshot") return m == "GET" ? snapshot(id) : wrong();
      if (s.size() == 3 && s[2] == "stream") {
        HttpResponse r = jsonError(426, "the stream is a WebSocket: send a GET with 'Upgrade: websocket'");
        r.headers.append({"Upgrade", QByteArray("websocket")});
        return r;
      }
    }
    return jsonError(404, "no such endpoint");
  } catch (const std::exception& e) {
    if (!request.bodyFile.isEmpty()) QFile::remove(request.bodyFile);
    return jsonError(500, QString::fromStdString(e.what()));
  }
}

HttpResponse Agent::health() {
  return jsonResponse(200, {{"status", "ok"}, {"version", PTYX_VERSION}, {"api", 1},
                            {"launchers", {"local"}}});
}

HttpResponse Agent::upload(const HttpRequest& request) {
  const QByteArray expected = request.headers.value("x-ptyx-sha256").toLower();
  if (request.bodySha256 != expected) {
    QFile::remove(request.bodyFile);
    return jsonError(400, "checksum mismatch: the body's SHA-256 is " +
                              QString::fromLatin1(request.bodySha256));
  }
  const QString target = uploadDir() + "/" + request.segments[1];
  // rename(2) replaces the name atomically; a link at the target is replaced, never followed.
  if (::rename(QFile::encodeName(request.bodyFile).constData(), QFile::encodeName(target).constData()) != 0) {
    QFile::remove(request.bodyFile);
    return jsonError(500, "cannot store the upload");
  }
  return jsonResponse(201, {{"name", request.segments[1].toStdString()},
                            {"size", request.contentLength},
                            {"sha256", expected.toStdString()}});
}

HttpResponse Agent::submit(const HttpRequest& request) {
  JobSpec spec;
  try {
    spec = parseJobSpec(request.body.toStdString());
  } catch (const SpecError& e) {
    return jsonError(400, QString::fromStdString(e.what()));
  }
  json inputs = json::object();
  for (const std::string& name : spec.inputs()) {
    const QString path = uploadDir() + "/" + QString::fromStdString(name);
    const QFileInfo info(path);
    if (!info.isFile() || info.isSymLink()) {
      return jsonError(400, "no uploaded file '" + QString::fromStdString(name) + "'; PUT /uploads/NAME first");
    }
    inputs[name] = fileSha256Hex(path).toStdString();
  }
  json stored = spec.toJson();
  stored["inputs_sha256"] = inputs;
  const std::int64_t id = store_.addJob(spec.name, stored.dump());
  const QString dir = jobDir(id);
  QDir().mkpath(dir + "/inputs");
  QDir().mkpath(dir + "/run");
  for (const std::string& name : spec.inputs()) {
    const QString from = uploadDir() + "/" + QString::fromStdString(name);
    const QString to = dir + "/inputs/" + QString::fromStdString(name);
    // A hard link: the job keeps its bytes even if the upload is replaced later.
    if (::link(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) != 0) {
      QFile::copy(from, to);
    }
  }
  schedule();
  HttpResponse created = show(id);
  if (created.status == 200) created.status = 201;
  return created;
}

namespace {

json summary(const JobRecord& job) {
  const json spec = parseOrNull(job.spec);
  json j = {{"id", job.id},           {"name", job.name},       {"state", job.state},
            {"created", job.created}, {"started", job.started}, {"ended", job.ended},
            {"message", job.message}, {"exit_code", nullptr}};
  if (job.exitCode) j["exit_code"] = *job.exitCode;
  if (spec.is_object()) {
    j["scan"] = spec.value("scan", "");
    j["ranks"] = spec.value("ranks", 1);
  }
  return j;
}

}  // namespace

HttpResponse Agent::list() {
  json jobs = json::array();
  for (const JobRecord& job : store_.jobs()) jobs.push_back(summary(job));
  return jsonResponse(200, {{"jobs", jobs}});
}

HttpResponse Agent::show(std::int64_t id) {
  const auto job = store_.job(id);
  if (!job) return jsonError(404, "no such job");
  json j = summary(*job);
  j["spec"] = parseOrNull(job->spec);
  j["status"] = parseOrNull(slurp(jobDir(id) + "/run/status.json"));
  j["progress"] = lastProgressLine(jobDir(id) + "/run/progress.jsonl");
  j["result"] = QFileInfo::exists(jobDir(id) + "/result.cxi");
  return jsonResponse(200, j);
}

HttpResponse Agent::control(std::int64_t id, const HttpRequest& request) {
  const auto job = store_.job(id);
  if (!job) return jsonError(404, "no such job");
  if (job->state != "running" || running_.count(id) == 0) return jsonError(409, "the job is not running");
  std::string command;
  try {
    command = parseControl(request.body.toStdString());
  } catch (const SpecError& e) {
    return jsonError(400, QString::fromStdString(e.what()));
  }
  const QString run = jobDir(id) + "/run";
  if (QFileInfo::exists(run + "/control")) {
    return jsonError(409, "the previous control command has not been applied yet");
  }
  // A temporary name, then rename: ptyx never reads half a file (docs/JOBS.md).
  const QString tmp = run + "/.control.tmp." + randomHex(8);
  {
    std::ofstream out(QFile::encodeName(tmp).toStdString());
    out << command << "\n";
    out.flush();
    if (!out) return jsonError(500, "cannot write the control file");
  }
  if (::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(run + "/control").constData()) != 0) {
    QFile::remove(tmp);
    return jsonError(500, "cannot write the control file");
  }
  return jsonResponse(202, {{"id", id}, {"control", json::parse(command)}});
}

HttpResponse Agent::cancel(std::int64_t id) {
  const auto job = store_.job(id);
  if (!job) return jsonError(404, "no such job");
  if (isTerminal(job->state)) return jsonError(409, "the job has already ended (" + QString::fromStdString(job->state) + ")");
  if (job->state == "queued") {
    store_.setEnded(id, "cancelled", std::nullopt, "cancelled before it started");
    return show(id);
  }
  auto it = running_.find(id);
  if (it == running_.end()) return jsonError(409, "the job is not running");
  // Remembered on disk, so that an agent restarted before the job ends still says "cancelled".
  QFile(jobDir(id) + "/cancel-requested").open(QIODevice::WriteOnly);
  it->second.cancelRequested = true;
  const qint64 pid = it->second.pid;
  // SIGTERM to the process group (mpirun and its ranks): the ranks save and stop at the next
  // iteration; whatever is left after the grace period gets SIGKILL.
  ::kill(static_cast<pid_t>(-pid), SIGTERM);
  QTimer::singleShot(kCancelGraceMs, this, [this, id, pid] {
    if (running_.count(id) != 0 && alive(id, pid)) ::kill(static_cast<pid_t>(-pid), SIGKILL);
  });
  auto r = show(id);
  r.status = 202;
  return r;
}

HttpResponse Agent::result(std::int64_t id) {
  if (!store_.job(id)) return jsonError(404, "no such job");
  const QString path = jobDir(id) + "/result.cxi";
  if (!QFileInfo::exists(path)) return jsonError(404, "the job has no result (yet)");
  HttpResponse r;
  r.contentType = "application/x-hdf5";
  r.file = path;
  r.headers.append({"X-Ptyx-SHA256", fileSha256Hex(path)});
  return r;
}

HttpResponse Agent::log(std::int64_t id) {
  if (!store_.job(id)) return jsonError(404, "no such job");
  HttpResponse r;
  r.contentType = "text/plain; charset=utf-8";
  r.file = jobDir(id) + "/output.log";
  if (!QFileInfo::exists(r.file)) {
    r.file.clear();
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// The local launcher

void Agent::schedule() {
  for (const JobRecord& job : store_.jobs("queued")) {
    if (static_cast<int>(running_.size()) >= options_.maxRunning) return;
    launch(job);
  }
}

void Agent::launch(const JobRecord& job) {
  const std::int64_t id = job.id;
  JobSpec spec;
  try {
    json stored = json::parse(job.spec);
    stored.erase("inputs_sha256");
    spec = parseJobSpec(stored.dump());
  } catch (const std::exception& e) {
    store_.setEnded(id, "failed", std::nullopt, std::string("invalid stored spec: ") + e.what());
    return;
  }
  const QString dir = jobDir(id);
  QStringList args{"-np", QString::number(spec.ranks)};
  if (spec.ranks > QThread::idealThreadCount()) args << "--oversubscribe";
  args << options_.ptyx;
  for (const std::string& a :
       spec.reconArguments((dir + "/inputs").toStdString(), (dir + "/run").toStdString(),
                           (dir + "/result.cxi").toStdString())) {
    args << QString::fromStdString(a);
  }

  auto* process = new QProcess(this);
  process->setProgram(options_.mpirun);
  process->setArguments(args);  // an argument vector: no shell ever sees these values
  process->setWorkingDirectory(dir);
  process->setStandardInputFile(QProcess::nullDevice());
  // Output to a file, not a pipe: the job outlives a killed agent without SIGPIPE.
  process->setStandardOutputFile(dir + "/output.log", QIODevice::Append);
  process->setStandardErrorFile(dir + "/output.log", QIODevice::Append);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  if (::geteuid() == 0) {
    env.insert("OMPI_ALLOW_RUN_AS_ROOT", "1");
    env.insert("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
  }
  process->setProcessEnvironment(env);
  // Its own process group: cancel signals mpirun and every rank, and a Ctrl-C meant for the
  // agent does not reach the job.
  process->setChildProcessModifier([] { ::setpgid(0, 0); });
  connect(process, &QProcess::finished, this,
          [this, id](int code, QProcess::ExitStatus status) { processEnded(id, code, status); });
  process->start();
  if (!process->waitForStarted(30'000)) {
    const std::string why = process->errorString().toStdString();
    process->deleteLater();
    store_.setEnded(id, "failed", std::nullopt, "cannot start " + options_.mpirun.toStdString() + ": " + why);
    return;
  }
  running_[id] = Running{process, process->processId(), false};
  store_.setRunning(id, process->processId());
}

void Agent::processEnded(std::int64_t id, int exitCode, QProcess::ExitStatus status) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  if (it->second.process != nullptr) it->second.process->deleteLater();
  running_.erase(it);
  if (status == QProcess::CrashExit) {
    settle(id, std::nullopt, "mpirun was killed by a signal");
  } else {
    settle(id, exitCode, "mpirun exited with code " + QString::number(exitCode));
  }
}

void Agent::pollReattached() {
  std::vector<std::int64_t> ended;
  for (const auto& [id, run] : running_) {
    if (run.process == nullptr && !alive(id, run.pid)) ended.push_back(id);
  }
  for (const std::int64_t id : ended) {
    running_.erase(id);
    settle(id, std::nullopt, "the process ended while the agent was restarting; exit code unknown");
  }
}

void Agent::settle(std::int64_t id, std::optional<int> exitCode, const QString& how) {
  const json status = parseOrNull(slurp(jobDir(id) + "/run/status.json"));
  const std::string last = status.is_object() ? status.value("state", "") : "";
  const bool completed = last == "finished" || last == "stopped";
  std::string state;
  std::string message = how.toStdString();
  if (QFileInfo::exists(jobDir(id) + "/cancel-requested")) {
    state = "cancelled";
  } else if ((exitCode && *exitCode == 0) || (!exitCode && completed)) {
    state = last == "stopped" ? "stopped" : "finished";
  } else {
    state = "failed";
    std::string tail = slurp(jobDir(id) + "/output.log", 600);
    if (!tail.empty()) message += "; end of the log: " + tail;
  }
  store_.setEnded(id, state, exitCode, message);
  schedule();
}

bool Agent::alive(std::int64_t id, qint64 pid) const {
  // The pid alone could have been reused: the process must still be this job's launcher (its
  // command line names the job's directory). A zombie has an empty command line.
  const std::string cmdline = slurp("/proc/" + QString::number(pid) + "/cmdline", 1 << 16);
  return cmdline.find((jobDir(id) + "/run").toStdString()) != std::string::npos;
}

}  // namespace ptyx::agent
