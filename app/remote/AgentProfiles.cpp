#include "AgentProfiles.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>

namespace ptyx::app {

namespace {
constexpr auto kUserOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
}

AgentProfiles::AgentProfiles(QString path) : path_(std::move(path)) {}

QString AgentProfiles::defaultPath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) +
         QStringLiteral("/agents.json");
}

const AgentProfile* AgentProfiles::find(const QString& name) const {
  for (const auto& p : profiles_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void AgentProfiles::upsert(const AgentProfile& profile) {
  for (auto& p : profiles_) {
    if (p.name == profile.name) {
      p = profile;
      return;
    }
  }
  profiles_.append(profile);
}

void AgentProfiles::remove(const QString& name) {
  profiles_.removeIf([&](const AgentProfile& p) { return p.name == name; });
}

bool AgentProfiles::load(QString* error) {
  profiles_.clear();
  QFile file(path_);
  if (!file.exists()) return true;
  // The file holds bearer tokens: whatever made it readable to others, it is the user's alone
  // from now on.
  if ((file.permissions() & ~kUserOnly) != 0 && !file.setPermissions(kUserOnly)) {
    if (error)
      *error = QObject::tr("%1: cannot restrict its permissions to the user: %2")
                   .arg(path_, file.errorString());
    return false;
  }
  if (!file.open(QIODevice::ReadOnly)) {
    if (error) *error = QObject::tr("%1: %2").arg(path_, file.errorString());
    return false;
  }
  QJsonParseError parse{};
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parse);
  if (!doc.isObject()) {
    if (error) *error = QObject::tr("%1: not a JSON object (%2)").arg(path_, parse.errorString());
    return false;
  }
  for (const QJsonValue& v : doc.object().value(QStringLiteral("agents")).toArray()) {
    const QJsonObject o = v.toObject();
    AgentProfile p;
    p.name = o.value(QStringLiteral("name")).toString();
    p.url = QUrl(o.value(QStringLiteral("url")).toString());
    p.token = o.value(QStringLiteral("token")).toString().toUtf8();
    p.pinnedCertSha256 = o.value(QStringLiteral("pinned_cert_sha256")).toString().toLatin1();
    p.caFile = o.value(QStringLiteral("ca_file")).toString();
    p.local = o.value(QStringLiteral("local")).toBool();
    if (p.name.isEmpty() || !p.url.isValid()) {
      if (error)
        *error = QObject::tr("%1: agents: an entry without a name or a valid url").arg(path_);
      return false;
    }
    profiles_.append(p);
  }
  return true;
}

bool AgentProfiles::save(QString* error) const {
  QJsonArray agents;
  for (const auto& p : profiles_) {
    QJsonObject o{
        {"name", p.name}, {"url", p.url.toString()}, {"token", QString::fromUtf8(p.token)}};
    if (!p.pinnedCertSha256.isEmpty())
      o.insert(QStringLiteral("pinned_cert_sha256"), QString::fromLatin1(p.pinnedCertSha256));
    if (!p.caFile.isEmpty()) o.insert(QStringLiteral("ca_file"), p.caFile);
    if (p.local) o.insert(QStringLiteral("local"), true);
    agents.append(o);
  }
  QDir().mkpath(QFileInfo(path_).absolutePath());
  QSaveFile file(path_);
  // Permissions are set on the temporary file before a byte of it is written.
  if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(kUserOnly)) {
    if (error) *error = QObject::tr("%1: %2").arg(path_, file.errorString());
    return false;
  }
  file.write(QJsonDocument(QJsonObject{{"version", 1}, {"agents", agents}}).toJson());
  if (!file.commit()) {
    if (error) *error = QObject::tr("%1: %2").arg(path_, file.errorString());
    return false;
  }
  return true;
}

}  // namespace ptyx::app
