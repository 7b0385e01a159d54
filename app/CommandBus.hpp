#pragma once
// The one command path (DESIGN.md §6): every user action that changes state goes through here,
// whether it came from a menu, a toolbar, the parameter form, drag and drop or a test. Parameter
// changes are QUndoCommands on the undo stack; run control is not undoable. After each command
// commandExecuted(name, arguments) is emitted: the session recorder listens to it, and replay
// calls execute() with what it recorded.
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QUndoStack>

#include <functional>

#include "Workbench.hpp"

namespace ptyx::app {

class CommandBus : public QObject {
  Q_OBJECT
 public:
  explicit CommandBus(Workbench& workbench, QObject* parent = nullptr);

  [[nodiscard]] QUndoStack* undoStack() { return &undo_; }
  [[nodiscard]] Workbench& workbench() { return workbench_; }

  void openScan(const QString& path);
  /// Reconstructs a growing scan while its frames arrive (Workbench::followScan).
  bool followScan(const QString& path);
  /// Validated through the schema; false (and commandRejected) when the value is refused.
  bool setParameter(const QString& name, const QString& value);
  /// Sets β, γ and the algorithm to the preset of "dm", "raar", "hio" or "er".
  bool applyPreset(const QString& algorithm);
  /// The compute backend of the next run: "auto", "cpu" or "cuda" (not undoable: a setting of
  /// where to compute, recorded so that a replay knows).
  bool setBackend(const QString& name);
  bool run();
  void pause();
  void resume();
  bool step();
  void stop();
  void undo();
  void redo();
  /// Writes the current result to `path` (CXI); false and `why` when there is none or writing
  /// fails. Recorded as {"save_result", {"path"}} with the hashes of what was written.
  bool saveResult(const QString& path, QString* why = nullptr);

  /// Remote jobs (issue 6). The agent side lives in app/remote, which installs the handlers;
  /// the bus records the commands like every other. A handler returns false and `why` when it
  /// refuses (no such agent, nothing open, a job not running).
  using JobHandler = std::function<bool(const QJsonObject& arguments, QString* why)>;
  void setJobHandlers(JobHandler submit, JobHandler control);
  /// Uploads the scan and submits a job: {"agent", "scan", "spec": {JobSpec v1 without "scan"}}.
  bool submitJob(const QJsonObject& arguments);
  /// Pause, resume, stop, retune or cancel a job: {"agent", "job", "command", "set"?}.
  bool controlJob(const QJsonObject& arguments);

  /// Executes a recorded command: {"open_scan", {"path"}}, {"set_parameter", {"name",
  /// "value"}}, {"apply_preset", {"algorithm"}}, {"run"}, {"pause"}, {"resume"}, {"step"},
  /// {"stop"}, {"undo"}, {"redo"}, {"save_result", {"path"}}, {"submit_job", {...}},
  /// {"job_control", {...}}. False for an unknown command or a refused one.
  bool execute(const QString& name, const QJsonObject& arguments);

 signals:
  void commandExecuted(const QString& name, const QJsonObject& arguments);
  void commandRejected(const QString& name, const QString& reason);

 private:
  void executed(const QString& name, const QJsonObject& arguments = {});

  Workbench& workbench_;
  QUndoStack undo_;
  JobHandler submitJob_;
  JobHandler controlJob_;
  // Counts the commands other than set_parameter: edits of one field merge into one undo step
  // only within a stretch of edits, so that undo after a run, step, pause or undo never jumps
  // back over values the run has used.
  int editStretch_ = 0;
};

}  // namespace ptyx::app
