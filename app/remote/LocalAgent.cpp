#include "LocalAgent.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>

#ifdef __linux__
#include <sys/prctl.h>

#include <csignal>
#endif

namespace ptyx::app {

LocalAgent::LocalAgent(QObject* parent) : QObject(parent) {}

LocalAgent::~LocalAgent() {
  if (process_ && process_->state() != QProcess::NotRunning) {
    process_->disconnect(this);
    process_->terminate();
    if (!process_->waitForFinished(3000)) process_->kill();
    process_->waitForFinished(1000);
  }
}

QString LocalAgent::agentBinary() {
  const QString beside = QCoreApplication::applicationDirPath() + QStringLiteral("/ptyx-agent");
  if (QFileInfo(beside).isExecutable()) return beside;
  const QString fromEnv = qEnvironmentVariable("PTYX_AGENT_BIN");
  if (!fromEnv.isEmpty()) return fromEnv;
#ifdef PTYX_GUI_BUILD_AGENT
  if (QFileInfo(QStringLiteral(PTYX_GUI_BUILD_AGENT)).isExecutable())
    return QStringLiteral(PTYX_GUI_BUILD_AGENT);
#endif
  return {};
}

QString LocalAgent::dataDirectory() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
         QStringLiteral("/agent");
}

QByteArray LocalAgent::addToken(QString* why) const {
  const QString bin = agentBinary();
  if (bin.isEmpty()) {
    if (why)
      *why = tr("ptyx-agent was not found (next to ptyx-gui, $PTYX_AGENT_BIN or the build tree).");
    return {};
  }
  QDir().mkpath(dataDirectory());
  QProcess p;
  p.start(bin, {QStringLiteral("token"), QStringLiteral("add"), QStringLiteral("--data"),
                dataDirectory(), QStringLiteral("--name"), QStringLiteral("ptyx-gui")});
  if (!p.waitForFinished(30'000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    if (why) {
      *why = tr("%1 token add failed: %2")
                 .arg(bin, QString::fromLocal8Bit(p.readAllStandardError()).trimmed());
    }
    return {};
  }
  return p.readAllStandardOutput().trimmed();
}

void LocalAgent::start() {
  if (process_) return;
  const QString bin = agentBinary();
  if (bin.isEmpty()) {
    emit failed(
        tr("ptyx-agent was not found (next to ptyx-gui, $PTYX_AGENT_BIN or the build tree)."));
    return;
  }
  QDir().mkpath(dataDirectory());
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::SeparateChannels);
  connect(process_, &QProcess::readyReadStandardOutput, this, &LocalAgent::onOutput);
  connect(process_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus) {
    const QString error = QString::fromLocal8Bit(process_->readAllStandardError()).trimmed();
    const bool wasReady = url_.isValid();
    process_->deleteLater();
    process_ = nullptr;
    url_ = QUrl();
    output_.clear();
    emit failed(wasReady
                    ? tr("the local agent stopped (exit code %1) %2").arg(code).arg(error)
                    : tr("the local agent did not start (exit code %1): %2").arg(code).arg(error));
  });
  connect(process_, &QProcess::errorOccurred, this, [this, bin](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart)
      emit failed(tr("cannot start %1: %2").arg(bin, process_->errorString()));
  });
#ifdef __linux__
  // The agent goes when the workbench goes, even when it crashes (its jobs run on regardless).
  process_->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
  process_->start(bin, {QStringLiteral("serve"), QStringLiteral("--listen"),
                        QStringLiteral("127.0.0.1:0"), QStringLiteral("--data"), dataDirectory()});
}

void LocalAgent::onOutput() {
  output_ += process_->readAllStandardOutput();
  if (url_.isValid()) return;
  // "ptyx-agent: listening on http://127.0.0.1:PORT, data ..."
  static const QRegularExpression listening(
      QStringLiteral(R"(listening on (https?)://([^\s,]+):(\d+))"));
  const auto m = listening.match(QString::fromLocal8Bit(output_));
  if (!m.hasMatch()) return;
  url_ = QUrl(QStringLiteral("%1://%2:%3").arg(m.captured(1), m.captured(2), m.captured(3)));
  emit ready(url_);
}

}  // namespace ptyx::app
