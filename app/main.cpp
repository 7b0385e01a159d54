// ptyx-gui: the interactive workbench. `ptyx-gui [SCAN]` opens SCAN at start.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>
#include <cstring>

#include "LiveDriver.hpp"
#include "MainWindow.hpp"
#include "widgets/VtkRenderWidget.hpp"

int main(int argc, char** argv) {
  // Answered before Qt starts, so that it works without a display (packaging checks, scripts).
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-v") == 0) {
      std::printf("ptyx-gui %s\n", PTYX_VERSION);
      return 0;
    }
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "Usage: ptyx-gui [--version] [SCAN]\n"
          "The Ptyx workbench: open a CXI scan, tune parameters, reconstruct live.\n");
      return 0;
    }
  }
  ptyx::widgets::VtkRenderWidget::setDefaultSurfaceFormat();
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Ptyx"));
  QApplication::setApplicationName(QStringLiteral("ptyx-gui"));
  QApplication::setApplicationVersion(QStringLiteral(PTYX_VERSION));

  QCommandLineParser parser;
  parser.addPositionalArgument(QStringLiteral("scan"), QStringLiteral("CXI scan to open"),
                               QStringLiteral("[SCAN]"));
  // Hidden options for scripted live runs (packaging/screenshot.sh, the GUI benchmark in
  // docs/PERFORMANCE.md): open SCAN, run, then save a screenshot or print the figures and quit.
  QCommandLineOption screenshot(QStringLiteral("screenshot"), QStringLiteral("PNG to save mid-run"),
                                QStringLiteral("png"));
  QCommandLineOption bench(QStringLiteral("bench-live"),
                           QStringLiteral("run and print GUI figures"));
  QCommandLineOption iterations(QStringLiteral("run"), QStringLiteral("iterations"),
                                QStringLiteral("n"), QStringLiteral("30"));
  QCommandLineOption set(QStringLiteral("set"), QStringLiteral("parameter NAME=VALUE"),
                         QStringLiteral("name=value"));
  QCommandLineOption size(QStringLiteral("window-size"), QStringLiteral("WxH"),
                          QStringLiteral("wxh"), QStringLiteral("1240x760"));
  QCommandLineOption tick(QStringLiteral("tick-ms"),
                          QStringLiteral("the event-loop probe's timer interval"),
                          QStringLiteral("ms"), QStringLiteral("1"));
  QCommandLineOption local(QStringLiteral("run-locally"), QStringLiteral("submit to a local agent"),
                           QStringLiteral("ranks"), QStringLiteral("0"));
  QCommandLineOption backend(QStringLiteral("backend"), QStringLiteral("auto, cpu or cuda"),
                             QStringLiteral("name"));
  for (QCommandLineOption* o :
       {&screenshot, &bench, &iterations, &set, &size, &tick, &local, &backend}) {
    o->setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOption(*o);
  }
  parser.process(app);

  if (parser.isSet(screenshot) || parser.isSet(bench)) {
    if (parser.positionalArguments().isEmpty()) {
      std::fprintf(stderr, "ptyx-gui: --screenshot and --bench-live need a SCAN\n");
      return 2;
    }
    ptyx::app::LiveOptions live;
    live.scan = parser.positionalArguments().first();
    live.iterations = parser.value(iterations).toInt();
    live.screenshot = parser.value(screenshot);
    live.bench = parser.isSet(bench);
    live.settings = parser.values(set);
    live.localRanks = parser.value(local).toInt();
    live.backend = parser.value(backend);
    live.tickMilliseconds = parser.value(tick).toInt();
    const QStringList wh = parser.value(size).split(QLatin1Char('x'));
    if (wh.size() == 2) {
      live.width = wh[0].toInt();
      live.height = wh[1].toInt();
    }
    if (live.iterations <= 0 || live.width <= 0 || live.height <= 0 || live.tickMilliseconds <= 0) {
      std::fprintf(stderr, "ptyx-gui: bad --run, --window-size or --tick-ms\n");
      return 2;
    }
    ptyx::app::MainWindow window;
    return ptyx::app::runLive(window, live);
  }

  ptyx::app::MainWindow window;
  window.show();
  if (!parser.positionalArguments().isEmpty()) {
    const QString path = parser.positionalArguments().first();
    QTimer::singleShot(0, &window, [&window, path] { window.bus().openScan(path); });
  }
  return QApplication::exec();
}
