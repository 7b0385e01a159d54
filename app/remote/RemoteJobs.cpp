#include "RemoteJobs.hpp"

#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTimer>

#include <memory>

#include "CommandBus.hpp"
#include "params/ParameterSchema.hpp"

namespace ptyx::app {

namespace {
const QStringList kControlCommands{QStringLiteral("pause"), QStringLiteral("resume"),
                                   QStringLiteral("stop"), QStringLiteral("set"),
                                   QStringLiteral("cancel")};
const QStringList kFileParameters{QStringLiteral("probe_file"), QStringLiteral("object_file")};
}  // namespace

RemoteJobs::RemoteJobs(CommandBus& bus, QObject* parent) : QObject(parent), bus_(bus) {
  QString error;
  if (!profiles_.load(&error)) {
    QTimer::singleShot(0, this,
                       [this, error] { emit failed(tr("Cannot read the agent profiles"), error); });
  }
  bus_.setJobHandlers([this](const QJsonObject& a, QString* why) { return submit(a, why); },
                      [this](const QJsonObject& a, QString* why) { return control(a, why); });
}

bool RemoteJobs::saveProfiles(QString* why) {
  const bool ok = profiles_.save(why);
  emit profilesChanged();
  return ok;
}

client::AgentClient* RemoteJobs::client(const QString& agent) {
  const AgentProfile* profile = profiles_.find(agent);
  if (!profile) return nullptr;
  auto* existing = clients_.value(agent);
  if (existing) {
    const auto& e = existing->endpoint();
    const auto want = profile->endpoint();
    if (e.url == want.url && e.token == want.token && e.pinnedCertSha256 == want.pinnedCertSha256 &&
        e.caFile == want.caFile) {
      return existing;
    }
    // Kept (a child of this object) so that its calls in flight still deliver their answers;
    // new calls go to the new endpoint. Profiles change rarely.
    clients_.remove(agent);
  }
  auto* c = new client::AgentClient(profile->endpoint(), agent, this);
  connect(c, &client::AgentClient::uploadProgress, this,
          [this, agent](const QString&, qint64 sent, qint64 total) {
            emit uploadProgress(agent, sent, total);
          });
  clients_.insert(agent, c);
  return c;
}

QString RemoteJobs::agentName(const QString& text) {
  QString name = text;
  name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("_"));
  while (!name.isEmpty() && !name.front().isLetterOrNumber()) name.remove(0, 1);
  name.truncate(100);
  return name.isEmpty() ? QStringLiteral("job") : name;
}

void RemoteJobs::ensureLocal(std::function<void(const QString&)> then) {
  const QString localName = QString::fromLatin1(AgentProfiles::kLocalName);
  const AgentProfile* known = profiles_.find(localName);
  if (local_.isRunning() && known && known->url == local_.url() && !known->token.isEmpty()) {
    then({});
    return;
  }
  // One-shot connections to the agent's ready/failed; whichever comes first disconnects both.
  auto connections =
      std::make_shared<std::pair<QMetaObject::Connection, QMetaObject::Connection>>();
  auto finish = [connections] {
    QObject::disconnect(connections->first);
    QObject::disconnect(connections->second);
  };
  auto onReady = [this, then, finish, localName](const QUrl& url) {
    finish();
    AgentProfile p;
    if (const AgentProfile* old = profiles_.find(localName)) p = *old;
    p.name = localName;
    p.url = url;
    p.local = true;
    auto useToken = [this, then, p](QByteArray token) mutable {
      QString why;
      if (token.isEmpty()) token = local_.addToken(&why);
      if (token.isEmpty()) {
        then(why);
        return;
      }
      p.token = token;
      profiles_.upsert(p);
      saveProfiles(&why);
      then({});
    };
    if (p.token.isEmpty()) {
      useToken({});
      return;
    }
    // A token from an earlier session: still valid unless the data directory was reset.
    profiles_.upsert(p);
    client(localName)->health(
        [useToken, p](const client::AgentResult& r) mutable {
          useToken(r.status == 401 ? QByteArray() : p.token);
        },
        this);
  };
  if (local_.isRunning()) {
    onReady(local_.url());
    return;
  }
  connections->first = connect(&local_, &LocalAgent::ready, this, onReady);
  connections->second =
      connect(&local_, &LocalAgent::failed, this, [then, finish](const QString& why) {
        finish();
        then(why);
      });
  emit message(tr("Starting the local agent…"));
  local_.start();
}

QJsonObject RemoteJobs::submitArguments(const QString& agent, const JobOptions& options) const {
  const Workbench& wb = bus_.workbench();
  QJsonObject parameters =
      QJsonDocument::fromJson(QByteArray::fromStdString(toJson(wb.parameters()))).object();
  QJsonObject files;
  for (const QString& key : kFileParameters) {
    const QString value = parameters.value(key).toString();
    parameters.remove(key);
    if (!value.isEmpty()) files.insert(key, QFileInfo(value).absoluteFilePath());
  }
  // threads 0 means every core for each rank: with several ranks on one machine that would
  // oversubscribe it, so several ranks get one thread each unless the form says otherwise.
  if (wb.parameters().threads == 0 && options.ranks > 1)
    parameters.insert(QStringLiteral("threads"), 1);
  if (options.snapshotInterval_s >= 0.0)
    parameters.insert(QStringLiteral("snapshot_interval"), options.snapshotInterval_s);
  QJsonObject spec{
      {"version", 1},
      {"name", agentName(options.name.isEmpty() ? QFileInfo(wb.scanPath()).completeBaseName()
                                                : options.name)},
      {"ranks", options.ranks},
      {"launcher", options.launcher},
      {"parameters", parameters}};
  if (options.gpus > 0) spec.insert(QStringLiteral("gpus"), options.gpus);
  if (options.launcher == QLatin1String("slurm")) {
    // Site-template values (docs/AGENT.md, launchers): validated by the agent, never a shell's.
    QJsonObject launcherOptions;
    if (!options.partition.isEmpty())
      launcherOptions.insert(QStringLiteral("partition"), options.partition);
    if (!options.wallTime.isEmpty())
      launcherOptions.insert(QStringLiteral("wall_time"), options.wallTime);
    if (!launcherOptions.isEmpty())
      spec.insert(QStringLiteral("launcher_options"), launcherOptions);
  }
  QJsonObject a{
      {"agent", agent}, {"scan", QFileInfo(wb.scanPath()).absoluteFilePath()}, {"spec", spec}};
  if (!files.isEmpty()) a.insert(QStringLiteral("files"), files);
  return a;
}

bool RemoteJobs::submit(const QJsonObject& arguments, QString* why) {
  const QString agent = arguments.value(QStringLiteral("agent")).toString();
  const AgentProfile* profile = profiles_.find(agent);
  if (!profile && agent == QLatin1String(AgentProfiles::kLocalName)) {
    // The loopback agent's profile is made the first time it is used; ensureLocal fills it in.
    AgentProfile local;
    local.name = agent;
    local.url = QUrl(QStringLiteral("http://127.0.0.1"));
    local.local = true;
    profiles_.upsert(local);
    profile = profiles_.find(agent);
  }
  if (!profile) {
    *why = tr("There is no agent profile named '%1' (Remote ▸ Agents…).").arg(agent);
    return false;
  }
  const QString scan = arguments.value(QStringLiteral("scan")).toString();
  if (scan.isEmpty() || !QFileInfo(scan).isFile()) {
    *why = tr("The scan to submit does not exist: '%1'.").arg(scan);
    return false;
  }
  QJsonObject spec = arguments.value(QStringLiteral("spec")).toObject();
  if (spec.isEmpty()) {
    *why = tr("submit_job needs a spec.");
    return false;
  }
  QList<Upload> uploads{{scan, agentName(QFileInfo(scan).fileName())}};
  spec.insert(QStringLiteral("scan"), uploads.front().name);
  QJsonObject parameters = spec.value(QStringLiteral("parameters")).toObject();
  const QJsonObject files = arguments.value(QStringLiteral("files")).toObject();
  for (auto it = files.begin(); it != files.end(); ++it) {
    if (!kFileParameters.contains(it.key()) || !QFileInfo(it.value().toString()).isFile()) {
      *why = tr("%1: '%2' is not a file.").arg(it.key(), it.value().toString());
      return false;
    }
    uploads.append({it.value().toString(), agentName(QFileInfo(it.value().toString()).fileName())});
    parameters.insert(it.key(), uploads.back().name);
  }
  spec.insert(QStringLiteral("parameters"), parameters);
  if (profile->local) {
    ensureLocal([this, agent, uploads, spec](const QString& error) {
      if (!error.isEmpty()) {
        emit failed(tr("Cannot start the local agent"), error);
        return;
      }
      continueSubmit(agent, uploads, spec);
    });
  } else {
    continueSubmit(agent, uploads, spec);
  }
  return true;
}

void RemoteJobs::continueSubmit(const QString& agent, QList<Upload> uploads, QJsonObject spec) {
  auto* c = client(agent);
  if (!c) {
    emit failed(tr("Cannot submit"), tr("There is no agent profile named '%1'.").arg(agent));
    return;
  }
  if (uploads.isEmpty()) {
    emit message(
        tr("Submitting %1 to %2…").arg(spec.value(QStringLiteral("name")).toString(), agent));
    c->submit(
        spec,
        [this, agent](const client::AgentResult& r) {
          if (!r.ok) {
            emit failed(tr("Cannot submit the job"), r.error);
            return;
          }
          emit message(tr("Job %1 submitted to %2")
                           .arg(r.json.value(QStringLiteral("id")).toInteger())
                           .arg(agent));
          emit jobSubmitted(agent, r.json);
        },
        this);
    return;
  }
  const Upload next = uploads.takeFirst();
  emit message(tr("Uploading %1 to %2…").arg(QFileInfo(next.path).fileName(), agent));
  c->upload(
      next.path, next.name,
      [this, agent, uploads, spec](const client::AgentResult& r) {
        if (!r.ok) {
          emit failed(tr("Cannot upload to %1").arg(agent), r.error);
          return;
        }
        continueSubmit(agent, uploads, spec);
      },
      this);
}

bool RemoteJobs::control(const QJsonObject& arguments, QString* why) {
  const QString agent = arguments.value(QStringLiteral("agent")).toString();
  auto* c = client(agent);
  if (!c) {
    *why = tr("There is no agent profile named '%1'.").arg(agent);
    return false;
  }
  const qint64 job = arguments.value(QStringLiteral("job")).toInteger(-1);
  const QString command = arguments.value(QStringLiteral("command")).toString();
  const QJsonObject set = arguments.value(QStringLiteral("set")).toObject();
  if (job <= 0 || !kControlCommands.contains(command) ||
      (command == QLatin1String("set") && set.isEmpty())) {
    *why =
        tr("job_control needs a job and one of pause, resume, stop, set (with changes) or cancel.");
    return false;
  }
  auto done = [this, agent, job, command](const client::AgentResult& r) {
    if (!r.ok) {
      emit failed(tr("Cannot %1 job %2").arg(command).arg(job), r.error);
      return;
    }
    emit message(tr("%1: job %2 on %3").arg(command).arg(job).arg(agent));
    emit jobControlled(agent, job, command);
  };
  if (command == QLatin1String("cancel")) {
    c->cancel(job, done, this);
  } else {
    c->control(job, {command == QLatin1String("set") ? QString() : command, set}, done, this);
  }
  return true;
}

}  // namespace ptyx::app
