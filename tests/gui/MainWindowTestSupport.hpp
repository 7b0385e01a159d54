#pragma once
// For the tests that drive the real main window (tests/gui, tests/replay): the same isolation
// from the user's files, the same way of finding actions and editing the parameter form.
#include <QAction>
#include <QByteArray>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QImage>
#include <QSpinBox>
#include <QTest>

#include "MainWindow.hpp"
#include "ParameterForm.hpp"
#include "widgets/VtkRenderWidget.hpp"

namespace ptyx::test {

/// For a test's initMain(): settings, recorded sessions, agent profiles and the local agent's
/// data go to the test's scratch directory; errors go to the status bar, not to modal boxes
/// nobody would close.
inline void isolateMainWindowTest(const char* applicationName) {
  const QByteArray here = QDir::currentPath().toLocal8Bit();
  // Every run starts as a new user: settings (window layout, recent files) and sessions left by
  // an earlier run of the same test would otherwise decide what this one sees.
  QDir(QString::fromLocal8Bit(here + "/config")).removeRecursively();
  QDir(QString::fromLocal8Bit(here + "/data")).removeRecursively();
  qputenv("XDG_CONFIG_HOME", here + "/config");
  qputenv("XDG_DATA_HOME", here + "/data");
  qputenv("PTYX_GUI_NO_DIALOGS", "1");
  QCoreApplication::setOrganizationName(QStringLiteral("PtyxTest"));
  QCoreApplication::setApplicationName(QString::fromLatin1(applicationName));
  widgets::VtkRenderWidget::setDefaultSurfaceFormat();
}

/// How many pixels differ between two frames of the same widget (all of them when the sizes do).
inline int differingPixels(const QImage& a, const QImage& b) {
  if (a.size() != b.size()) return a.width() * a.height();
  int n = 0;
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) n += a.pixel(x, y) != b.pixel(x, y) ? 1 : 0;
  }
  return n;
}

inline QAction* windowAction(app::MainWindow& window, const char* name) {
  return window.findChild<QAction*>(QString::fromLatin1(name));
}

/// Types a value into the parameter form, as a user would.
inline void setFormReal(app::MainWindow& window, const char* name, double value) {
  auto* box = qobject_cast<QDoubleSpinBox*>(window.parameterForm()->editor(name));
  QVERIFY2(box, name);
  box->setValue(value);
}

inline void setFormInteger(app::MainWindow& window, const char* name, int value) {
  auto* box = qobject_cast<QSpinBox*>(window.parameterForm()->editor(name));
  QVERIFY2(box, name);
  box->setValue(value);
}

}  // namespace ptyx::test
