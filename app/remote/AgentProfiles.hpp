#pragma once
// Agent profiles (docs/AGENT.md, "From the workbench"): name, URL, bearer token and how to trust
// the agent's certificate. Kept in one JSON file in the user's configuration directory, readable
// by the user alone (0600, checked and tightened on load), because it holds tokens; tokens never
// go to QSettings or to any log.
#include <QByteArray>
#include <QList>
#include <QString>
#include <QUrl>

#include "AgentEndpoint.hpp"

namespace ptyx::app {

struct AgentProfile {
  QString name;
  QUrl url;
  QByteArray token;
  QByteArray pinnedCertSha256;  ///< SHA-256 of the agent's DER certificate, hex; empty = no pin
  QString caFile;               ///< PEM file of CAs to trust; empty = the system's
  bool local = false;           ///< the workbench's own loopback agent ("Run locally")

  [[nodiscard]] client::AgentEndpoint endpoint() const {
    return {url, token, pinnedCertSha256, caFile};
  }
  bool operator==(const AgentProfile&) const = default;
};

class AgentProfiles {
 public:
  /// The name of the profile of the loopback agent that "Run locally" starts.
  static constexpr const char* kLocalName = "Local";

  explicit AgentProfiles(QString path = defaultPath());
  /// <config dir>/agents.json (QStandardPaths::AppConfigLocation).
  [[nodiscard]] static QString defaultPath();
  [[nodiscard]] const QString& path() const { return path_; }

  /// Reads the file (none yet: no profiles); tightens its permissions to 0600 first. False and
  /// `error` naming the file when it cannot be read or parsed.
  bool load(QString* error = nullptr);
  /// Writes the file atomically, created 0600.
  bool save(QString* error = nullptr) const;

  [[nodiscard]] const QList<AgentProfile>& profiles() const { return profiles_; }
  [[nodiscard]] const AgentProfile* find(const QString& name) const;
  /// Adds the profile, or replaces the one of the same name.
  void upsert(const AgentProfile& profile);
  void remove(const QString& name);
  void setProfiles(QList<AgentProfile> profiles) { profiles_ = std::move(profiles); }

 private:
  QString path_;
  QList<AgentProfile> profiles_;
};

}  // namespace ptyx::app
