#pragma once
// The session replay dock (docs/SESSIONS.md): the recorded actions and metric checkpoints as a
// list with their times, the current one highlighted; play/pause and speed. Replay drives the
// real window through CommandBus::execute, anchored at iterations as the headless replayer is:
// an action that reached the recorded run at iteration K is held back until the live run has
// completed exactly K iterations (the run is held there, then released). Checkpoints turn
// green or red as the live metrics arrive. A missing or changed input file asks for a
// substitute (a file dialog), or takes it from setSubstitute() (tests, scripts).
#include <QElapsedTimer>
#include <QMap>
#include <QString>
#include <QWidget>

#include <map>
#include <vector>

#include "CommandBus.hpp"
#include "session/Session.hpp"

class QComboBox;
class QLabel;
class QListWidget;
class QPushButton;
class QTimer;

namespace ptyx::app {

class SessionTimeline : public QWidget {
  Q_OBJECT
 public:
  explicit SessionTimeline(CommandBus& bus, QWidget* parent = nullptr);

  /// Reads the session and lists it; false and `why` when the file is not a readable session.
  bool load(const QString& path, QString* why = nullptr);
  /// Read `substitute` wherever the session read `recorded` (no dialog is shown for it).
  void setSubstitute(const QString& recorded, const QString& substitute);
  /// Whether a missing input may open a file dialog (off: replay stops there and says so).
  void setAskForSubstitutes(bool ask) { ask_ = ask; }
  /// 0: as fast as possible; X: the recorded pace, X times faster.
  void setSpeed(double speed);

  void play();
  void pause();
  [[nodiscard]] bool isPlaying() const { return playing_; }
  [[nodiscard]] bool isFinished() const { return next_ >= entries_.size() && !entries_.empty(); }

  /// Rows in the list: one per action and checkpoint.
  [[nodiscard]] QListWidget* list() const { return list_; }
  [[nodiscard]] int currentRow() const;
  [[nodiscard]] int matched() const { return matched_; }
  [[nodiscard]] int mismatched() const { return mismatched_; }
  /// The report line of each row so far ("match: …", "DIFFERS: …").
  [[nodiscard]] QString verdict(int row) const;

 signals:
  void finished(int matched, int mismatched);
  void stopped(const QString& why);

 private:
  enum class Wait { Nothing, Time, ScanLoaded, RunHeld, RunReturned };

  /// Sets the form to the parameters the recording began with; false (replay stopped) when
  /// they cannot be read or set.
  bool applyStartingParameters();
  void advance();
  /// The iteration at which the first anchored action from entry `from` on took effect; -1: none.
  [[nodiscard]] int nextAnchor(std::size_t from) const;
  void execute(const session::Action& action);
  void afterHold();
  void mark(std::size_t entry, bool ok, const QString& text);
  void note(std::size_t entry, const QString& text);
  void stopReplay(const QString& why);
  void compareCheckpoints();
  QString resolveInput(const session::FileRef& ref, QString* problem);
  void onIterated(const IterationMetrics& metrics);
  void onRunReturned(RunEnd end, int iteration);

  CommandBus& bus_;
  QListWidget* list_ = nullptr;
  QPushButton* playButton_ = nullptr;
  QComboBox* speed_ = nullptr;
  QLabel* status_ = nullptr;
  QTimer* timer_ = nullptr;

  session::Session session_;
  std::vector<session::Entry> entries_;
  std::vector<int> rows_;  // list row of each entry
  std::size_t next_ = 0;
  bool playing_ = false;
  bool ask_ = true;
  double speedFactor_ = 0.0;
  QElapsedTimer clock_;
  double clockOffset_s_ = 0.0;  // recorded offset at which the clock was (re)started
  Wait wait_ = Wait::Nothing;
  std::size_t waitingEntry_ = 0;
  int waitTarget_ = 0;  // RunReturned: a Paused return counts from here on; RunHeld: the hold
  int run_ = 0;         // runs started by the replay
  std::map<int, IterationMetrics> metrics_;      // this run's iterations seen
  std::vector<std::size_t> pendingCheckpoints_;  // entries not yet reached
  QMap<QString, QString> substitutes_;
  int matched_ = 0;
  int mismatched_ = 0;
};

}  // namespace ptyx::app
