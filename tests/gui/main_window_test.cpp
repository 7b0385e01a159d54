// Drives the real main window the way a user would (issue 5): open a demo scan, change β through
// the form, run 20 iterations and watch the object views change and the object error fall, pause
// and resume, change a parameter mid-run, stop, save and re-open the result. Runs under Xvfb.
#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

#include <cmath>
#include <memory>

#include "GuiTestSupport.hpp"
#include "MainWindow.hpp"
#include "MainWindowTestSupport.hpp"
#include "ParameterForm.hpp"
#include "Preflight.hpp"
#include "backend/Devices.hpp"
#include "backend/cpu/CpuBackend.hpp"
#include "io/Formats.hpp"
#include "sim/Simulator.hpp"
#include "widgets/ComplexImageView.hpp"
#include "widgets/DiffractionView.hpp"
#include "widgets/ErrorPlotView.hpp"
#include "widgets/ScanPositionPlot.hpp"

using ptyx::app::MainWindow;
using ptyx::app::Workbench;
using State = ptyx::app::Workbench::State;

namespace {

/// Standard deviation of the grey level of a widget's frame: a flat picture has none.
/// The middle of a view's picture: inside the object's image whatever the colour map, away from
/// the colour bar and the background (which alone make a flat picture look varied).
QImage centre(const QImage& view) {
  return view.copy(view.width() / 5, view.height() * 2 / 5, view.width() * 3 / 10,
                   view.height() / 5);
}

double greyDeviation(const QImage& image) {
  double sum = 0.0, sum2 = 0.0;
  const double n = static_cast<double>(image.width()) * image.height();
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const double g = qGray(image.pixel(x, y));
      sum += g;
      sum2 += g * g;
    }
  }
  const double mean = sum / n;
  return std::sqrt(std::max(0.0, sum2 / n - mean * mean));
}

/// Deviation of the amplitude of the central half of an image (the well-lit part).
double centralAmplitudeDeviation(const ptyx::Image<ptyx::cfloat>& image) {
  double sum = 0.0, sum2 = 0.0, n = 0.0;
  for (std::size_t r = image.rows() / 4; r < 3 * image.rows() / 4; ++r) {
    for (std::size_t c = image.cols() / 4; c < 3 * image.cols() / 4; ++c) {
      const double a = std::sqrt(static_cast<double>(ptyx::norm2(image(r, c))));
      sum += a;
      sum2 += a * a;
      n += 1.0;
    }
  }
  const double mean = sum / n;
  return std::sqrt(std::max(0.0, sum2 / n - mean * mean));
}

}  // namespace

class MainWindowTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { ptyx::test::isolateMainWindowTest("ptyx-gui-test"); }

 private slots:
  void initTestCase();
  void opensTheScanAndSummarisesIt();
  void dataDockShowsFramesAndPositionsLinked();
  void changesBetaThroughTheFormWithUndo();
  void runsTwentyIterationsAndTheObjectConverges();
  void pauseStopsProgressAndResumeContinues();
  void parameterChangeMidRunIsAppliedAndMarked();
  void stopLeavesAResultThatSavesAndReopens();
  void choosesWhereRunsCompute();
  void aRunThatCannotFitIsRefusedWithTheRanksItTakes();
  void checksFlagEmptyFramesAndMask();
  void resetLayoutBringsBackClosedAndCoveredDocks();
  void cleanupTestCase();

 private:
  QAction* action(const char* name) { return ptyx::test::windowAction(*window_, name); }
  void setReal(const char* name, double value) { ptyx::test::setFormReal(*window_, name, value); }
  void setInteger(const char* name, int value) {
    ptyx::test::setFormInteger(*window_, name, value);
  }

  QString scanPath_;
  std::unique_ptr<MainWindow> window_;
  std::unique_ptr<QSignalSpy> commands_;
};

void MainWindowTest::initTestCase() {
  ptyx::SimulationOptions options;
  options.frames = 64;
  options.frameSize = 32;
  options.seed = 3;
  scanPath_ = QDir::current().absoluteFilePath(QStringLiteral("demo.cxi"));
  ptyx::writeScan(ptyx::simulate(options), scanPath_.toStdString());
  window_ = std::make_unique<MainWindow>();
  commands_ =
      std::make_unique<QSignalSpy>(&window_->bus(), &ptyx::app::CommandBus::commandExecuted);
  QVERIFY(ptyx::test::showAndExpose(*window_));
}

void MainWindowTest::opensTheScanAndSummarisesIt() {
  QVERIFY(!action("actionRun")->isEnabled());
  // The window's form starts with live views (snapshots up to 20 per second), not the engine's
  // 0.5 s meant for jobs, and shows the value the workbench holds.
  auto* interval = window_->findChild<QDoubleSpinBox*>(QStringLiteral("param_snapshot_interval"));
  QVERIFY(interval);
  QCOMPARE(window_->workbench().parameters().snapshotInterval_s, 0.05);
  QCOMPARE(interval->value(), 0.05);
  window_->bus().openScan(scanPath_);
  QTRY_COMPARE_WITH_TIMEOUT(window_->workbench().state(), State::Ready, 10000);
  QCOMPARE(window_->summary(QStringLiteral("frames")), QStringLiteral("64"));
  QVERIFY(window_->summary(QStringLiteral("frame_size")).startsWith(QStringLiteral("32 × 32")));
  QVERIFY(window_->summary(QStringLiteral("energy")).contains(QStringLiteral("keV")));
  QVERIFY(window_->summary(QStringLiteral("memory")).contains(QStringLiteral("iB")));
  QVERIFY(window_->recentFiles().contains(scanPath_));
  QVERIFY(action("actionRun")->isEnabled());
  // The probe view previews the initial probe before any run.
  QCOMPARE(window_->probeView()->imageRows(), 32);
  QVERIFY(window_->checksList()->count() >= 1);
  QCOMPARE(commands_->first().at(0).toString(), QStringLiteral("open_scan"));
  // The engine's frame and exit-wave arrays are faulted in while the scan is shown, for Run.
  QTRY_COMPARE_WITH_TIMEOUT(ptyx::CpuBackend::preparedBytes(),
                            std::size_t{64 * 32 * 32 * (sizeof(float) + sizeof(ptyx::cfloat))},
                            10000);
}

void MainWindowTest::dataDockShowsFramesAndPositionsLinked() {
  auto* diffraction = window_->diffractionView();
  auto* plot = window_->scanPositionPlot();
  QVERIFY(diffraction && plot);
  QVERIFY(diffraction->isVisible() && plot->isVisible());
  QCOMPARE(diffraction->frameCount(), 64);
  QCOMPARE(diffraction->frameRows(), 32);
  QCOMPARE(plot->pointCount(), 64);
  QVERIFY(plot->colouredByFrameIndex());
  QVERIFY(plot->probeDiameter() > 0.0);  // the initial probe's footprint
  QCOMPARE(plot->selectedFrame(), diffraction->frame());

  // A click on a scan position shows that frame.
  ptyx::test::frame(*plot);  // draw once, so that the chart's transform is known
  const auto& positions = window_->workbench().scan()->positions;
  int clicked = -1;
  for (int j = 40; j < 64 && clicked < 0; ++j) {
    const QPointF at = plot->widgetPosition(positions[static_cast<std::size_t>(j)].row,
                                            positions[static_cast<std::size_t>(j)].col);
    if (plot->frameAt(at) != j) continue;  // another point drawn on top: try the next
    QSignalSpy changed(diffraction, &ptyx::widgets::DiffractionView::frameChanged);
    QTest::mouseClick(plot, Qt::LeftButton, Qt::NoModifier, at.toPoint());
    clicked = j;
    QCOMPARE(changed.count(), 1);
  }
  QVERIFY(clicked >= 0);
  QCOMPARE(diffraction->frame(), clicked);
  QCOMPARE(plot->selectedFrame(), clicked);

  // And the other way: stepping through the frames rings the matching position.
  diffraction->setFrame(7);
  QCOMPARE(diffraction->frame(), 7);
  QCOMPARE(plot->selectedFrame(), 7);
  ptyx::test::saveSample(window_->grab().toImage(), QStringLiteral("main_window_data"));
}

void MainWindowTest::changesBetaThroughTheFormWithUndo() {
  auto& wb = window_->workbench();
  QVERIFY(window_->bus().applyPreset(QStringLiteral("raar")));
  QVERIFY(wb.parameters().algorithm == ptyx::Algorithm::RAAR);
  QCOMPARE(wb.parameters().beta, 0.8);
  setReal("beta", 0.95);
  QCOMPARE(wb.parameters().beta, 0.95);
  QCOMPARE(commands_->last().at(0).toString(), QStringLiteral("set_parameter"));
  QCOMPARE(commands_->last().at(1).toJsonObject().value(QStringLiteral("name")).toString(),
           QStringLiteral("beta"));

  action("actionUndo")->trigger();
  QCOMPARE(wb.parameters().beta, 0.8);
  auto* beta = qobject_cast<QDoubleSpinBox*>(window_->parameterForm()->editor("beta"));
  QCOMPARE(beta->value(), 0.8);  // the form shows the undone value
  action("actionRedo")->trigger();
  QCOMPARE(wb.parameters().beta, 0.95);
  QCOMPARE(beta->value(), 0.95);

  // Out of range for RAAR: refused, and the form goes back to the value that holds.
  QVERIFY(!window_->bus().setParameter(QStringLiteral("beta"), QStringLiteral("1.5")));
  QCOMPARE(wb.parameters().beta, 0.95);

  // A run of edits of one field is one undo step (a spin box's arrows), ended by any other
  // command.
  setReal("beta", 0.9);
  setReal("beta", 0.85);
  action("actionUndo")->trigger();
  QCOMPARE(wb.parameters().beta, 0.95);
  action("actionRedo")->trigger();
  QCOMPARE(wb.parameters().beta, 0.85);

  setInteger("iterations", 20);
  setReal("snapshot_interval", 0.0);
  QCOMPARE(wb.parameters().iterations, 20);
}

void MainWindowTest::runsTwentyIterationsAndTheObjectConverges() {
  auto& wb = window_->workbench();
  const double before = greyDeviation(centre(ptyx::test::frame(*window_->objectAmplitudeView())));
  QSignalSpy snapshots(&wb, &Workbench::snapshotReady);
  action("actionRun")->trigger();
  QCOMPARE(wb.state(), State::Running);
  QTRY_COMPARE_WITH_TIMEOUT(wb.state(), State::Finished, 60000);
  QTRY_VERIFY(wb.result() != nullptr);

  QCOMPARE(wb.iteration(), 20);
  QCOMPARE(ptyx::CpuBackend::preparedBytes(), std::size_t{0});  // the run took them
  QCOMPARE(window_->errorPlot()->pointCount(), 20);
  QVERIFY(snapshots.count() >= 1);
  const auto& history = wb.result()->history;
  QCOMPARE(history.size(), std::size_t{20});
  QVERIFY(std::isfinite(history.front().objectError) && std::isfinite(history.back().objectError));
  QVERIFY2(history.back().objectError < 0.99 * history.front().objectError,
           qPrintable(QStringLiteral("object error %1 -> %2")
                          .arg(history.front().objectError)
                          .arg(history.back().objectError)));
  QVERIFY(window_->statusText().contains(QStringLiteral("Iteration 20 / 20")));
  QVERIFY(window_->statusText().contains(QStringLiteral("it/s")));
  // The scan positions now show each frame's Fourier error from the last snapshot.
  QCOMPARE(window_->scanPositionPlot()->colourBar().title(), QStringLiteral("Fourier error"));

  // What the user sees: the flat initial object has become a structured picture.
  QVERIFY(centralAmplitudeDeviation(wb.result()->object) > 0.02);
  QImage after;
  QTRY_VERIFY2_WITH_TIMEOUT(
      (after = ptyx::test::frame(*window_->objectAmplitudeView()),
       greyDeviation(centre(after)) > before + 10.0),
      qPrintable(
          QStringLiteral("grey deviation in the middle of the view: %1 before the run, %2 after")
              .arg(before)
              .arg(greyDeviation(centre(after)))),
      5000);
  ptyx::test::saveSample(after, QStringLiteral("main_window_object"));
  ptyx::test::saveSample(window_->grab().toImage(), QStringLiteral("main_window"));
}

void MainWindowTest::pauseStopsProgressAndResumeContinues() {
  auto& wb = window_->workbench();
  setInteger("iterations", 1000000);
  action("actionRun")->trigger();
  QTRY_VERIFY_WITH_TIMEOUT(wb.iteration() >= 5, 20000);
  action("actionPause")->trigger();
  QCOMPARE(wb.state(), State::Paused);
  QCOMPARE(action("actionPause")->text(), QStringLiteral("&Resume"));
  QTest::qWait(300);  // the iteration in flight may still land
  const int paused = wb.iteration();
  const int points = window_->errorPlot()->pointCount();
  QTest::qWait(600);
  QCOMPARE(wb.iteration(), paused);
  QCOMPARE(window_->errorPlot()->pointCount(), points);

  // Step: exactly one more iteration, still paused.
  action("actionStep")->trigger();
  QTRY_COMPARE_WITH_TIMEOUT(wb.iteration(), paused + 1, 5000);
  QTest::qWait(200);
  QCOMPARE(wb.iteration(), paused + 1);
  QCOMPARE(wb.state(), State::Paused);

  action("actionPause")->trigger();  // Resume
  QCOMPARE(wb.state(), State::Running);
  QTRY_VERIFY_WITH_TIMEOUT(wb.iteration() >= paused + 10, 20000);
}

void MainWindowTest::parameterChangeMidRunIsAppliedAndMarked() {
  auto& wb = window_->workbench();
  QCOMPARE(wb.state(), State::Running);
  const int markers = window_->errorPlot()->markerCount();
  const int at = wb.iteration();
  setReal("beta", 0.9);
  QCOMPARE(wb.parameters().beta, 0.9);
  QTRY_VERIFY_WITH_TIMEOUT(window_->errorPlot()->markerCount() > markers, 10000);
  QVERIFY(wb.iteration() > at);
  auto* beta = qobject_cast<QDoubleSpinBox*>(window_->parameterForm()->editor("beta"));
  QCOMPARE(beta->value(), 0.9);
}

void MainWindowTest::stopLeavesAResultThatSavesAndReopens() {
  auto& wb = window_->workbench();
  action("actionStop")->trigger();
  QTRY_COMPARE_WITH_TIMEOUT(wb.state(), State::Finished, 10000);
  QTRY_VERIFY_WITH_TIMEOUT(
      wb.result() && wb.result()->history.size() == static_cast<std::size_t>(wb.iteration()),
      10000);
  const int iterations = wb.iteration();
  QVERIFY(iterations > 0);
  QCOMPARE(window_->errorPlot()->pointCount(), iterations);
  // The mid-run change is in the result's history as well.
  const auto& history = wb.result()->history;
  QVERIFY(std::any_of(history.begin(), history.end(),
                      [](const auto& m) { return m.parametersChanged; }));
  QVERIFY(action("actionSaveResult")->isEnabled());

  const QString path = QDir::current().absoluteFilePath(QStringLiteral("result.cxi"));
  QVERIFY(window_->saveResult(path));
  const auto reopened = ptyx::readResult(path.toStdString());
  QCOMPARE(reopened.history.size(), static_cast<std::size_t>(iterations));
  QCOMPARE(reopened.object.rows(), wb.result()->object.rows());
  QVERIFY(reopened.parametersJson.find("\"beta\"") != std::string::npos);

  const QString pngs = QDir::current().absoluteFilePath(QStringLiteral("pngs"));
  QVERIFY(window_->exportPngs(pngs));
  QVERIFY(!QDir(pngs).entryList({QStringLiteral("*.png")}).isEmpty());

  QStringList names;
  for (const auto& c : *commands_) names << c.at(0).toString();
  for (const char* expected : {"open_scan", "apply_preset", "set_parameter", "undo", "redo", "run",
                               "pause", "step", "resume", "stop"}) {
    QVERIFY2(names.contains(QLatin1String(expected)), expected);
  }
}

// Run ▸ Compute backend: Auto by default, remembered, and a run says what it computes on. This
// machine has no GPU: CUDA is refused with the reason, Auto computes on the CPU and says why.
void MainWindowTest::choosesWhereRunsCompute() {
  auto& wb = window_->workbench();
  auto& bus = window_->bus();
  QCOMPARE(wb.state(), State::Finished);
  QVERIFY(action("actionBackend_auto")->isChecked());
  auto* label = window_->findChild<QLabel*>(QStringLiteral("backendLabel"));
  QVERIFY(label);
  QCOMPARE(label->text(), QStringLiteral("CPU"));  // the runs above

  QSignalSpy rejected(&bus, &ptyx::app::CommandBus::commandRejected);
  QVERIFY(!bus.setBackend(QStringLiteral("gpu")));
  QCOMPARE(rejected.count(), 1);
  QVERIFY(rejected.first().at(1).toString().contains(QStringLiteral("auto, cpu or cuda")));
  QCOMPARE(wb.backend(), QStringLiteral("auto"));

  action("actionBackend_cpu")->trigger();  // through the menu, as a user would
  QCOMPARE(wb.backend(), QStringLiteral("cpu"));
  QCOMPARE(commands_->last().at(0).toString(), QStringLiteral("set_backend"));
  QCOMPARE(QSettings().value(QStringLiteral("run/backend")).toString(), QStringLiteral("cpu"));

  // The menu says whether CUDA can be chosen, and why not.
  auto* menu = window_->findChild<QMenu*>(QStringLiteral("backendMenu"));
  QVERIFY(menu);
  emit menu->aboutToShow();
  const ptyx::DeviceStatus devices = ptyx::detectDevices();
  QCOMPARE(action("actionBackend_cuda")->isEnabled(), devices.usable);

  QVERIFY(bus.setBackend(QStringLiteral("cuda")));
  QVERIFY(action("actionBackend_cuda")->isChecked());
  if (devices.usable) {
    QVERIFY(bus.run());
    QCOMPARE(label->text(), QStringLiteral("CUDA"));
    QTRY_VERIFY_WITH_TIMEOUT(wb.iteration() >= 3, 30000);
    bus.stop();
    QTRY_COMPARE_WITH_TIMEOUT(wb.state(), State::Finished, 10000);
  } else {
    const int iterations = wb.iteration();
    QVERIFY(!bus.run());
    QCOMPARE(rejected.last().at(0).toString(), QStringLiteral("run"));
    const QString why = rejected.last().at(1).toString();
    QVERIFY2(
        why.startsWith(QStringLiteral("backend: cuda: not available: no usable CUDA device (")),
        qPrintable(why));
    QVERIFY2(why.contains(QString::fromStdString(devices.reason)), qPrintable(why));
    QVERIFY2(why.contains(QStringLiteral("Run ▸ Compute backend")), qPrintable(why));
    QCOMPARE(wb.state(), State::Finished);  // the last result stays
    QCOMPARE(wb.iteration(), iterations);

    QVERIFY(bus.setBackend(QStringLiteral("auto")));
    QVERIFY(bus.run());
    QCOMPARE(wb.runBackend(), QStringLiteral("cpu"));
    QCOMPARE(label->text(), QStringLiteral("CPU"));
    QVERIFY2(label->toolTip().contains(QString::fromStdString(devices.reason)),
             qPrintable(label->toolTip()));
    QTRY_VERIFY_WITH_TIMEOUT(wb.iteration() >= 3, 30000);
    bus.stop();
    QTRY_COMPARE_WITH_TIMEOUT(wb.state(), State::Finished, 10000);
  }
  QVERIFY(bus.setBackend(QStringLiteral("auto")));  // as a script or a replayed session would
  QVERIFY(action("actionBackend_auto")->isChecked());
  QCOMPARE(QSettings().value(QStringLiteral("run/backend")).toString(), QStringLiteral("cpu"));
  action("actionBackend_auto")->trigger();  // the user's own choice is what is remembered
  QCOMPARE(QSettings().value(QStringLiteral("run/backend")).toString(), QStringLiteral("auto"));
}

// The memory planner stands before the window's Run as before a job's: a scan too large for the
// machine is refused up front, saying how many ranks it would take, not half-way into loading.
void MainWindowTest::aRunThatCannotFitIsRefusedWithTheRanksItTakes() {
  auto& wb = window_->workbench();
  auto& bus = window_->bus();
  const bool gpu = ptyx::detectDevices().usable;  // Auto computes there
  QVERIFY2(window_->summary(QStringLiteral("memory"))
               .endsWith(gpu ? QStringLiteral(" of GPU memory") : QStringLiteral(" of RAM")),
           qPrintable(window_->summary(QStringLiteral("memory"))));

  QSignalSpy rejected(&bus, &ptyx::app::CommandBus::commandRejected);
  const int iterations = wb.iteration();
  qputenv("PTYX_MEMORY_LIMIT_MIB", "0.5");  // what a shared node may grant one process
  const bool ran = bus.run();
  qunsetenv("PTYX_MEMORY_LIMIT_MIB");
  QVERIFY(!ran);
  QCOMPARE(rejected.count(), 1);
  const QString why = rejected.first().at(1).toString();
  QVERIFY2(why.contains(QStringLiteral("would not fit")), qPrintable(why));
  QVERIFY2(why.contains(QStringLiteral("capacity 0.5 MiB: does not fit; it would take ")),
           qPrintable(why));
  QVERIFY2(why.contains(QStringLiteral("Remote ▸ Submit job")), qPrintable(why));
  QCOMPARE(wb.state(), State::Finished);
  QCOMPARE(wb.iteration(), iterations);

  QVERIFY(bus.run());  // with the machine's own memory it fits
  QTRY_VERIFY_WITH_TIMEOUT(wb.iteration() >= 2, 30000);
  bus.stop();
  QTRY_COMPARE_WITH_TIMEOUT(wb.state(), State::Finished, 10000);
}

void MainWindowTest::checksFlagEmptyFramesAndMask() {
  ptyx::SimulationOptions options;
  options.frames = 16;
  options.frameSize = 32;
  auto scan = ptyx::simulate(options);
  QVERIFY(!ptyx::app::hasErrors(ptyx::app::checkScan(scan)));
  auto frame3 = scan.magnitudes.span().subspan(3 * 32 * 32, 32 * 32);
  std::fill(frame3.begin(), frame3.end(), 0.0F);
  scan.mask = ptyx::Image<std::uint8_t>(32, 32);
  std::fill(scan.mask.span().begin(), scan.mask.span().end(), std::uint8_t{1});
  const auto findings = ptyx::app::checkScan(scan);
  QVERIFY(ptyx::app::hasErrors(findings));  // the mask covers everything
  scan.mask.span()[0] = 0;
  bool empty = false;
  for (const auto& f : ptyx::app::checkScan(scan)) {
    if (f.check == "mask") QVERIFY(f.severity == ptyx::app::Finding::Severity::Warning);
  }
  std::fill(scan.mask.span().begin(), scan.mask.span().end(), std::uint8_t{0});
  for (const auto& f : ptyx::app::checkScan(scan)) {
    if (f.check == "frames" && f.message.find("empty") != std::string::npos) empty = true;
  }
  QVERIFY(empty);
}

// A closed dock or one left behind another's tab stays so between launches (the layout is
// remembered); View > Reset layout brings back the layout a new user sees.
void MainWindowTest::resetLayoutBringsBackClosedAndCoveredDocks() {
  auto* probe = window_->findChild<QDockWidget*>(QStringLiteral("probeDock"));
  auto* data = window_->findChild<QDockWidget*>(QStringLiteral("dataDock"));
  auto* jobs = window_->findChild<QDockWidget*>(QStringLiteral("jobsDock"));
  QVERIFY(probe && data && jobs);
  QTRY_VERIFY(!data->visibleRegion().isEmpty());
  probe->close();
  jobs->raise();
  QTRY_VERIFY(!probe->isVisible());
  QTRY_VERIFY(data->visibleRegion().isEmpty());  // behind the Jobs tab

  action("actionResetLayout")->trigger();
  QTRY_VERIFY(probe->isVisible());
  QTRY_VERIFY(!data->visibleRegion().isEmpty());
  QTRY_VERIFY(jobs->visibleRegion().isEmpty());
  QVERIFY(!window_->diffractionView()->visibleRegion().isEmpty());
}

void MainWindowTest::cleanupTestCase() {
  window_->close();
  window_.reset();
}

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
