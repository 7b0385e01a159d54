#pragma once
#include <QByteArray>
#include <QString>
#include <QUrl>
namespace ptyx::client {
/// Where an agent is and how to trust it: base URL (http:// or https://), bearer token, and
/// either a pinned certificate (SHA-256 of its DER bytes, hex) or a CA file; neither = system CAs.
struct AgentEndpoint {
  QUrl url;
  QByteArray token;
  QByteArray pinnedCertSha256;
  QString caFile;
};
}  // namespace ptyx::client
