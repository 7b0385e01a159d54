#include "CommandBus.hpp"

#include <QUndoCommand>

#include <exception>

#include "backend/Devices.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"

namespace ptyx::app {
namespace {

// One undoable change of the parameter set (a field, or a preset's several fields). Consecutive
// edits of the same field merge into one step, as a spin box's arrows would otherwise fill the
// stack; but only within one stretch of edits (no other command between them).
class SetParametersCommand final : public QUndoCommand {
 public:
  SetParametersCommand(Workbench& workbench, ReconParams before, ReconParams after,
                       const QString& text, int mergeId, int stretch)
      : QUndoCommand(text),
        workbench_(workbench),
        before_(std::move(before)),
        after_(std::move(after)),
        mergeId_(mergeId),
        stretch_(stretch) {}
  void redo() override { workbench_.setParameters(after_); }
  void undo() override { workbench_.setParameters(before_); }
  [[nodiscard]] int id() const override { return mergeId_; }
  bool mergeWith(const QUndoCommand* other) override {
    const auto* o = static_cast<const SetParametersCommand*>(other);
    if (o->mergeId_ != mergeId_ || mergeId_ < 0 || o->stretch_ != stretch_) return false;
    after_ = o->after_;
    return true;
  }

 private:
  Workbench& workbench_;
  ReconParams before_;
  ReconParams after_;
  int mergeId_;
  int stretch_;
};

int parameterIndex(const std::string& name) {
  const auto& schema = reconParameterSchema();
  for (std::size_t i = 0; i < schema.size(); ++i) {
    if (schema[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

CommandBus::CommandBus(Workbench& workbench, QObject* parent)
    : QObject(parent), workbench_(workbench) {}

void CommandBus::executed(const QString& name, const QJsonObject& arguments) {
  if (name != QLatin1String("set_parameter")) ++editStretch_;
  emit commandExecuted(name, arguments);
}

void CommandBus::openScan(const QString& path) {
  workbench_.openScan(path);
  executed(QStringLiteral("open_scan"), {{QStringLiteral("path"), path}});
}

bool CommandBus::followScan(const QString& path) {
  QString why;
  if (!workbench_.followScan(path, &why)) {
    emit commandRejected(QStringLiteral("follow_scan"), why);
    return false;
  }
  executed(QStringLiteral("follow_scan"), {{QStringLiteral("path"), path}});
  return true;
}

bool CommandBus::setParameter(const QString& name, const QString& value) {
  const QString command = QStringLiteral("set_parameter");
  ReconParams after = workbench_.parameters();
  try {
    ptyx::setParameter(after, name.toStdString(), value.toStdString());
    validate(after);
  } catch (const std::exception& e) {
    emit commandRejected(command, QString::fromStdString(e.what()));
    return false;
  }
  if (after == workbench_.parameters()) return true;
  undo_.push(new SetParametersCommand(workbench_, workbench_.parameters(), after,
                                      tr("Set %1 to %2").arg(name, value),
                                      parameterIndex(name.toStdString()), editStretch_));
  executed(command, {{QStringLiteral("name"), name}, {QStringLiteral("value"), value}});
  return true;
}

bool CommandBus::applyPreset(const QString& algorithm) {
  const QString command = QStringLiteral("apply_preset");
  ReconParams after = workbench_.parameters();
  try {
    ptyx::setParameter(after, "algorithm", algorithm.toStdString());
    ptyx::applyPreset(after, after.algorithm);
  } catch (const std::exception& e) {
    emit commandRejected(command, QString::fromStdString(e.what()));
    return false;
  }
  if (after != workbench_.parameters()) {
    undo_.push(new SetParametersCommand(workbench_, workbench_.parameters(), after,
                                        tr("Apply the %1 preset").arg(algorithm.toUpper()), -1,
                                        editStretch_));
  }
  executed(command, {{QStringLiteral("algorithm"), algorithm}});
  return true;
}

bool CommandBus::setBackend(const QString& name) {
  const QString command = QStringLiteral("set_backend");
  if (!isBackendName(name.toStdString())) {
    emit commandRejected(command,
                         tr("Unknown compute backend \"%1\" (auto, cpu or cuda).").arg(name));
    return false;
  }
  if (name == workbench_.backend()) return true;
  workbench_.setBackend(name);
  executed(command, {{QStringLiteral("backend"), name}});
  return true;
}

bool CommandBus::run() {
  QString why;
  if (!workbench_.run(&why)) {
    emit commandRejected(QStringLiteral("run"), why);
    return false;
  }
  executed(QStringLiteral("run"));
  return true;
}

void CommandBus::pause() {
  workbench_.pause();
  executed(QStringLiteral("pause"));
}

void CommandBus::resume() {
  workbench_.resume();
  executed(QStringLiteral("resume"));
}

bool CommandBus::step() {
  QString why;
  if (!workbench_.step(&why)) {
    emit commandRejected(QStringLiteral("step"), why);
    return false;
  }
  executed(QStringLiteral("step"));
  return true;
}

void CommandBus::stop() {
  workbench_.stop();
  executed(QStringLiteral("stop"));
}

void CommandBus::undo() {
  if (!undo_.canUndo()) return;
  const QString text = undo_.undoText();
  undo_.undo();
  executed(QStringLiteral("undo"), {{QStringLiteral("text"), text}});
}

void CommandBus::redo() {
  if (!undo_.canRedo()) return;
  const QString text = undo_.redoText();
  undo_.redo();
  executed(QStringLiteral("redo"), {{QStringLiteral("text"), text}});
}

void CommandBus::setJobHandlers(JobHandler submit, JobHandler control) {
  submitJob_ = std::move(submit);
  controlJob_ = std::move(control);
}

bool CommandBus::submitJob(const QJsonObject& arguments) {
  const QString command = QStringLiteral("submit_job");
  QString why = tr("Remote jobs are not available in this build.");
  if (!submitJob_ || !submitJob_(arguments, &why)) {
    emit commandRejected(command, why);
    return false;
  }
  executed(command, arguments);
  return true;
}

bool CommandBus::controlJob(const QJsonObject& arguments) {
  const QString command = QStringLiteral("job_control");
  QString why = tr("Remote jobs are not available in this build.");
  if (!controlJob_ || !controlJob_(arguments, &why)) {
    emit commandRejected(command, why);
    return false;
  }
  executed(command, arguments);
  return true;
}

bool CommandBus::saveResult(const QString& path, QString* why) {
  const auto result = workbench_.result();
  if (!result) {
    if (why) *why = tr("There is no result yet: run, pause or stop a reconstruction first.");
    return false;
  }
  try {
    writeResult(*result, path.toStdString());
  } catch (const std::exception& e) {
    if (why) *why = QString::fromStdString(e.what());
    return false;
  }
  executed(QStringLiteral("save_result"), {{QStringLiteral("path"), path}});
  return true;
}

bool CommandBus::execute(const QString& name, const QJsonObject& a) {
  if (name == QLatin1String("submit_job")) return submitJob(a);
  if (name == QLatin1String("job_control")) return controlJob(a);
  if (name == QLatin1String("open_scan")) {
    openScan(a.value(QStringLiteral("path")).toString());
    return true;
  }
  if (name == QLatin1String("follow_scan"))
    return followScan(a.value(QStringLiteral("path")).toString());
  if (name == QLatin1String("set_parameter")) {
    return setParameter(a.value(QStringLiteral("name")).toString(),
                        a.value(QStringLiteral("value")).toString());
  }
  if (name == QLatin1String("apply_preset")) {
    return applyPreset(a.value(QStringLiteral("algorithm")).toString());
  }
  if (name == QLatin1String("save_result")) {
    QString why;
    if (saveResult(a.value(QStringLiteral("path")).toString(), &why)) return true;
    emit commandRejected(name, why);
    return false;
  }
  if (name == QLatin1String("set_backend"))
    return setBackend(a.value(QStringLiteral("backend")).toString());
  if (name == QLatin1String("run")) return run();
  if (name == QLatin1String("step")) return step();
  if (name == QLatin1String("pause"))
    pause();
  else if (name == QLatin1String("resume"))
    resume();
  else if (name == QLatin1String("stop"))
    stop();
  else if (name == QLatin1String("undo"))
    undo();
  else if (name == QLatin1String("redo"))
    redo();
  else
    return false;
  return true;
}

}  // namespace ptyx::app
