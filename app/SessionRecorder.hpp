#pragma once
// Records the workbench session (DESIGN.md §6, docs/SESSIONS.md): every command that crosses
// the CommandBus, with its time, the input files' hashes and the parameters it left; and, since
// run control is asynchronous, the iteration at which each pause, step, stop and parameter
// change really reached the run, metric checkpoints (every 10 iterations and whenever the run
// returns control) and the hashes of every saved result. One file per launch in
// AppDataLocation/sessions/, created at the first command, each line flushed as it is written.
#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "CommandBus.hpp"
#include "Workbench.hpp"
#include "session/Session.hpp"

namespace ptyx::app {

class SessionRecorder : public QObject {
  Q_OBJECT
 public:
  SessionRecorder(CommandBus& bus, Workbench& workbench, QObject* parent = nullptr);
  ~SessionRecorder() override;

  /// AppDataLocation + "/sessions".
  [[nodiscard]] static QString defaultDirectory();

  /// Whether commands are being recorded (on by default).
  [[nodiscard]] bool isRecording() const { return recording_; }
  /// Turning recording off closes the file; turning it on again starts a new one at the next
  /// command (a session must begin before its first action to be replayable).
  void setRecording(bool on);
  /// The file being written ("" until the first command after recording was turned on).
  [[nodiscard]] QString path() const;
  /// Where the next file goes; "" = defaultDirectory() with a name carrying the date and time.
  void setPath(const QString& path) { requestedPath_ = path; }
  /// Names the session (a line in the file; the last name counts).
  void setName(const QString& name);
  [[nodiscard]] QString name() const { return name_; }
  /// Copies the session so far to `path` (Session ▸ Save session as…).
  bool saveCopy(const QString& path, QString* why = nullptr);

 signals:
  void recordingChanged(bool on);
  /// Writing failed (disk full, permissions); recording is switched off.
  void failed(const QString& message);

 private:
  void onCommand(const QString& name, const QJsonObject& arguments);
  void onStateChanged(Workbench::State state);
  void onScanLoaded(const QString& path, bool loaded);
  void onRunReturned(RunEnd end, int iteration);
  void onParametersApplied(int iteration, const ReconParams& params);
  void onIterated(const IterationMetrics& metrics);
  void checkpoint(int iteration, const IterationMetrics& metrics, const char* reason);
  void resetStateBaseline();
  /// Writes now, or after the scan being opened has been read (its hash comes from there).
  void write(std::function<void()> line);
  bool ensureFile();
  void guarded(const std::function<void()>& line);

  CommandBus& bus_;
  Workbench& workbench_;
  bool recording_ = true;
  QString requestedPath_;
  QString name_;
  std::unique_ptr<session::SessionWriter> writer_;
  QElapsedTimer clock_;
  QString started_;
  int seq_ = 0;
  int run_ = 0;
  ReconParams lastParams_;
  ReconParams startParams_;  // the form before the first recorded action: the header's

  // Which state changes a command caused (stateChanged fires inside it, before the command is
  // announced): the state before the first change since the last baseline, and the count.
  Workbench::State current_ = Workbench::State::Empty;
  Workbench::State before_ = Workbench::State::Empty;
  int changes_ = 0;
  bool runStarted_ = false;

  // Actions waiting for the run to say when they took effect.
  std::vector<std::pair<int, ReconParams>> pendingParameters_;
  std::deque<int> pendingReturns_;  // pause and step: a Paused return each
  std::optional<int> pendingStop_;
  std::set<std::pair<int, int>> checkpointed_;  // (run, iteration)
  bool runEnded_ = false;

  // Lines in file order. An open_scan waits for its scan to be read (the hash comes from
  // there, off the GUI thread); what follows it waits behind it.
  struct Queued {
    std::function<void()> write;
    bool waiting = false;
    session::Action open;  // when waiting
    QString openPath;
  };
  std::deque<Queued> queue_;
  void flushQueue();
  void abandonPending();
};

}  // namespace ptyx::app
