// ptyx-agent: runs reconstruction jobs for clients over HTTP+JSON (docs/AGENT.md).
//   ptyx-agent serve --listen HOST:PORT --data DIR [--tls-cert F --tls-key F]
//   ptyx-agent token add|list|revoke --data DIR
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QRegularExpression>

#include <sys/stat.h>
#include <cstdio>
#include <iostream>

#include "Agent.hpp"
#include "HttpServer.hpp"
#include "Store.hpp"

using namespace ptyx::agent;

namespace {

int fail(const QString& message, int code = 2) {
  std::cerr << "ptyx-agent: " << message.toStdString() << "\n";
  return code;
}

/// The data directory, created owner-only, as an absolute path.
QString dataDirectory(const QCommandLineParser& parser) {
  const QString dir = QDir(parser.value("data")).absolutePath();
  QDir().mkpath(dir);
  ::chmod(QFile::encodeName(dir).constData(), 0700);
  return dir;
}

QString ptyxBinary(const QCommandLineParser& parser) {
  if (parser.isSet("ptyx")) return parser.value("ptyx");
  const QString env = qEnvironmentVariable("PTYX_BIN");
  if (!env.isEmpty()) return env;
  const QString beside = QCoreApplication::applicationDirPath() + "/ptyx";
  if (QFileInfo(beside).isExecutable()) return beside;
  return QStringLiteral(PTYX_AGENT_BUILD_PTYX);  // the build tree's ptyx
}

QString mpirunBinary(const QCommandLineParser& parser) {
  if (parser.isSet("mpirun")) return parser.value("mpirun");
  const QString env = qEnvironmentVariable("PTYX_MPIRUN");
  return env.isEmpty() ? QStringLiteral(PTYX_AGENT_MPIRUN) : env;
}

/// The shipped batch template: installed beside the binary's prefix, else the source tree's.
QString slurmTemplate(const QCommandLineParser& parser) {
  if (parser.isSet("slurm-template")) return parser.value("slurm-template");
  const QString installed =
      QCoreApplication::applicationDirPath() + "/../share/ptyx/launch/slurm.sbatch";
  if (QFileInfo::exists(installed)) return QFileInfo(installed).canonicalFilePath();
  const QString source = QStringLiteral(PTYX_AGENT_SOURCE_TEMPLATE);
  return QFileInfo::exists(source) ? source : QString();  // none: no slurm launcher
}

/// The device ids `ptyx devices` reports ("device N: …" lines); none when it reports none.
std::vector<int> reportedDevices(const QString& ptyx) {
  QProcess p;
  p.start(ptyx, {"devices"});
  std::vector<int> out;
  if (!p.waitForFinished(60'000)) return out;
  static const QRegularExpression line("^device ([0-9]+):", QRegularExpression::MultilineOption);
  for (auto it = line.globalMatch(QString::fromLocal8Bit(p.readAllStandardOutput()));
       it.hasNext();) {
    out.push_back(it.next().captured(1).toInt());
  }
  return out;
}

/// "0,1,3": device ids, each at most once.
bool parseDevices(const QString& text, std::vector<int>& out) {
  out.clear();
  for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const int id = part.trimmed().toInt(&ok);
    if (!ok || id < 0 || id > 4095 || std::find(out.begin(), out.end(), id) != out.end())
      return false;
    out.push_back(id);
  }
  return true;
}

int serve(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription("Serve the job API");
  parser.addHelpOption();
  parser.addOptions({
      {"listen",
       "Address and port, e.g. 127.0.0.1:8470 ([::1]:8470 for IPv6; port 0: any free one)",
       "HOST:PORT"},
      {"data", "Data directory: agent.db, uploads/, jobs/", "DIR"},
      {"tls-cert", "TLS certificate chain (PEM)", "FILE"},
      {"tls-key", "TLS private key (PEM)", "FILE"},
      {"ptyx",
       "The ptyx binary (default: $PTYX_BIN, else next to ptyx-agent, else the build tree's)",
       "FILE"},
      {"mpirun", "The MPI launcher (default: $PTYX_MPIRUN, else the one found at build time)",
       "FILE"},
      {"max-upload-mib", "Largest upload accepted, MiB (default 1024)", "N", "1024"},
      {"max-running", "Jobs running at once; more wait queued (default 4)", "N", "4"},
      {"slurm-template", "Batch template of the slurm launcher (default: the shipped slurm.sbatch)",
       "FILE"},
      {"gpus",
       "GPU device ids of the local launcher's pool, e.g. 0,1 (default: those `ptyx devices` "
       "reports; \"\" for none)",
       "LIST"},
      {"max-uploads", "Uploads receiving at once; more get 503 with Retry-After (default 4)", "N",
       "4"},
      {"partial-upload-hours", "Remove partial uploads untouched this long (default 24)", "H",
       "24"},
  });
  parser.process(args);
  if (!parser.isSet("listen") || !parser.isSet("data"))
    return fail("serve needs --listen HOST:PORT and --data DIR");
  QString listen = parser.value("listen");
  const qsizetype colon = listen.lastIndexOf(':');
  bool portOk = false;
  const uint port = colon > 0 ? listen.mid(colon + 1).toUInt(&portOk) : 0;
  QString host = colon > 0 ? listen.left(colon) : QString();
  if (host.startsWith('[') && host.endsWith(']')) host = host.mid(1, host.size() - 2);
  if (!portOk || port > 65535 || host.isEmpty())
    return fail("--listen wants HOST:PORT, got " + listen);
  bool ok = false;
  AgentOptions options;
  options.dataDir = dataDirectory(parser);
  options.ptyx = ptyxBinary(parser);
  options.mpirun = mpirunBinary(parser);
  options.maxUploadBytes = parser.value("max-upload-mib").toLongLong(&ok) << 20;
  if (!ok || options.maxUploadBytes <= 0) return fail("--max-upload-mib wants a positive number");
  options.maxRunning = parser.value("max-running").toInt(&ok);
  if (!ok || options.maxRunning < 1) return fail("--max-running wants a positive number");
  options.maxUploads = parser.value("max-uploads").toInt(&ok);
  if (!ok || options.maxUploads < 1) return fail("--max-uploads wants a positive number");
  const double hours = parser.value("partial-upload-hours").toDouble(&ok);
  if (!ok || hours <= 0) return fail("--partial-upload-hours wants a positive number");
  options.partialUploadSeconds = std::max<qint64>(1, static_cast<qint64>(hours * 3600));
  options.slurmTemplate = slurmTemplate(parser);
  if (parser.isSet("gpus")) {
    if (!parseDevices(parser.value("gpus"), options.gpus)) {
      return fail("--gpus wants device ids like 0,1 (each once), got " + parser.value("gpus"));
    }
  } else {
    options.gpus = reportedDevices(options.ptyx);
  }
  try {
    Agent agent(options);
    HttpServer server(agent);
    server.listen(host, static_cast<quint16>(port), parser.value("tls-cert"),
                  parser.value("tls-key"));
    agent.recover();
    std::cout << "ptyx-agent: listening on " << (parser.isSet("tls-cert") ? "https" : "http")
              << "://" << listen.left(colon).toStdString() << ":" << server.port() << ", data "
              << options.dataDir.toStdString() << ", ptyx " << options.ptyx.toStdString() << ", "
              << options.gpus.size() << " GPU(s) in the pool, slurm template "
              << (options.slurmTemplate.isEmpty() ? "none (no slurm launcher)"
                                                  : options.slurmTemplate.toStdString())
              << std::endl;
    return QCoreApplication::exec();
  } catch (const std::exception& e) {
    return fail(QString::fromStdString(e.what()), 1);
  }
}

int token(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription("Manage bearer tokens: add [--name LABEL] | list | revoke ID");
  parser.addHelpOption();
  parser.addOptions(
      {{"data", "Data directory", "DIR"}, {"name", "Label for a new token", "LABEL", "client"}});
  parser.addPositionalArgument("action", "add, list or revoke");
  parser.addPositionalArgument("id", "Token id (revoke)");
  parser.process(args);
  const QStringList pos = parser.positionalArguments();
  if (!parser.isSet("data") || pos.isEmpty())
    return fail("usage: ptyx-agent token add|list|revoke [ID] --data DIR");
  try {
    Store store((dataDirectory(parser) + "/agent.db").toStdString());
    if (pos[0] == "add" && pos.size() == 1) {
      // 32 random bytes from the system's generator, shown once; only SHA-256 of it is kept.
      QByteArray raw(32, '\0');
      QRandomGenerator::system()->generate(reinterpret_cast<quint32*>(raw.data()),
                                           reinterpret_cast<quint32*>(raw.data() + raw.size()));
      const QByteArray secret =
          "ptyx_" + raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
      const auto id = store.addToken(parser.value("name").toStdString(), sha256(secret));
      std::cerr << "ptyx-agent: token " << id << " (" << parser.value("name").toStdString()
                << ") added; it is shown only this once:\n";
      std::cout << secret.toStdString() << std::endl;
      return 0;
    }
    if (pos[0] == "list" && pos.size() == 1) {
      for (const auto& t : store.tokens()) {
        std::cout << t.id << "\t" << t.name << "\tcreated " << t.created
                  << (t.revoked.empty() ? "" : "\trevoked " + t.revoked) << "\n";
      }
      return 0;
    }
    if (pos[0] == "revoke" && pos.size() == 2) {
      bool ok = false;
      const qlonglong id = pos[1].toLongLong(&ok);
      if (!ok || !store.revokeToken(id)) return fail("no valid token with id " + pos[1]);
      std::cerr << "ptyx-agent: token " << id << " revoked\n";
      return 0;
    }
    return fail("usage: ptyx-agent token add|list|revoke [ID] --data DIR");
  } catch (const std::exception& e) {
    return fail(QString::fromStdString(e.what()), 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName("ptyx-agent");
  QCoreApplication::setApplicationVersion(PTYX_VERSION);
  QStringList args = QCoreApplication::arguments();
  const QString usage =
      "usage: ptyx-agent serve --listen HOST:PORT --data DIR [--tls-cert F --tls-key F]\n"
      "       ptyx-agent token add|list|revoke [ID] --data DIR\n"
      "       ptyx-agent --version";
  if (args.size() < 2) return fail(usage);
  const QString command = args[1];
  if (command == "--version") {
    std::cout << "ptyx-agent " << PTYX_VERSION << "\n";
    return 0;
  }
  if (command == "--help" || command == "-h") {
    std::cout << usage.toStdString() << "\n";
    return 0;
  }
  args.removeAt(1);
  args[0] += " " + command;
  if (command == "serve") return serve(args);
  if (command == "token") return token(args);
  return fail("unknown command '" + command + "'\n" + usage);
}
