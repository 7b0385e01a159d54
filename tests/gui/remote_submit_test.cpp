// Issue 6 from the user's side: open a demo-like scan in the real main window, use Run ▸ Run
// locally with N ranks (a loopback ptyx-agent started on demand, exactly the remote path),
// submit through the dialog with 2 ranks, and watch the job live: error-curve points arrive,
// the object view's pixels change, the job monitor says the job ended, the status bar follows,
// then fetch the result into the workbench. Runs under Xvfb with a real agent and mpirun.
#include <QAction>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTest>

#include <sys/stat.h>

#include <memory>

#include "GuiTestSupport.hpp"
#include "MainWindow.hpp"
#include "MainWindowTestSupport.hpp"
#include "io/Formats.hpp"
#include "remote/AgentProfiles.hpp"
#include "remote/AgentProfilesDialog.hpp"
#include "remote/JobMonitor.hpp"
#include "remote/LiveJob.hpp"
#include "remote/LocalAgent.hpp"
#include "remote/RemoteJobs.hpp"
#include "remote/RemoteUi.hpp"
#include "remote/SubmitJobDialog.hpp"
#include "sim/Simulator.hpp"
#include "widgets/ComplexImageView.hpp"
#include "widgets/ErrorPlotView.hpp"

using ptyx::app::JobMonitor;
using ptyx::app::MainWindow;
using State = ptyx::app::Workbench::State;

class RemoteSubmitTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { ptyx::test::isolateMainWindowTest("ptyx-gui-remote-test"); }

 private slots:
  void initTestCase();
  void submitsThroughTheDialogToALocalAgentAndWatchesItLive();
  void fetchesTheResultIntoTheWorkbench();
  void pausesRetunesAndStopsAJobFromTheMonitor();
  void profilesDialogTestsAnAgent();
  void cleanupTestCase();

 private:
  QString scanPath_;
  std::unique_ptr<MainWindow> window_;
  QString agent_;
  qint64 job_ = 0;
};

void RemoteSubmitTest::initTestCase() {
  QDir(QStringLiteral("config")).removeRecursively();
  QDir(QStringLiteral("data")).removeRecursively();
  ptyx::SimulationOptions options;
  options.frames = 64;
  options.frameSize = 32;
  options.seed = 3;
  scanPath_ = QDir::current().absoluteFilePath(QStringLiteral("demo.cxi"));
  ptyx::writeScan(ptyx::simulate(options), scanPath_.toStdString());
  QVERIFY2(!ptyx::app::LocalAgent::agentBinary().isEmpty(),
           "ptyx-agent is needed (build it first)");
  window_ = std::make_unique<MainWindow>();
  QVERIFY(ptyx::test::showAndExpose(*window_));
  window_->bus().openScan(scanPath_);
  QTRY_COMPARE_WITH_TIMEOUT(window_->workbench().state(), State::Ready, 10000);
  QVERIFY(window_->bus().applyPreset(QStringLiteral("raar")));
  // Long enough to be watched for a few seconds on a loaded machine.
  QVERIFY(window_->bus().setParameter(QStringLiteral("iterations"), QStringLiteral("4000")));
}

void RemoteSubmitTest::submitsThroughTheDialogToALocalAgentAndWatchesItLive() {
  auto* remote = window_->remote();
  QVERIFY(remote);
  QSignalSpy commands(&window_->bus(), &ptyx::app::CommandBus::commandExecuted);
  const QImage before = ptyx::test::frame(*window_->objectAmplitudeView());

  auto* runLocally = window_->findChild<QAction*>(QStringLiteral("actionRunLocally"));
  QVERIFY(runLocally);
  runLocally->trigger();
  auto* dialog = remote->submitDialog();
  QVERIFY(dialog && dialog->isVisible());
  QCOMPARE(dialog->agent(), QStringLiteral("Local"));
  QCOMPARE(dialog->findChild<QSpinBox*>(QStringLiteral("ranksSpin"))->value(), 2);
  // The memory planner's estimate is shown before anything is sent.
  QVERIFY2(dialog->estimate().contains(QStringLiteral("per rank")) &&
               dialog->estimate().contains(QStringLiteral("fits")),
           qPrintable(dialog->estimate()));
  QVERIFY(dialog->estimateFits());
  // A job's snapshots are files: it gets its own interval (0.5 s), not the window's 0.05 s.
  auto* snapshotSpin = dialog->findChild<QDoubleSpinBox*>(QStringLiteral("snapshotIntervalSpin"));
  QVERIFY(snapshotSpin);
  QCOMPARE(snapshotSpin->value(), 0.5);
  QCOMPARE(window_->workbench().parameters().snapshotInterval_s, 0.05);
  snapshotSpin->setValue(0.2);  // snapshots often, to be watched live
  QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("submitButton")),
                    Qt::LeftButton);
  QVERIFY(!dialog->isVisible());

  // The command path saw it (the session recorder listens there).
  QVERIFY(!commands.isEmpty());
  QCOMPARE(commands.last().at(0).toString(), QStringLiteral("submit_job"));
  const QJsonObject submitted = commands.last().at(1).toJsonObject();
  QCOMPARE(submitted.value(QStringLiteral("agent")).toString(), QStringLiteral("Local"));
  QCOMPARE(
      submitted.value(QStringLiteral("spec")).toObject().value(QStringLiteral("ranks")).toInt(), 2);
  QCOMPARE(submitted.value(QStringLiteral("spec"))
               .toObject()
               .value(QStringLiteral("parameters"))
               .toObject()
               .value(QStringLiteral("snapshot_interval"))
               .toDouble(),
           0.2);

  // The local agent starts, the scan is uploaded, the job is submitted and followed.
  auto& live = remote->live();
  QTRY_VERIFY_WITH_TIMEOUT(live.job() > 0, 60000);
  agent_ = live.agent();
  job_ = live.job();
  QCOMPARE(agent_, QStringLiteral("Local"));
  QVERIFY(remote->jobs().localAgent().isRunning());

  // The profile file it made is the user's alone and holds the token.
  struct stat st {};
  QCOMPARE(stat(QFile::encodeName(ptyx::app::AgentProfiles::defaultPath()).constData(), &st), 0);
  QCOMPARE(st.st_mode & 0777, 0600u);

  // Live: error-curve points arrive and keep arriving.
  auto* errors = window_->errorPlot();
  QTRY_VERIFY_WITH_TIMEOUT(errors->pointCount() >= 1, 60000);
  const int first = errors->pointCount();
  QTRY_VERIFY_WITH_TIMEOUT(errors->pointCount() > first || !window_->workbench().remoteLive(),
                           60000);
  // The status bar follows the job: iteration of its total, rate, ETA.
  QVERIFY2(window_->statusText().contains(QStringLiteral("/ 4000")) &&
               window_->statusText().contains(QStringLiteral("it/s")),
           qPrintable(window_->statusText()));
  ptyx::test::saveSample(window_->grab().toImage(), QStringLiteral("remote_live"));

  // The job monitor lists it, and shows it ended.
  JobMonitor* monitor = remote->monitor();
  QTRY_VERIFY_WITH_TIMEOUT(monitor->rowOf(agent_, job_) >= 0, 30000);
  QTRY_COMPARE_WITH_TIMEOUT(monitor->text(agent_, job_, JobMonitor::StateColumn),
                            QStringLiteral("finished"), 180000);
  QTRY_VERIFY_WITH_TIMEOUT(
      monitor->text(agent_, job_, JobMonitor::ProgressColumn) == QStringLiteral("4000 / 4000"),
      30000);

  // Object and probe came from the job's snapshots / final result: the object view changed.
  QTRY_VERIFY_WITH_TIMEOUT(live.snapshotsShown() >= 1, 60000);
  QTRY_VERIFY_WITH_TIMEOUT(!window_->workbench().remoteLive(), 60000);
  const QImage after = ptyx::test::frame(*window_->objectAmplitudeView());
  ptyx::test::saveSample(after, QStringLiteral("remote_object_after"));
  ptyx::test::saveSample(window_->grab().toImage(), QStringLiteral("remote_main_window"));
  QVERIFY2(ptyx::test::differingPixels(before, after) > after.width() * after.height() / 20,
           "the object view shows the job's object, not the initial one");
  // The stream carries every line: one point per iteration, none lost or repeated.
  QCOMPARE(errors->pointCount(), 4000);
  QVERIFY2(window_->statusText().contains(QStringLiteral("ETA —")),
           qPrintable(window_->statusText()));
  // Snapshots were fetched as the job announced them (showing one may be skipped when a newer
  // state is already on show), and the final result was shown.
  QVERIFY(live.snapshotsFetched() >= 1);
  QVERIFY(live.snapshotsShown() >= 1);
}

void RemoteSubmitTest::fetchesTheResultIntoTheWorkbench() {
  JobMonitor* monitor = window_->remote()->monitor();
  QVERIFY(job_ > 0);
  QVERIFY(!window_->workbench().result());
  QSignalSpy fetched(monitor, &JobMonitor::resultFetched);
  monitor->selectJob(agent_, job_);
  monitor->fetchResult();
  QTRY_COMPARE_WITH_TIMEOUT(fetched.count(), 1, 60000);
  const auto result = window_->workbench().result();
  QVERIFY(result);
  QCOMPARE(result->history.size(), std::size_t{4000});
  QCOMPARE(result->probe.rows(), std::size_t{32});
  // The fetched file is a complete CXI result, and File ▸ Save works on it.
  QVERIFY(QFile::exists(fetched.first().at(2).toString()));
  QVERIFY(window_->saveResult(QDir::current().absoluteFilePath(QStringLiteral("saved.cxi"))));
  QCOMPARE(ptyx::readResult("saved.cxi").history.size(), std::size_t{4000});
}

void RemoteSubmitTest::pausesRetunesAndStopsAJobFromTheMonitor() {
  auto* remote = window_->remote();
  JobMonitor* monitor = remote->monitor();
  auto& live = remote->live();
  QSignalSpy commands(&window_->bus(), &ptyx::app::CommandBus::commandExecuted);
  QVERIFY(window_->bus().setParameter(QStringLiteral("iterations"), QStringLiteral("1000000")));
  auto* dialog = remote->runLocally(2);
  // The running local agent was asked what it offers.
  auto* info = dialog->findChild<QLabel*>(QStringLiteral("agentInfo"));
  QVERIFY(info);
  QTRY_VERIFY_WITH_TIMEOUT(info->text().contains(QStringLiteral("launchers local")), 30000);
  QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("submitButton")),
                    Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(live.job() > job_, 60000);
  const qint64 job = live.job();
  auto* errors = window_->errorPlot();
  QTRY_VERIFY_WITH_TIMEOUT(errors->pointCount() > 20, 60000);
  QTRY_VERIFY_WITH_TIMEOUT(monitor->rowOf(agent_, job) >= 0, 30000);
  monitor->selectJob(agent_, job);

  auto controlled = [&](const QString& command) {
    return !commands.isEmpty() &&
           commands.last().at(0).toString() == QStringLiteral("job_control") &&
           commands.last().at(1).toJsonObject().value(QStringLiteral("command")).toString() ==
               command;
  };
  // The job's own account of each command arrives on its stream: wait for it, not for a time.
  int pausedLines = 0;
  int appliedLines = 0;
  QObject::connect(
      &live, &ptyx::app::LiveJob::progressLine, this,
      [&](const QString&, qint64, const QJsonObject& line) {
        const QString event = line.value(QStringLiteral("event")).toString();
        if (event == QLatin1String("state") &&
            line.value(QStringLiteral("state")).toString() == QLatin1String("paused")) {
          ++pausedLines;
        }
        if (event == QLatin1String("control") &&
            line.value(QStringLiteral("status")).toString() == QLatin1String("applied")) {
          ++appliedLines;
        }
      });
  monitor->control(QStringLiteral("pause"));
  QVERIFY(controlled(QStringLiteral("pause")));
  QTRY_VERIFY_WITH_TIMEOUT(pausedLines > 0, 30000);
  QTRY_COMPARE_WITH_TIMEOUT(monitor->text(agent_, job, JobMonitor::StateColumn),
                            QStringLiteral("paused"), 30000);
  // Paused: no new points.
  const int held = errors->pointCount();
  QTest::qWait(1000);
  QCOMPARE(errors->pointCount(), held);

  // Retune while paused: applied at the next iteration and marked on the plot.
  const int markers = errors->markerCount();
  int applied = appliedLines;
  monitor->control(QStringLiteral("set"), QJsonObject{{"beta", 0.7}});
  QVERIFY(controlled(QStringLiteral("set")));
  // The job claims the control file before the next command may be sent.
  QTRY_VERIFY_WITH_TIMEOUT(appliedLines > applied, 30000);
  applied = appliedLines;
  monitor->control(QStringLiteral("resume"));
  QTRY_VERIFY_WITH_TIMEOUT(errors->markerCount() > markers, 30000);
  QTRY_VERIFY_WITH_TIMEOUT(errors->pointCount() > held, 30000);
  QTRY_VERIFY_WITH_TIMEOUT(appliedLines > applied, 30000);

  // Stop and save: the job ends "stopped" with a result, and the views get its final state.
  monitor->control(QStringLiteral("stop"));
  QVERIFY(controlled(QStringLiteral("stop")));
  QTRY_COMPARE_WITH_TIMEOUT(monitor->text(agent_, job, JobMonitor::StateColumn),
                            QStringLiteral("stopped"), 60000);
  QTRY_VERIFY_WITH_TIMEOUT(!window_->workbench().remoteLive(), 60000);
}

void RemoteSubmitTest::profilesDialogTestsAnAgent() {
  auto* remote = window_->remote();
  // A copy: saving the dialog replaces the profiles (and what a pointer into them would see).
  const ptyx::app::AgentProfile* found = remote->jobs().profiles().find(QStringLiteral("Local"));
  QVERIFY(found && found->local && !found->token.isEmpty());
  const ptyx::app::AgentProfile local = *found;
  auto* dialog = remote->openProfilesDialog();
  auto* list = dialog->findChild<QListWidget*>(QStringLiteral("profileList"));
  QVERIFY(list && list->count() >= 1);
  QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("addProfileButton")),
                    Qt::LeftButton);
  auto* name = dialog->findChild<QLineEdit*>(QStringLiteral("profileName"));
  auto* url = dialog->findChild<QLineEdit*>(QStringLiteral("profileUrl"));
  auto* token = dialog->findChild<QLineEdit*>(QStringLiteral("profileToken"));
  QCOMPARE(token->echoMode(), QLineEdit::Password);
  name->setText(QStringLiteral("loopback"));
  url->setText(local.url.toString());
  token->setText(QStringLiteral("ptyx_not-a-token"));
  dialog->test();
  QTRY_VERIFY_WITH_TIMEOUT(dialog->testResult().contains(QStringLiteral("401")), 30000);
  token->setText(QString::fromUtf8(local.token));
  dialog->test();
  QTRY_VERIFY_WITH_TIMEOUT(dialog->testResult().startsWith(QStringLiteral("OK: ptyx-agent")),
                           30000);
  dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->click();
  QVERIFY(remote->jobs().profiles().find(QStringLiteral("loopback")));
  // Saved to the 0600 file, read back by a fresh store.
  ptyx::app::AgentProfiles reread;
  QVERIFY(reread.load());
  QVERIFY(reread.find(QStringLiteral("loopback")));
  QCOMPARE(reread.find(QStringLiteral("loopback"))->token, local.token);
}

void RemoteSubmitTest::cleanupTestCase() {
  window_.reset();
}

QTEST_MAIN(RemoteSubmitTest)
#include "remote_submit_test.moc"
