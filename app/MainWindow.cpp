#include "MainWindow.hpp"

#include <QAction>
#include <QActionGroup>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QThread>
#include <QToolBar>
#include <QUrl>
#include <QVBoxLayout>

#include <cmath>
#include <exception>
#include <initializer_list>
#include <numeric>

#include "FollowRun.hpp"
#include "ParameterForm.hpp"
#include "SessionRecorder.hpp"
#include "SessionTimeline.hpp"
#include "TextFormat.hpp"
#include "backend/Devices.hpp"
#include "io/Formats.hpp"
#include "recon/Layout.hpp"
#include "recon/MemoryPlanner.hpp"
#include "remote/RemoteUi.hpp"
#include "render/Render.hpp"
#include "sim/Simulator.hpp"
#include "widgets/CameraLink.hpp"
#include "widgets/ComplexImageView.hpp"
#include "widgets/DiffractionView.hpp"
#include "widgets/ErrorPlotView.hpp"
#include "widgets/FramePacer.hpp"
#include "widgets/ScanPositionPlot.hpp"

namespace ptyx::app {
namespace {

constexpr int kMaxRecent = 8;
constexpr std::size_t kRateWindow = 20;  // iterations the rate is averaged over
// GUI-thread time for one batch of view frames (FramePacer). With the flush of the repainted
// rectangles on top (a few ms), a repaint stays far under 50 ms on a software GL driver.
// PTYX_FRAME_BUDGET_MS overrides it: with a hardware GL driver, whose frames are cheap, a larger
// budget draws a snapshot in fewer repaints.
double frameBudgetMs() {
  bool ok = false;
  const double budget = qEnvironmentVariable("PTYX_FRAME_BUDGET_MS").toDouble(&ok);
  return ok && budget > 0.0 ? budget : 12.0;
}

const char* const kSummaryKeys[][2] = {
    {"file", "File"},
    {"frames", "Frames"},
    {"frame_size", "Frame size"},
    {"energy", "Energy"},
    {"distance", "Distance"},
    {"detector_pixel", "Detector pixel"},
    {"object_pixel", "Object pixel"},
    {"object_size", "Object size"},
    {"mask", "Masked pixels"},
    {"truth", "Ground truth"},
    {"memory", "Memory (1 rank)"},
};

QString number(double v, int digits = 4) {
  return QString::number(v, 'g', digits);
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), bus_(workbench_) {
  setObjectName(QStringLiteral("PtyxMainWindow"));
  setWindowTitle(QStringLiteral("Ptyx"));
  setAcceptDrops(true);
  quietErrors_ = qEnvironmentVariableIsSet("PTYX_GUI_NO_DIALOGS");

  // Central area: object amplitude and phase side by side (pan and zoom linked), errors below.
  objectAmplitude_ = new widgets::ComplexImageView(this);
  objectAmplitude_->setObjectName(QStringLiteral("objectAmplitudeView"));
  objectAmplitude_->setDisplay(widgets::ComplexDisplay::Amplitude);
  objectPhase_ = new widgets::ComplexImageView(this);
  objectPhase_->setObjectName(QStringLiteral("objectPhaseView"));
  objectPhase_->setDisplay(widgets::ComplexDisplay::Phase);
  link_ = new widgets::CameraLink(this);
  link_->add(objectAmplitude_, objectAmplitude_->camera());
  link_->add(objectPhase_, objectPhase_->camera());
  errors_ = new widgets::ErrorPlotView(this);
  errors_->setObjectName(QStringLiteral("errorPlot"));
  auto* objects = new QSplitter(Qt::Horizontal);
  objects->addWidget(objectAmplitude_);
  objects->addWidget(objectPhase_);
  auto* central = new QSplitter(Qt::Vertical);
  central->setObjectName(QStringLiteral("centralSplitter"));
  central->addWidget(objects);
  central->addWidget(errors_);
  central->setStretchFactor(0, 3);
  central->setStretchFactor(1, 1);
  central->setSizes({2000, 1000});  // scaled to the height there is: the object views first
  setCentralWidget(central);

  auto pixelReadout = [this](int column, int row, double amplitude, double phase) {
    statusBar()->showMessage(tr("(%1, %2)  amplitude %3  phase %4 rad")
                                 .arg(column)
                                 .arg(row)
                                 .arg(number(amplitude))
                                 .arg(number(phase, 3)),
                             3000);
  };
  connect(objectAmplitude_, &widgets::ComplexImageView::pixelHovered, this, pixelReadout);
  connect(objectPhase_, &widgets::ComplexImageView::pixelHovered, this, pixelReadout);

  // Where runs compute is remembered between launches (a setting, not a recorded action; each
  // run's action records what it ran on).
  const QString backend = QSettings().value(QStringLiteral("run/backend")).toString();
  if (isBackendName(backend.toStdString())) workbench_.setBackend(backend);

  // Before anything can issue a command: the session starts with the first one.
  recorder_ = new SessionRecorder(bus_, workbench_, this);
  buildActions();
  buildMenus();
  buildDocks();
  buildSessionMenu();
  remote_ = new RemoteUi(*this);

  // A live snapshot dirties every view at once; drawn in batches, the event loop keeps running
  // between them (FramePacer.hpp). The budget leaves room for the window's flush.
  pacer_ = new widgets::FramePacer(frameBudgetMs(), this);
  using Views = std::initializer_list<widgets::VtkRenderWidget*>;
  for (widgets::VtkRenderWidget* view :
       Views{objectAmplitude_, objectPhase_, probe_, errors_, scanPlot_}) {
    pacer_->add(view);
  }

  iterationLabel_ = new QLabel(this);
  iterationLabel_->setObjectName(QStringLiteral("iterationLabel"));
  rateLabel_ = new QLabel(this);
  rateLabel_->setObjectName(QStringLiteral("rateLabel"));
  etaLabel_ = new QLabel(this);
  etaLabel_->setObjectName(QStringLiteral("etaLabel"));
  // Fixed sizes, wide enough for long runs: a label whose text changes width on every iteration
  // would re-lay out the status bar each time, and with it repaint the window once more (Qt
  // skips the layout pass only for widgets of fixed size).
  const auto fixWidth = [](QLabel* label, const QString& widest) {
    label->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    label->setFixedSize(label->fontMetrics().horizontalAdvance(widest) + 12,
                        label->sizeHint().height());
  };
  fixWidth(iterationLabel_, tr("Iteration %1 / %2").arg(888888).arg(888888));
  fixWidth(rateLabel_, tr("%1 it/s").arg(QStringLiteral("888.8")));
  fixWidth(etaLabel_, tr("ETA %1").arg(QStringLiteral("888:88:88")));
  backendLabel_ = new QLabel(this);
  backendLabel_->setObjectName(QStringLiteral("backendLabel"));
  fixWidth(backendLabel_, QStringLiteral("CUDA"));
  statusBar()->addPermanentWidget(backendLabel_);
  statusBar()->addPermanentWidget(iterationLabel_);
  statusBar()->addPermanentWidget(rateLabel_);
  statusBar()->addPermanentWidget(etaLabel_);

  connect(&workbench_, &Workbench::stateChanged, this, &MainWindow::onStateChanged);
  connect(&workbench_, &Workbench::scanLoaded, this, [this](const QString& path) {
    addRecentFile(path);
    setWindowTitle(QStringLiteral("Ptyx — %1").arg(QFileInfo(path).fileName()));
    errors_->clear();
    recentSeconds_.clear();
    showSummary();
    showScanData();
    objectAmplitude_->resetView();
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
  });
  connect(&workbench_, &Workbench::loadFailed, this,
          [this](const QString& path, const QString& message) {
            showError(tr("Cannot open %1").arg(QFileInfo(path).fileName()), message);
          });
  connect(&workbench_, &Workbench::parametersChanged, this, [this](const ReconParams& p) {
    form_->setValues(p);
    preset_->setCurrentText(QString::fromStdString(toString(p.algorithm)).toUpper());
    showSummary();  // the memory estimate depends on the algorithm and threads
    updateStatus();
  });
  connect(&workbench_, &Workbench::previewChanged, this, [this] {
    showPreview();
    showFindings();
    updateProbeFootprint();
  });
  connect(&workbench_, &Workbench::remoteViewStarted, this, [this] {
    errors_->clear();  // a job followed from an agent starts its curves afresh
    recentSeconds_.clear();
    updateStatus();
  });
  connect(&workbench_, &Workbench::remoteViewEnded, this, &MainWindow::updateStatus);
  connect(&workbench_, &Workbench::iterated, this, &MainWindow::onIterated);
  connect(&workbench_, &Workbench::snapshotReady, this, &MainWindow::onSnapshot);
  connect(&workbench_, &Workbench::resultChanged, this, [this] {
    // The run returned control: show exactly the state it left (a throttled snapshot may have
    // been skipped just before).
    if (const auto result = workbench_.result();
        result && workbench_.state() != Workbench::State::Running) {
      showObject(result->object);
      probe_->setImage(result->probe);
    }
    updateActions();
  });
  // Where the run computes, in the status bar; why Auto chose the CPU only in its tooltip (on a
  // machine without a GPU that is no news worth a message).
  connect(&workbench_, &Workbench::runStarted, this, [this] {
    const QString on = workbench_.runBackend();
    backendLabel_->setText(on.toUpper());
    const QString note = workbench_.runBackendNote();
    backendLabel_->setToolTip(note.isEmpty() ? tr("This run computes on the %1 backend.").arg(on)
                                             : tr("This run computes on the CPU: %1.").arg(note));
  });
  connect(&workbench_, &Workbench::backendChanged, this, [this](const QString& name) {
    showSummary();  // the memory estimate is for the RAM or the GPU
    for (QAction* a : backendGroup_->actions()) a->setChecked(a->data().toString() == name);
  });
  connect(&workbench_, &Workbench::runFailed, this,
          [this](const QString& message) { showError(tr("The reconstruction failed"), message); });
  connect(&bus_, &CommandBus::commandRejected, this,
          [this](const QString& name, const QString& why) {
            if (name == QLatin1String("set_parameter") || name == QLatin1String("apply_preset")) {
              form_->setValues(workbench_.parameters());  // show the value that still holds
              statusBar()->showMessage(why, 8000);
            } else {
              showError(tr("Cannot %1").arg(name), why);
            }
          });

  // The layout is remembered between launches; View > Reset layout brings back this one (a dock
  // closed or left behind another can otherwise stay out of sight for good).
  const QByteArray defaultLayout = saveState();
  if (auto* view = menuBar()->findChild<QMenu*>(QStringLiteral("viewMenu"))) {
    view->addSeparator();
    auto* reset = view->addAction(tr("&Reset layout"), this,
                                  [this, defaultLayout] { restoreState(defaultLayout); });
    reset->setObjectName(QStringLiteral("actionResetLayout"));
  }
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  if (!settings.contains(QStringLiteral("window/geometry"))) resize(1280, 800);
  updateRecentMenu();
  onStateChanged(workbench_.state());
}

MainWindow::~MainWindow() = default;

void MainWindow::buildSessionMenu() {
  auto* menu = menuBar()->addMenu(tr("Sess&ion"));
  menu->setObjectName(QStringLiteral("sessionMenu"));
  auto* open = menu->addAction(tr("&Open session for replay…"), this, [this] {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open session"), SessionRecorder::defaultDirectory(),
                                     tr("Ptyx sessions (*.ptyx-session);;All files (*)"));
    if (!path.isEmpty()) openSession(path);
  });
  open->setObjectName(QStringLiteral("actionOpenSession"));
  auto* saveAs = menu->addAction(tr("&Save session as…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save session as"), QDir::homePath(),
                                                      tr("Ptyx sessions (*.ptyx-session)"));
    QString why;
    if (!path.isEmpty() && !recorder_->saveCopy(path, &why))
      showError(tr("Cannot save the session"), why);
  });
  saveAs->setObjectName(QStringLiteral("actionSaveSessionAs"));
  auto* name = menu->addAction(tr("&Name session…"), this, [this] {
    bool ok = false;
    const QString text = QInputDialog::getText(this, tr("Name session"), tr("Name"),
                                               QLineEdit::Normal, recorder_->name(), &ok);
    if (ok) recorder_->setName(text);
  });
  name->setObjectName(QStringLiteral("actionNameSession"));
  menu->addSeparator();
  auto* record = menu->addAction(tr("&Record session"));
  record->setObjectName(QStringLiteral("actionRecordSession"));
  record->setCheckable(true);
  record->setChecked(recorder_->isRecording());
  record->setToolTip(tr("Record every action into %1").arg(SessionRecorder::defaultDirectory()));
  connect(record, &QAction::toggled, recorder_, &SessionRecorder::setRecording);
  connect(recorder_, &SessionRecorder::recordingChanged, record, &QAction::setChecked);
  connect(recorder_, &SessionRecorder::failed, this,
          [this](const QString& message) { showError(tr("Session recording stopped"), message); });

  timeline_ = new SessionTimeline(bus_, this);
  auto* dock = new QDockWidget(tr("Session replay"), this);
  dock->setObjectName(QStringLiteral("sessionTimelineDock"));
  dock->setWidget(timeline_);
  addDockWidget(Qt::RightDockWidgetArea, dock);
  dock->hide();
  menu->addAction(dock->toggleViewAction());
}

bool MainWindow::openSession(const QString& path) {
  QString why;
  if (!timeline_->load(path, &why)) {
    showError(tr("Cannot open the session"), why);
    return false;
  }
  if (auto* dock = findChild<QDockWidget*>(QStringLiteral("sessionTimelineDock"))) dock->show();
  return true;
}

void MainWindow::buildActions() {
  auto make = [this](const char* name, const QString& text, QStyle::StandardPixmap icon) {
    auto* a = new QAction(style()->standardIcon(icon), text, this);
    a->setObjectName(QString::fromLatin1(name));
    return a;
  };
  openAction_ = make("actionOpen", tr("&Open scan…"), QStyle::SP_DialogOpenButton);
  openAction_->setShortcut(QKeySequence::Open);
  connect(openAction_, &QAction::triggered, this, &MainWindow::openDialog);
  saveAction_ = make("actionSaveResult", tr("&Save result…"), QStyle::SP_DialogSaveButton);
  saveAction_->setShortcut(QKeySequence::Save);
  connect(saveAction_, &QAction::triggered, this, &MainWindow::saveDialog);
  exportAction_ = make("actionExportPngs", tr("&Export PNGs…"), QStyle::SP_FileDialogDetailedView);
  connect(exportAction_, &QAction::triggered, this, &MainWindow::exportDialog);

  runAction_ = make("actionRun", tr("&Run"), QStyle::SP_MediaPlay);
  runAction_->setShortcut(Qt::Key_F5);
  connect(runAction_, &QAction::triggered, &bus_, &CommandBus::run);
  pauseAction_ = make("actionPause", tr("&Pause"), QStyle::SP_MediaPause);
  pauseAction_->setShortcut(Qt::Key_F6);
  connect(pauseAction_, &QAction::triggered, this, [this] {
    if (workbench_.state() == Workbench::State::Paused) {
      bus_.resume();
    } else {
      bus_.pause();
    }
  });
  stepAction_ = make("actionStep", tr("S&tep"), QStyle::SP_MediaSeekForward);
  stepAction_->setShortcut(Qt::Key_F10);
  stepAction_->setToolTip(tr("Run one iteration"));
  connect(stepAction_, &QAction::triggered, &bus_, &CommandBus::step);
  stopAction_ = make("actionStop", tr("St&op"), QStyle::SP_MediaStop);
  stopAction_->setShortcut(Qt::SHIFT | Qt::Key_F5);
  connect(stopAction_, &QAction::triggered, &bus_, &CommandBus::stop);

  undoAction_ = make("actionUndo", tr("&Undo"), QStyle::SP_ArrowBack);
  undoAction_->setShortcut(QKeySequence::Undo);
  connect(undoAction_, &QAction::triggered, &bus_, &CommandBus::undo);
  redoAction_ = make("actionRedo", tr("&Redo"), QStyle::SP_ArrowForward);
  redoAction_->setShortcut(QKeySequence::Redo);
  connect(redoAction_, &QAction::triggered, &bus_, &CommandBus::redo);
  auto* stack = bus_.undoStack();
  auto updateUndo = [this, stack] {
    undoAction_->setEnabled(stack->canUndo());
    undoAction_->setText(stack->canUndo() ? tr("&Undo %1").arg(stack->undoText()) : tr("&Undo"));
    redoAction_->setEnabled(stack->canRedo());
    redoAction_->setText(stack->canRedo() ? tr("&Redo %1").arg(stack->redoText()) : tr("&Redo"));
  };
  connect(stack, &QUndoStack::indexChanged, this, updateUndo);
  updateUndo();
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(openAction_);
  recentMenu_ = file->addMenu(tr("Open &recent"));
  recentMenu_->setObjectName(QStringLiteral("recentMenu"));
  installFollowUi(*this, *file, file->addSeparator(), bus_, [this] {
    showSummary();
    showScanData();
  });
  file->addAction(saveAction_);
  file->addAction(exportAction_);
  file->addSeparator();
  auto* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  auto* edit = menuBar()->addMenu(tr("&Edit"));
  edit->addAction(undoAction_);
  edit->addAction(redoAction_);

  auto* run = menuBar()->addMenu(tr("&Run"));
  for (auto* a : {runAction_, pauseAction_, stepAction_, stopAction_}) run->addAction(a);
  run->addSeparator();
  buildBackendMenu(run->addMenu(tr("Compute &backend")));

  auto* tools = addToolBar(tr("Run"));
  tools->setObjectName(QStringLiteral("runToolBar"));
  tools->addAction(openAction_);
  tools->addSeparator();
  for (auto* a : {runAction_, pauseAction_, stepAction_, stopAction_}) tools->addAction(a);
}

void MainWindow::buildBackendMenu(QMenu* menu) {
  menu->setObjectName(QStringLiteral("backendMenu"));
  backendGroup_ = new QActionGroup(this);
  const std::pair<const char*, QString> choices[] = {
      {"auto", tr("&Auto: CUDA when a GPU is present, else the CPU")},
      {"cpu", tr("&CPU")},
      {"cuda", tr("CU&DA (GPU)")}};
  for (const auto& [name, text] : choices) {
    QAction* a = menu->addAction(text);
    a->setObjectName(QStringLiteral("actionBackend_") + QLatin1String(name));
    a->setData(QLatin1String(name));
    a->setCheckable(true);
    a->setChecked(workbench_.backend() == QLatin1String(name));
    backendGroup_->addAction(a);
  }
  // The user's choice is remembered; one made by a replayed session or a script is not.
  connect(backendGroup_, &QActionGroup::triggered, this, [this](QAction* a) {
    if (bus_.setBackend(a->data().toString()))
      QSettings().setValue(QStringLiteral("run/backend"), a->data().toString());
  });
  // Asked when the menu opens, not at start-up: the CUDA runtime takes a moment to load.
  connect(menu, &QMenu::aboutToShow, this, [this] {
    const DeviceStatus devices = detectDevices();
    auto* cuda = findChild<QAction*>(QStringLiteral("actionBackend_cuda"));
    cuda->setEnabled(devices.usable || workbench_.backend() == QLatin1String("cuda"));
    cuda->setToolTip(devices.usable
                         ? tr("Runs compute on the GPU (PTYX_DEVICE picks one).")
                         : tr("Not available: %1.").arg(QString::fromStdString(devices.reason)));
  });
  menu->setToolTipsVisible(true);
}

void MainWindow::buildDocks() {
  auto* view = menuBar()->addMenu(tr("&View"));
  view->setObjectName(QStringLiteral("viewMenu"));

  // Scan summary and the checks before a run.
  summaryPanel_ = new QWidget(this);
  auto* summaryForm = new QFormLayout(summaryPanel_);
  for (const auto& [key, label] : kSummaryKeys) {
    auto* value = new QLabel(QStringLiteral("—"), summaryPanel_);
    value->setObjectName(QStringLiteral("summary_%1").arg(QLatin1String(key)));
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setWordWrap(true);
    summaryForm->addRow(tr(label), value);
  }
  checks_ = new QListWidget(this);
  checks_->setObjectName(QStringLiteral("checksList"));
  checks_->setWordWrap(true);
  auto* scanPanel = new QWidget(this);
  auto* scanLayout = new QVBoxLayout(scanPanel);
  scanLayout->addWidget(summaryPanel_);
  scanLayout->addWidget(new QLabel(tr("<b>Checks before a run</b>"), scanPanel));
  scanLayout->addWidget(checks_, 1);
  auto* scanDock = new QDockWidget(tr("Scan"), this);
  scanDock->setObjectName(QStringLiteral("scanDock"));
  scanDock->setWidget(scanPanel);
  addDockWidget(Qt::LeftDockWidgetArea, scanDock);
  view->addAction(scanDock->toggleViewAction());

  // Parameters: preset, then the generated form.
  auto* paramsPanel = new QWidget(this);
  auto* paramsLayout = new QVBoxLayout(paramsPanel);
  auto* presetRow = new QHBoxLayout;
  presetRow->addWidget(new QLabel(tr("Preset"), paramsPanel));
  preset_ = new QComboBox(paramsPanel);
  preset_->setObjectName(QStringLiteral("presetCombo"));
  preset_->addItems(
      {QStringLiteral("DM"), QStringLiteral("RAAR"), QStringLiteral("HIO"), QStringLiteral("ER")});
  preset_->setToolTip(tr("Sets the algorithm and its usual β, γ"));
  connect(preset_, &QComboBox::activated, this,
          [this](int index) { bus_.applyPreset(preset_->itemText(index).toLower()); });
  presetRow->addWidget(preset_, 1);
  paramsLayout->addLayout(presetRow);
  form_ = new ParameterForm(paramsPanel);
  form_->setValues(workbench_.parameters());
  form_->setObjectName(QStringLiteral("parameterForm"));
  connect(form_, &ParameterForm::edited, &bus_, &CommandBus::setParameter);
  auto* scroll = new QScrollArea(paramsPanel);
  scroll->setWidgetResizable(true);
  scroll->setWidget(form_);
  paramsLayout->addWidget(scroll, 1);
  auto* paramsDock = new QDockWidget(tr("Parameters"), this);
  paramsDock->setObjectName(QStringLiteral("parametersDock"));
  paramsDock->setWidget(paramsPanel);
  addDockWidget(Qt::RightDockWidgetArea, paramsDock);
  view->addAction(paramsDock->toggleViewAction());

  probe_ = new widgets::ComplexImageView(this);
  probe_->setObjectName(QStringLiteral("probeView"));
  probe_->setDisplay(widgets::ComplexDisplay::AmplitudeAndPhase);
  probe_->setMinimumSize(240, 140);
  auto* probeDock = new QDockWidget(tr("Probe"), this);
  probeDock->setObjectName(QStringLiteral("probeDock"));
  probeDock->setWidget(probe_);
  addDockWidget(Qt::LeftDockWidgetArea, probeDock);
  view->addAction(probeDock->toggleViewAction());

  // Data: the open scan's diffraction frames beside its probe positions. A click on a position
  // shows that frame; stepping through the frames rings the position.
  diffraction_ = new widgets::DiffractionView(this);
  diffraction_->setObjectName(QStringLiteral("diffractionView"));
  diffraction_->setMinimumSize(240, 200);
  scanPlot_ = new widgets::ScanPositionPlot(this);
  scanPlot_->setObjectName(QStringLiteral("scanPositionPlot"));
  scanPlot_->setMinimumSize(240, 200);
  connect(scanPlot_, &widgets::ScanPositionPlot::frameSelected, diffraction_,
          &widgets::DiffractionView::setFrame);
  connect(diffraction_, &widgets::DiffractionView::frameChanged, scanPlot_,
          &widgets::ScanPositionPlot::setSelectedFrame);
  connect(diffraction_, &widgets::DiffractionView::pixelHovered, this,
          [this](int row, int column, double counts, bool masked) {
            statusBar()->showMessage(tr("frame %1 (%2, %3)  %4 counts%5")
                                         .arg(diffraction_->frame())
                                         .arg(column)
                                         .arg(row)
                                         .arg(number(counts))
                                         .arg(masked ? tr("  (masked)") : QString()),
                                     3000);
          });
  auto* dataSplit = new QSplitter(Qt::Horizontal);
  dataSplit->setObjectName(QStringLiteral("dataSplitter"));
  dataSplit->addWidget(diffraction_);
  dataSplit->addWidget(scanPlot_);
  auto* dataDock = new QDockWidget(tr("Data"), this);
  dataDock->setObjectName(QStringLiteral("dataDock"));
  dataDock->setWidget(dataSplit);
  addDockWidget(Qt::BottomDockWidgetArea, dataDock);
  resizeDocks({dataDock}, {230}, Qt::Vertical);  // leave the object views most of the height
  view->addAction(dataDock->toggleViewAction());
  // During a run the positions show where the data disagree with the reconstruction.
  colourByErrorAction_ = view->addAction(tr("Colour scan positions by &Fourier error"));
  colourByErrorAction_->setObjectName(QStringLiteral("actionColourByError"));
  colourByErrorAction_->setCheckable(true);
  colourByErrorAction_->setChecked(true);
  connect(colourByErrorAction_, &QAction::toggled, this, [this](bool on) {
    if (!on) scanPlot_->colourByFrameIndex();
  });
}

void MainWindow::showScanData() {
  const auto scan = workbench_.scan();
  if (!scan || scan->frameCount() == 0) {
    diffraction_->clear();
    scanPlot_->clear();
    return;
  }
  try {
    // Both views copy what they show: the Scan may be released (or replaced) afterwards.
    diffraction_->setFrames(scan->magnitudes, scan->mask);
  } catch (const std::exception& e) {
    diffraction_->clear();
    statusBar()->showMessage(
        tr("Cannot show the diffraction frames: %1").arg(QString::fromStdString(e.what())), 8000);
  }
  scanPlot_->setPositions(scan->positions);
  scanPlot_->colourByFrameIndex();
  scanPlot_->setSelectedFrame(diffraction_->frameCount() > 0 ? diffraction_->frame() : -1);
  updateProbeFootprint();
}

void MainWindow::updateProbeFootprint() {
  // The footprint round the selected position: 90 % of the initial probe's intensity.
  double diameter = 0.0;
  if (const auto& probe = workbench_.initialProbePreview(); !probe.empty()) {
    try {
      diameter = probeDiameterPixels(probe);
    } catch (const std::exception&) {
      diameter = 0.0;  // a zero probe: no footprint (the checks say why)
    }
  }
  scanPlot_->setProbeDiameter(diameter);
}

QString MainWindow::summary(const QString& key) const {
  const auto* label = summaryPanel_->findChild<QLabel*>(QStringLiteral("summary_") + key);
  return label ? label->text() : QString();
}

QString MainWindow::statusText() const {
  return QStringList{iterationLabel_->text(), rateLabel_->text(), etaLabel_->text()}.join(
      QStringLiteral("  "));
}

void MainWindow::showSummary() {
  const auto scan = workbench_.scan();
  auto set = [this](const char* key, const QString& text) {
    if (auto* l = summaryPanel_->findChild<QLabel*>(
            QStringLiteral("summary_%1").arg(QLatin1String(key)))) {
      l->setText(text);
    }
  };
  if (!scan) return;
  const auto& g = scan->geometry;
  const std::size_t m = scan->frameSize();
  set("file", QFileInfo(workbench_.scanPath()).fileName());
  set("frames", QString::number(scan->frameCount()));
  set("frame_size", QStringLiteral("%1 × %1 px").arg(m));
  constexpr double kHcEvM = 1.239841984e-6;  // h c in eV·m
  set("energy", g.wavelength_m > 0 ? QStringLiteral("%1 keV (λ = %2 nm)")
                                         .arg(number(kHcEvM / g.wavelength_m / 1e3))
                                         .arg(number(g.wavelength_m * 1e9))
                                   : tr("unknown"));
  set("distance", QStringLiteral("%1 m").arg(number(g.distance_m)));
  set("detector_pixel", QStringLiteral("%1 × %2 µm")
                            .arg(number(g.pixelSizeY_m * 1e6))
                            .arg(number(g.pixelSizeX_m * 1e6)));
  const double py = objectPixelSize(g, m, g.pixelSizeY_m);
  const double px = objectPixelSize(g, m, g.pixelSizeX_m);
  set("object_pixel", QStringLiteral("%1 × %2 nm").arg(number(py * 1e9)).arg(number(px * 1e9)));
  const auto layout = layoutFor(*scan);
  set("object_size", QStringLiteral("%1 × %2 px (%3 × %4 µm)")
                         .arg(layout.rows)
                         .arg(layout.cols)
                         .arg(number(static_cast<double>(layout.rows) * py * 1e6, 3))
                         .arg(number(static_cast<double>(layout.cols) * px * 1e6, 3)));
  std::size_t masked = 0;
  for (auto v : scan->mask.span()) masked += v != 0 ? 1 : 0;
  set("mask", scan->mask.empty() ? tr("no mask") : QString::number(masked));
  set("truth", scan->truth ? tr("known (object error is shown)") : tr("not known"));
  if (const auto memory = workbench_.runMemory()) {
    const bool gpu = memory->target == MemoryTarget::CudaDevice;
    set("memory", QString::fromStdString(formatBytes(memory->perRank())) +
                      (gpu ? tr(" of GPU memory") : tr(" of RAM")));
  }
}

void MainWindow::showFindings() {
  checks_->clear();
  const auto& findings = workbench_.findings();
  if (findings.empty() && workbench_.scan()) {
    checks_->addItem(new QListWidgetItem(style()->standardIcon(QStyle::SP_DialogApplyButton),
                                         tr("No problems found."), checks_));
  }
  for (const auto& f : findings) {
    const auto icon = f.severity == Finding::Severity::Error     ? QStyle::SP_MessageBoxCritical
                      : f.severity == Finding::Severity::Warning ? QStyle::SP_MessageBoxWarning
                                                                 : QStyle::SP_MessageBoxInformation;
    auto* item = new QListWidgetItem(style()->standardIcon(icon), QString::fromStdString(f.message),
                                     checks_);
    item->setData(Qt::UserRole, static_cast<int>(f.severity));
    item->setToolTip(QString::fromStdString(f.check));
  }
}

void MainWindow::showPreview() {
  // Before a run the views show where it will start: the initial probe and object.
  const auto state = workbench_.state();
  if (state == Workbench::State::Running || state == Workbench::State::Paused) return;
  if (!workbench_.initialProbePreview().empty()) probe_->setImage(workbench_.initialProbePreview());
  if (!workbench_.initialObjectPreview().empty() && state != Workbench::State::Finished) {
    showObject(workbench_.initialObjectPreview());
  }
}

void MainWindow::onIterated(const IterationMetrics& metrics) {
  errors_->append(metrics);
  recentSeconds_.push_back(metrics.seconds);
  while (recentSeconds_.size() > kRateWindow) recentSeconds_.pop_front();
  if (metrics.parametersChanged) {
    statusBar()->showMessage(tr("Parameter change applied at iteration %1").arg(metrics.iteration),
                             5000);
  }
  updateStatus();
}

void MainWindow::showObject(const Image<cfloat>& object) {
  // Both object views show the same image: its amplitude and phase are computed once.
  const auto planes = widgets::ComplexPlanes::of(object);
  objectAmplitude_->setPlanes(planes);
  objectPhase_->setPlanes(planes);
}

void MainWindow::onSnapshot(const std::shared_ptr<const ViewSnapshot>& snapshot) {
  // Amplitude and phase were computed where the snapshot was made: here they are only copied.
  objectAmplitude_->setPlanes(snapshot->object);
  objectPhase_->setPlanes(snapshot->object);
  probe_->setPlanes(snapshot->probe);
  // Per-position errors change slowly, and recolouring a thousand positions costs as much as
  // drawing an object view: once a second during a run, and at its last iteration.
  const std::vector<double>& errors = snapshot->state->frameErrors;
  const bool last = snapshot->state->iteration >= workbench_.totalIterations();
  if (colourByErrorAction_->isChecked() && !errors.empty() &&
      static_cast<int>(errors.size()) == scanPlot_->pointCount() &&
      (last || !frameErrorsShown_.isValid() || frameErrorsShown_.elapsed() >= 1000)) {
    scanPlot_->setFrameValues(errors, tr("Fourier error"));
    frameErrorsShown_.start();
  }
}

void MainWindow::updateStatus() {
  const int done = workbench_.iteration();
  const int total = workbench_.totalIterations();
  iterationLabel_->setText(tr("Iteration %1 / %2").arg(done).arg(total));
  const double busy = std::accumulate(recentSeconds_.begin(), recentSeconds_.end(), 0.0);
  if (recentSeconds_.empty() || busy <= 0.0) {
    rateLabel_->setText(tr("— it/s"));
    etaLabel_->setText(tr("ETA —"));
    return;
  }
  const double rate = static_cast<double>(recentSeconds_.size()) / busy;
  rateLabel_->setText(tr("%1 it/s").arg(number(rate, 3)));
  const bool live = workbench_.state() == Workbench::State::Running || workbench_.remoteLive();
  etaLabel_->setText(live && total > done ? tr("ETA %1").arg(duration((total - done) / rate))
                                          : tr("ETA —"));
}

void MainWindow::onStateChanged(Workbench::State state) {
  using S = Workbench::State;
  if (state == S::Running && workbench_.iteration() == 0) {
    errors_->clear();
    recentSeconds_.clear();
  }
  updateActions();
  updateStatus();
}

void MainWindow::updateActions() {
  using S = Workbench::State;
  const auto s = workbench_.state();
  const bool scan = workbench_.scan() != nullptr;
  openAction_->setEnabled(s != S::Loading);
  runAction_->setEnabled(scan && (s == S::Ready || s == S::Finished || s == S::Paused));
  runAction_->setText(s == S::Paused ? tr("&Resume") : tr("&Run"));
  pauseAction_->setEnabled(s == S::Running || s == S::Paused);
  pauseAction_->setText(s == S::Paused ? tr("&Resume") : tr("&Pause"));
  pauseAction_->setIcon(
      style()->standardIcon(s == S::Paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
  stepAction_->setEnabled(scan && (s == S::Ready || s == S::Paused || s == S::Finished));
  stopAction_->setEnabled(s == S::Running || s == S::Paused);
  const bool haveResult = workbench_.result() != nullptr;
  saveAction_->setEnabled(haveResult && s != S::Running);
  exportAction_->setEnabled(haveResult && s != S::Running);
}

void MainWindow::showError(const QString& title, const QString& message) {
  statusBar()->showMessage(title + QStringLiteral(": ") + message, 10000);
  if (!quietErrors_) QMessageBox::warning(this, title, message);
}

void MainWindow::openDialog() {
  QSettings settings;
  const QString start =
      settings.value(QStringLiteral("lastDirectory"), QDir::homePath()).toString();
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open scan"), start, tr("CXI scans (*.cxi *.h5 *.hdf5);;All files (*)"));
  if (path.isEmpty()) return;
  settings.setValue(QStringLiteral("lastDirectory"), QFileInfo(path).absolutePath());
  bus_.openScan(path);
}

bool MainWindow::saveResult(const QString& path) {
  // Through the command path, so that the session records the save and the result's hashes.
  QString why;
  if (!bus_.saveResult(path, &why)) {
    showError(workbench_.result() ? tr("Cannot save %1").arg(path) : tr("Cannot save"), why);
    return false;
  }
  statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
  return true;
}

bool MainWindow::exportPngs(const QString& directory) {
  const auto result = workbench_.result();
  if (!result) {
    showError(tr("Cannot export"), tr("There is no result yet."));
    return false;
  }
  try {
    QDir().mkpath(directory);
    renderResultPngs(*result, directory.toStdString());
  } catch (const std::exception& e) {
    showError(tr("Cannot export to %1").arg(directory), QString::fromStdString(e.what()));
    return false;
  }
  statusBar()->showMessage(tr("Exported PNGs to %1").arg(directory), 5000);
  return true;
}

void MainWindow::saveDialog() {
  QString suggestion =
      QFileInfo(workbench_.scanPath()).completeBaseName() + QStringLiteral("-result.cxi");
  suggestion = QFileInfo(workbench_.scanPath()).absoluteDir().filePath(suggestion);
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Save result"), suggestion, tr("CXI (*.cxi)"));
  if (!path.isEmpty()) saveResult(path);
}

void MainWindow::exportDialog() {
  const QString dir = QFileDialog::getExistingDirectory(
      this, tr("Export PNGs to"), QFileInfo(workbench_.scanPath()).absolutePath());
  if (!dir.isEmpty()) exportPngs(dir);
}

QStringList MainWindow::recentFiles() const {
  return QSettings().value(QStringLiteral("recentFiles")).toStringList();
}

void MainWindow::addRecentFile(const QString& path) {
  QStringList files = recentFiles();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  files.removeAll(absolute);
  files.prepend(absolute);
  while (files.size() > kMaxRecent) files.removeLast();
  QSettings().setValue(QStringLiteral("recentFiles"), files);
  updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
  recentMenu_->clear();
  const QStringList files = recentFiles();
  for (const QString& f : files) {
    recentMenu_->addAction(QFileInfo(f).fileName(), this, [this, f] { bus_.openScan(f); })
        ->setToolTip(f);
  }
  recentMenu_->setEnabled(!files.isEmpty());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (!urls.isEmpty() && urls.first().isLocalFile()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  bus_.openScan(urls.first().toLocalFile());
  event->acceptProposedAction();
}

}  // namespace ptyx::app
