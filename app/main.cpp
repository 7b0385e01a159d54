// ptyx-gui: the interactive workbench. `ptyx-gui [SCAN]` opens SCAN at start.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>
#include <cstring>

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
      std::printf("Usage: ptyx-gui [--version] [SCAN]\n"
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
  parser.addPositionalArgument(QStringLiteral("scan"), QStringLiteral("CXI scan to open"), QStringLiteral("[SCAN]"));
  parser.process(app);

  ptyx::app::MainWindow window;
  window.show();
  if (!parser.positionalArguments().isEmpty()) {
    const QString path = parser.positionalArguments().first();
    QTimer::singleShot(0, &window, [&window, path] { window.bus().openScan(path); });
  }
  return QApplication::exec();
}
