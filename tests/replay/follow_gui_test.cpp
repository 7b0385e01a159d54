// The workbench following a growing scan (issue 7): `ptyx stream-replay` writes the scan at
// 50 frames/s in a real process while the main window reconstructs from it; the frames count in
// the status bar rises to the total and the object views change as frames arrive. Runs under Xvfb.
#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>

#include <memory>

#include "MainWindow.hpp"
#include "gui/GuiTestSupport.hpp"
#include "gui/MainWindowTestSupport.hpp"
#include "io/Formats.hpp"
#include "io/SwmrScan.hpp"
#include "sim/Simulator.hpp"
#include "widgets/ComplexImageView.hpp"

using ptyx::app::MainWindow;
using ptyx::app::Workbench;
using State = ptyx::app::Workbench::State;

class FollowGuiTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { ptyx::test::isolateMainWindowTest("ptyx-gui-follow-test"); }

 private slots:
  void followsAStreamReplayWhileFramesArrive();
  void openingAScanStillBeingWrittenFollowsIt();
};

void FollowGuiTest::followsAStreamReplayWhileFramesArrive() {
  constexpr int kFrames = 128;
  ptyx::SimulationOptions options;
  options.frames = kFrames;
  options.frameSize = 32;
  options.seed = 7;
  const QString recorded = QDir::current().absoluteFilePath(QStringLiteral("recorded.cxi"));
  const QString growing = QDir::current().absoluteFilePath(QStringLiteral("growing.cxi"));
  ptyx::writeScan(ptyx::simulate(options), recorded.toStdString());
  QFile::remove(growing);  // a previous run's file is not this acquisition

  MainWindow window;
  QVERIFY(ptyx::test::showAndExpose(window));
  auto* follow = window.findChild<QAction*>(QStringLiteral("actionFollowScan"));
  QVERIFY2(follow, "File ▸ Follow growing scan… is missing");
  QVERIFY(window.menuBar()->actions().first()->menu()->actions().contains(follow));
  QVERIFY(window.bus().applyPreset(QStringLiteral("raar")));
  QVERIFY(window.bus().setParameter(QStringLiteral("iterations"), QStringLiteral("60")));

  QSignalSpy frames(&window.workbench(), &Workbench::framesReceived);
  QSignalSpy snapshots(&window.workbench(), &Workbench::snapshotReady);
  QProcess replay;
  const QByteArray bin = qgetenv("PTYX_BIN");
  QVERIFY2(!bin.isEmpty(), "PTYX_BIN is not set");
  replay.start(QString::fromLocal8Bit(bin),
               {QStringLiteral("stream-replay"), recorded, QStringLiteral("--rate"),
                QStringLiteral("50"), QStringLiteral("-o"), growing, QStringLiteral("--quiet")});
  QVERIFY(replay.waitForStarted());
  QVERIFY(window.bus().followScan(growing));
  QCOMPARE(window.workbench().state(), State::Running);

  // The first snapshot: the reconstruction started on part of the scan.
  QTRY_VERIFY_WITH_TIMEOUT(snapshots.count() > 0, 60000);
  QImage early = ptyx::test::frame(*window.objectAmplitudeView());
  auto* label = window.findChild<QLabel*>(QStringLiteral("framesLabel"));
  QVERIFY(label);
  QVERIFY2(label->isVisible(), "the frames count is not shown");
  QVERIFY2(label->text().startsWith(QStringLiteral("Frames ")), qPrintable(label->text()));

  QTRY_COMPARE_WITH_TIMEOUT(window.workbench().state(), State::Finished, 120000);
  if (replay.state() != QProcess::NotRunning) QVERIFY(replay.waitForFinished(30000));
  QCOMPARE(replay.exitStatus(), QProcess::NormalExit);
  QCOMPARE(replay.exitCode(), 0);

  QVERIFY(frames.count() >= 2);
  const int first = frames.first().at(0).toInt();
  QVERIFY2(first < kFrames,
           qPrintable(QStringLiteral("started with %1 frames: not while they arrived").arg(first)));
  int previous = 0;
  for (const auto& args : frames) {
    QVERIFY2(args.at(0).toInt() >= previous, "the frames count went down");
    previous = args.at(0).toInt();
    QCOMPARE(args.at(1).toInt(), kFrames);
  }
  QCOMPARE(previous, kFrames);
  QCOMPARE(label->text(), QStringLiteral("Frames %1 / %1").arg(kFrames));
  // Once complete the scan summary shows every frame.
  QTRY_COMPARE_WITH_TIMEOUT(window.summary(QStringLiteral("frames")), QString::number(kFrames),
                            5000);

  const QImage late = ptyx::test::frame(*window.objectAmplitudeView());
  ptyx::test::saveSample(early, QStringLiteral("follow_early"));
  ptyx::test::saveSample(late, QStringLiteral("follow_late"));
  QVERIFY2(ptyx::test::differingPixels(early, late) > late.width() * late.height() / 20,
           "the object view did not change while the frames arrived");
  const auto result = window.workbench().result();
  QVERIFY(result);
  QCOMPARE(static_cast<int>(result->positions.size()), kFrames);
  QVERIFY(result->history.size() >= 60);
}

void FollowGuiTest::openingAScanStillBeingWrittenFollowsIt() {
  ptyx::SimulationOptions options;
  options.frames = 64;
  options.frameSize = 32;
  options.seed = 5;
  const QString recorded = QDir::current().absoluteFilePath(QStringLiteral("recorded64.cxi"));
  const QString growing = QDir::current().absoluteFilePath(QStringLiteral("growing64.cxi"));
  ptyx::writeScan(ptyx::simulate(options), recorded.toStdString());
  QFile::remove(growing);

  MainWindow window;
  QVERIFY(ptyx::test::showAndExpose(window));
  QVERIFY(window.bus().setParameter(QStringLiteral("iterations"), QStringLiteral("20")));
  QProcess replay;
  replay.start(QString::fromLocal8Bit(qgetenv("PTYX_BIN")),
               {QStringLiteral("stream-replay"), recorded, QStringLiteral("--rate"),
                QStringLiteral("25"), QStringLiteral("--start-frames"), QStringLiteral("8"),
                QStringLiteral("-o"), growing, QStringLiteral("--quiet")});
  QVERIFY(replay.waitForStarted());
  QTRY_VERIFY_WITH_TIMEOUT(ptyx::isGrowingScan(growing.toStdString()), 30000);

  // File ▸ Open of a scan still being written: followed, not refused.
  QSignalSpy failed(&window.workbench(), &Workbench::loadFailed);
  window.bus().openScan(growing);
  QTRY_VERIFY_WITH_TIMEOUT(window.workbench().following(), 30000);
  QTRY_COMPARE_WITH_TIMEOUT(window.workbench().state(), State::Finished, 120000);
  QCOMPARE(failed.count(), 0);
  QVERIFY(window.workbench().result());
  QCOMPARE(static_cast<int>(window.workbench().result()->positions.size()), 64);
  if (replay.state() != QProcess::NotRunning) QVERIFY(replay.waitForFinished(30000));
}

QTEST_MAIN(FollowGuiTest)
#include "follow_gui_test.moc"
