#include "Launcher.hpp"

#include <QFile>
#include <QProcessEnvironment>

#include <unistd.h>

#include "LocalLauncher.hpp"
#include "SlurmLauncher.hpp"

namespace ptyx::agent {

QStringList LaunchJob::reconCommand(const QString& ptyx) const {
  QStringList out{ptyx};
  for (const std::string& a :
       spec.reconArguments((dir + "/inputs").toStdString(), runDir().toStdString(),
                           (dir + "/result.cxi").toStdString())) {
    out << QString::fromStdString(a);
  }
  return out;
}

std::map<QString, std::unique_ptr<Launcher>> makeLaunchers(const LaunchSettings& settings,
                                                           int maxRunning) {
  std::map<QString, std::unique_ptr<Launcher>> out;
  out["local"] = std::make_unique<LocalLauncher>(settings, maxRunning);
  // Without a template (none given, none installed) the agent serves local jobs only.
  if (!settings.slurmTemplate.isEmpty()) out["slurm"] = std::make_unique<SlurmLauncher>(settings);
  return out;
}

void allowMpiAsRoot(QProcessEnvironment& env) {
  if (::geteuid() == 0) {
    env.insert("OMPI_ALLOW_RUN_AS_ROOT", "1");
    env.insert("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
  }
}

QString fileTail(const QString& path, qint64 bytes) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  if (f.size() > bytes) f.seek(f.size() - bytes);
  return QString::fromUtf8(f.read(bytes));
}

}  // namespace ptyx::agent
