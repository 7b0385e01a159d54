#include "Agent.hpp"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>

#include <sys/stat.h>
#include <unistd.h>
#include <csignal>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "JobSpec.hpp"
#include "launch/LauncherOptions.hpp"

namespace ptyx::agent {

using nlohmann::json;

namespace {

constexpr qint64 kMaxJsonBody = 1 << 20;
constexpr int kUploadRetryAfterSeconds = 5;

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

JobSpec storedSpec(const JobRecord& job) {
  json stored = json::parse(job.spec);
  stored.erase("inputs_sha256");
  return parseJobSpec(stored.dump());
}

/// `Content-Range: bytes START-END/TOTAL`, digits only; false when malformed.
bool parseContentRange(const QByteArray& text, qint64& start, qint64& end, qint64& total) {
  static const QRegularExpression pattern("^bytes ([0-9]{1,18})-([0-9]{1,18})/([0-9]{1,18})$");
  const auto m = pattern.match(QString::fromLatin1(text));
  if (!m.hasMatch()) return false;
  start = m.captured(1).toLongLong();
  end = m.captured(2).toLongLong();
  total = m.captured(3).toLongLong();
  return start <= end && end < total;
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
  for (const QString& name :
       QDir(uploadDir()).entryList({".upload-*"}, QDir::Files | QDir::Hidden)) {
    QFile::remove(uploadDir() + "/" + name);
  }
  QDir().mkpath(partialDir());
  LaunchSettings settings{options_.ptyx, options_.mpirun, options_.slurmTemplate, options_.gpus};
  launchers_ = makeLaunchers(settings, options_.maxRunning);
  for (auto& [name, launcher] : launchers_) {
    launcher->onEnded([this](std::int64_t id, std::optional<int> code, const QString& how) {
      settle(id, code, how);
    });
  }
  expiry_.setInterval(
      static_cast<int>(std::clamp<qint64>(options_.partialUploadSeconds * 500, 1000, 600'000)));
  connect(&expiry_, &QTimer::timeout, this, &Agent::expirePartialUploads);
}

QString Agent::jobDir(std::int64_t id) const {
  return options_.dataDir + "/jobs/" + QString::number(id);
}
QString Agent::uploadDir() const {
  return options_.dataDir + "/uploads";
}
QString Agent::partialDir() const {
  return options_.dataDir + "/uploads.partial";
}
QString Agent::partialMeta(const QString& name) const {
  return partialDir() + "/." + name + ".json";
}

Launcher* Agent::launcherOf(const JobRecord& job) const {
  const json spec = parseOrNull(job.spec);
  const QString name =
      QString::fromStdString(spec.is_object() ? spec.value("launcher", "local") : "local");
  const auto it = launchers_.find(name);
  return it == launchers_.end() ? nullptr : it->second.get();
}

LaunchJob Agent::launchJob(const JobRecord& job, const JobSpec& spec) const {
  return LaunchJob{job.id, spec, jobDir(job.id)};
}

void Agent::recover() {
  // Re-attach every running job before anything starts: the GPU pool must know what they hold.
  recovering_ = true;
  for (const JobRecord& job : store_.jobs("running")) {
    Launcher* launcher = launcherOf(job);
    // Jobs stored before launchers had handles: the pid is the local launcher's handle.
    const QString handle = !job.handle.empty() ? QString::fromStdString(job.handle)
                           : job.pid           ? QString::number(*job.pid)
                                               : QString();
    if (launcher == nullptr) {
      store_.setEnded(job.id, "failed", std::nullopt,
                      "this agent has no " +
                          parseOrNull(job.spec).value("launcher", std::string("?")) +
                          " launcher (started without its configuration); the job (" + job.handle +
                          ") is no longer followed");
      continue;
    }
    bool attached = false;
    try {
      attached = launcher->reattach(launchJob(job, storedSpec(job)), handle,
                                    QString::fromStdString(job.gpus));
    } catch (const std::exception&) {
      attached = false;
    }
    if (!attached) settle(job.id, std::nullopt, "the process ended while no agent was watching");
  }
  recovering_ = false;
  expirePartialUploads();
  expiry_.start();
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
    return beginUpload(request, plan);
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
    if (s.size() == 3 && s[0] == "uploads" && s[2] == "status")
      return m == "GET" ? uploadStatus(s[1]) : wrong();
    if (s.size() == 1 && s[0] == "jobs") {
      if (m == "GET") return list();
      if (m == "POST") return submit(request);
      return wrong();
    }
    std::int64_t id = 0;
    if (s.size() >= 2 && s[0] == "jobs" && parseId(s[1], id)) {
      if (s.size() == 2) {
        if (m == "GET") return show(id);
        if (m == "DELETE") return remove(id);
        return wrong();
      }
      if (s.size() == 3 && s[2] == "control") return m == "POST" ? control(id, request) : wrong();
      if (s.size() == 3 && s[2] == "result") return m == "GET" ? result(id) : wrong();
      if (s.size() == 3 && s[2] == "log") return m == "GET" ? log(id) : wrong();
      if (s.size() == 3 && s[2] == "snapshot") return m == "GET" ? snapshot(id) : wrong();
      if (s.size() == 3 && s[2] == "stream") {
        HttpResponse r =
            jsonError(426, "the stream is a WebSocket: send a GET with 'Upgrade: websocket'");
        r.headers.append({"Upgrade", QByteArray("websocket")});
        return r;
      }
      if (s.size() == 3 && s[2] == "cancel") return m == "POST" ? cancel(id) : wrong();
    }
    return jsonError(404, "no such endpoint");
  } catch (const std::exception& e) {
    if (request.method == "PUT" && request.segments.size() == 2) releaseUpload(request.segments[1]);
    return jsonError(500, QString::fromStdString(e.what()));
  }
}

void Agent::abandoned(const HttpRequest& request) {
  // The connection broke mid-body: the bytes received stay in the partial upload.
  if (request.method == "PUT" && request.segments.size() == 2 && request.segments[0] == "uploads") {
    releaseUpload(request.segments[1]);
  }
}

HttpResponse Agent::health() {
  json gpus = json::array();
  for (int d : options_.gpus) gpus.push_back(d);
  json launchers = json::array();
  for (const std::string& name : launcherNames()) {
    if (launchers_.count(QString::fromStdString(name)) != 0) launchers.push_back(name);
  }
  return jsonResponse(200, {{"status", "ok"},
                            {"version", PTYX_VERSION},
                            {"api", 1},
                            {"launchers", launchers},
                            {"gpus", gpus}});
}

// Uploads arrive in DIR/uploads.partial/NAME (with .NAME.json: total size and SHA-256; hidden, so
// never the name of an upload) and keep
// what a broken connection delivered; the last byte checks the SHA-256 over the whole file and
// renames it to DIR/uploads/NAME.
std::optional<HttpResponse> Agent::beginUpload(const HttpRequest& request, BodyPlan& plan) {
  if (request.segments.size() != 2 || !validName(request.segments[1].toStdString())) {
    return jsonError(400, "an upload name must match [A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  }
  const QString name = request.segments[1];
  if (!request.headers.contains("content-length"))
    return jsonError(411, "Content-Length is required");
  const QByteArray sha = request.headers.value("x-ptyx-sha256").toLower();
  if (!isHex64(sha)) {
    return jsonError(400, "X-Ptyx-SHA256 (the whole file's SHA-256, 64 hex digits) is required");
  }
  qint64 start = 0;
  qint64 total = request.contentLength;
  if (request.headers.contains("content-range")) {
    qint64 end = 0;
    if (!parseContentRange(request.headers.value("content-range"), start, end, total)) {
      return jsonError(400,
                       "Content-Range must be 'bytes START-END/TOTAL' with START <= END < TOTAL");
    }
    if (end - start + 1 != request.contentLength) {
      return jsonError(400, "Content-Length must equal END - START + 1 of the Content-Range");
    }
  }
  if (total > options_.maxUploadBytes) {
    return jsonError(413, QStringLiteral("the file is larger than the limit of %1 bytes")
                              .arg(options_.maxUploadBytes));
  }
  if (uploading_.count(name) != 0)
    return jsonError(409, "an upload of " + name + " is in progress");
  if (static_cast<int>(uploading_.size()) >= options_.maxUploads) {
    HttpResponse busy =
        jsonError(503, QStringLiteral("%1 uploads are in progress (the limit); try again later")
                           .arg(uploading_.size()));
    busy.headers.append({"Retry-After", QByteArray::number(kUploadRetryAfterSeconds)});
    return busy;
  }
  const QString data = partialDir() + "/" + name;
  const QString meta = partialMeta(name);
  if (start == 0) {
    QSaveFile m(meta);
    if (!m.open(QIODevice::WriteOnly)) return jsonError(500, "cannot store the upload");
    m.write(QByteArray::fromStdString(
        json({{"total", total}, {"sha256", sha.toStdString()}, {"started", utcNow()}}).dump()));
    QFile d(data);
    if (!m.commit() || !d.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
      return jsonError(500, "cannot store the upload");
    }
  } else {
    const json known = parseOrNull(slurp(meta));
    const qint64 received = QFileInfo::exists(data) ? QFileInfo(data).size() : 0;
    if (!known.is_object() || known.value("total", -1LL) != total ||
        known.value("sha256", "") != sha.toStdString()) {
      HttpResponse r =
          jsonResponse(409, {{"error", "no partial upload of " + name.toStdString() +
                                           " with this total size and SHA-256; start at byte 0"},
                             {"received", 0}});
      return r;
    }
    if (received != start) {
      return jsonResponse(416, {{"error", "the partial upload has " + std::to_string(received) +
                                              " bytes; continue from there"},
                                {"received", received},
                                {"total", total}});
    }
  }
  uploading_.insert(name);
  plan.limit = options_.maxUploadBytes;
  plan.file = data;
  plan.append = true;
  return std::nullopt;
}

void Agent::releaseUpload(const QString& name) {
  uploading_.erase(name);
}

HttpResponse Agent::upload(const HttpRequest& request) {
  const QString name = request.segments[1];
  const QString data = partialDir() + "/" + name;
  const QString meta = partialMeta(name);
  struct Release {
    Agent* agent;
    QString name;
    ~Release() { agent->releaseUpload(name); }
  } release{this, name};
  const json known = parseOrNull(slurp(meta));
  const qint64 total = known.is_object() ? known.value("total", -1LL) : -1;
  const std::string expected = known.is_object() ? known.value("sha256", "") : "";
  const qint64 received = QFileInfo(data).size();
  if (total < 0) return jsonError(500, "the partial upload's record is missing");
  if (received < total) {
    return jsonResponse(200, {{"name", name.toStdString()},
                              {"received", received},
                              {"total", total},
                              {"complete", false}});
  }
  // The whole file's checksum: the stream's own when this request carried all of it.
  const QByteArray actual =
      request.contentLength == total ? request.bodySha256 : fileSha256Hex(data);
  if (received != total || actual.toStdString() != expected) {
    QFile::remove(data);
    QFile::remove(meta);
    return jsonError(400, "checksum mismatch: the file's SHA-256 is " +
                              QString::fromLatin1(actual) + " (" + QString::number(received) +
                              " bytes); the upload is discarded");
  }
  const QString target = uploadDir() + "/" + name;
  // rename(2) replaces the name atomically; a link at the target is replaced, never followed.
  if (::rename(QFile::encodeName(data).constData(), QFile::encodeName(target).constData()) != 0) {
    return jsonError(500, "cannot store the upload");
  }
  QFile::remove(meta);
  return jsonResponse(201, {{"name", name.toStdString()}, {"size", total}, {"sha256", expected}});
}

HttpResponse Agent::uploadStatus(const QString& name) {
  if (!validName(name.toStdString())) {
    return jsonError(400, "an upload name must match [A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  }
  const QString data = partialDir() + "/" + name;
  const json known = parseOrNull(slurp(partialMeta(name)));
  if (known.is_object()) {
    return jsonResponse(200, {{"name", name.toStdString()},
                              {"received", QFileInfo(data).size()},
                              {"total", known.value("total", 0LL)},
                              {"sha256", known.value("sha256", "")},
                              {"complete", false},
                              {"receiving", uploading_.count(name) != 0}});
  }
  const QFileInfo done(uploadDir() + "/" + name);
  if (done.isFile()) {
    return jsonResponse(200, {{"name", name.toStdString()},
                              {"received", done.size()},
                              {"total", done.size()},
                              {"sha256", fileSha256Hex(done.filePath()).toStdString()},
                              {"complete", true},
                              {"receiving", false}});
  }
  return jsonError(404, "no upload named " + name);
}

void Agent::expirePartialUploads() {
  const QDir dir(partialDir());
  const QDateTime limit = QDateTime::currentDateTimeUtc().addSecs(-options_.partialUploadSeconds);
  for (const QFileInfo& f : dir.entryInfoList(QDir::Files | QDir::Hidden)) {
    const bool meta = f.fileName().startsWith('.');
    const QString name = meta ? f.fileName().mid(1).chopped(5) : f.fileName();
    if (uploading_.count(name) != 0) continue;
    // The data file's time says when bytes last arrived; data without its record is stale.
    const QFileInfo data(dir.filePath(name));
    const QDateTime touched = data.exists() ? data.lastModified() : f.lastModified();
    if (touched < limit || !QFileInfo::exists(partialMeta(name))) QFile::remove(f.filePath());
  }
}

HttpResponse Agent::submit(const HttpRequest& request) {
  JobSpec spec;
  try {
    spec = parseJobSpec(request.body.toStdString());
    const auto launcher = launchers_.find(QString::fromStdString(spec.launcher));
    if (launcher == launchers_.end()) throw SpecError("launcher: not available on this agent");
    launcher->second->check(spec);
  } catch (const SpecError& e) {
    return jsonError(400, QString::fromStdString(e.what()));
  }
  json inputs = json::object();
  for (const std::string& name : spec.inputs()) {
    const QString path = uploadDir() + "/" + QString::fromStdString(name);
    const QFileInfo info(path);
    if (!info.isFile() || info.isSymLink()) {
      return jsonError(
          400, "no uploaded file '" + QString::fromStdString(name) + "'; PUT /uploads/NAME first");
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
    j["launcher"] = spec.value("launcher", "local");
    j["gpus"] = spec.value("gpus", 0);
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
  // The launcher's own view: its id for the job (pid, Slurm job id), what it last saw, and the
  // GPU devices the job holds.
  j["launcher_id"] = job->handle.empty() ? json(nullptr) : json(job->handle);
  json devices = json::array();
  for (const QString& d : QString::fromStdString(job->gpus).split(',', Qt::SkipEmptyParts))
    devices.push_back(d.toInt());
  j["devices"] = devices;
  if (const Launcher* launcher = launcherOf(*job);
      launcher != nullptr && !launcher->detail(id).isEmpty()) {
    j["launcher_state"] = launcher->detail(id).toStdString();
  }
  return jsonResponse(200, j);
}

HttpResponse Agent::control(std::int64_t id, const HttpRequest& request) {
  const auto job = store_.job(id);
  if (!job) return jsonError(404, "no such job");
  const Launcher* launcher = launcherOf(*job);
  if (job->state != "running" || launcher == nullptr || !launcher->watching(id)) {
    return jsonError(409, "the job is not running");
  }
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
  if (::rename(QFile::encodeName(tmp).constData(),
               QFile::encodeName(run + "/control").constData()) != 0) {
    QFile::remove(tmp);
    return jsonError(500, "cannot write the control file");
  }
  return jsonResponse(202, {{"id", id}, {"control", json::parse(command)}});
}

HttpResponse Agent::cancel(std::int64_t id) {
  const auto job = store_.job(id);
  if (!job) return jsonError(404, "no such job");
  if (isTerminal(job->state))
    return jsonError(409, "the job has already ended (" + QString::fromStdString(job->state) + ")");
  if (job->state == "queued") {
    store_.setEnded(id, "cancelled", std::nullopt, "cancelled before it started");
    return show(id);
  }
  Launcher* launcher = launcherOf(*job);
  if (launcher == nullptr || !launcher->watching(id))
    return jsonError(409, "the job is not running");
  // Remembered on disk, so that an agent restarted before the job ends still says "cancelled".
  QFile(jobDir(id) + "/cancel-requested").open(QIODevice::WriteOnly);
  launcher->cancel(id);
  auto r = show(id);
  r.status = 202;
  return r;
}

HttpResponse Agent::remove(std::int64_t id) {
  const auto job = store_.job(id);
  if (!job) return jsonError(404, "no such job");
  if (!isTerminal(job->state)) return cancel(id);  // DELETE on a live job cancels it (202)
  // The row first: a crash in between leaves an orphaned directory, never a job without files.
  store_.deleteJob(id);
  QDir(jobDir(id)).removeRecursively();
  HttpResponse r;
  r.status = 204;
  r.contentType.clear();
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
// Scheduling; the launchers (remote/launch/) run the processes.

void Agent::schedule() {
  if (recovering_) return;
  // The local launcher takes its queue in order: a job waiting for GPUs or a free slot holds
  // back the local jobs behind it (no starvation). Slurm jobs go to Slurm's queue at once.
  bool localWaits = false;
  for (const JobRecord& job : store_.jobs("queued")) {
    JobSpec spec;
    try {
      spec = storedSpec(job);
    } catch (const std::exception& e) {
      store_.setEnded(job.id, "failed", std::nullopt,
                      std::string("invalid stored spec: ") + e.what());
      continue;
    }
    Launcher* launcher = launcherOf(job);
    if (launcher == nullptr) {
      store_.setEnded(job.id, "failed", std::nullopt,
                      "launcher " + spec.launcher + " is not available");
      continue;
    }
    if (spec.launcher == "local") {
      if (localWaits) continue;
      if (!launcher->canStart(spec)) {
        localWaits = true;
        continue;
      }
    }
    launch(job, *launcher, spec);
  }
}

void Agent::launch(const JobRecord& job, Launcher& launcher, const JobSpec& spec) {
  try {
    const Launched started = launcher.start(launchJob(job, spec));
    store_.setLaunched(job.id, started.handle.toStdString(), started.pid,
                       started.gpus.toStdString());
  } catch (const std::exception& e) {
    std::string message = e.what();
    const QString tail = fileTail(jobDir(job.id) + "/output.log", 600);
    if (!tail.isEmpty()) message += "; end of the log: " + tail.toStdString();
    store_.setEnded(job.id, "failed", std::nullopt, message);
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

}  // namespace ptyx::agent
