#pragma once
// The job monitor dock (issue 6): every job of the selected agent(s) with its state,
// iteration, rate and ETA, refreshed every second; actions on the selected job: open in the
// live views, pause/resume, stop and save, retune (a parameter change sent as control "set"),
// cancel, fetch the result into the workbench. Control goes through the CommandBus.
#include <QHash>
#include <QJsonObject>
#include <QTimer>
#include <QWidget>

class QComboBox;
class QTableWidget;

namespace ptyx::app {

class CommandBus;
class LiveJob;
class RemoteJobs;

class JobMonitor : public QWidget {
  Q_OBJECT
 public:
  enum Column {
    AgentColumn,
    IdColumn,
    NameColumn,
    StateColumn,
    ProgressColumn,
    RateColumn,
    EtaColumn,
    Columns
  };

  JobMonitor(RemoteJobs& jobs, CommandBus& bus, LiveJob& live, QWidget* parent = nullptr);

  [[nodiscard]] QTableWidget* table() const { return table_; }
  /// The row of a job, -1 when not listed.
  [[nodiscard]] int rowOf(const QString& agent, qint64 job) const;
  /// The text of a cell of a job's row ("" when not listed).
  [[nodiscard]] QString text(const QString& agent, qint64 job, Column column) const;
  /// Polls the agents now (and every second while shown or a job is live).
  void refresh();
  /// Which agent's jobs to list: a profile's name, or "" for all.
  void setAgentFilter(const QString& agent);
  void selectJob(const QString& agent, qint64 job);

  // The actions, on the selected job.
  void openLive();
  void control(const QString& command, const QJsonObject& set = {});
  /// Asks for "name=value" changes and sends them as control "set".
  void retune();
  /// Downloads the result, reads it and makes it the workbench's result.
  void fetchResult();

 signals:
  void message(const QString& text);
  void resultFetched(const QString& agent, qint64 job, const QString& path);

 private:
  struct Entry {
    QString agent;
    qint64 id = 0;
    QJsonObject summary;
    QJsonObject detail;
  };
  void updateRow(const Entry& entry);
  [[nodiscard]] const Entry* selected() const;
  void refreshAgents();

  RemoteJobs& jobs_;
  CommandBus& bus_;
  LiveJob& live_;
  QComboBox* filter_ = nullptr;
  QTableWidget* table_ = nullptr;
  QTimer timer_;
  QHash<QString, Entry> entries_;    // "agent/id"
  QHash<QString, qint64> inFlight_;  // per agent: when the listing under way started (ms)
  QHash<QString, QString> lastError_;
};

}  // namespace ptyx::app
